"""Gradient checking against central finite differences (Ng's notes, section 2.3)."""

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

from .._core import Corruption

PARAMETER_BLOCKS = ("encoder_weights", "hidden_bias", "decoder_weights", "visible_bias")


def check_gradients(estimator, X, *, epsilon=1e-6, n_checks=None, random_state=0):
    """Largest relative error between backprop and finite-difference gradients.

    The full objective (reconstruction + weight decay + sparsity) is evaluated in
    float64; each parameter i gets the central difference
    ``(J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)``. For each parameter block
    (encoder weights, hidden biases, decoder weights, visible biases) the relative error
    ``||g - n|| / ||g + n||`` (the norm ratio of Ng's exercise) is computed; the
    largest is returned. Below 1e-6 means the gradient is right.

    Parameters
    ----------
    estimator : skae estimator
        Unfitted (parameters initialised from its ``random_state``) or fitted (checked
        at its fitted parameters).
    X : array-like of shape (n_samples, n_features)
        Data at which the objective is evaluated. Keep it small: each checked
        parameter costs two evaluations.
    epsilon : float, default=1e-6
        Finite-difference step.
    n_checks : int or None, default=None
        Check only this many randomly chosen parameters (all if None).
    random_state : int, default=0
        Seeds the choice of parameters and the corruption, which is held fixed.

    Returns
    -------
    max_relative_error : float

    Examples
    --------
    >>> import numpy as np
    >>> from skae import SparseAutoencoder
    >>> from skae.utils import check_gradients
    >>> X = np.random.default_rng(0).random((10, 6))
    >>> check_gradients(SparseAutoencoder(n_components=4, random_state=0), X) < 1e-6
    True
    """
    X = check_array(X, dtype=np.float64)
    fitted = hasattr(estimator, "components_")
    if not fitted:
        # validate and initialise exactly as fit would, without training
        estimator = clone(estimator)
        estimator._validate_params()
        estimator._check_params_against_data(X)
        network = estimator._network(X.shape[1], np.float64)
        seed = check_random_state(estimator.random_state).randint(np.iinfo(np.int32).max)
        theta = network.init_params(np.random.default_rng(seed))
    else:
        if X.shape[1] != estimator.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but the fitted {type(estimator).__name__} "
                f"expects {estimator.n_features_in_}."
            )
        estimator._check_params_against_data(X)
        network = estimator._network(estimator.n_features_in_, np.float64)
        theta = estimator._fitted_params(network)

    corrupt = None
    if estimator.noise_level > 0:
        corrupt = Corruption(estimator.noise, estimator.noise_level, random_state)

    def objective(t, grad=None):
        return network.objective(t, X, grad, corrupt=corrupt)

    grad = np.empty_like(theta)
    objective(theta, grad)
    rng = np.random.default_rng(random_state)
    indices = np.arange(theta.size)
    if n_checks is not None and n_checks < theta.size:
        indices = np.sort(rng.choice(theta.size, n_checks, replace=False))
    numeric = np.empty(indices.size)
    shifted = theta.copy()
    for k, i in enumerate(indices):
        shifted[i] = theta[i] + epsilon
        plus = objective(shifted)
        shifted[i] = theta[i] - epsilon
        minus = objective(shifted)
        shifted[i] = theta[i]
        numeric[k] = (plus - minus) / (2 * epsilon)

    # map each checked index to its block: relative error per block, largest returned
    block_of = np.concatenate([np.full(int(np.prod(s)), b) for b, s in enumerate(network.shapes)])[
        indices
    ]
    worst = 0.0
    for b in np.unique(block_of):
        g, n = grad[indices][block_of == b], numeric[block_of == b]
        denominator = np.linalg.norm(g + n)
        if denominator > 0:
            worst = max(worst, float(np.linalg.norm(g - n) / denominator))
        elif np.linalg.norm(g - n) > 0:
            worst = np.inf
    return worst
