"""Apply a row-wise function to X block by block, writing into one preallocated output."""

import scipy.sparse as sp


def map_row_blocks(function, X, out, block_size):
    """``out[i:j] = function(X[i:j])`` for consecutive blocks of ``block_size`` rows.

    Memory beyond ``X`` and ``out`` is what ``function`` needs for one block, so it is
    bounded by ``block_size`` whatever the number of rows.

    Parameters
    ----------
    function : callable
        Maps a block of rows of X to the matching rows of the output.
    X : ndarray or sparse matrix of shape (n_samples, ...)
        A CSC matrix is turned into CSR once (row slices of CSC cost a pass over all its
        entries each).
    out : ndarray of shape (n_samples, ...)
        Receives the results; its dtype is the output's.
    block_size : int or None
        Rows per block; None maps all rows at once.

    Returns
    -------
    out : ndarray
    """
    if sp.issparse(X) and X.format != "csr":
        X = X.tocsr()
    n_samples = X.shape[0]
    step = n_samples if block_size is None else max(1, int(block_size))
    for start in range(0, n_samples, step):
        stop = min(start + step, n_samples)
        out[start:stop] = function(X[start:stop])
    return out
