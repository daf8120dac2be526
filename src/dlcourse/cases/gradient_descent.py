"""Chapter 3 (gradient descent): the adapters its test cells hand to ``check`` (trusted by the watch).

* :func:`listed`: ``minibatches`` (a generator) as a function returning the list of batches;
* :func:`after_step`: ``gd_step`` (in place, returns nothing) as a function returning the parameters after it;
* :func:`trainer`: the learner's training loop on the linear or the logistic model, fed the course's solved
  gradients (so that a mistake in exercise 3 or 4 does not count twice); the test allows :data:`MODEL_BLOCKS`;
* :func:`check_rejects`: the learner's function refuses bad input with a ``ValueError``.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable

from ..checking import CheckFailed, run_learner
from ..solved import gradient_descent as _solved

MODELS = {"linear": _solved.linear_regression_grads, "logistic": _solved.logistic_regression_grads}
MODEL_BLOCKS = (
    "dlcourse.solved.gradient_descent.linear_regression_grads",
    "dlcourse.solved.gradient_descent.logistic_regression_grads",
)


def listed(batches_fn: Callable) -> Callable:
    """``batches_fn`` (a generator of batches) made to return a list, so that ``check`` can compare it."""

    @functools.wraps(batches_fn)
    def as_list(*args, **kwargs):
        return list(batches_fn(*args, **kwargs))

    return as_list


def after_step(step_fn: Callable) -> Callable:
    """A function returning the parameters after ``step_fn(params, grads, lr)`` updated a copy of them in place."""

    @functools.wraps(step_fn)
    def updated(params, grads, lr):
        params = copy.deepcopy(params)
        step_fn(params, grads, lr)
        return params

    return updated


def trainer(gradient_descent: Callable) -> Callable:
    """``train(X, y, params, model, **options)``: the learner's loop on ``model`` ("linear" or "logistic")."""

    @functools.wraps(gradient_descent)
    def train(X, y, params, model, **options):
        return gradient_descent(MODELS[model], X, y, params, **options)

    return train


def check_rejects(
    fn: Callable,
    cases: list[tuple[tuple, dict, str]],
    error: type[Exception] = ValueError,
    name: str | None = None,
    allow: tuple[str, ...] = (),
) -> None:
    """Check that ``fn(*args, **kwargs)`` raises ``error`` for every (args, kwargs, why) case (under the watch)."""
    name = name or getattr(fn, "__name__", "your function")
    for args, kwargs, why in cases:
        try:
            run_learner(fn, *args, name=name, allow=allow, **kwargs)
        except CheckFailed as failed:
            cause = failed.__cause__
            if isinstance(cause, error):
                continue
            if cause is None or isinstance(cause, NotImplementedError):
                raise
            problem = CheckFailed(
                f"{name} should raise {error.__name__} when {why}, but raised {type(cause).__name__}: {cause}"
            )
            problem.__cause__ = cause
            raise problem from None
        raise CheckFailed(
            f"{name} should raise {error.__name__} when {why}, but it ran without an error. "
            f"Check the inputs at the start and raise a {error.__name__} with a message "
            f"that says what is wrong."
        )
    print(f"\u2714 {name} rejects bad input with a {error.__name__} ({len(cases)} cases)")
