"""Two ways tried, and dropped, to cut the passes over the parameters of a deep epoch.

Run from the repository root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_update_passes.py

On the 784-1000-500-10 network of ``benchmarks/bench_deep.py`` (1.29 M float32
parameters), side by side in one run, interleaved:

- ``Adam.step`` as skae runs it (whole-vector ufuncs) against the same arithmetic over
  cache-sized chunks of the vector (one fused pass per chunk instead of ten passes over
  20 MB);
- the weight-decay gradient ``g += alpha * W`` as skae computes it (``np.multiply`` into
  a scratch buffer, then ``+=``) against one BLAS ``axpy`` (in place, one pass), which
  OpenBLAS runs on its threads.

It prints milliseconds per call and each ratio (alternative / skae). Neither alternative
was adopted (docs/performance.md): chunking gained nothing, and ``axpy`` is faster with
one BLAS thread but much slower when OpenBLAS threads it on a busy machine.
"""

import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy.linalg import blas

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parent)]
from _harness import blas_libraries, command_line  # noqa: E402

from skae._core.optimizers import Adam  # noqa: E402

SIZES = [(784, 1000), (1000, 500), (500, 10)]
N_PARAMS = sum(n_in * n_out + n_out for n_in, n_out in SIZES)


class ChunkedAdam(Adam):
    """``Adam.step`` over chunks of ``chunk`` parameters (the same numbers)."""

    chunk = 32768

    def step(self, grad):
        self.t += 1
        root = math.sqrt(1 - self.beta_2)
        step_size = (
            self.learning_rate
            * math.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
            * (1 - self.beta_1)
            / root
        )
        epsilon = self.epsilon / root
        for lo in range(0, grad.shape[0], self.chunk):
            part = slice(lo, lo + self.chunk)
            g, m, v = grad[part], self.first_moment[part], self.second_moment[part]
            s = self._scratch[part]
            m *= self.beta_1
            m += g
            v *= self.beta_2
            np.multiply(g, g, out=s)
            v += s
            np.sqrt(v, out=s)
            s += epsilon
            np.divide(m, s, out=s)
            s *= step_size
            self.params[part] -= s


def per_call(function, calls):
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e3


def main(calls=200, rounds=3):
    rng = np.random.default_rng(0)
    grad = rng.standard_normal(N_PARAMS).astype(np.float32)
    optimizers = {
        cls.__name__: cls(rng.standard_normal(N_PARAMS).astype(np.float32))
        for cls in (Adam, ChunkedAdam)
    }
    # the same numbers: chunking changes the order of nothing
    a, b = Adam(np.zeros(8, np.float32)), ChunkedAdam(np.zeros(8, np.float32))
    a.step(grad[:8]), b.step(grad[:8])
    assert np.array_equal(a.params, b.params)

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

    times = {name: [] for name in ("Adam", "ChunkedAdam", "decay numpy", "decay axpy")}
    for _ in range(rounds):  # interleaved: a noisy machine hits both alike
        for name, optimizer in optimizers.items():
            times[name].append(per_call(lambda o=optimizer: o.step(grad), calls))
        times["decay numpy"].append(per_call(decay_numpy, calls))
        times["decay axpy"].append(per_call(decay_axpy, calls))
    best = {name: min(values) for name, values in times.items()}

    print(f"command: {command_line()}")
    for library in blas_libraries():
        print(f"BLAS (threadpoolctl): {library}")
    print(f"{N_PARAMS} float32 parameters; best of {rounds} rounds of {calls} calls\n")
    print("| measurement | ms per call | ratio to skae's |")
    print("|---|---:|---:|")
    for name, reference in [
        ("Adam", "Adam"),
        ("ChunkedAdam", "Adam"),
        ("decay numpy", "decay numpy"),
        ("decay axpy", "decay numpy"),
    ]:
        print(f"| {name} | {best[name]:.3f} | {best[name] / best[reference]:.2f} |")


if __name__ == "__main__":
    main()
