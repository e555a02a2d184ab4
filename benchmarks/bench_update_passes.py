"""Ways tried, and dropped, to cut the passes over the parameters of a deep epoch.

Run from the repository root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_update_passes.py

On the 784-1000-500-10 network of ``benchmarks/bench_deep.py`` (1.29 M float32
parameters), with the weight decay in the objective as skae computed it when these were
measured (``_harness.decay_in_objective_swaps``; since then the optimiser's step takes
it, fused with the update by ``skae[fast]``). Part 1, each update alone, side by side
in one run, interleaved:

- ``Adam.step`` as skae runs it (ten whole-vector ufunc passes over arrays of 5.2 MB)
  against the same ten passes over cache-sized chunks of the vector, against the two
  halves of the vector on two threads, and (if Numba is importable) against the ten
  passes fused into one compiled loop;
- the weight-decay gradient ``g += alpha * W`` as skae computes it (``np.multiply`` into
  a scratch buffer, then ``+=``) against one BLAS ``axpy`` (in place, one pass), which
  OpenBLAS runs on its threads.

Part 2, in the training loop: one epoch of the core loop (the engine ``train``) on that
network (``bench_deep.py``'s "skae core" row) as skae runs it, against the same epoch
with

- ``Adam.step`` split in two halves, one on a worker thread (NumPy releases the GIL);
- the Adam update, the weight decay and the finiteness check through SciPy's BLAS
  (``scal``, ``axpy``, ``dot``: OpenBLAS threads them) while the products stay NumPy's
  (NumPy's and SciPy's wheels each bring their own OpenBLAS);
- the same with SciPy's OpenBLAS held to one thread (threadpoolctl), a control: if the
  two libraries' threads get in each other's way, this one is not slowed;
- every product too through SciPy's BLAS (``gemm``), so that the loop uses one BLAS;
- Adam's ten passes fused into one compiled loop (Numba, only if it is importable: it
  is not a dependency of skae), bit-identical to skae's.

and the floor (``bench_deep.py``'s 8 products per batch), interleaved on the quiet runs.
It prints milliseconds per call (part 1) and the epoch table (part 2), and writes the
report to ``benchmarks/results/bench_update_passes.md``. None of the alternatives was
adopted (docs/performance.md).
"""

import argparse
import contextlib
import sys
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from scipy.linalg import blas
from threadpoolctl import ThreadpoolController

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from _harness import (  # noqa: E402
    RESULTS,
    Patience,
    Timings,
    blas_libraries,
    command_line,
    decay_in_objective_swaps,
    load_mnist_like,
    log,
    markdown_table,
    run_interleaved,
    swapped,
    write_report,
)
from bench_deep import _network_and_target, floor, one_epoch, skae_core  # noqa: E402

from skae._core import network, training  # noqa: E402
from skae._core.optimizers import OPTIMIZERS, Adam  # noqa: E402

DEFAULT_OUTPUT = RESULTS / "bench_update_passes.md"

SIZES = [(784, 1000), (1000, 500), (500, 10)]
N_PARAMS = sum(n_in * n_out + n_out for n_in, n_out in SIZES)


class ChunkedAdam(Adam):
    """``Adam.step`` over chunks of ``chunk`` parameters (the same numbers)."""

    chunk = 32768

    def step(self, grad, decay=()):  # decay: [] under decay_in_objective_swaps
        self.t += 1
        constants = self.step_constants()
        for lo in range(0, grad.shape[0], self.chunk):
            part = slice(lo, lo + self.chunk)
            self.update(*self.slices(grad, part), *constants)
        return 0.0  # the decay's value: none here

    def slices(self, grad, part):
        """``update``'s arrays, cut to ``part``."""
        arrays = (grad, self.first_moment, self.second_moment, self._scratch, self.params)
        return [array[part] for array in arrays]


class ThreadedAdam(ChunkedAdam):
    """``Adam.step`` with the second half of the vector on a worker thread (the same numbers)."""

    worker = ThreadPoolExecutor(1)

    def step(self, grad, decay=()):  # decay: [] under decay_in_objective_swaps
        self.t += 1
        constants = self.step_constants()
        half = grad.shape[0] // 2
        pending = self.worker.submit(
            self.update, *self.slices(grad, slice(half, None)), *constants
        )
        self.update(*self.slices(grad, slice(0, half)), *constants)
        pending.result()
        return 0.0


