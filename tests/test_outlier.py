"""AutoencoderOutlierDetector: known answers that can fail, the outlier contract, the
PyOD attributes, explanations, scaling that cannot blow up, and bad input by name."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from skae import (
    AutoencoderOutlierDetector,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    TiedAutoencoder,
)
from skae._persistence import SKOPS_TRUSTED_TYPES


def linear_autoencoder(n_components=2):
    """A linear autoencoder trained to convergence: a PCA-like projector, deterministic.

    The weight decay matters: the data constrain the maps only on their subspace, the
    decay sets the encoder to zero on the directions orthogonal to it (a projector).
    """
    return DenoisingAutoencoder(
        n_components,
        activation="identity",
        output_activation="identity",
        alpha=1e-3,
        noise_level=0.0,
        solver="lbfgs",
        max_iter=300,
        random_state=0,
    )


def subspace_data(n_samples=300, n_features=12, rank=2, seed=0):
    """Rows on a random ``rank``-dimensional subspace, plus a little isotropic noise."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((n_features, rank)))[0].T
    X = rng.standard_normal((n_samples, rank)) @ basis * 3
    return X + 0.01 * rng.standard_normal(X.shape), basis


@pytest.fixture(scope="module")
def subspace():
    return subspace_data()


@pytest.fixture(scope="module")
def fitted(subspace):
    X, _ = subspace
    return AutoencoderOutlierDetector(linear_autoencoder(), density=None, random_state=0).fit(X)


# -- known answers -------------------------------------------------------------------------
def test_rows_off_the_inlier_subspace_score_lower(subspace, fitted):
    X, basis = subspace
    rng = np.random.default_rng(1)
    inliers = rng.standard_normal((100, 2)) @ basis * 3
    # outliers of the same norm as the inliers, orthogonal to their subspace
    off = rng.standard_normal((100, X.shape[1]))
    off -= off @ basis.T @ basis
    off *= np.linalg.norm(inliers, axis=1, keepdims=True) / np.linalg.norm(off, axis=1)[:, None]
    scores = fitted.score_samples(np.vstack([inliers, off]))
    assert scores[:100].min() > scores[100:].max()
    assert np.all(fitted.predict(off) == -1)
    assert np.mean(fitted.predict(inliers) == 1) > 0.9


def test_the_corrupted_feature_gets_the_highest_feature_score(subspace, fitted):
    # With a projector P onto the inlier subspace, a spike e_j leaves the error
    # (I - P) e_j: 1 - P_jj on feature j, |P_kj| <= sqrt(P_jj (1 - P_jj)) on feature k,
    # so feature j is the largest whenever its leverage P_jj is below 1/2.
    X, basis = subspace
    scaled = (X - fitted.center_) / fitted.scale_
    top = np.linalg.svd(scaled - scaled.mean(axis=0), full_matrices=False)[2][:2]
    assert np.max(np.sum(top**2, axis=0)) < 0.5
    rng = np.random.default_rng(2)
    rows = rng.standard_normal((120, 2)) @ basis * 3
    corrupted = np.arange(120) % X.shape[1]
    rows[np.arange(120), corrupted] += 4.0 * (X.max(axis=0) - X.min(axis=0))[corrupted]
    scores = fitted.feature_scores(rows)
    np.testing.assert_array_equal(scores.argmax(axis=1), corrupted)


def test_feature_scores_sum_to_the_outlier_score(subspace, fitted):
    X, _ = subspace
    feature_scores = fitted.feature_scores(X)
    assert feature_scores.shape == X.shape and feature_scores.min() >= 0
    np.testing.assert_allclose(feature_scores.sum(axis=1), -fitted.score_samples(X), rtol=1e-12)
    # the squared_error loss of the autoencoder is half the squared error of the scaled rows
    scaled = (X - fitted.center_) / fitted.scale_
    np.testing.assert_allclose(
        fitted.score_samples(X), 2 * fitted.autoencoder_.score_samples(scaled), rtol=1e-10
    )


