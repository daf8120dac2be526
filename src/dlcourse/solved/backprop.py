"""Chapter 2 (backprop), solved: backward passes of the activations, the dense layer and the MLP;
numerical gradients and the relative error used to compare gradients."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .networks import sigmoid, tanh


def sigmoid_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dL/dZ for A = sigmoid(Z), given dL/dA."""
    s = sigmoid(Z)
    return dA * s * (1.0 - s)


def tanh_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dL/dZ for A = tanh(Z), given dL/dA."""
    return dA * (1.0 - tanh(Z) ** 2)


def relu_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """dL/dZ for A = relu(Z), given dL/dA (the derivative at 0 is taken as 0, as PyTorch does)."""
    return dA * (Z > 0)


ACTIVATION_BACKWARDS = {"relu": relu_backward, "tanh": tanh_backward, "sigmoid": sigmoid_backward}


def dense_backward(dY: np.ndarray, X: np.ndarray, W: np.ndarray):
    """(dX, dW, db) for Y = X W^T + b, given dY = dL/dY of shape (N, n_out)."""
    return (dY @ W, *dense_param_grads(dY, X))


def dense_param_grads(dY: np.ndarray, X: np.ndarray):
    """(dW, db) for Y = X W^T + b: dense_backward without dX, for a layer whose input needs no gradient."""
    return dY.T @ X, dY.sum(axis=0)


def mlp_backward(dout: np.ndarray, caches: list, params: dict[str, np.ndarray], activation: str = "relu") -> dict[str, np.ndarray]:
    """Gradients {"W1": ..., "b1": ..., ...} of an MLP from dL/d(output) and the caches of ``mlp_forward``."""
    grads, n_layers = {}, len(caches)
    dZ = dout
    for layer in range(n_layers, 1, -1):
        A_prev, _ = caches[layer - 1]
        dA_prev, grads[f"W{layer}"], grads[f"b{layer}"] = dense_backward(dZ, A_prev, params[f"W{layer}"])
        dZ = ACTIVATION_BACKWARDS[activation](dA_prev, caches[layer - 2][1])
    # The first layer's input is the data, which needs no gradient: skipping dZ @ W1 (as PyTorch's
    # autograd does for tensors without requires_grad) saves the largest product of the backward pass.
    if n_layers:
        grads["W1"], grads["b1"] = dense_param_grads(dZ, caches[0][0])
    return grads


def numerical_gradient(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray | None = None,
                       eps: float = 1e-6) -> np.ndarray:
    """Centred-difference gradient of sum(f(x) * dout) with respect to x (dout defaults to ones).

    ``x`` is changed one entry at a time and restored, so ``f`` may read it by reference.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"numerical_gradient needs x as a float array (it is nudged by eps in place), "
                        f"got {type(x).__name__}{' of dtype ' + str(x.dtype) if isinstance(x, np.ndarray) else ''}")
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = np.asarray(f(x), dtype=np.float64).copy()
        x[index] = original - eps
        minus = np.asarray(f(x), dtype=np.float64).copy()
        x[index] = original
        if dout is not None and np.shape(dout) != plus.shape:
            raise ValueError(f"dout must have the shape of f(x), {plus.shape}, got {np.shape(dout)}")
        weights = np.ones_like(plus) if dout is None else dout
        grad[index] = np.sum((plus - minus) * weights) / (2.0 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(|a| + |b|, 1e-8): about 1e-7 or less when two gradients agree."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error compares arrays of the same shape, got {a.shape} and {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))
