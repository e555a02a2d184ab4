"""One-class MNIST (Ruff et al. 2018): skae's outlier detector beside the usual detectors.

Protocol: one digit is normal; each detector is fitted on that digit's training images only
(optionally a subsample, ``--max-train``, and optionally polluted with other digits'
training images, ``--pollution``) and scores the whole test set, where the nine other
digits are the anomalies; AUROC per class, mean and spread over seeds. Pixels are in
[0, 1] for every method (skae's own loader); each method keeps its own preprocessing
(skae's detector its floored min-max scaling, PyOD its standardisation).

``--validate`` runs the candidate settings of skae's detector on a validation split of
the training set only (held-out images of the normal digit against other digits'
*training* images), once for all ten classes, optionally with polluted fit rows
(``--validate --pollution 0 0.05``); the best clean mean there is the ``VALIDATED``
setting below, the best mean of clean and 5%-polluted made the defaults. The test set is
never used to choose anything. Reference methods (``--methods``) can run beside the
candidates; they are never chosen from.

Each table ends with the defaults minus each other method, paired seed by seed, and
how many seeds and classes the defaults are ahead on. ``--from-log`` rebuilds the tables
of a run from its log; ``--memory N`` measures the memory of scoring N rows; ``--figure``
draws the explanation figure of the user guide.

Examples
--------
    # the test table (5 seeds, 2000 training images per class; every method)
    python benchmarks/outlier_mnist.py --data-home DIR --seeds 0 1 2 3 4 --max-train 2000
    # the full training sets
    python benchmarks/outlier_mnist.py --data-home DIR --seeds 0 1 2 \
        --output benchmarks/results/outlier_mnist_full.md
    # the selection of skae's settings on the validation split, clean and polluted
    python benchmarks/outlier_mnist.py --data-home DIR --validate --max-train 1500 \
        --pollution 0 0.05 --settings "defaults" "64 units, 20 epochs"
    # pollution: 1%, 5%, 10% of the training rows are other digits
    python benchmarks/outlier_mnist.py --data-home DIR --max-train 2000 \
        --pollution 0.01 0.05 0.1 --methods "skae (defaults)" "PCA(32)" IsolationForest
    # PyOD's AutoEncoder and VAE: run with a Python that has PyOD and torch
"""

import argparse
import functools
import os
import re
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors
from sklearn.svm import OneClassSVM

from skae import AutoencoderOutlierDetector, DenoisingAutoencoder
from skae.datasets import load_mnist

N_CLASSES = 10
RESULTS = os.path.join(os.path.dirname(__file__), "results")


def denoising(n_components=32, noise_level=0.1, max_iter=20, noise="masking", **params):
    """The relu / linear-decoder autoencoder that the candidates vary."""
    settings = dict(
        activation="relu",
        output_activation="identity",
        loss="squared_error",
        alpha=1e-4,
        sparsity_weight=0.0,
        solver="adam",
        batch_size=100,
        learning_rate="constant",
        learning_rate_init=1e-3,
        early_stopping=False,
    )
    settings.update(params)
    return DenoisingAutoencoder(
        n_components, noise=noise, noise_level=noise_level, max_iter=max_iter, **settings
    )


# Settings of skae's detector tried on the validation split (--validate), each a function
# of the number of training rows (the default's budget is in updates). First round
# (outlier_mnist_validation.md), reconstruction error alone: the scalings, the noise and
# the widths around 32 units at 20 epochs; the winner's width, 64 units, became the
# default's. Second round (outlier_mnist_validation_density.md): the density factor.
def reconstruction_only(autoencoder, **params):
    return {"autoencoder": autoencoder, "density": None, **params}


def with_density(autoencoder, density="input", weight=4.0, n_neighbors=20):
    return {
        "autoencoder": autoencoder,
        "density": density,
        "density_weight": weight,
        "n_neighbors": n_neighbors,
    }


