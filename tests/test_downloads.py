"""MNIST / CIFAR-10 loaders: parsing, checksums, the cache and the offline fallback, on small files
these tests make themselves. No test touches the network: pooch's HTTP downloader is replaced."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import tarfile

import numpy as np
import pooch
import pytest
import requests

from dlcourse.data import downloads
from dlcourse.data.downloads import DatasetUnavailable


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """Any real download attempt fails loudly, and the cache lives in a temporary folder."""

    def refuse(self, url, output_file, pooch_instance, check_only=False):
        raise AssertionError(f"a test tried to download {url}")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", refuse)
    monkeypatch.setenv("DLCOURSE_CACHE", str(tmp_path / "cache"))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def idx_bytes(array: np.ndarray) -> bytes:
    """An array in the IDX format MNIST uses (uint8 only), gzip-compressed."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def cifar_batch(images: np.ndarray, labels: np.ndarray) -> bytes:
    return pickle.dumps(
        {
            "batch_label": "test",
            "labels": [int(label) for label in labels],
            "data": images.reshape(len(images), -1),
            "filenames": [f"{i}.png" for i in range(len(images))],
        },
        protocol=2,
    )


def cifar_tarball(batches: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in batches.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def fake_downloader(files: dict[str, bytes], calls: list):
    """A pooch downloader serving ``files`` by name from memory, recording each URL it is asked for."""

    def download(url, output_file, pooch_instance, check_only=False):
        calls.append(url)
        data = files.get(url.rsplit("/", 1)[-1])
        if data is None:
            raise requests.exceptions.HTTPError(f"404 Client Error: Not Found for url: {url}")
        with open(output_file, "wb") as f:
            f.write(data)

    return download


def offline_downloader(url, output_file, pooch_instance, check_only=False):
    raise requests.exceptions.ConnectionError(f"Failed to resolve host for {url} (no network)")


@pytest.fixture
def small_mnist(monkeypatch):
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (7, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 7),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (3, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 3),
    }
    files = {name: idx_bytes(a) for name, a in arrays.items()}
    monkeypatch.setattr(downloads, "MNIST_FILES", {name: sha256(data) for name, data in files.items()})
    return arrays, files


@pytest.fixture
def small_cifar(monkeypatch):
    rng = np.random.default_rng(1)
    parts = {
        name: (rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, n))
        for name, n in [
            ("data_batch_1", 2),
            ("data_batch_2", 3),
            ("data_batch_3", 1),
            ("data_batch_4", 2),
            ("data_batch_5", 2),
            ("test_batch", 4),
        ]
    }
    data = cifar_tarball(
        {
            "batches.meta": pickle.dumps({"label_names": downloads.CIFAR10_CLASSES}, protocol=2),
            **{name: cifar_batch(*p) for name, p in parts.items()},
        }
    )
    monkeypatch.setattr(downloads, "CIFAR10_FILE", ("cifar-10-python.tar.gz", sha256(data)))
    return parts, data


# --- parsers -----------------------------------------------------------------------------


def test_read_idx_reads_images_and_labels(tmp_path):
    images = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    (tmp_path / "images.gz").write_bytes(idx_bytes(images))
    labels = np.array([3, 1, 4, 1, 5])
    (tmp_path / "labels").write_bytes(gzip.decompress(idx_bytes(labels)))  # uncompressed works too
    got = downloads.read_idx(tmp_path / "images.gz")
    assert got.dtype == np.uint8 and np.array_equal(got, images)
    assert np.array_equal(downloads.read_idx(tmp_path / "labels"), labels)


def test_read_idx_big_endian_types(tmp_path):
    values = np.array([[1, -2, 70000]], dtype=">i4")
    header = bytes([0, 0, 0x0C, 2]) + np.array(values.shape, dtype=">u4").tobytes()
    (tmp_path / "ints").write_bytes(header + values.tobytes())
    got = downloads.read_idx(tmp_path / "ints")
    assert got.dtype == np.int32 and np.array_equal(got, [[1, -2, 70000]])


