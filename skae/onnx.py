"""ONNX export of the skae estimators through skl2onnx.

Importing this module registers a converter for each public estimator with
``skl2onnx.update_registered_converter`` (a shape calculator and a converter, as
skl2onnx documents for custom models), so that ``skl2onnx.to_onnx`` converts a skae
estimator, or a ``Pipeline`` with skae steps, like any scikit-learn model::

    import skae.onnx  # registers the converters
    from skl2onnx import to_onnx

    onx = to_onnx(pipeline, X[:1].astype(np.float32))

The exported graph is ``transform``: ``f(X @ components_.T + intercept_hidden_)`` with the
hidden activation f, in the dtype of the example input (float32 or float64); for a
``StackedAutoencoder`` the encoders one after the other; for an ``AutoencoderClassifier``
the encoders, the softmax layer (``predict_proba``) and the most probable class
(``predict``), with skl2onnx's usual ``zipmap`` option; for an
``AutoencoderOutlierDetector`` the outputs of scikit-learn's outlier detectors in
skl2onnx, ``label`` (``predict``, +1 / -1) and ``scores`` (``decision_function``; add
``offset_`` for ``score_samples``), through the scaling, the encoders and the decoders.
A top-k reading of the code
(``transform_k_factor``) is not exported. Sparse input
is not part of ONNX: feed dense rows. Needs the ``onnx`` extra
(``pip install "skae[onnx]"``).
"""

import numpy as np

try:
    from skl2onnx import update_registered_converter
    from skl2onnx.algebra.onnx_ops import (
        OnnxAdd,
        OnnxArgMax,
        OnnxArrayFeatureExtractor,
        OnnxCast,
        OnnxDiv,
        OnnxExp,
        OnnxGather,
        OnnxIdentity,
        OnnxLess,
        OnnxLessOrEqual,
        OnnxLog,
        OnnxMatMul,
        OnnxMax,
        OnnxMin,
        OnnxMul,
        OnnxNeg,
        OnnxRelu,
        OnnxReshape,
        OnnxSigmoid,
        OnnxSoftmax,
        OnnxSqrt,
        OnnxSub,
        OnnxTanh,
        OnnxTopK,
        OnnxWhere,
    )
    from skl2onnx.common.data_types import Int64TensorType, guess_numpy_type
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError('skae.onnx needs skl2onnx and onnx: pip install "skae[onnx]"') from error

from ._classifier import AutoencoderClassifier
from ._denoising import DenoisingAutoencoder
from ._outlier import AutoencoderOutlierDetector
from ._sparse import SparseAutoencoder
from ._stacked import StackedAutoencoder
from ._tied import TiedAutoencoder

__all__ = ["register_converters"]

ESTIMATORS = (SparseAutoencoder, DenoisingAutoencoder, TiedAutoencoder, StackedAutoencoder)


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


def _encoders(estimator):
    """The single-layer autoencoders whose encoders make the exported transform."""
    if isinstance(estimator, StackedAutoencoder):
        return estimator.autoencoders_
    if isinstance(estimator, AutoencoderClassifier):
        return _encoders(estimator.autoencoder_)
    return [estimator]


def _shape_calculator(operator):
    """Output: (N, n_components of the top code) of the input's tensor type."""
    top = _encoders(operator.raw_operator)[-1]
    input_type = operator.inputs[0].type.__class__
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = input_type([n_rows, top.components_.shape[0]])


def _dtype(X):
    dtype = guess_numpy_type(X.type)
    return dtype if dtype in (np.float32, np.float64) else np.float32


def _encode(estimator, X, dtype, op_version, output_names=None):
    """The encoders ``f_l(a W_l^T + b_l)`` chained from X, as ONNX nodes."""
    encoders = _encoders(estimator)
    a = X
    for index, encoder in enumerate(encoders):
        if getattr(encoder, "transform_k_factor", None) is not None:
            raise NotImplementedError(
                "ONNX export of a top-k reading of the code (transform_k_factor) is not "
                "supported; export with transform_k_factor=None."
            )
        (weights, bias), _ = encoder.layer_parameters()  # a layer computes a W^T + b
        weights, bias = np.ascontiguousarray(weights.T, dtype=dtype), bias.astype(dtype)
        z = OnnxAdd(OnnxMatMul(a, weights, op_version=op_version), bias, op_version=op_version)
        last = index == len(encoders) - 1
        a = _activation(encoder.activation, z, op_version, output_names if last else None)
    return a


