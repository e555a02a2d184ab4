"""The compiled kernels of ``skae[fast]`` against the NumPy formulas they replace.

Every kernel but one does the same arithmetic in the same order as its NumPy function,
so the comparisons are exact (``assert_array_equal``), in float32 and float64; so are
whole objectives, gradients and fits. The one exception is the float32 sigmoid, a
polynomial ``exp`` that vectorises: it is tested against the exact sigmoid, and whatever
uses it (float32 sigmoid networks) to a tolerance, while the same networks with tanh
outer layers stay exact. The gradient checks run on the compiled path here, and on
whichever path the suite runs under elsewhere (CI runs it with and without).
"""

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from threadpoolctl import threadpool_limits  # noqa: E402

from skae import (  # noqa: E402
    AutoencoderClassifier,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    TiedAutoencoder,
    get_accelerator,
    set_accelerator,
)
from skae._core import _fast  # noqa: E402
from skae._core.activations import ACTIVATIONS, DERIVATIVES  # noqa: E402
from skae._core.network import Layer, Network, _add_bias, _multiply  # noqa: E402
from skae._core.optimizers import OPTIMIZERS, SGD, Adam  # noqa: E402
from skae._core.penalties import TopKSparsity, weight_decay  # noqa: E402
from skae.utils import check_gradients  # noqa: E402

DTYPES = [np.float32, np.float64]
# odd sizes: column blocks that do not divide the width, a single row
SHAPES = [(1, 3), (7, 64), (13, 129), (200, 1000)]


@pytest.fixture
def accelerator():
    """Run a callable under a given accelerator, restoring the choice afterwards."""
    previous = get_accelerator()

    def run(name, function, *args):
        set_accelerator(name)
        try:
            return function(*args)
        finally:
            set_accelerator(previous)

    return run


def both(accelerator, function, *arrays):
    """``function`` on copies of ``arrays`` under NumPy and under Numba: both results."""
    results = []
    for name in ("numpy", "numba"):
        copies = [a.copy() if isinstance(a, np.ndarray) else a for a in arrays]
        value = accelerator(name, function, *copies)
        results.append((value, copies))
    return results


def assert_same(results, exact=True):
    """The NumPy and Numba results: equal, or (``exact=False``) within float32 rounding."""
    (value_np, arrays_np), (value_nb, arrays_nb) = results
    compare = np.testing.assert_array_equal if exact else assert_close
    compare(value_np, value_nb)
    for a, b in zip(arrays_np, arrays_nb, strict=True):
        if not isinstance(a, np.ndarray):
            continue
        assert a.dtype == b.dtype
        compare(a, b)


def assert_close(a, b):
    # the float32 sigmoids differ by at most 1.2e-7; a few steps of training carry that
    # through products and updates, which stays far below what a changed formula gives
    np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)


def exact_for(dtype, activation):
    """Whether the two paths must agree bit for bit: all but the float32 sigmoid."""
    return dtype == np.float64 or activation != "sigmoid"


