"""dask: Incremental trains block by block, ParallelPostFit transforms blockwise, and
GridSearchCV runs on a dask.distributed LocalCluster through joblib's dask backend.

Each result is compared with the same computation in memory, bit for bit.
"""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV

from skae import DenoisingAutoencoder, SparseAutoencoder, TiedAutoencoder

da = pytest.importorskip("dask.array")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")
distributed = pytest.importorskip("distributed")

N_ROWS, N_FEATURES, BLOCK = 1200, 12, 100  # 12 blocks


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).random((N_ROWS, N_FEATURES))


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_incremental_trains_like_partial_fit_on_the_same_blocks(solver, X):
    dX = da.from_array(X, chunks=(BLOCK, N_FEATURES))
    assert dX.numblocks[0] == 12
    params = {"n_components": 4, "solver": solver, "random_state": 0}
    incremental = dask_ml_wrappers.Incremental(
        DenoisingAutoencoder(**params), shuffle_blocks=False
    ).fit(dX)
    in_memory = DenoisingAutoencoder(**params)
    for start in range(0, N_ROWS, BLOCK):
        in_memory.partial_fit(X[start : start + BLOCK])
    trained = incremental.estimator_
    assert trained.n_iter_ == 12
    np.testing.assert_array_equal(trained.components_, in_memory.components_)
    assert trained.loss_curve_ == in_memory.loss_curve_


def test_incremental_with_shuffled_blocks_trains_every_block_once(X):
    dX = da.from_array(X, chunks=(BLOCK, N_FEATURES))
    incremental = dask_ml_wrappers.Incremental(
        DenoisingAutoencoder(n_components=4, random_state=0), shuffle_blocks=True, random_state=0
    ).fit(dX)
    assert incremental.estimator_.n_iter_ == 12
    assert np.all(np.isfinite(incremental.estimator_.components_))


def test_parallel_post_fit_transforms_a_dask_array_blockwise(X):
    ae = TiedAutoencoder(n_components=5, max_iter=5, random_state=0).fit(X)
    dX = da.from_array(X, chunks=(BLOCK, N_FEATURES))
    H = dask_ml_wrappers.ParallelPostFit(ae).transform(dX)
    assert isinstance(H, da.Array) and H.numblocks[0] == 12
    np.testing.assert_array_equal(H.compute(), ae.transform(X))


def test_score_samples_and_inverse_transform_through_map_blocks(X):
    # ParallelPostFit wraps transform and predict only; the other methods map the blocks
    ae = TiedAutoencoder(n_components=5, max_iter=5, random_state=0).fit(X)
    dX = da.from_array(X, chunks=(BLOCK, N_FEATURES))
    scores = dX.map_blocks(ae.score_samples, drop_axis=1, dtype=X.dtype)
    np.testing.assert_array_equal(scores.compute(), ae.score_samples(X))
    dH = dX.map_blocks(ae.transform, chunks=(BLOCK, 5), dtype=X.dtype)
    X_hat = dH.map_blocks(ae.inverse_transform, chunks=(BLOCK, N_FEATURES), dtype=X.dtype)
    np.testing.assert_array_equal(X_hat.compute(), ae.inverse_transform(ae.transform(X)))


def test_grid_search_on_a_local_cluster_through_joblib(X):
    joblib = pytest.importorskip("joblib")
    grid = {"n_components": [2, 4], "alpha": [0.0, 0.1]}

    def search(n_jobs):
        estimator = SparseAutoencoder(max_iter=10, random_state=0)
        return GridSearchCV(estimator, grid, cv=3, n_jobs=n_jobs)

    in_memory = search(n_jobs=1).fit(X[:300])
    # processes=False keeps start-up fast; tcp (not in-process) so 127.0.0.1 is honoured
    with (
        distributed.LocalCluster(
            host="127.0.0.1",
            protocol="tcp",
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert client.scheduler_info()["address"].startswith("tcp://127.0.0.1:")
        with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
            on_cluster = search(n_jobs=-1).fit(X[:300])
        # the fits ran on the workers (joblib may batch several fits into one task)
        assert len(tasks.data) >= 1
    assert cluster.status.name == "closed"
    assert on_cluster.best_params_ == in_memory.best_params_
    np.testing.assert_array_equal(
        on_cluster.cv_results_["mean_test_score"], in_memory.cv_results_["mean_test_score"]
    )
