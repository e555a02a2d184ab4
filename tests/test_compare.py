"""Tests of the feature-learning comparison, ``python -m skae.compare``."""

import contextlib
import csv
import io
import sys
import types

import numpy as np
import pytest
import threadpoolctl

from skae import compare
from skae.compare import METHODS, main

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
    body = markdown[2:]  # after the header and the separator
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

    monkeypatch.setattr(compare, "run_comparison", fake_run_comparison)
    argv = ["--alpha", "0.01", "--solver", "adam", "--max-iter", "3", "--no-plot"]
    run_main([*argv, "--output-dir", str(tmp_path)])
    assert seen["estimator_params"] == {"alpha": 0.01, "solver": "adam", "max_iter": 3}
    assert seen["n_components"] == 64  # the digits default
    # digits runs on one BLAS thread by default
    assert {pool["num_threads"] for pool in seen["blas"] if pool["user_api"] == "blas"} == {1}


def test_method_factories_apply_options_and_keep_class_defaults():
    params = {"alpha": 0.5, "max_iter": 7}
    sparse = METHODS["sparse_ae"](8, 3, params)
    assert sparse.get_params() | params == sparse.get_params()  # both options applied
    assert (sparse.n_components, sparse.random_state) == (8, 3)
    assert sparse.sparsity_weight == 3.0  # not given: SparseAutoencoder's own default
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
