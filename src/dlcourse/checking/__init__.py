"""The one checking helper every test cell calls.

``check(student_fn, reference_fn, cases)`` runs the learner's NumPy function and
the PyTorch reference on the same inputs and raises a :class:`CheckFailed` that
teaches when they differ: which output, which case, where the largest error is,
expected vs got, and a hint when the mistake looks like a common one.

A test cell reads like this::

    check(sigmoid, ref.sigmoid, [
        np.array([-2.0, 0.0, 2.0]),          # one argument
        Inputs(randn(3, 4, seed=1)),         # the same, spelled out
    ], hints=mistakes.sigmoid)

The learner's function runs first, on every case, under the watch (:mod:`dlcourse.watch`):
calling the course's solved code, a reference or torch from it fails the check, unless the
exercise offers that building block (``allow=("dlcourse.solved.networks.sigmoid",)``). Only
then are the references computed, so no answer exists anywhere while learner code runs.

Tolerances. The reference runs in float64. Two correct float64 implementations
differ only by rounding (relative 1e-16 per operation, ~1e-13 after summing
thousands of terms in another order), while a real mistake changes results at
the 1e-3..1 level. ``rtol=1e-7`` sits far from both; ``atol=1e-10`` only
forgives rounding noise in entries that should be (close to) zero. Results
the learner computes in float32 (because the inputs were float32) are compared
with float32-sized tolerances (``rtol=1e-5``, ``atol=1e-6``).
"""

from __future__ import annotations

import sys
import traceback
import weakref
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from .. import progress
from ..guard import install_name_guard, remember_originals, verify_environment
from ..mistakes import Hint, leaves
from ..watch import Watch
from .compare import Comparer
from .describe import describe_inputs
from .running import Inputs, as_inputs, float_dtype_of, run_reference, run_student

__all__ = ["check", "check_seeded", "verdict", "Inputs", "Hint", "CheckFailed", "randn", "uniform", "randint"]

RTOL, ATOL = 1e-7, 1e-10
RTOL_F32, ATOL_F32 = 1e-5, 1e-6
_HERE = str(Path(__file__).resolve().parent)
_PACKAGE = str(Path(__file__).resolve().parents[1])


class CheckFailed(AssertionError):
    """A check failed. In a notebook the message comes first, then only the learner's own lines."""

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of the full traceback
        lines = [f"\x1b[0;31m✘ {type(self).__name__}\x1b[0m: {self}"]
        cause = self.__cause__
        if cause is not None and not isinstance(cause, NotImplementedError):
            frames = [f for f in traceback.extract_tb(cause.__traceback__) if _is_learners(f.filename)]
            if frames:
                lines += ["", "where it happened in your code:"]
                lines += [line.rstrip("\n") for line in traceback.format_list(frames)]
                lines += [f"{type(cause).__name__}: {cause}"]
        return lines


_VERDICTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def verdict(fn: Callable) -> bool | None:
    """Did ``fn`` pass its last check (True), fail it (False), or was it never checked (None)?"""
    try:
        return _VERDICTS.get(fn)
    except TypeError:  # not weak-referenceable
        return None


def _record(fn: Callable, passed: bool) -> None:
    try:
        _VERDICTS[fn] = passed
    except TypeError:
        pass


def _is_learners(filename: str) -> bool:
    return not (filename.startswith(_PACKAGE) or "site-packages" in filename or filename.startswith("<frozen"))


