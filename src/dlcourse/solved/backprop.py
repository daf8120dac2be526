"""Chapter 2 (backprop), solved: backward passes of the activations, the dense layer and the MLP;
numerical gradients and the relative error used to compare gradients.

Each function is the notebook's own code. :func:`mlp_backward_fast` is a deliberately faster variant of
:func:`mlp_backward` (it skips the gradient of the network's input); a unit test proves they agree.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .networks import sigmoid, tanh


def sigmoid_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dL/dZ for A = sigmoid(Z), given the upstream gradient dA = dL/dA."""
    s = sigmoid(Z)
    return dA * s * (1.0 - s)


def tanh_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dL/dZ for A = tanh(Z), given dA = dL/dA."""
    return dA * (1.0 - tanh(Z) ** 2)


def relu_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dL/dZ for A = relu(Z), given dA = dL/dA (derivative 0 at Z = 0, as in PyTorch)."""
    return dA * (Z > 0)


ACTIVATION_BACKWARDS = {"relu": relu_backward, "tanh": tanh_backward, "sigmoid": sigmoid_backward}


def dense_backward(dY: np.ndarray, X: np.ndarray, W: np.ndarray):
    """Gradients (dX, dW, db) of a dense layer Y = X @ W.T + b, given dY = dL/dY."""
    dX = dY @ W
    dW = dY.T @ X
    db = dY.sum(axis=0)
    return dX, dW, db


def dense_param_grads(dY: np.ndarray, X: np.ndarray):
    """(dW, db) for Y = X W^T + b: dense_backward without dX, for a layer whose input needs no gradient."""
    return dY.T @ X, dY.sum(axis=0)


def mlp_backward(
    dout: np.ndarray, caches: list, params: dict[str, np.ndarray], activation: str = "relu"
) -> dict[str, np.ndarray]:
    """Gradients of every W and b of an MLP, from dL/d(output) and the caches of mlp_forward."""
    grads, n_layers = {}, len(caches)
    dZ = dout  # no activation after the last layer
    for layer in range(n_layers, 0, -1):
        A_prev, _ = caches[layer - 1]
        dA_prev, grads[f"W{layer}"], grads[f"b{layer}"] = dense_backward(dZ, A_prev, params[f"W{layer}"])
        if layer > 1:
            Z_below = caches[layer - 2][1]
            dZ = ACTIVATION_BACKWARDS[activation](dA_prev, Z_below)
    return grads


def mlp_backward_fast(
    dout: np.ndarray, caches: list, params: dict[str, np.ndarray], activation: str = "relu"
) -> dict[str, np.ndarray]:
    """:func:`mlp_backward` without the gradient of the network's input (dZ @ W1, the largest product of the
    backward pass, which PyTorch's autograd skips too for an input without requires_grad): the same gradients."""
    grads, n_layers = {}, len(caches)
    dZ = dout
    for layer in range(n_layers, 1, -1):
        A_prev, _ = caches[layer - 1]
        dA_prev, grads[f"W{layer}"], grads[f"b{layer}"] = dense_backward(dZ, A_prev, params[f"W{layer}"])
        dZ = ACTIVATION_BACKWARDS[activation](dA_prev, caches[layer - 2][1])
    if n_layers:
        grads["W1"], grads["b1"] = dense_param_grads(dZ, caches[0][0])
    return grads


def numerical_gradient(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray | None = None, eps: float = 1e-6
) -> np.ndarray:
    """Centred-difference gradient of sum(f(x) * dout) with respect to x (dout defaults to ones)."""
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = np.array(f(x), dtype=np.float64)
        x[index] = original - eps
        minus = np.array(f(x), dtype=np.float64)
        x[index] = original
        weights = np.ones_like(plus) if dout is None else dout
        grad[index] = np.sum((plus - minus) * weights) / (2.0 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest entry-wise relative error between two arrays of the same shape."""
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))
