"""The protocol: choose on a validation split of the training set, score the test set once.

:func:`search` ranks each method's candidate settings and the classifier's C on a
validation split (:func:`~skae.compare.data.validation_split`); :func:`run_comparison`
fits the chosen settings on the whole training set, over one or more seeds, and scores
the test set. Neither prints anything itself: what they say goes through a
:class:`~skae.compare.progress.CompareProgress`.
"""

import json
import time
import warnings
from functools import partial

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .methods import CLASSIFIERS, METHODS, build_pipeline, set_classifier_params
from .progress import CompareProgress

__all__ = ["accuracy_over_c", "run_comparison", "search"]


def _fit_and_score(pipeline, X_train, y_train, X_test, y_test, *, tag, progress, budget_fixed):
    """Fit the pipeline and score it on the test set.

    The extractor and the classifier are fitted one after the other, as the pipeline's
    own ``fit`` does (``fit_transform`` of the extractor, then the classifier on its
    output), so that the warnings of each are told apart by where they came from, not by
    their text (see :func:`_report_warnings`).

    Returns
    -------
    row : dict
        One row of the table, without the method's name.
    not_converged : bool
        Whether a ConvergenceWarning was held back (see :func:`_report_warnings`).
    """
    extractor, classifier = pipeline[0], pipeline[1:]
    # the warnings of the scoring join the classifier's: they count, whatever the budget
    with warnings.catch_warnings(record=True) as other_warnings:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as extractor_warnings:
            warnings.simplefilter("always", ConvergenceWarning)
            with progress.watching(extractor, tag):
                train_features = extractor.fit_transform(X_train, y_train)
        classifier.fit(train_features, y_train)
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        features = extractor.transform(X_test)
        transform_time = time.perf_counter() - start
        # the classifier alone on the features just timed: no second transform of X_test
        accuracy = classifier.score(features, y_test)
    row = {
        "accuracy": float(accuracy),
        "fit_time_s": fit_time,
        "transform_time_s": transform_time,
        "n_features": int(features.shape[1]),
    }
    not_converged = _report_warnings(extractor_warnings, other_warnings, budget_fixed)
    return row, not_converged


def _report_warnings(extractor_warnings, classifier_warnings, budget_fixed):
    """Pass on the caught warnings except ConvergenceWarning; tell whether one came.

    A ConvergenceWarning of the extractor whose iteration budget the preset or the
    command line sets (``budget_fixed``) is the setting, not a failure: it is dropped
    without a note. The classifier's always counts.

    Parameters
    ----------
    extractor_warnings : list of warnings.WarningMessage
        What the extractor's fit raised.
    classifier_warnings : list of warnings.WarningMessage
        What the classifier's fit and the scoring raised.
    budget_fixed : bool
        Whether the extractor's iteration budget was set on purpose.

    Returns
    -------
    not_converged : bool
        Whether a ConvergenceWarning that counts came: short iteration budgets are the
        point of a quick run, so it is one note on the method's line, not a wall.
    """
    not_converged = False
    for expected, caught in ((budget_fixed, extractor_warnings), (False, classifier_warnings)):
        for w in caught:
            if not issubclass(w.category, ConvergenceWarning):
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
            elif not expected:
                not_converged = True
    return not_converged


def _width(name, n_components, X, tag, progress):
    max_pca = min(np.shape(X))
    if name == "pca" and n_components > max_pca:
        # PCA has at most min(n_samples, n_features) components: the nearest fair
        # comparison is all of them (a rotation of the pixels), said in the table
        progress.log(f"{tag}: PCA capped at {max_pca} components (n_components={n_components})")
        return max_pca
    return n_components


def _std(values):
    # the sample standard deviation over seeds; 0 for a single seed
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _check_names(methods, classifier):
    methods = list(METHODS) if methods is None else list(methods)
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"Unknown methods {unknown}; choose from {list(METHODS)}.")
    if classifier not in CLASSIFIERS:
        raise ValueError(f"Unknown classifier {classifier!r}; choose from {list(CLASSIFIERS)}.")
    return methods