CANDIDATES = {
    "32 units, 20 epochs": lambda n: reconstruction_only(denoising(32)),
    "32 units, 20 epochs, scaling='standard', scale_floor=0 (PyOD's scaling)": lambda n: (
        reconstruction_only(denoising(32), scaling="standard", scale_floor=0.0)
    ),
    "32 units, 20 epochs, scaling=None": lambda n: reconstruction_only(
        denoising(32), scaling=None
    ),
    "32 units, 20 epochs, no noise": lambda n: reconstruction_only(denoising(32, noise_level=0.0)),
    "16 units, 20 epochs": lambda n: reconstruction_only(denoising(16)),
    "64 units, 20 epochs": lambda n: reconstruction_only(denoising(64)),
    "128 units, 20 epochs": lambda n: reconstruction_only(denoising(128)),
    "64 units, 20 epochs, scale_floor=1": lambda n: reconstruction_only(
        denoising(64), scale_floor=1.0
    ),
    # second round: the density factor, its space, weight and neighbours
    "64 units, 20 epochs, density='code', weight 1": lambda n: with_density(
        denoising(64), "code", 1.0
    ),
    "64 units, 20 epochs, density='code', weight 2": lambda n: with_density(
        denoising(64), "code", 2.0
    ),
    "64 units, 20 epochs, density='code', weight 4": lambda n: with_density(
        denoising(64), "code", 4.0
    ),
    "64 units, 20 epochs, density='input', weight 1": lambda n: with_density(
        denoising(64), "input", 1.0
    ),
    "64 units, 20 epochs, density='input', weight 2": lambda n: with_density(
        denoising(64), "input", 2.0
    ),
    "64 units, 20 epochs, density='input', weight 4": lambda n: with_density(
        denoising(64), "input", 4.0
    ),
    "64 units, 20 epochs, density='input', weight 8": lambda n: with_density(
        denoising(64), "input", 8.0
    ),
    "64 units, 20 epochs, density='input', weight 4, 10 neighbors": lambda n: with_density(
        denoising(64), "input", 4.0, 10
    ),
    "64 units, 20 epochs, density='input', weight 4, 30 neighbors": lambda n: with_density(
        denoising(64), "input", 4.0, 30
    ),
    "32 units, 20 epochs, density='input', weight 4": lambda n: with_density(
        denoising(32), "input", 4.0
    ),
    "128 units, 20 epochs, density='input', weight 4": lambda n: with_density(
        denoising(128), "input", 4.0
    ),
    "64 units, max_iter='auto', density='input', weight 4": lambda n: with_density(
        denoising(64, max_iter="auto"), "input", 4.0
    ),
    "64 units, 20 epochs, density='input', weight 4, 50 neighbors": lambda n: with_density(
        denoising(64), "input", 4.0, 50
    ),
    "64 units, 20 epochs, density='input', weight 1, 50 neighbors": lambda n: with_density(
        denoising(64), "input", 1.0, 50
    ),
    "64 units, 20 epochs, density='input', weight 2, 50 neighbors": lambda n: with_density(
        denoising(64), "input", 2.0, 50
    ),
    "64 units, 20 epochs, density='input', weight 2, 100 neighbors": lambda n: with_density(
        denoising(64), "input", 2.0, 100
    ),
    "64 units, 20 epochs, density='input', weight 4, 100 neighbors": lambda n: with_density(
        denoising(64), "input", 4.0, 100
    ),
    "defaults": lambda n: {},
}
# The best candidate on the validation split, for the test table beside the defaults.
VALIDATED = "64 units, 20 epochs, density='input', weight 8"


class Reconstruction:
    """PCA's squared reconstruction error, the linear baseline."""

    def __init__(self, n_components, seed):
        self.pca = PCA(n_components, random_state=seed)

    def fit(self, X):
        self.pca.fit(X)
        return self

    def anomaly(self, X):
        residual = self.pca.inverse_transform(self.pca.transform(X)) - X
        return np.einsum("ij,ij->i", residual, residual)


class KNNDistance:
    """Distance to the k-th nearest training row."""

    def __init__(self, k):
        self.nn = NearestNeighbors(n_neighbors=k)

    def fit(self, X):
        self.nn.fit(X)
        return self

    def anomaly(self, X):
        return self.nn.kneighbors(X)[0][:, -1]


