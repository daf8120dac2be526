"""PyTorch references for chapter 6 (optimizers): torch.optim itself, fed the gradients we choose.

Every reference takes ``params`` (a dict of arrays) and ``grads`` (a list with one dict of
gradients per step), sets each tensor's ``.grad`` to the given gradient (zeros too: a zero
gradient is a real step, unlike ``.grad = None``, which torch.optim skips) and calls
``optimizer.step()``. It returns the parameters after every step, as
:func:`dlcourse.solved.optimizers.trajectory` does for a NumPy step function::

    {"step 1": {"W": ..., "b": ...}, "step 2": {...}, ...}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from ..device import to_numpy, to_tensor
from ..solved.optimizers import check_problem


def _momentum_ema_as_sgd(lr, beta=0.9):
    """v = beta v + (1 - beta) g from v = 0 is (1 - beta) times torch's buffer (buf = beta buf + g, buf_1 = g)."""
    return {"lr": lr * (1 - beta), "momentum": beta}


def _momentum_as_sgd(lr, momentum=0.9, dampening=0.0, weight_decay=0.0):
    return {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay}


def _nesterov_as_sgd(lr, momentum=0.9, weight_decay=0.0):
    return {"lr": lr, "momentum": momentum, "nesterov": True, "weight_decay": weight_decay}


# exercise name -> (torch.optim class, how the exercise's hyper-parameters map to torch's; None: as they are,
# the exercise's defaults being torch's)
TORCH_OPTIMIZERS: dict[str, tuple[type, Callable | None]] = {
    "sgd": (torch.optim.SGD, None),
    "momentum_ema": (torch.optim.SGD, _momentum_ema_as_sgd),
    "momentum": (torch.optim.SGD, _momentum_as_sgd),
    "nesterov": (torch.optim.SGD, _nesterov_as_sgd),
    "adagrad": (torch.optim.Adagrad, None),
    "rmsprop": (torch.optim.RMSprop, None),
    "adam": (torch.optim.Adam, None),
    "adamw": (torch.optim.AdamW, None),
}


def make_torch_optimizer(name: str, tensors: Sequence[torch.Tensor], **hyper) -> torch.optim.Optimizer:
    """The torch.optim optimizer that exercise ``name`` reproduces, with its hyper-parameters (mapped where needed)."""
    if name not in TORCH_OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {sorted(TORCH_OPTIMIZERS)}")
    cls, mapping = TORCH_OPTIMIZERS[name]
    options = mapping(**hyper) if mapping else hyper
    return cls(list(tensors), **options)


def torch_trajectory(name: str, params: Mapping[str, np.ndarray], grads: Sequence[Mapping[str, np.ndarray]],
                     **hyper) -> dict[str, dict[str, np.ndarray]]:
    """torch.optim's optimizer for exercise ``name`` (float64, on :func:`get_device`) fed ``grads``:
    the parameters after every step."""
    check_problem(params, grads)
    # copies: on the CPU, to_tensor shares memory with the array, and torch.optim updates in place
    tensors = {k: to_tensor(np.array(p, copy=True), requires_grad=True) for k, p in params.items()}
    optimizer = make_torch_optimizer(name, list(tensors.values()), **hyper)
    result = {}
    for k, step_grads in enumerate(grads, start=1):
        for key, tensor in tensors.items():
            tensor.grad = to_tensor(np.array(step_grads[key], copy=True))
        optimizer.step()
        result[f"step {k}"] = {key: to_numpy(t).copy() for key, t in tensors.items()}
    return result


def torch_minimize_path(name: str, f: Callable[[torch.Tensor], torch.Tensor], x0, steps: int, **hyper) -> np.ndarray:
    """The points torch.optim visits minimising ``f`` (gradients by autograd) from ``x0``: (steps + 1, dim)."""
    x = to_tensor(np.array(x0, dtype=np.float64, copy=True), requires_grad=True)
    optimizer = make_torch_optimizer(name, [x], **hyper)
    path = [to_numpy(x).copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        f(x).backward()
        optimizer.step()
        path.append(to_numpy(x).copy())
    return np.stack(path)


def sgd(params, grads, **hyper):
    """torch.optim.SGD(lr, weight_decay) without momentum."""
    return torch_trajectory("sgd", params, grads, **hyper)


def momentum_ema(params, grads, **hyper):
    """The moving-average momentum, v = beta v + (1 - beta) g, is torch.optim.SGD(lr=lr (1 - beta), momentum=beta)."""
    return torch_trajectory("momentum_ema", params, grads, **hyper)


def momentum(params, grads, **hyper):
    """torch.optim.SGD(lr, momentum, dampening, weight_decay)."""
    return torch_trajectory("momentum", params, grads, **hyper)


def nesterov(params, grads, **hyper):
    """torch.optim.SGD(lr, momentum, nesterov=True, weight_decay)."""
    return torch_trajectory("nesterov", params, grads, **hyper)


def adagrad(params, grads, **hyper):
    """torch.optim.Adagrad(lr, eps, weight_decay)."""
    return torch_trajectory("adagrad", params, grads, **hyper)


def rmsprop(params, grads, **hyper):
    """torch.optim.RMSprop(lr, alpha, eps, weight_decay)."""
    return torch_trajectory("rmsprop", params, grads, **hyper)


def adam(params, grads, **hyper):
    """torch.optim.Adam(lr, betas, eps, weight_decay)."""
    return torch_trajectory("adam", params, grads, **hyper)


def adamw(params, grads, **hyper):
    """torch.optim.AdamW(lr, betas, eps, weight_decay)."""
    return torch_trajectory("adamw", params, grads, **hyper)
