"""Deep autoencoders on MNIST: the experiments of docs/deep.md, under the honest protocol.

Every hyperparameter is chosen on a validation split carved from the training set (a
stratified 10000 of the 60000 images, seed 0); the chosen setting is then refitted on the
whole training set and the test set is scored once. Each experiment prints a Markdown
table and writes it to ``benchmarks/results/deep_<experiment>.md``.

    python benchmarks/deep_mnist.py few-labels --data-home DIR [--seeds 3]
    python benchmarks/deep_mnist.py sparsity   --data-home DIR [--n-train 10000]
    python benchmarks/deep_mnist.py depth      --data-home DIR [--n-train 10000]
    python benchmarks/deep_mnist.py headline   --data-home DIR [--stacks sigmoid,wta,tied_wta]

``--quick`` shrinks everything (data, layers, epochs) to check the script in a minute;
its numbers mean nothing.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from skae import (
    AutoencoderClassifier,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    TiedAutoencoder,
)
from skae._core import LEARNING_RATE_SCHEDULES
from skae.compare import (
    PRESETS,
    accuracy_over_c,
    load_data,
    markdown_table,
    validation_split,
)

RESULTS = Path(__file__).parent / "results"
N_VALIDATION = 10000


# -- plumbing ---------------------------------------------------------------------------
def report(name, title, headers, rows, notes="", write=True, budget=None):
    text = f"# {title}\n\n{markdown_table(headers, rows)}\n"
    if notes:
        text += f"\n{notes}\n"
    command = " ".join(["python", "benchmarks/deep_mnist.py", *sys.argv[1:]])
    budget = budget or f"{EPOCHS} epochs of pretraining and fine-tuning"
    text += f"\nCommand: `{command}` ({budget}).\n"
    print("\n" + text, flush=True)
    if write:  # a --quick run's numbers mean nothing: never over a real result
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"deep_{name}.md").write_text(text)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def timed(fit):
    start = time.perf_counter()
    result = fit()
    return result, time.perf_counter() - start


def splits(data_home, n_train=None, quick=False):
    """(X_fit, y_fit, X_val, y_val) to choose on; (X, y, X_test, y_test) to score on.

    The comparison's own data and validation split (``skae.compare``), seed 0.
    """
    if quick:
        n_train = n_train or 3000
    X, y, X_test, y_test = load_data("mnist", data_home=data_home, n_train=n_train)
    X_fit, y_fit, X_val, y_val = validation_split(X, y, min(N_VALIDATION, X.shape[0] // 6))
    if quick:
        X_test, y_test = X_test[:2000], y_test[:2000]
    return (X_fit, y_fit, X_val, y_val), (X, y, X_test, y_test)


def linear_probe(C=1.0):
    """The classifier every code is read with: standardised, multinomial logistic."""
    return make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=300))


def probe_accuracy(codes_fit, y_fit, codes_val, y_val, Cs=(0.1, 1.0)):
    """Best validation accuracy of the linear probe over its C (the first on a tie), and that C."""
    scores = accuracy_over_c(codes_fit, y_fit, codes_val, y_val, Cs, linear_probe)
    best = int(np.argmax(scores))
    return scores[best], Cs[best]


def layer_sizes(depth, quick):
    sizes = [1000, 500, 250][:depth]
    return [s // 10 for s in sizes] if quick else sizes


EPOCHS = 10  # of each layer's pretraining and of the fine-tuning; --epochs changes it


def make_stack(depth, *, sparse_layers=(), quick=False, random_state=0):
    """Denoising first layer, then plain (or KL-sparse) sigmoid layers, all with Adam."""
    steps = []
    for index, size in enumerate(layer_sizes(depth, quick)):
        common = dict(
            solver="adam",
            batch_size=100,
            learning_rate_init=0.001,
            max_iter=2 if quick else EPOCHS,
            alpha=1e-5,
            output_activation="sigmoid",  # what "auto" decides for pixels and sigmoid codes
            random_state=random_state + index,
        )
        sparsity = {"sparsity_weight": 0.5, "sparsity_target": 0.05}
        if index in sparse_layers:
            common.update(sparsity)
        if index == 0:
            layer = DenoisingAutoencoder(size, noise_level=0.25, loss="cross_entropy", **common)
        else:
            layer = SparseAutoencoder(size, **{"sparsity_weight": 0.0, **common})
        steps.append((f"ae{index + 1}", layer))
    return StackedAutoencoder(
        steps,
        fine_tune_max_iter=1 if quick else EPOCHS,
        fine_tune_batch_size=100,
        random_state=random_state,
    )


def mean_activations(stack, X):
    """rho^ of each layer's units: mean over units of the mean activation over rows."""
    values, codes = [], X
    for autoencoder in stack.autoencoders_:
        codes = autoencoder.transform(codes)
        values.append(float(codes.mean()))
    return values


