"""Chapter 5 (modern CNN pieces): the mistakes learners make with global average pooling, batch normalisation
and the residual block, each recognised by computing it (a whole wrong result, shaped like the reference's)."""

from __future__ import annotations

import numpy as np

from ..solved import resnet as solved
from ..solved.cnn import conv2d_backward, conv2d_forward
from . import mistake

global_avg_pool = [
    mistake(
        lambda x: x.sum(axis=(2, 3)),
        "that is the sum of each feature map: global AVERAGE pooling divides it by H * W, the number of positions.",
    ),
    mistake(
        lambda x: x.mean(axis=(0, 2, 3))[None].repeat(x.shape[0], 0),
        "the mean also ran over the batch axis: each example keeps its own C averages (axes 2 and 3 only).",
    ),
]

global_avg_pool_backward = [
    mistake(
        lambda dout, x_shape: np.broadcast_to(dout[:, :, None, None], x_shape),
        "every position gets dout / (H * W), not dout: each input value enters the mean with weight 1 / (H * W).",
    ),
    mistake(
        lambda dout, x_shape: np.broadcast_to(dout[:, :, None, None] / np.prod(x_shape), x_shape),
        "divide by H * W only: the mean of each example's feature map does not involve the batch or the channels.",
    ),
]


def _bn(
    unbiased_norm=False,
    biased_running=False,
    swapped_momentum=False,
    no_update=False,
    eval_batch=False,
    eps_outside=False,
):
    def wrong(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
        axes = (0, 2, 3)
        m = x.size // x.shape[1]
        if training or eval_batch:
            mean = x.mean(axis=axes)
            var = x.var(axis=axes, ddof=1 if unbiased_norm else 0)
        else:
            mean, var = running_mean, running_var
        if training and not no_update:
            keep, new = (momentum, 1 - momentum) if swapped_momentum else (1 - momentum, momentum)
            batch_var = x.var(axis=axes) * (1 if biased_running else m / (m - 1))
            running_mean = keep * running_mean + new * x.mean(axis=axes)
            running_var = keep * running_var + new * batch_var
        scale = 1 / (np.sqrt(var) + eps) if eps_outside else 1 / np.sqrt(var + eps)
        out = gamma[:, None, None] * (x - mean[:, None, None]) * scale[:, None, None] + beta[:, None, None]
        return out, running_mean, running_var

    return wrong


batchnorm2d_forward = [
    mistake(
        _bn(unbiased_norm=True),
        "the batch is normalised with its BIASED variance (divide by m = N * H * W, "
        "np.var's default); the unbiased one (m - 1) is only for the running variance.",
        output="out",
    ),
    mistake(
        _bn(biased_running=True),
        "PyTorch updates running_var with the UNBIASED batch variance, "
        "var * m / (m - 1) with m = N * H * W, though it normalises with the biased one.",
        output="running_var",
    ),
    mistake(
        _bn(swapped_momentum=True),
        "momentum is the weight of the NEW batch statistic in PyTorch: "
        "new = (1 - momentum) * old + momentum * batch (not the other way round).",
    ),
    mistake(
        _bn(no_update=True),
        "in training mode the running statistics move towards the batch's: "
        "return the updated running_mean and running_var, not the old ones.",
    ),
    mistake(
        _bn(eval_batch=True),
        "in evaluation mode (training=False) normalise with the RUNNING statistics, "
        "not with the batch's: a prediction must not depend on the rest of the batch.",
        output="out",
    ),
    mistake(_bn(eps_outside=True), "eps goes inside the square root: (x - mean) / sqrt(var + eps).", output="out"),
]


def _bn_back(constant_stats=False, dgamma_raw=False, no_var_term=False):
    def wrong(dout, x, gamma, eps=1e-5):
        axes = (0, 2, 3)
        mean = x.mean(axis=axes, keepdims=True)
        inv_std = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
        x_hat = (x - mean) * inv_std
        dx_hat = dout * gamma[:, None, None]
        if constant_stats:
            dx = dx_hat * inv_std
        else:
            var_term = 0 if no_var_term else x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)
            dx = inv_std * (dx_hat - dx_hat.mean(axis=axes, keepdims=True) - var_term)
        dgamma = (dout * (x if dgamma_raw else x_hat)).sum(axis=axes)
        return dx, dgamma, dout.sum(axis=axes)

    return wrong


