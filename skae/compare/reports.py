"""The comparison's reports: Markdown and CSV tables, a bar chart, and what they measure.

:func:`markdown_table` is the one Markdown table writer of skae's reports; the benchmark
scripts write their tables with it too.
"""

import csv
import json
import textwrap
from pathlib import Path

import numpy as np

from .methods import CLASSIFIERS
from .progress import log

__all__ = [
    "COLUMNS",
    "SEARCH_COLUMNS",
    "describe_setting",
    "format_markdown",
    "format_search_markdown",
    "markdown_table",
    "write_results",
    "write_search",
]

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


def markdown_table(header, rows, *, align=None, pad=False):
    """A Markdown (GitHub) table.

    Parameters
    ----------
    header : sequence of str
        The column names.
    rows : iterable of sequences
        One sequence of cells per row, as many as ``header``; each cell is written with
        ``str``, so format numbers before.
    align : str or None, default=None
        One letter per column, ``"l"`` (left) or ``"r"`` (right, for numbers:
        ``---:``); None leaves every column to the renderer (``---``).
    pad : bool, default=False
        Pad the cells to the width of their column, so that the plain text lines up.

    Returns
    -------
    table : str
        The lines, without a final newline.

    Examples
    --------
    >>> print(markdown_table(["method", "accuracy"], [["pca", "0.95"]], align="lr"))
    | method | accuracy |
    |---|---:|
    | pca | 0.95 |
    """
    header = [str(cell) for cell in header]
    rows = [[str(cell) for cell in row] for row in rows]
    if any(len(row) != len(header) for row in rows):
        raise ValueError(f"Every row needs {len(header)} cells, one per column.")
    align = align or "l" * len(header)
    if len(align) != len(header) or set(align) - {"l", "r"}:
        raise ValueError(f"align needs one of 'l' or 'r' per column, got {align!r}.")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    if not pad:
        widths = [0] * len(header)

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    # padded, the rule spans the cell and its two spaces; a colon marks a right column
    dashes = [w + 1 if pad else 3 for w in widths]
    rule = "|" + "|".join(
        "-" * d + (":" if a == "r" else "-" if pad else "")
        for a, d in zip(align, dashes, strict=True)
    )
    return "\n".join([line(header), rule + "|", *(line(row) for row in rows)])


def _write_csv(path, columns, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


REPORT_WIDTH = 88  # the report's paragraphs, wrapped for a terminal


def describe_setting(dataset, classifier, n_train, n_test, *, random_state=0, searched=False):
    """What a comparison measures, for the report: the data, the split, the classifier.

    Parameters
    ----------
    dataset : {"digits", "mnist"}
    classifier : str
        A name from :data:`~skae.compare.CLASSIFIERS`.
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
        As returned by :func:`~skae.compare.run_comparison`.
    setting : dict or None, default=None
        As returned by :func:`describe_setting`: then a paragraph above the table says
        what is measured, and a list below it what to try next. None gives the table
        alone.

    Returns
    -------
    table : str
    """
    header = ("method", "test accuracy", "seeds", "fit_time_s", "transform_time_s", "n_features")
    rows = []
    for r in results:
        accuracy = f"{r['accuracy']:.4f}"
        if r["n_seeds"] > 1:
            accuracy += f" ± {r['accuracy_std']:.4f}"
        rows.append(
            [
                r["method"],
                accuracy,
                r["n_seeds"],
                f"{r['fit_time_s']:.3f}",
                f"{r['transform_time_s']:.4f}",
                r["n_features"],
            ]
        )
    lines = markdown_table(header, rows, align="lrrrrr").split("\n")
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
        As returned by :func:`~skae.compare.search`.

    Returns
    -------
    table : str
    """
    header = ("method", "settings", "C", "validation accuracy", "extractor fit (s)")
    order = {name: i for i, name in enumerate(dict.fromkeys(r["method"] for r in rows))}
    cells = [
        [
            r["method"],
            f"`{r['params']}`",
            r["C"],
            f"{r['val_accuracy']:.4f}",
            f"{r['fit_time_s']:.1f}",
        ]
        for r in sorted(rows, key=lambda r: (order[r["method"]], -r["val_accuracy"]))
    ]
    return markdown_table(header, cells, align="llrrr") + "\n"


def write_search(presets, rows, output_dir, stem):
    """Write the search rows (Markdown, CSV) and the chosen presets (JSON).

    Parameters
    ----------
    presets, rows
        As returned by :func:`~skae.compare.search`.
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
    _write_csv(table, SEARCH_COLUMNS, rows)
    chosen = output_dir / f"{stem}_chosen.json"
    chosen.write_text(json.dumps(presets, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return [markdown, table, chosen]


def write_results(results, output_dir, stem, plot=True, setting=None):
    """Write the table as Markdown and CSV, and as a bar chart if matplotlib is there.

    Parameters
    ----------
    results : list of dict
        As returned by :func:`~skae.compare.run_comparison`.
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
    _write_csv(table, COLUMNS, results)
    paths = [markdown, table]
    if plot:
        try:
            from matplotlib.figure import Figure
        except ImportError:
            log("matplotlib is not installed (pip install skae[plot]); no plot drawn.")
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
