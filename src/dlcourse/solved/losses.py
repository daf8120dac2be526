"""Chapter 4 (losses), solved: MSE, softmax / log-softmax, cross-entropy from logits, binary
cross-entropy from logits, one-hot encoding, and their gradients.

Every loss is the mean over all its terms (PyTorch's ``reduction="mean"``), and every gradient is the
gradient of that mean. Class labels are integer arrays of class indices, never one-hot.
"""

from __future__ import annotations

import numpy as np

from .networks import sigmoid


def check_labels(labels: np.ndarray, n_classes: int, n_examples: int | None = None, name: str = "labels") -> np.ndarray:
    """``labels`` as an array after checking it is 1-D, integer, in [0, n_classes) and (if given) n_examples long."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer class indices, got dtype {labels.dtype}"
                        f"{' (use .astype(int))' if labels.dtype.kind in 'fb' else ''}")
    if labels.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one class index per example), got shape {labels.shape}")
    if n_examples is not None and labels.shape[0] != n_examples:
        raise ValueError(f"{name} has {labels.shape[0]} entries but there are {n_examples} examples")
    if int(n_classes) != n_classes or n_classes < 1:
        raise ValueError(f"n_classes must be a positive integer, got {n_classes!r}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        bad = labels[(labels < 0) | (labels >= n_classes)][0]
        raise ValueError(f"{name} must lie in [0, {n_classes}), found {bad}")
    return labels


def _check_same_shape(a: np.ndarray, b: np.ndarray, names: str) -> None:
    if np.shape(a) != np.shape(b):
        raise ValueError(f"{names} must have the same shape, got {np.shape(a)} and {np.shape(b)}: broadcasting "
                         f"them would silently compare every prediction with every target (reshape one of them)")


def _check_logits(logits: np.ndarray, labels: np.ndarray) -> None:
    if np.ndim(logits) != 2:
        raise ValueError(f"logits must have shape (N, C), got {np.shape(logits)}")
    check_labels(labels, logits.shape[1], logits.shape[0])


def mse(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error: mean over every entry of (pred - target)**2."""
    _check_same_shape(pred, target, "pred and target")
    return float(np.mean((pred - target) ** 2))


def mse_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """d mse / d pred = 2 (pred - target) / (number of entries)."""
    _check_same_shape(pred, target, "pred and target")
    return 2.0 * (pred - target) / pred.size


# Speed: the functions below make one full-size array and work in it in place (``out=``, ``-=``,
# ``/=``): the same operations in the same order, so the same numbers, as the textbook versions
# ``shifted - np.log(np.exp(shifted).sum(...))`` and ``e / e.sum(...)``, which make a new array at
# every step. On large inputs (4096 x 1000 logits) every new array costs about as much as the
# arithmetic (memory to fetch and fill), and cross_entropy reads log_softmax only at the labels
# (benchmarks/RESULTS.md has the timings).

def _shifted(logits: np.ndarray) -> np.ndarray:
    """A new float array of logits minus their largest value on the last axis (so exp never overflows)."""
    logits = np.asarray(logits)
    if logits.dtype.kind != "f":
        logits = logits.astype(np.float64)
    return logits - logits.max(axis=-1, keepdims=True)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, with the log-sum-exp trick (no overflow)."""
    shifted = _shifted(logits)
    shifted -= np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted


def softmax(logits: np.ndarray) -> np.ndarray:
    """softmax over the last axis, stable for any finite logits."""
    e = _shifted(logits)
    np.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def softmax_backward(dP: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """dL/dlogits for P = softmax(logits) over the last axis, given dP = dL/dP: P * (dP - sum(dP * P))."""
    _check_same_shape(dP, logits, "dP and logits")
    P = softmax(logits)
    return P * (dP - np.sum(dP * P, axis=-1, keepdims=True))


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean categorical cross-entropy of (N, C) logits against (N,) integer labels."""
    _check_logits(logits, labels)
    n = logits.shape[0]
    shifted = _shifted(logits)
    picked = shifted[np.arange(n), labels]                 # log_softmax at the labels only:
    np.exp(shifted, out=shifted)                           # shifted - log(sum(exp(shifted)))
    return float(-(picked - np.log(shifted.sum(axis=-1))).mean())


def cross_entropy_grad(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """d cross_entropy / d logits = (softmax(logits) - one_hot(labels)) / N."""
    _check_logits(logits, labels)
    n = logits.shape[0]
    grad = softmax(logits)
    grad[np.arange(n), labels] -= 1.0
    grad /= n
    return grad


def bce_with_logits(logits: np.ndarray, targets: np.ndarray) -> float:
    """Mean binary cross-entropy of logits against targets in [0, 1]: max(x, 0) - x y + log(1 + exp(-|x|))."""
    _check_same_shape(logits, targets, "logits and targets")
    return float(np.mean(np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))))


def bce_with_logits_grad(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """d bce_with_logits / d logits = (sigmoid(logits) - targets) / (number of entries)."""
    _check_same_shape(logits, targets, "logits and targets")
    return (sigmoid(logits) - targets) / logits.size


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(N,) integer labels -> (N, n_classes) float64 rows with a single 1 at each label."""
    labels = check_labels(labels, n_classes)
    out = np.zeros((labels.shape[0], n_classes))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out
