"""Chapter 2's references (torch.autograd) and solved blocks (backward passes, numerical gradients, the
scalar autodiff engine) agree; the hints recognise the mistakes they describe; bad input is refused clearly."""

from __future__ import annotations

import gc
import math

import matplotlib
import numpy as np
import pytest
import torch

from dlcourse.cases import autodiff as cases_ad
from dlcourse.cases import backprop as cases
from dlcourse.checking import Inputs, check, randn
from dlcourse.demos import autodiff as demos_ad
from dlcourse.demos import backprop as demos
from dlcourse.mistakes import autodiff as mistakes_ad
from dlcourse.mistakes import backprop as mistakes
from dlcourse.reference import autodiff as ref_ad
from dlcourse.reference import backprop as ref
from dlcourse.solved import autodiff
from dlcourse.solved import backprop as solved
from dlcourse.solved.losses import cross_entropy, cross_entropy_grad
from dlcourse.solved.networks import init_params, mlp_forward

matplotlib.use("Agg")

EXTREMES = np.array([-1e4, -745.0, -710.0, -1.0, -1e-12, 0.0, 1e-12, 1.0, 710.0, 745.0, 1e4])


mlp_case = cases.mlp_case


def fails_with(student_fn, reference_fn, cases, text, **options):
    """check() raises, and its message contains ``text``."""
    with pytest.raises(AssertionError) as failure:
        check(student_fn, reference_fn, cases, quiet=True, **options)
    assert text in str(failure.value), str(failure.value)


# --- backward passes ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sigmoid_backward", "tanh_backward", "relu_backward"])
def test_solved_activation_backwards_match_autograd_including_extremes(name):
    check(
        getattr(solved, name),
        getattr(ref, name),
        [
            (np.ones_like(EXTREMES), EXTREMES),
            (randn(4, 5, seed=1), randn(4, 5, seed=2, scale=5.0)),
            (randn(2, 3, 2, seed=3).astype(np.float32), randn(2, 3, 2, seed=4).astype(np.float32)),
        ],
        quiet=True,
    )


def test_solved_dense_backward_matches_autograd():
    check(
        solved.dense_backward,
        ref.dense_backward,
        [
            (randn(4, 3, seed=5), randn(4, 5, seed=6), randn(3, 5, seed=7)),
            (randn(1, 1, seed=8), randn(1, 1, seed=9), randn(1, 1, seed=10)),
            (
                randn(3, 2, seed=11).astype(np.float32),
                randn(3, 4, seed=12).astype(np.float32),
                randn(2, 4, seed=13).astype(np.float32),
            ),
        ],
        output_names=("dX", "dW", "db"),
        quiet=True,
    )


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_solved_mlp_backward_matches_autograd(activation):
    check(
        solved.mlp_backward,
        ref.mlp_backward,
        [
            mlp_case([3, 2], seed=1, activation=activation),
            mlp_case([4, 6, 5, 5, 2], seed=2, activation=activation),
            mlp_case([5, 7, 1], seed=3, activation=activation, n=1),
            mlp_case([3, 4, 2], seed=4, activation=activation, dtype=np.float32),
        ],
        quiet=True,
    )


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_the_faster_mlp_backward_computes_the_same(activation):
    for case in (
        mlp_case([4, 6, 5, 2], seed=5, activation=activation),
        mlp_case([3, 2], seed=6),
        mlp_case([3, 5, 2], seed=7, activation=activation, dtype=np.float32),
    ):
        slow, fast = solved.mlp_backward(*case.args, **case.kwargs), solved.mlp_backward_fast(*case.args, **case.kwargs)
        assert slow.keys() == fast.keys()
        assert all(np.array_equal(slow[k], fast[k]) and slow[k].dtype == fast[k].dtype for k in slow)


def test_mlp_case_has_nonzero_biases_and_the_dtype_asked_for():
    dout, caches, params = mlp_case([4, 6, 5, 2], seed=8, dtype=np.float32).args
    assert all(np.all(params[f"b{layer}"] != 0) for layer in (1, 2, 3))
    assert dout.dtype == np.float32 and all(a.dtype == z.dtype == np.float32 for a, z in caches)


