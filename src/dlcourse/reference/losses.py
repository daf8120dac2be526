"""PyTorch references for chapter 4 (losses): PyTorch's own loss functions, and autograd for their gradients.

NumPy in, NumPy out, float64 on :func:`dlcourse.device.get_device`. Losses are means
(``reduction="mean"``), returned as 0-d arrays; gradients are those of the mean.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..device import to_numpy, to_tensor
from ..solved.losses import check_labels


def _same_shape(a, b, names: str) -> None:
    if np.shape(a) != np.shape(b):
        raise ValueError(f"{names} must have the same shape, got {np.shape(a)} and {np.shape(b)}")


def _float(x) -> torch.Tensor:
    return to_tensor(np.asarray(x, dtype=np.float64))


def _labels(logits, labels) -> torch.Tensor:
    if np.ndim(logits) != 2:
        raise ValueError(f"logits must have shape (N, C), got {np.shape(logits)}")
    return to_tensor(check_labels(labels, np.shape(logits)[1], np.shape(logits)[0]))


def _grad(loss_of: Callable[[torch.Tensor], torch.Tensor], x) -> np.ndarray:
    """d loss_of(x) / dx by autograd."""
    xt = to_tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    loss_of(xt).backward()
    return to_numpy(xt.grad)


def mse(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    _same_shape(pred, target, "pred and target")
    return to_numpy(F.mse_loss(_float(pred), _float(target)))


def mse_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    _same_shape(pred, target, "pred and target")
    return _grad(lambda p: F.mse_loss(p, _float(target)), pred)


def softmax(logits: np.ndarray) -> np.ndarray:
    return to_numpy(F.softmax(_float(logits), dim=-1))


def log_softmax(logits: np.ndarray) -> np.ndarray:
    return to_numpy(F.log_softmax(_float(logits), dim=-1))


def softmax_backward(dP: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """dL/dlogits for P = softmax(logits), given dL/dP: autograd's vector-Jacobian product."""
    _same_shape(dP, logits, "dP and logits")
    return _grad(lambda z: (F.softmax(z, dim=-1) * _float(dP)).sum(), logits)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return to_numpy(F.cross_entropy(_float(logits), _labels(logits, labels)))


def cross_entropy_grad(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    labels_t = _labels(logits, labels)
    return _grad(lambda z: F.cross_entropy(z, labels_t), logits)


def bce_with_logits(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    _same_shape(logits, targets, "logits and targets")
    return to_numpy(F.binary_cross_entropy_with_logits(_float(logits), _float(targets)))


def bce_with_logits_grad(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    _same_shape(logits, targets, "logits and targets")
    return _grad(lambda z: F.binary_cross_entropy_with_logits(z, _float(targets)), logits)


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """F.one_hot, as float64 (the dtype the losses multiply it with)."""
    labels = check_labels(labels, n_classes)
    return to_numpy(F.one_hot(to_tensor(labels), int(n_classes)).to(torch.float64))
