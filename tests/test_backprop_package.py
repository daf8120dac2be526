"""Chapter 2's references (torch.autograd) and solved blocks (backward passes, numerical gradients, the
scalar autodiff engine) agree; the hints recognise the mistakes they describe; bad input is refused clearly."""

from __future__ import annotations

import gc
import math

import matplotlib
import numpy as np
import pytest
import torch

from dlcourse.checking import Inputs, check, randn
from dlcourse.reference import backprop as ref
from dlcourse.solved import autodiff
from dlcourse.solved import backprop as solved
from dlcourse.solved.losses import cross_entropy, cross_entropy_grad
from dlcourse.solved.networks import init_params, mlp_forward

matplotlib.use("Agg")

EXTREMES = np.array([-1e4, -745.0, -710.0, -1.0, -1e-12, 0.0, 1e-12, 1.0, 710.0, 745.0, 1e4])


def mlp_case(sizes, seed, activation="relu", n=5):
    params = init_params(sizes, seed=seed)
    out, caches = mlp_forward(randn(n, sizes[0], seed=seed + 100), params, activation)
    return Inputs(randn(*out.shape, seed=seed + 200), caches, params, activation=activation)


def fails_with(student_fn, reference_fn, cases, text, **options):
    """check() raises, and its message contains ``text``."""
    with pytest.raises(AssertionError) as failure:
        check(student_fn, reference_fn, cases, quiet=True, **options)
    assert text in str(failure.value), str(failure.value)


# --- backward passes ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sigmoid_backward", "tanh_backward", "relu_backward"])
def test_solved_activation_backwards_match_autograd_including_extremes(name):
    check(getattr(solved, name), getattr(ref, name), [
        (np.ones_like(EXTREMES), EXTREMES),
        (randn(4, 5, seed=1), randn(4, 5, seed=2, scale=5.0)),
        (randn(2, 3, 2, seed=3).astype(np.float32), randn(2, 3, 2, seed=4).astype(np.float32)),
    ], quiet=True)


def test_solved_dense_backward_matches_autograd():
    check(solved.dense_backward, ref.dense_backward, [
        (randn(4, 3, seed=5), randn(4, 5, seed=6), randn(3, 5, seed=7)),
        (randn(1, 1, seed=8), randn(1, 1, seed=9), randn(1, 1, seed=10)),
        (randn(3, 2, seed=11).astype(np.float32), randn(3, 4, seed=12).astype(np.float32), randn(2, 4, seed=13).astype(np.float32)),
    ], output_names=("dX", "dW", "db"), quiet=True)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_solved_mlp_backward_matches_autograd(activation):
    check(solved.mlp_backward, ref.mlp_backward, [
        mlp_case([3, 2], seed=1, activation=activation),
        mlp_case([4, 6, 5, 2], seed=2, activation=activation),
        mlp_case([5, 7, 1], seed=3, activation=activation, n=1),
    ], quiet=True)


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
    Inputs(ref.CUBIC, np.array([-1.0, 0.5, 2.0])),
    Inputs(ref.CUBIC, np.array([-1.0, 0.5, 2.0]), eps=1e-3),
    Inputs(ref.SIN_SQUARE, randn(3, 4, seed=18), randn(3, 4, seed=19)),
    Inputs(ref.HALF_SQUARED_NORM, randn(5, seed=20)),
    Inputs(ref.linear_map(randn(2, 3, seed=21)), randn(4, 3, seed=22), randn(4, 2, seed=23)),
]


def test_solved_numerical_gradient_matches_autograd():
    params = init_params([2, 5, 3], seed=6)
    cases = TWINS + [Inputs(ref.mlp_loss_of_W1(params, randn(7, 2, seed=24), np.arange(7) % 3), params["W1"].copy())]
    check(solved.numerical_gradient, ref.numerical_gradient, cases, rtol=1e-5, atol=1e-5, quiet=True)


def test_twin_functions_compute_the_same_in_numpy_and_torch():
    from dlcourse.device import to_numpy, to_tensor
    params = init_params([2, 5, 3], seed=7)
    X, y = randn(4, 2, seed=25), np.array([0, 1, 2, 1])
    twin = ref.mlp_loss_of_W1(params, X, y)
    assert float(twin(params["W1"])) == pytest.approx(cross_entropy(mlp_forward(X, params, "tanh")[0], y), rel=1e-14)
    for case in TWINS:
        f, x = case.args[0], case.args[1]
        assert np.allclose(f(x), to_numpy(f.torch_fn(to_tensor(x))), rtol=1e-14)
    assert repr(ref.CUBIC) == "f(x) = x**3 - 2x"


