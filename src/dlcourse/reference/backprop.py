"""PyTorch references for chapter 2 (backprop): every gradient comes from ``torch.autograd`` in float64 on
:func:`dlcourse.device.get_device`, on the same inputs and weights as the NumPy code.

Gradient checking: :func:`numerical_gradient` is the centred difference computed by PyTorch on the torch side of a
:class:`dlcourse.cases.backprop.TwinFunction`; the test functions themselves and the other inputs and adapters are
in :mod:`dlcourse.cases.backprop`; E5's PyTorch training run is in :mod:`dlcourse.demos.backprop`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..device import get_device, to_numpy, to_tensor
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


def mlp_loss_gradients(
    params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, activation: str = "tanh", loss: str = "cross_entropy"
):
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

# --- gradient checking ------------------------------------------------------------------------


def numerical_gradient(f, x: np.ndarray, dout: np.ndarray | None = None, eps: float = 1e-6) -> np.ndarray:
    """The centred difference sum((f(x + eps e_k) - f(x - eps e_k)) * dout) / (2 eps) for every entry k, computed
    by PyTorch on ``f.torch_fn`` (a :class:`dlcourse.cases.backprop.TwinFunction`), x nudged as the learner's is.

    Not the exact derivative from autograd: with a large ``eps`` the centred difference differs from it by its
    truncation error (eps**2 f'''(x) / 6), and a test must see whether the learner's function used the ``eps`` it
    was given. Rounding aside (about 1e-16 |f| / eps), this is what a right ``numerical_gradient`` returns.
    """
    torch_fn = getattr(f, "torch_fn", None)
    if torch_fn is None:
        raise TypeError(f"the reference needs a TwinFunction (NumPy and PyTorch versions), got {type(f).__name__}")
    xt = to_tensor(np.array(x, dtype=np.float64))
    flat, grad = xt.view(-1), torch.zeros(xt.numel(), dtype=torch.float64, device=xt.device)
    with torch.no_grad():
        for k in range(xt.numel()):
            original = float(flat[k])
            flat[k] = original + eps
            plus = torch_fn(xt).clone()
            flat[k] = original - eps
            minus = torch_fn(xt).clone()
            flat[k] = original
            weights = torch.ones_like(plus) if dout is None else to_tensor(dout)
            grad[k] = ((plus - minus) * weights).sum() / (2.0 * eps)
    return to_numpy(grad.view(xt.shape))


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max over entries of |a - b| / max(|a| + |b|, 1e-8), computed with torch."""
    at, bt = to_tensor(a), to_tensor(b)
    if at.shape != bt.shape:
        raise ValueError(
            f"relative_error compares arrays of the same shape, got {tuple(at.shape)} and {tuple(bt.shape)}"
        )
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
