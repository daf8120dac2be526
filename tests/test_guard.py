"""Code in a notebook that replaces the checker, a reference or library functions does not fool the tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcourse import guard
from dlcourse.checking import check
from dlcourse.reference import networks as ref


@pytest.fixture
def restore_everything():
    saved = {(m, a): getattr(m, a) for m, a in guard._watched()}
    yield
    for (module, attr), value in saved.items():
        setattr(module, attr, value)


def test_patched_library_functions_are_put_back_before_comparing(restore_everything, capsys):
    guard.remember_originals()
    np.allclose = lambda *a, **k: True
    np.abs = lambda x: 0 * x
    torch.relu = lambda x: x
    with pytest.raises(AssertionError, match="differs from the PyTorch reference"):
        check(lambda x: x, ref.relu, [np.array([-1.0, 2.0])], name="relu", quiet=True)
    assert "replaced numpy.allclose, numpy.abs, torch.relu" in capsys.readouterr().out
    assert np.abs.__name__ == "absolute" and torch.relu is not None and np.allclose.__module__ != __name__


def test_a_replaced_reference_is_put_back(restore_everything):
    guard.remember_originals()
    original = ref.relu
    ref.relu = lambda x: x
    with pytest.raises(AssertionError, match="differs"):
        check(lambda x: x, original, [np.array([-1.0])], quiet=True)
    assert ref.relu is original


def test_a_replacement_with_no_known_original_fails_loudly(restore_everything, monkeypatch):
    monkeypatch.setattr(guard, "_originals", {})
    ref.sigmoid = lambda x: x  # replaced before anything was remembered
    with pytest.raises(AssertionError, match="grading code was changed.*reference.networks.sigmoid"):
        check(lambda x: x, ref.relu, [np.array([1.0])], quiet=True)


def test_the_genuine_environment_passes():
    guard.verify_environment()