def test_digits_other_classes_rank_as_outliers():
    X, y = load_digits(return_X_y=True)
    detector = AutoencoderOutlierDetector(random_state=0).fit(X[y == 0])
    assert roc_auc_score(y != 0, -detector.score_samples(X)) > 0.99


# -- the outlier contract and PyOD's attributes -----------------------------------------
@pytest.mark.parametrize("contamination", [0.01, 0.1, 0.25, 0.5])
def test_contamination_flags_that_share_of_the_training_rows(subspace, contamination):
    X, _ = subspace
    detector = AutoencoderOutlierDetector(
        linear_autoencoder(), contamination=contamination, random_state=0
    )
    labels = detector.fit_predict(X)
    assert abs(np.mean(labels == -1) - contamination) <= 1 / X.shape[0]
    np.testing.assert_array_equal(detector.labels_, (labels == -1).astype(int))


def test_auto_contamination_is_tukeys_fence(subspace, fitted):
    X, _ = subspace
    q1, q3 = np.percentile(-fitted.score_samples(X), [25, 75])
    assert fitted.threshold_ == pytest.approx(q3 + 1.5 * (q3 - q1))
    assert 0 < fitted.labels_.mean() < 0.2


def test_sklearn_and_pyod_conventions_agree(subspace, fitted):
    X, _ = subspace
    scores = fitted.score_samples(X)
    np.testing.assert_allclose(fitted.decision_function(X), scores - fitted.offset_)
    np.testing.assert_array_equal(fitted.decision_scores_, -scores)
    assert fitted.threshold_ == -fitted.offset_
    predicted = fitted.predict(X)
    np.testing.assert_array_equal(predicted == -1, fitted.decision_function(X) < 0)
    np.testing.assert_array_equal(fitted.labels_, (fitted.decision_scores_ > fitted.threshold_))
    np.testing.assert_array_equal(fitted.labels_, predicted == -1)
    assert predicted.dtype.kind == "i" and fitted.labels_.dtype.kind == "i"


# -- the autoencoders it wraps, seeds ------------------------------------------------------
WRAPPED = {
    "default": None,
    "sparse": SparseAutoencoder(4, max_iter=5),
    "denoising": DenoisingAutoencoder(4, max_iter=5),
    "tied": TiedAutoencoder(4, max_iter=5),
    "stacked": StackedAutoencoder(
        [("a", DenoisingAutoencoder(6, max_iter=3)), ("b", TiedAutoencoder(3, max_iter=3))],
        fine_tune_max_iter=2,
    ),
}


@pytest.mark.parametrize("name", WRAPPED)
def test_any_autoencoder_works_and_a_seed_makes_it_reproducible(name, subspace):
    X, _ = subspace
    make = lambda seed: AutoencoderOutlierDetector(WRAPPED[name], random_state=seed)  # noqa: E731
    first, second, other = make(0).fit(X), make(0).fit(X), make(1).fit(X)
    np.testing.assert_array_equal(first.score_samples(X), second.score_samples(X))
    assert not np.array_equal(first.score_samples(X), other.score_samples(X))
    # every seed of the wrapped model, a stack's steps too, was drawn from random_state
    seeds = {k: v for k, v in first.autoencoder_.get_params().items() if "random_state" in k}
    assert seeds and all(isinstance(v, int) for v in seeds.values())
    if WRAPPED[name] is not None:
        assert not hasattr(WRAPPED[name], "n_features_in_")  # cloned, not fitted in place


