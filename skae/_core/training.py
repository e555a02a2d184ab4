"""The training engine that every skae model trains through: full batch and minibatch.

:func:`train` takes a :class:`~skae._core.network.Network`, a flat parameter vector
``theta`` that it updates in place, the data (:class:`TrainingData`), the solver's
settings (:class:`SolverSettings`), a :class:`TrainingHistory` that it extends, and
callbacks; it returns how training ended, one of ``STATUSES`` (the estimators turn that
into warnings).

Callbacks are any objects with some of these methods, called with one ``info`` dict::

    on_train_begin(info)    once, before the first epoch
    on_epoch_begin(info)    before each epoch (iteration of a full-batch solver)
    on_batch_begin(info)    before each minibatch
    on_epoch_end(info)      after each epoch; returning True ends training normally,
                            keeping that epoch
    on_train_end(info)      once, however training ended (``info["status"]``)

``info`` carries ``epoch`` (epochs completed, counted over warm starts), ``n_epochs``
(this fit's budget), ``loss``, ``validation_score`` (None without validation rows),
``elapsed`` (seconds), ``figures`` (this epoch's record in the history, where a callback
may add its own figures), ``history``, ``network``, ``params`` (``theta``, read only),
``optimizer`` and ``run`` (the running loop, whose :meth:`MinibatchRun.state` a
checkpoint saves), and whatever the caller puts in ``context`` (the estimators add its
label, phase and a fitted copy of the model so far). The step-size schedule, the
sparsity annealing, the stopping rule and the verbose line are such callbacks too
(:class:`CosineStepSize`, :class:`SparsityAnnealing`, :class:`StoppingRule`,
:class:`PrintProgress`).

What stays in the engine, transactional: a non-finite loss or a KeyboardInterrupt after
at least one completed epoch (iteration) puts ``theta``, the optimiser and the history
back as they were at the end of the last completed epoch (the best epoch under early
stopping), with status "diverged" or "interrupted". An interrupt before that, or any
other error, propagates.
"""

import contextlib
import functools
import math
import os
import threading
import time
import warnings
from dataclasses import dataclass

import numpy as np
import scipy
import scipy.optimize
from threadpoolctl import ThreadpoolController

from .optimizers import OPTIMIZERS

FULL_BATCH_METHODS = {"lbfgs": "L-BFGS-B", "cg": "CG"}
STATUSES = ("converged", "max_iter", "diverged", "interrupted")
# How a minibatch solver's step size moves over a fit: kept at its initial value, or
# annealed to zero along half a cosine over the max_iter epochs (batch by batch).
LEARNING_RATE_SCHEDULES = ("constant", "cosine")

# With noise, a full-batch solver sees one fixed corruption per run of this many
# iterations (a line search needs a fixed objective), then a fresh draw.
NOISE_REDRAW_ITERATIONS = 10
# noise rounds whose ends the relative stopping test of a full-batch run compares
NOISE_STALLED_ROUNDS = 3


@dataclass
class TrainingData:
    """What a network is trained on.

    Attributes
    ----------
    x : ndarray or sparse matrix
        Training rows (any validation rows already taken out).
    target : ndarray, optional
        What the network should output; None: reconstruct ``x``.
    corruption : Corruption, optional
        Noise on the input: a fresh draw for every minibatch of every epoch, or held
        fixed for runs of ``NOISE_REDRAW_ITERATIONS`` full-batch iterations.
    dropout : Dropout, optional
        Fresh masks for every minibatch (minibatch solvers only).
    chunk_size : int, optional
        Rows per block of a full-batch evaluation (bounded memory).
    validation : callable, optional
        ``validation(theta)`` returns a score, higher is better; a minibatch run stops
        on it and keeps the best parameters.
    """

    x: object
    target: object = None
    corruption: object = None
    dropout: object = None
    chunk_size: object = None
    validation: object = None


