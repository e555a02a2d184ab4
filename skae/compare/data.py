"""The comparison's data: a train/test split with pixels in [0, 1], and the validation split.

The benchmark scripts load MNIST and carve their validation sets through these two
functions too, so that every result in ``benchmarks/results/`` is on the same splits.
"""

from sklearn.model_selection import train_test_split

__all__ = ["load_data", "validation_split"]


def load_data(dataset="digits", *, data_home=None, n_train=None, random_state=0):
    """Load a dataset as a train/test split with pixels in [0, 1].

    Parameters
    ----------
    dataset : {"digits", "mnist"}, default="digits"
        "digits": scikit-learn's bundled 8x8 digits divided by 16, split by a stratified
        ``train_test_split(test_size=0.25)``. "mnist": the official split from
        :func:`skae.datasets.load_mnist`.
    data_home : str or path-like, default=None
        Where MNIST is cached (``load_mnist``'s own default if None); unused for digits.
    n_train : int, default=None
        Keep a stratified subsample of this many training samples; None (or a number at
        least the training set's size) keeps them all. The test set is never subsampled.
    random_state : int, default=0
        Seeds the digits split and the subsample.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
    """
    if dataset == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            X / 16.0, y, test_size=0.25, stratify=y, random_state=random_state
        )
    elif dataset == "mnist":
        # imported here: only this branch needs the download code
        from ..datasets import load_mnist

        X_train, y_train, X_test, y_test = load_mnist(data_home=data_home, return_X_y=True)
    else:
        raise ValueError(f"Unknown dataset {dataset!r}; use 'digits' or 'mnist'.")
    if n_train is not None and n_train < X_train.shape[0]:
        X_train, _, y_train, _ = train_test_split(
            X_train, y_train, train_size=n_train, stratify=y_train, random_state=random_state
        )
    return X_train, y_train, X_test, y_test


def validation_split(X_train, y_train, n_validation, *, random_state=0):
    """Carve a stratified validation set out of the training set.

    Parameters
    ----------
    X_train, y_train : array-like
        The training set; the test set never enters the search.
    n_validation : int
        Number of validation samples (10000 of MNIST's 60000; a sixth for digits).
    random_state : int, default=0
        Seeds the split; fixed, so every method is searched on the same split.

    Returns
    -------
    X_fit, y_fit, X_val, y_val : ndarray
    """
    X_fit, X_val, y_fit, y_val = train_test_split(
        X_train, y_train, test_size=n_validation, stratify=y_train, random_state=random_state
    )
    return X_fit, y_fit, X_val, y_val
