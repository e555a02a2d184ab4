"""Displays of what an autoencoder learned, in scikit-learn's Display API.

Each display is built by ``XDisplay.from_estimator(estimator, ...)`` (or from arrays by
its constructor) and drawn by ``plot(ax=...)``; the figure and axes are kept on the
display as ``figure_`` and ``ax_``, as :class:`sklearn.metrics.ConfusionMatrixDisplay`
does. matplotlib is imported only when something is drawn.
"""

import math
from numbers import Integral

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_array, check_is_fitted

from .._classifier import AutoencoderClassifier
from .._core import SPARSITY_MAPS, Corruption
from .._stacked import StackedAutoencoder
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


ACCEPTED = (
    "a fitted skae autoencoder, StackedAutoencoder or AutoencoderClassifier, a fitted "
    "Pipeline ending in one, or an estimator with components_ (such as PCA or BernoulliRBM)"
)


class _Layer:
    """One layer of a fitted estimator, resolved for drawing.

    ``model`` holds the layer's ``components_`` (a one-layer autoencoder, PCA, ...);
    ``encode`` maps the estimator's input X to that layer's codes (through a Pipeline's
    earlier steps and a stack's lower layers); ``name`` says what is drawn.
    """

    def __init__(self, model, encode, name):
        self.model, self.encode, self.name = model, encode, name


