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


def torch_trajectory(
    name: str, params: Mapping[str, np.ndarray], grads: Sequence[Mapping[str, np.ndarray]], **hyper
) -> dict[str, dict[str, np.ndarray]]:
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


# --- learning-rate schedules: torch.optim.lr_scheduler over a whole run ---------------------


def _step_lr(optimizer, n_steps: int, step_size: int, gamma: float = 0.1):
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)


def _cosine(optimizer, n_steps: int, T_max: int, eta_min: float = 0.0):
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=T_max, eta_min=eta_min)


def _warmup_cosine(optimizer, n_steps: int, warmup_steps: int, start_factor: float = 0.1, eta_min: float = 0.0):
    warmup = torch.optim.lr_scheduler.LinearLR(
        optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup_steps
    )
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=n_steps - warmup_steps, eta_min=eta_min)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[warmup_steps])


# schedule name -> scheduler(optimizer, n_steps, **the exercise's options)
SCHEDULERS: dict[str, Callable] = {"step": _step_lr, "cosine": _cosine, "warmup_cosine": _warmup_cosine}


def _scheduled_lrs(schedule: str, base_lr: float, n_steps: int, **options) -> np.ndarray:
    """The learning rate torch.optim.SGD uses at each of ``n_steps`` steps of a run (a real step each time, then
    ``scheduler.step()``) under the scheduler ``schedule``."""
    p = to_tensor(np.zeros(1), requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=base_lr)
    scheduler = SCHEDULERS[schedule](optimizer, n_steps, **options)
    lrs = []
    for _ in range(n_steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        p.grad = to_tensor(np.ones(1))
        optimizer.step()
        scheduler.step()
    return np.array(lrs, dtype=np.float64)


def step_schedule(base_lr: float, n_steps: int, step_size: int, gamma: float = 0.1) -> np.ndarray:
    """torch.optim.lr_scheduler.StepLR(step_size, gamma): the learning rate of every step of the run."""
    return _scheduled_lrs("step", base_lr, n_steps, step_size=step_size, gamma=gamma)


def cosine_schedule(base_lr: float, n_steps: int, T_max: int, eta_min: float = 0.0) -> np.ndarray:
    """torch.optim.lr_scheduler.CosineAnnealingLR(T_max, eta_min): the learning rate of every step of the run."""
    return _scheduled_lrs("cosine", base_lr, n_steps, T_max=T_max, eta_min=eta_min)


def warmup_cosine_schedule(
    base_lr: float, n_steps: int, warmup_steps: int, start_factor: float = 0.1, eta_min: float = 0.0
) -> np.ndarray:
    """torch.optim.lr_scheduler.SequentialLR of LinearLR(start_factor, total_iters=warmup_steps) and
    CosineAnnealingLR(T_max=n_steps - warmup_steps, eta_min), switching at warmup_steps."""
    return _scheduled_lrs(
        "warmup_cosine", base_lr, n_steps, warmup_steps=warmup_steps, start_factor=start_factor, eta_min=eta_min
    )


SCHEDULES: dict[str, Callable[..., np.ndarray]] = {
    "step": step_schedule,
    "cosine": cosine_schedule,
    "warmup_cosine": warmup_cosine_schedule,
}


def torch_scheduled_path(
    name: str,
    f: Callable[[torch.Tensor], torch.Tensor],
    x0,
    schedule: str,
    base_lr: float,
    n_steps: int,
    schedule_options: Mapping | None = None,
    **hyper,
) -> np.ndarray:
    """The points torch.optim's optimizer ``name`` visits minimising ``f`` (autograd) from ``x0`` in ``n_steps`` steps,
    its learning rate set by the scheduler ``schedule`` ("step", "cosine", "warmup_cosine"): (n_steps + 1, dim)."""
    x = to_tensor(np.array(x0, dtype=np.float64, copy=True), requires_grad=True)
    optimizer = make_torch_optimizer(name, [x], lr=base_lr, **hyper)
    scheduler = SCHEDULERS[schedule](optimizer, n_steps, **(schedule_options or {}))
    path = [to_numpy(x).copy()]
    for _ in range(n_steps):
        optimizer.zero_grad()
        f(x).backward()
        optimizer.step()
        scheduler.step()
        path.append(to_numpy(x).copy())
    return np.stack(path)
