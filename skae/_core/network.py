"""Feed-forward networks of dense layers: parameter layout, forward pass, objective, gradient.

All parameters live in one flat vector ``theta`` (as scikit-learn's MLP packs them for
``scipy.optimize.minimize``); :meth:`Network.unpack` returns views into it, so an
optimiser updating ``theta`` in place updates every layer without copies.

Notation (Ng's notes, rows are samples). Layer ``l`` maps ``a_{l-1}`` to ``a_l``::

    z_l = a_{l-1} W_l^T + b_l        a_l = f_l(z_l)        a_0 = x~ (the corrupted input)
    J   = 1/m sum_i L(t_i, a_L,i) + sum_l lambda_l/2 ||W_l||^2 + sparsity + contraction

and the backward pass, from ``delta_L = dL/dz_L / m`` down::

    dJ/dW_l = delta_l^T a_{l-1}      dJ/db_l = sum_i delta_l,i
    delta_{l-1} = (delta_l W_l + sparsity delta) * f'_{l-1}(z_{l-1}) + contraction delta

A one-hidden-layer autoencoder is the two-layer case (encoder, decoder) with the clean
input as target; a deep autoencoder is its unrolled stack; a classifier ends in a softmax
layer with the log loss. A layer whose weights are tied to layer ``j`` uses ``W_j^T``:
``W_j`` is one parameter, counted once in the weight decay, whose gradient is the sum of
the two paths that use it (the homework on backpropagation for autoencoders).
"""

from collections import namedtuple

import numpy as np
import scipy.sparse as sp

from ._fast import kernels
from .activations import ACTIVATIONS, DERIVATIVES, NEEDS_PREACTIVATION
from .losses import LOSSES, SAMPLE_LOSSES
from .penalties import (
    KLSparsity,
    LifetimeSparsity,
    TopKSparsity,
    contraction,
    weight_decay,
)

LayerParams = namedtuple("LayerParams", ["weights", "bias"])


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


def _add_bias(z, bias):
    """``z += bias`` on every row."""
    fast = kernels(z, bias)
    if fast is not None:  # one compiled loop, no broadcasting machinery (skae[fast])
        fast.add_bias(z, bias)
    else:
        z += bias


def _multiply(a, b, out):
    """``out = a * b``: a mask applied (``out`` may be ``a``)."""
    # one pass either way: no compiled kernel (measured no faster, skae/_core/_numba.py)
    np.multiply(a, b, out=out)
    return out


class Layer:
    """One dense layer ``a = f(a_in W^T + b)`` and the penalties on it.

    Parameters
    ----------
    n_in, n_out : int
    activation : str
        Key of :data:`ACTIVATIONS`.
    tied_to : int or None
        Index of an earlier layer whose weights this layer uses transposed.
    alpha : float
        L2 weight decay lambda on this layer's own weights (none if tied).
    sparsity : KLSparsity, TopKSparsity, LifetimeSparsity or None
        Sparsity of this layer's activations.
    contraction_weight : float
        Weight of the contractive penalty on this layer's Jacobian.
    dropout : float
        Probability of dropping each unit of this layer's input in training (inverted
        dropout: kept units are scaled by 1 / (1 - p)).
    """

    def __init__(
        self,
        n_in,
        n_out,
        activation,
        *,
        tied_to=None,
        alpha=0.0,
        sparsity=None,
        contraction_weight=0.0,
        dropout=0.0,
    ):
        self.n_in = int(n_in)
        self.n_out = int(n_out)
        self.activation = activation
        self.tied_to = tied_to
        # Python floats: NumPy float64 scalars (say from a scipy.stats distribution in a
        # RandomizedSearchCV) would silently upcast float32 arithmetic (NEP 50)
        self.alpha = float(alpha)
        self.sparsity = sparsity
        self.contraction_weight = float(contraction_weight)
        self.dropout = float(dropout)


class _Workspace:
    """Buffers for blocks of up to ``rows`` samples, allocated once and reused."""

    def __init__(self, network, rows):
        dtype = network.dtype
        self.rows = rows
        self.activations, self.preactivations, self.deltas, self.scratch = [], [], [], []
        self.keep_masks, self.dropout_masks, self.dropped_inputs = [], [], []
        for layer in network.layers:
            a = np.empty((rows, layer.n_out), dtype=dtype)
            self.activations.append(a)
            self.preactivations.append(
                np.empty_like(a) if layer.activation in NEEDS_PREACTIVATION else a
            )
            self.deltas.append(np.empty_like(a))
            self.scratch.append(np.empty_like(a))
            masked = layer.sparsity is not None and layer.sparsity.uses_mask
            self.keep_masks.append(np.empty_like(a) if masked else None)
            has_dropout = layer.dropout > 0
            self.dropout_masks.append(
                np.empty((rows, layer.n_in), dtype=dtype) if has_dropout else None
            )
            self.dropped_inputs.append(
                np.empty((rows, layer.n_in), dtype=dtype) if has_dropout else None
            )
        # one scratch per stored weight matrix, for blocks that add to a written gradient
        self.weight_scratch = [np.empty(shape, dtype=dtype) for shape in network.weight_shapes]
        self.inputs = [None] * len(network.layers)


