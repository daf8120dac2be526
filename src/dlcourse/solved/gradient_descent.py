"""Chapter 3 (gradient descent), solved: mini-batches and the plain gradient-descent step."""

from __future__ import annotations

from typing import Iterator

import numpy as np


def minibatches(X: np.ndarray, y: np.ndarray, batch_size: int, seed: int | None = 0,
                shuffle: bool = True) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(X_batch, y_batch) pairs covering every example once, in an order shuffled by ``seed``;
    the last batch is smaller when ``batch_size`` does not divide N."""
    n = X.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"X and y hold different numbers of examples: {n} and {y.shape[0]}")
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        yield X[index], y[index]


def gd_step(params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float) -> None:
    """params[k] -= lr * grads[k] for every parameter, in place."""
    for key, grad in grads.items():
        params[key] -= lr * grad