def test_mlp_loss_gradients_agree_with_backprop_by_hand():
    params = init_params([4, 5, 3], "xavier", seed=4)
    X, y = randn(6, 4, seed=14), np.array([0, 1, 2, 0, 1, 2])
    loss, grads = ref.mlp_loss_gradients(params, X, y, "tanh")
    logits, caches = mlp_forward(X, params, "tanh")
    assert loss == pytest.approx(cross_entropy(logits, y), rel=1e-12)
    by_hand = solved.mlp_backward(cross_entropy_grad(logits, y), caches, params, "tanh")
    assert max(solved.relative_error(by_hand[k], grads[k]) for k in grads) < 1e-12
    with pytest.raises(ValueError, match="loss"):
        ref.mlp_loss_gradients(params, X, y, loss="hinge")


def test_reference_mlp_backward_refuses_caches_of_another_network():
    case = mlp_case([4, 6, 2], seed=5)
    dout, caches, params = case.args
    with pytest.raises(ValueError, match="caches has 2 layers but params has 1"):
        ref.mlp_backward(dout, caches, {"W1": params["W1"], "b1": params["b1"]})


def test_dense_backward_within_a_small_factor_of_autograd():
    """The vectorised solution is within a small factor of autograd on the same problem (CPU; a generous bound,
    since timings on a shared machine are noisy: it catches a Python loop, not a 20 % difference)."""
    import time

    dY, X, W = randn(512, 256, seed=15), randn(512, 512, seed=16), randn(256, 512, seed=17)

    times = {solved.dense_backward: [], ref.dense_backward: []}
    for _ in range(7):  # interleaved, best of 7: the machine may be busy with other work
        for fn in times:
            start = time.perf_counter()
            fn(dY, X, W)
            times[fn].append(time.perf_counter() - start)
    assert min(times[solved.dense_backward]) < 10 * min(times[ref.dense_backward]) + 0.05


# --- numerical gradients and the relative error ---------------------------------------------------

TWINS = [
    Inputs(cases.CUBIC, np.array([-1.0, 0.5, 2.0])),
    Inputs(cases.CUBIC, np.array([-1.0, 0.5, 2.0]), eps=0.1),
    Inputs(cases.SIN_SQUARE, randn(3, 4, seed=18), randn(3, 4, seed=19)),
    Inputs(cases.HALF_SQUARED_NORM, randn(5, seed=20)),
    Inputs(cases.linear_map(randn(2, 3, seed=21)), randn(4, 3, seed=22), randn(4, 2, seed=23)),
]


def test_solved_numerical_gradient_matches_the_torch_finite_difference_tightly():
    params = init_params([2, 5, 3], seed=6)
    twins = TWINS + [Inputs(cases.mlp_loss_of_W1(params, randn(7, 2, seed=24), np.arange(7) % 3), params["W1"].copy())]
    check(solved.numerical_gradient, ref.numerical_gradient, twins, rtol=1e-6, atol=1e-8, quiet=True)


def test_the_finite_difference_reference_is_close_to_autograd_and_shows_eps():
    """At eps = 1e-6 the reference is the exact derivative to ~1e-9; at eps = 0.1 it is x**3's 3x**2 - 2 + eps**2."""
    x = np.array([-1.0, 0.5, 2.0])
    exact = 3 * x**2 - 2
    assert np.allclose(ref.numerical_gradient(cases.CUBIC, x), exact, rtol=0, atol=1e-8)
    assert np.allclose(ref.numerical_gradient(cases.CUBIC, x, eps=0.1), exact + 0.01, rtol=1e-12, atol=1e-12)
    xt = torch.tensor(x, requires_grad=True)
    (torch.sin(xt) * xt**2).sum().backward()
    assert np.allclose(ref.numerical_gradient(cases.SIN_SQUARE, x), xt.grad.numpy(), rtol=0, atol=1e-8)


def test_twin_functions_compute_the_same_in_numpy_and_torch():
    from dlcourse.device import to_numpy, to_tensor

    params = init_params([2, 5, 3], seed=7)
    X, y = randn(4, 2, seed=25), np.array([0, 1, 2, 1])
    twin = cases.mlp_loss_of_W1(params, X, y)
    assert float(twin(params["W1"])) == pytest.approx(cross_entropy(mlp_forward(X, params, "tanh")[0], y), rel=1e-14)
    for case in TWINS:
        f, x = case.args[0], case.args[1]
        assert np.allclose(f(x), to_numpy(f.torch_fn(to_tensor(x))), rtol=1e-14)
    assert repr(cases.CUBIC) == "f(x) = x**3 - 2x"


