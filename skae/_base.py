"""BaseAutoencoder: validation, the training loops and the transformer API.

The three public estimators only change defaults; all behaviour lives here, and all
arithmetic lives in :mod:`skae._core`.
"""

import copy
import time
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._core import (
    ACTIVATIONS,
    LOSSES,
    NOISES,
    OPTIMIZERS,
    SPARSITY_MAPS,
    Autoencoder,
    Corruption,
    Params,
)
from ._persistence import PersistenceMixin
from .utils._blocks import map_row_blocks

FULL_BATCH_SOLVERS = {"lbfgs": "L-BFGS-B", "cg": "CG"}
MINIBATCH_SOLVERS = frozenset(OPTIMIZERS)

# With noise, a full-batch solver sees one fixed corruption per run of this many
# iterations (a line search needs a fixed objective), then a fresh draw.
NOISE_REDRAW_ITERATIONS = 10


class BaseAutoencoder(
    PersistenceMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Base class of the skae autoencoders. Use one of the public subclasses."""

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "output_activation": [StrOptions(set(ACTIVATIONS))],
        "loss": [StrOptions(set(LOSSES))],
        "tied": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
        "noise": [StrOptions(set(NOISES))],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions(set(FULL_BATCH_SOLVERS) | MINIBATCH_SOLVERS)],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    def __init__(self, **params):
        # Each public subclass lists every parameter, with its own defaults, in its
        # signature (scikit-learn reads the parameters from there); the base stores them.
        for name, value in params.items():
            setattr(self, name, value)

    # -- validation ----------------------------------------------------------------
    def _check_params_against_data(self, X):
        """Checks that need X or several parameters at once; raise before any work."""
        if self.loss == "cross_entropy":
            if self.output_activation != "sigmoid":
                raise ValueError(
                    "loss='cross_entropy' needs output_activation='sigmoid', got "
                    f"output_activation={self.output_activation!r}."
                )
            values = X.data if sp.issparse(X) else X
            if values.size and (values.min() < 0 or values.max() > 1):
                raise ValueError(
                    "loss='cross_entropy' needs X in [0, 1]; X has values in "
                    f"[{values.min():.4g}, {values.max():.4g}]. Scale X (e.g. "
                    "MinMaxScaler) or use loss='squared_error'."
                )
        if self.sparsity_weight > 0 and self.activation not in SPARSITY_MAPS:
            raise ValueError(
                f"The KL sparsity penalty (sparsity_weight={self.sparsity_weight}) needs "
                f"an activation with a (0, 1) reading, one of {sorted(SPARSITY_MAPS)}; "
                f"got activation={self.activation!r}. Set sparsity_weight=0."
            )
        if self.noise in ("masking", "salt_and_pepper") and self.noise_level > 1:
            raise ValueError(
                f"noise_level is a probability for noise={self.noise!r} and must be in "
                f"[0, 1], got noise_level={self.noise_level}."
            )
        if self.early_stopping and self.solver not in MINIBATCH_SOLVERS:
            raise ValueError(
                "early_stopping=True needs a minibatch solver ('adam' or 'sgd'), got "
                f"solver={self.solver!r}."
            )

    def _network(self, n_features, dtype):
        return Autoencoder(
            n_features,
            self.n_components,
            activation=self.activation,
            output_activation=self.output_activation,
            loss=self.loss,
            tied=self.tied,
            alpha=self.alpha,
            sparsity_target=self.sparsity_target,
            sparsity_weight=self.sparsity_weight,
            dtype=dtype,
        )

    def _fitted_params(self, network):
        """The fitted parameters packed into a flat vector of the network's dtype."""
        return network.pack(
            Params(
                self.components_,
                self.intercept_hidden_,
                self.decoder_components_,
                self.intercept_visible_,
            )
        )

    def _store_params(self, network, theta):
        p = network.unpack(theta)
        self.components_ = p.encoder_weights.copy()
        self.intercept_hidden_ = p.hidden_bias.copy()
        # tied: the decoder is the encoder, one array under both names
        self.decoder_components_ = self.components_ if self.tied else p.decoder_weights.copy()
        self.intercept_visible_ = p.visible_bias.copy()

    def _corruption(self, seed):
        if self.noise_level == 0:
            return None
        return Corruption(self.noise, self.noise_level, seed)

    # -- fitting -----------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; float32 data trains in float32.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, incremental=False)

    def _check_minibatch_solver(self):
        if self.solver not in MINIBATCH_SOLVERS:
            raise AttributeError(
                f"partial_fit needs a minibatch solver ('adam' or 'sgd'), got "
                f"solver={self.solver!r}."
            )
        return True

    @available_if(_check_minibatch_solver)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train one epoch on X, starting from the current parameters if fitted.

        Only for the minibatch solvers ('adam', 'sgd').

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        return self._fit(X, incremental=True)

    def _fit(self, X, incremental):
        # Any error leaves the estimator exactly as it was (fitted or not); a deep copy,
        # since training appends to loss_curve_ and moves the optimiser's state in place.
        saved_state = copy.deepcopy(self.__dict__)
        try:
            return self._fit_unguarded(X, incremental)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved_state)
            raise

    def _fit_unguarded(self, X, incremental):
        fitted = hasattr(self, "components_")
        first_call = not (fitted and (incremental or self.warm_start))
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            reset=first_call,
        )
        self._check_params_against_data(X)
        if self.early_stopping and not incremental:
            n_validation = self._n_validation(X.shape[0])
            if not 1 <= n_validation < X.shape[0]:
                raise ValueError(
                    f"early_stopping=True with validation_fraction="
                    f"{self.validation_fraction} leaves no rows to train or to validate on "
                    f"among the {X.shape[0]} samples of X."
                )
        if not first_call:
            self._check_warm_start_shape()

        network = self._network(X.shape[1], X.dtype)
        if first_call:
            rng = np.random.default_rng(
                check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            )
            theta = network.init_params(rng)
            self._rng = rng
            self.loss_curve_ = []
            self.n_iter_ = 0
            self._optimizer = None
        else:
            theta = self._fitted_params(network)
        if first_call or not incremental:
            # every fit starts its own stopping bookkeeping (and validation split)
            self._reset_stopping_state()
        # overflow is detected and handled (see _warn_diverged): no NumPy warnings
        with np.errstate(over="ignore", invalid="ignore"):
            if self.solver in MINIBATCH_SOLVERS:
                theta = self._fit_minibatch(network, theta, X, incremental)
            else:
                theta = self._fit_full_batch(network, theta, X)
        self._store_params(network, theta)
        if self._optimizer is not None:
            self._optimizer.params = None  # keep the state, not a stale parameter vector
        return self

    def _n_validation(self, n_samples):
        return int(round(self.validation_fraction * n_samples))

    def _check_warm_start_shape(self):
        """Continuing training needs the fitted shape: refuse a changed one by name."""
        if self.components_.shape[0] != self.n_components:
            raise ValueError(
                f"warm_start/partial_fit continue the fitted model of "
                f"{self.components_.shape[0]} components, but n_components="
                f"{self.n_components}. Fit with warm_start=False to change it."
            )
        if (self.decoder_components_ is self.components_) != self.tied:
            raise ValueError(
                f"warm_start/partial_fit continue a model fitted with tied={not self.tied}, "
                f"but tied={self.tied}. Fit with warm_start=False to change it."
            )

    def _reset_stopping_state(self):
        self.best_loss_ = np.inf
        self._no_improvement_count = 0
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None

    def _warn_diverged(self, epoch):
        warnings.warn(
            f"The training loss became non-finite at iteration {epoch} of "
            f"{type(self).__name__}; training stopped and the last finite parameters "
            "were kept. Lower learning_rate_init (or scale X) and fit again.",
            RuntimeWarning,
            stacklevel=3,
        )

    def _fit_full_batch(self, network, theta, X):
        corruption = self._corruption(0)
        grad = np.empty_like(theta)
        start = time.perf_counter()
        non_finite_seen = []

        def fun(theta64):
            theta[...] = theta64
            value = network.objective(
                theta, X, grad, corrupt=corruption, chunk_size=self.chunk_size
            )
            if not (np.isfinite(value) and np.all(np.isfinite(grad))):
                # an infinite value makes the line search step back
                non_finite_seen.append(True)
                return np.inf, np.zeros_like(theta64)
            return value, grad.astype(np.float64)

        theta64 = theta.astype(np.float64)
        remaining, result = self.max_iter, None
        while remaining > 0:
            # noise: a fixed draw per round, as a line search needs a fixed objective
            n_iter = remaining if corruption is None else min(remaining, NOISE_REDRAW_ITERATIONS)
            if corruption is not None:
                corruption.reseed(self._rng)
            result = scipy.optimize.minimize(
                fun,
                theta64,
                jac=True,
                method=FULL_BATCH_SOLVERS[self.solver],
                callback=self._full_batch_callback(start),
                options={"maxiter": n_iter, "gtol": self.tol},
            )
            stuck = non_finite_seen and (result.nit == 0 or not np.isfinite(result.fun))
            if stuck or not np.all(np.isfinite(result.x)):
                self._warn_diverged(self.n_iter_ + 1)
                break
            theta64 = result.x
            self.n_iter_ += result.nit
            remaining -= n_iter
            if result.nit < n_iter:  # converged before using all iterations
                break
        theta[...] = theta64
        if remaining == 0 and result is not None and result.status == 1:
            warnings.warn(
                f"{type(self).__name__}: solver={self.solver!r} stopped at max_iter="
                f"{self.max_iter} before convergence; increase max_iter.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return theta

    def _full_batch_callback(self, start):
        def callback(intermediate_result):
            loss = float(intermediate_result.fun)
            self.loss_curve_.append(loss)
            if self.verbose:
                print(
                    f"Iteration {len(self.loss_curve_)}, loss = {loss:.6f}, "
                    f"elapsed {time.perf_counter() - start:.1f}s"
                )

        return callback

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        return min(self.batch_size, n_samples)

    def _fit_minibatch(self, network, theta, X, incremental):
        rng = self._rng
        optimizer = self._optimizer
        if (
            not incremental  # a new fit starts a new optimiser, as sklearn's MLP does
            or not isinstance(optimizer, OPTIMIZERS[self.solver])
            or optimizer.dtype != theta.dtype
        ):
            kwargs = {"momentum": self.momentum} if self.solver == "sgd" else {}
            optimizer = OPTIMIZERS[self.solver](
                theta, learning_rate=self.learning_rate_init, **kwargs
            )
        optimizer.params = theta
        self._optimizer = optimizer

        X_val = None
        if self.early_stopping and not incremental:
            order = rng.permutation(X.shape[0])
            n_val = self._n_validation(X.shape[0])
            X_val, X = X[order[:n_val]], X[order[n_val:]]
            best_theta = theta.copy()

        n_samples = X.shape[0]
        batch_size = self._batch_size(n_samples)
        corruption = self._corruption(0)
        grad = np.empty_like(theta)
        epoch_start_theta = theta.copy()
        n_epochs = 1 if incremental else self.max_iter
        start = time.perf_counter()
        converged = False
        for epoch in range(n_epochs):
            epoch_start_theta[...] = theta
            order = rng.permutation(n_samples)
            if corruption is not None:
                corruption.reseed(rng)
            total = 0.0
            for batch_start in range(0, n_samples, batch_size):
                batch = X[order[batch_start : batch_start + batch_size]]
                # each batch its own draw: the key is the batch's position in the epoch
                corrupt = None
                if corruption is not None:
                    corrupt = lambda x_block, _, key=batch_start: corruption(x_block, key)  # noqa: E731
                value = network.objective(theta, batch, grad, corrupt=corrupt)
                # one BLAS pass: any NaN or inf in grad makes its squared norm non-finite
                if not (np.isfinite(value) and np.isfinite(np.vdot(grad, grad))):
                    theta[...] = best_theta if X_val is not None else epoch_start_theta
                    self._warn_diverged(self.n_iter_ + 1)
                    return theta
                optimizer.step(grad)
                total += value * batch.shape[0]
            loss = total / n_samples
            self.n_iter_ += 1
            self.loss_curve_.append(loss)

            message = f"Epoch {self.n_iter_}, loss = {loss:.6f}"
            if X_val is not None:
                val_score = float(-network.sample_losses(theta, X_val).mean())
                if not np.isfinite(val_score):
                    theta[...] = best_theta
                    self._warn_diverged(self.n_iter_)
                    return theta
                self.validation_scores_.append(val_score)
                message += f", validation loss = {-val_score:.6f}"
                improved = val_score > self.best_validation_score_ + self.tol
                if val_score > self.best_validation_score_:
                    self.best_validation_score_ = val_score
                    best_theta[...] = theta
            else:
                improved = loss < self.best_loss_ - self.tol
            self.best_loss_ = min(self.best_loss_, loss)
            self._no_improvement_count = 0 if improved else self._no_improvement_count + 1
            if self.verbose:
                elapsed = time.perf_counter() - start
                left = elapsed / (epoch + 1) * (n_epochs - epoch - 1)
                print(f"{message}, elapsed {elapsed:.1f}s, left ~{left:.1f}s")
            if not incremental and self._no_improvement_count >= self.n_iter_no_change:
                converged = True
                break
        if X_val is not None:
            theta[...] = best_theta
        if not incremental and not converged:
            warnings.warn(
                f"{type(self).__name__}: {self.solver} stopped at max_iter="
                f"{self.max_iter} epochs before convergence; increase max_iter.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return theta

    # -- transformer API ---------------------------------------------------------------
    def _check_fitted_input(self, X):
        check_is_fitted(self)
        return validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            reset=False,
        )

    def _fitted_network(self, X):
        network = self._network(self.n_features_in_, X.dtype)
        return network, self._fitted_params(network)

    def transform(self, X):
        """Hidden activations of X: the learned features.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        H : ndarray of shape (n_samples, n_components)
            Same float dtype as X. No corruption is applied. X is encoded in blocks of
            ``chunk_size`` rows, so memory beyond H is bounded by the block.
        """
        X = self._check_fitted_input(X)
        network, theta = self._fitted_network(X)
        H = np.empty((X.shape[0], self.components_.shape[0]), dtype=X.dtype)
        return map_row_blocks(lambda block: network.encode(theta, block), X, H, self.chunk_size)

    def inverse_transform(self, X):
        """Decode hidden activations back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Hidden activations, e.g. the output of :meth:`transform`.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features)
            Same float dtype as X, decoded in blocks of ``chunk_size`` rows.
        """
        check_is_fitted(self)
        H = check_array(X, dtype=[np.float64, np.float32])
        n_components = self.components_.shape[0]
        if H.shape[1] != n_components:
            raise ValueError(
                f"X has {H.shape[1]} features, but inverse_transform expects the "
                f"{n_components} hidden activations of the fitted model (n_components)."
            )
        network, theta = self._fitted_network(H)
        X_reconstructed = np.empty((H.shape[0], self.n_features_in_), dtype=H.dtype)
        return map_row_blocks(
            lambda block: network.decode(theta, block), H, X_reconstructed, self.chunk_size
        )

    def score_samples(self, X):
        """Negative reconstruction loss of each sample (no corruption, no penalties).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher is better. Computed in blocks of ``chunk_size`` rows.
        """
        X = self._check_fitted_input(X)
        network, theta = self._fitted_network(X)
        scores = np.empty(X.shape[0], dtype=X.dtype)
        losses = lambda block: network.sample_losses(theta, block)  # noqa: E731
        return np.negative(map_row_blocks(losses, X, scores, self.chunk_size), out=scores)

    def score(self, X, y=None):
        """Negative mean reconstruction loss, so that a higher score is better.

        Lets :class:`~sklearn.model_selection.GridSearchCV` tune an autoencoder on its
        own, without a classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    @property
    def _n_features_out(self):
        return self.components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def init_arguments(local_variables):
    """The arguments of a subclass ``__init__``, from its ``locals()``, for ``super()``."""
    return {k: v for k, v in local_variables.items() if k not in ("self", "__class__")}


PARAMETERS_DOC = """
    Parameters
    ----------
    n_components : int, default={n_components}
        Number of hidden units.
    activation : {{"sigmoid", "tanh", "relu", "swish", "identity"}}, default={activation!r}
        Activation f of the hidden layer.
    output_activation : {{"sigmoid", "tanh", "relu", "swish", "identity"}}, \
default={output_activation!r}
        Activation g of the decoder. Use "identity" for standardised data.
    loss : {{"squared_error", "cross_entropy"}}, default={loss!r}
        Reconstruction loss: 1/2 ||x^ - x||^2 (Ng's notes) or the Bernoulli cross entropy,
        which needs X in [0, 1] and a sigmoid decoder.
    tied : bool, default={tied}
        Tie the decoder to the encoder (W* = W^T): ``decoder_components_`` is
        ``components_``.
    alpha : float, default={alpha}
        lambda, the L2 weight decay ``alpha / 2 * sum(W ** 2)`` on the weights, never on
        the biases.
    sparsity_target : float in (0, 1), default={sparsity_target}
        rho, the target mean activation of each hidden unit.
    sparsity_weight : float, default={sparsity_weight}
        beta, the weight of the KL sparsity penalty ``beta * sum_j KL(rho || rho^_j)``;
        0 turns it off. It needs activation "sigmoid" or "tanh" (read as (a + 1) / 2).
        rho^ is the mean over the training set for "lbfgs" and "cg", over the minibatch
        for "adam" and "sgd".
    noise : {{"masking", "gaussian", "salt_and_pepper"}}, default={noise!r}
        Corruption of the input during fit only: masking sets each input to 0 with
        probability q; gaussian adds N(0, q^2); salt_and_pepper sets each input to 0 or
        1 with probability q / 2 each. The loss is always against the clean input.
    noise_level : float, default={noise_level}
        q, the corruption level; 0 turns the noise off. Minibatch solvers draw it afresh
        for each batch of each epoch; full-batch solvers for each run of 10 iterations.
    solver : {{"lbfgs", "cg", "adam", "sgd"}}, default={solver!r}
        "lbfgs" and "cg" minimise the full-batch objective with
        ``scipy.optimize.minimize``; "adam" and "sgd" train on minibatches.
    batch_size : int or "auto", default={batch_size!r}
        Minibatch size for "adam" and "sgd"; "auto" is ``min(200, n_samples)``.
    learning_rate_init : float, default={learning_rate_init}
        Step size of "adam" and "sgd".
    momentum : float, default={momentum}
        Nesterov momentum of "sgd".
    max_iter : int, default={max_iter}
        Iterations for "lbfgs" and "cg", epochs for "adam" and "sgd".
    tol : float, default={tol}
        "lbfgs"/"cg": gradient tolerance. "adam"/"sgd": training stops when the loss (or
        the validation score) has not improved by ``tol`` for ``n_iter_no_change``
        epochs.
    n_iter_no_change : int, default={n_iter_no_change}
        Epochs without improvement before a minibatch solver stops.
    early_stopping : bool, default={early_stopping}
        Hold out ``validation_fraction`` of X and stop on its reconstruction score
        (minibatch solvers); the best parameters on it are kept.
    validation_fraction : float, default={validation_fraction}
        Share of X held out when ``early_stopping`` is on.
    chunk_size : int or None, default={chunk_size}
        Rows per block when a full-batch solver evaluates the objective, and when
        ``transform``, ``inverse_transform`` and ``score_samples`` work through X: memory
        beyond X (and the output) is bounded by it. None takes all rows at once.
    random_state : int, RandomState instance or None, default={random_state}
        Seeds the initial weights, the shuffling and the noise.
    verbose : int, default={verbose}
        1 prints one line per epoch (per iteration for full-batch solvers).
    warm_start : bool, default={warm_start}
        Continue from the fitted parameters on the next call to fit.
"""

ATTRIBUTES_DOC = """
    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Encoder weights W; ``transform(X) = f(X @ components_.T + intercept_hidden_)``.
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases b.
    decoder_components_ : ndarray of shape (n_components, n_features)
        Decoder weights W*; the reconstruction is
        ``g(H @ decoder_components_ + intercept_visible_)``. Tied models: the same array
        as ``components_``.
    intercept_visible_ : ndarray of shape (n_features,)
        Visible (decoder) biases c.
    n_iter_ : int
        Iterations (full batch) or epochs (minibatch) run.
    loss_curve_ : list of float
        Objective after each iteration or epoch (with its penalties).
    best_loss_ : float
        Lowest training loss of a minibatch solver (inf for full-batch solvers).
    validation_scores_ : list of float or None
        Validation score (negative reconstruction loss) per epoch with early stopping.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
"""


def fill_docstring(cls):
    """Complete a public class's docstring with the shared parameter docs and its defaults."""
    import inspect

    defaults = {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    cls.__doc__ = cls.__doc__.replace(
        "    {parameters}\n", PARAMETERS_DOC.format(**defaults) + ATTRIBUTES_DOC
    )
    return cls
