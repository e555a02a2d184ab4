"""Compiled kernels (Numba) for the elementwise work of an epoch, on the calling thread.

Each kernel does the work of the NumPy function named in its docstring (the reference,
which states the formula) with the same arithmetic in the same order, in one pass over
memory instead of one pass per ufunc: its results are bit-identical. One exception, the
float32 :func:`sigmoid`, computes the same function by another formula that vectorises
(within 1.2e-7 of the exact sigmoid; see its docstring). The optimisers' steps with
weight decay return the decay's value summed in float64, where NumPy's ``vdot`` sums in
the arrays' dtype (the parameters they write are bit-identical). Constants are cast
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

Not compiled, measured slower or no faster: activations through Numba's ``tanh`` and
``exp`` (scalar library calls, 5 to 20 times slower than NumPy's vectorised ones: 6.6 ms
against 0.29 ms for a 200 x 1000 sigmoid; hence the float32 sigmoid's polynomial), the
bias gradient's column sums (``np.sum(axis=0)`` adds whole rows with SIMD: 25 us against
117 us for a column-blocked kernel on 200 x 1000), and a mask product ``a * b`` (one pass
either way: 30 us both on 200 x 1000).
"""

import numba
import numpy as np
from llvmlite import ir
from numba.extending import intrinsic

# error_model="numpy": x / 0 gives inf or nan as in NumPy, not ZeroDivisionError;
# no parallel=True: see the module's docstring
_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


# -- the optimisers' steps: one pass over the parameters, weight decay folded in ------
# ``_adam_at`` and ``_sgd_at`` update element i from its gradient g by the formula of the
# NumPy method they replace; inlined, each kernel below compiles to one vectorised loop.
_inline = numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
# The decayed steps also sum the squares of the parameters (the decay's value) in LANES
# partial sums: one running sum is a chain of dependent additions, which LLVM may not
# reorder, and would keep the loop from vectorising.
LANES = 16


@_inline
def _adam_at(i, g, m, v, params, beta_1, beta_2, step_size, epsilon):
    m_i = m[i] * beta_1 + g
    v_i = v[i] * beta_2 + g * g
    m[i] = m_i
    v[i] = v_i
    params[i] -= m_i / (np.sqrt(v_i) + epsilon) * step_size


@_inline
def _sgd_at(i, g, velocity, params, learning_rate, momentum):
    step = g * learning_rate
    v_i = velocity[i] * momentum - step
    velocity[i] = v_i
    params[i] = (params[i] - step) + v_i * momentum


@_jit
def _adam(grad, m, v, params, beta_1, beta_2, step_size, epsilon):
    for i in range(params.size):
        _adam_at(i, grad[i], m, v, params, beta_1, beta_2, step_size, epsilon)


@_jit
def _adam_decayed(grad, m, v, params, alpha, beta_1, beta_2, step_size, epsilon):
    # the gradient g = grad + params * alpha, as penalties.weight_decay adds it
    squares = np.zeros(LANES)
    full = params.size - params.size % LANES
    for start in range(0, full, LANES):
        for j in range(LANES):
            i = start + j
            w = params[i]
            _adam_at(i, grad[i] + w * alpha, m, v, params, beta_1, beta_2, step_size, epsilon)
            squares[j] += np.float64(w) * np.float64(w)
    for i in range(full, params.size):
        w = params[i]
        _adam_at(i, grad[i] + w * alpha, m, v, params, beta_1, beta_2, step_size, epsilon)
        squares[0] += np.float64(w) * np.float64(w)
    return squares.sum()


@_jit
def _sgd(grad, velocity, params, learning_rate, momentum):
    for i in range(params.size):
        _sgd_at(i, grad[i], velocity, params, learning_rate, momentum)


# the loop of _adam_decayed again: a kernel that took ``_*_at`` as an argument would be
# compiled anew in every process (Numba caches no function-typed argument)
@_jit
def _sgd_decayed(grad, velocity, params, alpha, learning_rate, momentum):
    squares = np.zeros(LANES)
    full = params.size - params.size % LANES
    for start in range(0, full, LANES):
        for j in range(LANES):
            i = start + j
            w = params[i]
            _sgd_at(i, grad[i] + w * alpha, velocity, params, learning_rate, momentum)
            squares[j] += np.float64(w) * np.float64(w)
    for i in range(full, params.size):
        w = params[i]
        _sgd_at(i, grad[i] + w * alpha, velocity, params, learning_rate, momentum)
        squares[0] += np.float64(w) * np.float64(w)
    return squares.sum()


def _decay_value(alpha, squares, dtype):
    # squares rounded to the parameters' dtype first: a float32 sum of squares beyond
    # float32's range is inf, as NumPy's vdot makes it, and the fit stops as diverged
    return 0.5 * alpha * float(dtype(squares))


def adam_update(grad, m, v, params, beta_1, beta_2, step_size, epsilon, alpha=0.0):
    """``Adam.update``'s ten passes in one: m, v and params updated in place.

    With ``alpha``, the step's gradient is ``grad + alpha * params`` (L2 weight decay, as
    ``penalties.weight_decay`` adds it; ``grad`` itself is left as it is), and it returns
    the decay's value ``alpha / 2 * sum(params ** 2)`` before the step (the squares summed
    in float64, then rounded to the parameters' dtype).
    """
    c = params.dtype.type
    constants = c(beta_1), c(beta_2), c(step_size), c(epsilon)
    if alpha == 0:
        _adam(grad, m, v, params, *constants)
        return 0.0
    return _decay_value(alpha, _adam_decayed(grad, m, v, params, c(alpha), *constants), c)


