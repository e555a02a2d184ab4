"""The command line, ``python -m skae.compare`` (or ``skae-compare``): options to a run.

It parses the options, loads the data, runs the search and the comparison of
:mod:`skae.compare.protocol` and writes the reports of :mod:`skae.compare.reports`; the
options are described in the package's docstring and by ``--help``.
"""

import argparse
import json
import time
from pathlib import Path

from sklearn.model_selection import train_test_split

from .._base import FULL_BATCH_SOLVERS, MINIBATCH_SOLVERS
from .._core import ACTIVATIONS
from .data import load_data, validation_split
from .methods import CLASSIFIERS, METHODS
from .presets import PRESETS, SEARCH_SPACES, merge_presets
from .progress import log
from .protocol import run_comparison, search
from .reports import describe_setting, format_markdown, write_results, write_search

__all__ = ["build_parser", "main"]

DEFAULT_N_COMPONENTS = {"digits": 256, "mnist": 2000}
# digits' 64-column matrices are too small to gain from BLAS threads, and threads that
# wait on a busy machine made the default run ~10x slower; None keeps the BLAS default
DEFAULT_BLAS_THREADS = {"digits": 1, "mnist": None}
# a sixth of the training set, as MNIST's 10000 of 60000
DEFAULT_N_VALIDATION = {"digits": None, "mnist": 10000}


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
    """Limit BLAS threads (threadpoolctl: a dependency of skae and of scikit-learn)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=limit, user_api="blas")


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
    log(
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
        log(f"wrote {path}")
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
    log(
        f"{args.dataset}: {X_train.shape[0]} training and {X_test.shape[0]} test samples, "
        f"{X_train.shape[1]} pixels; {n_components} components; classifier "
        f"{args.classifier}; BLAS threads {blas_threads or 'default'}"
    )
    presets = PRESETS[args.dataset]
    if args.presets is not None:
        presets = merge_presets(presets, json.loads(Path(args.presets).read_text("utf-8")))
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
                    log(f"search took {time.perf_counter() - start:.0f}s")
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
    log(f"total time {time.perf_counter() - start:.0f}s")
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
        log(f"wrote {path}")
    return 0
