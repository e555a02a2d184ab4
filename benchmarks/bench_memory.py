"""Peak memory of blockwise transform, score_samples and inverse_transform.

Run from the repository root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_memory.py

X is 1 million rows of 64 float32 features (256 MB) in a ``.npy`` file opened as a
``np.memmap``; a ``SparseAutoencoder(n_components=32)`` is fitted on its first 20000
rows. Each method then runs over all rows, once in blocks of ``chunk_size`` rows (the
default, 4096) and once with ``chunk_size=None`` (all rows at once), and on 100000 rows,
to show that the memory beyond the output does not grow with the number of rows.

Memory is measured as ``benchmarks/bench_training.py`` measures it (its ``peak_above_x``):
tracemalloc, started after X exists, so the peak is what the call allocates; the pages of
the memmap are not allocations. The table reports that peak, the output's size, and the
peak beyond the output. Goal: beyond the output, blockwise memory stays within two blocks
(``2 * chunk_size * (n_features + n_components) * 4`` bytes, 3.1 MB here) and does not
grow from 100000 to 1 million rows.

The report is printed and written as Markdown to ``benchmarks/results/bench_memory.md``
(``--output`` to change; ``--n-samples`` for another size).
"""

import argparse
import datetime
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

# this checkout's skae (not another installed copy) and the benchmarks' shared harness
sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from _harness import (  # noqa: E402  the same measurement and environment report
    blas_libraries,
    command_line,
    cpu_model,
    peak_above_x,
)

from skae import SparseAutoencoder  # noqa: E402
from skae.compare import markdown_table  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "bench_memory.md"
N_FEATURES, N_COMPONENTS = 64, 32
N_TRAIN = 20_000
SMALL = 100_000
GOAL_BLOCKS = 2.0  # blockwise memory beyond the output, in blocks of the input and hidden
GROWTH_GOAL = 1.1  # beyond-output peak, n_samples rows / 100000 rows


def make_memmap(path, n_samples, seed=0):
    """A float32 .npy file of uniform [0, 1) values, written in blocks; opened read-only."""
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_samples, N_FEATURES))
    rng = np.random.default_rng(seed)
    for start in range(0, n_samples, 100_000):
        stop = min(start + 100_000, n_samples)
        X[start:stop] = rng.random((stop - start, N_FEATURES), dtype=np.float32)
    X.flush()
    del X
    return np.load(path, mmap_mode="r")


def methods(model, X):
    """name -> call; the inverse decodes the first 32 columns of X as if hidden codes."""
    return {
        "transform": lambda: model.transform(X),
        "score_samples": lambda: model.score_samples(X),
        "inverse_transform": lambda: model.inverse_transform(X[:, :N_COMPONENTS]),
    }


def measure(model, X, chunk_size):
    """Per method: (peak bytes, output bytes)."""
    model.set_params(chunk_size=chunk_size)
    results = {}
    for name, call in methods(model, X).items():
        output_holder = []
        peak = peak_above_x(lambda call=call, held=output_holder: held.append(call()))
        results[name] = (peak, output_holder.pop().nbytes)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-samples", type=int, default=1_000_000, help="rows (default 1e6)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Markdown file")
    args = parser.parse_args(argv)

    for lib in blas_libraries():
        print(
            f"BLAS: {lib.get('internal_api')} {lib.get('version')}, kernel "
            f"{lib.get('architecture')}, {lib.get('num_threads')} threads"
        )
    with tempfile.TemporaryDirectory() as tmp:
        X = make_memmap(Path(tmp) / "X.npy", args.n_samples)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = SparseAutoencoder(
                n_components=N_COMPONENTS, solver="adam", max_iter=2, random_state=0
            ).fit(np.asarray(X[:N_TRAIN]))
        default_chunk = SparseAutoencoder().chunk_size
        blockwise = measure(model, X, default_chunk)
        small = measure(model, X[:SMALL], default_chunk)
        whole = measure(model, X, None)

    mb = 1e6
    rows = []
    goals = []
    for name in blockwise:
        peak, out = blockwise[name]
        peak_small, out_small = small[name]
        peak_whole, out_whole = whole[name]
        beyond, beyond_small = peak - out, peak_small - out_small
        block_bytes = default_chunk * (N_FEATURES + N_COMPONENTS) * 4
        share = beyond / block_bytes
        growth = beyond / max(beyond_small, 1)
        rows.append(
            [
                name,
                f"{out / mb:.1f}",
                f"{peak / mb:.1f}",
                f"{beyond / mb:.2f}",
                f"{share:.2f}",
                f"{beyond_small / mb:.2f}",
                f"{growth:.2f}",
                f"{(peak_whole - out_whole) / mb:.1f}",
            ]
        )
        goals.append((name, share <= GOAL_BLOCKS and growth <= GROWTH_GOAL))

    blas = ", ".join(
        f"{lib.get('internal_api')} {lib.get('version')} {lib.get('architecture')} "
        f"({lib.get('num_threads')} threads)"
        for lib in blas_libraries()
    )
    n = args.n_samples
    report = "\n".join(
        [
            "# Memory of blockwise transform, score_samples and inverse_transform",
            "",
            f"Command: `{command_line()}`  ",
            f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC  ",
            f"CPU: {cpu_model()}; BLAS: {blas}  ",
            f"X: {n} x {N_FEATURES} float32 memmap ({n * N_FEATURES * 4 / mb:.0f} MB); "
            f"SparseAutoencoder(n_components={N_COMPONENTS}) fitted on {N_TRAIN} rows; "
            f"chunk_size={default_chunk} (default). Peaks by tracemalloc (MB = 1e6 bytes).",
            "",
            markdown_table(
                [
                    "method",
                    "output MB",
                    "peak MB",
                    "beyond output MB",
                    "beyond / one block",
                    f"beyond, {SMALL} rows MB",
                    f"growth {n}/{SMALL}",
                    "beyond output, chunk_size=None MB",
                ],
                rows,
                align="lrrrrrrr",
            ),
            "",
            f"One block: {default_chunk} rows x ({N_FEATURES} + {N_COMPONENTS}) float32 = "
            f"{default_chunk * (N_FEATURES + N_COMPONENTS) * 4 / mb:.2f} MB.",
            "",
            f"Goals: beyond-output memory <= {GOAL_BLOCKS:g} blocks and growth <= "
            f"{GROWTH_GOAL} from {SMALL} to {n} rows: "
            + ", ".join(f"{name} {'met' if ok else 'NOT met'}" for name, ok in goals)
            + ".",
            "",
        ]
    )
    print()
    print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
