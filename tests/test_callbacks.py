"""Callbacks, the per-epoch history, and checkpoints that resume a killed fit."""

import io
import os
import signal
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skae import (
    AutoencoderClassifier,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    TiedAutoencoder,
)
from skae.callbacks import Checkpoint, EpochScore, ProgressBar


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


class Recorder:
    """Every event with the info keys it was called with."""

    def __init__(self, stop_at=None):
        self.events = []
        self.stop_at = stop_at

    def on_train_begin(self, info):
        self.events.append(("begin", info["phase"], info["epoch"], info["n_epochs"]))

    def on_epoch_end(self, info):
        self.events.append(("epoch", info["phase"], info["epoch"], info["loss"]))
        return info["epoch"] == self.stop_at

    def on_train_end(self, info):
        self.events.append(("end", info["phase"], info["status"]))


def _state(model):
    """The fitted arrays of a model and of the autoencoders inside it."""
    arrays = [v for v in vars(model).values() if isinstance(v, np.ndarray) and v.dtype.kind == "f"]
    for inner in getattr(model, "autoencoders_", []) + [getattr(model, "autoencoder_", None)]:
        if inner is not None:
            arrays += _state(inner)
    return arrays


def assert_same_model(a, b):
    for x, y in zip(_state(a), _state(b), strict=True):
        np.testing.assert_array_equal(x, y)
    assert a.loss_curve_ == b.loss_curve_


# -- the protocol ------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_a_callback_hears_every_epoch_and_how_training_ended(digits, solver):
    recorder = Recorder()
    ae = SparseAutoencoder(8, solver=solver, max_iter=4, random_state=0, callbacks=[recorder])
    with pytest.warns(ConvergenceWarning):
        ae.fit(digits[0])
    assert recorder.events[0] == ("begin", "fit", 0, 4)
    assert [e[2] for e in recorder.events[1:-1]] == [1, 2, 3, 4]
    assert [e[3] for e in recorder.events[1:-1]] == ae.loss_curve_
    assert recorder.events[-1] == ("end", "fit", "max_iter")


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_on_epoch_end_returning_true_ends_training_keeping_that_epoch(digits, solver):
    recorder = Recorder(stop_at=3)
    ae = SparseAutoencoder(8, solver=solver, max_iter=50, random_state=0, callbacks=[recorder])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a normal end: no warning
        ae.fit(digits[0])
    assert ae.n_iter_ == 3 and len(ae.loss_curve_) == 3
    assert recorder.events[-1] == ("end", "fit", "converged")
    # the kept parameters are those of epoch 3: the same as a fit of max_iter=3
    with pytest.warns(ConvergenceWarning):
        three = SparseAutoencoder(8, solver=solver, max_iter=3, random_state=0).fit(digits[0])
    np.testing.assert_array_equal(ae.components_, three.components_)


