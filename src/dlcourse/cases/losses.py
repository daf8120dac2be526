"""Chapter 4 (losses and metrics): the adapters its test cells hand to ``check`` (trusted by the watch).

Both turn a NumPy floating-point error raised inside the learner's function (the checker runs it with
``np.errstate(over="raise", invalid="raise")``) into one that says what this chapter's rule is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable


def exp_errors_explained(fn: Callable) -> Callable:
    """The learner's function, with NumPy's overflow / invalid-value error explained for softmax-style code."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except FloatingPointError as error:
            raise FloatingPointError(
                f"{error}. In float64, exp(x) overflows to inf for x > 709 and underflows to 0 for x < -745, so a row "
                f"whose exps all underflow sums to 0, and 0/0 is nan. Subtract each row's own maximum before exp: "
                f"every exponent is then <= 0 and the largest term is exp(0) = 1"
            ) from error

    return run


def zero_division_explained(metric_fn: Callable) -> Callable:
    """The learner's metric function, with NumPy's 0/0 error turned into one that names this chapter's rule."""

    @functools.wraps(metric_fn)
    def run(*args, **kwargs):
        try:
            return metric_fn(*args, **kwargs)
        except FloatingPointError as error:
            raise ZeroDivisionError(
                f"{error}: some ratio was 0/0. By this chapter's zero-division rule it is 0: a class never "
                f"predicted has precision 0, a class that never occurs has recall 0, and F1 is 0 when "
                f"precision + recall is 0. Divide only where the denominator is not 0."
            ) from error

    return run