@pytest.mark.parametrize(
    "content, message",
    [
        (b"PK\x03\x04 not idx", "not an IDX file"),
        (bytes([0, 0, 0x08, 1]) + np.array([5], dtype=">u4").tobytes() + b"\x01\x02", "truncated"),
    ],
)
def test_read_idx_rejects_bad_files(tmp_path, content, message):
    (tmp_path / "bad").write_bytes(content)
    with pytest.raises(ValueError, match=message):
        downloads.read_idx(tmp_path / "bad")


def test_read_cifar10_archive(tmp_path, small_cifar):
    parts, data = small_cifar
    (tmp_path / "c.tar.gz").write_bytes(data)
    X_train, y_train, X_test, y_test = downloads.read_cifar10_archive(tmp_path / "c.tar.gz")
    train = [parts[f"data_batch_{i}"] for i in range(1, 6)]
    assert X_train.shape == (10, 3, 32, 32) and X_train.dtype == np.uint8
    assert np.array_equal(X_train, np.concatenate([p[0] for p in train]))
    assert np.array_equal(y_train, np.concatenate([p[1] for p in train])) and y_train.dtype == np.int64
    assert np.array_equal(X_test, parts["test_batch"][0]) and np.array_equal(y_test, parts["test_batch"][1])


class Python2Array:
    """Pickles an array the way Python 2's cPickle wrote CIFAR-10's: the raw data as a (latin-1) string."""

    def __init__(self, array):
        self.array = array

    def __reduce__(self):
        reconstruct, args, state = self.array.__reduce__()
        return reconstruct, args, state[:4] + (state[4].decode("latin1"),)


def test_read_cifar_batch_in_python2_format():
    images = np.random.default_rng(3).integers(0, 256, (2, 3, 32, 32), dtype=np.uint8)
    data = pickle.dumps({"data": Python2Array(images.reshape(2, -1)), "labels": [7, 2], "batch_label": "x"}, protocol=2)
    data = data.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")  # the module name NumPy 1 wrote
    assert b"numpy.core.multiarray\n_reconstruct" in data
    X, y = downloads._read_cifar_batch(data, "data_batch_1")
    assert np.array_equal(X, images) and np.array_equal(y, [7, 2])


def test_cifar_unpickler_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    data = cifar_tarball(
        {f"data_batch_{i}": pickle.dumps({"data": Evil(), "labels": []}, protocol=2) for i in range(1, 6)}
        | {"test_batch": b""}
    )
    (tmp_path / "evil.tar.gz").write_bytes(data)
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to unpickle (builtins|__builtin__)\.print"):
        downloads.read_cifar10_archive(tmp_path / "evil.tar.gz")


def test_cifar_archive_missing_batches(tmp_path):
    rng = np.random.default_rng(2)
    (tmp_path / "part.tar.gz").write_bytes(
        cifar_tarball({"data_batch_1": cifar_batch(rng.integers(0, 256, (1, 3, 32, 32)), [0])})
    )
    with pytest.raises(ValueError, match="lacks the CIFAR-10 batches"):
        downloads.read_cifar10_archive(tmp_path / "part.tar.gz")


# --- loaders: download once, checksum, offline ------------------------------------------------


def test_load_mnist_downloads_once_then_uses_the_cache(monkeypatch, tmp_path, small_mnist):
    arrays, files = small_mnist
    calls = []
    monkeypatch.setattr(downloads, "_downloader", fake_downloader(files, calls))
    X_train, y_train, X_test, y_test = downloads.load_mnist()
    assert X_train.shape == (7, 28, 28) and X_test.shape == (3, 28, 28)
    assert X_train.dtype == np.float64 and 0.0 <= X_train.min() and X_train.max() <= 1.0
    assert np.allclose(X_train * 255, arrays["train-images-idx3-ubyte.gz"])
    assert y_train.dtype == np.int64 and np.array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    assert len(calls) == 4 and all(url.startswith(downloads.MNIST_MIRRORS[0]) for url in calls)
    assert (tmp_path / "cache" / "mnist" / "t10k-labels-idx1-ubyte.gz").is_file()
    downloads.load_mnist()  # second call: from the cache
    downloads.load_mnist(download=False)
    assert len(calls) == 4


