"""Gradient checking against central finite differences (Ng's notes, section 2.3)."""

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_array, check_is_fitted


def _is_fitted(estimator):
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def check_gradients(estimator, X, y=None, *, epsilon=1e-6, n_checks=None, random_state=0):
    """Largest relative error between backprop and finite-difference gradients.

    The full objective (reconstruction + weight decay + sparsity) is evaluated in
    float64; each parameter i gets the central difference
    ``(J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)``. For each parameter block
    (each layer's weights and biases: encoder, decoder, deeper layers, a softmax head)
    the relative error ``||g - n|| / ||g + n||`` (the norm ratio of Ng's exercise) is
    computed; the largest is returned. Below 1e-6 means the gradient is right. A block
    whose backprop and numerical gradients are both below the rounding noise of the
    differences, ``10 eps_machine max(1, |J|) / epsilon`` per parameter, is skipped
    (a block of masked units has a zero gradient, and its ratio would otherwise compare
    noise with noise). Top-k and winner-take-all selections are held fixed.

    Parameters
    ----------
    estimator : skae estimator
        Unfitted (parameters initialised from its ``random_state``) or fitted (checked
        at its fitted parameters).
    X : array-like of shape (n_samples, n_features)
        Data at which the objective is evaluated. Keep it small: each checked
        parameter costs two evaluations.
    y : array-like of shape (n_samples,), optional
        Labels, for an :class:`~skae.AutoencoderClassifier` (its softmax head and log
        loss are checked with the network below them).
    epsilon : float, default=1e-6
        Finite-difference step.
    n_checks : int or None, default=None
        Check only this many randomly chosen parameters (all if None).
    random_state : int, default=0
        Seeds the choice of parameters, the corruption and the dropout masks, which
        are held fixed.

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
    # validate and initialise exactly as fit would (unfitted), or take the fitted
    # parameters; noise and dropout are held fixed by their seed
    problem_owner = estimator if _is_fitted(estimator) else clone(estimator)
    if y is None:
        network, theta, keywords = problem_owner._gradient_problem(X, random_state)
    else:
        network, theta, keywords = problem_owner._gradient_problem(X, random_state, y=y)

    network.hold_masks()  # top-k and winner-take-all selections held fixed

    def objective(t, grad=None):
        return network.objective(t, X, grad, **keywords)

    grad = np.empty_like(theta)
    value = objective(theta, grad)
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
    block_of = np.concatenate([np.full(size, b) for b, (_, size) in enumerate(network.blocks)])[
        indices
    ]
    # A block whose true gradient is zero (units masked by top-k or winner-take-all,
    # dead ReLUs) has a finite-difference gradient of pure rounding noise, ~1e-10: its
    # ratio would say 1. Differences below that noise floor count as agreement.
    # Each difference quotient carries a rounding error of about eps_machine |J| / epsilon.
    rounding = 10 * np.finfo(np.float64).eps * max(1.0, abs(value)) / epsilon
    worst = 0.0
    for b in np.unique(block_of):
        g, n = grad[indices][block_of == b], numeric[block_of == b]
        difference = np.linalg.norm(g - n)
        floor = rounding * np.sqrt(g.size)
        if np.linalg.norm(g) <= floor and np.linalg.norm(n) <= floor:
            continue  # both zero up to rounding: nothing to compare
        denominator = np.linalg.norm(g + n)
        worst = max(worst, float(difference / denominator) if denominator > 0 else np.inf)
    return worst
