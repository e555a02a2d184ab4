"""Preprocessing for feature learning on images."""

from ._whitening import ZCAWhitening

__all__ = ["ZCAWhitening"]
