"""The training loops that every skae model trains through: full batch and minibatch.

They know a :class:`~skae._core.network.Network`, a flat parameter vector ``theta`` that
they update in place, and a :class:`TrainingHistory` that they extend. They return how
training ended, one of ``STATUSES``; the estimators turn that into warnings. A
KeyboardInterrupt after at least one completed epoch (iteration) keeps what was trained:
``theta`` and the history are put back as they were at the end of the last completed
epoch (the best epoch under early stopping), and the status is "interrupted". An
interrupt before that, or any other error, propagates.
"""

import math
import time

import numpy as np
import scipy.optimize

from .optimizers import OPTIMIZERS

FULL_BATCH_METHODS = {"lbfgs": "L-BFGS-B", "cg": "CG"}
STATUSES = ("converged", "max_iter", "diverged", "interrupted")
# How a minibatch solver's step size moves over a fit: kept at its initial value, or
# annealed to zero along half a cosine over the max_iter epochs (batch by batch).
LEARNING_RATE_SCHEDULES = ("constant", "cosine")

# With noise, a full-batch solver sees one fixed corruption per run of this many
# iterations (a line search needs a fixed objective), then a fresh draw.
NOISE_REDRAW_ITERATIONS = 10


class TrainingHistory:
    """What training leaves behind, and what a later call (warm start) continues from.

    Attributes
    ----------
    n_iter : int
        Iterations (full batch) or epochs (minibatch) run so far.
    loss_curve : list of float
    best_loss : float
    validation_scores : list of float or None
    best_validation_score : float or None
    no_improvement_count : int
    optimizer : object or None
        The minibatch optimiser, whose state a ``partial_fit`` continues.
    """

    def __init__(self, early_stopping=False):
        self.n_iter = 0
        self.loss_curve = []
        self.optimizer = None
        self.reset_stopping(early_stopping)

    def reset_stopping(self, early_stopping):
        """Every fit starts its own stopping bookkeeping."""
        self.best_loss = np.inf
        self.no_improvement_count = 0
        self.validation_scores = [] if early_stopping else None
        self.best_validation_score = -np.inf if early_stopping else None

    def _scalars(self):
        return (
            self.n_iter,
            len(self.loss_curve),
            None if self.validation_scores is None else len(self.validation_scores),
            self.best_loss,
            self.best_validation_score,
            self.no_improvement_count,
        )

    def _roll_back(self, scalars):
        n_iter, n_losses, n_scores, best_loss, best_score, count = scalars
        self.n_iter = n_iter
        del self.loss_curve[n_losses:]
        if n_scores is not None:
            del self.validation_scores[n_scores:]
        self.best_loss, self.best_validation_score = best_loss, best_score
        self.no_improvement_count = count


def _finite(value, grad):
    # one BLAS pass: any NaN or inf in grad makes its squared norm non-finite
    return bool(np.isfinite(value) and np.isfinite(np.vdot(grad, grad)))


