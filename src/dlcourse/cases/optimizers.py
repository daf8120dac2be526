"""Chapter 6 (optimizers): the test problems and the adapter its test cells hand to ``check``.

* :func:`random_problem`: parameters and a list of gradient dicts, one per step;
* :func:`as_trajectory`: a step function as ``(params, grads, **hyper) -> {"step k": {name: array}}``, what the
  references return.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ..solved.optimizers import StepFunction, trajectory


def as_trajectory(step_fn: StepFunction) -> Callable[..., dict[str, dict[str, np.ndarray]]]:
    """``step_fn`` as a function ``(params, grads, **hyper) -> trajectory``, named after it (what the tests check)."""

    def run(params, grads, **hyper):
        return trajectory(step_fn, params, grads, **hyper)

    run.__name__ = getattr(step_fn, "__name__", "your step function")
    return run


def random_problem(
    shapes: Mapping[str, tuple[int, ...]],
    steps: int = 100,
    seed: int = 0,
    scale: float = 1.0,
    zero_grad: Sequence[str] = (),
    dtype=np.float64,
):
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
        grads.append(
            {
                name: (
                    np.zeros(shape) if name in zero_grad else scale * (0.5 * drift[name] + rng.standard_normal(shape))
                ).astype(dtype)
                for name, shape in shapes.items()
            }
        )
    return params, grads
