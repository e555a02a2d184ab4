"""What the speed benchmarks share: environment report, quiet round-robin timing, floors.

``bench_training.py`` (one hidden layer) and ``bench_deep.py`` (the deep classifier) time
their measurements with :func:`run_interleaved`, compare them with a floor made by
:func:`dense_floor` (the matrix products of the same shapes, timed alone), and report
with :func:`environment`, :func:`report_header`, :func:`time_table` and :class:`Goals`.

A measurement is a factory ``make(X) -> run``: ``make`` builds what the run needs
(untimed), ``run()`` is what is timed.
"""

import contextlib
import cProfile
import datetime
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
from threadpoolctl import threadpool_info, threadpool_limits

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "benchmarks" / "results"
MNIST_DIR = REPO_ROOT.parent / "shared" / "data" / "mnist"
MNIST_IMAGES = MNIST_DIR / "train-images-idx3-ubyte.gz"
N_PIXELS = 784
PINNING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
DOCUMENTED_COMMAND = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python"
# how long OpenBLAS's idle workers spin before they sleep (read once, at NumPy's import);
# reported, and kept in the command line, because it moves the 2-thread epochs on a VM
SPIN_VARIABLE = "OPENBLAS_THREAD_TIMEOUT"

# contention control: other processes' CPU use, in cores, measured from /proc/stat
SETTLE_SECONDS = 0.25  # pause before each run, also the window that samples the load
QUIET_CORES = 0.2  # a run is "quiet" if other processes used at most this many cores
MAX_RETRIES = 2  # extra attempts of a disturbed run, while the patience lasts
DEFAULT_PATIENCE = 240  # seconds in all for waiting and retrying


def log(message):
    print(message, flush=True)


# -- data ------------------------------------------------------------------------------
def load_mnist_like(n_samples, force_random=False):
    """MNIST training images (float32 in [0, 1]) and labels, or random data of that shape.

    MNIST is read by the package's own loader, :func:`skae.datasets.load_mnist`, from
    ``MNIST_DIR``; rows beyond its 60000 (or all of them, with ``force_random`` or
    without the files) are random.

    Returns
    -------
    X : ndarray of shape (n_samples, 784), float32, C-contiguous
    y : ndarray of shape (n_samples,), int64, labels 0..9
    source : str
    """
    from skae.datasets import load_mnist  # this checkout's: the scripts put it on the path

    rng = np.random.default_rng(0)
    X = None
    if not force_random:
        try:
            X, y, _, _ = load_mnist(MNIST_DIR, return_X_y=True)
        except FileNotFoundError:
            pass
    if X is not None:
        X, y = X[:n_samples], y[:n_samples]
        source = f"MNIST ({MNIST_IMAGES.relative_to(REPO_ROOT.parent)})"
    else:
        X = rng.random((n_samples, N_PIXELS), dtype=np.float32)
        y = rng.integers(0, 10, n_samples)
        source = "random uniform [0, 1), random labels 0..9"
    if X.shape[0] < n_samples:  # more rows than MNIST has: top up with random rows
        missing = n_samples - X.shape[0]
        X = np.vstack([X, rng.random((missing, N_PIXELS), dtype=np.float32)])
        y = np.concatenate([y, rng.integers(0, 10, missing)])
        source += " topped up with random rows"
    return np.ascontiguousarray(X), y, source


# -- environment -----------------------------------------------------------------------
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
    if SPIN_VARIABLE in os.environ:
        prefix += f"{SPIN_VARIABLE}={shlex.quote(os.environ[SPIN_VARIABLE])} "
    return f"{prefix}{python} {args}"


def load_average():
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


