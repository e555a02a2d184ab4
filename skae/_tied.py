from ._base import BaseAutoencoder, fill_docstring, init_arguments


@fill_docstring
class TiedAutoencoder(BaseAutoencoder):
    """Tied autoencoder: the decoder is the transpose of the encoder (W* = W^T).

    Tying halves the weights and acts as a regulariser (lecture, module 7.3); the
    gradient of the shared W is the sum of its encoder and decoder paths (the homework
    on backpropagation for autoencoders).

    {parameters}

    See Also
    --------
    SparseAutoencoder, DenoisingAutoencoder : the same model with other defaults.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import TiedAutoencoder
    >>> X = load_digits().data / 16
    >>> ae = TiedAutoencoder(n_components=32, max_iter=20, random_state=0).fit(X)
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
        tied=True,
        alpha=0.0,
        sparsity="kl",
        sparsity_target=0.05,
        initial_sparsity_target=None,
        sparsity_weight=0.0,
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
