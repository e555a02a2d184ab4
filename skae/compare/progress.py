"""What the comparison says on stderr while it runs: its own lines and each fit's progress.

:class:`CompareProgress` is the whole interface the protocol uses: :meth:`~CompareProgress.log`
for a line of its own (a method starts, ends, a width is capped), and
:meth:`~CompareProgress.watching` around each extractor fit, which shows the fit's epochs
done, loss and time left at most every ``interval`` seconds.

How a fit's progress reaches it: a skae estimator gets, for the fit, one more callback
(:class:`_EpochCallback`, see :mod:`skae.callbacks`) that hands each epoch's figures to
:class:`_EpochLine`; ``info["phase"]`` names the layer a stack is pretraining. An
estimator without callbacks (scikit-learn's ``BernoulliRBM``) is switched to
``verbose=1`` and its stdout goes to :class:`_StdoutRelay`, which reads its
``Iteration n, pseudo-likelihood = ...`` lines. Neither changes the fitted model.
"""

import contextlib
import io
import re
import sys
import time

__all__ = ["CompareProgress", "log"]


def log(message):
    """One line on stderr (looked up at call time, so that it can be redirected)."""
    print(message, file=sys.stderr, flush=True)


class CompareProgress:
    """The comparison's progress display on stderr.

    Parameters
    ----------
    interval : float or None, default=None
        Show each extractor's progress (epochs done, loss, time left) at most every this
        many seconds, the last line of a fit that took longer always; 0 shows every
        epoch. None keeps the extractors silent.
    verbose : bool, default=True
        Show the protocol's own lines (:meth:`log`); False drops them.
    """

    def __init__(self, interval=None, verbose=True):
        self.interval = interval
        self.verbose = verbose

    def log(self, message):
        """A line of the protocol's own, if ``verbose``."""
        if self.verbose:
            log(message)

    @contextlib.contextmanager
    def watching(self, estimator, tag):
        """Show the progress of the fit run inside the block.

        Parameters
        ----------
        estimator : estimator
            The extractor about to be fitted; one without a ``verbose`` parameter (PCA,
            the identity) is fitted silently.
        tag : str
            Starts each progress line, e.g. ``"[4/6] sparse_ae seed 1"``.

        Yields
        ------
        estimator : estimator
            The same object, reporting its progress until the block ends; its
            ``verbose`` is restored afterwards.
        """
        params = estimator.get_params(deep=False)
        if self.interval is None or "verbose" not in params:
            yield estimator
            return
        if "callbacks" in params:  # a skae estimator: a callback, nothing printed
            own = params["callbacks"]
            estimator.set_params(callbacks=[*(own or []), _EpochCallback(tag, self.interval)])
            try:
                yield estimator
            finally:
                estimator.set_params(callbacks=own)
            return
        line = _EpochLine(tag, params.get("n_iter"), self.interval)
        relay = _StdoutRelay(line)
        estimator.set_params(verbose=1)
        try:
            with contextlib.redirect_stdout(relay):
                yield estimator
            relay.flush_pending()
            line.finish()
        finally:
            estimator.set_params(verbose=0)


class _EpochCallback:
    """A skae callback that shows each training phase's epochs on an :class:`_EpochLine`."""

    def __init__(self, tag, interval):
        self.tag, self.interval = tag, interval

    def on_train_begin(self, info):
        step = info["phase"].rsplit("__", 1)
        tag = self.tag if len(step) == 1 and step[0] == "fit" else f"{self.tag} {info['phase']}"
        self.line = _EpochLine(tag, info["n_epochs"], self.interval)

    def on_epoch_end(self, info):
        unit = "epoch" if info["n_batches"] is not None else "iteration"
        self.line.epoch(info["run_epoch"] + 1, unit, "loss", f"{info['loss']:.6g}")

    def on_train_end(self, info):
        self.line.finish()


class _EpochLine:
    """Rate-limited progress lines of one fit: ``<tag>: epoch n/total, loss ..., left ~...``.

    Lines come at most every ``interval`` seconds (the last one always), so a fit of a
    few seconds says nothing and a fit of minutes says how far it is.
    """

    def __init__(self, tag, total, interval):
        self.tag, self.total, self.interval = tag, total, interval
        self.start = self.last = time.perf_counter()
        self.held = None  # the newest line not yet shown

    def epoch(self, done, unit="epoch", loss_name=None, loss=None):
        """Note that ``done`` epochs (or iterations: ``unit``) are done; show it if due."""
        now = time.perf_counter()
        elapsed = now - self.start
        message = f"{self.tag}: {unit} {done}/{self.total}"
        if loss_name is not None:
            message += f", {loss_name} {loss}"
        left = elapsed / done * max(self.total - done, 0)
        message += f", elapsed {elapsed:.0f}s, left ~{left:.0f}s"
        due = now - self.last >= self.interval
        if due or (done == self.total and elapsed >= self.interval):
            log(message)
            self.last, self.held = now, None
        else:
            self.held = message

    def other(self, text):
        """A line of the fit's that is not an epoch: passed on under the tag."""
        if text.strip():
            log(f"{self.tag}: {text}")

    def finish(self):
        """Show the last line held back, if the fit ended early (e.g. converged)."""
        if self.held is not None and time.perf_counter() - self.start >= self.interval:
            log(self.held)
        self.held = None


class _StdoutRelay(io.TextIOBase):
    """Stand-in for stdout during a fit: the estimator's verbose lines, parsed."""

    _EPOCH = re.compile(r"(Epoch|Iteration) (\d+)")
    _LOSS = re.compile(r"(loss|pseudo-likelihood) = (-?[0-9.eE+-]+|nan|inf)")

    def __init__(self, line):
        self.line = line
        self.pending = ""

    def writable(self):
        return True

    def write(self, text):
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self._parse(line)
        return len(text)

    def flush_pending(self):
        """Parse a last line the fit printed without a newline."""
        if self.pending:
            self._parse(self.pending)
            self.pending = ""

    def _parse(self, text):
        epoch = self._EPOCH.search(text)
        if epoch is None:
            self.line.other(text)
            return
        loss = self._LOSS.search(text)
        self.line.epoch(
            int(epoch.group(2)),
            epoch.group(1).lower(),
            *(loss.groups() if loss else ()),
        )
