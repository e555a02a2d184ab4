"""StackedAutoencoder: greedy layer-wise pretraining, then end-to-end fine-tuning."""

import copy
from numbers import Integral

import numpy as np
from sklearn.base import (
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
    clone,
)
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._base import (
    MINIBATCH_SOLVERS,
    SOLVER_CONSTRAINTS,
    TRAINING_CONSTRAINTS,
    BaseAutoencoder,
    ReconstructionScoreMixin,
    end_fit,
    expose_history,
    fit_network,
    minibatch_size,
    nested_fit,
    new_generator,
    restore_on_error,
    seed_unseeded,
    training_budget,
    warn_if_codes_constant,
    warn_interrupted_before_fitting,
)
from ._core import Network, SolverSettings, TrainingData, TrainingHistory
from ._persistence import PersistenceMixin


def check_autoencoder_steps(steps, owner="StackedAutoencoder"):
    """Refuse steps that are not named skae autoencoders, naming the culprit."""
    if not isinstance(steps, list) or not steps:
        raise ValueError(f"{owner} needs steps, a non-empty list of (name, autoencoder).")
    names = []
    for step in steps:
        if not (isinstance(step, tuple) and len(step) == 2 and isinstance(step[0], str)):
            raise ValueError(f"Each of {owner}'s steps must be a (name, autoencoder) tuple.")
        name, estimator = step
        if not isinstance(estimator, BaseAutoencoder):
            raise TypeError(
                f"Step {name!r} of {owner} must be a skae autoencoder "
                f"(SparseAutoencoder, DenoisingAutoencoder, TiedAutoencoder), got "
                f"{type(estimator).__name__}."
            )
        if "__" in name:
            raise ValueError(f"Step names must not contain '__': got {name!r}.")
        names.append(name)
    if len(set(names)) != len(names):
        raise ValueError(f"{owner}'s step names must be unique, got {names}.")


def unrolled_network(autoencoders, n_features, dtype, settings=None):
    """The deep autoencoder: encoders 1..L, then decoders L..1, each with its penalties.

    Decoder l is tied to encoder l (index l - 1) where that autoencoder is tied. The
    loss and the corruption of the input are the first autoencoder's. ``settings``, one
    :meth:`~skae._base.BaseAutoencoder.decide_settings` per layer, serve layers not
    fitted yet; by default each layer's fitted ones.
    """
    encoders, decoders = [], []
    n_in = n_features
    settings = settings or [None] * len(autoencoders)
    for index, (autoencoder, layer_settings) in enumerate(
        zip(autoencoders, settings, strict=True)
    ):
        encoder, decoder = autoencoder.as_layers(n_in, tied_to=index, settings=layer_settings)
        encoders.append(encoder)
        decoders.append(decoder)
        n_in = autoencoder.n_components
    return Network(
        encoders + decoders[::-1],
        autoencoders[0].loss,
        n_encoder_layers=len(encoders),
        dtype=dtype,
    )


def fitted_layer_params(autoencoders):
    """Per-layer ``(weights, bias)`` of the unrolled network, from fitted autoencoders."""
    pairs = [autoencoder.layer_parameters() for autoencoder in autoencoders]
    return [encoder for encoder, _ in pairs] + [decoder for _, decoder in pairs[::-1]]


def layer_settings(autoencoders, X):
    """The "auto" settings of layers not fitted yet: the first from X, each next one
    from the range of the codes below it (a sigmoid's codes lie in [0, 1])."""
    settings = [autoencoders[0].decide_settings(X)]
    for below, autoencoder in zip(autoencoders[:-1], autoencoders[1:], strict=True):
        codes_in_unit_interval = below.activation == "sigmoid"
        settings.append(autoencoder.decide_settings(in_unit_interval=codes_in_unit_interval))
    return settings


def store_unrolled_params(autoencoders, network, theta, settings=None, n_features=None):
    """Write the unrolled network's parameters back into each autoencoder.

    With ``settings`` (one per layer) and ``n_features``, the layers become fitted
    layers of that stack (a first ``partial_fit``: they had no fit of their own).
    """
    params = network.unpack(theta)
    n_layers = len(autoencoders)
    n_in = n_features
    settings = settings or [None] * n_layers
    for index, (autoencoder, decided) in enumerate(zip(autoencoders, settings, strict=True)):
        autoencoder.set_layer_parameters(
            params[index],
            params[2 * n_layers - 1 - index],
            n_features_in=n_in if decided is not None else None,
            settings=decided,
        )
        n_in = autoencoder.n_components


