"""
Edge detectors from whitened natural image patches (the lecture, Ng's notes)
================================================================================

Ng's sparse-autoencoder notes (section 4) train a sparse autoencoder on whitened patches
of natural images and find that "the different hidden units have learned to detect edges
at different positions and orientations"; the lecture on regularised autoencoders shows
edge detectors from autoencoders with weight decay and adds that "PCA does not give such
edge detectors".

An edge detector is *local* (its energy sits near one place) and *oriented*. This
example measures both with :func:`skae.inspection.filter_measures` over three seeds:

* ``concentration``: share of a filter's energy in the 3 x 3 window around its peak
  (1 for a single pixel; about 0.14 for energy spread evenly over the 8 x 8 patch);
* ``spread``: the energy's spatial standard deviation in pixels (3.24 for an even
  spread over 8 x 8, 0 for a single pixel);
* ``orientedness``: 1 for a straight edge or a grating, about 0 for an isotropic blob
  or noise;
* ``roughness``: about 1 for white noise, near 0 for smooth filters.

The data: 10000 random 8 x 8 grey patches of scikit-learn's two sample photographs
(:func:`skae.datasets.load_natural_patches`), each patch's mean removed, then ZCA
whitened (:class:`skae.preprocessing.ZCAWhitening`, ``epsilon=0.05``).

It is not run by the documentation build (about 5 minutes on one core): the figure is
the committed ``docs/images/natural_image_edges.png``.

.. image:: /images/natural_image_edges.png
   :alt: Filters of an autoencoder with weight decay, a sparse autoencoder and PCA on
         whitened natural image patches

The measured table and what it means are in :doc:`/reproduced_figures`.
"""

# sphinx_gallery_thumbnail_path = "images/natural_image_edges.png"

# %%
# Settings: the documented recipe
# -------------------------------
# 100 sigmoid hidden units on 64 pixels, a linear decoder (``output_activation=
# "identity"``: whitened pixels are not in [0, 1]), squared error, L-BFGS for 400
# iterations as in Ng's exercise. The sparse autoencoder uses rho = 0.035, beta = 5,
# lambda = 3e-3 (the settings of the UFLDL linear-decoder exercise); the autoencoder
# with weight decay only turns the sparsity off and uses a stronger lambda = 3e-2.
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA

from skae import SparseAutoencoder
from skae.datasets import load_natural_patches
from skae.inspection import FilterDisplay, filter_measures
from skae.preprocessing import ZCAWhitening

SEEDS = (0, 1, 2)
MEASURES = ("concentration", "spread", "orientedness", "roughness")
COMMON = dict(n_components=100, output_activation="identity", max_iter=400)
MODELS = {
    "AE + weight decay (lambda=3e-2)": lambda seed: SparseAutoencoder(
        sparsity_weight=0.0, alpha=3e-2, random_state=seed, **COMMON
    ),
    "sparse AE (rho=0.035, beta=5)": lambda seed: SparseAutoencoder(
        sparsity_target=0.035, sparsity_weight=5.0, alpha=3e-3, random_state=seed, **COMMON
    ),
    "PCA": lambda seed: PCA(n_components=64, random_state=seed),
}


def whitened_patches(seed):
    patches = load_natural_patches(10000, patch_size=8, random_state=seed)
    patches -= patches.mean(axis=1, keepdims=True)  # each patch's brightness
    return ZCAWhitening(epsilon=0.05).fit_transform(patches)


rows, models = [], {}
start = time.perf_counter()
for seed in SEEDS:
    X = whitened_patches(seed)
    for name, make in MODELS.items():
        model = make(seed).fit(X)
        measures = filter_measures(model.components_)
        rows.append((name, seed, [float(np.nanmedian(measures[m])) for m in MEASURES]))
        if seed == SEEDS[0]:
            models[name] = model
print(f"trained {len(rows)} models in {time.perf_counter() - start:.0f} s")

# %%
# The measures, median over the units, mean and spread over the seeds
# ---------------------------------------------------------------------
print("| model | " + " | ".join(MEASURES) + " |")
print("|---|" + "---:|" * len(MEASURES))
for name in MODELS:
    values = np.array([v for n, _, v in rows if n == name])
    cells = [f"{m:.3f} ± {s:.3f}" for m, s in zip(values.mean(0), values.std(0), strict=True)]
    print(f"| {name} | " + " | ".join(cells) + " |")

# %%
# The filters, seed 0
# -------------------
fig, axes = plt.subplots(1, 3, figsize=(12, 5.2), layout="constrained")
for ax, name in zip(axes, MODELS, strict=True):
    measures = filter_measures(models[name].components_)
    title = (
        f"{name}\nconcentration {np.nanmedian(measures.concentration):.2f}, "
        f"orientedness {np.nanmedian(measures.orientedness):.2f}"
    )
    # one colour bar for the three panels; no unit numbers, which would hide a corner
    # of each 8 x 8 filter that the comparison is about
    FilterDisplay.from_estimator(
        models[name], ax=ax, title=title, unit_labels=False, colorbar=ax is axes[-1]
    )
fig.suptitle("Whitened 8x8 natural image patches: filters W_i / ||W_i||")
output = Path(__file__).resolve().parent.parent / "docs" / "images"
if output.is_dir():
    fig.savefig(output / "natural_image_edges.png", dpi=90)
plt.show()
