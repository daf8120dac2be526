"""PyTorch references for chapter 2 (backprop and autodiff): every gradient comes from ``torch.autograd``
in float64 on :func:`dlcourse.device.get_device`, on the same inputs and weights as the NumPy code.

Also here: :class:`TwinFunction` (a test function written twice, NumPy for ``numerical_gradient`` to
call and PyTorch for autograd to differentiate), the training runs the notebooks compare with
(E5's ReLU neuron, the hinge-loss MLP of the autodiff notebook), and ``HINTS``: the likely
mistakes of each exercise, recognised from the wrong results they produce.
"""

from __future__ import annotations

import contextlib
import re
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..device import get_device, to_numpy, to_tensor
from ..hints import Hint, Mismatch, mistake
from ..solved import autodiff as solved_autodiff
from ..solved import backprop as solved_backprop
from .networks import build_mlp, count_layers


def _grad_or_zeros(t: torch.Tensor) -> np.ndarray:
    return to_numpy(t.grad) if t.grad is not None else np.zeros(tuple(t.shape))


# --- backward passes of the layers --------------------------------------------------------------

def _activation_backward(fn: Callable, dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    Zt = to_tensor(Z, requires_grad=True)
    fn(Zt).backward(to_tensor(dA))
    return to_numpy(Zt.grad)


def sigmoid_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dL/dZ for A = torch.sigmoid(Z), by autograd."""
    return _activation_backward(torch.sigmoid, dA, Z)


def tanh_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dL/dZ for A = torch.tanh(Z), by autograd."""
    return _activation_backward(torch.tanh, dA, Z)


def relu_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dL/dZ for A = torch.relu(Z), by autograd (PyTorch takes the derivative at 0 as 0)."""
    return _activation_backward(torch.relu, dA, Z)


def dense_backward(dY: np.ndarray, X: np.ndarray, W: np.ndarray):
    """(dX, dW, db) for Y = F.linear(X, W, b), by autograd."""
    Xt, Wt = to_tensor(X, requires_grad=True), to_tensor(W, requires_grad=True)
    bt = torch.zeros(W.shape[0], dtype=torch.float64, device=get_device(), requires_grad=True)
    F.linear(Xt, Wt, bt).backward(to_tensor(dY))
    return to_numpy(Xt.grad), to_numpy(Wt.grad), to_numpy(bt.grad)


def _linear_layers(model: nn.Sequential) -> list[nn.Linear]:
    return [m for m in model if isinstance(m, nn.Linear)]


def mlp_backward(dout: np.ndarray, caches: list, params: dict[str, np.ndarray], activation: str = "relu"):
    """Gradients {"W1", "b1", ...} of an ``nn.Sequential`` copy of the MLP, run on the input in
    ``caches[0]``, when d(output) = ``dout``: ``output.backward(dout)``."""
    n_layers = count_layers(params)
    if len(caches) != n_layers:
        raise ValueError(f"caches has {len(caches)} layers but params has {n_layers}")
    model = build_mlp(params, activation)
    model(to_tensor(caches[0][0])).backward(to_tensor(dout))
    grads = {}
    for layer, linear in enumerate(_linear_layers(model), start=1):
        grads[f"W{layer}"], grads[f"b{layer}"] = to_numpy(linear.weight.grad), to_numpy(linear.bias.grad)
    return grads


LOSSES = {"cross_entropy": F.cross_entropy, "mse": F.mse_loss}


def mlp_loss_gradients(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, activation: str = "tanh",
                       loss: str = "cross_entropy"):
    """(loss, {"W1": dL/dW1, ...}) of an MLP under F.cross_entropy (integer labels) or F.mse_loss, by autograd."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    model = build_mlp(params, activation)
    target = to_tensor(y)
    value = LOSSES[loss](model(to_tensor(X)), target)
    value.backward()
    grads = {}
    for layer, linear in enumerate(_linear_layers(model), start=1):
        grads[f"W{layer}"], grads[f"b{layer}"] = to_numpy(linear.weight.grad), to_numpy(linear.bias.grad)
    return float(value.item()), grads


# --- gradient checking ------------------------------------------------------------------------

class TwinFunction:
    """One function written twice: ``numpy_fn`` (called when the twin is called, as numerical_gradient
    does) and ``torch_fn`` (what autograd differentiates). Its repr is its ``name``."""

    def __init__(self, name: str, numpy_fn: Callable, torch_fn: Callable):
        self.name, self.numpy_fn, self.torch_fn = name, numpy_fn, torch_fn

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.numpy_fn(x)

    def __repr__(self):
        return self.name


CUBIC = TwinFunction("f(x) = x**3 - 2x", lambda x: x ** 3 - 2 * x, lambda t: t ** 3 - 2 * t)
SIN_SQUARE = TwinFunction("f(x) = sin(x) * x**2", lambda x: np.sin(x) * x ** 2, lambda t: torch.sin(t) * t ** 2)
HALF_SQUARED_NORM = TwinFunction("f(x) = sum(x**2) / 2 (a scalar)", lambda x: np.sum(x ** 2) / 2, lambda t: (t ** 2).sum() / 2)


def linear_map(M: np.ndarray) -> TwinFunction:
    """f(x) = x @ M.T: every output depends on every input."""
    M = np.array(M, dtype=np.float64)
    return TwinFunction(f"f(x) = x @ M.T, M of shape {M.shape}", lambda x: x @ M.T, lambda t: t @ to_tensor(M).T)


def mlp_loss_of_W1(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, activation: str = "tanh") -> TwinFunction:
    """f(W) = the cross-entropy loss of the MLP with W in place of params["W1"] (a scalar)."""
    from ..solved.losses import cross_entropy
    from ..solved.networks import mlp_forward

    def numpy_fn(W):
        return np.float64(cross_entropy(mlp_forward(X, {**params, "W1": W}, activation)[0], y))

    def torch_fn(W):
        a = to_tensor(X)
        for layer in range(1, count_layers(params) + 1):
            weight = W if layer == 1 else to_tensor(params[f"W{layer}"])
            a = F.linear(a, weight, to_tensor(params[f"b{layer}"]))
            if layer < count_layers(params):
                a = getattr(torch, activation)(a)
        return F.cross_entropy(a, to_tensor(y))

    return TwinFunction(f"f(W1) = MLP loss ({activation})", numpy_fn, torch_fn)


def numerical_gradient(f: TwinFunction, x: np.ndarray, dout: np.ndarray | None = None, eps: float = 1e-6) -> np.ndarray:
    """What a numerical gradient approximates: d sum(f(x) * dout) / dx by autograd on ``f.torch_fn``
    (``dout`` defaults to ones; ``eps`` plays no part in the exact answer)."""
    if not isinstance(f, TwinFunction):
        raise TypeError(f"the reference needs a TwinFunction (NumPy and PyTorch versions), got {type(f).__name__}")
    xt = to_tensor(x, requires_grad=True)
    out = f.torch_fn(xt)
    out.backward(torch.ones_like(out) if dout is None else to_tensor(dout))
    return _grad_or_zeros(xt)


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max over entries of |a - b| / max(|a| + |b|, 1e-8), computed with torch."""
    at, bt = to_tensor(a), to_tensor(b)
    if at.shape != bt.shape:
        raise ValueError(f"relative_error compares arrays of the same shape, got {tuple(at.shape)} and {tuple(bt.shape)}")
    return float(((at - bt).abs() / (at.abs() + bt.abs()).clamp_min(1e-8)).max().item())


# --- E5: one ReLU neuron, MSE, Adam -------------------------------------------------------------

def _float_leaf(x) -> torch.Tensor:
    return to_tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


def relu_neuron_gradients(W: np.ndarray, b: np.ndarray, X: np.ndarray, y: np.ndarray):
    """(loss, dW, db) of F.mse_loss(relu(F.linear(X, W, b)), y), by autograd."""
    Wt, bt = _float_leaf(W), _float_leaf(b)
    loss = F.mse_loss(torch.relu(F.linear(to_tensor(X), Wt, bt)), to_tensor(y))
    loss.backward()
    return float(loss.item()), to_numpy(Wt.grad), to_numpy(bt.grad)


def train_relu_neuron(W0: np.ndarray, b0: np.ndarray, X: np.ndarray, y: np.ndarray, steps: int = 1000,
                      lr: float = 0.01) -> dict[str, np.ndarray]:
    """E5 in PyTorch: relu(x W^T + b), F.mse_loss, torch.optim.Adam(lr), ``steps`` full-batch steps.
    Returns per step the loss and the gradient (before the update), and the final W, b."""
    Wt, bt = _float_leaf(W0), _float_leaf(b0)
    optimizer = torch.optim.Adam([Wt, bt], lr=lr)
    Xt, yt = to_tensor(X), to_tensor(y)
    losses, dWs, dbs = [], [], []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(torch.relu(F.linear(Xt, Wt, bt)), yt)
        loss.backward()
        losses.append(loss.item())
        dWs.append(to_numpy(Wt.grad).copy())
        dbs.append(to_numpy(bt.grad).copy())
        optimizer.step()
    return {"loss": np.array(losses), "dW": np.array(dWs), "db": np.array(dbs),
            "W": to_numpy(Wt).copy(), "b": to_numpy(bt).copy()}


# --- autodiff: single operations, random programs, the hinge-loss MLP --------------------------

def local_gradients(op: Callable, *inputs, upstream: np.ndarray, initial_grad: float = 0.0):
    """(out, d/d each array input of sum(op(*inputs) * upstream)) by autograd; numbers in ``inputs``
    are passed to ``op`` as they are. ``op`` is a PyTorch function such as ``torch.mul``.
    With ``initial_grad``, each input's ``.grad`` holds that value before ``backward()``, which adds to it."""
    tensors = [to_tensor(x, requires_grad=True) if isinstance(x, np.ndarray) else x for x in inputs]
    if initial_grad:
        for t in tensors:
            if isinstance(t, torch.Tensor):
                t.grad = torch.full_like(t, float(initial_grad))
    out = op(*tensors)
    out.backward(to_tensor(upstream))
    return (to_numpy(out), *[_grad_or_zeros(t) for t in tensors if isinstance(t, torch.Tensor)])


def program_gradients(program: list[tuple], x: np.ndarray):
    """(result, d result / d x) of a :func:`dlcourse.solved.autodiff.random_program`, run on torch
    scalars and differentiated by autograd."""
    xt = to_tensor(x, requires_grad=True)
    root = solved_autodiff.run_program(program, list(xt.unbind()))
    root.backward()
    return np.float64(root.item()), _grad_or_zeros(xt)


def hinge_loss(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean of relu(1 - y * score) for labels y in {-1, +1}."""
    return torch.relu(1 - labels * scores.reshape(-1)).mean()


def train_hinge_mlp(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, steps: int, lr: float,
                    activation: str = "tanh"):
    """Full-batch torch.optim.SGD on the mean hinge loss of an ``nn.Sequential`` copy of ``params``
    (one output score, labels y in {-1, +1}). Returns (losses per step, the trained params)."""
    model = build_mlp(params, activation)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    Xt, yt = to_tensor(X), to_tensor(np.asarray(y, dtype=np.float64))
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = hinge_loss(model(Xt), yt)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    trained = {}
    for layer, linear in enumerate(_linear_layers(model), start=1):
        trained[f"W{layer}"], trained[f"b{layer}"] = to_numpy(linear.weight).copy(), to_numpy(linear.bias).copy()
    return np.array(losses), trained


# --- grading helper ---------------------------------------------------------------------------

@contextlib.contextmanager
def solved_blocks(namespace: dict, **blocks):
    """Within the block, ``namespace`` (a notebook's ``globals()``) holds the course's solved ``blocks``
    instead of the learner's, and gets the learner's back afterwards. A test of an exercise that
    calls earlier exercises uses it so that an earlier mistake costs points only once."""
    missing = object()
    saved = {name: namespace.get(name, missing) for name in blocks}
    namespace.update(blocks)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def solved_backprop_blocks() -> dict:
    """The chapter's solved building blocks by the names the notebook uses."""
    s = solved_backprop
    return {"sigmoid_backward": s.sigmoid_backward, "tanh_backward": s.tanh_backward,
            "relu_backward": s.relu_backward, "dense_backward": s.dense_backward,
            "ACTIVATION_BACKWARDS": dict(s.ACTIVATION_BACKWARDS)}


# --- hints: what the classic mistakes look like ---------------------------------------------------

def _sigmoid(Z):
    return to_numpy(torch.sigmoid(to_tensor(Z)))


def _tanh(Z):
    return to_numpy(torch.tanh(to_tensor(Z)))


def _dict_mistake(wrong_fn: Callable, message: str) -> Hint:
    """Like :func:`dlcourse.hints.mistake` for a function returning a dict: compares the entry the
    failing path names (``output['W1']``)."""

    def when(m: Mismatch) -> bool:
        key = re.search(r"\['(\w+)'\]", m.path)
        if key is None or m.got is None:
            return False
        wrong = np.asarray(wrong_fn(*m.args, **m.kwargs)[key.group(1)], dtype=np.float64)
        got = np.asarray(m.got, dtype=np.float64)
        return wrong.shape == got.shape and np.allclose(got, wrong, rtol=1e-6, atol=1e-9)

    return Hint(message, when)


def _mlp_backward_wrong(dout, caches, params, activation="relu", *, output_activation=False,
                        skip_activation=False, always="") -> dict:
    s = solved_backprop
    grads, n_layers = {}, len(caches)
    act = always or activation
    dZ = s.ACTIVATION_BACKWARDS[act](dout, caches[-1][1]) if output_activation else dout
    for layer in range(n_layers, 0, -1):
        A_prev, _ = caches[layer - 1]
        dA_prev, grads[f"W{layer}"], grads[f"b{layer}"] = s.dense_backward(dZ, A_prev, params[f"W{layer}"])
        if layer > 1:
            dZ = dA_prev if skip_activation else s.ACTIVATION_BACKWARDS[act](dA_prev, caches[layer - 2][1])
    return grads


def _forward_difference(f, x, dout=None, eps=1e-6):
    x = x.copy()
    base = np.asarray(f(x), dtype=np.float64)
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        grad[index] = np.sum((np.asarray(f(x)) - base) * (1.0 if dout is None else dout)) / eps
        x[index] = original
    return grad


def _numerical_without_dout(f, x, dout=None, eps=1e-6):
    return solved_backprop.numerical_gradient(f, x.copy(), None, eps)


def _backward_without_seed(root):
    for node in reversed(solved_autodiff.topological_order(root)):
        node.local_backward()


def _backward_recursive(root):
    root.grad = 1.0

    def visit(node):
        node.local_backward()
        for parent in node.parents:
            visit(parent)

    visit(root)


def _backward_unordered(root):
    """Every node once, but in the order a depth-first walk meets them (parents before all their children are done)."""
    root.grad = 1.0
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        node.local_backward()
        stack.extend(node.parents)


def _backward_with_repeats(root):
    """A topological walk without a 'visited' set: shared nodes are listed (and run) more than once."""
    order = []

    def visit(node):
        for parent in node.parents:
            visit(parent)
        order.append(node)

    visit(root)
    root.grad = 1.0
    for node in reversed(order):
        node.local_backward()


def _grad(result):
    return result[1]


def _program_with(backward):
    return lambda program, x: solved_autodiff.program_gradients(program, x, backward=backward)


HINTS: dict[str, list[Hint]] = {
    "sigmoid_backward": [
        mistake(lambda dA, Z: _sigmoid(Z) * (1 - _sigmoid(Z)),
                "you returned sigmoid'(Z) alone: multiply it by the upstream gradient dA (the chain rule)."),
        mistake(lambda dA, Z: dA * Z * (1 - Z),
                "s * (1 - s) needs s = sigmoid(Z), the unit's output, not Z itself."),
        mistake(lambda dA, Z: dA * _sigmoid(Z),
                "sigmoid's derivative is sigmoid(Z) * (1 - sigmoid(Z)), not sigmoid(Z)."),
    ],
    "tanh_backward": [
        mistake(lambda dA, Z: 1 - _tanh(Z) ** 2,
                "you returned tanh'(Z) alone: multiply it by the upstream gradient dA (the chain rule)."),
        mistake(lambda dA, Z: dA * (1 - Z ** 2), "1 - t**2 needs t = tanh(Z), not Z itself."),
        mistake(lambda dA, Z: dA * (1 - _tanh(Z)), "tanh's derivative is 1 - tanh(Z)**2: the square is missing."),
    ],
    "relu_backward": [
        mistake(lambda dA, Z: dA * (Z >= 0),
                "at Z = 0 exactly ReLU has no derivative; PyTorch (and this course) use 0 there: mask with Z > 0, not Z >= 0."),
        mistake(lambda dA, Z: (Z > 0).astype(np.float64),
                "you returned the mask alone: multiply it by the upstream gradient dA."),
        mistake(lambda dA, Z: np.maximum(dA, 0),
                "the mask comes from Z (where the unit was active in the forward pass), not from the sign of dA."),
    ],
    "dense_backward": [
        mistake(lambda dY, X, W: X.T @ dY,
                "dW must have W's shape (n_out, n_in): dW = dY.T @ X (X.T @ dY is its transpose).", output="dW"),
        mistake(lambda dY, X, W: dY.T @ X / X.shape[0],
                "no 1/N in dW: if the loss is a mean over the batch, its gradient dY already holds the 1/N.",
                output="dW"),
        mistake(lambda dY, X, W: dY.mean(axis=0),
                "db sums dY over the batch (b is added to every row, so every row's gradient reaches it): "
                "dY.sum(axis=0), not the mean.", output="db"),
        mistake(lambda dY, X, W: dY.sum(axis=1),
                "sum over the batch axis, axis=0: db has one entry per output unit.", output="db"),
        mistake(lambda dY, X, W: dY @ W.T,
                "dX = dY @ W: W is stored as (n_out, n_in), so no transpose here.", output="dX"),
    ],
    "mlp_backward": [
        _dict_mistake(lambda *a, **k: _mlp_backward_wrong(*a, **k, output_activation=True),
                      "the output layer has no activation: start with dZ = dout for the last layer."),
        _dict_mistake(lambda *a, **k: _mlp_backward_wrong(*a, **k, skip_activation=True),
                      "between two dense layers, pass dA_prev through the activation's backward "
                      "(with the Z of the layer below, caches[l - 2][1]) before the next dense_backward."),
        _dict_mistake(lambda *a, **k: _mlp_backward_wrong(*a, **k, always="relu"),
                      "use the `activation` argument (ACTIVATION_BACKWARDS[activation]), not always ReLU's backward."),
    ],
    "numerical_gradient": [
        mistake(_forward_difference,
                "this is the one-sided difference (f(x + eps) - f(x)) / eps, whose error shrinks only like eps: "
                "use the centred (f(x + eps) - f(x - eps)) / (2 eps), whose error shrinks like eps**2."),
        mistake(lambda f, x, dout=None, eps=1e-6: solved_backprop.numerical_gradient(f, x.copy(), dout, eps) * 2,
                "divide the centred difference by 2 * eps: the two points are 2 eps apart."),
        mistake(_numerical_without_dout,
                "weight each output's change by dout before summing: the gradient of sum(f(x) * dout)."),
    ],
    "relative_error": [
        mistake(lambda a, b: np.max(np.abs(a - b)),
                "divide by max(|a| + |b|, 1e-8) entry by entry: a difference means little without the scale of the values."),
        mistake(lambda a, b: np.mean(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)),
                "take the largest (np.max) of the entry-wise relative errors, not the mean: one bad entry must show."),
        mistake(lambda a, b: np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-8)),
                "the denominator is |a| + |b| (symmetric in a and b), floored at 1e-8."),
    ],
    "value_add": [
        mistake(lambda a, b, upstream: upstream * 0, "the gradients stayed 0: local_backward must add out.grad to "
                "self.grad and to other.grad (define it inside value_add and set out.local_backward = local_backward)."),
    ],
    "accumulate": [
        Hint("the gradient that was already in the input's grad is gone: add to it (`self.grad += ...`), "
             "do not overwrite it (`self.grad = ...`); a Value used in several places collects a share from each.",
             lambda m: m.path.startswith("grad") and m.arrays() is not None
             and np.allclose(m.arrays()[0] - 1.0, m.arrays()[1], rtol=1e-9, atol=1e-12)),
    ],
    "value_add_self": [
        mistake(lambda x, upstream: upstream, "x + x sends a gradient to x twice: accumulate with `self.grad += ...` "
                "and `other.grad += ...`; `=` keeps only the last one.", output="grad_x"),
    ],
    "value_mul": [
        mistake(lambda a, b, upstream: a * upstream, "each factor's gradient is the OTHER factor times out.grad: "
                "self.grad += other.data * out.grad.", output="grad_a"),
        mistake(lambda a, b, upstream: b * upstream, "each factor's gradient is the OTHER factor times out.grad: "
                "other.grad += self.data * out.grad.", output="grad_b"),
        mistake(lambda a, b, upstream: b, "multiply by out.grad, the gradient arriving from above (chain rule).",
                output="grad_a"),
    ],
    "value_mul_self": [
        mistake(lambda x, upstream: x * upstream, "x * x sends a gradient to x twice: accumulate with +=, "
                "so that x.grad = 2 x out.grad.", output="grad_x"),
    ],
    "value_pow": [
        mistake(lambda x, k, upstream: x ** (k - 1) * upstream, "d(x**k)/dx = k * x**(k - 1): the factor k is missing.",
                output="grad_x"),
        mistake(lambda x, k, upstream: k * x ** k * upstream, "d(x**k)/dx = k * x**(k - 1): the exponent drops by one.",
                output="grad_x"),
        mistake(lambda x, k, upstream: k * x ** (k - 1), "multiply by out.grad, the gradient arriving from above.",
                output="grad_x"),
    ],
    "value_tanh": [
        mistake(lambda x, upstream: (1 - x ** 2) * upstream, "1 - t**2 needs t = tanh(x), the output, not x.",
                output="grad_x"),
        mistake(lambda x, upstream: 1 - _tanh(x) ** 2, "multiply by out.grad, the gradient arriving from above.",
                output="grad_x"),
    ],
    "value_relu": [
        mistake(lambda x, upstream: (x >= 0) * upstream,
                "at 0 exactly use derivative 0, as PyTorch does: (self.data > 0), not >= 0.", output="grad_x"),
        mistake(lambda x, upstream: (x > 0) * 1.0, "multiply by out.grad, the gradient arriving from above.",
                output="grad_x"),
    ],
    "value_backward": [
        mistake(_program_with(_backward_without_seed), "all gradients are 0: set self.grad = 1.0 "
                "(d self / d self) before running the local backward functions.", output="grad", select=_grad),
        mistake(_program_with(_backward_recursive), "a node used twice passed on its gradient before it was complete "
                "(and more than once): build a topological order first, then run each node's local_backward "
                "once, in reverse order.", output="grad", select=_grad),
        mistake(_program_with(_backward_with_repeats), "shared nodes appear several times in your order: keep a "
                "`visited` set so that each node is added (and its local_backward run) once.", output="grad", select=_grad),
        mistake(_program_with(_backward_unordered), "each node must run its local_backward only after every node "
                "that uses it has (reverse TOPOLOGICAL order); a plain depth-first walk does not ensure that.",
                output="grad", select=_grad),
    ],
}