@dataclass
class SolverSettings:
    """How a network is trained.

    Attributes
    ----------
    solver : {"adam", "sgd", "lbfgs", "cg"}
    max_iter : int
        Epochs (minibatch) or iterations (full batch).
    tol : float
        Gradient tolerance of a full-batch solver; the improvement an epoch must make
        to count as one for a minibatch solver.
    n_iter_no_change : int
        Epochs without improvement that end a minibatch run.
    relative_tol : float, optional
        Replaces the rule above (and adds one to the full-batch solvers): stop once the
        best loss (or validation score) so far has improved by less than
        ``relative_tol`` of itself over the last ``n_iter_no_change`` epochs (see
        :func:`_stalled`).
    learning_rate, momentum : float
        Step size of "adam" and "sgd"; Nesterov momentum of "sgd".
    schedule : {"constant", "cosine"}
        See :class:`CosineStepSize`.
    batch_size : int
    sparsity_start : dict, optional
        ``{layer index: level}``: see :class:`SparsityAnnealing`.
    """

    solver: str
    max_iter: int
    tol: float = 1e-4
    n_iter_no_change: int = 10
    relative_tol: float = None
    learning_rate: float = 0.001
    momentum: float = 0.9
    schedule: str = "constant"
    batch_size: int = 200
    sparsity_start: dict = None


class TrainingHistory:
    """What training leaves behind, and what a later call (warm start) continues from.

    Attributes
    ----------
    n_iter : int
        Iterations (full batch) or epochs (minibatch) run so far.
    loss_curve : list of float
    records : list of dict
        One per epoch: every figure of it (epoch, loss, validation score, elapsed
        seconds, step size, and what callbacks added).
    best_loss : float
    validation_scores : list of float or None
    best_validation_score : float or None
    no_improvement_count : int
    best_so_far : list of float
        This fit's best loss (minus the best validation score) after each epoch, what
        the relative stopping rule compares.
    optimizer : object or None
        The minibatch optimiser, whose state a ``partial_fit`` continues.
    """

    def __init__(self, early_stopping=False):
        self.n_iter = 0
        self.loss_curve = []
        self.records = []
        self.optimizer = None
        self.reset_stopping(early_stopping)

    def __setstate__(self, state):
        # a history pickled before records and best_so_far existed
        self.__dict__.update(records=[], best_so_far=[])
        self.__dict__.update(state)

    def reset_stopping(self, early_stopping):
        """Every fit starts its own stopping bookkeeping."""
        self.best_loss = np.inf
        self.no_improvement_count = 0
        self.best_so_far = []
        self.validation_scores = [] if early_stopping else None
        self.best_validation_score = -np.inf if early_stopping else None

    def _scalars(self):
        return (
            self.n_iter,
            len(self.loss_curve),
            len(self.records),
            len(self.best_so_far),
            None if self.validation_scores is None else len(self.validation_scores),
            self.best_loss,
            self.best_validation_score,
            self.no_improvement_count,
        )

    def _roll_back(self, scalars):
        n_iter, n_losses, n_records, n_bests, n_scores, best_loss, best_score, count = scalars
        self.n_iter = n_iter
        del self.loss_curve[n_losses:]
        del self.records[n_records:]
        del self.best_so_far[n_bests:]
        if n_scores is not None:
            del self.validation_scores[n_scores:]
        self.best_loss, self.best_validation_score = best_loss, best_score
        self.no_improvement_count = count


def _finite(value, grad):
    # one BLAS pass: any NaN or inf in grad makes its squared norm non-finite
    return bool(np.isfinite(value) and np.isfinite(np.vdot(grad, grad)))


def _stalled(losses, n_iter_no_change, relative_tol, tol=0.0):
    """Whether the last ``n_iter_no_change`` steps gained too little to go on.

    Too little: less than ``relative_tol`` of the loss, or less than ``tol`` a step on
    average. The first makes the test independent of the loss's scale; the second
    ends a loss that keeps halving towards 0 (a classifier on a few separable rows),
    which no relative test ever calls converged, as scikit-learn's ``tol`` does.
    """
    if len(losses) <= n_iter_no_change:
        return False
    gained = losses[-1 - n_iter_no_change] - losses[-1]
    return gained < max(relative_tol * abs(losses[-1]), tol * n_iter_no_change)


