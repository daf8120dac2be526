"""Chapter 4 (evaluation metrics), solved: accuracy, the confusion matrix, per-class precision / recall / F1
and macro F1, for integer class labels 0 .. n_classes - 1.

Zero-division rule (the same as scikit-learn's ``zero_division=0``): a ratio whose denominator is 0 is 0.
Precision of a class that is never predicted is 0, recall of a class that never occurs is 0, and F1 is 0
when precision + recall is 0. Macro averages run over all ``n_classes`` classes.
"""

from __future__ import annotations

import numpy as np


def accuracy(y_true, y_pred):
    """Share of examples whose predicted class equals the true class."""
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, n_classes):
    """M[i, j] = number of examples with true class i and predicted class j."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def precision_recall_f1(y_true, y_pred, n_classes):
    """Per-class precision, recall and F1; every 0/0 counts as 0."""
    counts = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diag(counts).astype(float)
    predicted, actual = counts.sum(axis=0), counts.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros(n_classes), where=predicted != 0)
    recall = np.divide(tp, actual, out=np.zeros(n_classes), where=actual != 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros(n_classes), where=both != 0)
    return precision, recall, f1


def macro_f1(y_true, y_pred, n_classes):
    """Mean of the per-class F1 scores over all n_classes classes."""
    return float(precision_recall_f1(y_true, y_pred, n_classes)[2].mean())
