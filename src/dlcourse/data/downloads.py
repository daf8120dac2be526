"""MNIST and CIFAR-10: downloaded once into a cache with a checksum check, never shipped.

::

    from dlcourse.data.downloads import DatasetUnavailable, load_mnist, load_cifar10

    X_train, y_train, X_test, y_test = load_mnist()     # (60000, 28, 28) float64 in [0, 1], int64 labels
    X_train, y_train, X_test, y_test = load_cifar10()   # (50000, 3, 32, 32) float64 in [0, 1], NCHW

The files go to ``cache_dir``, else ``$DLCOURSE_CACHE``, else ``~/.cache/dlcourse``. ``pooch``
downloads them (trying each mirror in turn) and checks their sha256; a file already in the cache
with the right checksum is not downloaded again. Without a network, or when every mirror fails or
sends a file with the wrong checksum, the loaders raise :class:`DatasetUnavailable`: catch it and
use a shipped set instead (:func:`load_or_fallback` does that and says so). Tests and grading never
call these loaders with the network: provenance, licences and checksums are in ``datasets/README.md``.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pooch

__all__ = [
    "DatasetUnavailable",
    "cache_folder",
    "load_mnist",
    "load_cifar10",
    "load_or_fallback",
    "read_idx",
    "read_cifar10_archive",
    "MNIST_FILES",
    "CIFAR10_FILE",
]

# sha256 of the four files distributed by Yann LeCun's MNIST page (torchvision lists the same files with
# md5 f68b3c2d..., d53e105e..., 9fb629c4..., ec29112d...); mirrors tried in this order.
MNIST_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",  # the mirror torchvision uses
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # the mirror TensorFlow / Keras use
    "http://yann.lecun.com/exdb/mnist/",  # the original page (often refuses downloads)
]
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

# The "CIFAR-10 python version" tarball from Alex Krizhevsky's page: 170,498,071 bytes,
# md5 c58f30108f718f92721af3b95e74349a (as torchvision lists it).
CIFAR10_URLS = ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
CIFAR10_FILE = ("cifar-10-python.tar.gz", "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce")

# The downloader pooch uses (None: pooch picks one from the URL). Tests replace it so that no test
# touches the network.
_downloader = None

T = TypeVar("T")


class DatasetUnavailable(RuntimeError):
    """A downloadable dataset could not be had: no network, every mirror failed, or a checksum mismatch."""


def cache_folder(cache_dir: str | os.PathLike | None = None) -> Path:
    """Where downloads are kept: ``cache_dir``, else ``$DLCOURSE_CACHE``, else ``~/.cache/dlcourse``."""
    folder = cache_dir or os.environ.get("DLCOURSE_CACHE") or Path.home() / ".cache" / "dlcourse"
    return Path(folder).expanduser()


def _fetch(name: str, sha256: str, urls: list[str], folder: Path, download: bool) -> Path:
    """The path of ``name`` in ``folder`` with the right checksum, downloading it from the first mirror that works."""
    path = folder / name
    if path.is_file() and pooch.file_hash(str(path)) == sha256:
        return path
    if not download:
        state = "has the wrong checksum" if path.is_file() else "is not there"
        raise DatasetUnavailable(
            f"{path} {state} and download=False: call with download=True "
            f"(with a network) to fetch it once into the cache."
        )
    folder.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        try:
            return Path(
                pooch.retrieve(
                    url,
                    known_hash=f"sha256:{sha256}",
                    fname=name,
                    path=folder,
                    downloader=_downloader,
                    progressbar=False,
                )
            )
        except ValueError as error:  # pooch: the downloaded file's checksum does not match (it deletes the file)
            failures.append(f"{url}: checksum mismatch ({error})")
        except OSError as error:  # no network, DNS failure, HTTP error, timeout (requests' errors are OSErrors)
            failures.append(f"{url}: {type(error).__name__}: {error}")
    raise DatasetUnavailable(f"could not download {name} into {folder}:\n  " + "\n  ".join(failures))


# --- parsers ------------------------------------------------------------------------------

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """An IDX file (MNIST's format; gzip-compressed when the name ends in .gz) as a NumPy array.

    The header is two zero bytes, a type code (0x08 = uint8), the number of dimensions, then each
    dimension as a big-endian uint32; the data follow in C order.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file: its header starts with {raw[:4]!r}")
    n_dims = raw[3]
    header = 4 + 4 * n_dims
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=n_dims, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"{path} is truncated or too long: header says shape {shape} ({expected} bytes), "
            f"the file has {len(raw)} bytes"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays, lists, dicts, strings and numbers only: any other global is refused,
    so a tampered file cannot run code while it is read."""

    def find_class(self, module, name):
        allowed = {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("_codecs", "encode"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
        }
        if (module, name) not in allowed:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: a CIFAR-10 batch holds only arrays and lists"
            )
        if name == "_reconstruct":
            return np.ndarray.__reduce__(np.zeros(0))[0]  # numpy's own reconstruct function, wherever it lives
        if module == "_codecs":
            import codecs

            return codecs.encode
        return getattr(np, name)


def _read_cifar_batch(data: bytes, member: str) -> tuple[np.ndarray, np.ndarray]:
    batch = _ArraysOnlyUnpickler(io.BytesIO(data), encoding="latin1").load()
    if not isinstance(batch, dict) or "data" not in batch or "labels" not in batch:
        raise ValueError(f"{member} is not a CIFAR-10 batch (a dict with 'data' and 'labels')")
    images = np.asarray(batch["data"], dtype=np.uint8)
    labels = np.asarray(batch["labels"], dtype=np.int64)
    if images.ndim != 2 or images.shape[1] != 3 * 32 * 32 or images.shape[0] != labels.shape[0]:
        raise ValueError(f"{member}: expected data (n, 3072) and n labels, got {images.shape} and {labels.shape}")
    return images.reshape(-1, 3, 32, 32), labels


def read_cifar10_archive(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_test, y_test) as uint8 NCHW images and int64 labels, read straight from the
    python-version tarball (``cifar-10-batches-py/data_batch_1..5`` and ``test_batch``) without extracting it."""
    wanted = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    batches = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive:
            name = member.name.rsplit("/", 1)[-1]
            if member.isfile() and name in wanted:
                batches[name] = _read_cifar_batch(archive.extractfile(member).read(), member.name)
    missing = [name for name in wanted if name not in batches]
    if missing:
        raise ValueError(f"{path} lacks the CIFAR-10 batches {missing}")
    train = [batches[name] for name in wanted[:-1]]
    X_train, y_train = np.concatenate([b[0] for b in train]), np.concatenate([b[1] for b in train])
    return X_train, y_train, *batches["test_batch"]


# --- loaders ------------------------------------------------------------------------------


def load_mnist(cache_dir: str | os.PathLike | None = None, download: bool = True):
    """MNIST: X_train (60000, 28, 28) and X_test (10000, 28, 28) float64 in [0, 1], y_train and y_test int64.

    Downloads the four IDX files once (about 11 MB) into :func:`cache_folder`; raises
    :class:`DatasetUnavailable` when they cannot be had.
    """
    folder = cache_folder(cache_dir) / "mnist"
    arrays = {
        name: read_idx(_fetch(name, sha, [m + name for m in MNIST_MIRRORS], folder, download))
        for name, sha in MNIST_FILES.items()
    }
    X_train = arrays["train-images-idx3-ubyte.gz"].astype(np.float64) / 255.0
    X_test = arrays["t10k-images-idx3-ubyte.gz"].astype(np.float64) / 255.0
    y_train = arrays["train-labels-idx1-ubyte.gz"].astype(np.int64)
    y_test = arrays["t10k-labels-idx1-ubyte.gz"].astype(np.int64)
    return X_train, y_train, X_test, y_test


def load_cifar10(cache_dir: str | os.PathLike | None = None, download: bool = True):
    """CIFAR-10: X_train (50000, 3, 32, 32) and X_test (10000, 3, 32, 32) float64 in [0, 1] (NCHW, the
    layout of ``nn.Conv2d``), y_train and y_test int64 in 0..9 (:data:`CIFAR10_CLASSES`).

    Downloads the python-version tarball once (170 MB) into :func:`cache_folder`; raises
    :class:`DatasetUnavailable` when it cannot be had.
    """
    name, sha = CIFAR10_FILE
    path = _fetch(name, sha, CIFAR10_URLS, cache_folder(cache_dir) / "cifar10", download)
    X_train, y_train, X_test, y_test = read_cifar10_archive(path)
    return X_train.astype(np.float64) / 255.0, y_train, X_test.astype(np.float64) / 255.0, y_test


CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def load_or_fallback(
    load: Callable[[], T], fallback: Callable[[], T], *, name: str, fallback_name: str
) -> tuple[str, T]:
    """``(name, load())``, or ``(fallback_name, fallback())`` with a printed explanation when ``load``
    raises :class:`DatasetUnavailable` (no network, or a failed download)."""
    try:
        return name, load()
    except DatasetUnavailable as error:
        print(
            f"{name} is not available, so this notebook uses the offline {fallback_name} set instead.\n"
            f"  why: {error}\n  (with a network, the first run downloads {name} once into {cache_folder()})"
        )
        return fallback_name, fallback()
