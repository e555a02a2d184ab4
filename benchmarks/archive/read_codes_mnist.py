"""How a winner-take-all code is read by the linear classifier, on MNIST's validation split.

The comparison reads every extractor's features with ``StandardScaler`` +
``LogisticRegression`` (``skae.compare.CLASSIFIERS["logistic"]``). This script fits one
preset of ``benchmarks/results/search_mnist/chosen.json`` (the tied winner-take-all by
default) once on the 50000 fitting images of the search's split, and reads the same codes
in a few other ways, each over a grid of C, ranked on the 10000 validation images. The
test set is loaded with the training set but not used. Two readings (square roots,
active-or-not) assume non-negative codes, as relu and winner-take-all codes are: use
``--method`` only with such presets. Run from the repository root, with OpenBLAS choosing
its own kernel as in ``search_mnist.py`` (so the fit is the search's own, bit for bit)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/archive/read_codes_mnist.py \
        --data-home ../shared/data/mnist

It takes about 12 minutes on a 2-core machine (the fit 4-5 of them) and writes
``benchmarks/results/read_codes_mnist.md``, with each reading's time over the grid.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skae.compare import METHODS, accuracy_over_c, load_data, markdown_table, validation_split

RESULTS = Path(__file__).parents[1] / "results"
C_GRID = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0]


def _active(F):
    return (F > 0).astype(F.dtype)


def readings(global_scale):
    """name -> factory() of the classifier that reads the codes; its C is set per run."""

    def logistic(**kwargs):
        return LogisticRegression(**{"max_iter": 1000, **kwargs})

    return {
        "StandardScaler, then the logistic regression (the comparison's reading)": (
            lambda: make_pipeline(StandardScaler(), logistic())
        ),
        "the same, solved to tol=1e-7 instead of the default 1e-4": (
            lambda: make_pipeline(StandardScaler(), logistic(tol=1e-7, max_iter=5000))
        ),
        "one scale for all units (codes divided by their overall standard deviation)": (
            lambda: make_pipeline(FunctionTransformer(lambda F: F / global_scale), logistic())
        ),
        "square root of each code, then StandardScaler": (
            lambda: make_pipeline(FunctionTransformer(np.sqrt), StandardScaler(), logistic())
        ),
        "active or not (code > 0), then StandardScaler": (
            lambda: make_pipeline(FunctionTransformer(_active), StandardScaler(), logistic())
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default="../shared/data/mnist")
    parser.add_argument("--method", default="tied_ae", help="a preset of chosen.json")
    parser.add_argument("--output", default=str(RESULTS / "read_codes_mnist.md"))
    args = parser.parse_args(argv)

    chosen = json.loads((RESULTS / "search_mnist" / "chosen.json").read_text(encoding="utf-8"))
    params = dict(chosen[args.method])
    width = params.pop("n_components")
    X_train, y_train, _, _ = load_data("mnist", data_home=args.data_home)
    X_fit, y_fit, X_val, y_val = validation_split(X_train, y_train, 10000)

    start = time.perf_counter()
    with warnings.catch_warnings():
        # the preset's epochs are its budget (tol=0): not a failure to converge
        warnings.simplefilter("ignore", ConvergenceWarning)
        extractor = METHODS[args.method](width, 0, params).fit(X_fit)
    fit_time = time.perf_counter() - start
    F_fit, F_val = extractor.transform(X_fit), extractor.transform(X_val)
    print(f"{args.method} fit on {X_fit.shape[0]} images in {fit_time:.0f} s", flush=True)

    lines = [
        f"# How the `{args.method}` preset's codes are read (MNIST validation accuracy)",
        "",
        "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python",
        f"benchmarks/archive/read_codes_mnist.py --data-home DIR --method {args.method}`: the",
        "preset",
        f"`{json.dumps(chosen[args.method], sort_keys=True)}`",
        f"fit once (random_state 0, {fit_time:.0f} s) on the {X_fit.shape[0]} fitting",
        f"images, read on the {X_val.shape[0]} validation images; the test set is not used.",
        "",
    ]
    rows = []
    for name, build in readings(float(F_fit.std())).items():
        start = time.perf_counter()
        scores = accuracy_over_c(F_fit, y_fit, F_val, y_val, C_GRID, build)
        seconds = time.perf_counter() - start
        print(
            f"{name}: "
            + ", ".join(f"C={C:g} {s:.4f}" for C, s in zip(C_GRID, scores, strict=True))
        )
        cells = [f"{s:.2%}" for s in scores]
        rows.append([name, *cells, f"**{max(scores):.2%}**", f"{seconds:.0f}"])
    header = ["reading", *(f"C={C:g}" for C in C_GRID), "best", "time (s)"]
    lines.append(markdown_table(header, rows, align="l" + "r" * (len(C_GRID) + 2)))
    Path(args.output).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