def random(shape, dtype, seed=0, low=-1.0, high=1.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(dtype)


# -- each kernel -----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_update_is_bit_identical(accelerator, dtype):
    n = 1001

    def steps(params, grads):
        optimizer = Adam(params, learning_rate=0.01)
        for grad in grads:
            optimizer.step(grad)
        return optimizer.first_moment, optimizer.second_moment

    grads = np.stack([random(n, dtype, seed) for seed in range(5)])
    results = both(accelerator, lambda p, g: steps(p, g), random(n, dtype), grads)
    (moments_np, (p_np, _)), (moments_nb, (p_nb, _)) = results
    np.testing.assert_array_equal(p_np, p_nb)
    for a, b in zip(moments_np, moments_nb, strict=True):
        np.testing.assert_array_equal(a, b)
    assert p_nb.dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_sgd_step_is_bit_identical(accelerator, dtype):
    def steps(params, grads):
        optimizer = SGD(params, learning_rate=0.1, momentum=0.9)
        for grad in grads:
            optimizer.step(grad)
        return optimizer.velocity

    grads = np.stack([random(777, dtype, seed) for seed in range(4)])
    results = both(accelerator, steps, random(777, dtype), grads)
    (v_np, (p_np, _)), (v_nb, (p_nb, _)) = results
    np.testing.assert_array_equal(p_np, p_nb)
    np.testing.assert_array_equal(v_np, v_nb)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_steps_with_weight_decay_are_bit_identical(accelerator, dtype, solver):
    # ranges of odd lengths, not multiples of the kernels' lanes, with gaps around them
    decay = [(3, 700, 1e-2), (733, 990, 0.5)]

    def steps(params, grads):
        optimizer = OPTIMIZERS[solver](params, learning_rate=0.01)
        return np.array([optimizer.step(grad, decay) for grad in grads])

    start = random(1001, dtype)
    grads = np.stack([random(1001, dtype, seed) for seed in range(1, 5)])
    (values_np, (p_np, _)), (values_nb, (p_nb, _)) = both(accelerator, steps, start, grads)
    np.testing.assert_array_equal(p_np, p_nb)
    assert p_nb.dtype == dtype
    # the decay's value: NumPy's vdot sums in the dtype, the kernels in float64
    np.testing.assert_allclose(values_np, values_nb, rtol=1e-5 if dtype == np.float32 else 1e-13)
    exact = start.astype(np.float64) ** 2
    first = 0.5 * (1e-2 * np.sum(exact[3:700]) + 0.5 * np.sum(exact[733:990]))
    # the kernels' float64 sum, rounded to the dtype
    assert values_nb[0] == pytest.approx(first, rel=1e-7 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "identity"])
def test_derivative_is_bit_identical(accelerator, dtype, shape, activation):
    low = -1.0 if activation in ("tanh", "relu") else 0.0
    a = random(shape, dtype, 1, low=low)
    if activation == "relu":
        a[a < 0] = 0

    def derivative(delta):  # the scratch buffer is the NumPy path's business
        DERIVATIVES[activation](None, a, delta, np.empty_like(a))

    assert_same(both(accelerator, derivative, random(shape, dtype, 2)))


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_float32_sigmoid_is_within_rounding_of_the_exact_one(accelerator):
    from skae._core import _numba

    # every 256th float32 between -88 and 88, both signs (8.7 million), in chunks
    top = int(np.float32(88.0).view(np.int32))
    tiny = np.finfo(np.float32).tiny
    worst_absolute = worst_ulp = worst_to_numpy = 0.0
    for start in range(0, top, 1 << 24):
        bits = np.arange(start, min(start + (1 << 24), top), 256, dtype=np.int32)
        half = bits.view(np.float32)
        z = np.concatenate([half, -half])
        out = _numba.sigmoid(z, np.empty_like(z))
        exact = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
        error = np.abs(out - exact)
        ulp = np.spacing(exact.astype(np.float32)).astype(np.float64)
        normal = exact >= tiny
        numpy_formula = accelerator("numpy", ACTIVATIONS["sigmoid"], z, np.empty_like(z))
        worst_absolute = max(worst_absolute, error.max())
        worst_ulp = max(worst_ulp, (error / ulp)[normal].max())
        worst_to_numpy = max(worst_to_numpy, np.abs(out - numpy_formula).max())
    assert worst_absolute <= 2.0**-23  # NumPy's (1 + tanh(z / 2)) / 2: 6e-8
    assert worst_ulp <= 2.5  # NumPy's: 1e8 near 0
    assert worst_to_numpy <= 2.0**-23
    ends = _numba.sigmoid(np.float32([88.0, 100.0, -88.5, -100.0]), np.empty(4, np.float32))
    np.testing.assert_array_equal(ends, np.float32([1.0, 1.0, 0.0, 0.0]))  # exp underflows


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_float32_sigmoid_keeps_nan_and_the_infinities():
    # a diverged fit is detected from NaN: the compiled sigmoid must not hide it. Inside
    # a long array, so that the vectorised body of the loop meets them, not its tail
    from skae._core import _numba

    special = np.float32([np.nan, np.inf, -np.inf, -np.nan, 0.0, -0.0])
    expected = np.float32([np.nan, 1.0, 0.0, np.nan, 0.5, 0.5])
    z = np.zeros(1000, np.float32)
    z[[3, 100, 517, 518, 900, 997]] = special
    out = _numba.sigmoid(z, np.empty_like(z))
    np.testing.assert_array_equal(out[[3, 100, 517, 518, 900, 997]], expected)
    assert np.isnan(out).sum() == 2


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_sigmoid_table_uses_the_kernel_for_float32_only(accelerator, dtype):
    from skae._core import _numba

    z = random((13, 129), dtype, 4, low=-30.0, high=30.0)
    numpy_out, numba_out = (
        accelerator(n, ACTIVATIONS["sigmoid"], z, np.empty_like(z)) for n in ("numpy", "numba")
    )
    if dtype == np.float64:  # float64 keeps NumPy's formula: the gradient checks' dtype
        np.testing.assert_array_equal(numpy_out, numba_out)
    else:
        np.testing.assert_array_equal(numba_out, _numba.sigmoid(z, np.empty_like(z)))
        assert not np.array_equal(numpy_out, numba_out)
        np.testing.assert_allclose(numba_out, numpy_out, rtol=0, atol=2.0**-23)
    # in place, as the forward pass applies it: two views of one buffer (its own loop:
    # see _numba._sigmoid32)
    buffer = z.copy()
    accelerator("numba", ACTIVATIONS["sigmoid"], buffer[: len(z)], buffer[: len(z)])
    np.testing.assert_array_equal(buffer, numba_out)
    # and into an overlapping view, shifted by one row
    shifted = np.concatenate([z, z[-1:]])
    accelerator("numba", ACTIVATIONS["sigmoid"], shifted[:-1], shifted[1:])
    np.testing.assert_array_equal(shifted[1:], numba_out)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_bias_add_and_mask_product_are_bit_identical(accelerator, dtype, shape):
    bias = random(shape[1], dtype, 5)
    assert_same(both(accelerator, _add_bias, random(shape, dtype, 6), bias))
    mask = (random(shape, dtype, 7) > 0).astype(dtype) * dtype(1 / 0.7)
    assert_same(both(accelerator, _multiply, random(shape, dtype, 8), mask, np.empty_like(mask)))
    # in place, as the backward pass applies a mask to a delta
    assert_same(both(accelerator, lambda d, m: _multiply(d, m, d), random(shape, dtype, 9), mask))


