"""AutoencoderClassifier: pretrained encoders, a softmax on top, fine-tuned on labels."""

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import (
    MINIBATCH_SOLVERS,
    SOLVER_CONSTRAINTS,
    TRAINING_CONSTRAINTS,
    BaseAutoencoder,
    end_fit,
    expose_history,
    fit_network,
    minibatch_size,
    nested_fit,
    new_generator,
    restore_on_error,
    seed_unseeded,
    training_budget,
    validation_size,
    validation_split,
    warn_interrupted_before_fitting,
)
from ._core import (
    Autoencoder,
    Dropout,
    Layer,
    Network,
    SolverSettings,
    TrainingData,
    TrainingHistory,
)
from ._persistence import PersistenceMixin
from ._stacked import StackedAutoencoder, check_autoencoder_steps, layer_settings


def one_hot(y, classes, dtype):
    """Targets of the softmax layer: row i is 1 in the column of ``y[i]``'s class."""
    return (np.asarray(y)[:, None] == classes).astype(dtype)


def _encoders(autoencoder):
    """The autoencoders whose encoders make the network below the softmax."""
    if isinstance(autoencoder, StackedAutoencoder):
        return autoencoder.autoencoders_
    return [autoencoder]


class AutoencoderClassifier(PersistenceMixin, ClassifierMixin, BaseEstimator):
    """A softmax classifier on top of (stacked) autoencoders, fine-tuned end to end.

    ``fit`` pretrains ``autoencoder`` without labels on every row of X (with
    ``unlabeled`` set, the rows marked unlabelled serve this pretraining only), puts a
    softmax output layer on its top code (as the backprop homework does) and
    fine-tunes the whole network, every encoder layer included, with backpropagation
    on the cross entropy of the labels. ``pretrain=False`` trains the same network
    from a random start.

    Parameters
    ----------
    autoencoder : StackedAutoencoder or skae autoencoder
        The encoder below the softmax; cloned, never modified.
    unlabeled : int, str or None, default=None
        The label that marks a row as unlabelled, for semi-supervised use: such rows are
        used by the pretraining only. ``unlabeled=-1`` follows scikit-learn's
        semi-supervised convention. None (the default) treats every label as a class,
        -1 included: unlabelled rows must be asked for, never guessed.
    pretrain : bool or "prefit", default=True
        True fits ``autoencoder`` on X before fine-tuning; False starts from random
        weights; "prefit" starts from the weights of an ``autoencoder`` that is already
        fitted (a copy, as ``cv="prefit"`` does in scikit-learn), without training it
        again, so that one pretraining serves many fine-tunings.
    alpha : float, default=1e-6
        L2 weight decay ``alpha / 2 * sum(W ** 2)`` of every layer during fine-tuning,
        added to the mean log loss as in Ng's notes (the autoencoders' own penalties
        serve their pretraining only). It is not divided by the number of samples as
        scikit-learn's MLP does, so the MLP's alpha=1e-4 on 60000 samples is about 2e-9
        here; on MNIST with 784-1000-500-10, 1e-6 beat 1e-4 on a validation split
        (``benchmarks/results/deep_headline.md``).
    dropout : float in [0, 1), default=0.0
        Dropout on the input of every layer above the first (the hidden codes) during
        fine-tuning; needs a minibatch solver ("adam" or "sgd").
    input_dropout : float in [0, 1), default=0.0
        Dropout on the pixels (the network's input) during fine-tuning; needs a minibatch
        solver.
    solver : {"adam", "sgd", "lbfgs", "cg"}, default="adam"
    learning_rate : {"constant", "cosine"}, default="constant"
        Step-size schedule of the minibatch solvers: "cosine" anneals
        ``learning_rate_init`` to zero along half a cosine over the ``max_iter`` epochs
        (as in the autoencoders); full-batch solvers ignore it.
    learning_rate_init : float, default=0.001
    momentum : float, default=0.9
        Nesterov momentum of "sgd".
    batch_size : int or "auto", default="auto"
        "auto" is ``min(200, n_samples)``.
    max_iter : int or "auto", default="auto"
        Fine-tuning epochs (minibatch) or iterations (full batch). "auto" counts the
        budget in updates, as the autoencoders' ``max_iter="auto"`` does, so that 50
        labelled rows (one batch an epoch) train as long as 60000, and stops quietly
        once the loss no longer improves. The budget used is ``max_iter_``.
    tol : float, default=1e-4
    n_iter_no_change : int, default=10
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the labelled rows and stop on
        their accuracy, keeping the best parameters (minibatch solvers).
    validation_fraction : float, default=0.1
    random_state : int, RandomState instance or None, default=None
        Seeds the softmax layer, the random start (``pretrain=False``), the shuffling,
        the split and the dropout masks, and the pretraining of an ``autoencoder`` whose
        own ``random_state`` is None (as scikit-learn's meta-estimators seed their
        sub-estimators).
    verbose : int, default=0
    callbacks : list of callbacks or None, default=None
        Objects called during training (see :mod:`skae.callbacks`: a progress bar,
        scores on validation data, checkpoints to resume a killed fit); the
        pretraining of ``autoencoder`` hears them too.

    Attributes
    ----------
    autoencoder_ : StackedAutoencoder or skae autoencoder
        The fitted autoencoder, holding the fine-tuned encoder weights (its
        ``transform`` gives the codes below the softmax). Its decoders are those of the
        pretraining; with ``pretrain=False`` they keep their random start, as only the
        encoders are trained.
    coef_ : ndarray of shape (n_classes, n_code)
        Softmax weights.
    intercept_ : ndarray of shape (n_classes,)
    classes_ : ndarray of shape (n_classes,)
    n_iter_ : int
    max_iter_ : int
        The fine-tuning budget used, as ``max_iter`` set or "auto" decided it.
    loss_curve_ : list of float
    history_ : list of dict
        Every figure of every epoch (iteration) of the last training: ``epoch``,
        ``loss``, ``elapsed`` and, where there are some, ``validation_score``,
        ``learning_rate`` and the scores callbacks add.
    validation_scores_ : list of float or None
        Validation accuracy per epoch with early stopping.
    best_validation_score_ : float or None
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderClassifier, DenoisingAutoencoder
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = AutoencoderClassifier(
    ...     DenoisingAutoencoder(64, max_iter=5, random_state=0), max_iter=5, random_state=0)
    >>> clf.fit(X / 16, y).predict_proba(X[:2] / 16).shape
    (2, 10)
    """

    _parameter_constraints = {
        "autoencoder": [HasMethods(["fit", "transform"])],
        "unlabeled": [Integral, str, None],
        "pretrain": ["boolean", StrOptions({"prefit"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "input_dropout": [Interval(Real, 0, 1, closed="left")],
        **SOLVER_CONSTRAINTS,
        **TRAINING_CONSTRAINTS,
    }

    def __init__(
        self,
        autoencoder,
        *,
        unlabeled=None,
        pretrain=True,
        alpha=1e-6,
        dropout=0.0,
        input_dropout=0.0,
        solver="adam",
        learning_rate="constant",
        learning_rate_init=0.001,
        momentum=0.9,
        batch_size="auto",
        max_iter="auto",
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.autoencoder = autoencoder
        self.unlabeled = unlabeled
        self.pretrain = pretrain
        self.alpha = alpha
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    # -- the network ---------------------------------------------------------------
    def _check_autoencoder(self):
        autoencoder = self.autoencoder
        if isinstance(autoencoder, StackedAutoencoder):
            check_autoencoder_steps(autoencoder.steps)
        elif not isinstance(autoencoder, BaseAutoencoder):
            raise TypeError(
                "autoencoder must be a StackedAutoencoder or a skae autoencoder, got "
                f"{type(autoencoder).__name__}."
            )
        for layer in self._layer_specs(autoencoder):
            layer._validate_params()  # before any work, even when it is not pretrained
        if self.early_stopping and self.solver not in MINIBATCH_SOLVERS:
            raise ValueError(
                "early_stopping=True needs a minibatch solver ('adam' or 'sgd'), got "
                f"solver={self.solver!r}."
            )
        if (self.dropout > 0 or self.input_dropout > 0) and self.solver not in MINIBATCH_SOLVERS:
            # a line search needs one deterministic objective: new masks at every
            # evaluation would break it, and one fixed mask would not be dropout
            raise ValueError(
                "dropout and input_dropout need a minibatch solver ('adam' or 'sgd'), got "
                f"solver={self.solver!r} with dropout={self.dropout}, "
                f"input_dropout={self.input_dropout}."
            )

    @staticmethod
    def _layer_specs(autoencoder):
        if isinstance(autoencoder, StackedAutoencoder):
            return [ae for _, ae in autoencoder.steps]
        return [autoencoder]

    def _network(self, specs, n_features, n_classes, dtype):
        """Encoders (plain layers, weight decay, dropout above the first) + softmax."""
        layers, n_in = [], n_features
        for index, spec in enumerate(specs):
            layers.append(
                Layer(
                    n_in,
                    spec.n_components,
                    spec.activation,
                    alpha=self.alpha,
                    dropout=self.dropout if index > 0 else self.input_dropout,
                )
            )
            n_in = spec.n_components
        layers.append(Layer(n_in, n_classes, "softmax", alpha=self.alpha, dropout=self.dropout))
        return Network(layers, "log_loss", n_encoder_layers=len(specs), dtype=dtype)

    def _check_targets(self, y):
        """Labelled rows and the classes; ``unlabeled``, when set, marks unlabelled rows."""
        check_classification_targets(y)
        labelled = np.ones(y.shape[0], dtype=bool)
        if self.unlabeled is not None:
            if isinstance(self.unlabeled, str) != (y.dtype.kind in "OUS"):
                raise ValueError(
                    f"unlabeled={self.unlabeled!r} can never match a label of y, whose "
                    f"labels are {'strings' if y.dtype.kind in 'OUS' else 'numbers'}: "
                    "set unlabeled to the marker y uses for its unlabelled rows."
                )
            # elementwise, whatever the label types (a str marker never equals an int)
            labelled = np.array([label != self.unlabeled for label in y], dtype=bool)
        classes = np.unique(y[labelled])
        if classes.size < 2:
            marker = (
                f" (rows labelled {self.unlabeled!r} are unlabelled: unlabeled={self.unlabeled!r})"
                if self.unlabeled is not None
                else ""
            )
            raise ValueError(
                f"AutoencoderClassifier needs labelled rows of at least 2 classes; got "
                f"{classes.size} class(es) among {int(labelled.sum())} labelled rows{marker}."
            )
        return labelled, classes

    # -- fitting -----------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Pretrain on all rows, then fine-tune the whole network on the labelled rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels; with ``unlabeled`` set, rows labelled ``unlabeled`` serve the
            pretraining only.

        Returns
        -------
        self : object
        """
        return self._fit(X, y)

    @restore_on_error
    def _fit(self, X, y):
        self._check_autoencoder()
        X, y = validate_data(
            self, X, y, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32]
        )
        labelled, classes = self._check_targets(y)
        if self.early_stopping:
            n_val = validation_size(labelled.sum(), self.validation_fraction)
            if not classes.size <= n_val < labelled.sum() - classes.size:
                raise ValueError(
                    f"early_stopping=True with validation_fraction="
                    f"{self.validation_fraction} leaves too few labelled rows to train or "
                    f"to validate on among {int(labelled.sum())}."
                )
        rng = new_generator(self.random_state)
        if self.pretrain == "prefit":
            check_is_fitted(self.autoencoder)
            if self.autoencoder.n_features_in_ != X.shape[1]:
                raise ValueError(
                    f"X has {X.shape[1]} features, but the prefit autoencoder was fitted "
                    f"on {self.autoencoder.n_features_in_}."
                )
            autoencoder = copy.deepcopy(self.autoencoder)
        else:
            autoencoder = clone(self.autoencoder)
            seed_unseeded([autoencoder], self.random_state)
        specs = self._layer_specs(autoencoder)
        network = self._network(specs, X.shape[1], classes.size, X.dtype)
        theta = network.init_params(rng)
        if self.pretrain is True:
            try:
                with nested_fit(autoencoder, "autoencoder__", owner=self):
                    autoencoder.fit(X)
            except KeyboardInterrupt:
                # fine-tuning a half-pretrained network is not what the user asked for
                warn_interrupted_before_fitting(self, "the pretraining")
                raise
        if self.pretrain:
            params = network.unpack(theta)
            for index, encoder in enumerate(_encoders(autoencoder)):
                weights, bias = encoder.layer_parameters()[0]
                params[index].weights[...] = weights
                params[index].bias[...] = bias
        else:
            self._mark_fitted(autoencoder, X)

        # every row labelled (the usual case): no copy of X
        X_train, y_train = (X, y) if labelled.all() else (X[labelled], y[labelled])
        history = TrainingHistory()
        history.reset_stopping(self.early_stopping)
        budget = self._budget(X_train)
        data = self._training_data(network, X_train, y_train, classes, rng)
        status = fit_network(
            self,
            network,
            theta,
            data,
            self._solver_settings(budget, data.x.shape[0]),
            history=history,
            rng=rng,
            incremental=False,
            phase="fine_tune",
            snapshot=lambda: self._snapshot(autoencoder, network, theta, classes),
        )
        self._expose(autoencoder, network, theta, classes)
        self.max_iter_ = budget.max_iter
        expose_history(self, history)
        end_fit(self, status)
        return self

    def _expose(self, autoencoder, network, theta, classes):
        """The fine-tuned encoders go back into ``autoencoder``; the softmax layer
        becomes ``coef_`` and ``intercept_``."""
        params = network.unpack(theta)
        for index, encoder in enumerate(_encoders(autoencoder)):
            decoder = encoder.layer_parameters()[1]
            encoder.set_layer_parameters(params[index], decoder)
        self.autoencoder_ = autoencoder
        self.coef_ = params[-1].weights.copy()
        self.intercept_ = params[-1].bias.copy()
        self.classes_ = classes

    def _snapshot(self, autoencoder, network, theta, classes):
        """A fitted copy of the classifier with the parameters ``theta`` (callbacks)."""
        model = copy.copy(self)
        model._expose(copy.deepcopy(autoencoder), network, theta, classes)
        return model

    def _mark_fitted(self, autoencoder, X):
        """Give an autoencoder that was not pretrained the attributes of a fitted one."""
        rng = new_generator(self.random_state)
        stacked = isinstance(autoencoder, StackedAutoencoder)
        encoders = [clone(ae) for _, ae in autoencoder.steps] if stacked else [autoencoder]
        n_in = X.shape[1]
        for encoder, decided in zip(encoders, layer_settings(encoders, X), strict=True):
            # the shapes and the tying only: its penalties serve a pretraining not done
            layer = Autoencoder(n_in, encoder.n_components, tied=encoder.tied)
            encoder.set_layer_parameters(
                *layer.unpack(layer.init_params(rng)), n_features_in=n_in, settings=decided
            )
            n_in = encoder.n_components
        if stacked:
            autoencoder.set_fitted_layers(encoders, X.shape[1])

    def _budget(self, X):
        """The fine-tuning's :func:`~skae._base.training_budget` on the labelled rows X
        (less the validation rows with early stopping)."""
        n_rows = X.shape[0]
        if self.early_stopping:
            n_rows -= validation_size(n_rows, self.validation_fraction)
        return training_budget(
            self.max_iter, self.solver, n_rows, self.batch_size, self.n_iter_no_change
        )

    def _solver_settings(self, budget, n_train):
        return SolverSettings(
            solver=self.solver,
            max_iter=budget.max_iter,
            tol=self.tol,
            n_iter_no_change=budget.n_iter_no_change,
            relative_tol=budget.relative_tol,
            learning_rate=self.learning_rate_init,
            momentum=self.momentum,
            schedule=self.learning_rate,
            batch_size=minibatch_size(self.batch_size, n_train),
        )

    def _training_data(self, network, X, y, classes, rng):
        """The labelled rows and their one-hot targets, less a stratified validation
        split with early stopping (scored on its accuracy)."""
        target = one_hot(y, classes, X.dtype)
        dropout = Dropout() if self.dropout > 0 or self.input_dropout > 0 else None
        if not self.early_stopping:
            return TrainingData(X, target=target, dropout=dropout)
        train_rows, val_rows = validation_split(X.shape[0], self.validation_fraction, rng, y)
        X_val, y_val = X[val_rows], y[val_rows]

        def validation(theta):
            predicted = classes[np.argmax(network.predict(theta, X_val), axis=1)]
            return float(np.mean(predicted == y_val))

        return TrainingData(
            X[train_rows], target=target[train_rows], dropout=dropout, validation=validation
        )

    # -- prediction --------------------------------------------------------------------
    def _fitted_network(self, dtype):
        specs = _encoders(self.autoencoder_)
        network = self._network(specs, self.n_features_in_, self.classes_.size, dtype)
        params = [encoder.layer_parameters()[0] for encoder in specs]
        params.append((self.coef_, self.intercept_))
        return network, network.pack(params)

    def predict_proba(self, X):
        """Class probabilities from the softmax output.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32], reset=False
        )
        network, theta = self._fitted_network(X.dtype)
        return network.predict(theta, X)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable class of each row.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of :meth:`predict` on X against y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        return super().score(X, y, sample_weight=sample_weight)

    def _gradient_problem(self, X, random_state, y=None):
        """``(network, theta, objective keywords)`` for ``check_gradients``."""
        if y is None:
            raise ValueError("check_gradients needs y for an AutoencoderClassifier.")
        y = np.asarray(y)
        labelled, classes = self._check_targets(y)
        if hasattr(self, "coef_"):
            network, theta = self._fitted_network(np.float64)
        else:
            self._validate_params()
            self._check_autoencoder()
            specs = self._layer_specs(clone(self.autoencoder))
            network = self._network(specs, X.shape[1], classes.size, np.float64)
            theta = network.init_params(new_generator(self.random_state))
        target = one_hot(y[labelled], classes, np.float64)
        dropout = Dropout(random_state) if self.dropout > 0 or self.input_dropout > 0 else None
        if not labelled.all():
            raise ValueError(
                f"check_gradients checks labelled rows only: drop the rows labelled "
                f"{self.unlabeled!r}."
            )
        return network, theta, {"target": target, "dropout": dropout}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
