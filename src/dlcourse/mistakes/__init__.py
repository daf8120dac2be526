"""Likely mistakes: one mechanism that recognises a wrong answer by what it computes.

A failing comparison produces a :class:`Mismatch` that says *where* in the result the
difference is, as structured keys (``("dW",)``, ``("caches", 1, 0)``, ``("W1",)``), never as a
display string to parse. A chapter describes its likely mistakes by computing them::

    dense_backward = [
        mistake(lambda dout, X, W, b: (dout @ W, X.T @ dout, dout.sum(0)),
                "dW must have W's shape (n_out, n_in): that is dout.T @ X, not X.T @ dout", output="dW"),
    ]

``wrong_fn`` takes the checked function's arguments and returns a whole result shaped like the
reference's; the hint is shown when the learner's value at the mismatch's keys equals the wrong
result's value at the same keys. The chapters' lists live in ``dlcourse.mistakes.<chapter>``;
the generic hints (a missing 1/N, a flipped sign, a transposed product, an overflow, a lost
axis) are in :mod:`dlcourse.mistakes.generic` and are tried after a chapter's own.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Mismatch", "Hint", "mistake", "value_at", "leaves"]

Key = Any  # a dict key, a tuple/list index, or an output's name


def leaves(value):
    """Every non-container value inside nested dicts, lists and tuples, in order."""
    if isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from leaves(v)
    else:
        yield value


def value_at(result, keys: Sequence[Key], output_names: Sequence[str] | None = None):
    """The part of ``result`` at ``keys`` (an output's name is looked up through ``output_names``).

    Raises ``LookupError`` when ``result`` has no such part.
    """
    for depth, key in enumerate(keys):
        if (
            depth == 0
            and isinstance(key, str)
            and output_names
            and key in output_names
            and isinstance(result, (tuple, list))
        ):
            key = list(output_names).index(key)
        if key == "output" and depth == 0 and not isinstance(result, dict):
            continue  # a single-array result is called "output"
        try:
            result = result[key]
        except (KeyError, IndexError, TypeError) as error:
            raise LookupError(f"no part {keys!r} in the result") from error
    return result


@dataclass
class Mismatch:
    """Where a comparison failed: the function, the keys into its result, the case's inputs, expected and got."""

    name: str
    keys: tuple
    path: str
    args: tuple
    kwargs: dict
    expected: Any = None
    got: Any = None
    output_names: Sequence[str] | None = field(default=None)

    @property
    def output(self) -> Key:
        """The top-level output (its name, like "dW", or its index), or "output" for a single array."""
        return self.keys[0] if self.keys else "output"

    def arrays(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(expected, got) as float64 arrays of the same shape, or None if they are not comparable."""
        if self.expected is None or self.got is None:
            return None
        try:
            e, g = np.asarray(self.expected, dtype=np.float64), np.asarray(self.got, dtype=np.float64)
        except (TypeError, ValueError):
            return None
        return (e, g) if e.shape == g.shape else None

    def values_differ(self) -> bool:
        """Do expected and got differ in value (not only in dtype)?"""
        pair = self.arrays()
        if pair is None:
            return self.expected is not None and self.got is not None
        e, g = pair
        return not np.allclose(g, e, rtol=1e-6, atol=1e-9, equal_nan=True)

    def constant_ratio(self) -> float | None:
        """c when got == c * expected everywhere (to 1e-6), else None."""
        pair = self.arrays()
        if pair is None:
            return None
        e, g = pair
        nonzero = np.abs(e) > 1e-12
        if not nonzero.any() or not np.all(np.isfinite(g)) or np.any(np.abs(g[~nonzero]) > 1e-9):
            return None
        ratios = g[nonzero] / e[nonzero]
        c = float(np.median(ratios))
        return c if np.allclose(ratios, c, rtol=1e-6, atol=0) else None

    def sizes(self) -> set[int]:
        """Every axis length of every array input: candidates for a missing 1/N."""
        found = set()
        for leaf in leaves((self.args, self.kwargs)):
            if isinstance(leaf, np.ndarray):
                found.update(int(s) for s in leaf.shape if s > 1)
        return found


@dataclass(frozen=True)
class Hint:
    """A likely mistake: ``message`` (text, or a function of the Mismatch) shown when ``when(mismatch)`` is true.

    ``output`` limits it to one output (its name, e.g. "dW", or index); None: any.
    """

    message: str | Callable[[Mismatch], str]
    when: Callable[[Mismatch], bool]
    output: Key | None = None

    def matches(self, m: Mismatch) -> bool:
        if self.output is not None and self.output != m.output:
            return False
        try:
            return bool(self.when(m))
        except Exception:  # a hint must never hide the real failure
            return False

    def text(self, m: Mismatch) -> str:
        return self.message(m) if callable(self.message) else self.message


def mistake(wrong_fn: Callable, message: str | Callable[[Mismatch], str], *, output: Key | None = None) -> Hint:
    """A hint shown when the learner's result, at the failing part, equals ``wrong_fn(*inputs)`` at that part.

    Only a difference in value triggers it: a result that is right but has the wrong dtype is not
    "this mistake".
    """

    def when(m: Mismatch) -> bool:
        if not m.values_differ():
            return False
        wrong = wrong_fn(*copy.deepcopy(m.args), **copy.deepcopy(m.kwargs))
        try:
            wrong = value_at(wrong, m.keys, m.output_names)
        except LookupError:
            return False
        got, wrong = np.asarray(m.got, dtype=np.float64), np.asarray(wrong, dtype=np.float64)
        return wrong.shape == got.shape and np.allclose(got, wrong, rtol=1e-6, atol=1e-9, equal_nan=True)

    return Hint(message, when, output)