def test_numerical_gradient_restores_x_and_sees_in_place_changes():
    params = init_params([3, 4, 2], "xavier", seed=8)
    X, y = randn(5, 3, seed=26), np.array([0, 1, 0, 1, 1])
    before = params["W1"].copy()
    grad = solved.numerical_gradient(lambda _: cross_entropy(mlp_forward(X, params, "tanh")[0], y), params["W1"])
    assert np.array_equal(params["W1"], before)
    _, autograd = ref.mlp_loss_gradients(params, X, y, "tanh")
    assert solved.relative_error(grad, autograd["W1"]) < 1e-7


def test_numerical_gradient_reference_refuses_a_plain_function():
    with pytest.raises(TypeError, match="TwinFunction"):
        ref.numerical_gradient(lambda x: x, np.ones(2))


def test_relative_error_solved_matches_torch_and_refuses_shape_mismatch():
    check(
        solved.relative_error,
        ref.relative_error,
        [
            (np.array([1.0, 2.0]), np.array([1.0, 2.2])),
            (np.zeros(3), np.zeros(3)),
            (np.array([1e-12, 0.0]), np.array([0.0, 1e-12])),
            (randn(3, 4, seed=27), randn(3, 4, seed=28)),
        ],
        quiet=True,
    )
    assert solved.relative_error(np.array([2.0]), np.array([-2.0])) == 1.0
    with pytest.raises(ValueError, match="same shape"):
        ref.relative_error(np.ones(3), np.ones(4))


# --- E5 and the hinge-loss MLP --------------------------------------------------------------------


def test_e5_dead_unit_gets_exactly_zero_gradient_and_never_moves():
    X, y = np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([[1.0], [2.0]])
    loss, dW, db = ref.relu_neuron_gradients(np.array([[-0.3, -0.2]]), np.array([-0.1]), X, y)
    assert loss == 2.5 and not dW.any() and not db.any()
    run = demos.train_relu_neuron([[-0.3, -0.2]], [-0.1], X, y, steps=50)
    assert np.all(run["loss"] == 2.5) and np.array_equal(run["W"], [[-0.3, -0.2]])
    healthy = demos.train_relu_neuron([[0.3, 0.2]], [0.1], X, y, steps=1000)
    assert healthy["loss"][-1] < 1e-12


def test_train_hinge_mlp_is_plain_gradient_descent_on_the_hinge_loss():
    params = init_params([2, 3, 1], "he", seed=9)
    X, labels = randn(8, 2, seed=29), np.array([1, -1] * 4)
    losses, trained = demos_ad.train_hinge_mlp(params, X, labels, steps=1, lr=0.5)
    scores = mlp_forward(X, params, "tanh")[0][:, 0]
    assert losses[0] == pytest.approx(np.maximum(1 - labels * scores, 0).mean(), rel=1e-14)
    assert set(trained) == set(params) and not np.array_equal(trained["W1"], params["W1"])


# --- the autodiff engine --------------------------------------------------------------------------

OPS = {
    "add": (lambda a, b: a + b, torch.add, 2),
    "mul": (lambda a, b: a * b, torch.mul, 2),
    "tanh": (lambda x: x.tanh(), torch.tanh, 1),
    "relu": (lambda x: x.relu(), torch.relu, 1),
}


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("initial_grad", [0.0, 1.0])
def test_solved_value_operations_match_autograd(name, initial_grad):
    value_op, torch_op, arity = OPS[name]
    inputs = [randn(7, seed=30 + i) for i in range(arity)]
    upstream = randn(7, seed=40)

    def mine(*arrays):
        return cases_ad.local_gradients(
            value_op, *arrays, upstream=upstream, initial_grad=initial_grad, value_class=autodiff.Value
        )

    def theirs(*arrays):
        return ref_ad.local_gradients(torch_op, *arrays, upstream=upstream, initial_grad=initial_grad)

    check(mine, theirs, [tuple(inputs)], name=name, quiet=True)


@pytest.mark.parametrize(
    "expression, torch_expression",
    [
        (lambda a, b: a - b, torch.sub),
        (lambda a, b: a / b, torch.div),
        (lambda a, b: 2 - a * -b, lambda a, b: 2 - a * -b),
        (lambda a, b: 3 / (a + b * b), lambda a, b: 3 / (a + b * b)),
    ],
)
def test_derived_value_operations_match_autograd(expression, torch_expression):
    from dlcourse.device import to_tensor

    for a, b in zip(randn(5, seed=51), randn(5, seed=52) + 3.0):
        va, vb = autodiff.Value(a), autodiff.Value(b)
        out = expression(va, vb)
        out.backward()
        ta, tb = to_tensor(a, requires_grad=True), to_tensor(b, requires_grad=True)
        torch_out = torch_expression(ta, tb)
        torch_out.backward()
        assert out.data == pytest.approx(torch_out.item(), rel=1e-14)
        assert (va.grad, vb.grad) == pytest.approx((ta.grad.item(), tb.grad.item()), rel=1e-13)


