"""The training engine: partial_fit, early stopping, divergence, warnings, solvers."""

import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

from skae import DenoisingAutoencoder, SparseAutoencoder, StackedAutoencoder, TiedAutoencoder
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
        reference._network(64, X.dtype, ae.fitted_settings()).init_params(
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
        random_state=1,
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


DEAD_RELU = dict(
    n_components=16,
    activation="relu",
    output_activation="identity",
    loss="squared_error",
    sparsity_weight=0.0,
    solver="sgd",
    max_iter=5,
    random_state=0,
)


def _fit_expecting_dead_codes(estimator, X, match):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(RuntimeWarning, match=match) as record:
            estimator.fit(X)
    # the warning points at the caller's line, as scikit-learn's warnings do
    assert any(w.filename == __file__ for w in record if w.category is RuntimeWarning)


@pytest.mark.parametrize(
    "Estimator,step",
    # steps that kill every unit of each class here (larger ones may diverge instead)
    [(SparseAutoencoder, 1.0), (DenoisingAutoencoder, 0.7), (TiedAutoencoder, 0.7)],
)
@pytest.mark.parametrize("kind", ["dense float64", "csr float32"])
def test_codes_that_carry_no_information_warn(X, Estimator, step, kind):
    # too large a step kills every relu unit: the loss stays finite, the codes are zeros
    data = X if kind == "dense float64" else sp.csr_matrix(X.astype(np.float32))
    ae = Estimator(learning_rate_init=step, **DEAD_RELU)
    _fit_expecting_dead_codes(ae, data, "all 16 hidden units give the same value")
    assert np.all(np.isfinite(ae.loss_curve_))
    np.testing.assert_array_equal(ae.transform(data), 0.0)


def test_stack_fine_tuned_to_dead_codes_warns(X):
    steps = [("first", TiedAutoencoder(**{**DEAD_RELU, "learning_rate_init": 0.01}))]
    stack = StackedAutoencoder(
        steps,
        fine_tune_solver="sgd",
        fine_tune_learning_rate=1.0,
        fine_tune_max_iter=5,
        random_state=0,
    )
    _fit_expecting_dead_codes(stack, X, "Lower fine_tune_learning_rate")
    np.testing.assert_array_equal(stack.transform(X), 0.0)


def test_stack_warnings_point_at_the_callers_line(X):
    layer = TiedAutoencoder(n_components=8, solver="adam", max_iter=2, random_state=0)
    stack = StackedAutoencoder([("layer", layer)], fine_tune_max_iter=2, random_state=0)
    with pytest.warns(ConvergenceWarning) as record:
        stack.fit(X)
    [own] = [w for w in record if str(w.message).startswith("StackedAutoencoder")]
    assert own.filename == __file__


@pytest.mark.parametrize("Estimator", [SparseAutoencoder, DenoisingAutoencoder, TiedAutoencoder])
def test_informative_codes_do_not_warn(X, Estimator):
    ae = Estimator(learning_rate_init=0.01, **DEAD_RELU)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        ae.fit(X)
    assert np.ptp(ae.transform(X), axis=0).max() > 0


@pytest.mark.parametrize("sparse", [False, True])
def test_identical_rows_rightly_share_a_code_without_warning(X, sparse):
    # the same input row must give the same code: that is no sign of a broken fit
    repeated = np.repeat(X[3:4], 50, axis=0)
    data = sp.csr_matrix(repeated) if sparse else repeated
    ae = TiedAutoencoder(learning_rate_init=0.01, **{**DEAD_RELU, "max_iter": 2})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        ae.fit(data)
    codes = ae.transform(data)
    assert np.all(codes == codes[0])


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


def test_each_minibatch_gets_its_own_noise(X, monkeypatch):
    import skae._core.network as network_module

    inputs = []
    original = network_module.Network.objective

    def spy(self, theta, x, grad=None, corrupt=None, chunk_size=None, **kwargs):
        inputs.append(corrupt(x, 0) == 0)
        return original(self, theta, x, grad, corrupt, chunk_size, **kwargs)

    monkeypatch.setattr(network_module.Network, "objective", spy)
    ones = np.ones((400, 10))
    DenoisingAutoencoder(
        n_components=3, noise_level=0.5, batch_size=100, max_iter=2, random_state=0
    ).fit(ones)
    assert len(inputs) == 8
    masks = [m.tobytes() for m in inputs]
    assert len(set(masks)) == 8  # every batch of every epoch a fresh draw


def test_divergence_with_early_stopping_keeps_the_best_parameters(X):
    ae = DenoisingAutoencoder(
        n_components=6,
        activation="identity",
        output_activation="identity",
        solver="sgd",
        learning_rate_init=0.05,
        early_stopping=True,
        max_iter=30,
        random_state=0,
    )
    with pytest.warns(RuntimeWarning, match="learning_rate_init"):
        ae.fit(X * 30)
    assert np.isfinite(ae.score(X * 30))
    assert np.all(np.isfinite(ae.components_))


def test_full_batch_divergence_warns():
    X = np.random.default_rng(0).random((20, 4)) * 1e200
    ae = TiedAutoencoder(
        n_components=2, activation="identity", output_activation="identity", random_state=0
    )
    with pytest.warns(RuntimeWarning, match="non-finite"):
        ae.fit(X)
    assert np.all(np.isfinite(ae.components_))


def test_warm_start_with_early_stopping_starts_fresh_bookkeeping(X):
    ae = DenoisingAutoencoder(
        n_components=6,
        early_stopping=True,
        warm_start=True,
        max_iter=4,
        n_iter_no_change=50,
        random_state=0,
    )
    ae.fit(X)
    ae.fit(X)
    assert len(ae.validation_scores_) == 4 and ae.n_iter_ == 8
    # early stopping switched on between warm fits works too
    other = DenoisingAutoencoder(n_components=6, warm_start=True, max_iter=2, random_state=0)
    other.fit(X)
    other.set_params(early_stopping=True).fit(X)
    assert len(other.validation_scores_) == 2


def test_warm_start_with_another_solver_uses_it(X):
    ae = DenoisingAutoencoder(n_components=6, warm_start=True, max_iter=2, random_state=0)
    ae.fit(X)
    ae.set_params(solver="sgd").fit(X)
    assert type(ae._history.optimizer).__name__ == "SGD"


@pytest.mark.parametrize(
    "change,name", [({"n_components": 7}, "n_components"), ({"tied": True}, "tied")]
)
def test_warm_start_refuses_a_changed_shape(X, change, name):
    ae = DenoisingAutoencoder(n_components=6, warm_start=True, max_iter=2, random_state=0)
    ae.fit(X)
    with pytest.raises(ValueError, match=name):
        ae.set_params(**change).fit(X)
    assert ae.components_.shape == (6, 64)


def test_validation_fraction_must_leave_training_rows():
    with pytest.raises(ValueError, match="validation_fraction"):
        DenoisingAutoencoder(early_stopping=True, validation_fraction=0.9).fit(np.ones((3, 2)))


def test_failed_warm_fit_leaves_the_training_history(X):
    ae = DenoisingAutoencoder(n_components=6, warm_start=True, max_iter=2, random_state=0)
    ae.fit(X)
    curve, n_iter = list(ae.loss_curve_), ae.n_iter_
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning):
            ae.fit(X)
    assert ae.loss_curve_ == curve and ae.n_iter_ == n_iter


