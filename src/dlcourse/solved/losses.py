"""Chapter 4 (losses), solved: MSE, softmax / log-softmax, cross-entropy from logits, binary
cross-entropy from logits, one-hot encoding, and their gradients.

Every loss is the mean over all its terms (PyTorch's ``reduction="mean"``), and every gradient is the
gradient of that mean. Class labels are integer arrays of class indices, never one-hot. The functions with
the exercises' names are the solution notebook's code; ``*_inplace`` / ``*_fast`` are faster variants.
"""

from __future__ import annotations

import numpy as np

from .networks import sigmoid


def check_labels(labels: np.ndarray, n_classes: int, n_examples: int | None = None, name: str = "labels") -> np.ndarray:
    """``labels`` as an array after checking it is 1-D, integer, in [0, n_classes) and (if given) n_examples long."""
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"{name} must be integer class indices, got dtype {labels.dtype}"
            f"{' (use .astype(int))' if labels.dtype.kind in 'fb' else ''}"
        )
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


def mse(pred, target):
    """Mean over every entry of (pred - target) ** 2."""
    return float(np.mean((pred - target) ** 2))


def mse_grad(pred, target):
    """Gradient of mse(pred, target) with respect to pred."""
    return 2.0 * (pred - target) / pred.size


def softmax(logits):
    """Softmax over the last axis, with the row maximum subtracted first."""
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(logits):
    """log(softmax(logits)) over the last axis, computed as z - m - log(sum(exp(z - m)))."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax_backward(dP, logits):
    """dL/dlogits for P = softmax(logits) over the last axis, given dL/dP."""
    P = softmax(logits)
    return P * (dP - np.sum(dP * P, axis=-1, keepdims=True))


def one_hot(labels, n_classes):
    """(N,) integer labels -> (N, n_classes) float64 one-hot rows."""
    out = np.zeros((labels.shape[0], n_classes))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def cross_entropy(logits, labels):
    """Mean over the batch of -log softmax(logits)[n, labels[n]]."""
    n = logits.shape[0]
    return float(-log_softmax(logits)[np.arange(n), labels].mean())


def cross_entropy_grad(logits, labels):
    """(softmax(logits) - one_hot(labels)) / N."""
    n = logits.shape[0]
    return (softmax(logits) - one_hot(labels, logits.shape[1]).astype(logits.dtype)) / n


def bce_with_logits(logits, targets):
    """Mean over every entry of max(x, 0) - x y + log(1 + exp(-|x|))."""
    return float(np.mean(np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))))


def bce_with_logits_grad(logits, targets):
    """Gradient of bce_with_logits with respect to the logits."""
    return (sigmoid(logits) - targets) / logits.size


# Speed: the variants below make one full-size array and work in it in place (``out=``, ``-=``,
# ``/=``): the same operations in the same order, so the same numbers, as the textbook versions above,
# which make a new array at every step. On large inputs (4096 x 1000 logits) every new array costs about
# as much as the arithmetic (memory to fetch and fill), and cross_entropy_fast reads log-softmax only at the
# labels (benchmarks/RESULTS.md has the timings; tests/test_losses_package.py proves they compute the same).


def _shifted(logits: np.ndarray) -> np.ndarray:
    """A new float array of logits minus their largest value on the last axis (so exp never overflows)."""
    logits = np.asarray(logits)
    if logits.dtype.kind != "f":
        logits = logits.astype(np.float64)
    return logits - logits.max(axis=-1, keepdims=True)


def log_softmax_inplace(logits: np.ndarray) -> np.ndarray:
    """:func:`log_softmax`, computed in one array."""
    shifted = _shifted(logits)
    shifted -= np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted


def softmax_inplace(logits: np.ndarray) -> np.ndarray:
    """:func:`softmax`, computed in one array."""
    e = _shifted(logits)
    np.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def cross_entropy_fast(logits: np.ndarray, labels: np.ndarray) -> float:
    """:func:`cross_entropy` of (N, C) logits against (N,) integer labels, log-softmax taken at the labels only."""
    labels = check_labels(labels, np.shape(logits)[-1], np.shape(logits)[0])
    n = logits.shape[0]
    shifted = _shifted(logits)
    picked = shifted[np.arange(n), labels]  # log_softmax at the labels only:
    np.exp(shifted, out=shifted)  # shifted - log(sum(exp(shifted)))
    return float(-(picked - np.log(shifted.sum(axis=-1))).mean())


def cross_entropy_grad_inplace(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """:func:`cross_entropy_grad`, computed in one array: softmax, minus 1 at the labels, divided by N."""
    labels = check_labels(labels, np.shape(logits)[-1], np.shape(logits)[0])
    n = logits.shape[0]
    grad = softmax_inplace(logits)
    grad[np.arange(n), labels] -= 1.0
    grad /= n
    return grad


def cross_entropy_with_grad(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """(:func:`cross_entropy`, :func:`cross_entropy_grad`) from one pass over the logits: the forward keeps its
    exponentials for the backward, as a framework's loss layer keeps its forward's result (PyTorch's
    ``F.cross_entropy`` keeps its log-softmax for the backward). One max, one subtraction, one exp, one sum and
    one scaling of the (N, C) array, where the two functions above make two of each."""
    labels = check_labels(labels, np.shape(logits)[-1], np.shape(logits)[0])
    n = logits.shape[0]
    grad = _shifted(logits)
    rows = np.arange(n)
    picked = grad[rows, labels]
    np.exp(grad, out=grad)
    sums = grad.sum(axis=-1, keepdims=True)
    loss = float(-(picked - np.log(sums[:, 0])).mean())
    grad *= (1.0 / (n * sums)).astype(grad.dtype)  # softmax / N in one pass
    grad[rows, labels] -= grad.dtype.type(1.0 / n)
    return loss, grad
