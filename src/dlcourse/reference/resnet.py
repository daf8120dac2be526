"""PyTorch references for chapter 5's modern CNN pieces: global average pooling
(``F.adaptive_avg_pool2d(x, 1)``), batch normalisation (``nn.BatchNorm2d`` with the learner's gamma, beta
and running buffers copied in, in training or evaluation mode), a residual block assembled from
``torch.nn`` parts (:class:`BasicBlock`, torchvision's layout), and their gradients by autograd.

A block's parameters are a dict: "W1", "gamma1", "beta1", "mean1", "var1" (conv1 and bn1), the same with
"2", and with "_s" for a projection shortcut (a 1x1 conv and its BN). Everything runs in float64 on
:func:`dlcourse.device.get_device`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..device import get_device, to_numpy, to_tensor

DTYPE = torch.float64
BN_KEYS = ("gamma", "beta", "mean", "var")


def global_avg_pool(x) -> np.ndarray:
    """F.adaptive_avg_pool2d(x, 1) flattened to (N, C)."""
    return to_numpy(F.adaptive_avg_pool2d(to_tensor(x), 1).flatten(1))


def global_avg_pool_backward(dout, x_shape) -> np.ndarray:
    """dL/dx by autograd through F.adaptive_avg_pool2d for L = sum(dout * pooled)."""
    x = torch.zeros(tuple(x_shape), dtype=DTYPE, device=get_device(), requires_grad=True)
    pooled = F.adaptive_avg_pool2d(x, 1).flatten(1)
    return to_numpy(torch.autograd.grad(pooled, x, to_tensor(dout))[0])


def build_batchnorm(gamma, beta, running_mean, running_var, momentum: float = 0.1, eps: float = 1e-5) -> nn.BatchNorm2d:
    """``nn.BatchNorm2d(C, eps, momentum)`` in float64 with weight = gamma, bias = beta and the running buffers."""
    shapes = [np.shape(a) for a in (gamma, beta, running_mean, running_var)]
    if len(set(shapes)) != 1 or len(shapes[0]) != 1:
        raise ValueError(f"gamma, beta, running_mean and running_var must all be (C,), got {shapes}")
    bn = nn.BatchNorm2d(shapes[0][0], eps=eps, momentum=momentum, dtype=DTYPE, device=get_device())
    with torch.no_grad():
        for name, value in (
            ("weight", gamma),
            ("bias", beta),
            ("running_mean", running_mean),
            ("running_var", running_var),
        ):
            getattr(bn, name).copy_(to_tensor(value))
    return bn


def batchnorm2d_forward(
    x, gamma, beta, running_mean, running_var, training: bool = True, momentum: float = 0.1, eps: float = 1e-5
):
    """(out, running_mean, running_var) of ``nn.BatchNorm2d`` after one call in training or evaluation mode."""
    bn = build_batchnorm(gamma, beta, running_mean, running_var, momentum, eps).train(training)
    with torch.no_grad():
        out = bn(to_tensor(x))
    return to_numpy(out), to_numpy(bn.running_mean), to_numpy(bn.running_var)


def batchnorm2d_sequence(
    batches, x_eval, gamma, beta, running_mean, running_var, momentum: float = 0.1, eps: float = 1e-5
):
    """One ``nn.BatchNorm2d`` called in training mode on each of ``batches`` in turn, then in evaluation mode
    on ``x_eval``: (the training outputs, the evaluation output, running_mean, running_var)."""
    bn = build_batchnorm(gamma, beta, running_mean, running_var, momentum, eps)
    with torch.no_grad():
        outs = [to_numpy(bn.train()(to_tensor(x))) for x in batches]
        out = to_numpy(bn.eval()(to_tensor(x_eval)))
    return outs, out, to_numpy(bn.running_mean), to_numpy(bn.running_var)


def batchnorm2d_backward(dout, x, gamma, eps: float = 1e-5):
    """(dx, dgamma, dbeta) by autograd through ``nn.BatchNorm2d`` in training mode, L = sum(dout * out)."""
    C = np.shape(gamma)[0]
    bn = build_batchnorm(gamma, np.zeros(C), np.zeros(C), np.ones(C), eps=eps).train()
    xt = to_tensor(x, requires_grad=True)
    out = bn(xt)
    return tuple(to_numpy(g) for g in torch.autograd.grad(out, [xt, bn.weight, bn.bias], to_tensor(dout)))


class BasicBlock(nn.Module):
    """torchvision's ResNet basic block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), 3x3 convs
    without bias (conv1 with ``stride``), shortcut = identity, or 1x1 conv (same stride) + BN."""

    def __init__(
        self, c_in: int, c_out: int, stride: int = 1, projection: bool | None = None, dtype=DTYPE, device=None
    ):
        super().__init__()
        kw = {"dtype": dtype, "device": device}
        if projection is None:
            projection = stride != 1 or c_in != c_out
        if not projection and (stride != 1 or c_in != c_out):
            raise ValueError(f"an identity shortcut needs stride 1 and c_in == c_out, got {stride}, {c_in} -> {c_out}")
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False, **kw)
        self.bn1 = nn.BatchNorm2d(c_out, **kw)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False, **kw)
        self.bn2 = nn.BatchNorm2d(c_out, **kw)
        self.shortcut = (
            nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False, **kw), nn.BatchNorm2d(c_out, **kw))
            if projection
            else nn.Identity()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))

    def parts(self) -> dict[str, tuple[nn.Conv2d, nn.BatchNorm2d]]:
        """{"1": (conv1, bn1), "2": (conv2, bn2), "_s": (1x1 conv, BN) when there is a projection}."""
        found = {"1": (self.conv1, self.bn1), "2": (self.conv2, self.bn2)}
        if isinstance(self.shortcut, nn.Sequential):
            found["_s"] = (self.shortcut[0], self.shortcut[1])
        return found


def build_block(params: dict, stride: int = 1) -> BasicBlock:
    """A float64 :class:`BasicBlock` with the dict's weights, gammas, betas and running buffers copied in."""
    W1 = np.asarray(params["W1"])
    block = BasicBlock(W1.shape[1], W1.shape[0], stride, projection="W_s" in params, device=get_device())
    with torch.no_grad():
        for key, (conv, bn) in block.parts().items():
            if tuple(conv.weight.shape) != np.shape(params["W" + key]):
                raise ValueError(
                    f"W{key} has shape {np.shape(params['W' + key])}, the block needs {tuple(conv.weight.shape)}"
                )
            conv.weight.copy_(to_tensor(params["W" + key]))
            for name, value in zip(("weight", "bias", "running_mean", "running_var"), BN_KEYS):
                getattr(bn, name).copy_(to_tensor(params[value + key]))
    return block


