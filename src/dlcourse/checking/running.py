"""Running the learner's function (first, under the watch) and the reference (after, in float64)."""

from __future__ import annotations

import copy

import numpy as np

from ..mistakes import leaves
from ..watch import Watch
from .describe import arg_names, describe_inputs

OVERFLOW_HINT = (
    "np.exp(x) overflows to inf for x > 709 (float64), and inf - inf or 0 * inf is nan. "
    "Rearrange the formula so that every exp sees only arguments <= 0; note that np.where(c, a, b) "
    "computes both a and b everywhere, so the unused branch can overflow too."
)
INVALID_HINT = (
    "an invalid value (nan) comes from 0/0, inf - inf or 0 * inf. With exponentials: exp(x) overflows to inf "
    "for x > 709 and underflows to 0 for x < -745 (so a sum of exps can be 0, and 0/0 is nan); shift the "
    "arguments by their maximum first, and note that np.where(c, a, b) computes both a and b everywhere."
)


class Inputs:
    """The inputs of one test case: positional and keyword arguments."""

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs

    def __repr__(self):
        from .describe import short

        parts = [short(a) for a in self.args] + [f"{k}={short(v)}" for k, v in self.kwargs.items()]
        return f"Inputs({', '.join(parts)})"


def as_inputs(case) -> Inputs:
    if isinstance(case, Inputs):
        return case
    if isinstance(case, tuple):
        return Inputs(*case)
    return Inputs(case)


def float_dtype_of(inputs: Inputs) -> np.dtype:
    """The float dtype the learner's result should have: float32 only if every float input is float32."""
    dtypes = [
        a.dtype for a in leaves((inputs.args, inputs.kwargs)) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
    ]
    return np.dtype(np.float32) if dtypes and all(d == np.float32 for d in dtypes) else np.dtype(np.float64)


def to_float64(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    if isinstance(value, dict):
        return {k: to_float64(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_float64(v) for v in value)
    return copy.deepcopy(value)


def run_reference(reference_fn, inputs: Inputs):
    return reference_fn(*to_float64(inputs.args), **to_float64(inputs.kwargs))


def run_student(student_fn, inputs: Inputs, name: str, where: str, watch: Watch):
    """The learner's result on a deep copy of the inputs, under the watch; AssertionError with a lesson on trouble."""
    args, kwargs = copy.deepcopy(inputs.args), copy.deepcopy(inputs.kwargs)
    error = None
    try:
        with watch, np.errstate(over="raise", invalid="raise"):
            got = student_fn(*args, **kwargs)
    except Exception as exc:  # judged below, after the watch has had its say
        error = exc
    if watch.violation:
        raise AssertionError(watch.message())
    if isinstance(error, NotImplementedError):
        raise AssertionError(
            f"{name} is not implemented yet: replace `raise NotImplementedError()` "
            f"with your code, then run its cell and this test cell again."
        ) from error
    if isinstance(error, FloatingPointError):
        raise AssertionError(
            f"{where}: your function computed an {str(error).split()[0]} ({error}).\n"
            f"  inputs: {describe_inputs(student_fn, inputs.args, inputs.kwargs)}\n"
            f"  hint: {OVERFLOW_HINT if 'overflow' in str(error) else INVALID_HINT}"
        ) from error
    if error is not None:
        raise AssertionError(
            f"{where}: your function raised {type(error).__name__}: {error}\n"
            f"  inputs: {describe_inputs(student_fn, inputs.args, inputs.kwargs)}\n"
            f"  (the lines of your code where it happened are below)"
        ) from error
    changed = changed_inputs(student_fn, inputs, args, kwargs)
    if changed:
        raise AssertionError(
            f"{where}: your function changed its input {changed} in place. Compute a new array "
            f"instead (for example `np.maximum(x, 0)` rather than `x[x < 0] = 0`): the caller "
            f"still needs the original values."
        )
    return got


def changed_inputs(fn, inputs: Inputs, args, kwargs) -> str | None:
    names = arg_names(fn, len(args))
    pairs = [(names[i], before, after) for i, (before, after) in enumerate(zip(inputs.args, args))]
    pairs += [(k, inputs.kwargs[k], kwargs[k]) for k in inputs.kwargs]
    for label, before, after in pairs:
        for b, a in zip(leaves(before), leaves(after)):
            if isinstance(b, np.ndarray) and not np.array_equal(b, a, equal_nan=b.dtype.kind == "f"):
                return f"`{label}`"
    return None
