"""The feature-learning comparison: the same classifier on raw pixels and on learned features.

Run it with ``python -m skae.compare`` (or the ``skae-compare`` console script); ``--help``
lists the options. The default run uses scikit-learn's bundled 8x8 digits, needs no
download and takes a few seconds.

The experiment
--------------
One stratified train/test split (``--dataset digits``: ``load_digits`` scaled to [0, 1]
by /16, ``train_test_split(test_size=0.25, stratify=y)``; ``--dataset mnist``: the
official 60 000/10 000 split from :func:`skae.datasets.load_mnist`), optionally a
stratified subsample of the training set (``--n-train``). Then, for each method,
``make_pipeline(extractor, classifier)`` is fit on the training set and scored on the
test set. The extractors are

=============  ===================================================================
pixels         no extractor: the raw pixels (an identity ``FunctionTransformer``)
pca            :class:`~sklearn.decomposition.PCA`
rbm            :class:`~sklearn.neural_network.BernoulliRBM`
sparse_ae      :class:`skae.SparseAutoencoder`
denoising_ae   :class:`skae.DenoisingAutoencoder`
tied_ae        :class:`skae.TiedAutoencoder`
=============  ===================================================================

each with the settings of :data:`PRESETS` for the dataset (the output of the search
below; ``--presets FILE`` reads another search's choice), the same ``random_state`` and
``--n-components`` features where the preset does not set a width (an explicit
``--n-components`` sets every width). An estimator option (``--alpha``,
``--noise-level``, ...) overrides the presets of all three autoencoders; ``--max-iter``
also sets the RBM's ``n_iter``.

The protocol
------------
``--search`` (or ``--search-only``, which stops before the test set) chooses each
method's settings and the classifier's ``C`` on a stratified validation split carved
from the training set (``--n-validation``: 10000 of MNIST's 60000, a sixth for digits;
the split is fixed), over the grids of :data:`SEARCH_SPACES` (or ``--search-space
FILE``). Each candidate extractor is fit once (on ``--search-n-train`` samples of the
rest, to make MNIST affordable) and a classifier is fit on its features for each ``C``.
Raw pixels, PCA and the RBM are searched as the autoencoders are (``C`` for all, PCA's
width, the RBM's learning rate and iterations). The chosen settings are then refit on
the whole training set and scored on the test set once. ``--seeds N`` refits each
method with N seeds (of the extractor and the classifier; the data split is fixed) and
reports the mean and the sample standard deviation.

A ConvergenceWarning of an extractor whose iteration budget the preset or the command
line sets is expected (the budget is the setting) and not reported; any other warning
is.

Timing: the default digits run limits BLAS to one thread (``--blas-threads``), as its
small matrices gain nothing from threads; mnist keeps the BLAS default.

Fairness: the classifier is one fresh, identical object per method, built from
``--classifier``. The linear classifiers (``logistic``, ``linear_svc``) include a
:class:`~sklearn.preprocessing.StandardScaler` in front, for every method including raw
pixels, because their regularisation and convergence depend on the scale of the
features; ``knn`` and ``random_forest`` see the features as they are (k-NN so that it
measures each representation's own geometry; trees do not care about scale).

Outputs
-------
The table is printed on stdout, after a paragraph that says what is measured (which
classifier, on which split, over how many seeds) and before a list of what to try next;
on stderr, one line per method start and end and,
while an extractor trains for longer than ``--progress-interval`` seconds (10), its
epochs done, loss and time left (its own ``verbose`` output, which changes nothing in
the training). ``--search`` also writes ``search_<dataset>.md``/``.csv`` (every
candidate and C with its validation accuracy) and ``search_<dataset>_chosen.json``.
It is written as ``compare_<dataset>.md`` and ``compare_<dataset>.csv`` into
``--output-dir`` (default ``skae_compare_results/``) and, if matplotlib is installed
(``pip install skae[plot]``) and ``--no-plot`` is not given, drawn as
``compare_<dataset>.png`` (titled with the data, the classifier and the split; the
accuracy axis starts near the worst method and says where). Columns:

method
    The extractor's name, as above and as accepted by ``--methods``.
accuracy
    Accuracy of the pipeline on the test set (the mean over ``--seeds``).
accuracy_std
    Sample standard deviation of the accuracy over the seeds (0 for one seed).
n_seeds
    Number of seeds.
fit_time_s
    Wall time in seconds to fit the whole pipeline (extractor and classifier) on the
    training set (the mean over seeds).
transform_time_s
    Wall time in seconds for the fitted extractor to transform the test set.
n_features
    Number of features the classifier sees: the number of pixels for ``pixels``,
    the preset's or ``--n-components`` for the others.
"""

import argparse
import contextlib
import csv
import io
import itertools
import json
import re
import sys
import textwrap
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import LinearSVC

from ._base import FULL_BATCH_SOLVERS, MINIBATCH_SOLVERS
from ._core import ACTIVATIONS
from ._denoising import DenoisingAutoencoder
from ._sparse import SparseAutoencoder
from ._tied import TiedAutoencoder

__all__ = [
    "CLASSIFIERS",
    "COLUMNS",
    "METHODS",
    "PRESETS",
    "load_data",
    "main",
    "run_comparison",
]

DEFAULT_N_COMPONENTS = {"digits": 256, "mnist": 2000}
# digits' 64-column matrices are too small to gain from BLAS threads, and threads that
# wait on a busy machine made the default run ~10x slower; None keeps the BLAS default
DEFAULT_BLAS_THREADS = {"digits": 1, "mnist": None}

COLUMNS = (
    "method",
    "accuracy",
    "accuracy_std",
    "n_seeds",
    "fit_time_s",
    "transform_time_s",
    "n_features",
)
SEARCH_COLUMNS = ("method", "params", "C", "val_accuracy", "fit_time_s")


