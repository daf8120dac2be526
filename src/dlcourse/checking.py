"""The one checking helper every test cell calls.

``check(student_fn, reference_fn, cases)`` runs the learner's NumPy function and
the PyTorch reference on the same inputs and raises an ``AssertionError`` that
teaches when they differ: which output, which case, where the largest error is,
expected vs got, and a hint when the mistake looks like a common one.

A test cell reads like this::

    check(sigmoid, ref.sigmoid, [
        np.array([-2.0, 0.0, 2.0]),          # one argument
        Inputs(randn(3, 4, seed=1)),         # the same, spelled out
    ])

Tolerances. The reference runs in float64. Two correct float64 implementations
differ only by rounding (relative 1e-16 per operation, ~1e-13 after summing
thousands of terms in another order), while a real mistake changes results at
the 1e-3..1 level. ``rtol=1e-7`` sits far from both; ``atol=1e-10`` only
forgives rounding noise in entries that should be (close to) zero. Results
the learner computes in float32 (because the inputs were float32) are compared
with float32-sized tolerances (``rtol=1e-5``, ``atol=1e-6``).
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .guard import install_name_guard, remember_originals, verify_environment
from .hints import GENERIC_HINTS, Hint, Mismatch

__all__ = ["check", "check_seeded", "Inputs", "Hint", "randn", "uniform", "randint"]

RTOL, ATOL = 1e-7, 1e-10
RTOL_F32, ATOL_F32 = 1e-5, 1e-6
_SHOW_VALUES_UP_TO = 12  # inputs this small are printed in full in a failure message


class Inputs:
    """The inputs of one test case: positional and keyword arguments."""

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs

    def __repr__(self):
        parts = [_short(a) for a in self.args] + [f"{k}={_short(v)}" for k, v in self.kwargs.items()]
        return f"Inputs({', '.join(parts)})"


def randn(*shape: int, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """Seeded standard-normal float64 array of the given shape, times ``scale``."""
    return scale * np.random.default_rng(seed).standard_normal(shape)


def uniform(*shape: int, low: float = -1.0, high: float = 1.0, seed: int = 0) -> np.ndarray:
    """Seeded uniform float64 array on [low, high)."""
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def randint(low: int, high: int, *shape: int, seed: int = 0) -> np.ndarray:
    """Seeded int64 array with values in [low, high)."""
    return np.random.default_rng(seed).integers(low, high, size=shape, dtype=np.int64)


def check(
    student_fn: Callable,
    reference_fn: Callable,
    cases: Iterable,
    *,
    name: str | None = None,
    output_names: Sequence[str] | None = None,
    hints: Sequence[Hint] = (),
    rtol: float = RTOL,
    atol: float = ATOL,
    quiet: bool = False,
) -> None:
    """Compare ``student_fn`` with ``reference_fn`` on every case; raise a teaching AssertionError on the first difference.

    ``cases`` is a list whose items are :class:`Inputs`, a tuple of positional
    arguments, or a single argument. Each function gets its own deep copy of the
    inputs; the reference gets float arrays as float64. ``output_names`` names
    the parts of a tuple result (``("dX", "dW", "db")``). ``hints`` are
    chapter-specific likely mistakes, tried before the generic ones.
    """
    verify_environment()
    if not callable(student_fn):
        raise TypeError(f"check() needs your function as its first argument, got {type(student_fn).__name__}")
    if not callable(reference_fn):
        raise TypeError(f"check() needs the reference function as its second argument, got {type(reference_fn).__name__}")
    name = name or getattr(student_fn, "__name__", "your function")
    cases = [_as_inputs(c) for c in cases]
    if not cases:
        raise ValueError("check() was given no test cases")
    worst = 0.0
    for number, inputs in enumerate(cases, start=1):
        where = f"{name}, case {number} of {len(cases)}"
        expected, out_dtype = _run_reference(reference_fn, inputs)
        got = _run_student(student_fn, inputs, name, where)
        tol = (RTOL_F32, ATOL_F32) if out_dtype == np.float32 else (rtol, atol)
        comparer = _Comparer(name, where, inputs, _describe_inputs(student_fn, inputs), hints, *tol, out_dtype)
        worst = max(worst, comparer.compare(expected, got, _top_names(expected, output_names)))
    if not quiet:
        print(f"\u2714 {name} matches the PyTorch reference on {len(cases)} case{'s' * (len(cases) > 1)}"
              f" (largest difference {worst:.1e}: relative, or absolute where the value is near 0)")


def check_seeded(fn: Callable, *args, seed_name: str = "seed", name: str | None = None, **kwargs) -> None:
    """Check that ``fn`` is random only through its seed: the same seed gives identical results,
    another seed different ones. (Use a generator made from the seed, ``np.random.default_rng(seed)``,
    never the global ``np.random`` state.)"""
    verify_environment()
    name = name or getattr(fn, "__name__", "your function")

    def run(seed, global_seed):
        state = np.random.get_state()
        np.random.seed(global_seed)  # a different global state each call: a seeded function must not depend on it
        try:
            return _run_student(fn, Inputs(*args, **kwargs, **{seed_name: seed}), name, name)
        finally:
            np.random.set_state(state)

    first, again, other = run(0, 1), run(0, 2), run(1, 3)
    same = all(np.array_equal(a, b) for a, b in zip(_leaves(first), _leaves(again)))
    if not same:
        raise AssertionError(f"{name}: two calls with {seed_name}=0 gave different results. Make every random "
                             f"draw from `rng = np.random.default_rng({seed_name})`, not from np.random directly.")
    if all(np.array_equal(a, b) for a, b in zip(_leaves(first), _leaves(other))):
        raise AssertionError(f"{name}: {seed_name}=0 and {seed_name}=1 gave identical results: is the seed used at all?")
    print(f"\u2714 {name} is deterministic for a given {seed_name} and changes with it")


# --- running both sides -------------------------------------------------------------------

def _as_inputs(case) -> Inputs:
    if isinstance(case, Inputs):
        return case
    if isinstance(case, tuple):
        return Inputs(*case)
    return Inputs(case)


def _float_dtype_of(inputs: Inputs):
    """The float dtype the learner's result should have: float32 only if every float input is float32."""
    dtypes = [a.dtype for a in _leaves((inputs.args, inputs.kwargs)) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    return np.dtype(np.float32) if dtypes and all(d == np.float32 for d in dtypes) else np.dtype(np.float64)


def _to_float64(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    if isinstance(value, dict):
        return {k: _to_float64(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_float64(v) for v in value)
    return copy.deepcopy(value)


def _run_reference(reference_fn, inputs: Inputs):
    args = _to_float64(inputs.args)
    kwargs = _to_float64(inputs.kwargs)
    return reference_fn(*args, **kwargs), _float_dtype_of(inputs)


def _run_student(student_fn, inputs: Inputs, name: str, where: str):
    args, kwargs = copy.deepcopy(inputs.args), copy.deepcopy(inputs.kwargs)
    try:
        with np.errstate(over="raise", invalid="raise"):
            got = student_fn(*args, **kwargs)
    except NotImplementedError as error:
        raise AssertionError(
            f"{name} is not implemented yet: replace `raise NotImplementedError()` "
            f"with your code, then run its cell and this test cell again.") from error
    except FloatingPointError as error:
        raise AssertionError(
            f"{where}: your function computed an {str(error).split()[0]} ({error}).\n"
            f"  inputs: {_describe_inputs(student_fn, inputs)}\n"
            f"  hint: np.exp(x) overflows to inf for x > 709 (float64), and inf - inf or 0 * inf is nan. "
            f"Rearrange the formula so that every exp sees only arguments <= 0; note that np.where(c, a, b) "
            f"computes both a and b everywhere, so the unused branch can overflow too. The other way round, exp(x) "
            f"underflows to 0 for x < -745, so a sum of exps can be 0, and 0/0 is nan: shift by the maximum first.") from error
    except Exception as error:
        raise AssertionError(
            f"{where}: your function raised {type(error).__name__}: {error}\n"
            f"  inputs: {_describe_inputs(student_fn, inputs)}\n"
            f"  (the traceback above shows the line in your code)") from error
    changed = _changed_inputs(student_fn, inputs, args, kwargs)
    if changed:
        raise AssertionError(
            f"{where}: your function changed its input {changed} in place. Compute a new array "
            f"instead (for example `np.maximum(x, 0)` rather than `x[x < 0] = 0`): the caller "
            f"still needs the original values.")
    return got


def _changed_inputs(fn, inputs: Inputs, args, kwargs) -> str | None:
    names = _arg_names(fn, len(args))
    pairs = [(names[i], before, after) for i, (before, after) in enumerate(zip(inputs.args, args))]
    pairs += [(k, inputs.kwargs[k], kwargs[k]) for k in inputs.kwargs]
    for label, before, after in pairs:
        for b, a in zip(_leaves(before), _leaves(after)):
            if isinstance(b, np.ndarray) and not np.array_equal(b, a, equal_nan=b.dtype.kind == "f"):
                return f"`{label}`"
    return None


# --- comparing ----------------------------------------------------------------------------

def _top_names(expected, output_names):
    if output_names is None:
        return None
    if not isinstance(expected, (tuple, list)) or len(expected) != len(output_names):
        raise ValueError(f"output_names {tuple(output_names)} does not match the reference's result")
    return list(output_names)


class _Comparer:
    def __init__(self, name, where, inputs, described, hints, rtol, atol, out_dtype):
        self.name, self.where, self.inputs, self.described = name, where, inputs, described
        self.hints = list(hints) + GENERIC_HINTS
        self.rtol, self.atol, self.out_dtype = rtol, atol, out_dtype
        self.worst = 0.0

    def compare(self, expected, got, names) -> float:
        self._compare(expected, got, "output" if names is None else None, names)
        return self.worst

    def fail(self, path, problem, expected=None, got=None):
        mismatch = Mismatch(self.name, path, self.inputs.args, self.inputs.kwargs, expected, got)
        lines = [f"{self.where}: {problem}", f"  inputs: {self.described}"]
        lines += [f"  hint: {h.text(mismatch)}" for h in self.hints if h.matches(mismatch)][:2]
        raise AssertionError("\n".join(lines))

    def _compare(self, expected, got, path, names=None):
        if isinstance(expected, dict):
            return self._compare_dict(expected, got, path or "output")
        if isinstance(expected, (tuple, list)):
            return self._compare_sequence(expected, got, path, names)
        return self._compare_array(expected, got, path)

    def _compare_dict(self, expected, got, path):
        if not isinstance(got, dict):
            self.fail(path, f"{path} should be a dict with keys {sorted(expected)}, got {_kind(got)}")
        missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
        if missing or extra:
            self.fail(path, f"{path} has the wrong keys: missing {missing}, unexpected {extra}")
        for key in expected:
            self._compare(expected[key], got[key], f"{path}[{key!r}]")

    def _compare_sequence(self, expected, got, path, names):
        label = path or "the result"
        if not isinstance(got, (tuple, list)):
            what = f" ({', '.join(names)})" if names else ""
            self.fail(label, f"{label} should be a tuple of {len(expected)}{what}, got {_kind(got)}")
        if len(got) != len(expected):
            what = f" ({', '.join(names)})" if names else ""
            self.fail(label, f"{label} should have {len(expected)} items{what}, got {len(got)}")
        for i, (e, g) in enumerate(zip(expected, got)):
            self._compare(e, g, names[i] if names else f"{label}[{i}]")

    def _compare_array(self, expected, got, path):
        if got is None:
            self.fail(path, f"{path} is None: did you forget a `return` statement?")
        if type(got).__module__.startswith("torch"):
            self.fail(path, f"{path} is a torch.Tensor: the exercise is NumPy only, return a NumPy array")
        if isinstance(got, (list, tuple, dict, str)):
            self.fail(path, f"{path} should be a NumPy array, got {_kind(got)}: build it with np.array or NumPy operations")
        expected = np.asarray(expected)
        try:
            got_arr = np.asarray(got)
        except Exception:
            self.fail(path, f"{path} should be a NumPy array, got {_kind(got)}")
        if got_arr.shape != expected.shape:
            self.fail(path, f"{path} has shape {got_arr.shape}, expected {expected.shape}", expected, got_arr)
        self._check_dtype(expected, got_arr, path)
        if expected.dtype.kind in "biu":
            self._compare_exact(expected, got_arr, path)
        else:
            self._compare_close(expected.astype(np.float64), got_arr.astype(np.float64), path)

    def _check_dtype(self, expected, got, path):
        kinds = {"b": "bool", "i": "integer", "u": "integer", "f": "float", "c": "complex"}
        want, have = kinds.get(expected.dtype.kind, str(expected.dtype)), kinds.get(got.dtype.kind, str(got.dtype))
        if want != have:
            self.fail(path, f"{path} has dtype {got.dtype}, expected {want} values", expected, got)
        if want == "float" and got.ndim > 0 and got.dtype != self.out_dtype:
            self.fail(path, f"{path} has dtype {got.dtype}, expected {self.out_dtype} (the dtype of the inputs): "
                            f"don't change the precision inside the function", expected, got)

    def _compare_exact(self, expected, got, path):
        wrong = np.argwhere(expected != got)
        if len(wrong):
            index = tuple(int(i) for i in wrong[0])
            self.fail(path, f"{path} differs at {len(wrong)} of {expected.size} entries; first at "
                            f"{_at(path, index)}: expected {_fmt(expected[index])}, got {_fmt(got[index])}",
                      expected, got)

    def _compare_close(self, expected, got, path):
        finite_expected = np.isfinite(expected)
        bad_got = finite_expected & ~np.isfinite(got)
        if bad_got.any():
            index = tuple(int(i) for i in np.argwhere(bad_got)[0])
            self.fail(path, f"{path} has {int(bad_got.sum())} non-finite entr{'y' if bad_got.sum() == 1 else 'ies'}; "
                            f"first at {_at(path, index)}: expected {_fmt(expected[index])}, got {_fmt(got[index])}",
                      expected, got)
        same_special = ~finite_expected & ((expected == got) | (np.isnan(expected) & np.isnan(got)))
        error = np.where(finite_expected, np.abs(got - expected), np.where(same_special, 0.0, np.inf))
        allowed = self.atol + self.rtol * np.abs(np.where(finite_expected, expected, 0.0))
        excess = error / allowed
        if excess.size == 0:
            return
        index = np.unravel_index(int(np.argmax(excess)), excess.shape)
        with np.errstate(over="ignore", divide="ignore"):
            relative = error / np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
        self.worst = max(self.worst, float(np.max(np.where(finite_expected, np.minimum(relative, error), 0.0))))
        n_bad = int(np.count_nonzero(excess > 1))
        if n_bad:
            index = tuple(int(i) for i in index)
            self.fail(path, (
                f"{path} differs from the PyTorch reference at {n_bad} of {expected.size} entries.\n"
                f"  largest error at {_at(path, index)}: expected {_fmt(expected[index])}, got {_fmt(got[index])} "
                f"(off by {_fmt(error[index])}; allowed {_fmt(allowed[index])} = atol {self.atol:g} + rtol {self.rtol:g} * |expected|)"),
                expected, got)


# --- describing ---------------------------------------------------------------------------

def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def _arg_names(fn, n: int) -> list[str]:
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return (params + [f"argument {i + 1}" for i in range(len(params), n)])[:n]


def _describe_inputs(fn, inputs: Inputs) -> str:
    names = _arg_names(fn, len(inputs.args))
    parts = [f"{n}={_short(a)}" for n, a in zip(names, inputs.args)]
    parts += [f"{k}={_short(v)}" for k, v in inputs.kwargs.items()]
    return ", ".join(parts) or "(none)"


def _short(value) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= _SHOW_VALUES_UP_TO and value.ndim <= 2:
            body = np.array2string(value, precision=4, separator=", ", suppress_small=False).replace("\n", "")
            return f"{body} ({value.dtype})"
        return f"<{value.dtype} array of shape {value.shape}>"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"<{type(value).__name__} of {len(value)} items>"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_short(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' * (len(value) == 1)})"
    return repr(value)


def _kind(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a {type(value).__name__}" if value is not None else "None"


def _at(path: str, index: tuple) -> str:
    return f"{path}[{', '.join(map(str, index))}]" if index else path


def _fmt(value: Any) -> str:
    value = np.asarray(value).item() if np.ndim(value) == 0 else value
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


remember_originals()  # the course's functions as they are before any learner's code runs
install_name_guard()  # in a notebook: test cells always call the real check, whatever a cell rebinds