def _resolve_layer(estimator, what, layer=0):
    """The layer ``layer`` of a fitted estimator, or an error that names the problem.

    A Pipeline is read through its last step; an AutoencoderClassifier through its
    fine-tuned ``autoencoder_``; a StackedAutoencoder through ``autoencoders_[layer]``.
    """
    if not isinstance(layer, Integral) or isinstance(layer, bool) or layer < 0:
        raise ValueError(f"layer must be a non-negative int, got {layer!r}.")
    if not hasattr(estimator, "fit"):
        raise TypeError(f"{what} needs {ACCEPTED}; got {type(estimator).__name__}.")
    check_is_fitted(estimator)
    name, before = type(estimator).__name__, []
    if isinstance(estimator, Pipeline):
        final = estimator.steps[-1][1]
        if not hasattr(final, "components_") and not isinstance(
            final, (StackedAutoencoder, AutoencoderClassifier)
        ):
            raise TypeError(
                f"{what} draws the last step of a Pipeline, here {type(final).__name__}, "
                "which is not an autoencoder and has no components_; pass the pipeline up "
                "to the autoencoder, e.g. pipeline[:-1]."
            )
        if len(estimator) > 1:
            before.append(estimator[:-1].transform)
        estimator = final
        name = f"Pipeline ending in {type(final).__name__}"
    if isinstance(estimator, AutoencoderClassifier):
        estimator = estimator.autoencoder_
    if isinstance(estimator, StackedAutoencoder):
        layers = estimator.autoencoders_
        if layer >= len(layers):
            raise ValueError(
                f"layer={layer}, but the stack has {len(layers)} layers: pass layer=0 to "
                f"{len(layers) - 1} (0 is the layer that reads the input)."
            )
        before.extend(ae.transform for ae in layers[:layer])
        name = f"{name}, layer {layer}"
        estimator = layers[layer]
    elif layer != 0:
        raise ValueError(
            f"layer={layer}, but {type(estimator).__name__} has one layer: layer applies "
            "to a StackedAutoencoder (or an AutoencoderClassifier built on one)."
        )
    if not hasattr(estimator, "components_"):
        raise TypeError(f"{what} needs {ACCEPTED}; got {type(estimator).__name__}.")
    model = estimator

    def encode(X):
        for step in before:
            X = step(X)
        return model.transform(X)

    return _Layer(model, encode, name)


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
    that maximises ``W_i . x`` is ``x = W_i / ||W_i||`` (the lecture on regularised
    autoencoders; Ng's sparse-autoencoder notes, section 4). Each filter is drawn as an
    image, tiled into one grid; each tile carries its unit's number, and a colour bar
    gives the grey scale.

    Build it with :meth:`from_estimator`, or from an array of filters.

    Parameters
    ----------
    filters : ndarray of shape (n_filters, n_features)
        The filters to draw, e.g. ``components_`` or rows of it.
    image_shape : tuple of two ints or None, default=None
        Shape of one filter as an image; None for a square ``n_features``.
    units : ndarray of shape (n_filters,) or None, default=None
        The unit index of each filter, written on its tile; None is
        ``0 .. n_filters - 1``.
    title : str or None, default=None
        Title of the axes; None for "n filters W_i / ||W_i||".

    Attributes
    ----------
    images_ : ndarray of shape (n_filters, height, width)
        The normalised filters ``W_i / ||W_i||`` as drawn.
    mosaic_ : ndarray
        The grid drawn, NaN between tiles.
    image_ : matplotlib AxesImage
        The drawn grid.
    unit_labels_ : list of matplotlib Text
        The unit numbers, one per tile (empty with ``unit_labels=False``).
    colorbar_ : matplotlib Colorbar or None
        The grey scale (None with ``colorbar=False``).
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
    >>> print(display.ax_.get_title())
    SparseAutoencoder
    16 filters W_i / ||W_i||
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
        layer=0,
        image_shape=None,
        units=None,
        X=None,
        ax=None,
        n_cols=None,
        contrast="per_filter",
        cmap="gray",
        title=None,
        unit_labels=True,
        colorbar=True,
    ):
        """Draw the filters of a fitted estimator.

        Accepts a fitted skae autoencoder, a :class:`~skae.StackedAutoencoder` (the
        filters of one layer), an :class:`~skae.AutoencoderClassifier` (those of its
        fine-tuned encoders), a :class:`~sklearn.pipeline.Pipeline` ending in one of
        these, or any estimator whose ``components_`` holds one filter per row
        (:class:`~sklearn.decomposition.PCA`,
        :class:`~sklearn.neural_network.BernoulliRBM`, ...).

        Parameters
        ----------
        estimator : fitted estimator
            One of those listed above.
        layer : int, default=0
            Which layer of a stack: 0 reads the input, so its filters are images; a
            higher layer's filters live in the codes of the layer below (give their
            ``image_shape``).
        image_shape : tuple of two ints or None, default=None
            Shape of one filter as an image; None for a square ``n_features``.
        units : None, int or array-like of int, default=None
            Which units: None for all; an int ``n`` for the first ``n``, or, if ``X`` is
            given, the ``n`` with the largest mean activation on ``X`` (most active
            first); a list of unit indices.
        X : array-like of shape (n_samples, n_features) or None, default=None
            Data on which to rank the units by their mean code (passed through a
            Pipeline's earlier steps and a stack's lower layers); only used when
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
            Title of the axes; None names the estimator and the number of filters.
        unit_labels : bool, default=True
            Write each unit's number in the corner of its tile.
        colorbar : bool, default=True
            Draw the grey scale beside the grid.

        Returns
        -------
        display : FilterDisplay
        """
        resolved = _resolve_layer(estimator, "FilterDisplay", layer)
        components = np.asarray(resolved.model.components_)
        mean_activation = None
        if X is not None and isinstance(units, Integral):
            mean_activation = np.asarray(resolved.encode(X)).mean(axis=0)
        selected = _select_units(components.shape[0], units, mean_activation)
        if title is None:
            title = f"{resolved.name}\n{selected.size} filters W_i / ||W_i||"
        display = cls(components[selected], image_shape=image_shape, units=selected, title=title)
        return display.plot(
            ax=ax,
            n_cols=n_cols,
            contrast=contrast,
            cmap=cmap,
            unit_labels=unit_labels,
            colorbar=colorbar,
        )

    def plot(
        self,
        ax=None,
        *,
        n_cols=None,
        contrast="per_filter",
        cmap="gray",
        unit_labels=True,
        colorbar=True,
    ):
        """Draw the grid of filters.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
        n_cols : int or None, default=None
        contrast : {"per_filter", "shared"}, default="per_filter"
        cmap : str, default="gray"
        unit_labels : bool, default=True
        colorbar : bool, default=True

        Returns
        -------
        display : FilterDisplay
            Itself, with ``images_``, ``mosaic_``, ``image_``, ``unit_labels_``,
            ``colorbar_``, ``ax_``, ``figure_``.
        """
        if contrast not in ("per_filter", "shared"):
            raise ValueError(f"contrast must be 'per_filter' or 'shared', got {contrast!r}.")
        plt = _pyplot("FilterDisplay")
        from matplotlib import patheffects

        filters = check_array(self.filters, dtype=np.float64)
        shape = infer_image_shape(filters.shape[1], self.image_shape)
        norms = np.linalg.norm(filters, axis=1, keepdims=True)
        images = filters / np.where(norms > 0, norms, 1.0)  # x = W_i / ||W_i||
        if contrast == "per_filter":
            scale = np.abs(images).max(axis=1, keepdims=True)
            tiles = images / np.where(scale > 0, scale, 1.0)
            scale_label = "weight / largest |weight| of its filter"
        else:
            tiles = images / max(np.abs(images).max(), np.finfo(float).tiny)
            scale_label = "weight / largest |weight| of all filters"
        self.images_ = images.reshape(-1, *shape)
        self.mosaic_ = mosaic(tiles.reshape(-1, *shape), n_cols)
        if ax is None:
            # a figure of the grid's proportions, room left for the title and the scale
            rows, cols = self.mosaic_.shape
            height = float(np.clip(5.0 * rows / cols, 1.0, 8.0)) + 1.2
            _, ax = plt.subplots(figsize=(6.4, height), layout="constrained")
        self.image_ = ax.imshow(self.mosaic_, cmap=cmap, vmin=-1, vmax=1)
        ax.set_axis_off()
        units = np.arange(len(filters)) if self.units is None else np.asarray(self.units)
        self.unit_labels_ = []
        if unit_labels:
            height, width = shape
            n_grid_cols = (self.mosaic_.shape[1] - 1) // (width + 1)
            # smaller numbers on a denser grid, so that they stay in their corner
            fontsize = float(np.clip(56 / max(n_grid_cols, 1), 4, 9))
            # yellow on a black outline reads on light and on dark weights
            outline = patheffects.withStroke(linewidth=1.5, foreground="black")
            for index, unit in enumerate(units):
                row, col = divmod(index, n_grid_cols)
                self.unit_labels_.append(
                    ax.text(
                        0.6 + col * (width + 1),
                        0.6 + row * (height + 1),
                        str(unit),
                        color="yellow",
                        fontsize=fontsize,
                        path_effects=[outline],
                        ha="left",
                        va="top",
                    )
                )
        self.colorbar_ = None
        if colorbar:
            # beside a squarish grid, below a wide one (one row of filters)
            wide = self.mosaic_.shape[1] > 2 * self.mosaic_.shape[0]
            self.colorbar_ = ax.figure.colorbar(
                self.image_,
                ax=ax,
                location="bottom" if wide else "right",
                shrink=0.7,
                pad=0.02,
                aspect=30 if wide else 20,
            )
            self.colorbar_.set_label(scale_label, fontsize="small")
            self.colorbar_.set_ticks([-1, 0, 1])
        title = self.title
        if title is None:
            title = f"{len(filters)} filters W_i / ||W_i||"
        ax.set_title(title)
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
    title : str or None, default=None
        Title of the figure, when the display creates it.

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

    def __init__(self, rows, *, image_shape=None, title=None):
        self.rows = rows
        self.image_shape = image_shape
        self.title = title

    @classmethod
    def from_estimator(
        cls, estimator, X, *, image_shape=None, random_state=None, ax=None, cmap="gray"
    ):
        """Reconstruct samples of X with a fitted estimator and draw them.

        Parameters
        ----------
        estimator : fitted estimator with ``transform`` and ``inverse_transform``
            A skae autoencoder, a :class:`~skae.StackedAutoencoder`, an
            :class:`~skae.AutoencoderClassifier` (through its fine-tuned
            ``autoencoder_``), a :class:`~sklearn.pipeline.Pipeline` whose every step
            has both (e.g. a scaler and an autoencoder), or any other such estimator
            (:class:`~sklearn.decomposition.PCA`, ...). A corrupted row is drawn when the
            estimator, or a Pipeline's last step, trains on noise; the noise is applied
            where that step sees its input (after a Pipeline's earlier steps).
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
        model = estimator
        if isinstance(model, AutoencoderClassifier):
            check_is_fitted(model)
            model = model.autoencoder_
        missing = [m for m in ("transform", "inverse_transform") if not hasattr(model, m)]
        if missing:
            hint = ""
            if isinstance(model, Pipeline):
                hint = (
                    " A Pipeline has them only if every step has; to draw the "
                    "reconstructions of a pipeline ending in a classifier, pass "
                    "pipeline[:-1]."
                )
            raise TypeError(
                "ReconstructionDisplay needs a fitted estimator with transform and "
                f"inverse_transform; {type(model).__name__} has no "
                f"{' and no '.join(missing)}.{hint}"
            )
        check_is_fitted(model)
        X = check_array(X, dtype=[np.float64, np.float32])
        # where the noise goes: into the last step of a Pipeline, after its earlier steps
        before, last = None, model
        if isinstance(model, Pipeline):
            last = model.steps[-1][1]
            before = model[:-1] if len(model) > 1 else None
        rows = {"original": X}
        codes = None
        if getattr(last, "noise_level", 0) > 0:
            if random_state is None:
                random_state = last.random_state
            seed = random_state if isinstance(random_state, Integral) else 0
            corrupt = Corruption(last.noise, last.noise_level, seed)
            seen = X if before is None else before.transform(X)
            corrupted = np.asarray(corrupt(seen))
            shown = corrupted if before is None else before.inverse_transform(corrupted)
            rows[f"corrupted ({last.noise}, q={last.noise_level:g})"] = shown
            codes = last.transform(corrupted)
        else:
            codes = model.transform(X)
        rows["reconstructed"] = model.inverse_transform(codes)
        title = f"{type(estimator).__name__}: samples and their reconstructions"
        return cls(rows, image_shape=image_shape, title=title).plot(ax=ax, cmap=cmap)

    def plot(self, ax=None, *, cmap="gray"):
        """Draw one row of images per entry of ``rows``.

        Parameters
        ----------
        ax : array of matplotlib Axes or None, default=None
            One Axes per row; None creates a figure (titled with ``title``).
        cmap : str, default="gray"

        Returns
        -------
        display : ReconstructionDisplay
        """
        plt = _pyplot("ReconstructionDisplay")
        rows = {label: check_array(x, dtype=np.float64) for label, x in self.rows.items()}
        n_samples, n_features = next(iter(rows.values())).shape
        shape = infer_image_shape(n_features, self.image_shape)
        created = ax is None
        if created:
            _, ax = plt.subplots(
                len(rows),
                1,
                figsize=(max(4, 0.8 * n_samples), 1.1 * len(rows) + 0.4),
                squeeze=False,
                layout="constrained",
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
        if created and self.title:
            self.figure_.suptitle(self.title)
        return self


class LossCurveDisplay:
    """Training loss per iteration or epoch, and the validation loss with early stopping.

    The loss axis is logarithmic by default (``log_scale="auto"``, when every loss is
    positive): the first steps, which drop the loss by orders of magnitude, would
    otherwise flatten the rest of the curve into a line.

    Parameters
    ----------
    loss_curve : array-like of float
        ``loss_curve_``: the objective with its penalties.
    validation_loss : array-like of float or None, default=None
        Reconstruction loss on the held-out rows (``-validation_scores_``), if any.
    estimator_name : str or None, default=None
        Used in the legend and the title.
    x_label : str, default="iteration or epoch"
        What one step of the curve is.

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
    >>> display.ax_.get_yscale(), display.ax_.get_xlabel()
    ('log', 'epoch')
    >>> plt.close("all")
    """

    def __init__(
        self,
        loss_curve,
        *,
        validation_loss=None,
        estimator_name=None,
        x_label="iteration or epoch",
    ):
        self.loss_curve = loss_curve
        self.validation_loss = validation_loss
        self.estimator_name = estimator_name
        self.x_label = x_label

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, log_scale="auto"):
        """Draw ``loss_curve_`` and, with early stopping, ``-validation_scores_``.

        Parameters
        ----------
        estimator : fitted skae estimator, or a Pipeline ending in one
            A skae autoencoder, a :class:`~skae.StackedAutoencoder` (its fine-tuning)
            or an :class:`~skae.AutoencoderClassifier`: anything with ``loss_curve_``.
        ax : matplotlib Axes or None, default=None
        log_scale : bool or "auto", default="auto"
            Logarithmic loss axis; "auto" uses it when every loss is positive.

        Returns
        -------
        display : LossCurveDisplay
        """
        model = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
        if not hasattr(model, "fit"):
            raise TypeError(
                "LossCurveDisplay needs a fitted skae estimator (or a Pipeline ending in "
                f"one); got {type(model).__name__}."
            )
        check_is_fitted(model)
        if not hasattr(model, "loss_curve_"):
            raise TypeError(
                f"LossCurveDisplay draws loss_curve_, which {type(model).__name__} does not "
                "record; pass a fitted skae estimator (or a Pipeline ending in one)."
            )
        scores = getattr(model, "validation_scores_", None)
        validation_loss = None if scores is None else -np.asarray(scores, dtype=float)
        solver = getattr(model, "solver", getattr(model, "fine_tune_solver", None))
        x_label = {"adam": "epoch", "sgd": "epoch"}.get(solver, "iteration")
        display = cls(
            model.loss_curve_,
            validation_loss=validation_loss,
            estimator_name=type(model).__name__,
            x_label=x_label,
        )
        return display.plot(ax=ax, log_scale=log_scale)

    def plot(self, ax=None, *, log_scale="auto"):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
        log_scale : bool or "auto", default="auto"

        Returns
        -------
        display : LossCurveDisplay
        """
        if log_scale not in (True, False, "auto"):
            raise ValueError(f"log_scale must be True, False or 'auto', got {log_scale!r}.")
        ax = _check_ax(ax, "LossCurveDisplay")
        loss = np.asarray(self.loss_curve, dtype=float)
        prefix = f"{self.estimator_name}: " if self.estimator_name else ""
        iterations = np.arange(1, loss.size + 1)
        (self.line_,) = ax.plot(iterations, loss, label=f"{prefix}training objective")
        self.validation_line_ = None
        drawn = [loss]
        if self.validation_loss is not None:
            validation = np.asarray(self.validation_loss, dtype=float)
            drawn.append(validation)
            (self.validation_line_,) = ax.plot(
                np.arange(1, validation.size + 1),
                validation,
                linestyle="--",
                label=f"{prefix}validation reconstruction loss",
            )
        if log_scale == "auto":
            values = np.concatenate(drawn)
            log_scale = values.size > 0 and bool(np.all(values[np.isfinite(values)] > 0))
        if log_scale:
            ax.set_yscale("log")
            _plain_log_labels(ax.yaxis)
        ax.set_xlabel(self.x_label)
        ax.set_ylabel("loss (log scale)" if log_scale else "loss")
        name = f" of {self.estimator_name}" if self.estimator_name else ""
        ax.set_title(f"Training loss{name}")
        ax.legend()
        self.ax_, self.figure_ = ax, ax.figure
        return self


