"""Property-based tests (hypothesis): inputs tried by the thousand.

Random shapes, dtypes, data scales, dense or sparse X, and parameter combinations over
every estimator and solver. ``fit`` either succeeds, with finite ``components_``, a
finite ``loss_curve_`` and a ``transform`` of the right shape, dtype and finiteness, or
raises one of the documented errors (``DOCUMENTED_ERRORS``).

Profiles (registered here, chosen with ``SKAE_HYPOTHESIS_PROFILE``):

* ``ci`` (the default): 25 examples per test, no deadline; well under a minute.
* ``long``: 2500 examples per test, for a campaign run by hand::

      SKAE_HYPOTHESIS_PROFILE=long python -m pytest tests/test_properties.py \\
          --hypothesis-show-statistics -p no:cacheprovider
"""

import os
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from skae import (
    AutoencoderClassifier,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    TiedAutoencoder,
)

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("ci", max_examples=25, **_COMMON)
settings.register_profile("long", max_examples=2500, **_COMMON)
PROFILE = settings.get_profile(os.environ.get("SKAE_HYPOTHESIS_PROFILE", "ci"))

ESTIMATORS = [SparseAutoencoder, DenoisingAutoencoder, TiedAutoencoder]
ACTIVATIONS = ["sigmoid", "tanh", "relu", "swish", "identity"]

# The errors fit may raise on a valid-looking draw: each documented in the user guide or
# the parameter docs, each naming the parameter or the problem.
DOCUMENTED_ERRORS = [
    r"loss='cross_entropy' needs output_activation='sigmoid'",
    r"loss='cross_entropy' needs X in \[0, 1\]",
    r"The KL sparsity penalty .* needs an activation",
    r"noise_level is a probability",
    r"early_stopping=True needs a minibatch solver",
    r"dropout and input_dropout need a minibatch solver",
    r"early_stopping=True with validation_fraction=.* leaves no rows",
    r"contraction_weight=.* is not supported with sparsity=",
    r"transform_k_factor=.* reads the code with the top alpha k units",
    r"initial_sparsity_target=.* anneals the kept share",
    r"initial_sparsity_target=.* is below sparsity_target",
    r"leaves too few labelled rows",
    r"needs labelled rows of at least 2 classes",
]


@st.composite
def data(draw):
    """X: shape, dtype, scale, dense or sparse (CSR or CSC)."""
    n_samples = draw(st.integers(1, 40))
    n_features = draw(st.integers(1, 10))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["uniform01", "normal", "binary", "constant"]))
    scale = 10.0 ** draw(st.integers(-3, 3))
    if kind == "uniform01":
        X = rng.random((n_samples, n_features))
    elif kind == "binary":
        X = (rng.random((n_samples, n_features)) < 0.3).astype(float)
    elif kind == "constant":
        X = np.full((n_samples, n_features), rng.random())
    else:
        X = scale * rng.standard_normal((n_samples, n_features))
    density = draw(st.sampled_from([1.0, 0.5, 0.1]))
    X[rng.random(X.shape) > density] = 0.0
    X = X.astype(dtype)
    layout = draw(st.sampled_from(["dense", "csr", "csc"]))
    if layout != "dense":
        X = sp.csr_matrix(X) if layout == "csr" else sp.csc_matrix(X)
    return X


