# ruff: noqa: E501  (the tables below are read row by row; they stay one line per case)
"""Bad input, one table: every wrong parameter or datum gets an error that names it.

Each row of ``FIT_CASES`` is tried on every public estimator: ``fit`` must raise the
ValueError, with a message naming the problem, before any training (the estimator stays
unfitted). ``FITTED_CASES`` (ValueError too) do the same for the methods of a fitted model. A new
estimator goes into ``ESTIMATORS``; a new parameter or check is one new row.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import NotFittedError

from skae import DenoisingAutoencoder, SparseAutoencoder, TiedAutoencoder

ESTIMATORS = [SparseAutoencoder, DenoisingAutoencoder, TiedAutoencoder]


@pytest.fixture(scope="module")
def X():
    return load_digits().data[:60] / 16.0  # 60 x 64 in [0, 1]


def clean(X):
    return X


def with_nan(X):
    return np.where(X > 0.5, np.nan, X)


def with_inf(X):
    return np.where(X > 0.5, np.inf, X)


def no_rows(X):
    return X[:0]


def no_columns(X):
    return X[:, :0]


def one_row(X):
    return X[0]


def complex_(X):
    return X + 1j


def text(X):
    return np.full(X.shape, "a")


def coo(X):
    return sp.coo_matrix(X)  # accepted: converted, like sklearn does


def negative(X):
    return X - 1.0


def ce(**params):
    """Parameters with the cross-entropy loss (it needs X in [0, 1])."""
    return {"loss": "cross_entropy", "output_activation": "sigmoid", **params}


# what is wrong          parameters                                 data        message names
FIT_CASES = [
    ("n_components 0",     {"n_components": 0},                       clean,      "n_components"),
    ("n_components 2.5",   {"n_components": 2.5},                     clean,      "n_components"),
    ("activation",         {"activation": "softmax"},                 clean,      "activation"),
    ("output_activation",  {"output_activation": "softmax"},          clean,      "output_activation"),
    ("loss",               {"loss": "hinge"},                         clean,      "loss"),
    ("tied not a bool",    {"tied": "yes"},                           clean,      "tied"),
    ("alpha < 0",          {"alpha": -1.0},                           clean,      "alpha"),
    ("rho = 1.5",          {"sparsity_target": 1.5},                  clean,      "sparsity_target"),
    ("rho = 0",            {"sparsity_target": 0.0},                  clean,      "sparsity_target"),
    ("beta < 0",           {"sparsity_weight": -1.0},                 clean,      "sparsity_weight"),
    ("noise",              {"noise": "dropout"},                      clean,      "noise"),
    ("q < 0",              {"noise_level": -0.1},                     clean,      "noise_level"),
    ("masking q > 1",      {"noise": "masking", "noise_level": 1.5},  clean,      "noise_level"),
    ("s&p q > 1",          {"noise": "salt_and_pepper", "noise_level": 1.5}, clean, "noise_level"),
    ("solver",             {"solver": "newton"},                      clean,      "solver"),
    ("batch_size 0",       {"solver": "adam", "batch_size": 0},       clean,      "batch_size"),
    ("learning rate 0",    {"learning_rate_init": 0.0},               clean,      "learning_rate_init"),
    ("schedule",           {"learning_rate": "linear"},               clean,      "learning_rate"),
    ("momentum 1",         {"momentum": 1.0},                         clean,      "momentum"),
    ("max_iter 0",         {"max_iter": 0},                           clean,      "max_iter"),
    ("tol < 0",            {"tol": -1.0},                             clean,      "tol"),
    ("n_iter_no_change 0", {"n_iter_no_change": 0},                   clean,      "n_iter_no_change"),
    ("validation 1.0",     {"validation_fraction": 1.0},              clean,      "validation_fraction"),
    ("chunk_size 0",       {"chunk_size": 0},                         clean,      "chunk_size"),
    ("random_state text",  {"random_state": "seed"},                  clean,      "random_state"),
    ("CE, identity out",   ce(output_activation="identity"),          clean,      "output_activation"),
    ("CE, X < 0",          ce(),                                      negative,   r"X in \[0, 1\]"),
    ("KL with relu",       {"activation": "relu", "sparsity_weight": 3.0}, clean, "sparsity_weight"),
    ("early stop, lbfgs",  {"early_stopping": True, "solver": "lbfgs"},    clean, "early_stopping"),
    ("NaN in X",           {},                                        with_nan,   "NaN"),
    ("inf in X",           {},                                        with_inf,   "infinity"),
    ("no rows",            {},                                        no_rows,    "0 sample"),
    ("no columns",         {},                                        no_columns, "0 feature"),
    ("1-D X",              {},                                        one_row,    "2D array"),
    ("complex X",          {},                                        complex_,   "[Cc]omplex"),
    ("text X",             {},                                        text,       "float"),
    ("sparsity kind",      {"sparsity": "l1"},                        clean,      "sparsity"),
    ("contraction < 0",    {"contraction_weight": -1.0},              clean,      "contraction_weight"),
    ("contraction, top_k", {"contraction_weight": 0.1, "sparsity": "top_k"}, clean, "contraction_weight"),
    ("alpha k < k",        {"sparsity": "top_k", "transform_k_factor": 0.5}, clean, "transform_k_factor"),
    ("alpha k, not top_k", {"transform_k_factor": 3.0},               clean,      "transform_k_factor"),
    ("rho0 = 1.5",         {"sparsity": "top_k", "initial_sparsity_target": 1.5}, clean, "initial_sparsity_target"),
    ("rho0 = 0",           {"sparsity": "top_k", "initial_sparsity_target": 0.0}, clean, "initial_sparsity_target"),
    ("rho0 text",          {"sparsity": "top_k", "initial_sparsity_target": "0.5"}, clean, "initial_sparsity_target"),
    ("rho0 < rho",         {"sparsity": "lifetime", "sparsity_target": 0.5, "initial_sparsity_target": 0.2}, clean, "initial_sparsity_target=0.2 is below"),
    ("rho0 with kl",       {"sparsity": "kl", "initial_sparsity_target": 0.5}, clean, "initial_sparsity_target"),
]  # fmt: skip


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "params,make_X,match", [case[1:] for case in FIT_CASES], ids=[case[0] for case in FIT_CASES]
)
def test_fit_refuses_bad_input_by_name(Estimator, params, make_X, match, X):
    ae = Estimator(n_components=4, max_iter=2, random_state=0).set_params(**params)
    with pytest.raises(ValueError, match=match):
        ae.fit(make_X(X))
    assert not hasattr(ae, "components_")  # refused before any training


def adam(ae):
    return ae.set_params(solver="adam")


def warm(ae, **params):
    return ae.set_params(warm_start=True, **params)


def fitted(Estimator, X, **params):
    return Estimator(n_components=5, max_iter=2, random_state=0, **params).fit(X)


# what is wrong               call on the fitted model ae, with the data X              message
FITTED_CASES = [
    ("transform, width",         lambda ae, X: ae.transform(X[:, :10]),                   "features"),
    ("score_samples, width",     lambda ae, X: ae.score_samples(X[:, :10]),               "features"),
    ("inverse_transform, width", lambda ae, X: ae.inverse_transform(np.zeros((3, 4))),    "5 hidden"),
    ("transform of NaN",         lambda ae, X: ae.transform(with_nan(X)),                 "NaN"),
    ("inverse of inf",           lambda ae, X: ae.inverse_transform(np.full((2, 5), np.inf)), "inf"),
    ("partial_fit, width",       lambda ae, X: adam(ae).partial_fit(X[:, :10]),           "features"),
    ("warm start, new size",     lambda ae, X: warm(ae, n_components=3).fit(X),           "n_components"),
    ("warm start, new tied",     lambda ae, X: warm(ae, tied=not ae.tied).fit(X),         "tied"),
    ("warm start, rho0 with kl", lambda ae, X: warm(ae, initial_sparsity_target=0.5).fit(X), "initial_sparsity_target"),
    ("partial_fit, rho0 < rho",  lambda ae, X: adam(ae).set_params(sparsity="top_k", initial_sparsity_target=0.01).partial_fit(X), "below sparsity_target"),
]  # fmt: skip


@pytest.mark.parametrize("Estimator", ESTIMATORS)
@pytest.mark.parametrize(
    "call,match", [case[1:] for case in FITTED_CASES], ids=[case[0] for case in FITTED_CASES]
)
def test_fitted_model_refuses_bad_input_by_name(Estimator, call, match, X):
    ae = fitted(Estimator, X)
    components = ae.components_.copy()
    with pytest.raises(ValueError, match=match):
        call(ae, X)
    np.testing.assert_array_equal(ae.components_, components)


@pytest.mark.parametrize("method", ["transform", "score_samples", "inverse_transform", "score"])
def test_methods_before_fit_raise_not_fitted(method, X):
    with pytest.raises(NotFittedError, match="not fitted"):
        getattr(SparseAutoencoder(), method)(X)


def test_partial_fit_only_for_minibatch_solvers():
    ae = SparseAutoencoder(solver="lbfgs")
    with pytest.raises(AttributeError, match="partial_fit") as error:
        ae.partial_fit(np.zeros((3, 2)))
    assert "minibatch solver" in str(error.value.__cause__)


def test_bad_input_leaves_a_fitted_estimator_as_it_was(X):
    ae = SparseAutoencoder(n_components=5, loss="cross_entropy", max_iter=3, random_state=0)
    ae.fit(X)
    before = {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in vars(ae).items()}
    with pytest.raises(ValueError, match="cross_entropy"):
        ae.fit(X * 2)  # out of [0, 1]
    with pytest.raises(ValueError, match="NaN"):
        ae.fit(np.full((10, 64), np.nan))
    assert set(vars(ae)) == set(before)
    np.testing.assert_array_equal(ae.components_, before["components_"])
    assert ae.n_features_in_ == 64
    with pytest.raises(ValueError, match="features"):
        ae.transform(X[:, :10])


def test_sparse_coo_input_is_accepted_not_refused(X):
    # the table's counterpart: a format that is converted, not an error
    ae = fitted(SparseAutoencoder, coo(X))
    np.testing.assert_allclose(ae.transform(coo(X)), ae.transform(X))


# -- the deep estimators: their own parameters, and their layers' checks before any work
def stack(**params):
    from skae import StackedAutoencoder

    layers = [("a", SparseAutoencoder(6, max_iter=2)), ("b", TiedAutoencoder(3, max_iter=2))]
    return StackedAutoencoder(layers, fine_tune_max_iter=2).set_params(**params)


def classifier(**params):
    from skae import AutoencoderClassifier

    return AutoencoderClassifier(SparseAutoencoder(6, max_iter=2), max_iter=2).set_params(**params)


labels = np.arange(60) % 3

# what is wrong               estimator with the wrong parameter                         data     y            message
DEEP_CASES = [
    ("stack: no steps",            lambda: stack(steps=[]),                                   clean,   None,        "non-empty"),
    ("stack: not an autoencoder",  lambda: stack(steps=[("a", object())]),                    clean,   None,        "skae autoencoder"),
    ("stack: step names repeat",   lambda: stack(steps=[("a", SparseAutoencoder()), ("a", TiedAutoencoder())]), clean, None, "unique"),
    ("stack: layer parameter",     lambda: stack(a__sparsity_target=2.0),                     clean,   None,        "sparsity_target"),
    ("stack: layer CE, X < 0",     lambda: stack(a__loss="cross_entropy"),                    negative, None,       r"X in \[0, 1\]"),
    ("stack: fine_tune_max_iter",  lambda: stack(fine_tune_max_iter=-1),                      clean,   None,        "fine_tune_max_iter"),
    ("stack: fine_tune_solver",    lambda: stack(fine_tune_solver="newton"),                  clean,   None,        "fine_tune_solver"),
    ("stack: NaN in X",            lambda: stack(),                                           with_nan, None,       "NaN"),
    ("clf: dropout 1",             lambda: classifier(dropout=1.0),                           clean,   labels,      "dropout"),
    ("clf: input_dropout < 0",     lambda: classifier(input_dropout=-0.1),                    clean,   labels,      "input_dropout"),
    ("clf: pretrain text",         lambda: classifier(pretrain="yes"),                        clean,   labels,      "pretrain"),
    ("clf: not an autoencoder",    lambda: classifier(autoencoder=object()),                  clean,   labels,      "autoencoder"),
    ("clf: one labelled class",    lambda: classifier(unlabeled=-1),                                    clean,   np.r_[[1] * 30, [-1] * 30], "at least 2 classes"),
    ("clf: y of the wrong length", lambda: classifier(),                                      clean,   labels[:10], "inconsistent"),
    ("clf: continuous y",          lambda: classifier(),                                      clean,   np.linspace(0, 1, 60), "continuous"),
    ("clf: early stop, lbfgs",     lambda: classifier(early_stopping=True, solver="lbfgs"),   clean,   labels,      "early_stopping"),
    ("clf: dropout, lbfgs",        lambda: classifier(dropout=0.5, solver="lbfgs"),           clean,   labels,      "dropout"),
    ("clf: input dropout, cg",     lambda: classifier(input_dropout=0.2, solver="cg"),        clean,   labels,      "input_dropout"),
    ("clf: layer parameter, random start", lambda: classifier(pretrain=False, autoencoder=SparseAutoencoder(0)), clean, labels, "n_components"),
    ("clf: prefit, not fitted",    lambda: classifier(pretrain="prefit"),                     clean,   labels,      "not fitted"),
]  # fmt: skip


@pytest.mark.parametrize(
    "make,make_X,y,match", [case[1:] for case in DEEP_CASES], ids=[case[0] for case in DEEP_CASES]
)
def test_deep_estimators_refuse_bad_input_by_name(make, make_X, y, match, X):
    estimator = make()
    with pytest.raises((ValueError, TypeError), match=match):
        estimator.fit(make_X(X)) if y is None else estimator.fit(make_X(X), y)
    assert not hasattr(estimator, "n_features_in_")  # refused before any training