def test_numerical_gradient_restores_x_and_sees_in_place_changes():
    params = init_params([3, 4, 2], "xavier", seed=8)
    X, y = randn(5, 3, seed=26), np.array([0, 1, 0, 1, 1])
    before = params["W1"].copy()
    grad = solved.numerical_gradient(lambda _: cross_entropy(mlp_forward(X, params, "tanh")[0], y), params["W1"])
    assert np.array_equal(params["W1"], before)
    _, autograd = ref.mlp_loss_gradients(params, X, y, "tanh")
    assert solved.relative_error(grad, autograd["W1"]) < 1e-7


def test_numerical_gradient_refuses_bad_input():
    with pytest.raises(TypeError, match="float array"):
        solved.numerical_gradient(lambda x: x, np.arange(3))
    with pytest.raises(TypeError, match="float array"):
        solved.numerical_gradient(lambda x: x, [1.0, 2.0])
    with pytest.raises(ValueError, match="eps"):
        solved.numerical_gradient(lambda x: x, np.ones(2), eps=0.0)
    x = np.ones(3)
    with pytest.raises(ValueError, match="shape of f"):
        solved.numerical_gradient(lambda v: v * 2, x, dout=np.ones(2))
    assert np.array_equal(x, np.ones(3))
    with pytest.raises(TypeError, match="TwinFunction"):
        ref.numerical_gradient(lambda x: x, np.ones(2))


def test_relative_error_solved_matches_torch_and_refuses_shape_mismatch():
    check(solved.relative_error, ref.relative_error, [
        (np.array([1.0, 2.0]), np.array([1.0, 2.2])),
        (np.zeros(3), np.zeros(3)),
        (np.array([1e-12, 0.0]), np.array([0.0, 1e-12])),
        (randn(3, 4, seed=27), randn(3, 4, seed=28)),
    ], quiet=True)
    assert solved.relative_error(np.array([2.0]), np.array([-2.0])) == 1.0
    for fn in (solved.relative_error, ref.relative_error):
        with pytest.raises(ValueError, match="same shape"):
            fn(np.ones(3), np.ones(4))


# --- E5 and the hinge-loss MLP --------------------------------------------------------------------

def test_e5_dead_unit_gets_exactly_zero_gradient_and_never_moves():
    X, y = np.array([[1.0, 2.0], [2.0, 1.0]]), np.array([[1.0], [2.0]])
    loss, dW, db = ref.relu_neuron_gradients(np.array([[-0.3, -0.2]]), np.array([-0.1]), X, y)
    assert loss == 2.5 and not dW.any() and not db.any()
    run = ref.train_relu_neuron([[-0.3, -0.2]], [-0.1], X, y, steps=50)
    assert np.all(run["loss"] == 2.5) and np.array_equal(run["W"], [[-0.3, -0.2]])
    healthy = ref.train_relu_neuron([[0.3, 0.2]], [0.1], X, y, steps=1000)
    assert healthy["loss"][-1] < 1e-12


def test_train_hinge_mlp_is_plain_gradient_descent_on_the_hinge_loss():
    params = init_params([2, 3, 1], "he", seed=9)
    X, labels = randn(8, 2, seed=29), np.array([1, -1] * 4)
    losses, trained = ref.train_hinge_mlp(params, X, labels, steps=1, lr=0.5)
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
        return autodiff.local_gradients(value_op, *arrays, upstream=upstream, initial_grad=initial_grad)

    def theirs(*arrays):
        return ref.local_gradients(torch_op, *arrays, upstream=upstream, initial_grad=initial_grad)

    check(mine, theirs, [tuple(inputs)], name=name, quiet=True)


@pytest.mark.parametrize("expression, torch_expression", [
    (lambda a, b: a - b, torch.sub), (lambda a, b: a / b, torch.div), (lambda a, b: 2 - a * -b, lambda a, b: 2 - a * -b),
    (lambda a, b: 3 / (a + b * b), lambda a, b: 3 / (a + b * b)),
])
def test_derived_value_operations_match_autograd(expression, torch_expression):
    from dlcourse.device import to_numpy, to_tensor
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
    check(lambda x, k, g: autodiff.local_gradients(lambda v, k: v ** k, x, k, upstream=g),
          lambda x, k, g: ref.local_gradients(torch.pow, x, k, upstream=g), [(x, k, upstream)], quiet=True)
    with pytest.raises(TypeError, match="constant number"):
        autodiff.Value(2.0) ** autodiff.Value(2.0)


@pytest.mark.parametrize("seed", range(40))
def test_solved_engine_matches_autograd_on_random_programs(seed):
    program = autodiff.random_program(1 + seed % 6, 5 + seed, seed=seed)
    check(autodiff.program_gradients, ref.program_gradients, [(program, randn(1 + seed % 6, seed=seed))],
          output_names=("output", "grad"), quiet=True)


