"""ONNX export: skl2onnx converts skae estimators and pipelines; onnxruntime agrees.

Tolerance: float32 ONNX output within atol = rtol = 1e-5 of ``transform`` on the same
float32 input, for every activation, tied or not (the measured gap is about 1e-6: float32
rounding of the matrix product and of the activation, skae's sigmoid being computed as
``(1 + tanh(z / 2)) / 2``). Float64 graphs agree to 1e-12.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from skae import DenoisingAutoencoder, SparseAutoencoder, TiedAutoencoder

pytest.importorskip("skl2onnx")
rt = pytest.importorskip("onnxruntime")
skae_onnx = pytest.importorskip("skae.onnx")
from skl2onnx import to_onnx  # noqa: E402

ACTIVATIONS = ["sigmoid", "tanh", "relu", "swish", "identity"]
FLOAT32_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y


def run_onnx(model, X):
    session = rt.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_transform_matches_onnxruntime_float32(activation, tied, digits):
    X, _ = digits
    ae = SparseAutoencoder(
        n_components=12,
        activation=activation,
        output_activation="sigmoid",
        sparsity_weight=0.0,
        tied=tied,
        max_iter=10,
        random_state=0,
    ).fit(X[:300])
    # a test that can fail: the hidden units must move away from their initial zero bias
    assert np.abs(ae.intercept_hidden_).max() > 0
    (onnx_output,) = run_onnx(to_onnx(ae, X[:1]), X)
    expected = ae.transform(X)
    assert onnx_output.dtype == np.float32 and onnx_output.shape == expected.shape
    np.testing.assert_allclose(
        onnx_output, expected, atol=FLOAT32_TOLERANCE, rtol=FLOAT32_TOLERANCE
    )


def test_float64_graph_matches_to_float64_precision(digits):
    X, _ = digits
    X64 = X.astype(np.float64)
    ae = TiedAutoencoder(n_components=6, activation="tanh", max_iter=10, random_state=0).fit(X64)
    (onnx_output,) = run_onnx(to_onnx(ae, X64[:1]), X64)
    assert onnx_output.dtype == np.float64
    np.testing.assert_allclose(onnx_output, ae.transform(X64), atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("Estimator", [SparseAutoencoder, DenoisingAutoencoder, TiedAutoencoder])
@pytest.mark.parametrize("Scaler", [StandardScaler, MinMaxScaler])
def test_pipeline_with_a_skae_step_converts(Estimator, Scaler, digits):
    X, y = digits
    pipe = make_pipeline(
        Scaler(),
        Estimator(n_components=16, output_activation="identity", max_iter=20, random_state=0),
        LogisticRegression(max_iter=300),
    ).fit(X[:600], y[:600])
    X_test = X[1200:]
    model = to_onnx(pipe, X_test[:1], options={LogisticRegression: {"zipmap": False}})
    labels, probabilities = run_onnx(model, X_test)
    expected = pipe.predict_proba(X_test)
    np.testing.assert_allclose(probabilities, expected, atol=1e-4)
    # labels agree except where two classes tie to float32 precision
    agree = labels == pipe.predict(X_test)
    top_two = np.sort(expected, axis=1)[:, -2:]
    assert np.all(agree | (top_two[:, 1] - top_two[:, 0] < 1e-4))


def test_register_converters_is_idempotent(digits):
    X, _ = digits
    skae_onnx.register_converters()
    skae_onnx.register_converters()
    ae = DenoisingAutoencoder(n_components=4, max_iter=2, random_state=0).fit(X[:100])
    (onnx_output,) = run_onnx(to_onnx(ae, X[:1]), X[:100])
    np.testing.assert_allclose(onnx_output, ae.transform(X[:100]), atol=FLOAT32_TOLERANCE)


def test_without_skl2onnx_the_import_error_names_the_extra(monkeypatch):
    import importlib
    import sys

    monkeypatch.setitem(sys.modules, "skl2onnx", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "skae.onnx")
    with pytest.raises(ImportError, match=r'pip install "skae\[onnx\]"'):
        importlib.import_module("skae.onnx")


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_stack_and_classifier_match_onnxruntime(activation, digits):
    from skae import AutoencoderClassifier, StackedAutoencoder

    X, y = digits
    stack = StackedAutoencoder(
        [
            ("a", SparseAutoencoder(20, sparsity_weight=0.0, max_iter=5, random_state=0)),
            ("b", TiedAutoencoder(8, activation=activation, max_iter=5, random_state=0)),
        ],
        fine_tune_max_iter=2,
        random_state=0,
    ).fit(X[:300])
    (onnx_codes,) = run_onnx(to_onnx(stack, X[:1]), X)
    np.testing.assert_allclose(
        onnx_codes, stack.transform(X), atol=FLOAT32_TOLERANCE, rtol=FLOAT32_TOLERANCE
    )
    clf = AutoencoderClassifier(stack, max_iter=5, random_state=0).fit(X[:300], y[:300])
    model = to_onnx(clf, X[:1], options={id(clf): {"zipmap": False}})
    labels, probabilities = run_onnx(model, X)
    np.testing.assert_allclose(
        probabilities, clf.predict_proba(X), atol=FLOAT32_TOLERANCE, rtol=FLOAT32_TOLERANCE
    )
    assert labels.shape == (X.shape[0],)
    assert np.mean(labels == clf.predict(X)) > 0.99  # only near-ties may differ


def test_top_k_reading_is_not_exported_silently(digits):
    X, _ = digits
    ae = SparseAutoencoder(
        16, activation="relu", sparsity="top_k", transform_k_factor=2.0, max_iter=2
    ).fit(X[:100])
    with pytest.raises(NotImplementedError, match="transform_k_factor"):
        to_onnx(ae, X[:1])