def test_default_autoencoder_is_undercomplete_with_a_budget_in_updates():
    X = np.random.default_rng(0).random((50, 6))
    detector = AutoencoderOutlierDetector(random_state=0).fit(X)
    assert detector.autoencoder_.n_components == 3
    # 1000 Adam updates of 100 rows, in 20 to 200 epochs: one batch per epoch here
    assert detector.autoencoder_.max_iter == 200
    assert detector._default_autoencoder(2000, 784).max_iter == 50
    assert detector._default_autoencoder(6000, 784).max_iter == 20
    assert detector._default_autoencoder(60000, 784).max_iter == 20
    wide = np.random.default_rng(0).random((50, 100))
    assert AutoencoderOutlierDetector(random_state=0).fit(wide).autoencoder_.n_components == 50
    assert detector._default_autoencoder(2000, 784).n_components == 64


def test_float32_stays_float32(subspace):
    X = subspace[0].astype(np.float32)
    detector = AutoencoderOutlierDetector(random_state=0).fit(X)
    assert detector.score_samples(X).dtype == np.float32
    assert detector.feature_scores(X).dtype == np.float32


# -- scaling that cannot blow up -----------------------------------------------------------
def near_constant_columns(seed=0):
    """Training rows with a constant column 0 and a column 1 lit once, faintly."""
    rng = np.random.default_rng(seed)
    X = rng.random((200, 6))
    X[:, 0] = 0.0
    X[:, 1] = 0.0
    X[0, 1] = 1e-3
    test = rng.random((5, 6))
    test[:, :2] = 1.0  # both columns lit as brightly as the other features go
    return X, test


@pytest.mark.parametrize("scaling", ["minmax", "standard"])
def test_the_scale_floor_bounds_the_score_of_a_lit_near_constant_column(scaling):
    X, test = near_constant_columns()
    ae = linear_autoencoder(3)
    # the reconstruction error alone: the density factor would scale both alike
    make = lambda **params: AutoencoderOutlierDetector(  # noqa: E731
        ae, scaling=scaling, density=None, random_state=0, **params
    )
    floored, raw = make().fit(X), make(scale_floor=0).fit(X)
    # scikit-learn's/PyOD's scaling divides column 1 by its spread (~1e-3 or less): huge
    assert raw.feature_scores(test)[:, 1].min() > 1e5
    # the floor is 0.1 of the median spread (range 1 or std 0.29 of the uniform columns)
    spread = np.ptp(X, axis=0) if scaling == "minmax" else X.std(axis=0)
    np.testing.assert_allclose(floored.scale_[:2], 0.1 * np.median(spread[spread > 0]))
    # so a lit column scores at most about (1 / 0.029)^2 = 1.2e3, not 1e5 and beyond
    assert floored.feature_scores(test)[:, :2].max() < 2e3
    # both still flag the lit rows
    assert np.all(floored.predict(test) == -1)


def test_no_scaling_leaves_the_data_as_it_is(subspace):
    X, _ = subspace
    detector = AutoencoderOutlierDetector(linear_autoencoder(), scaling=None).fit(X)
    np.testing.assert_array_equal(detector.center_, 0)
    np.testing.assert_array_equal(detector.scale_, 1)


# -- blocks, persistence ---------------------------------------------------------------
def test_blockwise_scoring_gives_the_same_scores(subspace, fitted):
    X, _ = subspace
    blocked = pickle.loads(pickle.dumps(fitted)).set_params(chunk_size=7)
    whole = pickle.loads(pickle.dumps(fitted)).set_params(chunk_size=None)
    np.testing.assert_allclose(blocked.score_samples(X), whole.score_samples(X), rtol=1e-12)
    np.testing.assert_allclose(blocked.feature_scores(X), whole.feature_scores(X), rtol=1e-12)
    np.testing.assert_array_equal(blocked.predict(X), whole.predict(X))


def test_blocks_bound_the_memory_of_the_reconstruction(subspace, fitted, monkeypatch):
    X, _ = subspace
    detector = pickle.loads(pickle.dumps(fitted)).set_params(chunk_size=16)
    seen = []
    transform = type(detector.autoencoder_).transform

    def spy(self, rows):
        seen.append(rows.shape[0])
        return transform(self, rows)

    monkeypatch.setattr(type(detector.autoencoder_), "transform", spy)
    detector.score_samples(np.tile(X, (4, 1)))
    assert max(seen) == 16 and sum(seen) == 4 * X.shape[0]