def accuracy_over_c(features_fit, y_fit, features_val, y_val, Cs, make_classifier):
    """Validation accuracy of a fresh classifier on fixed features, for each C.

    The features are computed once, outside: this is the cheap inner loop of
    :func:`search`, and how the benchmark scripts read an extractor's codes.

    Parameters
    ----------
    features_fit, y_fit : array-like
        What each classifier is fit on.
    features_val, y_val : array-like
        What it is scored on.
    Cs : sequence of float or None
        Set as ``C`` on the classifier's final estimator where it has one; None keeps
        the classifier as built.
    make_classifier : callable
        ``make_classifier()`` returns a fresh, unfitted classifier (e.g. a factory of
        :data:`~skae.compare.CLASSIFIERS` with its ``random_state`` bound).

    Returns
    -------
    accuracies : list of float
        In the order of ``Cs``.
    """
    accuracies = []
    for C in Cs:
        clf = make_classifier()
        if C is not None:
            set_classifier_params(clf, {"C": C})
        accuracies.append(float(clf.fit(features_fit, y_fit).score(features_val, y_val)))
    return accuracies


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
        Names from :data:`~skae.compare.METHODS`, run in this order; None runs all of
        them.
    n_components : int, default=64
        Number of features of every extractor (not of ``pixels``) whose preset does not
        set its own ``n_components``.
    classifier : str, default="logistic"
        A name from :data:`~skae.compare.CLASSIFIERS`.
    estimator_params : dict, default=None
        Autoencoder parameters applied to all three autoencoders, e.g.
        ``{"alpha": 1e-3, "max_iter": 50}``; ``max_iter`` also sets the RBM's ``n_iter``.
        Parameters left out keep each class's default (or the preset).
    presets : dict, default=None
        Per-method parameters under the method's name (e.g.
        :data:`~skae.compare.PRESETS` ``["mnist"]``), overridden by ``estimator_params``;
        ``presets["classifier"][method]`` holds the classifier's parameters for that
        method (e.g. ``{"C": 0.03}``), applied where the classifier has them.
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
        One dict per method, with the keys of :data:`~skae.compare.COLUMNS`.
    """
    methods = _check_names(methods, classifier)
    progress = CompareProgress(progress_interval, verbose)
    presets = presets or {}
    seeds = [random_state + i for i in range(n_seeds)]

    results = []
    for i, name in enumerate(methods, 1):
        tag = f"[{i}/{len(methods)}] {name}"
        params = {**presets.get(name, {}), **(estimator_params or {})}
        width = _width(name, params.pop("n_components", n_components), X_train, tag, progress)
        classifier_params = presets.get("classifier", {}).get(name, {})
        # a budget the preset (chosen on the validation set) or the command line fixes
        # is the setting, not a failure to converge
        budget_fixed = "max_iter" in params or "n_iter" in params
        runs = []
        for seed in seeds:
            pipeline = build_pipeline(name, width, seed, params, classifier, classifier_params)
            seed_tag = tag if n_seeds == 1 else f"{tag} seed {seed}"
            progress.log(f"{seed_tag}: fitting {type(pipeline[0]).__name__} + {classifier} ...")
            row, not_converged = _fit_and_score(
                pipeline,
                X_train,
                y_train,
                X_test,
                y_test,
                tag=seed_tag,
                progress=progress,
                budget_fixed=budget_fixed,
            )
            runs.append(row)
            note = " (ConvergenceWarning: an iteration limit was reached)" if not_converged else ""
            progress.log(
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
        The validation set that ranks them (see
        :func:`~skae.compare.validation_split`).
    space : dict
        ``{method: {"grid": [params, ...], "C": [C, ...]}}`` as in
        :data:`~skae.compare.SEARCH_SPACES`; a method missing from it is searched over
        C only, with its class defaults. ``params`` may set ``n_components``.
    methods : list of str, default=None
        Names from :data:`~skae.compare.METHODS`; None searches all of them.
    n_components : int, default=64
        Width of every extractor unless a candidate sets its own.
    classifier : str, default="logistic"
        A name from :data:`~skae.compare.CLASSIFIERS`; only classifiers with a ``C``
        search it.
    random_state : int, default=0
        Seeds every candidate.
    progress_interval : float, default=None
        As in :func:`run_comparison`.
    verbose : bool, default=True
        One line on stderr per candidate.

    Returns
    -------
    presets : dict
        The chosen settings in the shape of :data:`~skae.compare.PRESETS` ``[dataset]``.
    rows : list of dict
        One row per (method, candidate, C) with the keys of
        :data:`~skae.compare.SEARCH_COLUMNS`.
    """
    methods = _check_names(methods, classifier)
    progress = CompareProgress(progress_interval, verbose)
    presets = {"classifier": {}}
    rows = []
    for i, name in enumerate(methods, 1):
        entry = space.get(name, {})
        grid = entry.get("grid") or [{}]
        Cs = entry.get("C") or [None]
        best = None
        for j, params in enumerate(grid, 1):
            tag = f"[{i}/{len(methods)}] {name} search {j}/{len(grid)}"
            width = _width(name, params.get("n_components", n_components), X_fit, tag, progress)
            params = {k: v for k, v in params.items() if k != "n_components"}
            extractor = METHODS[name](width, random_state, params)
            # what the presets record: pixels are the only method without a width
            setting = params if name == "pixels" else {"n_components": width, **params}
            start = time.perf_counter()
            with warnings.catch_warnings():
                # a short search budget is the point: no wall of ConvergenceWarnings
                warnings.simplefilter("ignore", ConvergenceWarning)
                with progress.watching(extractor, tag):
                    extractor.fit(X_fit)
                F_fit, F_val = extractor.transform(X_fit), extractor.transform(X_val)
                fit_time = time.perf_counter() - start
                accuracies = accuracy_over_c(
                    F_fit, y_fit, F_val, y_val, Cs, partial(CLASSIFIERS[classifier], random_state)
                )
                for C, accuracy in zip(Cs, accuracies, strict=True):
                    row = {
                        "method": name,
                        "params": json.dumps(setting, sort_keys=True),
                        "C": C,
                        "val_accuracy": accuracy,
                        "fit_time_s": fit_time,
                    }
                    rows.append(row)
                    progress.log(f"{tag}: {row['params']} C={C}: validation {accuracy:.4f}")
                    if best is None or accuracy > best[0]:
                        best = (accuracy, setting, C)
        presets[name] = best[1]
        if best[2] is not None:
            presets["classifier"][name] = {"C": best[2]}
        progress.log(f"[{i}/{len(methods)}] {name}: chose {best[1]} C={best[2]} ({best[0]:.4f})")
    return presets, rows