@pytest.mark.parametrize("dtype", DTYPES)
def test_weight_decay_is_bit_identical(accelerator, dtype):
    weights = [random((30, 17), dtype, 10), random((5, 30), dtype, 11)]

    def decay(g0, g1):
        return weight_decay(weights, 1e-2, [g0, g1], [np.empty_like(w) for w in weights])

    grads = [random(w.shape, dtype, 12 + i) for i, w in enumerate(weights)]
    assert_same(both(accelerator, decay, *grads))


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_special_values_pass_through_as_in_numpy(accelerator):
    # inf and nan reach the finiteness check unchanged: no exception, same bits
    a = np.array([0.0, 0.5, 1.0, np.nan, np.inf], dtype=np.float32)
    for activation in ("sigmoid", "tanh", "relu"):
        assert_same(
            both(
                accelerator,
                lambda d, act=activation: DERIVATIVES[act](None, a, d, np.empty_like(a)),
                np.array([1.0, np.inf, -np.inf, 2.0, np.nan], dtype=np.float32),
            )
        )
    grad = np.array([0.0, np.inf, np.nan, 1.0], dtype=np.float32)
    ones = np.ones(4, dtype=np.float32)
    assert_same(both(accelerator, lambda p, g: Adam(p, epsilon=0.0).step(g), ones, grad))