# -- the engine's own callbacks ----------------------------------------------------------
class Hooks:
    """Callbacks of one run, each event's bound methods looked up once (a minibatch's
    hook call then costs a list walk, not an attribute search)."""

    EVENTS = ("on_train_begin", "on_epoch_begin", "on_batch_begin", "on_epoch_end", "on_train_end")

    def __init__(self, callbacks):
        self.methods = {
            event: [getattr(cb, event) for cb in callbacks if callable(getattr(cb, event, None))]
            for event in self.EVENTS
        }

    def __call__(self, event, info):
        """Call ``event`` on every callback; True if any of them asked to stop."""
        stop = False
        for method in self.methods[event]:
            stop = bool(method(info)) or stop
        return stop


class StoppingRule:
    """Early stopping: ends a fit whose loss (or validation score) no longer improves.

    With ``relative_tol`` the windowed test of :func:`_stalled` on the best so far;
    without, scikit-learn's rule (``n_iter_no_change`` epochs in a row not improving
    on the best by ``tol``). A ``partial_fit`` epoch is never stopped.
    """

    def __init__(self, tol, n_iter_no_change, relative_tol):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.relative_tol = relative_tol

    def on_epoch_end(self, info):
        history = info["history"]
        if self.relative_tol is not None:
            return _stalled(
                history.best_so_far, self.n_iter_no_change, self.relative_tol, self.tol
            )
        return history.no_improvement_count >= self.n_iter_no_change


class CosineStepSize:
    """Anneals the step size from ``learning_rate`` to zero along half a cosine over the
    fit's epochs, ``learning_rate * (1 + cos(pi * t / T)) / 2`` before batch t of T."""

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    def on_batch_begin(self, info):
        n_batches = info["n_batches"]
        progress = (info["run_epoch"] * n_batches + info["batch"]) / (info["n_epochs"] * n_batches)
        info["optimizer"].learning_rate = (
            self.learning_rate * (1 + math.cos(math.pi * progress)) / 2
        )


def annealed_sparsity_level(start, end, epoch, n_epochs):
    """The sparsity level before epoch ``epoch`` (counted from 0) of a fit of ``n_epochs``.

    Linear from ``start`` to ``end`` over the first half of the epochs, then ``end``, as
    the k-sparse paper schedules k (Makhzani & Frey 2013: a large k at first gives every
    unit a chance to be selected and trained, which avoids dead units)::

        level(e) = start + (end - start) * min(1, e / (n_epochs / 2))

    The level is k for top-k (the selection rounds it) and the kept share of rows for
    winner-take-all.
    """
    progress = min(1.0, epoch / (n_epochs / 2))
    return start + (end - start) * progress


class SparsityAnnealing:
    """Anneals the mask sparsity (top-k, winner-take-all) of some layers, from a start
    level at the first epoch to the level each layer holds on entry, its target, along
    :func:`annealed_sparsity_level`. The layers hold their target again when training
    ends, however it ends, so that transform and a later ``partial_fit`` see it.

    Parameters
    ----------
    network : Network
    sparsity_start : dict
        ``{layer index: start level}``.
    """

    def __init__(self, network, sparsity_start):
        # (selection, start level, target level) of each annealed layer
        self.annealed = []
        for index, start_level in sparsity_start.items():
            selection = network.layers[index].sparsity
            self.annealed.append((selection, start_level, selection.level))

    def on_epoch_begin(self, info):
        for selection, start_level, target_level in self.annealed:
            selection.level = annealed_sparsity_level(
                start_level, target_level, info["run_epoch"], info["n_epochs"]
            )

    def on_train_end(self, info):
        for selection, _, target_level in self.annealed:
            selection.level = target_level


class PrintProgress:
    """``verbose``: one line per epoch (iteration) on standard output."""

    def on_epoch_end(self, info):
        if info["n_batches"] is None:  # a full-batch iteration
            print(
                f"Iteration {info['epoch']}, loss = {info['loss']:.6f}, "
                f"elapsed {info['elapsed']:.1f}s"
            )
            return
        message = f"Epoch {info['epoch']}, loss = {info['loss']:.6f}"
        if info["validation_score"] is not None:
            message += f", validation score = {info['validation_score']:.6f}"
        elapsed, done = info["elapsed"], info["run_epoch"] + 1
        left = elapsed / done * (info["n_epochs"] - done)
        print(f"{message}, elapsed {elapsed:.1f}s, left ~{left:.1f}s", flush=True)