def classifier(stack, quick, **params):
    defaults = dict(
        alpha=1e-4,  # what the depth and few-label runs used; the headline searches it
        learning_rate_init=0.001,
        batch_size=100,
        max_iter=2 if quick else 30,
        dropout=0.2,
        early_stopping=False,
        random_state=0,
    )
    return AutoencoderClassifier(stack, **{**defaults, **params})


# -- experiments ------------------------------------------------------------------------
def experiment_sparsity(args):
    """The blog derivation's open question: sparsity on every layer, the first only, or none."""
    (X_fit, y_fit, X_val, y_val), (X, y, X_test, y_test) = splits(
        args.data_home, args.n_train, args.quick
    )
    rows = []
    for depth in (2, 3):
        for label, sparse_layers in (
            ("none", ()),
            ("first layer", (0,)),
            ("every layer", tuple(range(depth))),
        ):
            stack = make_stack(depth, sparse_layers=sparse_layers, quick=args.quick)
            (stack, seconds) = timed(lambda stack=stack: stack.fit(X_fit))
            rho = mean_activations(stack, X_val)
            accuracy, _ = probe_accuracy(
                stack.transform(X_fit), y_fit, stack.transform(X_val), y_val
            )
            rows.append(
                [
                    depth,
                    label,
                    " / ".join(f"{r:.3f}" for r in rho),
                    f"{-stack.score(X_val):.2f}",
                    f"{accuracy:.4f}",
                    f"{seconds:.0f}",
                ]
            )
            log(f"sparsity depth={depth} {label}: {rows[-1]}")
    report(
        "sparsity",
        "Sparsity on every hidden layer, on the first only, or none (validation split)",
        [
            "layers",
            "KL sparsity on",
            "mean rho^ per layer",
            "reconstruction loss",
            "probe accuracy",
            "fit s",
        ],
        rows,
        "rho = 0.05, beta = 0.5 where on. Reconstruction loss: cross entropy per image through "
        "the fine-tuned stack. Probe: StandardScaler + LogisticRegression on the top code, C "
        "chosen on the validation split.",
        write=not args.quick,
    )