class DensityRatio:
    """The detector's density ratio alone, on the pixels: mean distance to the k nearest
    training rows over theirs (leave-one-out). The ablation of skae's density factor:
    what the score is without the autoencoder."""

    def __init__(self, k):
        self.k = k

    def fit(self, X):
        from skae._outlier import _nearest_distances

        self.nearest, self.reference = _nearest_distances, X
        distances = _nearest_distances(X, X, self.k)[0]  # each row skips itself
        self.own = distances.mean(axis=1)
        return self

    def anomaly(self, X):
        distances, indices = self.nearest(X, self.reference, self.k)
        return distances.mean(axis=1) / self.own[indices].mean(axis=1)


class Negated:
    """A scikit-learn detector; its anomaly score is ``-score_samples``."""

    def __init__(self, detector):
        self.detector = detector

    def fit(self, X):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.detector.fit(X)
        return self

    def anomaly(self, X):
        return -self.detector.score_samples(X)


class PyOD:
    """A PyOD detector; its ``decision_function`` is already higher for anomalies."""

    def __init__(self, detector):
        self.detector = detector

    def fit(self, X):
        self.detector.fit(X)
        return self

    def anomaly(self, X):
        return self.detector.decision_function(X)


def skae_detector(setting, seed, n_samples):
    params = CANDIDATES[setting](n_samples)
    return Negated(AutoencoderOutlierDetector(**params, random_state=seed))


def pyod_methods():
    """PyOD's AutoEncoder and VAE with their defaults, if PyOD (and torch) import."""
    try:
        import torch
        from pyod.models.auto_encoder import AutoEncoder
        from pyod.models.vae import VAE
    except ImportError:
        return {}
    torch.set_num_threads(1)  # the machine is shared: one core, as every other method
    return {
        "PyOD AutoEncoder": lambda seed, n: PyOD(AutoEncoder(random_state=seed, verbose=0)),
        "PyOD VAE": lambda seed, n: PyOD(VAE(random_state=seed, verbose=0)),
    }


def methods():
    found = {
        "skae (defaults)": lambda seed, n: skae_detector("defaults", seed, n),
        f"skae (validated: {VALIDATED})": lambda seed, n: skae_detector(VALIDATED, seed, n),
        "IsolationForest": lambda seed, n: Negated(IsolationForest(random_state=seed)),
        "OneClassSVM": lambda seed, n: Negated(OneClassSVM(gamma="scale", nu=0.1)),
        "LOF (novelty)": lambda seed, n: Negated(LocalOutlierFactor(novelty=True)),
        "PCA(32)": lambda seed, n: Reconstruction(32, seed),
        "kNN(5) distance": lambda seed, n: KNNDistance(5),
        "density ratio(20), no autoencoder": lambda seed, n: DensityRatio(20),
        "density ratio(100), no autoencoder": lambda seed, n: DensityRatio(100),
    }
    found.update(pyod_methods())
    return found


def training_rows(X_train, y_train, digit, rng, max_train, pollution):
    """The normal digit's training images (subsampled), a share replaced by other digits."""
    normal = rng.permutation(np.flatnonzero(y_train == digit))
    if max_train is not None:
        normal = normal[:max_train]
    n_polluted = int(round(pollution * normal.size))
    if n_polluted:
        others = rng.choice(np.flatnonzero(y_train != digit), n_polluted, replace=False)
        normal = np.concatenate([normal[n_polluted:], others])
    return X_train[normal]


def run_one(make, X_fit, X_score, is_anomaly):
    start = time.perf_counter()
    model = make(X_fit.shape[0]).fit(X_fit)
    fitted = time.perf_counter()
    anomaly = model.anomaly(X_score)
    scored = time.perf_counter()
    return 100 * roc_auc_score(is_anomaly, anomaly), fitted - start, scored - fitted


