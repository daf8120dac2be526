"""Chapter 1's PyTorch references and solved NumPy blocks agree, and bad input is refused clearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcourse.checking import Inputs, check, randn
from dlcourse.device import get_device, to_numpy, to_tensor
from dlcourse.exercises import use_yours
from dlcourse.reference import networks as ref
from dlcourse.solved import networks as solved

EXTREMES = np.array([-1e4, -745.0, -710.0, -1.0, -1e-12, 0.0, 1e-12, 1.0, 710.0, 745.0, 1e4])


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_solved_activations_match_torch_including_extremes(name):
    check(getattr(solved, name), getattr(ref, name), [EXTREMES, randn(4, 5, seed=1, scale=30),
                                                     randn(7, seed=2).astype(np.float32)], quiet=True)


def test_solved_dense_and_mlp_match_torch():
    X = randn(6, 4, seed=3)
    check(solved.dense_forward, ref.dense_forward, [(X, randn(3, 4, seed=4), randn(3, seed=5))], quiet=True)
    for activation in ("relu", "tanh", "sigmoid"):
        check(solved.mlp_forward, ref.mlp_forward, [Inputs(X, solved.init_params([4, 5, 2], seed=6), activation=activation)],
              output_names=("output", "caches"), quiet=True)


def test_build_mlp_copies_weights_in_pytorch_layout():
    params = solved.init_params([3, 4, 2], seed=7)
    model = ref.build_mlp(params)
    assert model[0].weight.shape == (4, 3) and model[0].weight.dtype == torch.float64
    assert np.array_equal(to_numpy(model[2].bias), params["b2"])
    with pytest.raises(ValueError, match="exactly"):
        ref.build_mlp({"W1": params["W1"]})


def test_parameter_count_of_example_e4():
    assert ref.count_params([784, 128, 10]) == solved.count_params([784, 128, 10]) == 101_770


@pytest.mark.parametrize("method, std", [("he", lambda i, o: np.sqrt(2 / i)), ("xavier", lambda i, o: np.sqrt(2 / (i + o)))])
def test_torch_initialisers_have_the_textbook_spread(method, std):
    summary = ref.init_params_summary([400, 300], method)
    assert summary["W1"]["std"] == pytest.approx(std(400, 300), rel=0.01)
    assert summary["b1"]["max_abs"] == 0 and tuple(summary["W1"]["shape"]) == (300, 400)
    with pytest.raises(ValueError, match="method"):
        ref.init_params([2, 2], "uniform")


def test_solved_init_matches_the_torch_summary():
    check(lambda s, m: ref.summarize_init(solved.init_params(s, m)), ref.init_params_summary,
          [([300, 200, 200], "he"), ([300, 200, 200], "xavier")], rtol=0.02, quiet=True)


def test_use_yours_falls_back_only_while_the_stub_is_there(capsys):
    def stub(x):
        raise NotImplementedError()
    demo = use_yours(stub, solved.relu)
    assert np.array_equal(demo(np.array([-1.0, 2.0])), [0.0, 2.0])
    demo(np.array([1.0]))
    assert capsys.readouterr().out.count("not implemented yet") == 1
    assert use_yours(lambda x: x + 1, solved.relu)(np.array([1.0])) == 2.0
    with pytest.raises(ZeroDivisionError):
        use_yours(lambda x: 1 / 0, solved.relu)(np.array([1.0]))


def test_device_helpers(monkeypatch):
    t = to_tensor(np.arange(3))
    assert t.dtype == torch.int64 and to_tensor([1.5]).dtype == torch.float64
    assert t.device.type == get_device().type
    with pytest.raises(TypeError, match="Python objects"):
        to_tensor(np.array([object()]))
    with pytest.raises(TypeError, match="torch.Tensor"):
        to_numpy(np.zeros(2))
    get_device.cache_clear()
    try:
        monkeypatch.setenv("DLCOURSE_DEVICE", "cpu")
        assert get_device() == torch.device("cpu")
        if not torch.cuda.is_available():
            get_device.cache_clear()
            monkeypatch.setenv("DLCOURSE_DEVICE", "cuda")
            with pytest.raises(RuntimeError, match="no CUDA"):
                get_device()
    finally:
        get_device.cache_clear()


def test_to_tensor_copies_so_torch_never_changes_the_callers_array():
    x = np.zeros(3)
    t = to_tensor(x)
    t += 1
    assert np.array_equal(x, np.zeros(3))
