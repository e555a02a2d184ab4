"""Persistence: the skae version travels with a saved model, and a mismatch warns.

Modelled on scikit-learn's ``BaseEstimator.__getstate__``/``__setstate__``, which record
``_sklearn_version`` but only warn for estimators that live in ``sklearn.``: skae records
its own version beside it and warns with :class:`InconsistentSkaeVersionWarning` (a
subclass of scikit-learn's ``InconsistentVersionWarning``, so one warnings filter serves
both) when a model saved by another skae version is loaded by pickle, joblib or
``skops.io``.

``SKOPS_TRUSTED_TYPES`` lists the types that a fitted skae model stores beyond what
``skops.io`` trusts by default; pass it to ``skops.io.load(..., trusted=...)`` after
checking ``skops.io.get_untrusted_types(file=...)`` gives nothing else.
"""

import inspect
import warnings

from sklearn.exceptions import InconsistentVersionWarning

VERSION_KEY = "_skae_version"
# A tied model stores one array under two names; skops saves attributes one by one, so the
# link is recorded and restored rather than trusted to survive every format.
TIED_KEY = "_skae_decoder_is_encoder"

# What a fitted skae estimator holds that skops.io does not trust by default: the
# estimator classes, and the training history with the optimiser state that the
# minibatch solvers keep for partial_fit (with the optimiser's working dtype). NumPy
# arrays, NumPy's random Generator, lists and Python scalars are trusted by skops already.
SKOPS_TRUSTED_TYPES = [
    "numpy.dtype",
    "skae._classifier.AutoencoderClassifier",
    "skae._core.optimizers.Adam",
    "skae._core.optimizers.SGD",
    "skae._core.training.TrainingHistory",
    "skae._denoising.DenoisingAutoencoder",
    "skae._outlier.AutoencoderOutlierDetector",
    "skae._sparse.SparseAutoencoder",
    "skae._stacked.StackedAutoencoder",
    "skae._tied.TiedAutoencoder",
]


def _current_version():
    from . import __version__  # at call time: skae/__init__ imports this module first

    return __version__


class InconsistentSkaeVersionWarning(InconsistentVersionWarning):
    """A model saved by one skae version was loaded by another.

    Parameters
    ----------
    estimator_name : str
    current_version : str
        The skae version loading the model.
    original_version : str
        The skae version that saved it ("pre-0.1.0" if it recorded none).
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        super().__init__(
            estimator_name=estimator_name,
            current_sklearn_version=current_version,
            original_sklearn_version=original_version,
        )

    def __str__(self):
        return (
            f"Trying to load {self.estimator_name} saved by skae "
            f"{self.original_sklearn_version} with skae {self.current_sklearn_version}. "
            "This might lead to breaking code or invalid results; refit the model with "
            "the installed version, or load it with the version that saved it."
        )


class PersistenceMixin:
    """Record the skae version on save and warn on load if it differs.

    Put it before ``BaseEstimator`` in the bases: it calls ``super()`` on both sides, so
    scikit-learn's own bookkeeping is kept.
    """

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: never change the live __dict__
        state[VERSION_KEY] = _current_version()
        if "components_" in state and state.get("decoder_components_") is state["components_"]:
            del state["decoder_components_"]
            state[TIED_KEY] = True
        return state

    def __setstate__(self, state):
        state = dict(state)
        saved_version = state.pop(VERSION_KEY, "pre-0.1.0")
        current = _current_version()
        if saved_version != current:
            warnings.warn(
                InconsistentSkaeVersionWarning(
                    estimator_name=type(self).__name__,
                    current_version=current,
                    original_version=saved_version,
                ),
                stacklevel=2,
            )
        if state.pop(TIED_KEY, False):
            state["decoder_components_"] = state["components_"]
        # a parameter added after the model was saved takes its default, so that
        # get_params, clone and a further fit work on an older model
        for name, default in parameter_defaults(type(self)).items():
            state.setdefault(name, default)
        super().__setstate__(state)


def parameter_defaults(cls):
    """``{name: default}`` of the keyword parameters of ``cls.__init__`` that have one."""
    signature = inspect.signature(cls.__init__)
    return {
        name: parameter.default
        for name, parameter in signature.parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