class BlasAdam(Adam):
    """``Adam.step`` with the moment and parameter updates as SciPy BLAS calls."""

    def step(self, grad, decay=()):  # decay: [] under decay_in_objective_swaps
        self.t += 1
        m, v, s = self.first_moment, self.second_moment, self._scratch
        scal, axpy = blas.get_blas_funcs(("scal", "axpy"), (grad,))
        # f2py updates contiguous arrays of the right dtype in place: checked, as a copy
        # would drop the update silently
        assert scal(self.beta_1, m) is m and axpy(grad, m) is m  # m <- b1 m + g
        np.multiply(grad, grad, out=s)
        assert scal(self.beta_2, v) is v and axpy(s, v) is v  # v <- b2 v + g^2
        step_size, epsilon = self.step_constants()
        np.sqrt(v, out=s)
        s += epsilon
        np.divide(m, s, out=s)
        assert axpy(s, self.params, a=-step_size) is self.params
        return 0.0


def numba_adam():
    """An ``Adam`` whose step is one compiled pass (Numba), or None without Numba."""
    try:
        import numba
    except ImportError:
        return None

    # error_model="numpy": no ZeroDivisionError check per element, which would keep the
    # loop from being vectorised
    @numba.njit(nogil=True, error_model="numpy")
    def fused_step(g, m, v, p, beta_1, beta_2, step_size, epsilon):
        for i in range(g.shape[0]):
            m[i] = m[i] * beta_1 + g[i]
            v[i] = v[i] * beta_2 + g[i] * g[i]
            p[i] -= m[i] / (np.sqrt(v[i]) + epsilon) * step_size

    class NumbaAdam(Adam):
        """``Adam.step`` as one fused loop; the same float32 operations in the same order."""

        def step(self, grad, decay=()):  # decay: [] under decay_in_objective_swaps
            self.t += 1
            step_size, epsilon = self.step_constants()
            cast = grad.dtype.type  # the array's precision, as NumPy uses Python floats
            fused_step(
                grad,
                self.first_moment,
                self.second_moment,
                self.params,
                cast(self.beta_1),
                cast(self.beta_2),
                cast(step_size),
                cast(epsilon),
            )
            return 0.0

    return NumbaAdam


NumbaAdam = numba_adam()


def blas_weight_decay(weights, alpha, grads=None, scratches=None):
    """skae's ``weight_decay`` with SciPy's ``dot`` and ``axpy``."""
    value = 0.0
    for w, g in zip(weights, grads or [None] * len(weights), strict=True):
        dot, axpy = blas.get_blas_funcs(("dot", "axpy"), (w,))
        flat = w.reshape(-1)
        value += 0.5 * alpha * float(dot(flat, flat))
        if g is not None:
            flat_grad = g.reshape(-1)  # a view: g is contiguous
            assert axpy(flat, flat_grad, a=alpha) is flat_grad
    return value


def blas_finite(value, grad):
    return bool(
        np.isfinite(value) and np.isfinite(blas.get_blas_funcs("dot", (grad,))(grad, grad))
    )


def _fortran_operand(a):
    """``(array, trans)``, the array Fortran-ordered and ``op(array) == a``: no copy."""
    return (a, 0) if a.flags.f_contiguous else (a.T, 1)


MATMUL_CALLS = {"gemm": 0, "numpy": 0}


def blas_matmul(a, b, out=None):
    """``np.matmul`` for 2-D arrays through SciPy's ``gemm``, in place into C-ordered ``out``."""
    if a.ndim != 2 or b.ndim != 2 or out is None or not out.flags.c_contiguous:
        MATMUL_CALLS["numpy"] += 1
        return np.matmul(a, b, out=out)
    MATMUL_CALLS["gemm"] += 1
    gemm = blas.get_blas_funcs("gemm", (a, b))
    first, trans_first = _fortran_operand(b.T)  # out^T = b^T a^T, Fortran-ordered
    second, trans_second = _fortran_operand(a.T)
    target = out.T
    result = gemm(
        1.0, first, second, c=target, trans_a=trans_first, trans_b=trans_second, overwrite_c=1
    )
    if result is not target:  # f2py copied: not expected for these layouts, but stay right
        out[...] = result.T
    return out


# NumPy as network.py sees it, with SciPy's gemm for its matmul
numpy_with_blas_matmul = types.SimpleNamespace(**{name: getattr(np, name) for name in dir(np)})
numpy_with_blas_matmul.matmul = blas_matmul