def sgd_update(grad, velocity, params, learning_rate, momentum, alpha=0.0):
    """``SGD.step``'s five passes (Nesterov momentum) in one; ``alpha`` as in
    :func:`adam_update`."""
    c = params.dtype.type
    if alpha == 0:
        _sgd(grad, velocity, params, c(learning_rate), c(momentum))
        return 0.0
    squares = _sgd_decayed(grad, velocity, params, c(alpha), c(learning_rate), c(momentum))
    return _decay_value(alpha, squares, c)


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


# -- the float32 sigmoid: exp by a polynomial, so that the loop vectorises -------------
# Numba's np.exp and np.tanh are scalar calls into a math library (a 200 x 1000 sigmoid
# took 6.6 ms against NumPy's 0.29-1 ms); written with + * floor and a bit cast only,
# LLVM compiles the loop to SIMD instructions (0.25 ms against NumPy's 0.86 ms on AVX2:
# benchmarks/results/bench_sigmoid_alone.md).
# exp(x) = 2**n exp(r), n = round(x log2(e)), r = x - n ln(2) with ln(2) in two parts so
# that r is exact, exp(r) by the minimax polynomial of Cephes' expf (r in [-ln2/2, ln2/2]).
_F = np.float32
_LOG2_E = _F(1.44269504088896341)
_LN2_HIGH, _LN2_LOW = _F(0.693359375), _F(-2.12194440e-4)
_P0, _P1, _P2 = _F(1.9875691500e-4), _F(1.3981999507e-3), _F(8.3334519073e-3)
_P3, _P4, _P5 = _F(4.1665795894e-2), _F(1.6666665459e-1), _F(5.0000001201e-1)
# exp(-z) for -z in [-87, 88] keeps 2**n a normal float32; below z = -88 the output is 0
_X_LOW, _X_HIGH = _F(-87.0), _F(88.0)


@intrinsic
def _float32_from_bits(typingctx, bits):
    """The float32 whose bits are the int32 ``bits`` (C's ``*(float *)&bits``)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return numba.types.float32(numba.types.int32), codegen


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _sigmoid32_of(z):
    one, half, zero = _F(1.0), _F(0.5), _F(0.0)
    x = -z
    # clamped by comparisons, not min/max: a NaN becomes _X_LOW here (np.int32 of a NaN
    # is undefined in LLVM) and is put back at the end
    clamped = x if x > _X_LOW else _X_LOW
    clamped = clamped if clamped < _X_HIGH else _X_HIGH
    n = np.floor(clamped * _LOG2_E + half)
    r = (clamped - n * _LN2_HIGH) - n * _LN2_LOW
    p = ((((_P0 * r + _P1) * r + _P2) * r + _P3) * r + _P4) * r + _P5
    exp_r = p * (r * r) + r + one
    exp_x = exp_r * _float32_from_bits((np.int32(n) + np.int32(127)) << np.int32(23))
    s = one / (one + exp_x)
    # the NaN test last, as a select, so that the loop stays branch-free
    return s if x <= _X_HIGH else (zero if x > _X_HIGH else x)


# Two loops, because LLVM vectorises a loop over two arrays only after a run-time check
# that they do not overlap, and runs it scalar (6 times slower) when they are views of
# the same memory, as in the forward pass: one array, read and written, has nothing to
# check.
@_jit
def _sigmoid32(z, out):
    for i in range(z.size):
        out[i] = _sigmoid32_of(z[i])


@_jit
def _sigmoid32_in_place(a):
    for i in range(a.size):
        a[i] = _sigmoid32_of(a[i])


def sigmoid(z, out):
    """``activations._sigmoid`` for float32: ``out = 1 / (1 + exp(-z))``.

    ``z`` and ``out`` are C-contiguous float32 arrays of one shape (as
    :func:`skae._core._fast.kernels` hands them); ``out`` may be ``z``, or a view of it.

    Not bit-identical to NumPy's ``(1 + tanh(z / 2)) / 2``: within 1.2e-7 of it and of
    the exact sigmoid (NumPy's is within 6e-8), and within 2.5 units in the last place of
    the exact sigmoid wherever that is a normal float32, where NumPy's loses the relative
    precision near 0 and rounds to 0 below about z = -20 (tested on every 256th float32
    between -88 and 88: 8.7 million inputs). NaN stays NaN (divergence is detected from
    it), -inf gives 0 and inf gives 1.
    """
    if z.shape != out.shape:
        raise ValueError(f"sigmoid: z {z.shape} and out {out.shape} differ in shape")
    if np.may_share_memory(z, out):
        same = z.ctypes.data == out.ctypes.data and z.strides == out.strides
        if not same:  # overlapping, shifted: NumPy copies those correctly
            out[...] = z
        _sigmoid32_in_place(out.reshape(-1))
    else:
        _sigmoid32(z.reshape(-1), out.reshape(-1))
    return out