# Hyperparameters per dataset and method: the output of ``--search`` (chosen on a
# validation split of the training set, never on the test set), copied from
# benchmarks/results/search_<dataset>*/search_<dataset>_chosen.json; see
# docs/mnist_comparison.md. Command-line estimator options override them.
_MNIST_AUTOENCODER = {
    "loss": "cross_entropy",
    "solver": "adam",
    "batch_size": 256,
    "learning_rate_init": 1e-3,
    "tol": 0.0,
    "n_iter_no_change": 1000,  # run every epoch of max_iter
}
_MNIST_WINNER_TAKE_ALL = {
    "n_components": 2000,
    "sparsity": "lifetime",
    "sparsity_target": 0.05,
    "sparsity_weight": 0.0,
    "activation": "relu",
    "output_activation": "identity",
    "loss": "squared_error",
    "alpha": 0.0,
    "solver": "adam",
    "batch_size": 100,
    "learning_rate_init": 1e-3,
    "max_iter": 10,
    "tol": 0.0,
    "n_iter_no_change": 1000,
}
PRESETS = {
    # python -m skae.compare --search (benchmarks/results/search_digits/)
    "digits": {
        "pca": {"n_components": 64},
        "rbm": {"n_components": 256, "learning_rate": 0.01, "n_iter": 40},
        "sparse_ae": {"n_components": 256, "max_iter": 100, "sparsity_weight": 3.0},
        "denoising_ae": {"n_components": 256, "noise_level": 0.1, "learning_rate_init": 0.01},
        "tied_ae": {"n_components": 256, "max_iter": 100, "sparsity_weight": 3.0},
        "classifier": {
            "pixels": {"C": 1.0},
            "pca": {"C": 0.1},
            "rbm": {"C": 10.0},
            "sparse_ae": {"C": 1.0},
            "denoising_ae": {"C": 1.0},
            "tied_ae": {"C": 0.1},
        },
    },
    # benchmarks/search_mnist.py (benchmarks/results/search_mnist/chosen.json)
    "mnist": {
        "pca": {"n_components": 100},
        "rbm": {"n_components": 2000, "learning_rate": 0.05, "batch_size": 100, "n_iter": 10},
        # winner-take-all (Makhzani & Frey 2015): it won the sparse_ae search over the KL
        # penalty (validation 97.07% against 95.95%) and over top-k
        "sparse_ae": _MNIST_WINNER_TAKE_ALL,
        # the same with masking noise q = 0.1: it won the denoising search (97.08%) over
        # the sigmoid denoising autoencoders (95.96%)
        "denoising_ae": {**_MNIST_WINNER_TAKE_ALL, "noise": "masking", "noise_level": 0.1},
        # the same with tied weights (W* = W^T): it won the tied search (97.25%) over the
        # relu tied autoencoder without sparsity (96.64%) and the contractive one (96.57%);
        # fit on all 50000 fitting images, 30 epochs beat 10 (98.71% against 98.41%)
        "tied_ae": {**_MNIST_WINNER_TAKE_ALL, "max_iter": 30},
        "classifier": {
            "pixels": {"C": 0.03},
            "pca": {"C": 1.0},
            "rbm": {"C": 0.3},
            "sparse_ae": {"C": 0.1},
            "denoising_ae": {"C": 0.1},
            "tied_ae": {"C": 0.03},
        },
    },
}


def _grid(**values):
    """All combinations of the given lists, as a list of parameter dicts."""
    names = list(values)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values.values())]


# What ``--search`` tries per dataset and method: {"grid": [params, ...], "C": [...]}.
# The classifier's C is searched for every method, raw pixels included; the baselines get
# a search of their own knobs as wide as the autoencoders' (see docs/mnist_comparison.md).
_C_LINEAR = [0.01, 0.1, 1.0]
SEARCH_SPACES = {
    "digits": {
        "pixels": {"C": [0.01, 0.1, 1.0, 10.0]},
        "pca": {"grid": _grid(n_components=[16, 32, 64]), "C": [0.01, 0.1, 1.0, 10.0]},
        "rbm": {
            "grid": _grid(n_components=[64, 256], learning_rate=[0.01, 0.1], n_iter=[10, 40]),
            "C": [0.1, 1.0, 10.0],
        },
        "sparse_ae": {
            "grid": _grid(max_iter=[100, 200], sparsity_weight=[1.0, 3.0]),
            "C": [0.1, 1.0, 10.0],
        },
        "denoising_ae": {
            "grid": _grid(noise_level=[0.1, 0.25], learning_rate_init=[0.001, 0.01]),
            "C": [0.1, 1.0, 10.0],
        },
        "tied_ae": {
            "grid": _grid(max_iter=[100, 200], sparsity_weight=[0.0, 3.0]),
            "C": [0.1, 1.0, 10.0],
        },
    },
    "mnist": {
        "pixels": {"C": [0.003, 0.01, 0.03, 0.1, 1.0]},
        "pca": {"grid": _grid(n_components=[50, 100, 200, 784]), "C": [0.01, 0.1, 1.0]},
        "rbm": {
            "grid": _grid(learning_rate=[0.01, 0.05], n_iter=[10], batch_size=[100]),
            "C": [0.01, 0.03, 0.1],
        },
        "sparse_ae": {
            "grid": [
                {**_MNIST_AUTOENCODER, "activation": "sigmoid", "alpha": 1e-5, **g}
                for g in _grid(sparsity_weight=[1.0, 2.0], sparsity_target=[0.05], max_iter=[15])
            ],
            "C": [0.01, 0.03, 0.1],
        },
        "denoising_ae": {
            "grid": [
                *(
                    {**_MNIST_AUTOENCODER, "activation": "sigmoid", "alpha": 1e-5, **g}
                    for g in _grid(noise_level=[0.25, 0.5], max_iter=[15])
                ),
                # the relu encoder that won the tied search, with masking noise
                {**_MNIST_AUTOENCODER, "activation": "relu", "alpha": 1e-4, "max_iter": 8},
            ],
            "C": [0.01, 0.03, 0.1, 0.3],
        },
        "tied_ae": {
            "grid": [
                {**_MNIST_AUTOENCODER, "activation": "relu", "max_iter": 8, **g}
                for g in _grid(alpha=[1e-4], noise_level=[0.0, 0.25])
            ],
            "C": [0.01, 0.03, 0.1],
        },
    },
}
# a sixth of the training set, as MNIST's 10000 of 60000
DEFAULT_N_VALIDATION = {"digits": None, "mnist": 10000}


# -- the methods: name -> factory(n_components, random_state, params) ---------------------
# ``params`` holds only the estimator options given on the command line; each factory
# takes what applies to it, so an unset option leaves the class default alone.
def _pixels(n_components, random_state, params):
    return FunctionTransformer()


def _pca(n_components, random_state, params):
    return PCA(n_components=n_components, random_state=random_state)


