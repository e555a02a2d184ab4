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


def _sigmoid(z, out):
    # 1 / (1 + exp(-z)) = (1 + tanh(z / 2)) / 2: no overflow, and fewer passes over the
    # array than exp, add and reciprocal (measured faster than scipy.special.expit here)
    np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _sigmoid_derivative(z, a, delta, scratch):
    # f'(z) = f(z) (1 - f(z))
    np.subtract(1.0, a, out=scratch)
    scratch *= a
    delta *= scratch


def _tanh(z, out):
    return np.tanh(z, out=out)


def _tanh_derivative(z, a, delta, scratch):
    # f'(z) = 1 - f(z)^2
    np.multiply(a, a, out=scratch)
    np.subtract(1.0, scratch, out=scratch)
    delta *= scratch


def _relu(z, out):
    return np.maximum(z, 0.0, out=out)


def _relu_derivative(z, a, delta, scratch):
    # f'(z) = 1 where z > 0, else 0 (a > 0 exactly where z > 0)
    np.greater(a, 0.0, out=scratch)
    delta *= scratch


def _swish(z, out):
    # swish(z) = z * sigmoid(z) (seed 003); out must not share memory with z.
    _sigmoid(z, out)
    out *= z
    return out


def _swish_derivative(z, a, delta, scratch):
    # f'(z) = sigmoid(z) + z sigmoid(z) (1 - sigmoid(z)) = a + sigmoid(z) (1 - a)
    s = _sigmoid(z, scratch)
    s *= 1.0 - a
    s += a
    delta *= s


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
}

DERIVATIVES = {
    "sigmoid": _sigmoid_derivative,
    "tanh": _tanh_derivative,
    "relu": _relu_derivative,
    "swish": _swish_derivative,
    "identity": _identity_derivative,
}

NEEDS_PREACTIVATION = frozenset({"swish"})

# The KL sparsity penalty needs activations that can be read as a firing probability.
# sigmoid already lies in (0, 1); tanh lies in (-1, 1) and is mapped by (a + 1) / 2, as
# Ng's notes read -1 as "inactive" for tanh. Other activations have no such reading.
# name -> (scale, shift) with probability = scale * a + shift
SPARSITY_MAPS = {
    "sigmoid": (1.0, 0.0),
    "tanh": (0.5, 0.5),
}
