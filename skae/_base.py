"""BaseAutoencoder: validation, the transformer API, and the link to the training engine.

The three public estimators only change defaults; all behaviour lives here, all
arithmetic and the training loops live in :mod:`skae._core`.
"""

import contextlib
import copy
import hashlib
import os
import sys
import warnings
from collections import namedtuple
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._core import (
    ELEMENTWISE_ACTIVATIONS,
    FULL_BATCH_METHODS,
    LEARNING_RATE_SCHEDULES,
    NOISES,
    OPTIMIZERS,
    RECONSTRUCTION_LOSSES,
    SPARSITY_MAPS,
    Autoencoder,
    Corruption,
    Layer,
    PrintProgress,
    SolverSettings,
    TrainingData,
    TrainingHistory,
    make_sparsity,
    train,
)
from ._persistence import PersistenceMixin, parameter_defaults
from .utils._blocks import map_row_blocks

MINIBATCH_SOLVERS = frozenset(OPTIMIZERS)
FULL_BATCH_SOLVERS = frozenset(FULL_BATCH_METHODS)
SPARSITY_KINDS = ("kl", "top_k", "lifetime")


# what "auto" decides (see BaseAutoencoder.decide_settings and training_budget)
AUTO_SPARSITY_WEIGHT = 3.0  # beta of Ng's notes, for data in [0, 1]
AUTO_ITERATIONS = 1000  # full-batch iterations at most
AUTO_UPDATES = 10_000  # minibatch updates the epochs make (at least 20 epochs)
AUTO_PATIENCE_UPDATES = 100  # the stopping test's window, at least n_iter_no_change epochs
# converged: the loss improved by less than this share of itself over the window (L-BFGS
# gains steadily but little once its features are formed: measured on the bundled sets,
# the classifier's accuracy does not move after the 3% point)
AUTO_RELATIVE_TOL = {"full_batch": 3e-2, "minibatch": 1e-2}

Budget = namedtuple("Budget", ["max_iter", "relative_tol", "n_iter_no_change"])

# the values each decoder activation can produce, to notice data it cannot reconstruct
OUTPUT_RANGES = {
    "sigmoid": (0.0, 1.0),
    "tanh": (-1.0, 1.0),
    "relu": (0.0, np.inf),
    "swish": (-0.2785, np.inf),  # the minimum of z * sigmoid(z)
    "identity": (-np.inf, np.inf),
}


def value_range(X):
    """``(min, max)`` of a dense or sparse X (a sparse X's implicit zeros included)."""
    if sp.issparse(X):
        values = X.data
        low, high = (values.min(), values.max()) if values.size else (0.0, 0.0)
        if values.size < X.shape[0] * X.shape[1]:
            low, high = min(low, 0.0), max(high, 0.0)
        return float(low), float(high)
    return (float(X.min()), float(X.max())) if X.size else (0.0, 0.0)


def values_in_unit_interval(X):
    """Whether every value of X lies in [0, 1]: what "auto" decides the decoder from."""
    low, high = value_range(X)
    return low >= 0.0 and high <= 1.0