def _rbm(n_components, random_state, params):
    params = dict(params)
    if "max_iter" in params:
        params["n_iter"] = params.pop("max_iter")
    # of the autoencoder options only the iteration budget means something to the RBM
    own = {k: v for k, v in params.items() if k in BernoulliRBM().get_params()}
    return BernoulliRBM(n_components=n_components, random_state=random_state, **own)


# The settings every preset and search space was chosen at: the autoencoders' defaults
# before "auto" (skae 0.2 decides these from the data). Set here explicitly so that the
# published figures do not move with a default; a preset or an option overrides them.
SEARCHED_AT = {"output_activation": "sigmoid", "max_iter": 200}
SEARCHED_AT_SPARSE = {**SEARCHED_AT, "sparsity_weight": 3.0}


def _autoencoder(cls, n_components, random_state, params):
    searched_at = SEARCHED_AT_SPARSE if cls is SparseAutoencoder else SEARCHED_AT
    return cls(n_components=n_components, random_state=random_state, **{**searched_at, **params})


METHODS = {
    "pixels": _pixels,
    "pca": _pca,
    "rbm": _rbm,
    "sparse_ae": partial(_autoencoder, SparseAutoencoder),
    "denoising_ae": partial(_autoencoder, DenoisingAutoencoder),
    "tied_ae": partial(_autoencoder, TiedAutoencoder),
}

# -- the classifiers: name -> factory(random_state) -----------------------------------------
CLASSIFIERS = {
    "logistic": lambda random_state: make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=1000)
    ),
    "linear_svc": lambda random_state: make_pipeline(
        StandardScaler(), LinearSVC(random_state=random_state)
    ),
    "knn": lambda random_state: KNeighborsClassifier(),
    "random_forest": lambda random_state: RandomForestClassifier(random_state=random_state),
}


def load_data(dataset="digits", *, data_home=None, n_train=None, random_state=0):
    """Load a dataset as a train/test split with pixels in [0, 1].

    Parameters
    ----------
    dataset : {"digits", "mnist"}, default="digits"
        "digits": scikit-learn's bundled 8x8 digits divided by 16, split by a stratified
        ``train_test_split(test_size=0.25)``. "mnist": the official split from
        :func:`skae.datasets.load_mnist`.
    data_home : str or path-like, default=None
        Where MNIST is cached (``load_mnist``'s own default if None); unused for digits.
    n_train : int, default=None
        Keep a stratified subsample of this many training samples; None (or a number at
        least the training set's size) keeps them all. The test set is never subsampled.
    random_state : int, default=0
        Seeds the digits split and the subsample.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
    """
    if dataset == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            X / 16.0, y, test_size=0.25, stratify=y, random_state=random_state
        )
    elif dataset == "mnist":
        # imported here: only this branch needs the download code
        from .datasets import load_mnist

        X_train, y_train, X_test, y_test = load_mnist(data_home=data_home, return_X_y=True)
    else:
        raise ValueError(f"Unknown dataset {dataset!r}; use 'digits' or 'mnist'.")
    if n_train is not None and n_train < X_train.shape[0]:
        X_train, _, y_train, _ = train_test_split(
            X_train, y_train, train_size=n_train, stratify=y_train, random_state=random_state
        )
    return X_train, y_train, X_test, y_test


def _log(message):
    print(message, file=sys.stderr, flush=True)


class _ProgressRelay(io.TextIOBase):
    """Stand-in for stdout during a fit: the estimator's verbose lines, on stderr.

    The autoencoders (``verbose=1``) print ``Epoch n, loss = ...`` (or ``Iteration n``
    for the full-batch solvers) and the RBM ``Iteration n, pseudo-likelihood = ...``;
    each becomes one line ``<tag>: epoch n/total, loss ..., elapsed ..., left ~...``
    (``iteration n/total`` where the estimator counts iterations).
    Lines come at most every ``interval`` seconds (the last one always), so a fit of a
    few seconds says nothing and a fit of minutes says how far it is.
    """

    _EPOCH = re.compile(r"(Epoch|Iteration) (\d+)")
    _LOSS = re.compile(r"(loss|pseudo-likelihood) = (-?[0-9.eE+-]+|nan|inf)")

    def __init__(self, tag, total, interval):
        self.tag, self.total, self.interval = tag, total, interval
        self.start = self.last = time.perf_counter()
        self.pending = ""
        self.held = None  # the newest line not yet shown

    def writable(self):
        return True

    def write(self, text):
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self._line(line)
        return len(text)

    def _line(self, line):
        epoch = self._EPOCH.search(line)
        if epoch is None:
            if line.strip():
                _log(f"{self.tag}: {line}")
            return
        done = int(epoch.group(2))
        now = time.perf_counter()
        elapsed = now - self.start
        loss = self._LOSS.search(line)
        message = f"{self.tag}: {epoch.group(1).lower()} {done}/{self.total}"
        if loss:
            message += f", {loss.group(1)} {loss.group(2)}"
        left = elapsed / done * max(self.total - done, 0)
        message += f", elapsed {elapsed:.0f}s, left ~{left:.0f}s"
        due = now - self.last >= self.interval
        if due or (done == self.total and elapsed >= self.interval):
            _log(message)
            self.last, self.held = now, None
        else:
            self.held = message

    def close_fit(self):
        """Show the last line held back, if the fit ended early (e.g. converged)."""
        if self.pending:
            self._line(self.pending)
            self.pending = ""
        if self.held is not None and time.perf_counter() - self.start >= self.interval:
            _log(self.held)
        self.held = None


def _fit_quietly(pipeline, X, y, tag, progress_interval):
    """Fit a pipeline (or an extractor alone), relaying the extractor's progress."""
    extractor = pipeline[0] if hasattr(pipeline, "steps") else pipeline
    relay = None
    if progress_interval is not None and "verbose" in extractor.get_params():
        params = extractor.get_params()
        total = params.get("max_iter") or params.get("n_iter")
        relay = _ProgressRelay(tag, total, progress_interval)
        # verbose only prints: the same random_state trains the same model
        extractor.set_params(verbose=1)
    with contextlib.redirect_stdout(relay) if relay else contextlib.nullcontext():
        pipeline.fit(X, y)
    if relay is not None:
        relay.close_fit()
        extractor.set_params(verbose=0)
    return pipeline


