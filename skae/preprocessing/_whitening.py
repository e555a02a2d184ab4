"""ZCA whitening, the preprocessing of Ng's sparse-autoencoder exercise on natural images.

With the data's covariance ``C = U diag(S) U^T`` (X centred by its mean), PCA whitening
rotates into the eigenbasis, ``x U diag(S + eps)^(-1/2)``; ZCA whitening rotates back,

    x_zca = (x - mean) W,   W = U diag(S + eps)^(-1/2) U^T   (symmetric),

so that of all whitening transforms it stays closest to the input: whitened images
still look like images, with edges enhanced and smooth regions flattened. The
covariance of the output is ``U diag(S / (S + eps)) U^T``: the identity when ``eps``
is small next to ``S``, a low-pass damping of the directions of variance below ``eps``
otherwise (which keeps noise in those directions from being blown up).
"""

from numbers import Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data


class ZCAWhitening(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """ZCA whitening: decorrelate the features and give them unit variance, rotated back.

    ``transform(X) = (X - mean_) @ whitening_`` with the symmetric
    ``whitening_ = U diag(S + epsilon)^(-1/2) U^T``, where ``U diag(S) U^T`` is the
    covariance of the training data (divided by ``n_samples``, as in Ng's notes).
    scikit-learn's ``PCA(whiten=True)`` gives the same covariance but in the rotated
    PCA basis; ZCA keeps the pixel basis, so whitened images remain images.

    Parameters
    ----------
    epsilon : float, default=1e-5
        Added to each eigenvalue before the inverse square root. Directions whose
        variance is below ``epsilon`` are damped rather than amplified: for image
        patches with pixels in [0, 1], 0.01 to 0.1 (Ng's exercise uses 0.1) gives
        smooth filters; near 0 it amplifies pixel noise. Must be > 0.
    copy : bool, default=True
        If False, ``X`` may be centred in place when it already has the right dtype.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Mean of each feature in the training data.
    whitening_ : ndarray of shape (n_features, n_features)
        The symmetric matrix W of ``transform``.
    dewhitening_ : ndarray of shape (n_features, n_features)
        Its inverse ``U diag(S + epsilon)^(1/2) U^T``, used by ``inverse_transform``.
    eigenvalues_ : ndarray of shape (n_features,)
        Eigenvalues S of the training covariance, in decreasing order.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.decomposition.PCA : PCA whitening with ``whiten=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skae.preprocessing import ZCAWhitening
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 3)) @ np.array([[2, 1, 0], [0, 1, 0], [0, 0, 3]])
    >>> zca = ZCAWhitening(epsilon=1e-8).fit(X)
    >>> np.allclose(np.cov(zca.transform(X).T, bias=True), np.eye(3))
    True
    >>> np.allclose(zca.inverse_transform(zca.transform(X)), X)
    True
    """

    _parameter_constraints = {
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "copy": ["boolean"],
    }

    def __init__(self, epsilon=1e-5, copy=True):
        self.epsilon = epsilon
        self.copy = copy

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute the mean and the whitening matrix of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; float32 stays float32.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        # the covariance in float64: float32 sums over many samples lose digits
        mean = X.mean(axis=0, dtype=np.float64)
        centred = X.astype(np.float64) - mean
        covariance = centred.T @ centred / X.shape[0]
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        eigenvalues = np.clip(eigenvalues, 0.0, None)[::-1]  # round-off can go below 0
        eigenvectors = eigenvectors[:, ::-1]
        inverse_root = 1.0 / np.sqrt(eigenvalues + self.epsilon)
        # U diag(d) U^T, symmetrised so that round-off leaves it exactly symmetric
        whitening = (eigenvectors * inverse_root) @ eigenvectors.T
        dewhitening = (eigenvectors / inverse_root) @ eigenvectors.T
        self.mean_ = mean.astype(X.dtype)
        self.whitening_ = ((whitening + whitening.T) / 2).astype(X.dtype)
        self.dewhitening_ = ((dewhitening + dewhitening.T) / 2).astype(X.dtype)
        self.eigenvalues_ = eigenvalues.astype(X.dtype)
        return self

    def transform(self, X):
        """Whiten X: ``(X - mean_) @ whitening_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_white : ndarray of shape (n_samples, n_features)
            Same float dtype as X.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], copy=self.copy, reset=False)
        X -= self.mean_.astype(X.dtype, copy=False)
        return X @ self.whitening_.astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        """Undo the whitening: ``X @ dewhitening_ + mean_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Whitened data.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        X_original = X @ self.dewhitening_.astype(X.dtype, copy=False)
        X_original += self.mean_.astype(X.dtype, copy=False)
        return X_original

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
