"""Pictures and measures of what an autoencoder learned.

The displays follow scikit-learn's Display API and need matplotlib
(``pip install "skae[plot]"``); the measures need only NumPy.
"""

from ._displays import (
    ActivationHistogramDisplay,
    FilterDisplay,
    LossCurveDisplay,
    ReconstructionDisplay,
    mosaic,
)
from ._measures import filter_measures, infer_image_shape
from ._outlier_display import OutlierExplanationDisplay

__all__ = [
    "ActivationHistogramDisplay",
    "FilterDisplay",
    "LossCurveDisplay",
    "OutlierExplanationDisplay",
    "ReconstructionDisplay",
    "filter_measures",
    "infer_image_shape",
    "mosaic",
]