def _fit_and_score(pipeline, X_train, y_train, X_test, y_test, tag="", progress_interval=None):
    """Fit the pipeline and score it on the test set; one row of the table, sans name."""
    start = time.perf_counter()
    _fit_quietly(pipeline, X_train, y_train, tag, progress_interval)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    features = pipeline[0].transform(X_test)
    transform_time = time.perf_counter() - start
    # the classifier alone on the features just timed: no second transform of X_test
    accuracy = pipeline[1:].score(features, y_test)
    return {
        "accuracy": float(accuracy),
        "fit_time_s": fit_time,
        "transform_time_s": transform_time,
        "n_features": int(features.shape[1]),
    }


def _set_classifier_params(classifier, params):
    """Set e.g. ``{"C": 0.03}`` on the final estimator, if it has those parameters."""
    final = classifier[-1] if hasattr(classifier, "steps") else classifier
    own = {k: v for k, v in params.items() if k in final.get_params()}
    final.set_params(**own)
    return classifier


def _build(name, width, random_state, params, classifier, classifier_params):
    extractor = METHODS[name](width, random_state, params)
    clf = _set_classifier_params(CLASSIFIERS[classifier](random_state), classifier_params)
    return make_pipeline(extractor, clf)


def _width(name, n_components, X, tag, verbose):
    max_pca = min(np.shape(X))
    if name == "pca" and n_components > max_pca:
        # PCA has at most min(n_samples, n_features) components: the nearest fair
        # comparison is all of them (a rotation of the pixels), said in the table
        if verbose:
            _log(f"{tag}: PCA capped at {max_pca} components (n_components={n_components})")
        return max_pca
    return n_components


def _std(values):
    # the sample standard deviation over seeds; 0 for a single seed
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def run_comparison(
    X_train,
    y_train,
    X_test,
    y_test,
    *,
    methods=None,
    n_components=64,
    classifier="logistic",
    estimator_params=None,
    presets=None,
    random_state=0,
    n_seeds=1,
    progress_interval=None,
    verbose=True,
):
    """Fit ``make_pipeline(extractor, classifier)`` for each method and score it.

    Parameters
    ----------
    X_train, y_train : array-like
        Training set; the pixels should be in [0, 1] (the RBM needs it).
    X_test, y_test : array-like
        Test set.
    methods : list of str, default=None
        Names from :data:`METHODS`, run in this order; None runs all of them.
    n_components : int, default=64
        Number of features of every extractor (not of ``pixels``) whose preset does not
        set its own ``n_components``.
    classifier : str, default="logistic"
        A name from :data:`CLASSIFIERS`.
    estimator_params : dict, default=None
        Autoencoder parameters applied to all three autoencoders, e.g.
        ``{"alpha": 1e-3, "max_iter": 50}``; ``max_iter`` also sets the RBM's ``n_iter``.
        Parameters left out keep each class's default (or the preset).
    presets : dict, default=None
        Per-method parameters under the method's name (e.g. :data:`PRESETS` ``["mnist"]``),
        overridden by ``estimator_params``; ``presets["classifier"][method]`` holds the
        classifier's parameters for that method (e.g. ``{"C": 0.03}``), applied where
        the classifier has them.
    random_state : int, default=0
        The first seed of every extractor and of the classifiers that use randomness.
    n_seeds : int, default=1
        Fit each method with the seeds ``random_state, random_state + 1, ...``; the
        table reports the mean and the sample standard deviation of the accuracy. The
        data are the same for every seed.
    progress_interval : float, default=None
        Relay each extractor's progress (epochs done, loss, time left) on stderr at most
        every this many seconds; None keeps the extractors silent.
    verbose : bool, default=True
        Print one line on stderr when each method starts and when it ends.

    Returns
    -------
    results : list of dict
        One dict per method, with the keys of :data:`COLUMNS`.
    """
    methods = list(METHODS) if methods is None else list(methods)
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"Unknown methods {unknown}; choose from {list(METHODS)}.")
    if classifier not in CLASSIFIERS:
        raise ValueError(f"Unknown classifier {classifier!r}; choose from {list(CLASSIFIERS)}.")
    presets = presets or {}
    seeds = [random_state + i for i in range(n_seeds)]

    results = []
    for i, name in enumerate(methods, 1):
        tag = f"[{i}/{len(methods)}] {name}"
        params = {**presets.get(name, {}), **(estimator_params or {})}
        width = _width(name, params.pop("n_components", n_components), X_train, tag, verbose)
        classifier_params = presets.get("classifier", {}).get(name, {})
        runs = []
        for seed in seeds:
            pipeline = _build(name, width, seed, params, classifier, classifier_params)
            seed_tag = tag if n_seeds == 1 else f"{tag} seed {seed}"
            if verbose:
                _log(f"{seed_tag}: fitting {type(pipeline[0]).__name__} + {classifier} ...")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                row = _fit_and_score(
                    pipeline, X_train, y_train, X_test, y_test, seed_tag, progress_interval
                )
            # a budget the preset (chosen on the validation set) or the command line
            # fixes is the setting, not a failure: the extractor's own warning about it
            # is expected; the classifier's still shows
            budget_fixed = "max_iter" in params or "n_iter" in params
            expected = type(pipeline[0]).__name__ if budget_fixed else None
            not_converged = _report_warnings(caught, expected)
            runs.append(row)
            if verbose:
                note = (
                    " (ConvergenceWarning: an iteration limit was reached)"
                    if not_converged
                    else ""
                )
                _log(
                    f"{seed_tag}: accuracy {row['accuracy']:.4f}, fit {row['fit_time_s']:.2f}s, "
                    f"transform {row['transform_time_s']:.3f}s{note}"
                )
        accuracies = [run["accuracy"] for run in runs]
        results.append(
            {
                "method": name,
                "accuracy": float(np.mean(accuracies)),
                "accuracy_std": _std(accuracies),
                "n_seeds": n_seeds,
                "fit_time_s": float(np.mean([run["fit_time_s"] for run in runs])),
                "transform_time_s": float(np.mean([run["transform_time_s"] for run in runs])),
                "n_features": runs[0]["n_features"],
            }
        )
    return results


# -- the search: hyperparameters chosen on a validation split of the training set -------
def validation_split(X_train, y_train, n_validation, *, random_state=0):
    """Carve a stratified validation set out of the training set.

    Parameters
    ----------
    X_train, y_train : array-like
        The training set; the test set never enters the search.
    n_validation : int
        Number of validation samples (10000 of MNIST's 60000; a sixth for digits).
    random_state : int, default=0
        Seeds the split; fixed, so every method is searched on the same split.

    Returns
    -------
    X_fit, y_fit, X_val, y_val : ndarray
    """
    X_fit, X_val, y_fit, y_val = train_test_split(
        X_train, y_train, test_size=n_validation, stratify=y_train, random_state=random_state
    )
    return X_fit, y_fit, X_val, y_val