def randn(*shape: int, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    """Seeded standard-normal float64 array of the given shape, times ``scale``."""
    return scale * np.random.default_rng(seed).standard_normal(shape)


def uniform(*shape: int, low: float = -1.0, high: float = 1.0, seed: int = 0) -> np.ndarray:
    """Seeded uniform float64 array on [low, high)."""
    return np.random.default_rng(seed).uniform(low, high, size=shape)


def randint(low: int, high: int, *shape: int, seed: int = 0) -> np.ndarray:
    """Seeded int64 array with values in [low, high)."""
    return np.random.default_rng(seed).integers(low, high, size=shape, dtype=np.int64)


def _callables(inputs) -> list:
    """The functions a test hands to the learner's function among its inputs (offered: the learner may call them)."""
    if isinstance(inputs, Inputs):
        inputs = (inputs.args, inputs.kwargs)
    return [leaf for leaf in leaves(inputs) if callable(leaf) and not isinstance(leaf, (type, np.ndarray))]


def _calling_file() -> str:
    """The file (notebook cell) of the code that called the checker: its own code is the test's, trusted."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_HERE):
        frame = frame.f_back
    return frame.f_code.co_filename if frame is not None else ""


def _failing(error: AssertionError) -> CheckFailed:
    """The learner-facing exception: the same message, the learner's exception (if any) as its cause."""
    failed = CheckFailed(str(error))
    cause = error.__cause__
    failed.__cause__ = cause if cause is not None and not isinstance(cause, AssertionError) else None
    failed.__suppress_context__ = True
    return failed


def check(
    student_fn: Callable,
    reference_fn: Callable,
    cases: Iterable,
    *,
    name: str | None = None,
    output_names: Sequence[str] | None = None,
    hints: Sequence[Hint] = (),
    allow: Iterable[str] = (),
    rtol: float = RTOL,
    atol: float = ATOL,
    quiet: bool = False,
) -> None:
    """Compare ``student_fn`` with ``reference_fn`` on every case; raise a teaching CheckFailed on the first difference.

    ``cases`` is a list whose items are :class:`Inputs`, a tuple of positional
    arguments, or a single argument. Each function gets its own deep copy of the
    inputs; the reference gets float arrays as float64. ``output_names`` names
    the parts of a tuple result (``("dX", "dW", "db")``). ``hints`` are
    chapter-specific likely mistakes, tried before the generic ones. ``allow``
    names the building blocks (functions or modules of ``dlcourse.solved``) the
    exercise offers to the learner's function.
    """
    verify_environment()
    if not callable(student_fn):
        raise TypeError(f"check() needs your function as its first argument, got {type(student_fn).__name__}")
    if not callable(reference_fn):
        raise TypeError(
            f"check() needs the reference function as its second argument, got {type(reference_fn).__name__}"
        )
    name = name or getattr(student_fn, "__name__", "your function")
    cases = [as_inputs(c) for c in cases]
    if not cases:
        raise ValueError("check() was given no test cases")
    allow, trusted = tuple(allow), (_calling_file(),)
    cell = trusted[0]
    try:
        results = [
            run_student(
                student_fn,
                inputs,
                name,
                f"{name}, case {n} of {len(cases)}",
                Watch(name, allow, trusted, offered=_callables(inputs)),
            )
            for n, inputs in enumerate(cases, start=1)
        ]
        worst = 0.0
        for number, (inputs, got) in enumerate(zip(cases, results), start=1):
            out_dtype = float_dtype_of(inputs)
            tol = (RTOL_F32, ATOL_F32) if out_dtype == np.float32 else (rtol, atol)
            comparer = Comparer(
                name,
                f"{name}, case {number} of {len(cases)}",
                inputs,
                describe_inputs(student_fn, inputs.args, inputs.kwargs),
                hints,
                *tol,
                out_dtype,
                output_names,
            )
            worst = max(worst, comparer.compare(run_reference(reference_fn, inputs), got))
    except AssertionError as error:
        failed = _failing(error)
    else:
        failed = None
    _record(student_fn, failed is None)
    progress.record(cell, failed is None)
    if failed is not None:
        raise failed
    if not quiet:
        print(
            f"\u2714 {name} matches the PyTorch reference on {len(cases)} case{'s' * (len(cases) > 1)}"
            f" (largest difference {worst:.1e}: relative, or absolute where the value is near 0)"
        )


def check_seeded(
    fn: Callable, *args, seed_name: str = "seed", name: str | None = None, allow: Iterable[str] = (), **kwargs
) -> None:
    """Check that ``fn`` is random only through its seed: the same seed gives identical results,
    another seed different ones. (Use a generator made from the seed, ``np.random.default_rng(seed)``,
    never the global ``np.random`` state.)"""
    verify_environment()
    name = name or getattr(fn, "__name__", "your function")
    trusted = (_calling_file(),)

    def run(seed, global_seed):
        state = np.random.get_state()
        np.random.seed(global_seed)  # a different global state each call: a seeded function must not depend on it
        try:
            return run_student(
                fn,
                Inputs(*args, **kwargs, **{seed_name: seed}),
                name,
                name,
                Watch(name, allow, trusted, offered=_callables((args, kwargs))),
            )
        finally:
            np.random.set_state(state)

    failed: CheckFailed | None = None
    try:
        first, again, other = run(0, 1), run(0, 2), run(1, 3)
    except AssertionError as error:
        failed = _failing(error)
    else:
        if not all(np.array_equal(a, b) for a, b in zip(leaves(first), leaves(again))):
            failed = CheckFailed(
                f"{name}: two calls with {seed_name}=0 gave different results. Make every random "
                f"draw from `rng = np.random.default_rng({seed_name})`, not from np.random directly."
            )
        elif all(np.array_equal(a, b) for a, b in zip(leaves(first), leaves(other))):
            failed = CheckFailed(
                f"{name}: {seed_name}=0 and {seed_name}=1 gave identical results: is the seed used at all?"
            )
    progress.record(trusted[0], failed is None)
    if failed is not None:
        raise failed
    print(f"\u2714 {name} is deterministic for a given {seed_name} and changes with it")


def run_learner(fn: Callable, *args, name: str | None = None, allow: Iterable[str] = (), **kwargs):
    """Call the learner's ``fn`` under the watch (for adapters in ``dlcourse.cases`` that need its raw result)."""
    name = name or getattr(fn, "__name__", "your function")
    try:
        watch = Watch(name, allow, (_calling_file(),), offered=_callables((args, kwargs)))
        return run_student(fn, Inputs(*args, **kwargs), name, name, watch)
    except AssertionError as error:
        failed = _failing(error)
    raise failed


remember_originals()  # the course's functions as they are before any learner's code runs
install_name_guard()  # in a notebook: test cells always call the real check, whatever a cell rebinds