def experiment_depth(args):
    """1, 2, 3 layers; pretrained or random; fine-tuned or not; probe or classifier."""
    (X_fit, y_fit, X_val, y_val), _ = splits(args.data_home, args.n_train, args.quick)
    rows = []
    for depth in (1, 2, 3):
        greedy = make_stack(depth, quick=args.quick)
        greedy.set_params(fine_tune_max_iter=0)
        greedy, seconds = timed(lambda greedy=greedy: greedy.fit(X_fit))
        probe_greedy, _ = probe_accuracy(
            greedy.transform(X_fit), y_fit, greedy.transform(X_val), y_val
        )
        tuned = make_stack(depth, quick=args.quick).fit(X_fit)
        probe_tuned, _ = probe_accuracy(
            tuned.transform(X_fit), y_fit, tuned.transform(X_val), y_val
        )
        pretrained = classifier(greedy, args.quick, pretrain="prefit").fit(X_fit, y_fit)
        random = classifier(make_stack(depth, quick=args.quick), args.quick, pretrain=False)
        random.fit(X_fit, y_fit)
        rows.append(
            [
                depth,
                f"{probe_greedy:.4f}",
                f"{probe_tuned:.4f}",
                f"{pretrained.score(X_val, y_val):.4f}",
                f"{random.score(X_val, y_val):.4f}",
                f"{seconds:.0f}",
            ]
        )
        log(f"depth {depth}: {rows[-1]}")
    report(
        "depth",
        "Depth and pretraining (validation accuracy)",
        [
            "layers",
            "probe on greedy codes",
            "probe on codes fine-tuned on reconstruction",
            "classifier, pretrained + fine-tuned",
            "classifier, random start",
            "greedy fit s",
        ],
        rows,
        "Layers 1000-500-250 (first denoising, q = 0.25, cross entropy); classifiers with a "
        "softmax head, dropout 0.2 on the codes, weight decay 1e-4, Adam, 30 epochs.",
        write=not args.quick,
    )


def experiment_few_labels(args):
    """100 labels per class, the other training images unlabelled."""
    _, (X, y, X_test, y_test) = splits(args.data_home, None, args.quick)
    per_class = 10 if args.quick else 100
    rows = []
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        labelled = np.concatenate(
            [rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(10)]
        )
        y_partial = np.full_like(y, -1)  # -1: unlabelled, pretraining only
        y_partial[labelled] = y[labelled]
        # the pixel baseline's C is chosen by 5-fold CV on the labelled rows (a few-label
        # user has no other labels); the network's settings are fixed beforehand, untuned
        pixels = _cv_pixels(X[labelled], y[labelled])
        epochs = 2 if args.quick else 50
        pretrained = classifier(
            make_stack(2, quick=args.quick, random_state=seed),
            args.quick,
            max_iter=epochs,
            unlabeled=-1,  # semi-supervised use is asked for, never guessed
            random_state=seed,
        )
        pretrained, pretrain_seconds = timed(
            lambda model=pretrained, y_partial=y_partial: model.fit(X, y_partial)
        )
        random = classifier(
            make_stack(2, quick=args.quick, random_state=seed),
            args.quick,
            pretrain=False,
            max_iter=epochs,
            random_state=seed,
        ).fit(X[labelled], y[labelled])
        rows.append(
            [
                seed,
                f"{pixels.score(X_test, y_test):.4f}",
                f"{random.score(X_test, y_test):.4f}",
                f"{pretrained.score(X_test, y_test):.4f}",
                f"{pretrain_seconds:.0f}",
            ]
        )
        log(f"few labels seed {seed}: {rows[-1]}")
    accuracies = np.array([[float(c) for c in row[1:4]] for row in rows])
    means, stds = accuracies.mean(axis=0), accuracies.std(axis=0)
    rows.append(
        ["mean ± std"] + [f"{m:.4f} ± {s:.4f}" for m, s in zip(means, stds, strict=True)] + [""]
    )
    report(
        "few_labels",
        f"{per_class * 10} labelled MNIST images, the rest unlabelled (test accuracy)",
        [
            "seed",
            "logistic regression on pixels",
            "network, random start",
            "pretrained + fine-tuned",
            "pretrained fit s",
        ],
        rows,
        "The network: 784-1000-500-10 (denoising first layer, q = 0.25), softmax head, dropout "
        "0.2, weight decay 1e-4, Adam, 50 epochs on the labelled rows; pretrained greedily "
        "on all 60000 training images without their labels "
        "(`AutoencoderClassifier(..., unlabeled=-1).fit(X, y)` with y = -1 on the "
        "unlabelled rows). Its "
        "settings were fixed beforehand, not tuned. Logistic regression: C chosen by "
        "5-fold CV on the labelled rows.",
        write=not args.quick,
    )