class Environment:
    """BLAS libraries and threads (threadpoolctl), pinning variables, start time and load.

    Creating it prints the kernel of every BLAS library and warns if OpenBLAS is pinned
    to a kernel through ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE``.
    """

    def __init__(self, script, threads=None, clock="wall"):
        self.started = time.perf_counter()
        self.load_start = load_average()
        self.clock = clock
        # kept for the whole run: threadpoolctl limits last as long as this object; with
        # several counts the script sets each in turn (see thread_limits)
        threads = [threads] if isinstance(threads, int) else threads
        self.thread_counts = threads or [None]
        self._limits = threadpool_limits(threads[0]) if threads and len(threads) == 1 else None
        self.blas = blas_libraries()
        self.n_threads = max(
            (lib["num_threads"] for lib in self.blas), default=os.cpu_count() or 1
        )
        self.pinned = {v: os.environ[v] for v in PINNING_VARIABLES if v in os.environ}
        for lib in self.blas:
            log(
                f"BLAS: {lib.get('internal_api')} {lib.get('version')}, kernel "
                f"{lib.get('architecture')}, {lib.get('num_threads')} threads"
            )
        if self.pinned:
            warnings.warn(
                f"{', '.join(f'{k}={v}' for k, v in self.pinned.items())} is set: OpenBLAS "
                f"runs a pinned kernel, not the one users get. Run with "
                f"`{DOCUMENTED_COMMAND} benchmarks/{script}`.",
                stacklevel=2,
            )
        if avx512_cpu() and not self.pinned:
            for lib in self.blas:
                if lib.get("internal_api") == "openblas" and lib.get("architecture") != "SkylakeX":
                    kernel = lib.get("architecture")
                    log(f"note: {kernel} kernel on an AVX-512 CPU, SkylakeX expected")

    def header(self, title, use_torch, lines):
        """Markdown header: date, command, versions, CPU, BLAS, then the script's ``lines``."""
        torch_version = (
            f", torch {__import__('torch').__version__}" if use_torch else ", torch not measured"
        )
        header = [
            f"# {title}",
            "",
            f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
            f"- command: `{command_line()}`",
            f"- python {platform.python_version()}, numpy {np.__version__}, scipy "
            f"{scipy.__version__}, scikit-learn {sklearn.__version__}{torch_version}",
            f"- CPU: {cpu_model()}, {os.cpu_count()} logical CPUs; BLAS threads: {self.n_threads}",
        ]
        for lib in self.blas:
            header.append(
                f"- BLAS (threadpoolctl): internal_api={lib.get('internal_api')}, "
                f"architecture={lib.get('architecture')}, version={lib.get('version')}, "
                f"num_threads={lib.get('num_threads')}, "
                f"file {Path(lib.get('filepath', '')).name}"
            )
        pinned = ", ".join(f"{k}={v}" for k, v in self.pinned.items()) or "unset"
        header.append(f"- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: {pinned}")
        spin = os.environ.get(SPIN_VARIABLE, "unset (OpenBLAS's built-in default)")
        header.append(f"- {SPIN_VARIABLE}: {spin}")
        if self.clock == "cpu":
            header.append(
                "- clock: CPU time of this process (`time.process_time`), not wall time: "
                "robust to other processes on a busy machine, meaningful with 1 thread only"
            )
        header += [f"- {line}" for line in lines]
        wall = time.perf_counter() - self.started
        header.append(
            f"- load average at start / end: {self.load_start} / {load_average()}; "
            f"total run time {wall:.0f} s"
        )
        return header


# -- floors ----------------------------------------------------------------------------
def dense_floor(layer_sizes, rows, first_pass_layers=0, seed=0):
    """The matrix products a training step of a dense network cannot avoid (a factory).

    For each block of ``rows`` rows of X, with weights stored ``(n_out, n_in)`` as the
    network stores them: the forward product ``a @ W^T`` of every layer, the weight
    gradient ``delta^T a`` of every layer and the backpropagated ``delta @ W`` of every
    layer but the first; all ``np.matmul`` into preallocated arrays of X's dtype. No
    activations, no update, contiguous blocks. ``first_pass_layers`` adds, over all
    blocks first, the forward products of that many layers (a full-batch gradient with
    KL sparsity needs rho^ over every row before the gradient pass).
    """
    shapes = list(zip(layer_sizes[:-1], layer_sizes[1:], strict=True))

    def make(X):
        n = X.shape[0]
        size = min(rows, n)
        rng = np.random.default_rng(seed)
        weights = [rng.uniform(-0.1, 0.1, (n_out, n_in)).astype(X.dtype) for n_in, n_out in shapes]
        outputs = [np.empty((size, n_out), X.dtype) for _, n_out in shapes]
        deltas = [np.empty((size, n_out), X.dtype) for _, n_out in shapes]
        grads = [np.empty_like(w) for w in weights]

        def run():
            for start in range(0, n if first_pass_layers else 0, size):
                a = X[start : start + size]
                for w, out in zip(weights[:first_pass_layers], outputs, strict=False):
                    a = np.matmul(a, w.T, out=out[: a.shape[0]])
            for start in range(0, n, size):
                x_b = X[start : start + size]
                r = x_b.shape[0]
                inputs, a = [], x_b
                for w, out in zip(weights, outputs, strict=True):
                    inputs.append(a)
                    a = np.matmul(a, w.T, out=out[:r])
                d = outputs[-1][:r]  # the output stands in for its delta (same shape)
                for index in range(len(weights) - 1, -1, -1):
                    np.matmul(d.T, inputs[index], out=grads[index])
                    if index > 0:
                        d = np.matmul(d, weights[index], out=deltas[index - 1][:r])

        return run

    return make


