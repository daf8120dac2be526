"""Chapter 5 (CNN), solved: 2-D convolution (loops and vectorised), its backward pass, max-pooling and
flatten, in PyTorch's layouts: images (N, C, H, W), conv weights (C_out, C_in, kH, kW), like ``F.conv2d``.

The vectorised convolution is *im2col*: every receptive field becomes a row of a matrix, and the
convolution becomes one matrix product. ``np.lib.stride_tricks.sliding_window_view`` makes the
windows without copying; the reshape into a matrix makes the one copy.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """floor((size + 2 padding - kernel) / stride) + 1, the output length of a convolution or pooling axis."""
    if kernel > size + 2 * padding:
        raise ValueError(f"kernel {kernel} is larger than the padded input {size} + 2*{padding}")
    return (size + 2 * padding - kernel) // stride + 1


def conv2d_forward_loops(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """F.conv2d(x, w, b, stride, padding) with explicit loops: x (N, C, H, W), w (F, C, kH, kW), b (F,)."""
    n, _, h, wd = x.shape
    n_filters, _, kh, kw = w.shape
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (wd + 2 * padding - kw) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((n, n_filters, h_out, w_out), dtype=x.dtype)
    for i in range(n):
        for f in range(n_filters):
            for r in range(h_out):
                for c in range(w_out):
                    window = xp[i, :, r * stride : r * stride + kh, c * stride : c * stride + kw]
                    out[i, f, r, c] = np.sum(window * w[f]) + b[f]
    return out


def im2col(x: np.ndarray, kh: int, kw: int, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The receptive fields of every image as columns: shape (N, C * kH * kW, H_out * W_out).

    Column p of image n holds the C x kH x kW input values that output pixel p (row-major) sees,
    in the order of ``w[f].ravel()``, so that the convolution is ``w.reshape(C_out, -1) @ columns``.
    """
    n, c = x.shape[:2]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]  # (N, C, Ho, Wo, kh, kw)
    h_out, w_out = windows.shape[2:4]
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, h_out * w_out)


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """F.conv2d(x, w, b, stride, padding) in NumPy, vectorised with im2col: (N, C_out, H_out, W_out)."""
    n, _, h, wd = x.shape
    n_filters, _, kh, kw = w.shape
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (wd + 2 * padding - kw) // stride + 1
    out = w.reshape(n_filters, -1) @ im2col(x, kh, kw, stride, padding) + b[:, None]
    return out.reshape(n, n_filters, h_out, w_out)


def conv2d_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0):
    """(dx, dw, db) of out = conv2d_forward(x, w, b, stride, padding), given dout = dL/dout."""
    n, c, h, wd = x.shape
    n_filters, _, kh, kw = w.shape
    h_out, w_out = dout.shape[2:]
    dout_rows = dout.reshape(n, n_filters, h_out * w_out)
    db = dout.sum(axis=(0, 2, 3))
    dw = (dout_rows @ im2col(x, kh, kw, stride, padding).transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    dcols = (w.reshape(n_filters, -1).T @ dout_rows).reshape(n, c, kh, kw, h_out, w_out)
    dx_pad = np.zeros((n, c, h + 2 * padding, wd + 2 * padding), dtype=dcols.dtype)
    for i in range(kh):  # col2im: every kernel offset (i, j) sends its gradient back to
        for j in range(kw):  # the input pixels it read, one strided slice at a time
            dx_pad[:, :, i : i + stride * h_out : stride, j : j + stride * w_out : stride] += dcols[:, :, i, j]
    dx = dx_pad[:, :, padding : padding + h, padding : padding + wd]
    return dx, dw, db


def maxpool_forward(x: np.ndarray, size: int = 2, stride: int | None = None) -> np.ndarray:
    """F.max_pool2d(x, size, stride) (stride defaults to size): the largest value of every window."""
    stride = size if stride is None else stride
    windows = sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    return windows.max(axis=(4, 5))


def maxpool_backward(dout: np.ndarray, x: np.ndarray, size: int = 2, stride: int | None = None) -> np.ndarray:
    """dL/dx of max-pooling: each window's gradient goes to its maximum; on a tie, to the first maximum
    in row-major order (top row first, then left to right), as PyTorch does. Overlapping windows add up."""
    stride = size if stride is None else stride
    windows = sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, h_out, w_out = windows.shape[:4]
    first_max = windows.reshape(n, c, h_out, w_out, size * size).argmax(axis=4)  # argmax: the first maximum
    dx = np.zeros(x.shape, dtype=dout.dtype)
    for i in range(size):
        for j in range(size):
            dx[:, :, i : i + stride * h_out : stride, j : j + stride * w_out : stride] += dout * (
                first_max == i * size + j
            )
    return dx


def flatten(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, C*H*W) in C, H, W order, like nn.Flatten / torch.flatten(x, 1)."""
    return x.reshape(x.shape[0], -1)


def flatten_backward(dout: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    """The gradient of flatten: dout reshaped back to the input's shape."""
    return dout.reshape(x_shape)


def init_cnn_params(
    in_channels: int, conv_channels: list[int], dense_sizes: list[int], image_size: int, kernel: int = 3, seed: int = 0
) -> dict[str, np.ndarray]:
    """He-initialised parameters of [conv (kernel x kernel, 'same' padding), ReLU, 2x2 max-pool] * len(conv_channels),
    flatten, then dense layers (ReLU between): {"Wc1", "bc1", ..., "Wd1", "bd1", ...}, zero biases.
    ``image_size`` is the input's height = width; each pooling halves it (rounding down)."""
    if kernel % 2 == 0:
        raise ValueError(f"'same' padding needs an odd kernel size, got {kernel}")
    rng = np.random.default_rng(seed)
    params, channels, size = {}, in_channels, image_size
    for layer, c_out in enumerate(conv_channels, start=1):
        fan_in = channels * kernel * kernel
        params[f"Wc{layer}"] = rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(c_out, channels, kernel, kernel))
        params[f"bc{layer}"] = np.zeros(c_out)
        channels, size = c_out, size // 2
    if size < 1:
        raise ValueError(f"{len(conv_channels)} poolings shrink a {image_size}-pixel image to nothing")
    n_in = channels * size * size
    for layer, n_out in enumerate(dense_sizes, start=1):
        params[f"Wd{layer}"] = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_out, n_in))
        params[f"bd{layer}"] = np.zeros(n_out)
        n_in = n_out
    return params
