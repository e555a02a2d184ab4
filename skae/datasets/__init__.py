"""Data sets: MNIST, and a reader and writer for IDX, the file format it comes in."""

from ._idx import read_idx, write_idx
from ._mnist import get_data_home, load_mnist

__all__ = ["get_data_home", "load_mnist", "read_idx", "write_idx"]