def count_floor_products(layer_sizes):
    """Products per block of :func:`dense_floor` (without a first pass): 3L - 1."""
    return 3 * (len(layer_sizes) - 1) - 1


# -- memory ----------------------------------------------------------------------------
def peak_above_x(run):
    """Peak bytes traced by tracemalloc during ``run()`` (X exists before it starts)."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- quiet, interleaved timing ---------------------------------------------------------
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
        self.total = seconds
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


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def run_interleaved(measurements, data, warmup, repeats, patience, clock="wall"):
    """Time every measurement ``repeats`` times, round-robin, after one warm-up each.

    ``measurements`` maps a key to ``(label, make, data key)``; ``data`` and ``warmup``
    map a data key to the X that ``make`` receives (``warmup``: a small one for the
    untimed first run: imports, BLAS threads, first-touch pages). Before each run it
    waits for the other processes to go quiet, and a run during which they used more
    than ``QUIET_CORES`` cores is repeated (up to ``MAX_RETRIES`` times), both within
    ``patience``. All runs are kept, with the others' load during each. ``clock="cpu"``
    times the process's CPU time instead of the wall time.

    Returns
    -------
    samples : dict of key -> list of (seconds, others' load in cores)
    """
    meter = LoadMeter()
    now = CLOCKS[clock]
    runs = {}
    for key, (_, make, data_key) in measurements.items():
        make(warmup[data_key])()
        runs[key] = make(data[data_key])
    samples = {key: [] for key in measurements}
    for repeat in range(repeats):
        for key, run in runs.items():
            for attempt in range(1 + MAX_RETRIES):
                wait_for_quiet(meter, patience)
                meter.start()
                start = now()
                run()
                seconds = now() - start
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


class Timings:
    """Median and min of each measurement's quiet runs (of all its runs if none was quiet)."""

    def __init__(self, samples):
        self.stats = {}
        for key, runs in samples.items():
            used = [(t, load) for t, load in runs if quiet(load)] or runs
            times = [t for t, _ in used]
            self.stats[key] = {
                "median": float(np.median(times)),
                "min": float(np.min(times)),
                "quiet": sum(quiet(load) for _, load in runs),
                "runs": len(runs),
                "max_load": max(load for _, load in used),
            }
        self.median = {k: v["median"] for k, v in self.stats.items()}
        self.min = {k: v["min"] for k, v in self.stats.items()}
        self.n_quiet = sum(v["quiet"] for v in self.stats.values())
        self.n_runs = sum(v["runs"] for v in self.stats.values())

    def method_line(self, repeats, patience):
        """The header line that says how the times were taken."""
        return (
            f"{repeats} repeat(s) per measurement, interleaved round-robin; median and min "
            f"of the quiet runs (others used <= {QUIET_CORES} cores; all runs if none was "
            f"quiet); {self.n_quiet} of {self.n_runs} runs quiet, patience "
            f"{patience.total:.0f} s ({max(patience.left, 0):.0f} s left)"
        )

    def table(self, measurements, floors):
        """Markdown time table; ``floors`` maps each key to the key of its floor row."""
        rows = []
        for key, (label, _, _) in measurements.items():
            st = self.stats[key]
            rows.append(
                [
                    label,
                    f"{st['median']:.3f}",
                    f"{st['min']:.3f}",
                    f"{st['median'] / self.median[floors[key]]:.2f}",
                    floors[key],
                    f"{st['quiet']}/{st['runs']}",
                    f"{st['max_load']:.2f}",
                ]
            )
        header = ["measurement", "median s", "min s", "/ floor", "floor row", "quiet runs"]
        return markdown_table([*header, "max others"], rows)


class Goals:
    """Rows of a goal table: time ratios ``slow / fast`` of the medians and of the minima."""

    HEADER = ["goal", "ratio of medians", "ratio of minima", "target", "met", "met by minima"]

    def __init__(self, timings):
        self.timings = timings
        self.rows = []

    def ratio(self, name, slow, fast, target, at_most=None, at_least=None):
        """Add ``slow / fast``; met if ``<= at_most`` and ``>= at_least`` (when given)."""

        def met(value):
            if at_most is None and at_least is None:
                return ""
            ok = (at_most is None or value <= at_most) and (at_least is None or value >= at_least)
            return "yes" if ok else "**no**"

        t = self.timings
        by_median, by_min = t.median[slow] / t.median[fast], t.min[slow] / t.min[fast]
        self.rows.append(
            [name, f"{by_median:.2f}", f"{by_min:.2f}", target, met(by_median), met(by_min)]
        )

    def add(self, row):
        """A row measured otherwise (memory) or not at all (a missing baseline)."""
        self.rows.append(row)

    def table(self):
        return markdown_table(self.HEADER, self.rows)


def markdown_table(header, rows):
    """The benchmarks' tables: :func:`skae.compare.markdown_table`, padded to line up."""
    from skae.compare import markdown_table as package_table

    return package_table(header, rows, pad=True)


def write_report(report, output):
    print()
    print(report)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(report)
        log(f"written to {output}")


def common_arguments(parser, default_output, default_repeats=3):
    """The options both scripts take: repeats, n-samples, random, quick, torch, patience."""
    parser.add_argument(
        "--repeats",
        type=int,
        default=default_repeats,
        help=f"timed runs of each (default {default_repeats})",
    )
    parser.add_argument("--n-samples", type=int, default=60_000, help="rows (default 60000)")
    parser.add_argument("--random", action="store_true", help="random data, not MNIST")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 10000 samples, 1 repeat, no file"
    )
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if present")
    parser.add_argument(
        "--patience",
        type=float,
        default=None,
        help="seconds in all to wait for other processes to go quiet and to retry runs "
        f"they disturbed (default {DEFAULT_PATIENCE}, 0 with --clock cpu; 0: never wait)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=None,
        help="BLAS (and PyTorch) threads, through threadpoolctl (default: as NumPy starts); "
        "several (--threads 1 2) time everything at each and add a scaling table and an "
        "Amdahl projection",
    )
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall time (default) or this process's CPU time: on a busy machine, "
        "'--threads 1 --clock cpu' gives ratios that other processes barely move",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"Markdown file (default {default_output.relative_to(REPO_ROOT)}; none if --quick)",
    )


