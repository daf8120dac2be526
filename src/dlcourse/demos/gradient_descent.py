"""Chapter 3's demos: the loss along a recorded trajectory (for the curves of sections 5 and 6)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

LossAndGrads = Callable[[dict, np.ndarray, np.ndarray], tuple[float, dict]]


def loss_along(
    loss_and_grads: LossAndGrads, trajectory: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, every: int = 1
) -> np.ndarray:
    """The loss on the whole of (X, y) at every ``every``-th row of a trajectory."""
    n_rows = len(next(iter(trajectory.values())))
    return np.array(
        [loss_and_grads({k: v[row] for k, v in trajectory.items()}, X, y)[0] for row in range(0, n_rows, every)]
    )
