"""Input corruption for denoising autoencoders.

Each function in ``NOISES`` returns a corrupted copy of a block of rows; the input is
never modified. The training loss is always computed against the clean input.
"""

import numpy as np
import scipy.sparse as sp


def _masking(x, level, rng):
    # P(x~ = 0) = q, P(x~ = x) = 1 - q   (lecture, module 7.4)
    if sp.issparse(x):
        # zeros stay zero, so masking the stored entries is exact and keeps x sparse
        x = x.copy()
        x.data *= rng.random(x.data.shape, dtype=x.dtype) >= level
        return x
    return x * (rng.random(x.shape, dtype=x.dtype) >= level)


def _gaussian(x, level, rng):
    # x~ = x + N(0, q^2)
    x = x.toarray() if sp.issparse(x) else x
    return x + level * rng.standard_normal(x.shape, dtype=x.dtype)


def _salt_and_pepper(x, level, rng):
    # with probability q a value is set to 0 or to 1, each with probability q / 2
    x = x.toarray() if sp.issparse(x) else x.copy()
    u = rng.random(x.shape, dtype=x.dtype)
    x[u < level / 2] = 0.0
    x[(u >= level / 2) & (u < level)] = 1.0
    return x


NOISES = {
    "masking": _masking,
    "gaussian": _gaussian,
    "salt_and_pepper": _salt_and_pepper,
}


class Corruption:
    """Corrupt blocks of rows reproducibly: the noise of a block depends on its key.

    The same ``(seed, key)`` gives the same noise, so a full-batch objective can be
    evaluated chunk by chunk, twice, under one fixed draw. ``reseed`` draws afresh.

    Parameters
    ----------
    kind : {"masking", "gaussian", "salt_and_pepper"}
    level : float
        The corruption level q.
    seed : int
    """

    def __init__(self, kind, level, seed=0):
        self.kind = kind
        self.level = float(level)  # a NumPy float64 would upcast float32 noise
        self.seed = seed

    def reseed(self, rng):
        """Draw a new seed from ``rng`` so that the next corruptions are fresh."""
        self.seed = int(rng.integers(np.iinfo(np.int64).max))

    def __call__(self, x, key=0):
        return NOISES[self.kind](x, self.level, np.random.default_rng([self.seed, key]))


class Dropout:
    """Inverted dropout masks, reproducible per (layer, block) like :class:`Corruption`.

    ``dropout(layer_index, key, mask, rate)`` fills ``mask`` with 0 (probability
    ``rate``) or ``1 / (1 - rate)``, so the expected input of a layer is unchanged and
    nothing needs rescaling at prediction time. ``batch`` tells minibatches apart.

    Parameters
    ----------
    seed : int
    """

    def __init__(self, seed=0):
        self.seed = seed
        self.batch = 0

    def reseed(self, rng):
        """Draw a new seed from ``rng`` so that the next masks are fresh."""
        self.seed = int(rng.integers(np.iinfo(np.int64).max))

    def __call__(self, layer_index, key, mask, rate):
        rng = np.random.default_rng([self.seed, self.batch, layer_index, key])
        np.greater_equal(rng.random(mask.shape, dtype=mask.dtype), rate, out=mask)
        mask *= 1.0 / (1.0 - rate)
