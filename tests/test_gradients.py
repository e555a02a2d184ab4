"""Every gradient against central finite differences, in float64."""

import itertools

import numpy as np
import pytest

from skae import DenoisingAutoencoder, SparseAutoencoder, TiedAutoencoder
from skae._core import ELEMENTWISE_ACTIVATIONS, SPARSITY_MAPS, Autoencoder
from skae.utils import check_gradients

TOLERANCE = 1e-6

PENALTIES = {
    "none": {"alpha": 0.0, "sparsity_weight": 0.0},
    "weight_decay": {"alpha": 0.3, "sparsity_weight": 0.0},
    "sparsity": {"alpha": 0.0, "sparsity_weight": 3.0, "sparsity_target": 0.1},
    "both": {"alpha": 0.3, "sparsity_weight": 3.0, "sparsity_target": 0.1},
}
LOSS_DECODERS = [
    ("squared_error", "identity"),
    ("squared_error", "sigmoid"),
    ("squared_error", "tanh"),
    ("squared_error", "relu"),
    ("squared_error", "swish"),
    ("cross_entropy", "sigmoid"),
]


def _combinations():
    for activation, (loss, output), tied, penalty in itertools.product(
        sorted(ELEMENTWISE_ACTIVATIONS), LOSS_DECODERS, [False, True], sorted(PENALTIES)
    ):
        if PENALTIES[penalty]["sparsity_weight"] and activation not in SPARSITY_MAPS:
            continue  # refused at fit, see test_bad_input
        yield activation, loss, output, tied, penalty


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).random((9, 6))


@pytest.mark.parametrize("activation,loss,output,tied,penalty", list(_combinations()))
def test_gradient_matches_finite_differences(data, activation, loss, output, tied, penalty):
    estimator = SparseAutoencoder(
        n_components=4,
        activation=activation,
        output_activation=output,
        loss=loss,
        tied=tied,
        random_state=1,
        **PENALTIES[penalty],
    )
    assert check_gradients(estimator, data) < TOLERANCE


@pytest.mark.parametrize("noise", ["masking", "gaussian", "salt_and_pepper"])
def test_gradient_with_noise_held_fixed(data, noise):
    estimator = DenoisingAutoencoder(
        n_components=4,
        noise=noise,
        noise_level=0.3,
        sparsity_weight=1.0,
        random_state=0,
    )
    assert check_gradients(estimator, data) < TOLERANCE


def test_gradient_at_fitted_parameters(data):
    estimator = TiedAutoencoder(n_components=4, alpha=0.01, max_iter=30, random_state=0)
    estimator.fit(data)
    assert check_gradients(estimator, data) < TOLERANCE


def test_check_gradients_refuses_the_wrong_width(data):
    estimator = TiedAutoencoder(n_components=4, max_iter=3, random_state=0).fit(data)
    with pytest.raises(ValueError, match="expects 6"):
        check_gradients(estimator, data[:, :5])


def test_check_gradients_detects_a_wrong_gradient(data, monkeypatch):
    # The checker must be able to fail: break the weight-decay gradient by a factor 2.
    import skae._core.network as network

    def wrong_decay(weights, alpha, grads=None, scratches=None):
        value = sum(0.5 * alpha * float(np.vdot(w, w)) for w in weights)
        for w, g in zip(weights, grads or [], strict=False):
            g += 2 * alpha * w
        return value

    monkeypatch.setattr(network, "weight_decay", wrong_decay)
    estimator = SparseAutoencoder(n_components=4, alpha=1.0, random_state=0)
    assert check_gradients(estimator, data) > 1e-3


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("sparsity_weight", [0.0, 3.0])
def test_chunked_objective_matches_one_block(tied, sparsity_weight):
    rng = np.random.default_rng(3)
    X = rng.random((50, 7))
    network = Autoencoder(
        7, 5, tied=tied, alpha=0.1, sparsity_weight=sparsity_weight, sparsity_target=0.2
    )
    theta = network.init_params(rng)
    whole, chunked = np.empty_like(theta), np.empty_like(theta)
    value_whole = network.objective(theta, X, whole)
    value_chunked = network.objective(theta, X, chunked, chunk_size=8)
    assert value_chunked == pytest.approx(value_whole, rel=0, abs=1e-10)
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-10)