def test_random_programs_are_seeded_and_use_every_node():
    assert autodiff.random_program(4, 10, seed=3) == autodiff.random_program(4, 10, seed=3)
    assert autodiff.random_program(4, 10, seed=3) != autodiff.random_program(4, 10, seed=4)
    for seed in range(20):
        program = autodiff.random_program(4, 10, seed=seed)
        used = {i for step in program for i in step[1:3] if isinstance(i, int) and step[0] not in ("add_const", "mul_const")}
        used |= {step[1] for step in program}
        assert used == set(range(4 + len(program) - 1)), program
    with pytest.raises(ValueError, match="n_inputs"):
        autodiff.random_program(0, 3)
    with pytest.raises(ValueError, match="unknown operation"):
        autodiff.run_program([("exp", 0)], [1.0])


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
    with pytest.raises(ValueError, match="one shape"):
        autodiff.local_gradients(lambda a, b: a + b, np.ones(2), np.ones(3), upstream=np.ones(2))
    with pytest.raises(ValueError, match="array input"):
        autodiff.local_gradients(lambda a: a, 2.0, upstream=np.ones(1))
    with pytest.raises(TypeError, match="should return a Value"):
        autodiff.local_gradients(lambda a: 3.0, np.ones(2), upstream=np.ones(2))
    with pytest.raises(ValueError, match="1-D"):
        autodiff.program_gradients([("tanh", 0)], np.ones((2, 2)))


def test_params_move_between_numpy_and_values():
    params = init_params([2, 3, 1], seed=10)
    values = autodiff.to_values(params)
    assert len(autodiff.parameters(values)) == sum(p.size for p in params.values())
    back = autodiff.to_arrays(values)
    assert all(np.array_equal(back[k], params[k]) for k in params)


def test_engine_or_solved_falls_back_while_a_stub_is_there(capsys):
    class Stub(autodiff.Value):
        def __mul__(self, other):
            raise NotImplementedError()

    assert autodiff.engine_or_solved(Stub) is autodiff.Value
    assert "not complete yet" in capsys.readouterr().out
    assert autodiff.engine_or_solved(autodiff.Value) is autodiff.Value


def test_fewer_gc_pauses_restores_the_threshold():
    before = gc.get_threshold()
    with autodiff.fewer_gc_pauses(50_000):
        assert gc.get_threshold()[0] == 50_000
    assert gc.get_threshold() == before


def test_solved_blocks_swaps_and_restores_names():
    namespace = {"dense_backward": "mine"}
    with ref.solved_blocks(namespace, **ref.solved_backprop_blocks()):
        assert namespace["dense_backward"] is solved.dense_backward
        assert namespace["ACTIVATION_BACKWARDS"]["tanh"] is solved.tanh_backward
    assert namespace == {"dense_backward": "mine"}
    with pytest.raises(KeyError):
        with ref.solved_blocks(namespace, relu_backward=solved.relu_backward):
            raise KeyError("restored even after an error")
    assert namespace == {"dense_backward": "mine"}


# --- hints recognise the mistakes they describe -----------------------------------------------------

def test_activation_hints():
    cases = [(randn(3, 4, seed=43), randn(3, 4, seed=44))]
    fails_with(lambda dA, Z: solved.sigmoid_backward(np.ones_like(dA), Z), ref.sigmoid_backward, cases,
               "multiply it by the upstream gradient dA", hints=ref.HINTS["sigmoid_backward"])
    fails_with(lambda dA, Z: dA * (1 - Z ** 2), ref.tanh_backward, cases, "needs t = tanh(Z)", hints=ref.HINTS["tanh_backward"])
    fails_with(lambda dA, Z: dA * (Z >= 0), ref.relu_backward, [(np.ones(3), np.array([-1.0, 0.0, 1.0]))],
               "mask with Z > 0", hints=ref.HINTS["relu_backward"])


def test_dense_backward_hints():
    cases = [(randn(4, 3, seed=45), randn(4, 5, seed=46), randn(3, 5, seed=47))]
    opts = dict(output_names=("dX", "dW", "db"), hints=ref.HINTS["dense_backward"])
    fails_with(lambda dY, X, W: (dY @ W, X.T @ dY, dY.sum(axis=0)), ref.dense_backward, cases, "dW must have W's shape", **opts)
    fails_with(lambda dY, X, W: (dY @ W, dY.T @ X, dY.mean(axis=0)), ref.dense_backward, cases, "db sums dY over the batch", **opts)
    fails_with(lambda dY, X, W: (dY @ W, dY.T @ X / 4, dY.sum(axis=0)), ref.dense_backward, cases, "no 1/N in dW", **opts)