def search(
    X_fit,
    y_fit,
    X_val,
    y_val,
    space,
    *,
    methods=None,
    n_components=64,
    classifier="logistic",
    random_state=0,
    progress_interval=None,
    verbose=True,
):
    """Choose each method's settings and the classifier's C by validation accuracy.

    Each candidate extractor is fit once on ``X_fit`` and transforms ``X_fit`` and
    ``X_val`` once; then a fresh classifier is fit on those features for each C and
    scored on the validation set. The test set is not an argument: it cannot leak.

    Parameters
    ----------
    X_fit, y_fit : array-like
        The part of the training set the candidates are fit on.
    X_val, y_val : array-like
        The validation set that ranks them (see :func:`validation_split`).
    space : dict
        ``{method: {"grid": [params, ...], "C": [C, ...]}}`` as in
        :data:`SEARCH_SPACES`; a method missing from it is searched over C only, with
        its class defaults. ``params`` may set ``n_components``.
    methods : list of str, default=None
        Names from :data:`METHODS`; None searches all of them.
    n_components : int, default=64
        Width of every extractor unless a candidate sets its own.
    classifier : str, default="logistic"
        A name from :data:`CLASSIFIERS`; only classifiers with a ``C`` search it.
    random_state : int, default=0
        Seeds every candidate.
    progress_interval : float, default=None
        As in :func:`run_comparison`.
    verbose : bool, default=True
        One line on stderr per candidate.

    Returns
    -------
    presets : dict
        The chosen settings in the shape of :data:`PRESETS` ``[dataset]``.
    rows : list of dict
        One row per (method, candidate, C) with the keys of :data:`SEARCH_COLUMNS`.
    """
    methods = list(METHODS) if methods is None else list(methods)
    presets = {"classifier": {}}
    rows = []
    for i, name in enumerate(methods, 1):
        entry = space.get(name, {})
        grid = entry.get("grid") or [{}]
        Cs = entry.get("C") or [None]
        best = None
        for j, params in enumerate(grid, 1):
            tag = f"[{i}/{len(methods)}] {name} search {j}/{len(grid)}"
            width = _width(name, params.get("n_components", n_components), X_fit, tag, verbose)
            params = {k: v for k, v in params.items() if k != "n_components"}
            extractor = METHODS[name](width, random_state, params)
            # what the presets record: pixels are the only method without a width
            setting = params if name == "pixels" else {"n_components": width, **params}
            start = time.perf_counter()
            with warnings.catch_warnings():
                # a short search budget is the point: no wall of ConvergenceWarnings
                warnings.simplefilter("ignore", ConvergenceWarning)
                _fit_quietly(extractor, X_fit, None, tag, progress_interval)
                F_fit, F_val = extractor.transform(X_fit), extractor.transform(X_val)
                fit_time = time.perf_counter() - start
                for C in Cs:
                    clf = CLASSIFIERS[classifier](random_state)
                    if C is not None:
                        _set_classifier_params(clf, {"C": C})
                    accuracy = float(clf.fit(F_fit, y_fit).score(F_val, y_val))
                    row = {
                        "method": name,
                        "params": json.dumps(setting, sort_keys=True),
                        "C": C,
                        "val_accuracy": accuracy,
                        "fit_time_s": fit_time,
                    }
                    rows.append(row)
                    if verbose:
                        _log(f"{tag}: {row['params']} C={C}: validation {accuracy:.4f}")
                    if best is None or accuracy > best[0]:
                        best = (accuracy, setting, C)
        presets[name] = best[1]
        if best[2] is not None:
            presets["classifier"][name] = {"C": best[2]}
        if verbose:
            _log(f"[{i}/{len(methods)}] {name}: chose {best[1]} C={best[2]} ({best[0]:.4f})")
    return presets, rows


def _report_warnings(caught, expected=None):
    """Pass on the caught warnings except ConvergenceWarning; tell whether one came.

    A ConvergenceWarning whose message starts with ``expected`` (the extractor's class
    name, when its iteration budget was set on purpose) is dropped without a note.
    """
    not_converged = False
    for w in caught:
        if (
            expected is not None
            and issubclass(w.category, ConvergenceWarning)
            and str(w.message).startswith(expected)
        ):
            continue
        if issubclass(w.category, ConvergenceWarning):
            # short iteration budgets are the point of a quick run: one note, not a wall
            not_converged = True
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return not_converged


REPORT_WIDTH = 88  # the report's paragraphs, wrapped for a terminal


def describe_setting(dataset, classifier, n_train, n_test, *, random_state=0, searched=False):
    """What a comparison measures, for the report: the data, the split, the classifier.

    Parameters
    ----------
    dataset : {"digits", "mnist"}
    classifier : str
        A name from :data:`CLASSIFIERS`.
    n_train, n_test : int
        Sizes of the training set (after ``--n-train``) and of the test set.
    random_state : int, default=0
        The first seed (of the digits split, the subsample and every estimator).
    searched : bool, default=False
        Whether the settings were chosen by ``--search`` in this run.

    Returns
    -------
    setting : dict
        Passed to :func:`format_markdown` and :func:`write_results`.
    """
    steps = CLASSIFIERS[classifier](random_state)
    steps = getattr(steps, "steps", [(None, steps)])
    return {
        "dataset": dataset,
        "classifier": classifier,
        "classifier_steps": " + ".join(type(step).__name__ for _, step in steps),
        "n_train": n_train,
        "n_test": n_test,
        "random_state": random_state,
        "searched": searched,
    }


def _measured(setting, n_seeds):
    """One paragraph: what the accuracy column is."""
    if setting["dataset"] == "digits":
        split = (
            f"scikit-learn's 8x8 digits (pixels / 16), one stratified 75/25 train/test "
            f"split (random_state={setting['random_state']})"
        )
    else:
        split = "MNIST's official train/test split"
    rs = setting["random_state"]
    if n_seeds == 1:
        seeds = (
            f"one seed (random_state={rs}) of each extractor and classifier, so no spread "
            "is measured"
        )
    else:
        seeds = (
            f"the mean ± sample standard deviation over {n_seeds} seeds ({rs} to "
            f"{rs + n_seeds - 1}) of each extractor and classifier; the split is the same "
            "for every seed"
        )
    settings = (
        "chosen by this run's --search on a validation split of the training set"
        if setting["searched"]
        else "the presets (chosen by an earlier search on a validation split; PRESETS or "
        "--presets)"
    )
    return (
        f"Measured: the test accuracy of --classifier {setting['classifier']} "
        f"({setting['classifier_steps']}, its C set per method) on each method's "
        "features. The extractor and the classifier are fit on "
        f"{setting['n_train']} training images of {split} and scored once on its "
        f"{setting['n_test']} test images; {seeds}. Settings: {settings}. Times are wall "
        "seconds (mean over the seeds)."
    )


