"""scikit-learn's estimator checks over every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skae import (
    AutoencoderClassifier,
    AutoencoderOutlierDetector,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
    TiedAutoencoder,
)

# Small and quick: the checks fit dozens of times on tiny data.
ESTIMATORS = [
    SparseAutoencoder(n_components=3, max_iter=20, random_state=0),
    DenoisingAutoencoder(n_components=3, max_iter=20, random_state=0),
    TiedAutoencoder(n_components=3, max_iter=20, random_state=0),
    StackedAutoencoder(
        [
            ("ae1", DenoisingAutoencoder(n_components=4, max_iter=5, random_state=0)),
            ("ae2", TiedAutoencoder(n_components=3, max_iter=10, random_state=0)),
        ],
        fine_tune_max_iter=3,
        random_state=0,
    ),
    AutoencoderClassifier(
        SparseAutoencoder(n_components=8, max_iter=10, random_state=0),
        learning_rate_init=0.01,
        max_iter=100,
        random_state=0,
    ),
    AutoencoderOutlierDetector(random_state=0),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