@pytest.mark.parametrize("k", [2, 3, -1, 0.5, -2.5])
def test_solved_value_power_matches_autograd(k):
    x, upstream = np.abs(randn(5, seed=41)) + 0.1, randn(5, seed=42)
    check(
        lambda x, k, g: cases_ad.local_gradients(lambda v, k: v**k, x, k, upstream=g, value_class=autodiff.Value),
        lambda x, k, g: ref_ad.local_gradients(torch.pow, x, k, upstream=g),
        [(x, k, upstream)],
        quiet=True,
    )
    with pytest.raises(TypeError, match="constant number"):
        autodiff.Value(2.0) ** autodiff.Value(2.0)


@pytest.mark.parametrize("seed", range(40))
def test_solved_engine_matches_autograd_on_random_programs(seed):
    program = cases_ad.random_program(1 + seed % 6, 5 + seed, seed=seed)
    x = randn(1 + seed % 6, seed=seed)
    engine = lambda program, x: cases_ad.program_gradients(program, x, value_class=autodiff.Value)  # noqa: E731
    check(engine, ref_ad.program_gradients, [(program, x)], output_names=("output", "grad"), quiet=True)
    # the notebook's recursive value_backward and the iterative one computes the same
    recursive = cases_ad.program_gradients(program, x, backward=autodiff.value_backward, value_class=autodiff.Value)
    iterative = engine(program, x)
    assert recursive[0] == iterative[0] and np.allclose(recursive[1], iterative[1], rtol=1e-13, atol=1e-15)


def test_random_programs_are_seeded_and_use_every_node():
    assert cases_ad.random_program(4, 10, seed=3) == cases_ad.random_program(4, 10, seed=3)
    assert cases_ad.random_program(4, 10, seed=3) != cases_ad.random_program(4, 10, seed=4)
    for seed in range(20):
        program = cases_ad.random_program(4, 10, seed=seed)
        used = {
            i for step in program for i in step[1:3] if isinstance(i, int) and step[0] not in ("add_const", "mul_const")
        }
        used |= {step[1] for step in program}
        assert used == set(range(4 + len(program) - 1)), program
    with pytest.raises(ValueError, match="n_inputs"):
        cases_ad.random_program(0, 3)
    with pytest.raises(ValueError, match="unknown operation"):
        cases_ad.run_program([("exp", 0)], [1.0])


def test_engine_accumulates_and_handles_deep_graphs():
    x = autodiff.Value(0.5)
    (x * x + x).backward()  # dy/dx = 2x + 1 = 2
    assert x.grad == 2.0
    (x * x + x).backward()  # a second forward and backward without zeroing: gradients add up, as in PyTorch
    assert x.grad == 4.0
    z, node = autodiff.Value(1.0), None
    node = z
    for _ in range(5000):  # far deeper than Python's recursion limit
        node = node * 1.0 + 0.0
    node.backward()
    assert z.grad == 1.0


def test_local_gradients_and_program_gradients_refuse_bad_input():
    V = autodiff.Value
    with pytest.raises(ValueError, match="one shape"):
        cases_ad.local_gradients(lambda a, b: a + b, np.ones(2), np.ones(3), upstream=np.ones(2), value_class=V)
    with pytest.raises(ValueError, match="array input"):
        cases_ad.local_gradients(lambda a: a, 2.0, upstream=np.ones(1), value_class=V)
    with pytest.raises(TypeError, match="should return a Value"):
        cases_ad.local_gradients(lambda a: 3.0, np.ones(2), upstream=np.ones(2), value_class=V)
    with pytest.raises(ValueError, match="1-D"):
        cases_ad.program_gradients([("tanh", 0)], np.ones((2, 2)), value_class=V)


def test_params_move_between_numpy_and_values():
    params = init_params([2, 3, 1], seed=10)
    values = demos_ad.to_values(params, autodiff.Value)
    assert len(demos_ad.parameters(values)) == sum(p.size for p in params.values())
    back = demos_ad.to_arrays(values)
    assert all(np.array_equal(back[k], params[k]) for k in params)


