"""Chapter 3 (gradient descent), solved: mini-batches, the plain gradient-descent step, the losses and
gradients of linear and logistic regression, and the training loop that records the parameter trajectory.

A model here is a dict ``{"W": (1, d), "b": (1,)}`` (``nn.Linear(d, 1)``'s layout); its prediction for a
batch ``X`` of shape (N, d) is ``(X @ W.T + b)[:, 0]``, compared with targets ``y`` of shape (N,).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .networks import sigmoid

METHODS = ("batch", "stochastic", "minibatch")

LossAndGrads = Callable[[dict, np.ndarray, np.ndarray], tuple[float, dict]]


def minibatches(X, y, batch_size, seed=0, shuffle=True):
    """The (X_batch, y_batch) pairs of one epoch, in a seeded shuffled order, the last partial batch kept."""
    if len(X) != len(y):
        raise ValueError(f"X and y hold different numbers of examples: {len(X)} and {len(y)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    n = len(X)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        rows = order[start : start + batch_size]
        yield X[rows], y[rows]


def gd_step(params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float) -> None:
    """One gradient-descent step, in place: params[k] -= lr * grads[k] for every k in grads."""
    for key, grad in grads.items():
        params[key] -= lr * grad


def linear_predict(params: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """(N,) predictions (X @ W.T + b)[:, 0] of the one-output linear model."""
    return (X @ params["W"].T + params["b"])[:, 0]


def linear_regression_grads(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray):
    """Mean squared error of (X @ W.T + b)[:, 0] against y, and its gradients {"W", "b"}."""
    residual = (X @ params["W"].T + params["b"])[:, 0] - y
    n = len(y)
    loss = np.mean(residual**2)
    grads = {"W": 2.0 / n * (residual @ X)[None, :], "b": 2.0 / n * residual.sum(keepdims=True)}
    return loss, grads


def logistic_regression_grads(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray):
    """Mean binary cross-entropy of the logits (X @ W.T + b)[:, 0] against 0/1 targets y, and its gradients."""
    z = (X @ params["W"].T + params["b"])[:, 0]
    n = len(y)
    loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    error = (sigmoid(z) - y) / n
    return loss, {"W": (error @ X)[None, :], "b": error.sum(keepdims=True)}


def gradient_descent(
    loss_and_grads: LossAndGrads,
    X: np.ndarray,
    y: np.ndarray,
    params: dict[str, np.ndarray],
    *,
    method: str = "minibatch",
    lr: float = 0.1,
    epochs: int = 1,
    batch_size: int = 32,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Plain gradient descent on a copy of params; returns {name: (1 + steps, *shape) trajectory}.

    Epoch e visits the batches ``minibatches(X, y, size, seed=seed + e)``, the size being all examples
    (``"batch"``), one (``"stochastic"``) or ``batch_size`` (``"minibatch"``); every batch makes one step of
    ``gd_step``. Row 0 of each trajectory is the start, row t the parameters after step t.
    """
    sizes = {"batch": len(X), "stochastic": 1, "minibatch": batch_size}
    if method not in sizes:
        raise ValueError(f"method must be 'batch', 'stochastic' or 'minibatch', got {method!r}")
    params = {key: value.copy() for key, value in params.items()}
    snapshots = [{key: value.copy() for key, value in params.items()}]
    for epoch in range(epochs):
        for X_batch, y_batch in minibatches(X, y, sizes[method], seed=seed + epoch):
            _, grads = loss_and_grads(params, X_batch, y_batch)
            gd_step(params, grads, lr)
            snapshots.append({key: value.copy() for key, value in params.items()})
    return {key: np.stack([snapshot[key] for snapshot in snapshots]) for key in params}
