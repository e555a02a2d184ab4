"""The comparison's settings, read from the data files shipped beside this module.

``presets.json``
    ``{dataset: {method: params, ..., "classifier": {method: {"C": C}}}}``: the settings
    the comparison scores. They are the output of ``--search`` (chosen on a validation
    split of the training set, never on the test set), copied from
    ``benchmarks/results/search_digits/search_digits_chosen.json`` (``python -m
    skae.compare --search``) and ``benchmarks/results/search_mnist/chosen.json``
    (``benchmarks/search_mnist.py``); ``tests/test_compare.py`` checks that they still
    are. The MNIST autoencoders are winner-take-all (Makhzani & Frey 2015): 2000 relu
    units, 5% lifetime sparsity, a linear decoder, Adam for 10 epochs. ``sparse_ae`` won
    its search over the KL penalty and top-k; ``denoising_ae``, the same with masking
    noise q = 0.1, over the sigmoid denoising autoencoders; ``tied_ae``, the same with
    tied weights, over the relu tied autoencoder without sparsity and the contractive
    one, and fit on all 50000 fitting images 30 epochs beat 10.
    docs/mnist_comparison.md gives the validation accuracies. Command-line estimator
    options override the presets.
``search_spaces.json``
    ``{dataset: {method: {"grid": [params, ...], "C": [C, ...]}}}``: what ``--search``
    tries. The classifier's C is searched for every method, raw pixels included; the
    baselines get a search of their own knobs as wide as the autoencoders' (PCA's width,
    the RBM's learning rate and iterations). The file is in the shape ``--search-space
    FILE`` reads.

Both are JSON so that a search's output can replace them without editing code, and so
that there is one copy of each: the code reads them, it does not repeat them.
"""

import json
from importlib import resources

__all__ = ["PRESETS", "SEARCH_SPACES", "merge_presets"]


def _read(name):
    return json.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))


PRESETS = _read("presets.json")
SEARCH_SPACES = _read("search_spaces.json")


def merge_presets(presets, chosen):
    """``presets`` with each method's settings and classifier parameters from ``chosen``.

    Parameters
    ----------
    presets : dict
        One dataset's presets, e.g. ``PRESETS["mnist"]``.
    chosen : dict
        The same shape, e.g. a ``search_<dataset>_chosen.json`` written by ``--search``;
        a method it lacks keeps its preset.

    Returns
    -------
    merged : dict
    """
    merged = {**presets, **{k: v for k, v in chosen.items() if k != "classifier"}}
    merged["classifier"] = {**presets.get("classifier", {}), **chosen.get("classifier", {})}
    return merged
