"""Known answers for the core's tables: activations, derivatives, losses, penalties and
optimisers, each against its formula written out here (not against the code under test).

These are the fast tests that the mutation run (``[tool.mutmut]`` in pyproject.toml)
relies on: each formula, constant and default is pinned by a value.

Mutation score (mutmut 3.8.1, ``mutmut run`` over all of ``skae/_core/``, with
``tests/test_core_mutants.py`` for the network and the training loops): 1811 of 1857
mutants killed (97.5%; 97.6% with the one timeout); every survivor is argued
equivalent, one line each, in ``benchmarks/results/mutation_testing.md``.
"""

import numpy as np
import pytest

from skae._core.activations import (
    ACTIVATIONS,
    DERIVATIVES,
    ELEMENTWISE_ACTIVATIONS,
    NEEDS_PREACTIVATION,
    SPARSITY_MAPS,
    first_and_second_derivatives,
)
from skae._core.losses import LOSSES, SAMPLE_LOSSES
from skae._core.optimizers import OPTIMIZERS, SGD, Adam
from skae._core.penalties import kl_sparsity, weight_decay

Z = np.array([[-30.0, -3.0, -0.5, 0.0], [0.25, 1.0, 4.0, 30.0]])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


REFERENCE = {
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1 - sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "swish": (lambda z: z * sigmoid(z), lambda z: sigmoid(z) + z * sigmoid(z) * (1 - sigmoid(z))),
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
}


def test_every_activation_has_a_reference_and_a_derivative():
    # softmax is an output only: its delta comes from the log loss, not from DERIVATIVES
    assert set(ACTIVATIONS) - {"softmax"} == set(ELEMENTWISE_ACTIVATIONS) == set(REFERENCE)
    assert set(REFERENCE) == set(DERIVATIVES)
    assert NEEDS_PREACTIVATION == {"swish"}