# every variant of the loop, and skae's row, with the weight decay in the objective: the
# flow these were built on and measured with, before skae's fused step (issue 21)
DECAY_SWAPS = decay_in_objective_swaps()
BLAS_UPDATES = [
    (OPTIMIZERS, "adam", BlasAdam),
    (network, "weight_decay", blas_weight_decay),
    (training, "_finite", blas_finite),
]
# key: (label, swaps, threads of SciPy's own BLAS library or None to leave it alone)
IN_LOOP = {
    "floor": ("floor: 8 matmuls per batch, 1 epoch", None, None),
    "skae": ("skae core loop, 1 epoch (weight decay in the objective, as then)", [], None),
    "threaded_adam": ("Adam on two threads", [(OPTIMIZERS, "adam", ThreadedAdam)], None),
    "blas_updates": ("updates through SciPy's BLAS, products NumPy's", BLAS_UPDATES, None),
    "blas_updates_1": (
        "updates through SciPy's BLAS held to 1 thread, products NumPy's",
        BLAS_UPDATES,
        1,
    ),
    "blas_throughout": (
        "updates and products through SciPy's BLAS",
        [*BLAS_UPDATES, (network, "np", numpy_with_blas_matmul)],
        None,
    ),
}
if NumbaAdam is not None:
    IN_LOOP["numba_adam"] = (
        "Adam fused and compiled (Numba)",
        [(OPTIMIZERS, "adam", NumbaAdam)],
        None,
    )


def scipy_blas_threads(n_threads):
    """A context holding SciPy's own BLAS library (not NumPy's) to ``n_threads`` threads."""
    if n_threads is None:
        return contextlib.nullcontext()
    scipy_libs = [
        info["filepath"]
        for info in ThreadpoolController().info()
        if info["user_api"] == "blas" and Path(info["filepath"]).parent.name == "scipy.libs"
    ]
    if not scipy_libs:
        raise RuntimeError("SciPy's own BLAS library not found (a shared BLAS?)")
    return ThreadpoolController().select(filepath=scipy_libs).limit(limits=n_threads)


def in_loop(swaps, n_threads=None):
    """A factory for ``run_interleaved``: the core loop's epoch with ``swaps`` in force."""

    def make(data):
        run = skae_core(data)

        def run_swapped():
            with swapped(DECAY_SWAPS + swaps), scipy_blas_threads(n_threads):
                run()

        return run_swapped

    return make


def per_call(function, calls):
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e3


def standalone(calls=200, rounds=3):
    """Part 1: each update alone; milliseconds per call, best of ``rounds``."""
    rng = np.random.default_rng(0)
    grad = rng.standard_normal(N_PARAMS).astype(np.float32)
    classes = [Adam, ChunkedAdam, ThreadedAdam] + ([NumbaAdam] if NumbaAdam else [])
    optimizers = {
        cls.__name__: cls(rng.standard_normal(N_PARAMS).astype(np.float32)) for cls in classes
    }
    # the same numbers: neither chunks (three of them here), threads nor the fused loop
    # change any operation or its order
    reference = Adam(np.zeros(8, np.float32))
    others = [cls(np.zeros(8, np.float32)) for cls in classes[1:]]
    others[0].chunk = 3
    for _ in range(3):  # the bias correction changes with t
        for optimizer in [reference, *others]:
            optimizer.step(grad[:8])
    for optimizer in others:
        assert np.array_equal(optimizer.params, reference.params), type(optimizer).__name__

    weights = [rng.standard_normal((n_out, n_in)).astype(np.float32) for n_in, n_out in SIZES]
    grads = [np.ones_like(w) for w in weights]
    scratches = [np.empty_like(w) for w in weights]
    axpy = blas.get_blas_funcs("axpy", (weights[0],))

    def decay_numpy():
        for w, g, s in zip(weights, grads, scratches, strict=True):
            g += np.multiply(w, 1e-4, out=s)

    def decay_axpy():
        for w, g in zip(weights, grads, strict=True):
            axpy(w.reshape(-1), g.reshape(-1), a=1e-4)  # in place: g is contiguous

    times = {name: [] for name in (*optimizers, "decay numpy", "decay axpy")}
    for _ in range(rounds):  # interleaved: a noisy machine hits both alike
        for name, optimizer in optimizers.items():
            times[name].append(per_call(lambda o=optimizer: o.step(grad), calls))
        times["decay numpy"].append(per_call(decay_numpy, calls))
        times["decay axpy"].append(per_call(decay_axpy, calls))
    best = {name: min(values) for name, values in times.items()}
    rows = [
        [name, f"{best[name]:.3f}", f"{best[name] / best[reference]:.2f}"]
        for name, reference in [
            ("Adam", "Adam"),
            ("ChunkedAdam", "Adam"),
            ("ThreadedAdam", "Adam"),
            *([("NumbaAdam", "Adam")] if NumbaAdam else []),
            ("decay numpy", "decay numpy"),
            ("decay axpy", "decay numpy"),
        ]
    ]
    return markdown_table(["measurement", "ms per call", "ratio to skae's"], rows)


