"""ONNX export of the skae estimators through skl2onnx.

Importing this module registers a converter for each public estimator with
``skl2onnx.update_registered_converter`` (a shape calculator and a converter, as
skl2onnx documents for custom models), so that ``skl2onnx.to_onnx`` converts a skae
estimator, or a ``Pipeline`` with skae steps, like any scikit-learn model::

    import skae.onnx  # registers the converters
    from skl2onnx import to_onnx

    onx = to_onnx(pipeline, X[:1].astype(np.float32))

The exported graph is ``transform``: ``f(X @ components_.T + intercept_hidden_)`` with the
hidden activation f, in the dtype of the example input (float32 or float64). Sparse input
is not part of ONNX: feed dense rows. Needs the ``onnx`` extra
(``pip install "skae[onnx]"``).
"""

import numpy as np

try:
    from skl2onnx import update_registered_converter
    from skl2onnx.algebra.onnx_ops import (
        OnnxAdd,
        OnnxIdentity,
        OnnxMatMul,
        OnnxMul,
        OnnxRelu,
        OnnxSigmoid,
        OnnxTanh,
    )
    from skl2onnx.common.data_types import guess_numpy_type
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError('skae.onnx needs skl2onnx and onnx: pip install "skae[onnx]"') from error

from ._denoising import DenoisingAutoencoder
from ._sparse import SparseAutoencoder
from ._tied import TiedAutoencoder

__all__ = ["register_converters"]

ESTIMATORS = (SparseAutoencoder, DenoisingAutoencoder, TiedAutoencoder)


def _activation(name, z, op_version, output_names):
    """The ONNX nodes of one entry of ``skae._core.ACTIVATIONS``."""
    if name == "sigmoid":
        return OnnxSigmoid(z, op_version=op_version, output_names=output_names)
    if name == "tanh":
        return OnnxTanh(z, op_version=op_version, output_names=output_names)
    if name == "relu":
        return OnnxRelu(z, op_version=op_version, output_names=output_names)
    if name == "swish":  # z * sigmoid(z)
        sigmoid = OnnxSigmoid(z, op_version=op_version)
        return OnnxMul(z, sigmoid, op_version=op_version, output_names=output_names)
    if name == "identity":
        return OnnxIdentity(z, op_version=op_version, output_names=output_names)
    raise NotImplementedError(f"No ONNX conversion for activation={name!r}.")


def _shape_calculator(operator):
    """Output: (N, n_components) of the input's tensor type."""
    estimator = operator.raw_operator
    input_type = operator.inputs[0].type.__class__
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = input_type([n_rows, estimator.components_.shape[0]])


def _converter(scope, operator, container):
    """``transform``: the encoder ``f(X W^T + b)`` in the input's dtype."""
    estimator = operator.raw_operator
    op_version = container.target_opset
    X = operator.inputs[0]
    dtype = guess_numpy_type(X.type)
    if dtype not in (np.float32, np.float64):
        dtype = np.float32
    weights = np.ascontiguousarray(estimator.components_.T, dtype=dtype)
    bias = estimator.intercept_hidden_.astype(dtype)
    z = OnnxAdd(OnnxMatMul(X, weights, op_version=op_version), bias, op_version=op_version)
    hidden = _activation(estimator.activation, z, op_version, operator.outputs[:1])
    hidden.add_to(scope, container)


def register_converters():
    """Register the skae converters with skl2onnx (done once on import; idempotent).

    Each public estimator gets the alias ``"Skae<ClassName>"``.
    """
    for estimator in ESTIMATORS:
        update_registered_converter(
            estimator, f"Skae{estimator.__name__}", _shape_calculator, _converter
        )


register_converters()