def test_softmax_rows_are_exp_over_their_sum():
    out = ACTIVATIONS["softmax"](Z.copy(), np.empty_like(Z))
    expected = np.exp(Z - Z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(out, expected / expected.sum(axis=1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(out.sum(axis=1), 1.0)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_second_derivative_is_the_slope_of_the_first(name):
    # f'' by central differences of the written-out f', away from relu's kink at 0
    z = np.array([[-2.0, -0.7, 0.3, 1.5]])
    first, second = first_and_second_derivatives(name, z, REFERENCE[name][0](z))
    np.testing.assert_allclose(first, REFERENCE[name][1](z), rtol=1e-12, atol=1e-14)
    h = 1e-5
    slope = (REFERENCE[name][1](z + h) - REFERENCE[name][1](z - h)) / (2 * h)
    np.testing.assert_allclose(second, slope, rtol=1e-6, atol=1e-9)


def test_log_loss_value_and_delta():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    delta = np.empty_like(p)
    value = LOSSES["log_loss"](y, p, None, "softmax", delta, np.empty_like(p))
    assert value == pytest.approx(-np.log(0.7) - np.log(0.8), rel=1e-14)
    np.testing.assert_allclose(delta, p - y)  # softmax + log loss: dL/dz = p - y
    np.testing.assert_allclose(SAMPLE_LOSSES["log_loss"](y, p), [-np.log(0.7), -np.log(0.8)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_values(name, dtype):
    z = Z.astype(dtype)
    out = np.full_like(z, np.nan)
    result = ACTIVATIONS[name](z, out)
    assert result is out and out.dtype == dtype
    tolerance = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(out, REFERENCE[name][0](Z), rtol=tolerance, atol=tolerance)
    np.testing.assert_array_equal(z, Z.astype(dtype))  # the input is untouched


@pytest.mark.parametrize("name", sorted(set(REFERENCE) - NEEDS_PREACTIVATION))
def test_activation_in_place(name):
    z = Z.copy()
    ACTIVATIONS[name](z, z)
    np.testing.assert_allclose(z, REFERENCE[name][0](Z), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_derivative_multiplies_delta_by_f_prime(name):
    z = Z.copy()
    a = REFERENCE[name][0](z)
    delta = np.arange(1.0, 9.0).reshape(Z.shape)
    scratch = np.full_like(z, np.nan)  # whatever the scratch holds must not matter
    DERIVATIVES[name](z, a.copy(), delta, scratch)
    expected = np.arange(1.0, 9.0).reshape(Z.shape) * REFERENCE[name][1](Z)
    np.testing.assert_allclose(delta, expected, rtol=1e-12, atol=1e-14)
    # and the derivative is the slope of the activation (central differences)
    h = 1e-6
    inner = Z[:, 1:-1]  # away from relu's kink at 0 and the flat tails
    slope = (REFERENCE[name][0](inner + h) - REFERENCE[name][0](inner - h)) / (2 * h)
    if name != "relu":
        np.testing.assert_allclose(REFERENCE[name][1](inner), slope, rtol=1e-6, atol=1e-8)


def test_sigmoid_does_not_overflow():
    z = np.array([-1000.0, 1000.0])
    with np.errstate(all="raise"):
        out = ACTIVATIONS["sigmoid"](z, np.empty(2))
    np.testing.assert_array_equal(out, [0.0, 1.0])


def test_sparsity_maps_read_activations_as_probabilities():
    assert SPARSITY_MAPS == {"sigmoid": (1.0, 0.0), "tanh": (0.5, 0.5)}


# -- losses --------------------------------------------------------------------------------
X = np.array([[0.0, 0.5, 1.0], [0.2, 0.9, 0.1]])
X_HAT = np.array([[0.1, 0.4, 0.7], [0.3, 0.95, 0.2]])


def test_squared_error_per_sample_and_summed_with_its_delta():
    expected_rows = 0.5 * np.sum((X_HAT - X) ** 2, axis=1)
    np.testing.assert_allclose(SAMPLE_LOSSES["squared_error"](X, X_HAT), expected_rows)
    for output in sorted(REFERENCE):
        z = np.linspace(-1, 1, 6).reshape(2, 3)
        x_hat = REFERENCE[output][0](z)
        delta, scratch = np.empty_like(z), np.empty_like(z)
        value = LOSSES["squared_error"](X, x_hat, z, output, delta, scratch)
        assert value == pytest.approx(0.5 * np.sum((x_hat - X) ** 2), rel=1e-14)
        np.testing.assert_allclose(delta, (x_hat - X) * REFERENCE[output][1](z), rtol=1e-12)


def test_cross_entropy_per_sample_and_summed_with_its_delta():
    expected_rows = -np.sum(X * np.log(X_HAT) + (1 - X) * np.log(1 - X_HAT), axis=1)
    np.testing.assert_allclose(SAMPLE_LOSSES["cross_entropy"](X, X_HAT), expected_rows)
    z = np.log(X_HAT / (1 - X_HAT))  # the sigmoid decoder's pre-activation
    delta, scratch = np.empty_like(z), np.empty_like(z)
    value = LOSSES["cross_entropy"](X, X_HAT, z, "sigmoid", delta, scratch)
    assert value == pytest.approx(expected_rows.sum(), rel=1e-12)
    np.testing.assert_allclose(delta, X_HAT - X, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_clips_at_the_dtype_resolution(dtype):
    eps = np.finfo(dtype).eps
    x = np.array([[1.0, 0.0]], dtype=dtype)
    x_hat = np.array([[0.0, 1.0]], dtype=dtype)  # certain and wrong: log(0) without clipping
    loss = SAMPLE_LOSSES["cross_entropy"](x, x_hat)
    assert loss.dtype == dtype
    expected = -2 * np.log(np.float64(eps))
    np.testing.assert_allclose(loss, [expected], rtol=1e-3 if dtype == np.float32 else 1e-6)
    # a right, certain answer costs (almost) nothing
    assert SAMPLE_LOSSES["cross_entropy"](x, x.copy())[0] == pytest.approx(0, abs=10 * float(eps))


# -- penalties -------------------------------------------------------------------------------
def test_weight_decay_value_and_gradient_added_in_place():
    w1, w2 = np.arange(6.0).reshape(2, 3), -np.ones((3, 2))
    g1, g2 = np.full((2, 3), 0.5), np.full((3, 2), 0.25)
    value = weight_decay([w1, w2], 0.3, [g1, g2])
    assert value == pytest.approx(0.15 * (np.sum(w1**2) + np.sum(w2**2)), rel=1e-14)
    np.testing.assert_allclose(g1, 0.5 + 0.3 * w1)
    np.testing.assert_allclose(g2, 0.25 + 0.3 * w2)
    assert weight_decay([w1], 0.3) == pytest.approx(0.15 * np.sum(w1**2))


def test_weight_decay_off_leaves_gradients_alone():
    g = np.full((2, 2), 0.5)
    assert weight_decay([np.ones((2, 2))], 0.0, [g]) == 0.0
    np.testing.assert_array_equal(g, 0.5)


def test_kl_sparsity_value_and_derivative():
    rho, beta = 0.1, 3.0
    rho_hat = np.array([0.05, 0.1, 0.5, 0.9])
    value, derivative = kl_sparsity(rho_hat, rho, beta)
    kl = rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    assert value == pytest.approx(beta * kl.sum(), rel=1e-14)
    np.testing.assert_allclose(derivative, beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat)))
    assert derivative[1] == 0.0  # at the target, no push
    # the derivative is the slope of the value, one unit at a time
    h = 1e-7
    for j in range(4):
        step = np.zeros(4)
        step[j] = h
        up, down = kl_sparsity(rho_hat + step, rho, beta), kl_sparsity(rho_hat - step, rho, beta)
        assert (up[0] - down[0]) / (2 * h) == pytest.approx(derivative[j], rel=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kl_sparsity_stays_finite_for_stuck_units(dtype):
    eps = np.finfo(dtype).eps
    value, derivative = kl_sparsity(np.array([0.0, 1.0], dtype=dtype), 0.05, 1.0)
    assert np.isfinite(value) and np.all(np.isfinite(derivative))
    # clipped to [eps, 1 - eps]: the push is as for rho_hat = eps and 1 - eps
    np.testing.assert_allclose(derivative[0], -0.05 / eps + 0.95 / (1 - eps), rtol=1e-5)
    assert derivative[0] < 0 < derivative[1]


# -- optimisers ------------------------------------------------------------------------------
def test_optimiser_table_and_defaults():
    assert OPTIMIZERS == {"sgd": SGD, "adam": Adam}
    adam = Adam(np.zeros(3))
    defaults = (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon)
    assert defaults == (0.001, 0.9, 0.999, 1e-8)
    assert adam.t == 0
    sgd = SGD(np.zeros(3))
    assert (sgd.learning_rate, sgd.momentum) == (0.01, 0.9)


def test_adam_first_steps_by_hand():
    # scikit-learn's form: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), step = lr_t m / (sqrt(v) + eps)
    # t = 1: m = (1 - b1) g, v = (1 - b2) g^2, so step = lr g / (|g| + eps / sqrt(1 - b2))
    params = np.array([1.0, -2.0, 0.5])
    adam = Adam(params, learning_rate=0.1, beta_1=0.8, beta_2=0.99, epsilon=1e-3)
    g1 = np.array([0.5, -4.0, 0.0])
    adam.step(g1)
    expected = np.array([1.0, -2.0, 0.5]) - 0.1 * g1 / (np.abs(g1) + 1e-3 / np.sqrt(0.01))
    np.testing.assert_allclose(params, expected, rtol=1e-12)
    # t = 2, with the bias corrections of beta_1 = 0.8 and beta_2 = 0.99
    g2 = np.array([1.0, 1.0, 2.0])
    m = 0.8 * 0.2 * g1 + 0.2 * g2
    v = 0.99 * 0.01 * g1**2 + 0.01 * g2**2
    lr_t = 0.1 * np.sqrt(1 - 0.99**2) / (1 - 0.8**2)
    expected = params - lr_t * m / (np.sqrt(v) + 1e-3)
    adam.step(g2)
    np.testing.assert_allclose(params, expected, rtol=1e-12)
    assert adam.t == 2


def test_sgd_first_steps_by_hand():
    params = np.array([1.0, -1.0])
    sgd = SGD(params, learning_rate=0.5, momentum=0.5)
    g = np.array([2.0, -4.0])
    sgd.step(g)  # v = -lr g = [-1, 2]; theta += mu v - lr g = [-0.5, 1] + [-1, 2]
    np.testing.assert_allclose(params, [1.0 - 1.5, -1.0 + 3.0])
    np.testing.assert_allclose(sgd.velocity, [-1.0, 2.0])
    sgd.step(g)  # v = 0.5 v - lr g = [-1.5, 3]; theta += 0.5 v - lr g = [-1.75, 3.5]
    np.testing.assert_allclose(params, [-0.5 - 1.75, 2.0 + 3.5])


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize(
    "decay",
    [[(0, 3, 0.5), (5, 9, 2.0)], [(2, 7, 1.0)], [(0, 4, 0.1), (4, 9, 3.0)], []],
    ids=["gap between", "gaps around", "adjacent", "none"],
)
def test_a_step_with_weight_decay_steps_along_the_decayed_gradient(solver, decay):
    # decay (start, stop, alpha): the step's gradient is grad + alpha w on those ranges,
    # and it returns sum(alpha / 2 ||w||^2) of the parameters before the step
    rng = np.random.default_rng(0)
    start = rng.standard_normal(9)
    alphas = np.zeros(9)
    for begin, end, alpha in decay:
        alphas[begin:end] = alpha
    decayed, plain = start.copy(), start.copy()
    with_decay = OPTIMIZERS[solver](decayed, learning_rate=0.1)
    by_hand = OPTIMIZERS[solver](plain, learning_rate=0.1)
    for seed in (1, 2):  # a second step: through the momentum / the moments too
        grad = np.random.default_rng(seed).standard_normal(9)
        expected = 0.5 * np.sum(alphas * decayed**2)
        value = with_decay.step(grad.copy(), decay)
        assert by_hand.step(grad + alphas * plain) == 0.0  # no decay, no value
        assert value == pytest.approx(expected, rel=1e-12, abs=0)
        np.testing.assert_array_equal(decayed, plain)
    assert not np.array_equal(decayed, start)


def test_weight_decay_ranges_are_the_untied_decayed_weights():
    from skae._core.network import Layer, Network

    layers = [
        Layer(4, 3, "sigmoid", alpha=0.5),  # weights 0..12, biases 12..15
        Layer(3, 2, "sigmoid"),  # alpha 0: weights 15..21, biases 21..23
        Layer(2, 3, "sigmoid", tied_to=1, alpha=0.7),  # tied: no weights of its own
        Layer(3, 4, "sigmoid", alpha=2.0),  # weights 26..38, biases 38..42
    ]
    network = Network(layers, "squared_error")
    assert network.weight_decay_ranges == [(0, 12, 0.5), (26, 38, 2.0)]
    assert network.n_params == 42


@pytest.mark.parametrize("Optimizer", [SGD, Adam])
def test_optimisers_keep_float32(Optimizer):
    params = np.ones(4, dtype=np.float32)
    optimizer = Optimizer(params, learning_rate=np.float64(0.1))
    optimizer.step(np.full(4, 0.5, dtype=np.float32))
    assert params.dtype == np.float32 and optimizer.dtype == np.float32
    assert np.all(params < 1)


def test_weight_decay_at_alpha_one():
    # alpha = 1 is a weight decay like any other (only alpha = 0 turns it off)
    w, g = np.full((2, 2), 2.0), np.zeros((2, 2))
    assert weight_decay([w], 1.0, [g]) == pytest.approx(8.0)
    np.testing.assert_array_equal(g, w)


def test_weight_decay_refuses_unmatched_gradients():
    # one gradient per weight matrix: a missing one is a caller's bug, not a silent skip
    with pytest.raises(ValueError, match="zip"):
        weight_decay([np.ones(2), np.ones(2)], 0.1, [np.zeros(2)])


@pytest.mark.parametrize("Optimizer", [SGD, Adam])
def test_optimiser_steps_allocate_no_parameter_sized_array(Optimizer):
    import tracemalloc

    params = np.zeros(200_000)
    optimizer = Optimizer(params, learning_rate=0.1)
    grad = np.full_like(params, 0.5)
    optimizer.step(grad)  # first step outside the measurement
    tracemalloc.start()
    try:
        optimizer.step(grad)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < params.nbytes / 10, peak  # buffers are allocated once, in __init__
