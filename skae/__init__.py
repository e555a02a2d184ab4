"""skae: scikit-learn compatible autoencoders on a NumPy backpropagation core."""

from ._denoising import DenoisingAutoencoder
from ._sparse import SparseAutoencoder
from ._tied import TiedAutoencoder

__version__ = "0.1.0"

__all__ = [
    "DenoisingAutoencoder",
    "SparseAutoencoder",
    "TiedAutoencoder",
    "__version__",
]
