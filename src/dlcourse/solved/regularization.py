"""Chapter 7 (training in practice), solved: L2 penalty and its gradient, inverted dropout, early stopping,
the train/validation split and normalisation with training statistics; plus an MLP pass with dropout
between the hidden layers, which :func:`dlcourse.solved.training.fit_mlp` uses."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .backprop import ACTIVATION_BACKWARDS, dense_backward
from .networks import ACTIVATIONS, dense_forward


def l2_penalty(params: dict[str, np.ndarray], lam: float) -> float:
    """(lam / 2) * the sum of the squares of every weight matrix W1, W2, ... (biases are not penalised)."""
    return 0.5 * lam * sum(np.sum(W * W) for key, W in params.items() if key.startswith("W"))


def l2_grad(grads: dict[str, np.ndarray], params: dict[str, np.ndarray], lam: float) -> dict[str, np.ndarray]:
    """The gradients of data loss + l2_penalty: lam * W added to each weight's gradient, biases unchanged (a new dict)."""
    return {key: g + lam * params[key] if key.startswith("W") else g.copy() for key, g in grads.items()}


def dropout_mask(shape: tuple[int, ...], p: float, rng: np.random.Generator) -> np.ndarray:
    """A boolean mask keeping each unit with probability 1 - p."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"the dropout probability p must be in [0, 1), got {p!r}")
    return rng.random(shape) >= p


def dropout_forward(X: np.ndarray, mask: np.ndarray, p: float) -> np.ndarray:
    """Inverted dropout in training mode: zero the dropped units and scale the kept ones by 1 / (1 - p)."""
    return X * mask / (1.0 - p)


def dropout_backward(dout: np.ndarray, mask: np.ndarray, p: float) -> np.ndarray:
    """dL/dX of inverted dropout, given dL/d(output) and the mask of the forward pass."""
    return dout * mask / (1.0 - p)


def early_stopping(val_losses, patience: int) -> tuple[int, int]:
    """(best_epoch, stop_epoch) for a validation curve seen one epoch at a time.

    An epoch improves when its loss is strictly below every earlier one. Training stops at the first
    epoch that comes ``patience`` epochs after the last improvement (or at the last epoch if that never
    happens); ``best_epoch`` is the last improvement up to then, the weights to keep.
    """
    best, best_loss = 0, np.inf
    for epoch, loss in enumerate(val_losses):
        if loss < best_loss:
            best, best_loss = epoch, loss
        elif epoch - best >= patience:
            return best, epoch
    return best, len(val_losses) - 1


def train_val_split(X: np.ndarray, y: np.ndarray, val_fraction: float, seed: int = 0):
    """(X_train, y_train, X_val, y_val): a seeded shuffle, then int(val_fraction * N) examples for validation."""
    n = X.shape[0]
    n_val = int(val_fraction * n)
    order = np.random.default_rng(seed).permutation(n)
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]


def normalize(X_train: np.ndarray, X_other: np.ndarray, eps: float = 1e-5):
    """Each feature (column) standardised with the mean and (biased) variance of the TRAINING data only:
    (X - mean) / sqrt(var + eps), for X_train and for X_other (validation or test data)."""
    mean = X_train.mean(axis=0)
    scale = np.sqrt(X_train.var(axis=0) + eps)
    return (X_train - mean) / scale, (X_other - mean) / scale


# --- an MLP with dropout on its hidden layers ---------------------------------------------


def dropout_mlp_forward(
    X: np.ndarray,
    params: dict[str, np.ndarray],
    masks: list[np.ndarray],
    p: float,
    activation: str = "relu",
    dropout: Callable = dropout_forward,
):
    """Like :func:`dlcourse.solved.networks.mlp_forward`, with ``dropout(A, masks[l], p)`` after each hidden
    activation. Returns (output, caches) with caches[l] = (input of layer l+1 after dropout, its Z)."""
    n_layers = len(params) // 2
    if len(masks) != n_layers - 1:
        raise ValueError(f"an MLP with {n_layers} layers needs {n_layers - 1} dropout masks, got {len(masks)}")
    caches, A = [], X
    for layer in range(1, n_layers + 1):
        Z = dense_forward(A, params[f"W{layer}"], params[f"b{layer}"])
        caches.append((A, Z))
        A = dropout(ACTIVATIONS[activation](Z), masks[layer - 1], p) if layer < n_layers else Z
    return A, caches


def dropout_mlp_backward(
    dout: np.ndarray,
    caches: list,
    params: dict[str, np.ndarray],
    masks: list[np.ndarray],
    p: float,
    activation: str = "relu",
    dropout_back: Callable = dropout_backward,
):
    """The gradients of :func:`dropout_mlp_forward`'s parameters from dL/d(output)."""
    grads, dZ = {}, dout
    for layer in range(len(caches), 0, -1):
        A_prev, _ = caches[layer - 1]
        dA_prev, grads[f"W{layer}"], grads[f"b{layer}"] = dense_backward(dZ, A_prev, params[f"W{layer}"])
        if layer > 1:
            dZ = ACTIVATION_BACKWARDS[activation](dropout_back(dA_prev, masks[layer - 2], p), caches[layer - 2][1])
    return grads


# --- batch normalisation (chapter 7, section 9) ---------------------------------------------


def batchnorm_forward(
    X: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """nn.BatchNorm1d on X (N, D): (output, new running_mean, new running_var)."""
    if training:
        n = X.shape[0]
        mean, var = X.mean(axis=0), X.var(axis=0)
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    else:
        mean, var = running_mean, running_var
    out = gamma * (X - mean) / np.sqrt(var + eps) + beta
    return out, running_mean, running_var


def batchnorm_backward(dout: np.ndarray, X: np.ndarray, gamma: np.ndarray, eps: float = 1e-5):
    """(dX, dgamma, dbeta) of batchnorm_forward in training mode (batch statistics), given dL/d(output)."""
    n = X.shape[0]
    inv_std = 1.0 / np.sqrt(X.var(axis=0) + eps)
    X_hat = (X - X.mean(axis=0)) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * X_hat).sum(axis=0)
    dX_hat = dout * gamma
    dX = inv_std / n * (n * dX_hat - dX_hat.sum(axis=0) - X_hat * (dX_hat * X_hat).sum(axis=0))
    return dX, dgamma, dbeta
