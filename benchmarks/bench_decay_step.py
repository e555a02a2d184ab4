"""The weight decay in the optimiser's step against the decay in the objective, by profile.

Run from the repository root, with OpenBLAS choosing its own kernel as users run NumPy::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_decay_step.py

Since issue 21's last change the minibatch engine leaves the L2 weight decay out of the
objective and the optimiser adds it as it steps, which ``skae[fast]`` fuses with Adam's
update into one pass over the parameters. Before, the objective computed it: a ``vdot``
of each weight matrix for its value and a pass adding ``alpha * W`` to the gradient,
then Adam's pass. The difference is 1-2% of an epoch, below the spread of whole
epochs on a shared machine, so this script compares the parts themselves: one epoch of
the deep classifier's core loop (``bench_deep.py``'s "skae core" row: 784-1000-500-10,
weight decay 1e-4 on every layer, Adam, batches of 200, float32, MNIST) in each flow,
alternating, under cProfile, and sums the own time of the functions that hold the decay,
the step and the finiteness check (``FUNCTIONS``). Everything else in the epoch is the
same code in both flows.

The report is printed and written to ``benchmarks/results/bench_decay_step.md``.
"""

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

import numpy as np

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from _harness import (  # noqa: E402
    RESULTS,
    Environment,
    decay_in_objective,
    load_mnist_like,
    log,
    markdown_table,
    thread_limits,
    write_report,
)
from bench_deep import skae_core  # noqa: E402

DEFAULT_OUTPUT = RESULTS / "bench_decay_step.md"
# the functions whose own time holds the decay, the step and the finiteness check in
# either flow, with the Python around the kernels (the NumPy ufuncs they call count in
# them; skae[fast]'s kernels are functions of their own)
FUNCTIONS = (
    *("weight_decay", "add_scaled", "_add_scaled"),  # before: in the objective
    *("step", "_add_weight_decay", "_in_ranges", "update", "adam_update", "_decay_value"),
    *("_adam", "_adam_decayed", "kernels", "_finite"),
)
FLOWS = {
    "decay in the step (as shipped)": skae_core,
    "decay in the objective (before)": decay_in_objective(skae_core),
}


def profiled_epoch(run):
    """Wall time of ``run()`` under cProfile and the own time of each of ``FUNCTIONS``."""
    profiler = cProfile.Profile(time.perf_counter)
    start = time.perf_counter()
    profiler.enable()
    run()
    profiler.disable()
    total = time.perf_counter() - start
    parts = dict.fromkeys(FUNCTIONS, 0.0)
    for (_, _, name), (_, _, own, _, _) in pstats.Stats(profiler).stats.items():
        if name in parts:
            parts[name] += own
    return total, parts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="profiled epochs per flow")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--n-samples", type=int, default=60_000, help="rows (default 60000)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    env = Environment("bench_decay_step.py", args.threads)
    X, y, source = load_mnist_like(args.n_samples)
    rows = []
    for count in env.thread_counts:
        with thread_limits(count):
            runs = {flow: make((X, y)) for flow, make in FLOWS.items()}
            for run in runs.values():
                run()  # warm-up: the kernels loaded, the buffers allocated
            results = {flow: [] for flow in FLOWS}
            for round_index in range(args.rounds):
                for flow, run in runs.items():
                    total, parts = profiled_epoch(run)
                    results[flow].append((total, sum(parts.values())))
                    shown = ", ".join(f"{k} {v:.3f}" for k, v in parts.items() if v)
                    log(f"{count} thread(s), round {round_index + 1}: {flow}: {shown}")
            for flow, samples in results.items():
                totals, parts = np.array(samples).T
                rows.append(
                    [
                        str(count),
                        flow,
                        " ".join(f"{t:.3f}" for t in totals),
                        " ".join(f"{p:.3f}" for p in parts),
                        f"{np.median(parts) / np.median(totals):.1%}",
                    ]
                )
    header = [
        "threads",
        "flow",
        "epoch s under cProfile, each round",
        "decay + step + check s, each round",
        "share (medians)",
    ]
    lines = env.header(
        "The weight decay in the step or in the objective (issue 21)",
        False,
        [
            f"data: {source}, {args.n_samples} rows; deep 784-1000-500-10 classifier, "
            "core loop (bench_deep.py's skae_core), weight decay 1e-4",
            f"{args.rounds} profiled epochs per flow and thread count, alternating; "
            f"own time of {', '.join(FUNCTIONS)}",
        ],
    )
    table = markdown_table(header, rows)
    write_report("\n".join([*lines, "", table, ""]), args.output)


if __name__ == "__main__":
    main()
