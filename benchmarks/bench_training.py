"""Training speed of skae against its BLAS floor, scikit-learn and PyTorch.

Run from the repository root, with OpenBLAS choosing its own kernel as users run NumPy::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_training.py

On MNIST-sized data (60000 x 784 float32), 256 sigmoid hidden units and squared error,
it times one epoch of minibatch training (batch 256, "sgd" and "adam"), one full-batch
objective-and-gradient evaluation as L-BFGS calls it (sparsity on), the matrix products
alone (the floor), scikit-learn's ``MLPRegressor`` and, if importable, PyTorch on the
CPU. The repeats of all measurements are interleaved (round-robin) so that machine noise
affects all alike; the table reports the median and the minimum. It also measures the
peak memory above X of one full-batch evaluation for 10k and 60k samples.

The table is printed and written as Markdown to ``benchmarks/results/bench_training.md``.
``--quick`` (10000 samples, 1 repeat) is a smoke run that writes no file unless
``--output`` is given. See ``benchmarks/README.md`` for what each row means.
"""

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

# this checkout's skae first (a script's own folder, not the working directory, is on the path)
sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from _harness import (  # noqa: E402
    CLOCKS,
    REPO_ROOT,
    RESULTS,
    Environment,
    Goals,
    LoadMeter,
    Patience,
    ThreadScaling,
    Timings,
    accelerator_line,
    beside_products_line,
    blas_libraries,
    blas_threads,
    command_line,
    common_arguments,
    cpu_model,
    dense_floor,
    finish_arguments,
    load_mnist_like,
    log,
    markdown_table,
    numpy_path,
    numpy_sigmoid,
    peak_above_x,
    profile_run,
    run_interleaved,
    thread_limits,
    thread_report,
    torch_available,
    wait_for_quiet,
    write_report,
)

from skae import SparseAutoencoder  # noqa: E402
from skae._core.network import Autoencoder  # noqa: E402
from skae._core.optimizers import SGD, Adam  # noqa: E402

DEFAULT_OUTPUT = RESULTS / "bench_training.md"

N_FEATURES = 784
N_HIDDEN = 256
BATCH_SIZE = 256
LEARNING_RATE = 1e-3
MOMENTUM = 0.9
# full-batch objective: SparseAutoencoder's defaults (L-BFGS, rho = 0.05, beta = 3)
SPARSE_KWARGS = {"alpha": 1e-4, "sparsity_target": 0.05, "sparsity_weight": 3.0}
MEMORY_SIZES = (10_000, 60_000)
# bench_memory.py imports these from this script; they live in _harness now
SHARED_WITH_BENCH_MEMORY = (blas_libraries, command_line, cpu_model, peak_above_x)

# goals of the issues (21 for the epoch and PyTorch; 9 before: 1.5 and 1.0)
EPOCH_GOAL = 1.25  # skae epoch within 1.25x of its floor
FLOOR_GOAL = 1.5  # full-batch gradient within 1.5x of its floor
MLP_GOAL = 1.2  # skae at least 1.2x faster than MLPRegressor
TORCH_GOAL = 1.3  # skae at least 1.3x faster than PyTorch
DTYPE_GOAL = 1.7  # float32 at least 1.7x faster than float64
MEMORY_GROWTH_GOAL = 1.1  # peak(60k) / peak(10k): chunked, must not grow with n_samples

LAYERS = (N_FEATURES, N_HIDDEN, N_FEATURES)
# one minibatch epoch (batches of 256): 5 products per batch; one chunked full-batch
# gradient with sparsity on: the encoder product of the rho^ pass, then the same 5
minibatch_floor = dense_floor(LAYERS, BATCH_SIZE)


def full_batch_floor(chunk_size):
    return dense_floor(LAYERS, chunk_size, first_pass_layers=1)