def test_callbacks_that_do_nothing_leave_the_model_bit_identical(digits):
    class Nothing:
        def on_batch_begin(self, info):
            pass

    params = dict(solver="adam", max_iter=5, early_stopping=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = DenoisingAutoencoder(8, **params).fit(digits[0])
        watched = DenoisingAutoencoder(8, callbacks=[Nothing(), Recorder()], **params)
        assert_same_model(plain, watched.fit(digits[0]))


def test_a_stack_and_a_classifier_pass_their_callbacks_to_every_phase(digits):
    X, y = digits
    recorder = Recorder()
    stack = StackedAutoencoder(
        [("ae1", TiedAutoencoder(16, max_iter=3)), ("ae2", SparseAutoencoder(4, max_iter=2))],
        fine_tune_max_iter=2,
        random_state=0,
    )
    clf = AutoencoderClassifier(stack, max_iter=2, random_state=0, callbacks=[recorder])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    begins = [event[1] for event in recorder.events if event[0] == "begin"]
    assert begins == [
        "autoencoder__ae1__fit",
        "autoencoder__ae2__fit",
        "autoencoder__fine_tune",
        "fine_tune",
    ]
    # the classifier's copy of the stack does not keep the classifier's callbacks
    assert clf.autoencoder_.callbacks is None


def test_callbacks_are_a_parameter_that_clones(digits):
    score = EpochScore("accuracy", digits[0], digits[1])
    clf = AutoencoderClassifier(TiedAutoencoder(8), callbacks=[score])
    assert clf.get_params()["callbacks"] == [score]
    cloned = clone(clf)
    assert cloned.callbacks[0] is not score and cloned.callbacks[0].scoring == "accuracy"
    with pytest.raises(TypeError, match="callbacks"):
        TiedAutoencoder(8, callbacks=ProgressBar()).fit(digits[0])


# -- the history and the built-ins ------------------------------------------------------------
def test_history_records_every_figure_of_every_epoch(digits):
    X = digits[0]
    ae = TiedAutoencoder(8, solver="sgd", learning_rate="cosine", max_iter=4, random_state=0)
    ae.set_params(early_stopping=True)
    with pytest.warns(ConvergenceWarning):
        ae.fit(X)
    assert [entry["epoch"] for entry in ae.history_] == [1, 2, 3, 4]
    assert [entry["loss"] for entry in ae.history_] == ae.loss_curve_
    assert [entry["validation_score"] for entry in ae.history_] == ae.validation_scores_
    rates = [entry["learning_rate"] for entry in ae.history_]
    assert rates == sorted(rates, reverse=True) and rates[-1] < 0.1 * rates[0]  # annealed
    elapsed = [entry["elapsed"] for entry in ae.history_]
    assert elapsed == sorted(elapsed)


def test_epoch_score_scores_the_model_of_each_epoch(digits):
    X, y = digits

    def held_out_error(model, X, y):
        return float(np.mean((model.inverse_transform(model.transform(X)) - X) ** 2))

    score = EpochScore(held_out_error, X[200:])
    ae = DenoisingAutoencoder(8, solver="adam", max_iter=3, random_state=0, callbacks=[score])
    with pytest.warns(ConvergenceWarning):
        ae.fit(X[:200])
    errors = [entry["held_out_error"] for entry in ae.history_]
    # the last epoch's score is the fitted model's
    assert errors[-1] == pytest.approx(held_out_error(ae, X[200:], None), rel=1e-12)
    assert errors[0] > errors[-1]

    accuracy = EpochScore("accuracy", X[200:], y[200:], every=2)
    # pretrained: the autoencoder's own phase is not scored (its model has no predict)
    clf = AutoencoderClassifier(TiedAutoencoder(8, max_iter=3), max_iter=4)
    clf.set_params(random_state=0, callbacks=[accuracy])
    with pytest.warns(ConvergenceWarning):
        clf.fit(X[:200], y[:200])
    scored = ["accuracy" in entry for entry in clf.history_]
    assert scored == [False, True, False, True]
    assert clf.history_[-1]["accuracy"] == clf.score(X[200:], y[200:])


def test_the_plain_progress_bar_names_each_phase(digits):
    stream = io.StringIO()
    stack = StackedAutoencoder(
        [("ae1", TiedAutoencoder(8, max_iter=2)), ("ae2", TiedAutoencoder(4, max_iter=2))],
        fine_tune_max_iter=2,
        callbacks=[ProgressBar(file=stream, backend="plain", min_interval=0)],
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        stack.fit(digits[0])
    lines = [line.split("\r")[-1] for line in stream.getvalue().split("\n") if line]
    assert [line.split(":")[0] for line in lines] == [
        "TiedAutoencoder (ae1)",
        "TiedAutoencoder (ae2)",
        "StackedAutoencoder fine_tune",
    ]
    assert all("epoch 2/2" in line and "left ~" in line for line in lines)


def test_the_tqdm_progress_bar_counts_the_epochs(digits):
    pytest.importorskip("tqdm")
    stream = io.StringIO()
    ae = TiedAutoencoder(8, solver="adam", max_iter=3, random_state=0)
    ae.set_params(callbacks=[ProgressBar(file=stream, backend="tqdm")])
    with pytest.warns(ConvergenceWarning):
        ae.fit(digits[0])
    assert "TiedAutoencoder" in stream.getvalue() and "3/3" in stream.getvalue()
    assert "max_iter" in stream.getvalue()  # how it ended


def test_the_tqdm_progress_bar_says_why_it_stopped_early(digits):
    pytest.importorskip("tqdm")
    stream = io.StringIO()
    callbacks = [ProgressBar(file=stream, backend="tqdm")]
    ae = TiedAutoencoder(8, max_iter=500, tol=1.0, callbacks=callbacks, random_state=0)
    ae.fit(digits[0])
    assert ae.n_iter_ < 500
    assert f"{ae.n_iter_}/500" in stream.getvalue() and "converged" in stream.getvalue()


# -- checkpoints -------------------------------------------------------------------------------
CHILD = textwrap.dedent(
    """
    import os, signal, sys, warnings
    import numpy as np
    from sklearn.datasets import load_digits
    from skae import *
    from skae.callbacks import Checkpoint

    warnings.simplefilter("ignore")
    kind, path, kill_phase, kill_epoch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

    class KillAt:
        def on_epoch_end(self, info):
            if info["phase"] == kill_phase and info["epoch"] == kill_epoch:
                os.kill(os.getpid(), signal.SIGKILL)

    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    callbacks = [KillAt(), Checkpoint(path, every=3)]
    model = {MODELS}[kind]
    model.set_params(callbacks=callbacks)
    model.fit(X, y)
    np.save(os.path.join(os.path.dirname(path), kind + ".npy"), np.concatenate(
        [a.ravel() for a in {STATE}(model)] + [np.array(model.loss_curve_)]))
    """
)
MODELS = """{
    "adam": DenoisingAutoencoder(8, solver="adam", max_iter=12, random_state=0),
    "lbfgs": SparseAutoencoder(8, max_iter=20, random_state=0),
    "stack": StackedAutoencoder(
        [("ae1", DenoisingAutoencoder(16, max_iter=6)), ("ae2", SparseAutoencoder(4, max_iter=9))],
        fine_tune_max_iter=6, random_state=0),
    "classifier": AutoencoderClassifier(
        TiedAutoencoder(8, max_iter=4), max_iter=9, early_stopping=True, random_state=0),
}"""
STATE = """(lambda m: [
    v for part in [m] + getattr(m, "autoencoders_", []) for v in vars(part).values()
    if isinstance(v, np.ndarray) and v.dtype.kind == "f"])"""


def _run_child(tmp_path, kind, kill_phase="-", kill_epoch=0):
    script = tmp_path / "child.py"
    script.write_text(CHILD.replace("{MODELS}", MODELS).replace("{STATE}", STATE))
    return subprocess.run(
        [
            sys.executable,
            str(script),
            kind,
            str(tmp_path / "checkpoints"),
            kill_phase,
            str(kill_epoch),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize(
    "kind, kill_phase, kill_epoch",
    [
        ("adam", "fit", 8),  # killed after 8 of 12 epochs: the checkpoint of epoch 6
        ("lbfgs", "fit", 11),  # L-BFGS restarted every 3 iterations: from iteration 9
        ("stack", "ae2__fit", 7),  # the first layer restored as it ended, the second resumed
        ("classifier", "fine_tune", 5),  # pretrained, then killed fine-tuning
    ],
)
def test_a_fit_killed_with_sigkill_resumes_and_ends_bit_identical(
    tmp_path, kind, kill_phase, kill_epoch
):
    uninterrupted = tmp_path / "uninterrupted"
    uninterrupted.mkdir()
    done = _run_child(uninterrupted, kind)
    assert done.returncode == 0, done.stderr
    expected = np.load(uninterrupted / f"{kind}.npy")

    killed = _run_child(tmp_path, kind, kill_phase, kill_epoch)
    assert killed.returncode == -signal.SIGKILL
    assert list((tmp_path / "checkpoints").glob("*.npz")), "nothing was checkpointed"
    resumed = _run_child(tmp_path, kind)
    assert resumed.returncode == 0, resumed.stderr
    np.testing.assert_array_equal(np.load(tmp_path / f"{kind}.npy"), expected)
    assert not (tmp_path / "checkpoints").exists()  # a clean end removes the checkpoints


class Interrupt:
    """Stands for a kill: ends the process's fit after ``epoch`` epochs of ``phase``."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, info):
        if info["epoch"] == self.epoch:
            raise RuntimeError("killed")


def test_a_checkpointed_minibatch_fit_equals_one_without_checkpoints(digits, tmp_path):
    params = dict(solver="adam", max_iter=6, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = DenoisingAutoencoder(8, **params).fit(digits[0])
        checkpointed = DenoisingAutoencoder(8, callbacks=[Checkpoint(tmp_path, every=2)], **params)
        assert_same_model(plain, checkpointed.fit(digits[0]))
    assert not tmp_path.exists()


def test_a_checkpoint_of_another_configuration_is_refused(digits, tmp_path):
    X = digits[0]
    first = DenoisingAutoencoder(8, solver="adam", max_iter=6, random_state=0)
    first.set_params(callbacks=[Interrupt(4), Checkpoint(tmp_path, every=2)])
    with pytest.raises(RuntimeError, match="killed"):
        first.fit(X)
    assert (tmp_path / "fit.npz").exists()

    fitted = DenoisingAutoencoder(8, solver="adam", max_iter=2, random_state=1).fit(X)
    before = fitted.components_.copy()
    fitted.set_params(alpha=0.5, callbacks=[Checkpoint(tmp_path)])
    with pytest.raises(ValueError, match="another configuration .* Remove it"):
        fitted.fit(X)
    np.testing.assert_array_equal(fitted.components_, before)  # left as it was
    other_data = first.set_params(callbacks=[Checkpoint(tmp_path)])
    with pytest.raises(ValueError, match="other data"):
        other_data.fit(X[:-1])
    # the same configuration on the same data resumes (and then removes the file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        resumed = other_data.fit(X)
        whole = DenoisingAutoencoder(8, solver="adam", max_iter=6, random_state=0).fit(X)
    assert_same_model(resumed, whole)
    assert not (tmp_path / "fit.npz").exists()


def test_checkpoint_files_load_without_pickle(digits, tmp_path):
    ae = DenoisingAutoencoder(8, solver="adam", max_iter=4, random_state=0)
    ae.set_params(callbacks=[Interrupt(2), Checkpoint(tmp_path, every=1)])
    with pytest.raises(RuntimeError):
        ae.fit(digits[0])
    with np.load(tmp_path / "fit.npz", allow_pickle=False) as archive:
        assert "meta" in archive.files and archive["state.theta"].dtype == np.float64
    assert [p.name for p in tmp_path.iterdir()] == ["fit.npz"]  # no temporary file left
    assert os.path.getsize(tmp_path / "fit.npz") > 0


@pytest.mark.parametrize("phases", ["own", "all"])
def test_epoch_score_scores_the_layers_of_a_stack_only_when_asked(digits, phases):
    X = digits[0]

    def held_out_error(model, X, y):
        return float(np.mean((model.inverse_transform(model.transform(X)) - X) ** 2))

    # one layer: an upper layer's model reads codes, not X (why "own" is the default)
    stack = StackedAutoencoder(
        [("ae1", TiedAutoencoder(8, max_iter=3))],
        fine_tune_max_iter=2,
        callbacks=[EpochScore(held_out_error, X[200:], name="error", phases=phases)],
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        stack.fit(X[:200])
    assert all("error" in entry for entry in stack.history_)
    layer_scored = ["error" in entry for ae in stack.autoencoders_ for entry in ae.history_]
    assert layer_scored == [phases == "all"] * 3


def test_the_outlier_detector_passes_its_callbacks_to_its_autoencoder(digits):
    from skae import AutoencoderOutlierDetector

    recorder = Recorder()
    detector = AutoencoderOutlierDetector(
        DenoisingAutoencoder(8, solver="adam", max_iter=3), random_state=0, callbacks=[recorder]
    )
    with pytest.warns(ConvergenceWarning, match="autoencoder__max_iter"):
        detector.fit(digits[0])
    assert recorder.events[0][:2] == ("begin", "autoencoder__fit")
    assert [event[2] for event in recorder.events if event[0] == "epoch"] == [1, 2, 3]
    assert detector.autoencoder_.callbacks is None  # the fitted copy keeps none of them


def reconstruction_error(model, X, y):
    return float(np.mean((model.inverse_transform(model.transform(X)) - X) ** 2))


def test_an_estimator_whose_callbacks_have_run_clones_and_pickles(digits, tmp_path):
    import pickle

    X = digits[0]
    score = EpochScore(reconstruction_error, X)  # a module-level function pickles
    callbacks = [ProgressBar(file=io.StringIO()), score, Checkpoint(tmp_path / "c")]
    ae = TiedAutoencoder(8, solver="adam", max_iter=2, random_state=0, callbacks=callbacks)
    with pytest.warns(ConvergenceWarning):
        ae.fit(X)
    copied = clone(ae)  # a used progress bar holds a closed tqdm bar while it runs
    assert copied.callbacks[1].X is X  # parameters shared, not duplicated
    restored = pickle.loads(pickle.dumps(ae))
    np.testing.assert_array_equal(restored.transform(X), ae.transform(X))
    clone(TiedAutoencoder(8, callbacks=[ProgressBar(file=sys.stderr)]))  # a stream is shared
