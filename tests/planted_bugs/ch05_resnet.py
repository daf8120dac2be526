from . import PlantedBug

A, NB = "ch05_cnn_rnn", "resnet"
T = "ch05_resnet_{}_test".format
# The block's tests use the learner's own batch norm, and the block backward's test ends a stack of the learner's
# blocks with the learner's global average pooling: a bug in a piece loses the tests of what is built from it.
GAP_F, GAP_B = (T("gap_forward"), T("block_backward")), (T("gap_backward"), T("block_backward"))
BN_ALL = (T("bn_forward"), T("block_forward"), T("block_backward"))
BN_BACK = (T("bn_backward"), T("block_backward"))
BLOCK_BOTH = (T("block_forward"), T("block_backward"))

BUGS = [
    PlantedBug(
        A,
        NB,
        "ch05_resnet_gap_forward",
        "return x.mean(axis=(2, 3))",
        "return x.sum(axis=(2, 3))",
        "sums each feature map instead of averaging it",
        loses=GAP_F,
    ),
    PlantedBug(
        A,
        NB,
        "ch05_resnet_gap_backward",
        "dout[:, :, None, None] / (H * W)",
        "dout[:, :, None, None]",
        "forgets the 1 / (H * W) of the mean in the backward pass",
        loses=GAP_B,
    ),
    PlantedBug(
        A,
        NB,
        "ch05_resnet_gap_backward",
        "return np.broadcast_to(dout[:, :, None, None] / (H * W), x_shape).copy()",
        "return np.ones(x_shape) * dout[:, :, None, None] / (H * W)",
        "builds the gradient on np.ones (float64): float32 in, float64 out",
    ),
    PlantedBug(
        A,
        NB,
        "ch05_resnet_bn_forward",
        "var = x.var(axis=(0, 2, 3))",
        "var = x.var(axis=(0, 2, 3), ddof=1)",
        "normalises with the unbiased variance (m - 1) instead of the biased one",
        loses=BN_ALL,
    ),
    PlantedBug(
        A,
        NB,
        "ch05_resnet_bn_forward",
        "running_mean = (1 - momentum) * running_mean + momentum * mean\n"
        "        running_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)",
        "m = m",
        "forgets to update the running statistics in training mode",
    ),
    PlantedBug(
        A,
        NB,
        "ch05_resnet_bn_forward",
        "momentum * var * m / (m - 1)",
        "momentum * var",
        "updates the running variance with the biased batch variance",
    ),
    PlantedBug(
        A,
        NB,
        "ch05_resnet_bn_forward",
        "running_mean = (1 - momentum) * running_mean + momentum * mean",
        "running_mean = momentum * running_mean + (1 - momentum) * mean",
        "reads momentum as the weight of the old running mean (Keras's convention)",
    ),
    PlantedBug(
        A,
        NB,
        "ch05_resnet_bn_forward",
        "mean, var = running_mean, running_var",
        "mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))",
        "normalises with the batch's statistics in evaluation mode too",
        loses=(T("bn_forward"), T("block_forward")),
    ),
    PlantedBug(
        A,
        NB,
        "ch05_resnet_bn_backward",
        "dx = inv_std * (dx_hat - dx_hat.mean(axis=axes, keepdims=True)\n"
        "                    - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True))",
        "dx = inv_std * dx_hat",
        "treats the batch mean and variance as constants in the backward pass",
        loses=BN_BACK,
    ),
    PlantedBug(
        A,
        NB,
        "ch05_resnet_bn_backward",
        "dgamma = (dout * x_hat).sum(axis=axes)",
        "dgamma = (dout * x).sum(axis=axes)",
        "pairs gamma's gradient with x instead of x_hat",
        loses=BN_BACK,
    ),
    PlantedBug(
        A,
        NB,
        "ch05_resnet_block_forward",
        "return np.maximum(main + shortcut, 0)",
        "return np.maximum(main, 0) + shortcut",
        "adds the shortcut after the last ReLU",
        loses=BLOCK_BOTH,
    ),
    PlantedBug(
        A,
        NB,
        "ch05_resnet_block_forward",
        "np.zeros(W.shape[0], a.dtype)",
        "np.zeros(W.shape[0])",
        "passes a float64 zero bias to the convolution: float32 in, float64 out",
    ),
    PlantedBug(
        A,
        NB,
        "ch05_resnet_block_backward",
        'conv_bn_backward(d, x, zs, "_s", stride, 0) if projection else d)',
        'conv_bn_backward(d, x, zs, "_s", stride, 0) if projection else 0)',
        "forgets the identity shortcut's gradient: dx only through the convolutions",
    ),
    PlantedBug(
        A,
        NB,
        "ch05_resnet_block_backward",
        'conv_bn_backward(d, x, zs, "_s", stride, 0) if projection else d)',
        'conv_bn_backward(dout, x, zs, "_s", stride, 0) if projection else dout)',
        "sends the shortcut the gradient from before the last ReLU (no ReLU mask on the shortcut path)",
    ),
]
