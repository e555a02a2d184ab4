"""AutoencoderOutlierDetector: reconstruction error times local density, with explanations.

The detector scales X per feature, fits an autoencoder to the scaled training rows, and
scores a row by its squared reconstruction error in the scaled space, multiplied by a
local density factor (how sparse the training rows are around it)::

    x~_j = (x_j - center_j) / scale_j
    ratio(x) = mean distance of x to its k nearest training rows
               / the same mean distance of those neighbours (leave-one-out)
    factor(x) = (ratio(x) / ratio_center_) ** gamma_
    feature_scores(x)_j = (g(f(x~))_j - x~_j) ** 2 * factor(x)
    score_samples(x) = -sum_j feature_scores(x)_j

so that the per-feature scores add up exactly to the row's outlier score (PyOD's
``decision_scores_`` sign: higher is more abnormal), and ``score_samples`` follows
scikit-learn's sign (higher is more normal). ``gamma_`` weighs the two parts by the
spreads of their logarithms over the training rows. The scale of each feature has a
floor tied to the typical scale of all features, so that a column that is (nearly)
constant in the training data cannot give huge scores to the rows that light it up.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import (
    TRAINING_CONSTRAINTS,
    nested_fit,
    restore_on_error,
    warn_interrupted_before_fitting,
)
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
# density ratios below this are floored, so that their logarithm stays finite (a row
# that duplicates training rows has ratio 0)
RATIO_FLOOR = 1e-6
# the density factor stays within exp(-50) and exp(50) (5e21): a score cannot overflow
# float32 (3e38) unless its error passes 1e16, and the rows beyond the limit are far
# outliers (or far inliers) whatever their exact factor
LOG_FACTOR_LIMIT = 50.0
# what a fit with a density factor sets beside gamma_
DENSITY_ATTRIBUTES = (
    "density_reference_",
    "neighbor_distances_",
    "ratio_center_",
    "n_neighbors_",
)
# Tukey's fence: rows whose outlier score passes Q3 + 1.5 IQR of the training scores.
TUKEY_FENCE = 1.5


def _interquartile_range(values):
    """Q3 - Q1: a spread that a few extreme rows (an error near 0) do not dominate."""
    q1, q3 = np.percentile(values, [25, 75])
    return float(q3 - q1)


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
# a squared distance below this many machine epsilons of |q|^2 + |r|^2 is a duplicate:
# the rounding of the dot product of two equal rows stays well below it
DUPLICATE_TOLERANCE = 256
# where a duplicate is put (a squared distance float32 holds): after every real neighbour
SKIPPED_SQUARED_DISTANCE = 1e30


def _nearest_distances(queries, reference, n_neighbors):
    """Distances from each query row to its ``n_neighbors`` nearest reference rows,
    skipping the reference rows it duplicates.

    A reference row at distance 0 (up to the rounding of the distance formula) is the
    query itself, or a copy: it is skipped, so that a training row scored by the fitted
    detector gets the distances of a leave-one-out estimate, the distances a new row
    from its distribution would get (its own ratio is then no lower than a new row's,
    and ``contamination`` keeps its meaning). Skipped rows are put at
    :data:`SKIPPED_SQUARED_DISTANCE`, so that they come last; they are used only when
    fewer than ``n_neighbors`` rows differ from the query.

    Brute force in blocks of query rows, so that memory beyond the inputs and the
    output is bounded (:data:`KNN_BLOCK_ENTRIES` squared distances at once).

    Returns
    -------
    distances : ndarray of shape (n_queries, n_neighbors)
        Sorted, nearest first.
    indices : ndarray of shape (n_queries, n_neighbors)
        Positions of those neighbours in ``reference``.
    """
    n_queries = queries.shape[0]
    reference_norms = np.einsum("ij,ij->i", reference, reference)
    rounding = DUPLICATE_TOLERANCE * np.finfo(queries.dtype).eps
    distances = np.empty((n_queries, n_neighbors), dtype=queries.dtype)
    indices = np.empty((n_queries, n_neighbors), dtype=np.intp)
    step = max(1, KNN_BLOCK_ENTRIES // max(1, reference.shape[0]))
    for start in range(0, n_queries, step):
        block = queries[start : start + step]
        block_norms = np.einsum("ij,ij->i", block, block)[:, None]
        squared = block @ reference.T
        squared *= -2
        squared += block_norms
        squared += reference_norms
        # |q|^2 - 2 q.r + |r|^2 of a duplicate is 0 up to rounding relative to the norms
        duplicate = squared <= rounding * (block_norms + reference_norms)
        squared[duplicate] = SKIPPED_SQUARED_DISTANCE
        nearest = np.argpartition(squared, n_neighbors - 1, axis=1)[:, :n_neighbors]
        nearest_squared = np.take_along_axis(squared, nearest, axis=1)
        order = np.argsort(nearest_squared, axis=1, kind="stable")
        stop = start + block.shape[0]
        indices[start:stop] = np.take_along_axis(nearest, order, axis=1)
        nearest_squared = np.take_along_axis(nearest_squared, order, axis=1)
        # a square below the tolerance is a duplicate, so none is negative; kept safe
        distances[start:stop] = np.sqrt(np.maximum(nearest_squared, 0))
    return distances, indices


class AutoencoderOutlierDetector(PersistenceMixin, OutlierMixin, BaseEstimator):
    """Outlier detection by the reconstruction error of an autoencoder and local density.

    Fit on (mostly) normal rows; rows the autoencoder cannot reconstruct, or that lie
    where the normal rows are sparse, are outliers: the score is the squared
    reconstruction error times a local density factor (``density``). Follows
    scikit-learn's outlier detection API as
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
        :doc:`/outlier_detection`, which also says why this budget and not the
        autoencoders' ``max_iter="auto"``).
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
    density : {"input", "code"} or None, default="input"
        Where the local density factor of the score is measured: "input" between the
        rows of X as given (as :class:`~sklearn.neighbors.LocalOutlierFactor` does;
        put features on one scale first), "code" between their codes
        (``autoencoder_.transform`` of the scaled rows). A row's density ratio is its
        mean distance to its ``n_neighbors`` nearest training rows divided by the same
        mean distance of those neighbours; the row's reconstruction error is multiplied
        by that ratio (over its training centre) to the power ``gamma_`` (below),
        within ``exp(-50)`` and ``exp(50)``. A row can be reconstructed well
        and still lie where few normal rows do; the reconstruction error alone does not
        see that. None: the reconstruction error alone.
    density_weight : float >= 0, default=4.0
        Weight of the density factor against the reconstruction error, each measured by
        the interquartile range of its logarithm over the training rows:
        ``gamma_ = density_weight * IQR(log error) / IQR(log ratio)``, so that the
        outlier score ranks rows as ``log error + gamma_ * log ratio``. 0 is the
        reconstruction error alone. Ignored with ``density=None``.
    n_neighbors : int >= 1, default=100
        Neighbours of the density ratio (at most the training rows minus one). A wide
        neighbourhood keeps a small group of anomalies in the training rows from looking
        like a dense region of their own: chosen on validation with clean and 5%
        polluted training rows (20, ``LocalOutlierFactor``'s default, ranks clean data a
        little better and collapses under pollution).
    chunk_size : int or None, default=4096
        Rows per block in ``score_samples``, ``decision_function``, ``predict`` and
        ``feature_scores``: memory beyond X and the output is bounded by the block,
        whatever the number of rows. None scores all rows at once.
    random_state : int, RandomState instance or None, default=None
        If not None, seeds every ``random_state`` of the autoencoder (each step of a
        ``StackedAutoencoder`` too), so that a fit is reproducible. None leaves the
        autoencoder's own seeds as they are.
    callbacks : list of callbacks or None, default=None
        Called while the autoencoder trains (see :mod:`skae.callbacks`: a progress bar,
        checkpoints that resume a killed fit), as if they were its own.

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
    gamma_ : float
        Exponent of the density factor (0 with ``density=None``).
    density_reference_ : ndarray of shape (n_samples, n_features or n_components)
        With a density factor: the training rows (``density="input"``) or their codes
        (``"code"``), the neighbours of every scored row.
    neighbor_distances_ : ndarray of shape (n_samples,)
        With a density factor: each training row's mean distance to its
        ``n_neighbors_`` nearest other training rows (leave-one-out).
    ratio_center_ : float
        With a density factor: geometric mean of the training rows' density ratios; a
        row at that ratio keeps its reconstruction error unchanged.
    n_neighbors_ : int
        With a density factor: the neighbours used.

    See Also
    --------
    sklearn.ensemble.IsolationForest : the same API with random trees.
    skae.inspection.OutlierExplanationDisplay : one row's input, reconstruction and
        feature scores.

    Notes
    -----
    ``score_samples(X) == -feature_scores(X).sum(axis=1)`` exactly: the feature scores
    are the squared errors of the row's features, multiplied by its density factor
    (:meth:`density_factors`, one number per row, 1 for a training row of typical
    density; all ones with ``density=None``). So the factor scales a row's explanation
    as a whole, never the ranking of its features. With ``density=None`` and an
    autoencoder of ``loss="squared_error"``, ``score_samples(X)`` is also twice the
    autoencoder's own ``score_samples`` of the scaled rows (its loss is 1/2 the squared
    error). A row's neighbours skip the training rows it duplicates (distance 0), so
    a training row scored after the fit (``decision_scores_``, ``offset_``,
    ``fit_predict``) is left out of its own neighbours, as a new row from its
    distribution would be, as :class:`~sklearn.neighbors.LocalOutlierFactor` does for
    its training rows.

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
        "density": [StrOptions({"input", "code"}), None],
        "density_weight": [Interval(Real, 0, None, closed="left")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "callbacks": TRAINING_CONSTRAINTS["callbacks"],
    }

    def __init__(
        self,
        autoencoder=None,
        *,
        contamination="auto",
        scaling="minmax",
        scale_floor=0.1,
        density="input",
        density_weight=4.0,
        n_neighbors=100,
        chunk_size=4096,
        random_state=None,
        callbacks=None,
    ):
        self.autoencoder = autoencoder
        self.contamination = contamination
        self.scaling = scaling
        self.scale_floor = scale_floor
        self.density = density
        self.density_weight = density_weight
        self.n_neighbors = n_neighbors
        self.chunk_size = chunk_size
        self.random_state = random_state
        self.callbacks = callbacks

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
            try:
                with nested_fit(autoencoder, "autoencoder__", owner=self):
                    autoencoder.fit((X - center) / scale)
            except KeyboardInterrupt:
                # a threshold from a half-trained autoencoder is not what was asked for
                warn_interrupted_before_fitting(self, "the autoencoder's training")
                raise
        self.center_, self.scale_, self.autoencoder_ = center, scale, autoencoder
        scores = self._fit_density(X)
        if self.contamination == "auto":
            q1, q3 = np.percentile(-scores, [25, 75])
            self.offset_ = float(-(q3 + TUKEY_FENCE * (q3 - q1)))
        else:
            self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))
        self.decision_scores_ = -scores
        self.threshold_ = -self.offset_
        self.labels_ = (scores < self.offset_).astype(np.int64)
        return self

    def _fit_density(self, X):
        """Fit the density factor, if any; return the training rows' score_samples.

        The training rows' ratios that set the factor's centre and exponent leave each
        row out of its own neighbours, so that they are what a new normal row would get.
        """
        step = X.shape[0] if self.chunk_size is None else self.chunk_size
        code_blocks, error_blocks = [], []
        for start in range(0, X.shape[0], step):
            codes, errors = self._block_codes_and_errors(X[start : start + step])
            if self.density == "code":
                code_blocks.append(codes.astype(X.dtype))
            error_blocks.append(errors.sum(axis=1))
        errors = np.concatenate(error_blocks)
        self.gamma_ = 0.0
        for name in DENSITY_ATTRIBUTES:  # a refit without the factor drops the old one's
            self.__dict__.pop(name, None)
        if self.density is None:
            return -errors
        reference = np.concatenate(code_blocks) if self.density == "code" else X.copy()
        self.density_reference_ = reference
        self.n_neighbors_ = min(self.n_neighbors, X.shape[0] - 1)
        # each row skips itself: leave-one-out
        distances, indices = _nearest_distances(reference, reference, self.n_neighbors_)
        self.neighbor_distances_ = distances.mean(axis=1)
        log_ratios = np.log(self._ratios(distances, indices))
        self.ratio_center_ = float(np.exp(log_ratios.mean()))
        log_errors = np.log(np.maximum(errors, np.finfo(errors.dtype).tiny))
        spread = _interquartile_range(log_ratios)
        self.gamma_ = (
            self.density_weight * _interquartile_range(log_errors) / spread if spread > 0 else 0.0
        )
        # the training rows' scores as predict sees them: fit_predict(X) is
        # fit(X).predict(X), and contamination flags that share of them
        return self._score_samples(X)

    def _ratios(self, distances, indices):
        """Mean distance to the nearest training rows over theirs to their own (as LOF's
        density ratio; floored so that the logarithm stays finite)."""
        local = self.neighbor_distances_[indices].mean(axis=1)
        tiny = np.finfo(distances.dtype).tiny
        ratios = distances.mean(axis=1) / np.maximum(local, tiny)
        return np.maximum(ratios, RATIO_FLOOR)

    def _block_factors(self, block, codes):
        """The density factor of each row of one block (ones without a density term)."""
        if self.density is None:
            return np.ones(block.shape[0], dtype=block.dtype)
        points = codes.astype(block.dtype) if self.density == "code" else block
        distances, indices = _nearest_distances(points, self.density_reference_, self.n_neighbors_)
        log_factors = self.gamma_ * np.log(self._ratios(distances, indices) / self.ratio_center_)
        np.clip(log_factors, -LOG_FACTOR_LIMIT, LOG_FACTOR_LIMIT, out=log_factors)
        return np.exp(log_factors).astype(block.dtype)

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

    def _block_feature_scores(self, block):
        """Each feature's squared error times the row's density factor, one block."""
        codes, errors = self._block_codes_and_errors(block)
        errors *= self._block_factors(block, codes)[:, None]
        return errors

    def _block_scores(self, block):
        codes, errors = self._block_codes_and_errors(block)
        return -errors.sum(axis=1) * self._block_factors(block, codes)

    def _score_samples(self, X):
        scores = np.empty(X.shape[0], dtype=X.dtype)
        return map_row_blocks(self._block_scores, X, scores, self.chunk_size)

    def density_factors(self, X):
        """The factor each row's reconstruction error is multiplied by.

        ``(ratio / ratio_center_) ** gamma_``, with the row's density ratio (its mean
        distance to its ``n_neighbors_`` nearest training rows over theirs): above 1
        where normal rows are sparser than around a typical training row. All ones with
        ``density=None``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        factors : ndarray of shape (n_samples,)
            Non-negative, same float dtype as X; computed in blocks of ``chunk_size``
            rows.
        """
        X = self._check_input(X)
        out = np.empty(X.shape[0], dtype=X.dtype)

        def block_factors(block):
            codes = self._block_codes_and_errors(block)[0] if self.density == "code" else None
            return self._block_factors(block, codes)

        return map_row_blocks(block_factors, X, out, self.chunk_size)

    def feature_scores(self, X):
        """Squared reconstruction error of each feature, times the row's density factor.

        A row's features sum to its outlier score:
        ``feature_scores(X).sum(axis=1) == -score_samples(X)``, so the largest entries
        of a row name the features that make it abnormal. The errors are in the scaled
        space; the density factor (:meth:`density_factors`) is one number per row, so
        it never changes which features of a row score highest.

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
        return map_row_blocks(self._block_feature_scores, X, out, self.chunk_size)

    def score_samples(self, X):
        """Opposite of the outlier score: minus the squared reconstruction error times
        the row's density factor.

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
