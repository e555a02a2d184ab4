"""MNIST handwritten digits, read from the four original IDX files."""

import math
import os
from pathlib import Path

import numpy as np
from sklearn.datasets import fetch_openml
from sklearn.utils import Bunch

from ._idx import read_idx, write_idx

IMAGE_SHAPE = (28, 28)
N_CLASSES = 10
# (images file, labels file) of each split, as named by the original distribution.
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
FILENAMES = tuple(name for files in SPLIT_FILES.values() for name in files)
# Looked up at call time, so that tests can shrink the data set.
_N_SAMPLES = {"train": 60000, "test": 10000}

DESCR = """\
.. _mnist_dataset:

MNIST handwritten digits
------------------------

**Data Set Characteristics:**

:Number of instances: 70000 (60000 train, 10000 test)
:Number of attributes: 784 (28 x 28 grey levels, scaled to [0, 1])
:Classes: 10 (the digits 0 to 9)
:Creators: Yann LeCun, Corinna Cortes and Christopher J.C. Burges

Size-normalised, centred images of handwritten digits from NIST Special Databases 1
and 3. The standard split is kept: the writers of the test set are not those of the
training set, so do not shuffle the two together for model selection.

.. rubric:: References

* Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning applied to
  document recognition", Proceedings of the IEEE, 86(11):2278-2324, 1998.
* http://yann.lecun.com/exdb/mnist/
"""


def get_data_home(data_home=None):
    """Folder holding skae's data sets.

    Like :func:`sklearn.datasets.get_data_home`, but the folder is not created:
    reading must not leave empty folders behind, and downloading creates what it
    needs.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder. If None, the environment variable ``SKAE_DATA`` if set and not
        empty, else ``~/skae_data``. A leading ``~`` is expanded.

    Returns
    -------
    data_home : str
        The folder.

    Examples
    --------
    >>> from skae.datasets import get_data_home
    >>> get_data_home("/data/skae")
    '/data/skae'
    """
    if data_home is None:
        data_home = os.environ.get("SKAE_DATA") or os.path.join("~", "skae_data")
    return os.path.expanduser(os.fspath(data_home))


def _find_files(data_home):
    """Paths of the four MNIST files, from ``data_home`` or else ``data_home/mnist``."""
    folders = (data_home, data_home / "mnist")
    found = []
    for folder in folders:
        paths = {}
        for name in FILENAMES:
            # .gz first: that is how the files are distributed and how we cache them.
            for candidate in (folder / f"{name}.gz", folder / name):
                if candidate.is_file():
                    paths[name] = candidate
                    break
        if len(paths) == len(FILENAMES):
            return paths
        found.append(paths)
    # Name what is missing from the folder closest to complete (the first on a tie).
    best = max(found, key=len)
    missing = ", ".join(f"{name}[.gz]" for name in FILENAMES if name not in best)
    raise FileNotFoundError(
        f"MNIST file(s) {missing} not found; searched {folders[0]} and {folders[1]}. "
        "Pass data_home= the folder holding the four IDX files, or "
        "download_if_missing=True to download MNIST from OpenML and cache it there."
    )


def _read_checked(path, shape):
    array = read_idx(path)
    if array.dtype != np.uint8 or array.shape != shape:
        raise ValueError(
            f"{path} is not an MNIST file: expected uint8 data of shape {shape}, "
            f"found {array.dtype} of shape {array.shape}."
        )
    return array


def _read_split(paths, split):
    """Images (n, 28, 28) and labels (n,), both uint8, of one split."""
    images_name, labels_name = SPLIT_FILES[split]
    n_samples = _N_SAMPLES[split]
    images = _read_checked(paths[images_name], (n_samples, *IMAGE_SHAPE))
    labels = _read_checked(paths[labels_name], (n_samples,))
    if labels.max() >= N_CLASSES:
        raise ValueError(
            f"{paths[labels_name]} is not an MNIST file: label {labels.max()} is not a digit."
        )
    return images, labels


