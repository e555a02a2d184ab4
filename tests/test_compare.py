"""Tests of the feature-learning comparison, ``python -m skae.compare``."""

import contextlib
import csv
import io
import json
import os
import sys
import types
import warnings

import numpy as np
import pytest
import threadpoolctl
from sklearn.exceptions import ConvergenceWarning

from skae import compare
from skae.compare import METHODS, main
from skae.compare.progress import CompareProgress

# small and short: the tests check the plumbing, not how good the features get
QUICK = ["--n-train", "300", "--max-iter", "5", "--n-components", "16", "--no-plot"]


def run_main(argv):
    """Run ``main(argv)``; return its status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def read_csv(path):
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """One quick run of all methods on digits, shared by the tests that read it."""
    output_dir = tmp_path_factory.mktemp("compare")
    status, out, err = run_main([*QUICK, "--output-dir", str(output_dir)])
    return types.SimpleNamespace(status=status, out=out, err=err, dir=output_dir)


def test_main_writes_markdown_and_csv_with_one_row_per_method(full_run):
    assert full_run.status == 0
    rows = read_csv(full_run.dir / "compare_digits.csv")
    assert [row["method"] for row in rows] == list(METHODS)
    assert list(rows[0]) == list(compare.COLUMNS)
    markdown = (full_run.dir / "compare_digits.md").read_text(encoding="utf-8").splitlines()
    table = [line for line in markdown if line.startswith("|")]
    body = table[2:]  # after the header and the separator
    assert [line.split("|")[1].strip() for line in body] == list(METHODS)
    assert not list(full_run.dir.glob("*.png"))  # --no-plot


def test_accuracies_times_and_feature_counts(full_run):
    rows = {row["method"]: row for row in read_csv(full_run.dir / "compare_digits.csv")}
    for row in rows.values():
        assert 0 <= float(row["accuracy"]) <= 1
        assert float(row["fit_time_s"]) > 0
        assert float(row["transform_time_s"]) >= 0
    # raw pixels of digits are an easy baseline even on 300 training samples
    assert float(rows["pixels"]["accuracy"]) > 0.8
    assert int(rows["pixels"]["n_features"]) == 64
    assert {int(rows[m]["n_features"]) for m in METHODS if m != "pixels"} == {16}


def test_prints_the_table_and_progress(full_run):
    table_rows = [line for line in full_run.out.splitlines() if line.startswith("| ")]
    printed = [line.split("|")[1].strip() for line in table_rows[1:]]
    assert printed == list(METHODS)
    # progress goes to stderr: a start and an end line per method, not mixed into stdout
    for i, name in enumerate(METHODS, 1):
        assert full_run.err.count(f"[{i}/{len(METHODS)}] {name}:") == 2
    assert "[1/" not in full_run.out


def test_the_report_says_what_is_measured_and_what_to_try_next(full_run):
    out = " ".join(full_run.out.split())  # the paragraphs are wrapped
    # which classifier, on which split, how many seeds
    assert "test accuracy of --classifier logistic (StandardScaler + LogisticRegression" in out
    assert "fit on 300 training images" in out and "scored once on its 450 test images" in out
    assert "one seed (random_state=0)" in out
    assert "what to try next:" in full_run.out
    assert "--seeds 3" in out and "--dataset mnist" in out
    markdown = (full_run.dir / "compare_digits.md").read_text(encoding="utf-8")
    assert " ".join(markdown.split()).startswith("Measured: the test accuracy")


def test_next_steps_name_an_autoencoder_below_pixels_and_skip_seeds_when_given():
    setting = compare.describe_setting("mnist", "knn", 1000, 10000, searched=True)
    rows = [
        {"method": "pixels", "accuracy": 0.95, "accuracy_std": 0.0, "n_seeds": 3},
        {"method": "tied_ae", "accuracy": 0.93, "accuracy_std": 0.01, "n_seeds": 3},
    ]
    for row in rows:
        row.update(fit_time_s=1.0, transform_time_s=0.1, n_features=64)
    text = " ".join(compare.format_markdown(rows, setting).split())
    assert "KNeighborsClassifier" in text and "MNIST's official train/test split" in text
    assert "over 3 seeds (0 to 2)" in text and "chosen by this run's --search" in text
    assert "Best: pixels, +0.00 points" in text
    assert "tied_ae scored below raw pixels" in text
    next_steps = text.split("what to try next:")[1]
    assert "--seeds" not in next_steps and "--classifier knn" not in next_steps
    # without a setting: the table alone, as before
    assert compare.format_markdown(rows).startswith("| method | test accuracy |")


def test_the_chart_has_titles_and_says_where_its_axis_starts(tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    setting = compare.describe_setting("digits", "logistic", 1347, 450)
    rows = [
        {"method": "pixels", "accuracy": 0.9689, "accuracy_std": 0.0, "n_seeds": 1},
        {"method": "pca", "accuracy": 0.8533, "accuracy_std": 0.0, "n_seeds": 1},
    ]
    for row in rows:
        row.update(fit_time_s=1.0, transform_time_s=0.1, n_features=64)
    drawn = {}

    class Recording(Figure):
        def savefig(self, path, **kwargs):
            drawn["figure"] = self

    compare.reports._plot(rows, tmp_path / "chart.png", Recording, setting)
    figure = drawn["figure"]
    assert "8x8 digits" in figure.get_suptitle() and "450 test images" in figure.get_suptitle()
    accuracy_axes = figure.axes[0]
    low, high = accuracy_axes.get_xlim()
    assert 0.8 <= low <= 0.8533 - 0.01 and high == 1.0  # fits the data, not fixed at 0.90
    assert f"starts at {low:.2f}, not 0" in accuracy_axes.get_xlabel()
    assert "one seed" in accuracy_axes.get_title()


def test_methods_subset_runs_only_those_in_order(tmp_path):
    argv = [*QUICK, "--methods", "tied_ae,pixels", "--output-dir", str(tmp_path)]
    status, out, _ = run_main(argv)
    assert status == 0
    rows = read_csv(tmp_path / "compare_digits.csv")
    assert [row["method"] for row in rows] == ["tied_ae", "pixels"]
    assert "pca" not in out


@pytest.mark.parametrize("classifier", compare.CLASSIFIERS)
def test_every_classifier_runs(classifier, tmp_path):
    argv = [*QUICK, "--methods", "pixels", "--classifier", classifier]
    status, _, err = run_main([*argv, "--output-dir", str(tmp_path)])
    assert status == 0 and f"classifier {classifier};" in err
    (row,) = read_csv(tmp_path / "compare_digits.csv")
    assert float(row["accuracy"]) > 0.8


@pytest.mark.parametrize(
    "argv",
    [
        ["--classifier", "perceptron"],
        ["--methods", "pixels,bogus"],
        ["--methods", ","],
        ["--n-components", "0"],
        ["--n-train", "ten"],
        ["--noise-level", "1.5"],
        ["--sparsity-target", "1"],
        ["--learning-rate-init", "0"],
        ["--solver", "newton"],
        ["--dataset", "cifar"],
        ["--blas-threads", "-1"],
    ],
)
def test_bad_flag_value_is_a_clean_argparse_error(argv, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--output-dir", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing ran


def test_pca_is_capped_at_the_number_of_pixels(tmp_path, capsys):
    # digits has 64 pixels: PCA gives all 64, the other extractors the 100 asked for
    main(
        [
            *QUICK,
            "--methods",
            "pca,tied_ae",
            "--n-components",
            "100",
            "--output-dir",
            str(tmp_path),
        ]
    )
    out, err = capsys.readouterr()
    assert "PCA capped at 64" in err
    assert "| pca | " in out and "| 64 |" in out and "| 100 |" in out


def test_an_option_the_estimator_rejects_is_a_clean_error(tmp_path, capsys):
    # relu cannot feed SparseAutoencoder's KL penalty; only fit finds out
    argv = [*QUICK, "--methods", "sparse_ae", "--activation", "relu"]
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--output-dir", str(tmp_path)])
    assert exc.value.code == 2
    assert "error: The KL sparsity penalty" in capsys.readouterr().err


def test_only_given_estimator_options_are_passed_on(monkeypatch, tmp_path):
    seen = {}

    def fake_run_comparison(*data, **kwargs):
        seen.update(kwargs, blas=threadpoolctl.threadpool_info())
        return []

    monkeypatch.setattr(compare.cli, "run_comparison", fake_run_comparison)
    argv = ["--alpha", "0.01", "--solver", "adam", "--max-iter", "3", "--no-plot"]
    run_main([*argv, "--output-dir", str(tmp_path)])
    assert seen["estimator_params"] == {"alpha": 0.01, "solver": "adam", "max_iter": 3}
    assert seen["n_components"] == 256  # the digits default
    # digits runs on one BLAS thread by default
    assert {pool["num_threads"] for pool in seen["blas"] if pool["user_api"] == "blas"} == {1}


def test_method_factories_apply_options_and_keep_class_defaults():
    params = {"alpha": 0.5, "max_iter": 7}
    sparse = METHODS["sparse_ae"](8, 3, params)
    assert sparse.get_params() | params == sparse.get_params()  # both options applied
    assert (sparse.n_components, sparse.random_state) == (8, 3)
    # not given: the settings the presets were searched at, not the class's "auto",
    # so that a change of default never moves a published figure
    assert sparse.sparsity_weight == 3.0 and sparse.output_activation == "sigmoid"
    denoising = METHODS["denoising_ae"](8, 3, {})
    assert (denoising.max_iter, denoising.output_activation) == (200, "sigmoid")
    assert METHODS["denoising_ae"](8, 3, params).noise_level == 0.25
    assert METHODS["tied_ae"](8, 3, params).tied
    assert METHODS["rbm"](8, 3, params).n_iter == 7


def test_mnist_loads_lazily_with_data_home(monkeypatch, tmp_path):
    # a stand-in for skae.datasets: the branch must call load_mnist as documented
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype(np.float32)
    calls = []

    def load_mnist(**kwargs):
        calls.append(kwargs)
        return X[:1000], y[:1000], X[1000:], y[1000:]

    monkeypatch.setitem(sys.modules, "skae.datasets", types.SimpleNamespace(load_mnist=load_mnist))
    argv = ["--dataset", "mnist", "--data-home", str(tmp_path / "data"), "--n-train", "200"]
    argv += ["--methods", "pixels,rbm", "--max-iter", "1", "--classifier", "knn", "--no-plot"]
    status, _, err = run_main([*argv, "--output-dir", str(tmp_path)])
    assert status == 0
    assert calls == [{"data_home": str(tmp_path / "data"), "return_X_y": True}]
    assert "200 training and 797 test samples" in err
    rows = read_csv(tmp_path / "compare_mnist.csv")
    assert int(rows[1]["n_features"]) == 2000  # the mnist default of --n-components


def test_without_matplotlib_says_so_and_continues(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if absent
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    status, _, err = run_main(["--methods", "pixels", "--output-dir", str(tmp_path)])
    assert status == 0
    assert err.count("matplotlib is not installed") == 1
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["compare_digits.csv", "compare_digits.md"]


def test_plot_is_drawn_with_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    status, _, _ = run_main(["--methods", "pixels,pca", "--output-dir", str(tmp_path)])
    assert status == 0
    assert (tmp_path / "compare_digits.png").read_bytes().startswith(b"\x89PNG")


# -- seeds, the search protocol, progress ---------------------------------------------------
def test_seeds_give_mean_and_std_and_vary_extractor_and_classifier(monkeypatch, tmp_path):
    seen = []

    def fake_fit_and_score(pipeline, *data, **kwargs):
        extractor_seed = pipeline[0].random_state
        classifier_seed = pipeline[-1][-1].random_state  # the LinearSVC in its pipeline
        seen.append((extractor_seed, classifier_seed))
        # accuracies 0.5 and 0.7: mean 0.6, sample std 0.1414
        row = {
            "accuracy": 0.5 + 0.2 * (extractor_seed - 3),
            "fit_time_s": 1.0,
            "transform_time_s": 0.0,
            "n_features": 16,
        }
        return row, False

    monkeypatch.setattr(compare.protocol, "_fit_and_score", fake_fit_and_score)
    argv = [*QUICK, "--methods", "tied_ae", "--classifier", "linear_svc", "--seeds", "2"]
    status, out, _ = run_main([*argv, "--random-state", "3", "--output-dir", str(tmp_path)])
    assert status == 0
    assert seen == [(3, 3), (4, 4)]
    (row,) = read_csv(tmp_path / "compare_digits.csv")
    assert float(row["accuracy"]) == pytest.approx(0.6)
    assert float(row["accuracy_std"]) == pytest.approx(np.sqrt(0.02))
    assert row["n_seeds"] == "2"
    assert "| tied_ae | 0.6000 ± 0.1414 | 2 |" in out


def test_seeds_keep_the_data_split(monkeypatch, tmp_path):
    seen = []

    def fake_fit_and_score(pipeline, X_train, y_train, X_test, y_test, *args, **kwargs):
        seen.append((X_train.sum(), X_test.sum()))
        row = {"accuracy": 1.0, "fit_time_s": 1.0, "transform_time_s": 0.0, "n_features": 64}
        return row, False

    monkeypatch.setattr(compare.protocol, "_fit_and_score", fake_fit_and_score)
    argv = [*QUICK, "--methods", "pixels", "--seeds", "3", "--output-dir", str(tmp_path)]
    run_main(argv)
    assert len(seen) == 3 and len(set(seen)) == 1


def digits_split():
    X_train, y_train, X_test, y_test = compare.load_data("digits", n_train=600)
    return compare.validation_split(X_train, y_train, 100) + (X_test, y_test)


def test_search_ranks_candidates_and_c_on_the_validation_set():
    X_fit, y_fit, X_val, y_val, _, _ = digits_split()
    # one component and a vanishing C are hopeless: the search must see it
    space = {"pca": {"grid": [{"n_components": 1}, {"n_components": 20}], "C": [1e-5, 1.0]}}
    presets, rows = compare.search(X_fit, y_fit, X_val, y_val, space, methods=["pca"])
    assert len(rows) == 4
    assert presets["pca"] == {"n_components": 20}
    assert presets["classifier"]["pca"] == {"C": 1.0}
    best = max(rows, key=lambda r: r["val_accuracy"])
    assert (json.loads(best["params"]), best["C"]) == ({"n_components": 20}, 1.0)
    # the scores are those of the validation set: refit and check one
    clf = compare.CLASSIFIERS["logistic"](0).set_params(logisticregression__C=1.0)
    pca = compare.METHODS["pca"](20, 0, {}).fit(X_fit)
    expected = clf.fit(pca.transform(X_fit), y_fit).score(pca.transform(X_val), y_val)
    assert best["val_accuracy"] == pytest.approx(expected)


def test_validation_split_is_stratified_and_from_the_training_set():
    X_train, y_train, _, _ = compare.load_data("digits")
    X_fit, y_fit, X_val, y_val = compare.validation_split(X_train, y_train, 300)
    assert X_val.shape[0] == 300 and X_fit.shape[0] == X_train.shape[0] - 300
    # every class keeps its share of the training set, to within one sample
    train_share = np.bincount(y_train) / y_train.size
    assert np.all(np.abs(np.bincount(y_val) - 300 * train_share) <= 1)


SMALL_SPACE = {
    "pixels": {"C": [1e-5, 1.0]},
    "tied_ae": {"grid": [{"alpha": 0.0, "max_iter": 50}, {"alpha": 1e-3}], "C": [0.1, 1.0]},
}


@pytest.fixture
def small_space(monkeypatch):
    monkeypatch.setitem(compare.SEARCH_SPACES, "digits", SMALL_SPACE)


def test_search_then_score_uses_the_chosen_settings(small_space, tmp_path):
    argv = [*QUICK, "--methods", "pixels,tied_ae", "--search", "--output-dir", str(tmp_path)]
    status, out, err = run_main(argv)
    assert status == 0
    chosen = json.loads((tmp_path / "search_digits_chosen.json").read_text(encoding="utf-8"))
    assert chosen["classifier"]["pixels"] == {"C": 1.0}
    assert chosen["tied_ae"]["alpha"] in (0.0, 1e-3)
    # a sixth of the 300 training samples ranks the candidates
    assert "candidates fit on 250 and ranked on 50 samples" in err
    search_rows = read_csv(tmp_path / "search_digits.csv")
    assert len(search_rows) == 2 + 2 * 2
    assert [r["method"] for r in read_csv(tmp_path / "compare_digits.csv")] == [
        "pixels",
        "tied_ae",
    ]
    # --max-iter is an estimator option: it overrides the grid's max_iter everywhere
    assert {json.loads(r["params"]).get("max_iter") for r in search_rows[2:]} == {5}


def test_search_never_sees_the_test_set(small_space, monkeypatch, tmp_path):
    real = compare.load_data

    def load_data_with_scrambled_test(*args, **kwargs):
        X_train, y_train, X_test, y_test = real(*args, **kwargs)
        return X_train, y_train, np.zeros_like(X_test), np.roll(y_test, 1)

    argv = [*QUICK, "--methods", "pixels,tied_ae", "--search-only"]
    run_main([*argv, "--output-dir", str(tmp_path / "a")])
    monkeypatch.setattr(compare.cli, "load_data", load_data_with_scrambled_test)
    run_main([*argv, "--output-dir", str(tmp_path / "b")])
    first, second = (
        (tmp_path / d / "search_digits.csv").read_text(encoding="utf-8") for d in "ab"
    )
    # same choices and same validation scores, bit for bit, but fit times
    strip = [
        [r["params"], r["C"], r["val_accuracy"]]
        for r in read_csv(tmp_path / "a" / "search_digits.csv")
    ]
    assert strip == [
        [r["params"], r["C"], r["val_accuracy"]]
        for r in read_csv(tmp_path / "b" / "search_digits.csv")
    ]
    assert first.count("\n") == second.count("\n")
    # --search-only scores nothing
    assert not list((tmp_path / "a").glob("compare_*"))


def test_progress_shows_epochs_loss_and_time_left(tmp_path):
    argv = [*QUICK, "--methods", "tied_ae,rbm", "--solver", "adam", "--max-iter", "3"]
    status, out, err = run_main([*argv, "--progress-interval", "0", "--output-dir", str(tmp_path)])
    assert status == 0
    for epoch in (1, 2, 3):
        assert f"[1/2] tied_ae: epoch {epoch}/3, loss " in err
        assert f"[2/2] rbm: iteration {epoch}/3, pseudo-likelihood " in err
    assert "left ~" in err
    assert "epoch" not in out  # stdout keeps only the table


def test_progress_relay_does_not_change_the_model():
    X_train, y_train, _, _ = compare.load_data("digits", n_train=200)
    features = []
    for interval in (None, 0.0):
        extractor = compare.METHODS["denoising_ae"](8, 0, {"max_iter": 3})
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            with CompareProgress(interval).watching(extractor, "t"):
                extractor.fit(X_train)
        assert ("epoch 3/3" in err.getvalue()) == (interval is not None)
        assert extractor.verbose == 0 and extractor.callbacks is None  # restored
        features.append(extractor.transform(X_train))
    np.testing.assert_array_equal(*features)


def test_a_fixed_budget_hides_only_the_extractors_convergence_warning():
    def caught(category, message="any text: the category and the fit decide"):
        return [warnings.WarningMessage(category(message), category, "f", 1)]

    report = compare.protocol._report_warnings
    extractor_stopped = caught(ConvergenceWarning)
    assert report(extractor_stopped, [], budget_fixed=False)
    assert not report(extractor_stopped, [], budget_fixed=True)
    # the classifier's own always counts, whatever the extractor's budget
    assert report(extractor_stopped, caught(ConvergenceWarning), budget_fixed=True)
    # any other warning is shown as it is, and is no convergence note
    with warnings.catch_warnings(record=True) as shown:
        assert not report(caught(UserWarning, "shown"), [], budget_fixed=True)
        assert not report(extractor_stopped, [], budget_fixed=True)
    assert [(w.category, str(w.message)) for w in shown] == [(UserWarning, "shown")]


def test_the_extractors_warnings_are_told_from_the_classifiers_by_the_fit(monkeypatch):
    X_train, y_train, X_test, y_test = compare.load_data("digits", n_train=300)
    # a one-iteration classifier warns; an extractor with a fixed budget warns too
    pipeline = compare.methods.build_pipeline("tied_ae", 8, 0, {"max_iter": 2}, "logistic", {})
    pipeline[-1][-1].set_params(max_iter=1)
    seen = {}

    def spy(extractor_warnings, classifier_warnings, budget_fixed):
        seen["extractor"] = {w.category for w in extractor_warnings}
        seen["classifier"] = {w.category for w in classifier_warnings}
        return False

    monkeypatch.setattr(compare.protocol, "_report_warnings", spy)
    progress = CompareProgress()
    compare.protocol._fit_and_score(
        pipeline, X_train, y_train, X_test, y_test, tag="t", progress=progress, budget_fixed=True
    )
    assert seen == {"extractor": {ConvergenceWarning}, "classifier": {ConvergenceWarning}}


@pytest.mark.skipif(
    not os.environ.get("SKAE_SLOW_TESTS"),
    reason="about 5 minutes; set SKAE_SLOW_TESTS=1 (results: benchmarks/results/)",
)
@pytest.mark.parametrize("name", ["SparseAutoencoder", "DenoisingAutoencoder", "TiedAutoencoder"])
def test_class_defaults_beat_the_rbm_in_sklearns_rbm_example(name):
    # scikit-learn's plot_rbm_logistic_classification with the skae class swapped in
    import importlib.util
    from pathlib import Path

    import skae

    path = Path(__file__).parents[1] / "benchmarks" / "rbm_example_defaults.py"
    spec = importlib.util.spec_from_file_location("rbm_example_defaults", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    data = example.nudged_digits()
    rbm_accuracy, _ = example.score(example.example_rbm(), data)
    accuracy, _ = example.score(getattr(skae, name)(random_state=0), data)
    assert accuracy > rbm_accuracy


def test_the_default_run_puts_every_autoencoder_ahead_of_pixels_without_warnings(tmp_path):
    # the newcomer's first look: python -m skae.compare with no arguments (~10 s)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, _, err = run_main(["--no-plot", "--output-dir", str(tmp_path)])
    assert status == 0
    assert not caught
    assert "Warning" not in err
    rows = {row["method"]: row for row in read_csv(tmp_path / "compare_digits.csv")}
    pixels = float(rows["pixels"]["accuracy"])
    for name in ("sparse_ae", "denoising_ae", "tied_ae"):
        assert float(rows[name]["accuracy"]) > pixels, name
        assert int(rows[name]["n_features"]) == 256  # overcomplete: 256 codes of 64 pixels


def test_presets_file_from_a_search_is_scored_as_chosen(small_space, tmp_path):
    argv = [*QUICK, "--methods", "pixels,tied_ae"]
    run_main([*argv, "--search-only", "--output-dir", str(tmp_path / "search")])
    chosen = tmp_path / "search" / "search_digits_chosen.json"
    seen = []
    real = compare.run_comparison

    def spy(*args, **kwargs):
        seen.append(kwargs["presets"])
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compare.cli, "run_comparison", spy)
        run_main([*argv, "--presets", str(chosen), "--output-dir", str(tmp_path / "score")])
    expected = json.loads(chosen.read_text(encoding="utf-8"))
    (presets,) = seen
    # --n-components 16 (in QUICK) sets every width, the file's included
    assert presets["tied_ae"] == {
        k: v for k, v in expected["tied_ae"].items() if k != "n_components"
    }
    assert presets["classifier"]["pixels"] == expected["classifier"]["pixels"]
    # a method the file lacks keeps the built-in preset
    assert presets["sparse_ae"]["max_iter"] == compare.PRESETS["digits"]["sparse_ae"]["max_iter"]


def test_search_space_file_replaces_the_built_in_space(tmp_path):
    space = {"pca": {"grid": [{"n_components": 3}, {"n_components": 5}], "C": [1.0]}}
    path = tmp_path / "space.json"
    path.write_text(json.dumps(space), encoding="utf-8")
    argv = [*QUICK, "--methods", "pca", "--search-only", "--search-space", str(path)]
    status, _, _ = run_main([*argv, "--output-dir", str(tmp_path)])
    assert status == 0
    rows = read_csv(tmp_path / "search_digits.csv")
    assert sorted(json.loads(r["params"])["n_components"] for r in rows) == [3, 5]


@pytest.mark.parametrize("dataset", ["digits", "mnist"])
def test_presets_are_the_recorded_output_of_the_search(dataset):
    from pathlib import Path

    results = Path(__file__).parents[1] / "benchmarks" / "results"
    path = {
        "digits": results / "search_digits" / "search_digits_chosen.json",
        "mnist": results / "search_mnist" / "chosen.json",
    }[dataset]
    chosen = json.loads(path.read_text(encoding="utf-8"))
    presets = compare.PRESETS[dataset]
    for name, params in chosen.items():
        if name == "classifier":
            assert {k: presets["classifier"][k] for k in params} == params
        elif params:  # pixels have no settings of their own
            assert presets[name] == params, name


def test_markdown_table_aligns_pads_and_refuses_ragged_rows():
    rows = [["pca", 0.95], ["tied_ae", "0.9822"]]
    plain = compare.markdown_table(["method", "accuracy"], rows, align="lr").splitlines()
    assert plain == [
        "| method | accuracy |",
        "|---|---:|",
        "| pca | 0.95 |",
        "| tied_ae | 0.9822 |",
    ]
    padded = compare.markdown_table(["method", "accuracy"], rows, pad=True).splitlines()
    # every line as wide as the others, the rule's dashes under each cell and its spaces
    assert len({len(line) for line in padded}) == 1
    assert padded[1] == "|---------|----------|"
    assert padded[2] == "| pca     | 0.95     |"
    with pytest.raises(ValueError, match="2 cells"):
        compare.markdown_table(["method", "accuracy"], [["pca"]])
    with pytest.raises(ValueError, match="align"):
        compare.markdown_table(["method", "accuracy"], rows, align="lc")


def test_accuracy_over_c_scores_a_fresh_classifier_per_c():
    X_fit, y_fit, X_val, y_val, _, _ = digits_split()
    built = []

    def make_classifier():
        built.append(compare.CLASSIFIERS["logistic"](0))
        return built[-1]

    accuracies = compare.accuracy_over_c(X_fit, y_fit, X_val, y_val, [1e-5, 1.0], make_classifier)
    assert len(built) == 2 and built[0] is not built[1]
    assert [clf[-1].C for clf in built] == [1e-5, 1.0]
    # a vanishing C reads nothing; C = 1 reads the digits' pixels well
    assert accuracies[0] < 0.5 < 0.9 < accuracies[1]
    assert accuracies[1] == built[1].score(X_val, y_val)
