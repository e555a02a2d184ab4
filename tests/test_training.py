"""The training engine: partial_fit, early stopping, divergence, warnings, solvers."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skae import DenoisingAutoencoder, SparseAutoencoder, TiedAutoencoder
from skae._core import OPTIMIZERS


@pytest.fixture(scope="module")
def X():
    return load_digits().data[:400] / 16.0


def test_partial_fit_once_equals_one_epoch_of_fit(X):
    params = dict(n_components=6, solver="adam", batch_size=50, random_state=0)
    one_epoch = DenoisingAutoencoder(max_iter=1, **params).fit(X)
    streamed = DenoisingAutoencoder(**params).partial_fit(X)
    np.testing.assert_array_equal(streamed.components_, one_epoch.components_)
    assert streamed.n_iter_ == 1


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_over_batches_is_one_step_per_batch(X, solver):
    # One batch per call: each partial_fit must be exactly one optimiser step from the
    # parameters the previous call left, on that batch's gradient.
    batches = [X[:100], X[100:200], X[200:300]]
    ae = SparseAutoencoder(n_components=5, solver=solver, batch_size=100, random_state=0)
    returned = ae.partial_fit(batches[0])
    assert returned is ae
    network = ae._network(X.shape[1], X.dtype)
    theta = ae._fitted_params(network)
    reference = SparseAutoencoder(n_components=5, solver=solver, random_state=0)
    optimizer = OPTIMIZERS[solver](
        reference._network(64, X.dtype).init_params(
            np.random.default_rng(np.random.RandomState(0).randint(np.iinfo(np.int32).max))
        ),
        learning_rate=ae.learning_rate_init,
        **({"momentum": ae.momentum} if solver == "sgd" else {}),
    )
    grad = np.empty_like(theta)
    for batch in batches:
        network.objective(optimizer.params, batch, grad)
        optimizer.step(grad)
        if batch is batches[0]:
            np.testing.assert_allclose(theta, optimizer.params, rtol=1e-10, atol=1e-12)
        else:
            ae.partial_fit(batch)
    np.testing.assert_allclose(ae._fitted_params(network), optimizer.params, rtol=1e-9, atol=1e-12)
    assert ae.n_iter_ == 3


def test_partial_fit_continues_a_fitted_model(X):
    ae = DenoisingAutoencoder(n_components=6, max_iter=3, random_state=0).fit(X)
    before = ae.score(X)
    for _ in range(5):
        ae.partial_fit(X)
    assert ae.n_iter_ == 8
    assert ae.score(X) > before


def test_early_stopping_stops_and_records_validation(X):
    ae = DenoisingAutoencoder(
        n_components=6,
        early_stopping=True,
        n_iter_no_change=2,
        tol=1e3,  # nothing counts as an improvement after the first epoch
        max_iter=50,
        random_state=0,
    ).fit(X)
    assert ae.n_iter_ == 3
    assert len(ae.validation_scores_) == 3
    assert ae.best_validation_score_ == max(ae.validation_scores_)


def test_early_stopping_keeps_the_best_parameters(X):
    params = dict(
        n_components=6,
        early_stopping=True,
        n_iter_no_change=30,
        learning_rate_init=0.2,
        random_state=0,
    )
    long_run = DenoisingAutoencoder(max_iter=20, **params).fit(X)
    best_epoch = int(np.argmax(long_run.validation_scores_)) + 1
    assert best_epoch < 20  # the validation score did fall back: the test means something
    # The same run stopped at the best epoch ends with the parameters that were kept.
    short_run = DenoisingAutoencoder(max_iter=best_epoch, **params).fit(X)
    np.testing.assert_array_equal(long_run.components_, short_run.components_)
    assert long_run.best_validation_score_ == max(long_run.validation_scores_)


@pytest.mark.parametrize("solver,dtype", [("sgd", np.float64), ("adam", np.float32)])
def test_divergence_keeps_finite_parameters_and_warns(X, solver, dtype):
    ae = SparseAutoencoder(
        n_components=6,
        activation="identity",
        output_activation="identity",
        sparsity_weight=0,
        solver=solver,
        learning_rate_init=1e10,
        max_iter=20,
        random_state=0,
    )
    with pytest.warns(RuntimeWarning, match="learning_rate_init"):
        ae.fit((X * 100).astype(dtype))
    assert np.all(np.isfinite(ae.components_))
    assert np.all(np.isfinite(ae.transform(X)))


def test_max_iter_gives_convergence_warning(X):
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        TiedAutoencoder(n_components=6, max_iter=2, random_state=0).fit(X)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        DenoisingAutoencoder(n_components=6, max_iter=2, random_state=0).fit(X)


def test_converged_fit_gives_no_warning():
    X = np.random.default_rng(0).random((30, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        TiedAutoencoder(n_components=2, max_iter=5000, random_state=0).fit(X)


def test_verbose_prints_one_line_per_epoch(X, capsys):
    DenoisingAutoencoder(n_components=6, max_iter=3, verbose=1, random_state=0).fit(X)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("Epoch 1, loss = ") and "left" in lines[0]
    DenoisingAutoencoder(n_components=6, max_iter=3, verbose=0, random_state=0).fit(X)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("solver", ["lbfgs", "cg", "adam", "sgd"])
def test_every_solver_lowers_the_loss(X, solver):
    ae = SparseAutoencoder(
        n_components=8, solver=solver, max_iter=30, learning_rate_init=0.01, random_state=0
    ).fit(X)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    assert ae.n_iter_ >= 1


def test_warm_start_continues(X):
    ae = TiedAutoencoder(n_components=6, max_iter=5, warm_start=True, random_state=0)
    first = ae.fit(X).score(X)
    second = ae.fit(X).score(X)
    assert second > first
    assert ae.n_iter_ == 10
