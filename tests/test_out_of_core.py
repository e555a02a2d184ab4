"""Data bigger than memory: a np.memmap trains through partial_fit block by block, and
transform, score_samples and inverse_transform work through X in blocks of chunk_size rows.

Memory is measured as ``benchmarks/bench_training.py`` does: tracemalloc started after X
exists (NumPy reports its buffers to it; the pages of a memmap are not allocations), so the
peak is what the call allocates.
"""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from skae import DenoisingAutoencoder, SparseAutoencoder, TiedAutoencoder

N_ROWS, N_FEATURES, N_COMPONENTS = 100_000, 64, 16
BLOCK = 2_000


def peak_bytes(run):
    """Peak bytes allocated while ``run()`` runs, and its result."""
    tracemalloc.start()
    try:
        result = run()
        return tracemalloc.get_traced_memory()[1], result
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def memmap_X(tmp_path_factory):
    """A float32 .npy file of 100000 x 64 (25.6 MB), opened read-only as a memmap."""
    path = tmp_path_factory.mktemp("data") / "X.npy"
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(N_ROWS, N_FEATURES))
    rng = np.random.default_rng(0)
    for start in range(0, N_ROWS, 10_000):  # written in blocks too
        X[start : start + 10_000] = rng.random((10_000, N_FEATURES), dtype=np.float32)
    X.flush()
    del X
    return np.load(path, mmap_mode="r")


def train_by_blocks(estimator, X):
    for start in range(0, X.shape[0], BLOCK):
        estimator.partial_fit(X[start : start + BLOCK])
    return estimator


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_memmap_trains_by_partial_fit_in_a_quarter_of_its_size(solver, memmap_X):
    budget = memmap_X.nbytes // 4  # the memory the training may use: a quarter of X
    params = {"n_components": N_COMPONENTS, "solver": solver, "random_state": 0}
    peak, on_disk = peak_bytes(lambda: train_by_blocks(DenoisingAutoencoder(**params), memmap_X))
    assert peak < budget, f"peak {peak / 1e6:.1f} MB, budget {budget / 1e6:.1f} MB"
    assert on_disk.n_iter_ == N_ROWS // BLOCK
    # the same blocks in memory give the same model, bit for bit
    in_memory = DenoisingAutoencoder(**params)
    for start in range(0, N_ROWS, BLOCK):
        in_memory.partial_fit(np.array(memmap_X[start : start + BLOCK]))
    np.testing.assert_array_equal(on_disk.components_, in_memory.components_)
    assert on_disk.loss_curve_ == in_memory.loss_curve_


@pytest.fixture(scope="module")
def fitted(memmap_X):
    return train_by_blocks(
        SparseAutoencoder(n_components=N_COMPONENTS, solver="adam", random_state=0), memmap_X
    )


METHODS = {
    "transform": lambda ae, X: ae.transform(X),
    "score_samples": lambda ae, X: ae.score_samples(X),
    "inverse_transform": lambda ae, X: ae.inverse_transform(X[:, :N_COMPONENTS]),
}


@pytest.mark.parametrize("method", METHODS)
def test_blockwise_methods_need_memory_for_the_output_and_one_block(method, fitted, memmap_X):
    ae = fitted.set_params(chunk_size=1000)
    peak, output = peak_bytes(lambda: METHODS[method](ae, memmap_X))
    assert output.dtype == np.float32 and output.shape[0] == N_ROWS
    # one block: its input densified, its activations and its output, a few times over
    one_block = 4 * 1000 * (N_FEATURES + N_COMPONENTS) * memmap_X.itemsize
    assert peak - output.nbytes < one_block, (peak, output.nbytes, one_block)
    # all at once (chunk_size=None) needs more, so the bound is a real one
    whole_peak, whole_output = peak_bytes(
        lambda: METHODS[method](ae.set_params(chunk_size=None), memmap_X)
    )
    assert whole_peak - whole_output.nbytes > one_block
    np.testing.assert_allclose(whole_output, output, rtol=1e-5, atol=1e-6)
    ae.set_params(chunk_size=1000)


@pytest.mark.parametrize("Estimator", [SparseAutoencoder, TiedAutoencoder])
@pytest.mark.parametrize("layout", [sp.csr_matrix, sp.csc_matrix])
def test_sparse_input_is_transformed_in_blocks_like_dense(Estimator, layout):
    rng = np.random.default_rng(0)
    X = rng.random((503, 20)) * (rng.random((503, 20)) < 0.2)
    ae = Estimator(n_components=6, max_iter=5, chunk_size=50, random_state=0).fit(X)
    np.testing.assert_allclose(ae.transform(layout(X)), ae.transform(X), rtol=1e-12)
    np.testing.assert_allclose(ae.score_samples(layout(X)), ae.score_samples(X), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chunk_size", [1, 7, 100, None])
def test_block_size_does_not_change_the_result(dtype, chunk_size):
    X = np.random.default_rng(1).random((100, 9)).astype(dtype)
    ae = TiedAutoencoder(n_components=4, activation="swish", max_iter=3, random_state=0).fit(X)
    whole = ae.set_params(chunk_size=None)
    H, scores = whole.transform(X), whole.score_samples(X)
    X_hat = whole.inverse_transform(H)
    ae.set_params(chunk_size=chunk_size)
    tolerance = 1e-6 if dtype == np.float32 else 1e-13
    for got, expected in [
        (ae.transform(X), H),
        (ae.score_samples(X), scores),
        (ae.inverse_transform(H), X_hat),
    ]:
        assert got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)
