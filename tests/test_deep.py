"""Deep models: stacks of autoencoders, the classifier head, and the new sparsity kinds."""

import itertools

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from skae import (
    AutoencoderClassifier,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    TiedAutoencoder,
)
from skae._core import Autoencoder
from skae._core.penalties import LifetimeSparsity, TopKSparsity
from skae.utils import check_gradients

TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).random((10, 6))


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


# Layer kinds for deep gradient checks: every penalty, both weight tyings, the noise held
# fixed. tanh keeps the gradients of the lower layers well above the rounding noise of
# the finite differences (deep sigmoid stacks make them ~1e-5 and the ratio meaningless).
LAYER_KINDS = {
    "plain": {},
    "weight_decay": {"alpha": 0.05},
    "kl": {"sparsity_weight": 1.0, "sparsity_target": 0.2},
    "top_k": {"sparsity": "top_k", "sparsity_target": 0.5},
    "lifetime": {"sparsity": "lifetime", "sparsity_target": 0.3},
    "contraction": {"contraction_weight": 0.3},
}


@pytest.mark.parametrize(
    "first,second,tied", list(itertools.product(sorted(LAYER_KINDS), sorted(LAYER_KINDS), [0, 1]))
)
def test_stacked_gradient_matches_finite_differences(data, first, second, tied):
    common = {"activation": "tanh", "tied": bool(tied)}
    stack = StackedAutoencoder(
        [
            ("ae1", SparseAutoencoder(5, **common, **LAYER_KINDS[first])),
            ("ae2", SparseAutoencoder(4, **common, **LAYER_KINDS[second])),
        ],
        random_state=0,
    )
    assert check_gradients(stack, data) < TOLERANCE


def test_three_layer_stack_with_noise_held_fixed(data):
    stack = StackedAutoencoder(
        [
            ("ae1", DenoisingAutoencoder(6, activation="tanh", noise_level=0.3)),
            ("ae2", TiedAutoencoder(5, activation="tanh", alpha=0.01)),
            ("ae3", SparseAutoencoder(4, activation="relu", sparsity="top_k")),
        ],
        random_state=1,
    )
    assert check_gradients(stack, data) < TOLERANCE


@pytest.mark.parametrize("kind", ["top_k", "lifetime", "contraction"])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "swish", "identity"])
def test_single_layer_new_penalties_gradient(data, kind, activation):
    params = dict(LAYER_KINDS[kind])
    estimator = SparseAutoencoder(
        5, activation=activation, sparsity_weight=0.0, random_state=0, **params
    )
    if kind == "contraction":
        estimator.set_params(tied=True)
    assert check_gradients(estimator, data) < TOLERANCE


@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("input_dropout", [0.0, 0.2])
@pytest.mark.parametrize("deep", [False, True])
def test_classifier_gradient_through_every_layer(data, dropout, input_dropout, deep):
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    autoencoder = SparseAutoencoder(5, activation="tanh", tied=True)
    if deep:
        autoencoder = StackedAutoencoder(
            [("ae1", autoencoder), ("ae2", TiedAutoencoder(4, activation="tanh"))]
        )
    clf = AutoencoderClassifier(
        autoencoder, dropout=dropout, input_dropout=input_dropout, alpha=0.01, random_state=0
    )
    assert check_gradients(clf, data, y) < TOLERANCE


def test_gradient_check_catches_a_broken_deep_gradient(data, monkeypatch):
    import skae._core.network as network

    original = network._add_sum

    def halved_bias(delta, dest, accumulate):
        original(0.5 * delta, dest, accumulate)

    monkeypatch.setattr(network, "_add_sum", halved_bias)
    stack = StackedAutoencoder(
        [("a", SparseAutoencoder(5, activation="tanh")), ("b", TiedAutoencoder(3))],
        random_state=0,
    )
    assert check_gradients(stack, data) > 1e-3


