"""Numbers for what filter pictures show: how local, how wide, how smooth, how oriented.

The seeds describe filters in words ("edge detectors", "pen-stroke detectors", "the
filters widen as q grows", "PCA does not give such edge detectors"); these measures turn
each claim into a number that can be compared across models and seeds.
"""

import math

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils.validation import check_array


def infer_image_shape(n_features, image_shape=None):
    """The 2-D shape of a filter: ``image_shape`` if given, else a square.

    Parameters
    ----------
    n_features : int
        Number of pixels of one filter.
    image_shape : tuple of two ints or None, default=None
        The shape, checked against ``n_features``.

    Returns
    -------
    image_shape : tuple of two ints

    Examples
    --------
    >>> from skae.inspection import infer_image_shape
    >>> infer_image_shape(784)
    (28, 28)
    >>> infer_image_shape(64, (4, 16))
    (4, 16)
    """
    if image_shape is None:
        side = math.isqrt(n_features)
        if side * side != n_features:
            raise ValueError(
                f"image_shape is None and n_features={n_features} is not a square; pass "
                "image_shape=(height, width) with height * width == n_features."
            )
        return (side, side)
    image_shape = tuple(int(s) for s in image_shape)
    if len(image_shape) != 2 or math.prod(image_shape) != n_features:
        raise ValueError(
            f"image_shape={image_shape} does not hold n_features={n_features} pixels; "
            "pass (height, width) with height * width == n_features."
        )
    return image_shape


def filter_measures(filters, image_shape=None, *, radius=None):
    """Per-filter measures of locality, width, smoothness and orientation.

    Each filter ``w`` (a row of ``filters``, e.g. ``components_``) is read as an image
    and its energy ``p = w**2 / sum(w**2)`` as a distribution over the pixels:

    * ``concentration``: the share of the energy within ``radius`` pixels (Chebyshev
      distance, a square window) of the pixel of largest ``|w|``. A delta gives 1; a
      uniform filter gives at most the window's share of the image,
      ``(2 radius + 1)**2 / n`` (less when its peak is at a border).
    * ``spread``: the energy's spatial standard deviation in pixels,
      ``sqrt(sum_k p_k ||pos_k - centroid||**2)``. A delta gives 0, a uniform filter on
      an ``h x w`` image ``sqrt((h**2 - 1) / 12 + (w**2 - 1) / 12)``. Wider filters
      have a larger spread.
    * ``roughness``: ``sum of squared differences of neighbouring pixels`` over
      ``2 sum w**2``, averaged over the two axes. A constant or slowly varying filter
      gives about 0, white noise about 1, a checkerboard 2: filters that "learn no
      meaningful pattern" look like noise and score near 1.
    * ``scale``: ``1 / (2 sqrt(roughness))``, in pixels: the standard deviation of the
      Gaussian blob as rough as the filter (for ``exp(-r**2 / (2 s**2))`` the roughness
      is ``1 / (4 s**2)``). It grows with the width of the strokes a filter responds
      to; white noise gives about 0.5.
    * ``orientedness``: the resultant length of the doubled angle of the filter's
      Fourier power (DC removed), ``|sum P(k) exp(2i angle(k))| / sum P(k)``, in [0, 1].
      A grating or a straight edge gives about 1, an isotropic blob or white noise
      near 0; a constant filter has no orientation (NaN).

    An edge detector is local (high concentration, small spread) and oriented; a
    Fourier-like PCA component is oriented but not local.

    Parameters
    ----------
    filters : array-like of shape (n_filters, n_features)
        One filter per row; the scale of a row does not matter.
    image_shape : tuple of two ints or None, default=None
        Shape of one filter as an image; None for a square.
    radius : int or None, default=None
        Half width of the window of ``concentration``; None is
        ``max(1, min(image_shape) // 8)`` (1 for 8 x 8 patches, 3 for 28 x 28 digits).

    Returns
    -------
    measures : :class:`~sklearn.utils.Bunch`
        ``concentration``, ``spread``, ``roughness``, ``scale``, ``orientedness``: ndarrays of
        shape (n_filters,); ``radius``: the radius used. An all-zero filter gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from skae.inspection import filter_measures
    >>> delta, uniform = np.zeros(64), np.ones(64)
    >>> delta[27] = 1.0
    >>> m = filter_measures(np.stack([delta, uniform]))
    >>> m.concentration.round(3).tolist(), m.spread.round(3).tolist()
    ([1.0, 0.062], [0.0, 3.24])
    """
    filters = check_array(filters, dtype=np.float64)
    n_filters, n_features = filters.shape
    height, width = infer_image_shape(n_features, image_shape)
    if radius is None:
        radius = max(1, min(height, width) // 8)
    images = filters.reshape(n_filters, height, width)
    energy = images**2
    total = energy.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = energy / total[:, None, None]

        # concentration: energy in a (2 radius + 1)^2 window around the peak
        peak = np.abs(filters).argmax(axis=1)
        rows, cols = np.divmod(peak, width)
        row_index = np.arange(height)[None, :, None]
        col_index = np.arange(width)[None, None, :]
        window = (np.abs(row_index - rows[:, None, None]) <= radius) & (
            np.abs(col_index - cols[:, None, None]) <= radius
        )
        concentration = (p * window).sum(axis=(1, 2))

        # spread: spatial standard deviation of the energy
        p_rows, p_cols = p.sum(axis=2), p.sum(axis=1)
        y, x = np.arange(height, dtype=float), np.arange(width, dtype=float)
        mean_y, mean_x = p_rows @ y, p_cols @ x
        var_y = p_rows @ y**2 - mean_y**2
        var_x = p_cols @ x**2 - mean_x**2
        spread = np.sqrt(np.clip(var_y + var_x, 0, None))

        # roughness: neighbour differences against the energy, 0 smooth, 1 white noise
        diff_y = (np.diff(images, axis=1) ** 2).sum(axis=(1, 2))
        diff_x = (np.diff(images, axis=2) ** 2).sum(axis=(1, 2))
        roughness = (diff_y + diff_x) / (4 * total)
        scale = 1 / (2 * np.sqrt(roughness))

        # orientedness: doubled-angle resultant of the Fourier power, DC left out
        power = np.abs(np.fft.fft2(images - images.mean(axis=(1, 2), keepdims=True))) ** 2
        fy = np.fft.fftfreq(height)[:, None]
        fx = np.fft.fftfreq(width)[None, :]
        doubled = np.exp(2j * np.arctan2(fy, fx))
        doubled[0, 0] = 0.0
        orientedness = np.abs((power * doubled).sum(axis=(1, 2))) / power.sum(axis=(1, 2))
    return Bunch(
        concentration=concentration,
        spread=spread,
        roughness=roughness,
        scale=scale,
        orientedness=orientedness,
        radius=radius,
    )
