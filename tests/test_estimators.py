"""Known answers, the transformer API and bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skae import DenoisingAutoencoder, SparseAutoencoder, TiedAutoencoder

ESTIMATORS = [SparseAutoencoder, DenoisingAutoencoder, TiedAutoencoder]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def _principal_angles(a, b):
    """Cosines of the principal angles between the row spaces of a and b."""
    qa, _ = np.linalg.qr(a.T)
    qb, _ = np.linalg.qr(b.T)
    return np.linalg.svd(qa.T @ qb, compute_uv=False)


def test_linear_tied_autoencoder_spans_the_pca_subspace():
    # Data with a clear 3-dimensional structure plus small isotropic noise.
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(10, 3)))[0].T
    scales = np.array([5.0, 3.0, 2.0])
    X = (rng.normal(size=(400, 3)) * scales) @ basis + 0.05 * rng.normal(size=(400, 10))
    X -= X.mean(axis=0)
    ae = TiedAutoencoder(
        n_components=3,
        activation="identity",
        output_activation="identity",
        solver="lbfgs",
        max_iter=2000,
        tol=1e-10,
        random_state=0,
    ).fit(X)
    pca = PCA(n_components=3).fit(X)
    cosines = _principal_angles(ae.components_, pca.components_)
    np.testing.assert_allclose(cosines, 1.0, atol=1e-4)
    # and it reconstructs as well as PCA does
    pca_error = 0.5 * np.mean(np.sum((pca.inverse_transform(pca.transform(X)) - X) ** 2, 1))
    assert -ae.score(X) == pytest.approx(pca_error, rel=1e-3)


def test_large_sparsity_weight_drives_mean_activation_to_target(digits):
    X, _ = digits
    ae = SparseAutoencoder(
        n_components=20,
        sparsity_target=0.1,
        sparsity_weight=10.0,
        max_iter=150,
        random_state=0,
    ).fit(X)
    mean_activation = ae.transform(X).mean(axis=0)
    np.testing.assert_allclose(mean_activation, 0.1, atol=0.02)
    # without the penalty the units are far from the target
    free = clone(ae).set_params(sparsity_weight=0.0).fit(X)
    assert np.abs(free.transform(X).mean(axis=0) - 0.1).max() > 0.1


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_same_random_state_same_model(Estimator, digits):
    X, _ = digits
    a = Estimator(n_components=8, max_iter=5, random_state=42).fit(X[:300])
    b = Estimator(n_components=8, max_iter=5, random_state=42).fit(X[:300])
    c = Estimator(n_components=8, max_iter=5, random_state=43).fit(X[:300])
    np.testing.assert_array_equal(a.components_, b.components_)
    assert not np.array_equal(a.components_, c.components_)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_zero_noise_level_is_the_noise_free_model(solver, digits):
    X, _ = digits
    params = dict(n_components=8, max_iter=5, solver=solver, random_state=0)
    clean = SparseAutoencoder(sparsity_weight=0.0, **params).fit(X[:200])
    zero = DenoisingAutoencoder(noise_level=0.0, alpha=0.0001, **params).fit(X[:200])
    noisy = DenoisingAutoencoder(noise_level=0.3, alpha=0.0001, **params).fit(X[:200])
    np.testing.assert_array_equal(clean.components_, zero.components_)
    assert not np.allclose(clean.components_, noisy.components_)


def _reference_activation(name, z):
    return {
        "sigmoid": lambda: 1 / (1 + np.exp(-z)),
        "tanh": lambda: np.tanh(z),
        "relu": lambda: np.maximum(z, 0),
        "swish": lambda: z / (1 + np.exp(-z)),
        "identity": lambda: z,
    }[name]()


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "swish", "identity"])
def test_transform_inverse_transform_and_score_follow_their_formulas(activation, digits):
    X, _ = digits
    ae = DenoisingAutoencoder(
        n_components=8,
        activation=activation,
        output_activation=activation,
        noise_level=0.5,
        max_iter=3,
        random_state=0,
    ).fit(X[:200])
    # no corruption at transform time: exactly f(X W^T + b)
    H = _reference_activation(activation, X @ ae.components_.T + ae.intercept_hidden_)
    np.testing.assert_allclose(ae.transform(X), H, rtol=1e-12, atol=1e-12)
    X_hat = _reference_activation(activation, H @ ae.decoder_components_ + ae.intercept_visible_)
    np.testing.assert_allclose(ae.inverse_transform(H), X_hat, rtol=1e-12, atol=1e-12)
    expected = -0.5 * np.sum((X_hat - X) ** 2, axis=1)
    np.testing.assert_allclose(ae.score_samples(X), expected, rtol=1e-10)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_pipeline_learns_useful_features(Estimator, digits):
    X, y = digits
    pipe = make_pipeline(
        Estimator(n_components=32, max_iter=100, random_state=0),
        LogisticRegression(max_iter=500),
    )
    assert pipe.fit(X[:1200], y[:1200]).score(X[1200:], y[1200:]) > 0.8


def test_fitted_attributes_and_shapes(digits):
    X, _ = digits
    ae = SparseAutoencoder(n_components=10, max_iter=3, random_state=0).fit(X)
    assert ae.components_.shape == (10, 64)
    assert ae.decoder_components_.shape == (10, 64)
    assert ae.intercept_hidden_.shape == (10,)
    assert ae.intercept_visible_.shape == (64,)
    assert ae.n_features_in_ == 64 and ae.n_iter_ >= 1 and len(ae.loss_curve_) >= 1
    H = ae.transform(X)
    assert H.shape == (1797, 10)
    np.testing.assert_allclose(ae.fit_transform(X), H)
    assert ae.inverse_transform(H).shape == X.shape
    assert ae.score_samples(X).shape == (1797,)
    assert ae.score(X) == pytest.approx(ae.score_samples(X).mean())
    names = ae.get_feature_names_out()
    assert list(names[:2]) == ["sparseautoencoder0", "sparseautoencoder1"]
    tied = TiedAutoencoder(n_components=10, max_iter=3, random_state=0).fit(X)
    assert tied.decoder_components_ is tied.components_


def test_set_output_pandas(digits):
    pd = pytest.importorskip("pandas")
    X, _ = digits
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(64)])
    ae = TiedAutoencoder(n_components=5, max_iter=3, random_state=0).set_output(transform="pandas")
    out = ae.fit(frame).transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == [f"tiedautoencoder{i}" for i in range(5)]
    assert list(ae.feature_names_in_) == list(frame.columns)


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_float32_stays_float32(Estimator, digits):
    X, _ = digits
    X32 = X.astype(np.float32)
    ae = Estimator(n_components=8, max_iter=3, random_state=0).fit(X32)
    assert ae.components_.dtype == np.float32
    assert ae.transform(X32).dtype == np.float32
    assert ae.transform(X).dtype == np.float64
    assert ae.inverse_transform(ae.transform(X32)).dtype == np.float32


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_sparse_input_gives_the_dense_model(solver, digits):
    X, _ = digits
    params = dict(n_components=8, max_iter=4, solver=solver, random_state=0)
    dense = SparseAutoencoder(**params).fit(X[:300])
    sparse = SparseAutoencoder(**params).fit(sp.csr_matrix(X[:300]))
    np.testing.assert_allclose(sparse.components_, dense.components_, atol=1e-8)
    np.testing.assert_allclose(
        sparse.transform(sp.csr_matrix(X[:10])), dense.transform(X[:10]), atol=1e-8
    )