# -- selection -------------------------------------------------------------------------
def test_selection_rules():
    previous = get_accelerator()
    try:
        big = np.zeros(_fast.MIN_ELEMENTS, dtype=np.float32)
        small = np.zeros(10, dtype=np.float32)
        set_accelerator("auto")
        assert _fast.kernels(big) is not None
        assert _fast.kernels(small) is None  # no compilation for small fits
        set_accelerator("numba")
        assert _fast.kernels(small) is not None
        assert _fast.kernels(np.zeros((4, 4), np.float32).T) is None  # not C-contiguous
        assert _fast.kernels(small, small.astype(np.float64)) is None  # mixed dtypes
        assert _fast.kernels(small.astype(np.float16)) is None
        assert _fast.kernels(small.astype(np.int64)) is None
        set_accelerator("numpy")
        assert _fast.kernels(big) is None
        with pytest.raises(ValueError, match="one of"):
            set_accelerator("cuda")
    finally:
        set_accelerator(previous)


@pytest.mark.parametrize("value", ["numpy", "numba", "NumPy ", "", "bogus"])
def test_environment_variable(monkeypatch, value):
    # what skae._core._fast does at import, from SKAE_ACCELERATOR
    previous = get_accelerator()
    monkeypatch.setenv(_fast.ENVIRONMENT_VARIABLE, value)
    try:
        if value == "bogus":
            with pytest.warns(UserWarning, match="SKAE_ACCELERATOR"):
                _fast._from_environment()
        else:
            _fast._from_environment()
        expected = value.strip().lower() if value.strip() and value != "bogus" else "auto"
        assert get_accelerator() == expected
    finally:
        set_accelerator(previous)


@pytest.mark.parametrize("blas_threads", [1, 2])
def test_auto_picks_the_kernels_at_every_blas_thread_count(accelerator, blas_threads):
    # the kernels run on the calling thread, so they never compete with BLAS's threads:
    # "auto" has no reason to fall back to NumPy when BLAS runs on several
    big = np.zeros(_fast.MIN_ELEMENTS, dtype=np.float32)
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        assert accelerator("auto", _fast.kernels, big) is _fast._load()


def test_the_kernels_start_no_thread_pool(accelerator):
    # issue 21: threaded kernels (Numba's parallel=True) shared the cores with spinning
    # BLAS and OpenMP workers and made the 2-thread epoch up to twice as slow as NumPy's;
    # a kernel compiled threaded again would start Numba's thread pool here
    from numba.np.ufunc import parallel

    from skae._core import _numba

    dispatchers = [
        v for v in vars(_numba).values() if isinstance(v, numba.core.dispatcher.Dispatcher)
    ]
    assert dispatchers
    for dispatcher in dispatchers:
        assert not dispatcher.targetoptions.get("parallel"), dispatcher.__name__
    X = np.random.default_rng(0).random((60, 1200)).astype(np.float32)
    with threadpool_limits(limits=2, user_api="blas"):
        accelerator("auto", SparseAutoencoder(60, solver="adam", max_iter=2).fit, X)
    assert not parallel._is_initialized


def test_a_forked_child_uses_the_kernels(accelerator):
    # no thread pool, so nothing that a fork breaks: a child forked after the kernels
    # ran (multiprocessing's default on Linux) runs them, with the same results
    import multiprocessing

    params, grad = random(1000, np.float32, 1), random(1000, np.float32, 2)
    accelerator("numba", Adam(params.copy()).step, grad)  # the kernels are loaded here
    expected = params.copy()
    accelerator("numpy", Adam(expected).step, grad)
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        # a hang guard, not a time limit: a child that inherited a thread pool would hang
        used, result = pool.apply_async(_adam_in_child, (params, grad)).get(timeout=120)
    assert used
    np.testing.assert_array_equal(result, expected)


def _adam_in_child(params, grad):
    set_accelerator("numba")
    used = _fast.kernels(params) is not None
    Adam(params).step(grad)
    return used, params