# -- measurements: each a factory ``make(X) -> run()`` ------------------------------------
def skae_fit(solver, output_activation="sigmoid"):
    """One epoch of ``SparseAutoencoder(...).fit(X)``, validation included."""

    def make(X):
        def run():
            estimator = SparseAutoencoder(
                n_components=N_HIDDEN,
                output_activation=output_activation,
                sparsity_weight=0,
                alpha=0,
                solver=solver,
                batch_size=BATCH_SIZE,
                learning_rate_init=LEARNING_RATE,
                momentum=MOMENTUM,
                max_iter=1,
                random_state=0,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                estimator.fit(X)

        return run

    return make


def skae_core(solver):
    """One epoch of the bare core loop: shuffle, gather, ``objective``, ``step``.

    No validation, no finiteness checks, no loss bookkeeping: what is left of the
    estimator's loop when everything but the arithmetic is taken out.
    """

    def make(X):
        n = X.shape[0]
        network = Autoencoder(X.shape[1], N_HIDDEN, dtype=X.dtype)

        def run():
            rng = np.random.default_rng(0)
            theta = network.init_params(rng)
            grad = np.empty_like(theta)
            if solver == "adam":
                optimizer = Adam(theta, learning_rate=LEARNING_RATE)
            else:
                optimizer = SGD(theta, learning_rate=LEARNING_RATE, momentum=MOMENTUM)
            order = rng.permutation(n)
            for start in range(0, n, BATCH_SIZE):
                network.objective(theta, X[order[start : start + BATCH_SIZE]], grad)
                optimizer.step(grad)

        return run

    return make


def part_objective(X):
    """Part of the core loop: ``objective`` on every contiguous batch of one epoch."""
    n = X.shape[0]
    network = Autoencoder(X.shape[1], N_HIDDEN, dtype=X.dtype)
    theta = network.init_params(np.random.default_rng(0))
    grad = np.empty_like(theta)

    def run():
        for start in range(0, n, BATCH_SIZE):
            network.objective(theta, X[start : start + BATCH_SIZE], grad)

    return run


def part_gather(X):
    """Part of the core loop: the shuffled batches ``X[order[batch]]`` of one epoch."""
    n = X.shape[0]

    def run():
        order = np.random.default_rng(0).permutation(n)
        for start in range(0, n, BATCH_SIZE):
            X[order[start : start + BATCH_SIZE]]

    return run


def part_step(solver):
    """Part of the core loop: one optimiser step per batch of one epoch."""

    def make(X):
        n_batches = -(-X.shape[0] // BATCH_SIZE)
        network = Autoencoder(X.shape[1], N_HIDDEN, dtype=X.dtype)
        rng = np.random.default_rng(0)
        theta = network.init_params(rng)
        grad = (1e-3 * rng.standard_normal(theta.shape)).astype(X.dtype)

        def run():
            if solver == "adam":
                optimizer = Adam(theta.copy(), learning_rate=LEARNING_RATE)
            else:
                optimizer = SGD(theta.copy(), learning_rate=LEARNING_RATE, momentum=MOMENTUM)
            for _ in range(n_batches):
                optimizer.step(grad)

        return run

    return make


def skae_objective(chunk_size):
    """One full-batch objective and gradient with sparsity on, as L-BFGS calls it."""

    def make(X):
        network = Autoencoder(X.shape[1], N_HIDDEN, dtype=X.dtype, **SPARSE_KWARGS)
        theta = network.init_params(np.random.default_rng(0))
        grad = np.empty_like(theta)

        def run():
            network.objective(theta, X, grad, chunk_size=chunk_size)

        return run

    return make


def mlp_fit(solver):
    """One epoch of scikit-learn's ``MLPRegressor`` trained X to X (identity output)."""

    def make(X):
        def run():
            estimator = MLPRegressor(
                hidden_layer_sizes=(N_HIDDEN,),
                activation="logistic",
                solver=solver,
                batch_size=BATCH_SIZE,
                learning_rate_init=LEARNING_RATE,
                momentum=MOMENTUM,
                max_iter=1,
                shuffle=True,
                alpha=0,
                random_state=0,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                estimator.fit(X, X)

        return run

    return make


def torch_fit(solver, n_threads):
    """One epoch of the same model and optimiser in PyTorch on the CPU.

    Sigmoid encoder and decoder, loss ``1/2 sum ||x^ - x||^2 / batch`` as skae's,
    Adam or SGD with Nesterov momentum, batch 256, shuffled.
    """
    import torch

    torch.set_num_threads(n_threads)

    def make(X):
        X_t = torch.from_numpy(X)
        n, d = X.shape

        def run():
            torch.manual_seed(0)
            model = torch.nn.Sequential(
                torch.nn.Linear(d, N_HIDDEN),
                torch.nn.Sigmoid(),
                torch.nn.Linear(N_HIDDEN, d),
                torch.nn.Sigmoid(),
            )
            if solver == "adam":
                optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
            else:
                optimizer = torch.optim.SGD(
                    model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM, nesterov=True
                )
            order = torch.randperm(n)
            for start in range(0, n, BATCH_SIZE):
                x_b = X_t[order[start : start + BATCH_SIZE]]
                optimizer.zero_grad(set_to_none=True)
                loss = 0.5 * torch.sum((model(x_b) - x_b) ** 2) / x_b.shape[0]
                loss.backward()
                optimizer.step()

        return run

    return make


# -- memory ----------------------------------------------------------------------------
def memory_objective(X, chunk_size):
    """Peak above X of one full-batch objective+gradient (fresh workspace, sparsity on)."""
    network = Autoencoder(X.shape[1], N_HIDDEN, dtype=X.dtype, **SPARSE_KWARGS)
    theta = network.init_params(np.random.default_rng(0))
    grad = np.empty_like(theta)
    return peak_above_x(lambda: network.objective(theta, X, grad, chunk_size=chunk_size))


def memory_estimator(X):
    """Peak above X of ``SparseAutoencoder(solver="lbfgs", max_iter=1).fit(X)``."""

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            SparseAutoencoder(n_components=N_HIDDEN, max_iter=1, random_state=0).fit(X)

    return peak_above_x(run)


# -- profile ---------------------------------------------------------------------------
def profile_epoch(X, clock, n_rows=15):
    """cProfile of one skae adam epoch (the estimator's fit): ``_harness.profile_run``."""
    return profile_run(skae_fit("adam")(X), clock, n_rows, _short_path)


def _short_path(filename):
    path = Path(filename)
    for root in (REPO_ROOT, Path(np.__file__).parents[1]):
        try:
            return str(path.relative_to(root))
        except ValueError:
            continue
    return path.name


# -- the run ---------------------------------------------------------------------------
# key -> key of the floor row it is divided by
FLOORS = {
    **dict.fromkeys(
        [
            "floor",
            "skae_sgd",
            "skae_adam",
            "skae_sgd_numpy",
            "skae_adam_numpy",
            "skae_sgd_numpy_sigmoid",
            "skae_adam_numpy_sigmoid",
            "core_sgd",
            "core_adam",
            "part_objective",
            "part_gather",
            "part_sgd",
            "part_adam",
            "skae_sgd_id",
            "skae_adam_id",
            "mlp_sgd",
            "mlp_adam",
            "torch_sgd",
            "torch_adam",
        ],
        "floor",
    ),
    "floor64": "floor64",
    "skae_adam64": "floor64",
    "floor_full": "floor_full",
    "objective": "floor_full",
}


def measurements_to_run(chunk_size, use_torch, n_threads):
    """key -> (label, factory, data key), in the order they run and are reported."""
    measurements = {
        "floor": ("floor: 5 matmuls per batch, 1 epoch", minibatch_floor, "f32"),
        "skae_sgd": ("skae fit sgd", skae_fit("sgd"), "f32"),
        "skae_adam": ("skae fit adam", skae_fit("adam"), "f32"),
        "skae_sgd_numpy": ("skae fit sgd, NumPy path", numpy_path(skae_fit("sgd")), "f32"),
        "skae_adam_numpy": ("skae fit adam, NumPy path", numpy_path(skae_fit("adam")), "f32"),
        "skae_sgd_numpy_sigmoid": (
            "skae fit sgd, NumPy sigmoid (before issue 21's sigmoid)",
            numpy_sigmoid(skae_fit("sgd")),
            "f32",
        ),
        "skae_adam_numpy_sigmoid": (
            "skae fit adam, NumPy sigmoid (before issue 21's sigmoid)",
            numpy_sigmoid(skae_fit("adam")),
            "f32",
        ),
        "core_sgd": ("skae core loop sgd", skae_core("sgd"), "f32"),
        "core_adam": ("skae core loop adam", skae_core("adam"), "f32"),
        "part_objective": ("part: objective on each batch", part_objective, "f32"),
        "part_gather": ("part: gather X[order[batch]]", part_gather, "f32"),
        "part_sgd": ("part: SGD.step per batch", part_step("sgd"), "f32"),
        "part_adam": ("part: Adam.step per batch", part_step("adam"), "f32"),
        "skae_sgd_id": ("skae fit sgd, identity output", skae_fit("sgd", "identity"), "f32"),
        "skae_adam_id": ("skae fit adam, identity output", skae_fit("adam", "identity"), "f32"),
        "mlp_sgd": ("MLPRegressor sgd (identity output)", mlp_fit("sgd"), "f32"),
        "mlp_adam": ("MLPRegressor adam (identity output)", mlp_fit("adam"), "f32"),
    }
    if use_torch:
        measurements["torch_sgd"] = ("PyTorch sgd", torch_fit("sgd", n_threads), "f32")
        measurements["torch_adam"] = ("PyTorch adam", torch_fit("adam", n_threads), "f32")
    measurements["floor64"] = ("floor float64: 5 matmuls per batch", minibatch_floor, "f64")
    measurements["skae_adam64"] = ("skae fit adam float64", skae_fit("adam"), "f64")
    measurements["floor_full"] = (
        f"floor: full batch, 6 matmuls per {chunk_size}-row chunk",
        full_batch_floor(chunk_size),
        "f32",
    )
    measurements["objective"] = (
        f"skae objective+gradient, sparsity on, chunk {chunk_size}",
        skae_objective(chunk_size),
        "f32",
    )
    return measurements


def goal_table(timings, memory, use_torch):
    goals = Goals(timings)
    for solver in ("sgd", "adam"):
        name = f"skae {solver} epoch / floor"
        goals.ratio(name, f"skae_{solver}", "floor", f"<= {EPOCH_GOAL}", at_most=EPOCH_GOAL)
        name = f"(skae {solver} epoch, NumPy path / floor)"
        goals.ratio(name, f"skae_{solver}_numpy", "floor", "info")
        name = f"(skae {solver} epoch, NumPy sigmoid / floor)"
        goals.ratio(name, f"skae_{solver}_numpy_sigmoid", "floor", "info")
    name = "full-batch gradient / floor"
    goals.ratio(name, "objective", "floor_full", f"<= {FLOOR_GOAL}", at_most=FLOOR_GOAL)
    for solver in ("sgd", "adam"):
        name = f"MLPRegressor / skae, {solver}, identity output"
        goals.ratio(
            name, f"mlp_{solver}", f"skae_{solver}_id", f">= {MLP_GOAL}", at_least=MLP_GOAL
        )
    for solver in ("sgd", "adam"):
        name = f"PyTorch / skae, {solver}"
        target = f">= {TORCH_GOAL}"
        if use_torch:
            goals.ratio(name, f"torch_{solver}", f"skae_{solver}", target, at_least=TORCH_GOAL)
        else:
            goals.add([name, "n/a", "n/a", target, "not measured", ""])
    name = "float64 / float32, skae adam epoch"
    goals.ratio(name, "skae_adam64", "skae_adam", f">= {DTYPE_GOAL}", at_least=DTYPE_GOAL)
    goals.ratio("(float64 / float32, floor alone)", "floor64", "floor", "info")
    (n_small, _, peak_small, _), (n_large, bytes_large, peak_large, est_large) = memory
    growth = peak_large / peak_small
    goals.add(
        [
            f"memory: peak {n_large // 1000}k / peak {n_small // 1000}k (objective)",
            f"{growth:.2f}",
            "",
            f"<= {MEMORY_GROWTH_GOAL}",
            "yes" if growth <= MEMORY_GROWTH_GOAL else "**no**",
            "",
        ]
    )
    copy_ratio = max(peak_large, est_large) / bytes_large
    goals.add(
        [
            f"no float64 copy of X: max peak / X.nbytes at {n_large // 1000}k "
            "(objective, lbfgs fit)",
            f"{copy_ratio:.2f}",
            "",
            "< 2 (a copy is >= 2)",
            "yes" if copy_ratio < 2 else "**no**",
            "",
        ]
    )
    return goals.table()


def breakdown_table(low):
    """Where an epoch goes: floor, rest of objective, gather, step, loop, estimator."""
    parts = [
        ("5 matmuls (floor)", lambda t, s: t["floor"]),
        ("objective beyond the matmuls", lambda t, s: t["part_objective"] - t["floor"]),
        ("gather X[order[batch]]", lambda t, s: t["part_gather"]),
        ("optimizer step", lambda t, s: t[f"part_{s}"]),
        (
            "rest of the core loop",
            lambda t, s: t[f"core_{s}"] - t["part_objective"] - t["part_gather"] - t[f"part_{s}"],
        ),
        ("estimator beyond the core loop", lambda t, s: t[f"skae_{s}"] - t[f"core_{s}"]),
        ("skae fit, total", lambda t, s: t[f"skae_{s}"]),
    ]
    rows = []
    for label, part in parts:
        row = [label]
        for solver in ("sgd", "adam"):
            seconds = part(low, solver)
            row += [f"{seconds:.3f}", f"{seconds / low[f'skae_{solver}']:.0%}"]
        rows.append(row)
    return markdown_table(["part (minima)", "sgd s", "sgd share", "adam s", "adam share"], rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common_arguments(parser, DEFAULT_OUTPUT)
    args = finish_arguments(parser.parse_args(argv), DEFAULT_OUTPUT)
    env = Environment("bench_training.py", args.threads, args.clock)
    use_torch = not args.no_torch and torch_available()

    X_full, _, source = load_mnist_like(max(args.n_samples, *MEMORY_SIZES), args.random)
    X32 = X_full[: args.n_samples]
    X64 = X32.astype(np.float64)
    chunk_size = SparseAutoencoder().chunk_size
    n_batches = -(-args.n_samples // BATCH_SIZE)
    log(f"data: {source}, X {X32.shape} float32, {n_batches} batches of {BATCH_SIZE}")

    data = {"f32": X32, "f64": X64}
    warmup = {"f32": X32[:2048], "f64": X64[:2048]}
    patience = Patience(args.patience)
    scaling = ThreadScaling(
        [
            ("floor", "floor"),
            ("skae_sgd", "skae fit sgd"),
            ("skae_sgd_numpy", "skae fit sgd, NumPy path"),
            ("skae_adam", "skae fit adam"),
            ("skae_adam_numpy", "skae fit adam, NumPy path"),
            ("skae_adam_numpy_sigmoid", "skae fit adam, NumPy sigmoid"),
            ("mlp_adam", "MLPRegressor adam"),
            ("torch_sgd", "PyTorch sgd"),
            ("torch_adam", "PyTorch adam"),
        ],
        "floor",
    )
    runs = []  # (n_threads, measurements, timings)
    for count in env.thread_counts:
        with thread_limits(count):
            n_threads = blas_threads()
            measurements = measurements_to_run(chunk_size, use_torch, n_threads)
            log(
                f"{n_threads} thread(s): timing {len(measurements)} measurements x "
                f"{args.repeats} repeats, interleaved"
            )
            samples = run_interleaved(
                measurements, data, warmup, args.repeats, patience, args.clock
            )
        timings = Timings(samples)
        scaling.add(n_threads, timings)
        runs.append((n_threads, measurements, timings))
    del X64

    log("memory: tracemalloc peaks above X")
    memory = []
    for n in MEMORY_SIZES:
        X_n = X_full[:n]
        memory.append((n, X_n.nbytes, memory_objective(X_n, chunk_size), memory_estimator(X_n)))

    log("profile: cProfile of one skae adam epoch")
    wait_for_quiet(LoadMeter(), patience)
    with thread_limits(max(env.thread_counts, key=lambda n: n or 0)):
        profile_total, profile_rows, beside = profile_epoch(X32, CLOCKS[args.clock])

    memory_table = markdown_table(
        ["n_samples", "X MB", "objective+gradient peak MB", "lbfgs fit(max_iter=1) peak MB"],
        [
            [f"{n}", f"{nbytes / 2**20:.1f}", f"{peak / 2**20:.1f}", f"{est / 2**20:.1f}"]
            for n, nbytes, peak, est in memory
        ],
    )
    profile_table = markdown_table(["function", "ncalls", "own s", "cumulative s"], profile_rows)
    header = env.header(
        "skae training benchmark",
        use_torch,
        [
            f"data: {source}; X {X32.shape[0]} x {X32.shape[1]} float32; {N_HIDDEN} sigmoid "
            f"hidden units, squared error; batch {BATCH_SIZE} ({n_batches} batches per "
            f"epoch); full-batch chunk_size {chunk_size}",
            timings.method_line(args.repeats, patience),
            accelerator_line(),
        ],
    )
    notes = (
        "Rows: `skae fit` is `SparseAutoencoder(n_components=256, sparsity_weight=0, "
        "alpha=0, solver=..., batch_size=256, max_iter=1, random_state=0).fit(X)`, "
        "validation included, sigmoid output unless marked. MLPRegressor has an identity "
        "output, so it is compared with the `identity output` skae rows (like for like); "
        "PyTorch runs the sigmoid-output model and is compared with the sigmoid rows. "
        "`/ floor` divides by the floor row named in the last column. See "
        "benchmarks/README.md."
    )
    sections = []
    for n_threads, measurements, timings in runs:
        sections += [
            f"## Times, {n_threads} thread(s)",
            "",
            timings.table(measurements, FLOORS),
            "",
            notes,
            "",
            f"## Goals, {n_threads} thread(s)",
            "",
            goal_table(timings, memory, use_torch),
            "",
            f"## Where a skae epoch goes, {n_threads} thread(s) (differences of the minima)",
            "",
            breakdown_table(timings.min),
            "",
        ]
    pairs = [
        ("torch_adam", "skae_adam", "PyTorch / skae, adam"),
        ("torch_sgd", "skae_sgd", "PyTorch / skae, sgd"),
        ("skae_adam_numpy", "skae_adam", "skae NumPy path / skae, adam"),
        ("skae_adam_numpy_sigmoid", "skae_adam", "skae NumPy sigmoid / skae, adam"),
        ("skae_adam", "floor", "skae adam / floor"),
    ]
    report = "\n".join(
        [
            *header,
            "",
            *sections,
            *thread_report(scaling, pairs),
            "## Memory above X (tracemalloc, started after X exists)",
            "",
            memory_table,
            "",
            f"## Profile: one skae adam epoch (fit), {profile_total:.2f} s {args.clock} time "
            "under cProfile",
            "",
            "Top functions by own time; NumPy ufuncs (matmul, exp, in-place arithmetic) "
            "are counted in the Python function that calls them.",
            "",
            profile_table,
            "",
            beside_products_line(profile_total, beside),
            "",
        ]
    )
    write_report(report, args.output)


if __name__ == "__main__":
    main()
