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
EPSILONS = (1e-4, 0.05)
whitened = {eps: ZCAWhitening(epsilon=eps).fit_transform(patches) for eps in EPSILONS}

# %%
# Patches and their whitened versions
# -----------------------------------
# With a tiny ``epsilon`` the whitening is complete and amplifies the faint
# high-frequency content (pixel noise, JPEG artefacts) as much as the edges; with
# ``epsilon=0.05``, the value of the edge-detector recipe, the directions of small
# variance are damped and whitening only sharpens.
panels = {"patches": patches} | {f"ZCA, epsilon={eps:g}": x for eps, x in whitened.items()}
fig, axes = plt.subplots(1, 3, figsize=(12, 4.3), layout="constrained")
for ax, (title, data) in zip(axes, panels.items(), strict=True):
    tiles = data[:64].reshape(-1, 8, 8)
    tiles = tiles / np.abs(tiles).max(axis=(1, 2), keepdims=True)
    ax.imshow(mosaic(tiles), cmap="gray", vmin=-1, vmax=1)
    ax.set_title(title)
    ax.set_axis_off()

# %%
# Neighbouring pixels, before and after
# -------------------------------------
# Complete whitening removes the correlation of neighbouring pixels;
# ``epsilon=0.05`` removes only part of it.
for title, data in panels.items():
    images = data.reshape(-1, 8, 8)
    correlation = np.corrcoef(images[:, :, :-1].ravel(), images[:, :, 1:].ravel())[0, 1]
    print(f"{title}: correlation of horizontal neighbours {correlation:.2f}")

# %%
# The eigenvalues of the covariance fall steeply (natural images have most of their
# variance at low spatial frequencies); whitening scales direction ``k`` by
# ``1 / sqrt(S_k + epsilon)``. The last eigenvalue is 0 (each patch's mean was removed)
# and is left out.
zca = ZCAWhitening(epsilon=0.05).fit(patches)
fig, ax = plt.subplots(figsize=(5, 3.5), layout="constrained")
ax.semilogy(zca.eigenvalues_[:-1], "o-", label="eigenvalues S of the covariance")
for eps, style in zip(EPSILONS, (":", "--"), strict=True):
    ax.axhline(eps, color="black", linestyle=style, label=f"epsilon={eps:g}")
ax.set_xlabel("direction (decreasing variance)")
ax.legend()
plt.show()
