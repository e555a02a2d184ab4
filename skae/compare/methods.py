"""The extractors and classifiers the comparison builds, by name.

A method is a factory ``factory(n_components, random_state, params)`` returning an
unfitted extractor; ``params`` holds the preset's settings and the estimator options
given on the command line, and each factory takes what applies to it, so an unset
option leaves the class default alone. A classifier is a factory
``factory(random_state)``.
"""

from functools import partial

from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import LinearSVC

from .._denoising import DenoisingAutoencoder
from .._sparse import SparseAutoencoder
from .._tied import TiedAutoencoder

__all__ = [
    "CLASSIFIERS",
    "METHODS",
    "SEARCHED_AT",
    "SEARCHED_AT_SPARSE",
    "build_pipeline",
    "set_classifier_params",
]


def _pixels(n_components, random_state, params):
    return FunctionTransformer()


def _pca(n_components, random_state, params):
    return PCA(n_components=n_components, random_state=random_state)


def _rbm(n_components, random_state, params):
    params = dict(params)
    if "max_iter" in params:
        params["n_iter"] = params.pop("max_iter")
    # of the autoencoder options only the iteration budget means something to the RBM
    own = {k: v for k, v in params.items() if k in BernoulliRBM().get_params()}
    return BernoulliRBM(n_components=n_components, random_state=random_state, **own)


# The settings every preset and search space was chosen at: the autoencoders' defaults
# before "auto" (skae 0.2 decides these from the data). Set here explicitly so that the
# published figures do not move with a default; a preset or an option overrides them.
SEARCHED_AT = {"output_activation": "sigmoid", "max_iter": 200}
SEARCHED_AT_SPARSE = {**SEARCHED_AT, "sparsity_weight": 3.0}


def _autoencoder(cls, n_components, random_state, params):
    searched_at = SEARCHED_AT_SPARSE if cls is SparseAutoencoder else SEARCHED_AT
    return cls(n_components=n_components, random_state=random_state, **{**searched_at, **params})


METHODS = {
    "pixels": _pixels,
    "pca": _pca,
    "rbm": _rbm,
    "sparse_ae": partial(_autoencoder, SparseAutoencoder),
    "denoising_ae": partial(_autoencoder, DenoisingAutoencoder),
    "tied_ae": partial(_autoencoder, TiedAutoencoder),
}

# The linear classifiers standardise first, for every method including raw pixels:
# their regularisation and convergence depend on the scale of the features. k-NN reads
# each representation's own geometry; trees do not care about scale.
CLASSIFIERS = {
    "logistic": lambda random_state: make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=1000)
    ),
    "linear_svc": lambda random_state: make_pipeline(
        StandardScaler(), LinearSVC(random_state=random_state)
    ),
    "knn": lambda random_state: KNeighborsClassifier(),
    "random_forest": lambda random_state: RandomForestClassifier(random_state=random_state),
}


def set_classifier_params(classifier, params):
    """Set e.g. ``{"C": 0.03}`` on the final estimator, if it has those parameters.

    Parameters
    ----------
    classifier : estimator or Pipeline
        As built by a factory of :data:`CLASSIFIERS`.
    params : dict
        Parameters of the final estimator; those it does not have are left out, so
        that a preset's ``C`` leaves k-NN alone.

    Returns
    -------
    classifier : estimator or Pipeline
        The same object.
    """
    final = classifier[-1] if hasattr(classifier, "steps") else classifier
    own = {k: v for k, v in params.items() if k in final.get_params()}
    final.set_params(**own)
    return classifier


def build_pipeline(name, width, random_state, params, classifier, classifier_params):
    """``make_pipeline(extractor, classifier)`` of one method, unfitted.

    Parameters
    ----------
    name : str
        A name from :data:`METHODS`.
    width : int
        The extractor's ``n_components``.
    random_state : int
        Seeds the extractor and the classifier.
    params : dict
        The extractor's settings (the preset and the command-line options).
    classifier : str
        A name from :data:`CLASSIFIERS`.
    classifier_params : dict
        The classifier's settings for this method, e.g. ``{"C": 0.1}``.

    Returns
    -------
    pipeline : Pipeline
    """
    extractor = METHODS[name](width, random_state, params)
    clf = set_classifier_params(CLASSIFIERS[classifier](random_state), classifier_params)
    return make_pipeline(extractor, clf)