def residual_block_forward(x, params: dict, stride: int = 1, training: bool = True) -> np.ndarray:
    """The output of :class:`BasicBlock` with these parameters, in training (batch statistics) or eval mode."""
    block = build_block(params, stride).train(training)
    with torch.no_grad():
        return to_numpy(block(to_tensor(x)))


def _weight_grads(block: BasicBlock) -> list[tuple[str, torch.Tensor]]:
    return [
        (name + key, tensor)
        for key, (conv, bn) in block.parts().items()
        for name, tensor in (("W", conv.weight), ("gamma", bn.weight), ("beta", bn.bias))
    ]


def residual_block_backward(dout, x, params: dict, stride: int = 1):
    """(dx, grads) by autograd through :class:`BasicBlock` in training mode, L = sum(dout * out); grads has
    "W1", "gamma1", "beta1", "W2", "gamma2", "beta2" (and "W_s", "gamma_s", "beta_s" with a projection)."""
    block = build_block(params, stride).train()
    xt = to_tensor(x, requires_grad=True)
    named = _weight_grads(block)
    found = torch.autograd.grad(block(xt), [xt] + [t for _, t in named], to_tensor(dout))
    return to_numpy(found[0]), {name: to_numpy(g) for (name, _), g in zip(named, found[1:])}


def block_stack_backward(dpooled, x, blocks: list, strides: list):
    """A small network, the blocks one after another (training mode) then global average pooling:
    (pooled (N, C), dx, [grads of each block]) by autograd, L = sum(dpooled * pooled)."""
    built = [build_block(p, s).train() for p, s in zip(blocks, strides)]
    xt = to_tensor(x, requires_grad=True)
    a = xt
    for block in built:
        a = block(a)
    pooled = F.adaptive_avg_pool2d(a, 1).flatten(1)
    named = [_weight_grads(b) for b in built]
    found = torch.autograd.grad(pooled, [xt] + [t for n in named for _, t in n], to_tensor(dpooled))
    grads, i = [], 1
    for n in named:
        grads.append({name: to_numpy(g) for (name, _), g in zip(n, found[i : i + len(n)])})
        i += len(n)
    return to_numpy(pooled), to_numpy(found[0]), grads