# -- whole networks and fits -----------------------------------------------------------
def _network(dtype, outer):
    layers = [
        Layer(20, 70, outer, alpha=1e-3, dropout=0.2),
        Layer(70, 66, "relu", alpha=1e-3, sparsity=TopKSparsity(9), dropout=0.1),
        Layer(66, 70, "tanh", tied_to=1),
        Layer(70, 20, outer, alpha=1e-3),
    ]
    return Network(layers, "squared_error", n_encoder_layers=2, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("outer", ["sigmoid", "tanh"])
def test_objective_and_gradient_are_bit_identical(accelerator, dtype, outer):
    from skae._core import Dropout

    network = _network(dtype, outer)
    rng = np.random.default_rng(0)
    theta = network.init_params(rng)
    X = rng.random((50, 20)).astype(dtype)

    def evaluate(grad):
        dropout = Dropout(seed=3)
        return network.objective(theta, X, grad, chunk_size=16, dropout=dropout)

    results = both(accelerator, evaluate, np.empty_like(theta))
    assert_same(results, exact=exact_for(dtype, outer))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_fits_are_bit_identical(accelerator, dtype, solver, activation):
    X = np.random.default_rng(0).random((120, 30)).astype(dtype)

    def fit():
        model = SparseAutoencoder(
            20,
            activation=activation,
            output_activation=activation,
            solver=solver,
            alpha=1e-3,
            sparsity_weight=0.1,
            max_iter=3,
            random_state=0,
        )
        return model.fit(X).components_

    a, b = (accelerator(name, fit) for name in ("numpy", "numba"))
    assert a.dtype == b.dtype == dtype
    if exact_for(dtype, activation):
        np.testing.assert_array_equal(a, b)
    else:
        assert_close(a, b)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_deep_classifier_fit_is_bit_identical_and_repeatable(accelerator, activation):
    rng = np.random.default_rng(1)
    X, y = rng.random((150, 30)).astype(np.float32), rng.integers(0, 3, 150)

    def fit():
        first = SparseAutoencoder(25, activation=activation, random_state=0)
        second = TiedAutoencoder(12, activation=activation)
        stack = StackedAutoencoder([("a", first), ("b", second)])
        model = AutoencoderClassifier(stack, pretrain=False, max_iter=3, random_state=0)
        return model.fit(X, y).predict_proba(X)

    reference, compiled = accelerator("numpy", fit), accelerator("numba", fit)
    if exact_for(np.float32, activation):
        np.testing.assert_array_equal(reference, compiled)
    else:
        assert_close(reference, compiled)
    # the same with one thread: no result depends on the number of threads
    with threadpool_limits(limits=1, user_api="blas"):
        np.testing.assert_array_equal(compiled, accelerator("numba", fit))


@pytest.mark.parametrize(
    "estimator",
    [
        SparseAutoencoder(4, alpha=0.3, sparsity_weight=3.0, sparsity_target=0.1, random_state=1),
        SparseAutoencoder(4, activation="relu", sparsity="top_k", random_state=1),
        TiedAutoencoder(4, activation="tanh", alpha=0.1, random_state=1),
        DenoisingAutoencoder(4, noise="masking", noise_level=0.3, random_state=0),
    ],
    ids=["kl", "top_k", "tied_tanh", "denoising"],
)
def test_gradient_checks_pass_on_the_compiled_path(accelerator, estimator):
    data = np.random.default_rng(0).random((9, 6))
    assert accelerator("numba", check_gradients, estimator, data) < 1e-6


@pytest.mark.parametrize("method", ["sparse_ae", "denoising_ae", "tied_ae"])
def test_the_mnist_presets_are_unchanged_by_the_compiled_path(accelerator, method):
    # the published MNIST figures (skae.compare's presets: relu, identity decoder,
    # lifetime sparsity) use no sigmoid, so skae[fast] must leave their models exact
    from skae.compare.methods import METHODS
    from skae.compare.presets import PRESETS

    preset = {k: v for k, v in PRESETS["mnist"][method].items() if k != "n_components"}
    params = {**preset, "max_iter": 2, "batch_size": 50}
    X = np.random.default_rng(3).random((150, 40)).astype(np.float32)

    def fit():
        return METHODS[method](24, 0, params).fit(X).transform(X)

    reference, compiled = accelerator("numpy", fit), accelerator("numba", fit)
    assert reference.dtype == np.float32
    np.testing.assert_array_equal(reference, compiled)