def test_engine_or_solved_falls_back_while_a_stub_is_there(capsys):
    class Stub(autodiff.Value):
        def __mul__(self, other):
            raise NotImplementedError()

    assert demos_ad.engine_or_solved(Stub) is autodiff.Value
    assert "not complete yet" in capsys.readouterr().out
    assert demos_ad.engine_or_solved(autodiff.Value) is autodiff.Value


def test_fewer_gc_pauses_restores_the_threshold():
    before = gc.get_threshold()
    with demos_ad.fewer_gc_pauses(50_000):
        assert gc.get_threshold()[0] == 50_000
    assert gc.get_threshold() == before


def test_solved_blocks_swaps_and_restores_names():
    namespace = {"dense_backward": "mine"}
    with cases.solved_blocks(namespace):
        assert namespace["dense_backward"] is solved.dense_backward
        assert namespace["ACTIVATION_BACKWARDS"]["tanh"] is solved.tanh_backward
    assert namespace == {"dense_backward": "mine"}
    with pytest.raises(KeyError):
        with cases.solved_blocks(namespace, relu_backward=solved.relu_backward):
            raise KeyError("restored even after an error")
    assert namespace == {"dense_backward": "mine"}


# --- hints: each fires on its mistake, stays silent on a right answer and on a dtype-only difference --------


def hint_lines(message: str) -> list[str]:
    return [line for line in message.splitlines() if line.strip().startswith("hint:")]


def message_of(student_fn, reference_fn, cases_, **options) -> str:
    with pytest.raises(AssertionError) as failure:
        check(student_fn, reference_fn, cases_, quiet=True, **options)
    return str(failure.value)


def _skip_activation(dout, caches, params, activation="relu"):
    grads, dZ = {}, dout
    for layer in range(len(caches), 0, -1):
        dZ, grads[f"W{layer}"], grads[f"b{layer}"] = solved.dense_backward(
            dZ, caches[layer - 1][0], params[f"W{layer}"]
        )
    return grads


def _forward_difference(f, x, dout=None, eps=1e-6):
    grad, base = np.zeros(x.shape), np.array(f(x), dtype=np.float64)
    for i in np.ndindex(x.shape):
        original = x[i]
        x[i] = original + eps
        grad[i] = np.sum((np.array(f(x), dtype=np.float64) - base) * (1.0 if dout is None else dout)) / eps
        x[i] = original
    return grad


ACT = [(randn(3, 4, seed=43), randn(3, 4, seed=44))]
DENSE = [(randn(4, 3, seed=45), randn(4, 5, seed=46), randn(3, 5, seed=47))]
DENSE_OPTS = {"output_names": ("dX", "dW", "db")}
NUM = [Inputs(cases.SIN_SQUARE, randn(3, seed=48), randn(3, seed=49), eps=0.1)]
NUM_OPTS = {"rtol": 1e-6, "atol": 1e-8}
BACKPROP_HINTED = [
    (
        "sigmoid_backward",
        lambda dA, Z: solved.sigmoid_backward(np.ones_like(dA), Z),
        ref.sigmoid_backward,
        ACT,
        {},
        "multiply it by the upstream gradient dA",
    ),
    ("sigmoid_backward", lambda dA, Z: dA * Z * (1 - Z), ref.sigmoid_backward, ACT, {}, "needs s = sigmoid(Z)"),
    ("tanh_backward", lambda dA, Z: dA * (1 - Z**2), ref.tanh_backward, ACT, {}, "needs t = tanh(Z)"),
    ("tanh_backward", lambda dA, Z: dA * (1 - np.tanh(Z)), ref.tanh_backward, ACT, {}, "the square is missing"),
    (
        "relu_backward",
        lambda dA, Z: dA * (Z >= 0),
        ref.relu_backward,
        [(np.ones(3), np.array([-1.0, 0.0, 1.0]))],
        {},
        "mask with Z > 0",
    ),
    ("relu_backward", lambda dA, Z: np.maximum(dA, 0), ref.relu_backward, ACT, {}, "not from the sign of dA"),
    (
        "dense_backward",
        lambda dY, X, W: (dY @ W, X.T @ dY, dY.sum(axis=0)),
        ref.dense_backward,
        DENSE,
        DENSE_OPTS,
        "dW must have W's shape",
    ),
    (
        "dense_backward",
        lambda dY, X, W: (dY @ W, dY.T @ X, dY.mean(axis=0)),
        ref.dense_backward,
        DENSE,
        DENSE_OPTS,
        "db sums dY over the batch",
    ),
    (
        "dense_backward",
        lambda dY, X, W: (dY @ W, dY.T @ X / 4, dY.sum(axis=0)),
        ref.dense_backward,
        DENSE,
        DENSE_OPTS,
        "no 1/N in dW",
    ),
    (
        "mlp_backward",
        _skip_activation,
        ref.mlp_backward,
        [mlp_case([4, 6, 3], seed=11)],
        {},
        "pass dA_prev through the activation",
    ),
    (
        "mlp_backward",
        lambda dout, caches, params, activation="relu": solved.mlp_backward(dout, caches, params, "relu"),
        ref.mlp_backward,
        [mlp_case([4, 6, 3], seed=12, activation="tanh")],
        {},
        "not always ReLU",
    ),
    (
        "numerical_gradient",
        lambda f, x, dout=None, eps=1e-6: solved.numerical_gradient(f, x, dout, eps) * 2,
        ref.numerical_gradient,
        NUM,
        NUM_OPTS,
        "divide the centred difference by 2 * eps",
    ),
    ("numerical_gradient", _forward_difference, ref.numerical_gradient, NUM, NUM_OPTS, "one-sided"),
    (
        "numerical_gradient",
        lambda f, x, dout=None, eps=1e-6: solved.numerical_gradient(f, x, dout),
        ref.numerical_gradient,
        NUM,
        NUM_OPTS,
        "use the `eps` argument",
    ),
    (
        "relative_error",
        lambda a, b: float(np.mean(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8))),
        ref.relative_error,
        [(np.array([1.0, 2.0]), np.array([1.0, 2.2]))],
        {},
        "not the mean",
    ),
]


