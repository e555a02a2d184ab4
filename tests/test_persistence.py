"""Saving and loading: pickle, joblib and skops.io give back the same model; a model saved
by another skae version warns on load, as scikit-learn does for its own estimators."""

import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import InconsistentVersionWarning

import skae
from skae import (
    AutoencoderClassifier,
    AutoencoderOutlierDetector,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    TiedAutoencoder,
)
from skae._persistence import (
    SKOPS_TRUSTED_TYPES,
    VERSION_KEY,
    InconsistentSkaeVersionWarning,
)

ESTIMATORS = [SparseAutoencoder, DenoisingAutoencoder, TiedAutoencoder]
SOLVERS = ["lbfgs", "adam", "sgd"]


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).random((60, 7))


def fitted(Estimator, X, **params):
    params = {"n_components": 4, "max_iter": 3, "random_state": 0, **params}
    return Estimator(**params).fit(X)


def joblib_dumps(estimator):
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer)
    return buffer.getvalue()


def joblib_loads(data):
    return joblib.load(io.BytesIO(data))


def skops_dumps(estimator):
    return pytest.importorskip("skops.io").dumps(estimator)


def skops_loads(data):
    return pytest.importorskip("skops.io").loads(data, trusted=SKOPS_TRUSTED_TYPES)


FORMATS = {
    "pickle": (pickle.dumps, pickle.loads),
    "joblib": (joblib_dumps, joblib_loads),
    "skops": (skops_dumps, skops_loads),
}


def round_trip(estimator, format_name):
    dumps, loads = FORMATS[format_name]
    return loads(dumps(estimator))


def assert_same_outputs(loaded, original, X):
    np.testing.assert_array_equal(loaded.transform(X), original.transform(X))
    np.testing.assert_array_equal(loaded.score_samples(X), original.score_samples(X))
    H = original.transform(X)
    np.testing.assert_array_equal(loaded.inverse_transform(H), original.inverse_transform(H))


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_round_trip_gives_identical_outputs(Estimator, format_name, X):
    original = fitted(Estimator, X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)  # same version: silent
        loaded = round_trip(original, format_name)
    assert type(loaded) is Estimator
    assert loaded.get_params() == original.get_params()
    assert_same_outputs(loaded, original, X)
    # a tied model keeps one array under both names
    assert (loaded.decoder_components_ is loaded.components_) == original.tied


@pytest.mark.parametrize("format_name", FORMATS)
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_partial_fit_after_loading_continues_as_the_original(solver, format_name, X):
    original = fitted(DenoisingAutoencoder, X, solver=solver)
    loaded = round_trip(original, format_name)
    original.partial_fit(X)
    loaded.partial_fit(X)
    np.testing.assert_array_equal(loaded.components_, original.components_)
    assert loaded.loss_curve_ == original.loss_curve_


def test_saving_leaves_the_live_estimator_untouched(X):
    ae = fitted(TiedAutoencoder, X)
    before = dict(vars(ae))
    pickle.dumps(ae)
    assert vars(ae).keys() == before.keys()
    assert ae.decoder_components_ is ae.components_
    assert VERSION_KEY not in vars(ae)


def test_skops_trusted_types_are_exactly_what_fitted_models_hold(X):
    sio = pytest.importorskip("skops.io")
    untrusted = set()
    models = [fitted(E, X, solver=solver) for E in ESTIMATORS for solver in SOLVERS]
    detector = AutoencoderOutlierDetector(SparseAutoencoder(3, max_iter=2), random_state=0)
    for model in models + list(deep_models(X)) + [detector.fit(X)]:
        found = set(sio.get_untrusted_types(data=sio.dumps(model)))
        assert found <= set(SKOPS_TRUSTED_TYPES), found - set(SKOPS_TRUSTED_TYPES)
        untrusted |= found
    # no stale entry: every documented type is needed by some fitted model
    assert untrusted == set(SKOPS_TRUSTED_TYPES)


def deep_models(X):
    y = np.arange(X.shape[0]) % 3
    stack = StackedAutoencoder(
        [("a", SparseAutoencoder(5, max_iter=3)), ("b", TiedAutoencoder(3, max_iter=3))],
        fine_tune_max_iter=2,
        random_state=0,
    ).fit(X)
    clf = AutoencoderClassifier(stack, dropout=0.2, max_iter=2, random_state=0).fit(X, y)
    return stack, clf


@pytest.mark.parametrize("format_name", FORMATS)
def test_deep_models_round_trip(format_name, X):
    stack, clf = deep_models(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        loaded_stack = round_trip(stack, format_name)
        loaded_clf = round_trip(clf, format_name)
    assert_same_outputs(loaded_stack, stack, X)
    np.testing.assert_array_equal(loaded_clf.predict_proba(X), clf.predict_proba(X))
    sio = pytest.importorskip("skops.io")
    for model in (stack, clf):
        assert set(sio.get_untrusted_types(data=sio.dumps(model))) <= set(SKOPS_TRUSTED_TYPES)


def test_skops_refuses_a_model_without_the_trusted_list(X):
    sio = pytest.importorskip("skops.io")
    data = sio.dumps(fitted(SparseAutoencoder, X))
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match="SparseAutoencoder"):
        sio.loads(data)


@pytest.mark.parametrize("format_name", FORMATS)
def test_loading_a_model_of_another_version_warns(format_name, X, monkeypatch):
    dumps, loads = FORMATS[format_name]
    original = fitted(SparseAutoencoder, X)
    monkeypatch.setattr(skae, "__version__", "0.0.1")  # saved by skae 0.0.1 ...
    saved = dumps(original)
    monkeypatch.setattr(skae, "__version__", "9.9.9")  # ... loaded by skae 9.9.9
    with pytest.warns(InconsistentSkaeVersionWarning, match="skae 0.0.1 with skae 9.9.9"):
        loaded = loads(saved)
    assert_same_outputs(loaded, original, X)


def test_a_model_saved_without_a_version_warns_and_is_a_sklearn_warning(X):
    ae = fitted(TiedAutoencoder, X)
    state = ae.__getstate__()
    del state[VERSION_KEY]
    blank = TiedAutoencoder.__new__(TiedAutoencoder)
    with pytest.warns(InconsistentVersionWarning, match="pre-0.1.0") as record:
        blank.__setstate__(state)
    assert isinstance(record[0].message, InconsistentSkaeVersionWarning)
    assert_same_outputs(blank, ae, X)


def test_a_model_saved_before_a_parameter_existed_loads_with_its_default(X):
    # learning_rate came after models were saved: the old state lacks it
    ae = fitted(TiedAutoencoder, X)
    state = ae.__getstate__()
    del state["learning_rate"]
    blank = TiedAutoencoder.__new__(TiedAutoencoder)
    blank.__setstate__(state)
    assert blank.get_params()["learning_rate"] == "constant"
    assert clone(blank).learning_rate == "constant"
    assert_same_outputs(blank, ae, X)
