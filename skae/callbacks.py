"""Callbacks: watch, score, stop and resume training.

Every skae estimator takes a ``callbacks`` list. A callback is any object with some of
these methods (the names Keras and skorch use), each called with one ``info`` dict:

=====================  ===================================================================
``on_train_begin``     once, before the first epoch of a training phase
``on_epoch_begin``     before each epoch (each iteration of a full-batch solver)
``on_batch_begin``     before each minibatch
``on_epoch_end``       after each epoch; returning True ends the training normally,
                       keeping that epoch
``on_train_end``       once, however the phase ended (``info["status"]``)
``on_fit_end()``       once, after a whole ``fit`` that ended cleanly (no ``info``)
=====================  ===================================================================

``info`` holds ``epoch`` (epochs completed, counted over warm starts), ``n_epochs``
(the phase's budget), ``loss``, ``validation_score`` (None without validation rows),
``elapsed`` (seconds), ``estimator`` (its class, and where it sits in its owner),
``phase`` ("fit"; a stack's layers "ae1__fit", ..., then "fine_tune"; a classifier's
"autoencoder__..." then "fine_tune"), ``figures`` (this epoch's entry of the fitted
``history_``, where a callback may add its own figures) and ``model`` (call it:
``info["model"]()`` returns a fitted copy of the estimator as of this epoch). A stack
or a classifier passes its callbacks to the training of its layers too.

Every epoch's figures are recorded whatever the callbacks: the fitted attribute
``history_`` is a list of dicts (``epoch``, ``loss``, ``elapsed`` and, where there are
some, ``validation_score``, ``learning_rate`` and the scores of :class:`EpochScore`).

Built in: :class:`ProgressBar`, :class:`EpochScore`, :class:`Checkpoint`.
"""

import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["Checkpoint", "EpochScore", "ProgressBar"]


class _Callback:
    """A callback's state lives while a fit runs: a copy (``clone`` copies the
    ``callbacks`` parameter) or a pickle holds its parameters only, and shares them
    (a validation set or a stream is not duplicated)."""

    def __getstate__(self):
        return {name: value for name, value in self.__dict__.items() if not name.startswith("_")}

    def __deepcopy__(self, memo):
        copied = type(self).__new__(type(self))
        copied.__dict__.update(self.__getstate__())
        return copied


class ProgressBar(_Callback):
    """A progress bar for each training phase, with the time left.

    It uses ``tqdm`` when it is installed (``pip install skae[progress]``), a plain line
    otherwise. Each phase gets its own bar, named after the estimator and the phase, so
    that a stack's greedy pretraining shows which layer is training; it ends with how
    the phase ended ("converged" when early stopping ended it before ``max_iter``).

    Parameters
    ----------
    file : file object, default=None
        Where to write; None is standard error.
    backend : {"auto", "tqdm", "plain"}, default="auto"
        "auto" is tqdm where it is importable.
    min_interval : float, default=0.5
        Seconds between two updates of the plain line (tqdm has its own).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoencoder
    >>> from skae.callbacks import ProgressBar
    >>> import io
    >>> X = load_digits().data / 16
    >>> stream = io.StringIO()  # None: standard error
    >>> bar = ProgressBar(file=stream, backend="plain", min_interval=0)
    >>> ae = DenoisingAutoencoder(16, solver="adam", max_iter=3, callbacks=[bar])
    >>> ae = ae.fit(X)  # three epochs: a ConvergenceWarning says so
    >>> stream.getvalue().splitlines()[-1].split(",")[0]  # the line, rewritten each epoch
    'DenoisingAutoencoder: epoch 3/3'
    """

    def __init__(self, file=None, backend="auto", min_interval=0.5):
        self.file = file
        self.backend = backend
        self.min_interval = min_interval

    def _tqdm(self):
        if self.backend == "plain":
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            if self.backend == "tqdm":
                raise ImportError(
                    "ProgressBar(backend='tqdm') needs tqdm: pip install skae[progress]"
                ) from None
            return None
        return tqdm

    def on_train_begin(self, info):
        self._label = info.get("estimator", "training")
        step = info.get("phase", "fit").rsplit("__", 1)[-1]  # the estimator names the layer
        if step != "fit":
            self._label += f" {step}"
        self._start, self._last = time.perf_counter(), -math.inf
        self._done = 0
        tqdm = self._tqdm()
        self._bar = None
        if tqdm is not None:
            self._bar = tqdm(
                total=info["n_epochs"],
                initial=info["run_epoch"],
                desc=self._label,
                unit="epoch",
                file=self.file,
                leave=True,
            )

    def on_epoch_end(self, info):
        done, total = info["run_epoch"] + 1, info["n_epochs"]
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
            self._bar.set_postfix(loss=f"{info['loss']:.4g}", refresh=False)
            return
        now = time.perf_counter()
        self._done += 1  # epochs of this process (a resumed fit has run others before)
        if now - self._last < self.min_interval and done < total:
            return
        self._last = now
        elapsed = now - self._start
        left = elapsed / self._done * (total - done)
        line = f"{self._label}: epoch {done}/{total}, loss {info['loss']:.4g}"
        if info.get("validation_score") is not None:
            line += f", validation {info['validation_score']:.4g}"
        self._write(f"\r{line}, {elapsed:.1f}s, left ~{left:.1f}s")

    def on_train_end(self, info):
        # how training ended, on both backends: a bar stopped early (converged) at 5%
        # of its epochs would otherwise look like a crash
        status = info.get("status")
        if self._bar is not None:
            if status:
                postfix = self._bar.postfix
                self._bar.set_postfix_str(f"{postfix}, {status}" if postfix else status)
            self._bar.close()
        else:
            self._write(f" ({status})\n" if status else "\n")

    def _write(self, text):
        file = self.file if self.file is not None else sys.stderr
        file.write(text)
        file.flush()