@pytest.mark.parametrize(
    "number", range(len(BACKPROP_HINTED)), ids=[f"{h[0]}-{i}" for i, h in enumerate(BACKPROP_HINTED)]
)
def test_each_backprop_hint_fires_on_its_mistake(number):
    exercise, wrong, reference, cases_, options, text = BACKPROP_HINTED[number]
    assert text in message_of(wrong, reference, cases_, hints=getattr(mistakes, exercise), **options)


F32 = lambda *shape, seed: randn(*shape, seed=seed).astype(np.float32)  # noqa: E731
DTYPE_CASES = {
    "sigmoid_backward": ((F32(3, 4, seed=50), F32(3, 4, seed=51)), {}),
    "tanh_backward": ((F32(3, 4, seed=50), F32(3, 4, seed=51)), {}),
    "relu_backward": ((F32(3, 4, seed=50), F32(3, 4, seed=51)), {}),
    "dense_backward": ((F32(4, 2, seed=52), F32(4, 3, seed=53), F32(2, 3, seed=54)), DENSE_OPTS),
    "mlp_backward": (mlp_case([3, 4, 2], seed=13, activation="tanh", dtype=np.float32), {}),
}


def _widened(fn):
    def widen(value):
        if isinstance(value, dict):
            return {k: widen(v) for k, v in value.items()}
        if isinstance(value, tuple):
            return tuple(widen(v) for v in value)
        return value.astype(np.float64)

    return lambda *args, **kwargs: widen(fn(*args, **kwargs))


@pytest.mark.parametrize("exercise", sorted(DTYPE_CASES))
def test_backprop_hints_stay_silent_on_right_answers_and_dtype_only_differences(exercise):
    case, options = DTYPE_CASES[exercise]
    fn, reference, hints = getattr(solved, exercise), getattr(ref, exercise), getattr(mistakes, exercise)
    check(fn, reference, [case], hints=hints, quiet=True, **options)
    message = message_of(_widened(fn), reference, [case], hints=hints, **options)
    assert "dtype" in message and not hint_lines(message), message


def test_numerical_gradient_and_relative_error_hints_stay_silent_on_right_answers():
    check(
        solved.numerical_gradient,
        ref.numerical_gradient,
        NUM,
        hints=mistakes.numerical_gradient,
        quiet=True,
        **NUM_OPTS,
    )
    check(
        solved.relative_error,
        ref.relative_error,
        [(np.array([1.0, 2.0]), np.array([1.0, 2.2]))],
        hints=mistakes.relative_error,
        quiet=True,
    )


V = autodiff.Value


def _add_overwriting(a, b):
    b = autodiff.as_value(b)
    out = V(a.data + b.data, (a, b), "+")

    def local_backward():
        a.grad = out.grad
        b.grad = out.grad

    out.local_backward = local_backward
    return out