class Network:
    """Configuration and arithmetic of a feed-forward network of dense layers.

    Parameters
    ----------
    layers : list of Layer
    loss : str
        Key of :data:`LOSSES`, applied to the last layer's output.
    n_encoder_layers : int or None
        How many layers :meth:`encode` runs (the code layer of an autoencoder); the rest
        are the decoder. None: all layers.
    dtype : numpy dtype
        Working precision of parameters and buffers.
    """

    def __init__(self, layers, loss, *, n_encoder_layers=None, dtype=np.float64):
        self.layers = list(layers)
        self.loss = loss
        self.n_encoder_layers = len(self.layers) if n_encoder_layers is None else n_encoder_layers
        self.dtype = np.dtype(dtype)
        self._workspace = None
        # top-k / winner-take-all selections by (layer, block): None chooses afresh at
        # every evaluation; a dict (see hold_masks) keeps the first choice, so that a
        # gradient check differentiates a fixed function where the selection is not
        # differentiable (at ties)
        self.held_masks = None
        self.code_selection = None  # see encode
        # Layout of theta, worked out once: per layer, the slice of its own weights (None
        # if tied) and of its bias.
        slots, offset = [], 0
        for layer in self.layers:
            weight_slot = None
            if layer.tied_to is None:
                weight_slot = (offset, offset + layer.n_out * layer.n_in)
                offset = weight_slot[1]
            bias_slot = (offset, offset + layer.n_out)
            offset = bias_slot[1]
            slots.append((weight_slot, bias_slot))
        self._slots = slots
        self.n_params = offset

    def hold_masks(self):
        """Keep the sparsity selections made by the next evaluation for all later ones."""
        self.held_masks = {}

    @property
    def weight_shapes(self):
        """Shapes of the stored weight matrices, one per untied layer (else a dummy)."""
        return [
            (layer.n_out, layer.n_in) if layer.tied_to is None else (0, 0) for layer in self.layers
        ]

    @property
    def blocks(self):
        """``(name, size)`` of each parameter block in ``theta``, in order."""
        names = []
        for index, layer in enumerate(self.layers):
            if layer.tied_to is None:
                names.append((f"layer {index} weights", layer.n_out * layer.n_in))
            names.append((f"layer {index} biases", layer.n_out))
        return names

    @property
    def weight_decay_ranges(self):
        """``(start, stop, alpha)`` in ``theta`` of each weight matrix under weight decay.

        In order, for an optimiser that adds the decay in its step (``decay`` of
        :meth:`~skae._core.optimizers.Adam.step`) to an :meth:`objective` computed with
        ``include_weight_decay=False``.
        """
        return [
            (*weight_slot, layer.alpha)
            for layer, (weight_slot, _) in zip(self.layers, self._slots, strict=True)
            if weight_slot is not None and layer.alpha > 0
        ]

    # -- parameter layout --------------------------------------------------------------
    def unpack(self, theta):
        """:class:`LayerParams` views of ``theta``, one per layer.

        A tied layer's weights are the transposed view of the layer it is tied to.
        """
        params = []
        for layer, (weight_slot, bias_slot) in zip(self.layers, self._slots, strict=True):
            bias = theta[bias_slot[0] : bias_slot[1]]
            if weight_slot is None:
                weights = params[layer.tied_to].weights.T
            else:
                weights = theta[weight_slot[0] : weight_slot[1]].reshape(layer.n_out, layer.n_in)
            params.append(LayerParams(weights, bias))
        return params

    def pack(self, params):
        """Flat vector in the working dtype from per-layer ``(weights, bias)`` (a copy)."""
        theta = np.empty(self.n_params, dtype=self.dtype)
        for view, given, layer in zip(self.unpack(theta), params, self.layers, strict=True):
            if layer.tied_to is None:
                view.weights[...] = given[0]
            view.bias[...] = given[1]
        return theta

    def init_params(self, rng):
        """Random weights, zero biases: Ng's uniform(-r, r), r = sqrt(6 / (n_in + n_out + 1))."""
        theta = np.zeros(self.n_params, dtype=self.dtype)
        for layer, p in zip(self.layers, self.unpack(theta), strict=True):
            if layer.tied_to is None:
                r = np.sqrt(6.0 / (layer.n_in + layer.n_out + 1))
                p.weights[...] = rng.uniform(-r, r, p.weights.shape)
        return theta

    # -- forward ---------------------------------------------------------------------
    def _workspace_for(self, rows):
        ws = self._workspace
        if ws is None or ws.rows < rows or ws.activations[0].dtype != self.dtype:
            ws = _Workspace(self, rows)
            self._workspace = ws
        return ws

    def _run_layers(self, params, a, first, stop):
        """Activations after layers ``first..stop-1`` without noise, dropout or masks."""
        for layer, p in zip(self.layers[first:stop], params[first:stop], strict=True):
            if sp.issparse(a):
                z = np.asarray(a @ p.weights.T, dtype=self.dtype)
            else:
                z = np.matmul(a, p.weights.T)
            z += p.bias
            out = np.empty_like(z) if layer.activation in NEEDS_PREACTIVATION else z
            a = ACTIVATIONS[layer.activation](z, out)
        return a

    def encode(self, theta, x):
        """The code: activations of the last encoder layer (no noise).

        All units are kept, unless ``code_selection`` (a :class:`TopKSparsity`) is set:
        then each row keeps its largest activations, as the k-sparse paper reads its
        codes with alpha k units.
        """
        code = self._run_layers(self.unpack(theta), x, 0, self.n_encoder_layers)
        if self.code_selection is not None:
            self.code_selection.select(code, np.empty_like(code))
        return code

    def decode(self, theta, h):
        """The output of the layers after the code, from a code ``h``."""
        return self._run_layers(self.unpack(theta), h, self.n_encoder_layers, len(self.layers))

    def predict(self, theta, x):
        """The network's output for ``x`` (no noise, no dropout)."""
        return self._run_layers(self.unpack(theta), x, 0, len(self.layers))

    def sample_losses(self, theta, x, target=None):
        """Loss of each row (no corruption, no penalties); the target defaults to ``x``."""
        output = self.predict(theta, x)
        return SAMPLE_LOSSES[self.loss](_dense(x) if target is None else target, output)

    def _forward(self, params, x_in, ws, rows, dropout, key, last=None):
        """Training forward pass of one block: noise and masks applied, buffers kept."""
        a = x_in
        n_layers = len(self.layers) if last is None else last + 1
        for index in range(n_layers):
            layer, p = self.layers[index], params[index]
            if layer.dropout > 0 and dropout is not None:
                mask = ws.dropout_masks[index][:rows]
                dropout(index, key, mask, layer.dropout)
                if sp.issparse(a):
                    a = a.multiply(mask).tocsr()
                else:
                    a = _multiply(a, mask, ws.dropped_inputs[index][:rows])
            ws.inputs[index] = a
            z = ws.preactivations[index][:rows]
            if sp.issparse(a):
                z[...] = a @ p.weights.T
            else:
                np.matmul(a, p.weights.T, out=z)
            _add_bias(z, p.bias)
            a = ACTIVATIONS[layer.activation](z, ws.activations[index][:rows])
            if layer.sparsity is not None and layer.sparsity.uses_mask:
                mask = ws.keep_masks[index][:rows]
                held = None if self.held_masks is None else self.held_masks.get((index, key))
                if held is None:
                    layer.sparsity.select(a, mask)
                    if self.held_masks is not None:
                        self.held_masks[(index, key)] = mask.copy()
                else:
                    mask[...] = held
                    a *= mask
        return a

    # -- objective and gradient ------------------------------------------------------
    def _blocks(self, n_samples, chunk_size):
        step = n_samples if chunk_size is None else max(1, min(chunk_size, n_samples))
        return [(start, min(start + step, n_samples)) for start in range(0, n_samples, step)]

    def _kl_layers(self):
        return [
            index
            for index, layer in enumerate(self.layers)
            if layer.sparsity is not None and layer.sparsity.uses_mean_activation
        ]

    def mean_activations(self, theta, x, corrupt=None, dropout=None, chunk_size=None):
        """rho^ of every KL-sparse layer over all rows (Ng's first pass), by layer index."""
        kl_layers = self._kl_layers()
        if not kl_layers:
            return {}
        params = self.unpack(theta)
        blocks = self._blocks(x.shape[0], chunk_size)
        ws = self._workspace_for(blocks[0][1] - blocks[0][0])
        totals = {i: np.zeros(self.layers[i].n_out, dtype=self.dtype) for i in kl_layers}
        for start, stop in blocks:
            x_in = x[start:stop] if corrupt is None else corrupt(x[start:stop], start)
            self._forward(params, x_in, ws, stop - start, dropout, start, last=max(kl_layers))
            for index in kl_layers:
                totals[index] += ws.activations[index][: stop - start].sum(axis=0)
        return {
            index: self.layers[index].sparsity.mean_activation(total, x.shape[0])
            for index, total in totals.items()
        }

    def objective(
        self,
        theta,
        x,
        grad=None,
        corrupt=None,
        chunk_size=None,
        *,
        target=None,
        dropout=None,
        include_weight_decay=True,
    ):
        """Objective J(theta) over all rows of ``x`` and, if ``grad`` is given, its gradient.

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
        x : ndarray or sparse matrix of shape (n_samples, n_features)
            Clean inputs.
        grad : ndarray of shape (n_params,), optional
            Receives dJ/dtheta.
        corrupt : callable, optional
            ``corrupt(x_block, start_row)`` returns the corrupted block fed to the first
            layer. It must return the same corruption for the same block.
        chunk_size : int, optional
            Rows per block; memory beyond ``x`` is bounded by it. With KL sparsity, rho^
            needs all rows first: a block-wise pass computes it, then the gradient pass
            repeats the forward pass (Ng's notes, section 2.4).
        target : ndarray of shape (n_samples, n_outputs), optional
            What the output should be; the clean input ``x`` if None (an autoencoder).
        dropout : callable, optional
            ``dropout(layer_index, start_row, mask, rate)`` fills a layer's input mask;
            the same for the same arguments.
        include_weight_decay : bool, default=True
            False leaves the L2 weight decay out of the value and the gradient, for an
            optimiser that adds it as it steps (:attr:`weight_decay_ranges`).

        Returns
        -------
        value : float
        """
        n_samples = x.shape[0]
        blocks = self._blocks(n_samples, chunk_size)
        ws = self._workspace_for(blocks[0][1] - blocks[0][0])
        params = self.unpack(theta)
        grads = self.unpack(grad) if grad is not None else None
        kl_layers = self._kl_layers()
        rho_hats = {}
        if kl_layers and len(blocks) > 1:
            rho_hats = self.mean_activations(theta, x, corrupt, dropout, chunk_size)

        loss_sum, penalty = 0.0, 0.0
        kl_deltas = {}
        written = set()  # gradient arrays already written in this call: later blocks add
        last = len(self.layers) - 1
        for start, stop in blocks:
            rows = stop - start
            x_block = x[start:stop]
            x_in = x_block if corrupt is None else corrupt(x_block, start)
            t_block = _dense(x_block if target is None else target[start:stop])
            output = self._forward(params, x_in, ws, rows, dropout, start)
            d = ws.deltas[last][:rows]
            loss_sum += LOSSES[self.loss](
                t_block,
                output,
                ws.preactivations[last][:rows],
                self.layers[last].activation,
                d,
                ws.scratch[last][:rows],
            )
            for index in kl_layers:
                if index not in kl_deltas:
                    sparsity = self.layers[index].sparsity
                    if index not in rho_hats:  # one block: from this forward pass
                        rho_hats[index] = sparsity.mean_activation(
                            ws.activations[index][:rows].sum(axis=0), n_samples
                        )
                    kl_value, kl_deltas[index] = sparsity.value_and_delta(
                        rho_hats[index], n_samples, self.dtype
                    )
                    penalty += kl_value
            if grad is None:
                penalty += self._contraction_values(params, ws, rows, n_samples)
                continue
            # The 1/m of J scales every delta once here, so no gradient needs rescaling.
            d *= 1.0 / n_samples
            penalty += self._backward(
                params, grads, ws, rows, n_samples, kl_deltas, written, dropout
            )

        value = loss_sum / n_samples + penalty
        for index, layer in enumerate(self.layers):
            if include_weight_decay and layer.tied_to is None and layer.alpha > 0:
                g = [grads[index].weights] if grad is not None else None
                scratch = [ws.weight_scratch[index]] if grad is not None else None
                value += weight_decay([params[index].weights], layer.alpha, g, scratch)
        return value

    def _contraction_values(self, params, ws, rows, n_samples):
        value = 0.0
        for index, layer in enumerate(self.layers):
            if layer.contraction_weight > 0:
                value += contraction(
                    params[index].weights,
                    ws.preactivations[index][:rows],
                    ws.activations[index][:rows],
                    layer.activation,
                    layer.contraction_weight,
                    n_samples,
                )[0]
        return value

    def _backward(self, params, grads, ws, rows, n_samples, kl_deltas, written, dropout):
        """Backpropagate one block from the output delta; returns the contraction value.

        ``dropout`` is the forward pass's: its masks apply only if that pass drew them.
        """
        penalty = 0.0
        for index in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[index]
            d = ws.deltas[index][:rows]
            z, a = ws.preactivations[index][:rows], ws.activations[index][:rows]
            if index < len(self.layers) - 1:
                # d holds dJ/da: through the mask, the sparsity delta, then f'(z)
                if layer.sparsity is not None and layer.sparsity.uses_mask:
                    _multiply(d, ws.keep_masks[index][:rows], d)
                if index in kl_deltas:
                    d += kl_deltas[index]
                DERIVATIVES[layer.activation](z, a, d, ws.scratch[index][:rows])
            contraction_grad = None
            if layer.contraction_weight > 0:
                contraction_grad = np.zeros_like(params[index].weights)
                value, pre_delta = contraction(
                    params[index].weights,
                    z,
                    a,
                    layer.activation,
                    layer.contraction_weight,
                    n_samples,
                    weight_grad=contraction_grad,
                )
                d += pre_delta
                penalty += value
            a_in = ws.inputs[index]
            owner = index if layer.tied_to is None else layer.tied_to
            weight_grad = grads[owner].weights
            accumulate = owner in written
            if layer.tied_to is None:
                # dJ/dW_l = delta_l^T a_{l-1}
                _add_product(d.T, a_in, weight_grad, ws.weight_scratch[owner], accumulate)
            else:
                # W_l = W_j^T: dJ/dW_j gains (delta_l^T a_{l-1})^T = a_{l-1}^T delta_l
                _add_product(a_in.T, d, weight_grad, ws.weight_scratch[owner], accumulate)
            written.add(owner)
            if contraction_grad is not None:
                weight_grad += contraction_grad
            _add_sum(d, grads[index].bias, ("bias", index) in written)
            written.add(("bias", index))
            if index > 0:
                # dJ/da_{l-1} = delta_l W_l, through this layer's dropout mask if the
                # forward pass drew one (a full-batch solver passes no dropout: the mask
                # buffer then holds nothing of this evaluation)
                d_below = ws.deltas[index - 1][:rows]
                np.matmul(d, params[index].weights, out=d_below)
                if layer.dropout > 0 and dropout is not None:
                    _multiply(d_below, ws.dropout_masks[index][:rows], d_below)
        return penalty


