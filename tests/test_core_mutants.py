"""Known answers for the network arithmetic and the training loops of ``skae._core``.

``network.py`` and ``training.py`` checked against formulas written out here, on tiny
networks and data: the objective and its gradient (finite differences of a reference
written from Ng's notes, not of the code under test), the chunked evaluation with its
first pass for the KL sparsity, the inference path, and the bookkeeping of the
full-batch and minibatch loops; then, for the table modules (noise, dropout, sparsity
selections, dtypes), the known answers that mutmut 3.8.1 found missing. These tests back
the mutation run of ``[tool.mutmut]`` in pyproject.toml; its score and the surviving
mutants are in ``benchmarks/results/mutation_testing.md``.
"""

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from engine_adapter import train_full_batch, train_minibatch

from skae._core import (
    ACTIVATIONS,
    SAMPLE_LOSSES,
    Autoencoder,
    Corruption,
    Dropout,
    Layer,
    Network,
    TrainingHistory,
    make_sparsity,
    training,
)
from skae._core.activations import first_and_second_derivatives
from skae._core.optimizers import SGD, Adam
from skae._core.penalties import KLSparsity, LifetimeSparsity, TopKSparsity, contraction


# -- a reference network, written out ---------------------------------------------------
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


FUNCTIONS = {
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1 - sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "identity": (lambda z: z, np.ones_like),
    "swish": (lambda z: z * sigmoid(z), lambda z: sigmoid(z) * (1 + z * (1 - sigmoid(z)))),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0),
    "softmax": (softmax, None),
}


def reference_unpack(theta, layers):
    """Per-layer (W, b) from the documented layout: each untied layer's weights
    (n_out x n_in, row-major), then its bias; a tied layer uses W_j^T."""
    params, offset = [], 0
    for layer in layers:
        if layer.tied_to is None:
            size = layer.n_out * layer.n_in
            weights = theta[offset : offset + size].reshape(layer.n_out, layer.n_in)
            offset += size
        else:
            weights = params[layer.tied_to][0].T
        params.append((weights, theta[offset : offset + layer.n_out]))
        offset += layer.n_out
    assert offset == theta.size
    return params


def reference_forward(theta, layers, x_in, masks=None):
    """Pre-activations and activations of every layer; ``masks[l]`` multiplies layer l's input."""
    params = reference_unpack(theta, layers)
    a, zs, activations = np.asarray(x_in, dtype=np.float64), [], []
    for index, (layer, (w, b)) in enumerate(zip(layers, params, strict=True)):
        if masks is not None and masks.get(index) is not None:
            a = a * masks[index]
        z = a @ w.T + b
        a = FUNCTIONS[layer.activation][0](z)
        zs.append(z)
        activations.append(a)
    return params, zs, activations


def reference_objective(theta, layers, loss, x_in, target, masks=None):
    """J = 1/m sum_i L(t_i, a_L,i) + sum_l lambda_l/2 ||W_l||^2 + beta KL + contraction."""
    params, zs, activations = reference_forward(theta, layers, x_in, masks)
    m = x_in.shape[0]
    t, out = target, activations[-1]
    if loss == "squared_error":
        value = 0.5 * np.sum((out - t) ** 2) / m
    elif loss == "cross_entropy":
        value = -np.sum(t * np.log(out) + (1 - t) * np.log(1 - out)) / m
    else:  # log_loss
        value = -np.sum(t * np.log(out)) / m
    for index, layer in enumerate(layers):
        w = params[index][0]
        if layer.tied_to is None:
            value += layer.alpha / 2 * np.sum(w**2)
        if layer.sparsity is not None:
            rho, beta = layer.sparsity.target, layer.sparsity.weight
            rho_hat = activations[index].mean(axis=0)
            if layer.activation == "tanh":
                rho_hat = (rho_hat + 1) / 2
            value += beta * np.sum(
                rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
            )
        if layer.contraction_weight:
            slope = FUNCTIONS[layer.activation][1](zs[index])
            value += layer.contraction_weight / m * np.sum(slope**2 @ np.sum(w**2, axis=1))
    return value


def numerical_gradient(function, theta, h=1e-6):
    grad = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = h
        grad[i] = (function(theta + step) - function(theta - step)) / (2 * h)
    return grad


class RowNoise:
    """``corrupt(block, start)`` that adds a fixed offset to each row, keyed by its row
    number: the whole and any split into blocks see the same corrupted rows."""

    def __init__(self, offsets):
        self.offsets = offsets
        self.calls = []

    def __call__(self, block, start):
        self.calls.append((start, block.shape[0]))
        return block + self.offsets[start : start + block.shape[0]]


class RowDropout:
    """``dropout(layer, start, mask, rate)`` filling fixed masks, keyed by row number."""

    def __init__(self, masks):
        self.masks = masks
        self.calls = []

    def __call__(self, layer_index, start, mask, rate):
        self.calls.append((layer_index, start))
        mask[...] = self.masks[layer_index][start : start + mask.shape[0]]


def inverted_dropout_masks(rng, rows, layers):
    masks = {}
    for index, layer in enumerate(layers):
        if layer.dropout > 0:
            keep = rng.random((rows, layer.n_in)) >= layer.dropout
            masks[index] = keep / (1 - layer.dropout)
    return masks