def _mul_swapped(a, b):
    out = V(a.data * b.data, (a, b), "*")

    def local_backward():
        a.grad += a.data * out.grad
        b.grad += b.data * out.grad

    out.local_backward = local_backward
    return out


def _pow_without_k(x, k):
    out = V(x.data**k, (x,), "pow")

    def local_backward():
        x.grad += x.data ** (k - 1) * out.grad

    out.local_backward = local_backward
    return out


def _tanh_of_input(x):
    out = V(math.tanh(x.data), (x,), "tanh")

    def local_backward():
        x.grad += (1 - x.data**2) * out.grad

    out.local_backward = local_backward
    return out


def _relu_at_zero(x):
    out = V(max(x.data, 0.0), (x,), "relu")

    def local_backward():
        x.grad += (x.data >= 0) * out.grad

    out.local_backward = local_backward
    return out


def _local(op, initial_grad=0.0):
    """(inputs..., upstream) -> (out, grads...) of the engine's op, as the notebook's test cells call it."""
    return lambda *args: cases_ad.local_gradients(
        op, *args[:-1], upstream=args[-1], value_class=V, initial_grad=initial_grad
    )


def _torch(op, initial_grad=0.0):
    return lambda *args: ref_ad.local_gradients(op, *args[:-1], upstream=args[-1], initial_grad=initial_grad)


G = np.array([1.0, 3.0])
A2, B2 = np.array([2.0, 0.5]), np.array([-3.0, 4.0])
AB, X_ = ("out", "grad_a", "grad_b"), ("out", "grad_x")
ENGINE_HINTED = [
    (
        "value_add_self",
        _local(lambda v: _add_overwriting(v, v)),
        _torch(lambda t: t + t),
        [(A2, G)],
        X_,
        "accumulate with `self.grad += ...`",
    ),
    ("accumulate", _local(_add_overwriting, 1.0), _torch(torch.add, 1.0), [(A2, B2, G)], AB, "do not overwrite it"),
    ("value_add", _local(_add_overwriting, 1.0), _torch(torch.add, 1.0), [(A2, B2, G)], AB, "do not overwrite it"),
    ("value_mul", _local(_mul_swapped), _torch(torch.mul), [(A2, B2, G)], AB, "the OTHER factor"),
    ("value_pow", _local(_pow_without_k), _torch(torch.pow), [(A2, 3, G)], X_, "the factor k is missing"),
    ("value_tanh", _local(_tanh_of_input), _torch(torch.tanh), [(A2, G)], X_, "needs t = tanh(x)"),
    ("value_relu", _local(_relu_at_zero), _torch(torch.relu), [(np.array([0.0, 1.0]), G)], X_, "not >= 0"),
]


@pytest.mark.parametrize("number", range(len(ENGINE_HINTED)), ids=[f"{h[0]}-{i}" for i, h in enumerate(ENGINE_HINTED)])
def test_each_engine_hint_fires_on_its_mistake(number):
    exercise, wrong, reference, cases_, names, text = ENGINE_HINTED[number]
    message = message_of(wrong, reference, cases_, output_names=names, hints=getattr(mistakes_ad, exercise))
    assert text in message, message


@pytest.mark.parametrize(
    "exercise, op, torch_op, case, names",
    [
        ("value_add", autodiff.value_add, torch.add, (A2, B2, G), AB),
        ("value_mul", autodiff.value_mul, torch.mul, (A2, B2, G), AB),
        ("value_pow", autodiff.value_pow, torch.pow, (A2, 3, G), X_),
        ("value_tanh", autodiff.value_tanh, torch.tanh, (A2, G), X_),
        ("value_relu", autodiff.value_relu, torch.relu, (A2, G), X_),
    ],
)
def test_engine_hints_stay_silent_on_right_answers_and_dtype_only_differences(exercise, op, torch_op, case, names):
    hints = getattr(mistakes_ad, exercise)
    for initial in (0.0, 1.0):
        check(_local(op, initial), _torch(torch_op, initial), [case], output_names=names, hints=hints, quiet=True)
    narrowed = lambda *args: tuple(r.astype(np.float32) for r in _local(op)(*args))  # noqa: E731
    message = message_of(narrowed, _torch(torch_op), [case], output_names=names, hints=hints)
    assert "dtype" in message and not hint_lines(message), message