def finish_arguments(args, default_output):
    """``--quick`` means 10000 samples, 1 repeat and no file unless ``--output``.

    CPU time needs no quiet machine: with ``--clock cpu`` the patience defaults to 0.
    """
    if args.patience is None:
        args.patience = 0 if args.clock == "cpu" else DEFAULT_PATIENCE
    if args.quick:
        args.n_samples, args.repeats = 10_000, 1
    elif args.output is None:
        args.output = default_output
    return args


# -- threads and the compiled kernels --------------------------------------------------
def accelerator_line():
    """Header line: skae's accelerator choice and whether Numba is there."""
    from skae import get_accelerator
    from skae._core._fast import MIN_ELEMENTS, numba_available

    if not numba_available():
        return f"skae accelerator: {get_accelerator()}, Numba not installed: NumPy only"
    import numba

    return (
        f"skae accelerator: {get_accelerator()} (Numba {numba.__version__}; compiled kernels, "
        f"on the calling thread, for arrays of >= {MIN_ELEMENTS} elements); "
        "rows marked `NumPy path` run with the accelerator off"
    )


def on_numpy(function, *args):
    """``function(*args)`` with skae's compiled kernels off (``SKAE_ACCELERATOR=numpy``)."""
    from skae import set_accelerator

    previous = set_accelerator("numpy")
    try:
        return function(*args)
    finally:
        set_accelerator(previous)


