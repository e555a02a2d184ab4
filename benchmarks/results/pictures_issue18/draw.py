"""Draw the four displays on the digits; argv[1] is the output prefix."""

import sys
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from skae import DenoisingAutoencoder
from skae.inspection import (
    ActivationHistogramDisplay,
    FilterDisplay,
    LossCurveDisplay,
    ReconstructionDisplay,
)

warnings.simplefilter("ignore")
prefix = sys.argv[1]
X = load_digits().data / 16
ae = DenoisingAutoencoder(
    n_components=64,
    noise_level=0.3,
    loss="cross_entropy",
    sparsity_weight=0.5,
    sparsity_target=0.1,
    batch_size=32,
    learning_rate_init=0.01,
    max_iter=100,
    early_stopping=True,
    random_state=0,
).fit(X)
for name, draw in {
    "filters": lambda: FilterDisplay.from_estimator(ae),
    "reconstruction": lambda: ReconstructionDisplay.from_estimator(ae, X[:12]),
    "loss": lambda: LossCurveDisplay.from_estimator(ae),
    "histogram": lambda: ActivationHistogramDisplay.from_estimator(ae, X),
}.items():
    d = draw()
    d.figure_.savefig(f"{prefix}_{name}.png", dpi=80)
    plt.close("all")
