"""What the callback engine costs an epoch, against the training loop it replaced.

Run from the repository root, with OpenBLAS choosing its own kernel as users run NumPy::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_callbacks.py

It times one epoch of two networks, round-robin in one run (this machine is shared and
noisy: only ratios measured side by side mean anything):

- the one-layer model of ``bench_training.py`` (784-256 sigmoid, squared error, SGD with
  momentum, batches of 256) and the deep classifier of ``bench_deep.py``
  (784-1000-500-10, sigmoid, softmax + log loss, Adam, batches of 200), float32;
- and a probe, 784-2 with SGD, whose epoch is mostly the loop's own bookkeeping: the
  difference of its rows bounds what the engine adds to any epoch in seconds;
- each trained by: ``before``, the loop ``train_minibatch`` of commit f23670f (read
  from git, the last commit before the engine took callbacks); ``engine``, today's
  :func:`skae._core.train` with no callbacks; ``engine + callbacks``, the same with a
  plain :class:`~skae.callbacks.ProgressBar` (to /dev/null) and a callback with an
  ``on_batch_begin`` hook (the worst case: a Python call per minibatch).

The goal (issue 19): the callbacks cost at most 1% of an epoch. The report is printed
and written to ``benchmarks/results/bench_callbacks.md``.
"""

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skae._core import (  # noqa: E402
    Autoencoder,
    Layer,
    Network,
    SolverSettings,
    TrainingData,
    TrainingHistory,
    train,
)
from skae.callbacks import ProgressBar  # noqa: E402
from skae.compare.reports import markdown_table  # noqa: E402
from skae.datasets import load_mnist  # noqa: E402

BEFORE_COMMIT = "f23670f"
OUTPUT = ROOT / "benchmarks" / "results" / "bench_callbacks.md"


def loop_before():
    """The pre-callback ``train_minibatch``, loaded from git into skae's core package."""
    source = subprocess.run(
        ["git", "show", f"{BEFORE_COMMIT}:skae/_core/training.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    spec = importlib.util.spec_from_loader("skae._core._training_before", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "skae._core"  # its "from .optimizers import ..." resolves here
    exec(compile(source, f"{BEFORE_COMMIT}:skae/_core/training.py", "exec"), module.__dict__)
    return module


class PerBatch:
    """A callback with a hook on every minibatch, doing nothing."""

    def on_batch_begin(self, info):
        pass


def models(n_classes):
    """(name, network, solver keywords, target maker) of the two benchmarked networks."""
    one_layer = Autoencoder(784, 256, dtype=np.float32)
    deep = Network(
        [
            Layer(784, 1000, "sigmoid", alpha=1e-4),
            Layer(1000, 500, "sigmoid", alpha=1e-4),
            Layer(500, n_classes, "softmax", alpha=1e-4),
        ],
        "log_loss",
        dtype=np.float32,
    )
    # two hidden units: an epoch that is almost all per-batch bookkeeping, so that the
    # engine's own cost shows in seconds instead of hiding in the products' noise
    probe = Autoencoder(784, 2, dtype=np.float32)
    sgd = dict(solver="sgd", learning_rate=1e-3, momentum=0.9, batch_size=256)
    adam = dict(solver="adam", learning_rate=1e-3, batch_size=200)
    return [
        ("one layer 784-256, SGD", one_layer, sgd),
        ("deep 784-1000-500-10, Adam", deep, adam),
        ("probe 784-2, SGD (bookkeeping)", probe, sgd),
    ]


def one_epoch(variant, before, network, start, x, target, solver):
    theta = start.copy()
    rng = np.random.default_rng(0)
    history = TrainingHistory()
    began = time.perf_counter()
    if variant == "before":
        before.train_minibatch(
            network, theta, x, max_iter=1, tol=0.0, n_iter_no_change=10, history=history,
            rng=rng, target=target, **solver,
        )  # fmt: skip
    else:
        callbacks = []
        if variant == "engine + callbacks":
            callbacks = [ProgressBar(file=open(os.devnull, "w"), backend="plain"), PerBatch()]
        settings = SolverSettings(max_iter=1, tol=0.0, **solver)
        data = TrainingData(x, target=target)
        train(network, theta, data, settings, history=history, rng=rng, callbacks=callbacks)
    return time.perf_counter() - began, theta


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=30000, help="MNIST training rows")
    parser.add_argument("--repeats", type=int, default=7, help="rounds of the round-robin")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument("--data-home", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)

    X, y = load_mnist(data_home=args.data_home, return_X_y=True)[:2]
    X, y = np.ascontiguousarray(X[: args.n_samples]), np.asarray(y[: args.n_samples])
    classes = np.unique(y)
    onehot = (y[:, None] == classes).astype(np.float32)
    before = loop_before()
    variants = ["before", "engine", "engine + callbacks"]
    started = time.perf_counter()
    rows = []
    with threadpool_limits(args.threads):
        blas = [f"{i['internal_api']} {i.get('architecture')}" for i in threadpool_info()]
        for name, network, solver in models(classes.size):
            target = onehot if network.loss == "log_loss" else None
            start = network.init_params(np.random.default_rng(0))
            times = {variant: [] for variant in variants}
            results = {}
            warm_target = None if target is None else target[:2048]
            one_epoch("engine", before, network, start, X[:2048], warm_target, solver)  # warm-up
            for _ in range(args.repeats):
                for variant in variants:
                    seconds, theta = one_epoch(variant, before, network, start, X, target, solver)
                    times[variant].append(seconds)
                    results[variant] = theta
            identical = all(np.array_equal(results["before"], results[v]) for v in variants)
            base_median, base_min = np.median(times["before"]), np.min(times["before"])
            for variant in variants:
                rows.append(
                    [
                        name,
                        variant,
                        f"{np.median(times[variant]):.3f}",
                        f"{np.min(times[variant]):.3f}",
                        f"{np.median(times[variant]) / base_median:.4f}",
                        f"{np.min(times[variant]) / base_min:.4f}",
                        "yes" if identical else "NO",
                    ]
                )
    columns = [
        "network",
        "loop",
        "median s",
        "min s",
        "/ before (medians)",
        "/ before (minima)",
        "same parameters",
    ]
    command = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_callbacks.py"
    if argv:
        command += " " + " ".join(argv)
    report = "\n".join(
        [
            "# What the callback engine costs an epoch",
            "",
            f"- command: `{command}`",
            f"- MNIST, {X.shape[0]} rows, float32; {args.repeats} round-robin rounds of one "
            f"epoch each; {args.threads} BLAS thread(s) ({'; '.join(blas)}); "
            f"OPENBLAS_CORETYPE {'set' if 'OPENBLAS_CORETYPE' in os.environ else 'unset'}; "
            f"load average {os.getloadavg()[0]:.2f} at the end; "
            f"{time.perf_counter() - started:.0f} s",
            f"- `before`: `train_minibatch` of commit {BEFORE_COMMIT}; `engine`: "
            "`skae._core.train`, no callbacks; `engine + callbacks`: with a plain ProgressBar "
            "and a no-op `on_batch_begin` callback. Goal: at most 1.01.",
            "",
            markdown_table(columns, rows, align="llrrrrl"),
            "",
        ]
    )
    print(report)
    Path(args.output).write_text(report)


if __name__ == "__main__":
    main()
