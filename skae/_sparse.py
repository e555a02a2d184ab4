from ._base import BaseAutoencoder, fill_docstring, init_arguments


@fill_docstring
class SparseAutoencoder(BaseAutoencoder):
    """Sparse autoencoder: the KL sparsity penalty on the mean hidden activation.

    Minimises Ng's ``J_sparse(W, b) = J(W, b) + beta * sum_j KL(rho || rho^_j)`` with
    L-BFGS by default and rho = 0.05. At the defaults the data decide the rest at fit
    ("auto"): data in [0, 1] get Ng's setting, a sigmoid decoder and beta = 3; other
    data (standardised features) a linear decoder and no KL penalty, which there costs
    accuracy downstream (set ``sparsity_weight`` to ask for it).

    {parameters}

    See Also
    --------
    DenoisingAutoencoder, TiedAutoencoder : the same model with other defaults.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import SparseAutoencoder
    >>> X = load_digits().data / 16
    >>> ae = SparseAutoencoder(n_components=32, max_iter=20, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (1797, 32)
    """

    def __init__(
        self,
        n_components=256,
        *,
        activation="sigmoid",
        output_activation="auto",
        loss="squared_error",
        tied=False,
        alpha=0.0001,
        sparsity="kl",
        sparsity_target=0.05,
        initial_sparsity_target=None,
        sparsity_weight="auto",
        contraction_weight=0.0,
        transform_k_factor=None,
        noise="masking",
        noise_level=0.0,
        solver="lbfgs",
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        momentum=0.9,
        max_iter="auto",
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        chunk_size=4096,
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        super().__init__(**init_arguments(locals()))