def _converter(scope, operator, container):
    """``transform``: the encoder(s) ``f(X W^T + b)`` in the input's dtype."""
    X = operator.inputs[0]
    hidden = _encode(
        operator.raw_operator, X, _dtype(X), container.target_opset, operator.outputs[:1]
    )
    hidden.add_to(scope, container)


def _decode(estimator, code, dtype, op_version):
    """The decoders ``g_l(a W*_l + c_l)`` from the top code down, as ONNX nodes."""
    a = code
    for decoder in _encoders(estimator)[::-1]:
        _, (weights, bias) = decoder.layer_parameters()
        weights, bias = np.ascontiguousarray(weights.T, dtype=dtype), bias.astype(dtype)
        z = OnnxAdd(OnnxMatMul(a, weights, op_version=op_version), bias, op_version=op_version)
        # the decoder the fit used: "auto" decided it from the data
        output_activation = decoder.fitted_settings()["output_activation"]
        a = _activation(output_activation, z, op_version, None)
    return a


def _outlier_shape_calculator(operator):
    """Outputs: ``label`` (N,) int64 and ``scores`` (N, 1) of the input's type."""
    n_rows = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = Int64TensorType([n_rows])
    operator.outputs[1].type.shape = [n_rows, 1]


def _row_sum(X, n_columns, dtype, op_version, weight=1.0):
    """``weight *`` the row sums of X, (N, 1), as a product with a column of ``weight``:
    one node whatever the opset (ReduceSum moved its axes to an input in opset 13)."""
    return OnnxMatMul(X, np.full((n_columns, 1), weight, dtype=dtype), op_version=op_version)


def _outlier_density_factor(detector, points, dtype, op_version):
    """The detector's density factor, (N, 1): ``(ratio / ratio_center_) ** gamma_``, the
    row's mean distance to its nearest training rows (or codes) over theirs."""
    from ._outlier import (
        DUPLICATE_TOLERANCE,
        LOG_FACTOR_LIMIT,
        RATIO_FLOOR,
        SKIPPED_SQUARED_DISTANCE,
    )

    reference = detector.density_reference_.astype(dtype)
    k = detector.n_neighbors_
    # squared distances |q|^2 - 2 q.r + |r|^2 to every training row, as the fit computes
    cross = OnnxMul(
        OnnxMatMul(points, np.ascontiguousarray(reference.T), op_version=op_version),
        np.array([-2], dtype=dtype),
        op_version=op_version,
    )
    norms = _row_sum(
        OnnxMul(points, points, op_version=op_version), reference.shape[1], dtype, op_version
    )
    reference_norms = np.einsum("ij,ij->i", reference, reference)[None, :]
    squared = OnnxAdd(
        OnnxAdd(cross, norms, op_version=op_version), reference_norms, op_version=op_version
    )
    # a duplicate of a training row skips it, as the detector does
    rounding = np.array([DUPLICATE_TOLERANCE * np.finfo(dtype).eps], dtype=dtype)
    duplicate = OnnxLessOrEqual(
        squared,
        OnnxMul(
            OnnxAdd(norms, reference_norms, op_version=op_version),
            rounding,
            op_version=op_version,
        ),
        op_version=op_version,
    )
    squared = OnnxWhere(
        duplicate,
        np.array([SKIPPED_SQUARED_DISTANCE], dtype=dtype),
        squared,
        op_version=op_version,
    )
    # the k smallest: TopK of the opposite (largest=1 in every opset that has TopK)
    nearest = OnnxTopK(
        OnnxNeg(squared, op_version=op_version),
        np.array([k], dtype=np.int64),
        op_version=op_version,
    )
    distances = OnnxSqrt(OnnxNeg(nearest[0], op_version=op_version), op_version=op_version)
    mean_distance = _row_sum(distances, k, dtype, op_version, weight=1.0 / k)
    neighbours = OnnxGather(
        detector.neighbor_distances_.astype(dtype), nearest[1], op_version=op_version
    )
    local = _row_sum(neighbours, k, dtype, op_version, weight=1.0 / k)
    tiny = np.array([np.finfo(dtype).tiny], dtype=dtype)
    ratio = OnnxMax(
        OnnxDiv(mean_distance, OnnxMax(local, tiny, op_version=op_version), op_version=op_version),
        np.array([RATIO_FLOOR], dtype=dtype),
        op_version=op_version,
    )
    log_factor = OnnxMul(
        OnnxLog(
            OnnxDiv(ratio, np.array([detector.ratio_center_], dtype=dtype), op_version=op_version),
            op_version=op_version,
        ),
        np.array([detector.gamma_], dtype=dtype),
        op_version=op_version,
    )
    limit = np.array([LOG_FACTOR_LIMIT], dtype=dtype)
    clipped = OnnxMin(
        OnnxMax(log_factor, -limit, op_version=op_version), limit, op_version=op_version
    )
    return OnnxExp(clipped, op_version=op_version)


