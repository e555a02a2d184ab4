"""
Denoising autoencoders learn pen-stroke detectors (the lecture)
===============================================================

The lecture on regularised autoencoders (module 7.4) plots, for each hidden unit ``i``,
the input that activates it most, ``x = W_i / ||W_i||``, for a plain autoencoder and for
denoising autoencoders with masking noise ``q = 0.25`` and ``q = 0.5`` on MNIST, and
says:

1. the plain autoencoder "does not learn many meaningful patterns";
2. the denoising ones act as pen-stroke detectors;
3. "as the noise increases the filters become more wide".

This example trains the three models and turns each claim into a number with
:func:`skae.inspection.filter_measures`, over three seeds:

* the share of *saturated* units, whose activation hardly varies over the training
  images (standard deviation below 0.05: the unit is always on or always off and
  carries nothing; its filter is the speckled square of the pictures), and
  ``roughness`` (0 smooth, about 1 white noise), for "meaningful patterns";
* ``concentration`` (share of a filter's energy within 3 pixels of its peak) for
  "detectors" of a local stroke;
* ``scale`` (the width, in pixels, of a Gaussian blob as rough as the filter) for
  "wider".

It is not run by the documentation build (about 4 minutes on one core): the figure
below is the committed ``docs/images/mnist_denoising_filters.png``. Run it with
MNIST's four files in ``$SKAE_DATA`` (see :func:`skae.datasets.load_mnist`).

.. image:: /images/mnist_denoising_filters.png
   :alt: Filters of a plain and of two denoising autoencoders on MNIST

The measured table and what it means are in :doc:`/reproduced_figures`.
"""

# sphinx_gallery_thumbnail_path = "images/mnist_denoising_filters.png"

# %%
# Settings: the documented recipe
# -------------------------------
# 10000 MNIST training images, 200 sigmoid hidden units, a sigmoid decoder with the
# cross-entropy loss, Adam for 20 epochs of minibatches of 100. A tiny weight decay
# (``alpha=1e-5``) only clears the weights of the border pixels, which are 0 in every
# image and would otherwise keep their random initial values (and dominate the
# pictures) since they receive no gradient. Only ``noise_level`` (q) changes between
# the panels; the plain autoencoder is also shown with 500 units (overcomplete-ish),
# the lecture's setting of concern.
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from skae import DenoisingAutoencoder
from skae.datasets import load_mnist
from skae.inspection import FilterDisplay, filter_measures

N_TRAIN = 10000
SEEDS = (0, 1, 2)
PANELS = {
    "plain AE (q=0)": {"noise_level": 0.0},
    "denoising AE, q=0.25": {"noise_level": 0.25},
    "denoising AE, q=0.5": {"noise_level": 0.5},
}
WIDE = {"plain AE (q=0), 500 units": {"noise_level": 0.0, "n_components": 500}}
MEASURES = ("roughness", "concentration", "scale", "spread", "orientedness")
SATURATED = 0.05  # a unit whose activation varies less than this over X carries nothing


def make_model(seed, **params):
    settings = dict(
        n_components=200,
        loss="cross_entropy",
        alpha=1e-5,
        noise="masking",
        solver="adam",
        batch_size=100,
        max_iter=20,
        random_state=seed,
    )
    settings.update(params)
    return DenoisingAutoencoder(**settings)


X = load_mnist().X_train
rows = []  # (panel, seed, median of each measure over the units)
models = {}
start = time.perf_counter()
for seed in SEEDS:
    # each seed its own training subset, initialisation and noise
    subset = np.random.default_rng(seed).choice(len(X), N_TRAIN, replace=False)
    for name, params in {**PANELS, **WIDE}.items():
        model = make_model(seed, **params).fit(X[subset])
        measures = filter_measures(model.components_)
        medians = [float(np.nanmedian(measures[m])) for m in MEASURES]
        saturated = float(np.mean(model.transform(X[subset]).std(axis=0) < SATURATED))
        rows.append((name, seed, [saturated, *medians]))
        if seed == SEEDS[0]:
            models[name], X_first = model, X[subset]
print(f"trained {len(rows)} models in {time.perf_counter() - start:.0f} s")

# %%
# The measures, median over the units, mean and spread over the seeds
# ---------------------------------------------------------------------
print("| model | saturated share | " + " | ".join(MEASURES) + " |")
print("|---|" + "---:|" * (len(MEASURES) + 1))
for name in {**PANELS, **WIDE}:
    values = np.array([v for n, _, v in rows if n == name])
    cells = [f"{m:.3f} ± {s:.3f}" for m, s in zip(values.mean(0), values.std(0), strict=True)]
    print(f"| {name} | " + " | ".join(cells) + " |")

# %%
# The filters W_i / ||W_i|| of the first 64 units, seed 0
# -------------------------------------------------------
fig, axes = plt.subplots(1, 3, figsize=(12, 5.2), layout="constrained")
for ax, name in zip(axes, PANELS, strict=True):
    measures = filter_measures(models[name].components_)
    saturated = np.mean(models[name].transform(X_first).std(axis=0) < SATURATED)
    title = (
        f"{name}\nsaturated units {saturated:.0%}\n"
        f"roughness {np.nanmedian(measures.roughness):.2f}, "
        f"concentration {np.nanmedian(measures.concentration):.2f}"
    )
    # the panels share one grey scale: one colour bar, beside the last
    FilterDisplay.from_estimator(
        models[name], units=64, ax=ax, title=title, colorbar=ax is axes[-1]
    )
output = Path(__file__).resolve().parent.parent / "docs" / "images"
if output.is_dir():
    # grey filters compress poorly: a modest resolution keeps the PNG under 300 KB
    fig.savefig(output / "mnist_denoising_filters.png", dpi=66)
plt.show()
