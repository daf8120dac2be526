"""Hints for mistakes of every chapter, recognised from the shape of the error alone."""

from __future__ import annotations

import numpy as np

from . import Hint, Mismatch


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
    is_float = np.asarray(m.expected).dtype.kind == "f"  # a count off by a factor is not "a constant factor"
    return c is not None and is_float and not np.isclose(c, 1.0, rtol=1e-6) and not np.isclose(c, -1.0, rtol=1e-6)


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
    return e.shape != g.shape and (
        g.ndim == e.ndim - 1 or g.ndim == e.ndim + 1 or (g.ndim == e.ndim and g.size != e.size)
    )


GENERIC_HINTS = [
    Hint(
        "an overflow: np.exp(x) is inf for x > 709 in float64, and inf/inf is nan. Rearrange the formula "
        "so that exp only ever sees arguments <= 0 (for example exp(-|x|)).",
        _has_overflow,
    ),
    Hint(
        "the signs are flipped: check the direction of a subtraction (y_hat - y vs y - y_hat) or a minus sign.",
        _is_negated,
    ),
    Hint(_factor_message, _is_scaled),
    Hint(
        "the result looks transposed: check the order of a matrix product (A @ B vs B.T @ A) or a missing .T.",
        _is_transposed,
    ),
    Hint(
        "an axis is missing or extra: check the `axis=` of a sum or mean, `keepdims=True`, and how "
        "broadcasting combined your arrays.",
        _lost_an_axis,
    ),
]
