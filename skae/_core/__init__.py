"""Pure NumPy/SciPy backpropagation core of skae. Nothing here imports scikit-learn."""

from .activations import ACTIVATIONS, DERIVATIVES, SPARSITY_MAPS
from .losses import LOSSES, SAMPLE_LOSSES
from .network import Autoencoder, Params
from .noise import NOISES, Corruption
from .optimizers import OPTIMIZERS

__all__ = [
    "ACTIVATIONS",
    "DERIVATIVES",
    "LOSSES",
    "NOISES",
    "OPTIMIZERS",
    "SAMPLE_LOSSES",
    "SPARSITY_MAPS",
    "Autoencoder",
    "Corruption",
    "Params",
]
