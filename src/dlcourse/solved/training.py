"""Training an MLP from the solved NumPy building blocks: the loop chapters 4, 6 and 7 reuse.

Chapter 7 adds regularisation as options that are off by default: ``l2`` (an L2 penalty on the
weights), ``dropout`` (inverted dropout after every hidden activation), ``patience`` (early stopping on
the validation loss, keeping the best weights), ``evaluate_train`` (the training set's loss measured
after each epoch, as the validation loss is) and ``blocks`` (your own versions of the chapter-7 pieces).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import regularization
from .backprop import mlp_backward_fast as mlp_backward  # the same gradients as the notebook's, faster (tested)
from .gradient_descent import minibatches
from .losses import cross_entropy, cross_entropy_grad, mse, mse_grad
from .networks import mlp_forward
from .regularization import early_stopping

LOSSES = {"cross_entropy": (cross_entropy, cross_entropy_grad), "mse": (mse, mse_grad)}
BLOCKS = ("l2_grad", "dropout_forward", "dropout_backward", "early_stopping")


def evaluate(params, X, y, loss: str = "cross_entropy", activation: str = "relu") -> dict[str, float]:
    """Loss (and accuracy, for classification) of the MLP on (X, y)."""
    output, _ = mlp_forward(X, params, activation)
    result = {"loss": LOSSES[loss][0](output, y)}
    if loss == "cross_entropy":
        result["accuracy"] = float(np.mean(output.argmax(axis=1) == y))
    return result


def fit_mlp(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    optimizer,
    *,
    epochs: int,
    batch_size: int,
    loss: str = "cross_entropy",
    activation: str = "relu",
    seed: int = 0,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    l2: float = 0.0,
    dropout: float = 0.0,
    patience: int | None = None,
    evaluate_train: bool = False,
    blocks: dict[str, Callable] | None = None,
) -> dict[str, Any]:
    """Train ``params`` in place with mini-batches (epoch e shuffled with seed + e) and ``optimizer.step``.

    Returns the history: per epoch the mean training loss over the batches (the data loss, without the
    penalty, measured while dropout is active), and the validation loss (and accuracy) when ``validation``
    is given. Options (all off by default):

    * ``l2``: add ``l2 / 2 * sum ||W||^2`` over the weight matrices to the loss (its gradient ``l2 * W``);
    * ``dropout``: the probability of dropping each hidden unit in training (masks seeded by ``seed``);
    * ``patience``: stop when the validation loss has not improved for that many epochs, and put the
      weights of the best epoch back into ``params``; the history gains ``best_epoch`` and ``stopped_epoch``;
    * ``evaluate_train``: also record ``train_loss`` (and ``train_accuracy``) on the whole training set
      after each epoch, without dropout, comparable with the validation curve;
    * ``blocks``: replacements for the solved ``l2_grad``, ``dropout_forward``, ``dropout_backward`` and
      ``early_stopping`` of :mod:`dlcourse.solved.regularization` (for example your own).
    """
    blocks = dict(blocks or {})
    unknown = set(blocks) - set(BLOCKS)
    if unknown:
        raise ValueError(f"unknown blocks {sorted(unknown)}; fit_mlp can use your {', '.join(BLOCKS)}")
    if patience is not None and (validation is None or patience < 1):
        raise ValueError("early stopping (patience=...) needs validation data and a patience of at least 1 epoch")
    l2_grad = blocks.get("l2_grad", regularization.l2_grad)
    early_stopping = blocks.get("early_stopping", regularization.early_stopping)
    loss_fn, loss_grad = LOSSES[loss]
    mask_rng = np.random.default_rng([seed, 7])
    n_hidden = len(params) // 2 - 1
    history: dict[str, Any] = {"loss": []}
    best_params = None
    for epoch in range(epochs):
        batch_losses = []
        for X_batch, y_batch in minibatches(X, y, batch_size, seed=seed + epoch):
            if dropout:
                masks = [
                    regularization.dropout_mask((X_batch.shape[0], params[f"b{layer}"].shape[0]), dropout, mask_rng)
                    for layer in range(1, n_hidden + 1)
                ]
                output, caches = regularization.dropout_mlp_forward(
                    X_batch,
                    params,
                    masks,
                    dropout,
                    activation,
                    dropout=blocks.get("dropout_forward", regularization.dropout_forward),
                )
                grads = regularization.dropout_mlp_backward(
                    loss_grad(output, y_batch),
                    caches,
                    params,
                    masks,
                    dropout,
                    activation,
                    dropout_back=blocks.get("dropout_backward", regularization.dropout_backward),
                )
            else:
                output, caches = mlp_forward(X_batch, params, activation)
                grads = mlp_backward(loss_grad(output, y_batch), caches, params, activation)
            batch_losses.append(loss_fn(output, y_batch))
            optimizer.step(params, l2_grad(grads, params, l2) if l2 else grads)
        history["loss"].append(float(np.mean(batch_losses)))
        if evaluate_train:
            for key, value in evaluate(params, X, y, loss=loss, activation=activation).items():
                history.setdefault(f"train_{key}", []).append(value)
        if validation is not None:
            for key, value in evaluate(params, *validation, loss=loss, activation=activation).items():
                history.setdefault(f"val_{key}", []).append(value)
        if patience is not None:
            best = early_stopping(history["val_loss"], patience)[0]
            if best == epoch:
                best_params = {key: value.copy() for key, value in params.items()}
            history["best_epoch"], history["stopped_epoch"] = int(best), epoch
            if epoch - best >= patience:
                break
    if best_params is not None:
        for key, value in best_params.items():
            params[key][...] = value
    return history


def train_mlp(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    optimizer,
    epochs: int,
    batch_size: int,
    seed: int = 0,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    patience: int | None = None,
) -> dict[str, Any]:
    """Chapter 7's graded training loop (ReLU MLP, cross-entropy), training ``params`` in place.

    Epoch e visits ``minibatches(X, y, batch_size, seed=seed + e)``; each step records the batch's loss (before
    the step) and calls ``optimizer.step(params, grads)``. After each epoch the validation loss is recorded
    (when ``validation`` is given). With ``patience``, ``early_stopping`` decides after each epoch; training
    stops there and the weights of the best epoch are put back. Returns ``{"loss": [one per step],
    "val_loss": [one per epoch], "best_epoch": ...}`` (the last two only when they apply).
    """
    history = {"loss": []}
    if validation is not None:
        history["val_loss"] = []
    best_params = None
    for epoch in range(epochs):
        for X_batch, y_batch in minibatches(X, y, batch_size, seed=seed + epoch):
            logits, caches = mlp_forward(X_batch, params)
            history["loss"].append(cross_entropy(logits, y_batch))
            grads = mlp_backward(cross_entropy_grad(logits, y_batch), caches, params)
            optimizer.step(params, grads)
        if validation is not None:
            X_val, y_val = validation
            history["val_loss"].append(cross_entropy(mlp_forward(X_val, params)[0], y_val))
        if patience is not None:
            best_epoch = early_stopping(history["val_loss"], patience)[0]
            history["best_epoch"] = best_epoch
            if best_epoch == epoch:
                best_params = {key: value.copy() for key, value in params.items()}
            if epoch - best_epoch >= patience:
                break
    if best_params is not None:
        for key, value in best_params.items():
            params[key][...] = value
    return history
