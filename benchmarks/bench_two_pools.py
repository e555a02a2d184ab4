"""Full-batch (L-BFGS) fits with SciPy's own BLAS at its threads and on one thread.

Run from the repository root, with OpenBLAS choosing its own kernel as users run NumPy::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_two_pools.py --threads 1 2

NumPy's and SciPy's wheels each bring an OpenBLAS, each with a pool of workers that spin
after every call. In an L-BFGS fit the objective's products call NumPy's and
L-BFGS-B's Fortran calls SciPy's (vector operations on the parameters), so both pools
are awake in turn. skae holds SciPy's pool to one thread during a full-batch fit
(``skae._core.training.scipy_blas_on_one_thread``); the row "SciPy's BLAS at its
threads" is the same fit with that undone (skae before issue 21's change), timed
round-robin beside it in one run. Two fits at skae's defaults (``solver="lbfgs"``):

- ``digits``: ``SparseAutoencoder(256)`` on scikit-learn's 1797 digits divided by 16
  (the drop-in case), ``max_iter=100``;
- ``mnist``: ``SparseAutoencoder(256)`` on 10000 MNIST images (float32), ``max_iter=20``.

Both models are checked to be the same fit either way at one thread (SciPy's pool has
one thread then in both rows). The report is printed and written to
``benchmarks/results/bench_two_pools.md``; ``--quick`` is a smoke run.
"""

import argparse
import contextlib
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from _harness import (  # noqa: E402
    RESULTS,
    Environment,
    Patience,
    Timings,
    blas_threads,
    common_arguments,
    finish_arguments,
    load_mnist_like,
    log,
    run_interleaved,
    swapped,
    thread_limits,
    write_report,
)

from skae import SparseAutoencoder  # noqa: E402
from skae._core import training  # noqa: E402

DEFAULT_OUTPUT = RESULTS / "bench_two_pools.md"
MAX_ITER = {"digits": 100, "mnist": 20}


def lbfgs_fit(name, scipy_pool_limited):
    """A measurement: ``SparseAutoencoder(256)``'s L-BFGS fit, with or without the limit."""

    def make(X):
        def run():
            swaps = [] if scipy_pool_limited else [(training, "scipy_blas_on_one_thread", _none)]
            model = SparseAutoencoder(256, max_iter=MAX_ITER[name], random_state=0)
            with swapped(swaps), warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X)
            return model

        return run

    return make


def _none():
    return contextlib.nullcontext()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common_arguments(parser, DEFAULT_OUTPUT)
    args = finish_arguments(parser.parse_args(argv), DEFAULT_OUTPUT)
    env = Environment("bench_two_pools.py", args.threads, args.clock)
    mnist, _, source = load_mnist_like(min(args.n_samples, 10_000), args.random)
    data = {"digits": load_digits().data / 16.0, "mnist": mnist}
    warmup = {"digits": data["digits"][:200], "mnist": mnist[:500]}
    log(f"data: digits {data['digits'].shape}, {source} {mnist.shape}")
    patience = Patience(args.patience)
    sections = []
    for count in env.thread_counts:
        with thread_limits(count):
            n_threads = blas_threads()
            measurements = {}
            for name in data:
                measurements[f"{name}_limited"] = (
                    f"{name}: SciPy's BLAS on one thread (skae now)",
                    lbfgs_fit(name, True),
                    name,
                )
                measurements[f"{name}_free"] = (
                    f"{name}: SciPy's BLAS at its threads (before)",
                    lbfgs_fit(name, False),
                    name,
                )
            if n_threads == 1:
                same_fit(data)
            log(f"{n_threads} thread(s): {len(measurements)} rows x {args.repeats}")
            samples = run_interleaved(
                measurements, data, warmup, args.repeats, patience, args.clock
            )
        timings = Timings(samples)
        floors = {key: key.replace("_free", "_limited") for key in measurements}
        sections += [
            f"## {n_threads} thread(s)",
            "",
            timings.table(measurements, floors),
            "",
            "`/ floor` divides by the same fit with SciPy's BLAS on one thread: above 1, "
            "the fit as it was is slower.",
            "",
        ]
    header = env.header(
        "Full-batch fits and SciPy's own BLAS (issue 21)",
        False,
        [
            f"SparseAutoencoder(256), solver lbfgs; digits max_iter {MAX_ITER['digits']}, "
            f"{source} {mnist.shape[0]} x {mnist.shape[1]} max_iter {MAX_ITER['mnist']}",
            timings.method_line(args.repeats, patience),
        ],
    )
    write_report("\n".join([*header, "", *sections]), args.output)


def same_fit(data):
    """At one thread both rows must fit the same model: the limit changes only speed."""
    for name, X in data.items():
        X = X[:500]
        a = lbfgs_fit(name, True)(X)().components_
        b = lbfgs_fit(name, False)(X)().components_
        if not np.array_equal(a, b):
            raise SystemExit(f"{name}: the two rows fit different models at one thread")


if __name__ == "__main__":
    main()