def make_sparsity(kind, target, weight, n_units, activation):
    """The sparsity object of a layer from the estimators' parameters, or None.

    ``target`` (rho) keeps one meaning across kinds: the wanted fraction of active units.
    """
    if kind == "kl":
        return KLSparsity(target, weight, activation) if weight > 0 else None
    if kind == "top_k":
        return TopKSparsity(max(1, int(round(target * n_units))))
    if kind == "lifetime":
        return LifetimeSparsity(target)
    raise ValueError(f"unknown sparsity {kind!r}")


class Autoencoder(Network):
    """A one-hidden-layer autoencoder: the two-layer network (encoder, decoder).

    Parameters
    ----------
    n_features, n_hidden : int
    activation, output_activation : str
        Keys of :data:`ACTIVATIONS` for the hidden layer and the decoder.
    loss : {"squared_error", "cross_entropy"}
    tied : bool
        Decoder weights are the encoder's (``W* = W^T``).
    alpha : float
        L2 weight decay lambda.
    sparsity : {"kl", "top_k", "lifetime"}
    sparsity_target, sparsity_weight : float
        rho and beta; for "kl", ``sparsity_weight=0`` turns it off.
    contraction_weight : float
        Weight of the contractive penalty on the encoder.
    transform_k : int or None
        With it, :meth:`encode` keeps the ``transform_k`` largest activations of each
        row (a top-k reading of the code); None keeps all.
    dtype : numpy dtype
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
        sparsity="kl",
        sparsity_target=0.05,
        sparsity_weight=0.0,
        contraction_weight=0.0,
        transform_k=None,
        dtype=np.float64,
    ):
        encoder = Layer(
            n_features,
            n_hidden,
            activation,
            alpha=alpha,
            sparsity=make_sparsity(
                sparsity, sparsity_target, sparsity_weight, n_hidden, activation
            ),
            contraction_weight=contraction_weight,
        )
        decoder = Layer(
            n_hidden, n_features, output_activation, tied_to=0 if tied else None, alpha=alpha
        )
        super().__init__([encoder, decoder], loss, n_encoder_layers=1, dtype=dtype)
        if transform_k is not None:
            self.code_selection = TopKSparsity(transform_k)
