"""Chapter 5 (modern CNN pieces)'s test inputs and adapters: random batch-norm and residual-block parameters
(every gamma, beta and running statistic non-trivial), and adapters that use the learner's own pieces
together: one batch-norm layer through several training batches then evaluation, and a stack of the
learner's residual blocks followed by the learner's global average pooling, forward and backward."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..checking import Inputs, randn, uniform

__all__ = ["block_params", "block_stack", "bn_params", "bn_sequence", "stack_case"]


def bn_params(C: int, seed: int, dtype=np.float64) -> tuple[np.ndarray, ...]:
    """gamma (around 1, signs mixed), beta, running_mean and running_var (positive), each (C,), none trivial."""
    gamma = uniform(C, low=0.5, high=1.5, seed=seed) * np.where(np.arange(C) % 3 == 2, -1.0, 1.0)
    arrays = (
        gamma,
        randn(C, seed=seed + 1, scale=0.5),
        randn(C, seed=seed + 2, scale=0.5),
        uniform(C, low=0.5, high=2.0, seed=seed + 3),
    )
    return tuple(a.astype(dtype) for a in arrays)


def block_params(c_in: int, c_out: int, seed: int, projection: bool = False, dtype=np.float64) -> dict[str, np.ndarray]:
    """A residual block's parameters: "W1" (c_out, c_in, 3, 3), "W2" (c_out, c_out, 3, 3), their BNs'
    gamma/beta/mean/var, and with ``projection`` "W_s" (c_out, c_in, 1, 1) and its BN's ("_s")."""
    params = {}
    shapes = {"1": (c_out, c_in, 3, 3), "2": (c_out, c_out, 3, 3)}
    if projection:
        shapes["_s"] = (c_out, c_in, 1, 1)
    for i, (key, shape) in enumerate(shapes.items()):
        fan_in = shape[1] * shape[2] * shape[3]
        params["W" + key] = randn(*shape, seed=seed + 10 * i, scale=np.sqrt(2.0 / fan_in)).astype(dtype)
        for name, value in zip(("gamma", "beta", "mean", "var"), bn_params(c_out, seed + 10 * i + 1, dtype)):
            params[name + key] = value
    return params


def bn_sequence(bn_forward: Callable) -> Callable:
    """``sequence(batches, x_eval, gamma, beta, running_mean, running_var, momentum, eps)``: ``bn_forward`` in
    training mode on each batch in turn, carrying its running statistics, then in evaluation mode on x_eval.
    Returns (the training outputs, the evaluation output, running_mean, running_var), like
    ``reference.resnet.batchnorm2d_sequence``."""

    def sequence(batches, x_eval, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
        outs = []
        for x in batches:
            out, running_mean, running_var = bn_forward(x, gamma, beta, running_mean, running_var, True, momentum, eps)
            outs.append(out)
        out = bn_forward(x_eval, gamma, beta, running_mean, running_var, False, momentum, eps)[0]
        return outs, out, running_mean, running_var

    return sequence


def block_stack(block_forward: Callable, block_backward: Callable, pool: Callable, pool_backward: Callable) -> Callable:
    """``stack(dpooled, x, blocks, strides)``: the blocks one after another (training mode), then global average
    pooling, forward with ``block_forward`` and ``pool``, backward with ``pool_backward`` and ``block_backward``.
    Returns (pooled, dx, [grads of each block]), like ``reference.resnet.block_stack_backward``."""

    def stack(dpooled, x, blocks, strides):
        inputs, a = [], x
        for params, stride in zip(blocks, strides):
            inputs.append(a)
            a = block_forward(a, params, stride, True)
        pooled = pool(a)
        d = pool_backward(dpooled, a.shape)
        grads = [None] * len(blocks)
        for i in reversed(range(len(blocks))):
            d, grads[i] = block_backward(d, inputs[i], blocks[i], strides[i])
        return pooled, d, grads

    return stack


def stack_case(N: int, size: int, channels: list[int], strides: list[int], seed: int, dtype=np.float64) -> Inputs:
    """Inputs of a ``block_stack``: dpooled (N, C_last), x (N, channels[0], size, size), one block per stride
    (a projection wherever the stride or the channel count changes)."""
    blocks = [
        block_params(c_in, c_out, seed + 100 * i, projection=(s != 1 or c_in != c_out), dtype=dtype)
        for i, (c_in, c_out, s) in enumerate(zip(channels[:-1], channels[1:], strides))
    ]
    x = randn(N, channels[0], size, size, seed=seed + 1).astype(dtype)
    return Inputs(randn(N, channels[-1], seed=seed + 2).astype(dtype), x, blocks, list(strides))