def test_mlp_backward_hints():
    def skip_activation(dout, caches, params, activation="relu"):
        grads, dZ = {}, dout
        for layer in range(len(caches), 0, -1):
            dZ, grads[f"W{layer}"], grads[f"b{layer}"] = solved.dense_backward(dZ, caches[layer - 1][0], params[f"W{layer}"])
        return grads

    def always_relu(dout, caches, params, activation="relu"):
        return solved.mlp_backward(dout, caches, params, "relu")

    fails_with(skip_activation, ref.mlp_backward, [mlp_case([4, 6, 3], seed=11)], "pass dA_prev through the activation",
               hints=ref.HINTS["mlp_backward"])
    fails_with(always_relu, ref.mlp_backward, [mlp_case([4, 6, 3], seed=12, activation="tanh")], "not always ReLU",
               hints=ref.HINTS["mlp_backward"])


def test_numerical_gradient_and_relative_error_hints():
    def forward_difference(f, x, dout=None, eps=1e-6):
        grad, base = np.zeros(x.shape), f(x)
        for i in np.ndindex(x.shape):
            x[i] += eps
            grad[i] = np.sum((f(x) - base) * (1.0 if dout is None else dout)) / eps
            x[i] -= eps
        return grad

    cubic = [Inputs(ref.CUBIC, np.array([-1.0, 0.5, 2.0]), eps=1e-3)]
    fails_with(lambda f, x, dout=None, eps=1e-6: solved.numerical_gradient(f, x, dout, eps) * 2, ref.numerical_gradient,
               cubic, "divide the centred difference by 2 * eps", rtol=1e-5, atol=1e-5, hints=ref.HINTS["numerical_gradient"])
    with pytest.raises(AssertionError, match="changed its input|one-sided"):
        check(forward_difference, ref.numerical_gradient, cubic, rtol=1e-5, atol=1e-5, quiet=True,
              hints=ref.HINTS["numerical_gradient"])
    fails_with(lambda a, b: float(np.mean(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8))), ref.relative_error,
               [(np.array([1.0, 2.0]), np.array([1.0, 2.2]))], "not the mean", hints=ref.HINTS["relative_error"])


def test_autodiff_hints():
    V = autodiff.Value

    def add_overwriting(a, b):
        out = V(a.data + b.data, (a, b), "+")

        def local_backward():
            a.grad = out.grad
            b.grad = out.grad
        out.local_backward = local_backward
        return out

    def mul_swapped(a, b):
        out = V(a.data * b.data, (a, b), "*")

        def local_backward():
            a.grad += a.data * out.grad
            b.grad += b.data * out.grad
        out.local_backward = local_backward
        return out

    g = np.array([1.0, 3.0])
    fails_with(lambda x, upstream: autodiff.local_gradients(lambda v: add_overwriting(v, v), x, upstream=upstream),
               lambda x, upstream: ref.local_gradients(lambda t: t + t, x, upstream=upstream), [(np.array([1.5, -2.0]), g)],
               "accumulate with `self.grad += ...`", output_names=("out", "grad_x"), hints=ref.HINTS["value_add_self"])
    fails_with(lambda a, b, upstream: autodiff.local_gradients(add_overwriting, a, b, upstream=upstream, initial_grad=1.0),
               lambda a, b, upstream: ref.local_gradients(torch.add, a, b, upstream=upstream, initial_grad=1.0),
               [(np.array([2.0, 0.5]), np.array([-3.0, 4.0]), g)], "do not overwrite it",
               output_names=("out", "grad_a", "grad_b"), hints=ref.HINTS["accumulate"])
    fails_with(lambda a, b, upstream: autodiff.local_gradients(mul_swapped, a, b, upstream=upstream),
               lambda a, b, upstream: ref.local_gradients(torch.mul, a, b, upstream=upstream),
               [(np.array([2.0, 0.5]), np.array([-3.0, 4.0]), g)], "the OTHER factor",
               output_names=("out", "grad_a", "grad_b"), hints=ref.HINTS["value_mul"])


@pytest.mark.parametrize("wrong, text", [
    (ref._backward_without_seed, "all gradients are 0"),
    (ref._backward_recursive, "topological order first"),
    (ref._backward_with_repeats, "`visited` set"),
])
def test_backward_hints(wrong, text):
    diamond = [([("mul", 0, 1), ("tanh", 2), ("add", 2, 3)], np.array([0.5, -1.0]))]
    fails_with(lambda program, x: autodiff.program_gradients(program, x, backward=wrong), ref.program_gradients, diamond,
               text, output_names=("output", "grad"), hints=ref.HINTS["value_backward"])


def test_a_stub_gets_the_not_implemented_message():
    def stub(dY, X, W):
        raise NotImplementedError()
    fails_with(stub, ref.dense_backward, [(randn(2, 2, seed=48), randn(2, 3, seed=49), randn(2, 3, seed=50))],
               "not implemented yet")


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