def benchmark(data, names, seeds, classes, max_train, pollution, log):
    X_train, y_train, X_test, y_test = data
    registry = methods()
    table = {name: {} for name in names}  # name -> class -> list of (auc, fit s, score s)
    for seed in seeds:
        for digit in classes:
            rng = np.random.default_rng([seed, digit])
            X_fit = training_rows(X_train, y_train, digit, rng, max_train, pollution)
            for name in names:
                make = functools.partial(registry[name], seed)
                result = run_one(make, X_fit, X_test, y_test != digit)
                table[name].setdefault(digit, []).append(result)
                log(
                    f"seed {seed} class {digit} {name}: AUROC {result[0]:.2f} "
                    f"(fit {result[1]:.1f} s, score {result[2]:.1f} s)"
                )
    return table


def validation_split(X_train, y_train, digit, rng, max_train, n_validation=1000, pollution=0.0):
    """Fit rows of the digit, and held-out digit images against other digits' images;
    ``pollution``: that share of the fit rows replaced by other digits' images (none of
    them a validation image)."""
    normal = rng.permutation(np.flatnonzero(y_train == digit))
    held_out, fit = normal[:n_validation], normal[n_validation:]
    if max_train is not None:
        fit = fit[:max_train]
    candidates = np.flatnonzero(y_train != digit)
    others = rng.choice(candidates, n_validation, replace=False)
    n_polluted = int(round(pollution * fit.size))
    if n_polluted:
        unused = np.setdiff1d(candidates, others)
        fit = np.concatenate([fit[n_polluted:], rng.choice(unused, n_polluted, replace=False)])
    X_val = np.vstack([X_train[held_out], X_train[others]])
    is_anomaly = np.r_[np.zeros(n_validation, bool), np.ones(n_validation, bool)]
    return X_train[fit], X_val, is_anomaly


def validate(data, settings, classes, max_train, log, references=(), pollution=0.0):
    """skae's candidate settings (and, for reference only, other methods) on the split."""
    X_train, y_train = data[:2]
    registry = methods()
    makers = {setting: functools.partial(skae_detector, setting, 0) for setting in settings}
    makers.update({name: functools.partial(registry[name], 0) for name in references})
    table = {name: {} for name in makers}
    for digit in classes:
        rng = np.random.default_rng([0, digit])
        X_fit, X_val, is_anomaly = validation_split(
            X_train, y_train, digit, rng, max_train, pollution=pollution
        )
        for name, make in makers.items():  # make takes n_samples
            result = run_one(make, X_fit, X_val, is_anomaly)
            table[name].setdefault(digit, []).append(result)
            log(f"validation class {digit} {name}: AUROC {result[0]:.2f}")
    return table


def markdown(table, classes, title):
    """Per class (mean over seeds), mean over classes ± its spread over seeds, times."""
    header = (
        "| method | "
        + " | ".join(str(c) for c in classes)
        + " | mean ± sd over seeds | fit s | score s |"
    )
    lines = [title, "", header, "|" + "---|" * (len(classes) + 4)]
    ranked = sorted(table, key=lambda name: -mean_auc(table[name], classes))
    for name in ranked:
        rows = table[name]
        per_class = [statistics.fmean(r[0] for r in rows[c]) for c in classes]
        n_seeds = len(rows[classes[0]])
        seed_means = [statistics.fmean(rows[c][s][0] for c in classes) for s in range(n_seeds)]
        spread = f" ± {statistics.stdev(seed_means):.2f}" if n_seeds > 1 else " (1 seed)"
        fit_s = statistics.fmean(r[1] for c in classes for r in rows[c])
        score_s = statistics.fmean(r[2] for c in classes for r in rows[c])
        cells = " | ".join(f"{v:.1f}" for v in per_class)
        lines.append(
            f"| {name} | {cells} | {statistics.fmean(seed_means):.2f}{spread} "
            f"| {fit_s:.1f} | {score_s:.1f} |"
        )
    reference = next((name for name in ranked if name.startswith("skae (defaults)")), None)
    if reference is not None and len(table) > 1:
        lines += ["", *paired(table, classes, reference)]
    return "\n".join(lines) + "\n"


