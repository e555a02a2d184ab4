"""A one-hidden-layer autoencoder: parameter layout, forward pass, objective, gradient.

All parameters live in one flat vector ``theta`` (as scikit-learn's MLP packs them for
``scipy.optimize.minimize``); :meth:`Autoencoder.unpack` returns views into it, so an
optimiser updating ``theta`` in place updates every layer without copies.

Notation (Ng's notes, rows are samples)::

    hidden      z_h = x~ W_enc^T + b_h        h = f(z_h)
    output      z_o = h W_dec + b_v           x^ = g(z_o)
    objective   J = 1/m sum_i L(x_i, x^_i) + lambda/2 (||W_enc||^2 + ||W_dec||^2)
                    + beta sum_j KL(rho || rho^_j),   rho^ = 1/m sum_i h_i

``x~`` is the (possibly corrupted) input and ``x`` the clean target. With tied weights
``W_dec = W_enc`` is one parameter, counted once in the weight decay, and its gradient is
the sum of the encoder's and the decoder's paths (seed 003).
"""

from collections import namedtuple

import numpy as np
import scipy.sparse as sp

from .activations import ACTIVATIONS, DERIVATIVES, NEEDS_PREACTIVATION, SPARSITY_MAPS
from .losses import LOSSES, SAMPLE_LOSSES
from .penalties import kl_sparsity, weight_decay

Params = namedtuple(
    "Params", ["encoder_weights", "hidden_bias", "decoder_weights", "visible_bias"]
)


def _dense(x):
    return x.toarray() if sp.issparse(x) else x


def _add_product(a, b, dest, scratch, accumulate):
    """``dest = a @ b``, or ``dest += a @ b`` if ``accumulate``; ``b`` may be sparse.

    Dense products go straight into ``dest`` (or through ``scratch``): no temporaries.
    """
    if sp.issparse(b):
        product = (b.T @ a.T).T  # sparse x~: never densified
    else:
        product = np.matmul(a, b, out=scratch if accumulate else dest)
    if accumulate:
        dest += product
    elif product is not dest:
        dest[...] = product


def _add_sum(delta, dest, accumulate):
    """``dest (+)= delta.sum(axis=0)``, the bias gradient of a block."""
    if accumulate:
        dest += delta.sum(axis=0)
    else:
        np.sum(delta, axis=0, out=dest)


class _Workspace:
    """Buffers for blocks of up to ``rows`` samples, allocated once and reused."""

    def __init__(self, rows, n_features, n_hidden, dtype, keep_preactivations):
        self.rows = rows
        self.hidden = np.empty((rows, n_hidden), dtype=dtype)
        self.output = np.empty((rows, n_features), dtype=dtype)
        self.output_delta = np.empty((rows, n_features), dtype=dtype)
        self.hidden_delta = np.empty((rows, n_hidden), dtype=dtype)
        self.hidden_scratch = np.empty((rows, n_hidden), dtype=dtype)
        self.output_scratch = np.empty((rows, n_features), dtype=dtype)
        self.weight_gradient = np.empty((n_hidden, n_features), dtype=dtype)
        hidden_pre, output_pre = keep_preactivations
        self.hidden_pre = np.empty_like(self.hidden) if hidden_pre else self.hidden
        self.output_pre = np.empty_like(self.output) if output_pre else self.output


