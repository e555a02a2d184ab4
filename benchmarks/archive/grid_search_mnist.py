"""A real grid search over lambda, q, rho and beta on an MNIST subset.

Tunes ``alpha`` (lambda), ``noise_level`` (q), ``sparsity_target`` (rho) and
``sparsity_weight`` (beta) of one autoencoder in a ``Pipeline`` ahead of a
``LogisticRegression``, with ``GridSearchCV(n_jobs=2)``, then scores the best pipeline on
the official MNIST test images. Prints ``cv_results_`` sorted by score and writes them
to ``benchmarks/results/grid_search_mnist.md``.

Run from the repository root (about 4 minutes on 2 cores at the defaults)::

    python benchmarks/archive/grid_search_mnist.py --data-home ../shared/data/mnist
"""

import argparse
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skae import DenoisingAutoencoder
from skae.compare import markdown_table
from skae.datasets import load_mnist

# rho only matters when beta > 0: two sub-grids avoid fitting the same model twice
PARAM_GRID = [
    {
        "ae__alpha": [1e-5, 1e-3],
        "ae__noise_level": [0.0, 0.25, 0.5],
        "ae__sparsity_weight": [0.0],
    },
    {
        "ae__alpha": [1e-5, 1e-3],
        "ae__noise_level": [0.0, 0.25, 0.5],
        "ae__sparsity_weight": [0.5],
        "ae__sparsity_target": [0.05, 0.2],
    },
]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default="../shared/data/mnist")
    parser.add_argument("--n-train", type=int, default=10000)
    parser.add_argument("--n-components", type=int, default=256)
    parser.add_argument("--max-iter", type=int, default=25, help="epochs of Adam")
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument(
        "--output",
        default=str(Path(__file__).parents[1] / "results" / "grid_search_mnist.md"),
    )
    args = parser.parse_args(argv)

    X_train, y_train, X_test, y_test = load_mnist(args.data_home, return_X_y=True)
    X_train, _, y_train, _ = train_test_split(
        X_train, y_train, train_size=args.n_train, stratify=y_train, random_state=0
    )
    pipe = Pipeline(
        [
            (
                "ae",
                DenoisingAutoencoder(
                    n_components=args.n_components,
                    loss="cross_entropy",
                    batch_size=128,
                    max_iter=args.max_iter,
                    random_state=0,
                ),
            ),
            ("scale", StandardScaler()),
            ("clf", LogisticRegression(max_iter=300)),
        ]
    )
    start = time.perf_counter()
    search = GridSearchCV(pipe, PARAM_GRID, cv=args.cv, n_jobs=args.n_jobs, verbose=1)
    search.fit(X_train, y_train)
    search_time = time.perf_counter() - start
    test_accuracy = search.score(X_test, y_test)

    results = search.cv_results_
    order = np.argsort(results["rank_test_score"], kind="stable")
    lines = [
        "# Grid search over lambda, q, rho, beta on an MNIST subset",
        "",
        f"Date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; python "
        f"{platform.python_version()}; command: `python benchmarks/archive/grid_search_mnist.py "
        + " ".join(sys.argv[1:] if argv is None else argv)
        + "`",
        "",
        f"DenoisingAutoencoder(n_components={args.n_components}, loss='cross_entropy', "
        f"solver='adam', batch_size=128, max_iter={args.max_iter}) -> StandardScaler -> "
        f"LogisticRegression; {args.n_train} training images (stratified), "
        f"{args.cv}-fold CV, n_jobs={args.n_jobs}; search took {search_time:.0f} s.",
        "",
        f"Best parameters: `{search.best_params_}`, CV accuracy "
        f"{search.best_score_:.4f}, accuracy on the 10000 MNIST test images "
        f"**{test_accuracy:.4f}**.",
        "",
    ]
    header = (
        "rank",
        "lambda (alpha)",
        "q (noise_level)",
        "rho (sparsity_target)",
        "beta (sparsity_weight)",
        "CV accuracy",
        "std",
    )
    rows = []
    for i in order:
        p = results["params"][i]
        rows.append(
            [
                results["rank_test_score"][i],
                f"{p['ae__alpha']:g}",
                f"{p['ae__noise_level']:g}",
                p.get("ae__sparsity_target", "-"),
                f"{p['ae__sparsity_weight']:g}",
                f"{results['mean_test_score'][i]:.4f}",
                f"{results['std_test_score'][i]:.4f}",
            ]
        )
    lines.append(markdown_table(header, rows, align="r" * len(header)))
    report = "\n".join(lines) + "\n"
    print(report)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(report)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
