"""PyTorch references for chapter 4 (evaluation metrics), computed with tensor ops (``torch.bincount``, sums,
``torch.where``) on :func:`dlcourse.device.get_device`. NumPy in, NumPy out.

Zero-division rule (as scikit-learn's ``zero_division=0``): a ratio whose denominator is 0 is 0, so a class
that is never predicted has precision 0, a class that never occurs has recall 0, and F1 is 0 when
precision + recall is 0. Macro averages run over all ``n_classes`` classes. The F1 here is computed as
2 TP / (2 TP + FP + FN), which equals 2 P R / (P + R) wherever that is defined.
"""

from __future__ import annotations

import numpy as np
import torch

from ..device import to_numpy, to_tensor
from ..solved.losses import check_labels


def _pair(y_true, y_pred, n_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    y_true = check_labels(y_true, n_classes, name="y_true")
    y_pred = check_labels(y_pred, n_classes, y_true.shape[0], name="y_pred")
    return to_tensor(y_true), to_tensor(y_pred)


def _zero_if_undefined(numerator: torch.Tensor, denominator: torch.Tensor) -> torch.Tensor:
    numerator, denominator = numerator.to(torch.float64), denominator.to(torch.float64)
    return torch.where(denominator > 0, numerator / denominator.clamp(min=1), torch.zeros_like(numerator))


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1 or y_true.size == 0:
        raise ValueError(
            f"y_true and y_pred must be 1-D, non-empty and of the same length, got {y_true.shape} and {y_pred.shape}"
        )
    return to_numpy((to_tensor(y_true) == to_tensor(y_pred)).to(torch.float64).mean())


def _confusion(y_true: torch.Tensor, y_pred: torch.Tensor, n_classes: int) -> torch.Tensor:
    counts = torch.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """int64 (n_classes, n_classes): row = true class, column = predicted class."""
    return to_numpy(_confusion(*_pair(y_true, y_pred, n_classes), n_classes))


def _per_class(y_true, y_pred, n_classes: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    counts = _confusion(*_pair(y_true, y_pred, n_classes), n_classes)
    true_positives = counts.diagonal()
    predicted, actual = counts.sum(dim=0), counts.sum(dim=1)
    precision = _zero_if_undefined(true_positives, predicted)
    recall = _zero_if_undefined(true_positives, actual)
    f1 = _zero_if_undefined(2 * true_positives, predicted + actual)
    return precision, recall, f1


def precision_recall_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int):
    """(precision, recall, f1) per class, float64 arrays of shape (n_classes,)."""
    return tuple(to_numpy(t) for t in _per_class(y_true, y_pred, n_classes))


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """The mean over all classes of the per-class F1 (a 0-d array)."""
    return to_numpy(_per_class(y_true, y_pred, n_classes)[2].mean())
