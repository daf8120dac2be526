"""Chapter 4 (losses), solved: MSE, softmax / log-softmax, cross-entropy from logits, binary
cross-entropy from logits, and their gradients (all losses are means over the batch)."""

from __future__ import annotations

import numpy as np

from .networks import sigmoid


def mse(pred: np.ndarray, target: np.ndarray) -> float:
    return float(np.mean((pred - target) ** 2))


def mse_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    return 2.0 * (pred - target) / pred.size


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, with the log-sum-exp trick (no overflow)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """softmax over the last axis, stable for any finite logits."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean categorical cross-entropy of (N, C) logits against (N,) integer labels."""
    n = logits.shape[0]
    return float(-log_softmax(logits)[np.arange(n), labels].mean())


def cross_entropy_grad(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """d cross_entropy / d logits = (softmax(logits) - one_hot(labels)) / N."""
    n = logits.shape[0]
    grad = softmax(logits)
    grad[np.arange(n), labels] -= 1.0
    return grad / n


def bce_with_logits(logits: np.ndarray, targets: np.ndarray) -> float:
    """Mean binary cross-entropy of logits against 0/1 targets: max(x, 0) - x y + log(1 + exp(-|x|))."""
    return float(np.mean(np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))))


def bce_with_logits_grad(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return (sigmoid(logits) - targets) / logits.size


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((labels.shape[0], n_classes))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out
