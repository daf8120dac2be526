"""Chapter 6's demos: how far a NumPy step function's trajectory is from torch.optim's, a path under a learning-rate
schedule, a learning-rate range test, and Adam without its bias correction (for the plot of the first steps)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..mistakes.optimizers import adam_without_bias_correction
from ..reference.optimizers import torch_trajectory
from ..solved.backprop import mlp_backward
from ..solved.gradient_descent import minibatches
from ..solved.losses import cross_entropy, cross_entropy_grad
from ..solved.networks import mlp_forward
from ..solved.optimizers import trajectory as numpy_trajectory

__all__ = ["adam_without_bias_correction", "largest_difference", "lr_range_test", "scheduled_path"]


def largest_difference(step_fn: Callable, name: str, params, grads, **hyper) -> float:
    """The largest |NumPy - torch.optim| over every entry of every parameter after every step."""
    ours = numpy_trajectory(step_fn, params, grads, **hyper)
    theirs = torch_trajectory(name, params, grads, **hyper)
    return max(
        float(np.max(np.abs(ours[step][key] - theirs[step][key]), initial=0.0))
        for step in theirs
        for key in theirs[step]
    )


def scheduled_path(step_fn: Callable, grad_fn: Callable[[np.ndarray], np.ndarray], x0, lrs, **hyper) -> np.ndarray:
    """The points ``step_fn`` visits from ``x0`` when step k uses the learning rate ``lrs[k]``: (len(lrs) + 1, dim)."""
    x, state = np.array(x0, dtype=np.float64), {}
    path = [x]
    for lr in lrs:
        x, state = step_fn(x, grad_fn(x), state, lr=float(lr), **hyper)
        path.append(np.array(x, copy=True))
    return np.stack(path)


def lr_range_test(
    step_fn: Callable,
    params: dict[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    *,
    lr_min: float = 1e-4,
    lr_max: float = 10.0,
    steps: int = 120,
    batch_size: int = 32,
    seed: int = 0,
    stop_factor: float = 4.0,
    **hyper,
) -> tuple[np.ndarray, np.ndarray]:
    """The learning-rate range test (L. Smith, 2017): train a copy of the MLP ``params`` on mini-batches of (X, y)
    with the step function ``step_fn``, the learning rate growing geometrically from ``lr_min`` to ``lr_max`` over
    ``steps`` steps; stop once the batch loss exceeds ``stop_factor`` times the lowest so far.
    Returns (learning rates, batch losses), one per step taken."""
    params = {k: v.copy() for k, v in params.items()}
    states: dict[str, dict] = {k: {} for k in params}
    lrs = np.geomspace(lr_min, lr_max, steps)
    losses: list[float] = []
    epoch = 0
    while len(losses) < steps:
        for X_batch, y_batch in minibatches(X, y, batch_size, seed=seed + epoch):
            if len(losses) == steps:
                break
            output, caches = mlp_forward(X_batch, params)
            loss = cross_entropy(output, y_batch)
            losses.append(loss)
            if not np.isfinite(loss) or loss > stop_factor * min(losses):
                return lrs[: len(losses)], np.array(losses)
            grads = mlp_backward(cross_entropy_grad(output, y_batch), caches, params)
            lr = float(lrs[len(losses) - 1])
            for k in params:
                params[k], states[k] = step_fn(params[k], grads[k], states[k], lr=lr, **hyper)
        epoch += 1
    return lrs, np.array(losses)
