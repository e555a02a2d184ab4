"""Public helpers."""

from ._gradient_check import check_gradients

__all__ = ["check_gradients"]
