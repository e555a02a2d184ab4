"""Compiled kernels (Numba) for the elementwise work of an epoch, on the calling thread.

Each kernel does the work of the NumPy function named in its docstring (the reference,
which states the formula) with the same arithmetic in the same order, in one pass over
memory instead of one pass per ufunc: its results are bit-identical. Constants are cast
to the arrays' dtype first, as NumPy does with Python floats, so float32 stays float32.

Imported only through :func:`skae._core._fast.kernels`, which checks that the arrays are
C-contiguous and of one float dtype. ``cache=True`` compiles each kernel once per
machine and dtype (a few seconds in all, the first time) and loads it afterwards.

One thread, on purpose (issue 21). The kernels run between the BLAS products of a batch.
Threaded (``parallel=True``), they shared the cores with threads that spin: OpenBLAS's
workers busy-wait after each product for the next one, and Numba's own OpenMP workers
spin between kernels wherever another library's ``libgomp.so.1`` (PyTorch's) was loaded
first with the default wait policy. Measured at 2 BLAS threads on 2 cores: the deep
classifier's epoch took twice as long as the NumPy path with ``torch`` imported or with
another process on a core, and gained nothing on a quiet machine without it
(docs/performance.md). On one thread the fused passes save the memory traffic and meet
no other thread.

Not compiled, measured slower or no faster: the activations themselves (Numba's ``tanh``
and ``exp`` are scalar library calls, 5 to 20 times slower than NumPy's vectorised ones:
6.6 ms against 0.29 ms for a 200 x 1000 sigmoid), the bias gradient's column sums
(``np.sum(axis=0)`` adds whole rows with SIMD: 25 us against 117 us for a column-blocked
kernel on 200 x 1000), and a mask product ``a * b`` (one pass either way: 30 us both on
200 x 1000). A sigmoid written without library calls (a polynomial ``exp``) does
vectorise, and on an AVX2 machine took 0.2 ms against NumPy's 1 ms, but it is not
bit-identical to the NumPy path: measured, not adopted (``benchmarks/bench_one_pool.py``,
docs/performance.md).
"""

import numba
import numpy as np

# error_model="numpy": x / 0 gives inf or nan as in NumPy, not ZeroDivisionError;
# no parallel=True: see the module's docstring
_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def _adam(grad, m, v, params, beta_1, beta_2, step_size, epsilon):
    for i in range(params.size):
        g = grad[i]
        m_i = m[i] * beta_1 + g
        v_i = v[i] * beta_2 + g * g
        m[i] = m_i
        v[i] = v_i
        params[i] -= m_i / (np.sqrt(v_i) + epsilon) * step_size


def adam_update(grad, m, v, params, beta_1, beta_2, step_size, epsilon):
    """``Adam.update``'s ten passes in one: m, v and params updated in place."""
    c = params.dtype.type
    _adam(grad, m, v, params, c(beta_1), c(beta_2), c(step_size), c(epsilon))


@_jit
def _sgd(grad, velocity, params, learning_rate, momentum):
    for i in range(params.size):
        step = grad[i] * learning_rate
        v_i = velocity[i] * momentum - step
        velocity[i] = v_i
        params[i] = (params[i] - step) + v_i * momentum


def sgd_update(grad, velocity, params, learning_rate, momentum):
    """``SGD.step``'s five passes (Nesterov momentum) in one."""
    c = params.dtype.type
    _sgd(grad, velocity, params, c(learning_rate), c(momentum))


@_jit
def _sigmoid_derivative(a, delta, one):
    for i in range(delta.size):
        delta[i] *= (one - a[i]) * a[i]


@_jit
def _tanh_derivative(a, delta, one):
    for i in range(delta.size):
        delta[i] *= one - a[i] * a[i]


@_jit
def _relu_derivative(a, delta, one):
    zero = one - one
    for i in range(delta.size):
        delta[i] *= one if a[i] > zero else zero


def sigmoid_derivative(a, delta):
    """``activations._sigmoid_derivative``: ``delta *= (1 - a) a``."""
    _sigmoid_derivative(a.reshape(-1), delta.reshape(-1), a.dtype.type(1))


def tanh_derivative(a, delta):
    """``activations._tanh_derivative``: ``delta *= 1 - a a``."""
    _tanh_derivative(a.reshape(-1), delta.reshape(-1), a.dtype.type(1))


def relu_derivative(a, delta):
    """``activations._relu_derivative``: ``delta *= (a > 0)``."""
    _relu_derivative(a.reshape(-1), delta.reshape(-1), a.dtype.type(1))


@_jit
def _add_rows(z, bias):
    n_rows, n_columns = z.shape
    for i in range(n_rows):
        for j in range(n_columns):
            z[i, j] += bias[j]


def add_bias(z, bias):
    """``network._add_bias``: ``z += bias`` on every row."""
    _add_rows(z, bias)


@_jit
def _add_scaled(x, scale, dest):
    for i in range(dest.size):
        dest[i] += x[i] * scale


def add_scaled(x, scale, dest):
    """``penalties.weight_decay``'s gradient: ``dest += x * scale``."""
    _add_scaled(x.reshape(-1), dest.dtype.type(scale), dest.reshape(-1))
