"""Chapter 7's training loop (``train_mlp``): the mistakes learners make, each recognised by computing it.

Every wrong loop takes the checked function's arguments (those of :func:`dlcourse.cases.training.run_train_mlp`'s
adapter: params, X, y, (optimizer name, options), epochs, batch_size, seed, validation, patience) and returns the
whole result, computed with the course's solved blocks and one thing changed.
"""

from __future__ import annotations

import numpy as np

from ..solved.backprop import mlp_backward
from ..solved.gradient_descent import minibatches
from ..solved.losses import cross_entropy, cross_entropy_grad
from ..solved.networks import mlp_forward
from ..solved.optimizers import SGD, Adam
from ..solved.regularization import early_stopping
from . import Hint, Mismatch, mistake

_OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def _loop(
    params,
    X,
    y,
    optimizer,
    epochs,
    batch_size,
    seed=0,
    validation=None,
    patience=None,
    *,
    same_seed=False,
    restore=True,
    val_on_train=False,
    late=False,
    epoch_means=False,
):
    """The training loop with one mistake switched on."""
    name, options = optimizer
    opt = _OPTIMIZERS[name](**options)
    params = {key: np.array(value) for key, value in params.items()}
    losses, val_losses, best, best_params = [], [], None, None
    for epoch in range(epochs):
        epoch_losses = []
        for X_batch, y_batch in minibatches(X, y, batch_size, seed=seed if same_seed else seed + epoch):
            logits, caches = mlp_forward(X_batch, params)
            epoch_losses.append(cross_entropy(logits, y_batch))
            opt.step(params, mlp_backward(cross_entropy_grad(logits, y_batch), caches, params))
        losses += [float(np.mean(epoch_losses))] if epoch_means else epoch_losses
        if validation is not None:
            X_val, y_val = (X, y) if val_on_train else validation
            val_losses.append(cross_entropy(mlp_forward(X_val, params)[0], y_val))
        if patience is not None:
            best = early_stopping(val_losses, patience)[0]
            if best == epoch:
                best_params = {key: value.copy() for key, value in params.items()}
            if epoch - best >= patience + (1 if late else 0):
                break
    if restore and best_params is not None:
        params = best_params
    result = {"loss": np.array(losses)}
    if validation is not None:
        result["val_loss"] = np.array(val_losses)
    if patience is not None:
        result["best_epoch"] = np.int64(best)
    result["params"] = params
    return result


def _steps_per_epoch(m: Mismatch) -> int:
    X, batch_size = m.args[1], m.args[5]
    return -(-len(X) // batch_size)


def _per_epoch(m: Mismatch) -> bool:
    return (
        m.keys == ("loss",)
        and np.ndim(m.got) == 1
        and np.ndim(m.expected) == 1
        and len(m.got) * _steps_per_epoch(m) == len(m.expected) != len(m.got)
    )


def _one_epoch_too_long(m: Mismatch) -> bool:
    return (
        m.keys == ("loss",)
        and np.ndim(m.got) == 1
        and len(m.got) > len(m.expected)
        and m.kwargs.get("patience") is not None
    )


train_mlp = [
    mistake(
        lambda *a, **k: _loop(*a, **k, same_seed=True),
        "every epoch visits the batches in the same order: epoch e must shuffle with seed + e "
        "(minibatches(X, y, batch_size, seed=seed + e)), as the PyTorch loop does.",
    ),
    mistake(
        lambda *a, **k: _loop(*a, **k, restore=False),
        "training stopped at the right epoch, but the weights are the last epoch's: put back the weights of "
        "the best epoch, a copy taken at that epoch (a dict that refers to the same arrays changes with them).",
        output="params",
    ),
    mistake(
        lambda *a, **k: _loop(*a, **k, val_on_train=True),
        "the validation loss was measured on the training data: evaluate on validation = (X_val, y_val).",
    ),
    Hint(
        "history['loss'] holds one entry per epoch; it must hold one per STEP (mini-batch), in order: the "
        "batch's mean loss before that step's update.",
        _per_epoch,
    ),
    Hint(
        "more steps than the PyTorch loop: with patience, stop right after the epoch where epoch - best_epoch "
        ">= patience (your early_stopping's rule).",
        _one_epoch_too_long,
    ),
]
