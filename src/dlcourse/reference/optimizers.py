"""PyTorch references for chapter 6 (optimizers): torch.optim itself, fed the gradients we choose.

Every reference takes ``params`` (a dict of arrays) and ``grads`` (a list with one dict of
gradients per step), sets each tensor's ``.grad`` to the given gradient (zeros too: a zero
gradient is a real step, unlike ``.grad = None``, which torch.optim skips) and calls
``optimizer.step()``. It returns the parameters after every step, as
:func:`dlcourse.solved.optimizers.trajectory` does for a NumPy step function::

    {"step 1": {"W": ..., "b": ...}, "step 2": {...}, ...}
"""

from __future__ import annotations

import re
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

from ..device import get_device, to_numpy, to_tensor
from ..hints import Hint, Mismatch
from ..solved.optimizers import check_problem, trajectory as numpy_trajectory


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


def largest_difference(step_fn: Callable, name: str, params, grads, **hyper) -> float:
    """The largest |NumPy - torch.optim| over every entry of every parameter after every step."""
    ours = numpy_trajectory(step_fn, params, grads, **hyper)
    theirs = torch_trajectory(name, params, grads, **hyper)
    return max(float(np.max(np.abs(ours[step][key] - theirs[step][key]), initial=0.0))
               for step in theirs for key in theirs[step])


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


# --- test problems --------------------------------------------------------------------------

