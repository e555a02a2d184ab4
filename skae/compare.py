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

each with the same number of components (``--n-components``) and the same
``random_state``. Every autoencoder keeps its own class defaults unless an estimator
option (``--alpha``, ``--noise-level``, ...) is given, which then applies to all three;
``--max-iter`` also sets the RBM's ``n_iter``.

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
The table is printed on stdout, one progress line per method start and end on stderr.
It is written as ``compare_<dataset>.md`` and ``compare_<dataset>.csv`` into
``--output-dir`` (default ``skae_compare_results/``) and, if matplotlib is installed
(``pip install skae[plot]``) and ``--no-plot`` is not given, drawn as
``compare_<dataset>.png``. Columns:

method
    The extractor's name, as above and as accepted by ``--methods``.
accuracy
    Accuracy of the pipeline on the test set.
fit_time_s
    Wall time in seconds to fit the whole pipeline (extractor and classifier) on the
    training set.
transform_time_s
    Wall time in seconds for the fitted extractor to transform the test set.
n_features
    Number of features the classifier sees: the number of pixels for ``pixels``,
    ``--n-components`` for the others.
"""

import argparse
import contextlib
import csv
import sys
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

DEFAULT_N_COMPONENTS = {"digits": 64, "mnist": 2000}
# digits' 64-column matrices are too small to gain from BLAS threads, and threads that
# wait on a busy machine made the default run ~10x slower; None keeps the BLAS default
DEFAULT_BLAS_THREADS = {"digits": 1, "mnist": None}

COLUMNS = ("method", "accuracy", "fit_time_s", "transform_time_s", "n_features")


# Hyperparameters per dataset and method, found on full MNIST (docs/mnist_comparison.md):
# width (2000 units), Adam on minibatches, cross entropy, a strong L2 penalty on the
# classifier. Command-line estimator options override them; digits keeps class defaults.
_MNIST_AUTOENCODER = {
    "loss": "cross_entropy",
    "solver": "adam",
    "batch_size": 256,
    "learning_rate_init": 1e-3,
    "tol": 0.0,
    "n_iter_no_change": 1000,  # run every epoch of max_iter
}
PRESETS = {
    "digits": {},
    "mnist": {
        "sparse_ae": {
            **_MNIST_AUTOENCODER,
            "activation": "sigmoid",
            "alpha": 1e-5,
            "sparsity_target": 0.05,
            "sparsity_weight": 2.0,
            "max_iter": 15,
        },
        "denoising_ae": {
            **_MNIST_AUTOENCODER,
            "activation": "sigmoid",
            "alpha": 1e-5,
            "noise": "masking",
            "noise_level": 0.5,
            "max_iter": 20,
        },
        "tied_ae": {**_MNIST_AUTOENCODER, "activation": "relu", "alpha": 1e-4, "max_iter": 8},
        "rbm": {"learning_rate": 0.05, "batch_size": 100, "n_iter": 10},
        "classifier": {"logisticregression__C": 0.03, "logisticregression__max_iter": 300},
    },
}


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


def _autoencoder(cls, n_components, random_state, params):
    return cls(n_components=n_components, random_state=random_state, **params)


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


def _fit_and_score(pipeline, X_train, y_train, X_test, y_test):
    """Fit the pipeline and score it on the test set; one row of the table, sans name."""
    start = time.perf_counter()
    pipeline.fit(X_train, y_train)
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
        Number of features of every extractor (not of ``pixels``).
    classifier : str, default="logistic"
        A name from :data:`CLASSIFIERS`.
    estimator_params : dict, default=None
        Autoencoder parameters applied to all three autoencoders, e.g.
        ``{"alpha": 1e-3, "max_iter": 50}``; ``max_iter`` also sets the RBM's ``n_iter``.
        Parameters left out keep each class's default (or the preset).
    presets : dict, default=None
        Per-method parameters under the method's name (e.g. :data:`PRESETS` ``["mnist"]``),
        overridden by ``estimator_params``; ``"classifier"`` holds ``set_params``
        arguments of the classifier.
    random_state : int, default=0
        Seeds every extractor and the classifiers that use randomness.
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
    max_pca = min(np.shape(X_train))

    results = []
    for i, name in enumerate(methods, 1):
        tag = f"[{i}/{len(methods)}] {name}"
        width = n_components
        if name == "pca" and n_components > max_pca:
            # PCA has at most min(n_samples, n_features) components: the nearest fair
            # comparison is all of them (a rotation of the pixels), said in the table
            width = max_pca
            _log(f"{tag}: PCA capped at {max_pca} components (n_components={n_components})")
        params = {**presets.get(name, {}), **(estimator_params or {})}
        extractor = METHODS[name](width, random_state, params)
        clf = CLASSIFIERS[classifier](random_state)
        if classifier == "logistic":
            clf.set_params(**presets.get("classifier", {}))
        pipeline = make_pipeline(extractor, clf)
        if verbose:
            _log(f"{tag}: fitting {type(extractor).__name__} + {classifier} ...")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            row = _fit_and_score(pipeline, X_train, y_train, X_test, y_test)
        not_converged = _report_warnings(caught)
        results.append({"method": name, **row})
        if verbose:
            note = " (ConvergenceWarning: an iteration limit was reached)" if not_converged else ""
            _log(
                f"{tag}: accuracy {row['accuracy']:.4f}, fit {row['fit_time_s']:.2f}s, "
                f"transform {row['transform_time_s']:.3f}s{note}"
            )
    return results


def _report_warnings(caught):
    """Pass on the caught warnings except ConvergenceWarning; tell whether one came."""
    not_converged = False
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            # short iteration budgets are the point of a quick run: one note, not a wall
            not_converged = True
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return not_converged


def format_markdown(results):
    """The results as a Markdown table.

    Parameters
    ----------
    results : list of dict
        As returned by :func:`run_comparison`.

    Returns
    -------
    table : str
    """
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|---|" + "---:|" * (len(COLUMNS) - 1),
    ]
    for r in results:
        lines.append(
            f"| {r['method']} | {r['accuracy']:.4f} | {r['fit_time_s']:.3f} | "
            f"{r['transform_time_s']:.4f} | {r['n_features']} |"
        )
    return "\n".join(lines) + "\n"


def write_results(results, output_dir, stem, plot=True):
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

    Returns
    -------
    paths : list of Path
        The files written.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    markdown = output_dir / f"{stem}.md"
    markdown.write_text(format_markdown(results), encoding="utf-8")
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
            paths.append(_plot(results, output_dir / f"{stem}.png", Figure))
    return paths


def _plot(results, path, Figure):
    # Figure, not pyplot: no GUI backend is needed or touched
    names = [r["method"] for r in results]
    fig = Figure(figsize=(10, 0.4 * len(names) + 1.5), layout="constrained")
    ax_accuracy, ax_time = fig.subplots(1, 2, sharey=True)
    accuracies = [r["accuracy"] for r in results]
    bars = ax_accuracy.barh(names, accuracies)
    ax_accuracy.bar_label(bars, fmt="%.4f", padding=3)
    ax_accuracy.set_xlabel("test accuracy")
    # the differences are a few points: start the axis near the worst method
    ax_accuracy.set_xlim(max(0.0, min(accuracies) - 0.05), 1.0)
    ax_accuracy.invert_yaxis()  # first method on top, as in the table
    ax_time.barh(names, [r["fit_time_s"] for r in results])
    ax_time.set_xlabel("fit time (s)")
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
    try:
        with _blas_threads(blas_threads):
            results = run_comparison(
                X_train,
                y_train,
                X_test,
                y_test,
                methods=args.methods,
                n_components=n_components,
                classifier=args.classifier,
                estimator_params=estimator_params,
                presets=PRESETS[args.dataset],
                random_state=args.random_state,
            )
    except ValueError as exc:
        # parameter combinations argparse cannot check (e.g. PCA's component limit, or
        # an activation the sparsity penalty cannot use): a usage error, not a traceback
        parser.error(str(exc))
    print(format_markdown(results), end="")
    for path in write_results(
        results, args.output_dir, f"compare_{args.dataset}", plot=not args.no_plot
    ):
        _log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
