"""Pure NumPy/SciPy backpropagation core of skae. Nothing here imports scikit-learn."""

from ._fast import get_accelerator, set_accelerator
from .activations import ACTIVATIONS, DERIVATIVES, ELEMENTWISE_ACTIVATIONS, SPARSITY_MAPS
from .losses import LOSS_OUTPUTS, LOSSES, RECONSTRUCTION_LOSSES, SAMPLE_LOSSES
from .network import Autoencoder, Layer, LayerParams, Network, make_sparsity
from .noise import NOISES, Corruption, Dropout
from .optimizers import OPTIMIZERS
from .training import (
    FULL_BATCH_METHODS,
    LEARNING_RATE_SCHEDULES,
    STATUSES,
    PrintProgress,
    SolverSettings,
    TrainingData,
    TrainingHistory,
    train,
)

__all__ = [
    "ACTIVATIONS",
    "DERIVATIVES",
    "ELEMENTWISE_ACTIVATIONS",
    "FULL_BATCH_METHODS",
    "LEARNING_RATE_SCHEDULES",
    "LOSSES",
    "LOSS_OUTPUTS",
    "NOISES",
    "OPTIMIZERS",
    "RECONSTRUCTION_LOSSES",
    "STATUSES",
    "SAMPLE_LOSSES",
    "SPARSITY_MAPS",
    "Autoencoder",
    "Corruption",
    "Dropout",
    "Layer",
    "LayerParams",
    "Network",
    "PrintProgress",
    "SolverSettings",
    "TrainingData",
    "TrainingHistory",
    "get_accelerator",
    "make_sparsity",
    "set_accelerator",
    "train",
]
