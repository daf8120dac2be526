"""Training an MLP from the solved NumPy building blocks: the loop chapters 4, 6 and 7 reuse."""

from __future__ import annotations

import numpy as np

from .backprop import mlp_backward
from .gradient_descent import minibatches
from .losses import cross_entropy, cross_entropy_grad, mse, mse_grad
from .networks import mlp_forward

LOSSES = {"cross_entropy": (cross_entropy, cross_entropy_grad), "mse": (mse, mse_grad)}


def evaluate(params, X, y, loss: str = "cross_entropy", activation: str = "relu") -> dict[str, float]:
    """Loss (and accuracy, for classification) of the MLP on (X, y)."""
    output, _ = mlp_forward(X, params, activation)
    result = {"loss": LOSSES[loss][0](output, y)}
    if loss == "cross_entropy":
        result["accuracy"] = float(np.mean(output.argmax(axis=1) == y))
    return result


def fit_mlp(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, optimizer, *, epochs: int,
            batch_size: int, loss: str = "cross_entropy", activation: str = "relu", seed: int = 0,
            validation: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, list[float]]:
    """Train ``params`` in place with mini-batches (epoch e shuffled with seed + e) and ``optimizer.step``.

    Returns the history: per epoch the mean training loss over the batches, and the validation
    loss (and accuracy) when ``validation`` is given.
    """
    loss_fn, loss_grad = LOSSES[loss]
    history: dict[str, list[float]] = {"loss": []}
    for epoch in range(epochs):
        batch_losses = []
        for X_batch, y_batch in minibatches(X, y, batch_size, seed=seed + epoch):
            output, caches = mlp_forward(X_batch, params, activation)
            batch_losses.append(loss_fn(output, y_batch))
            optimizer.step(params, mlp_backward(loss_grad(output, y_batch), caches, params, activation))
        history["loss"].append(float(np.mean(batch_losses)))
        if validation is not None:
            for key, value in evaluate(params, *validation, loss=loss, activation=activation).items():
                history.setdefault(f"val_{key}", []).append(value)
    return history