def paired(table, classes, reference):
    """The reference method against each other one, seed by seed and class by class."""
    n_seeds = len(table[reference][classes[0]])

    def seed_means(name):
        return [statistics.fmean(table[name][c][s][0] for c in classes) for s in range(n_seeds)]

    def class_means(name):
        return [statistics.fmean(r[0] for r in table[name][c]) for c in classes]

    lines = [
        f"{reference} minus each method (paired: the same seed's training rows):",
        "",
        "| method | mean difference | sd over seeds | seeds ahead | classes ahead |",
        "|---|---|---|---|---|",
    ]
    for name in table:
        if name == reference:
            continue
        differences = [a - b for a, b in zip(seed_means(reference), seed_means(name), strict=True)]
        sd = f"{statistics.stdev(differences):.2f}" if n_seeds > 1 else "-"
        ahead = sum(d > 0 for d in differences)
        classes_ahead = sum(
            a > b for a, b in zip(class_means(reference), class_means(name), strict=True)
        )
        lines.append(
            f"| {name} | {statistics.fmean(differences):+.2f} | {sd} | {ahead} of {n_seeds} "
            f"| {classes_ahead} of {len(classes)} |"
        )
    return lines


LOG_LINE = re.compile(
    r"seed (\d+) class (\d+) (.+): AUROC ([\d.]+) \(fit ([\d.]+) s, score ([\d.]+) s\)"
)


def table_from_log(path):
    """The table of a benchmark run (without pollution) rebuilt from its log."""
    table = {}
    with open(path) as f:
        for line in f:
            found = LOG_LINE.search(line)
            if found:
                _, digit, name, auc, fit_s, score_s = found.groups()
                result = (float(auc), float(fit_s), float(score_s))
                table.setdefault(name, {}).setdefault(int(digit), []).append(result)
    return table


