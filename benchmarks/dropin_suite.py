"""The drop-in suite: skae at its defaults in the pipelines a scikit-learn user writes.

What it measures (issue 18, "Measured"): skae as a scikit-learn user who never reads the
docs would use it. On every classification data set scikit-learn bundles (iris, wine,
breast cancer, digits) and an MNIST subset, the test accuracy of

- ``LogisticRegression(max_iter=1000)`` on raw X and
  ``make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))`` (the baselines),
- the same two with each skae autoencoder at its defaults (``SparseAutoencoder``,
  ``DenoisingAutoencoder``, ``TiedAutoencoder``, each given only ``random_state``)
  inserted before the classifier: ``make_pipeline(AE, LR)`` and
  ``make_pipeline(StandardScaler(), AE, LR)``,

on stratified train/test splits (25% test; on MNIST a stratified subset of the standard
training set and of the standard test set), one split per seed, mean ± std over the seeds.
Each autoencoder row shows its difference (in accuracy points) to the same pipeline
without skae. Every warning emitted during each fit is recorded
(``warnings.catch_warnings(record=True)`` with ``simplefilter("always")``) and counted per
row; the distinct messages are listed at the end with the row that raised them and the
file that issued them. Each row gives the median wall time of one fit.

A few-labels case: ``AutoencoderClassifier`` at its defaults fitted on the digits'
training split with 50 labelled rows (5 per class) and the rest unlabelled, against
``LogisticRegression(max_iter=1000)`` on the 50 labelled rows alone. The classifier is
built as a user would: ``AutoencoderClassifier(random_state=s)`` if its ``autoencoder``
has a default, else around the README's stack shape with every layer at its defaults,
``StackedAutoencoder([("ae1", DenoisingAutoencoder()), ("ae2", SparseAutoencoder())],
random_state=s)``. Unlabelled rows are -1; ``unlabeled=-1`` is passed if the classifier
has that parameter (else it reads -1 as unlabelled by itself).

Data are used as loaded (the digits' grey levels 0-16, MNIST's pixels / 255 from
:func:`skae.datasets.load_mnist`); MNIST is skipped with a note if its files are missing.
This is not a speed benchmark: the OpenBLAS settings are left as they are.

Run from the repository root::

    python benchmarks/dropin_suite.py                      # full run, 3 seeds
    python benchmarks/dropin_suite.py --quick              # smoke run: 1 seed, iris + digits
    python benchmarks/dropin_suite.py --datasets iris wine --output /tmp/dropin.md

It prints the report and its total run time and writes the Markdown report to
``benchmarks/results/dropin_suite.md`` (``--output``; ``--quick`` writes only with
``--output``). The report is rewritten after each data set, marked partial until the
end, so an interrupted run leaves what it measured.
"""

import argparse
import inspect
import platform
import shlex
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy
import sklearn
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skae
from skae import (
    AutoencoderClassifier,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    TiedAutoencoder,
)
from skae.compare import markdown_table
from skae.datasets import load_mnist

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "dropin_suite.md"
DEFAULT_DATA_HOME = ROOT.parent / "shared" / "data" / "mnist"

BUNDLED = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
}
ALL_DATASETS = [*BUNDLED, "few_labels", "mnist"]
QUICK_DATASETS = ["iris", "digits", "few_labels"]
AUTOENCODERS = [SparseAutoencoder, DenoisingAutoencoder, TiedAutoencoder]
N_LABELLED = 50
UNLABELED = -1


def logistic():
    """The classifier every pipeline ends in."""
    return LogisticRegression(max_iter=1000)


def pipelines(seed):
    """(name, baseline name or None, unfitted pipeline) of the rows of one data set.

    Parameters
    ----------
    seed : int
        ``random_state`` of the autoencoders.

    Returns
    -------
    rows : list of tuple
    """
    rows = [
        ("LR", None, make_pipeline(logistic())),
        ("StandardScaler + LR", None, make_pipeline(StandardScaler(), logistic())),
    ]
    for cls in AUTOENCODERS:
        name = cls.__name__
        rows.append((f"{name} + LR", "LR", make_pipeline(cls(random_state=seed), logistic())))
        rows.append(
            (
                f"StandardScaler + {name} + LR",
                "StandardScaler + LR",
                make_pipeline(StandardScaler(), cls(random_state=seed), logistic()),
            )
        )
    return rows