class ActivationHistogramDisplay:
    """Histogram of each hidden unit's mean activation rho^_j, with rho marked.

    ``rho^_j`` is the mean over samples of unit ``j``'s activation, read on the (0, 1)
    scale of the KL penalty (tanh units are mapped by ``(a + 1) / 2``). With the penalty
    on, the histogram gathers near ``rho``; without, it spreads. With a number of bins,
    the bins span the range of the data and rho (not all of [0, 1], which would put
    units that gather near rho into one bar).

    Parameters
    ----------
    mean_activations : ndarray of shape (n_units,)
        rho^_j of each unit.
    sparsity_target : float or None, default=None
        rho, drawn as a vertical line.
    label : str or None, default=None
        Legend label of the histogram.
    title : str or None, default=None
        Title of the axes; None for "Mean activations of n hidden units".

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

    def __init__(self, mean_activations, *, sparsity_target=None, label=None, title=None):
        self.mean_activations = mean_activations
        self.sparsity_target = sparsity_target
        self.label = label
        self.title = title

    @classmethod
    def from_estimator(
        cls, estimator, X, *, layer=0, ax=None, bins=40, label=None, title=None, **hist_kwargs
    ):
        """Compute rho^_j on X and draw their histogram.

        Parameters
        ----------
        estimator : fitted skae estimator, or a Pipeline ending in one
            A skae autoencoder, a :class:`~skae.StackedAutoencoder` (one layer's units),
            an :class:`~skae.AutoencoderClassifier` (its fine-tuned encoders).
        X : array-like of shape (n_samples, n_features)
            Data on which the mean activations are taken (e.g. the training data),
            passed through a Pipeline's earlier steps and a stack's lower layers.
        layer : int, default=0
            Which layer of a stack; 0 reads the input.
        ax : matplotlib Axes or None, default=None
        bins : int or sequence, default=40
            Bins of the histogram; an int spreads them over the range of the rho^_j
            and rho.
        label : str or None, default=None
            Legend label; None names the estimator with its rho and beta.
        title : str or None, default=None
            Title of the axes; None names the estimator and the number of units.
        **hist_kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.hist` (e.g. ``alpha``, ``color``).

        Returns
        -------
        display : ActivationHistogramDisplay
        """
        resolved = _resolve_layer(estimator, "ActivationHistogramDisplay", layer)
        model = resolved.model
        if not hasattr(model, "activation") or not hasattr(model, "sparsity_target"):
            raise TypeError(
                "ActivationHistogramDisplay needs a skae autoencoder (its activation and "
                f"sparsity_target); {type(model).__name__} has no hidden activations."
            )
        hidden = np.asarray(resolved.encode(X), dtype=np.float64)
        mean = hidden.mean(axis=0)
        # rho^ on the penalty's (0, 1) scale; e.g. tanh: (a + 1) / 2
        scale, shift = SPARSITY_MAPS.get(model.activation, (1.0, 0.0))
        mean = scale * mean + shift
        if label is None:
            beta = getattr(model, "sparsity_weight_", getattr(model, "sparsity_weight", 0))
            label = f"{type(model).__name__}, rho={model.sparsity_target:g}, beta={beta:g}"
        if title is None:
            title = f"{resolved.name}\nmean activations of {mean.size} hidden units"
        display = cls(mean, sparsity_target=model.sparsity_target, label=label, title=title)
        return display.plot(ax=ax, bins=bins, **hist_kwargs)

    def plot(self, ax=None, *, bins=40, **hist_kwargs):
        """Draw the histogram and the target.

        Parameters
        ----------
        ax : matplotlib Axes or None, default=None
        bins : int or sequence, default=40
            An int spreads the bins over the range of the rho^_j and rho, with a margin.
        **hist_kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.hist`.

        Returns
        -------
        display : ActivationHistogramDisplay
        """
        ax = _check_ax(ax, "ActivationHistogramDisplay")
        from matplotlib.ticker import MaxNLocator

        mean = np.asarray(self.mean_activations, dtype=float)
        if isinstance(bins, Integral):
            bins = np.linspace(*_data_range(mean, self.sparsity_target), bins + 1)
            ax.set_xlim(bins[0], bins[-1])
        _, _, bars = ax.hist(mean, bins=bins, label=self.label, **hist_kwargs)
        self.bars_ = list(bars)
        self.target_line_ = None
        if self.sparsity_target is not None:
            self.target_line_ = ax.axvline(
                self.sparsity_target, color="black", linestyle=":", label="rho (target)"
            )
        ax.set_xlabel("mean activation rho^_j of a hidden unit")
        ax.set_ylabel("number of units")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 2.5 units
        title = self.title
        if title is None:
            title = f"Mean activations of {mean.size} hidden units"
        ax.set_title(title)
        if self.label is not None or self.target_line_ is not None:
            ax.legend(fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self


def _plain_log_labels(axis):
    """Label a log axis with plain numbers (20, 30, 50), minor ticks included when the
    axis spans less than a decade, where the major ticks alone leave it unlabelled."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    plain = FuncFormatter(lambda value, _: f"{value:g}")
    axis.set_major_formatter(plain)
    low, high = axis.get_view_interval()
    axis.set_minor_formatter(plain if 0 < low and high / low < 10 else NullFormatter())


def _data_range(values, mark=None):
    """[low, high] around the values and the mark, within [0, 1] if they are (relu: not)."""
    points = values[np.isfinite(values)]
    if mark is not None:
        points = np.append(points, mark)
    if points.size == 0:
        return 0.0, 1.0
    low, high = float(points.min()), float(points.max())
    # a margin of 5% of the range; a single value gets a width of its own
    margin = 0.05 * (high - low) if high > low else max(0.01 * abs(high), 1e-3)
    lower = max(low - margin, 0.0) if low >= 0 else low - margin
    upper = min(high + margin, 1.0) if high <= 1 else high + margin
    return lower, upper