class StackedAutoencoder(
    PersistenceMixin,
    ReconstructionScoreMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _BaseComposition,
):
    """A deep autoencoder built from named autoencoders, as a Pipeline is built from steps.

    ``fit`` trains the autoencoders greedily, each on the codes of the one below (Ng's
    stacked autoencoders), then, unless ``fine_tune_max_iter=0``, fine-tunes the
    unrolled deep autoencoder (encoders 1..L, decoders L..1) end to end on the
    reconstruction of X, with every layer's own penalties (weight decay, sparsity,
    contraction, tied weights) and the first layer's corruption of the input.
    Every knob of every layer is reachable as ``<name>__<parameter>``.

    Parameters
    ----------
    steps : list of (str, autoencoder) tuples
        The layers from the input up: skae autoencoders (``SparseAutoencoder``,
        ``DenoisingAutoencoder``, ``TiedAutoencoder``); the first one's ``loss`` and
        ``noise`` serve the fine-tuning.
    fine_tune_max_iter : int or "auto", default="auto"
        Epochs (minibatch solvers) or iterations (full batch) of end-to-end fine-tuning;
        0 keeps the greedy layers as they are. "auto" decides the budget from the data
        as the autoencoders' ``max_iter="auto"`` does (counted in updates, stopping
        quietly once the loss no longer improves); the budget used is ``max_iter_``.
    fine_tune_solver : {"adam", "sgd", "lbfgs", "cg"}, default="adam"
    fine_tune_learning_rate : float, default=0.001
        Step size of "adam" and "sgd", constant over the fine-tuning (a layer's own
        ``learning_rate`` schedule serves its greedy pretraining only).
    fine_tune_batch_size : int or "auto", default="auto"
        "auto" is ``min(200, n_samples)``.
    tol : float, default=1e-4
        Stopping tolerance of the fine-tuning (as the autoencoders' ``tol``).
    n_iter_no_change : int, default=10
    random_state : int, RandomState instance or None, default=None
        Seeds the fine-tuning (shuffling, noise) and the start of ``partial_fit``, and
        the pretraining of each layer whose own ``random_state`` is None (as
        scikit-learn's meta-estimators seed their sub-estimators), so that this one
        parameter makes a fit reproducible; a layer's own ``random_state`` wins.
    verbose : int, default=0
    callbacks : list of callbacks or None, default=None
        Objects called during training (see :mod:`skae.callbacks`: a progress bar,
        scores on validation data, checkpoints to resume a killed fit); the layers'
        pretraining hears them too, with its phase in ``info["phase"]``.

    Attributes
    ----------
    autoencoders_ : list of autoencoders
        Fitted copies of the steps, holding the fine-tuned parameters.
    named_autoencoders_ : dict
        The same, by step name.
    n_iter_ : int
        Fine-tuning epochs (iterations) run.
    max_iter_ : int
        The fine-tuning budget of the last fit, as ``fine_tune_max_iter`` set or "auto"
        decided it.
    loss_curve_ : list of float
    history_ : list of dict
        Every figure of every epoch (iteration) of the last training: ``epoch``,
        ``loss``, ``elapsed`` and, where there are some, ``validation_score``,
        ``learning_rate`` and the scores callbacks add.
        Fine-tuning objective per epoch (iteration).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoencoder, SparseAutoencoder, StackedAutoencoder
    >>> X = load_digits().data / 16
    >>> stack = StackedAutoencoder(
    ...     [("ae1", DenoisingAutoencoder(32, max_iter=5, random_state=0)),
    ...      ("ae2", SparseAutoencoder(8, max_iter=20, random_state=0))],
    ...     fine_tune_max_iter=2, random_state=0)
    >>> stack.fit(X).transform(X).shape
    (1797, 8)
    >>> stack.inverse_transform(stack.transform(X)).shape
    (1797, 64)
    """

    _parameter_constraints = {
        "steps": [list],
        "fine_tune_max_iter": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "fine_tune_solver": SOLVER_CONSTRAINTS["solver"],
        "fine_tune_learning_rate": SOLVER_CONSTRAINTS["learning_rate_init"],
        "fine_tune_batch_size": SOLVER_CONSTRAINTS["batch_size"],
        **TRAINING_CONSTRAINTS,
    }

    def __init__(
        self,
        steps,
        *,
        fine_tune_max_iter="auto",
        fine_tune_solver="adam",
        fine_tune_learning_rate=0.001,
        fine_tune_batch_size="auto",
        tol=1e-4,
        n_iter_no_change=10,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.steps = steps
        self.fine_tune_max_iter = fine_tune_max_iter
        self.fine_tune_solver = fine_tune_solver
        self.fine_tune_learning_rate = fine_tune_learning_rate
        self.fine_tune_batch_size = fine_tune_batch_size
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def get_params(self, deep=True):
        """Parameters of the stack and, with ``deep``, of each step as ``name__param``."""
        return self._get_params("steps", deep=deep)

    def set_params(self, **params):
        """Set parameters, including ``name__param`` of a step or a whole step by name."""
        self._set_params("steps", **params)
        return self

    @property
    def named_steps(self):
        return dict(self.steps)

    # -- fitting -----------------------------------------------------------------------
    def _validate_input(self, X, reset):
        return validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            reset=reset,
        )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Pretrain each layer on the codes of the one below, then fine-tune end to end.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        return self._fit(X)

    @restore_on_error
    def _fit(self, X):
        check_autoencoder_steps(self.steps)
        X = self._validate_input(X, reset=True)
        autoencoders = [clone(step) for _, step in self.steps]
        seed_unseeded(autoencoders, self.random_state)
        codes = X
        prefix = getattr(self, "_parameter_prefix", "")
        for (name, _), autoencoder in zip(self.steps, autoencoders, strict=True):
            try:
                with nested_fit(autoencoder, f"{prefix}{name}__", owner=self):
                    autoencoder.fit(codes)
            except KeyboardInterrupt:
                # a stack needs every layer: the greedy phase leaves nothing usable
                if not prefix:  # a nested stack's owner reports it
                    warn_interrupted_before_fitting(
                        self, f"the greedy pretraining of step {name!r}"
                    )
                raise
            codes = autoencoder.transform(codes)
        history = TrainingHistory()
        rng = new_generator(self.random_state)
        if self.fine_tune_max_iter != 0:
            network = unrolled_network(autoencoders, X.shape[1], X.dtype)
            theta = network.pack(fitted_layer_params(autoencoders))
            status = self._train(network, theta, X, history, rng, autoencoders, incremental=False)
            store_unrolled_params(autoencoders, network, theta)
        else:
            self.max_iter_, status = 0, "converged"
        self._commit(autoencoders, history, rng)
        end_fit(self, status)
        return self

    def _commit(self, autoencoders, history, rng):
        self.autoencoders_ = autoencoders
        self.named_autoencoders_ = {
            name: ae for (name, _), ae in zip(self.steps, autoencoders, strict=True)
        }
        expose_history(self, history, rng)

    def set_fitted_layers(self, autoencoders, n_features_in):
        """Make ``autoencoders`` (fitted layers) this stack's, without training: how a
        classifier that was not pretrained gives its stack a fitted state."""
        self.n_features_in_ = n_features_in
        self._commit(autoencoders, TrainingHistory(), new_generator(self.random_state))

    def _snapshot(self, autoencoders, network, theta):
        """A fitted copy of the stack with the unrolled parameters ``theta`` (callbacks)."""
        model = copy.copy(self)
        layers = copy.deepcopy(autoencoders)
        store_unrolled_params(layers, network, theta)
        model.autoencoders_ = layers
        model.named_autoencoders_ = {
            name: ae for (name, _), ae in zip(self.steps, layers, strict=True)
        }
        return model

    def _train(self, network, theta, X, history, rng, autoencoders, incremental):
        first = self.steps[0][1]
        budget = training_budget(
            self.fine_tune_max_iter,
            self.fine_tune_solver,
            X.shape[0],
            self.fine_tune_batch_size,
            self.n_iter_no_change,
        )
        data = TrainingData(X, corruption=first.input_corruption(0), chunk_size=first.chunk_size)
        settings = SolverSettings(
            solver=self.fine_tune_solver,
            max_iter=max(1, budget.max_iter),
            tol=self.tol,
            n_iter_no_change=budget.n_iter_no_change,
            relative_tol=budget.relative_tol,
            learning_rate=self.fine_tune_learning_rate,
            batch_size=minibatch_size(self.fine_tune_batch_size, X.shape[0]),
        )
        status = fit_network(
            self,
            network,
            theta,
            data,
            settings,
            history=history,
            rng=rng,
            incremental=incremental,
            phase="fine_tune",
            snapshot=lambda: self._snapshot(autoencoders, network, theta),
        )
        self.max_iter_ = 1 if incremental else budget.max_iter
        if status in ("converged", "max_iter") and not incremental:
            warn_if_codes_constant(self, network, theta, X, "fine_tune_learning_rate")
        return status

    def _check_minibatch_solver(self):
        if self.fine_tune_solver not in MINIBATCH_SOLVERS:
            raise AttributeError(
                "partial_fit needs a minibatch fine_tune_solver ('adam' or 'sgd'), got "
                f"fine_tune_solver={self.fine_tune_solver!r}."
            )
        return True

    @available_if(_check_minibatch_solver)
    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y=None):
        """One epoch of end-to-end training of the unrolled deep autoencoder on X.

        The first call starts every layer from its random initialisation (greedy
        pretraining needs whole passes over the data; use ``fit`` for it).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        return self._partial_fit(X)

    @restore_on_error
    def _partial_fit(self, X):
        first_call = not hasattr(self, "autoencoders_")
        if first_call:
            check_autoencoder_steps(self.steps)
        X = self._validate_input(X, reset=first_call)
        if first_call:
            rng = new_generator(self.random_state)
            autoencoders = [clone(step) for _, step in self.steps]
            settings = layer_settings(autoencoders, X)
            network = unrolled_network(autoencoders, X.shape[1], X.dtype, settings)
            theta = network.init_params(rng)
            history = TrainingHistory()
        else:
            settings = None
            rng = copy.deepcopy(self._rng)
            autoencoders = copy.deepcopy(self.autoencoders_)
            network = unrolled_network(autoencoders, X.shape[1], X.dtype)
            theta = network.pack(fitted_layer_params(autoencoders))
            history = copy.deepcopy(self._history)
        self._train(network, theta, X, history, rng, autoencoders, incremental=True)
        store_unrolled_params(autoencoders, network, theta, settings, X.shape[1])
        self._commit(autoencoders, history, rng)
        return self

    # -- transformer API ---------------------------------------------------------------
    def transform(self, X):
        """The top code: X encoded through every layer.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        H : ndarray of shape (n_samples, n_components of the last step)
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        for autoencoder in self.autoencoders_:
            X = autoencoder.transform(X)
        return X

    def inverse_transform(self, X):
        """Decode top codes through every layer back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components of the last step)

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        H = check_array(X, dtype=[np.float64, np.float32])
        for autoencoder in self.autoencoders_[::-1]:
            H = autoencoder.inverse_transform(H)
        return H

    def score_samples(self, X):
        """Negative reconstruction loss of each sample through the whole stack.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        network = unrolled_network(self.autoencoders_, X.shape[1], X.dtype)
        theta = network.pack(fitted_layer_params(self.autoencoders_))
        return -network.sample_losses(theta, X)

    def _gradient_problem(self, X, random_state):
        """``(network, theta, objective keywords)`` for ``check_gradients``."""
        if hasattr(self, "autoencoders_"):
            autoencoders = self.autoencoders_
            network = unrolled_network(autoencoders, X.shape[1], np.float64)
            theta = network.pack(fitted_layer_params(autoencoders))
        else:
            self._validate_params()
            check_autoencoder_steps(self.steps)
            autoencoders = [clone(step) for _, step in self.steps]
            for autoencoder in autoencoders:
                autoencoder._validate_params()
            settings = layer_settings(autoencoders, X)
            network = unrolled_network(autoencoders, X.shape[1], np.float64, settings)
            theta = network.init_params(new_generator(self.random_state))
        first_settings = (
            autoencoders[0].fitted_settings() if hasattr(self, "autoencoders_") else settings[0]
        )
        autoencoders[0]._check_params_against_data(X, first_settings)
        return network, theta, {"corrupt": autoencoders[0].input_corruption(random_state)}

    @property
    def _n_features_out(self):
        return self.autoencoders_[-1].components_.shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