class EpochScore(_Callback):
    """A score of the model on data of your choice, after every ``every`` epochs.

    The score goes into the fitted ``history_`` under ``name`` (and into
    ``info["figures"]`` for the callbacks that run after this one).

    Parameters
    ----------
    scoring : str or callable
        A scikit-learn scorer name (for a classifier: "accuracy", ...) or a callable
        ``scoring(model, X, y)`` returning a float, as scikit-learn's scorers take them;
        ``model`` is a fitted copy of the estimator as of the epoch.
    X : array-like
        The data to score on, usually rows held out of the training data.
    y : array-like, default=None
    name : str, default=None
        The figure's name in ``history_``: the scorer's name by default.
    every : int, default=1
        Score after every ``every`` epochs (a score can cost more than an epoch).
    phases : "own" or "all", default="own"
        "own" scores the training of the estimator whose ``callbacks`` hold this one
        only (a classifier's fine-tuning, not the pretraining of its autoencoder, whose
        model has no ``predict``); "all" scores every phase, the layers' too.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoencoder
    >>> from skae.callbacks import EpochScore
    >>> X = load_digits().data / 16
    >>> def held_out_error(model, X, y):
    ...     return float(np.mean((model.inverse_transform(model.transform(X)) - X) ** 2))
    >>> score = EpochScore(held_out_error, X[1500:])
    >>> ae = DenoisingAutoencoder(16, max_iter=3, random_state=0, callbacks=[score])
    >>> ae = ae.fit(X[:1500])
    >>> errors = [entry["held_out_error"] for entry in ae.history_]
    >>> len(errors), errors[-1] < errors[0]
    (3, True)
    """

    def __init__(self, scoring, X, y=None, name=None, every=1, phases="own"):
        self.scoring = scoring
        self.X = X
        self.y = y
        self.name = name
        self.every = every
        self.phases = phases

    def _scorer(self):
        if isinstance(self.scoring, str):
            from sklearn.metrics import get_scorer

            return get_scorer(self.scoring)
        return self.scoring

    @property
    def figure_name(self):
        """The name of the figure in ``history_``."""
        if self.name is not None:
            return self.name
        if isinstance(self.scoring, str):
            return self.scoring
        return getattr(self.scoring, "__name__", "score")

    def on_epoch_end(self, info):
        if (info["run_epoch"] + 1) % self.every:
            return
        own = any(callback is self for callback in info.get("own_callbacks", [self]))
        if self.phases == "own" and not own:
            return
        value = float(self._scorer()(info["model"](), self.X, self.y))
        info["figures"][self.figure_name] = value


