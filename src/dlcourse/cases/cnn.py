"""Chapter 5 (CNN)'s test inputs: convolution and pooling cases whose upstream gradient has the output's shape,
and an image in which every pooling window has a tie."""

from __future__ import annotations

import numpy as np

from ..checking import Inputs, randn

__all__ = ["backward_case", "pool_case", "x_ties"]


def x_ties() -> np.ndarray:
    """A (1, 1, 4, 4) image in which every 2 x 2 window has a tie for its maximum."""
    return np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 0.0, 0.0, 3.0], [0.0, 3.0, 3.0, 0.0]]]])


def _conv_output_shape(x_shape, w_shape, stride: int, padding: int) -> tuple[int, int, int, int]:
    h_out = (x_shape[2] + 2 * padding - w_shape[2]) // stride + 1
    w_out = (x_shape[3] + 2 * padding - w_shape[3]) // stride + 1
    return x_shape[0], w_shape[0], h_out, w_out


def backward_case(x_shape, w_shape, stride: int = 1, padding: int = 0, seed: int = 0, dtype=np.float64) -> Inputs:
    """Inputs(dout, x, w, stride=, padding=) for conv2d_backward: random x and w, and a random upstream
    gradient of the convolution output's shape, all of ``dtype``."""
    x, w = randn(*x_shape, seed=seed), randn(*w_shape, seed=seed + 1)
    dout = randn(*_conv_output_shape(x_shape, w_shape, stride, padding), seed=seed + 2)
    return Inputs(dout.astype(dtype), x.astype(dtype), w.astype(dtype), stride=stride, padding=padding)


def pool_case(x: np.ndarray, size: int = 2, stride: int | None = None, seed: int = 0) -> Inputs:
    """Inputs(dout, x, size, stride) for maxpool_backward, with a random dout of the pooled shape in x's dtype."""
    s = size if stride is None else stride
    shape = (x.shape[0], x.shape[1], (x.shape[2] - size) // s + 1, (x.shape[3] - size) // s + 1)
    return Inputs(randn(*shape, seed=seed).astype(x.dtype), x, size, stride)