# -- known answers for the new penalties ---------------------------------------------
def test_top_k_keeps_exactly_k_units_per_sample():
    a = np.random.default_rng(0).random((7, 10))
    mask = np.empty_like(a)
    kept = a.copy()
    TopKSparsity(3).select(kept, mask)
    assert (mask.sum(axis=1) == 3).all()
    # the kept ones are the 3 largest of each row, unchanged; the others are zero
    np.testing.assert_array_equal(np.sort(kept, axis=1)[:, -3:], np.sort(a, axis=1)[:, -3:])
    assert (np.count_nonzero(kept, axis=1) == 3).all()


def test_lifetime_keeps_the_stated_share_per_unit():
    a = np.random.default_rng(1).random((20, 4))
    mask = np.empty_like(a)
    kept = a.copy()
    LifetimeSparsity(0.1).select(kept, mask)  # ceil(0.1 * 20) = 2 winners per unit
    assert (mask.sum(axis=0) == 2).all()
    np.testing.assert_array_equal(np.sort(kept, axis=0)[-2:], np.sort(a, axis=0)[-2:])


def test_top_k_is_rho_times_n_components_in_training():
    network = Autoencoder(6, 10, activation="relu", sparsity="top_k", sparsity_target=0.3)
    theta = network.init_params(np.random.default_rng(0))
    x = np.random.default_rng(1).random((8, 6))
    network.objective(theta, x)
    codes = network._workspace.activations[0][:8]
    assert (np.count_nonzero(network._workspace.keep_masks[0][:8], axis=1) == 3).all()
    assert (np.count_nonzero(codes, axis=1) <= 3).all()


def test_transform_k_factor_reads_the_top_alpha_k_units(digits):
    X, _ = digits
    params = dict(activation="relu", sparsity="top_k", sparsity_target=0.1, max_iter=5)
    ae = SparseAutoencoder(40, transform_k_factor=2.0, random_state=0, **params).fit(X[:200])
    codes = ae.transform(X[:50])
    assert (np.count_nonzero(codes, axis=1) <= 8).all()  # alpha k = 2 * round(0.1 * 40)
    everything = SparseAutoencoder(40, random_state=0, **params).fit(X[:200]).transform(X[:50])
    # the kept values are the 8 largest of the full code, unchanged
    np.testing.assert_allclose(np.sort(codes, 1)[:, -8:], np.sort(everything, 1)[:, -8:])


def test_contraction_matches_its_formula():
    rng = np.random.default_rng(2)
    x = rng.random((9, 5))
    kwargs = dict(activation="sigmoid", output_activation="identity")
    plain = Autoencoder(5, 4, **kwargs)
    contractive = Autoencoder(5, 4, contraction_weight=0.7, **kwargs)
    theta = plain.init_params(rng)
    W, b = plain.unpack(theta)[0]
    h = 1 / (1 + np.exp(-(x @ W.T + b)))
    # ||J(x_i)||_F^2 with the Jacobian written out: J = diag(h (1 - h)) W
    jacobian_norms = [np.sum((np.diag(hi * (1 - hi)) @ W) ** 2) for hi in h]
    expected = 0.7 * np.mean(jacobian_norms)
    difference = contractive.objective(theta, x) - plain.objective(theta, x)
    assert difference == pytest.approx(expected, rel=1e-12)


def test_contraction_with_masked_sparsity_is_refused(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="contraction_weight"):
        SparseAutoencoder(contraction_weight=0.1, sparsity="top_k").fit(X[:20])


@pytest.mark.parametrize("sparsity", ["top_k", "lifetime"])
def test_masked_sparsity_trains_relu_codes(digits, sparsity):
    X, _ = digits
    ae = SparseAutoencoder(
        40,
        activation="relu",
        output_activation="identity",
        sparsity=sparsity,
        sparsity_target=0.1,
        solver="adam",
        learning_rate_init=0.01,
        max_iter=5,
        random_state=0,
    ).fit(X[:500])
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    assert np.isfinite(ae.transform(X[:5])).all()


# -- StackedAutoencoder ----------------------------------------------------------------
def _stack(**kwargs):
    return StackedAutoencoder(
        [
            ("ae1", DenoisingAutoencoder(24, max_iter=5, random_state=0)),
            ("ae2", SparseAutoencoder(8, max_iter=30, random_state=0)),
        ],
        random_state=0,
        **kwargs,
    )


