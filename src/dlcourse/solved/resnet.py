"""Chapter 5 (modern CNN pieces), solved: global average pooling, batch normalisation for feature maps
(``nn.BatchNorm2d``: training and evaluation modes, running statistics) forward and backward, and a
residual block (conv -> BN -> ReLU -> conv -> BN, plus an identity or 1x1-projection shortcut, then ReLU)
forward and backward, built on chapter 5's convolution.

Layouts as PyTorch's: feature maps (N, C, H, W), conv weights (C_out, C_in, kH, kW) without bias (a BN
follows every convolution, so a bias would be cancelled by its mean), BN parameters and buffers (C,).
A block's parameters are a dict: "W1", "gamma1", "beta1", "mean1", "var1" (first conv and its BN), the
same with "2", and, for a projection shortcut, with "_s" ("W_s" is (C_out, C_in, 1, 1)). The solution
cells of ``solutions/ch05_cnn_rnn/resnet.py`` are this code.
"""

from __future__ import annotations

import numpy as np

from .cnn import conv2d_backward, conv2d_forward


def global_avg_pool(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) -> (N, C): the mean of every feature map, as ``F.adaptive_avg_pool2d(x, 1).flatten(1)``."""
    return x.mean(axis=(2, 3))


def global_avg_pool_backward(dout: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    """dL/dx (N, C, H, W) of global average pooling, given dout = dL/d(pooled) (N, C)."""
    H, W = x_shape[2], x_shape[3]
    return np.broadcast_to(dout[:, :, None, None] / (H * W), x_shape).copy()


def batchnorm2d_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """``nn.BatchNorm2d``: (out, new_running_mean, new_running_var).

    Training: normalise with the batch's per-channel mean and biased variance (over N, H, W), and move the
    running statistics by ``momentum`` towards the batch's mean and *unbiased* variance. Evaluation:
    normalise with the running statistics, which stay as they are.
    """
    if training:
        mean = x.mean(axis=(0, 2, 3))
        var = x.var(axis=(0, 2, 3))  # biased (divides by m): normalises the batch
        m = x.size // x.shape[1]  # values per channel: N * H * W
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)  # unbiased
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None], running_mean, running_var


def batchnorm2d_backward(dout: np.ndarray, x: np.ndarray, gamma: np.ndarray, eps: float = 1e-5):
    """(dx, dgamma, dbeta) of ``batchnorm2d_forward`` in training mode (batch statistics), given dout."""
    axes = (0, 2, 3)
    mean = x.mean(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    x_hat = (x - mean) * inv_std
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    dx_hat = dout * gamma[:, None, None]
    dx = inv_std * (
        dx_hat - dx_hat.mean(axis=axes, keepdims=True) - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)
    )
    return dx, dgamma, dbeta


def residual_block_forward(
    x: np.ndarray, params: dict[str, np.ndarray], stride: int = 1, training: bool = True
) -> np.ndarray:
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)): conv1 3x3 with ``stride``, conv2 3x3, padding 1;
    the shortcut is x itself, or bn_s(conv_s(x)) with a 1x1 conv of the same stride when params has "W_s"."""

    def conv_bn(a, key, stride, padding):
        W = params["W" + key]
        z = conv2d_forward(a, W, np.zeros(W.shape[0], a.dtype), stride, padding)
        return batchnorm2d_forward(
            z, params["gamma" + key], params["beta" + key], params["mean" + key], params["var" + key], training
        )[0]

    h = np.maximum(conv_bn(x, "1", stride, 1), 0)
    main = conv_bn(h, "2", 1, 1)
    shortcut = conv_bn(x, "_s", stride, 0) if "W_s" in params else x
    return np.maximum(main + shortcut, 0)


def residual_block_backward(dout: np.ndarray, x: np.ndarray, params: dict[str, np.ndarray], stride: int = 1):
    """(dx, grads) of ``residual_block_forward`` in training mode: grads holds the gradient of every weight,
    gamma and beta ("W1", "gamma1", "beta1", "W2", ..., and "W_s", "gamma_s", "beta_s" with a projection)."""
    grads = {}

    def conv_bn(a, key, stride, padding):
        W = params["W" + key]
        z = conv2d_forward(a, W, np.zeros(W.shape[0], a.dtype), stride, padding)
        y = batchnorm2d_forward(
            z, params["gamma" + key], params["beta" + key], params["mean" + key], params["var" + key]
        )[0]
        return z, y

    def conv_bn_backward(dy, a, z, key, stride, padding):
        dz, grads["gamma" + key], grads["beta" + key] = batchnorm2d_backward(dy, z, params["gamma" + key])
        da, grads["W" + key], _ = conv2d_backward(dz, a, params["W" + key], stride, padding)
        return da

    z1, y1 = conv_bn(x, "1", stride, 1)
    h = np.maximum(y1, 0)
    z2, y2 = conv_bn(h, "2", 1, 1)
    projection = "W_s" in params
    if projection:
        zs, shortcut = conv_bn(x, "_s", stride, 0)
    else:
        shortcut = x
    d = dout * (y2 + shortcut > 0)  # through the final ReLU, to both branches
    dh = conv_bn_backward(d, h, z2, "2", 1, 1)
    dx = conv_bn_backward(dh * (y1 > 0), x, z1, "1", stride, 1)
    dx = dx + (conv_bn_backward(d, x, zs, "_s", stride, 0) if projection else d)
    return dx, grads
