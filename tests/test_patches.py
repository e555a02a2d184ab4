"""Tests of skae.datasets.load_natural_patches."""

import numpy as np
import pytest
from sklearn.datasets import load_sample_images

from skae.datasets import load_natural_patches

pytest.importorskip("PIL")


def grey_images():
    weights = np.array([0.299, 0.587, 0.114])
    return [image @ weights / 255 for image in load_sample_images().images]


def is_patch_of(patch, image):
    """Whether ``patch`` appears somewhere in ``image``."""
    h, w = patch.shape
    windows = np.lib.stride_tricks.sliding_window_view(image, (h, w))
    return bool(np.any(np.all(np.abs(windows - patch) < 1e-6, axis=(2, 3))))


def test_shape_dtype_range_and_seed():
    X = load_natural_patches(101, random_state=3)
    assert X.shape == (101, 64) and X.dtype == np.float32
    assert X.min() >= 0 and X.max() <= 1
    np.testing.assert_array_equal(X, load_natural_patches(101, random_state=3))
    assert not np.array_equal(X, load_natural_patches(101, random_state=4))
    assert load_natural_patches(4, patch_size=5, dtype=np.float64).shape == (4, 25)


def test_patches_are_cut_from_the_grey_sample_images():
    X = load_natural_patches(6, patch_size=(4, 7), random_state=0, dtype=np.float64)
    china, flower = grey_images()
    # an equal share from each image, in order
    assert all(is_patch_of(row.reshape(4, 7), china) for row in X[:3])
    assert all(is_patch_of(row.reshape(4, 7), flower) for row in X[3:])


def test_natural_patches_have_correlated_neighbours():
    # what whitening removes: neighbouring pixels of natural images are correlated
    X = load_natural_patches(2000, random_state=0).reshape(-1, 8, 8)
    left, right = X[:, :, :-1].ravel(), X[:, :, 1:].ravel()
    assert np.corrcoef(left, right)[0, 1] > 0.8


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_patches": 0}, "n_patches"),
        ({"patch_size": (0, 3)}, "patch_size"),
        ({"patch_size": (500, 8)}, "patch_size"),
        ({"dtype": np.int32}, "dtype"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_natural_patches(**kwargs)