def numpy_path(make):
    """The measurement ``make`` with skae's compiled kernels off (``SKAE_ACCELERATOR=numpy``)."""

    def wrapped(data):
        run = make(data)
        return lambda: on_numpy(run)

    return wrapped


def numpy_sigmoid_formula(z, out):
    """The core's ``_sigmoid`` with the compiled kernels off: NumPy's formula."""
    from skae._core.activations import _sigmoid

    return on_numpy(_sigmoid, z, out)


def numpy_sigmoid(make):
    """The measurement ``make`` with the compiled kernels but NumPy's float32 sigmoid.

    skae as it was before its compiled float32 sigmoid (issue 21): every other kernel
    compiled, the sigmoid by the NumPy formula of ``activations._sigmoid``.
    """
    from skae._core._fast import numba_available

    if not numba_available():  # then every skae row runs NumPy's formulas
        return make
    from skae._core import _numba

    def wrapped(data):
        run = make(data)

        def run_numpy_sigmoid():
            with swapped([(_numba, "sigmoid", numpy_sigmoid_formula)]):
                run()

        return run_numpy_sigmoid

    return wrapped


# the functions of skae's network.py whose own time holds a batch's matrix products
# (NumPy's matmul counts in the function that calls it)
PRODUCT_FUNCTIONS = ("_forward", "_backward", "_add_product")


def profile_run(run, clock, n_rows, where=lambda filename: Path(filename).name):
    """cProfile of ``run()``: total seconds, the top ``n_rows`` functions by own time (rows
    for :func:`markdown_table`) and the seconds outside :data:`PRODUCT_FUNCTIONS`.

    NumPy ufuncs (``np.matmul``, ``np.exp``, in-place operators) are no entries of their
    own: their time is the own time of the Python function that calls them.
    """
    profiler = cProfile.Profile(clock)  # the clock of the timings
    profiler.enable()
    run()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    items = sorted(stats.stats.items(), key=lambda item: -item[1][2])
    rows = [
        [name if filename == "~" else f"{where(filename)}:{line}({name})", str(ncalls)]
        + [f"{own:.3f}", f"{cumulative:.3f}"]
        for (filename, line, name), (_, ncalls, own, cumulative, _) in items[:n_rows]
    ]
    products = sum(
        own
        for (filename, _, name), (_, _, own, _, _) in items
        if name in PRODUCT_FUNCTIONS and Path(filename).name == "network.py"
    )
    return stats.total_tt, rows, stats.total_tt - products


def beside_products_line(total, beside):
    """The profile's one line on the work beside the products (the issue 21 goal's share)."""
    return (
        f"Outside the own time of network.py's {', '.join(PRODUCT_FUNCTIONS)} (the functions "
        f"that hold the training batches' matrix products): {beside:.2f} s, "
        f"{beside / total:.0%} of the epoch under cProfile. The profile's estimate of the "
        "single-threaded share (issue 21): it also holds the validation's few products, "
        "and those functions' own time holds some elementwise work and Python."
    )


def decay_in_objective_swaps():
    """Swaps (for :func:`swapped`) that put the weight decay where it was before the
    fused step (issue 21): in the objective (a ``vdot`` of each weight matrix for its
    value, then a pass adding ``alpha * W`` to the gradient), the step without it. The
    experiments built on that flow run under them."""
    from skae._core.network import Network

    objective = Network.objective

    def objective_with_decay(self, *args, include_weight_decay=True, **kwargs):
        return objective(self, *args, **kwargs)

    return [
        (Network, "objective", objective_with_decay),
        (Network, "weight_decay_ranges", property(lambda self: [])),
    ]


def decay_in_objective(make):
    """The measurement ``make`` under :func:`decay_in_objective_swaps`."""
    swaps = decay_in_objective_swaps()

    def wrapped(data):
        run = make(data)

        def run_decay_in_objective():
            with swapped(swaps):
                run()

        return run_decay_in_objective

    return wrapped


@contextlib.contextmanager
def swapped(swaps):
    """Replace ``(namespace, name, value)`` (a module's global or a dict's key) for a while."""

    def get(space, name):
        return space[name] if isinstance(space, dict) else getattr(space, name)

    def put(space, name, value):
        if isinstance(space, dict):
            space[name] = value
        else:
            setattr(space, name, value)

    saved = [(space, name, get(space, name)) for space, name, _ in swaps]
    try:
        for space, name, value in swaps:
            put(space, name, value)
        yield
    finally:
        for space, name, value in saved:
            put(space, name, value)