def test_optimisers_follow_their_textbook_updates():
    rng = np.random.default_rng(0)
    start = rng.normal(size=20)
    adam_params, sgd_params = start.copy(), start.copy()
    adam = OPTIMIZERS["adam"](adam_params, learning_rate=0.01)
    sgd = OPTIMIZERS["sgd"](sgd_params, learning_rate=0.01, momentum=0.9)
    theta_adam, theta_sgd = start.copy(), start.copy()
    m, v, velocity = np.zeros(20), np.zeros(20), np.zeros(20)
    for t in range(1, 25):
        g = rng.normal(size=20)
        adam.step(g)
        sgd.step(g)
        # Adam as scikit-learn writes it
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        theta_adam -= 0.01 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (np.sqrt(v) + 1e-8)
        # Nesterov momentum
        velocity = 0.9 * velocity - 0.01 * g
        theta_sgd += 0.9 * velocity - 0.01 * g
    np.testing.assert_allclose(adam_params, theta_adam, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sgd_params, theta_sgd, rtol=0, atol=1e-12)


@pytest.mark.parametrize("solver,block", [("lbfgs", 50), ("adam", 64)])
def test_sparse_input_is_densified_one_block_at_a_time(X, monkeypatch, solver, block):
    import scipy.sparse as sp

    rows_densified = []
    original = sp.csr_matrix.toarray

    def spy(self, *args, **kwargs):
        rows_densified.append(self.shape[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", spy)
    SparseAutoencoder(
        n_components=5, solver=solver, chunk_size=50, batch_size=64, max_iter=3, random_state=0
    ).fit(sp.csr_matrix(X))
    assert rows_densified and max(rows_densified) <= block < X.shape[0]


@pytest.mark.parametrize("noise", ["masking", "gaussian", "salt_and_pepper"])
def test_noise_keeps_float32_even_with_numpy_float64_levels(noise):
    # a scipy.stats draw is a NumPy float64: it must not upcast float32 data (NEP 50)
    from skae._core import Corruption

    X32 = np.random.default_rng(0).random((20, 5), dtype=np.float32)
    corrupted = Corruption(noise, np.float64(0.3), seed=0)(X32)
    assert corrupted.dtype == np.float32


class _RecordingAdam(OPTIMIZERS["adam"]):
    """Adam that records the step size each update was taken with."""

    rates = []

    def step(self, grad, decay=()):
        self.rates.append(self.learning_rate)
        return super().step(grad, decay)


def test_cosine_schedule_anneals_every_batch_to_zero(X, monkeypatch):
    monkeypatch.setitem(OPTIMIZERS, "adam", _RecordingAdam)  # the engine's own table
    _RecordingAdam.rates = []
    ae = TiedAutoencoder(
        n_components=5,
        solver="adam",
        batch_size=150,
        max_iter=4,
        learning_rate="cosine",
        learning_rate_init=np.float64(0.01),
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X)
    n_steps = 4 * 3  # 400 rows in batches of 150: 3 per epoch
    expected = 0.01 * (1 + np.cos(np.pi * np.arange(n_steps) / n_steps)) / 2
    np.testing.assert_allclose(_RecordingAdam.rates, expected, rtol=1e-12)
    # Python floats, even from a NumPy learning_rate_init: no float64 update of float32
    assert all(type(rate) is float for rate in _RecordingAdam.rates)
    # partial_fit has no horizon: it steps at learning_rate_init, not the decayed rate
    _RecordingAdam.rates = []
    ae.partial_fit(X)
    assert _RecordingAdam.rates == [0.01] * 3


def test_constant_schedule_keeps_the_initial_rate(X, monkeypatch):
    monkeypatch.setitem(OPTIMIZERS, "adam", _RecordingAdam)  # the engine's own table
    _RecordingAdam.rates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        SparseAutoencoder(
            n_components=5, solver="adam", batch_size=200, max_iter=3, random_state=0
        ).fit(X)
    assert _RecordingAdam.rates == [0.001] * 6


def test_cosine_schedule_ends_near_the_pca_floor_where_constant_steps_cannot(X):
    # A linear tied autoencoder's best reconstruction is PCA's. Big constant Adam steps
    # on small batches hover above it; annealed to zero on the same budget, they settle.
    X = X[:200]
    pca = PCA(n_components=8).fit(X)
    floor = 0.5 * np.mean(np.sum((X - pca.inverse_transform(pca.transform(X))) ** 2, axis=1))
    params = dict(n_components=8, activation="identity", output_activation="identity")
    params.update(solver="adam", batch_size=10, max_iter=30, tol=0.0, learning_rate_init=0.1)
    constant = TiedAutoencoder(random_state=0, **params).fit(X)
    cosine = TiedAutoencoder(learning_rate="cosine", random_state=0, **params).fit(X)
    gap_constant, gap_cosine = -constant.score(X) - floor, -cosine.score(X) - floor
    assert 0 <= gap_cosine < gap_constant / 2


# -- the annealed sparsity level (Makhzani & Frey 2013: k falls over the first half) --
def _record_selections(monkeypatch, selection_class):
    """Record, at every training selection, the level used and what each mask kept."""
    calls = []
    original = selection_class.select

    def recording(self, a, mask):
        original(self, a, mask)
        calls.append((self.level, mask.sum(axis=1), mask.sum(axis=0)))

    monkeypatch.setattr(selection_class, "select", recording)
    return calls


def _record_final_selection(monkeypatch):
    """The encoder's selection object as the engine leaves it at the end of each fit."""
    import skae._base

    final = []
    original = skae._base.train

    def recording(network, *args, **kwargs):
        status = original(network, *args, **kwargs)
        final.append(network.layers[0].sparsity.level)
        return status

    monkeypatch.setattr(skae._base, "train", recording)
    return final


def _k_sparse(**params):
    defaults = dict(n_components=20, activation="relu", sparsity="top_k", sparsity_target=0.1)
    defaults.update(solver="adam", batch_size=200, random_state=0)
    return TiedAutoencoder(**{**defaults, **params})


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_annealed_k_before_every_epoch_follows_the_linear_schedule(X, monkeypatch):
    from skae._core.penalties import TopKSparsity

    calls = _record_selections(monkeypatch, TopKSparsity)
    final = _record_final_selection(monkeypatch)
    ae = _k_sparse(initial_sparsity_target=0.5, max_iter=7).fit(X)
    # k from 10 (0.5 of 20 units) to 2 (0.1) over the first 3.5 of 7 epochs, then 2
    k_start, k_end, half = 10, 2, 7 / 2
    expected = [round(k_start + (k_end - k_start) * min(1, e / half)) for e in range(7)]
    assert expected == [10, 8, 5, 3, 2, 2, 2]  # the schedule worked out by hand
    n_batches = 2  # 400 rows in batches of 200
    assert [level for level, _, _ in calls] == [k for k in expected for _ in range(n_batches)]
    for level, kept_per_row, _ in calls:
        assert np.all(kept_per_row == level)
    # the fit ends at the target k; a later partial_fit trains at it, and so reads transform
    assert final == [2]
    calls.clear()
    ae.partial_fit(X)
    assert len(calls) == n_batches
    for level, kept_per_row, _ in calls:
        assert level == 2 and np.all(kept_per_row == 2)
    # a warm-started fit anneals afresh
    calls.clear()
    ae.set_params(warm_start=True, max_iter=2).fit(X)
    assert [level for level, _, _ in calls] == [10, 10, 2, 2]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_annealed_lifetime_share_follows_the_same_schedule(X, monkeypatch):
    from skae._core.penalties import LifetimeSparsity

    calls = _record_selections(monkeypatch, LifetimeSparsity)
    final = _record_final_selection(monkeypatch)
    params = dict(sparsity="lifetime", sparsity_target=0.05, initial_sparsity_target=0.45)
    _k_sparse(max_iter=4, **params).fit(X)
    shares = [0.45 + (0.05 - 0.45) * min(1, e / 2) for e in range(4)]  # 0.45, 0.25, 0.05...
    assert [level for level, _, _ in calls[::2]] == pytest.approx(shares)
    for level, _, kept_per_unit in calls:
        assert np.all(kept_per_unit == np.ceil(level * 200))  # winners among 200 rows
    assert final == pytest.approx([0.05])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_no_annealing_is_the_plain_fit(X):
    plain = _k_sparse(max_iter=4).fit(X)
    assert plain.initial_sparsity_target is None
    # starting at the target anneals nothing: the same model, bit for bit
    from_target = _k_sparse(max_iter=4, initial_sparsity_target=0.1).fit(X)
    np.testing.assert_array_equal(from_target.components_, plain.components_)
    annealed = _k_sparse(max_iter=4, initial_sparsity_target=0.5).fit(X)
    assert not np.array_equal(annealed.components_, plain.components_)
    # full-batch solvers ignore it
    lbfgs = dict(solver="lbfgs", max_iter=3)
    np.testing.assert_array_equal(
        _k_sparse(initial_sparsity_target=0.5, **lbfgs).fit(X).components_,
        _k_sparse(**lbfgs).fit(X).components_,
    )


def test_an_interrupted_annealing_leaves_the_layer_at_its_target(X):
    from engine_adapter import train_minibatch

    from skae._core import Autoencoder, TrainingHistory

    network = Autoencoder(64, 20, activation="relu", sparsity="top_k", sparsity_target=0.1)
    theta = network.init_params(np.random.default_rng(0))
    epochs = []

    def validation(theta):
        epochs.append(network.layers[0].sparsity.k)  # k of the epoch just trained
        if len(epochs) == 2:
            raise KeyboardInterrupt
        return 0.0

    status = train_minibatch(
        network, theta, X, solver="adam", learning_rate=0.001, batch_size=200, max_iter=4,
        tol=0.0, n_iter_no_change=10, history=TrainingHistory(early_stopping=True),
        rng=np.random.default_rng(0), sparsity_start={0: 10}, validation=validation,
    )  # fmt: skip
    assert status == "interrupted"
    assert epochs == [10, 6]  # 10 + (2 - 10) * 1/2 before the second of 4 epochs
    assert network.layers[0].sparsity.k == 2


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_stacked_layers_anneal_their_pretraining_and_fine_tune_at_the_target(X, monkeypatch):
    from skae._core.penalties import TopKSparsity

    calls = _record_selections(monkeypatch, TopKSparsity)
    layer = _k_sparse(initial_sparsity_target=0.5, max_iter=4)
    stack = StackedAutoencoder(
        [("k_sparse", layer)], fine_tune_solver="adam", fine_tune_max_iter=2, random_state=0
    )
    stack.fit(X)
    levels = [level for level, _, _ in calls]
    # pretraining: 4 epochs of 2 batches, k 10 -> 6 -> 2; fine-tuning: 2 epochs at k = 2
    assert levels == [10, 10, 6, 6, 2, 2, 2, 2] + [2] * 2 * 2


def test_early_stopping_mid_annealing_ends_at_the_target(X, monkeypatch):
    from skae._core.penalties import TopKSparsity

    calls = _record_selections(monkeypatch, TopKSparsity)
    final = _record_final_selection(monkeypatch)
    params = dict(early_stopping=True, n_iter_no_change=1, tol=1e9, max_iter=10)
    ae = _k_sparse(initial_sparsity_target=0.5, batch_size=360, **params).fit(X)
    # the first epoch improves on nothing, the second not by tol: stopped at 2 of 10
    assert ae.n_iter_ == 2
    assert [level for level, _, _ in calls] == [10, 8]  # 360 training rows: one batch
    assert final == [2]


class _RecordBlasThreads:
    """A callback that records the thread counts of SciPy's own BLAS and of NumPy's."""

    def __init__(self, scipy_blas, fail_at=None):
        from threadpoolctl import ThreadpoolController

        # NumPy's BLAS, found by its own folder, not by the rule under test
        numpy_folder = os.path.realpath(os.path.dirname(np.__file__))
        self.others = [
            lib
            for lib in ThreadpoolController().select(user_api="blas").lib_controllers
            if os.path.realpath(lib.filepath).startswith(
                (numpy_folder + os.sep, numpy_folder + ".libs")
            )
        ]
        self.scipy_blas, self.fail_at, self.seen, self.seen_others = scipy_blas, fail_at, [], []

    def on_epoch_end(self, info):
        self.seen.append(self.scipy_blas.info()[0]["num_threads"])
        self.seen_others.append([lib.num_threads for lib in self.others])
        if info["epoch"] == self.fail_at:
            raise RuntimeError("stopped by the test")


def _fit_recording(X, record, fail_at):
    model = SparseAutoencoder(8, max_iter=4, callbacks=[record], random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if fail_at is None:
            model.fit(X)
        else:
            with pytest.raises(RuntimeError, match="stopped by the test"):
                model.fit(X)


@pytest.mark.parametrize("fail_at", [None, 2])
def test_full_batch_fits_run_scipys_own_blas_on_one_thread(X, fail_at):
    # NumPy's and SciPy's wheels each bring an OpenBLAS with spinning workers; L-BFGS-B
    # calls SciPy's, the products NumPy's, and both pools at full size took turns at the
    # cores (2.9 times slower on 2 cores). SciPy's is held to one thread during the fit
    # and given back after it, also when the fit ends in an error; NumPy's keeps its own
    from threadpoolctl import threadpool_limits

    from skae._core.training import _scipy_own_blas

    scipy_blas = _scipy_own_blas()
    if scipy_blas is None:
        pytest.skip("SciPy shares NumPy's BLAS here (no library of its own)")
    with threadpool_limits(limits=2, user_api="blas"):
        record = _RecordBlasThreads(scipy_blas, fail_at)
        _fit_recording(X, record, fail_at)
        assert record.seen and set(record.seen) == {1}
        assert all(counts == [2] * len(record.others) for counts in record.seen_others)
        assert scipy_blas.info()[0]["num_threads"] == 2


def test_a_full_batch_fit_in_another_thread_leaves_the_blas_limits_alone(X):
    # threadpoolctl's limits are process-wide: two fits in two threads would restore
    # each other's, so only the main thread sets them
    import threading

    from threadpoolctl import threadpool_limits

    from skae._core.training import _scipy_own_blas

    scipy_blas = _scipy_own_blas()
    if scipy_blas is None:
        pytest.skip("SciPy shares NumPy's BLAS here (no library of its own)")
    with threadpool_limits(limits=2, user_api="blas"):
        record = _RecordBlasThreads(scipy_blas)
        worker = threading.Thread(target=_fit_recording, args=(X, record, None))
        worker.start()
        worker.join()
        assert record.seen and set(record.seen) == {2}
        assert scipy_blas.info()[0]["num_threads"] == 2
