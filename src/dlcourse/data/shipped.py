"""The small datasets the course ships in ``datasets/``, loaded offline and checked against their checksums.

Provenance and licences are in ``datasets/README.md``. The folder is found next to
the package in a clone (``<repo>/datasets``) or wherever ``$DLCOURSE_DATASETS`` points.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

# file name -> sha256 of the committed file (also listed in datasets/README.md)
CHECKSUMS = {
    "digits.npz": "78e5a74b029974419349896fa823a199cbb032ab175f49da25f1f4ca672be40c",
    "diabetes.npz": "a34e0dcc46d109de9ff6ebc5652ae5868cf266ac5b1ace943ef0d160eab9eaec",
}


class DatasetError(RuntimeError):
    """A dataset is missing or does not match its checksum."""


def datasets_dir() -> Path:
    """The folder holding the shipped datasets: ``$DLCOURSE_DATASETS``, else ``datasets/`` of the clone."""
    configured = os.environ.get("DLCOURSE_DATASETS")
    folder = Path(configured) if configured else Path(__file__).resolve().parents[3] / "datasets"
    if not folder.is_dir():
        raise DatasetError(
            f"the course's datasets folder {folder} does not exist. Run the course from a clone of the "
            f"repository (pip install -e .), or set DLCOURSE_DATASETS to the folder holding digits.npz."
        )
    return folder


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shipped_file(name: str, folder: Path | None = None) -> Path:
    """The path of a shipped dataset file, after checking it exists and matches its checksum."""
    if name not in CHECKSUMS:
        raise DatasetError(f"unknown dataset file {name!r}; the course ships {sorted(CHECKSUMS)}")
    path = (folder or datasets_dir()) / name
    if not path.is_file():
        raise DatasetError(f"dataset file {path} is missing: restore it with `git checkout -- datasets/{name}`")
    actual = sha256(path)
    if actual != CHECKSUMS[name]:
        raise DatasetError(
            f"dataset file {path} is corrupted or was changed: its sha256 is {actual}, expected "
            f"{CHECKSUMS[name]}. Restore it with `git checkout -- datasets/{name}`."
        )
    return path


def load_digits(folder: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits (1797 images, UCI): images (1797, 8, 8) float64 in [0, 1], labels (1797,) int64."""
    with np.load(shipped_file("digits.npz", folder)) as data:
        return data["images"].astype(np.float64) / 16.0, data["labels"].astype(np.int64)


def load_diabetes(folder: Path | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The diabetes regression set (442 patients, 10 features, Efron et al. 2004): features, target, feature names.

    Features are the raw measurements (not standardised): normalise them with training statistics.
    """
    with np.load(shipped_file("diabetes.npz", folder)) as data:
        return (
            data["features"].astype(np.float64),
            data["target"].astype(np.float64),
            [str(n) for n in data["feature_names"]],
        )