def training_budget(max_iter, solver, n_samples, batch_size, n_iter_no_change):
    """The :class:`Budget` of a fit: ``max_iter="auto"`` decides it from the data.

    "auto" counts the budget in updates, so that it means the same on 50 rows as on
    60000: up to :data:`AUTO_ITERATIONS` iterations of a full-batch solver, or the
    epochs that make :data:`AUTO_UPDATES` minibatch updates; training stops once the
    loss has improved by less than :data:`AUTO_RELATIVE_TOL` of itself over the last
    ``n_iter_no_change`` iterations (epochs, and at least :data:`AUTO_PATIENCE_UPDATES`
    updates: one batch an epoch makes a noisy epoch), a test that does not depend on the
    scale of the loss. An integer ``max_iter`` keeps the absolute ``tol`` alone.
    """
    if max_iter != "auto":
        return Budget(max_iter, None, n_iter_no_change)
    if solver not in MINIBATCH_SOLVERS:
        return Budget(AUTO_ITERATIONS, AUTO_RELATIVE_TOL["full_batch"], n_iter_no_change)
    n_batches = -(-n_samples // minibatch_size(batch_size, n_samples))
    epochs = max(20, -(-AUTO_UPDATES // n_batches))
    patience = max(n_iter_no_change, -(-AUTO_PATIENCE_UPDATES // n_batches))
    return Budget(epochs, AUTO_RELATIVE_TOL["minibatch"], patience)


def new_generator(random_state):
    """A NumPy Generator seeded from a scikit-learn ``random_state``."""
    return np.random.default_rng(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def parameter_path(estimator, name):
    """``name`` as the user reaches it: ``ae1__max_iter`` for a stack's step ``ae1``.

    An estimator fitted inside another one (a stack's layer, a classifier's autoencoder)
    holds its path while that fit runs (:func:`nested_fit`), so that its warnings name a
    parameter of the estimator the user holds.
    """
    return getattr(estimator, "_parameter_prefix", "") + name


def estimator_label(estimator):
    """The estimator's class name, and where it sits when it is fitted inside another."""
    prefix = getattr(estimator, "_parameter_prefix", "")
    name = type(estimator).__name__
    return f"{name} ({prefix[:-2]})" if prefix else name


@contextlib.contextmanager
def nested_fit(estimator, prefix, owner):
    """Fit ``estimator`` as the ``prefix`` part of ``owner``: warnings name its parameters
    with that prefix, it trains with the owner's callbacks too, and an interrupt
    propagates as a KeyboardInterrupt for the owner to report."""
    estimator._parameter_prefix = prefix
    estimator._inherited_callbacks = training_callbacks(owner, verbose=False)
    try:
        yield estimator
    finally:
        del estimator._parameter_prefix, estimator._inherited_callbacks


def seed_unseeded(estimators, random_state):
    """Seed, from ``random_state``, each estimator whose own ``random_state`` is None.

    scikit-learn's meta-estimators seed their sub-estimators from their own
    ``random_state``, so that setting it alone makes a fit reproducible. A seed is drawn
    for every position, seeded or not, so that one layer's choice does not move the
    others' seeds. With ``random_state=None`` nothing is changed.
    """
    if random_state is None:
        return
    seeds = check_random_state(random_state).randint(np.iinfo(np.int32).max, size=len(estimators))
    for estimator, seed in zip(estimators, seeds, strict=True):
        if estimator.get_params(deep=False)["random_state"] is None:
            estimator.set_params(random_state=int(seed))


# -- the one training path of every estimator -------------------------------------------
# Constraints of the parameters that every trained estimator has (a stack's own
# fine-tuning has them under ``fine_tune_`` names where they differ).
TRAINING_CONSTRAINTS = {
    "tol": [Interval(Real, 0, None, closed="left")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "callbacks": [list, None],
}
SOLVER_CONSTRAINTS = {
    "solver": [StrOptions(set(FULL_BATCH_METHODS) | set(OPTIMIZERS))],
    "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "learning_rate": [StrOptions(set(LEARNING_RATE_SCHEDULES))],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "momentum": [Interval(Real, 0, 1, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
}


def training_callbacks(estimator, verbose=True):
    """The estimator's own ``callbacks``, those of the estimator it is fitted inside
    (:func:`nested_fit`), and (``verbose``) the verbose line."""
    callbacks = list(estimator.get_params(deep=False).get("callbacks") or [])
    callbacks += getattr(estimator, "_inherited_callbacks", [])
    if verbose and estimator.verbose:
        callbacks.append(PrintProgress())
    return callbacks


def _hash_array(digest, array):
    if sp.issparse(array):
        for part in (array.data, array.indices, array.indptr):
            _hash_array(digest, part)
        return
    array = np.ascontiguousarray(array)
    digest.update(f"{array.shape}{array.dtype}".encode())
    digest.update(memoryview(array).cast("B"))


def training_fingerprint(estimator, data, phase):
    """A digest of what decides a training run: the estimator's class and parameters,
    the phase, and the data. A checkpoint from another configuration or data differs."""
    params = estimator.get_params(deep=False)
    for name in ("callbacks", "verbose"):  # they do not change the result
        params.pop(name, None)
    if not isinstance(params.get("random_state"), Integral | None):
        params["random_state"] = type(params["random_state"]).__name__
    digest = hashlib.sha256(
        f"{type(estimator).__name__} {phase} {sorted(params.items())}".encode()
    )
    _hash_array(digest, data.x)
    if data.target is not None:
        _hash_array(digest, data.target)
    return digest.hexdigest()


def validation_size(n_samples, fraction):
    """Rows that ``early_stopping`` holds out of ``n_samples``."""
    return int(round(fraction * n_samples))


def validation_split(n_samples, fraction, rng, labels=None):
    """``(train rows, validation rows)`` of ``early_stopping``, drawn from ``rng``.

    Stratified by ``labels`` where there are some (a classifier), so that every class
    is validated on; a random :func:`validation_size` share of the rows otherwise.
    """
    if labels is None:
        order = rng.permutation(n_samples)
        n_validation = validation_size(n_samples, fraction)
        return order[n_validation:], order[:n_validation]
    return train_test_split(
        np.arange(n_samples),
        test_size=fraction,
        stratify=labels,
        random_state=int(rng.integers(np.iinfo(np.int32).max)),
    )


def fit_network(
    estimator, network, theta, data, settings, *, history, rng, incremental, phase, snapshot
):
    """Train through the engine (:func:`skae._core.train`) and warn of a bad ending.

    The one path from every estimator to the engine: the estimator validates and
    builds the network, the data and the settings; this hands them over with its
    callbacks and reports how training ended.

    Parameters
    ----------
    estimator : estimator
    network, theta, data, settings, history, rng, incremental
        As :func:`skae._core.train` takes them.
    phase : str
        Which training of the estimator this is ("fit", "fine_tune"), prefixed with
        where it sits in its owner (``ae1__fit``): callbacks see it as ``info["phase"]``,
        a checkpoint keeps one file per phase.
    snapshot : callable
        ``snapshot()`` returns a fitted copy of the estimator as of the current
        parameters (``info["model"]``, what a score on validation data evaluates).

    Returns
    -------
    status : str
    """
    phase = parameter_path(estimator, phase)
    context = {
        "estimator": estimator_label(estimator),
        "phase": phase,
        # the callbacks given to this estimator, not inherited from one it is fitted in
        "own_callbacks": list(estimator.get_params(deep=False).get("callbacks") or []),
        "model": snapshot,
        "fingerprint": lambda: training_fingerprint(estimator, data, phase),
    }
    status = train(
        network,
        theta,
        data,
        settings,
        history=history,
        rng=rng,
        incremental=incremental,
        callbacks=training_callbacks(estimator),
        context=context,
    )
    if status == "max_iter" and incremental:
        status = "converged"  # one epoch is what partial_fit asks for
    warn_training_status(estimator, status, history, settings.solver, settings.max_iter)
    if status == "interrupted" and getattr(estimator, "_parameter_prefix", ""):
        raise KeyboardInterrupt  # a nested fit: its owner decides what is kept
    return status


def expose_history(estimator, history, rng=None):
    """What every trained estimator shows of its last training, and keeps to continue it
    (a warm start, ``partial_fit``): the history and the random generator."""
    estimator._history = history
    if rng is not None:
        estimator._rng = rng
    estimator.n_iter_ = history.n_iter
    estimator.loss_curve_ = history.loss_curve
    estimator.history_ = history.records
    if "early_stopping" in estimator.get_params(deep=False):
        estimator.validation_scores_ = history.validation_scores
        estimator.best_validation_score_ = history.best_validation_score


def end_fit(estimator, status):
    """After a whole fit (not one nested in another) that ended cleanly: callbacks with
    an ``on_fit_end`` (a checkpoint removing its files) hear of it."""
    if getattr(estimator, "_parameter_prefix", "") or status == "interrupted":
        return
    for callback in training_callbacks(estimator):
        if callable(getattr(callback, "on_fit_end", None)):
            callback.on_fit_end()


_PACKAGE_DIRS = None


def user_stacklevel():
    """The ``stacklevel`` that makes a warning point at the first frame outside skae,
    scikit-learn and joblib (the user's line), for the function that calls
    ``warnings.warn``. joblib: scikit-learn's ``Pipeline`` fits its steps through
    ``joblib.Memory``'s wrapper."""
    global _PACKAGE_DIRS
    if _PACKAGE_DIRS is None:
        import joblib
        import sklearn

        packages = (sys.modules["skae"], sklearn, joblib)
        _PACKAGE_DIRS = tuple(os.path.dirname(module.__file__) + os.sep for module in packages)
    frame, level = sys._getframe(2), 2  # the warning function's caller
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIRS):
        frame, level = frame.f_back, level + 1
    return level


def warn_training_status(estimator, status, history, solver, max_iter):
    """The warning each way training can end badly deserves (none when it converged).

    The warnings point at the user's line (:func:`user_stacklevel`). Parameters are
    named as the user reaches them (:func:`parameter_path`); an interrupt of a nested
    fit is reported by its owner.
    """
    name = estimator_label(estimator)
    fine_tune = hasattr(estimator, "fine_tune_max_iter")  # a stack's own training
    max_iter_path = parameter_path(estimator, "fine_tune_max_iter" if fine_tune else "max_iter")
    solver_path = parameter_path(estimator, "fine_tune_solver" if fine_tune else "solver")
    minibatch = solver in MINIBATCH_SOLVERS
    if status == "max_iter":
        unit = "epochs " if minibatch else ""
        auto = (
            ""
            if fine_tune or getattr(estimator, "max_iter", None) == "auto"
            else ", or set it to 'auto' for a budget that fits the data"
        )
        warnings.warn(
            f"{name}: {solver_path}={solver!r} stopped at {max_iter_path}={max_iter} "
            f"{unit}before convergence; increase {max_iter_path}{auto}.",
            ConvergenceWarning,
            stacklevel=user_stacklevel(),
        )
    elif status == "diverged":
        step = "fine_tune_learning_rate" if fine_tune else "learning_rate_init"
        warnings.warn(
            f"The training loss became non-finite at iteration {history.n_iter + 1} of "
            f"{name}; training stopped and the last finite parameters were kept. Lower "
            f"{parameter_path(estimator, step)} (or scale X) and fit again.",
            RuntimeWarning,
            stacklevel=user_stacklevel(),
        )
    elif status == "interrupted" and not getattr(estimator, "_parameter_prefix", ""):
        kept = (
            "the best one on the validation rows"
            if getattr(estimator, "early_stopping", False)
            else "the last completed one"
        )
        ways = []
        if "warm_start" in estimator.get_params(deep=False):
            ways.append("call fit with warm_start=True")
        if minibatch and hasattr(estimator, "partial_fit"):
            ways.append("call partial_fit")
        resume = (
            f"To continue, {' or '.join(ways)}." if ways else "Fit again to train from the start."
        )
        warnings.warn(
            f"{name}: training interrupted by the user after {history.n_iter} "
            f"iterations; the parameters of {kept} were kept. {resume}",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def warn_interrupted_before_fitting(owner, phase):
    """An owner interrupted in a phase that cannot give a usable model: nothing is kept."""
    warnings.warn(
        f"{type(owner).__name__}: training interrupted by the user during {phase}; the "
        "estimator is left as it was before this fit (nothing usable to keep). Fit again "
        "to train it.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


# rows of X that fit encodes at the end to notice codes that carry no information
CODE_CHECK_ROWS = 1000


def _rows_all_equal(rows):
    """Whether every row of a dense or sparse 2-D array is the same (each column constant)."""
    spread = rows.max(axis=0) - rows.min(axis=0)
    return not np.any(spread.toarray() if sp.issparse(spread) else spread)


def warn_if_codes_constant(estimator, network, theta, X, step_parameter="learning_rate_init"):
    """Warn when distinct samples among the first rows of X all get the same code.


    Training can end finite and still useless: with too large a step every relu unit
    dies (the loss stays flat, ``transform`` returns zeros), and inputs far outside
    [0, 1] can saturate every sigmoid to exactly 0 or 1. ``fit`` calls this at its end
    (``partial_fit`` does not: on a stream of small batches the check would cost a sizeable
    share of each call). Encoding at most :data:`CODE_CHECK_ROWS` rows costs a fraction
    of one epoch and draws no random numbers, so fitted models stay bit-identical.
    Identical input rows rightly get identical codes: then nothing is said.
    """
    n_rows = min(X.shape[0], CODE_CHECK_ROWS)
    if n_rows < 2:
        return
    rows = X[:n_rows]
    if _rows_all_equal(rows):
        return
    codes = network.encode(theta, rows)
    if not _rows_all_equal(codes):
        return
    warnings.warn(
        f"{type(estimator).__name__}: all {codes.shape[1]} hidden units give the same "
        f"value for each of the first {n_rows} training samples, so the codes carry no "
        "information: the units are all dead (relu) or saturated (sigmoid, tanh), most "
        "often from too large a step or from inputs far outside [0, 1]. Lower "
        f"{step_parameter} or scale X, and fit again.",
        RuntimeWarning,
        stacklevel=user_stacklevel(),
    )


def warn_if_decoder_cannot_reconstruct(estimator, output_activation, X):
    """Warn when X holds values the decoder's activation can never produce.

    A sigmoid decoder on standardised data, say: the loss cannot reach the negative
    values, training spends the units on what it can fit, and nothing else says so.
    """
    low, high = OUTPUT_RANGES[output_activation]
    x_low, x_high = value_range(X)
    if low <= x_low and x_high <= high:
        return
    name = parameter_path(estimator, "output_activation")
    warnings.warn(
        f"{estimator_label(estimator)}: {name}={output_activation!r} produces values in "
        f"[{low:g}, {high:g}], but X has values in [{x_low:.4g}, {x_high:.4g}], which the "
        f"reconstruction can never reach. Set {name}='auto' (a linear decoder for data "
        "outside [0, 1]) or 'identity', or scale X into the decoder's range.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


# a feature spread beyond which the random start is fitted to the data (fit_init_to_data)
WIDE_SPREAD = 10.0

# tied weights serve features whose spreads differ by less than this factor (the raw
# digits, 277, tie well: +1.4 points over their pixels; raw wine, 2530, loses 2.2)
TIED_SPREAD_RATIO = 1000.0


def feature_moments(X):
    """Per-feature mean and standard deviation of a dense or sparse X.

    Values so large that their squares overflow give an infinite spread, which
    :func:`informative_spread` sets aside; training then reports the divergence.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if sp.issparse(X):
            mean = np.asarray(X.mean(axis=0)).ravel()
            square = np.asarray(X.multiply(X).mean(axis=0)).ravel()
            return mean, np.sqrt(np.maximum(square - mean**2, 0))
        return X.mean(axis=0), X.std(axis=0)


def warn_if_tied_across_scales(estimator, X):
    """Warn when tied weights must serve features of very different spreads.

    With W* = W^T one weight both reads a feature into the code and writes it back: a
    feature a thousand times wider than another needs a decoder weight a thousand
    times larger than its encoder weight, which tying forbids, so the fit trades one
    for the other (breast cancer's raw features: 1.9 points below the same classifier
    on the features). Standardised data, or data in [0, 1], are never flagged.
    """
    if values_in_unit_interval(X):
        return  # pixels: a rarely lit border pixel is narrow, not of another scale
    spread = informative_spread(feature_moments(X)[1])
    spread = spread[~np.isnan(spread)]
    if spread.size < 2 or spread.max() <= TIED_SPREAD_RATIO * spread.min():
        return
    warnings.warn(
        f"{estimator_label(estimator)}: tied weights ({parameter_path(estimator, 'tied')}"
        f"=True) share one W between the encoder and the decoder, which cannot serve "
        f"features whose spreads differ by a factor of {spread.max() / spread.min():.3g}. "
        "Standardise X first (StandardScaler), or set "
        f"{parameter_path(estimator, 'tied')}=False.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def fit_init_to_data(network, theta, X):
    """Rescale a random start to the spread of X's features (data outside [0, 1] only).

    Ng's uniform start assumes inputs of about unit size. Raw features of larger
    scales (say, areas in the thousands beside ratios below one) saturate every sigmoid
    unit from the first step, and the codes learn little. When some feature spreads
    wider than :data:`WIDE_SPREAD`, dividing the encoder's weights by each feature's
    standard deviation and centring the biases on the mean gives every unit the start
    it has on standardised data; a linear decoder starts at the mean of X. Data whose
    features are all unit-sized or narrower (standardised data, scaled scores) keep
    Ng's start, as do data in [0, 1], which never come here.
    """
    mean, spread = feature_moments(X)
    spread = informative_spread(spread)
    if not np.nanmax(spread, initial=0.0) > WIDE_SPREAD:
        return  # standardised or otherwise unit-sized features: Ng's start as it is
    spread = np.where(np.isnan(spread), 1.0, spread).astype(theta.dtype)
    mean = np.where(np.isfinite(mean), mean, 0.0)
    mean = mean.astype(theta.dtype)
    params = network.unpack(theta)
    encoder, decoder = params[0], params[-1]
    encoder.weights[...] /= spread
    encoder.bias[...] = -(encoder.weights @ mean)
    if network.layers[-1].tied_to is None:
        decoder.weights[...] *= spread[:, None]
    if network.layers[-1].activation == "identity":
        decoder.bias[...] = mean  # a bounded decoder keeps its zero start


def informative_spread(spread):
    """Feature spreads, with the (nearly) constant features as NaN.

    A raw feature that is constant up to rounding (a spread a thousand times below the
    median of the others) says nothing about the scale of the data: dividing by its
    spread would multiply a weight by 1e9. An infinite (overflowed) spread is set aside
    too.
    """
    usable = np.isfinite(spread) & (spread > 0)
    floor = 1e-3 * np.median(spread[usable]) if usable.any() else np.inf
    return np.where(usable & (spread > floor), spread, np.nan)


def minibatch_size(batch_size, n_samples):
    """The rows per minibatch: ``"auto"`` is ``min(200, n_samples)``, as in scikit-learn."""
    return min(200 if batch_size == "auto" else batch_size, n_samples)


class ReconstructionScoreMixin:
    """``score``: the mean of ``score_samples``, minus the reconstruction loss."""

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


def restore_on_error(fit):
    """Run ``fit(self, ...)``; on any error put the estimator's attributes back as they were.

    Training works on copies (parameters, history, random generator) and assigns them
    only at the end, so a shallow copy of ``__dict__`` is enough to undo a failed call,
    including the ``n_features_in_`` that validation sets first.
    """

    def guarded(self, *args, **kwargs):
        saved = dict(self.__dict__)
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    guarded.__name__ = fit.__name__
    guarded.__doc__ = fit.__doc__
    return guarded


class BaseAutoencoder(
    PersistenceMixin,
    ReconstructionScoreMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Base class of the skae autoencoders. Use one of the public subclasses."""

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ELEMENTWISE_ACTIVATIONS))],
        "output_activation": [StrOptions(set(ELEMENTWISE_ACTIVATIONS) | {"auto"})],
        "loss": [StrOptions(set(RECONSTRUCTION_LOSSES))],
        "tied": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "sparsity": [StrOptions(set(SPARSITY_KINDS))],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "initial_sparsity_target": [Interval(Real, 0, 1, closed="right"), None],
        "sparsity_weight": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "contraction_weight": [Interval(Real, 0, None, closed="left")],
        "transform_k_factor": [Interval(Real, 1, None, closed="left"), None],
        "noise": [StrOptions(set(NOISES))],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        **SOLVER_CONSTRAINTS,
        **TRAINING_CONSTRAINTS,
        "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
        "warm_start": ["boolean"],
    }

    def __init__(self, **params):
        # Each public subclass lists every parameter, with its own defaults, in its
        # signature (scikit-learn reads the parameters from there); the base stores them.
        for name, value in params.items():
            setattr(self, name, value)

    # -- the data-dependent defaults ("auto") -------------------------------------------
    def decide_settings(self, X=None, in_unit_interval=None, continuing=False):
        """The parameters that may be "auto", decided from the training data.

        ``{"output_activation", "sparsity_weight"}``: an explicit setting is kept; "auto"
        follows the range of X (``in_unit_interval`` stands for X where the input is not
        at hand, as for a stack's upper layers before any data has passed):

        - data in [0, 1] (pixels, proportions): a sigmoid decoder, whose outputs span
          exactly that range, and the KL sparsity weight beta = 3 of Ng's notes;
        - anything else (standardised or raw features): a linear ("identity") decoder,
          which can produce any value, and no KL penalty: it pulls the mean activation
          of every unit to rho, which squeezes the few informative directions of
          tabular data into codes a linear classifier can hardly read (measured by
          ``benchmarks/auto_defaults.py``). Ask for it with an explicit
          ``sparsity_weight``.

        A fitted estimator that continues training (``continuing``: ``warm_start``,
        ``partial_fit``) keeps what its first fit decided.
        """
        if continuing:
            decided = self.fitted_settings()
        else:
            if in_unit_interval is None:
                in_unit_interval = values_in_unit_interval(X)
            kl_fits = self.sparsity == "kl" and self.activation in SPARSITY_MAPS
            decided = {
                # cross entropy is defined for a sigmoid decoder only (checked on X)
                "output_activation": (
                    "sigmoid" if in_unit_interval or self.loss == "cross_entropy" else "identity"
                ),
                "sparsity_weight": AUTO_SPARSITY_WEIGHT if in_unit_interval and kl_fits else 0.0,
            }
        return {
            name: decided[name] if getattr(self, name) == "auto" else getattr(self, name)
            for name in decided
        }

    def _store_data_settings(self, settings):
        self.output_activation_ = settings["output_activation"]
        self.sparsity_weight_ = settings["sparsity_weight"]

    def fitted_settings(self):
        # a model saved before "auto" existed holds the explicit parameters only
        return {
            "output_activation": getattr(self, "output_activation_", self.output_activation),
            "sparsity_weight": getattr(self, "sparsity_weight_", self.sparsity_weight),
        }

    # -- validation ----------------------------------------------------------------
    def _check_params_against_data(self, X, settings):
        """Checks that need X or several parameters at once; raise before any work.

        ``settings`` are the :meth:`decide_settings` decided for X.
        """
        output_activation = settings["output_activation"]
        sparsity_weight = settings["sparsity_weight"]
        if self.loss == "cross_entropy":
            if output_activation != "sigmoid":
                raise ValueError(
                    "loss='cross_entropy' needs output_activation='sigmoid', got "
                    f"output_activation={self.output_activation!r}."
                )
            if not values_in_unit_interval(X):
                low, high = value_range(X)
                raise ValueError(
                    "loss='cross_entropy' needs X in [0, 1]; X has values in "
                    f"[{low:.4g}, {high:.4g}]. Scale X (e.g. "
                    "MinMaxScaler) or use loss='squared_error'."
                )
        kl_on = self.sparsity == "kl" and sparsity_weight > 0
        if kl_on and self.activation not in SPARSITY_MAPS:
            raise ValueError(
                f"The KL sparsity penalty (sparsity_weight={sparsity_weight}) needs "
                f"an activation with a (0, 1) reading, one of {sorted(SPARSITY_MAPS)}; "
                f"got activation={self.activation!r}. Set sparsity_weight=0, or use "
                "sparsity='top_k' or 'lifetime', which work with any activation."
            )
        if self.contraction_weight > 0 and self.sparsity != "kl":
            raise ValueError(
                f"contraction_weight={self.contraction_weight} is not supported with "
                f"sparsity={self.sparsity!r} (the contractive penalty of a masked code is "
                "not defined here); use sparsity='kl' or contraction_weight=0."
            )
        if self.transform_k_factor is not None and self.sparsity != "top_k":
            raise ValueError(
                f"transform_k_factor={self.transform_k_factor} reads the code with the top "
                f"alpha k units of sparsity='top_k'; got sparsity={self.sparsity!r}. Set "
                "transform_k_factor=None."
            )
        if self.initial_sparsity_target is not None:
            if self.sparsity == "kl":
                raise ValueError(
                    f"initial_sparsity_target={self.initial_sparsity_target} anneals the "
                    "kept share of sparsity='top_k' or 'lifetime'; got sparsity='kl'. Set "
                    "initial_sparsity_target=None."
                )
            if self.initial_sparsity_target < self.sparsity_target:
                raise ValueError(
                    f"initial_sparsity_target={self.initial_sparsity_target} is below "
                    f"sparsity_target={self.sparsity_target}: the annealing starts from "
                    "a less sparse code and ends at sparsity_target. Set it to at least "
                    "sparsity_target, or None."
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

    # -- the network and its parameters --------------------------------------------
    def _network(self, n_features, dtype, settings=None):
        """The autoencoder network; ``settings`` default to the fitted ones."""
        settings = self.fitted_settings() if settings is None else settings
        return Autoencoder(
            n_features,
            self.n_components,
            activation=self.activation,
            output_activation=settings["output_activation"],
            loss=self.loss,
            tied=self.tied,
            alpha=self.alpha,
            sparsity=self.sparsity,
            sparsity_target=self.sparsity_target,
            sparsity_weight=settings["sparsity_weight"],
            contraction_weight=self.contraction_weight,
            transform_k=self._transform_k(),
            dtype=dtype,
        )

    def _transform_k(self):
        """Units kept per row by transform (top-k reading of the code), or None for all."""
        if self.transform_k_factor is None:
            return None
        k = make_sparsity("top_k", self.sparsity_target, 0.0, self.n_components, self.activation).k
        return min(self.n_components, max(1, int(round(self.transform_k_factor * k))))

    def _sparsity_start(self):
        """``{0: level}``, where the encoder's annealed sparsity starts, or None.

        The level is k for "top_k", the kept share for "lifetime" (see ``make_sparsity``).
        """
        if self.initial_sparsity_target is None:
            return None
        start = make_sparsity(
            self.sparsity, self.initial_sparsity_target, 0.0, self.n_components, self.activation
        )
        return {0: start.level}

    # -- the layer interface of skae's composite estimators --------------------------
    # StackedAutoencoder, AutoencoderClassifier and the ONNX export build their networks
    # from these methods (decide_settings, fitted_settings, as_layers,
    # layer_parameters, set_layer_parameters, input_corruption), never from another
    # estimator's private attributes.
    def as_layers(self, n_features, tied_to=None, settings=None):
        """This autoencoder's (encoder, decoder) as layers of a deeper network.

        ``tied_to`` is the encoder's index in that network, used when ``tied``;
        ``settings`` (:meth:`decide_settings`) default to the fitted ones.
        """
        settings = self.fitted_settings() if settings is None else settings
        encoder = Layer(
            n_features,
            self.n_components,
            self.activation,
            alpha=self.alpha,
            sparsity=make_sparsity(
                self.sparsity,
                self.sparsity_target,
                settings["sparsity_weight"],
                self.n_components,
                self.activation,
            ),
            contraction_weight=self.contraction_weight,
        )
        decoder = Layer(
            self.n_components,
            n_features,
            settings["output_activation"],
            tied_to=tied_to if self.tied else None,
            alpha=self.alpha,
        )
        return encoder, decoder

    def layer_parameters(self):
        """Fitted ``(weights, bias)`` of the encoder and the decoder, as layers."""
        return (
            (self.components_, self.intercept_hidden_),
            (self.decoder_components_.T, self.intercept_visible_),
        )

    def set_layer_parameters(self, encoder, decoder, *, n_features_in=None, settings=None):
        """Store parameters given as layer ``(weights, bias)`` pairs (copies).

        With ``n_features_in`` and ``settings`` (:meth:`decide_settings`), also what makes
        the autoencoder fitted as a layer of that many inputs without its own ``fit``
        (a stack's ``partial_fit``, a classifier that was not pretrained).
        """
        if n_features_in is not None:
            self.n_features_in_ = n_features_in
            self._store_data_settings(settings)
        self.components_ = np.array(encoder[0], order="C")
        self.intercept_hidden_ = np.array(encoder[1])
        # tied: the decoder is the encoder, one array under both names
        self.decoder_components_ = (
            self.components_ if self.tied else np.array(decoder[0].T, order="C")
        )
        self.intercept_visible_ = np.array(decoder[1])

    def _fitted_params(self, network):
        """The fitted parameters packed into a flat vector of the network's dtype."""
        return network.pack(self.layer_parameters())

    def _store_params(self, network, theta):
        self.set_layer_parameters(*network.unpack(theta))

    def input_corruption(self, seed):
        if self.noise_level == 0:
            return None
        return Corruption(self.noise, self.noise_level, seed)

    def _gradient_problem(self, X, random_state):
        """``(network, theta, objective keywords)`` at which ``check_gradients`` checks."""
        if hasattr(self, "components_"):
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but the fitted {type(self).__name__} "
                    f"expects {self.n_features_in_}."
                )
            settings = self.fitted_settings()
            network = self._network(self.n_features_in_, np.float64)
            theta = self._fitted_params(network)
        else:
            self._validate_params()
            settings = self.decide_settings(X)
            network = self._network(X.shape[1], np.float64, settings)
            theta = network.init_params(new_generator(self.random_state))
        self._check_params_against_data(X, settings)
        return network, theta, {"corrupt": self.input_corruption(random_state)}

    # -- fitting -----------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on X.

        A KeyboardInterrupt after the first completed epoch (iteration) keeps what was
        trained, warns, and returns the fitted estimator; any other error leaves the
        estimator as it was.

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

    @restore_on_error
    def _fit(self, X, incremental):
        fitted = hasattr(self, "components_")
        first_call = not (fitted and (incremental or self.warm_start))
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=[np.float64, np.float32],
            reset=first_call,
        )
        settings = self.decide_settings(X, continuing=not first_call)
        self._check_params_against_data(X, settings)
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
        warn_if_decoder_cannot_reconstruct(self, settings["output_activation"], X)
        if self.tied and first_call:
            warn_if_tied_across_scales(self, X)

        # everything checked: from here on, work on copies and assign at the end
        network = self._network(X.shape[1], X.dtype, settings)
        if first_call:
            rng = new_generator(self.random_state)
            theta = network.init_params(rng)
            if not values_in_unit_interval(X):
                fit_init_to_data(network, theta, X)
            history = TrainingHistory()
        else:
            rng = copy.deepcopy(self._rng)
            theta = self._fitted_params(network)
            history = copy.deepcopy(self._history)
        if first_call or not incremental:
            # every fit starts its own stopping bookkeeping (and validation split)
            history.reset_stopping(self.early_stopping)
        budget = training_budget(
            self.max_iter, self.solver, X.shape[0], self.batch_size, self.n_iter_no_change
        )
        data, solver_settings = self._training_data(X, network, rng, incremental, budget)
        status = fit_network(
            self,
            network,
            theta,
            data,
            solver_settings,
            history=history,
            rng=rng,
            incremental=incremental,
            phase="fit",
            snapshot=lambda: self._snapshot(network, theta, settings),
        )
        if status in ("converged", "max_iter") and not incremental:
            warn_if_codes_constant(self, network, theta, X)
        self._expose(network, theta, settings)
        self.max_iter_ = 1 if incremental else budget.max_iter
        self._commit_history(history, rng, status)
        end_fit(self, status)
        return self

    def _expose(self, network, theta, settings):
        """Make the trained parameters and the decided settings the fitted model's."""
        self._store_params(network, theta)
        self._store_data_settings(settings)

    def _snapshot(self, network, theta, settings):
        """A fitted copy of this estimator with the parameters ``theta`` (for callbacks)."""
        model = copy.copy(self)
        model._expose(network, theta.copy(), settings)
        return model

    def _commit_history(self, history, rng, status):
        expose_history(self, history, rng)
        self.best_loss_ = history.best_loss

    def _training_data(self, X, network, rng, incremental, budget):
        """The engine's :class:`~skae._core.TrainingData` and
        :class:`~skae._core.SolverSettings` of a fit on X (less its validation rows)."""
        validation = None
        if self.early_stopping and not incremental and self.solver in MINIBATCH_SOLVERS:
            train_rows, val_rows = validation_split(X.shape[0], self.validation_fraction, rng)
            X_val, X = X[val_rows], X[train_rows]

            def validation(theta):
                return -network.sample_losses(theta, X_val).mean()

        data = TrainingData(
            X,
            corruption=self.input_corruption(0),
            chunk_size=self.chunk_size,
            validation=validation,
        )
        settings = SolverSettings(
            solver=self.solver,
            max_iter=budget.max_iter,
            tol=self.tol,
            n_iter_no_change=budget.n_iter_no_change,
            relative_tol=budget.relative_tol,
            learning_rate=self.learning_rate_init,
            momentum=self.momentum,
            schedule=self.learning_rate,
            batch_size=minibatch_size(self.batch_size, X.shape[0]),
            sparsity_start=self._sparsity_start(),
        )
        return data, settings

    def _n_validation(self, n_samples):
        return validation_size(n_samples, self.validation_fraction)

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
    output_activation : {{"auto", "sigmoid", "tanh", "relu", "swish", "identity"}}, \
default={output_activation!r}
        Activation g of the decoder. "auto" decides at fit from the range of X: "sigmoid"
        for data in [0, 1] (pixels), "identity" (a linear decoder) for anything else,
        such as standardised data; the choice is ``output_activation_``. An explicit
        decoder that cannot produce the values of X (a sigmoid on standardised data)
        gets a warning.
    loss : {{"squared_error", "cross_entropy"}}, default={loss!r}
        Reconstruction loss: 1/2 ||x^ - x||^2 (Ng's notes) or the Bernoulli cross entropy,
        which needs X in [0, 1] and a sigmoid decoder.
    tied : bool, default={tied}
        Tie the decoder to the encoder (W* = W^T): ``decoder_components_`` is
        ``components_``.
    alpha : float, default={alpha}
        lambda, the L2 weight decay ``alpha / 2 * sum(W ** 2)`` on the weights, never on
        the biases.
    sparsity : {{"kl", "top_k", "lifetime"}}, default={sparsity!r}
        How the code is made sparse. "kl": the KL penalty
        ``beta * sum_j KL(rho || rho^_j)`` on each unit's mean activation (Ng's
        sparse-autoencoder notes).
        "top_k": k-sparse codes, each sample keeps its k = round(rho * n_components)
        largest activations and the others are zeroed in training (Makhzani & Frey,
        2013). "lifetime": winner-take-all, each unit keeps its largest activations, a
        share rho of the rows seen at once (the minibatch; the chunk for full-batch
        solvers), the others are zeroed in training (Makhzani & Frey, 2015). With
        "top_k" and "lifetime" the gradient flows through the kept units only, and
        ``transform`` returns all activations (no selection).
    sparsity_target : float in (0, 1), default={sparsity_target}
        rho, the wanted fraction of active units: the target mean activation of each
        unit for "kl", the kept share of units per sample for "top_k", the kept share
        of rows per unit for "lifetime".
    initial_sparsity_target : float in (0, 1] or None, default={initial_sparsity_target}
        Anneals the sparsity of "top_k" and "lifetime" as the k-sparse paper does
        (Makhzani & Frey, 2013): training starts at this rho, k =
        round(initial_sparsity_target * n_components) for "top_k", and falls linearly,
        epoch by epoch, to ``sparsity_target`` at the middle of the ``max_iter`` epochs,
        then stays there (a less sparse start trains every unit, so fewer units die).
        At least ``sparsity_target``; None (or equal to it) does not anneal. Each
        ``fit`` (``warm_start`` too) anneals afresh; ``partial_fit`` has no horizon and
        trains at ``sparsity_target``; early stopping may end the fit before the
        annealing does. Full-batch solvers ignore it; "kl" refuses it.
    sparsity_weight : float or "auto", default={sparsity_weight!r}
        beta, the weight of the KL penalty (``sparsity="kl"`` only); 0 turns it off. It
        needs activation "sigmoid" or "tanh" (read as (a + 1) / 2). "auto" decides at
        fit: beta = 3 (Ng's notes) for data in [0, 1], 0 for anything else (on
        standardised tabular data the penalty squeezes the few informative directions
        into codes a linear classifier reads poorly); the choice is
        ``sparsity_weight_``. rho^ is the mean over the training set for "lbfgs" and
        "cg", over the minibatch for "adam" and "sgd".
    contraction_weight : float, default={contraction_weight}
        Weight of the contractive penalty (Rifai et al., 2011), the squared Frobenius
        norm of the encoder's Jacobian averaged over the samples,
        ``1/m sum_i sum_j f'(z_ij)^2 ||W_j||^2``; 0 turns it off.
    transform_k_factor : float >= 1 or None, default={transform_k_factor}
        With ``sparsity="top_k"``, ``transform`` keeps the ``round(alpha * k)`` largest
        activations of each sample, alpha being this factor (the k-sparse paper reads
        its codes with alpha = 3); None returns all activations.
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
    learning_rate : {{"constant", "cosine"}}, default={learning_rate!r}
        Step-size schedule of "adam" and "sgd": "constant" keeps ``learning_rate_init``;
        "cosine" anneals it to zero along half a cosine over the ``max_iter`` epochs,
        batch by batch, so that a fixed budget ends on small steps. Each ``fit``
        (``warm_start`` too) anneals afresh from ``learning_rate_init``; ``partial_fit``
        has no horizon and always steps at ``learning_rate_init``; early stopping may
        end the fit before the annealing does. Full-batch solvers ignore it.
    learning_rate_init : float, default={learning_rate_init}
        Step size of "adam" and "sgd".
    momentum : float, default={momentum}
        Nesterov momentum of "sgd".
    max_iter : int or "auto", default={max_iter!r}
        Iterations for "lbfgs" and "cg", epochs for "adam" and "sgd". "auto" counts the
        budget in updates, so that it means the same on 50 rows as on 60000: up to 1000
        iterations of "lbfgs"/"cg", or the epochs that make 10000 minibatch updates (at
        least 20); training then also stops, quietly, once the loss has
        improved by less than 3% ("lbfgs", "cg") or 1% ("adam", "sgd") of itself over
        the last ``n_iter_no_change`` iterations (epochs, and at least 100 updates).
        The budget used is ``max_iter_``.
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
    callbacks : list of callbacks or None, default={callbacks}
        Objects called during training (see :mod:`skae.callbacks`: a progress bar,
        scores on validation data, checkpoints that resume a killed fit).
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
    history_ : list of dict
        Every figure of every epoch (iteration): ``epoch``, ``loss``, ``elapsed``
        (seconds since the fit began) and, where there are some, ``validation_score``,
        ``learning_rate`` and the scores that callbacks add.
    best_loss_ : float
        Lowest training loss of a minibatch solver (inf for full-batch solvers).
    validation_scores_ : list of float or None
        Validation score (negative reconstruction loss) per epoch with early stopping.
    best_validation_score_ : float or None
        Best of ``validation_scores_``.
    output_activation_ : str
        The decoder's activation, as ``output_activation`` set or "auto" decided it.
    sparsity_weight_ : float
        beta, as ``sparsity_weight`` set or "auto" decided it.
    max_iter_ : int
        The iteration (epoch) budget of the last fit, as ``max_iter`` set or "auto"
        decided it.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
"""


def fill_docstring(cls):
    """Complete a public class's docstring with the shared parameter docs and its defaults."""
    defaults = parameter_defaults(cls)
    cls.__doc__ = cls.__doc__.replace(
        "    {parameters}\n", PARAMETERS_DOC.format(**defaults) + ATTRIBUTES_DOC
    )
    return cls
