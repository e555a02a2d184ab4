"""scikit-learn's estimator checks over the three public estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import DenoisingAutoencoder, SparseAutoencoder, TiedAutoencoder

# Small and quick: the checks fit dozens of times on tiny data.
ESTIMATORS = [
    SparseAutoencoder(n_components=3, max_iter=20, random_state=0),
    DenoisingAutoencoder(n_components=3, max_iter=20, random_state=0),
    TiedAutoencoder(n_components=3, max_iter=20, random_state=0),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
