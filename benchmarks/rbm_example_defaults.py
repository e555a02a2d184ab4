"""skae's class defaults in scikit-learn's own RBM example, swapped in for the RBM.

scikit-learn's gallery example ``plot_rbm_logistic_classification`` nudges the 8x8
digits by one pixel in four directions (5x the data), scales them to [0, 1], splits
80/20 (``random_state=0``) and fits ``Pipeline([BernoulliRBM(n_components=100,
learning_rate=0.06, n_iter=10), LogisticRegression(solver="newton-cg", C=6000)])``.
Here each skae estimator, with its class defaults and ``random_state=0``, replaces the
RBM; nothing else changes, with one exception: the example's ``tol=1`` stops newton-cg
before its first step on scikit-learn 1.9 (every method, the RBM included, then scores
9.7%, one class), so the classifier keeps its default ``tol``.

Run from the repository root (a few minutes; the logistic regression with C=6000 takes
most of it)::

    python benchmarks/rbm_example_defaults.py

It prints the accuracies and writes ``benchmarks/results/rbm_example_defaults.md``.
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.ndimage import convolve
from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, minmax_scale

from skae import DenoisingAutoencoder, SparseAutoencoder, TiedAutoencoder
from skae.compare import markdown_table

# the example's four one-pixel shifts: down, right, left, up
_SHIFTS = [
    [[0, 1, 0], [0, 0, 0], [0, 0, 0]],
    [[0, 0, 0], [1, 0, 0], [0, 0, 0]],
    [[0, 0, 0], [0, 0, 1], [0, 0, 0]],
    [[0, 0, 0], [0, 0, 0], [0, 1, 0]],
]


def nudged_digits():
    """The example's data: nudged digits in [0, 1], split 80/20 with random_state=0.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
    """
    X, y = datasets.load_digits(return_X_y=True)
    X = np.asarray(X, "float32")

    def shift(x, w):
        return convolve(x.reshape((8, 8)), mode="constant", weights=w).ravel()

    X = np.concatenate([X] + [np.apply_along_axis(shift, 1, X, w) for w in _SHIFTS])
    y = np.concatenate([y] * 5)
    X = minmax_scale(X, feature_range=(0, 1))
    return train_test_split(X, y, test_size=0.2, random_state=0)


def example_rbm():
    """The RBM exactly as the example sets it."""
    return BernoulliRBM(n_components=100, learning_rate=0.06, n_iter=10, random_state=0)


def score(extractor, data, C=6000.0):
    """Accuracy of ``Pipeline([extractor, LogisticRegression(newton-cg, C)])``.

    Returns
    -------
    accuracy : float
    warned : list of str
        The warning categories the fit raised (e.g. ConvergenceWarning).
    """
    X_train, X_test, y_train, y_test = data
    logistic = LogisticRegression(solver="newton-cg", C=C)
    pipeline = Pipeline([("features", extractor), ("logistic", logistic)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipeline.fit(X_train, y_train)
    return float(pipeline.score(X_test, y_test)), sorted({w.category.__name__ for w in caught})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", default=str(Path(__file__).parent / "results" / "rbm_example_defaults.md")
    )
    args = parser.parse_args(argv)
    data = nudged_digits()
    candidates = [
        ("raw pixels (the example's C=100)", FunctionTransformer(), 100.0),
        ("BernoulliRBM (the example's settings)", example_rbm(), 6000.0),
        ("SparseAutoencoder()", SparseAutoencoder(random_state=0), 6000.0),
        ("DenoisingAutoencoder()", DenoisingAutoencoder(random_state=0), 6000.0),
        ("TiedAutoencoder()", TiedAutoencoder(random_state=0), 6000.0),
        # at the RBM's own width, everything else at the defaults
        ("SparseAutoencoder(100)", SparseAutoencoder(100, random_state=0), 6000.0),
        ("DenoisingAutoencoder(100)", DenoisingAutoencoder(100, random_state=0), 6000.0),
        ("TiedAutoencoder(100)", TiedAutoencoder(100, random_state=0), 6000.0),
    ]
    lines = [
        "# skae class defaults in scikit-learn's RBM example",
        "",
        "`python benchmarks/rbm_example_defaults.py` (see its docstring for the protocol)",
        "",
    ]
    rows = []
    for name, extractor, C in candidates:
        start = time.perf_counter()
        accuracy, warned = score(extractor, data, C)
        elapsed = time.perf_counter() - start
        print(f"{name}: {accuracy:.4f} ({elapsed:.0f}s) {' '.join(warned)}", flush=True)
        rows.append([name, f"{accuracy:.4f}", f"{elapsed:.0f}", ", ".join(warned)])
    header = ("features", "test accuracy", "fit time (s)", "warnings")
    lines.append(markdown_table(header, rows, align="lrrl"))
    Path(args.output).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