@pytest.mark.parametrize("format_name", ["pickle", "skops"])
def test_save_and_load_give_the_same_scores(subspace, fitted, format_name):
    X, _ = subspace
    if format_name == "pickle":
        loaded = pickle.loads(pickle.dumps(fitted))
    else:
        sio = pytest.importorskip("skops.io")
        data = sio.dumps(fitted)
        assert set(sio.get_untrusted_types(data=data)) <= set(SKOPS_TRUSTED_TYPES)
        loaded = sio.loads(data, trusted=SKOPS_TRUSTED_TYPES)
    np.testing.assert_array_equal(loaded.score_samples(X), fitted.score_samples(X))
    np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
    assert loaded.offset_ == fitted.offset_


# -- bad input, by name, before any work -----------------------------------------------
@pytest.mark.parametrize(
    "params, name",
    [
        ({"contamination": 0.6}, "contamination"),
        ({"contamination": 0.0}, "contamination"),
        ({"contamination": "most"}, "contamination"),
        ({"scaling": "robust"}, "scaling"),
        ({"scale_floor": -0.1}, "scale_floor"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"density": "lof"}, "density"),
        ({"density_weight": -1.0}, "density_weight"),
        ({"n_neighbors": 0}, "n_neighbors"),
        ({"autoencoder": "pca"}, "autoencoder"),
        ({"random_state": "zero"}, "random_state"),
    ],
)
def test_bad_parameters_are_named_before_any_work(params, name, subspace):
    X, _ = subspace
    autoencoder = params.pop("autoencoder", SparseAutoencoder(3, max_iter=2))
    detector = AutoencoderOutlierDetector(autoencoder, **params)
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        detector.fit(X)
    assert not hasattr(detector, "autoencoder_")


def test_bad_data_is_refused_clearly(subspace, fitted):
    X, _ = subspace
    detector = AutoencoderOutlierDetector(linear_autoencoder())
    with pytest.raises(NotFittedError):
        detector.score_samples(X)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        detector.fit(bad)
    with pytest.raises(ValueError, match="1 sample"):
        detector.fit(X[:1])
    with pytest.raises(TypeError, match="dense"):
        detector.fit(sp.csr_matrix(X))
    with pytest.raises(ValueError, match="features"):
        fitted.score_samples(X[:, :-1])
    with pytest.raises(ValueError, match="NaN"):
        fitted.feature_scores(bad)