batchnorm2d_backward = [
    mistake(
        _bn_back(constant_stats=True),
        "the batch mean and variance depend on x too: in training mode every x[n, c] moves its channel's mean "
        "and variance, which adds two terms, the mean of dx_hat and x_hat times the mean of dx_hat * x_hat.",
        output="dx",
    ),
    mistake(
        _bn_back(no_var_term=True),
        "the variance's path is missing: subtract x_hat * mean(dx_hat * x_hat) over (N, H, W) as well.",
        output="dx",
    ),
    mistake(
        _bn_back(dgamma_raw=True),
        "gamma multiplies the NORMALISED x_hat, so dgamma = sum of dout * x_hat over (N, H, W), not dout * x.",
        output="dgamma",
    ),
]


def _block(relu_after_add=True, shortcut_after_relu=False, shortcut_without_bn=False, always_training=False):
    def wrong(x, params, stride=1, training=True):
        def conv_bn(a, key, stride, padding, bn=True):
            W = params["W" + key]
            z = conv2d_forward(a, W, np.zeros(W.shape[0], a.dtype), stride, padding)
            return (
                solved.batchnorm2d_forward(
                    z,
                    params["gamma" + key],
                    params["beta" + key],
                    params["mean" + key],
                    params["var" + key],
                    training or always_training,
                )[0]
                if bn
                else z
            )

        h = np.maximum(conv_bn(x, "1", stride, 1), 0)
        main = conv_bn(h, "2", 1, 1)
        shortcut = conv_bn(x, "_s", stride, 0, bn=not shortcut_without_bn) if "W_s" in params else x
        if shortcut_after_relu:
            return np.maximum(main, 0) + shortcut
        return np.maximum(main + shortcut, 0) if relu_after_add else main + shortcut

    return wrong


residual_block_forward = [
    mistake(
        _block(shortcut_after_relu=True),
        "the shortcut is added BEFORE the last ReLU: out = relu(bn2(conv2(h)) + "
        "shortcut(x)), so the block's output is never negative.",
    ),
    mistake(_block(relu_after_add=False), "the block ends with a ReLU after the addition: relu(main + shortcut)."),
    mistake(
        _block(shortcut_without_bn=True),
        "the projection shortcut is a 1x1 convolution FOLLOWED by its own batch "
        "norm (gamma_s, beta_s, mean_s, var_s), as in torchvision's ResNet.",
    ),
    mistake(
        _block(always_training=True),
        "pass `training` on to every batch norm: in evaluation mode "
        "(training=False) the block normalises with the running statistics "
        "mean1, var1, ... from params.",
    ),
]


def _block_back(no_shortcut_grad=False, unmasked_shortcut=False):
    def wrong(dout, x, params, stride=1):
        dx, grads = solved.residual_block_backward(dout, x, params, stride)
        if not (no_shortcut_grad or unmasked_shortcut):
            return dx, grads
        h_out = solved.residual_block_forward(x, params, stride)
        d = dout * (h_out > 0)
        if "W_s" in params:  # the shortcut's part of dx, recomputed
            W = params["W_s"]
            z = conv2d_forward(x, W, np.zeros(W.shape[0], x.dtype), stride, 0)
            dz = solved.batchnorm2d_backward(d, z, params["gamma_s"])[0]
            part = conv2d_backward(dz, x, W, stride, 0)[0]
            part_unmasked = conv2d_backward(
                solved.batchnorm2d_backward(dout, z, params["gamma_s"])[0], x, W, stride, 0
            )[0]
        else:
            part, part_unmasked = d, dout
        return (dx - part, grads) if no_shortcut_grad else (dx - part + part_unmasked, grads)

    return wrong


residual_block_backward = [
    mistake(
        _block_back(no_shortcut_grad=True),
        "x reaches the output twice, through the convolutions and through the shortcut: dx is the SUM of both "
        "paths' gradients (the shortcut's is the gradient after the last ReLU, through the projection if any).",
        output="dx",
    ),
    mistake(
        _block_back(unmasked_shortcut=True),
        "the shortcut's gradient also passes the last ReLU: use dout * (out > 0) on both paths, not dout.",
        output="dx",
    ),
]
