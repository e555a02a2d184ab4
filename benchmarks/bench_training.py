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
import cProfile
import datetime
import gzip
import io
import os
import platform
import pstats
import shlex
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import scipy
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_info

from skae import SparseAutoencoder
from skae._core.network import Autoencoder
from skae._core.optimizers import SGD, Adam

REPO_ROOT = Path(__file__).resolve().parents[1]
MNIST_IMAGES = REPO_ROOT.parent / "shared" / "data" / "mnist" / "train-images-idx3-ubyte.gz"
DEFAULT_OUTPUT = REPO_ROOT / "benchmarks" / "results" / "bench_training.md"
PINNING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
DOCUMENTED_COMMAND = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python"

N_FEATURES = 784
N_HIDDEN = 256
BATCH_SIZE = 256
LEARNING_RATE = 1e-3
MOMENTUM = 0.9
# full-batch objective: SparseAutoencoder's defaults (L-BFGS, rho = 0.05, beta = 3)
SPARSE_KWARGS = {"alpha": 1e-4, "sparsity_target": 0.05, "sparsity_weight": 3.0}
MEMORY_SIZES = (10_000, 60_000)
# contention control: other processes' CPU use, in cores, measured from /proc/stat
SETTLE_SECONDS = 0.25  # pause before each run, also the window that samples the load
QUIET_CORES = 0.2  # a run is "quiet" if other processes used at most this many cores
MAX_RETRIES = 2  # extra attempts of a disturbed run, while the patience lasts
DEFAULT_PATIENCE = 240  # seconds in all for waiting and retrying

# goals of the issue
FLOOR_GOAL = 1.5  # skae epoch (and full-batch gradient) within 1.5x of its floor
MLP_GOAL = 1.2  # skae at least 1.2x faster than MLPRegressor
TORCH_GOAL = 1.0  # skae no slower than PyTorch
DTYPE_GOAL = 1.7  # float32 at least 1.7x faster than float64
MEMORY_GROWTH_GOAL = 1.1  # peak(60k) / peak(10k): chunked, must not grow with n_samples


# -- data and environment --------------------------------------------------------------
def load_data(n_samples, force_random):
    """MNIST training images as float32 in [0, 1], or random data of the same shape.

    Returns
    -------
    X : ndarray of shape (n_samples, 784), float32
    source : str
    """
    if not force_random and MNIST_IMAGES.exists():
        with gzip.open(MNIST_IMAGES, "rb") as f:
            pixels = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
        X = pixels.reshape(-1, N_FEATURES)[:n_samples].astype(np.float32)
        X /= 255
        source = f"MNIST ({MNIST_IMAGES.relative_to(REPO_ROOT.parent)})"
    else:
        X = np.random.default_rng(0).random((n_samples, N_FEATURES), dtype=np.float32)
        source = "random uniform [0, 1)"
    if X.shape[0] < n_samples:  # a truncated file: top up with random rows
        extra = np.random.default_rng(0).random(
            (n_samples - X.shape[0], N_FEATURES), dtype=np.float32
        )
        X = np.vstack([X, extra])
        source += " topped up with random rows"
    return np.ascontiguousarray(X), source


