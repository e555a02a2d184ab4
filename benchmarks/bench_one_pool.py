"""Ways to run an epoch's elementwise work on every core, timed beside the epoch as shipped.

Run from the repository root, with OpenBLAS choosing its own kernel as users run NumPy::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_one_pool.py --threads 1 2

Issue 21 asks for the work between the matrix products of a batch (activations and their
derivatives, weight decay, the optimiser's update) to use as many cores as the products.
skae runs it on the calling thread: threaded Numba kernels lost to OpenBLAS's spinning
workers (docs/performance.md). This script keeps five further ways to do it, each an
experiment written here, outside the package (it patches the core for one timed run and
puts it back), and times them round-robin in one run against the epoch as shipped:

- ``python parts``: every elementwise pass split into parts of rows (or of the parameter
  vector), one part on the calling thread and the others on a pool of Python threads
  that sleep on a lock between parts (NumPy's ufuncs and skae's kernels release the GIL);
  OpenBLAS keeps its own threads for the products. Bit-identical to the epoch as shipped.
- ``one pool (numba)``: OpenBLAS's parallel jobs handed to Numba's OpenMP threads
  (``openblas_set_threads_callback_function``, OpenBLAS >= 0.3.27, a ``cfunc`` that runs
  the jobs in a ``prange``), and the compiled kernels (Adam, weight decay, the sigmoid's
  derivative) run as ``prange`` loops on the same threads: one pool for the products
  and the kernels. The activations stay as shipped, on the calling thread. Bit-identical
  as well.
- ``rows on threads``: each batch split in halves of rows, one per thread, each with
  one BLAS thread and its own buffers; the two gradients summed, the update split in two.
  Everything runs on both threads, but the products have half the rows and the sum is
  one more pass. Not the same arithmetic (the gradient is summed in another order).
- ``one pool + compiled sigmoid``: the one pool, with the float32 sigmoids computed by
  :func:`polynomial_sigmoid` (a loop that LLVM vectorises, with no call to a math
  library) as a ``prange`` on the same threads, so that the sigmoids and the kernels run
  on every core (the bias adds and sums, the softmax and the log loss stay on one
  thread). Not bit-identical: the sigmoid's error on one block, in units in the last
  place, is printed at the end, with its speed alone.

- ``a pool of our own``: (d) without OpenBLAS's threads. Both OpenBLAS libraries are
  held to one thread, and every float32 product of the epoch runs as a ``prange`` over
  blocks of its output's columns on Numba's threads, each block one call of SciPy's
  single-threaded ``sgemm`` (:func:`own_pool_parts`). The kernels and the sigmoid run
  as in (d), on the same threads. No callback, so no process-wide BLAS state beyond the
  thread limits. Not bit-identical: a block's product may round otherwise than the whole
  product. The row ``floor, products on a pool of our own`` times the products alone
  that way.

Every epoch here keeps the weight decay in the objective, as skae computed it when these
ways were built; since then the optimiser's step takes it, fused with the update by
``skae[fast]`` (``_harness.decay_in_objective_swaps``).

Since the compiled float32 sigmoid shipped (issue 21), "the epoch as shipped" includes
it, so (d) adds only its threads to the shipped epoch; the results files of the first
five runs (``bench_one_pool*.md`` but ``bench_sigmoid_alone.md``) were measured before,
with NumPy's sigmoid as shipped. ``--sigmoid-only`` times the sigmoid alone: NumPy's
formula, the shipped kernel and the prototype.

Rows ``floor`` (the products alone, OpenBLAS's threads) and ``floor, OpenBLAS's jobs on
Numba's threads`` (the same products with the callback) say what the products cost
either way. Models: the deep 784-1000-500-10 classifier of ``bench_deep.py`` (Adam,
batches of 200) and the one-layer 784-256-784 autoencoder of ``bench_training.py``
(Adam, batches of 256), float32. The report is printed and written to
``benchmarks/results/bench_one_pool.md``.
"""