def few_labels_classifier(seed):
    """``AutoencoderClassifier`` at its defaults, as a user without the docs builds it."""
    default = inspect.signature(AutoencoderClassifier).parameters["autoencoder"].default
    if default is inspect.Parameter.empty:
        stack = StackedAutoencoder(
            [("ae1", DenoisingAutoencoder()), ("ae2", SparseAutoencoder())], random_state=seed
        )
        clf = AutoencoderClassifier(stack, random_state=seed)
    else:
        clf = AutoencoderClassifier(random_state=seed)
    if "unlabeled" in clf.get_params():
        clf.set_params(unlabeled=UNLABELED)
    return clf


class Recorder:
    """Fits under ``catch_warnings``; keeps accuracies, times and warnings per row."""

    def __init__(self):
        self.rows = {}  # name -> {"baseline", "scores", "times", "n_warnings"}
        self.messages = {}  # (category, message[:150], row, source) -> count

    def fit_score(self, name, baseline, estimator, X_train, y_train, X_test, y_test):
        """Fit ``estimator``, record time and warnings, and score it on the test rows."""
        row = self.rows.setdefault(
            name, {"baseline": baseline, "scores": [], "times": [], "n_warnings": 0}
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            start = time.perf_counter()
            estimator.fit(X_train, y_train)
            row["times"].append(time.perf_counter() - start)
        row["scores"].append(float(estimator.score(X_test, y_test)))
        row["n_warnings"] += len(caught)
        for w in caught:
            message = " ".join(str(w.message).split())[:150]
            key = (w.category.__name__, message, name, source_of(w.filename))
            self.messages[key] = self.messages.get(key, 0) + 1
        return row["scores"][-1]


def source_of(filename):
    """The package-relative path of the file that issued a warning."""
    parts = Path(filename).parts
    for package in ("skae", "sklearn", "numpy", "scipy"):
        if package in parts:
            return "/".join(parts[len(parts) - parts[::-1].index(package) - 1 :])
    return Path(filename).name


def bundled_splits(name, seeds):
    """Stratified 75/25 splits of a bundled data set, one per seed."""
    X, y = BUNDLED[name](return_X_y=True)
    for seed in seeds:
        yield seed, train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)


def mnist_splits(data_home, seeds, n_train, n_test):
    """Stratified subsets of MNIST's training and test sets, one pair per seed."""
    X_train, y_train, X_test, y_test = load_mnist(data_home, return_X_y=True)
    for seed in seeds:
        X_tr, _, y_tr, _ = train_test_split(
            X_train, y_train, train_size=n_train, stratify=y_train, random_state=seed
        )
        X_te, _, y_te, _ = train_test_split(
            X_test, y_test, train_size=n_test, stratify=y_test, random_state=seed
        )
        yield seed, (X_tr, X_te, y_tr, y_te)


def run_pipelines(recorder, splits):
    for seed, (X_train, X_test, y_train, y_test) in splits:
        for name, baseline, pipe in pipelines(seed):
            score = recorder.fit_score(name, baseline, pipe, X_train, y_train, X_test, y_test)
            print(f"  seed {seed}  {name:<40} {score:.4f}", flush=True)


def run_few_labels(recorder, seeds):
    X, y = load_digits(return_X_y=True)
    for seed in seeds:
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.25, stratify=y, random_state=seed
        )
        labelled, _ = train_test_split(
            np.arange(len(y_train)), train_size=N_LABELLED, stratify=y_train, random_state=seed
        )
        y_semi = np.full_like(y_train, UNLABELED)
        y_semi[labelled] = y_train[labelled]
        rows = [
            (
                f"LR on the {N_LABELLED} labelled rows",
                None,
                logistic(),
                X_train[labelled],
                y_train[labelled],
            ),
            (
                "AutoencoderClassifier (all rows, the rest -1)",
                f"LR on the {N_LABELLED} labelled rows",
                few_labels_classifier(seed),
                X_train,
                y_semi,
            ),
        ]
        for name, baseline, estimator, X_fit, y_fit in rows:
            score = recorder.fit_score(name, baseline, estimator, X_fit, y_fit, X_test, y_test)
            print(f"  seed {seed}  {name:<40} {score:.4f}", flush=True)
    return repr(few_labels_classifier(seeds[0]))