@pytest.mark.parametrize(
    "wrong, text",
    [
        (mistakes_ad._backward_without_seed, "all gradients are 0"),
        (mistakes_ad._backward_recursive, "topological order first"),
        (mistakes_ad._backward_with_repeats, "`visited` set"),
    ],
)
def test_backward_hints(wrong, text):
    diamond = [([("mul", 0, 1), ("tanh", 2), ("add", 2, 3)], np.array([0.5, -1.0]))]
    message = message_of(
        cases_ad.on_course_graphs(wrong),
        ref_ad.program_gradients,
        diamond,
        output_names=("output", "grad"),
        hints=mistakes_ad.value_backward,
    )
    assert text in message, message


def test_backward_hints_stay_silent_on_the_right_backward():
    diamond = [([("mul", 0, 1), ("tanh", 2), ("add", 2, 3)], np.array([0.5, -1.0]))]
    check(
        cases_ad.on_course_graphs(autodiff.value_backward),
        ref_ad.program_gradients,
        diamond,
        output_names=("output", "grad"),
        hints=mistakes_ad.value_backward,
        allow=cases_ad.ENGINE_BLOCKS,
        quiet=True,
    )


def test_a_backward_that_calls_the_course_engine_is_caught_by_the_watch():
    scope: dict = {}
    exec(
        compile(
            "from dlcourse.solved import autodiff\ndef cheating_backward(root):\n"
            "    autodiff.backward_iterative(root)\n",
            "<learner cell>",
            "exec",
        ),
        scope,
    )  # learner code: its own file
    cheating_backward = scope["cheating_backward"]
    diamond = [([("mul", 0, 1), ("tanh", 2), ("add", 2, 3)], np.array([0.5, -1.0]))]
    message = message_of(
        cases_ad.on_course_graphs(cheating_backward),
        ref_ad.program_gradients,
        diamond,
        output_names=("output", "grad"),
        allow=cases_ad.ENGINE_BLOCKS,
    )
    assert "dlcourse.solved.autodiff.backward_iterative" in message, message


@pytest.mark.parametrize(
    "wrong, text",
    [
        (lambda x, w, b: mistakes_ad._neuron(x, w, b, bias=False), "the bias is missing"),
        (lambda x, w, b: mistakes_ad._neuron(x, w, b, swapped=True), "dx and dw are swapped"),
    ],
)
def test_neuron_hints(wrong, text):
    names = ("out", "dx", "dw", "db")
    case = [(randn(4, seed=55), randn(4, seed=56), 0.3)]
    check(
        lambda x, w, b: mistakes_ad._neuron(x, w, b),
        ref_ad.neuron_gradients,
        case,
        output_names=names,
        hints=mistakes_ad.neuron_gradients,
        quiet=True,
    )
    assert text in message_of(
        wrong, ref_ad.neuron_gradients, case, output_names=names, hints=mistakes_ad.neuron_gradients
    )


def test_a_stub_gets_the_not_implemented_message():
    def stub(dY, X, W):
        raise NotImplementedError()

    fails_with(
        stub,
        ref.dense_backward,
        [(randn(2, 2, seed=48), randn(2, 3, seed=49), randn(2, 3, seed=50))],
        "not implemented yet",
    )


# --- plots ---------------------------------------------------------------------------------------


def test_plots_draw_and_refuse_mismatched_curves():
    import matplotlib.pyplot as plt

    from dlcourse.plots import backprop as backprop_plots

    eps = np.logspace(-8, -2, 4)
    ax = backprop_plots.plot_error_vs_epsilon(eps, {"centred": [1e-6, 1e-9, 1e-8, 1e-4]})
    assert ax.get_xscale() == "log" and len(ax.lines) == 1
    with pytest.raises(ValueError, match="3 errors for 4 epsilons"):
        backprop_plots.plot_error_vs_epsilon(eps, {"short": [1.0, 2.0, 3.0]})
    ax = backprop_plots.plot_layer_gradients({"net": [1e-3, 1e-2]})
    assert len(ax.lines) == 1
    x, w = autodiff.Value(2.0), autodiff.Value(-0.5)
    out = (x * w).tanh()
    out.backward()
    ax = backprop_plots.draw_graph(out, names={x: "x", w: "w"})
    labels = [t.get_text() for t in ax.texts if t.get_text()]  # the arrows are annotations without text
    assert any(label.startswith("x\n") for label in labels) and any(label.startswith("tanh") for label in labels)
    assert len(labels) == 4
    plt.close("all")