def train_full_batch(
    network,
    theta,
    x,
    *,
    method,
    max_iter,
    tol,
    history,
    rng,
    target=None,
    corruption=None,
    chunk_size=None,
    verbose=0,
    relative_tol=None,
    n_iter_no_change=10,
):
    """Minimise the full-batch objective with ``scipy.optimize.minimize``.

    Parameters
    ----------
    network : Network
    theta : ndarray
        Start, overwritten with the result.
    x : ndarray or sparse matrix
    method : {"lbfgs", "cg"}
    max_iter : int
    tol : float
        Gradient tolerance.
    history : TrainingHistory
    rng : numpy.random.Generator
        Draws the noise seeds.
    target : ndarray, optional
    corruption : Corruption, optional
        Held fixed for runs of ``NOISE_REDRAW_ITERATIONS`` iterations, then redrawn.
    chunk_size : int, optional
    verbose : int
    relative_tol : float, optional
        Also stop ("converged") once the objective has fallen by less than
        ``relative_tol * |objective|`` over the last ``n_iter_no_change`` iterations:
        the loss no longer moves, although the gradient is above ``tol``. With noise,
        whose draw changes the objective every ``NOISE_REDRAW_ITERATIONS``, over the
        ends of the last ``NOISE_STALLED_ROUNDS`` rounds instead.
    n_iter_no_change : int

    Returns
    -------
    status : str
        One of ``STATUSES``.
    """
    grad = np.empty_like(theta)
    losses = []  # this call's objective per iteration, for relative_tol
    round_ends = []  # the objective at the end of each noise round
    start = time.perf_counter()
    non_finite_seen = []
    last_completed = [None]  # parameters after the last completed iteration

    def fun(theta64):
        theta[...] = theta64
        value = network.objective(
            theta, x, grad, corrupt=corruption, chunk_size=chunk_size, target=target
        )
        if not _finite(value, grad):
            # an infinite value makes the line search step back
            non_finite_seen.append(True)
            return np.inf, np.zeros_like(theta64)
        return value, grad.astype(np.float64)

    def callback(intermediate_result):
        loss = float(intermediate_result.fun)
        history.loss_curve.append(loss)
        history.n_iter += 1
        last_completed[0] = intermediate_result.x.copy()
        if verbose:
            print(
                f"Iteration {history.n_iter}, loss = {loss:.6f}, "
                f"elapsed {time.perf_counter() - start:.1f}s"
            )
        losses.append(loss)
        # with noise each round has its own objective: round ends are compared instead
        if corruption is None and relative_tol is not None:
            if _stalled(losses, n_iter_no_change, relative_tol, tol):
                raise StopIteration  # scipy ends the minimisation at this iterate

    theta64 = theta.astype(np.float64)
    remaining, result, status = max_iter, None, "converged"
    try:
        while remaining > 0:
            # noise: a fixed draw per round, as a line search needs a fixed objective
            n_iter = remaining if corruption is None else min(remaining, NOISE_REDRAW_ITERATIONS)
            if corruption is not None:
                corruption.reseed(rng)
            result = scipy.optimize.minimize(
                fun,
                theta64,
                jac=True,
                method=FULL_BATCH_METHODS[method],
                callback=callback,
                options={"maxiter": n_iter, "gtol": tol},
            )
            stuck = non_finite_seen and (result.nit == 0 or not np.isfinite(result.fun))
            if stuck or not np.all(np.isfinite(result.x)):
                status = "diverged"
                break
            theta64 = result.x
            remaining -= n_iter
            if result.nit < n_iter:  # converged before using all iterations
                break
            round_ends.append(losses[-1])
            if corruption is not None and relative_tol is not None:
                # the last NOISE_STALLED_ROUNDS draws, each at the end of its round
                if _stalled(round_ends, NOISE_STALLED_ROUNDS, relative_tol, tol):
                    break
    except KeyboardInterrupt:
        if last_completed[0] is None:
            raise
        theta[...] = last_completed[0]
        return "interrupted"
    theta[...] = theta64
    if status == "converged" and remaining == 0 and result is not None and result.status == 1:
        status = "max_iter"
    return status


# noise rounds whose ends the relative stopping test of train_full_batch compares
NOISE_STALLED_ROUNDS = 3


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