def thread_limits(n_threads):
    """threadpoolctl's limit to ``n_threads`` BLAS threads (None: no limit), as a context."""
    return threadpool_limits(n_threads) if n_threads else threadpool_limits(None)


def blas_threads():
    return max((lib["num_threads"] for lib in blas_libraries()), default=os.cpu_count() or 1)


def amdahl(times):
    """Serial and parallel seconds ``(S, P)`` of ``T(n) = S + P / n`` from ``{n: T(n)}``.

    From the smallest and the largest thread count measured; S is clipped at 0 (a
    speedup above the thread count, i.e. noise, reads as all parallel).
    """
    n1, n2 = min(times), max(times)
    t1, t2 = times[n1], times[n2]
    parallel = (t1 - t2) / (1 / n1 - 1 / n2)
    serial = t1 - parallel / n1
    if serial < 0:
        serial, parallel = 0.0, t1 * n1
    return serial, max(parallel, 0.0)


class ThreadScaling:
    """The same rows timed at several thread counts: scaling table and Amdahl projection.

    ``add(n, timings)`` after each thread count's round-robin run; ``rows`` are
    ``(key, label)`` of the rows to compare, ``floor`` the key that ratios divide by.
    """

    def __init__(self, rows, floor, cores=(8, 16, 64)):
        self.rows = rows
        self.floor = floor
        self.cores = cores
        self.timings = {}

    def add(self, n_threads, timings):
        self.timings[n_threads] = timings

    def _times(self, key):
        return {n: t.median[key] for n, t in self.timings.items() if key in t.median}

    def table(self):
        counts = sorted(self.timings)
        header = ["row"]
        for n in counts:
            header += [f"{n} thr s", f"{n} thr / floor"]
        header += [f"speedup {counts[0]} -> {counts[-1]}", "serial share at max (Amdahl)"]
        lines = []
        for key, label in self.rows:
            times = self._times(key)
            if len(times) < len(counts):
                continue
            line = [label]
            for n in counts:
                line += [f"{times[n]:.3f}", f"{times[n] / self.timings[n].median[self.floor]:.2f}"]
            serial, _ = amdahl(times)
            slowest, fastest = times[counts[0]], times[counts[-1]]
            line += [f"{slowest / fastest:.2f}x", f"{serial / fastest:.0%}"]
            lines.append(line)
        return markdown_table(header, lines)

    def projection(self, pairs=()):
        """``T(n) = S + P / n`` for each row; ``pairs`` adds ``slow / fast`` ratio rows."""
        header = ["row", "serial S s", "parallel P s", *(f"{n} cores s" for n in self.cores)]
        lines, projected = [], {}
        for key, label in self.rows:
            times = self._times(key)
            if len(times) < 2:
                continue
            serial, parallel = amdahl(times)
            projected[key] = [serial + parallel / n for n in self.cores]
            lines.append(
                [label, f"{serial:.3f}", f"{parallel:.3f}", *(f"{t:.3f}" for t in projected[key])]
            )
        for slow, fast, label in pairs:
            if slow in projected and fast in projected:
                ratios = [s / f for s, f in zip(projected[slow], projected[fast], strict=True)]
                lines.append([label, "", "", *(f"{r:.2f}" for r in ratios)])
        return markdown_table(header, lines)


def thread_report(scaling, pairs):
    """The scaling and projection sections, if more than one thread count was timed."""
    if len(scaling.timings) < 2:
        return []
    return [
        "## Scaling with threads (medians)",
        "",
        "Each thread count is its own round-robin run (BLAS threads through threadpoolctl, "
        "PyTorch's through `torch.set_num_threads`; skae's compiled kernels run on one "
        "thread at every count). The serial share is Amdahl's `S / T` at the largest count, with "
        "`T(n) = S + P / n` fitted to the smallest and largest counts.",
        "",
        scaling.table(),
        "",
        "## Amdahl projection to more cores (from the fit above; ratios: slow / fast)",
        "",
        scaling.projection(pairs),
        "",
    ]