def _next_steps(results, setting):
    """What to try next, from the results: spread, search, the other data set."""
    by_name = {r["method"]: r for r in results}
    n_seeds = results[0]["n_seeds"] if results else 1
    steps = []
    best = max(results, key=lambda r: r["accuracy"], default=None)
    pixels = by_name.get("pixels")
    if best is not None and pixels is not None:
        gain = 100 * (best["accuracy"] - pixels["accuracy"])
        steps.append(
            f"Best: {best['method']}, {gain:+.2f} points against raw pixels"
            + (
                f" (one test image is {100 / setting['n_test']:.2f} points)."
                if setting.get("n_test")
                else "."
            )
        )
        behind = [
            r["method"]
            for r in results
            if r["method"].endswith("_ae") and r["accuracy"] < pixels["accuracy"]
        ]
        if behind:
            steps.append(
                f"{', '.join(behind)} scored below raw pixels: tune its settings and C on a "
                "validation split with --search (the test set is not used to choose)."
            )
    if n_seeds == 1:
        steps.append(
            "One seed: rerun with --seeds 3 to see how much the accuracies move between "
            "seeds before reading a difference of a few test images."
        )
    if not setting["searched"] and not any("below raw pixels" in s for s in steps):
        steps.append("--search chooses each method's settings on a validation split.")
    if setting["dataset"] == "digits":
        steps.append(
            "--dataset mnist --data-home DIR runs the published comparison "
            "(docs/mnist_comparison.md); it takes tens of minutes."
        )
    if setting["classifier"] != "knn":
        steps.append("--classifier knn reads each representation's own geometry.")
    return steps


def format_markdown(results, setting=None):
    """The results as a Markdown table, with what it measures and what to try next.

    Parameters
    ----------
    results : list of dict
        As returned by :func:`run_comparison`.
    setting : dict or None, default=None
        As returned by :func:`describe_setting`: then a paragraph above the table says
        what is measured, and a list below it what to try next. None gives the table
        alone.

    Returns
    -------
    table : str
    """
    header = ("method", "test accuracy", "seeds", "fit_time_s", "transform_time_s", "n_features")
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for r in results:
        accuracy = f"{r['accuracy']:.4f}"
        if r["n_seeds"] > 1:
            accuracy += f" ± {r['accuracy_std']:.4f}"
        lines.append(
            f"| {r['method']} | {accuracy} | {r['n_seeds']} | {r['fit_time_s']:.3f} | "
            f"{r['transform_time_s']:.4f} | {r['n_features']} |"
        )
    if setting is None or not results:
        return "\n".join(lines) + "\n"
    above = [textwrap.fill(_measured(setting, results[0]["n_seeds"]), REPORT_WIDTH), ""]
    below = ["", "Reading it, and what to try next:", ""] + [
        textwrap.fill(step, REPORT_WIDTH, initial_indent="* ", subsequent_indent="  ")
        for step in _next_steps(results, setting)
    ]
    return "\n".join(above + lines + below) + "\n"