def _cv_pixels(X, y):
    from sklearn.model_selection import GridSearchCV

    search = GridSearchCV(linear_probe(), {"logisticregression__C": [0.01, 0.1, 1.0]}, cv=5)
    return search.fit(X, y).best_estimator_


def headline_stack(kind, quick, random_state=0):
    """The unsupervised part of the headline classifier, pretrained without fine-tuning.

    ``"sigmoid"``: the 784-1000-500 denoising stack of Vincent et al. (2010).
    ``"wta"``: one 2000-unit relu layer with 5% winner-take-all lifetime sparsity,
    the single-layer recipe of ``skae.compare``'s MNIST comparison (Makhzani & Frey 2015).
    ``"tied_wta"``: that comparison's tied preset (the same layer, tied, 30 epochs).
    """
    if kind == "sigmoid":
        stack = make_stack(2, quick=quick, random_state=random_state)
        return stack.set_params(fine_tune_max_iter=0)
    if kind == "tied_wta":
        preset = dict(PRESETS["mnist"]["tied_ae"])
        if quick:
            preset.update(n_components=200, max_iter=2)
        return TiedAutoencoder(**preset, random_state=random_state)
    return SparseAutoencoder(
        200 if quick else 2000,
        sparsity="lifetime",
        sparsity_target=0.05,
        sparsity_weight=0.0,
        activation="relu",
        output_activation="identity",
        loss="squared_error",
        alpha=0.0,
        solver="adam",
        batch_size=100,
        learning_rate_init=0.001,
        max_iter=2 if quick else EPOCHS,
        tol=0.0,
        n_iter_no_change=1000,
        random_state=random_state,
    )


HEADLINE_NETWORKS = {
    "sigmoid": "784-1000-500-10: a denoising (q = 0.25, cross entropy) then a plain sigmoid layer",
    "wta": "784-2000-10: one relu layer with 5% winner-take-all lifetime sparsity (linear "
    "decoder, squared error)",
    "tied_wta": "784-2000-10: the same layer with tied weights, pretrained 30 epochs (the "
    "tied_ae preset of skae.compare's MNIST comparison)",
}