def _download(data_home):
    """Fetch MNIST from OpenML and cache it as gzipped IDX files in data_home/mnist."""
    n_train, n_test = _N_SAMPLES["train"], _N_SAMPLES["test"]
    mnist = fetch_openml("mnist_784", version=1, as_frame=False, data_home=str(data_home))
    pixels, labels = np.asarray(mnist.data), np.asarray(mnist.target).astype(np.int64)
    expected = (n_train + n_test, math.prod(IMAGE_SHAPE))
    # Range checks only: an integrality check would need a float64 temporary as
    # large as the data, and OpenML stores the original integer grey levels.
    if pixels.shape != expected or pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(
            f"OpenML mnist_784 is not as expected: data of shape {pixels.shape} with "
            f"values in [{pixels.min()}, {pixels.max()}], expected {expected} in [0, 255]."
        )
    if labels.shape != expected[:1] or labels.min() < 0 or labels.max() >= N_CLASSES:
        raise ValueError(
            f"OpenML mnist_784 is not as expected: target of shape {labels.shape}, "
            f"expected {expected[:1]} digits."
        )
    folder = data_home / "mnist"
    folder.mkdir(parents=True, exist_ok=True)
    # OpenML keeps the original order: the training set, then the test set.
    rows = {"train": slice(0, n_train), "test": slice(n_train, None)}
    for split, (images_name, labels_name) in SPLIT_FILES.items():
        images = pixels[rows[split]].astype(np.uint8).reshape(-1, *IMAGE_SHAPE)
        write_idx(folder / f"{images_name}.gz", images)
        write_idx(folder / f"{labels_name}.gz", labels[rows[split]].astype(np.uint8))


def load_mnist(data_home=None, *, dtype=np.float32, download_if_missing=False, return_X_y=False):
    """Load MNIST, the standard split of 60000 training and 10000 test digits.

    The four original IDX files (``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte``, each plain or with ``.gz``) are read from
    ``data_home``, or else from ``data_home/mnist``.

    ================   ==============
    Classes                        10
    Samples total               70000
    Samples train               60000
    Samples test                10000
    Dimensionality                784
    Features           real, [0, 1]
    ================   ==============

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder of the files, see :func:`get_data_home`: if None, ``$SKAE_DATA`` or
        ``~/skae_data``.
    dtype : floating dtype, default=np.float32
        Dtype of the pixels; use ``np.float64`` for double precision.
    download_if_missing : bool, default=False
        If the files are missing, download MNIST with
        :func:`sklearn.datasets.fetch_openml` (caching OpenML's copy in
        ``data_home/openml``) and write the four files gzipped to
        ``data_home/mnist``, so that later calls read them locally.
    return_X_y : bool, default=False
        Return ``(X_train, y_train, X_test, y_test)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        X_train : ndarray of shape (60000, 784)
            Training images, one flattened 28 x 28 image per row, grey levels
            scaled to [0, 1] (0 is background).
        y_train : ndarray of shape (60000,), dtype int64
            Training digits.
        X_test : ndarray of shape (10000, 784)
            Test images.
        y_test : ndarray of shape (10000,), dtype int64
            Test digits.
        image_shape : tuple of int
            ``(28, 28)``: ``X_train[i].reshape(image_shape)`` is an image.
        DESCR : str
            Description of the data set.

    (X_train, y_train, X_test, y_test) : tuple of ndarray
        If ``return_X_y`` is True.

    Raises
    ------
    FileNotFoundError
        If a file is missing and ``download_if_missing`` is False. The message
        names the file and the folders searched.
    ValueError
        If a file is corrupt or is not the expected MNIST file, or ``dtype`` is not
        a floating dtype.

    See Also
    --------
    read_idx : Read any IDX file.

    Examples
    --------
    >>> from skae.datasets import load_mnist
    >>> X_train, y_train, X_test, y_test = load_mnist(return_X_y=True)  # doctest: +SKIP
    >>> X_train.shape, X_train.dtype, y_test[:5]  # doctest: +SKIP
    ((60000, 784), dtype('float32'), array([7, 2, 1, 0, 4]))
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating dtype such as np.float32, got {dtype}.")
    data_home = Path(get_data_home(data_home))
    try:
        paths = _find_files(data_home)
    except FileNotFoundError:
        if not download_if_missing:
            raise
        _download(data_home)
        # Read back what was cached, so a download and a local read give the same.
        paths = _find_files(data_home)

    data = {}
    for split in SPLIT_FILES:
        images, labels = _read_split(paths, split)
        X = images.reshape(len(images), -1).astype(dtype)
        X /= 255  # in place: no second float copy of the images
        data[f"X_{split}"], data[f"y_{split}"] = X, labels.astype(np.int64)
    if return_X_y:
        return data["X_train"], data["y_train"], data["X_test"], data["y_test"]
    return Bunch(**data, image_shape=IMAGE_SHAPE, DESCR=DESCR)