def blas_libraries():
    return [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def avx512_cpu():
    try:
        return " avx512f" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def command_line():
    """The command as run: with the documented ``env -u ...`` if both variables are unset."""
    script = os.path.relpath(Path(sys.argv[0]).resolve(), Path.cwd())
    args = shlex.join([script, *sys.argv[1:]])
    # inside a virtual environment name its interpreter, else the usual "python"
    python = sys.executable if sys.prefix != sys.base_prefix else "python"
    pinned = any(v in os.environ for v in PINNING_VARIABLES)
    prefix = "" if pinned else "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "
    return f"{prefix}{python} {args}"


def load_average():
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


# -- measurements: each a factory ``make(X) -> run()`` ------------------------------------
def _weights(dtype, seed=0):
    r = np.sqrt(6.0 / (N_FEATURES + N_HIDDEN + 1))
    rng = np.random.default_rng(seed)
    return [rng.uniform(-r, r, (N_HIDDEN, N_FEATURES)).astype(dtype) for _ in range(2)]


def _floor(rows, rho_hat_pass):
    """The matmuls a training step cannot avoid, on blocks of ``rows`` rows.

    Per block: encoder ``X_b @ W_enc^T``, decoder ``H @ W_dec``, backprop
    ``d_out @ W_dec^T``, ``dW_dec = H^T d_out``, ``dW_enc = d_hidden^T X_b``; all with
    ``np.matmul`` into preallocated arrays. ``rho_hat_pass`` adds the encoder product of
    a first pass over all blocks (rho^ needs every row before the gradient).
    """

    def make(X):
        n, d = X.shape
        size = min(rows, n)
        w_enc, w_dec = _weights(X.dtype)
        h = np.empty((size, N_HIDDEN), X.dtype)
        d_out = np.empty((size, d), X.dtype)
        d_hidden = np.empty((size, N_HIDDEN), X.dtype)
        g_enc = np.empty((N_HIDDEN, d), X.dtype)
        g_dec = np.empty((N_HIDDEN, d), X.dtype)

        def run():
            if rho_hat_pass:
                for start in range(0, n, size):
                    x_b = X[start : start + size]
                    np.matmul(x_b, w_enc.T, out=h[: x_b.shape[0]])
            for start in range(0, n, size):
                x_b = X[start : start + size]
                r = x_b.shape[0]
                np.matmul(x_b, w_enc.T, out=h[:r])
                np.matmul(h[:r], w_dec, out=d_out[:r])  # the output stands in for d_out
                np.matmul(d_out[:r], w_dec.T, out=d_hidden[:r])
                np.matmul(h[:r].T, d_out[:r], out=g_dec)
                np.matmul(d_hidden[:r].T, x_b, out=g_enc)

        return run

    return make


# one minibatch epoch (batches of 256); one chunked full-batch gradient with sparsity on
minibatch_floor = _floor(BATCH_SIZE, rho_hat_pass=False)


def full_batch_floor(chunk_size):
    return _floor(chunk_size, rho_hat_pass=True)


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


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


# -- memory ----------------------------------------------------------------------------
def peak_above_x(run):
    """Peak bytes traced by tracemalloc during ``run()`` (X exists before it starts)."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


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
def profile_epoch(X, n_rows=15):
    """cProfile of one skae adam epoch (the estimator's fit): top functions by own time.

    NumPy ufuncs (``np.matmul``, ``np.exp``, in-place operators) do not show up as
    entries of their own: their time is the own time of the Python function calling
    them.
    """
    profiler = cProfile.Profile()
    run = skae_fit("adam")(X)
    profiler.enable()
    run()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    total = stats.total_tt
    rows = []
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in sorted(
        stats.stats.items(), key=lambda item: -item[1][2]
    )[:n_rows]:
        where = name if filename == "~" else f"{_short_path(filename)}:{line}({name})"
        rows.append([where, str(ncalls), f"{tottime:.3f}", f"{cumtime:.3f}"])
    return total, rows


def _short_path(filename):
    path = Path(filename)
    for root in (REPO_ROOT, Path(np.__file__).parents[1]):
        try:
            return str(path.relative_to(root))
        except ValueError:
            continue
    return path.name


# -- running and reporting -------------------------------------------------------------
class LoadMeter:
    """CPU time that other processes (and the hypervisor, as steal) use while we run.

    Linux only (``/proc/stat``); elsewhere :meth:`stop` returns nan and nothing waits.
    """

    def __init__(self):
        self.available = Path("/proc/stat").exists() and hasattr(os, "sysconf")
        self.tick = os.sysconf("SC_CLK_TCK") if self.available else 100
        self._start = None

    def _snapshot(self):
        # cpu user nice system idle iowait irq softirq steal: busy = all but idle, iowait
        with open("/proc/stat") as f:
            ticks = [int(v) for v in f.readline().split()[1:9]]
        own = os.times()
        busy = (sum(ticks) - ticks[3] - ticks[4]) / self.tick
        return time.perf_counter(), busy, own.user + own.system

    def start(self):
        if self.available:
            self._start = self._snapshot()

    def stop(self):
        """Mean number of cores used by others since :meth:`start`."""
        if not self.available:
            return float("nan")
        wall, busy, own = self._snapshot()
        wall0, busy0, own0 = self._start
        return max(0.0, (busy - busy0 - (own - own0)) / max(wall - wall0, 1e-9))


def quiet(load):
    return not load > QUIET_CORES  # nan (no meter) counts as quiet


class Patience:
    """Seconds left for waiting for a quiet machine and for retrying disturbed runs."""

    def __init__(self, seconds):
        self.left = seconds

    def spend(self, seconds):
        self.left -= seconds


def wait_for_quiet(meter, patience):
    """Sample others' load for ``SETTLE_SECONDS``; while it is high, wait (within patience).

    The pause also lets busy-waiting BLAS / OpenMP threads of the previous run go idle.
    """
    while True:
        meter.start()
        time.sleep(SETTLE_SECONDS)
        load = meter.stop()
        if quiet(load) or patience.left <= 0:
            return load
        time.sleep(1.0)
        patience.spend(1.0 + SETTLE_SECONDS)


def run_interleaved(measurements, X, X_warmup, repeats, patience, log):
    """Time every measurement ``repeats`` times, round-robin, after one warm-up each.

    Before each run it waits for the other processes to go quiet, and a run during which
    they used more than ``QUIET_CORES`` cores is repeated (up to ``MAX_RETRIES`` times),
    both within ``patience``. All runs are kept, with the others' load during each.

    Returns
    -------
    samples : dict of key -> list of (seconds, others' load in cores)
    """
    meter = LoadMeter()
    runs = {}
    for key, (_, make, data) in measurements.items():
        make(X_warmup[data])()  # warm-up: imports, BLAS threads, first-touch pages
        runs[key] = make(X[data])
    samples = {key: [] for key in measurements}
    for repeat in range(repeats):
        for key, run in runs.items():
            for attempt in range(1 + MAX_RETRIES):
                wait_for_quiet(meter, patience)
                meter.start()
                start = time.perf_counter()
                run()
                seconds = time.perf_counter() - start
                load = meter.stop()
                samples[key].append((seconds, load))
                flag = "" if quiet(load) else "  disturbed"
                log(
                    f"  repeat {repeat + 1}/{repeats}  {key:<15} {seconds:8.3f} s   "
                    f"others {load:4.2f} cores{flag}"
                )
                if quiet(load) or patience.left <= 0 or attempt == MAX_RETRIES:
                    break
                patience.spend(seconds)
    return samples


def summarise(samples):
    """Median and min of the quiet runs (of all runs if none was quiet), and counts."""
    used = [(t, load) for t, load in samples if quiet(load)] or samples
    times = [t for t, _ in used]
    return {
        "median": float(np.median(times)),
        "min": float(np.min(times)),
        "quiet": sum(quiet(load) for _, load in samples),
        "runs": len(samples),
        "max_load": max(load for _, load in used),
    }


def markdown_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        padded = (str(c).ljust(w) for c, w in zip(cells, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument("--n-samples", type=int, default=60_000, help="rows (default 60000)")
    parser.add_argument("--random", action="store_true", help="random data, not MNIST")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 10000 samples, 1 repeat, no file"
    )
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if present")
    parser.add_argument(
        "--patience",
        type=float,
        default=DEFAULT_PATIENCE,
        help="seconds in all to wait for other processes to go quiet and to retry runs "
        f"they disturbed (default {DEFAULT_PATIENCE}; 0: never wait)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"Markdown file (default {DEFAULT_OUTPUT.relative_to(REPO_ROOT)}; none if --quick)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.n_samples, args.repeats = 10_000, 1
    elif args.output is None:
        args.output = DEFAULT_OUTPUT
    wall_start = time.perf_counter()
    load_start = load_average()

    def log(message):
        print(message, flush=True)

    # -- environment ------------------------------------------------------------------
    blas = blas_libraries()
    n_threads = max((lib["num_threads"] for lib in blas), default=os.cpu_count() or 1)
    pinned = {v: os.environ[v] for v in PINNING_VARIABLES if v in os.environ}
    for lib in blas:
        log(
            f"BLAS: {lib.get('internal_api')} {lib.get('version')}, kernel "
            f"{lib.get('architecture')}, {lib.get('num_threads')} threads"
        )
    if pinned:
        warnings.warn(
            f"{', '.join(f'{k}={v}' for k, v in pinned.items())} is set: OpenBLAS runs a "
            f"pinned kernel, not the one users get. Run with `{DOCUMENTED_COMMAND} "
            "benchmarks/bench_training.py`.",
            stacklevel=1,
        )
    if avx512_cpu() and not pinned:
        for lib in blas:
            if lib.get("internal_api") == "openblas" and lib.get("architecture") != "SkylakeX":
                log(f"note: {lib.get('architecture')} kernel on an AVX-512 CPU, SkylakeX expected")
    use_torch = not args.no_torch and torch_available()

    # -- data -------------------------------------------------------------------------
    X_full, source = load_data(max(args.n_samples, *MEMORY_SIZES), args.random)
    X32 = X_full[: args.n_samples]
    X64 = X32.astype(np.float64)
    chunk_size = SparseAutoencoder().chunk_size
    n_batches = -(-args.n_samples // BATCH_SIZE)
    log(f"data: {source}, X {X32.shape} float32, {n_batches} batches of {BATCH_SIZE}")

    # key -> (label, factory, data key)
    measurements = {
        "floor": ("floor: 5 matmuls per batch, 1 epoch", minibatch_floor, "f32"),
        "skae_sgd": ("skae fit sgd", skae_fit("sgd"), "f32"),
        "skae_adam": ("skae fit adam", skae_fit("adam"), "f32"),
        "core_sgd": ("skae core loop sgd", skae_core("sgd"), "f32"),
        "core_adam": ("skae core loop adam", skae_core("adam"), "f32"),
        "part_objective": ("part: objective on each batch", part_objective, "f32"),
        "part_gather": ("part: gather X[order[batch]]", part_gather, "f32"),
        "part_sgd": ("part: SGD.step per batch", part_step("sgd"), "f32"),
        "part_adam": ("part: Adam.step per batch", part_step("adam"), "f32"),
        "skae_sgd_id": ("skae fit sgd, identity output", skae_fit("sgd", "identity"), "f32"),
        "skae_adam_id": (
            "skae fit adam, identity output",
            skae_fit("adam", "identity"),
            "f32",
        ),
        "mlp_sgd": ("MLPRegressor sgd (identity output)", mlp_fit("sgd"), "f32"),
        "mlp_adam": ("MLPRegressor adam (identity output)", mlp_fit("adam"), "f32"),
    }
    if use_torch:
        measurements["torch_sgd"] = ("PyTorch sgd", torch_fit("sgd", n_threads), "f32")
        measurements["torch_adam"] = ("PyTorch adam", torch_fit("adam", n_threads), "f32")
    measurements.update(
        {
            "floor64": ("floor float64: 5 matmuls per batch", minibatch_floor, "f64"),
            "skae_adam64": ("skae fit adam float64", skae_fit("adam"), "f64"),
            "floor_full": (
                f"floor: full batch, 6 matmuls per {chunk_size}-row chunk",
                full_batch_floor(chunk_size),
                "f32",
            ),
            "objective": (
                f"skae objective+gradient, sparsity on, chunk {chunk_size}",
                skae_objective(chunk_size),
                "f32",
            ),
        }
    )
    data = {"f32": X32, "f64": X64}
    warmup = {"f32": X32[:2048], "f64": X64[:2048]}
    log(f"timing {len(measurements)} measurements x {args.repeats} repeats, interleaved")
    patience = Patience(args.patience)
    samples = run_interleaved(measurements, data, warmup, args.repeats, patience, log)
    stats = {k: summarise(v) for k, v in samples.items()}
    med = {k: v["median"] for k, v in stats.items()}
    low = {k: v["min"] for k, v in stats.items()}
    n_quiet = sum(v["quiet"] for v in stats.values())
    n_runs = sum(v["runs"] for v in stats.values())
    del X64

    # -- memory -----------------------------------------------------------------------
    log("memory: tracemalloc peaks above X")
    memory = []
    for n in MEMORY_SIZES:
        X_n = X_full[:n]
        memory.append((n, X_n.nbytes, memory_objective(X_n, chunk_size), memory_estimator(X_n)))

    # -- profile ----------------------------------------------------------------------
    log("profile: cProfile of one skae adam epoch")
    wait_for_quiet(LoadMeter(), patience)
    profile_total, profile_rows = profile_epoch(X32)

    # -- report -----------------------------------------------------------------------
    floors = {
        "floor": "floor",
        "skae_sgd": "floor",
        "skae_adam": "floor",
        "core_sgd": "floor",
        "core_adam": "floor",
        "part_objective": "floor",
        "part_gather": "floor",
        "part_sgd": "floor",
        "part_adam": "floor",
        "skae_sgd_id": "floor",
        "skae_adam_id": "floor",
        "mlp_sgd": "floor",
        "mlp_adam": "floor",
        "torch_sgd": "floor",
        "torch_adam": "floor",
        "floor64": "floor64",
        "skae_adam64": "floor64",
        "floor_full": "floor_full",
        "objective": "floor_full",
    }
    rows = []
    for key, (label, _, _) in measurements.items():
        ratio = med[key] / med[floors[key]]
        st = stats[key]
        rows.append(
            [
                label,
                f"{med[key]:.3f}",
                f"{low[key]:.3f}",
                f"{ratio:.2f}",
                floors[key],
                f"{st['quiet']}/{st['runs']}",
                f"{st['max_load']:.2f}",
            ]
        )
    time_table = markdown_table(
        ["measurement", "median s", "min s", "/ floor", "floor row", "quiet runs", "max others"],
        rows,
    )

    goals = []

    def goal(name, slow, fast, target, at_most=None, at_least=None):
        """A time ratio ``slow / fast``: of the medians (the goal) and of the minima."""

        def met(value):
            if at_most is None and at_least is None:
                return ""
            ok = (at_most is None or value <= at_most) and (at_least is None or value >= at_least)
            return "yes" if ok else "**no**"

        by_median, by_min = med[slow] / med[fast], low[slow] / low[fast]
        goals.append(
            [name, f"{by_median:.2f}", f"{by_min:.2f}", target, met(by_median), met(by_min)]
        )

    for solver in ("sgd", "adam"):
        name = f"skae {solver} epoch / floor"
        goal(name, f"skae_{solver}", "floor", f"<= {FLOOR_GOAL}", at_most=FLOOR_GOAL)
    name = "full-batch gradient / floor"
    goal(name, "objective", "floor_full", f"<= {FLOOR_GOAL}", at_most=FLOOR_GOAL)
    for solver in ("sgd", "adam"):
        name = f"MLPRegressor / skae, {solver}, identity output"
        goal(name, f"mlp_{solver}", f"skae_{solver}_id", f">= {MLP_GOAL}", at_least=MLP_GOAL)
    for solver in ("sgd", "adam"):
        name = f"PyTorch / skae, {solver}"
        if use_torch:
            target = f">= {TORCH_GOAL}"
            goal(name, f"torch_{solver}", f"skae_{solver}", target, at_least=TORCH_GOAL)
        else:
            goals.append([name, "n/a", "n/a", f">= {TORCH_GOAL}", "not measured", ""])
    name = "float64 / float32, skae adam epoch"
    goal(name, "skae_adam64", "skae_adam", f">= {DTYPE_GOAL}", at_least=DTYPE_GOAL)
    goal("(float64 / float32, floor alone)", "floor64", "floor", "info")
    (n_small, _, peak_small, _), (n_large, bytes_large, peak_large, est_large) = memory
    growth = peak_large / peak_small
    ok = growth <= MEMORY_GROWTH_GOAL
    goals.append(
        [
            f"memory: peak {n_large // 1000}k / peak {n_small // 1000}k (objective)",
            f"{growth:.2f}",
            "",
            f"<= {MEMORY_GROWTH_GOAL}",
            "yes" if ok else "**no**",
            "",
        ]
    )
    copy_ratio = max(peak_large, est_large) / bytes_large
    goals.append(
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
    goal_table = markdown_table(
        ["goal", "ratio of medians", "ratio of minima", "target", "met", "met by minima"], goals
    )

    # where an epoch goes: floor, the rest of objective, gather, step, the estimator
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
    breakdown_rows = []
    for label, part in parts:
        row = [label]
        for solver in ("sgd", "adam"):
            seconds = part(low, solver)
            row += [f"{seconds:.3f}", f"{seconds / low[f'skae_{solver}']:.0%}"]
        breakdown_rows.append(row)
    breakdown_table = markdown_table(
        ["part (minima)", "sgd s", "sgd share", "adam s", "adam share"], breakdown_rows
    )

    memory_table = markdown_table(
        ["n_samples", "X MB", "objective+gradient peak MB", "lbfgs fit(max_iter=1) peak MB"],
        [
            [f"{n}", f"{nbytes / 2**20:.1f}", f"{peak / 2**20:.1f}", f"{est / 2**20:.1f}"]
            for n, nbytes, peak, est in memory
        ],
    )
    profile_table = markdown_table(["function", "ncalls", "own s", "cumulative s"], profile_rows)

    wall = time.perf_counter() - wall_start
    header = [
        "# skae training benchmark",
        "",
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- command: `{command_line()}`",
        f"- python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, scikit-learn {sklearn.__version__}"
        + (f", torch {__import__('torch').__version__}" if use_torch else ", torch not installed"),
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; BLAS threads: {n_threads}",
    ]
    for lib in blas:
        header.append(
            f"- BLAS (threadpoolctl): internal_api={lib.get('internal_api')}, "
            f"architecture={lib.get('architecture')}, version={lib.get('version')}, "
            f"num_threads={lib.get('num_threads')}, file {Path(lib.get('filepath', '')).name}"
        )
    header += [
        "- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: "
        + (", ".join(f"{k}={v}" for k, v in pinned.items()) if pinned else "unset"),
        f"- data: {source}; X {X32.shape[0]} x {X32.shape[1]} float32; {N_HIDDEN} sigmoid "
        f"hidden units, squared error; batch {BATCH_SIZE} ({n_batches} batches per epoch); "
        f"full-batch chunk_size {chunk_size}",
        f"- {args.repeats} repeat(s) per measurement, interleaved round-robin; median and min "
        f"of the quiet runs (others used <= {QUIET_CORES} cores; all runs if none was "
        f"quiet); {n_quiet} of {n_runs} runs quiet, patience {args.patience:.0f} s "
        f"({max(patience.left, 0):.0f} s left)",
        f"- load average at start / end: {load_start} / {load_average()}; "
        f"total run time {wall:.0f} s",
    ]
    notes = [
        "Rows: `skae fit` is `SparseAutoencoder(n_components=256, sparsity_weight=0, "
        "alpha=0, solver=..., batch_size=256, max_iter=1, random_state=0).fit(X)`, "
        "validation included, sigmoid output unless marked. MLPRegressor has an identity "
        "output, so it is compared with the `identity output` skae rows (like for like); "
        "PyTorch runs the sigmoid-output model and is compared with the sigmoid rows. "
        "`/ floor` divides by the floor row named in the last column. See "
        "benchmarks/README.md.",
    ]
    report = "\n".join(
        [
            *header,
            "",
            "## Times",
            "",
            time_table,
            "",
            *notes,
            "",
            "## Goals",
            "",
            goal_table,
            "",
            "## Where a skae epoch goes (differences of the minima above)",
            "",
            breakdown_table,
            "",
            "## Memory above X (tracemalloc, started after X exists)",
            "",
            memory_table,
            "",
            f"## Profile: one skae adam epoch (fit), {profile_total:.2f} s under cProfile",
            "",
            "Top functions by own time; NumPy ufuncs (matmul, exp, in-place arithmetic) "
            "are counted in the Python function that calls them.",
            "",
            profile_table,
            "",
        ]
    )
    print()
    print(report)
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report)
        log(f"written to {args.output}")


if __name__ == "__main__":
    main()
