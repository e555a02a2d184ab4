"""Tests of skae.preprocessing.ZCAWhitening against its definition."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skae.preprocessing import ZCAWhitening


@pytest.fixture
def correlated():
    rng = np.random.default_rng(0)
    mixing = rng.standard_normal((5, 5))
    return rng.standard_normal((2000, 5)) @ mixing + rng.standard_normal(5)


@parametrize_with_checks([ZCAWhitening()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_output_covariance_is_identity_up_to_epsilon(correlated):
    epsilon = 0.5
    zca = ZCAWhitening(epsilon=epsilon).fit(correlated)
    white = zca.transform(correlated)
    np.testing.assert_allclose(white.mean(axis=0), 0, atol=1e-10)
    covariance = white.T @ white / len(white)
    # cov(out) = U diag(S / (S + eps)) U^T: eigenvalues S / (S + eps), not 1
    eigenvalues = np.linalg.eigvalsh(covariance)[::-1]
    S = np.linalg.eigvalsh(np.cov(correlated.T, bias=True))[::-1]
    np.testing.assert_allclose(eigenvalues, S / (S + epsilon), rtol=1e-8)
    np.testing.assert_allclose(zca.eigenvalues_, S, rtol=1e-8)
    tiny = ZCAWhitening(epsilon=1e-12).fit(correlated).transform(correlated)
    np.testing.assert_allclose(tiny.T @ tiny / len(tiny), np.eye(5), atol=1e-8)


def test_whitening_matrix_is_symmetric_and_zca_not_pca(correlated):
    zca = ZCAWhitening(epsilon=1e-3).fit(correlated)
    np.testing.assert_array_equal(zca.whitening_, zca.whitening_.T)
    np.testing.assert_array_equal(zca.dewhitening_, zca.dewhitening_.T)
    np.testing.assert_allclose(zca.whitening_ @ zca.dewhitening_, np.eye(5), atol=1e-10)
    # W = C^(-1/2) (with eps): W C W = I - eps W^2 (exact with eps)
    C = np.cov(correlated.T, bias=True)
    W = zca.whitening_
    np.testing.assert_allclose(W @ (C + 1e-3 * np.eye(5)) @ W, np.eye(5), atol=1e-10)
    # positive definite: ZCA is the symmetric whitening, no rotation or reflection
    assert np.all(np.linalg.eigvalsh(W) > 0)


def test_inverse_transform_undoes_transform(correlated):
    zca = ZCAWhitening(epsilon=0.1).fit(correlated)
    np.testing.assert_allclose(
        zca.inverse_transform(zca.transform(correlated)), correlated, rtol=1e-10, atol=1e-10
    )


def test_float32_is_kept(correlated):
    X32 = correlated.astype(np.float32)
    zca = ZCAWhitening(epsilon=1e-3).fit(X32)
    assert zca.whitening_.dtype == np.float32 and zca.mean_.dtype == np.float32
    white = zca.transform(X32)
    assert white.dtype == np.float32
    assert zca.inverse_transform(white).dtype == np.float32
    reference = ZCAWhitening(epsilon=1e-3).fit(correlated).transform(correlated)
    np.testing.assert_allclose(white, reference, rtol=1e-3, atol=1e-3)


def test_copy_false_centres_in_place(correlated):
    X = correlated.copy()
    zca = ZCAWhitening(copy=False).fit(X)
    zca.transform(X)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-10)
    Y = correlated.copy()
    ZCAWhitening().fit(Y).transform(Y)
    np.testing.assert_array_equal(Y, correlated)


@pytest.mark.parametrize("epsilon", [0, -1.0])
def test_epsilon_must_be_positive(correlated, epsilon):
    with pytest.raises(ValueError, match="epsilon"):
        ZCAWhitening(epsilon=epsilon).fit(correlated)