import argparse
import contextlib
import copy
import ctypes
import functools
import sys
import threading
import time
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController, threadpool_limits

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from _harness import (  # noqa: E402
    RESULTS,
    Environment,
    Patience,
    ThreadScaling,
    Timings,
    blas_threads,
    common_arguments,
    count_floor_products,
    decay_in_objective_swaps,
    dense_floor,
    finish_arguments,
    load_mnist_like,
    log,
    markdown_table,
    numpy_sigmoid_formula,
    run_interleaved,
    swapped,
    thread_limits,
    thread_report,
    write_report,
)

from skae._core import (  # noqa: E402
    ACTIVATIONS,
    DERIVATIVES,
    Autoencoder,
    Layer,
    Network,
    SolverSettings,
    TrainingData,
    TrainingHistory,
    train,
)
from skae._core import network as core_network  # noqa: E402
from skae._core._fast import kernels  # noqa: E402
from skae._core.optimizers import Adam  # noqa: E402

DEFAULT_OUTPUT = RESULTS / "bench_one_pool.md"
LEARNING_RATE = 1e-3
ALPHA = 1e-4
MODELS = {
    # name: (layer sizes, batch size, alpha)
    "deep": ((784, 1000, 500, 10), 200, ALPHA),
    "one-layer": ((784, 256, 784), 256, 0.0),
}