def relative_error(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(a + b)


# -- the objective and its gradient -----------------------------------------------------
def autoencoder_case(name):
    """(network, loss inputs) of a small autoencoder with the penalties of ``name``."""
    if name == "kl_weight_decay":
        return Autoencoder(5, 3, alpha=0.1, sparsity_target=0.2, sparsity_weight=3.0)
    if name == "tied_tanh_kl_contraction":
        return Autoencoder(
            5,
            3,
            activation="tanh",
            output_activation="identity",
            tied=True,
            alpha=0.05,
            sparsity_target=0.3,
            sparsity_weight=2.0,
            contraction_weight=0.4,
        )
    if name == "cross_entropy_swish_contraction":
        return Autoencoder(
            5,
            3,
            activation="swish",
            loss="cross_entropy",
            contraction_weight=0.7,
            alpha=0.2,
        )
    raise ValueError(name)


@pytest.mark.parametrize("chunk_size", [None, 3, 5, 7])  # one block, three, two, one
@pytest.mark.parametrize(
    "case", ["kl_weight_decay", "tied_tanh_kl_contraction", "cross_entropy_swish_contraction"]
)
def test_autoencoder_objective_and_gradient_follow_the_written_out_formula(case, chunk_size):
    rng = np.random.default_rng(0)
    x = rng.random((7, 5))
    network = autoencoder_case(case)
    theta = network.init_params(rng) + 0.3 * rng.standard_normal(network.n_params)
    noise = RowNoise(0.1 * rng.standard_normal(x.shape))
    grad = np.full_like(theta, np.nan)  # whatever the buffer held must not matter
    value = network.objective(theta, x, grad, corrupt=noise, chunk_size=chunk_size)
    # the loss compares the output of the corrupted input with the clean input
    x_in = x + noise.offsets

    def reference(t):
        return reference_objective(t, network.layers, network.loss, x_in, x)

    assert value == pytest.approx(reference(theta), rel=1e-12)
    assert relative_error(grad, numerical_gradient(reference, theta)) < 1e-7
    # the value alone (no gradient asked) is the same, penalties included
    assert network.objective(theta, x, corrupt=noise, chunk_size=chunk_size) == pytest.approx(
        value, rel=1e-12
    )


def deep_layers(with_kl=True):
    """Input dropout, a KL-sparse sigmoid layer, a tanh layer tied to nothing, a tied
    layer, then an output; dropout above the first layer as the classifier has it, and
    two contractive layers (a stack of contractive autoencoders has one per encoder)."""
    kl = make_sparsity("kl", 0.25, 2.0, 4, "sigmoid") if with_kl else None
    return [
        Layer(6, 4, "sigmoid", alpha=0.1, sparsity=kl, dropout=0.3, contraction_weight=0.2),
        Layer(4, 3, "tanh", alpha=0.2, dropout=0.5, contraction_weight=0.3),
        Layer(3, 4, "sigmoid", tied_to=1, dropout=0.25),
        Layer(4, 6, "identity", alpha=0.05),
    ]


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("chunk_size", [None, 4])
def test_deep_objective_with_dropout_and_kl_follows_the_written_out_formula(layout, chunk_size):
    rng = np.random.default_rng(1)
    x = rng.random((10, 6)) * (rng.random((10, 6)) < 0.6)
    target = rng.random((10, 6))
    network = Network(deep_layers(), "squared_error", n_encoder_layers=2)
    theta = network.init_params(rng) + 0.2 * rng.standard_normal(network.n_params)
    masks = inverted_dropout_masks(rng, 10, network.layers)
    dropout = RowDropout(masks)
    x_given = sp.csr_matrix(x) if layout == "csr" else x
    grad = np.full_like(theta, np.nan)
    value = network.objective(
        theta, x_given, grad, chunk_size=chunk_size, target=target, dropout=dropout
    )

    def reference(t):
        return reference_objective(t, network.layers, "squared_error", x, target, masks)

    assert value == pytest.approx(reference(theta), rel=1e-12)
    assert relative_error(grad, numerical_gradient(reference, theta)) < 1e-7


@pytest.mark.parametrize("dirty", [False, True])
def test_layers_with_dropout_evaluated_without_it_have_the_plain_gradient(dirty):
    # a full-batch solver passes no dropout: the objective and its gradient are then the
    # plain network's, whatever the mask buffers hold (here: an earlier evaluation's masks)
    rng = np.random.default_rng(38)
    x, target = rng.random((10, 6)), rng.random((10, 6))
    network = Network(deep_layers(), "squared_error")
    theta = network.init_params(rng) + 0.2 * rng.standard_normal(network.n_params)
    if dirty:
        masks = inverted_dropout_masks(rng, 10, network.layers)
        network.objective(theta, x, np.empty_like(theta), target=target, dropout=RowDropout(masks))
    grad = np.empty_like(theta)
    value = network.objective(theta, x, grad, target=target)

    def reference(t):
        return reference_objective(t, network.layers, "squared_error", x, target)

    assert value == pytest.approx(reference(theta), rel=1e-12)
    assert relative_error(grad, numerical_gradient(reference, theta)) < 1e-7


def test_chunked_first_pass_runs_only_up_to_the_last_kl_layer():
    # Ng's first pass needs rho^ of the KL layer only: with the KL on layer 0 it draws
    # layer 0's dropout mask per block and nothing above; the gradient pass then draws
    # every layer's mask per block.
    rng = np.random.default_rng(2)
    x = rng.random((10, 6))
    network = Network(deep_layers(), "squared_error")
    theta = network.init_params(rng)
    dropout = RowDropout(inverted_dropout_masks(rng, 10, network.layers))
    network.objective(theta, x, np.empty_like(theta), chunk_size=4, dropout=dropout)
    first_pass = [(0, 0), (0, 4), (0, 8)]
    gradient_pass = [(layer, start) for start in (0, 4, 8) for layer in (0, 1, 2)]
    assert dropout.calls == first_pass + gradient_pass
    # without KL sparsity there is no first pass
    plain = Network(deep_layers(with_kl=False), "squared_error")
    dropout.calls.clear()
    plain.objective(theta, x, np.empty_like(theta), chunk_size=4, dropout=dropout)
    assert dropout.calls == gradient_pass
    # nor in one block: rho^ comes from the gradient pass's own forward pass
    dropout.calls.clear()
    network.objective(theta, x, np.empty_like(theta), dropout=dropout)
    assert dropout.calls == [(0, 0), (1, 0), (2, 0)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mean_activations_is_the_mean_over_all_corrupted_blocks(dtype):
    rng = np.random.default_rng(3)
    x = rng.random((11, 5)).astype(dtype)
    network = Autoencoder(
        5, 4, activation="tanh", sparsity_target=0.1, sparsity_weight=1.0, dtype=dtype
    )
    theta = network.init_params(rng) + rng.standard_normal(network.n_params).astype(dtype) / 2
    noise = RowNoise(rng.standard_normal(x.shape).astype(dtype))
    for chunk_size in (None, 4, 11):
        noise.calls.clear()
        fresh = Autoencoder(
            5, 4, activation="tanh", sparsity_target=0.1, sparsity_weight=1.0, dtype=dtype
        )
        rho_hat = fresh.mean_activations(theta, x, corrupt=noise, chunk_size=chunk_size)
        hidden = np.tanh((x + noise.offsets).astype(np.float64) @ theta[:20].reshape(4, 5).T
                         + theta[20:24])  # fmt: skip
        assert set(rho_hat) == {0}
        assert rho_hat[0].dtype == dtype  # summed in the working dtype
        tolerance = 1e-6 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(rho_hat[0], (hidden.mean(axis=0) + 1) / 2, rtol=tolerance)
        blocks = [(0, 11)] if chunk_size in (None, 11) else [(0, 4), (4, 4), (8, 3)]
        assert noise.calls == blocks
    assert Autoencoder(5, 4).mean_activations(theta, x) == {}  # no KL layer, no first pass


def test_chunked_objective_keeps_its_buffers_to_one_chunk():
    rng = np.random.default_rng(4)
    x = rng.random((50, 7))
    network = Autoencoder(7, 5, sparsity_target=0.2, sparsity_weight=3.0)
    theta = network.init_params(rng)
    network.objective(theta, x, np.empty_like(theta), chunk_size=8)
    assert network._workspace.rows == 8
    assert network._workspace.activations[0].shape == (8, 5)
    workspace = network._workspace
    network.objective(theta, x, np.empty_like(theta), chunk_size=8)
    assert network._workspace is workspace  # the same size again: reused
    # a later, larger block gets larger buffers; a smaller one reuses them
    network.objective(theta, x, np.empty_like(theta), chunk_size=20)
    assert network._workspace.rows == 20
    workspace = network._workspace
    network.objective(theta, x, np.empty_like(theta), chunk_size=5)
    assert network._workspace is workspace
    # one row at a time is a valid chunk
    single = Autoencoder(7, 5, sparsity_target=0.2, sparsity_weight=3.0)
    whole, one_by_one = np.empty_like(theta), np.empty_like(theta)
    value = single.objective(theta, x, whole)
    single._workspace = None
    assert single.objective(theta, x, one_by_one, chunk_size=1) == pytest.approx(value)
    assert single._workspace.rows == 1
    np.testing.assert_allclose(one_by_one, whole, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_buffers_are_the_ones_each_layer_needs_in_the_working_dtype(dtype):
    rng = np.random.default_rng(36)
    layers = [
        Layer(6, 4, "swish", dropout=0.2, sparsity=make_sparsity("top_k", 0.5, 0, 4, "relu")),
        Layer(4, 6, "sigmoid", tied_to=0),
    ]
    network = Network(layers, "squared_error", dtype=dtype)
    theta = network.init_params(rng)
    x = rng.random((9, 6)).astype(dtype)
    network.objective(theta, x, np.empty_like(theta), dropout=RowDropout({0: np.ones((9, 6))}))
    ws = network._workspace
    buffers = [
        ws.activations, ws.preactivations, ws.deltas, ws.scratch, ws.keep_masks,
        ws.dropout_masks, ws.dropped_inputs, ws.weight_scratch,
    ]  # fmt: skip
    assert all(b.dtype == dtype for kind in buffers for b in kind if b is not None)
    # swish keeps z apart from a; sigmoid writes a over z
    assert ws.preactivations[0] is not ws.activations[0]
    assert ws.preactivations[1] is ws.activations[1]
    # a mask for the top-k layer only, dropout buffers for the layer with dropout only
    assert ws.keep_masks[0].shape == (9, 4) and ws.keep_masks[1] is None
    assert ws.dropout_masks[0].shape == ws.dropped_inputs[0].shape == (9, 6)
    assert ws.dropout_masks[1] is None and ws.dropped_inputs[1] is None
    assert [w.shape for w in ws.weight_scratch] == [(4, 6), (0, 0)]


@pytest.mark.parametrize("chunk_size", [None, 200])
def test_objective_and_gradient_allocate_no_layer_sized_array(chunk_size):
    # once its buffers exist, an evaluation writes into them: no temporary as large as a
    # weight matrix (640 kB here) or a block of activations; what remains is NumPy's
    # small ufunc buffers and per-unit vectors
    import tracemalloc

    rng = np.random.default_rng(37)
    kl = make_sparsity("kl", 0.1, 1.0, 200, "sigmoid")
    layers = [
        Layer(400, 200, "sigmoid", alpha=0.1, sparsity=kl, dropout=0.2),
        Layer(200, 400, "sigmoid", tied_to=0, dropout=0.2),
    ]
    network = Network(layers, "squared_error")
    theta = network.init_params(rng)
    grad = np.empty_like(theta)
    x = rng.random((400, 400))
    dropout = RowDropout(inverted_dropout_masks(rng, 400, layers))
    network.objective(theta, x, grad, chunk_size=chunk_size, dropout=dropout)
    tracemalloc.start()
    try:
        network.objective(theta, x, grad, chunk_size=chunk_size, dropout=dropout)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 400 * 8 / 4


# -- the inference path -----------------------------------------------------------------
INFERENCE_LAYERS = [("swish", 5, 4), ("tanh", 4, 3), ("sigmoid", 3, 5)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_encode_decode_predict_and_sample_losses_follow_the_layer_formulas(layout, dtype):
    rng = np.random.default_rng(5)
    layers = [Layer(n_in, n_out, act) for act, n_in, n_out in INFERENCE_LAYERS]
    network = Network(layers, "squared_error", n_encoder_layers=2, dtype=dtype)
    theta = (network.init_params(rng) + 0.5 * rng.standard_normal(network.n_params)).astype(dtype)
    x = (rng.random((6, 5)) * (rng.random((6, 5)) < 0.7)).astype(dtype)
    x_given = sp.csr_matrix(x) if layout == "csr" else x
    _, _, activations = reference_forward(theta.astype(np.float64), layers, x)
    tolerance = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12)
    code = network.encode(theta, x_given)
    np.testing.assert_allclose(code, activations[1], **tolerance)
    output = network.predict(theta, x_given)
    np.testing.assert_allclose(output, activations[2], **tolerance)
    np.testing.assert_allclose(network.decode(theta, code), activations[2], **tolerance)
    assert code.dtype == output.dtype == dtype and isinstance(output, np.ndarray)
    # the loss of each row, against x by default or against a given target
    losses = network.sample_losses(theta, x_given)
    np.testing.assert_allclose(losses, 0.5 * ((activations[2] - x) ** 2).sum(axis=1), **tolerance)
    target = rng.random((6, 5))
    np.testing.assert_allclose(
        network.sample_losses(theta, x_given, target),
        0.5 * ((activations[2] - target) ** 2).sum(axis=1),
        **tolerance,
    )
    # inference never touches the training buffers
    assert network._workspace is None


def test_without_a_code_layer_every_layer_encodes_and_decoding_is_the_identity():
    rng = np.random.default_rng(39)
    network = Network([Layer(5, 4, "tanh"), Layer(4, 3, "sigmoid")], "squared_error")
    assert network.n_encoder_layers == 2
    theta = network.init_params(rng)
    x = rng.random((6, 5))
    np.testing.assert_array_equal(network.encode(theta, x), network.predict(theta, x))
    h = rng.random((6, 3))
    np.testing.assert_array_equal(network.decode(theta, h), h)


def test_code_selection_keeps_the_largest_activations_of_each_row():
    rng = np.random.default_rng(6)
    network = Autoencoder(5, 4, activation="relu", transform_k=2)
    theta = network.init_params(rng)
    x = rng.random((8, 5))
    code = network.encode(theta, x)
    full = np.maximum(x @ theta[:20].reshape(4, 5).T + theta[20:24], 0)
    threshold = np.sort(full, axis=1)[:, [-2]]
    np.testing.assert_allclose(code, np.where(full >= threshold, full, 0.0))
    assert np.all((code > 0).sum(axis=1) <= 2)


# -- parameter layout -------------------------------------------------------------------
def test_layout_blocks_and_pack_unpack_round_trip():
    layers = [Layer(4, 3, "sigmoid"), Layer(3, 2, "tanh"), Layer(2, 3, "tanh", tied_to=1)]
    layers.append(Layer(3, 4, "identity"))
    network = Network(layers, "squared_error")
    assert network.n_params == 12 + 3 + 6 + 2 + 3 + 12 + 4
    assert network.blocks == [
        ("layer 0 weights", 12),
        ("layer 0 biases", 3),
        ("layer 1 weights", 6),
        ("layer 1 biases", 2),
        ("layer 2 biases", 3),
        ("layer 3 weights", 12),
        ("layer 3 biases", 4),
    ]
    assert network.weight_shapes == [(3, 4), (2, 3), (0, 0), (4, 3)]
    theta = np.arange(network.n_params, dtype=float)
    params = network.unpack(theta)
    for (w, b), (w_ref, b_ref) in zip(params, reference_unpack(theta, layers), strict=True):
        np.testing.assert_array_equal(w, w_ref)
        np.testing.assert_array_equal(b, b_ref)
    assert np.shares_memory(params[2].weights, theta)  # views, no copies
    np.testing.assert_array_equal(network.pack(params), theta)
    packed32 = Network(layers, "squared_error", dtype=np.float32).pack(params)
    assert packed32.dtype == np.float32
    np.testing.assert_array_equal(packed32, theta)


def test_init_params_are_uniform_in_ngs_range_with_zero_biases():
    network = Network([Layer(30, 20, "sigmoid"), Layer(20, 30, "sigmoid", tied_to=0)], "x")
    theta = network.init_params(np.random.default_rng(7))
    weights, hidden_bias, visible_bias = theta[:600], theta[600:620], theta[620:]
    r = np.sqrt(6 / (30 + 20 + 1))
    expected = np.random.default_rng(7).uniform(-r, r, (20, 30))
    np.testing.assert_array_equal(weights, expected.ravel())
    assert np.all(hidden_bias == 0) and np.all(visible_bias == 0)
    assert theta.size == 650


def test_autoencoder_is_an_encoder_and_a_decoder_with_the_given_penalties():
    plain = Autoencoder(5, 3)
    encoder, decoder = plain.layers
    assert (encoder.n_in, encoder.n_out, decoder.n_in, decoder.n_out) == (5, 3, 3, 5)
    assert (encoder.activation, decoder.activation, plain.loss) == (
        "sigmoid",
        "sigmoid",
        "squared_error",
    )
    assert decoder.tied_to is None and encoder.sparsity is None
    assert encoder.alpha == decoder.alpha == encoder.contraction_weight == 0
    assert plain.n_encoder_layers == 1 and plain.code_selection is None
    assert plain.dtype == np.float64 and plain.n_params == 15 + 3 + 15 + 5
    sparse = Autoencoder(5, 3, alpha=0.3, sparsity_weight=2.0, contraction_weight=0.5)
    encoder, decoder = sparse.layers
    assert encoder.alpha == decoder.alpha == 0.3  # weight decay on both weight matrices
    assert (encoder.sparsity.target, encoder.sparsity.weight) == (0.05, 2.0)
    assert encoder.contraction_weight == 0.5 and decoder.contraction_weight == 0
    assert decoder.sparsity is None
    tied = Autoencoder(5, 3, tied=True, transform_k=2, dtype=np.float32)
    assert tied.layers[1].tied_to == 0 and tied.n_params == 15 + 3 + 5
    assert tied.code_selection.k == 2 and tied.dtype == np.float32


def test_make_sparsity_reads_rho_as_the_share_of_active_units():
    kl = make_sparsity("kl", 0.05, 3.0, 100, "sigmoid")
    assert (kl.target, kl.weight) == (0.05, 3.0)
    assert make_sparsity("kl", 0.05, 0.0, 100, "sigmoid") is None
    assert make_sparsity("top_k", 0.05, 0.0, 100, "relu").k == 5
    assert make_sparsity("top_k", 0.001, 0.0, 100, "relu").k == 1
    assert make_sparsity("lifetime", 0.05, 0.0, 100, "relu").fraction == 0.05
    with pytest.raises(ValueError, match="unknown sparsity 'l1'"):
        make_sparsity("l1", 0.05, 1.0, 100, "relu")


def test_pack_refuses_a_parameter_list_of_another_depth():
    network = Network([Layer(3, 2, "sigmoid"), Layer(2, 3, "sigmoid")], "squared_error")
    with pytest.raises(ValueError):
        network.pack([(np.zeros((2, 3)), np.zeros(2))])


def test_inference_computes_each_activation_in_place():
    # one buffer per layer: the activation overwrites the pre-activation, so a layer's
    # output costs its size once (swish, which needs z in its backward pass, aside)
    import tracemalloc

    network = Network([Layer(20, 50, "sigmoid")], "squared_error")
    theta = network.init_params(np.random.default_rng(32))
    x = np.random.default_rng(33).random((2000, 20))
    output_bytes = 2000 * 50 * 8
    tracemalloc.start()
    try:
        output = network.predict(theta, x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert output.nbytes == output_bytes
    assert peak < 1.5 * output_bytes


# -- the full-batch loop ----------------------------------------------------------------
def test_fresh_history_has_nothing_recorded():
    history = TrainingHistory()
    assert (history.n_iter, history.loss_curve, history.optimizer) == (0, [], None)
    assert history.best_loss == np.inf and history.no_improvement_count == 0
    assert history.validation_scores is None and history.best_validation_score is None
    history.no_improvement_count, history.best_loss = 3, 0.5
    history.reset_stopping(early_stopping=True)
    assert history.best_loss == np.inf and history.no_improvement_count == 0
    assert history.validation_scores == [] and history.best_validation_score == -np.inf


def linear_problem(rng, n=20):
    """A linear layer and targets it can fit exactly: least squares has the answer."""
    x = rng.standard_normal((n, 3))
    weights, bias = rng.standard_normal((2, 3)), rng.standard_normal(2)
    return x, x @ weights.T + bias, weights, bias


def identity_layer_problem(seed, n=20):
    """``linear_problem`` with its network (one identity layer, squared error) and a
    random start: (rng, x, target, network, theta)."""
    rng = np.random.default_rng(seed)
    x, target, _, _ = linear_problem(rng, n=n)
    network = Network([Layer(3, 2, "identity")], "squared_error")
    return rng, x, target, network, network.init_params(rng)


@pytest.mark.parametrize("method", ["lbfgs", "cg"])
def test_full_batch_fits_a_target_to_its_least_squares_solution(method):
    rng = np.random.default_rng(8)
    x, target, weights, bias = linear_problem(rng)
    network = Network([Layer(3, 2, "identity")], "squared_error")
    theta = network.init_params(rng)
    history = TrainingHistory()
    status = train_full_batch(
        network, theta, x, method=method, max_iter=500, tol=1e-9, history=history, rng=rng,
        target=target,
    )  # fmt: skip
    assert status == "converged"
    fitted = network.unpack(theta)[0]
    np.testing.assert_allclose(fitted.weights, weights, atol=1e-6)
    np.testing.assert_allclose(fitted.bias, bias, atol=1e-6)
    assert 1 <= history.n_iter == len(history.loss_curve) < 500
    assert history.loss_curve[-1] < 1e-10
    assert network.objective(theta, x, target=target) == pytest.approx(0, abs=1e-10)


def test_full_batch_stops_at_max_iter_and_says_so(capsys):
    rng = np.random.default_rng(9)
    x, target, _, _ = linear_problem(rng)
    network = Network([Layer(3, 2, "identity")], "squared_error")
    theta = network.init_params(rng)
    history = TrainingHistory()
    status = train_full_batch(
        network, theta, x, method="lbfgs", max_iter=2, tol=0.0, history=history, rng=rng,
        target=target,
    )  # fmt: skip
    assert status == "max_iter" and history.n_iter == 2
    assert capsys.readouterr().out == ""  # silent unless verbose
    # theta is the solver's last iterate: its objective is the last loss recorded
    assert network.objective(theta, x, target=target) == pytest.approx(history.loss_curve[-1])


def scripted_validation(scores):
    """A validation callable that returns ``scores`` in turn, and the list of the
    parameters it was shown (copies), in order."""
    scores, seen = iter(scores), []

    def validation(parameters):
        seen.append(parameters.copy())
        return next(scores)

    return validation, seen


class TickingClock:
    """Stands in for the ``time`` module: each ``perf_counter()`` is one second later,
    from an arbitrary origin (elapsed times are differences)."""

    def __init__(self):
        self.now = 99.0

    def perf_counter(self):
        self.now += 1.0
        return self.now


def test_full_batch_verbose_prints_one_line_per_iteration(capsys, monkeypatch):
    monkeypatch.setattr(training, "time", TickingClock())
    rng = np.random.default_rng(10)
    x, target, _, _ = linear_problem(rng)
    network = Network([Layer(3, 2, "identity")], "squared_error")
    history = TrainingHistory()
    train_full_batch(
        network, network.init_params(rng), x, method="cg", max_iter=3, tol=0.0,
        history=history, rng=rng, target=target, verbose=1,
    )  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    # the clock read at the start, then once per line
    assert lines == [
        f"Iteration {k}, loss = {loss:.6f}, elapsed {k}.0s"
        for k, loss in enumerate(history.loss_curve, start=1)
    ]
    assert len(lines) == 3


def test_full_batch_with_noise_runs_max_iter_in_rounds_of_fixed_noise():
    # 21 iterations: rounds of 10, 10 and 1, each under one draw of the noise
    rng = np.random.default_rng(11)
    x = rng.random((30, 6))
    network = Autoencoder(6, 3)
    theta = network.init_params(rng)
    corruption = Corruption("gaussian", 0.1)
    seeds = []
    original = corruption.reseed

    def reseed(generator):
        original(generator)
        seeds.append(corruption.seed)

    corruption.reseed = reseed
    history = TrainingHistory()
    status = train_full_batch(
        network, theta, x, method="lbfgs", max_iter=21, tol=0.0, history=history, rng=rng,
        corruption=corruption,
    )  # fmt: skip
    assert status == "max_iter" and history.n_iter == 21 and len(set(seeds)) == 3


@pytest.mark.parametrize("method,scipy_method", [("lbfgs", "L-BFGS-B"), ("cg", "CG")])
@pytest.mark.parametrize("max_iter,tol", [(12, 0.0), (200, 1e-2)])
def test_full_batch_without_noise_is_one_scipy_minimize_run(method, scipy_method, max_iter, tol):
    # without noise: one run of scipy's method over all max_iter iterations, with gtol=tol
    rng = np.random.default_rng(27)
    x = rng.random((15, 6))
    network = Autoencoder(6, 3, alpha=0.01)
    start = network.init_params(rng)
    history = TrainingHistory()
    theta = start.copy()
    status = train_full_batch(
        network, theta, x, method=method, max_iter=max_iter, tol=tol, history=history, rng=rng
    )
    grad = np.empty_like(start)

    def fun(t):
        return network.objective(t, x, grad), grad.copy()

    expected = scipy.optimize.minimize(
        fun, start, jac=True, method=scipy_method, options={"maxiter": max_iter, "gtol": tol}
    )
    np.testing.assert_allclose(theta, expected.x, rtol=1e-10, atol=1e-12)
    assert history.n_iter == expected.nit == len(history.loss_curve)
    assert history.loss_curve[-1] == pytest.approx(expected.fun, rel=1e-12)
    if tol > 0:  # the gradient tolerance is what stopped it
        assert status == "converged" and expected.nit < max_iter
    else:
        assert status == "max_iter" and expected.nit == max_iter


def test_full_batch_started_at_the_optimum_converges_in_no_iteration():
    rng = np.random.default_rng(28)
    x, target, weights, bias = linear_problem(rng)
    network = Network([Layer(3, 2, "identity")], "squared_error")
    theta = network.pack([(weights, bias)])
    history = TrainingHistory()
    status = train_full_batch(
        network, theta, x, method="lbfgs", max_iter=10, tol=1e-8, history=history, rng=rng,
        target=target,
    )  # fmt: skip
    assert status == "converged" and history.n_iter == 0
    np.testing.assert_allclose(network.unpack(theta)[0].weights, weights, atol=1e-12)


class WalledNetwork(Network):
    """A network whose objective is NaN wherever a parameter exceeds ``radius``."""

    def __init__(self, *args, radius, **kwargs):
        super().__init__(*args, **kwargs)
        self.radius, self.walls_hit = radius, 0

    def objective(self, theta, *args, **kwargs):
        value = super().objective(theta, *args, **kwargs)
        if np.abs(theta).max() > self.radius:
            self.walls_hit += 1
            return np.nan
        return value


def test_full_batch_keeps_the_iterations_done_before_a_non_finite_value():
    # the optimum lies beyond the wall: L-BFGS-B makes progress, then its line search
    # meets NaN and stops at its last finite iterate; that is not a divergence
    rng = np.random.default_rng(29)
    x, target, _, _ = linear_problem(rng)
    target *= 10
    network = WalledNetwork([Layer(3, 2, "identity")], "squared_error", radius=4.0)
    theta = np.zeros(network.n_params)
    start_loss = network.objective(theta, x, target=target)
    history = TrainingHistory()
    status = train_full_batch(
        network, theta, x, method="lbfgs", max_iter=30, tol=1e-8, history=history, rng=rng,
        target=target,
    )  # fmt: skip
    assert network.walls_hit > 0
    assert status == "converged" and 1 <= history.n_iter < 30
    assert np.abs(theta).max() <= 4.0
    final_loss = network.objective(theta, x, target=target)
    assert final_loss < start_loss and final_loss == pytest.approx(history.loss_curve[-1])


def test_full_batch_with_no_finite_step_diverges_at_the_start():
    # finite only at the start: CG's line search finds no step, no iteration completes
    rng = np.random.default_rng(30)
    x, target, _, _ = linear_problem(rng)
    network = WalledNetwork([Layer(3, 2, "identity")], "squared_error", radius=0.0)
    theta = np.zeros(network.n_params)
    history = TrainingHistory()
    status = train_full_batch(
        network, theta, x, method="cg", max_iter=10, tol=1e-8, history=history, rng=rng,
        target=target,
    )  # fmt: skip
    assert network.walls_hit > 0
    assert status == "diverged" and history.n_iter == 0
    np.testing.assert_array_equal(theta, 0.0)


def test_full_batch_divergence_keeps_the_start_and_reports_it():
    rng = np.random.default_rng(12)
    x = rng.random((10, 4))
    x[0, 0] = np.inf
    network = Autoencoder(4, 2)
    theta = network.init_params(rng)
    start = theta.copy()
    history = TrainingHistory()
    with np.errstate(over="ignore", invalid="ignore"):
        status = train_full_batch(
            network, theta, x, method="lbfgs", max_iter=5, tol=1e-4, history=history, rng=rng
        )
    assert status == "diverged"
    np.testing.assert_array_equal(theta, start)
    assert history.n_iter == 0


def handled(train, *args, **kwargs):
    """Run a training loop that must handle the interrupt: one that escapes fails the test
    (rather than stopping the test session as a Ctrl-C would)."""
    try:
        return train(*args, **kwargs)
    except KeyboardInterrupt:
        pytest.fail("the KeyboardInterrupt propagated out of the training loop")


class InterruptingNetwork(Network):
    """Raises KeyboardInterrupt (a Ctrl-C) at the n-th evaluation of the objective."""

    def __init__(self, *args, interrupt_at, **kwargs):
        super().__init__(*args, **kwargs)
        self.interrupt_at, self.calls = interrupt_at, 0

    def objective(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        return super().objective(*args, **kwargs)


def test_full_batch_interrupt_returns_the_last_completed_iterate():
    rng = np.random.default_rng(13)
    x, target, _, _ = linear_problem(rng)
    network = InterruptingNetwork([Layer(3, 2, "identity")], "squared_error", interrupt_at=6)
    theta = network.init_params(rng)
    history = TrainingHistory()
    reference = Network([Layer(3, 2, "identity")], "squared_error")
    status = handled(
        train_full_batch, network, theta, x, method="lbfgs", max_iter=50, tol=0.0,
        history=history, rng=rng, target=target,
    )  # fmt: skip
    assert status == "interrupted" and history.n_iter >= 1
    # theta is the iterate whose loss was recorded last
    assert reference.objective(theta, x, target=target) == pytest.approx(history.loss_curve[-1])
    # an interrupt before the first completed iteration propagates
    early = InterruptingNetwork([Layer(3, 2, "identity")], "squared_error", interrupt_at=1)
    with pytest.raises(KeyboardInterrupt):
        train_full_batch(
            early, early.init_params(rng), x, method="lbfgs", max_iter=5, tol=0.0,
            history=TrainingHistory(), rng=rng, target=target,
        )  # fmt: skip


# -- the minibatch loop -----------------------------------------------------------------
def linear_batch_gradient(theta, x, t):
    """J = 1/(2 m) sum ||x W^T + b - t||^2 of a 3 -> 2 linear layer, and its gradient."""
    w, b = theta[:6].reshape(2, 3), theta[6:]
    residual = x @ w.T + b - t
    m = x.shape[0]
    value = 0.5 * np.sum(residual**2) / m
    return value, np.concatenate([(residual.T @ x / m).ravel(), residual.sum(axis=0) / m])


def test_minibatch_sgd_is_plain_gradient_descent_over_shuffled_batches(capsys):
    # momentum 0: each batch of the permutation drawn from rng is one step theta -= lr g;
    # the epoch's loss is the mean over rows of the batch losses before each step
    rng, x, target, network, theta = identity_layer_problem(14, n=10)
    expected, expected_curve = theta.copy(), []
    replay = np.random.default_rng(15)
    for _ in range(3):
        order, total = replay.permutation(10), 0.0
        for start in range(0, 10, 4):
            rows = order[start : start + 4]
            value, grad = linear_batch_gradient(expected, x[rows], target[rows])
            expected -= 0.05 * grad
            total += value * rows.size
        expected_curve.append(total / 10)
    history = TrainingHistory()
    status = train_minibatch(
        network, theta, x, solver="sgd", learning_rate=0.05, momentum=0.0, batch_size=4,
        max_iter=3, tol=0.0, n_iter_no_change=10, history=history,
        rng=np.random.default_rng(15), target=target,
    )  # fmt: skip
    assert status == "max_iter"
    np.testing.assert_allclose(theta, expected, rtol=1e-12)
    np.testing.assert_allclose(history.loss_curve, expected_curve, rtol=1e-12)
    assert history.n_iter == 3
    assert history.best_loss == pytest.approx(min(expected_curve), rel=1e-12)
    assert isinstance(history.optimizer, SGD) and history.optimizer.momentum == 0.0
    assert capsys.readouterr().out == ""  # silent unless verbose


def test_minibatch_stops_after_n_iter_no_change_epochs_without_improvement(capsys, monkeypatch):
    monkeypatch.setattr(training, "time", TickingClock())
    # learning rate 0: the loss never improves after the first epoch; twelve copies of one
    # row make it the same to the last bit whatever the order of the rows (tol=0: equal
    # is no improvement)
    rng = np.random.default_rng(16)
    x, target, _, _ = linear_problem(rng, n=1)
    x, target = np.repeat(x, 12, axis=0), np.repeat(target, 12, axis=0)
    network = Network([Layer(3, 2, "identity")], "squared_error")
    theta = network.init_params(rng)
    start = theta.copy()
    history = TrainingHistory()
    status = train_minibatch(
        network, theta, x, solver="adam", learning_rate=0.0, batch_size=12, max_iter=50,
        tol=0.0, n_iter_no_change=3, history=history, rng=rng, target=target, verbose=1,
    )  # fmt: skip
    assert status == "converged"
    assert history.n_iter == 4 and history.no_improvement_count == 3
    np.testing.assert_array_equal(theta, start)
    loss = network.objective(start, x, target=target)
    assert history.loss_curve == pytest.approx([loss] * 4, rel=1e-12)
    assert history.best_loss == pytest.approx(loss, rel=1e-12)
    # epoch k at k seconds: (50 - k) epochs left at one second each
    assert capsys.readouterr().out.splitlines() == [
        f"Epoch {k}, loss = {loss:.6f}, elapsed {k}.0s, left ~{50 - k}.0s" for k in range(1, 5)
    ]


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_minibatch_loss_counts_the_weight_decay_the_step_adds(solver):
    # the engine leaves the weight decay to the optimiser's step: at learning rate 0 the
    # epoch's loss is still the whole objective, decay included (once), on the weights
    # of the untied layers only
    rng = np.random.default_rng(17)
    x = rng.random((30, 4))
    layers = [
        Layer(4, 3, "sigmoid", alpha=0.3),
        Layer(3, 3, "sigmoid", tied_to=None, alpha=2.0),
        Layer(3, 4, "sigmoid", tied_to=0, alpha=5.0),  # tied: no decay of its own
    ]
    network = Network(layers, "squared_error")
    theta = network.init_params(rng)
    start = theta.copy()
    history = TrainingHistory()
    train_minibatch(
        network, theta, x, solver=solver, learning_rate=0.0, batch_size=7, max_iter=2,
        history=history, rng=rng,
    )  # fmt: skip
    np.testing.assert_array_equal(theta, start)
    params = network.unpack(start)
    decay = 0.15 * np.sum(params[0].weights ** 2) + np.sum(params[1].weights ** 2)
    loss = network.objective(start, x)
    assert loss - network.objective(start, x, include_weight_decay=False) == pytest.approx(
        decay, rel=1e-12
    )
    assert history.loss_curve == pytest.approx([loss] * 2, rel=1e-12)


def test_minibatch_improvement_must_exceed_tol():
    # a loss falling by less than tol per epoch counts as no improvement
    rng, x, target, network, theta = identity_layer_problem(17, n=12)
    history = TrainingHistory()
    status = train_minibatch(
        network, theta, x, solver="sgd", learning_rate=1e-6, momentum=0.0, batch_size=12,
        max_iter=50, tol=1.0, n_iter_no_change=2, history=history, rng=rng, target=target,
    )  # fmt: skip
    assert status == "converged" and history.n_iter == 3
    assert history.loss_curve[2] < history.loss_curve[1] < history.loss_curve[0]
    assert history.best_loss == history.loss_curve[2]


def test_minibatch_validation_keeps_the_best_scoring_parameters():
    rng, x, target, network, theta = identity_layer_problem(18, n=12)
    validation, seen = scripted_validation([0.1, 0.5, 0.3, 0.55, 0.52])

    history = TrainingHistory(early_stopping=True)
    status = train_minibatch(
        network, theta, x, solver="sgd", learning_rate=0.01, batch_size=6, max_iter=5,
        tol=0.1, n_iter_no_change=2, history=history, rng=rng, target=target,
        validation=validation,
    )  # fmt: skip
    # 0.1 -> 0.5 improves; 0.3 no; 0.55 beats the best but not by tol: the second epoch
    # without improvement stops training, keeping the parameters scored 0.55
    assert status == "converged"
    assert history.validation_scores == [0.1, 0.5, 0.3, 0.55]
    assert history.best_validation_score == 0.55 and history.no_improvement_count == 2
    np.testing.assert_array_equal(theta, seen[3])


def test_minibatch_validation_to_max_iter_returns_the_best_parameters():
    rng, x, target, network, theta = identity_layer_problem(19, n=12)
    validation, seen = scripted_validation([0.2, 0.9, 0.1])

    history = TrainingHistory(early_stopping=True)
    status = train_minibatch(
        network, theta, x, solver="adam", learning_rate=0.01, batch_size=6, max_iter=3,
        tol=0.0, n_iter_no_change=10, history=history, rng=rng, target=target,
        validation=validation,
    )  # fmt: skip
    assert status == "max_iter"
    np.testing.assert_array_equal(theta, seen[1])
    assert history.best_validation_score == 0.9


def test_minibatch_non_finite_validation_score_diverges_to_the_best_parameters():
    rng, x, target, network, theta = identity_layer_problem(20, n=12)
    validation, seen = scripted_validation([0.2, 0.3, np.nan])

    history = TrainingHistory(early_stopping=True)
    status = train_minibatch(
        network, theta, x, solver="sgd", learning_rate=0.01, batch_size=6, max_iter=5,
        tol=0.0, n_iter_no_change=10, history=history, rng=rng, target=target,
        validation=validation,
    )  # fmt: skip
    assert status == "diverged"
    np.testing.assert_array_equal(theta, seen[1])


def test_minibatch_non_finite_loss_goes_back_to_the_epoch_start():
    rng = np.random.default_rng(21)
    x, target, _, _ = linear_problem(rng, n=12)
    target[7] = np.inf
    network = Network([Layer(3, 2, "identity")], "squared_error")
    theta = network.init_params(rng)
    start = theta.copy()
    history = TrainingHistory()
    with np.errstate(over="ignore", invalid="ignore"):
        status = train_minibatch(
            network, theta, x, solver="sgd", learning_rate=0.01, batch_size=4, max_iter=5,
            tol=0.0, n_iter_no_change=10, history=history, rng=rng, target=target,
        )  # fmt: skip
    assert status == "diverged"
    np.testing.assert_array_equal(theta, start)
    np.testing.assert_array_equal(history.optimizer.velocity, 0.0)
    assert history.n_iter == 0 and history.loss_curve == []


class FailingNetwork(Network):
    """Its objective is NaN at the n-th evaluation (an overflow in the middle of training)."""

    def __init__(self, *args, fail_at, **kwargs):
        super().__init__(*args, **kwargs)
        self.fail_at, self.calls = fail_at, 0

    def objective(self, *args, **kwargs):
        self.calls += 1
        value = super().objective(*args, **kwargs)
        return np.nan if self.calls == self.fail_at else value


def test_minibatch_non_finite_loss_with_validation_goes_back_to_the_best_epoch():
    rng = np.random.default_rng(34)
    x, target, _, _ = linear_problem(rng, n=12)
    network = FailingNetwork([Layer(3, 2, "identity")], "squared_error", fail_at=8)
    theta = network.init_params(rng)
    validation, seen = scripted_validation([0.5, 0.2, 0.9])

    history = TrainingHistory(early_stopping=True)
    status = train_minibatch(
        network, theta, x, solver="sgd", learning_rate=0.01, batch_size=4, max_iter=5,
        tol=0.0, n_iter_no_change=10, history=history, rng=rng, target=target,
        validation=validation,
    )  # fmt: skip
    # 3 batches per epoch: the NaN comes in the third epoch; the best is the first
    assert status == "diverged" and len(seen) == 2
    np.testing.assert_array_equal(theta, seen[0])


def test_minibatch_validation_tie_is_no_improvement_and_keeps_the_earlier_parameters():
    rng, x, target, network, theta = identity_layer_problem(35, n=12)
    validation, seen = scripted_validation([0.4, 0.4, 0.4])

    history = TrainingHistory(early_stopping=True)
    status = train_minibatch(
        network, theta, x, solver="sgd", learning_rate=0.01, batch_size=4, max_iter=5,
        tol=0.0, n_iter_no_change=1, history=history, rng=rng, target=target,
        validation=validation,
    )  # fmt: skip
    assert status == "converged" and history.n_iter == 2
    assert history.no_improvement_count == 1 and history.best_validation_score == 0.4
    np.testing.assert_array_equal(theta, seen[0])
    assert not np.array_equal(seen[0], seen[1])


def test_minibatch_keeps_a_copy_of_the_best_parameters_only_with_validation():
    # the copy costs one parameter vector: measured as the difference of the peaks of
    # two otherwise equal runs (the network's buffers allocated beforehand)
    import tracemalloc

    rng = np.random.default_rng(40)
    network = Network([Layer(400, 500, "identity")], "squared_error")
    x, target = rng.random((4, 400)), rng.random((4, 500))
    theta = network.init_params(rng)
    network.objective(theta, x, np.empty_like(theta), target=target)
    peaks = []
    for validation in (None, lambda parameters: 0.0):
        tracemalloc.start()
        try:
            train_minibatch(
                network, theta, x, solver="sgd", learning_rate=0.01, batch_size=2,
                max_iter=2, tol=0.0, n_iter_no_change=10,
                history=TrainingHistory(early_stopping=validation is not None), rng=rng,
                target=target, validation=validation,
            )  # fmt: skip
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    assert peaks[1] - peaks[0] == pytest.approx(theta.nbytes, rel=0.1)


def test_minibatch_interrupt_rolls_everything_back_to_the_last_completed_epoch():
    rng = np.random.default_rng(22)
    x, target, _, _ = linear_problem(rng, n=12)
    layers = [Layer(3, 2, "identity")]
    kwargs = dict(solver="adam", learning_rate=0.01, batch_size=4, tol=1e30, n_iter_no_change=100)
    # reference: exactly two epochs; tol=1e30: only the first epoch counts as an improvement
    reference = Network(layers, "squared_error")
    theta_ref = reference.init_params(np.random.default_rng(0))
    history_ref = TrainingHistory()
    train_minibatch(
        reference, theta_ref, x, max_iter=2, history=history_ref,
        rng=np.random.default_rng(1), target=target, **kwargs,
    )  # fmt: skip
    # 3 batches per epoch: the 8th evaluation is inside the third epoch
    network = InterruptingNetwork(layers, "squared_error", interrupt_at=8)
    theta = network.init_params(np.random.default_rng(0))
    history = TrainingHistory()
    status = handled(
        train_minibatch, network, theta, x, max_iter=5, history=history,
        rng=np.random.default_rng(1), target=target, **kwargs,
    )  # fmt: skip
    assert status == "interrupted"
    np.testing.assert_array_equal(theta, theta_ref)
    assert history.n_iter == 2 == history_ref.n_iter
    assert history.loss_curve == history_ref.loss_curve
    assert history.best_loss == history_ref.best_loss
    assert history.no_improvement_count == history_ref.no_improvement_count == 1
    assert history.optimizer.t == history_ref.optimizer.t == 6


def test_minibatch_interrupt_with_validation_rolls_back_scores_and_keeps_the_best():
    rng = np.random.default_rng(23)
    x, target, _, _ = linear_problem(rng, n=12)
    network = InterruptingNetwork([Layer(3, 2, "identity")], "squared_error", interrupt_at=8)
    theta = network.init_params(rng)
    validation, seen = scripted_validation([0.4, 0.2, 0.3])

    history = TrainingHistory(early_stopping=True)
    status = handled(
        train_minibatch, network, theta, x, solver="sgd", learning_rate=0.01, batch_size=4,
        max_iter=5, tol=0.0, n_iter_no_change=10, history=history, rng=rng, target=target,
        validation=validation,
    )  # fmt: skip
    assert status == "interrupted"
    assert history.validation_scores == [0.4, 0.2] and history.best_validation_score == 0.4
    assert history.no_improvement_count == 1
    np.testing.assert_array_equal(theta, seen[0])


class InterruptingScores(list):
    """Validation scores that raise a Ctrl-C right after their ``n``-th score is stored:
    an interrupt between an epoch's bookkeeping steps."""

    def __init__(self, n):
        super().__init__()
        self.n = n

    def append(self, score):
        super().append(score)
        if len(self) == self.n:
            raise KeyboardInterrupt


def test_minibatch_interrupt_after_a_score_is_stored_drops_that_score():
    # epoch 2 stored its loss and its validation score, then the Ctrl-C came: the
    # history goes back to the end of epoch 1, every list and count with it
    rng, x, target, network, theta = identity_layer_problem(32, n=12)
    scores = iter([0.4, 0.6])
    history = TrainingHistory(early_stopping=True)
    history.validation_scores = InterruptingScores(2)
    status = handled(
        train_minibatch, network, theta, x, solver="sgd", learning_rate=0.01, batch_size=4,
        max_iter=5, tol=0.0, n_iter_no_change=10, history=history, rng=rng, target=target,
        validation=lambda parameters: next(scores),
    )  # fmt: skip
    assert status == "interrupted"
    assert history.n_iter == 1 and len(history.loss_curve) == 1
    assert list(history.validation_scores) == [0.4] and history.best_validation_score == 0.4


def test_minibatch_interrupt_while_an_epoch_reports_keeps_that_epoch_whole(monkeypatch):
    # a Ctrl-C can strike while a completed epoch prints its progress line: the epoch is
    # kept, its history and the best parameters agreeing (the best is epoch 2's)
    rng, x, target, network, theta = identity_layer_problem(31, n=12)
    validation, seen = scripted_validation([0.4, 0.6, 0.5])

    printed = []

    def interrupting_print(message, **kwargs):
        printed.append((message, kwargs))
        if len(printed) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(training, "print", interrupting_print, raising=False)
    monkeypatch.setattr(training, "time", TickingClock())
    history = TrainingHistory(early_stopping=True)
    status = handled(
        train_minibatch, network, theta, x, solver="sgd", learning_rate=0.01, batch_size=4,
        max_iter=5, tol=0.0, n_iter_no_change=10, history=history, rng=rng, target=target,
        validation=validation, verbose=1,
    )  # fmt: skip
    assert status == "interrupted" and len(printed) == 3
    # each line is flushed as it is printed, so that progress shows in piped logs
    assert printed[0] == (
        f"Epoch 1, loss = {history.loss_curve[0]:.6f}, validation score = 0.400000, "
        "elapsed 1.0s, left ~4.0s",
        {"flush": True},
    )
    assert history.n_iter == 3 and len(history.loss_curve) == 3
    assert history.validation_scores == [0.4, 0.6, 0.5] and history.best_validation_score == 0.6
    assert history.no_improvement_count == 1
    np.testing.assert_array_equal(theta, seen[1])


def test_minibatch_interrupt_in_the_first_epoch_propagates():
    rng = np.random.default_rng(24)
    x, target, _, _ = linear_problem(rng, n=12)
    network = InterruptingNetwork([Layer(3, 2, "identity")], "squared_error", interrupt_at=2)
    with pytest.raises(KeyboardInterrupt):
        train_minibatch(
            network, network.init_params(rng), x, solver="sgd", learning_rate=0.01,
            batch_size=4, max_iter=5, tol=0.0, n_iter_no_change=10,
            history=TrainingHistory(), rng=rng, target=target,
        )  # fmt: skip


def test_incremental_training_keeps_the_optimiser_unless_it_cannot():
    rng, x, target, network, theta = identity_layer_problem(25, n=12)
    history = TrainingHistory()
    kwargs = dict(
        learning_rate=0.01, batch_size=4, max_iter=7, tol=0.0, n_iter_no_change=1,
        history=history, rng=rng, target=target,
    )  # fmt: skip
    # one epoch, whatever max_iter and n_iter_no_change say
    assert train_minibatch(network, theta, x, solver="adam", incremental=True, **kwargs) == (
        "converged"
    )
    adam = history.optimizer
    assert isinstance(adam, Adam) and adam.t == 3 and history.n_iter == 1
    train_minibatch(network, theta, x, solver="adam", incremental=True, **kwargs)
    # the state is kept, not a stale parameter vector
    assert history.optimizer is adam and adam.t == 6 and adam.params is None
    # another solver, or another dtype, needs a new optimiser
    train_minibatch(network, theta, x, solver="sgd", incremental=True, **kwargs)
    sgd = history.optimizer
    assert isinstance(sgd, SGD) and sgd.momentum == 0.9
    theta32 = theta.astype(np.float32)
    network32 = Network([Layer(3, 2, "identity")], "squared_error", dtype=np.float32)
    train_minibatch(
        network32, theta32, x.astype(np.float32), solver="sgd", incremental=True,
        **{**kwargs, "target": target.astype(np.float32)},
    )  # fmt: skip
    assert history.optimizer is not sgd and history.optimizer.dtype == np.float32
    # a new fit (not incremental) starts a new optimiser
    train_minibatch(network, theta, x, solver="adam", **{**kwargs, "max_iter": 1})
    assert history.optimizer is not adam and history.optimizer.t == 3


def test_minibatch_draws_fresh_noise_and_dropout_for_every_batch():
    rng = np.random.default_rng(26)
    x = rng.random((12, 4))
    layers = [Layer(4, 3, "sigmoid", dropout=0.2), Layer(3, 4, "sigmoid")]
    network = Network(layers, "squared_error")
    theta = network.init_params(rng)
    calls = []

    class RecordingDropout:
        seed, batch = 0, 0

        def reseed(self, generator):
            self.seed = int(generator.integers(2**62))

        def __call__(self, layer_index, key, mask, rate):
            calls.append((self.seed, self.batch, layer_index, key))
            mask[...] = 1.0

    keys = []
    original = Corruption.__call__

    class RecordingCorruption(Corruption):
        def __call__(self, block, key=0):
            keys.append((self.seed, key))
            return original(self, block, key)

    corruption = RecordingCorruption("masking", 0.3)
    train_minibatch(
        network, theta, x, solver="sgd", learning_rate=0.01, batch_size=5, max_iter=2,
        tol=0.0, n_iter_no_change=10, history=TrainingHistory(), rng=rng,
        corruption=corruption, dropout=RecordingDropout(),
    )  # fmt: skip
    # 3 batches (5, 5, 2 rows) per epoch; the key of a batch is its first position
    assert [key for _, key in keys] == [0, 5, 10] * 2
    assert len({seed for seed, _ in keys[:3]} | {seed for seed, _ in keys[3:]}) == 2
    assert [(batch, layer, key) for _, batch, layer, key in calls] == [
        (0, 0, 0),
        (5, 0, 0),
        (10, 0, 0),
    ] * 2
    assert calls[0][0] != calls[3][0]  # a new seed per epoch


# -- the tables: noise, dropout, sparsity selections, dtypes ------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_corruption_is_its_formula_on_the_draw_keyed_by_seed_and_block(dtype):
    x = np.random.default_rng(41).random((20, 6)).astype(dtype)
    draw = np.random.default_rng([4, 7])
    noisy = Corruption("gaussian", 0.3, seed=4)(x, 7)
    np.testing.assert_array_equal(noisy, x + 0.3 * draw.standard_normal(x.shape, dtype=dtype))
    masked = Corruption("masking", 0.3, seed=4)(x, 7)
    u = np.random.default_rng([4, 7]).random(x.shape, dtype=dtype)
    np.testing.assert_array_equal(masked, x * (u >= 0.3))
    # sparse input: the stored entries are masked, with draws in the data's dtype
    x_sparse = sp.csr_matrix(x * (x > 0.5))
    masked_sparse = Corruption("masking", 0.3, seed=4)(x_sparse, 7)
    u = np.random.default_rng([4, 7]).random(x_sparse.nnz, dtype=dtype)
    np.testing.assert_array_equal(masked_sparse.data, x_sparse.data * (u >= 0.3))
    np.testing.assert_array_equal(masked_sparse.indices, x_sparse.indices)
    # seed 0 and block key 0 unless given
    default = Corruption("gaussian", 0.3)(x)
    z = np.random.default_rng([0, 0]).standard_normal(x.shape, dtype=dtype)
    np.testing.assert_array_equal(default, x + 0.3 * z)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dropout_mask_is_the_keyed_draw_thresholded_and_scaled_by_one_over_keep(dtype):
    dropout = Dropout()
    mask = np.empty((50, 8), dtype=dtype)
    dropout(2, 10, mask, 0.25)
    # seed 0, batch 0 unless set; keyed by (seed, batch, layer, first row)
    u = np.random.default_rng([0, 0, 2, 10]).random((50, 8), dtype=dtype)
    np.testing.assert_array_equal(mask, (u >= 0.25).astype(dtype) * (1.0 / 0.75))
    assert mask.dtype == dtype and set(np.unique(mask)) == {0, dtype(1.0 / 0.75)}
    dropout.batch = 3
    dropout(2, 10, mask, 0.25)
    u = np.random.default_rng([0, 3, 2, 10]).random((50, 8), dtype=dtype)
    np.testing.assert_array_equal(mask, (u >= 0.25).astype(dtype) * (1.0 / 0.75))


def test_dropout_reseed_draws_a_new_seed_from_the_generator():
    dropout = Dropout(seed=5)
    dropout.reseed(np.random.default_rng(42))
    expected = int(np.random.default_rng(42).integers(np.iinfo(np.int64).max))
    assert dropout.seed == expected and isinstance(dropout.seed, int)


def test_selections_that_keep_everything_leave_activations_alone():
    a = np.random.default_rng(43).random((5, 4))
    for sparsity in (TopKSparsity(4), TopKSparsity(6), LifetimeSparsity(0.9)):
        kept, mask = a.copy(), np.full_like(a, np.nan)
        sparsity.select(kept, mask)
        np.testing.assert_array_equal(mask, 1.0)
        np.testing.assert_array_equal(kept, a)


def test_lifetime_winners_are_the_rounded_up_share_and_at_least_one():
    sparsity = LifetimeSparsity(0.05)
    assert [sparsity.n_winners(rows) for rows in (1, 10, 20, 30, 100)] == [1, 1, 1, 2, 5]


def test_penalty_deltas_and_derivatives_stay_in_float32():
    rng = np.random.default_rng(44)
    rho_hat = rng.uniform(0.1, 0.9, 4).astype(np.float32)
    _, delta = KLSparsity(0.2, 3.0, "sigmoid").value_and_delta(rho_hat, 10, np.float32)
    assert delta.dtype == np.float32
    z = rng.standard_normal((3, 4)).astype(np.float32)
    for name in ("relu", "sigmoid", "tanh", "identity"):
        a = ACTIVATIONS[name](z.copy(), np.empty_like(z))
        first, second = first_and_second_derivatives(name, z, a)
        assert first.dtype == second.dtype == np.float32
        weights = rng.standard_normal((4, 5)).astype(np.float32)
        _, pre_delta = contraction(weights, z, a, name, 0.5, 3)
        assert pre_delta.dtype == np.float32


def test_second_derivative_of_softmax_is_refused_by_name():
    z = np.zeros((2, 3))
    with pytest.raises(ValueError, match="no second derivative for activation 'softmax'"):
        first_and_second_derivatives("softmax", z, z)


def test_softmax_shifts_each_row_by_its_own_maximum():
    # one shift for the whole array would underflow the first row to 0 / 0
    z = np.array([[0.0, 1.0], [1000.0, 1001.0]])
    out = ACTIVATIONS["softmax"](z, np.empty_like(z))
    row = np.array([1.0, np.e]) / (1.0 + np.e)
    np.testing.assert_allclose(out, [row, row], rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_loss_clips_a_zero_probability_at_the_dtype_resolution(dtype):
    y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], dtype=dtype)
    p = np.array([[0.0, 0.5, 0.5], [0.0, 1.0, 0.0]], dtype=dtype)
    losses = SAMPLE_LOSSES["log_loss"](y, p)
    expected = [-np.log(np.finfo(dtype).eps), 0.0]
    np.testing.assert_allclose(losses, expected, rtol=1e-6)
    assert losses.dtype == dtype


@pytest.mark.parametrize("Optimizer", [SGD, Adam])
def test_optimiser_restore_returns_to_the_snapshot(Optimizer):
    rng = np.random.default_rng(45)
    params = rng.standard_normal(6)
    optimizer = Optimizer(params, learning_rate=0.1)
    optimizer.step(rng.standard_normal(6))
    snapshot = optimizer.snapshot()
    state = [np.copy(part) for part in (snapshot if Optimizer is Adam else [snapshot])]
    optimizer.step(rng.standard_normal(6))
    optimizer.step(rng.standard_normal(6))
    optimizer.restore(snapshot)
    if Optimizer is Adam:
        assert optimizer.t == 1
        np.testing.assert_array_equal(optimizer.first_moment, state[1])
        np.testing.assert_array_equal(optimizer.second_moment, state[2])
        assert not np.array_equal(state[1], state[2])
    else:
        np.testing.assert_array_equal(optimizer.velocity, state[0])