def test_stack_reaches_every_layer_knob_and_greedy_layers_match(digits):
    X, _ = digits
    stack = _stack(fine_tune_max_iter=0)
    assert stack.get_params()["ae1__noise_level"] == 0.25
    stack.set_params(ae2__sparsity_target=0.1)
    assert stack.named_steps["ae2"].sparsity_target == 0.1
    stack.fit(X[:300])
    # without fine-tuning, the stack is its greedy layers: each fitted on the codes below
    ae1 = DenoisingAutoencoder(24, max_iter=5, random_state=0).fit(X[:300])
    ae2 = SparseAutoencoder(8, max_iter=30, sparsity_target=0.1, random_state=0)
    ae2.fit(ae1.transform(X[:300]))
    np.testing.assert_allclose(stack.transform(X[:50]), ae2.transform(ae1.transform(X[:50])))
    assert stack.steps[0][1] is not stack.autoencoders_[0]  # steps are cloned


def test_fine_tuning_lowers_the_reconstruction_error(digits):
    X, _ = digits
    greedy = _stack(fine_tune_max_iter=0).fit(X[:400])
    tuned = _stack(fine_tune_max_iter=15, fine_tune_learning_rate=0.003).fit(X[:400])
    assert tuned.score(X[:400]) > greedy.score(X[:400])
    assert tuned.n_iter_ == len(tuned.loss_curve_) > 0
    reconstruction = tuned.inverse_transform(tuned.transform(X[:10]))
    assert reconstruction.shape == (10, 64)
    expected = -0.5 * ((reconstruction - X[:10]) ** 2).sum(axis=1)
    np.testing.assert_allclose(tuned.score_samples(X[:10]), expected, rtol=1e-10)


def test_stack_partial_fit_trains_end_to_end(digits):
    X, _ = digits
    stack = _stack()
    stack.partial_fit(X[:200])
    first = stack.score(X[:200])
    for _ in range(5):
        stack.partial_fit(X[:200])
    assert stack.n_iter_ == 6 and stack.score(X[:200]) > first


def test_stack_in_a_grid_search(digits):
    X, _ = digits
    search = GridSearchCV(_stack(fine_tune_max_iter=2), {"ae1__noise_level": [0.0, 0.3]}, cv=2)
    search.fit(X[:200])
    assert set(search.cv_results_["param_ae1__noise_level"]) == {0.0, 0.3}


def test_stack_set_output_pandas(digits):
    X, _ = digits
    stack = _stack(fine_tune_max_iter=1).set_output(transform="pandas")
    frame = stack.fit(X[:100]).transform(X[:3])
    assert list(frame.columns) == [f"stackedautoencoder{i}" for i in range(8)]


@pytest.mark.parametrize(
    "steps,message",
    [
        ([], "non-empty"),
        ([("a", object())], "skae autoencoder"),
        ([("a", SparseAutoencoder()), ("a", SparseAutoencoder())], "unique"),
    ],
)
def test_stack_refuses_bad_steps(digits, steps, message):
    X, _ = digits
    with pytest.raises((ValueError, TypeError), match=message):
        StackedAutoencoder(steps).fit(X[:20])


# -- AutoencoderClassifier ---------------------------------------------------------------
def test_classifier_learns_digits_and_probabilities_sum_to_one(digits):
    X, y = digits
    clf = AutoencoderClassifier(
        DenoisingAutoencoder(64, max_iter=10, random_state=0),
        max_iter=30,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X[:1000], y[:1000])
    proba = clf.predict_proba(X[1000:])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.score(X[1000:], y[1000:]) > 0.9
    assert clf.coef_.shape == (10, 64)