class Autoencoder:
    """Configuration and arithmetic of a one-hidden-layer autoencoder.

    Parameters
    ----------
    n_features : int
    n_hidden : int
    activation, output_activation : str
        Keys of :data:`ACTIVATIONS` for the hidden layer and the decoder.
    loss : {"squared_error", "cross_entropy"}
    tied : bool
        Decoder weights are the encoder's (``W* = W^T``).
    alpha : float
        L2 weight decay lambda.
    sparsity_target, sparsity_weight : float
        rho and beta of the KL sparsity penalty; ``sparsity_weight=0`` turns it off.
    dtype : numpy dtype
        Working precision of parameters and buffers.
    """

    def __init__(
        self,
        n_features,
        n_hidden,
        *,
        activation="sigmoid",
        output_activation="sigmoid",
        loss="squared_error",
        tied=False,
        alpha=0.0,
        sparsity_target=0.05,
        sparsity_weight=0.0,
        dtype=np.float64,
    ):
        self.n_features = n_features
        self.n_hidden = n_hidden
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.tied = tied
        # Python floats: NumPy float64 scalars (say from a scipy.stats distribution in a
        # RandomizedSearchCV) would silently upcast float32 arithmetic (NEP 50)
        self.alpha = float(alpha)
        self.sparsity_target = float(sparsity_target)
        self.sparsity_weight = float(sparsity_weight)
        self.dtype = np.dtype(dtype)
        self._workspace = None
        self._layout = None

    # -- parameter layout --------------------------------------------------------------
    @property
    def shapes(self):
        weights = (self.n_hidden, self.n_features)
        decoder = [] if self.tied else [weights]
        return [weights, (self.n_hidden,), *decoder, (self.n_features,)]

    @property
    def n_params(self):
        return sum(int(np.prod(s)) for s in self.shapes)

    def unpack(self, theta):
        """Views of ``theta`` as :class:`Params` (decoder weights are the encoder's if tied)."""
        # called several times per minibatch: the layout is worked out once
        if self._layout is None:
            bounds = np.cumsum([0] + [int(np.prod(s)) for s in self.shapes])
            self._layout = list(zip(bounds[:-1], bounds[1:], self.shapes, strict=True))
        views = [theta[start:stop].reshape(shape) for start, stop, shape in self._layout]
        if self.tied:
            views.insert(2, views[0])
        return Params(*views)

    def pack(self, params):
        """Flat vector in the working dtype from a :class:`Params` (a copy)."""
        arrays = list(params)
        if self.tied:
            del arrays[2]
        return np.concatenate([np.ravel(a) for a in arrays]).astype(self.dtype)

    def init_params(self, rng):
        """Random weights, zero biases: Ng's uniform(-r, r), r = sqrt(6 / (n_in + n_out + 1))."""
        theta = np.zeros(self.n_params, dtype=self.dtype)
        params = self.unpack(theta)
        r = np.sqrt(6.0 / (self.n_features + self.n_hidden + 1))
        params.encoder_weights[...] = rng.uniform(-r, r, params.encoder_weights.shape)
        if not self.tied:
            params.decoder_weights[...] = rng.uniform(-r, r, params.decoder_weights.shape)
        return theta

    # -- forward ---------------------------------------------------------------------
    def _workspace_for(self, rows):
        ws = self._workspace
        if ws is None or ws.rows < rows or ws.hidden.dtype != self.dtype:
            keep = (
                self.activation in NEEDS_PREACTIVATION,
                self.output_activation in NEEDS_PREACTIVATION,
            )
            ws = _Workspace(rows, self.n_features, self.n_hidden, self.dtype, keep)
            self._workspace = ws
        return ws

    def encode(self, theta, x, out=None, pre=None):
        """Hidden activations ``h = f(x W_enc^T + b_h)`` (``pre`` receives ``z_h``)."""
        p = self.unpack(theta)
        if out is None:
            out = np.empty((x.shape[0], self.n_hidden), dtype=self.dtype)
        if pre is None:
            # an activation whose derivative needs z must not compute in place
            pre = np.empty_like(out) if self.activation in NEEDS_PREACTIVATION else out
        if sp.issparse(x):
            pre[...] = x @ p.encoder_weights.T
        else:
            np.matmul(x, p.encoder_weights.T, out=pre)
        pre += p.hidden_bias
        return ACTIVATIONS[self.activation](pre, out)

    def decode(self, theta, h, out=None, pre=None):
        """Reconstruction ``x^ = g(h W_dec + b_v)`` (``pre`` receives ``z_o``)."""
        p = self.unpack(theta)
        if out is None:
            out = np.empty((h.shape[0], self.n_features), dtype=self.dtype)
        if pre is None:
            pre = np.empty_like(out) if self.output_activation in NEEDS_PREACTIVATION else out
        np.matmul(h, p.decoder_weights, out=pre)
        pre += p.visible_bias
        return ACTIVATIONS[self.output_activation](pre, out)

    def sample_losses(self, theta, x):
        """Reconstruction loss of each row of ``x`` (no corruption, no penalties)."""
        x_hat = self.decode(theta, self.encode(theta, x))
        return SAMPLE_LOSSES[self.loss](_dense(x), x_hat)

    # -- objective and gradient ------------------------------------------------------
    @property
    def _sparsity_on(self):
        return self.sparsity_weight > 0

    def _blocks(self, n_samples, chunk_size):
        step = n_samples if chunk_size is None else max(1, min(chunk_size, n_samples))
        return [(start, min(start + step, n_samples)) for start in range(0, n_samples, step)]

    def mean_activation(self, theta, x, corrupt=None, chunk_size=None):
        """rho^ : the mean hidden activation over all rows, read as a probability."""
        blocks = self._blocks(x.shape[0], chunk_size)
        ws = self._workspace_for(blocks[0][1] - blocks[0][0])
        total = np.zeros(self.n_hidden, dtype=self.dtype)
        for start, stop in blocks:
            x_in = x[start:stop] if corrupt is None else corrupt(x[start:stop], start)
            rows = stop - start
            h = self.encode(theta, x_in, ws.hidden[:rows], ws.hidden_pre[:rows])
            total += h.sum(axis=0)
        return self._rho_hat(total, x.shape[0])

    def _rho_hat(self, hidden_sum, n_samples):
        # rho^_j = 1/m sum_i h_ij, read as a probability (tanh: (a + 1) / 2)
        scale, shift = SPARSITY_MAPS[self.activation]
        return scale * hidden_sum / n_samples + shift

    def objective(self, theta, x, grad=None, corrupt=None, chunk_size=None):
        """Objective J(theta) over all rows of ``x`` and, if ``grad`` is given, its gradient.

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
        x : ndarray or sparse matrix of shape (n_samples, n_features)
            Clean inputs; they are also the reconstruction targets.
        grad : ndarray of shape (n_params,), optional
            Receives dJ/dtheta.
        corrupt : callable, optional
            ``corrupt(x_block, start_row)`` returns the corrupted block fed to the encoder.
            It must return the same corruption for the same block (see ``Corruption``).
        chunk_size : int, optional
            Rows per block; memory beyond ``x`` is bounded by it. With sparsity on, rho^
            needs all rows first: a block-wise pass computes it, then the gradient pass
            repeats the forward pass (Ng's notes, section 2.4).

        Returns
        -------
        value : float
        """
        n_samples = x.shape[0]
        blocks = self._blocks(n_samples, chunk_size)
        ws = self._workspace_for(blocks[0][1] - blocks[0][0])
        p = self.unpack(theta)
        g = self.unpack(grad) if grad is not None else None

        sparsity_delta = None
        if self._sparsity_on:
            scale, _ = SPARSITY_MAPS[self.activation]
            if len(blocks) == 1:
                rho_hat = None  # computed below from the one forward pass
            else:
                rho_hat = self.mean_activation(theta, x, corrupt, chunk_size)

        value = 0.0
        for block_index, (start, stop) in enumerate(blocks):
            rows = stop - start
            x_block = x[start:stop]
            x_in = x_block if corrupt is None else corrupt(x_block, start)
            target = _dense(x_block)
            h = self.encode(theta, x_in, ws.hidden[:rows], ws.hidden_pre[:rows])
            x_hat = self.decode(theta, h, ws.output[:rows], ws.output_pre[:rows])
            d_out = ws.output_delta[:rows]
            value += LOSSES[self.loss](
                target,
                x_hat,
                ws.output_pre[:rows],
                self.output_activation,
                d_out,
                ws.output_scratch[:rows],
            )

            if self._sparsity_on and sparsity_delta is None:
                if rho_hat is None:
                    rho_hat = self._rho_hat(h.sum(axis=0), n_samples)
                kl_value, kl_derivative = kl_sparsity(
                    rho_hat, self.sparsity_target, self.sparsity_weight
                )
                # d rho^_j / d h_ij = scale / m
                sparsity_delta = (scale * kl_derivative / n_samples).astype(self.dtype)
            if grad is None:
                continue

            # The 1/m of J scales every delta once here, so no gradient needs rescaling.
            d_out *= 1.0 / n_samples
            first = block_index == 0  # the first block writes the gradient, others add
            # backward through the decoder: d_hidden = d_out W_dec^T
            d_hidden = ws.hidden_delta[:rows]
            np.matmul(d_out, p.decoder_weights.T, out=d_hidden)
            # dJ/dW_dec = h^T d_out, dJ/db_v = sum_i d_out. Tied weights:
            # g.decoder_weights is g.encoder_weights, so the decoder's and the encoder's
            # paths add up in one array, as seed 003 asks.
            _add_product(h.T, d_out, g.decoder_weights, ws.weight_gradient, not first)
            _add_sum(d_out, g.visible_bias, not first)
            # hidden layer: d_hidden = (d_out W_dec^T + sparsity delta) * f'(z_h)
            if sparsity_delta is not None:
                d_hidden += sparsity_delta
            DERIVATIVES[self.activation](
                ws.hidden_pre[:rows], h, d_hidden, ws.hidden_scratch[:rows]
            )
            # dJ/dW_enc = d_hidden^T x~, dJ/db_h = sum_i d_hidden
            _add_product(
                d_hidden.T, x_in, g.encoder_weights, ws.weight_gradient, self.tied or not first
            )
            _add_sum(d_hidden, g.hidden_bias, not first)

        value /= n_samples
        weights = [p.encoder_weights] if self.tied else [p.encoder_weights, p.decoder_weights]
        if grad is not None:
            grads = [g.encoder_weights] if self.tied else [g.encoder_weights, g.decoder_weights]
            value += weight_decay(weights, self.alpha, grads)
        else:
            value += weight_decay(weights, self.alpha)
        if self._sparsity_on:
            value += kl_value
        return value
