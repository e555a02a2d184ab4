"""GridSearchCV and RandomizedSearchCV over lambda, q, rho and beta."""

import pickle

import numpy as np
import pytest
from scipy.stats import loguniform, uniform
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline

from skae import DenoisingAutoencoder, SparseAutoencoder, TiedAutoencoder


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


def test_grid_search_over_the_four_knobs_in_a_pipeline(digits):
    X, y = digits
    pipe = Pipeline(
        [
            ("ae", SparseAutoencoder(n_components=16, max_iter=30, random_state=0)),
            ("clf", LogisticRegression(max_iter=300)),
        ]
    )
    grid = {
        "ae__alpha": [1e-4, 10.0],  # 10 is a crushing weight decay: it must lose
        "ae__noise_level": [0.0, 0.25],
        "ae__sparsity_target": [0.05, 0.2],
        "ae__sparsity_weight": [0.1, 1.0],
    }
    search = GridSearchCV(pipe, grid, cv=2, n_jobs=2).fit(X, y)
    results = search.cv_results_
    assert len(results["params"]) == 16
    assert np.all(np.isfinite(results["mean_test_score"]))
    assert search.best_params_["ae__alpha"] == 1e-4
    # every weight-decay-crushed model scores below every sensible one
    crushed = np.array([p["ae__alpha"] == 10.0 for p in results["params"]])
    assert results["mean_test_score"][crushed].max() < results["mean_test_score"][~crushed].min()
    assert search.best_score_ > 0.7  # chance is 0.1


def test_grid_search_without_a_classifier_uses_reconstruction(digits):
    X, _ = digits
    search = GridSearchCV(
        TiedAutoencoder(n_components=8, max_iter=50, random_state=0),
        {"alpha": [0.0, 1.0]},
        cv=3,
    ).fit(X)
    # weight decay can only hurt reconstruction: the unpenalised model must win
    assert search.best_params_ == {"alpha": 0.0}
    assert np.all(search.cv_results_["mean_test_score"] < 0)  # negative losses


def test_randomized_search_with_scipy_distributions(digits):
    X, y = digits
    pipe = Pipeline(
        [
            ("ae", DenoisingAutoencoder(n_components=12, max_iter=5, random_state=0)),
            ("clf", LogisticRegression(max_iter=200)),
        ]
    )
    distributions = {
        "ae__alpha": loguniform(1e-6, 1e-2),
        "ae__noise_level": uniform(0.0, 0.5),
        "ae__sparsity_target": uniform(0.02, 0.2),
        "ae__sparsity_weight": loguniform(1e-2, 1.0),
    }
    search = RandomizedSearchCV(pipe, distributions, n_iter=4, cv=2, n_jobs=2, random_state=0).fit(
        X, y
    )
    sampled = [p["ae__noise_level"] for p in search.cv_results_["params"]]
    assert len(set(sampled)) == 4 and all(0 <= q <= 0.5 for q in sampled)
    assert 0 < search.best_score_ <= 1


@pytest.mark.parametrize("Estimator", [SparseAutoencoder, DenoisingAutoencoder, TiedAutoencoder])
def test_pickle_and_clone_round_trip(Estimator, digits):
    X, _ = digits
    ae = Estimator(n_components=5, max_iter=3, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(ae))
    np.testing.assert_array_equal(restored.transform(X), ae.transform(X))
    fresh = clone(ae)
    assert not hasattr(fresh, "components_")
    assert fresh.get_params() == ae.get_params()
