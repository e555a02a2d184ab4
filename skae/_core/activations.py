"""Activation functions and their derivatives, as tables of in-place NumPy functions.

``ACTIVATIONS[name](z, out)`` writes ``f(z)`` into ``out`` (which may be ``z`` itself).
``DERIVATIVES[name](z, a, delta, scratch)`` multiplies ``delta`` in place by ``f'(z)``,
where ``a = f(z)``; ``scratch`` is a buffer of the same shape that it may overwrite, so
that no temporary array is allocated in the training loop. Most derivatives are cheapest
from the output ``a`` alone; those that need the pre-activation ``z`` are listed in
``NEEDS_PREACTIVATION`` so that the network keeps ``z`` in a buffer of its own only for
them. A new activation is one entry in each table.
"""

import numpy as np

from ._fast import kernels


def _sigmoid(z, out):
    # 1 / (1 + exp(-z)) = (1 + tanh(z / 2)) / 2: no overflow, and fewer passes over the
    # array than exp, add and reciprocal (measured faster than scipy.special.expit here)
    fast = kernels(z, out)
    if fast is not None and z.dtype == np.float32:  # float64 stays here: gradient checks
        return fast.sigmoid(z, out)  # vectorised 1 / (1 + exp(-z)), within 2.5 ulp
    np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _sigmoid_derivative(z, a, delta, scratch):
    # f'(z) = f(z) (1 - f(z))
    fast = kernels(delta, a)
    if fast is not None:  # the same passes fused into one (skae[fast])
        return fast.sigmoid_derivative(a, delta)
    np.subtract(1.0, a, out=scratch)
    scratch *= a
    delta *= scratch


def _tanh(z, out):
    return np.tanh(z, out=out)


def _tanh_derivative(z, a, delta, scratch):
    # f'(z) = 1 - f(z)^2
    fast = kernels(delta, a)
    if fast is not None:
        return fast.tanh_derivative(a, delta)
    np.multiply(a, a, out=scratch)
    np.subtract(1.0, scratch, out=scratch)
    delta *= scratch


def _relu(z, out):
    return np.maximum(z, 0.0, out=out)


def _relu_derivative(z, a, delta, scratch):
    # f'(z) = 1 where z > 0, else 0 (a > 0 exactly where z > 0)
    fast = kernels(delta, a)
    if fast is not None:
        return fast.relu_derivative(a, delta)
    np.greater(a, 0.0, out=scratch)
    delta *= scratch


def _swish(z, out):
    # swish(z) = z * sigmoid(z) (the backprop homework); out must not share memory with z.
    _sigmoid(z, out)
    out *= z
    return out


def _swish_derivative(z, a, delta, scratch):
    # f'(z) = sigmoid(z) + z sigmoid(z) (1 - sigmoid(z)) = a + sigmoid(z) (1 - a)
    s = _sigmoid(z, scratch)
    s *= 1.0 - a
    s += a
    delta *= s


def _softmax(z, out):
    # rows sum to 1; shifting by the row maximum keeps exp from overflowing. Only used as
    # the output of a classifier, where the log loss gives dL/dz = p - y directly.
    np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


def _identity(z, out):
    if out is not z:
        out[...] = z
    return out


def _identity_derivative(z, a, delta, scratch):
    # f'(z) = 1
    pass


ACTIVATIONS = {
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "relu": _relu,
    "swish": _swish,
    "identity": _identity,
    "softmax": _softmax,
}

# Activations a hidden layer or an autoencoder's decoder may use (softmax is an output only)
ELEMENTWISE_ACTIVATIONS = ("sigmoid", "tanh", "relu", "swish", "identity")

DERIVATIVES = {
    "sigmoid": _sigmoid_derivative,
    "tanh": _tanh_derivative,
    "relu": _relu_derivative,
    "swish": _swish_derivative,
    "identity": _identity_derivative,
}

NEEDS_PREACTIVATION = frozenset({"swish"})


def first_and_second_derivatives(name, z, a):
    """``(f'(z), f''(z))`` as new arrays, for the contractive penalty (not a hot path)."""
    if name == "sigmoid":
        first = a * (1.0 - a)
        return first, first * (1.0 - 2.0 * a)  # f'' = f' (1 - 2 f)
    if name == "tanh":
        first = 1.0 - a * a
        return first, -2.0 * a * first  # f'' = -2 f f'
    if name == "relu":
        return (a > 0).astype(a.dtype), np.zeros_like(a)  # f'' = 0 almost everywhere
    if name == "identity":
        return np.ones_like(a), np.zeros_like(a)
    if name == "swish":
        s = _sigmoid(z, np.empty_like(z))
        s_prime = s * (1.0 - s)
        # f' = s + z s (1 - s);  f'' = s (1 - s) (2 + z (1 - 2 s))
        return s + z * s_prime, s_prime * (2.0 + z * (1.0 - 2.0 * s))
    raise ValueError(f"no second derivative for activation {name!r}")


# The KL sparsity penalty needs activations that can be read as a firing probability.
# sigmoid already lies in (0, 1); tanh lies in (-1, 1) and is mapped by (a + 1) / 2, as
# Ng's notes read -1 as "inactive" for tanh. Other activations have no such reading.
# name -> (scale, shift) with probability = scale * a + shift
SPARSITY_MAPS = {
    "sigmoid": (1.0, 0.0),
    "tanh": (0.5, 0.5),
}