# -- the models ------------------------------------------------------------------------
def build(model, X, y):
    """The core network of ``model`` and its target (None: reconstruct X)."""
    sizes, _, alpha = MODELS[model]
    if model == "one-layer":
        return Autoencoder(sizes[0], sizes[1], alpha=alpha, dtype=X.dtype), None
    layers = [
        Layer(n_in, n_out, "softmax" if n_out == sizes[-1] else "sigmoid", alpha=alpha)
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    network = Network(layers, "log_loss", n_encoder_layers=len(sizes) - 2, dtype=X.dtype)
    target = np.zeros((X.shape[0], sizes[-1]), dtype=X.dtype)
    target[np.arange(X.shape[0]), y % sizes[-1]] = 1
    return network, target


def shipped(model):
    """One epoch of the engine ``train``, as skae ships it but with the weight decay in the
    objective, as it was when the ways below were built (before the fused step)."""
    batch = MODELS[model][1]
    decay_swaps = decay_in_objective_swaps()

    def make(data):
        network, target = build(model, *data)
        X = data[0]

        def run():
            rng = np.random.default_rng(0)
            theta = network.init_params(rng)
            settings = SolverSettings(
                solver="adam", max_iter=1, learning_rate=LEARNING_RATE, batch_size=batch
            )
            data_ = TrainingData(X, target=target)
            with swapped(decay_swaps):  # the flow these ways were built on
                train(network, theta, data_, settings, history=TrainingHistory(), rng=rng)
            return theta

        return run

    return make


def floor(model):
    sizes, batch, _ = MODELS[model]
    return lambda data: dense_floor(sizes, batch)(data[0])


# -- (a) elementwise parts on a pool of sleeping Python threads -------------------------
MIN_PART = 1 << 16  # elements per part: below, the hand-off costs more than it saves


class SleepingPool:
    """Threads that run one part each of a split call and block on a lock in between."""

    def __init__(self, n_threads):
        self.jobs = [None] * n_threads
        self.start = [threading.Lock() for _ in range(n_threads)]
        self.finished = [threading.Lock() for _ in range(n_threads)]
        for index in range(1, n_threads):
            self.start[index].acquire()
            self.finished[index].acquire()
            threading.Thread(target=self._serve, args=(index,), daemon=True).start()

    def _serve(self, index):
        while True:
            self.start[index].acquire()
            function, args = self.jobs[index]
            try:
                function(*args)
                self.jobs[index] = None
            except BaseException as error:  # handed back to run()
                self.jobs[index] = error
            self.finished[index].release()

    def run(self, function, parts):
        """``function(*args)`` for each ``args`` of ``parts``; the first on this thread."""
        for index, args in enumerate(parts[1:], start=1):
            self.jobs[index] = (function, args)
            self.start[index].release()
        try:
            function(*parts[0])
        finally:  # every worker done before the arrays are touched again
            for index in range(1, len(parts)):
                self.finished[index].acquire()
        for error in self.jobs[1 : len(parts)]:
            if isinstance(error, BaseException):
                raise error


def split(pool, function, arrays, *args):
    """``function(*parts, *args)`` on matching parts of ``arrays`` along the first axis."""
    n_parts = min(len(pool.jobs), arrays[0].size // MIN_PART, arrays[0].shape[0])
    if n_parts < 2:
        return function(*arrays, *args)
    bounds = np.linspace(0, arrays[0].shape[0], n_parts + 1).astype(int)
    pool.run(
        function,
        [(*(a[i:j] for a in arrays), *args) for i, j in zip(bounds[:-1], bounds[1:], strict=True)],
    )


def python_parts(model):
    """The shipped epoch with every elementwise pass split over a sleeping pool."""
    inner = shipped(model)

    def make(data):
        run_shipped = inner(data)
        pool = SleepingPool(blas_threads())
        changes = []
        for name, f in ACTIVATIONS.items():
            changes.append((ACTIVATIONS, name, _split_activation(pool, f)))
        for name, f in DERIVATIVES.items():
            changes.append((DERIVATIVES, name, _split_derivative(pool, f)))
        adam_update = Adam.update

        def step(self, grad, decay=()):  # decay: [] under decay_in_objective_swaps
            self.t += 1
            size, eps = self.step_constants()
            arrays = (grad, self.first_moment, self.second_moment, self._scratch, self.params)
            split(pool, lambda *a: adam_update(self, *a), arrays, size, eps)
            return 0.0

        decay = core_network.weight_decay

        def weight_decay(weights, alpha, grads=None, scratches=None):
            if grads is None or scratches is None:
                return decay(weights, alpha, grads, scratches)
            value = decay(weights, alpha)  # the value alone; the gradient in parts below
            for w, g, s in zip(weights, grads, scratches, strict=True):
                split(pool, _add_scaled, (w, g, s), alpha)
            return value

        changes += [(Adam, "step", step), (core_network, "weight_decay", weight_decay)]

        def run():
            with swapped(changes):
                return run_shipped()

        return run

    return make


def _split_activation(pool, f):
    def activation(z, out):
        split(pool, f, (z, out))
        return out

    return activation


def _split_derivative(pool, f):
    return lambda z, a, delta, scratch: split(pool, f, (z, a, delta, scratch))


def _add_scaled(w, g, scratch, alpha):
    # as penalties.weight_decay does it: the fused kernel where skae[fast] has one
    fast = kernels(g, w)
    if fast is not None:
        fast.add_scaled(w, alpha, g)
    else:
        g += np.multiply(w, alpha, out=scratch)


# -- (b) one pool: OpenBLAS's jobs and the kernels on Numba's OpenMP threads -----------
@functools.cache
def numba_pool_parts():
    """The callback and the parallel kernels, compiled once, on first use."""
    import numba
    from llvmlite import ir
    from numba import cfunc, njit, prange, types
    from numba.extending import intrinsic
    from numba.np.ufunc.parallel import _launch_threads

    _launch_threads()  # the callback starts parallel regions from C, not from Python

    @intrinsic
    def call_job(typingctx, address, job, data, dojob_data):
        signature = types.void(types.uintp, types.int32, types.uintp, types.int32)

        def codegen(context, builder, sig, args):
            address, job, data, dojob_data = args
            bytes_pointer = ir.IntType(8).as_pointer()
            kind = ir.FunctionType(ir.VoidType(), [ir.IntType(32), bytes_pointer, ir.IntType(32)])
            function = builder.inttoptr(address, kind.as_pointer())
            builder.call(function, [job, builder.inttoptr(data, bytes_pointer), dojob_data])
            return context.get_dummy_value()

        return signature, codegen

    @njit(parallel=True, nogil=True)
    def run_jobs(dojob, n_jobs, job_size, jobs, dojob_data):
        # one job per thread: OpenBLAS's level-3 jobs wait for each other
        for i in prange(n_jobs):
            call_job(dojob, np.int32(i), jobs + i * job_size, dojob_data)

    signature = types.void(
        types.int32, types.uintp, types.int32, types.uintp, types.uintp, types.int32
    )

    @cfunc(signature)
    def callback(sync, dojob, n_jobs, job_size, jobs, dojob_data):
        run_jobs(dojob, n_jobs, job_size, jobs, dojob_data)

    options = {"parallel": True, "nogil": True, "error_model": "numpy"}

    @njit(**options)
    def adam(grad, m, v, params, beta_1, beta_2, step_size, epsilon):
        for i in prange(params.size):
            g = grad[i]
            m_i = m[i] * beta_1 + g
            v_i = v[i] * beta_2 + g * g
            m[i] = m_i
            v[i] = v_i
            params[i] -= m_i / (np.sqrt(v_i) + epsilon) * step_size

    @njit(**options)
    def add_scaled(x, scale, dest):
        for i in prange(dest.size):
            dest[i] += x[i] * scale

    @njit(**options)
    def sigmoid_derivative(a, delta, one):
        for i in prange(delta.size):
            delta[i] *= (one - a[i]) * a[i]

    run_jobs(np.uintp(0), np.int32(0), np.uintp(0), np.uintp(0), np.int32(0))
    return (
        numba,
        callback,
        {
            "_adam": adam,
            "_add_scaled": add_scaled,
            "_sigmoid_derivative": sigmoid_derivative,
        },
    )


def numpy_openblas_setter():
    """NumPy's OpenBLAS's ``openblas_set_threads_callback_function``, or None."""
    for lib in ThreadpoolController().select(internal_api="openblas").lib_controllers:
        if "numpy" in lib.filepath:
            setter = lib._get_symbol("openblas_set_threads_callback_function")
            if setter is not None:
                setter.argtypes, setter.restype = [ctypes.c_void_p], None
            return setter
    return None


def numba_pool(kernels=True, sigmoid=False):
    """A context manager factory: OpenBLAS's jobs and skae's kernels on Numba's threads.

    ``sigmoid``: float32 sigmoids by :func:`polynomial_sigmoid` on the same threads too.
    Everything is looked up here, outside the timed run; entering costs two calls.
    """
    from skae._core import _numba

    numba, callback, parallel = numba_pool_parts()
    setter = numpy_openblas_setter()
    changes = [(_numba, k, v) for k, v in parallel.items()] if kernels else []
    if sigmoid:
        changes.append((ACTIVATIONS, "sigmoid", _compiled_sigmoid(ACTIVATIONS["sigmoid"])))
    n_threads = blas_threads()

    @contextlib.contextmanager
    def pool():
        previous = numba.get_num_threads()
        numba.set_num_threads(n_threads)
        setter(callback.address)
        try:
            with swapped(changes):
                yield
        finally:
            setter(None)
            numba.set_num_threads(previous)

    return pool


def _compiled_sigmoid(numpy_sigmoid):
    compiled = polynomial_sigmoid(parallel=True)

    def sigmoid(z, out):
        if z.dtype != np.float32 or not (z.flags.c_contiguous and out.flags.c_contiguous):
            return numpy_sigmoid(z, out)
        compiled(z, out)
        return out

    return sigmoid


def with_pool(make_inner, kernels=True, sigmoid=False):
    def make(data):
        run_inner, pool = make_inner(data), numba_pool(kernels, sigmoid)

        def run():
            with pool():
                return run_inner()

        return run

    return make


# -- (e) a pool of our own: the products too, one single-threaded BLAS call per block ---
@functools.cache
def own_pool_parts():
    """``C = op(A) @ op(B)`` as a ``prange`` over blocks of C's columns, each block one
    call of SciPy's ``sgemm`` (``scipy.linalg.cython_blas``) on that thread.

    With both OpenBLAS libraries held to one thread, no BLAS pool spins: Numba's OpenMP
    threads are the only pool, for the products and the kernels alike. Float32 only.
    Pointers and integers go to ``sgemm`` as 64-bit integers (the x86-64 calling
    convention passes both alike); Fortran's arguments are pointers, hence the small
    arrays.
    """
    from numba import njit, prange
    from numba.extending import get_cython_function_address

    address = get_cython_function_address("scipy.linalg.cython_blas", "sgemm")
    sgemm = ctypes.CFUNCTYPE(None, *([ctypes.c_size_t] * 13))(address)

    @njit(nogil=True)
    def block(trans_b, trans_a, rows, columns, inner, b, ldb, a, lda, c, ldc):
        ints = np.empty(6, np.int32)
        ints[0], ints[1], ints[2], ints[3], ints[4], ints[5] = rows, columns, inner, ldb, lda, ldc
        flags = np.empty(2, np.uint8)
        flags[0], flags[1] = trans_b, trans_a
        scalars = np.empty(2, np.float32)
        scalars[0], scalars[1] = 1.0, 0.0
        i, f, s = ints.ctypes.data, flags.ctypes.data, scalars.ctypes.data
        sgemm(f, f + 1, i, i + 4, i + 8, s, b, i + 12, a, i + 16, s + 4, c, i + 20)

    @njit(parallel=True, nogil=True)
    def gemm(a, a_transposed, b, b_transposed, c, n_blocks):
        # C (m x n, row-major) is C^T column-major: C^T = op(B)^T op(A)^T, split over
        # C's columns in blocks of whole cache lines
        m, n = c.shape
        inner = a.shape[0] if a_transposed else a.shape[1]
        width = ((n + n_blocks - 1) // n_blocks + 15) // 16 * 16
        for t in prange(n_blocks):
            j0, j1 = t * width, min(n, (t + 1) * width)
            if j0 < j1:
                offset = j0 * b.shape[1] if b_transposed else j0
                block(
                    84 if b_transposed else 78,  # 'T', 'N'
                    84 if a_transposed else 78,
                    j1 - j0,
                    m,
                    inner,
                    b.ctypes.data + 4 * offset,
                    b.shape[1],
                    a.ctypes.data,
                    a.shape[1],
                    c.ctypes.data + 4 * j0,
                    n,
                )

    return gemm


def _row_major(x):
    """``(memory, transposed)``: ``x`` as a C-contiguous array or its transpose."""
    if x.flags.c_contiguous:
        return x, False
    if x.flags.f_contiguous:
        return x.T, True
    return None, None


class _OwnProducts:
    """NumPy, but ``matmul`` into ``out`` through :func:`own_pool_parts` for float32."""

    def __init__(self, n_threads):
        self.gemm, self.n_threads = own_pool_parts(), n_threads

    def __getattr__(self, name):
        return getattr(np, name)

    def matmul(self, a, b, out=None):
        (a_memory, a_transposed), (b_memory, b_transposed) = _row_major(a), _row_major(b)
        usable = (
            out is not None
            and a_memory is not None
            and b_memory is not None
            and out.flags.c_contiguous
            and a.dtype == b.dtype == out.dtype == np.float32
        )
        if not usable:
            return np.matmul(a, b, out=out)
        self.gemm(a_memory, a_transposed, b_memory, b_transposed, out, self.n_threads)
        return out


def own_pool(model_make, kernels=True, sigmoid=True):
    """(e): every product and the kernels on Numba's threads; both BLAS on one thread."""
    import _harness

    def make(data):
        run_inner = model_make(data)
        numba, _, parallel = numba_pool_parts()
        from skae._core import _numba

        n_threads = blas_threads()
        products = _OwnProducts(n_threads)
        changes = [(core_network, "np", products), (_harness, "np", products)]
        if kernels:
            changes += [(_numba, k, v) for k, v in parallel.items()]
        if sigmoid:
            changes.append((ACTIVATIONS, "sigmoid", _compiled_sigmoid(ACTIVATIONS["sigmoid"])))

        def run():
            previous = numba.get_num_threads()
            numba.set_num_threads(n_threads)
            try:
                with threadpool_limits(1, user_api="blas"), swapped(changes):
                    return run_inner()
            finally:
                numba.set_num_threads(previous)

        return run

    return make


# -- the route left: a sigmoid compiled into a loop that LLVM vectorises ---------------
@functools.cache
def polynomial_sigmoid(parallel=False):
    """``1 / (1 + exp(-z))`` for float32, ``exp`` by Cephes' ``expf``, compiled by Numba.

    ``exp(x) = 2**n exp(r)`` with ``n = round(x log2 e)``, ``r = x - n ln 2`` (ln 2 in two
    parts), ``exp(r)`` by a degree-7 polynomial and ``2**n`` built from its bits; no call
    to a math library, so the loop vectorises (Numba's own ``exp`` is a scalar call).
    ``parallel``: a ``prange`` over Numba's threads. Inputs below -88 are clamped (the
    output stays 6e-39 instead of going to 0); a NaN gives NaN only because ``max`` keeps
    its first argument when the comparison is false, while ``np.int32`` of a NaN is
    undefined in LLVM: a kernel to ship would test for NaN explicitly.
    """
    from llvmlite import ir
    from numba import njit, prange, types
    from numba.extending import intrinsic

    @intrinsic
    def float32_from_bits(typingctx, bits):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.FloatType())

        return types.float32(types.int32), codegen

    f = np.float32
    log2e, ln2_high, ln2_low = f(1.44269504088896341), f(0.693359375), f(-2.12194440e-4)
    coefficients = (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2)
    p0, p1, p2, p3 = (f(c) for c in coefficients)
    p4, p5 = f(1.6666665459e-1), f(5.0000001201e-1)

    @njit(nogil=True, error_model="numpy", parallel=parallel)
    def sigmoid(z, out):
        z, out = z.reshape(-1), out.reshape(-1)
        one, half = f(1.0), f(0.5)
        for i in prange(z.size):
            x = min(max(-z[i], f(-87.0)), f(88.0))  # exp(x) stays a normal float32
            n = np.floor(x * log2e + half)
            r = (x - n * ln2_high) - n * ln2_low
            p = ((((p0 * r + p1) * r + p2) * r + p3) * r + p4) * r + p5
            p = p * (r * r) + r + one
            out[i] = one / (one + p * float32_from_bits((np.int32(n) + 127) << 23))

    return sigmoid


def sigmoid_alone(repeats=300):
    """NumPy's sigmoid, the shipped kernel and :func:`polynomial_sigmoid` on one block.

    NumPy's row is the core's ``_sigmoid`` under ``SKAE_ACCELERATOR=numpy`` (with Numba
    installed, the core's ``_sigmoid`` is the shipped kernel for float32 since issue 21).
    The shipped kernel is timed into another array and in place, as the forward pass
    calls it (views of one buffer: see ``_numba._sigmoid32``).
    """
    from skae._core import _numba

    z = (np.random.default_rng(0).standard_normal((200, 1000)) * 4).astype(np.float32)
    exact = 1 / (1 + np.exp(-z.astype(np.float64)))
    ulp = np.spacing(exact.astype(np.float32)).astype(np.float64)
    ways = [
        ("NumPy's formula (`SKAE_ACCELERATOR=numpy`)", numpy_sigmoid_formula, False),
        ("shipped kernel `_numba.sigmoid`, into another array", _numba.sigmoid, False),
        ("shipped kernel, in place (as the forward pass)", _numba.sigmoid, True),
        ("prototype `polynomial_sigmoid`, into another array", polynomial_sigmoid(), False),
    ]
    lines = []
    for label, function, in_place in ways:
        buffer = z.copy()
        out = buffer if in_place else np.empty_like(z)
        function(buffer, out)
        error = float(np.max(np.abs(out - exact) / ulp))
        absolute = float(np.max(np.abs(out - exact)))
        times = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeats):
                function(buffer, out)  # in place: the values change, the work does not
            times.append((time.perf_counter() - start) / repeats)
        milliseconds = 1e3 * float(np.median(times))
        lines.append([label, f"{milliseconds:.3f}", f"{error:.3g}", f"{absolute:.2g}"])
    return [
        "## The sigmoid alone: NumPy against vectorised compiled loops (one thread)",
        "",
        "One 200 x 1000 float32 block (the deep model's first hidden layer, z ~ N(0, 16)), "
        f"median of 5 runs of {repeats} calls; errors against the float64 result, the "
        "largest over the block: in units in the last place (NumPy's `(1 + tanh(z / 2)) / 2` "
        "loses the relative precision of outputs near 0) and absolute. See "
        "`sigmoid_alone`.",
        "",
        markdown_table(["sigmoid", "ms per block", "error (ulp)", "absolute error"], lines),
        "",
    ]


# -- (c) rows of each batch on threads, one BLAS thread each ---------------------------
def rows_on_threads(model):
    """Each batch in halves of rows on a sleeping pool, the gradients summed, Adam split."""
    batch = MODELS[model][1]

    def make(data):
        X = data[0]
        network, target = build(model, *data)
        n_threads = blas_threads()
        pool = SleepingPool(n_threads)
        copies = [copy.copy(network) for _ in range(n_threads)]
        for c in copies:
            c._workspace = None  # buffers of its own

        def part_gradient(theta, grads, k, part, n_rows):
            # the part's mean loss, reweighted to the batch (weight decay: the weights
            # sum to one, so it is counted once)
            t = None if target is None else target[part]
            copies[k].objective(theta, X[part], grads[k], target=t)
            grads[k] *= len(part) / n_rows

        def part_update(adam, grads, n_used, i, j, size, eps, finite, k):
            g = grads[0][i:j]
            for other in grads[1:n_used]:
                g += other[i:j]
            # the engine's finiteness check (one dot product), here over this part
            finite[k] = bool(np.isfinite(np.vdot(g, g)))
            arrays = (adam.first_moment, adam.second_moment, adam._scratch, adam.params)
            adam.update(g, *(a[i:j] for a in arrays), size, eps)

        def run():
            rng = np.random.default_rng(0)
            theta = network.init_params(rng)
            adam = Adam(theta, learning_rate=LEARNING_RATE)
            grads = [np.empty_like(theta) for _ in copies]
            n = X.shape[0]
            order = rng.permutation(n)
            bounds = _bounds(theta.size)
            with threadpool_limits(1, user_api="blas"):
                for start in range(0, n, batch):
                    rows = order[start : start + batch]
                    parts = [part for part in np.array_split(rows, n_threads) if len(part)]
                    pool.run(
                        part_gradient,
                        [(theta, grads, k, part, len(rows)) for k, part in enumerate(parts)],
                    )
                    adam.t += 1
                    size, eps = adam.step_constants()
                    finite = [True] * len(bounds)
                    pool.run(
                        part_update,
                        [
                            (adam, grads, len(parts), i, j, size, eps, finite, k)
                            for k, (i, j) in enumerate(bounds)
                        ],
                    )
                    if not all(finite):
                        raise FloatingPointError("(c) rows on threads: the gradient diverged")
            return theta

        def _bounds(size):
            b = np.linspace(0, size, n_threads + 1).astype(int)
            return list(zip(b[:-1], b[1:], strict=True))

        return run

    return make


# -- the run ---------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common_arguments(parser, DEFAULT_OUTPUT)
    parser.add_argument(
        "--models", nargs="+", choices=sorted(MODELS), default=sorted(MODELS), help="models"
    )
    parser.add_argument(
        "--sigmoid-only", action="store_true", help="time only the sigmoid alone (seconds)"
    )
    args = finish_arguments(parser.parse_args(argv), DEFAULT_OUTPUT)
    env = Environment("bench_one_pool.py", args.threads, args.clock)
    if args.sigmoid_only:
        if not _numba_installed():
            raise SystemExit("--sigmoid-only needs Numba: pip install 'skae[fast]'")
        header = env.header("The float32 sigmoid alone (issue 21)", False, [simd_line()])
        with thread_limits(1):
            sections = sigmoid_alone()
        write_report("\n".join([*header, "", *sections]), args.output)
        return
    X, y, source = load_mnist_like(args.n_samples, args.random)
    log(f"data: {source}, X {X.shape} float32")
    data, warmup = {"data": (X, y)}, {"data": (X[:2000], y[:2000])}
    patience = Patience(args.patience)
    has_pool = numpy_openblas_setter() is not None and _numba_installed()
    sections = []
    for model in args.models:
        rows = [
            ("floor", "floor: the products, OpenBLAS's threads"),
            ("floor_pool", "floor, OpenBLAS's jobs on Numba's threads"),
            ("shipped", "skae epoch as shipped"),
            ("parts", "(a) python parts"),
            ("pool", "(b) one pool (numba)"),
            ("rows", "(c) rows on threads"),
            ("pool_sigmoid", "(d) one pool + compiled sigmoid"),
            ("floor_own", "floor, products on a pool of our own"),
            ("own", "(e) a pool of our own: products and kernels"),
        ]
        if not has_pool:
            rows = [r for r in rows if r[0] not in ("floor_pool", "pool", "pool_sigmoid")]
        if not _numba_installed():
            rows = [r for r in rows if r[0] not in ("floor_own", "own")]
        scaling = ThreadScaling(rows, "floor")
        for count in env.thread_counts:
            with thread_limits(count):
                n_threads = blas_threads()
                makers = {
                    "floor": floor(model),
                    "floor_pool": lambda d, m=model: with_pool(floor(m), kernels=False)(d),
                    "shipped": shipped(model),
                    "parts": python_parts(model),
                    "pool": lambda d, m=model: with_pool(shipped(m))(d),
                    "rows": rows_on_threads(model),
                    "pool_sigmoid": lambda d, m=model: with_pool(shipped(m), sigmoid=True)(d),
                    "floor_own": lambda d, m=model: own_pool(floor(m), False, False)(d),
                    "own": lambda d, m=model: own_pool(shipped(m))(d),
                }
                measurements = {key: (label, makers[key], "data") for key, label in rows}
                sections_check = same_parameters(makers, rows, warmup["data"])
                log(f"{model}, {n_threads} thread(s): {len(measurements)} rows x {args.repeats}")
                samples = run_interleaved(
                    measurements, data, warmup, args.repeats, patience, args.clock
                )
            timings = Timings(samples)
            scaling.add(n_threads, timings)
            floors = dict.fromkeys(measurements, "floor")
            sections += [
                f"## {model}, {n_threads} thread(s)",
                "",
                timings.table(measurements, floors),
                "",
                _versus_shipped(timings, rows),
                "",
                sections_check,
                "",
            ]
        sections += [f"# {model}: scaling", "", *thread_report(scaling, [])]
    sizes = ", ".join(
        f"{m} {'-'.join(map(str, MODELS[m][0]))} (batch {MODELS[m][1]}, "
        f"{count_floor_products(MODELS[m][0])} products per batch)"
        for m in args.models
    )
    header = env.header(
        "One pool for the products and the elementwise work: five ways, measured (issue 21)",
        False,
        [
            f"data: {source}; X {X.shape[0]} x {X.shape[1]} float32; Adam lr {LEARNING_RATE}",
            f"models: {sizes}",
            timings.method_line(args.repeats, patience),
            simd_line(),
            "rows (a)-(e): see the script's docstring; `/ shipped` divides by the epoch as "
            "shipped at the same thread count (below 1: faster)",
        ],
    )
    if _numba_installed():
        with thread_limits(1):
            sections += sigmoid_alone()
    write_report("\n".join([*header, "", *sections]), args.output)


def same_parameters(makers, rows, data):
    """One epoch of each way on ``data``: its parameters against the shipped epoch's.

    (a) and (b) do the same arithmetic in the same order: bit-identical, or the script
    stops; (c) sums the gradient by parts: its largest difference is reported.
    """
    reference = makers["shipped"](data)()
    lines = []
    for key, label in rows:
        if key in ("floor", "floor_pool", "floor_own", "shipped"):
            continue
        theta = makers[key](data)()
        difference = float(np.max(np.abs(theta - reference)))
        if key in ("parts", "pool") and difference != 0:
            raise AssertionError(f"{label}: parameters differ from the shipped epoch's")
        lines.append([label, "yes" if difference == 0 else "no", f"{difference:.2e}"])
    log(f"  same parameters as shipped after one epoch on {data[0].shape[0]} rows: {lines}")
    return (
        f"Parameters after one epoch on the first {data[0].shape[0]} rows, against the "
        "epoch as shipped at this thread count:\n\n"
        + markdown_table(["row", "bit-identical", "largest difference"], lines)
    )


def simd_line():
    """Header line: the vector instructions NumPy found on this CPU."""
    from numpy._core._multiarray_umath import __cpu_features__ as features

    flags = ", ".join(f"{k} {'yes' if features.get(k) else 'no'}" for k in ("AVX2", "AVX512F"))
    return (
        f"SIMD (NumPy's CPU features): {flags}. The scaling section's note that skae's "
        "kernels run on one thread holds for the shipped row; (b), (d) and (e) run them "
        "threaded"
    )


def _versus_shipped(timings, rows):
    lines = [
        [label, f"{timings.median[key] / timings.median['shipped']:.3f}"]
        for key, label in rows
        if key != "shipped"
    ]
    return markdown_table(["row", "/ shipped (medians)"], lines)


def _numba_installed():
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
