"""Known answers for each corruption, the tanh reading of rho^ and the noise schedules.

Rates are checked on 200 000 draws against their binomial (or chi-square) spread: a
bound of 6 standard deviations fails by chance about once in 10^9 runs, yet catches a
rate or a sigma that is off by a few percent, let alone halved.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from skae import DenoisingAutoencoder
from skae._core import SPARSITY_MAPS, Corruption
from skae._core.activations import ACTIVATIONS
from skae._core.network import Autoencoder
from skae._core.penalties import kl_sparsity

N_ROWS, N_COLUMNS = 1000, 200  # 200 000 draws per corruption
LEVELS = [0.1, 0.25, 0.5]


def binomial_bound(p, n=N_ROWS * N_COLUMNS, sigmas=6):
    return sigmas * np.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("q", LEVELS)
def test_masking_zeroes_a_share_q_and_keeps_the_rest(q, dtype):
    x = np.random.default_rng(1).uniform(1, 2, (N_ROWS, N_COLUMNS)).astype(dtype)
    corrupted = Corruption("masking", q, seed=3)(x)
    assert corrupted.dtype == dtype and corrupted.shape == x.shape
    masked = corrupted == 0
    assert abs(masked.mean() - q) < binomial_bound(q)
    np.testing.assert_array_equal(corrupted[~masked], x[~masked])  # kept values untouched
    assert np.all(x > 0)  # the input is not modified


@pytest.mark.parametrize("q", LEVELS)
def test_masking_of_sparse_input_has_the_same_rate_and_stays_sparse(q):
    x = sp.random(N_ROWS, 2 * N_COLUMNS, density=0.5, format="csr", random_state=0)
    x.data += 1.0  # stored entries are nonzero
    corrupted = Corruption("masking", q, seed=3)(x)
    assert sp.issparse(corrupted)
    dropped = corrupted.data == 0
    assert abs(dropped.mean() - q) < binomial_bound(q, n=x.nnz)
    np.testing.assert_array_equal(corrupted.data[~dropped], x.data[~dropped])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("q", LEVELS + [2.0])
def test_gaussian_noise_has_mean_zero_and_sigma_q(q, dtype):
    x = np.random.default_rng(1).uniform(-1, 1, (N_ROWS, N_COLUMNS)).astype(dtype)
    corrupted = Corruption("gaussian", q, seed=3)(x)
    assert corrupted.dtype == dtype
    noise = (corrupted - x).astype(np.float64).ravel()
    n = noise.size
    assert abs(noise.mean()) < 6 * q / np.sqrt(n)
    # the sample standard deviation has a relative spread of about 1 / sqrt(2 n)
    assert abs(noise.std() / q - 1) < 6 / np.sqrt(2 * n)


@pytest.mark.parametrize("q", LEVELS + [1.0])
def test_salt_and_pepper_salts_and_peppers_each_at_half_q(q):
    x = np.full((N_ROWS, N_COLUMNS), 0.5)
    corrupted = Corruption("salt_and_pepper", q, seed=3)(x)
    pepper, salt = corrupted == 0.0, corrupted == 1.0
    untouched = corrupted == 0.5
    assert np.all(pepper | salt | untouched)
    assert abs(pepper.mean() - q / 2) < binomial_bound(q / 2)
    assert abs(salt.mean() - q / 2) < binomial_bound(q / 2)
    assert np.all(x == 0.5)  # the input is not modified


def test_salt_and_pepper_of_sparse_input_returns_dense_with_the_same_rates():
    x = sp.csr_matrix(np.full((N_ROWS, N_COLUMNS), 0.5))
    corrupted = Corruption("salt_and_pepper", 0.4, seed=3)(x)
    assert isinstance(corrupted, np.ndarray)
    assert abs((corrupted == 0).mean() - 0.2) < binomial_bound(0.2)
    assert abs((corrupted == 1).mean() - 0.2) < binomial_bound(0.2)


@pytest.mark.parametrize("kind", ["masking", "gaussian", "salt_and_pepper"])
def test_same_seed_and_key_same_noise_other_key_or_reseed_other_noise(kind):
    x = np.full((50, 40), 0.5)
    corruption = Corruption(kind, 0.3, seed=7)
    first = corruption(x, key=5)
    np.testing.assert_array_equal(corruption(x, key=5), first)
    assert not np.array_equal(corruption(x, key=6), first)
    corruption.reseed(np.random.default_rng(0))
    assert corruption.seed != 7
    assert not np.array_equal(corruption(x, key=5), first)


def test_gaussian_noise_of_sparse_input_is_the_dense_result():
    rng = np.random.default_rng(1)
    x = rng.random((40, 30)) * (rng.random((40, 30)) < 0.3)
    from_sparse = Corruption("gaussian", 0.2, seed=3)(sp.csr_matrix(x), key=4)
    assert type(from_sparse) is np.ndarray  # not np.matrix, not sparse
    np.testing.assert_array_equal(from_sparse, Corruption("gaussian", 0.2, seed=3)(x, key=4))


@pytest.mark.parametrize("kind,bound", [("masking", 2.0), ("salt_and_pepper", 3.0)])
def test_float32_noise_is_drawn_in_float32(kind, bound):
    # a float64 draw would double the temporaries of every float32 batch
    import tracemalloc

    x = np.random.default_rng(0).random((500, 1000), dtype=np.float32)
    tracemalloc.start()
    try:
        Corruption(kind, 0.3, seed=0)(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < bound * x.nbytes, peak / x.nbytes


# -- rho^ of tanh units: (a + 1) / 2 -----------------------------------------------------
def test_tanh_reads_as_a_probability_by_a_plus_one_over_two():
    scale, shift = SPARSITY_MAPS["tanh"]
    a = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    np.testing.assert_allclose(scale * a + shift, (a + 1) / 2)
    assert SPARSITY_MAPS["sigmoid"] == (1.0, 0.0)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_objective_adds_the_kl_of_the_mapped_mean_activation(activation):
    rng = np.random.default_rng(0)
    x = rng.random((30, 6))
    rho, beta = 0.2, 3.0
    sparse = Autoencoder(6, 4, activation=activation, sparsity_target=rho, sparsity_weight=beta)
    plain = Autoencoder(6, 4, activation=activation)
    theta = sparse.init_params(rng)
    theta += 0.3 * rng.standard_normal(theta.shape)  # hidden biases away from zero
    encoder = theta[:24].reshape(4, 6)
    bias = theta[24:28]
    hidden = ACTIVATIONS[activation](x @ encoder.T + bias, np.empty((30, 4)))
    rho_hat = hidden.mean(axis=0)
    if activation == "tanh":
        rho_hat = (rho_hat + 1) / 2
    expected_kl = beta * np.sum(
        rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    )
    penalty = sparse.objective(theta, x) - plain.objective(theta, x)
    assert penalty == pytest.approx(expected_kl, rel=1e-10)
    assert kl_sparsity(rho_hat, rho, beta)[0] == pytest.approx(expected_kl, rel=1e-12)


# -- schedules: when the noise is drawn afresh ------------------------------------------------
def record_draws(monkeypatch):
    """Count ``Corruption.reseed`` calls; record the (seed, key) of every corruption."""
    reseeds, draws = [], []
    original_reseed, original_call = Corruption.reseed, Corruption.__call__

    def reseed(self, rng):
        reseeds.append(True)
        return original_reseed(self, rng)

    def call(self, x, key=0):
        draws.append((self.seed, key))
        return original_call(self, x, key)

    monkeypatch.setattr(Corruption, "reseed", reseed)
    monkeypatch.setattr(Corruption, "__call__", call)
    return reseeds, draws


@pytest.mark.parametrize("solver", ["lbfgs", "cg"])
@pytest.mark.parametrize("max_iter,expected_draws", [(10, 1), (25, 3), (40, 4)])
def test_full_batch_noise_is_redrawn_every_10_iterations(
    solver, max_iter, expected_draws, monkeypatch
):
    reseeds, draws = record_draws(monkeypatch)
    X = np.random.default_rng(0).random((40, 12))
    ae = DenoisingAutoencoder(
        n_components=6, solver=solver, noise_level=0.3, max_iter=max_iter, tol=0.0,
        random_state=0,
    ).fit(X)  # fmt: skip
    assert ae.n_iter_ == max_iter  # tol=0: no early convergence, every round runs
    assert len(reseeds) == expected_draws
    seeds = list(dict.fromkeys(seed for seed, _ in draws))  # in order of first use
    assert len(seeds) == expected_draws  # one fixed draw per round, a new one per round


def test_minibatch_noise_is_fresh_for_every_batch_of_every_epoch(monkeypatch):
    reseeds, draws = record_draws(monkeypatch)
    X = np.random.default_rng(0).random((100, 8))
    DenoisingAutoencoder(
        n_components=3, solver="adam", noise_level=0.3, batch_size=25, max_iter=4,
        n_iter_no_change=100, random_state=0,
    ).fit(X)  # fmt: skip
    assert len(reseeds) == 4  # one new seed per epoch
    assert len(draws) == 16 and len(set(draws)) == 16  # 4 batches x 4 epochs, all distinct


def test_no_noise_at_level_zero(monkeypatch):
    reseeds, draws = record_draws(monkeypatch)
    X = np.random.default_rng(0).random((40, 6))
    DenoisingAutoencoder(n_components=3, noise_level=0.0, max_iter=3, random_state=0).fit(X)
    assert reseeds == [] and draws == []
