"""Ctrl-C during training keeps what was trained; any other error changes nothing."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits

import skae._core.network as network_module
from skae import AutoencoderClassifier, DenoisingAutoencoder, SparseAutoencoder, StackedAutoencoder


@pytest.fixture(scope="module")
def X():
    return load_digits().data[:400] / 16.0


def interrupt_at_call(monkeypatch, n_call, exception=KeyboardInterrupt):
    """Make the n-th evaluation of any network objective raise (a Ctrl-C inside training)."""
    original = network_module.Network.objective
    calls = []

    def objective(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == n_call:
            raise exception
        return original(self, *args, **kwargs)

    monkeypatch.setattr(network_module.Network, "objective", objective)
    return calls


MINIBATCH = dict(n_components=8, solver="adam", batch_size=100, random_state=0)  # 4 batches


@pytest.mark.parametrize("n_call,epochs_kept", [(5, 1), (10, 2), (12, 2), (17, 4)])
def test_minibatch_interrupt_keeps_the_last_completed_epoch(X, monkeypatch, n_call, epochs_kept):
    interrupt_at_call(monkeypatch, n_call)
    with pytest.warns(UserWarning, match="interrupted"):
        ae = DenoisingAutoencoder(max_iter=50, **MINIBATCH).fit(X)
    monkeypatch.undo()
    assert ae.n_iter_ == epochs_kept == len(ae.loss_curve_)
    # exactly the model of a fit that stopped there
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = DenoisingAutoencoder(max_iter=epochs_kept, **MINIBATCH).fit(X)
    np.testing.assert_array_equal(ae.components_, reference.components_)
    assert ae.loss_curve_ == reference.loss_curve_


def test_interrupt_with_early_stopping_keeps_the_best_epoch(X, monkeypatch):
    params = dict(early_stopping=True, n_iter_no_change=50, learning_rate_init=0.2, **MINIBATCH)
    interrupt_at_call(monkeypatch, 4 * 6 + 2)  # 4 batches per epoch (360 training rows)
    with pytest.warns(UserWarning, match="interrupted"):
        ae = DenoisingAutoencoder(max_iter=50, **params).fit(X)
    monkeypatch.undo()
    assert ae.n_iter_ == 6
    best = int(np.argmax(ae.validation_scores_)) + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = DenoisingAutoencoder(max_iter=best, **params).fit(X)
    np.testing.assert_array_equal(ae.components_, reference.components_)


def test_interrupt_before_the_first_epoch_leaves_the_estimator_as_it_was(X, monkeypatch):
    ae = DenoisingAutoencoder(max_iter=2, **MINIBATCH)
    interrupt_at_call(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        ae.fit(X)
    assert not hasattr(ae, "components_") and not hasattr(ae, "n_features_in_")
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae.fit(X)
    components = ae.components_.copy()
    interrupt_at_call(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        ae.partial_fit(X)
    np.testing.assert_array_equal(ae.components_, components)
    assert ae.n_iter_ == 2


def test_other_errors_leave_a_fitted_estimator_as_it_was(X, monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae = DenoisingAutoencoder(max_iter=2, warm_start=True, **MINIBATCH).fit(X)
    before = {k: v for k, v in vars(ae).items()}
    curve = list(ae.loss_curve_)
    interrupt_at_call(monkeypatch, 6, exception=MemoryError)
    with pytest.raises(MemoryError):
        ae.fit(X)
    assert vars(ae).keys() == before.keys()
    assert all(vars(ae)[k] is v for k, v in before.items())
    assert ae.loss_curve_ == curve and ae.n_iter_ == 2


@pytest.mark.parametrize("solver", ["lbfgs", "cg"])
def test_full_batch_interrupt_keeps_the_last_completed_iteration(X, monkeypatch, solver):
    params = dict(n_components=8, solver=solver, random_state=0)
    interrupt_at_call(monkeypatch, 15)
    with pytest.warns(UserWarning, match="interrupted"):
        ae = SparseAutoencoder(max_iter=200, **params).fit(X)
    monkeypatch.undo()
    assert 1 <= ae.n_iter_ == len(ae.loss_curve_) < 15
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = SparseAutoencoder(max_iter=ae.n_iter_, **params).fit(X)
    np.testing.assert_allclose(ae.components_, reference.components_, rtol=0, atol=1e-12)


def test_training_continues_after_an_interrupt(X, monkeypatch):
    interrupt_at_call(monkeypatch, 10)
    with pytest.warns(UserWarning, match="interrupted"):
        ae = DenoisingAutoencoder(max_iter=3, warm_start=True, **MINIBATCH).fit(X)
    monkeypatch.undo()
    score = ae.score(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae.fit(X)
    assert ae.n_iter_ == 2 + 3 and ae.score(X) > score
    ae.partial_fit(X)
    assert ae.n_iter_ == 6


def test_stack_interrupted_while_fine_tuning_keeps_it(X, monkeypatch):
    stack = StackedAutoencoder(
        [("a", SparseAutoencoder(8, max_iter=5, random_state=0))],
        fine_tune_max_iter=20,
        fine_tune_batch_size=100,
        random_state=0,
    )
    # the greedy layer (lbfgs, 5 iterations) takes a few evaluations; then 4 per epoch
    calls = interrupt_at_call(monkeypatch, 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stack.fit(X)
    greedy_calls = len(calls) - 20 * 4
    monkeypatch.undo()
    interrupt_at_call(monkeypatch, greedy_calls + 4 * 3 + 1)
    with pytest.warns(UserWarning, match="interrupted"):
        stack.fit(X)
    assert stack.n_iter_ == 3 and np.isfinite(stack.transform(X)).all()


def test_classifier_interrupted_while_fine_tuning_keeps_it(X, monkeypatch):
    y = load_digits().target[:400]
    clf = AutoencoderClassifier(
        SparseAutoencoder(8, max_iter=5, random_state=0),
        pretrain=False,
        batch_size=100,
        max_iter=20,
        random_state=0,
    )
    interrupt_at_call(monkeypatch, 4 * 2 + 1)
    with pytest.warns(UserWarning, match="interrupted"):
        clf.fit(X, y)
    assert clf.n_iter_ == 2 and clf.predict(X[:3]).shape == (3,)


def test_detector_interrupted_while_its_autoencoder_trains_is_left_as_it_was(X, monkeypatch):
    from skae import AutoencoderOutlierDetector

    detector = AutoencoderOutlierDetector(DenoisingAutoencoder(**MINIBATCH), random_state=0)
    detector.set_params(autoencoder__max_iter=5)
    interrupt_at_call(monkeypatch, 4 * 2 + 1)  # in the third epoch
    with pytest.warns(UserWarning, match="interrupted by the user during the autoencoder"):
        with pytest.raises(KeyboardInterrupt):
            detector.fit(X)
    assert not hasattr(detector, "autoencoder_") and not hasattr(detector, "offset_")


def test_stack_interrupted_while_pretraining_says_which_layer(X, monkeypatch):
    stack = StackedAutoencoder(
        [("ae1", DenoisingAutoencoder(**MINIBATCH)), ("ae2", SparseAutoencoder(4))],
        random_state=0,
    )
    interrupt_at_call(monkeypatch, 4 * 2 + 1)
    with pytest.warns(UserWarning, match="greedy pretraining of step 'ae1'") as record:
        with pytest.raises(KeyboardInterrupt):
            stack.fit(X)
    assert not hasattr(stack, "autoencoders_")
    # the layer's own "interrupted" warning is left to the stack: one warning, not two
    assert sum("interrupted" in str(w.message) for w in record) == 1