def train_minibatch(
    network,
    theta,
    x,
    *,
    solver,
    learning_rate,
    batch_size,
    max_iter,
    tol,
    n_iter_no_change,
    history,
    rng,
    incremental=False,
    schedule="constant",
    sparsity_start=None,
    momentum=0.9,
    target=None,
    corruption=None,
    dropout=None,
    validation=None,
    verbose=0,
    relative_tol=None,
):
    """Train on shuffled minibatches with SGD or Adam.

    Parameters
    ----------
    network : Network
    theta : ndarray
        Start, updated in place.
    x : ndarray or sparse matrix
        Training rows (any validation rows already taken out).
    solver : {"sgd", "adam"}
    learning_rate, momentum : float
    batch_size : int
    max_iter : int
        Epochs; ``incremental`` runs one.
    tol : float
    n_iter_no_change : int
        Training stops when the loss (or the validation score) has not improved by
        ``tol`` for this many epochs.
    history : TrainingHistory
        Extended in place; its optimiser is reused when ``incremental``.
    rng : numpy.random.Generator
        Shuffles the rows and draws the noise seeds.
    incremental : bool
        One epoch, continuing the optimiser's state (``partial_fit``).
    schedule : {"constant", "cosine"}
        "cosine" anneals the step size from ``learning_rate`` to zero over ``max_iter``
        epochs, ``learning_rate * (1 + cos(pi * t / T)) / 2`` before batch t of T; an
        ``incremental`` epoch has no horizon and keeps ``learning_rate``.
    sparsity_start : dict, optional
        ``{layer index: level}``: anneals the mask sparsity (top-k, winner-take-all) of
        these layers from ``level`` at the first epoch to the level each layer holds on
        entry, its target, along :func:`annealed_sparsity_level`, set before every epoch.
        The layers hold their target again when training ends, however it ends. An
        ``incremental`` epoch has no horizon and trains at the target.
    target : ndarray, optional
    corruption : Corruption, optional
        A fresh draw for every minibatch of every epoch.
    dropout : Dropout, optional
        Fresh masks for every minibatch of every epoch.
    validation : callable, optional
        ``validation(theta)`` returns a score, higher is better; training stops on it
        and keeps the best parameters.
    verbose : int
    relative_tol : float, optional
        Replaces the rule above: training stops once the best loss (or validation
        score) so far has improved by less than ``relative_tol`` of itself over the last
        ``n_iter_no_change`` epochs, a test that does not depend on the scale of the
        loss and that one lucky epoch does not reset.

    Returns
    -------
    status : str
        One of ``STATUSES``.
    """
    optimizer = history.optimizer
    if (
        not incremental  # a new fit starts a new optimiser, as sklearn's MLP does
        or not isinstance(optimizer, OPTIMIZERS[solver])
        or optimizer.dtype != theta.dtype
    ):
        kwargs = {"momentum": momentum} if solver == "sgd" else {}
        optimizer = OPTIMIZERS[solver](theta, learning_rate=learning_rate, **kwargs)
    optimizer.params = theta
    # a Python float: a NumPy scalar would run the float32 updates in float64 (NEP 50)
    learning_rate = float(learning_rate)
    optimizer.learning_rate = learning_rate  # a reused optimiser may hold a decayed one
    history.optimizer = optimizer

    n_samples = x.shape[0]
    grad = np.empty_like(theta)
    best_theta = theta.copy() if validation is not None else None
    # what divergence or an interrupt goes back to: the end of the last completed epoch
    # (taken before its progress line, so that an interrupt there keeps that epoch whole)
    epoch_start_theta = theta.copy()
    optimizer_state = optimizer.snapshot()
    history_state = None  # an interrupt before the first completed epoch propagates
    n_epochs = 1 if incremental else max_iter
    n_batches = -(-n_samples // batch_size)
    anneal = schedule == "cosine" and not incremental
    # (selection, start level, target level) of each layer whose sparsity is annealed
    annealed_sparsity = []
    if sparsity_start and not incremental:
        for index, start_level in sparsity_start.items():
            selection = network.layers[index].sparsity
            annealed_sparsity.append((selection, start_level, selection.level))
    start = time.perf_counter()
    epochs_done = 0
    bests = []  # this call's best loss after each epoch, for relative_tol
    try:
        for epoch in range(n_epochs):
            for selection, start_level, target_level in annealed_sparsity:
                selection.level = annealed_sparsity_level(
                    start_level, target_level, epoch, n_epochs
                )
            order = rng.permutation(n_samples)
            if corruption is not None:
                corruption.reseed(rng)
            if dropout is not None:
                dropout.reseed(rng)
            total = 0.0
            for batch_index, batch_start in enumerate(range(0, n_samples, batch_size)):
                if anneal:
                    progress = (epoch * n_batches + batch_index) / (n_epochs * n_batches)
                    optimizer.learning_rate = (
                        learning_rate * (1 + math.cos(math.pi * progress)) / 2
                    )
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
                    target=None if target is None else target[rows],
                    dropout=dropout,
                )
                if not _finite(value, grad):
                    theta[...] = best_theta if validation is not None else epoch_start_theta
                    optimizer.restore(optimizer_state)
                    return "diverged"
                optimizer.step(grad)
                total += value * batch.shape[0]
            loss = total / n_samples
            history.n_iter += 1
            history.loss_curve.append(loss)

            message = f"Epoch {history.n_iter}, loss = {loss:.6f}"
            if validation is not None:
                score = float(validation(theta))
                if not np.isfinite(score):
                    theta[...] = best_theta
                    return "diverged"
                history.validation_scores.append(score)
                message += f", validation score = {score:.6f}"
                improved = score > history.best_validation_score + tol
                if score > history.best_validation_score:
                    history.best_validation_score = score
                    best_theta[...] = theta
            else:
                improved = loss < history.best_loss - tol
            history.best_loss = min(history.best_loss, loss)
            history.no_improvement_count = 0 if improved else history.no_improvement_count + 1
            # the best so far as a loss (lower is better), for the relative window test
            bests.append(
                -history.best_validation_score if validation is not None else history.best_loss
            )
            epochs_done += 1
            epoch_start_theta[...] = theta
            optimizer_state = optimizer.snapshot()
            history_state = history._scalars()
            if verbose:
                elapsed = time.perf_counter() - start
                left = elapsed / (epoch + 1) * (n_epochs - epoch - 1)
                print(f"{message}, elapsed {elapsed:.1f}s, left ~{left:.1f}s", flush=True)
            if relative_tol is not None:
                stop = _stalled(bests, n_iter_no_change, relative_tol, tol)
            else:
                stop = history.no_improvement_count >= n_iter_no_change
            if not incremental and stop:
                if validation is not None:
                    theta[...] = best_theta
                return "converged"
    except KeyboardInterrupt:
        if epochs_done == 0:
            raise
        # back to the end of the last completed epoch (the best one with validation)
        history._roll_back(history_state)
        optimizer.restore(optimizer_state)
        theta[...] = best_theta if validation is not None else epoch_start_theta
        return "interrupted"
    finally:
        # transform and a later partial_fit see the target, whatever ended the fit
        for selection, _, target_level in annealed_sparsity:
            selection.level = target_level
    if validation is not None:
        theta[...] = best_theta
    return "converged" if incremental else "max_iter"
