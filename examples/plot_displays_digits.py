"""
Looking at a fitted autoencoder: the four displays
==================================================

:mod:`skae.inspection` draws what an autoencoder learned, following scikit-learn's
Display API: ``XDisplay.from_estimator(estimator, ...)`` fits nothing, computes what to
draw, draws it and returns the display, which keeps ``figure_`` and ``ax_``.

This example trains a small denoising autoencoder on scikit-learn's 8 x 8 digits (a few
seconds) and shows its filters, its reconstructions, its loss curve and the
distribution of its mean activations.
"""

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits

from skae import DenoisingAutoencoder
from skae.inspection import (
    ActivationHistogramDisplay,
    FilterDisplay,
    LossCurveDisplay,
    ReconstructionDisplay,
)

X = load_digits().data / 16  # pixels in [0, 1]
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

# %%
# Filters
# -------
# For hidden unit ``i``, the input of norm 1 that activates it most is
# ``W_i / ||W_i||`` (the lecture on regularised autoencoders;
# Ng's sparse-autoencoder notes, section 4). Light is a positive weight,
# dark a negative one; each filter is stretched to its own range.
FilterDisplay.from_estimator(ae)

# %%
# ``units`` chooses which: an int for the first ``n``, a list, or, with ``X``, the
# ``n`` most active on ``X``.
FilterDisplay.from_estimator(ae, units=8, X=X, n_cols=8, title="the 8 most active units")

# %%
# Reconstructions
# ---------------
# The middle row is corrupted as the model saw its input during training (masking,
# q = 0.3); the bottom row is the model's reconstruction of that corrupted input.
ReconstructionDisplay.from_estimator(ae, X[:12])

# %%
# Loss curve
# ----------
# With ``early_stopping=True`` the held-out reconstruction loss is drawn too; the
# training objective also holds the penalties, so it sits above.
LossCurveDisplay.from_estimator(ae)

# %%
# Mean activations
# ----------------
# The KL sparsity penalty pulls each unit's mean activation rho^_j towards rho.
display = ActivationHistogramDisplay.from_estimator(ae, X)
plt.show()