def test_load_mnist_tries_the_next_mirror(monkeypatch, small_mnist):
    _, files = small_mnist
    calls = []
    serve = fake_downloader(files, calls)

    def first_mirror_down(url, output_file, pooch_instance, check_only=False):
        if url.startswith(downloads.MNIST_MIRRORS[0]):
            calls.append(url)
            raise requests.exceptions.HTTPError(f"503 Server Error for url: {url}")
        serve(url, output_file, pooch_instance)

    monkeypatch.setattr(downloads, "_downloader", first_mirror_down)
    X_train, *_ = downloads.load_mnist(cache_dir=None)
    assert X_train.shape == (7, 28, 28)
    assert sum(url.startswith(downloads.MNIST_MIRRORS[1]) for url in calls) == 4


def test_checksum_mismatch_raises_and_keeps_nothing(monkeypatch, tmp_path, small_mnist):
    _, files = small_mnist
    tampered = dict(files, **{"train-labels-idx1-ubyte.gz": idx_bytes(np.array([9, 9, 9]))})
    monkeypatch.setattr(downloads, "_downloader", fake_downloader(tampered, []))
    with pytest.raises(DatasetUnavailable, match="train-labels-idx1-ubyte.gz.*\n.*checksum mismatch"):
        downloads.load_mnist(cache_dir=tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere" / "mnist" / "train-labels-idx1-ubyte.gz").exists()


def test_corrupted_cache_file_is_downloaded_again(monkeypatch, tmp_path, small_cifar):
    parts, data = small_cifar
    folder = tmp_path / "cache" / "cifar10"
    folder.mkdir(parents=True)
    (folder / "cifar-10-python.tar.gz").write_bytes(data[:-100])  # a broken earlier download
    with pytest.raises(DatasetUnavailable, match="wrong checksum and download=False"):
        downloads.load_cifar10(download=False)
    calls = []
    monkeypatch.setattr(downloads, "_downloader", fake_downloader({"cifar-10-python.tar.gz": data}, calls))
    X_train, y_train, X_test, y_test = downloads.load_cifar10()
    assert len(calls) == 1
    assert X_train.shape == (10, 3, 32, 32) and X_train.dtype == np.float64 and X_train.max() <= 1.0
    assert np.array_equal(X_test * 255, parts["test_batch"][0]) and y_test.dtype == np.int64


def test_offline_raises_dataset_unavailable(monkeypatch):
    monkeypatch.setattr(downloads, "_downloader", offline_downloader)
    with pytest.raises(DatasetUnavailable, match="could not download cifar-10-python.tar.gz(.|\n)*ConnectionError"):
        downloads.load_cifar10()
    with pytest.raises(DatasetUnavailable, match=r"(?s)ossci-datasets.*cvdf-datasets.*yann\.lecun"):
        downloads.load_mnist()


def test_not_in_cache_without_download():
    with pytest.raises(DatasetUnavailable, match="is not there and download=False"):
        downloads.load_mnist(download=False)


def test_offline_fallback_says_so(monkeypatch, capsys):
    monkeypatch.setattr(downloads, "_downloader", offline_downloader)
    name, (images, labels) = downloads.load_or_fallback(
        downloads.load_mnist, lambda: ("digits", "labels"), name="MNIST", fallback_name="digits"
    )
    assert (name, images, labels) == ("digits", "digits", "labels")
    printed = capsys.readouterr().out
    assert "MNIST is not available, so this notebook uses the offline digits set instead" in printed
    assert "ConnectionError" in printed


def test_fallback_not_used_when_the_load_works():
    assert downloads.load_or_fallback(lambda: 1, lambda: 2, name="a", fallback_name="b") == ("a", 1)


def test_cache_folder(monkeypatch, tmp_path):
    assert downloads.cache_folder(tmp_path) == tmp_path
    monkeypatch.setenv("DLCOURSE_CACHE", str(tmp_path / "env"))
    assert downloads.cache_folder() == tmp_path / "env"
    monkeypatch.delenv("DLCOURSE_CACHE")
    assert downloads.cache_folder().parts[-2:] == (".cache", "dlcourse")


def test_known_checksums_are_sha256():
    for sha in list(downloads.MNIST_FILES.values()) + [downloads.CIFAR10_FILE[1]]:
        assert len(sha) == 64 and int(sha, 16) >= 0
