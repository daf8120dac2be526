"""PyTorch references for chapter 5 (CNN): convolution, max-pooling, flatten and augmentation, NumPy in and
NumPy out, computed by PyTorch's own functions and autograd (float64, on the course's device).

Layouts are PyTorch's: images (N, C, H, W); convolution weights (C_out, C_in, kH, kW); biases (C_out,).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..device import get_device, to_numpy, to_tensor


def _as_images(x: np.ndarray, what: str = "x") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{what} must have shape (N, C, H, W), got {x.shape}")
    return x


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """``F.conv2d(x, w, b, stride=stride, padding=padding)``."""
    return to_numpy(F.conv2d(to_tensor(_as_images(x)), to_tensor(w), to_tensor(b), stride=stride, padding=padding))


def conv2d_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0):
    """(dx, dw, db) of ``F.conv2d`` by autograd, for the upstream gradient ``dout``."""
    xt, wt = to_tensor(_as_images(x), requires_grad=True), to_tensor(w, requires_grad=True)
    bt = torch.zeros(wt.shape[0], dtype=torch.float64, device=get_device(), requires_grad=True)
    out = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    if tuple(out.shape) != np.shape(dout):
        raise ValueError(f"dout has shape {np.shape(dout)}, but the convolution's output has shape {tuple(out.shape)}")
    dx, dw, db = torch.autograd.grad(out, (xt, wt, bt), to_tensor(dout))
    return to_numpy(dx), to_numpy(dw), to_numpy(db)


def maxpool_forward(x: np.ndarray, size: int = 2, stride: int | None = None) -> np.ndarray:
    """``F.max_pool2d(x, size, stride)``; stride defaults to the window size, as in PyTorch."""
    return to_numpy(F.max_pool2d(to_tensor(_as_images(x)), size, stride=stride))


def maxpool_backward(dout: np.ndarray, x: np.ndarray, size: int = 2, stride: int | None = None) -> np.ndarray:
    """dL/dx of ``F.max_pool2d`` by autograd. On ties PyTorch sends a window's gradient to its first
    maximum in row-major order; overlapping windows add their gradients."""
    xt = to_tensor(_as_images(x), requires_grad=True)
    out = F.max_pool2d(xt, size, stride=stride)
    if tuple(out.shape) != np.shape(dout):
        raise ValueError(f"dout has shape {np.shape(dout)}, but the pooling's output has shape {tuple(out.shape)}")
    (dx,) = torch.autograd.grad(out, (xt,), to_tensor(dout))
    return to_numpy(dx)


def flatten(x: np.ndarray) -> np.ndarray:
    """``nn.Flatten()(x)``: (N, C, H, W) -> (N, C*H*W)."""
    return to_numpy(nn.Flatten()(to_tensor(x)))


def flatten_backward(dout: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    """dL/dx of ``nn.Flatten`` by autograd, for an input of shape ``x_shape``."""
    xt = torch.zeros(tuple(x_shape), dtype=torch.float64, device=get_device(), requires_grad=True)
    out = nn.Flatten()(xt)
    (dx,) = torch.autograd.grad(out, (xt,), to_tensor(dout))
    return to_numpy(dx)


# --- augmentation -------------------------------------------------------------------------------


def flip_horizontal(images: np.ndarray) -> np.ndarray:
    """Mirror left-right: ``torch.flip(images, dims=[-1])`` (the width axis of (N, C, H, W))."""
    return to_numpy(torch.flip(to_tensor(_as_images(images, "images")), dims=[-1]))


def shift_images(images: np.ndarray, dy, dx) -> np.ndarray:
    """Image n moved down by dy[n] and right by dx[n] pixels (negative: up / left), zero fill.

    PyTorch: pad every side with zeros by the largest shift (``F.pad``), then cut each image's window.
    """
    images = _as_images(images, "images")
    n, _, h, w = images.shape
    dy, dx = np.broadcast_to(dy, (n,)), np.broadcast_to(dx, (n,))
    m = int(max(np.abs(dy).max(), np.abs(dx).max(), 0))
    padded = F.pad(to_tensor(images), (m, m, m, m))
    out = [padded[i, :, m - int(dy[i]) : m - int(dy[i]) + h, m - int(dx[i]) : m - int(dx[i]) + w] for i in range(n)]
    return to_numpy(torch.stack(out))


def random_augment_draws(n: int, seed: int, max_shift: int):
    """The random numbers ``random_augment`` uses, in the order the exercise prescribes."""
    rng = np.random.default_rng(seed)
    flip = rng.random(n) < 0.5
    dy = rng.integers(-max_shift, max_shift + 1, size=n)
    dx = rng.integers(-max_shift, max_shift + 1, size=n)
    return flip, dy, dx


def random_augment(images: np.ndarray, seed: int = 0, max_shift: int = 2) -> np.ndarray:
    """Flip each image left-right with probability 1/2, then shift it by up to ``max_shift`` pixels
    each way, with the draws of :func:`random_augment_draws`; the image operations are PyTorch's."""
    images = _as_images(images, "images")
    flip, dy, dx = random_augment_draws(images.shape[0], seed, max_shift)
    t = to_tensor(images)
    flipped = torch.where(to_tensor(flip)[:, None, None, None], torch.flip(t, dims=[-1]), t)
    return shift_images(to_numpy(flipped), dy, dx)
