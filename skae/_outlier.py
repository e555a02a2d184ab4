"""AutoencoderOutlierDetector: reconstruction error as an outlier score, with explanations.

The detector scales X per feature, fits an autoencoder to the scaled training rows, and
scores a row by its squared reconstruction error in the scaled space::

    x~_j = (x_j - center_j) / scale_j
    feature_scores(x)_j = (g(f(x~))_j - x~_j) ** 2
    score_samples(x) = -sum_j feature_scores(x)_j

so that the per-feature scores add up exactly to the row's outlier score (PyOD's
``decision_scores_`` sign: higher is more abnormal), and ``score_samples`` follows
scikit-learn's sign (higher is more normal). The scale of each feature has a floor
tied to the typical scale of all features, so that a column that is (nearly) constant
in the training data cannot give huge scores to the rows that light it up.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import restore_on_error
from ._denoising import DenoisingAutoencoder
from ._persistence import PersistenceMixin
from .utils._blocks import map_row_blocks

# The default autoencoder (see _default_autoencoder): its hidden units, capped at half the
# features; its minibatch; and its budget in Adam updates, not epochs, so that a small
# training set is not left with a few dozen steps.
DEFAULT_N_COMPONENTS = 64
DEFAULT_BATCH_SIZE = 100
DEFAULT_UPDATES = 1000
DEFAULT_MIN_EPOCHS = 20
# each epoch has a fixed cost beside its updates: tiny sets stop at this many epochs
DEFAULT_MAX_EPOCHS = 200
# Tukey's fence: rows whose outlier score passes Q3 + 1.5 IQR of the training scores.
TUKEY_FENCE = 1.5


def _spread_floor(spread, scale_floor):
    """``max(spread_j, scale_floor * median of the positive spreads)``; 0 becomes 1.

    The floor is relative to the typical feature, so it keeps its meaning whatever the
    units of X; with ``scale_floor=0`` a zero spread alone is replaced (by 1), as
    scikit-learn's scalers do.
    """
    positive = spread[spread > 0]
    reference = np.median(positive) if positive.size else 1.0
    scale = np.maximum(spread, scale_floor * reference)
    scale[scale == 0] = 1.0
    return scale


# rows x reference rows of squared distances held at once by the neighbour search
KNN_BLOCK_ENTRIES = 1 << 22


def _nearest_distances(queries, reference, n_neighbors, leave_self_out=False):
    """Distances from each query row to its ``n_neighbors`` nearest reference rows.

    Brute force in blocks of query rows, so that memory beyond the inputs and the
    output is bounded (:data:`KNN_BLOCK_ENTRIES` squared distances at once).
    ``leave_self_out`` (queries are the reference rows themselves) skips each row's own
    position, as a leave-one-out estimate, so that the training rows get the distances a
    new row from their distribution would get.

    Returns
    -------
    distances : ndarray of shape (n_queries, n_neighbors)
        Sorted, nearest first.
    indices : ndarray of shape (n_queries, n_neighbors)
        Positions of those neighbours in ``reference``.
    """
    n_queries = queries.shape[0]
    reference_norms = np.einsum("ij,ij->i", reference, reference)
    distances = np.empty((n_queries, n_neighbors), dtype=queries.dtype)
    indices = np.empty((n_queries, n_neighbors), dtype=np.intp)
    step = max(1, KNN_BLOCK_ENTRIES // max(1, reference.shape[0]))
    for start in range(0, n_queries, step):
        block = queries[start : start + step]
        squared = block @ reference.T
        squared *= -2
        squared += np.einsum("ij,ij->i", block, block)[:, None]
        squared += reference_norms
        if leave_self_out:
            rows = np.arange(block.shape[0])
            squared[rows, start + rows] = np.inf
        nearest = np.argpartition(squared, n_neighbors - 1, axis=1)[:, :n_neighbors]
        nearest_squared = np.take_along_axis(squared, nearest, axis=1)
        order = np.argsort(nearest_squared, axis=1)
        stop = start + block.shape[0]
        indices[start:stop] = np.take_along_axis(nearest, order, axis=1)
        # rounding can leave a tiny negative square
        distances[start:stop] = np.sqrt(
            np.maximum(np.take_along_axis(nearest_squared, order, axis=1), 0)
        )
    return distances, indices


class AutoencoderOutlierDetector(PersistenceMixin, OutlierMixin, BaseEstimator):
    """Outlier detection by the reconstruction error of an autoencoder.

    Fit on (mostly) normal rows; rows the autoencoder cannot reconstruct are outliers.
    Follows scikit-learn's outlier detection API as
    :class:`~sklearn.ensemble.IsolationForest` does, carries PyOD's fitted attributes
    for users who come from there, and explains each row by its per-feature errors
    (:meth:`feature_scores`).

    ===========================  ====================================  ================
    scikit-learn                 PyOD                                  relation
    ===========================  ====================================  ================
    ``score_samples(X)``         ``decision_function(X)``              PyOD = -sklearn
    (higher: more normal)        (higher: more abnormal)
    ``offset_``                  ``threshold_``                        ``-offset_``
    ``predict(X)`` (+1 / -1)     ``labels_``, ``predict`` (0 / 1)      1 is -1
    ``score_samples(X_train)``   ``decision_scores_``                  PyOD = -sklearn
    ===========================  ====================================  ================

    This class's own ``decision_function`` is scikit-learn's
    (``score_samples(X) - offset_``, negative for outliers).

    Parameters
    ----------
    autoencoder : skae autoencoder or None, default=None
        The model to fit to the scaled rows: any estimator with ``fit``, ``transform``
        and ``inverse_transform`` (``SparseAutoencoder``, ``DenoisingAutoencoder``,
        ``TiedAutoencoder``, ``StackedAutoencoder``). It is cloned, never fitted in
        place. None uses an undercomplete denoising autoencoder: ``min(64, n_features
        // 2)`` (at least 1) relu units, a linear decoder, squared error, masking noise
        0.1, Adam on minibatches of 100 rows for 1000 updates (at least 20 and at most
        200 epochs; its ConvergenceWarning is silenced, the budget is chosen), chosen
        on a validation split of MNIST's training set (see
        :doc:`/outlier_detection`).
    contamination : "auto" or float in (0, 0.5], default="auto"
        Share of outliers expected in the training data; sets ``offset_``. A float
        flags that share of the training rows (``offset_`` is the matching percentile of
        their ``score_samples``). "auto" flags the training rows whose outlier score
        lies beyond Tukey's upper fence, Q3 + 1.5 (Q3 - Q1) of the training scores, as a
        box plot marks outliers, without assuming a share.
    scaling : {"minmax", "standard"} or None, default="minmax"
        Per-feature scaling before the autoencoder: "minmax" maps the training range
        of each feature to [0, 1] (no clipping: a value outside the training range is a
        sign of an outlier and is kept), "standard" centres on the training mean and
        divides by the standard deviation; None leaves X as it is.
    scale_floor : float >= 0, default=0.1
        Floor of each feature's scale (range or standard deviation), as a share of the
        median scale of the features that vary: a column constant or nearly constant in
        the training data is divided by this floor, not by its own tiny spread, so the
        rows that light it up get a large but bounded error. 0 divides by the
        feature's own spread (replacing a zero one by 1), as scikit-learn's and PyOD's
        scalers do. Ignored with ``scaling=None``.
    latent : {"knn", "local_knn", "mahalanobis"} or None, default=None
        A term in code space added to the reconstruction error: how far the row's code
        (``autoencoder_.transform`` of the scaled row) lies from the training rows'
        codes. "knn": the mean distance to its ``n_neighbors`` nearest training codes;
        "local_knn": that distance divided by the same mean distance of those
        neighbours (a density ratio, as :class:`~sklearn.neighbors.LocalOutlierFactor`'s),
        "mahalanobis": the squared Mahalanobis distance of the code under a Gaussian fit
        to the training codes. A row can be reconstructed well and still lie where no
        normal row does; the reconstruction error alone cannot see that. None: the
        reconstruction error alone.
    latent_weight : float >= 0, default=1.0
        Weight of the code-space term, relative to the reconstruction error after both
        are divided by their mean over the training rows: with 1 both count alike for a
        typical normal row. Ignored with ``latent=None``.
    n_neighbors : int >= 1, default=5
        Neighbours of the "knn" and "local_knn" terms (at most the training rows minus
        one).
    chunk_size : int or None, default=4096
        Rows per block in ``score_samples``, ``decision_function``, ``predict`` and
        ``feature_scores``: memory beyond X and the output is bounded by the block,
        whatever the number of rows. None scores all rows at once.
    random_state : int, RandomState instance or None, default=None
        If not None, seeds every ``random_state`` of the autoencoder (each step of a
        ``StackedAutoencoder`` too), so that a fit is reproducible. None leaves the
        autoencoder's own seeds as they are.

    Attributes
    ----------
    autoencoder_ : autoencoder
        The fitted clone of ``autoencoder`` (or of the default).
    center_ : ndarray of shape (n_features,)
        Subtracted from each feature before scaling (training minimum or mean).
    scale_ : ndarray of shape (n_features,)
        Each feature is divided by it after centring (floored spread).
    offset_ : float
        ``decision_function = score_samples - offset_``; rows below it are outliers.
    decision_scores_ : ndarray of shape (n_samples,)
        PyOD: outlier score of each training row, ``-score_samples(X_train)``; higher is
        more abnormal.
    threshold_ : float
        PyOD: ``-offset_``; training rows with ``decision_scores_ > threshold_`` are
        outliers.
    labels_ : ndarray of shape (n_samples,)
        PyOD: 1 for a training row flagged as an outlier, 0 otherwise.
    latent_scale_ : float
        The code-space term's factor: ``latent_weight`` times the mean training
        reconstruction error over the term's mean on the training rows (0 with
        ``latent=None``).
    training_codes_ : ndarray of shape (n_samples, n_components)
        With ``latent="knn"`` or ``"local_knn"``: the training rows' codes.
    training_knn_distances_ : ndarray of shape (n_samples,)
        With ``latent="knn"`` or ``"local_knn"``: each training row's mean distance to its
        nearest other training codes (leave-one-out).
    n_neighbors_ : int
        With ``latent="knn"`` or ``"local_knn"``: the neighbours used.
    code_mean_ : ndarray of shape (n_components,)
        With ``latent="mahalanobis"``: mean of the training codes.
    code_precision_ : ndarray of shape (n_components, n_components)
        With ``latent="mahalanobis"``: inverse of their covariance plus a ridge of 1e-3
        of the mean variance (a dead unit stays invertible).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    sklearn.ensemble.IsolationForest : the same API with random trees.
    skae.inspection.OutlierExplanationDisplay : one row's input, reconstruction and
        feature scores.

    Notes
    -----
    ``score_samples(X) == -(feature_scores(X).sum(axis=1) + latent_scores(X))``:
    the per-feature scores decompose the reconstruction part, the code-space term is one
    number per row (zero with ``latent=None``, where ``score_samples`` is minus the
    sum of the feature scores exactly). Without a code-space term and with an
    autoencoder of ``loss="squared_error"``, ``score_samples(X)`` is also twice the
    autoencoder's own ``score_samples`` of the scaled rows (its loss is 1/2 the squared
    error). With a neighbour term, the training rows' own scores
    (``decision_scores_``, and so ``offset_``) leave each row out of its neighbours, as
    :class:`~sklearn.neighbors.LocalOutlierFactor` does; ``score_samples`` of a training
    row finds the row itself at distance 0.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderOutlierDetector
    >>> X, y = load_digits(return_X_y=True)
    >>> detector = AutoencoderOutlierDetector(random_state=0).fit(X[y == 0])
    >>> normal = detector.score_samples(X[y == 0]).mean()
    >>> other = detector.score_samples(X[y != 0]).mean()
    >>> bool(normal > other)
    True
    >>> detector.feature_scores(X[:2]).shape
    (2, 64)
    """

    _parameter_constraints = {
        "autoencoder": [HasMethods(["fit", "transform", "inverse_transform"]), None],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "scaling": [StrOptions({"minmax", "standard"}), None],
        "scale_floor": [Interval(Real, 0, None, closed="left")],
        "latent": [StrOptions({"knn", "local_knn", "mahalanobis"}), None],
        "latent_weight": [Interval(Real, 0, None, closed="left")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        autoencoder=None,
        *,
        contamination="auto",
        scaling="minmax",
        scale_floor=0.1,
        latent=None,
        latent_weight=1.0,
        n_neighbors=5,
        chunk_size=4096,
        random_state=None,
    ):
        self.autoencoder = autoencoder
        self.contamination = contamination
        self.scaling = scaling
        self.scale_floor = scale_floor
        self.latent = latent
        self.latent_weight = latent_weight
        self.n_neighbors = n_neighbors
        self.chunk_size = chunk_size
        self.random_state = random_state

    # -- fitting -----------------------------------------------------------------------
    def _default_autoencoder(self, n_samples, n_features):
        """The undercomplete denoising autoencoder used when ``autoencoder`` is None.

        Every parameter it relies on is set here, so that it does not move when the
        autoencoders' own defaults do.
        """
        batches_per_epoch = -(-n_samples // DEFAULT_BATCH_SIZE)
        epochs = -(-DEFAULT_UPDATES // batches_per_epoch)
        epochs = min(DEFAULT_MAX_EPOCHS, max(DEFAULT_MIN_EPOCHS, epochs))
        return DenoisingAutoencoder(
            n_components=min(DEFAULT_N_COMPONENTS, max(1, n_features // 2)),
            activation="relu",
            output_activation="identity",
            loss="squared_error",
            tied=False,
            alpha=1e-4,
            sparsity="kl",
            sparsity_weight=0.0,
            contraction_weight=0.0,
            transform_k_factor=None,
            initial_sparsity_target=None,
            noise="masking",
            noise_level=0.1,
            solver="adam",
            batch_size=DEFAULT_BATCH_SIZE,
            learning_rate="constant",
            learning_rate_init=1e-3,
            max_iter=epochs,
            tol=1e-4,
            n_iter_no_change=10,
            early_stopping=False,
            chunk_size=self.chunk_size,
            warm_start=False,
            verbose=0,
        )

    def _seeded_autoencoder(self, n_samples, n_features):
        """An unfitted copy of the autoencoder, its seeds drawn from ``random_state``."""
        if self.autoencoder is None:
            autoencoder = self._default_autoencoder(n_samples, n_features)
        else:
            autoencoder = clone(self.autoencoder)
        if self.random_state is not None:
            rng = check_random_state(self.random_state)
            names = sorted(
                name
                for name in autoencoder.get_params(deep=True)
                if name == "random_state" or name.endswith("__random_state")
            )
            seeds = {name: int(rng.randint(np.iinfo(np.int32).max)) for name in names}
            autoencoder.set_params(**seeds)
        return autoencoder

    def _fit_scaling(self, X):
        if self.scaling is None:
            center = np.zeros(X.shape[1], dtype=X.dtype)
            spread = np.ones(X.shape[1], dtype=X.dtype)
            return center, spread
        if self.scaling == "minmax":
            center = X.min(axis=0)
            spread = X.max(axis=0) - center
        else:  # "standard"
            center = X.mean(axis=0)
            spread = X.std(axis=0)
        return center, _spread_floor(spread, self.scale_floor).astype(X.dtype)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Scale X, fit the autoencoder to it, and set the threshold from the scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training rows, mostly normal ones (float32 stays float32).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted detector.
        """
        return self._fit(X)

    @restore_on_error
    def _fit(self, X):
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        center, scale = self._fit_scaling(X)
        autoencoder = self._seeded_autoencoder(*X.shape)
        with warnings.catch_warnings():
            if self.autoencoder is None:
                # the default's epoch budget is chosen, not a sign of failure
                warnings.simplefilter("ignore", ConvergenceWarning)
            autoencoder.fit((X - center) / scale)
        self.center_, self.scale_, self.autoencoder_ = center, scale, autoencoder
        scores = self._fit_latent(X)
        if self.contamination == "auto":
            q1, q3 = np.percentile(-scores, [25, 75])
            self.offset_ = float(-(q3 + TUKEY_FENCE * (q3 - q1)))
        else:
            self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))
        self.decision_scores_ = -scores
        self.threshold_ = -self.offset_
        self.labels_ = (scores < self.offset_).astype(np.int64)
        return self

    def _fit_latent(self, X):
        """Fit the code-space term, if any; return the training rows' score_samples.

        The term is brought to the units of the reconstruction error: multiplied by
        ``latent_weight`` times the ratio of the two terms' means over the training rows,
        so that with weight 1 both count alike for a typical normal row.
        """
        step = X.shape[0] if self.chunk_size is None else self.chunk_size
        code_blocks, error_blocks = [], []
        for start in range(0, X.shape[0], step):
            codes, errors = self._block_codes_and_errors(X[start : start + step])
            code_blocks.append(codes.astype(X.dtype))
            error_blocks.append(errors.sum(axis=1))
        errors = np.concatenate(error_blocks)
        codes = np.concatenate(code_blocks) if self.latent is not None else None
        self.latent_scale_ = 0.0
        if self.latent is None:
            return -errors
        if self.latent == "mahalanobis":
            self.code_mean_ = codes.mean(axis=0)
            covariance = np.atleast_2d(np.cov(codes, rowvar=False, bias=True))
            # a ridge of 1e-3 of the mean variance: dead (constant) units stay invertible
            ridge = 1e-3 * max(float(np.trace(covariance)) / covariance.shape[0], 1e-12)
            covariance[np.diag_indices_from(covariance)] += ridge
            self.code_precision_ = np.linalg.inv(covariance).astype(X.dtype)
            raw = self._latent_raw(codes)
        else:
            self.training_codes_ = codes
            self.n_neighbors_ = min(self.n_neighbors, X.shape[0] - 1)
            distances, indices = _nearest_distances(
                codes, codes, self.n_neighbors_, leave_self_out=True
            )
            self.training_knn_distances_ = distances.mean(axis=1)
            raw = self._knn_raw(distances, indices)
        mean_raw = float(raw.mean())
        self.latent_scale_ = (
            self.latent_weight * float(errors.mean()) / mean_raw if mean_raw > 0 else 0.0
        )
        return -(errors + self.latent_scale_ * raw).astype(X.dtype)

    def _knn_raw(self, distances, indices):
        """Mean distance to the nearest training codes; "local_knn" divides it by the
        neighbours' own mean distance to theirs (a density ratio, as LOF's)."""
        raw = distances.mean(axis=1)
        if self.latent == "local_knn":
            local = self.training_knn_distances_[indices].mean(axis=1)
            raw = raw / np.maximum(local, np.finfo(raw.dtype).tiny)
        return raw

    def _latent_raw(self, codes):
        """The code-space term of each row before its scaling to the error's units."""
        if self.latent == "mahalanobis":
            centred = codes - self.code_mean_
            return np.einsum("ij,jk,ik->i", centred, self.code_precision_, centred)
        distances, indices = _nearest_distances(codes, self.training_codes_, self.n_neighbors_)
        return self._knn_raw(distances, indices)

    # -- scores ------------------------------------------------------------------------
    def _check_input(self, X):
        check_is_fitted(self)
        return validate_data(self, X, dtype=[np.float64, np.float32], reset=False)

    def _block_codes_and_errors(self, block):
        """Codes, and squared reconstruction error of each feature, of one block of rows."""
        scaled = (block - self.center_) / self.scale_
        codes = self.autoencoder_.transform(scaled)
        reconstructed = self.autoencoder_.inverse_transform(codes)
        np.subtract(reconstructed, scaled, out=scaled)
        return codes, np.square(scaled, out=scaled)

    def _block_errors(self, block):
        """Squared reconstruction error of each feature of each row of one block."""
        return self._block_codes_and_errors(block)[1]

    def _block_scores(self, block):
        codes, errors = self._block_codes_and_errors(block)
        total = errors.sum(axis=1)
        if self.latent is not None:
            total += self.latent_scale_ * self._latent_raw(codes.astype(block.dtype))
        return -total

    def _score_samples(self, X):
        scores = np.empty(X.shape[0], dtype=X.dtype)
        return map_row_blocks(self._block_scores, X, scores, self.chunk_size)

    def latent_scores(self, X):
        """The code-space part of the outlier score, in the reconstruction error's units.

        ``-score_samples(X) == feature_scores(X).sum(axis=1) + latent_scores(X)``; zero
        with ``latent=None``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        latent_scores : ndarray of shape (n_samples,)
            Non-negative, same float dtype as X; computed in blocks of ``chunk_size``
            rows.
        """
        X = self._check_input(X)
        out = np.zeros(X.shape[0], dtype=X.dtype)
        if self.latent is None:
            return out

        def block_latent(block):
            codes = self._block_codes_and_errors(block)[0].astype(block.dtype)
            return self.latent_scale_ * self._latent_raw(codes)

        return map_row_blocks(block_latent, X, out, self.chunk_size)

    def feature_scores(self, X):
        """Squared reconstruction error of each feature, in the scaled space.

        A row's features sum to its outlier score:
        ``feature_scores(X).sum(axis=1) == -score_samples(X)``, so the largest entries
        of a row name the features that make it abnormal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        feature_scores : ndarray of shape (n_samples, n_features)
            Non-negative, same float dtype as X; computed in blocks of ``chunk_size``
            rows.
        """
        X = self._check_input(X)
        out = np.empty(X.shape, dtype=X.dtype)
        return map_row_blocks(self._block_errors, X, out, self.chunk_size)

    def score_samples(self, X):
        """Opposite of the outlier score: minus the squared reconstruction error.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Higher is more normal; ``-feature_scores(X).sum(axis=1)``. Computed in
            blocks of ``chunk_size`` rows.
        """
        return self._score_samples(self._check_input(X))

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for an inlier, -1 for an outlier (``decision_function(X) < 0``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        X = self._check_input(X)
        labels = np.ones(X.shape[0], dtype=np.int64)
        labels[self._score_samples(X) < self.offset_] = -1
        return labels

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags
