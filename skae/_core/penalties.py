"""Regularisation penalties: value and gradient written next to each other."""

import numpy as np


def weight_decay(weights, alpha, grads=None):
    """L2 weight decay ``alpha / 2 * sum(W ** 2)`` over weight matrices, never biases.

    If ``grads`` is given, ``alpha * W`` is added to each matching gradient in place.
    """
    if alpha == 0:
        return 0.0
    value = 0.0
    for w, g in zip(weights, grads or [None] * len(weights), strict=True):
        value += 0.5 * alpha * float(np.vdot(w, w))
        if g is not None:
            g += alpha * w  # d/dW alpha/2 ||W||^2 = alpha W
    return value


def kl_sparsity(rho_hat, rho, beta):
    """KL sparsity penalty and its derivative with respect to ``rho_hat``.

    Returns ``beta * sum_j KL(rho || rho_hat_j)`` and the vector
    ``beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))``.
    """
    # A unit stuck at 0 or 1 makes the KL infinite: clip at the dtype's resolution so
    # the penalty stays finite and still pushes the unit back.
    eps = np.finfo(rho_hat.dtype).eps
    rho_hat = np.clip(rho_hat, eps, 1.0 - eps)
    value = beta * float(
        np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    )
    # sparsity delta: beta * (-rho/rho_hat + (1-rho)/(1-rho_hat))
    derivative = beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))
    return value, derivative
