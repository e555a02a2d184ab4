"""Regularisation penalties and sparsity, each value written next to its gradient.

A layer carries at most one sparsity object and any of the penalties. Each kind of
sparsity uses one of three hooks of the network's forward and backward passes:

- on the mean activation of the layer's units over all rows (the KL penalty: a first
  pass computes rho^, then each block's backward pass adds the same per-unit delta);
- on the activations themselves, as a mask chosen in the forward pass (top-k per sample,
  winner-take-all per unit); the backward pass lets the gradient through the kept units
  only, the selection being held fixed (it is not differentiable);
- on the weights and pre-activations (the contractive penalty).
"""

import math

import numpy as np

from ._fast import kernels
from .activations import SPARSITY_MAPS, first_and_second_derivatives


def weight_decay(weights, alpha, grads=None, scratches=None):
    """L2 weight decay ``alpha / 2 * sum(W ** 2)`` over weight matrices, never biases.

    If ``grads`` is given, ``alpha * W`` is added to each matching gradient in place,
    through the matching buffer of ``scratches`` if given (no temporary array).
    """
    if alpha == 0:
        return 0.0
    value = 0.0
    n = len(weights)
    for w, g, s in zip(weights, grads or [None] * n, scratches or [None] * n, strict=True):
        value += 0.5 * alpha * float(np.vdot(w, w))
        if g is not None:
            # d/dW alpha/2 ||W||^2 = alpha W
            fast = kernels(g, w)
            if fast is not None:  # the same two passes fused into one (skae[fast])
                fast.add_scaled(w, alpha, g)
            else:
                g += alpha * w if s is None else np.multiply(w, alpha, out=s)
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


class KLSparsity:
    """``beta * sum_j KL(rho || rho^_j)``, rho^_j the mean activation of unit j (Ng's notes).

    Parameters
    ----------
    target : float
        rho.
    weight : float
        beta.
    activation : {"sigmoid", "tanh"}
        The layer's activation; tanh is read as a probability through (a + 1) / 2.
    """

    uses_mean_activation = True
    uses_mask = False

    def __init__(self, target, weight, activation):
        self.target = float(target)
        self.weight = float(weight)
        self.scale, self.shift = SPARSITY_MAPS[activation]

    def mean_activation(self, activation_sum, n_samples):
        # rho^_j = 1/m sum_i h_ij, read as a probability (tanh: (a + 1) / 2)
        return self.scale * activation_sum / n_samples + self.shift

    def value_and_delta(self, rho_hat, n_samples, dtype):
        """The penalty and the per-unit delta ``dJ/dh_ij`` it adds for every row."""
        value, derivative = kl_sparsity(rho_hat, self.target, self.weight)
        # d rho^_j / d h_ij = scale / m
        return value, (self.scale * derivative / n_samples).astype(dtype)


class TopKSparsity:
    """k-sparse codes (Makhzani & Frey 2013): each row keeps its k largest activations.

    Parameters
    ----------
    k : int
    """

    uses_mean_activation = False
    uses_mask = True

    def __init__(self, k):
        self.k = int(k)

    @property
    def level(self):
        """k, the level that an annealing schedule moves (see ``SparsityAnnealing``)."""
        return self.k

    @level.setter
    def level(self, value):
        self.k = max(1, int(round(value)))

    def select(self, a, mask):
        """Write the 0/1 ``mask`` of the kept units and zero the others in ``a``."""
        n_units = a.shape[1]
        mask[...] = 0
        if self.k >= n_units:
            mask[...] = 1
            return
        kept = np.argpartition(a, n_units - self.k, axis=1)[:, n_units - self.k :]
        np.put_along_axis(mask, kept, 1, axis=1)
        a *= mask


class LifetimeSparsity:
    """Winner-take-all over a batch (Makhzani & Frey 2015): each unit keeps its largest
    activations, ``ceil(fraction * rows)`` of the rows it sees at once.

    Parameters
    ----------
    fraction : float in (0, 1]
    """

    uses_mean_activation = False
    uses_mask = True

    def __init__(self, fraction):
        self.fraction = float(fraction)

    @property
    def level(self):
        """The kept fraction, the level that an annealing schedule moves."""
        return self.fraction

    @level.setter
    def level(self, value):
        self.fraction = float(value)

    def n_winners(self, n_rows):
        return max(1, math.ceil(self.fraction * n_rows))

    def select(self, a, mask):
        """Write the 0/1 ``mask`` of each unit's winning rows and zero the others in ``a``."""
        n_rows = a.shape[0]
        winners = self.n_winners(n_rows)
        mask[...] = 0
        if winners >= n_rows:
            mask[...] = 1
            return
        kept = np.argpartition(a, n_rows - winners, axis=0)[n_rows - winners :]
        np.put_along_axis(mask, kept, 1, axis=0)
        a *= mask


def contraction(weights, z, a, activation, gamma, n_samples, weight_grad=None):
    """Contractive penalty (Rifai et al. 2011) of one layer, ``a = f(z)``, ``z = x W^T + b``.

    ``gamma/m sum_i ||J(x_i)||_F^2`` with ``J_jk = f'(z_ij) W_jk``, so
    ``||J(x_i)||_F^2 = sum_j f'(z_ij)^2 ||W_j||^2``.

    Returns the value over the rows given and the delta it adds to ``dJ/dz``; if
    ``weight_grad`` is given, the direct term ``2 gamma/m W_j sum_i f'(z_ij)^2`` is added
    to it in place.
    """
    row_norms = np.einsum("jk,jk->j", weights, weights)  # ||W_j||^2
    first, second = first_and_second_derivatives(activation, z, a)
    first_squared = first * first
    scale = gamma / n_samples
    value = scale * float((first_squared @ row_norms).sum())
    # d/dz_ij of f'(z_ij)^2 ||W_j||^2 = 2 f'(z_ij) f''(z_ij) ||W_j||^2
    pre_delta = (2.0 * scale) * first * second * row_norms
    if weight_grad is not None:
        weight_grad += (2.0 * scale) * first_squared.sum(axis=0)[:, None] * weights
    return value, pre_delta.astype(a.dtype, copy=False)