def format_search_markdown(rows):
    """The search results as a Markdown table, best first within each method.

    Parameters
    ----------
    rows : list of dict
        As returned by :func:`search`.

    Returns
    -------
    table : str
    """
    lines = [
        "| method | settings | C | validation accuracy | extractor fit (s) |",
        "|---|---|---:|---:|---:|",
    ]
    order = {name: i for i, name in enumerate(dict.fromkeys(r["method"] for r in rows))}
    for r in sorted(rows, key=lambda r: (order[r["method"]], -r["val_accuracy"])):
        lines.append(
            f"| {r['method']} | `{r['params']}` | {r['C']} | {r['val_accuracy']:.4f} | "
            f"{r['fit_time_s']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def write_search(presets, rows, output_dir, stem):
    """Write the search rows (Markdown, CSV) and the chosen presets (JSON).

    Parameters
    ----------
    presets, rows
        As returned by :func:`search`.
    output_dir : path-like
        Created if missing.
    stem : str
        File name without suffix.

    Returns
    -------
    paths : list of Path
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    markdown = output_dir / f"{stem}.md"
    markdown.write_text(format_search_markdown(rows), encoding="utf-8")
    table = output_dir / f"{stem}.csv"
    with table.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=SEARCH_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    chosen = output_dir / f"{stem}_chosen.json"
    chosen.write_text(json.dumps(presets, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return [markdown, table, chosen]


def write_results(results, output_dir, stem, plot=True, setting=None):
    """Write the table as Markdown and CSV, and as a bar chart if matplotlib is there.

    Parameters
    ----------
    results : list of dict
        As returned by :func:`run_comparison`.
    output_dir : path-like
        Created if missing.
    stem : str
        File name without suffix.
    plot : bool, default=True
        Draw ``<stem>.png``; skipped, with one line on stderr, without matplotlib.
    setting : dict or None, default=None
        As returned by :func:`describe_setting`; says in the Markdown and on the chart
        what is measured.

    Returns
    -------
    paths : list of Path
        The files written.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    markdown = output_dir / f"{stem}.md"
    markdown.write_text(format_markdown(results, setting), encoding="utf-8")
    table = output_dir / f"{stem}.csv"
    with table.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(results)
    paths = [markdown, table]
    if plot:
        try:
            from matplotlib.figure import Figure
        except ImportError:
            _log("matplotlib is not installed (pip install skae[plot]); no plot drawn.")
        else:
            paths.append(_plot(results, output_dir / f"{stem}.png", Figure, setting))
    return paths


def _plot(results, path, Figure, setting=None):
    # Figure, not pyplot: no GUI backend is needed or touched
    names = [r["method"] for r in results]
    fig = Figure(figsize=(10, 0.4 * len(names) + 2.2), layout="constrained")
    ax_accuracy, ax_time = fig.subplots(1, 2, sharey=True)
    accuracies = np.array([r["accuracy"] for r in results])
    errors = np.array([r["accuracy_std"] for r in results])
    n_seeds = results[0]["n_seeds"] if results else 1
    bars = ax_accuracy.barh(names, accuracies, xerr=errors if n_seeds > 1 else None)
    ax_accuracy.bar_label(bars, fmt="%.4f", padding=3)
    # the differences are a few points: the axis starts near the worst method, on a
    # round value, and its label says where (bars that start at 0 would all look equal)
    start = max(0.0, np.floor((np.min(accuracies - errors) - 0.01) * 50) / 50)
    ax_accuracy.set_xlim(start, 1.0)
    ax_accuracy.set_xlabel(f"test accuracy (the axis starts at {start:.2f}, not 0)")
    if "pixels" in names:
        ax_accuracy.axvline(
            accuracies[names.index("pixels")], color="black", linestyle=":", linewidth=1
        )
    ax_accuracy.invert_yaxis()  # first method on top, as in the table
    ax_accuracy.set_title(
        "test accuracy"
        + (f", mean ± std over {n_seeds} seeds" if n_seeds > 1 else ", one seed")
        + ("; dotted: raw pixels" if "pixels" in names else ""),
        fontsize="medium",
    )
    time_bars = ax_time.barh(names, [r["fit_time_s"] for r in results])
    # the numbers too: the fastest methods' bars are too short to read
    ax_time.bar_label(time_bars, fmt="%.2f s", padding=3)
    ax_time.margins(x=0.15)
    ax_time.set_xlabel("fit time (s)")
    ax_time.set_title("wall time to fit extractor and classifier", fontsize="medium")
    if setting is not None:
        data = "8x8 digits" if setting["dataset"] == "digits" else "MNIST"
        fig.suptitle(
            f"{data}: {setting['classifier']} ({setting['classifier_steps']}) on each "
            f"method's features\nfit on {setting['n_train']} training images, scored on "
            f"{setting['n_test']} test images"
        )
    fig.savefig(path, dpi=120)
    return path


# -- command line --------------------------------------------------------------------------
def _checked(convert, test, description):
    """An argparse type: ``convert`` the string, then require ``test`` of the value."""

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            value = None
        if value is None or not test(value):
            raise argparse.ArgumentTypeError(f"expected {description}, got {text!r}")
        return value

    return parse


_positive_int = _checked(int, lambda v: v >= 1, "an integer >= 1")
_nonnegative = _checked(float, lambda v: v >= 0, "a number >= 0")
_positive = _checked(float, lambda v: v > 0, "a number > 0")
_open_unit = _checked(float, lambda v: 0 < v < 1, "a number in (0, 1)")
_closed_unit = _checked(float, lambda v: 0 <= v <= 1, "a number in [0, 1]")


def _method_list(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in METHODS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated list of {', '.join(METHODS)}; got {text!r}"
        )
    return names


# autoencoder parameter -> (argparse type, help); each is passed on only when given
ESTIMATOR_OPTIONS = {
    "max_iter": (_positive_int, "iterations (L-BFGS) or epochs (Adam); also the RBM's n_iter"),
    "alpha": (_nonnegative, "L2 weight decay lambda"),
    "noise_level": (_closed_unit, "masking noise level q"),
    "sparsity_target": (_open_unit, "sparsity target rho"),
    "sparsity_weight": (_nonnegative, "weight beta of the KL sparsity penalty"),
    "solver": (str, "optimiser"),
    "batch_size": (_positive_int, "minibatch size of 'adam' and 'sgd'"),
    "learning_rate_init": (_positive, "step size of 'adam' and 'sgd'"),
    "activation": (str, "hidden activation"),
}
CHOICES = {
    "solver": sorted(set(FULL_BATCH_SOLVERS) | MINIBATCH_SOLVERS),
    "activation": sorted(ACTIVATIONS),
}


def _per_dataset(defaults):
    """Describe a per-dataset default for --help, e.g. '64 for digits, 512 for mnist'."""
    return ", ".join(
        f"{'the BLAS default' if v is None else v} for {k}" for k, v in defaults.items()
    )


def build_parser():
    """The command-line parser of ``python -m skae.compare``.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="skae-compare",
        description="Compare raw pixels, PCA, an RBM and skae's autoencoders as features "
        "for the same classifier on one train/test split; see the module docstring of "
        "skae.compare for the details.",
    )
    parser.add_argument(
        "--dataset",
        choices=["digits", "mnist"],
        default="digits",
        help="bundled 8x8 digits, or MNIST from skae.datasets.load_mnist (default: %(default)s)",
    )
    parser.add_argument("--data-home", help="MNIST cache directory (default: load_mnist's)")
    parser.add_argument(
        "--n-components",
        type=_positive_int,
        help=f"features per extractor (default: {_per_dataset(DEFAULT_N_COMPONENTS)})",
    )
    parser.add_argument(
        "--n-train",
        type=_positive_int,
        help="stratified subsample of the training set (default: all of it)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seeds the split, the subsample and every estimator (default: %(default)s)",
    )
    parser.add_argument(
        "--blas-threads",
        type=_positive_int,
        help=f"BLAS threads during the run (default: {_per_dataset(DEFAULT_BLAS_THREADS)})",
    )
    parser.add_argument(
        "--classifier",
        choices=list(CLASSIFIERS),
        default="logistic",
        help="the classifier on every method's features (default: %(default)s)",
    )
    parser.add_argument(
        "--methods",
        type=_method_list,
        default=list(METHODS),
        help=f"comma-separated subset of {','.join(METHODS)} (default: all)",
    )
    parser.add_argument(
        "--output-dir",
        default="skae_compare_results",
        help="where the .md, .csv and .png go (default: %(default)s)",
    )
    parser.add_argument("--no-plot", action="store_true", help="do not draw the PNG")
    parser.add_argument(
        "--seeds",
        type=_positive_int,
        default=1,
        help="fit every method with this many seeds (--random-state, +1, ...) and report "
        "the mean and standard deviation; the data split stays the same (default: 1)",
    )
    parser.add_argument(
        "--progress-interval",
        type=_nonnegative,
        default=10.0,
        help="show each model's progress (epochs done, loss, time left) at most every this "
        "many seconds; 0 shows every epoch (default: %(default)s)",
    )
    protocol = parser.add_argument_group(
        "protocol",
        "--search chooses each method's settings and the classifier's C on a stratified "
        "validation split of the training set (SEARCH_SPACES), then refits the chosen "
        "settings on the whole training set and scores the test set once",
    )
    protocol.add_argument(
        "--search", action="store_true", help="search, then score the chosen settings"
    )
    protocol.add_argument(
        "--search-only",
        action="store_true",
        help="search and write the results, but do not touch the test set",
    )
    protocol.add_argument(
        "--search-space",
        help="a JSON file in the shape of SEARCH_SPACES[dataset] to search instead of the "
        "built-in space (e.g. to try the sparsity kinds)",
    )
    protocol.add_argument(
        "--presets",
        help="a search_<dataset>_chosen.json written by --search-only: score its settings "
        "instead of the built-in PRESETS (methods it lacks keep theirs)",
    )
    protocol.add_argument(
        "--n-validation",
        type=_positive_int,
        help="validation samples carved from the training set (default: 10000 for mnist, "
        "a sixth of the training set for digits)",
    )
    protocol.add_argument(
        "--search-n-train",
        type=_positive_int,
        help="fit the candidates on a stratified subsample of this many of the remaining "
        "training samples, to make the search cheaper (default: all of them)",
    )
    group = parser.add_argument_group(
        "estimator options",
        "applied to all three autoencoders when given; otherwise each keeps its default",
    )
    for name, (type_, help_) in ESTIMATOR_OPTIONS.items():
        option = "--" + name.replace("_", "-")
        group.add_argument(option, type=type_, choices=CHOICES.get(name), help=help_)
    return parser


def _blas_threads(limit):
    """Limit BLAS threads when threadpoolctl (installed with scikit-learn) is there."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # not a declared dependency of skae: run unlimited
        return contextlib.nullcontext()
    return threadpool_limits(limits=limit, user_api="blas")


def _merge_presets(presets, chosen):
    """``presets`` with each method's settings and classifier parameters from ``chosen``."""
    merged = {**presets, **{k: v for k, v in chosen.items() if k != "classifier"}}
    merged["classifier"] = {**presets.get("classifier", {}), **chosen.get("classifier", {})}
    return merged


def _run_search(args, X_train, y_train, n_components, estimator_params):
    """The search part of ``main``: split, search, write; return the chosen presets."""
    n_validation = args.n_validation or DEFAULT_N_VALIDATION[args.dataset]
    if n_validation is None:
        n_validation = X_train.shape[0] // 6
    # the split is fixed (seed 0): every method and every seed see the same one
    X_fit, y_fit, X_val, y_val = validation_split(X_train, y_train, n_validation)
    if args.search_n_train is not None and args.search_n_train < X_fit.shape[0]:
        X_fit, _, y_fit, _ = train_test_split(
            X_fit, y_fit, train_size=args.search_n_train, stratify=y_fit, random_state=0
        )
    _log(
        f"search: candidates fit on {X_fit.shape[0]} and ranked on {X_val.shape[0]} "
        "samples of the training set; the test set is not used"
    )
    space = SEARCH_SPACES[args.dataset]
    if args.search_space is not None:
        space = json.loads(Path(args.search_space).read_text(encoding="utf-8"))
    if estimator_params:
        # command-line options apply to every autoencoder candidate
        space = {
            name: {
                **entry,
                "grid": [
                    {**params, **estimator_params} if name.endswith("_ae") else params
                    for params in entry.get("grid") or [{}]
                ],
            }
            for name, entry in space.items()
        }
    presets, rows = search(
        X_fit,
        y_fit,
        X_val,
        y_val,
        space,
        methods=args.methods,
        n_components=n_components,
        classifier=args.classifier,
        random_state=args.random_state,
        progress_interval=args.progress_interval,
    )
    for path in write_search(presets, rows, args.output_dir, f"search_{args.dataset}"):
        _log(f"wrote {path}")
    return presets


def main(argv=None):
    """Run the comparison from the command line.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success. Invalid options, and option combinations an estimator rejects
        (a ValueError), exit through argparse with status 2.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    n_components = args.n_components or DEFAULT_N_COMPONENTS[args.dataset]
    estimator_params = {
        name: getattr(args, name) for name in ESTIMATOR_OPTIONS if getattr(args, name) is not None
    }
    blas_threads = args.blas_threads or DEFAULT_BLAS_THREADS[args.dataset]
    X_train, y_train, X_test, y_test = load_data(
        args.dataset,
        data_home=args.data_home,
        n_train=args.n_train,
        random_state=args.random_state,
    )
    _log(
        f"{args.dataset}: {X_train.shape[0]} training and {X_test.shape[0]} test samples, "
        f"{X_train.shape[1]} pixels; {n_components} components; classifier "
        f"{args.classifier}; BLAS threads {blas_threads or 'default'}"
    )
    presets = PRESETS[args.dataset]
    if args.presets is not None:
        presets = _merge_presets(presets, json.loads(Path(args.presets).read_text("utf-8")))
    if args.n_components is not None:
        # an explicit --n-components sets every width, the presets' included
        presets = {
            name: {k: v for k, v in params.items() if k != "n_components"}
            for name, params in presets.items()
        }
    start = time.perf_counter()
    try:
        with _blas_threads(blas_threads):
            if args.search or args.search_only:
                presets = _run_search(args, X_train, y_train, n_components, estimator_params)
                estimator_params = {}  # already inside the chosen settings
                if args.search_only:
                    _log(f"search took {time.perf_counter() - start:.0f}s")
                    return 0
            results = run_comparison(
                X_train,
                y_train,
                X_test,
                y_test,
                methods=args.methods,
                n_components=n_components,
                classifier=args.classifier,
                estimator_params=estimator_params,
                presets=presets,
                random_state=args.random_state,
                n_seeds=args.seeds,
                progress_interval=args.progress_interval,
            )
    except ValueError as exc:
        # parameter combinations argparse cannot check (e.g. PCA's component limit, or
        # an activation the sparsity penalty cannot use): a usage error, not a traceback
        parser.error(str(exc))
    _log(f"total time {time.perf_counter() - start:.0f}s")
    setting = describe_setting(
        args.dataset,
        args.classifier,
        X_train.shape[0],
        X_test.shape[0],
        random_state=args.random_state,
        searched=args.search,
    )
    print(format_markdown(results, setting), end="")
    for path in write_results(
        results, args.output_dir, f"compare_{args.dataset}", plot=not args.no_plot, setting=setting
    ):
        _log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