@st.composite
def estimators(draw):
    """Any estimator with any combination of its parameters."""
    Estimator = draw(st.sampled_from(ESTIMATORS))
    solver = draw(st.sampled_from(["lbfgs", "cg", "adam", "sgd"]))
    noise = draw(st.sampled_from(["masking", "gaussian", "salt_and_pepper"]))
    params = {
        "n_components": draw(st.integers(1, 8)),
        "activation": draw(st.sampled_from(ACTIVATIONS)),
        "output_activation": draw(st.sampled_from(ACTIVATIONS)),
        "loss": draw(st.sampled_from(["squared_error", "cross_entropy"])),
        "tied": draw(st.booleans()),
        "alpha": draw(st.sampled_from([0.0, 1e-4, 0.1, 10.0])),
        "sparsity": draw(st.sampled_from(["kl", "kl", "top_k", "lifetime"])),
        "sparsity_target": draw(st.sampled_from([0.01, 0.05, 0.5, 0.99])),
        "initial_sparsity_target": draw(st.sampled_from([None, None, None, 0.5, 1.0])),
        "sparsity_weight": draw(st.sampled_from([0.0, 0.0, 3.0, 100.0])),
        "contraction_weight": draw(st.sampled_from([0.0, 0.0, 0.1, 10.0])),
        "transform_k_factor": draw(st.sampled_from([None, None, 1.0, 3.0])),
        "noise": noise,
        "noise_level": draw(st.sampled_from([0.0, 0.1, 0.5, 1.0])),
        "solver": solver,
        "batch_size": draw(st.sampled_from(["auto", 1, 7, 64])),
        "learning_rate_init": draw(st.sampled_from([1e-4, 1e-2, 1.0])),
        "learning_rate": draw(st.sampled_from(["constant", "cosine"])),
        "momentum": draw(st.sampled_from([0.0, 0.9])),
        "max_iter": draw(st.integers(1, 6)),
        "tol": draw(st.sampled_from([0.0, 1e-4])),
        "early_stopping": draw(st.booleans()) if solver in ("adam", "sgd") else False,
        "validation_fraction": draw(st.sampled_from([0.1, 0.5])),
        "chunk_size": draw(st.sampled_from([None, 1, 5, 4096])),
        "random_state": draw(st.integers(0, 1000)),
    }
    # the classes' own defaults are one of the combinations too
    keep_defaults = draw(st.booleans())
    if keep_defaults:
        params = {"n_components": params["n_components"], "max_iter": params["max_iter"]}
    return Estimator(**params)


def fit_or_documented_error(estimator, X):
    """Fit; return True if fitted, False if refused with a documented error."""
    try:
        with warnings.catch_warnings():
            # divergence and max_iter warnings are documented outcomes, not failures
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", message="The training loss became non-finite")
            estimator.fit(X)
    except ValueError as error:
        message = str(error)
        assert any(re.search(pattern, message) for pattern in DOCUMENTED_ERRORS), message
        assert not hasattr(estimator, "components_")
        hypothesis.event(f"refused: {message.split(';')[0][:60]}")
        return False
    hypothesis.event("fitted")
    return True


@settings(PROFILE)
@given(estimator=estimators(), X=data())
@example(  # found by the long campaign: a zero gradient at the start, no iteration run
    estimator=SparseAutoencoder(
        n_components=1, output_activation="relu", sparsity_weight=0.0, max_iter=1, tol=0.0,
        random_state=0,
    ),
    X=np.array([[0.6369617]], dtype=np.float32),
)  # fmt: skip
def test_fit_gives_a_finite_model_or_a_documented_error(estimator, X):
    if not fit_or_documented_error(estimator, X):
        return
    n_samples, n_features = X.shape
    k = estimator.components_.shape[0]
    assert estimator.components_.shape == (k, n_features)
    assert estimator.components_.dtype == X.dtype
    for name in ("components_", "intercept_hidden_", "decoder_components_"):
        assert np.all(np.isfinite(getattr(estimator, name))), name
    assert np.all(np.isfinite(estimator.intercept_visible_))
    # one loss per iteration or epoch; none if the start is already stationary (see the
    # pinned example: a dead ReLU decoder has a zero gradient, L-BFGS stops at iteration 0)
    assert len(estimator.loss_curve_) == estimator.n_iter_
    assert np.all(np.isfinite(estimator.loss_curve_)), estimator.loss_curve_

    H = estimator.transform(X)
    assert H.shape == (n_samples, k) and H.dtype == X.dtype
    assert np.all(np.isfinite(H))
    reconstruction = estimator.inverse_transform(H)
    assert reconstruction.shape == (n_samples, n_features)
    assert reconstruction.dtype == X.dtype
    assert np.all(np.isfinite(reconstruction))
    scores = estimator.score_samples(X)
    assert scores.shape == (n_samples,) and np.all(np.isfinite(scores))


