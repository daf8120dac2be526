"""Chapter 6's demos: how far a NumPy step function's trajectory is from torch.optim's, a path under a learning-rate
schedule, and Adam without its bias correction (for the plot of the first steps)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..mistakes.optimizers import adam_without_bias_correction
from ..reference.optimizers import torch_trajectory
from ..solved.optimizers import trajectory as numpy_trajectory

__all__ = ["adam_without_bias_correction", "largest_difference", "scheduled_path"]


def largest_difference(step_fn: Callable, name: str, params, grads, **hyper) -> float:
    """The largest |NumPy - torch.optim| over every entry of every parameter after every step."""
    ours = numpy_trajectory(step_fn, params, grads, **hyper)
    theirs = torch_trajectory(name, params, grads, **hyper)
    return max(float(np.max(np.abs(ours[step][key] - theirs[step][key]), initial=0.0))
               for step in theirs for key in theirs[step])


def scheduled_path(step_fn: Callable, grad_fn: Callable[[np.ndarray], np.ndarray], x0, lrs, **hyper) -> np.ndarray:
    """The points ``step_fn`` visits from ``x0`` when step k uses the learning rate ``lrs[k]``: (len(lrs) + 1, dim)."""
    x, state = np.array(x0, dtype=np.float64), {}
    path = [x]
    for lr in lrs:
        x, state = step_fn(x, grad_fn(x), state, lr=float(lr), **hyper)
        path.append(np.array(x, copy=True))
    return np.stack(path)
