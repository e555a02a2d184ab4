"""OpenBLAS's idle workers spinning beside skae's one-thread work: two settings, one run.

Run from the repository root, with OpenBLAS choosing its own kernel as users run NumPy::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_spin.py

After each threaded call OpenBLAS's worker threads spin, waiting for the next one, for
``2 ** OPENBLAS_THREAD_TIMEOUT`` ticks of the time-stamp counter (28 in OpenBLAS's
``driver/others/blas_server.c`` unless the build or the environment says otherwise;
read once, when NumPy loads OpenBLAS) before they sleep. Between the products of a
batch, skae's elementwise work and the optimiser's update run on the calling thread,
beside a worker that spins. This script times the epoch of the deep classifier's core
loop (``bench_deep.py``'s "skae core" row: 784-1000-500-10, sigmoid, softmax, Adam,
batches of 200, float32, MNIST), its Adam steps (with the weight decay) and the floor
(the 8 products alone), in child processes that alternate between OpenBLAS's default and
``OPENBLAS_THREAD_TIMEOUT=4`` (the workers sleep at once), round-robin, so that both
settings meet the same machine. The variable must be set before NumPy starts, hence a
process per run. The Adam step is timed by wrapping
``Adam.step`` in the child (the timer adds two clock reads per batch to both settings).

The report is printed and written to ``benchmarks/results/bench_spin.md``.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from _harness import (  # noqa: E402
    RESULTS,
    SPIN_VARIABLE,
    Environment,
    blas_threads,
    load_mnist_like,
    log,
    markdown_table,
    write_report,
)

DEFAULT_OUTPUT = RESULTS / "bench_spin.md"
SETTINGS = {"default": None, "sleep at once": "4"}


def child(n_epochs, n_samples):
    """Time ``n_epochs`` floor and core epochs in this process; print one JSON line."""
    import bench_deep

    from skae._core import optimizers

    X, y, _ = load_mnist_like(n_samples)
    floor, core = bench_deep.floor((X, y)), bench_deep.skae_core((X, y))
    steps = []
    step = optimizers.Adam.step

    def timed_step(self, grad, decay=()):
        start = time.perf_counter()
        value = step(self, grad, decay)
        steps.append(time.perf_counter() - start)
        return value

    optimizers.Adam.step = timed_step
    floor()  # warm-up: the pools started, the kernels compiled
    core()
    epochs = []
    for _ in range(n_epochs):
        start = time.perf_counter()
        floor()
        floor_seconds = time.perf_counter() - start
        steps.clear()
        start = time.perf_counter()
        core()
        core_seconds = time.perf_counter() - start
        epochs.append(
            {
                "floor": floor_seconds,
                "core": core_seconds,
                "adam": float(np.sum(steps)),
                "adam_step_ms": float(np.median(steps) * 1e3),
            }
        )
    print(json.dumps({"threads": blas_threads(), "epochs": epochs}))


def run_child(setting, n_epochs, n_samples):
    environment = dict(os.environ)
    environment.pop(SPIN_VARIABLE, None)
    if SETTINGS[setting] is not None:
        environment[SPIN_VARIABLE] = SETTINGS[setting]
    command = [sys.executable, __file__, "--child", f"--epochs={n_epochs}"]
    command.append(f"--n-samples={n_samples}")
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"child ({setting}) failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def summary(epochs):
    """One table row: medians and ranges over every epoch of a setting."""
    ratios = [e["core"] / e["floor"] for e in epochs]
    adam = [e["adam"] for e in epochs]
    step = [e["adam_step_ms"] for e in epochs]
    return [
        str(len(epochs)),
        f"{np.median([e['floor'] for e in epochs]):.3f}",
        f"{np.median([e['core'] for e in epochs]):.3f}",
        f"{np.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})",
        f"{np.median(adam):.3f} ({min(adam):.3f}-{max(adam):.3f})",
        f"{np.median(step):.2f} ({min(step):.2f}-{max(step):.2f})",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4, help="child runs per setting")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per child run")
    parser.add_argument("--n-samples", type=int, default=60_000, help="rows (default 60000)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.epochs, args.n_samples)
    env = Environment("bench_spin.py")
    results = {setting: [] for setting in SETTINGS}
    threads = set()
    for round_index in range(args.rounds):
        for setting in SETTINGS:
            log(f"round {round_index + 1}/{args.rounds}: {setting}")
            answer = run_child(setting, args.epochs, args.n_samples)
            threads.add(answer["threads"])
            results[setting] += answer["epochs"]
            for epoch in answer["epochs"]:
                log(
                    f"  floor {epoch['floor']:.3f} s  core {epoch['core']:.3f} s  "
                    f"Adam {epoch['adam']:.3f} s ({epoch['adam_step_ms']:.2f} ms a step)"
                )
    header = [
        "setting",
        "epochs",
        "floor s",
        "core epoch s",
        "core / floor",
        "Adam s an epoch",
        "Adam ms a step (median of the epoch)",
    ]
    rows = [
        [f"{setting} ({SPIN_VARIABLE}={value or 'unset'})", *summary(results[setting])]
        for setting, value in SETTINGS.items()
    ]
    lines = env.header(
        "OpenBLAS's spinning workers and skae's one-thread work (issue 21)",
        False,
        [
            f"BLAS threads in the children: {', '.join(map(str, sorted(threads)))}",
            f"{args.rounds} child runs per setting, alternating, {args.epochs} timed "
            f"epochs each (after one untimed): floor, then the core epoch; medians, "
            f"ranges in brackets over all epochs",
            "deep 784-1000-500-10 classifier, core loop (bench_deep.py's skae_core), "
            f"{args.n_samples} MNIST rows",
        ],
    )
    report = [*lines, "", markdown_table(header, rows), ""]
    write_report("\n".join(report), args.output)


if __name__ == "__main__":
    main()