def test_unlabelled_rows_serve_pretraining_only(digits, monkeypatch):
    X, y = digits
    y_partial = y[:600].copy()
    y_partial[100:] = -1
    pretrained_rows = []
    original = DenoisingAutoencoder.fit

    def spy(self, X, y=None):
        pretrained_rows.append(X.shape[0])
        return original(self, X, y)

    monkeypatch.setattr(DenoisingAutoencoder, "fit", spy)
    clf = AutoencoderClassifier(
        DenoisingAutoencoder(32, max_iter=3, random_state=0),
        unlabeled=-1,
        max_iter=3,
        random_state=0,
    ).fit(X[:600], y_partial)
    assert pretrained_rows == [600]
    assert set(clf.classes_) == set(y[:100])  # -1 is not a class when asked for


@pytest.mark.parametrize("labels", [(-1, 0, 1), (-1, 1)])
def test_minus_one_is_a_class_unless_unlabeled_asks_otherwise(digits, labels):
    # semi-supervised use must be asked for: -1 is an ordinary label by default
    X, _ = digits
    y = np.resize(np.array(labels), 90)
    params = dict(max_iter=3, random_state=0)
    ae = SparseAutoencoder(8, max_iter=5, random_state=0)
    clf = AutoencoderClassifier(ae, **params).fit(X[:90], y)
    assert list(clf.classes_) == sorted(labels)
    assert -1 in set(clf.predict(X[:90]))
    semi = AutoencoderClassifier(ae, unlabeled=-1, **params)
    if len(labels) == 2:
        with pytest.raises(ValueError, match="unlabeled=-1"):
            semi.fit(X[:90], y)
    else:
        assert list(semi.fit(X[:90], y).classes_) == [0, 1]


def test_string_labels_with_a_string_marker(digits):
    X, y = digits
    names = np.array(["zero", "one", "?"])[np.resize([0, 1, 2], 90)]
    clf = AutoencoderClassifier(
        SparseAutoencoder(8, max_iter=5, random_state=0),
        unlabeled="?",
        max_iter=3,
        random_state=0,
    ).fit(X[:90], names)
    assert list(clf.classes_) == ["one", "zero"]


def test_pretraining_changes_the_start(digits):
    X, y = digits
    params = dict(max_iter=1, random_state=0)
    ae = SparseAutoencoder(16, max_iter=20, random_state=0)
    pretrained = AutoencoderClassifier(ae, **params).fit(X[:300], y[:300])
    random = AutoencoderClassifier(ae, pretrain=False, **params).fit(X[:300], y[:300])
    assert not np.allclose(
        pretrained.autoencoder_.components_, random.autoencoder_.components_, atol=1e-2
    )
    assert random.predict(X[:5]).shape == (5,)


def test_prefit_autoencoder_is_used_as_it_is(digits, monkeypatch):
    X, y = digits
    ae = SparseAutoencoder(16, max_iter=20, random_state=0).fit(X[:300])
    components = ae.components_.copy()

    def no_second_pretraining(self, X, y=None):
        raise AssertionError("a prefit autoencoder must not be fitted again")

    monkeypatch.setattr(SparseAutoencoder, "fit", no_second_pretraining)
    clf = AutoencoderClassifier(ae, pretrain="prefit", max_iter=2, random_state=0)
    clf.fit(X[:300], y[:300])
    np.testing.assert_array_equal(ae.components_, components)  # never modified
    assert not np.array_equal(clf.autoencoder_.components_, components)  # fine-tuned
    monkeypatch.undo()
    with pytest.raises(ValueError, match="prefit autoencoder"):
        clf.fit(X[:300, :10], y[:300])


def test_classifier_early_stopping_records_accuracy(digits):
    X, y = digits
    clf = AutoencoderClassifier(
        SparseAutoencoder(16, max_iter=10, random_state=0),
        early_stopping=True,
        max_iter=5,
        n_iter_no_change=50,
        random_state=0,
    ).fit(X[:400], y[:400])
    assert len(clf.validation_scores_) == 5
    assert all(0 <= s <= 1 for s in clf.validation_scores_)
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_classifier_refuses_a_single_labelled_class(digits):
    X, _ = digits
    with pytest.raises(ValueError, match="at least 2 classes"):
        AutoencoderClassifier(SparseAutoencoder(4), unlabeled=-1).fit(
            X[:10], np.r_[[1] * 5, [-1] * 5]
        )
