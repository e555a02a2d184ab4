"""Tests of skae.inspection: what each display draws, and the filter measures."""

import contextlib
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skae import (
    AutoencoderClassifier,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    TiedAutoencoder,
)
from skae._core import Corruption
from skae.inspection import (
    ActivationHistogramDisplay,
    FilterDisplay,
    LossCurveDisplay,
    ReconstructionDisplay,
    filter_measures,
    infer_image_shape,
    mosaic,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    return (load_digits().data / 16).astype(np.float32)


@pytest.fixture(scope="module")
def sparse_ae(digits):
    return SparseAutoencoder(n_components=20, max_iter=15, random_state=0).fit(digits)


@contextlib.contextmanager
def warnings_ignored():
    """Short fits warn that they did not converge: not what these tests are about."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.fixture(scope="module")
def stack(digits):
    steps = [
        ("first", SparseAutoencoder(n_components=16, max_iter=5, random_state=0)),
        ("second", SparseAutoencoder(n_components=9, max_iter=5, random_state=1)),
    ]
    with warnings_ignored():
        return StackedAutoencoder(steps, fine_tune_max_iter=2, random_state=0).fit(digits)


# -- filter measures ---------------------------------------------------------------------
def test_delta_is_maximally_concentrated_and_uniform_is_not():
    delta = np.zeros((8, 8))
    delta[3, 4] = -2.0  # sign and scale do not matter
    uniform = np.ones((8, 8))
    m = filter_measures(np.stack([delta.ravel(), uniform.ravel()]), radius=1)
    assert m.concentration[0] == pytest.approx(1.0)
    assert m.spread[0] == pytest.approx(0.0)
    # uniform: the 2x2 corner window around argmax (pixel 0) holds 4 of 64 pixels
    assert m.concentration[1] == pytest.approx(4 / 64)
    # spatial std of a uniform 8x8: sqrt(2 * (8**2 - 1) / 12)
    assert m.spread[1] == pytest.approx(np.sqrt(2 * 63 / 12))
    assert m.roughness[1] == pytest.approx(0.0)
    assert np.isnan(m.orientedness[1])  # no orientation without variation


def test_window_share_of_an_interior_peak():
    # a filter that is 1 on a 3x3 block and 0.1 elsewhere: the window holds the block
    image = np.full((9, 9), 0.1)
    image[3:6, 3:6] = 1.0
    image[4, 4] = 1.5
    m = filter_measures(image.ravel()[None, :], radius=1)
    expected = (8 + 1.5**2) / (8 + 1.5**2 + 72 * 0.01)
    assert m.concentration[0] == pytest.approx(expected)


def test_wider_gaussian_blob_has_larger_spread_and_lower_concentration():
    y, x = np.mgrid[:28, :28]
    blobs = [np.exp(-((y - 14) ** 2 + (x - 13) ** 2) / (2 * s**2)).ravel() for s in (1, 2, 4)]
    m = filter_measures(np.stack(blobs))
    assert m.radius == 3  # 28 // 8
    assert np.all(np.diff(m.spread) > 0)
    assert np.all(np.diff(m.concentration) < 0)
    # energy w**2 of a Gaussian of width s has width s / sqrt(2) per axis, so a spread
    # of sqrt(2 * s**2 / 2) = s
    assert m.spread[1] == pytest.approx(2, rel=1e-3)
    assert m.spread[2] == pytest.approx(4, rel=1e-2)
    # the roughness of a Gaussian of width s is 1 / (4 s**2): scale recovers s
    assert m.scale[1] == pytest.approx(2, rel=0.05)
    assert m.scale[2] == pytest.approx(4, rel=0.02)


def test_grating_is_oriented_noise_is_rough_smooth_is_not():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[:16, :16]
    grating = np.cos(2 * np.pi * (x + y) / 8)
    noise = rng.standard_normal((200, 256))
    m = filter_measures(np.vstack([grating.ravel(), noise]))
    assert m.orientedness[0] == pytest.approx(1.0)
    assert np.median(m.orientedness[1:]) < 0.3
    # white noise: each of the 2 * 15 * 16 neighbour differences has variance 2, over
    # 4 * 256 unit variances: 15 / 16 (1 without borders)
    assert np.mean(m.roughness[1:]) == pytest.approx(15 / 16, abs=0.02)
    smooth = np.exp(-((y - 8) ** 2 + (x - 8) ** 2) / 20.0)
    assert filter_measures(smooth.ravel()[None, :]).roughness[0] < 0.1


@pytest.mark.parametrize(
    ("n_features", "shape", "message"),
    [(10, None, "not a square"), (64, (4, 4), "does not hold"), (64, (2, 4, 8), "does not hold")],
)
def test_image_shape_errors(n_features, shape, message):
    with pytest.raises(ValueError, match=message):
        infer_image_shape(n_features, shape)


def test_mosaic_places_tiles_with_nan_borders():
    tiles = np.arange(2 * 2 * 3, dtype=float).reshape(2, 2, 3)
    grid = mosaic(tiles, n_cols=2)
    assert grid.shape == (4, 9)
    np.testing.assert_array_equal(grid[1:3, 1:4], tiles[0])
    np.testing.assert_array_equal(grid[1:3, 5:8], tiles[1])
    assert np.isnan(grid[0]).all() and np.isnan(grid[:, 4]).all()


# -- FilterDisplay ---------------------------------------------------------------------
def test_filter_display_draws_normalised_filters(sparse_ae):
    display = FilterDisplay.from_estimator(sparse_ae, n_cols=5, title="sparse")
    assert display.images_.shape == (20, 8, 8)
    np.testing.assert_allclose(
        display.images_.reshape(20, -1),
        sparse_ae.components_ / np.linalg.norm(sparse_ae.components_, axis=1, keepdims=True),
        rtol=1e-5,
    )
    # 4 rows x 5 columns of 8x8 tiles, one pixel between them
    assert display.mosaic_.shape == (4 * 9 + 1, 5 * 9 + 1)
    assert len(display.ax_.images) == 1
    assert display.ax_.images[0].get_array().shape == display.mosaic_.shape
    assert display.ax_.get_title() == "sparse"
    assert display.figure_ is display.ax_.figure
    # per-filter contrast: every tile reaches +1 or -1
    for tile_index in range(20):
        row, col = divmod(tile_index, 5)
        tile = display.mosaic_[1 + 9 * row : 9 + 9 * row, 1 + 9 * col : 9 + 9 * col]
        assert np.abs(tile).max() == pytest.approx(1.0)


def test_filter_display_shared_contrast_keeps_relative_strength():
    filters = np.zeros((2, 4))
    filters[0, 0], filters[1] = 1.0, [1.0, 1.0, 1.0, 1.0]
    display = FilterDisplay(filters).plot(contrast="shared")
    # the spread-out filter's pixels are 1/2 after normalisation, the delta's 1
    assert np.nanmax(display.mosaic_[1:3, 1:3]) == pytest.approx(1.0)
    assert np.nanmax(display.mosaic_[1:3, 4:6]) == pytest.approx(0.5)
    per_filter = FilterDisplay(filters).plot(contrast="per_filter")
    assert np.nanmax(per_filter.mosaic_[1:3, 4:6]) == pytest.approx(1.0)


def test_filter_display_unit_selection(sparse_ae, digits):
    assert list(FilterDisplay.from_estimator(sparse_ae, units=3).units) == [0, 1, 2]
    chosen = FilterDisplay.from_estimator(sparse_ae, units=[5, 2])
    assert list(chosen.units) == [5, 2]
    np.testing.assert_allclose(
        chosen.images_[0].ravel(),
        sparse_ae.components_[5] / np.linalg.norm(sparse_ae.components_[5]),
        rtol=1e-5,
    )
    most_active = FilterDisplay.from_estimator(sparse_ae, units=4, X=digits)
    mean = sparse_ae.transform(digits).mean(axis=0)
    assert list(most_active.units) == list(np.argsort(-mean)[:4])
    assert mean[most_active.units[0]] == mean.max()


@pytest.mark.parametrize(
    ("units", "message"), [(0, "between 1 and"), (21, "between 1 and"), ([0, 20], "outside")]
)
def test_filter_display_bad_units(sparse_ae, units, message):
    with pytest.raises(ValueError, match=message):
        FilterDisplay.from_estimator(sparse_ae, units=units)


def test_filter_display_on_pca_and_rectangular_images(digits):
    pca = PCA(n_components=6).fit(digits)
    display = FilterDisplay.from_estimator(pca, image_shape=(4, 16), n_cols=3)
    assert display.images_.shape == (6, 4, 16)
    assert display.mosaic_.shape == (2 * 5 + 1, 3 * 17 + 1)


def test_filter_display_draws_on_given_axes(sparse_ae):
    fig, axes = plt.subplots(1, 2)
    display = FilterDisplay.from_estimator(sparse_ae, ax=axes[1])
    assert display.ax_ is axes[1] and display.figure_ is fig
    assert len(axes[0].images) == 0 and len(axes[1].images) == 1


def test_filter_display_explains_itself_title_unit_numbers_and_colour_scale(sparse_ae):
    display = FilterDisplay.from_estimator(sparse_ae, units=[7, 3, 11])
    assert display.ax_.get_title() == "SparseAutoencoder\n3 filters W_i / ||W_i||"
    assert [text.get_text() for text in display.unit_labels_] == ["7", "3", "11"]
    assert display.colorbar_ is not None
    assert display.colorbar_.ax in display.figure_.axes
    assert "largest |weight| of its filter" in display.colorbar_.ax.get_ylabel()
    shared = FilterDisplay(sparse_ae.components_[:4]).plot(contrast="shared")
    assert shared.ax_.get_title() == "4 filters W_i / ||W_i||"
    assert "of all filters" in shared.colorbar_.ax.get_ylabel()
    bare = FilterDisplay.from_estimator(sparse_ae, unit_labels=False, colorbar=False)
    assert bare.unit_labels_ == [] and bare.colorbar_ is None
    assert len(bare.figure_.axes) == 1


def test_filter_display_of_each_layer_of_a_stack(stack, digits):
    first = FilterDisplay.from_estimator(stack)
    np.testing.assert_allclose(first.filters, stack.autoencoders_[0].components_, rtol=1e-6)
    assert first.images_.shape == (16, 8, 8)
    assert "layer 0" in first.ax_.get_title()
    second = FilterDisplay.from_estimator(stack, layer=1, units=3, X=digits)
    # the second layer reads the first layer's 16 codes: ranked on them
    codes = stack.autoencoders_[1].transform(stack.autoencoders_[0].transform(digits))
    assert list(second.units) == list(np.argsort(-codes.mean(axis=0), kind="stable")[:3])
    assert second.images_.shape == (3, 4, 4)
    with pytest.raises(ValueError, match="the stack has 2 layers"):
        FilterDisplay.from_estimator(stack, layer=2)


def test_filter_display_of_a_classifier_and_of_pipelines(stack, digits):
    y = load_digits().target
    classifier = AutoencoderClassifier(stack, pretrain=False, max_iter=2, random_state=0)
    with warnings_ignored():
        classifier.fit(digits[:200], y[:200])
    display = FilterDisplay.from_estimator(classifier)
    np.testing.assert_allclose(
        display.filters, classifier.autoencoder_.autoencoders_[0].components_, rtol=1e-6
    )
    scaled = MinMaxScaler().fit(digits)
    ae = SparseAutoencoder(n_components=6, max_iter=3, random_state=0)
    with warnings_ignored():
        pipeline = make_pipeline(scaled, ae).fit(digits)
    display = FilterDisplay.from_estimator(pipeline, units=2, X=digits)
    mean = ae.transform(scaled.transform(digits)).mean(axis=0)
    assert list(display.units) == list(np.argsort(-mean, kind="stable")[:2])
    assert display.ax_.get_title().startswith("Pipeline ending in SparseAutoencoder")


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda X, y: LogisticRegression(max_iter=50).fit(X, y), TypeError, "components_"),
        (
            lambda X, y: make_pipeline(
                SparseAutoencoder(n_components=4, max_iter=2), LogisticRegression(max_iter=50)
            ).fit(X, y),
            TypeError,
            r"pipeline\[:-1\]",
        ),
        (lambda X, y: SparseAutoencoder(n_components=4), NotFittedError, "not fitted"),
        (lambda X, y: StackedAutoencoder([("a", SparseAutoencoder())]), NotFittedError, None),
    ],
)
def test_filter_display_names_what_it_cannot_draw(digits, make, error, message):
    with warnings_ignored():
        estimator = make(digits[:100], load_digits().target[:100])
    with pytest.raises(error, match=message):
        FilterDisplay.from_estimator(estimator)


def test_filter_display_layer_only_for_a_stack(sparse_ae):
    with pytest.raises(ValueError, match="has one layer"):
        FilterDisplay.from_estimator(sparse_ae, layer=1)


# -- ReconstructionDisplay ------------------------------------------------------------
def test_reconstruction_display_with_noise_uses_the_models_corruption(digits):
    ae = DenoisingAutoencoder(n_components=16, noise_level=0.5, max_iter=3, random_state=7)
    ae.fit(digits)
    X = digits[:5]
    display = ReconstructionDisplay.from_estimator(ae, X)
    titles = [ax.get_title() for ax in display.ax_]
    assert titles == ["original", "corrupted (masking, q=0.5)", "reconstructed"]
    assert len(display.images_) == 3
    grids = [image.get_array() for image in display.images_]
    assert all(grid.shape == (10, 5 * 9 + 1) for grid in grids)
    corrupted = Corruption("masking", 0.5, 7)(X)
    np.testing.assert_allclose(grids[1][1:9, 1:9], corrupted[0].reshape(8, 8))
    expected = ae.inverse_transform(ae.transform(corrupted))
    np.testing.assert_allclose(grids[2][1:9, 10:18], expected[1].reshape(8, 8), rtol=1e-5)
    np.testing.assert_allclose(grids[0][1:9, 1:9], X[0].reshape(8, 8))


def test_reconstruction_display_of_pca(digits):
    pca = PCA(n_components=5).fit(digits)
    display = ReconstructionDisplay.from_estimator(pca, digits[:4])
    assert [ax.get_title() for ax in display.ax_] == ["original", "reconstructed"]
    expected = pca.inverse_transform(pca.transform(digits[:4]))
    np.testing.assert_allclose(
        display.images_[1].get_array()[1:9, 1:9], expected[0].reshape(8, 8), rtol=1e-5
    )


def test_reconstruction_display_without_noise_has_two_rows(digits):
    ae = TiedAutoencoder(n_components=8, max_iter=5, random_state=0).fit(digits)
    display = ReconstructionDisplay.from_estimator(ae, digits[:3])
    assert [ax.get_title() for ax in display.ax_] == ["original", "reconstructed"]
    fig, axes = plt.subplots(3, 1)
    with pytest.raises(ValueError, match="one per row"):
        ReconstructionDisplay.from_estimator(ae, digits[:3], ax=axes)


def test_reconstruction_display_of_a_stack_a_classifier_and_a_pipeline(stack, digits):
    X = digits[:4]
    display = ReconstructionDisplay.from_estimator(stack, X)
    expected = stack.inverse_transform(stack.transform(X))
    np.testing.assert_allclose(
        display.images_[1].get_array()[1:9, 1:9], expected[0].reshape(8, 8), rtol=1e-5
    )
    assert display.figure_._suptitle.get_text().startswith("StackedAutoencoder")

    # a denoising autoencoder after a scaler: the noise goes where the autoencoder
    # sees its input, and the rows are drawn back in the pipeline's input space
    ae = DenoisingAutoencoder(
        n_components=8,
        noise_level=0.5,
        output_activation="identity",
        max_iter=3,
        random_state=3,
    )
    with warnings_ignored():
        pipeline = make_pipeline(StandardScaler(), ae).fit(digits)
    display = ReconstructionDisplay.from_estimator(pipeline, X)
    assert [ax.get_title() for ax in display.ax_] == [
        "original",
        "corrupted (masking, q=0.5)",
        "reconstructed",
    ]
    scaler = pipeline[0]
    corrupted = Corruption("masking", 0.5, 3)(scaler.transform(X))
    np.testing.assert_allclose(
        display.images_[1].get_array()[1:9, 1:9],
        scaler.inverse_transform(corrupted)[0].reshape(8, 8),
        rtol=1e-5,
        atol=1e-6,
    )
    expected = pipeline.inverse_transform(ae.transform(corrupted))
    np.testing.assert_allclose(
        display.images_[2].get_array()[1:9, 1:9],
        expected[0].reshape(8, 8),
        rtol=1e-4,
        atol=1e-5,
    )

    y = load_digits().target
    classifier = AutoencoderClassifier(stack, pretrain=False, max_iter=2, random_state=0)
    with warnings_ignored():
        classifier.fit(digits[:200], y[:200])
    display = ReconstructionDisplay.from_estimator(classifier, X)
    assert len(display.ax_) == 2


def test_reconstruction_display_names_what_is_missing(digits):
    y = load_digits().target
    ae = SparseAutoencoder(n_components=4, max_iter=3, random_state=0)
    with warnings_ignored():
        pipeline = make_pipeline(ae, LogisticRegression(max_iter=20)).fit(digits, y)
    with pytest.raises(TypeError, match=r"no inverse_transform.*pipeline\[:-1\]"):
        ReconstructionDisplay.from_estimator(pipeline, digits[:3])
    display = ReconstructionDisplay.from_estimator(pipeline[:-1], digits[:3])
    assert len(display.ax_) == 2
    with pytest.raises(NotFittedError):
        ReconstructionDisplay.from_estimator(SparseAutoencoder(), digits[:3])


# -- LossCurveDisplay -----------------------------------------------------------------
def test_loss_curve_display_with_and_without_validation(digits):
    ae = DenoisingAutoencoder(
        n_components=8, max_iter=6, early_stopping=True, n_iter_no_change=50, random_state=0
    ).fit(digits)
    display = LossCurveDisplay.from_estimator(ae, log_scale=True)
    np.testing.assert_allclose(display.line_.get_ydata(), ae.loss_curve_)
    validation_loss = -np.array(ae.validation_scores_)
    np.testing.assert_allclose(display.validation_line_.get_ydata(), validation_loss)
    assert list(display.line_.get_xdata()) == list(range(1, 7))
    assert len(display.ax_.get_lines()) == 2
    assert display.ax_.get_yscale() == "log"
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert labels == [
        "DenoisingAutoencoder: training objective",
        "DenoisingAutoencoder: validation reconstruction loss",
    ]

    plain = SparseAutoencoder(n_components=8, max_iter=5, random_state=0).fit(digits)
    display = LossCurveDisplay.from_estimator(plain)
    assert display.validation_line_ is None
    assert len(display.ax_.get_lines()) == 1


def test_loss_curve_axis_is_logarithmic_unless_a_loss_is_not_positive():
    display = LossCurveDisplay([100.0, 10.0, 9.0, 8.5], x_label="epoch").plot()
    assert display.ax_.get_yscale() == "log"
    assert display.ax_.get_xlabel() == "epoch"
    assert display.ax_.get_title() == "Training loss"
    assert LossCurveDisplay([1.0, 0.0, -0.5]).plot().ax_.get_yscale() == "linear"
    assert LossCurveDisplay([100.0, 10.0]).plot(log_scale=False).ax_.get_yscale() == "linear"


def test_loss_curve_of_a_stack_a_classifier_and_a_pipeline(stack, sparse_ae):
    display = LossCurveDisplay.from_estimator(stack)
    np.testing.assert_allclose(display.line_.get_ydata(), stack.loss_curve_)
    assert display.ax_.get_title() == "Training loss of StackedAutoencoder"
    assert display.ax_.get_xlabel() == "epoch"  # fine-tuned with adam
    display = LossCurveDisplay.from_estimator(make_pipeline(MinMaxScaler(), sparse_ae))
    assert display.ax_.get_xlabel() == "iteration"  # lbfgs
    with pytest.raises(TypeError, match="loss_curve_"):
        LossCurveDisplay.from_estimator(PCA(2).fit(np.eye(4)))


# -- ActivationHistogramDisplay -------------------------------------------------------
def test_activation_histogram_counts_units_and_marks_rho(sparse_ae, digits):
    display = ActivationHistogramDisplay.from_estimator(sparse_ae, digits, bins=10)
    np.testing.assert_allclose(
        display.mean_activations, sparse_ae.transform(digits).mean(axis=0), rtol=1e-5
    )
    assert len(display.bars_) == 10
    assert sum(bar.get_height() for bar in display.bars_) == 20
    assert display.target_line_.get_xdata()[0] == pytest.approx(sparse_ae.sparsity_target)


def test_activation_histogram_axis_follows_the_data():
    # units gathered near rho: the bins span them and rho, not all of [0, 1]
    mean = np.array([0.040, 0.045, 0.050, 0.052, 0.060])
    display = ActivationHistogramDisplay(mean, sparsity_target=0.05).plot(bins=8)
    low, high = display.ax_.get_xlim()
    assert 0.03 <= low < 0.040 and 0.060 < high <= 0.07
    assert sum(bar.get_height() for bar in display.bars_) == 5
    assert max(bar.get_height() for bar in display.bars_) < 5  # not one bar
    # rho outside the data is kept in view
    display = ActivationHistogramDisplay(mean, sparsity_target=0.2).plot()
    assert display.ax_.get_xlim()[1] > 0.2
    # relu means above 1 are not cut at 1
    display = ActivationHistogramDisplay(np.array([0.5, 2.5])).plot()
    assert display.ax_.get_xlim()[1] > 2.5
    assert display.ax_.get_title() == "Mean activations of 2 hidden units"


def test_activation_histogram_of_a_stack_layer(stack, digits):
    display = ActivationHistogramDisplay.from_estimator(stack, digits, layer=1)
    codes = stack.transform(digits)
    np.testing.assert_allclose(display.mean_activations, codes.mean(axis=0), rtol=1e-5)
    assert "layer 1" in display.ax_.get_title()
    with pytest.raises(TypeError, match="hidden activations"):
        ActivationHistogramDisplay.from_estimator(PCA(2).fit(digits), digits)


def test_activation_histogram_maps_tanh_to_unit_interval(digits):
    ae = SparseAutoencoder(n_components=6, activation="tanh", max_iter=5, random_state=0)
    ae.fit(digits)
    display = ActivationHistogramDisplay.from_estimator(ae, digits)
    expected = (ae.transform(digits).mean(axis=0) + 1) / 2
    np.testing.assert_allclose(display.mean_activations, expected, rtol=1e-4)


# -- without matplotlib ---------------------------------------------------------------
def test_without_matplotlib_the_error_names_the_extra(monkeypatch, sparse_ae, digits):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    for draw in (
        lambda: FilterDisplay.from_estimator(sparse_ae),
        lambda: ReconstructionDisplay.from_estimator(sparse_ae, digits[:2]),
        lambda: LossCurveDisplay.from_estimator(sparse_ae),
        lambda: ActivationHistogramDisplay.from_estimator(sparse_ae, digits),
    ):
        with pytest.raises(ImportError, match=r'pip install "skae\[plot\]"'):
            draw()
    # the measures need no matplotlib
    assert filter_measures(sparse_ae.components_).spread.shape == (20,)