def mean_std(values):
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def table(recorder):
    """The Markdown table of one data set and its summary line."""
    header = (
        "pipeline",
        "test accuracy (mean ± std)",
        "Δ vs same without skae (points)",
        "seeds worse",
        "warnings",
        "median fit s",
    )
    rows = []
    worst, total_warnings = None, 0
    for name, row in recorder.rows.items():
        total_warnings += row["n_warnings"]
        delta, worse = "", ""
        if row["baseline"] is not None:
            base = recorder.rows[row["baseline"]]["scores"]
            diff = 100 * (np.mean(row["scores"]) - np.mean(base))
            delta = f"{diff:+.2f}"
            n_worse = sum(s < b for s, b in zip(row["scores"], base, strict=True))
            worse = f"{n_worse}/{len(base)}"
            if worst is None or diff < worst[0]:
                worst = (diff, name)
        rows.append(
            [
                name,
                mean_std(row["scores"]),
                delta,
                worse,
                row["n_warnings"],
                f"{np.median(row['times']):.2f}",
            ]
        )
    n_fits = sum(len(row["scores"]) for row in recorder.rows.values())
    summary = {
        "worst": worst,
        "warnings": total_warnings,
        "fits": n_fits,
    }
    return markdown_table(header, rows).split("\n"), summary


def summary_text(summary):
    diff, name = summary["worst"] if summary["worst"] else (float("nan"), "-")
    return (
        f"worst skae default pipeline minus baseline: {diff:+.2f} points ({name}); "
        f"warnings: {summary['warnings']} in {summary['fits']} fits"
    )


def versions():
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return (
        f"skae {skae.__version__} (git {commit}), scikit-learn {sklearn.__version__}, "
        f"NumPy {np.__version__}, SciPy {scipy.__version__}, Python "
        f"{platform.python_version()}, {platform.machine()}"
    )


