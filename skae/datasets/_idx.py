"""Reading and writing IDX files, the binary format in which MNIST is distributed.

An IDX file is a magic number ``0x0000TTDD`` (``TT`` the element type, ``DD`` the
number of dimensions), then each dimension as a big-endian uint32, then the elements
in C order, big-endian. See http://yann.lecun.com/exdb/mnist/.
"""

import contextlib
import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

# Type code (third byte of the magic number) -> element type, always big-endian.
_CODE_TO_DTYPE = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
# Keyed by (kind, itemsize) so that any byte order of a supported type can be written.
_KIND_SIZE_TO_CODE = {(dt.kind, dt.itemsize): code for code, dt in _CODE_TO_DTYPE.items()}
_SUPPORTED = "uint8, int8, int16, int32, float32, float64"
_GZIP_MAGIC = b"\x1f\x8b"


def _corrupt(path, problem):
    return ValueError(f"Corrupt IDX file {path}: {problem}.")


def _open_maybe_gzip(path):
    # Sniff the content rather than trust the suffix: both ".gz" files that were
    # decompressed in place and compressed files without ".gz" are common.
    with open(path, "rb") as f:
        compressed = f.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if compressed else open(path, "rb")


def read_idx(path):
    """Read an IDX file into a NumPy array.

    Parameters
    ----------
    path : str or path-like
        The IDX file, plain or gzip-compressed (detected from its first bytes, so the
        ``.gz`` suffix is optional).

    Returns
    -------
    array : ndarray
        Array of the shape given in the header and of the dtype given by the type
        code (uint8, int8, int16, int32, float32 or float64), in native byte order.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a valid IDX file: bad magic number, unknown type code,
        truncated header or payload, trailing bytes, or a broken gzip stream. The
        message names the file and the problem.

    See Also
    --------
    write_idx : The inverse operation.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skae.datasets import read_idx, write_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "example-idx2-ubyte.gz")
    >>> write_idx(path, np.arange(6, dtype=np.uint8).reshape(2, 3))
    >>> read_idx(path)
    array([[0, 1, 2],
           [3, 4, 5]], dtype=uint8)
    """
    path = Path(path)
    try:
        with _open_maybe_gzip(path) as f:
            magic = f.read(4)
            if len(magic) < 4:
                raise _corrupt(path, f"{len(magic)} bytes, too short for the magic number")
            code, ndim = magic[2], magic[3]
            if magic[:2] != b"\0\0" or code not in _CODE_TO_DTYPE:
                raise _corrupt(
                    path,
                    f"bad magic number 0x{magic.hex()}, expected 0x0000TTDD with type "
                    f"code TT in {{{', '.join(f'{c:02x}' for c in _CODE_TO_DTYPE)}}}",
                )
            dims = f.read(4 * ndim)
            if len(dims) < 4 * ndim:
                raise _corrupt(path, f"header truncated, {ndim} dimensions announced")
            # read() to the end rather than read(expected): a corrupt header could
            # announce a size far larger than the memory available.
            payload = f.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise _corrupt(path, f"broken gzip stream ({exc})") from exc

    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
    dtype = _CODE_TO_DTYPE[code]
    expected = math.prod(shape) * dtype.itemsize
    if len(payload) != expected:
        problem = "payload truncated" if len(payload) < expected else "trailing bytes"
        raise _corrupt(
            path,
            f"{problem}: shape {shape} of {dtype.newbyteorder('=').name} needs "
            f"{expected} bytes of data, found {len(payload)}",
        )
    # astype copies, so the result is writable and in native byte order.
    return np.frombuffer(payload, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array, *, compress=None):
    """Write a NumPy array to an IDX file.

    The file is written under a temporary name and then renamed, so an interrupted
    write never leaves a truncated file at ``path``.

    Parameters
    ----------
    path : str or path-like
        Destination file. Parent folders must exist.
    array : array-like
        Data of dtype uint8, int8, int16, int32, float32 or float64 (any byte order),
        with at most 255 dimensions each smaller than 2**32.
    compress : bool or None, default=None
        Gzip the file. If None, compress if and only if ``path`` ends with ``.gz``.

    Raises
    ------
    ValueError
        If the dtype or shape cannot be stored in IDX.

    See Also
    --------
    read_idx : The inverse operation.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skae.datasets import read_idx, write_idx
    >>> path = os.path.join(tempfile.mkdtemp(), "example-idx1-double")
    >>> write_idx(path, np.array([0.5, -1.0]))
    >>> read_idx(path)
    array([ 0.5, -1. ])
    """
    path = Path(path)
    array = np.asarray(array)
    code = _KIND_SIZE_TO_CODE.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise ValueError(f"IDX cannot store dtype {array.dtype}; cast to one of {_SUPPORTED}.")
    if array.ndim > 255 or any(d >= 2**32 for d in array.shape):
        raise ValueError(
            f"IDX cannot store shape {array.shape}: at most 255 dimensions, "
            "each smaller than 2**32."
        )
    if compress is None:
        compress = path.suffix == ".gz"

    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = np.ascontiguousarray(array, dtype=_CODE_TO_DTYPE[code]).tobytes()
    partial = path.with_name(path.name + ".part")
    try:
        with open(partial, "wb") as raw:
            # mtime=0 and no stored file name make the output reproducible; level 6
            # is nearly as small as 9 and much faster on MNIST-sized files.
            sink = (
                gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0)
                if compress
                else contextlib.nullcontext(raw)
            )
            with sink as f:
                f.write(header)
                f.write(payload)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
