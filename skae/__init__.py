"""skae: scikit-learn compatible autoencoders on a NumPy backpropagation core."""

from . import callbacks
from ._classifier import AutoencoderClassifier
from ._core import get_accelerator, set_accelerator
from ._denoising import DenoisingAutoencoder
from ._outlier import AutoencoderOutlierDetector
from ._sparse import SparseAutoencoder
from ._stacked import StackedAutoencoder
from ._tied import TiedAutoencoder

__version__ = "0.1.0"

__all__ = [
    "AutoencoderClassifier",
    "AutoencoderOutlierDetector",
    "DenoisingAutoencoder",
    "SparseAutoencoder",
    "StackedAutoencoder",
    "TiedAutoencoder",
    "__version__",
    "callbacks",
    "get_accelerator",
    "set_accelerator",
]
