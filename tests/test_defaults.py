"""Defaults that fit the data ("auto"), and warnings that name what to change (issue 18)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from test_interrupt import interrupt_at_call  # one Ctrl-C stand-in for the suite

import skae._core.network as network_module
from skae import (
    AutoencoderClassifier,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    TiedAutoencoder,
)
from skae._base import training_budget, values_in_unit_interval
from skae._core.training import _stalled

AUTOENCODERS = [SparseAutoencoder, DenoisingAutoencoder, TiedAutoencoder]


@pytest.fixture(scope="module")
def standardised_iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def pixels():
    X, y = load_digits(return_X_y=True)
    return X[:300] / 16, y[:300]


@pytest.mark.parametrize("cls", AUTOENCODERS)
def test_auto_decides_the_decoder_from_the_range_of_x(cls, standardised_iris, pixels):
    ae = cls(16, random_state=0).fit(standardised_iris[0])
    assert ae.output_activation_ == "identity" and ae.sparsity_weight_ == 0.0
    # a linear decoder reaches the negative values of standardised data
    assert ae.inverse_transform(ae.transform(standardised_iris[0])).min() < 0
    ae = cls(16, max_iter=5, random_state=0).fit(pixels[0])
    assert ae.output_activation_ == "sigmoid"
    assert ae.sparsity_weight_ == (3.0 if cls is SparseAutoencoder else 0.0)
    assert ae.get_params()["output_activation"] == "auto"  # the parameter is untouched


def test_an_explicit_setting_wins(standardised_iris):
    X = standardised_iris[0]
    with pytest.warns(UserWarning, match="output_activation='sigmoid'"):
        ae = SparseAutoencoder(8, output_activation="sigmoid", sparsity_weight=1.0).fit(X)
    assert ae.output_activation_ == "sigmoid" and ae.sparsity_weight_ == 1.0


def test_a_decoder_that_cannot_reach_x_warns_once_naming_the_parameter(standardised_iris):
    X = standardised_iris[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        TiedAutoencoder(8, output_activation="sigmoid", random_state=0).fit(X)
    decoder = [w for w in caught if "can never reach" in str(w.message)]
    assert len(decoder) == 1
    assert "output_activation='auto'" in str(decoder[0].message)
    assert decoder[0].filename == __file__  # at the user's line
    # also from inside a Pipeline, which fits its steps through joblib's Memory wrapper
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tied = TiedAutoencoder(8, output_activation="sigmoid", random_state=0)
        make_pipeline(tied, LogisticRegression()).fit(X, standardised_iris[1])
    decoder = [w for w in caught if "can never reach" in str(w.message)]
    assert len(decoder) == 1 and decoder[0].filename == __file__
    # inside a stack it names the parameter as the stack's user reaches it
    stack = StackedAutoencoder(
        [("first", TiedAutoencoder(8, output_activation="sigmoid", random_state=0))],
        fine_tune_max_iter=0,
    )
    with pytest.warns(UserWarning, match="first__output_activation='sigmoid'"):
        stack.fit(X)


def test_a_sparse_zero_counts_in_the_range():
    X = sp.csr_matrix(np.array([[0.0, 0.5], [0.7, 0.0]]))
    assert values_in_unit_interval(X)
    assert not values_in_unit_interval(sp.csr_matrix(np.array([[0.0, -0.5], [0.7, 0.0]])))
    assert not values_in_unit_interval(X * 2)


@pytest.mark.parametrize("cls", AUTOENCODERS)
def test_defaults_stop_quietly_on_standardised_data(cls, standardised_iris):
    X, y = standardised_iris
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ae = cls(random_state=0).fit(X)
    assert ae.n_iter_ < ae.max_iter_  # stopped on its own test, not on the budget


def test_a_grid_search_of_sensible_settings_prints_no_warning(standardised_iris):
    X, y = standardised_iris
    pipe = make_pipeline(SparseAutoencoder(32, random_state=0), LogisticRegression())
    grid = {
        "sparseautoencoder__alpha": [1e-4, 1e-3],
        "sparseautoencoder__sparsity_target": [0.05, 0.1],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GridSearchCV(pipe, grid, cv=2).fit(X, y)


def test_an_integer_budget_keeps_its_meaning(standardised_iris):
    X = standardised_iris[0]
    with pytest.warns(ConvergenceWarning, match="increase max_iter, or set it to 'auto'"):
        ae = SparseAutoencoder(16, max_iter=3, random_state=0).fit(X)
    assert ae.n_iter_ == 3 == ae.max_iter_


def test_the_auto_budget_is_counted_in_updates():
    def budget(n_samples, solver="adam", batch_size="auto", max_iter="auto"):
        return training_budget(max_iter, solver, n_samples, batch_size, 10)

    # one batch an epoch: 10000 epochs (updates) at most, a window of 100 updates
    assert budget(50) == (10000, 0.01, 100)
    assert budget(60000) == (34, 0.01, 10)  # 300 batches an epoch: 10000 updates
    assert budget(60000, batch_size=10).max_iter == 20  # at least 20 epochs
    assert budget(1347) == (1429, 0.01, 15)  # the digits' training split: 7 batches
    assert budget(60000, solver="lbfgs") == (1000, 0.03, 10)
    assert budget(60000, max_iter=7) == (7, None, 10)  # an integer keeps its meaning
    clf = AutoencoderClassifier(SparseAutoencoder(), early_stopping=True)
    assert clf._budget(np.zeros((100, 2))).n_iter_no_change == 100  # 90 rows, one batch


def test_stalled_known_answers():
    # 10 iterations gaining 0.5% of the loss: stalled at 1%, not at 0.1%
    losses = list(np.linspace(1.005, 1.0, 11))
    assert _stalled(losses, 10, 1e-2) and not _stalled(losses, 10, 1e-3)
    assert not _stalled(losses[:10], 10, 1e-2)  # too few iterations to tell
    assert _stalled([-1.0] * 11, 10, 1e-2)  # negative losses (validation scores) too
    # a loss halving towards 0 is never stalled relatively, but is by tol a step
    halving = [0.5**k for k in range(30)]
    assert not _stalled(halving, 10, 1e-2) and _stalled(halving, 10, 1e-2, tol=1e-4)


def test_minibatch_auto_stops_on_the_window_not_on_one_epoch(standardised_iris):
    # one batch an epoch: a 100-update window, and the loss falling by much more than 1%
    # over it must keep training (it stopped at 101 epochs when each epoch was tested alone)
    X, y = standardised_iris
    clf = AutoencoderClassifier(SparseAutoencoder(6, random_state=0), random_state=0)
    clf.fit(X, y)
    curve = clf.loss_curve_
    assert clf.n_iter_ > 101
    # stopped on the window: less than 1% of the loss or tol=1e-4 an epoch over 100 epochs
    assert min(curve[:-100]) - min(curve) < max(0.01 * min(curve), 1e-4 * 100)
    assert clf.score(X, y) > 0.9


@pytest.mark.parametrize("seed", [0, 1])
def test_noisy_losses_still_stop_quietly(standardised_iris, seed):
    # a lucky epoch of a noisy loss used to reset the count and run the whole budget
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ae = DenoisingAutoencoder(8, random_state=seed).fit(standardised_iris[0])
    assert ae.n_iter_ < ae.max_iter_


def test_full_batch_noise_compares_round_ends(pixels):
    X = pixels[0]
    ae = SparseAutoencoder(32, noise_level=0.2, random_state=0).fit(X)
    assert ae.n_iter_ >= 30  # at least NOISE_STALLED_ROUNDS rounds of 10 iterations


def test_the_stopping_test_is_scale_free(pixels):
    # the same data in other units stops at the same iteration (tol=0: the relative
    # test alone, without the absolute floor of tol a step)
    X = StandardScaler().fit_transform(pixels[0])
    a = TiedAutoencoder(16, tol=0.0, random_state=0).fit(X)
    b = TiedAutoencoder(16, tol=0.0, random_state=0).fit(X * 10)
    # both stop on the plateau, within a factor of 2 (L-BFGS's path itself is not
    # invariant to the scale, and BLAS threads change its rounding)
    assert a.n_iter_ < 1000 and b.n_iter_ < 1000
    assert max(a.n_iter_, b.n_iter_) <= 2 * min(a.n_iter_, b.n_iter_)


# -- meta-estimators ----------------------------------------------------------------
def unseeded_stack(**params):
    return StackedAutoencoder(
        [("ae1", DenoisingAutoencoder(16, max_iter=3)), ("ae2", SparseAutoencoder(8, max_iter=5))],
        fine_tune_max_iter=2,
        **params,
    )


def test_the_stack_seeds_its_layers_from_its_own_random_state(pixels):
    X = pixels[0]
    first = unseeded_stack(random_state=0).fit(X).transform(X)
    again = unseeded_stack(random_state=0).fit(X).transform(X)
    other = unseeded_stack(random_state=1).fit(X).transform(X)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    # a layer's own seed wins
    stack = unseeded_stack(random_state=0).set_params(fine_tune_max_iter=0, ae1__random_state=5)
    stack.fit(X)
    alone = DenoisingAutoencoder(16, max_iter=3, random_state=5).fit(X)
    np.testing.assert_array_equal(stack.autoencoders_[0].components_, alone.components_)
    assert stack.steps[0][1].random_state == 5  # the steps themselves are not changed
    assert unseeded_stack(random_state=0).steps[1][1].random_state is None


def test_the_classifier_seeds_its_autoencoder(pixels):
    X, y = pixels
    models = [
        AutoencoderClassifier(unseeded_stack(), max_iter=3, random_state=0).fit(X, y)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(models[0].coef_, models[1].coef_)


def test_nested_warnings_name_the_parameter_the_user_holds(pixels):
    X, y = pixels
    stack = StackedAutoencoder(
        [("ae1", SparseAutoencoder(8, max_iter=2, random_state=0))], fine_tune_max_iter=0
    )
    with pytest.warns(ConvergenceWarning, match=r"increase ae1__max_iter") as caught:
        stack.fit(X)
    assert str(caught[0].message).startswith("SparseAutoencoder (ae1): ae1__solver=")
    clf = AutoencoderClassifier(stack, max_iter=2, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    messages = [str(w.message) for w in caught]
    assert any("increase autoencoder__ae1__max_iter" in m for m in messages)
    assert any(
        m.startswith("AutoencoderClassifier") and "increase max_iter" in m for m in messages
    )
    assert not any(" solver=" in m and "StackedAutoencoder" in m for m in messages)
    # the prefix is gone once the fit is over: a layer fitted on its own names its own
    layer = stack.autoencoders_[0]
    assert not hasattr(layer, "_parameter_prefix")


def test_an_interrupt_of_the_greedy_phase_says_nothing_was_kept(pixels, monkeypatch):
    X = pixels[0]
    stack = unseeded_stack(random_state=0)
    interrupt_at_call(monkeypatch, 5)  # inside the first layer's second epoch
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(KeyboardInterrupt):
            stack.fit(X)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "left as it was" in messages[0]
    assert "greedy pretraining of step 'ae1'" in messages[0]
    assert not hasattr(stack, "autoencoders_")


@pytest.mark.parametrize(
    "params,says,never",
    [
        (dict(solver="lbfgs"), "last completed", "partial_fit"),
        (dict(solver="adam", batch_size=100), "partial_fit", "best one"),
        (dict(solver="adam", batch_size=100, early_stopping=True), "best one", "last completed"),
    ],
)
def test_the_interrupt_warning_says_what_it_kept(pixels, monkeypatch, params, says, never):
    interrupt_at_call(monkeypatch, 12)
    with pytest.warns(UserWarning, match="interrupted") as caught:
        SparseAutoencoder(8, max_iter=50, random_state=0, **params).fit(pixels[0])
    message = str(caught[0].message)
    assert says in message and never not in message


def test_tied_weights_across_feature_scales_warn_naming_tied():
    from sklearn.datasets import load_breast_cancer

    X = load_breast_cancer().data[:200]
    with pytest.warns(UserWarning, match=r"tied=True\) share one W.*set tied=False"):
        TiedAutoencoder(8, max_iter=5, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # standardised: nothing to say
        TiedAutoencoder(8, max_iter="auto", random_state=0).fit(StandardScaler().fit_transform(X))
        TiedAutoencoder(8, random_state=0).fit(X / X.max())  # in [0, 1]


def test_a_near_constant_raw_feature_does_not_blow_up_the_start():
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [rng.normal(50, 10, 200), rng.normal(3, 1, 200), 7 + 1e-9 * rng.random(200)]
    )
    for cls in (SparseAutoencoder, TiedAutoencoder):
        ae = cls(8, random_state=0).fit(X)
        assert np.abs(ae.components_).max() < 1e3
        # no worse than reconstructing every row as the mean
        assert ae.score(X) > -0.5 * X.var(axis=0).sum()


def test_an_unlabeled_marker_of_the_wrong_type_is_refused(pixels):
    X, y = pixels
    with pytest.raises(ValueError, match="unlabeled='-1' can never match"):
        AutoencoderClassifier(SparseAutoencoder(4), unlabeled="-1").fit(X[:50], y[:50])


def count_objective_calls(monkeypatch, fit):
    """How many network objective evaluations ``fit()`` makes."""
    calls = []
    original = network_module.Network.objective

    def objective(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(network_module.Network, "objective", objective)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit()
    monkeypatch.undo()
    return len(calls)


@pytest.mark.parametrize("phase", ["greedy", "fine-tuning"])
def test_an_interrupt_of_a_nested_stack_stops_the_classifier(pixels, monkeypatch, phase):
    X, y = pixels
    stack = unseeded_stack(random_state=0)
    # the stack alone: its last two calls are the second epoch of its fine-tuning
    n_stack = count_objective_calls(monkeypatch, lambda: stack.fit(X))
    interrupt_at_call(monkeypatch, 1 if phase == "greedy" else n_stack - 1)
    clf = AutoencoderClassifier(stack, max_iter=3, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(KeyboardInterrupt):
            clf.fit(X, y)
    messages = [str(w.message) for w in caught if "interrupted" in str(w.message)]
    assert len(messages) == 1 and messages[0].startswith("AutoencoderClassifier")
    assert not hasattr(clf, "coef_")


@pytest.mark.parametrize(
    "make,says",
    [
        (lambda: StackedAutoencoder([("a", SparseAutoencoder(8, max_iter=3))],
                                    fine_tune_batch_size=100, random_state=0),
         "call partial_fit"),
        (lambda: AutoencoderClassifier(SparseAutoencoder(8, max_iter=3), pretrain=False,
                                       batch_size=100, max_iter=50, random_state=0),
         "Fit again"),
    ],
)  # fmt: skip
def test_the_interrupt_warning_names_only_what_the_estimator_has(pixels, monkeypatch, make, says):
    X, y = pixels
    estimator = make()
    n_calls = count_objective_calls(monkeypatch, lambda: estimator.fit(X, y))
    interrupt_at_call(monkeypatch, n_calls - 1)  # in the last epoch
    with pytest.warns(UserWarning, match="interrupted") as caught:
        estimator.fit(X, y)
    message = next(str(w.message) for w in caught if "interrupted" in str(w.message))
    assert says in message and "warm_start" not in message
