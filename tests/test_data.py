"""The shipped datasets load, are checked against their checksums, and the toy data is seeded."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from dlcourse import data
from dlcourse.data.shipped import CHECKSUMS, sha256


def test_digits_and_diabetes_load_with_the_documented_shapes():
    images, labels = data.load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.float64 and 0 <= images.min() and images.max() == 1
    assert labels.dtype == np.int64 and set(np.unique(labels)) == set(range(10))
    features, target, names = data.load_diabetes()
    assert features.shape == (442, 10) and target.shape == (442,) and names[:3] == ["age", "sex", "bmi"]


def test_the_checksums_are_those_of_the_committed_files():
    for name, digest in CHECKSUMS.items():
        assert sha256(data.datasets_dir() / name) == digest


def test_a_changed_or_missing_file_is_refused_with_a_way_out(tmp_path):
    folder = tmp_path / "datasets"
    shutil.copytree(data.datasets_dir(), folder)
    (folder / "digits.npz").write_bytes(b"not the digits")
    with pytest.raises(data.DatasetError, match="corrupted or was changed.*git checkout"):
        data.load_digits(folder)
    (folder / "digits.npz").unlink()
    with pytest.raises(data.DatasetError, match="missing"):
        data.load_digits(folder)


def test_a_missing_datasets_folder_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("DLCOURSE_DATASETS", str(tmp_path / "nowhere"))
    with pytest.raises(data.DatasetError, match="DLCOURSE_DATASETS"):
        data.load_digits()


@pytest.mark.parametrize("make", [data.make_moons, data.make_spirals, data.make_blobs])
def test_toy_data_is_seeded_and_well_formed(make):
    X, y = make(seed=3)
    X2, y2 = make(seed=3)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(X, make(seed=4)[0])
    assert X.ndim == 2 and X.shape[1] == 2 and y.shape == (X.shape[0],) and y.dtype == np.int64


def test_toy_data_refuses_bad_sizes():
    with pytest.raises(ValueError, match="positive integer"):
        data.make_moons(0)
    with pytest.raises(ValueError, match="noise"):
        data.make_moons(10, noise=-1)