def check_variants(X, y):
    """Every in-loop variant trains the same network to the same loss (to float32 rounding)."""
    losses = {}
    for key, (_, swaps, n_threads) in IN_LOOP.items():
        if swaps is not None:
            MATMUL_CALLS.update(gemm=0, numpy=0)
            with swapped(DECAY_SWAPS + swaps), scipy_blas_threads(n_threads):
                network_, target = _network_and_target(X, y)
                history = one_epoch(network_, X, target)
                losses[key] = history.loss_curve[0]
                # the swaps took: each variant's optimiser, and SciPy's gemm for every product
                assert type(history.optimizer) is OPTIMIZERS["adam"]
                routed = key == "blas_throughout"
                assert (MATMUL_CALLS["gemm"] > 0 and MATMUL_CALLS["numpy"] == 0) == routed
    spread = max(losses.values()) - min(losses.values())
    assert spread < 1e-4 * abs(losses["skae"]), losses
    return losses


def per_round(samples, key, base, repeats):
    """Median and range of ``key / base`` within each round (robust to a machine whose
    speed drifts between rounds); "n/a" if a disturbed run was repeated (rounds misalign)."""
    if len(samples[key]) != repeats or len(samples[base]) != repeats:
        return "n/a"
    ratios = [t / t_base for (t, _), (t_base, _) in zip(samples[key], samples[base], strict=True)]
    return f"{np.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="epochs of each, interleaved")
    parser.add_argument("--patience", type=float, default=300.0, help="seconds to wait for quiet")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)

    log("part 1: each update alone")
    part_1 = standalone()
    X, y, source = load_mnist_like(60_000)
    log("part 2: the same network's first-epoch loss under every variant")
    losses = check_variants(X[:5000], y[:5000])
    measurements = {
        key: (label, floor if swaps is None else in_loop(swaps, n_threads), "data")
        for key, (label, swaps, n_threads) in IN_LOOP.items()
    }
    patience = Patience(args.patience)
    samples = run_interleaved(
        measurements, {"data": (X, y)}, {"data": (X[:2000], y[:2000])}, args.repeats, patience
    )
    timings = Timings(samples)
    floors = dict.fromkeys(measurements, "floor")
    ratios = markdown_table(
        ["epoch", "ratio of medians", "ratio of minima", "per round: median (range)"],
        [
            [
                f"{label} / {IN_LOOP[base][0].split(',')[0]}",
                f"{timings.median[key] / timings.median[base]:.2f}",
                f"{timings.min[key] / timings.min[base]:.2f}",
                per_round(samples, key, base, args.repeats),
            ]
            for key, base in [("skae", "floor")]
            + [(key, "skae") for key in IN_LOOP if key not in ("floor", "skae")]
            for label in [IN_LOOP[key][0].split(",")[0]]
        ],
    )
    report = "\n".join(
        [
            "# Ways tried to cut the update's passes over the parameters",
            "",
            f"- command: `{command_line()}`",
            *(f"- BLAS (threadpoolctl): {library}" for library in blas_libraries()),
            f"- {N_PARAMS} float32 parameters (784-1000-500-10); data: {source}",
            "- first-epoch loss on 5000 rows under each variant (the same to float32 "
            "rounding): " + ", ".join(f"{k} {v:.6f}" for k, v in losses.items()),
            "",
            "## Part 1: each update alone (best of 3 rounds of 200 calls)",
            "",
            part_1,
            "",
            "## Part 2: one epoch of the core loop (60000 rows, batches of 200)",
            "",
            timings.method_line(args.repeats, patience),
            "",
            timings.table(measurements, floors),
            "",
            ratios,
            "",
        ]
    )
    write_report(report, args.output)


if __name__ == "__main__":
    main()
