"""Which implementation runs the hot elementwise work of an epoch: NumPy or compiled.

The NumPy functions of ``_core`` are the reference implementation: they state the seeds'
formulas and run wherever skae runs. Where the optional extra ``skae[fast]`` is installed
(Numba), a few of them hand their work to a compiled, multi-threaded kernel of
:mod:`skae._core._numba` that does the same arithmetic in the same order in one pass
over memory instead of several, so the results are bit-identical. Each NumPy function
that has such a kernel asks :func:`kernels` first, in one line, and falls through to its
own formula when it gets None.

The choice, from the environment variable ``SKAE_ACCELERATOR`` at import, or from
:func:`set_accelerator` at any time:

- ``"auto"`` (the default): the compiled kernels where Numba is importable, for arrays
  of at least ``MIN_ELEMENTS`` elements. Smaller arrays gain nothing from threads and
  would only pay the first call's compilation (once per machine: ``cache=True``).
- ``"numba"``: the compiled kernels for arrays of every size (an error without Numba).
- ``"numpy"``: NumPy only.

Threads: a kernel over at least ``PARALLEL_ELEMENTS`` elements (the optimiser's update,
the weight decay of a large layer) runs on as many threads as the BLAS products
(threadpoolctl's count of the BLAS libraries, so ``threadpoolctl.threadpool_limits`` and
``OPENBLAS_NUM_THREADS`` hold them too), at most Numba's own ``NUMBA_NUM_THREADS``;
smaller ones run on one thread.
Numba's OpenMP threads wait passively between kernels (``OMP_WAIT_POLICY=PASSIVE`` while
its OpenMP runtime starts, unless the user set a policy): the kernels alternate with the
BLAS products many times a batch, and OpenMP's default spinning after each kernel takes
the cores that OpenBLAS's threads need next (measured: an epoch twice as long on a busy
2-core machine, and twice the CPU time).
"""

import importlib.util
import os
import threading
import warnings

ENVIRONMENT_VARIABLE = "SKAE_ACCELERATOR"
CHOICES = ("auto", "numba", "numpy")
# below this many elements "auto" keeps NumPy: 2**16 float32 are 256 kB
MIN_ELEMENTS = 1 << 16
# below this many elements a kernel runs on one thread: each threaded kernel is a
# fork and a join, which costs more than it saves on a small array (and on a busy
# machine a join waits for a descheduled thread)
PARALLEL_ELEMENTS = 1 << 18

_choice = "auto"
_module = None  # skae._core._numba once loaded
_blas = None  # threadpoolctl's BLAS controllers, read for the thread count
_threads = threading.local()  # the count last given to Numba by this thread (its own)
_forked = False  # in a child forked after the kernels loaded: NumPy only (see _after_fork)


def numba_available():
    """Whether Numba can be imported (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def set_accelerator(name):
    """Choose the implementation of the elementwise kernels; returns the previous choice.

    Parameters
    ----------
    name : {"auto", "numba", "numpy"}
        "auto": Numba's compiled kernels if Numba is importable, for arrays of at least
        ``MIN_ELEMENTS`` elements, else NumPy; "numba": compiled kernels for every
        array; "numpy": the NumPy formulas only.

    Returns
    -------
    previous : str

    Examples
    --------
    >>> from skae import set_accelerator
    >>> previous = set_accelerator("numpy")  # the reference NumPy path only
    >>> _ = set_accelerator(previous)
    """
    global _choice
    if name not in CHOICES:
        raise ValueError(f"accelerator must be one of {CHOICES}, got {name!r}")
    if name == "numba" and not numba_available():
        raise ImportError(
            "accelerator 'numba' needs Numba: pip install 'skae[fast]' (or use 'auto')"
        )
    previous, _choice = _choice, name
    return previous


def get_accelerator():
    """The current choice of :func:`set_accelerator`: "auto", "numba" or "numpy".

    Returns
    -------
    name : str

    Examples
    --------
    >>> from skae import get_accelerator
    >>> get_accelerator() in ("auto", "numba", "numpy")
    True
    """
    return _choice


def _load():
    global _module, _blas
    from . import _numba

    # Numba's OpenMP runtime reads its wait policy when its first kernel starts it; set
    # it for that moment only (our own OpenMP runtime: scikit-learn's is another copy)
    user_policy = any(v in os.environ for v in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"))
    if not user_policy:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        _numba.start_threads()
    finally:
        if not user_policy:
            del os.environ["OMP_WAIT_POLICY"]

    try:
        from threadpoolctl import ThreadpoolController

        _blas = ThreadpoolController().select(user_api="blas").lib_controllers
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        _blas = []
    _module = _numba
    return _numba


def _match_blas_threads(numba_module, n_elements):
    # as many threads as the BLAS products: threadpool_limits(1) in a joblib worker, or
    # OPENBLAS_NUM_THREADS=1, holds the kernels to one thread too
    n = 1
    if n_elements >= PARALLEL_ELEMENTS:
        n = max((lib.num_threads for lib in _blas), default=numba_module.config.NUMBA_NUM_THREADS)
        n = max(1, min(n, numba_module.config.NUMBA_NUM_THREADS))
    # numba.set_num_threads is per calling thread, and asking Numba costs more than a
    # kernel on a small array: remember what this thread last set
    if getattr(_threads, "n", None) != n:
        numba_module.set_num_threads(n)
        _threads.n = n


def _after_fork():
    # GNU OpenMP is not fork-safe: a child forked after Numba's OpenMP threads started
    # would abort at its first threaded kernel (multiprocessing's default on Linux)
    global _forked
    if _module is not None:
        _forked = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def kernels(*arrays):
    """The compiled kernels for these arrays, or None: then the NumPy formulas run.

    The kernels take C-contiguous float32 or float64 arrays of one dtype; "auto" leaves
    arrays below ``MIN_ELEMENTS`` elements (the first array's size) to NumPy.
    """
    if _choice == "numpy" or (_choice == "auto" and arrays[0].size < MIN_ELEMENTS) or _forked:
        return None
    dtype = arrays[0].dtype
    for a in arrays:
        if a.dtype != dtype or not a.flags.c_contiguous:
            return None
    if dtype.char not in "fd":  # float32, float64
        return None
    module = _module
    if module is None:
        if _choice == "auto" and not numba_available():
            return None
        module = _load()
    _match_blas_threads(module.numba, arrays[0].size)
    return module


def _from_environment():
    value = os.environ.get(ENVIRONMENT_VARIABLE, "auto").strip().lower() or "auto"
    try:
        set_accelerator(value)
    except (ValueError, ImportError) as error:
        warnings.warn(f"{ENVIRONMENT_VARIABLE}: {error}; using 'auto'", stacklevel=3)
        set_accelerator("auto")


_from_environment()