def experiment_headline(args):
    """The fine-tuned classifier on the full training set (goal: >= 98.9%).

    The search trains each candidate on a stratified ``--search-n-train`` rows of the
    fitting part and scores it on the validation split (one pretraining serves every
    fine-tuning of the search: ``pretrain="prefit"``); the chosen setting is refitted on
    all training images, pretraining included, and the test set is scored once.
    """
    (X_fit, y_fit, X_val, y_val), (X, y, X_test, y_test) = splits(
        args.data_home, args.n_train, args.quick
    )
    settings = [
        dict(alpha=alpha, dropout=dropout, input_dropout=input_dropout, learning_rate=schedule)
        for alpha in args.alphas
        for dropout, input_dropout in args.dropouts
        for schedule in args.schedules
    ]
    for params in settings:  # the default schedule stays out of the tables' settings
        if params["learning_rate"] == "constant":
            del params["learning_rate"]
    stacks = args.stacks.split(",")
    unknown = sorted(set(stacks) - set(HEADLINE_NETWORKS))
    if unknown:
        raise SystemExit(f"--stacks: unknown {unknown}; choose from {sorted(HEADLINE_NETWORKS)}")
    candidates = [(kind, params) for kind in stacks for params in settings]
    scores = []
    if args.fixed:  # no search: a setting fixed beforehand (Hinton et al.'s dropout rates)
        candidates = [(stacks[0], dict(alpha=1e-4, dropout=0.5, input_dropout=0.2))]
    elif args.refit_only:  # no search: the setting an earlier search chose, another seed
        if len(candidates) != 1:
            raise SystemExit("--refit-only needs one network and one setting")
    else:
        n_search = min(args.search_n_train, X_fit.shape[0])
        X_search, _, y_search, _ = (
            train_test_split(X_fit, y_fit, train_size=n_search, stratify=y_fit, random_state=0)
            if n_search < X_fit.shape[0]
            else (X_fit, None, y_fit, None)
        )
        # one pretraining serves every fine-tuning of its stack
        pretrained = {kind: headline_stack(kind, args.quick).fit(X_search) for kind in stacks}
        epochs = 2 if args.quick else args.fine_tune_epochs

        def fine_tune(kind, params):
            # one BLAS thread per candidate when --n-jobs runs several side by side
            with threadpool_limits(1 if args.n_jobs != 1 else None):
                model = classifier(
                    pretrained[kind], args.quick, pretrain="prefit", max_iter=epochs, **params
                )
                model, seconds = timed(lambda: model.fit(X_search, y_search))
                score = model.score(X_val, y_val)
            log(f"headline {kind} {params}: validation {score:.4f} in {seconds:.0f} s")
            return score

        scores = Parallel(n_jobs=args.n_jobs)(
            delayed(fine_tune)(kind, params) for kind, params in candidates
        )
    chosen_kind, chosen = candidates[int(np.argmax(scores))] if scores else candidates[0]
    rows = [
        [f"{kind}, {p} (validation)", f"{s:.4f}"]
        for (kind, p), s in zip(candidates, scores, strict=False)
    ]
    # --beat: an earlier search's choice stays the choice, and the test set is not read
    refit_wanted = not (scores and args.beat is not None and max(scores) <= args.beat)
    if refit_wanted:
        final = dict(chosen)
        if args.early_stopping:  # the number of epochs chosen on a validation split too
            final.update(early_stopping=True, n_iter_no_change=10, max_iter=args.max_epochs)
        final.setdefault("max_iter", 2 if args.quick else args.fine_tune_epochs)
        final.setdefault("random_state", args.seed)
        model = classifier(
            headline_stack(chosen_kind, args.quick, random_state=args.seed),
            args.quick,
            verbose=1,
            **final,
        )
        model, seconds = timed(lambda: model.fit(X, y))
        test = model.score(X_test, y_test)
        refit = "refit on all training images"
        if args.early_stopping:
            refit = (
                f"refit with early stopping (10% held out; {model.n_iter_} epochs run, the "
                f"best, epoch {int(np.argmax(model.validation_scores_)) + 1}, kept; "
                f"validation {model.best_validation_score_:.4f})"
            )
        rows.append([f"chosen {chosen_kind}, {chosen}, {refit} (test)", f"{test:.4f}"])
    else:
        rows.append(
            [f"no refit: the best does not beat the earlier search's {args.beat}", "(none)"]
        )
    networks = "; ".join(f"{kind}: {HEADLINE_NETWORKS[kind]}" for kind in stacks)
    notes = (
        f"Networks ({networks}): pretrained greedily without labels, then a softmax head "
        f"and the whole network fine-tuned on the labels (Adam, batch 100, "
        f"{args.fine_tune_epochs} epochs; with early stopping, at most {args.max_epochs}"
        + (
            "; learning_rate='cosine': the step size annealed to zero over the epochs"
            if "cosine" in args.schedules
            else ""
        )
        + ")."
        + (
            f" Whole fit of the chosen model, pretraining included: {seconds:.0f} s."
            if refit_wanted
            else " No refit."
        )
    )
    if args.fixed:
        notes += " No search: the setting was fixed beforehand, so no validation score."
    elif args.refit_only:
        notes += (
            " No search: the setting an earlier search chose, refitted with seed "
            f"{args.seed} (pretraining and fine-tuning)."
        )
    else:
        notes += (
            f" Search: each candidate fine-tuned on {n_search} training images, scored on "
            f"the {X_val.shape[0]} validation images."
        )
    name = "headline_fixed" if args.fixed else "headline_es" if args.early_stopping else "headline"
    if args.refit_only:
        name += f"_seed{args.seed}"
    if args.stacks != "sigmoid":
        name += "_" + "_".join(stacks)
    if args.name_suffix:
        name += "_" + args.name_suffix
    report(
        name,
        "Fine-tuned AutoencoderClassifier on MNIST",
        ["setting", "accuracy"],
        rows,
        notes,
        write=not args.quick,
        budget=f"pretraining: {EPOCHS} epochs a layer for sigmoid and wta, "
        f"{PRESETS['mnist']['tied_ae']['max_iter']} for tied_wta",
    )


