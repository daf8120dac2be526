"""Chapter 1 (networks), solved: activations, dense layer, initialisation, MLP forward."""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))  # never overflows: the argument is <= 0
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def tanh(x: np.ndarray) -> np.ndarray:
    e = np.exp(-2.0 * np.abs(x))
    return np.sign(x) * -np.expm1(-2.0 * np.abs(x)) / (1.0 + e)


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


ACTIVATIONS = {"relu": relu, "tanh": tanh, "sigmoid": sigmoid}


def dense_forward(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    return X @ W.T + b


def init_params(layer_sizes: list[int], method: str = "he", seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    params = {}
    for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        std = np.sqrt(2.0 / n_in) if method == "he" else np.sqrt(2.0 / (n_in + n_out))
        params[f"W{layer}"] = rng.normal(0.0, std, size=(n_out, n_in))
        params[f"b{layer}"] = np.zeros(n_out)
    return params


def mlp_forward(X: np.ndarray, params: dict[str, np.ndarray], activation: str = "relu"):
    n_layers = len(params) // 2
    caches, A = [], X
    for layer in range(1, n_layers + 1):
        Z = A @ params[f"W{layer}"].T + params[f"b{layer}"]
        caches.append((A, Z))
        A = ACTIVATIONS[activation](Z) if layer < n_layers else Z
    return A, caches


def count_params(layer_sizes: list[int]) -> int:
    return sum(n_out * n_in + n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))