# -- the loops ---------------------------------------------------------------------------
def train(
    network,
    theta,
    data,
    settings,
    *,
    history,
    rng,
    incremental=False,
    callbacks=(),
    context=None,
):
    """Train ``network`` from ``theta`` (updated in place) with the solver of ``settings``.

    Parameters
    ----------
    network : Network
    theta : ndarray
    data : TrainingData
    settings : SolverSettings
    history : TrainingHistory
        Extended in place; its optimiser is reused by an ``incremental`` epoch.
    rng : numpy.random.Generator
        Shuffles the rows and draws the noise seeds.
    incremental : bool
        One epoch, continuing the optimiser's state (``partial_fit``): no horizon for
        the step-size schedule or the sparsity annealing, never stopped early.
    callbacks : sequence
        See the module's docstring; those with a true ``runs_last`` attribute (a
        checkpoint) run after the others.
    context : dict, optional
        Entries added to every ``info``.

    Returns
    -------
    status : str
        One of ``STATUSES``.
    """
    callbacks = sorted(callbacks, key=lambda cb: bool(getattr(cb, "runs_last", False)))
    run_class = MinibatchRun if settings.solver in OPTIMIZERS else FullBatchRun
    run = run_class(network, theta, data, settings, history, rng, incremental)
    # overflow is detected and handled (status "diverged"): no NumPy warnings
    with np.errstate(over="ignore", invalid="ignore"):
        status = run.run(callbacks, context or {})
    if history.optimizer is not None:
        history.optimizer.params = None  # keep the state, not a stale parameter vector
    return status


class _Run:
    """What both loops share: the info passed to callbacks and the epoch's record."""

    n_batches = None  # a full-batch run has none

    def __init__(self, network, theta, data, settings, history, rng, incremental):
        self.network, self.theta, self.data, self.settings = network, theta, data, settings
        self.history, self.rng, self.incremental = history, rng, incremental
        self.n_epochs = 1 if incremental else settings.max_iter
        self.epochs_done = 0  # completed epochs of this run
        self.start = None
        # the status of a run that a checkpoint restored as finished: nothing left to do
        self.finished = None

    def _info(self, callbacks, context):
        self.start = time.perf_counter()
        self.hooks = Hooks(list(self._engine_callbacks()) + list(callbacks))
        self.info = {
            **context,
            "epoch": self.history.n_iter,
            "run_epoch": 0,
            "n_epochs": self.n_epochs,
            "batch": 0,
            "n_batches": self.n_batches,
            "loss": None,
            "validation_score": None,
            "elapsed": 0.0,
            "figures": None,
            "status": None,
            "solver": self.settings.solver,
            "history": self.history,
            "network": self.network,
            "params": self.theta,
            "optimizer": self.history.optimizer,
            "run": self,
        }
        return self.info

    def _record(self, loss, score, learning_rate=None):
        """Add the completed epoch to the history and to ``info``."""
        history, info = self.history, self.info
        history.n_iter += 1
        history.loss_curve.append(loss)
        figures = {"epoch": history.n_iter, "loss": loss}
        if score is not None:
            figures["validation_score"] = score
        if learning_rate is not None:
            figures["learning_rate"] = learning_rate
        info["elapsed"] = figures["elapsed"] = time.perf_counter() - self.start
        history.records.append(figures)
        info.update(
            epoch=history.n_iter,
            run_epoch=self.epochs_done,
            loss=loss,
            validation_score=score,
            figures=figures,
        )

    def _end(self, status):
        self.info["status"] = status
        self.hooks("on_train_end", self.info)
        return status


