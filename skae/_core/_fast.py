"""Which implementation runs the hot elementwise work of an epoch: NumPy or compiled.

The NumPy functions of ``_core`` are the reference implementation: they state the seeds'
formulas and run wherever skae runs. Where the optional extra ``skae[fast]`` is installed
(Numba), a few of them hand their work to a compiled kernel of :mod:`skae._core._numba`
that does the same arithmetic in the same order in one pass over memory instead of
several, so the results are bit-identical; the float32 sigmoid alone uses another
formula that vectorises, within 1.2e-7 of the exact sigmoid (``_numba.sigmoid``), and the
weight decay's value, part of the reported loss, is summed in float64 by the
optimisers' kernels (``_numba.adam_update``). Each
NumPy function that has such a kernel asks :func:`kernels` first, in one line, and falls
through to its own formula when it gets None.

The choice, from the environment variable ``SKAE_ACCELERATOR`` at import, or from
:func:`set_accelerator` at any time:

- ``"auto"`` (the default): the compiled kernels where Numba is importable, for arrays
  of at least ``MIN_ELEMENTS`` elements, at every BLAS thread count. A small fit keeps
  NumPy and never pays Numba's import and the kernels' loading (about a second in a new
  process) or their first compilation (once per machine: ``cache=True``). For the float32
  sigmoid, the one kernel that is not bit-identical, this means a block of fewer
  elements gets NumPy's last bits and a larger one the kernel's (within 1.2e-7): like
  BLAS, whose products of a few rows and of those rows among many already differ in
  their last bits, so ``transform`` of a few rows never matched the same rows of a
  larger call bit for bit.
- ``"numba"``: the compiled kernels for arrays of every size (an error without Numba).
- ``"numpy"``: NumPy only.

Threads: the kernels run on the calling thread only, whatever the BLAS thread count. The
BLAS products of a batch are what uses the cores; between products OpenBLAS's workers
busy-wait, and threaded kernels that had to share the cores with them (and with their
own OpenMP workers, spinning when another library's OpenMP runtime was loaded first)
made the 2-thread epoch up to twice as slow as the NumPy path (issue 21,
:mod:`skae._core._numba`). So ``auto`` picks the same kernels at one thread and at many,
and the results never depend on the number of threads. No thread pool is started, so a
process forked after the kernels ran (multiprocessing's default on Linux) uses them as
well.
"""

import importlib.util
import os
import warnings

ENVIRONMENT_VARIABLE = "SKAE_ACCELERATOR"
CHOICES = ("auto", "numba", "numpy")
# below this many elements "auto" keeps NumPy: 2**16 float32 are 256 kB; a fit with
# smaller arrays is short, and Numba's import would be a large part of it
MIN_ELEMENTS = 1 << 16

_choice = "auto"
_module = None  # skae._core._numba once loaded


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
    global _module
    from . import _numba

    _module = _numba
    return _numba


def kernels(*arrays):
    """The compiled kernels for these arrays, or None: then the NumPy formulas run.

    The kernels take C-contiguous float32 or float64 arrays of one dtype; "auto" leaves
    arrays below ``MIN_ELEMENTS`` elements (the first array's size) to NumPy.
    """
    if _choice == "numpy" or (_choice == "auto" and arrays[0].size < MIN_ELEMENTS):
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
    return module


def _from_environment():
    value = os.environ.get(ENVIRONMENT_VARIABLE, "auto").strip().lower() or "auto"
    try:
        set_accelerator(value)
    except (ValueError, ImportError) as error:
        warnings.warn(f"{ENVIRONMENT_VARIABLE}: {error}; using 'auto'", stacklevel=3)
        set_accelerator("auto")


_from_environment()