def report(results, args, command, elapsed, done):
    """The Markdown report of the data sets measured so far."""
    title = "# Drop-in suite: skae at its defaults in a scikit-learn user's pipelines"
    out = [title, ""]
    if not done:
        out += ["**Partial: the run has not finished.**", ""]
    out += [
        f"Command: `{command}`",
        "",
        f"Versions: {versions()}",
        "",
        f"Seeds: {args.seeds} (one stratified split each); total run time {elapsed:.0f} s.",
        "",
        "Test accuracy; 'Δ' is the autoencoder pipeline's mean minus the mean of the same "
        "pipeline without skae, in accuracy points; 'seeds worse' counts the splits on which "
        "it scored below that pipeline; 'warnings' counts the warnings emitted during the "
        "fits of the row (all seeds); 'median fit s' is the median wall time of one fit "
        "on a machine shared with others.",
        "",
        "## Summary",
        "",
    ]
    summary_rows = []
    for name, (_recorder, summary, _note) in results.items():
        diff, row = summary["worst"] if summary["worst"] else (float("nan"), "-")
        summary_rows.append(
            [name, f"{diff:+.2f}", row, f"{summary['warnings']} / {summary['fits']}"]
        )
    header = (
        "data set",
        "worst skae default pipeline minus baseline (points)",
        "pipeline",
        "warnings / fits",
    )
    out.append(markdown_table(header, summary_rows))
    for name, (recorder, summary, note) in results.items():
        lines, _ = table(recorder)
        out += ["", f"## {name}", "", note, "", *lines, "", summary_text(summary)]
    out += ["", "## Distinct warnings", ""]
    messages = {}
    for name, (recorder, _, _) in results.items():
        for (category, message, row, source), count in recorder.messages.items():
            entry = messages.setdefault((category, message, source), {"count": 0, "where": {}})
            entry["count"] += count
            entry["where"][f"{name}: {row}"] = entry["where"].get(f"{name}: {row}", 0) + count
    if not messages:
        out.append("None.")
    else:
        header = (
            "category",
            "message (first 150 characters)",
            "reported at (file of the stacklevel)",
            "count",
            "rows (fits)",
        )
        rows = []
        for (category, message, source), entry in sorted(
            messages.items(), key=lambda item: -item[1]["count"]
        ):
            where = "; ".join(f"{row} ({n})" for row, n in entry["where"].items())
            message = message.replace("|", "\\|")
            rows.append([category, message, source, entry["count"], where])
        out.append(markdown_table(header, rows))
    for name, note in args.skipped.items():
        out += ["", f"Skipped {name}: {note}"]
    return "\n".join(out) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="splits (seeds 0..N-1)")
    parser.add_argument(
        "--datasets", nargs="+", choices=ALL_DATASETS, default=None, help="data sets to run"
    )
    parser.add_argument("--quick", action="store_true", help="1 seed, iris + digits + few")
    parser.add_argument("--output", type=Path, default=None, help="Markdown report")
    parser.add_argument("--data-home", type=Path, default=DEFAULT_DATA_HOME, help="MNIST")
    parser.add_argument("--mnist-train", type=int, default=1000, help="MNIST training rows")
    parser.add_argument("--mnist-test", type=int, default=1000, help="MNIST test rows")
    parser.add_argument(
        "--mnist-seeds", type=int, default=1, help="seeds on MNIST (at most --seeds)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds = 1
    datasets = args.datasets or (QUICK_DATASETS if args.quick else ALL_DATASETS)
    output = args.output
    if output is None and not args.quick:
        output = DEFAULT_OUTPUT
    command = "python " + shlex.join(["benchmarks/dropin_suite.py", *sys.argv[1:]])
    if argv is not None:
        command = "python " + shlex.join(["benchmarks/dropin_suite.py", *argv])
    seeds = list(range(args.seeds))
    args.skipped = {}
    results = {}
    start = time.perf_counter()

    def write(done):
        text = report(results, args, command, time.perf_counter() - start, done)
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text)
        return text

    for name in datasets:
        print(f"{name}:", flush=True)
        recorder = Recorder()
        if name in BUNDLED:
            X, y = BUNDLED[name](return_X_y=True)
            note = (
                f"`sklearn.datasets.load_{name}`: {X.shape[0]} rows, {X.shape[1]} features, "
                f"{np.unique(y).size} classes, X as loaded (values in [{X.min():g}, "
                f"{X.max():g}]); stratified 75/25 splits."
            )
            run_pipelines(recorder, bundled_splits(name, seeds))
        elif name == "mnist":
            mnist_seeds = seeds[: max(1, min(args.mnist_seeds, len(seeds)))]
            try:
                splits = list(
                    mnist_splits(args.data_home, mnist_seeds, args.mnist_train, args.mnist_test)
                )
            except FileNotFoundError as error:
                args.skipped[name] = f"the MNIST files are missing ({error})."
                print(f"  skipped: {args.skipped[name]}", flush=True)
                continue
            note = (
                f"MNIST from `{args.data_home}` (`skae.datasets.load_mnist`, pixels / 255): "
                f"{args.mnist_train} training rows and {args.mnist_test} test rows, stratified "
                f"subsets of the standard training and test sets; {len(mnist_seeds)} seed(s) "
                "(`--mnist-seeds`; MNIST takes most of the run time at the current defaults)."
            )
            run_pipelines(recorder, splits)
        else:
            clf = run_few_labels(recorder, seeds)
            note = (
                f"`load_digits` (grey levels 0-16, as loaded), stratified 75/25 splits; of "
                f"the training rows {N_LABELLED} (stratified) keep their labels, the others "
                f"are labelled {UNLABELED}. The classifier: `{' '.join(clf.split())}`."
            )
        lines, summary = table(recorder)
        results[name] = (recorder, summary, note)
        print("\n".join(lines), flush=True)
        print(summary_text(summary), flush=True)
        write(done=False)
    elapsed = time.perf_counter() - start
    text = write(done=True)
    print()
    print(text)
    print(f"total run time: {elapsed:.0f} s" + (f"; report written to {output}" if output else ""))


if __name__ == "__main__":
    main()
