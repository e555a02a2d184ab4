from ._base import BaseAutoencoder, fill_docstring, init_arguments


@fill_docstring
class DenoisingAutoencoder(BaseAutoencoder):
    """Denoising autoencoder: reconstructs the clean input from a corrupted one.

    Each input is set to 0 with probability q = 0.25 during fit (masking noise, the
    lecture's module 7.4); the loss compares with the clean input. Trained with Adam.

    {parameters}

    See Also
    --------
    SparseAutoencoder, TiedAutoencoder : the same model with other defaults.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoencoder
    >>> X = load_digits().data / 16
    >>> ae = DenoisingAutoencoder(n_components=32, max_iter=5, random_state=0).fit(X)
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
        sparsity_weight=0.0,
        contraction_weight=0.0,
        transform_k_factor=None,
        noise="masking",
        noise_level=0.25,
        solver="adam",
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