def test_the_wrapped_models_own_warnings_reach_the_user(subspace):
    X, _ = subspace
    detector = AutoencoderOutlierDetector(SparseAutoencoder(3, max_iter=1), random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        detector.fit(X)
    assert any("max_iter" in str(w.message) for w in caught)


# -- the explanation display ---------------------------------------------------------------
def test_display_shows_input_reconstruction_and_the_feature_scores():
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    from skae.inspection import OutlierExplanationDisplay

    X, y = load_digits(return_X_y=True)
    detector = AutoencoderOutlierDetector(random_state=0).fit(X[y == 0])
    row = X[y == 1][0]
    display = OutlierExplanationDisplay.from_estimator(detector, row)
    np.testing.assert_allclose(display.feature_scores, detector.feature_scores(row[None])[0])
    assert display.outlier_score == pytest.approx(-detector.score_samples(row[None])[0])
    # the reconstruction is in the input's units: rescaled, it gives the feature scores back
    scaled_error = (display.reconstruction - row) / detector.scale_
    factor = detector.density_factors(row[None])[0]
    assert display.density_factor == pytest.approx(factor) and factor != 1.0
    np.testing.assert_allclose(scaled_error**2 * factor, display.feature_scores, rtol=1e-9)
    assert f"{factor:.3g}" in display.ax_[2].get_title()
    shown = display.ax_[2].get_images()[0].get_array()
    np.testing.assert_allclose(np.asarray(shown).ravel(), display.feature_scores)
    bars = OutlierExplanationDisplay.from_estimator(detector, row, kind="bar", n_features=5)
    widths = [patch.get_width() for patch in bars.ax_[0].patches]
    np.testing.assert_allclose(widths[::-1], np.sort(display.feature_scores)[::-1][:5])
    with pytest.raises(ValueError, match="kind"):
        OutlierExplanationDisplay.from_estimator(detector, row, kind="pie")
    plt.close("all")


# -- ONNX ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-4), (np.float64, 1e-10)])
@pytest.mark.parametrize(
    "name, density",
    [
        ("default", "default"),
        ("tied", None),
        ("stacked", None),
        ("default", None),
        ("denoising", "code"),
        ("stacked", "code"),
        ("tied", "input"),
    ],
)
def test_onnx_gives_predict_and_decision_function(name, density, dtype, tolerance):
    rt = pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    pytest.importorskip("skae.onnx")
    from skl2onnx import to_onnx

    X, y = load_digits(return_X_y=True)
    # integer pixels make equidistant neighbours, of which each computation may pick
    # another (with another density); a little jitter breaks the ties
    X = (X + np.random.default_rng(0).uniform(0, 0.01, X.shape)).astype(dtype)
    detector = AutoencoderOutlierDetector(WRAPPED[name], contamination=0.1, random_state=0)
    if density != "default":
        detector.set_params(density=density)
    detector.fit(X[y == 0])
    # the other digits: a training row's distance to its own code is 0, where the rounding
    # of |q|^2 - 2 q.r + |r|^2 differs between the two computations and sqrt magnifies it
    X = X[y != 0]
    session = rt.InferenceSession(
        to_onnx(detector, X[:1]).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    labels, scores = session.run(None, {session.get_inputs()[0].name: X})
    expected = detector.decision_function(X)
    assert scores.dtype == dtype and scores.shape == (X.shape[0], 1)
    # errors reach ~1e2 here: compare relative to their scale
    close = np.isclose(scores[:, 0], expected, rtol=tolerance, atol=tolerance * 100)
    if dtype == np.float32 and density not in ("default", None):
        # float32 rounding of the distances can swap two near-equidistant neighbours,
        # and the factor's power magnifies the ratio's rounding: a few rows, by a little
        assert close.mean() > 0.97
        np.testing.assert_allclose(scores[:, 0], expected, rtol=0.2, atol=tolerance * 100)
    else:
        assert close.all()
    # a label may differ only for a row whose decision rounds across 0
    differ = labels != detector.predict(X)
    assert np.all(np.abs(expected[differ]) < tolerance * 100)
    assert np.mean(labels == -1) > 0.5  # most other digits are flagged


def test_a_failed_fit_leaves_the_fitted_detector_as_it_was(subspace, fitted):
    X, _ = subspace
    detector = pickle.loads(pickle.dumps(fitted))
    before = detector.score_samples(X)
    with pytest.raises(ValueError):
        detector.fit(X[:, :3].copy() * np.nan)
    np.testing.assert_array_equal(detector.score_samples(X), before)
    assert detector.n_features_in_ == X.shape[1]


# -- the density factor ---------------------------------------------------------------
def two_blobs_on_a_subspace(seed=0):
    """Rows of two tight blobs on a 2-d subspace of 12 features, and rows between them.

    The rows between the blobs lie on the subspace, so a projector reconstructs them as
    well as the inliers; only the density of the training rows around them tells them
    apart.
    """
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((12, 2)))[0].T
    centres = np.array([[-4.0, 0.0], [4.0, 0.0]])
    X = centres[np.arange(300) % 2] + 0.3 * rng.standard_normal((300, 2))
    between = np.c_[rng.uniform(-1.5, 1.5, 20), rng.uniform(-0.3, 0.3, 20)]
    inliers = centres[np.arange(40) % 2] + 0.3 * rng.standard_normal((40, 2))
    noise = lambda rows: 0.01 * rng.standard_normal((rows.shape[0], 12))  # noqa: E731
    lift = lambda rows: rows @ basis + noise(rows)  # noqa: E731
    return lift(X), lift(inliers), lift(between)


@pytest.mark.parametrize("density", ["input", "code"])
def test_the_density_factor_scales_the_feature_scores_of_a_row(subspace, density):
    X, _ = subspace
    detector = AutoencoderOutlierDetector(linear_autoencoder(), density=density, random_state=0)
    detector.fit(X)
    factors = detector.density_factors(X)
    feature_scores = detector.feature_scores(X)
    np.testing.assert_allclose(feature_scores.sum(axis=1), -detector.score_samples(X), rtol=1e-10)
    plain = AutoencoderOutlierDetector(linear_autoencoder(), density=None, random_state=0)
    np.testing.assert_allclose(
        feature_scores, plain.fit(X).feature_scores(X) * factors[:, None], rtol=1e-10
    )
    assert detector.gamma_ > 0 and factors.min() >= 0


@pytest.mark.parametrize("density", ["input", "code"])
def test_rows_between_the_training_blobs_are_found_by_the_density_factor(density):
    X, inliers, between = two_blobs_on_a_subspace()
    rows = np.vstack([inliers, between])
    is_between = np.r_[np.zeros(len(inliers)), np.ones(len(between))]
    plain = AutoencoderOutlierDetector(linear_autoencoder(), density=None, random_state=0)
    plain.fit(X)
    with_density = AutoencoderOutlierDetector(
        linear_autoencoder(), density=density, random_state=0
    ).fit(X)
    # reconstruction error alone cannot tell the rows apart: all lie on the subspace
    assert roc_auc_score(is_between, -plain.score_samples(rows)) < 0.8
    assert roc_auc_score(is_between, -with_density.score_samples(rows)) > 0.99
    assert np.all(with_density.predict(between) == -1)


def test_the_training_rows_get_leave_one_out_density_ratios(subspace):
    from sklearn.neighbors import NearestNeighbors

    X, _ = subspace
    detector = AutoencoderOutlierDetector(linear_autoencoder(), n_neighbors=4, random_state=0).fit(
        X
    )
    # scikit-learn's kneighbors() without X leaves each row out of its own neighbours
    distances, indices = NearestNeighbors(n_neighbors=4).fit(X).kneighbors()
    own = distances.mean(axis=1)
    np.testing.assert_allclose(detector.neighbor_distances_, own, rtol=1e-6)
    ratios = own / own[indices].mean(axis=1)
    assert detector.ratio_center_ == pytest.approx(np.exp(np.log(ratios).mean()), rel=1e-6)
    plain = AutoencoderOutlierDetector(linear_autoencoder(), density=None, random_state=0)
    errors = -plain.fit(X).score_samples(X)
    # gamma weighs the two logarithms by their spreads (IQR) over the training rows
    iqr = lambda v: np.subtract(*np.percentile(v, [75, 25]))  # noqa: E731
    gamma = 4.0 * iqr(np.log(errors)) / iqr(np.log(ratios))
    assert detector.gamma_ == pytest.approx(gamma, rel=1e-6)
    # a new row's ratio: its mean distance to its 4 nearest training rows over theirs
    new = subspace_data(seed=3)[0] + 0.05
    new_distances, new_indices = NearestNeighbors(n_neighbors=4).fit(X).kneighbors(new)
    new_ratios = new_distances.mean(axis=1) / own[new_indices].mean(axis=1)
    new_errors = -plain.score_samples(new)
    log_factors = np.clip(gamma * np.log(new_ratios / detector.ratio_center_), -50, 50)
    expected = new_errors * np.exp(log_factors)
    np.testing.assert_allclose(-detector.score_samples(new), expected, rtol=1e-5)
    # the training rows, scored, skip themselves: their scores are the leave-one-out ones
    log_factors = np.clip(gamma * np.log(ratios / detector.ratio_center_), -50, 50)
    np.testing.assert_allclose(detector.decision_scores_, errors * np.exp(log_factors), rtol=1e-5)
    np.testing.assert_array_equal(detector.decision_scores_, -detector.score_samples(X))


def test_contamination_is_the_share_flagged_among_new_normal_rows():
    # the training rows' scores skip themselves, so the threshold set on them holds for
    # new rows of the same distribution (with itself as a neighbour, a training row's
    # density would look higher than a new row's, and far more new rows be flagged)
    X, _ = subspace_data(n_samples=2300, seed=4)
    detector = AutoencoderOutlierDetector(
        linear_autoencoder(), contamination=0.1, random_state=0
    ).fit(X[:300])
    flagged = np.mean(detector.predict(X[300:]) == -1)
    assert 0.06 < flagged < 0.15, flagged


def test_duplicated_training_rows_give_finite_scores():
    X, _ = subspace_data()
    for rows in (np.repeat(X[:10], 30, axis=0), np.tile(X[:1], (40, 1))):
        detector = AutoencoderOutlierDetector(linear_autoencoder(), random_state=0).fit(rows)
        assert np.all(np.isfinite(detector.score_samples(X)))
        assert np.all(np.isfinite(detector.decision_scores_))


def test_the_blocked_neighbour_search_matches_scikit_learn(monkeypatch):
    from sklearn.neighbors import NearestNeighbors

    from skae import _outlier

    rng = np.random.default_rng(0)
    reference, queries = rng.standard_normal((50, 3)), rng.standard_normal((23, 3))
    monkeypatch.setattr(_outlier, "KNN_BLOCK_ENTRIES", 200)  # blocks of 4 query rows
    distances, indices = _outlier._nearest_distances(queries, reference, 3)
    expected = NearestNeighbors(n_neighbors=3).fit(reference).kneighbors(queries)
    np.testing.assert_allclose(distances, expected[0], rtol=1e-10)
    np.testing.assert_array_equal(indices, expected[1])
    left_out = _outlier._nearest_distances(reference, reference, 3)  # skips itself
    expected = NearestNeighbors(n_neighbors=3).fit(reference).kneighbors()
    np.testing.assert_allclose(left_out[0], expected[0], rtol=1e-10)


def test_density_weight_zero_is_the_reconstruction_error_alone(subspace, fitted):
    X, _ = subspace
    detector = AutoencoderOutlierDetector(
        linear_autoencoder(), density_weight=0.0, random_state=0
    ).fit(X)
    np.testing.assert_allclose(detector.score_samples(X), fitted.score_samples(X), rtol=1e-12)
    np.testing.assert_array_equal(fitted.density_factors(X), 1.0)


def test_neighbours_are_capped_by_the_training_rows(subspace):
    X, _ = subspace
    detector = AutoencoderOutlierDetector(
        linear_autoencoder(), n_neighbors=50, random_state=0
    ).fit(X[:6])
    assert detector.n_neighbors_ == 5
    assert np.all(np.isfinite(detector.score_samples(X)))


def test_a_refit_without_the_density_factor_drops_it(subspace):
    X, _ = subspace
    detector = AutoencoderOutlierDetector(linear_autoencoder(), random_state=0).fit(X)
    assert detector.density_reference_.shape == X.shape
    detector.set_params(density=None).fit(X)
    assert not hasattr(detector, "density_reference_") and detector.gamma_ == 0.0
    np.testing.assert_array_equal(detector.density_factors(X), 1.0)