EXPERIMENTS = {
    "sparsity": experiment_sparsity,
    "depth": experiment_depth,
    "few-labels": experiment_few_labels,
    "headline": experiment_headline,
}


def _floats(text):
    return tuple(float(value) for value in text.split(","))


def _schedules(text):
    schedules = tuple(text.split(","))
    unknown = sorted(set(schedules) - set(LEARNING_RATE_SCHEDULES))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown {unknown}; choose from {LEARNING_RATE_SCHEDULES}"
        )
    return schedules


def _dropout_pairs(text):
    return tuple(tuple(float(v) for v in pair.split("/")) for pair in text.split(","))


def main(argv=None):
    global EPOCHS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=sorted(EXPERIMENTS))
    parser.add_argument("--data-home", required=True, help="folder of the MNIST IDX files")
    parser.add_argument("--n-train", type=int, default=None, help="subsample the training set")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny run to check the script")
    parser.add_argument(
        "--epochs", type=int, default=EPOCHS, help="pretraining and fine-tuning epochs"
    )
    parser.add_argument(
        "--fixed", action="store_true", help="headline: no search, the settings fixed beforehand"
    )
    parser.add_argument(
        "--search-n-train", type=int, default=10000, help="headline: rows each candidate sees"
    )
    parser.add_argument(
        "--early-stopping",
        action="store_true",
        help="headline: refit with early stopping on 10%% of the training images",
    )
    parser.add_argument(
        "--stacks",
        default="sigmoid",
        help="headline: comma-separated pretrained networks to search over (sigmoid, wta, "
        "tied_wta)",
    )
    parser.add_argument(
        "--max-epochs", type=int, default=60, help="headline: epochs with --early-stopping"
    )
    parser.add_argument(
        "--fine-tune-epochs", type=int, default=30, help="headline: fine-tuning epochs"
    )
    parser.add_argument(
        "--alphas", type=_floats, default=(1e-4, 1e-6), help="headline: weight decays searched"
    )
    parser.add_argument(
        "--dropouts",
        type=_dropout_pairs,
        default=((0.2, 0.0), (0.5, 0.2)),
        help="headline: dropout/input_dropout pairs searched, e.g. 0.2/0,0.5/0.2",
    )
    parser.add_argument(
        "--schedules",
        type=_schedules,
        default=("constant",),
        help="headline: fine-tuning learning_rate schedules searched (constant, cosine)",
    )
    parser.add_argument(
        "--n-jobs", type=int, default=1, help="headline: candidates fine-tuned side by side"
    )
    parser.add_argument(
        "--beat",
        type=float,
        default=None,
        help="headline: refit (and score the test set) only if the best validation accuracy "
        "beats this one, an earlier search's best",
    )
    parser.add_argument(
        "--refit-only",
        action="store_true",
        help="headline: no search; refit the one setting given by the search options",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="headline: seeds the refit (the search uses 0)"
    )
    parser.add_argument("--name-suffix", default="", help="headline: appended to the report name")
    args = parser.parse_args(argv)
    if args.early_stopping and "cosine" in args.schedules:
        # the refit's horizon (--max-epochs) would not be the one the search annealed over
        parser.error("--early-stopping and --schedules cosine do not go together")
    EPOCHS = args.epochs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        EXPERIMENTS[args.experiment](args)


if __name__ == "__main__":
    main()
