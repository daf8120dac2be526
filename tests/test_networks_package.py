"""Chapter 1's PyTorch references and solved NumPy blocks agree, and bad input is refused clearly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcourse.cases import networks as cases
from dlcourse.checking import Inputs, check, randn
from dlcourse.device import get_device, to_numpy, to_tensor
from dlcourse.exercises import use_yours
from dlcourse.mistakes import networks as mistakes
from dlcourse.reference import networks as ref
from dlcourse.solved import networks as solved

EXTREMES = np.array([-1e4, -745.0, -710.0, -1.0, -1e-12, 0.0, 1e-12, 1.0, 710.0, 745.0, 1e4])


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu"])
def test_solved_activations_match_torch_including_extremes(name):
    check(
        getattr(solved, name),
        getattr(ref, name),
        [EXTREMES, randn(4, 5, seed=1, scale=30), randn(7, seed=2).astype(np.float32)],
        quiet=True,
    )


def test_solved_dense_and_mlp_match_torch():
    X = randn(6, 4, seed=3)
    check(solved.dense_forward, ref.dense_forward, [(X, randn(3, 4, seed=4), randn(3, seed=5))], quiet=True)
    for activation in ("relu", "tanh", "sigmoid"):
        check(
            solved.mlp_forward,
            ref.mlp_forward,
            [Inputs(X, cases.mlp_params([4, 5, 3, 2], seed=6), activation=activation)],
            output_names=("output", "caches"),
            quiet=True,
        )


def test_build_mlp_copies_weights_in_pytorch_layout():
    params = solved.init_params([3, 4, 2], seed=7)
    model = ref.build_mlp(params)
    assert model[0].weight.shape == (4, 3) and model[0].weight.dtype == torch.float64
    assert np.array_equal(to_numpy(model[2].bias), params["b2"])
    with pytest.raises(ValueError, match="exactly"):
        ref.build_mlp({"W1": params["W1"]})


def test_parameter_count_of_example_e4():
    assert ref.count_params([784, 128, 10]) == solved.count_params([784, 128, 10]) == 101_770


@pytest.mark.parametrize(
    "method, std", [("he", lambda i, o: np.sqrt(2 / i)), ("xavier", lambda i, o: np.sqrt(2 / (i + o)))]
)
def test_torch_initialisers_have_the_textbook_spread(method, std):
    summary = cases.spread_of(ref.init_params([400, 300], method))
    assert summary["W1"]["std"] == pytest.approx(std(400, 300), rel=0.01)
    assert summary["b1"]["max_abs"] == 0 and tuple(summary["W1"]["shape"]) == (300, 400)
    with pytest.raises(ValueError, match="method"):
        ref.init_params([2, 2], "uniform")


SIZES = [([300, 200, 200, 200], "he"), ([300, 200, 200, 200], "xavier")]


def test_solved_init_matches_the_torch_summaries():
    check(cases.init_spread(solved.init_params), cases.init_spread(ref.init_params), SIZES, rtol=0.02, quiet=True)
    check(
        cases.init_distribution(solved.init_params),
        cases.init_distribution(ref.init_params),
        SIZES,
        rtol=0.0,
        atol=0.15,
        quiet=True,
    )


def test_distribution_summary_tells_normal_from_uniform_centred_and_independent():
    normal = cases.distribution_of(solved.init_params([300, 200, 200], seed=1))
    assert all(abs(v) < 0.05 for v in normal.values()), normal
    rng = np.random.default_rng(2)
    uniform = {"W1": rng.uniform(-1, 1, (200, 300)), "W2": rng.uniform(-1, 1, (200, 200))}
    assert cases.distribution_of(uniform)["excess kurtosis"] == pytest.approx(-1.2, abs=0.05)
    shifted = {"W1": rng.normal(1.0, 0.08, (200, 300))}
    assert cases.distribution_of(shifted)["mean / std"] > 10
    reseeded = {f"W{k}": np.random.default_rng(0).normal(0, 0.1, (200, n)) for k, n in ((1, 300), (2, 200))}
    assert cases.distribution_of(reseeded)["correlation between layers"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no weight"):
        cases.distribution_of({"b1": np.zeros(2)})


def test_mlp_params_have_nonzero_biases_and_keep_the_dtype():
    params = cases.mlp_params([4, 6, 5, 2], seed=3, dtype=np.float32)
    assert [params[f"W{k}"].shape for k in (1, 2, 3)] == [(6, 4), (5, 6), (2, 5)]
    assert all(v.dtype == np.float32 for v in params.values())
    assert all(np.all(params[f"b{k}"] != 0) for k in (1, 2, 3))
    assert cases.mlp_params([4, 3], seed=1)["b1"].tolist() == cases.mlp_params([4, 3], seed=1)["b1"].tolist()


def test_use_yours_falls_back_only_while_the_stub_is_there(capsys):
    def stub(x):
        raise NotImplementedError()

    demo = use_yours(stub, "networks.relu")
    assert np.array_equal(demo(np.array([-1.0, 2.0])), [0.0, 2.0])
    demo(np.array([1.0]))
    assert capsys.readouterr().out.count("not implemented yet") == 1
    assert use_yours(lambda x: x + 1, "networks.relu")(np.array([1.0])) == 2.0
    with pytest.raises(ZeroDivisionError):
        use_yours(lambda x: 1 / 0, "networks.relu")(np.array([1.0]))


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


# --- the hints: each fires on its mistake, stays silent on a right answer and on a dtype-only difference -----


def message_of(student_fn, reference_fn, cases_, **options) -> str:
    with pytest.raises(AssertionError) as failure:
        check(student_fn, reference_fn, cases_, quiet=True, **options)
    return str(failure.value)


def hint_lines(message: str) -> list[str]:
    return [line for line in message.splitlines() if line.strip().startswith("hint:")]


X32 = randn(4, 3, seed=20).astype(np.float32)
MLP_CASE = Inputs(randn(5, 4, seed=21), cases.mlp_params([4, 6, 5, 2], seed=22), activation="tanh")
HINTED = [
    # (exercise, wrong function, reference, cases, options, text of the hint)
    (
        "sigmoid",
        lambda x: 1 / (1 + np.exp(np.clip(x, -700, 700))),
        ref.sigmoid,
        [randn(3, 4, seed=23)],
        {},
        "sign inside exp is flipped",
    ),
    ("tanh", lambda x: np.abs(solved.tanh(x)), ref.tanh, [randn(6, seed=24)], {}, "tanh is odd"),
    (
        "tanh",
        lambda x: np.sign(x) * (1 - np.exp(-2 * np.abs(x))) / (1 + np.exp(-2 * np.abs(x))),
        ref.tanh,
        [np.array([-1e-12, 3e-9])],
        {"atol": 0.0},
        "np.expm1",
    ),
    ("relu", np.abs, ref.relu, [randn(6, seed=25)], {}, "does not flip their sign"),
    (
        "dense_forward",
        lambda X, W, b: X @ W + b,
        ref.dense_forward,
        [(randn(4, 3, seed=26), randn(3, 3, seed=27), randn(3, seed=28))],
        {},
        "X @ W.T, not X @ W",
    ),
    (
        "dense_forward",
        lambda X, W, b: X @ W.T,
        ref.dense_forward,
        [(randn(4, 3, seed=26), randn(2, 3, seed=27), randn(2, seed=28))],
        {},
        "bias b is missing",
    ),
    (
        "dense_forward",
        lambda X, W, b: X @ W.T - b,
        ref.dense_forward,
        [(randn(4, 3, seed=26), randn(2, 3, seed=27), randn(2, seed=28))],
        {},
        "bias is subtracted",
    ),
    (
        "mlp_forward",
        lambda X, p, activation="relu": _mlp(X, p, activation, on_output=True),
        ref.mlp_forward,
        [MLP_CASE],
        {"output_names": ("output", "caches")},
        "last layer has no activation",
    ),
    (
        "mlp_forward",
        lambda X, p, activation="relu": _mlp(X, p, activation, bias_sign=-1.0),
        ref.mlp_forward,
        [MLP_CASE],
        {"output_names": ("output", "caches")},
        "bias is subtracted",
    ),
    (
        "mlp_forward",
        lambda X, p, activation="relu": _mlp(X, p, "relu"),
        ref.mlp_forward,
        [MLP_CASE],
        {"output_names": ("output", "caches")},
        "not always ReLU",
    ),
    (
        "count_params",
        lambda s: sum(a * b for a, b in zip(s[:-1], s[1:])),
        ref.count_params,
        [[784, 128, 10]],
        {},
        "biases are missing",
    ),
    (
        "count_params",
        lambda s: sum(a * b + a for a, b in zip(s[:-1], s[1:])),
        ref.count_params,
        [[784, 128, 10]],
        {},
        "one bias per OUTPUT",
    ),
    (
        "count_params",
        lambda s: sum(a * b + b for a, b in zip(s[:-2], s[1:-1])),
        ref.count_params,
        [[784, 128, 10]],
        {},
        "last layer is missing",
    ),
]


def _mlp(X, params, activation, *, on_output=False, bias_sign=1.0):
    n, A, caches = len(params) // 2, X, []
    for layer in range(1, n + 1):
        Z = A @ params[f"W{layer}"].T + bias_sign * params[f"b{layer}"]
        caches.append((A, Z))
        A = solved.ACTIVATIONS[activation](Z) if layer < n or on_output else Z
    return A, caches


@pytest.mark.parametrize("number", range(len(HINTED)), ids=[f"{h[0]}-{i}" for i, h in enumerate(HINTED)])
def test_each_hint_fires_on_its_mistake(number):
    exercise, wrong, reference, cases_, options, text = HINTED[number]
    hints = getattr(mistakes, exercise)
    assert text in message_of(wrong, reference, cases_, hints=hints, **options)


@pytest.mark.parametrize(
    "exercise", ["sigmoid", "tanh", "relu", "dense_forward", "mlp_forward", "count_params", "init_params"]
)
def test_hints_stay_silent_on_right_answers_and_dtype_only_differences(exercise):
    hints = getattr(mistakes, exercise)
    if exercise == "count_params":
        check(solved.count_params, ref.count_params, [[3, 5, 2]], hints=hints, quiet=True)
        return
    if exercise == "init_params":
        check(
            cases.init_spread(solved.init_params),
            cases.init_spread(ref.init_params),
            SIZES,
            rtol=0.02,
            hints=hints,
            quiet=True,
        )
        return
    fn, reference = getattr(solved, exercise), getattr(ref, exercise)
    if exercise == "dense_forward":
        case = (X32, randn(2, 3, seed=29).astype(np.float32), randn(2, seed=30).astype(np.float32))
    elif exercise == "mlp_forward":
        case = Inputs(X32, cases.mlp_params([3, 4, 2], seed=31, dtype=np.float32), activation="tanh")
    else:
        case = X32
    options = {"output_names": ("output", "caches")} if exercise == "mlp_forward" else {}
    check(fn, reference, [case], hints=hints, quiet=True, **options)

    def widened(*args, **kwargs):  # right values, float64 out of float32 in: only the dtype is wrong
        result = fn(*args, **kwargs)
        if exercise == "mlp_forward":
            return result[0].astype(np.float64), [(a.astype(np.float64), z.astype(np.float64)) for a, z in result[1]]
        return result.astype(np.float64)

    message = message_of(widened, reference, [case], hints=hints, **options)
    assert "dtype" in message and not hint_lines(message), message


def _init(draw):
    """An init_params whose weights come from ``draw(rng, std, shape, layer)``."""

    def init_params(layer_sizes, method="he", seed=0):
        rng, params = np.random.default_rng(seed), {}
        for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
            std = np.sqrt(2.0 / n_in) if method == "he" else np.sqrt(2.0 / (n_in + n_out))
            params[f"W{layer}"] = draw(rng, std, (n_out, n_in), seed)
            params[f"b{layer}"] = np.zeros(n_out)
        return params

    return init_params


@pytest.mark.parametrize(
    "draw, spread, text",
    [
        (lambda rng, std, shape, seed: rng.normal(0, std**2, shape), True, "the variance"),
        (lambda rng, std, shape, seed: rng.normal(0, 1.3 * std, shape), True, "spread is off"),
        (lambda rng, std, shape, seed: rng.normal(1.0, std, shape), False, "mean is not 0"),
        (
            lambda rng, std, shape, seed: rng.uniform(-std * 3**0.5, std * 3**0.5, shape),
            False,
            "not normally distributed",
        ),
        (lambda rng, std, shape, seed: np.random.default_rng(seed).normal(0, std, shape), False, "same random numbers"),
    ],
)
def test_init_hints_recognise_wrong_draws(draw, spread, text):
    adapter = cases.init_spread if spread else cases.init_distribution
    options = {"rtol": 0.02} if spread else {"rtol": 0.0, "atol": 0.15}
    assert text in message_of(
        adapter(_init(draw)), adapter(ref.init_params), SIZES, hints=mistakes.init_params, **options
    )