def random_problem(shapes: Mapping[str, tuple[int, ...]], steps: int = 100, seed: int = 0, scale: float = 1.0,
                   zero_grad: Sequence[str] = (), dtype=np.float64):
    """(params, grads) for an optimizer test: standard-normal parameters and ``steps`` dicts of gradients
    (normal, times ``scale``, around a drifting mean so that momentum has something to follow); the
    parameters named in ``zero_grad`` get zero gradients at every step."""
    unknown = set(zero_grad) - set(shapes)
    if unknown:
        raise ValueError(f"zero_grad names unknown parameters {sorted(unknown)}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    rng = np.random.default_rng(seed)
    params = {name: rng.standard_normal(shape).astype(dtype) for name, shape in shapes.items()}
    drift = {name: rng.standard_normal(shape) for name, shape in shapes.items()}
    grads = []
    for _ in range(steps):
        grads.append({name: (np.zeros(shape) if name in zero_grad else
                             scale * (0.5 * drift[name] + rng.standard_normal(shape))).astype(dtype)
                      for name, shape in shapes.items()})
    return params, grads


# --- hints: the trajectory of a wrong step function -----------------------------------------

def _leaf_at(result, path: str):
    for key in re.findall(r"\['([^']*)'\]", path):
        result = result[key]
    return result


def step_mistake(wrong_steps: Callable | Sequence[Callable], message: str) -> Hint:
    """A hint for ``check``: shown when the learner's parameters at the failing step equal what one of
    ``wrong_steps`` (step functions with the mistake) gives there."""
    wrong_steps = [wrong_steps] if callable(wrong_steps) else list(wrong_steps)

    def matches(wrong_step, m: Mismatch) -> bool:
        wrong = np.asarray(_leaf_at(numpy_trajectory(wrong_step, *m.args, **m.kwargs), m.path), dtype=np.float64)
        got = np.asarray(m.got, dtype=np.float64)
        return wrong.shape == got.shape and np.allclose(got, wrong, rtol=1e-6, atol=1e-9)

    return Hint(message, lambda m: any(matches(wrong_step, m) for wrong_step in wrong_steps))


# Wrong step functions for the chapter's hints: the mistakes learners make.

def sgd_ignoring_weight_decay(p, g, state, lr, weight_decay=0.0):
    return p - lr * g, state


def sgd_decay_after_step(p, g, state, lr, weight_decay=0.0):
    return (p - lr * g) * (1 - lr * weight_decay), state


def momentum_ema_undamped(p, g, state, lr, beta=0.9):
    v = beta * state.get("v", 0.0) + g
    return p - lr * v, {"v": v}


def momentum_ema_weights_swapped(p, g, state, lr, beta=0.9):
    v = (1 - beta) * state.get("v", 0.0) + beta * g
    return p - lr * v, {"v": v}


def momentum_buffer_from_zero(p, g, state, lr, momentum=0.9, dampening=0.0, weight_decay=0.0):
    g = g + weight_decay * p
    buf = momentum * state.get("buf", 0.0) + (1 - dampening) * g
    return p - lr * buf, {"buf": buf}


def momentum_ignoring_dampening(p, g, state, lr, momentum=0.9, dampening=0.0, weight_decay=0.0):
    g = g + weight_decay * p
    buf = momentum * state.get("buf", 0.0) + g
    return p - lr * buf, {"buf": buf}


def nesterov_plain_momentum(p, g, state, lr, momentum=0.9, weight_decay=0.0):
    g = g + weight_decay * p
    buf = g if "buf" not in state else momentum * state["buf"] + g
    return p - lr * buf, {"buf": buf}


def nesterov_old_buffer(p, g, state, lr, momentum=0.9, weight_decay=0.0):
    g = g + weight_decay * p
    old = state.get("buf", g)  # on the first step old and new buffer are both g
    buf = g if "buf" not in state else momentum * old + g
    return p - lr * (g + momentum * old), {"buf": buf}


def adagrad_eps_inside_sqrt(p, g, state, lr=0.01, eps=1e-10, weight_decay=0.0):
    g = g + weight_decay * p
    sum_sq = state.get("sum", 0.0) + g * g
    return p - lr * g / np.sqrt(sum_sq + eps), {"sum": sum_sq}


def adagrad_not_accumulated(p, g, state, lr=0.01, eps=1e-10, weight_decay=0.0):
    g = g + weight_decay * p
    return p - lr * g / (np.sqrt(g * g) + eps), state


def adagrad_without_sqrt(p, g, state, lr=0.01, eps=1e-10, weight_decay=0.0):
    g = g + weight_decay * p
    sum_sq = state.get("sum", 0.0) + g * g
    return p - lr * g / (sum_sq + eps), {"sum": sum_sq}


def rmsprop_plain_mean(p, g, state, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = g + weight_decay * p
    t = state.get("t", 0) + 1
    mean_sq = state.get("mean_sq", 0.0) + (g * g - state.get("mean_sq", 0.0)) / t
    return p - lr * g / (np.sqrt(mean_sq) + eps), {"t": t, "mean_sq": mean_sq}


def rmsprop_weights_swapped(p, g, state, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = g + weight_decay * p
    square_avg = (1 - alpha) * state.get("square_avg", 0.0) + alpha * g * g
    return p - lr * g / (np.sqrt(square_avg) + eps), {"square_avg": square_avg}


def rmsprop_eps_inside_sqrt(p, g, state, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = g + weight_decay * p
    square_avg = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g * g
    return p - lr * g / np.sqrt(square_avg + eps), {"square_avg": square_avg}


def _adam(p, g, state, lr, betas, eps, weight_decay, *, correct=(True, True), t_offset=0, eps_inside=False):
    beta1, beta2 = betas
    g = g + weight_decay * p
    t = state.get("step", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** (t + t_offset)) if correct[0] else m
    v_hat = v / (1 - beta2 ** (t + t_offset)) if correct[1] else v
    denominator = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
    return p - lr * m_hat / denominator, {"step": t, "m": m, "v": v}


def adam_without_bias_correction(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    return _adam(p, g, state, lr, betas, eps, weight_decay, correct=(False, False))


def adam_m_uncorrected(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    return _adam(p, g, state, lr, betas, eps, weight_decay, correct=(False, True))


def adam_v_uncorrected(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    return _adam(p, g, state, lr, betas, eps, weight_decay, correct=(True, False))


def adam_bias_correction_off_by_one(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    return _adam(p, g, state, lr, betas, eps, weight_decay, t_offset=1)


def adam_eps_inside_sqrt(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    return _adam(p, g, state, lr, betas, eps, weight_decay, eps_inside=True)


def adam_betas_swapped(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    return _adam(p, g, state, lr, betas[::-1], eps, weight_decay)


def adamw_as_l2(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    return _adam(p, g, state, lr, betas, eps, weight_decay)


def adamw_decay_without_lr(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    return _adam(p * (1 - weight_decay), g, state, lr, betas, eps, 0.0)


def adamw_decay_after_step(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    new_p, new_state = _adam(p, g, state, lr, betas, eps, 0.0)
    return new_p * (1 - lr * weight_decay), new_state
