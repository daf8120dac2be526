"""Chapter 4 (evaluation metrics), solved: accuracy, the confusion matrix, per-class precision / recall / F1
and macro F1, for integer class labels 0 .. n_classes - 1.

Zero-division rule (the same as scikit-learn's ``zero_division=0``): a ratio whose denominator is 0 is 0.
Precision of a class that is never predicted is 0, recall of a class that never occurs is 0, and F1 is 0
when precision + recall is 0. Macro averages run over all ``n_classes`` classes.
"""

from __future__ import annotations

import numpy as np

from .losses import check_labels


def _check_pair(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    y_true = check_labels(y_true, n_classes, name="y_true")
    y_pred = check_labels(y_pred, n_classes, y_true.shape[0], name="y_pred")
    return y_true, y_pred


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Share of examples whose predicted class is the true class."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or y_true.size == 0:
        raise ValueError(f"y_true and y_pred must be 1-D, non-empty and of the same length, got {y_true.shape} and {y_pred.shape}")
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """C[i, j] = number of examples of true class i predicted as class j (rows: truth, columns: prediction)."""
    y_true, y_pred = _check_pair(y_true, y_pred, n_classes)
    pair_index = y_true.astype(np.int64) * n_classes + y_pred   # (i, j) -> i * n_classes + j, counted at once
    return np.bincount(pair_index, minlength=n_classes * n_classes).reshape(n_classes, n_classes).astype(np.int64)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, and 0 where the denominator is 0."""
    numerator, denominator = np.asarray(numerator, dtype=np.float64), np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)


def precision_recall_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int):
    """(precision, recall, f1), each of shape (n_classes,): per class, with the zero-division rule above."""
    counts = confusion_matrix(y_true, y_pred, n_classes)
    true_positives = np.diag(counts)
    precision = _ratio(true_positives, counts.sum(axis=0))  # column sums: how often each class was predicted
    recall = _ratio(true_positives, counts.sum(axis=1))     # row sums: how often each class occurs
    f1 = _ratio(2 * precision * recall, precision + recall)
    return precision, recall, f1


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """The mean of the per-class F1 scores (not the F1 of the mean precision and mean recall)."""
    return float(precision_recall_f1(y_true, y_pred, n_classes)[2].mean())