class MinibatchRun(_Run):
    """Shuffled minibatches with SGD or Adam (:data:`OPTIMIZERS`)."""

    def __init__(self, network, theta, data, settings, history, rng, incremental):
        super().__init__(network, theta, data, settings, history, rng, incremental)
        optimizer = history.optimizer
        if (
            not incremental  # a new fit starts a new optimiser, as sklearn's MLP does
            or not isinstance(optimizer, OPTIMIZERS[settings.solver])
            or optimizer.dtype != theta.dtype
        ):
            kwargs = {"momentum": settings.momentum} if settings.solver == "sgd" else {}
            optimizer = OPTIMIZERS[settings.solver](
                theta, learning_rate=settings.learning_rate, **kwargs
            )
        optimizer.params = theta
        # a Python float: a NumPy scalar would run the float32 updates in float64 (NEP 50)
        optimizer.learning_rate = float(
            settings.learning_rate
        )  # a reused one may hold a decayed one
        history.optimizer = self.optimizer = optimizer
        self.n_batches = -(-data.x.shape[0] // settings.batch_size)
        self.best_theta = theta.copy() if data.validation is not None else None

    def _engine_callbacks(self):
        settings = self.settings
        if settings.schedule == "cosine" and not self.incremental:
            yield CosineStepSize(float(settings.learning_rate))
        if settings.sparsity_start and not self.incremental:
            yield SparsityAnnealing(self.network, settings.sparsity_start)

    def _stopping_callbacks(self):
        if not self.incremental:
            settings = self.settings
            yield StoppingRule(settings.tol, settings.n_iter_no_change, settings.relative_tol)

    # -- checkpoints -------------------------------------------------------------------
    def checkpoint_due(self, every):
        """Whether a checkpoint saving every ``every`` epochs saves this one."""
        return (self.epochs_done) % every == 0

    def state(self):
        """Everything the rest of this run depends on, as arrays and plain values.

        Restoring it (:meth:`restore`) into the same run at its start continues exactly
        where the run was when it was taken: parameters, optimiser, history, random
        generator, epoch.
        """
        history = self.history
        return {
            "theta": self.theta.copy(),
            "best_theta": None if self.best_theta is None else self.best_theta.copy(),
            "optimizer": self.optimizer.snapshot(),
            "rng": self.rng.bit_generator.state,
            "epochs_done": self.epochs_done,
            "n_iter": history.n_iter,
            "loss_curve": list(history.loss_curve),
            "records": [dict(record) for record in history.records],
            "best_so_far": list(history.best_so_far),
            "validation_scores": None
            if history.validation_scores is None
            else list(history.validation_scores),
            "best_loss": history.best_loss,
            "best_validation_score": history.best_validation_score,
            "no_improvement_count": history.no_improvement_count,
        }

    def restore(self, state):
        """Continue from :meth:`state` (called from ``on_train_begin``)."""
        history = self.history
        self.theta[...] = state["theta"]
        if self.best_theta is not None:
            self.best_theta[...] = state["best_theta"]
        self.optimizer.restore(state["optimizer"])
        self.rng.bit_generator.state = state["rng"]
        self.epochs_done = state["epochs_done"]
        history.n_iter = state["n_iter"]
        history.loss_curve[:] = state["loss_curve"]
        history.records[:] = state["records"]
        history.best_so_far[:] = state["best_so_far"]
        if history.validation_scores is not None:
            history.validation_scores[:] = state["validation_scores"]
        history.best_loss = state["best_loss"]
        history.best_validation_score = state["best_validation_score"]
        history.no_improvement_count = state["no_improvement_count"]
        self.info.update(epoch=history.n_iter, run_epoch=self.epochs_done)

    # -- the loop ----------------------------------------------------------------------
    def run(self, callbacks, context):
        theta, history, optimizer = self.theta, self.history, self.optimizer
        info = self._info(callbacks, context)
        stopping = Hooks(list(self._stopping_callbacks()))
        completed = False  # an interrupt before the first completed epoch propagates
        try:
            self.hooks("on_train_begin", info)  # a checkpoint may resume the run here
            if self.finished is not None:
                return self._end(self.finished)
            completed = self.epochs_done > 0
            # what divergence or an interrupt goes back to: the end of the last completed
            # epoch (taken before the callbacks, so that an interrupt there keeps it whole)
            committed_theta = theta.copy()
            committed = (optimizer.snapshot(), history._scalars())
            while self.epochs_done < self.n_epochs:
                info["run_epoch"] = self.epochs_done
                self.hooks("on_epoch_begin", info)
                loss = self._epoch()
                if loss is None or not self._validate():
                    self._go_back(committed_theta, committed)
                    return self._end("diverged")
                self._bookkeep(loss)
                self.epochs_done += 1
                committed_theta[...] = theta
                committed = (optimizer.snapshot(), history._scalars())
                completed = True
                stop = self.hooks("on_epoch_end", info)
                if stopping("on_epoch_end", info) or stop:
                    self._keep_best()
                    return self._end("converged")
        except KeyboardInterrupt:
            if not completed:
                raise
            self._go_back(committed_theta, committed)
            return self._end("interrupted")
        except BaseException:
            self._end(None)
            raise
        self._keep_best()
        return self._end("converged" if self.incremental else "max_iter")

    def _epoch(self):
        """One pass over shuffled minibatches: the mean loss, or None if it diverged."""
        network, theta, data, info = self.network, self.theta, self.data, self.info
        x, corruption, dropout = data.x, data.corruption, data.dropout
        n_samples, batch_size = x.shape[0], self.settings.batch_size
        grad = np.empty_like(theta)
        order = self.rng.permutation(n_samples)
        if corruption is not None:
            corruption.reseed(self.rng)
        if dropout is not None:
            dropout.reseed(self.rng)
        batch_hooks = self.hooks.methods["on_batch_begin"]
        total = 0.0
        for batch_index, batch_start in enumerate(range(0, n_samples, batch_size)):
            if batch_hooks:
                info["batch"] = batch_index
                self.hooks("on_batch_begin", info)
            rows = order[batch_start : batch_start + batch_size]
            batch = x[rows]
            # each batch its own draw: the key is the batch's position in the epoch
            corrupt = None
            if corruption is not None:
                corrupt = lambda block, _, key=batch_start: corruption(block, key)  # noqa: E731
            if dropout is not None:
                dropout.batch = batch_start
            value = network.objective(
                theta,
                batch,
                grad,
                corrupt=corrupt,
                target=None if data.target is None else data.target[rows],
                dropout=dropout,
                include_weight_decay=False,
            )
            if not _finite(value, grad):
                return None
            # the weight decay joins the gradient in the step: one pass over the
            # parameters with skae[fast] (its value is that of theta before the step)
            value += self.optimizer.step(grad, network.weight_decay_ranges)
            if not math.isfinite(value):
                return None
            total += value * batch.shape[0]
        return total / n_samples

    def _validate(self):
        """Score the epoch on the validation rows; False if the score is not finite."""
        self.score = None  # no validation rows
        if self.data.validation is not None:
            self.score = float(self.data.validation(self.theta))
            if not np.isfinite(self.score):
                return False
        return True

    def _bookkeep(self, loss):
        """The history's figures and the stopping bookkeeping of a completed epoch."""
        history, score, tol = self.history, self.score, self.settings.tol
        self._record(loss, score, self.optimizer.learning_rate)
        if score is not None:
            history.validation_scores.append(score)
            improved = score > history.best_validation_score + tol
            if score > history.best_validation_score:
                history.best_validation_score = score
                self.best_theta[...] = self.theta
        else:
            improved = loss < history.best_loss - tol
        history.best_loss = min(history.best_loss, loss)
        history.no_improvement_count = 0 if improved else history.no_improvement_count + 1
        # the best so far as a loss (lower is better), for the relative window test
        history.best_so_far.append(
            -history.best_validation_score if score is not None else history.best_loss
        )

    def _keep_best(self):
        if self.best_theta is not None:
            self.theta[...] = self.best_theta

    def _go_back(self, committed_theta, committed):
        """Back to the end of the last completed epoch (the best one with validation)."""
        optimizer_state, scalars = committed
        self.history._roll_back(scalars)
        self.optimizer.restore(optimizer_state)
        self.theta[...] = committed_theta
        self._keep_best()


def scipy_blas_on_one_thread():
    """A context in which the BLAS library that SciPy brings, and NumPy does not use, runs
    one thread.

    SciPy's wheels bundle an OpenBLAS of their own beside NumPy's, each with a pool of
    worker threads that spin after every call. L-BFGS-B's Fortran calls SciPy's
    (vector operations on the parameters, which threads do not speed up), the objective's
    products call NumPy's, and the two pools then take turns at the same cores: at 2
    threads on 2 cores a digits-sized fit took 2.9 times as long as with SciPy's pool at
    one thread (``benchmarks/bench_two_pools.py``). A BLAS that NumPy and SciPy share (a
    conda install, Accelerate) is left alone. Only in the main thread: threadpoolctl's
    limits are process-wide, and two fits in two threads would restore each other's
    (a fit in a thread of its own keeps SciPy's threads, as before). A callback of the
    fit runs under the limit too.
    """
    own = _scipy_own_blas()
    if own is None or threading.current_thread() is not threading.main_thread():
        return contextlib.nullcontext()
    return own.limit(limits=1)


@functools.cache
def _scipy_own_blas():
    # looked up once: scanning the loaded libraries takes milliseconds, and SciPy's BLAS
    # is loaded with scipy.optimize, before this module runs
    def folders(module):
        here = os.path.normcase(os.path.realpath(os.path.dirname(module.__file__)))
        # the package's folder, and the wheels' "scipy.libs" / "numpy.libs" beside it
        return (here + os.sep, here + ".libs" + os.sep)

    try:
        with warnings.catch_warnings():  # threadpoolctl's notes on OpenMP runtimes
            warnings.simplefilter("ignore")
            blas = ThreadpoolController().select(user_api="blas")
    except Exception:  # a speed setting: never a reason for a fit to fail
        return None
    scipy_folders, numpy_folders = folders(scipy), folders(np)
    paths = {
        lib.filepath: os.path.normcase(os.path.realpath(lib.filepath))
        for lib in blas.lib_controllers
    }
    own = [
        filepath
        for filepath, path in paths.items()
        if path.startswith(scipy_folders) and not path.startswith(numpy_folders)
    ]
    return blas.select(filepath=own) if own else None


class FullBatchRun(_Run):
    """``scipy.optimize.minimize`` on the full-batch objective (L-BFGS-B or CG).

    It runs in rounds, each a fresh ``minimize`` from where the last ended: with noise,
    one round per fixed draw (``NOISE_REDRAW_ITERATIONS``); with a checkpoint (a
    callback with a ``restart_every`` attribute), rounds of that many iterations, as
    scipy's solver state cannot be saved, so that a resumed fit restarts at the same
    iterations as the fit it continues; otherwise one round.
    """

    def __init__(self, network, theta, data, settings, history, rng, incremental):
        super().__init__(network, theta, data, settings, history, rng, incremental)
        self.theta64 = theta.astype(np.float64)  # scipy's iterate
        self.remaining = settings.max_iter
        self.round_ends = []  # the objective at the end of each round
        self.round_iterations = 0  # iterations of the current round so far
        self.round_length = None

    def _engine_callbacks(self):
        return ()

    def _round_length(self, callbacks):
        if self.data.corruption is not None:
            return NOISE_REDRAW_ITERATIONS
        restarts = [cb.restart_every for cb in callbacks if getattr(cb, "restart_every", None)]
        return min(restarts) if restarts else None

    def checkpoint_due(self, every):
        """Whether the state after this iteration can be saved: at a round's end only."""
        return self.round_length is not None and self.round_iterations == min(
            self.round_length, self.remaining
        )

    def state(self):
        """What the rest of the run depends on, at the end of a round (or of the run)."""
        history = self.history
        at_round_end = self.round_iterations > 0
        return {
            "theta": self.theta64.copy() if not at_round_end else self.last_iterate.copy(),
            "rng": self.rng.bit_generator.state,
            "epochs_done": self.epochs_done,
            "remaining": self.remaining - (self.round_iterations if at_round_end else 0),
            "round_ends": self.round_ends + ([history.loss_curve[-1]] if at_round_end else []),
            "n_iter": history.n_iter,
            "loss_curve": list(history.loss_curve),
            "records": [dict(record) for record in history.records],
            "best_so_far": list(history.best_so_far),
        }

    def restore(self, state):
        """Continue from :meth:`state` (called from ``on_train_begin``)."""
        history = self.history
        self.theta64 = np.array(state["theta"], dtype=np.float64)
        self.theta[...] = self.theta64
        self.rng.bit_generator.state = state["rng"]
        self.epochs_done, self.remaining = state["epochs_done"], state["remaining"]
        self.round_ends = list(state["round_ends"])
        history.n_iter = state["n_iter"]
        history.loss_curve[:] = state["loss_curve"]
        history.records[:] = state["records"]
        history.best_so_far[:] = state["best_so_far"]
        self.info.update(epoch=history.n_iter, run_epoch=self.epochs_done)

    def run(self, callbacks, context):
        theta, settings, corruption = self.theta, self.settings, self.data.corruption
        info = self._info(callbacks, context)
        self.round_length = self._round_length(callbacks)
        # with noise each round has its own objective: round ends are compared instead
        self.stopping = Hooks(
            [StoppingRule(settings.tol, settings.n_iter_no_change, settings.relative_tol)]
            if corruption is None and settings.relative_tol is not None
            else []
        )
        self.grad = np.empty_like(theta)
        self.non_finite_seen = False
        try:
            self.hooks("on_train_begin", info)  # a checkpoint may resume the run here
            if self.finished is not None:
                return self._end(self.finished)
            theta[...] = self.theta64
            with scipy_blas_on_one_thread():
                status = self._rounds()
        except KeyboardInterrupt:
            if self.epochs_done == 0:  # nothing completed to keep
                raise
            theta[...] = self.last_iterate if self.round_iterations else self.theta64
            return self._end("interrupted")
        except BaseException:
            self._end(None)
            raise
        theta[...] = self.theta64
        return self._end(status)

    def _rounds(self):
        """Minimise round after round until the budget is spent or training stops."""
        settings, corruption, result = self.settings, self.data.corruption, None
        while self.remaining > 0:
            if corruption is not None and settings.relative_tol is not None:
                # the last NOISE_STALLED_ROUNDS draws, each at the end of its round
                if _stalled(
                    self.round_ends, NOISE_STALLED_ROUNDS, settings.relative_tol, settings.tol
                ):
                    return "converged"
            n_iter = min(self.remaining, self.round_length or self.remaining)
            if corruption is not None:
                corruption.reseed(self.rng)
            self.round_iterations = 0
            result = scipy.optimize.minimize(
                self._objective,
                self.theta64,
                jac=True,
                method=FULL_BATCH_METHODS[settings.solver],
                callback=self._iteration_end,
                options={"maxiter": n_iter, "gtol": settings.tol},
            )
            stuck = self.non_finite_seen and (result.nit == 0 or not np.isfinite(result.fun))
            if stuck or not np.all(np.isfinite(result.x)):
                return "diverged"
            self.theta64 = result.x
            self.remaining -= n_iter
            self.round_iterations = 0
            if result.nit < n_iter:  # converged (or stopped) before using all iterations
                break
            self.round_ends.append(self.history.loss_curve[-1])
        # scipy's status 1: the iteration (or evaluation) limit, with no budget left
        spent = self.remaining == 0 and result is not None and result.status == 1
        return "max_iter" if spent else "converged"

    def _objective(self, theta64):
        theta, grad, data = self.theta, self.grad, self.data
        theta[...] = theta64
        value = self.network.objective(
            theta,
            data.x,
            grad,
            corrupt=data.corruption,
            chunk_size=data.chunk_size,
            target=data.target,
        )
        if not _finite(value, grad):
            # an infinite value makes the line search step back
            self.non_finite_seen = True
            return np.inf, np.zeros_like(theta64)
        return value, grad.astype(np.float64)

    def _iteration_end(self, intermediate_result):
        loss = float(intermediate_result.fun)
        history = self.history
        self._record(loss, None)
        history.best_so_far.append(min(history.best_so_far[-1:] + [loss]))
        self.epochs_done += 1
        self.round_iterations += 1
        self.last_iterate = intermediate_result.x.copy()
        stop = self.hooks("on_epoch_end", self.info)
        if self.stopping("on_epoch_end", self.info) or stop:
            raise StopIteration  # scipy ends the minimisation at this iterate
