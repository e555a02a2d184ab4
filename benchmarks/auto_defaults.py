"""The measurements behind what ``"auto"`` decides for data outside [0, 1] (issue 18).

Two questions, on scikit-learn's bundled classification data sets, standardised
(``StandardScaler``), each autoencoder feeding ``LogisticRegression(max_iter=1000)``,
a validation split (25% of the 75% training part of a stratified split; the test rows are
never read), 3 seeds, validation accuracy (mean):

1. ``--question beta``: the KL weight beta of a ``SparseAutoencoder`` with a linear
   decoder, among 0, 0.1, 0.3, 1 and 3 (150 L-BFGS iterations). beta = 0 was best or
   tied on every data set, so ``sparsity_weight="auto"`` is 0 for such data.
2. ``--question plateau``: where L-BFGS may stop. For each setting, one fit of 600
   iterations gives the loss curve; the iteration at which the last 10 iterations first
   gained less than r of the loss is found for r in 3%, 1%, 0.3%, 0.1%, and the pipeline
   is refit with that many iterations (L-BFGS is deterministic for a fixed start). The
   accuracy at the 3% point matched the later points, so ``max_iter="auto"`` stops
   full-batch solvers there.

Command (a few minutes on an idle 2-core machine; no timing is reported)::

    python benchmarks/auto_defaults.py --question beta
    python benchmarks/auto_defaults.py --question plateau

It prints one line per data set as it is measured, then the Markdown table; results in
``benchmarks/results/auto_defaults.md``.
"""

import argparse
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import SparseAutoencoder, TiedAutoencoder
from skae.compare import markdown_table

DATASETS = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
}
SEEDS = range(3)


def accuracy(make_autoencoder, X, y):
    """Mean validation accuracy of ``make_autoencoder(seed)`` + logistic regression.

    A setting is chosen here, so the test rows of each split (25%) are never read: the
    pipeline is fitted on 75% of the training rows and scored on the other 25%.
    """
    scores = []
    for seed in SEEDS:
        X_train, _, y_train, _ = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed
        )
        X_fit, X_val, y_fit, y_val = train_test_split(
            X_train, y_train, test_size=0.25, stratify=y_train, random_state=seed
        )
        pipe = make_pipeline(make_autoencoder(seed), LogisticRegression(max_iter=1000))
        scores.append(pipe.fit(X_fit, y_fit).score(X_val, y_val))
    return float(np.mean(scores))


def first_plateau(losses, share, window=10):
    """The first iteration whose last ``window`` iterations gained less than ``share``."""
    for i in range(window, len(losses)):
        if losses[i - window] - losses[i] < share * abs(losses[i]):
            return i
    return len(losses)


def beta_row(X, y):
    cells = []
    for beta in (0.0, 0.1, 0.3, 1.0, 3.0):

        def make(seed, beta=beta):
            return SparseAutoencoder(
                output_activation="identity", sparsity_weight=beta, max_iter=150, random_state=seed
            )

        cells.append(f"{accuracy(make, X, y):.3f}")
    return cells


def plateau_row(X, y, cls, **params):
    curve = cls(max_iter=600, random_state=0, **params).fit(X).loss_curve_
    cells = []
    for share in (3e-2, 1e-2, 3e-3, 1e-3):
        k = max(1, first_plateau(curve, share))

        def make(seed, k=k):
            return cls(max_iter=k, random_state=seed, **params)

        cells.append(f"{k}: {accuracy(make, X, y):.3f}")
    return cells


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--question", choices=["beta", "plateau"], required=True)
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", ConvergenceWarning)  # fixed budgets are the point
    rows = []
    for name in args.datasets:
        X, y = DATASETS[name](return_X_y=True)
        X = StandardScaler().fit_transform(X)
        if args.question == "beta":
            rows.append([name, *beta_row(X, y)])
            print(f"{name}: {', '.join(rows[-1][1:])}", flush=True)
            continue
        for label, cls, params in [
            ("sparse, beta=0", SparseAutoencoder, {"sparsity_weight": 0.0}),
            ("tied", TiedAutoencoder, {}),
        ]:
            rows.append(
                [name, label, *plateau_row(X, y, cls, output_activation="identity", **params)]
            )
            print(f"{name}, {label}: {', '.join(rows[-1][2:])}", flush=True)
    if args.question == "beta":
        header, align = ("data set", "beta=0", "0.1", "0.3", "1", "3"), "lrrrrr"
    else:
        header = ("data set", "model", "3% (iterations: accuracy)", "1%", "0.3%", "0.1%")
        align = "llrrrr"
    print()
    print(markdown_table(header, rows, align=align))


if __name__ == "__main__":
    main()
