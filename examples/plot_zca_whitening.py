"""
Natural image patches before and after ZCA whitening
====================================================

Ng's notes train on *whitened* natural images: "whitening is a preprocessing step
which removes redundancy in the input, by causing adjacent pixels to become less
correlated". :class:`skae.preprocessing.ZCAWhitening` does it with the symmetric
matrix ``W = U diag(S + epsilon)^(-1/2) U^T``, so that whitened patches still look like
patches: edges are enhanced and flat regions flattened.

The patches come from :func:`skae.datasets.load_natural_patches`, random 8 x 8 grey
patches of scikit-learn's two sample photographs: nothing is downloaded.
"""

import matplotlib.pyplot as plt
import numpy as np

from skae.datasets import load_natural_patches
from skae.inspection import mosaic
from skae.preprocessing import ZCAWhitening

patches = load_natural_patches(10000, patch_size=8, random_state=0)
patches -= patches.mean(axis=1, keepdims=True)  # each patch's brightness
zca = ZCAWhitening(epsilon=0.05).fit(patches)
white = zca.transform(patches)

# %%
# Patches and their whitened versions
# -----------------------------------
fig, axes = plt.subplots(1, 2, figsize=(9, 4.5), layout="constrained")
for ax, data, title in zip(axes, (patches, white), ("patches", "ZCA whitened"), strict=True):
    tiles = data[:64].reshape(-1, 8, 8)
    tiles = tiles / np.abs(tiles).max(axis=(1, 2), keepdims=True)
    ax.imshow(mosaic(tiles), cmap="gray", vmin=-1, vmax=1)
    ax.set_title(title)
    ax.set_axis_off()

# %%
# Neighbouring pixels, before and after
# -------------------------------------
# Whitening decorrelates the pixels: the correlation of horizontal neighbours drops
# from near 1 to near 0 (slightly negative: ZCA sharpens). ``epsilon`` keeps the
# low-variance directions (pixel noise) from being amplified.
for name, data in (("patches", patches), ("whitened", white)):
    images = data.reshape(-1, 8, 8)
    correlation = np.corrcoef(images[:, :, :-1].ravel(), images[:, :, 1:].ravel())[0, 1]
    print(f"{name}: correlation of horizontal neighbours {correlation:.2f}")

fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
ax.semilogy(zca.eigenvalues_, "o-", label="eigenvalues S of the covariance")
ax.axhline(zca.epsilon, color="black", linestyle=":", label="epsilon")
ax.set_xlabel("direction (decreasing variance)")
ax.legend()
plt.show()
