"""Why a row is an outlier: its input, its reconstruction and its per-feature scores."""

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

from ._displays import _pyplot
from ._measures import infer_image_shape


class OutlierExplanationDisplay:
    """One row explained by an :class:`~skae.AutoencoderOutlierDetector`.

    For images (``kind="image"``) three panels: the input, the detector's reconstruction
    (in the input's units) and the error map, the row's
    :meth:`~skae.AutoencoderOutlierDetector.feature_scores` as an image; they sum to the
    row's outlier score. They are the squared errors of the reconstruction times the
    row's density factor (one number per row, shown in the title), so the map shows
    where the reconstruction fails and the factor how sparse the normal rows are around
    the row. For tabular rows (``kind="bar"``) the features with the largest
    scores as horizontal bars.

    Parameters
    ----------
    row : ndarray of shape (n_features,)
        The input row.
    reconstruction : ndarray of shape (n_features,)
        The detector's reconstruction of it, in the units of ``row``.
    feature_scores : ndarray of shape (n_features,)
        Its per-feature scores.
    outlier_score : float
        Their sum, ``-score_samples`` of the row (PyOD's sign: higher is more abnormal).
    density_factor : float, default=1.0
        The row's :meth:`~skae.AutoencoderOutlierDetector.density_factors`: the feature
        scores are its squared errors times this factor.
    kind : {"image", "bar"}, default="image"
    image_shape : tuple of two ints or None, default=None
        Shape of the row as an image; None for a square ``n_features``.
    feature_names : array-like of str or None, default=None
        Names of the bars; None numbers the features.

    Attributes
    ----------
    ax_ : ndarray of matplotlib Axes
        Three for "image" (input, reconstruction, error map), one for "bar".
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderOutlierDetector
    >>> from skae.inspection import OutlierExplanationDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> detector = AutoencoderOutlierDetector(random_state=0).fit(X[y == 0])
    >>> display = OutlierExplanationDisplay.from_estimator(detector, X[y == 1][0])
    >>> [ax.get_title().split(" ")[0] for ax in display.ax_]
    ['input', 'reconstruction', 'feature']
    >>> plt.close("all")
    """

    def __init__(
        self,
        row,
        reconstruction,
        feature_scores,
        outlier_score,
        *,
        density_factor=1.0,
        kind="image",
        image_shape=None,
        feature_names=None,
    ):
        self.row = row
        self.reconstruction = reconstruction
        self.feature_scores = feature_scores
        self.outlier_score = outlier_score
        self.density_factor = density_factor
        self.kind = kind
        self.image_shape = image_shape
        self.feature_names = feature_names

    @classmethod
    def from_estimator(
        cls, detector, row, *, kind="image", image_shape=None, n_features=10, ax=None, cmap="gray"
    ):
        """Explain one row with a fitted detector and draw it.

        Parameters
        ----------
        detector : fitted AutoencoderOutlierDetector
        row : array-like of shape (n_features,) or (1, n_features)
        kind : {"image", "bar"}, default="image"
        image_shape : tuple of two ints or None, default=None
        n_features : int, default=10
            Bars drawn with ``kind="bar"``: the features with the largest scores.
        ax : matplotlib Axes, array of 3 Axes or None, default=None
            One Axes for "bar", three for "image"; None creates a figure.
        cmap : str, default="gray"
            Colour map of the input and the reconstruction.

        Returns
        -------
        display : OutlierExplanationDisplay
        """
        check_is_fitted(detector, "autoencoder_")
        row = check_array(np.reshape(row, (1, -1)), dtype=[np.float64, np.float32])
        scores = detector.feature_scores(row)[0]
        autoencoder = detector.autoencoder_
        scaled = (row - detector.center_) / detector.scale_
        reconstruction = autoencoder.inverse_transform(autoencoder.transform(scaled))
        reconstruction = reconstruction[0] * detector.scale_ + detector.center_
        display = cls(
            row[0],
            reconstruction,
            scores,
            float(scores.sum()),
            density_factor=float(detector.density_factors(row)[0]),
            kind=kind,
            image_shape=image_shape,
            feature_names=getattr(detector, "feature_names_in_", None),
        )
        return display.plot(ax=ax, n_features=n_features, cmap=cmap)

    def _factor_label(self):
        if self.density_factor == 1.0:
            return ""
        return f"\nsquared errors x density factor {self.density_factor:.3g}"

    def plot(self, ax=None, *, n_features=10, cmap="gray"):
        """Draw the explanation.

        Parameters
        ----------
        ax : matplotlib Axes, array of 3 Axes or None, default=None
        n_features : int, default=10
            Bars drawn with ``kind="bar"``.
        cmap : str, default="gray"

        Returns
        -------
        display : OutlierExplanationDisplay
        """
        if self.kind not in ("image", "bar"):
            raise ValueError(f"kind must be 'image' or 'bar', got kind={self.kind!r}.")
        plt = _pyplot("OutlierExplanationDisplay")
        n_axes = 3 if self.kind == "image" else 1
        if ax is None:
            size = (7.5, 2.6) if self.kind == "image" else (5, 0.3 * n_features + 1)
            _, ax = plt.subplots(1, n_axes, figsize=size, squeeze=False)
        ax = np.ravel(ax)
        if ax.size != n_axes:
            raise ValueError(f"ax must hold {n_axes} Axes for kind={self.kind!r}; got {ax.size}.")
        scores = np.asarray(self.feature_scores, dtype=np.float64)
        if self.kind == "image":
            shape = infer_image_shape(scores.size, self.image_shape)
            row = np.asarray(self.row, dtype=np.float64)
            vmin, vmax = float(row.min()), float(row.max())
            ax[0].imshow(row.reshape(shape), cmap=cmap, vmin=vmin, vmax=vmax)
            ax[0].set_title("input", fontsize="small")
            recon = np.asarray(self.reconstruction, dtype=np.float64).reshape(shape)
            ax[1].imshow(recon, cmap=cmap, vmin=vmin, vmax=vmax)
            ax[1].set_title("reconstruction", fontsize="small")
            image = ax[2].imshow(scores.reshape(shape), cmap="magma")
            ax[2].set_title(
                f"feature scores (sum {self.outlier_score:.3g}){self._factor_label()}",
                fontsize="small",
            )
            # tick labels with their own exponent: a shared offset label ("1e6") would sit
            # on the title's second line
            ax[2].figure.colorbar(image, ax=ax[2], fraction=0.046, pad=0.04, format="%.2g")
            for axis in ax:
                axis.set_axis_off()
        else:
            top = np.argsort(scores)[::-1][:n_features][::-1]
            names = (
                np.asarray(self.feature_names)[top]
                if self.feature_names is not None
                else [f"x{j}" for j in top]
            )
            ax[0].barh(np.arange(top.size), scores[top])
            ax[0].set_yticks(np.arange(top.size), labels=names)
            ax[0].set_xlabel("feature score (squared error, scaled units, x density factor)")
            ax[0].set_title(
                f"outlier score {self.outlier_score:.3g}{self._factor_label()}", fontsize="small"
            )
        self.ax_, self.figure_ = ax, ax[0].figure
        return self
