"""Tests of skae.datasets: the IDX reader/writer and the MNIST loader."""

import gzip
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils import Bunch

from skae.datasets import _idx, _mnist, get_data_home, load_mnist, read_idx, write_idx

# The real MNIST files, shared next to the repository rather than shipped with it.
MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

# A tiny stand-in for MNIST, so the loader's logic is tested in milliseconds.
N_TRAIN, N_TEST = 6, 4


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def mnist():
    """The real MNIST, read once for the whole module (about a second)."""
    if not MNIST_DIR.is_dir():
        pytest.skip(f"real MNIST files not found in {MNIST_DIR}")
    return load_mnist(MNIST_DIR)


@pytest.fixture
def small(monkeypatch):
    """Make the loader expect N_TRAIN / N_TEST samples instead of 60000 / 10000."""
    monkeypatch.setattr(_mnist, "_N_SAMPLES", {"train": N_TRAIN, "test": N_TEST})


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    # Any test reaching OpenML by mistake fails instead of downloading.
    def fail(*args, **kwargs):
        raise AssertionError("fetch_openml must not be called")

    monkeypatch.setattr(_mnist, "fetch_openml", fail)


def fake_mnist(seed=0):
    """Pixels (N_TRAIN + N_TEST, 784) and labels as uint8, every digit present."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(N_TRAIN + N_TEST, 784), dtype=np.uint8)
    pixels[0, :2] = 0, 255  # make sure both ends of the range occur
    labels = rng.permutation(10).astype(np.uint8)
    return pixels, labels


def write_fake_mnist(folder, pixels, labels, suffix=".gz"):
    folder.mkdir(parents=True, exist_ok=True)
    images = pixels.reshape(-1, 28, 28)
    rows = {"train": slice(0, N_TRAIN), "test": slice(N_TRAIN, None)}
    for split, (images_name, labels_name) in _mnist.SPLIT_FILES.items():
        write_idx(folder / (images_name + suffix), images[rows[split]])
        write_idx(folder / (labels_name + suffix), labels[rows[split]])


def idx_bytes(array):
    """An IDX file's content, written by hand to check write_idx independently."""
    code = {"u1": 8, "i1": 9, "i2": 11, "i4": 12, "f4": 13, "f8": 14}[array.dtype.str[1:]]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


# ------------------------------------------------------------------------- IDX files


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 1, 3, 2), (0, 3)])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, shape, suffix):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal(shape) * 100).astype(dtype)
    path = tmp_path / f"data{suffix}"
    write_idx(path, array)
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype) and result.dtype.isnative
    assert result.shape == shape
    np.testing.assert_array_equal(result, array)
    assert result.flags.writeable
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")


def test_write_idx_layout_and_byte_order(tmp_path):
    # The bytes on disk follow the format, whatever the byte order of the input.
    array = np.arange(6, dtype="<i4").reshape(2, 3) - 3
    write_idx(tmp_path / "a", array)
    write_idx(tmp_path / "b", array.astype(">i4"))
    expected = bytes([0, 0, 0x0C, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + np.asarray(array, ">i4").tobytes()
    assert (tmp_path / "a").read_bytes() == expected == (tmp_path / "b").read_bytes()
    assert not list(tmp_path.glob("*.part"))


def test_read_idx_detects_gzip_by_content(tmp_path):
    array = np.arange(12, dtype=np.int16).reshape(3, 4)
    # Gzipped but without suffix, and plain despite a .gz suffix.
    write_idx(tmp_path / "gzipped", array, compress=True)
    write_idx(tmp_path / "plain.gz", array, compress=False)
    assert (tmp_path / "plain.gz").read_bytes() == idx_bytes(array)
    assert gzip.decompress((tmp_path / "gzipped").read_bytes()) == idx_bytes(array)
    np.testing.assert_array_equal(read_idx(tmp_path / "gzipped"), array)
    np.testing.assert_array_equal(read_idx(str(tmp_path / "plain.gz")), array)


@pytest.mark.parametrize(
    "array", [np.zeros(3, np.int64), np.zeros(3, np.uint16), np.zeros(3, bool)]
)
def test_write_idx_rejects_unsupported_dtype(tmp_path, array):
    with pytest.raises(ValueError, match=f"cannot store dtype {array.dtype}"):
        write_idx(tmp_path / "x", array)
    assert not list(tmp_path.iterdir())


def test_write_idx_failure_leaves_nothing(tmp_path, monkeypatch):
    def replace(src, dst):
        raise OSError("disk full")

    # Fail at the last step, after the temporary file was fully written.
    monkeypatch.setattr(_idx.os, "replace", replace)
    with pytest.raises(OSError, match="disk full"):
        write_idx(tmp_path / "x.gz", np.arange(3, dtype=np.uint8))
    assert not list(tmp_path.iterdir())


GOOD = idx_bytes(np.arange(12, dtype=np.int16).reshape(3, 4))


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"\x00\x00", "2 bytes, too short for the magic number"),
        (b"\x12\x34" + GOOD[2:], "bad magic number 0x12340b02"),
        (GOOD[:2] + b"\x0a" + GOOD[3:], "bad magic number 0x00000a02"),
        (GOOD[:8], "header truncated"),
        (GOOD[:-1], "payload truncated.*needs 24 bytes of data, found 23"),
        (GOOD + b"\x00", "trailing bytes.*found 25"),
        (gzip.compress(GOOD)[:-10], "broken gzip stream"),
    ],
    ids=["short", "magic", "type-code", "header", "payload", "trailing", "gzip"],
)
def test_read_idx_corrupt(tmp_path, content, problem):
    path = tmp_path / "corrupt-idx2-short"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"Corrupt IDX file .*corrupt-idx2-short: {problem}"):
        read_idx(path)


