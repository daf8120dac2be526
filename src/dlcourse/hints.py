"""Hints: likely mistakes recognised from what a wrong result looks like.

A failing check shows at most two hints: first the chapter's own (passed to
``check(..., hints=[...])``), then the generic ones below. A chapter usually
describes a mistake by computing it::

    mistake(lambda dout, X, W, b: X.T @ dout,
            "dW must have W's shape (n_out, n_in): that is dout.T @ X, not X.T @ dout")

and the hint is shown when the learner's result equals that wrong computation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass
class Mismatch:
    """What a failing comparison saw: the function, the output's path, the case's inputs, expected and got."""

    name: str
    path: str
    args: tuple
    kwargs: dict
    expected: np.ndarray | None
    got: np.ndarray | None

    def arrays(self):
        """(expected, got) as float64 arrays of the same shape, or None if they are not comparable."""
        if self.expected is None or self.got is None:
            return None
        try:
            e, g = np.asarray(self.expected, dtype=np.float64), np.asarray(self.got, dtype=np.float64)
        except (TypeError, ValueError):
            return None
        return (e, g) if e.shape == g.shape else None

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
        for value in list(self.args) + list(self.kwargs.values()):
            for leaf in _leaves(value):
                if isinstance(leaf, np.ndarray):
                    found.update(int(s) for s in leaf.shape if s > 1)
        return found


@dataclass(frozen=True)
class Hint:
    """A likely mistake: ``message`` (text, or a function of the Mismatch) shown when ``when(mismatch)`` is true."""

    message: str | Callable[[Mismatch], str]
    when: Callable[[Mismatch], bool]
    output: str | None = None  # only for this output's path (e.g. "dW"); None: any

    def matches(self, m: Mismatch) -> bool:
        if self.output is not None and self.output != m.path:
            return False
        try:
            return bool(self.when(m))
        except Exception:  # a hint must never hide the real failure
            return False

    def text(self, m: Mismatch) -> str:
        return self.message(m) if callable(self.message) else self.message


def mistake(wrong_fn: Callable, message: str, *, output: str | None = None, select: Callable | None = None) -> Hint:
    """A hint shown when the learner's result equals ``wrong_fn(*inputs)`` (``select`` picks a part of its result)."""

    def when(m: Mismatch) -> bool:
        wrong = wrong_fn(*_copies(m.args), **_copies(m.kwargs))
        if select is not None:
            wrong = select(wrong)
        got = np.asarray(m.got, dtype=np.float64)
        wrong = np.asarray(wrong, dtype=np.float64)
        return wrong.shape == got.shape and np.allclose(got, wrong, rtol=1e-6, atol=1e-9, equal_nan=True)

    return Hint(message, when, output)


def _leaves(value):
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def _copies(value):
    import copy
    return copy.deepcopy(value)


# --- generic hints ------------------------------------------------------------------------

def _has_overflow(m: Mismatch) -> bool:
    pair = m.arrays()
    return pair is not None and bool(np.any(np.isfinite(pair[0]) & ~np.isfinite(pair[1])))


def _factor_message(m: Mismatch) -> str:
    c = m.constant_ratio()
    for n in sorted(m.sizes()):
        if np.isclose(c, n, rtol=1e-6):
            return f"every entry is {n} times too large: did you forget to divide by N = {n} (the batch size)?"
        if np.isclose(c, 1 / n, rtol=1e-6):
            return f"every entry is {n} times too small: did you divide by N = {n} where no division belongs, or twice?"
    return f"every entry is {c:.6g} times the expected value: a constant factor is off."


def _is_scaled(m: Mismatch) -> bool:
    c = m.constant_ratio()
    return c is not None and not np.isclose(c, 1.0, rtol=1e-6) and not np.isclose(c, -1.0, rtol=1e-6)


def _is_negated(m: Mismatch) -> bool:
    c = m.constant_ratio()
    return c is not None and np.isclose(c, -1.0, rtol=1e-6)


def _is_transposed(m: Mismatch) -> bool:
    if m.expected is None or m.got is None:
        return False
    e, g = np.asarray(m.expected), np.asarray(m.got)
    if e.ndim != 2 or g.ndim != 2:
        return False
    if g.shape == e.shape[::-1] and e.shape[0] != e.shape[1]:
        return True
    return g.shape == e.shape and e.shape[0] == e.shape[1] and np.allclose(g, e.T) and not np.allclose(g, e)


def _lost_an_axis(m: Mismatch) -> bool:
    if m.expected is None or m.got is None:
        return False
    e, g = np.asarray(m.expected), np.asarray(m.got)
    return e.shape != g.shape and (g.ndim == e.ndim - 1 or g.ndim == e.ndim + 1 or (g.ndim == e.ndim and g.size != e.size))


GENERIC_HINTS = [
    Hint("an overflow: np.exp(x) is inf for x > 709 in float64, and inf/inf is nan. Rearrange the formula "
         "so that exp only ever sees arguments <= 0 (for example exp(-|x|)).", _has_overflow),
    Hint("the signs are flipped: check the direction of a subtraction (y_hat - y vs y - y_hat) or a minus sign.",
         _is_negated),
    Hint(_factor_message, _is_scaled),
    Hint("the result looks transposed: check the order of a matrix product (A @ B vs B.T @ A) or a missing .T.",
         _is_transposed),
    Hint("an axis is missing or extra: check the `axis=` of a sum or mean, `keepdims=True`, and how "
         "broadcasting combined your arrays.", _lost_an_axis),
]