def explanation_figure(data, digit, max_train, path):
    """The default detector fitted on one digit; its three most abnormal test images."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skae.inspection import OutlierExplanationDisplay

    X_train, y_train, X_test, y_test = data
    rng = np.random.default_rng([0, digit])
    X_fit = training_rows(X_train, y_train, digit, rng, max_train, 0.0)
    detector = AutoencoderOutlierDetector(random_state=0).fit(X_fit)
    scores = detector.score_samples(X_test)
    shown = np.r_[np.argsort(scores)[:3], np.flatnonzero(y_test == digit)[:1]]
    fig, axes = plt.subplots(len(shown), 3, figsize=(7.5, 2.4 * len(shown)))
    for axis_row, index in zip(axes, shown, strict=True):
        OutlierExplanationDisplay.from_estimator(detector, X_test[index], ax=axis_row)
        axis_row[0].set_title(f"input: a {y_test[index]}", fontsize="small")
    fig.suptitle(f"fitted on the {digit}s: the 3 most abnormal test images, then a {digit}")
    fig.tight_layout()
    fig.savefig(path, dpi=80)


def memory_peaks(n_rows, log):
    """Peak memory beyond X of scoring ``n_rows`` rows of the digits (64 float32 features)
    with the default detector fitted on the zeros, blockwise and all at once."""
    import tracemalloc

    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32)
    detector = AutoencoderOutlierDetector(random_state=0).fit(X[y == 0])
    rows = np.resize(X, (n_rows, X.shape[1]))
    lines = [
        f"## Memory of score_samples on {n_rows} rows of 64 float32 features "
        f"(default detector, {int(np.sum(y == 0))} training rows)",
        "",
        "| chunk_size | peak beyond X (MB) | of which the output (MB) | time s |",
        "|---|---|---|---|",
    ]
    for chunk_size in (detector.chunk_size, None):
        detector.set_params(chunk_size=chunk_size)
        tracemalloc.start()
        start = time.perf_counter()
        detector.score_samples(rows)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        lines.append(
            f"| {chunk_size} | {peak / 1e6:.1f} | {rows.shape[0] * 4 / 1e6:.1f} | {elapsed:.1f} |"
        )
        log(lines[-1])
    return "\n".join(lines) + "\n"


def mean_auc(rows, classes):
    return statistics.fmean(r[0] for c in classes for r in rows[c])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None, help="folder of the MNIST IDX files")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--classes", type=int, nargs="+", default=list(range(N_CLASSES)))
    parser.add_argument(
        "--max-train",
        type=int,
        default=None,
        help="subsample of the normal digit's training images (all if unset)",
    )
    parser.add_argument(
        "--methods", nargs="+", default=None, help=f"subset of: {', '.join(methods())}"
    )
    parser.add_argument(
        "--pollution",
        type=float,
        nargs="+",
        default=None,
        help="shares of training rows replaced by other digits (one table each)",
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="choose skae's setting on the validation split instead",
    )
    parser.add_argument(
        "--settings",
        nargs="+",
        default=None,
        help=f"with --validate, a subset of: {'; '.join(CANDIDATES)}",
    )
    parser.add_argument("--output", default=None, help="markdown file to write")
    parser.add_argument(
        "--figure",
        default=None,
        help="only draw the explanations of the default detector to this file",
    )
    parser.add_argument("--figure-class", type=int, default=7)
    parser.add_argument(
        "--from-log",
        default=None,
        help="only rebuild the tables of a run (no pollution) from its log",
    )
    parser.add_argument(
        "--memory",
        type=int,
        default=None,
        help="only measure the memory of scoring this many rows of the digits",
    )
    args = parser.parse_args(argv)

    if args.from_log:
        table = table_from_log(args.from_log)
        classes = sorted(next(iter(table.values())))
        print(markdown(table, classes, f"## Rebuilt from {args.from_log}"))
        return
    # the memory measurement uses scikit-learn's digits, not MNIST
    data = None if args.memory else load_mnist(args.data_home, dtype=np.float32, return_X_y=True)
    started = time.perf_counter()
    command = "python benchmarks/outlier_mnist.py " + " ".join(argv or sys.argv[1:])

    def log(message):
        print(f"[{time.perf_counter() - started:7.0f} s] {message}", flush=True)

    if args.figure:
        explanation_figure(data, args.figure_class, args.max_train, args.figure)
        log(f"wrote {args.figure}")
        return
    sections = []
    if args.memory:
        sections.append(memory_peaks(args.memory, log))
        default_output = "outlier_memory.md"
    elif args.validate:
        settings = args.settings or list(CANDIDATES)
        references = args.methods or []  # beside the candidates, never chosen from
        for pollution in args.pollution or [0.0]:
            table = validate(
                data, settings, args.classes, args.max_train, log, references, pollution
            )
            sections.append(
                markdown(
                    table,
                    args.classes,
                    "## Validation split: held-out normal training images vs other digits' "
                    f"training images (AUROC, seed 0), {pollution:.0%} of the fit rows "
                    "polluted by other digits",
                )
            )
        default_output = "outlier_mnist_validation.md"
    else:
        names = args.methods or list(methods())
        for pollution in args.pollution or [0.0]:
            table = benchmark(
                data, names, args.seeds, args.classes, args.max_train, pollution, log
            )
            sections.append(
                markdown(
                    table,
                    args.classes,
                    f"## Test AUROC, one class normal, {pollution:.0%} of training rows "
                    "polluted by other digits",
                )
            )
        default_output = (
            "outlier_mnist.md" if args.pollution is None else ("outlier_mnist_pollution.md")
        )
    output = args.output or os.path.join(RESULTS, default_output)
    with open(output, "w") as f:
        f.write(
            "# One-class MNIST outlier detection\n\n"
            f"Command: `{command}`\n\n"
            f"Seeds {args.seeds}, classes {args.classes}, max_train {args.max_train}; "
            f"total {time.perf_counter() - started:.0f} s on a shared 2-core machine "
            "(times are wall clock per class, mean over classes and seeds).\n\n"
            + "\n".join(sections)
        )
    log(f"wrote {output}")


if __name__ == "__main__":
    main()