def test_read_idx_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        read_idx(tmp_path / "nothing-here")


# ------------------------------------------------------------------------ real MNIST


def test_mnist_shapes_and_dtypes(mnist):
    assert isinstance(mnist, Bunch)
    assert mnist.X_train.shape == (60000, 784) and mnist.X_test.shape == (10000, 784)
    assert mnist.y_train.shape == (60000,) and mnist.y_test.shape == (10000,)
    assert mnist.X_train.dtype == mnist.X_test.dtype == np.float32
    assert mnist.y_train.dtype == mnist.y_test.dtype == np.int64
    assert mnist.image_shape == (28, 28)
    assert "MNIST" in mnist.DESCR


def test_mnist_values(mnist):
    for X in (mnist.X_train, mnist.X_test):
        assert X.min() == 0.0 and X.max() == 1.0
    # Flattened in C order and scaled by 255 (checked on the smaller split).
    raw = read_idx(MNIST_DIR / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(mnist.X_test, raw.reshape(10000, 784) / np.float32(255))
    np.testing.assert_array_equal(np.bincount(mnist.y_train, minlength=10), TRAIN_COUNTS)
    np.testing.assert_array_equal(np.bincount(mnist.y_test, minlength=10), TEST_COUNTS)
    # The standard order, not a shuffle.
    np.testing.assert_array_equal(mnist.y_train[:5], [5, 0, 4, 1, 9])
    np.testing.assert_array_equal(mnist.y_test[:5], [7, 2, 1, 0, 4])


# ----------------------------------------------------------------- loader, fake data


@pytest.mark.parametrize("subfolder", ["", "mnist"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_load_mnist_layouts(tmp_path, small, subfolder, suffix):
    pixels, labels = fake_mnist()
    write_fake_mnist(tmp_path / subfolder, pixels, labels, suffix)
    data = load_mnist(tmp_path)
    np.testing.assert_array_equal(data.X_train, pixels[:N_TRAIN] / np.float32(255))
    np.testing.assert_array_equal(data.X_test, pixels[N_TRAIN:] / np.float32(255))
    np.testing.assert_array_equal(data.y_train, labels[:N_TRAIN])
    np.testing.assert_array_equal(data.y_test, labels[N_TRAIN:])
    assert data.X_train.dtype == np.float32 and data.y_test.dtype == np.int64


def test_load_mnist_return_X_y_and_dtype(tmp_path, small):
    pixels, labels = fake_mnist()
    write_fake_mnist(tmp_path, pixels, labels)
    bunch = load_mnist(tmp_path, dtype=np.float64)
    result = load_mnist(tmp_path, dtype=np.float64, return_X_y=True)
    assert isinstance(result, tuple) and len(result) == 4
    for array, key in zip(result, ["X_train", "y_train", "X_test", "y_test"], strict=True):
        np.testing.assert_array_equal(array, bunch[key])
    assert result[0].dtype == np.float64
    np.testing.assert_array_equal(result[0], pixels[:N_TRAIN] / 255.0)


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, "U3"])
def test_load_mnist_rejects_non_float_dtype(dtype):
    with pytest.raises(ValueError, match="floating dtype"):
        load_mnist(dtype=dtype)


def test_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("SKAE_DATA", raising=False)
    assert get_data_home() == str(tmp_path / "skae_data")
    monkeypatch.setenv("SKAE_DATA", str(tmp_path / "env"))
    assert get_data_home() == str(tmp_path / "env")
    assert get_data_home(tmp_path / "arg") == str(tmp_path / "arg")
    assert get_data_home("~/x") == str(tmp_path / "x")
    assert not (tmp_path / "env").exists()  # looking the folder up creates nothing


def test_load_mnist_uses_env_var(monkeypatch, tmp_path, small):
    pixels, labels = fake_mnist()
    write_fake_mnist(tmp_path / "mnist", pixels, labels)
    monkeypatch.setenv("SKAE_DATA", str(tmp_path))
    np.testing.assert_array_equal(load_mnist().y_test, labels[N_TRAIN:])


def test_load_mnist_missing_file(tmp_path, small):
    pixels, labels = fake_mnist()
    write_fake_mnist(tmp_path / "mnist", pixels, labels)
    (tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path)
    message = str(info.value)
    # Only the missing file is named, with the folders searched and both remedies.
    assert "t10k-labels-idx1-ubyte" in message and "images" not in message
    assert str(tmp_path) in message and str(tmp_path / "mnist") in message
    assert "data_home" in message and "download_if_missing=True" in message


def test_load_mnist_empty_folder_names_every_file(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(tmp_path / "nowhere")
    assert all(name in str(info.value) for name in _mnist.FILENAMES)
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(
    "name, array, problem",
    [
        ("train-labels-idx1-ubyte", np.zeros(N_TRAIN - 1, np.uint8), r"shape \(6,\)"),
        ("t10k-images-idx3-ubyte", np.zeros((N_TEST, 28, 27), np.uint8), r"\(4, 28, 28\)"),
        ("t10k-labels-idx1-ubyte", np.zeros(N_TEST, np.int32), "found int32"),
        ("train-labels-idx1-ubyte", np.full(N_TRAIN, 10, np.uint8), "label 10 is not a digit"),
    ],
)
def test_load_mnist_wrong_content(tmp_path, small, name, array, problem):
    pixels, labels = fake_mnist()
    write_fake_mnist(tmp_path, pixels, labels)
    write_idx(tmp_path / f"{name}.gz", array)
    with pytest.raises(ValueError, match=f"{name}.gz is not an MNIST file: .*{problem}"):
        load_mnist(tmp_path)


def test_load_mnist_corrupt_file(tmp_path, small):
    pixels, labels = fake_mnist()
    write_fake_mnist(tmp_path, pixels, labels, suffix="")
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError, match="train-images-idx3-ubyte: payload truncated"):
        load_mnist(tmp_path)


# -------------------------------------------------------------------------- download


@pytest.fixture
def fake_openml(monkeypatch, small):
    """Replace fetch_openml by a counter returning OpenML-shaped fake data."""
    pixels, labels = fake_mnist()
    calls = []

    def fetch_openml(name, **kwargs):
        calls.append((name, kwargs))
        # Like OpenML with as_frame=False: float64 pixels and string labels.
        return Bunch(data=pixels.astype(np.float64), target=labels.astype(str).astype(object))

    monkeypatch.setattr(_mnist, "fetch_openml", fetch_openml)
    return calls, pixels, labels


def test_download_only_on_request(tmp_path, fake_openml):
    calls, _, _ = fake_openml
    with pytest.raises(FileNotFoundError):
        load_mnist(tmp_path)
    assert calls == []
    assert not list(tmp_path.iterdir())


def test_download_then_cache(tmp_path, fake_openml):
    calls, pixels, labels = fake_openml
    first = load_mnist(tmp_path, download_if_missing=True)
    assert calls == [("mnist_784", {"version": 1, "as_frame": False, "data_home": str(tmp_path)})]
    # The first N_TRAIN rows are the training set, the rest the test set.
    np.testing.assert_array_equal(first.X_train, pixels[:N_TRAIN] / np.float32(255))
    np.testing.assert_array_equal(first.y_test, labels[N_TRAIN:])

    cached = sorted(p.name for p in (tmp_path / "mnist").iterdir())
    assert cached == sorted(f"{name}.gz" for name in _mnist.FILENAMES)
    np.testing.assert_array_equal(
        read_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz"),
        pixels[N_TRAIN:].reshape(-1, 28, 28),
    )
    np.testing.assert_array_equal(
        read_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz"), labels[:N_TRAIN]
    )

    second = load_mnist(tmp_path, download_if_missing=True)
    assert len(calls) == 1
    for key in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(second[key], first[key])


def test_download_rejects_unexpected_data(tmp_path, monkeypatch, small):
    def fetch_openml(name, **kwargs):
        return Bunch(data=np.zeros((N_TRAIN + N_TEST, 783)), target=np.zeros(10, int))

    monkeypatch.setattr(_mnist, "fetch_openml", fetch_openml)
    with pytest.raises(ValueError, match=r"data of shape \(10, 783\)"):
        load_mnist(tmp_path, download_if_missing=True)
    assert not (tmp_path / "mnist").exists()
