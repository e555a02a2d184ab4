"""Random grey patches of natural images, from the two photographs bundled with scikit-learn.

In the spirit of ``sampleIMAGES`` of Ng's sparse-autoencoder exercise: no download, and
the same ``random_state`` gives the same patches.
"""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

# ITU-R BT.601 luma weights: grey as the eye sees it
_LUMA = np.array([0.299, 0.587, 0.114])


def _grey_images():
    from sklearn.datasets import load_sample_images

    try:
        images = load_sample_images().images
    except ImportError as exc:  # the JPEGs are read with Pillow
        raise ImportError(
            "load_natural_patches reads scikit-learn's sample JPEG images with Pillow, "
            'which is not installed; install it with pip install "skae[plot]" (matplotlib '
            "brings Pillow) or pip install pillow."
        ) from exc
    return [image @ _LUMA / 255.0 for image in images]


def load_natural_patches(
    n_patches=10000, *, patch_size=(8, 8), random_state=None, dtype=np.float32
):
    """Random grey patches of natural images, one flattened patch per row.

    The patches are cut at random positions from the two photographs shipped with
    scikit-learn (:func:`sklearn.datasets.load_sample_images`: a Chinese temple and a
    flower), each converted to grey levels in [0, 1], an equal share from each image.
    Nothing is downloaded.

    The patches are raw grey levels; for the edge detectors of Ng's notes, remove each
    patch's mean and whiten them, e.g. with :class:`skae.preprocessing.ZCAWhitening`.

    Parameters
    ----------
    n_patches : int, default=10000
        Number of patches.
    patch_size : int or tuple of two ints, default=(8, 8)
        Height and width of a patch; an int for a square.
    random_state : int, RandomState instance or None, default=None
        Seeds the positions of the patches.
    dtype : floating dtype, default=np.float32

    Returns
    -------
    patches : ndarray of shape (n_patches, height * width)
        Row ``i`` reshaped to ``patch_size`` is a patch; values in [0, 1].

    Examples
    --------
    >>> from skae.datasets import load_natural_patches
    >>> X = load_natural_patches(1000, random_state=0)
    >>> X.shape, X.dtype, bool(X.min() >= 0 and X.max() <= 1)
    ((1000, 64), dtype('float32'), True)
    """
    if not isinstance(n_patches, Integral) or isinstance(n_patches, bool) or n_patches < 1:
        raise ValueError(f"n_patches must be an int >= 1, got {n_patches!r}.")
    if isinstance(patch_size, Integral):
        patch_size = (patch_size, patch_size)
    patch_size = tuple(patch_size)
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating dtype such as np.float32, got {dtype}.")
    images = _grey_images()
    smallest = min(min(image.shape) for image in images)
    if len(patch_size) != 2 or not all(
        isinstance(s, Integral) and 1 <= s <= smallest for s in patch_size
    ):
        raise ValueError(
            f"patch_size must be an int or (height, width) of ints in [1, {smallest}], "
            f"got {patch_size!r}."
        )
    rng = check_random_state(random_state)
    height, width = patch_size
    counts = [n_patches // len(images) + (i < n_patches % len(images)) for i in range(len(images))]
    patches = []
    for image, count in zip(images, counts, strict=True):
        tops = rng.randint(0, image.shape[0] - height + 1, size=count)
        lefts = rng.randint(0, image.shape[1] - width + 1, size=count)
        # all patches by one fancy index: rows (count, height, 1), columns (count, 1, width)
        rows = tops[:, None, None] + np.arange(height)[None, :, None]
        cols = lefts[:, None, None] + np.arange(width)[None, None, :]
        patches.append(image[rows, cols].reshape(count, height * width))
    return np.concatenate(patches).astype(dtype)