def _outlier_converter(scope, operator, container):
    """``predict`` and ``decision_function``: -sum_j (g(f(x~)) - x~)_j^2 * factor - offset_."""
    detector = operator.raw_operator
    op_version = container.target_opset
    X = operator.inputs[0]
    dtype = _dtype(X)
    scaled = OnnxDiv(
        OnnxSub(X, detector.center_.astype(dtype), op_version=op_version),
        detector.scale_.astype(dtype),
        op_version=op_version,
    )
    autoencoder = detector.autoencoder_
    codes = _encode(autoencoder, scaled, dtype, op_version)
    reconstruction = _decode(autoencoder, codes, dtype, op_version)
    residual = OnnxSub(reconstruction, scaled, op_version=op_version)
    squared = OnnxMul(residual, residual, op_version=op_version)
    error = _row_sum(squared, detector.n_features_in_, dtype, op_version)
    if detector.density is not None:
        points = codes if detector.density == "code" else X
        factor = _outlier_density_factor(detector, points, dtype, op_version)
        error = OnnxMul(error, factor, op_version=op_version)
    decision = OnnxSub(
        np.array([-detector.offset_], dtype=dtype),
        error,
        op_version=op_version,
        output_names=operator.outputs[1:2],
    )
    outlier = OnnxCast(
        OnnxLess(decision, np.array([0], dtype=dtype), op_version=op_version),
        to=7,  # INT64
        op_version=op_version,
    )
    # +1 for an inlier, -1 for an outlier: 1 - 2 * outlier, one label per row
    labels = OnnxReshape(
        OnnxAdd(
            OnnxMul(outlier, np.array([-2], dtype=np.int64), op_version=op_version),
            np.array([1], dtype=np.int64),
            op_version=op_version,
        ),
        np.array([-1], dtype=np.int64),
        op_version=op_version,
        output_names=operator.outputs[:1],
    )
    decision.add_to(scope, container)
    labels.add_to(scope, container)


def _classifier_converter(scope, operator, container):
    """``predict`` and ``predict_proba``: the encoders, then the softmax layer."""
    classifier = operator.raw_operator
    op_version = container.target_opset
    X = operator.inputs[0]
    dtype = _dtype(X)
    code = _encode(classifier, X, dtype, op_version)
    weights = np.ascontiguousarray(classifier.coef_.T, dtype=dtype)
    z = OnnxAdd(
        OnnxMatMul(code, weights, op_version=op_version),
        classifier.intercept_.astype(dtype),
        op_version=op_version,
    )
    probabilities = OnnxSoftmax(
        z, axis=1, op_version=op_version, output_names=operator.outputs[1:2]
    )
    best = OnnxArgMax(probabilities, axis=1, keepdims=0, op_version=op_version)
    # ArrayFeatureExtractor keeps a leading axis of 1: reshape to one label per row
    labels = OnnxReshape(
        OnnxArrayFeatureExtractor(np.asarray(classifier.classes_), best, op_version=op_version),
        np.array([-1], dtype=np.int64),
        op_version=op_version,
        output_names=operator.outputs[:1],
    )
    probabilities.add_to(scope, container)
    labels.add_to(scope, container)


def register_converters():
    """Register the skae converters with skl2onnx (done once on import; idempotent).

    Each public estimator gets the alias ``"Skae<ClassName>"``.
    """
    for estimator in ESTIMATORS:
        update_registered_converter(
            estimator, f"Skae{estimator.__name__}", _shape_calculator, _converter
        )
    update_registered_converter(
        AutoencoderClassifier,
        "SkaeAutoencoderClassifier",
        calculate_linear_classifier_output_shapes,
        _classifier_converter,
        options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
    )
    update_registered_converter(
        AutoencoderOutlierDetector,
        "SkaeAutoencoderOutlierDetector",
        _outlier_shape_calculator,
        _outlier_converter,
    )


register_converters()