@settings(PROFILE)
@given(estimator=estimators(), X=data(), n_calls=st.integers(1, 3))
def test_partial_fit_keeps_the_model_finite(estimator, X, n_calls):
    estimator.set_params(solver="adam", early_stopping=False)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The training loss became non-finite")
            for _ in range(n_calls):
                estimator.partial_fit(X)
    except ValueError as error:
        assert any(re.search(p, str(error)) for p in DOCUMENTED_ERRORS), str(error)
        return
    assert estimator.n_iter_ == n_calls
    assert np.all(np.isfinite(estimator.components_))
    assert np.all(np.isfinite(estimator.loss_curve_))
    assert np.all(np.isfinite(estimator.transform(X)))


@settings(PROFILE)
@given(X=data(), chunk_size=st.sampled_from([None, 1, 3, 16]))
def test_blockwise_methods_match_one_block(X, chunk_size):
    ae = TiedAutoencoder(n_components=3, activation="tanh", max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X)
    whole = ae.set_params(chunk_size=None)
    H, scores = whole.transform(X), whole.score_samples(X)
    X_hat = whole.inverse_transform(H)
    blocks = ae.set_params(chunk_size=chunk_size)
    # BLAS may sum a one-row product in another order than a block's: last bits only
    eps = 1e-6 if X.dtype == np.float32 else 1e-12
    tolerance = {"rtol": 10 * eps, "atol": eps}
    np.testing.assert_allclose(blocks.transform(X), H, **tolerance)
    np.testing.assert_allclose(blocks.score_samples(X), scores, **tolerance)
    np.testing.assert_allclose(blocks.inverse_transform(H), X_hat, **tolerance)


def fit_deep_or_documented_error(estimator, *fit_args):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.filterwarnings("ignore", message="The training loss became non-finite")
            estimator.fit(*fit_args)
    except ValueError as error:
        assert any(re.search(p, str(error)) for p in DOCUMENTED_ERRORS), str(error)
        assert not hasattr(estimator, "n_features_in_")
        hypothesis.event("refused")
        return False
    hypothesis.event("fitted")
    return True


@settings(PROFILE)
@given(
    layers=st.lists(estimators(), min_size=1, max_size=3),
    X=data(),
    fine_tune=st.integers(0, 3),
    solver=st.sampled_from(["adam", "sgd", "lbfgs"]),
)
def test_stack_gives_a_finite_model_or_a_documented_error(layers, X, fine_tune, solver):
    stack = StackedAutoencoder(
        [(f"ae{i}", layer) for i, layer in enumerate(layers)],
        fine_tune_max_iter=fine_tune,
        fine_tune_solver=solver,
        random_state=0,
    )
    if not fit_deep_or_documented_error(stack, X):
        return
    H = stack.transform(X)
    assert H.shape == (X.shape[0], layers[-1].n_components) and H.dtype == X.dtype
    assert np.all(np.isfinite(H))
    X_hat = stack.inverse_transform(H)
    assert X_hat.shape == X.shape and np.all(np.isfinite(X_hat))
    assert np.all(np.isfinite(stack.score_samples(X)))
    assert len(stack.loss_curve_) == stack.n_iter_


@settings(PROFILE)
@given(
    autoencoder=estimators(),
    X=data(),
    label_seed=st.integers(0, 1000),
    dropout=st.sampled_from([0.0, 0.5]),
    pretrain=st.booleans(),
    solver=st.sampled_from(["adam", "sgd", "lbfgs"]),
    learning_rate=st.sampled_from(["constant", "cosine"]),
)
def test_classifier_gives_finite_probabilities_or_a_documented_error(
    autoencoder, X, label_seed, dropout, pretrain, solver, learning_rate
):
    y = np.random.default_rng(label_seed).integers(-1, 3, X.shape[0])  # -1: unlabelled
    clf = AutoencoderClassifier(
        autoencoder, unlabeled=-1, pretrain=pretrain, dropout=dropout, solver=solver,
        max_iter=3, learning_rate=learning_rate, random_state=0,
    )  # fmt: skip
    if not fit_deep_or_documented_error(clf, X, y):
        return
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], clf.classes_.size) and np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-4)
    assert set(clf.predict(X)) <= set(clf.classes_) and -1 not in clf.classes_
