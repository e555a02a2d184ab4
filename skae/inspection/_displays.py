"""Displays of what an autoencoder learned, in scikit-learn's Display API.

Each display is built by ``XDisplay.from_estimator(estimator, ...)`` (or from arrays by
its constructor) and drawn by ``plot(ax=...)``; the figure and axes are kept on the
display as ``figure_`` and ``ax_``, as :class:`sklearn.metrics.ConfusionMatrixDisplay`
does. matplotlib is imported only when something is drawn.
"""

import math
from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_array, check_is_fitted

from .._core import SPARSITY_MAPS, Corruption
from ._measures import infer_image_shape

PLOT_EXTRA_HINT = 'pip install "skae[plot]"'


def _pyplot(what):
    """matplotlib.pyplot, or an ImportError that names the extra to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{what} needs matplotlib, which is not installed; install it with {PLOT_EXTRA_HINT}."
        ) from exc
    return plt


def _check_ax(ax, what):
    plt = _pyplot(what)
    if ax is None:
        _, ax = plt.subplots()
    return ax


def mosaic(images, n_cols=None, *, pad_value=np.nan):
    """Tile images of one shape into a grid, one pixel of ``pad_value`` between tiles.

    Parameters
    ----------
    images : ndarray of shape (n_images, height, width)
    n_cols : int or None, default=None
        Tiles per row; None makes the grid about square.
    pad_value : float, default=np.nan
        Value of the separating pixels (NaN is drawn as the axes' background).

    Returns
    -------
    grid : ndarray of shape (n_rows * (height + 1) + 1, n_cols * (width + 1) + 1)

    Examples
    --------
    >>> import numpy as np
    >>> from skae.inspection import mosaic
    >>> mosaic(np.zeros((5, 8, 8))).shape  # 2 rows of 3 tiles
    (19, 28)
    """
    n_images, height, width = images.shape
    if n_cols is None:
        n_cols = max(1, math.ceil(math.sqrt(n_images)))
    n_cols = min(n_cols, max(n_images, 1))
    n_rows = max(1, math.ceil(n_images / n_cols))
    grid = np.full((n_rows * (height + 1) + 1, n_cols * (width + 1) + 1), pad_value, dtype=float)
    for index, image in enumerate(images):
        row, col = divmod(index, n_cols)
        top, left = 1 + row * (height + 1), 1 + col * (width + 1)
        grid[top : top + height, left : left + width] = image
    return grid


def _select_units(n_units_total, units, mean_activation=None):
    """Indices of the units to draw: all, the first n, the n most active, or a list."""
    if units is None:
        return np.arange(n_units_total)
    if isinstance(units, Integral) and not isinstance(units, bool):
        if not 1 <= units <= n_units_total:
            raise ValueError(
                f"units={units} must be between 1 and the {n_units_total} units of the "
                "model, or a list of unit indices, or None for all."
            )
        if mean_activation is None:
            return np.arange(units)
        # most active first; a stable sort keeps ties in index order
        return np.argsort(-mean_activation, kind="stable")[:units]
    units = np.asarray(units)
    if units.ndim != 1 or units.size == 0 or units.dtype.kind not in "iu":
        raise ValueError(
            f"units must be None, an int or a non-empty list of unit indices, got {units!r}."
        )
    if units.min() < 0 or units.max() >= n_units_total:
        raise ValueError(
            f"units holds indices outside [0, {n_units_total}): the model has "
            f"{n_units_total} units."
        )
    return units


class FilterDisplay:
    """Grid of filters: for each hidden unit, the input that activates it most.

    For unit ``i`` with weights ``W_i`` (a row of ``components_``) the input of norm 1
    that maximises ``W_i . x`` is ``x = W_i / ||W_i||`` (lecture 000, Ng's notes
    section 4). Each filter is drawn as an image, tiled into one grid.

    Build it with :meth:`from_estimator`, or from an array of filters.

    Parameters
    ----------
    filters : ndarray of shape (n_filters, n_features)
        The filters to draw, e.g. ``components_`` or rows of it.
    image_shape : tuple of two ints or None, default=None
        Shape of one filter as an image; None for a square ``n_features``.
    units : ndarray of shape (n_filters,) or None, default=None
        The unit index of each filter (for the record); None is ``0 .. n_filters - 1``.
    title : str or None, default=None
        Title of the axes.

    Attributes
    ----------
    images_ : ndarray of shape (n_filters, height, width)
        The normalised filters ``W_i / ||W_i||`` as drawn.
    mosaic_ : ndarray
        The grid drawn, NaN between tiles.
    image_ : matplotlib AxesImage
        The drawn grid.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    filter_measures : numbers for what the picture shows.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from skae import SparseAutoencoder
    >>> from skae.inspection import FilterDisplay
    >>> X = load_digits().data / 16
    >>> ae = SparseAutoencoder(n_components=16, max_iter=10, random_state=0).fit(X)
    >>> display = FilterDisplay.from_estimator(ae)
    >>> display.images_.shape
    (16, 8, 8)
    >>> display.mosaic_.shape
    (37, 37)
    >>> plt.close("all")
    """

    def __init__(self, filters, *, image_shape=None, units=None, title=None):
        self.filters = filters
        self.image_shape = image_shape
        self.units = units
        self.title = title

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        image_shape=None,
        units=None,
        X=None,
        ax=None,
        n_cols=None,
        contrast="per_filter",
        cmap="gray",
        title=None,
    ):
        """Draw the filters of a fitted estimator with ``components_``.

        Works with any estimator whose ``components_`` holds one filter per row
        (skae's autoencoders, :class:`~sklearn.decomposition.PCA`,
        :class:`~sklearn.neural_network.BernoulliRBM`, ...).

        Parameters
        ----------
        estimator : fitted estimator with ``components_`` of shape (n_units, n_features)
        image_shape : tuple of two ints or None, default=None
            Shape of one filter as an image; None for a square ``n_features``.
        units : None, int or array-like of int, default=None
            Which units: None for all; an int ``n`` for the first ``n``, or, if ``X`` is
            given, the ``n`` with the largest mean activation on ``X`` (most active
            first); a list of unit indices.
        X : array-like of shape (n_samples, n_features) or None, default=None
            Data on which to rank the units by mean ``transform(X)``; only used when
            ``units`` is an int.
        ax : matplotlib Axes or None, default=None
            Axes to draw on; None creates a figure.
        n_cols : int or None, default=None
            Filters per row of the grid; None for an about square grid.
        contrast : {"per_filter", "shared"}, default="per_filter"
            "per_filter" stretches each filter to its own range ``[-max|x|, max|x|]``
            (as Ng's ``display_network``), so weak filters stay visible; "shared" uses
            one range for all, so their strengths compare.
        cmap : str, default="gray"
            Colour map; grey draws positive weights light and negative dark.
        title : str or None, default=None
            Title of the axes.

        Returns
        -------
        display : FilterDisplay
        """
        check_is_fitted(estimator, "components_")
        components = np.asarray(estimator.components_)
        mean_activation = None
        if X is not None and isinstance(units, Integral):
            mean_activation = np.asarray(estimator.transform(X)).mean(axis=0)
        selected = _select_units(components.shape[0], units, mean_activation)
        display = cls(components[selected], image_shape=image_shape, units=selected, title=title)
        return display.plot(ax=ax, n_cols=n_cols, contrast=contrast, cmap=cmap)

    def plot(self, ax=None, *, n_cols=None, contrast="per_filter", cmap="gray"):
        """Draw the grid of filters.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
        n_cols : int or None, default=None
        contrast : {"per_filter", "shared"}, default="per_filter"
        cmap : str, default="gray"

        Returns
        -------
        display : FilterDisplay
            Itself, with ``images_``, ``mosaic_``, ``image_``, ``ax_``, ``figure_``.
        """
        if contrast not in ("per_filter", "shared"):
            raise ValueError(f"contrast must be 'per_filter' or 'shared', got {contrast!r}.")
        ax = _check_ax(ax, "FilterDisplay")
        filters = check_array(self.filters, dtype=np.float64)
        shape = infer_image_shape(filters.shape[1], self.image_shape)
        norms = np.linalg.norm(filters, axis=1, keepdims=True)
        images = filters / np.where(norms > 0, norms, 1.0)  # x = W_i / ||W_i||
        if contrast == "per_filter":
            scale = np.abs(images).max(axis=1, keepdims=True)
            tiles = images / np.where(scale > 0, scale, 1.0)
        else:
            tiles = images / max(np.abs(images).max(), np.finfo(float).tiny)
        self.images_ = images.reshape(-1, *shape)
        self.mosaic_ = mosaic(tiles.reshape(-1, *shape), n_cols)
        self.image_ = ax.imshow(self.mosaic_, cmap=cmap, vmin=-1, vmax=1)
        ax.set_axis_off()
        if self.title is not None:
            ax.set_title(self.title)
        self.ax_, self.figure_ = ax, ax.figure
        return self


class ReconstructionDisplay:
    """Rows of original, corrupted (if the model trained on noise) and reconstructed samples.

    The corrupted row uses the model's own corruption (``noise`` and ``noise_level``,
    through the same ``skae._core.Corruption`` as ``fit``), so it shows the input as
    the model saw it in training; it is a fresh draw of that noise, since training draws
    anew for every minibatch of every epoch. The reconstruction is decoded from the row
    above it, so a denoising autoencoder shows what it makes of a corrupted input.

    Parameters
    ----------
    rows : dict of str to ndarray of shape (n_samples, n_features)
        Row label to samples, drawn top to bottom in order.
    image_shape : tuple of two ints or None, default=None
        Shape of one sample as an image; None for a square ``n_features``.

    Attributes
    ----------
    images_ : list of matplotlib AxesImage
        One per row.
    ax_ : ndarray of matplotlib Axes
        One per row.
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoencoder
    >>> from skae.inspection import ReconstructionDisplay
    >>> X = load_digits().data / 16
    >>> ae = DenoisingAutoencoder(n_components=16, noise_level=0.25, max_iter=3,
    ...                           random_state=0).fit(X)
    >>> display = ReconstructionDisplay.from_estimator(ae, X[:6])
    >>> [ax.get_title().split(" ")[0] for ax in display.ax_]
    ['original', 'corrupted', 'reconstructed']
    >>> plt.close("all")
    """

    def __init__(self, rows, *, image_shape=None):
        self.rows = rows
        self.image_shape = image_shape

    @classmethod
    def from_estimator(
        cls, estimator, X, *, image_shape=None, random_state=None, ax=None, cmap="gray"
    ):
        """Reconstruct samples of X with a fitted autoencoder and draw them.

        Parameters
        ----------
        estimator : fitted skae autoencoder
            Or any fitted estimator with ``transform`` and ``inverse_transform``, such
            as :class:`~sklearn.decomposition.PCA` (drawn without a corrupted row).
        X : array-like of shape (n_samples, n_features)
            The samples to show; keep it to a row's worth (about 5 to 20).
        image_shape : tuple of two ints or None, default=None
        random_state : int or None, default=None
            Seed of the corruption; None uses the estimator's ``random_state`` (or 0).
        ax : array of matplotlib Axes or None, default=None
            One Axes per row (3 with noise, 2 without); None creates a figure.
        cmap : str, default="gray"

        Returns
        -------
        display : ReconstructionDisplay
        """
        check_is_fitted(estimator, "components_")
        X = check_array(X, dtype=[np.float64, np.float32])
        rows = {"original": X}
        shown = X
        # any estimator with transform and inverse_transform (e.g. PCA) has no noise
        if getattr(estimator, "noise_level", 0) > 0:
            if random_state is None:
                random_state = estimator.random_state
            seed = random_state if isinstance(random_state, Integral) else 0
            corrupt = Corruption(estimator.noise, estimator.noise_level, seed)
            shown = np.asarray(corrupt(X))
            rows[f"corrupted ({estimator.noise}, q={estimator.noise_level:g})"] = shown
        rows["reconstructed"] = estimator.inverse_transform(estimator.transform(shown))
        return cls(rows, image_shape=image_shape).plot(ax=ax, cmap=cmap)

    def plot(self, ax=None, *, cmap="gray"):
        """Draw one row of images per entry of ``rows``.

        Parameters
        ----------
        ax : array of matplotlib Axes or None, default=None
            One Axes per row; None creates a figure.
        cmap : str, default="gray"

        Returns
        -------
        display : ReconstructionDisplay
        """
        plt = _pyplot("ReconstructionDisplay")
        rows = {label: check_array(x, dtype=np.float64) for label, x in self.rows.items()}
        n_samples, n_features = next(iter(rows.values())).shape
        shape = infer_image_shape(n_features, self.image_shape)
        if ax is None:
            _, ax = plt.subplots(
                len(rows), 1, figsize=(max(4, 0.8 * n_samples), 1.1 * len(rows)), squeeze=False
            )
        ax = np.ravel(ax)
        if ax.size != len(rows):
            raise ValueError(f"ax must hold {len(rows)} Axes, one per row; got {ax.size}.")
        # one grey range for all rows (that of the original), so that rows compare
        original = next(iter(rows.values()))
        vmin, vmax = float(original.min()), float(original.max())
        self.images_ = []
        for axis, (label, samples) in zip(ax, rows.items(), strict=True):
            grid = mosaic(samples.reshape(-1, *shape), n_cols=n_samples)
            self.images_.append(axis.imshow(grid, cmap=cmap, vmin=vmin, vmax=vmax))
            axis.set_title(label, fontsize="small")
            axis.set_axis_off()
        self.ax_, self.figure_ = ax, ax[0].figure
        return self


class LossCurveDisplay:
    """Training loss per iteration or epoch, and the validation loss with early stopping.

    Parameters
    ----------
    loss_curve : array-like of float
        ``loss_curve_``: the objective with its penalties.
    validation_loss : array-like of float or None, default=None
        Reconstruction loss on the held-out rows (``-validation_scores_``), if any.
    estimator_name : str or None, default=None
        Used in the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The training loss.
    validation_line_ : matplotlib Line2D or None
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoencoder
    >>> from skae.inspection import LossCurveDisplay
    >>> X = load_digits().data / 16
    >>> ae = DenoisingAutoencoder(n_components=16, max_iter=4, early_stopping=True,
    ...                           random_state=0).fit(X)
    >>> display = LossCurveDisplay.from_estimator(ae)
    >>> len(display.line_.get_xdata()) == ae.n_iter_, display.validation_line_ is not None
    (True, True)
    >>> plt.close("all")
    """

    def __init__(self, loss_curve, *, validation_loss=None, estimator_name=None):
        self.loss_curve = loss_curve
        self.validation_loss = validation_loss
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, log_scale=False):
        """Draw ``loss_curve_`` and, with early stopping, ``-validation_scores_``.

        Parameters
        ----------
        estimator : fitted skae autoencoder
        ax : matplotlib Axes or None, default=None
        log_scale : bool, default=False
            Logarithmic loss axis.

        Returns
        -------
        display : LossCurveDisplay
        """
        check_is_fitted(estimator, "loss_curve_")
        scores = getattr(estimator, "validation_scores_", None)
        validation_loss = None if scores is None else -np.asarray(scores, dtype=float)
        display = cls(
            estimator.loss_curve_,
            validation_loss=validation_loss,
            estimator_name=type(estimator).__name__,
        )
        return display.plot(ax=ax, log_scale=log_scale)

    def plot(self, ax=None, *, log_scale=False):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
        log_scale : bool, default=False

        Returns
        -------
        display : LossCurveDisplay
        """
        ax = _check_ax(ax, "LossCurveDisplay")
        loss = np.asarray(self.loss_curve, dtype=float)
        prefix = f"{self.estimator_name}: " if self.estimator_name else ""
        iterations = np.arange(1, loss.size + 1)
        (self.line_,) = ax.plot(iterations, loss, label=f"{prefix}training objective")
        self.validation_line_ = None
        if self.validation_loss is not None:
            validation = np.asarray(self.validation_loss, dtype=float)
            (self.validation_line_,) = ax.plot(
                np.arange(1, validation.size + 1),
                validation,
                linestyle="--",
                label=f"{prefix}validation reconstruction loss",
            )
        if log_scale:
            ax.set_yscale("log")
        ax.set_xlabel("iteration or epoch")
        ax.set_ylabel("loss")
        ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self


class ActivationHistogramDisplay:
    """Histogram of each hidden unit's mean activation rho^_j, with rho marked.

    ``rho^_j`` is the mean over samples of unit ``j``'s activation, read on the (0, 1)
    scale of the KL penalty (tanh units are mapped by ``(a + 1) / 2``). With the penalty
    on, the histogram gathers near ``rho``; without, it spreads.

    Parameters
    ----------
    mean_activations : ndarray of shape (n_units,)
        rho^_j of each unit.
    sparsity_target : float or None, default=None
        rho, drawn as a vertical line.
    label : str or None, default=None
        Legend label of the histogram.

    Attributes
    ----------
    bars_ : list of matplotlib Rectangle
        The histogram's bars.
    target_line_ : matplotlib Line2D or None
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_digits
    >>> from skae import SparseAutoencoder
    >>> from skae.inspection import ActivationHistogramDisplay
    >>> X = load_digits().data / 16
    >>> ae = SparseAutoencoder(n_components=16, max_iter=10, random_state=0).fit(X)
    >>> display = ActivationHistogramDisplay.from_estimator(ae, X)
    >>> display.mean_activations.shape, display.target_line_ is not None
    ((16,), True)
    >>> plt.close("all")
    """

    def __init__(self, mean_activations, *, sparsity_target=None, label=None):
        self.mean_activations = mean_activations
        self.sparsity_target = sparsity_target
        self.label = label

    @classmethod
    def from_estimator(cls, estimator, X, *, ax=None, bins=40, label=None, **hist_kwargs):
        """Compute rho^_j on X and draw their histogram.

        Parameters
        ----------
        estimator : fitted skae autoencoder
        X : array-like of shape (n_samples, n_features)
            Data on which the mean activations are taken (e.g. the training data).
        ax : matplotlib Axes or None, default=None
        bins : int or sequence, default=40
            Bins of the histogram; an int spreads them over [0, 1].
        label : str or None, default=None
            Legend label; None names the estimator with its rho and beta.
        **hist_kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.hist` (e.g. ``alpha``, ``color``).

        Returns
        -------
        display : ActivationHistogramDisplay
        """
        check_is_fitted(estimator, "components_")
        hidden = np.asarray(estimator.transform(X), dtype=np.float64)
        mean = hidden.mean(axis=0)
        # rho^ on the penalty's (0, 1) scale; e.g. tanh: (a + 1) / 2
        scale, shift = SPARSITY_MAPS.get(estimator.activation, (1.0, 0.0))
        mean = scale * mean + shift
        if label is None:
            beta = getattr(estimator, "sparsity_weight", 0)
            label = f"{type(estimator).__name__}, rho={estimator.sparsity_target:g}, beta={beta:g}"
        display = cls(mean, sparsity_target=estimator.sparsity_target, label=label)
        return display.plot(ax=ax, bins=bins, **hist_kwargs)

    def plot(self, ax=None, *, bins=40, **hist_kwargs):
        """Draw the histogram and the target.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
        bins : int or sequence, default=40
        **hist_kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.hist`.

        Returns
        -------
        display : ActivationHistogramDisplay
        """
        ax = _check_ax(ax, "ActivationHistogramDisplay")
        mean = np.asarray(self.mean_activations, dtype=float)
        if isinstance(bins, Integral):
            bins = np.linspace(0.0, 1.0, bins + 1)
        _, _, bars = ax.hist(mean, bins=bins, label=self.label, **hist_kwargs)
        self.bars_ = list(bars)
        self.target_line_ = None
        if self.sparsity_target is not None:
            self.target_line_ = ax.axvline(
                self.sparsity_target, color="black", linestyle=":", label="rho (target)"
            )
        ax.set_xlabel("mean activation rho^_j of a hidden unit")
        ax.set_ylabel("number of units")
        ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self
