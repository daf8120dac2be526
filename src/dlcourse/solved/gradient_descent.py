"""Chapter 3 (gradient descent), solved: mini-batches, the plain gradient-descent step, the losses and
gradients of linear and logistic regression, and the training loop that records the parameter trajectory.

A model here is a dict ``{"W": (1, d), "b": (1,)}`` (``nn.Linear(d, 1)``'s layout); its prediction for a
batch ``X`` of shape (N, d) is ``(X @ W.T + b)[:, 0]``, compared with targets ``y`` of shape (N,).
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from .losses import bce_with_logits
from .networks import sigmoid

METHODS = ("batch", "stochastic", "minibatch")

LossAndGrads = Callable[[dict, np.ndarray, np.ndarray], tuple[float, dict]]


def minibatches(X: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None = 0,
                shuffle: bool = True) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(X_batch, y_batch) pairs covering every example once, in the order
    ``np.random.default_rng(seed).permutation(N)`` (or 0..N-1 when ``shuffle`` is False);
    the last batch is smaller when ``batch_size`` does not divide N."""
    check_batch_arguments(X, y, batch_size)
    n = len(X)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        yield X[index], y[index]


def check_batch_arguments(X, y, batch_size) -> None:
    """Raise a ValueError saying what is wrong when X and y hold different numbers of examples
    or ``batch_size`` is not a positive integer."""
    if np.ndim(X) < 1 or np.ndim(y) < 1:
        raise ValueError(f"X and y must be arrays with one example per row, got shapes {np.shape(X)} and {np.shape(y)}")
    if len(X) != len(y):
        raise ValueError(f"X and y hold different numbers of examples: {len(X)} and {len(y)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")


def gd_step(params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float) -> None:
    """params[k] -= lr * grads[k] for every parameter that has a gradient, in place
    (parameters without a gradient stay as they are, as in torch.optim.SGD)."""
    unknown = set(grads) - set(params)
    if unknown:
        raise KeyError(f"gradients for unknown parameters {sorted(unknown)}; the parameters are {sorted(params)}")
    for key, grad in grads.items():
        if np.shape(grad) != np.shape(params[key]):
            raise ValueError(f"the gradient of {key!r} has shape {np.shape(grad)}, the parameter {np.shape(params[key])}")
        params[key] -= lr * grad


def linear_predict(params: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """(N,) predictions (X @ W.T + b)[:, 0] of the one-output linear model."""
    return (X @ params["W"].T + params["b"])[:, 0]


def linear_regression_grads(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray):
    """(loss, grads): the mean squared error of the linear model on (X, y) and its gradients
    {"W": (1, d), "b": (1,)}."""
    residual = linear_predict(params, X) - y            # (N,)
    n = len(y)
    loss = float(np.mean(residual ** 2))
    return loss, {"W": (2.0 / n) * (residual @ X)[None, :], "b": np.array([2.0 / n * residual.sum()], dtype=residual.dtype)}


def logistic_regression_grads(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray):
    """(loss, grads): the mean binary cross-entropy of the logits (X @ W.T + b)[:, 0] against 0/1 targets y,
    computed without overflow, and its gradients {"W": (1, d), "b": (1,)}."""
    logits = linear_predict(params, X)
    error = sigmoid(logits) - y                         # d loss / d logit, times N
    n = len(y)
    return bce_with_logits(logits, y), {"W": (error @ X)[None, :] / n, "b": np.array([error.sum() / n], dtype=error.dtype)}


def batch_size_for(method: str, n_examples: int, batch_size: int) -> int:
    """How many examples one step uses: all of them (batch), one (stochastic) or ``batch_size`` (minibatch)."""
    sizes = {"batch": n_examples, "stochastic": 1, "minibatch": batch_size}
    if method not in sizes:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return sizes[method]


def gradient_descent(loss_and_grads: LossAndGrads, X: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray], *,
                     method: str = "minibatch", lr: float = 0.1, epochs: int = 1, batch_size: int = 32,
                     seed: int = 0) -> dict[str, np.ndarray]:
    """Train a copy of ``params`` with plain gradient descent; return the trajectory
    {name: array (1 + number of steps, *shape)}: row 0 the start, row t the parameters after step t.

    Epoch e visits the batches ``minibatches(X, y, size, seed=seed + e)`` with the size
    :func:`batch_size_for` gives for ``method``; every batch makes one step of ``gd_step``.
    """
    size = batch_size_for(method, len(X), batch_size)
    params = {key: value.copy() for key, value in params.items()}
    trajectory = [{key: value.copy() for key, value in params.items()}]
    for epoch in range(epochs):
        for X_batch, y_batch in minibatches(X, y, size, seed=seed + epoch):
            _, grads = loss_and_grads(params, X_batch, y_batch)
            gd_step(params, grads, lr)
            trajectory.append({key: value.copy() for key, value in params.items()})
    return {key: np.stack([step[key] for step in trajectory]) for key in params}


def fit_linear_regression(X, y, params, **options) -> dict[str, np.ndarray]:
    """:func:`gradient_descent` on the mean squared error of the linear model."""
    return gradient_descent(linear_regression_grads, X, y, params, **options)


def fit_logistic_regression(X, y, params, **options) -> dict[str, np.ndarray]:
    """:func:`gradient_descent` on the binary cross-entropy of logistic regression."""
    return gradient_descent(logistic_regression_grads, X, y, params, **options)


def loss_along(loss_and_grads: LossAndGrads, trajectory: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray,
               every: int = 1) -> np.ndarray:
    """The loss on the whole of (X, y) at every ``every``-th row of a trajectory."""
    n_rows = len(next(iter(trajectory.values())))
    return np.array([loss_and_grads({k: v[row] for k, v in trajectory.items()}, X, y)[0]
                     for row in range(0, n_rows, every)])