class Checkpoint(_Callback):
    """Save the whole training state every ``every`` epochs; resume a killed fit from it.

    As Keras's ``BackupAndRestore``: with ``callbacks=[Checkpoint(path)]``, every
    ``every`` epochs the parameters, the optimiser's state, the history, the random
    generator's state and the epoch are written to one file per training phase in the
    folder ``path``. Running the same fit again with the same callback after the process
    died (a kill, the out-of-memory killer, a lost session) continues from the last
    checkpoint instead of starting over, and ends bit-identical to the same fit run
    without interruption (with a fixed ``random_state``). A phase that finished (a
    stack's first layer, say) is restored as it ended without training again. A fit
    that ends cleanly removes its files.

    Writes are atomic (a temporary file, flushed, synced and renamed: a kill during a
    write leaves the previous checkpoint intact) in NumPy's ``.npz`` format with the
    scalars as JSON, loaded without pickle. A checkpoint written by another
    configuration (any parameter that changes training) or other data is refused with an
    error, never silently used.

    L-BFGS and CG keep an internal memory that cannot be saved: with a checkpoint they
    restart every ``every`` iterations (``restart_every``), so that a resumed fit makes
    the same restarts; the result then differs slightly from a fit without the
    checkpoint (with noise they restart at each new draw anyway, and are saved then).

    Parameters
    ----------
    path : str or path-like
        A folder (created if needed) for the checkpoint files.
    every : int, default=1
        Save after every ``every`` epochs (iterations).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoencoder
    >>> from skae.callbacks import Checkpoint
    >>> X = load_digits().data / 16
    >>> ae = DenoisingAutoencoder(16, max_iter=5, random_state=0,
    ...                           callbacks=[Checkpoint("ae-checkpoints", every=2)])
    >>> ae = ae.fit(X)  # killed half-way, the same line resumes  # doctest: +SKIP
    """

    runs_last = True  # after the callbacks that add figures to the epoch it saves

    def __init__(self, path, every=1):
        self.path = path
        self.every = every

    @property
    def restart_every(self):
        """The rounds of a full-batch solver (see the class's docstring)."""
        return self.every

    def file(self, phase):
        """The checkpoint file of one training phase."""
        return Path(self.path) / f"{phase}.npz"

    def on_train_begin(self, info):
        file = self.file(info["phase"])
        self._used = getattr(self, "_used", set())
        self._used.add(file)
        self._fingerprint = info["fingerprint"]()
        if not file.exists():
            return
        meta, arrays = _load(file)
        run = info["run"]
        if meta["fingerprint"] != self._fingerprint or meta["run"] != type(run).__name__:
            raise ValueError(
                f"The checkpoint {file} was written by another configuration of "
                f"{info['estimator']} or for other data (its parameters, X or y differ), "
                "so it cannot be resumed. Remove it, or give Checkpoint another path."
            )
        run.restore(_decode(meta["state"], arrays))
        if meta["status"] is not None:  # the phase had ended: nothing left to train
            run.finished = meta["status"]

    def on_epoch_end(self, info):
        if info["run"].checkpoint_due(self.every):
            self._save(info, None)

    def on_train_end(self, info):
        if info["status"] in ("converged", "max_iter", "diverged"):
            self._save(info, info["status"])

    def on_fit_end(self):
        """The whole fit ended cleanly: its checkpoints are not needed any more."""
        for file in getattr(self, "_used", ()):
            file.unlink(missing_ok=True)
        self._used = set()
        try:
            Path(self.path).rmdir()  # only if empty: other files are not ours
        except OSError:
            pass

    def _save(self, info, status):
        arrays = {}
        meta = {
            "fingerprint": self._fingerprint,
            "run": type(info["run"]).__name__,
            "status": status,
            "state": _encode(info["run"].state(), arrays, "state"),
        }
        file = self.file(info["phase"])
        file.parent.mkdir(parents=True, exist_ok=True)
        temporary = file.with_name(f"{file.name}.{os.getpid()}.tmp")
        with open(temporary, "wb") as stream:
            np.savez(stream, meta=np.array(json.dumps(meta)), **arrays)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, file)  # atomic: the old checkpoint or the new one, never half


def _encode(value, arrays, name):
    """``value`` as JSON, its arrays moved into ``arrays`` (NumPy scalars keep their type)."""
    if isinstance(value, np.ndarray):
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, np.generic):
        return {"__scalar__": value.dtype.str, "value": value.item()}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays, f"{name}.{i}") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, arrays, f"{name}.{i}") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {key: _encode(v, arrays, f"{name}.{key}") for key, v in value.items()}
    return value


def _decode(value, arrays):
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    if not isinstance(value, dict):
        return value
    if "__array__" in value:
        return arrays[value["__array__"]]
    if "__scalar__" in value:
        return np.dtype(value["__scalar__"]).type(value["value"])
    if "__tuple__" in value:
        return tuple(_decode(v, arrays) for v in value["__tuple__"])
    return {key: _decode(v, arrays) for key, v in value.items()}


def _load(file):
    with np.load(file, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files if key != "meta"}
        meta = json.loads(str(archive["meta"]))
    return meta, arrays
