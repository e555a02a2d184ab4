"""Data sets: MNIST, natural image patches, and a reader and writer for IDX files."""

from ._idx import read_idx, write_idx
from ._mnist import get_data_home, load_mnist
from ._patches import load_natural_patches

__all__ = ["get_data_home", "load_mnist", "load_natural_patches", "read_idx", "write_idx"]
