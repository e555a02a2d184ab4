"""Stochastic optimisers that know only a flat parameter vector and its gradient.

A step can take the L2 weight decay with it, as PyTorch's ``weight_decay``: the
gradient the network computed without it, and the ranges of the vector that it applies
to (``decay``: ``(start, stop, alpha)``, :attr:`Network.weight_decay_ranges`). The
reference adds the penalty's gradient (:func:`~skae._core.penalties.weight_decay`) and
then steps; the compiled kernels of ``skae[fast]`` do both in one pass over memory,
bit-identical for the parameters, and return the decay's value summed in float64 where
NumPy's ``vdot`` sums in the vector's dtype.
"""

import math

import numpy as np

from ._fast import kernels
from .penalties import weight_decay


def _add_weight_decay(params, grad, decay, scratch):
    """``grad += alpha * params`` on each range of ``decay``; the decay's value."""
    value = 0.0
    for start, stop, alpha in decay:
        part = slice(start, stop)
        value += weight_decay([params[part]], alpha, [grad[part]], [scratch[part]])
    return value


def _in_ranges(kernel, arrays, decay, *constants):
    """A compiled step ``kernel`` on matching slices of ``arrays``: each range of
    ``decay`` with its alpha, each gap between them with none; the decay's value."""
    value, position = 0.0, 0
    size = arrays[0].size
    for start, stop, alpha in [*decay, (size, size, 0.0)]:
        for begin, end, a in ((position, start, 0.0), (start, stop, alpha)):
            if begin < end:
                value += kernel(*(array[begin:end] for array in arrays), *constants, a)
        position = stop
    return value


class SGD:
    """Stochastic gradient descent with Nesterov momentum, updating ``params`` in place.

    Parameters
    ----------
    params : ndarray
        Flat parameter vector, updated in place by :meth:`step`.
    learning_rate : float
    momentum : float
    """

    def __init__(self, params, learning_rate=0.01, momentum=0.9):
        self.params = params
        self.dtype = params.dtype
        # Python floats: a NumPy float64 here would upcast float32 updates (NEP 50)
        self.learning_rate = float(learning_rate)
        self.momentum = float(momentum)
        self.velocity = np.zeros_like(params)
        self._scratch = np.empty_like(params)

    def step(self, grad, decay=()):
        """One step along ``grad`` and the weight decay on the ranges ``decay``.

        ``decay``: ``(start, stop, alpha)`` in increasing order, not overlapping (as
        :attr:`Network.weight_decay_ranges` gives them). Returns the decay's value
        before the step (0.0 without ``decay``); ``grad`` may be overwritten.
        """
        # v <- mu v - lr g ;  theta <- theta + mu v - lr g   (Nesterov)
        fast = kernels(self.params, grad, self.velocity)
        if fast is not None:  # the decay and the five passes fused into one (skae[fast])
            arrays = grad, self.velocity, self.params
            return _in_ranges(fast.sgd_update, arrays, decay, self.learning_rate, self.momentum)
        value = _add_weight_decay(self.params, grad, decay, self._scratch)
        step = np.multiply(grad, self.learning_rate, out=self._scratch)
        self.velocity *= self.momentum
        self.velocity -= step
        self.params -= step
        np.multiply(self.velocity, self.momentum, out=step)
        self.params += step
        return value

    def snapshot(self):
        """A copy of the state, to go back to with :meth:`restore`."""
        return self.velocity.copy()

    def restore(self, snapshot):
        self.velocity[...] = snapshot


class Adam:
    """Adam (Kingma & Ba, 2014), updating ``params`` in place.

    Parameters
    ----------
    params : ndarray
        Flat parameter vector, updated in place by :meth:`step`.
    learning_rate : float
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates.
    epsilon : float
    """

    def __init__(self, params, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.params = params
        self.dtype = params.dtype
        self.learning_rate = float(learning_rate)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0
        self.first_moment = np.zeros_like(params)
        self.second_moment = np.zeros_like(params)
        self._scratch = np.empty_like(params)

    def step(self, grad, decay=()):
        """One step along ``grad`` and the weight decay on the ranges ``decay``.

        ``decay``: ``(start, stop, alpha)`` in increasing order, not overlapping (as
        :attr:`Network.weight_decay_ranges` gives them). Returns the decay's value
        before the step (0.0 without ``decay``); ``grad`` may be overwritten.
        """
        self.t += 1
        step_size, epsilon = self.step_constants()
        m, v, params = self.first_moment, self.second_moment, self.params
        fast = kernels(params, grad, m, v)
        if fast is not None:  # the decay and the ten passes fused into one (skae[fast])
            constants = self.beta_1, self.beta_2, step_size, epsilon
            return _in_ranges(fast.adam_update, (grad, m, v, params), decay, *constants)
        value = _add_weight_decay(params, grad, decay, self._scratch)
        self.update(grad, m, v, self._scratch, params, step_size, epsilon)
        return value

    def step_constants(self):
        """The step size and epsilon of step ``t`` for the unnormalised moments (floats).

        The moments are kept unnormalised, m~ = m / (1 - beta_1) and v~ = v / (1 - beta_2),
        which saves two passes over the parameters per step; the constants move into the
        step size and epsilon, so the update is exactly lr_t * m / (sqrt(v) + eps) with
        lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t).
        """
        # Python floats, not NumPy float64 scalars: those would run the float32 ufuncs
        # in float64 (NEP 50), a hidden upcast
        root = math.sqrt(1 - self.beta_2)
        step_size = (
            self.learning_rate
            * math.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
            * (1 - self.beta_1)
            / root
        )
        return step_size, self.epsilon / root

    def update(self, grad, m, v, scratch, params, step_size, epsilon):
        """The ten passes of one step over matching arrays (or matching slices of them).

        Parameters
        ----------
        grad, m, v, scratch, params : ndarray
            The gradient, the two unnormalised moments, a buffer it overwrites, and the
            parameters; ``m``, ``v`` and ``params`` are updated in place.
        step_size, epsilon : float
            From :meth:`step_constants` after ``t`` was advanced; Python floats, so that
            float32 arrays stay float32.
        """
        fast = kernels(params, grad, m, v)
        if fast is not None:  # the same ten passes fused into one (skae[fast])
            fast.adam_update(grad, m, v, params, self.beta_1, self.beta_2, step_size, epsilon)
            return
        m *= self.beta_1
        m += grad
        v *= self.beta_2
        np.multiply(grad, grad, out=scratch)
        v += scratch
        np.sqrt(v, out=scratch)
        scratch += epsilon
        np.divide(m, scratch, out=scratch)
        scratch *= step_size
        params -= scratch

    def snapshot(self):
        """A copy of the state, to go back to with :meth:`restore`."""
        return self.t, self.first_moment.copy(), self.second_moment.copy()

    def restore(self, snapshot):
        self.t = snapshot[0]
        self.first_moment[...] = snapshot[1]
        self.second_moment[...] = snapshot[2]


OPTIMIZERS = {"sgd": SGD, "adam": Adam}
