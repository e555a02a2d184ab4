"""Reconstruction losses, each with its value and its output delta side by side.

``LOSSES[name](x, x_hat, z, output_activation, delta, scratch)`` returns the loss summed
over a block of rows and writes ``dL/dz``, the derivative with respect to the decoder's
pre-activation ``z``, into ``delta`` (``scratch`` is a buffer it may overwrite).
The value is read off the same buffer that the backward pass needs, so the loss costs no
extra pass over the data.
``SAMPLE_LOSSES[name](x, x_hat)`` returns the loss of each row.
"""

import numpy as np

from .activations import DERIVATIVES


def _clip_probability(x_hat):
    # log(0) would give -inf: keep the decoder's output inside (0, 1) as sklearn's
    # log_loss does, at the resolution of the working dtype.
    eps = np.finfo(x_hat.dtype).eps
    return np.clip(x_hat, eps, 1.0 - eps)


def _squared_error_per_sample(x, x_hat):
    # J(x) = 1/2 ||x_hat - x||^2, the per-example cost of Ng's J(W, b)
    diff = x_hat - x
    return 0.5 * np.einsum("ij,ij->i", diff, diff)


def _squared_error(x, x_hat, z, output_activation, delta, scratch):
    np.subtract(x_hat, x, out=delta)
    value = 0.5 * float(np.vdot(delta, delta))
    # dJ/dz = (x_hat - x) * g'(z)
    DERIVATIVES[output_activation](z, x_hat, delta, scratch)
    return value


def _cross_entropy_per_sample(x, x_hat):
    # J(x) = -sum_j x_j log x_hat_j + (1 - x_j) log(1 - x_hat_j)
    p = _clip_probability(x_hat)
    return -(x * np.log(p) + (1.0 - x) * np.log1p(-p)).sum(axis=1)


def _cross_entropy(x, x_hat, z, output_activation, delta, scratch):
    value = float(_cross_entropy_per_sample(x, x_hat).sum())
    # With a sigmoid decoder (required for this loss) dJ/dz = x_hat - x exactly.
    np.subtract(x_hat, x, out=delta)
    return value


def _log_loss_per_sample(y, p):
    # J(y) = -sum_c y_c log p_c, the multinomial cross entropy of a softmax output
    eps = np.finfo(p.dtype).eps
    return -(y * np.log(np.clip(p, eps, 1.0))).sum(axis=1)


def _log_loss(y, p, z, output_activation, delta, scratch):
    value = float(_log_loss_per_sample(y, p).sum())
    # With a softmax output (required for this loss) dJ/dz = p - y exactly.
    np.subtract(p, y, out=delta)
    return value


LOSSES = {
    "squared_error": _squared_error,
    "cross_entropy": _cross_entropy,
    "log_loss": _log_loss,
}
SAMPLE_LOSSES = {
    "squared_error": _squared_error_per_sample,
    "cross_entropy": _cross_entropy_per_sample,
    "log_loss": _log_loss_per_sample,
}
# The output activation a loss needs for its delta to be exact (others take any)
LOSS_OUTPUTS = {"cross_entropy": "sigmoid", "log_loss": "softmax"}
RECONSTRUCTION_LOSSES = ("squared_error", "cross_entropy")
