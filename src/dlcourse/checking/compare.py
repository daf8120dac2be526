"""Comparing a learner's result with the reference's, part by part, with a teaching message on the first difference."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..mistakes import Hint, Mismatch
from ..mistakes.generic import GENERIC_HINTS
from .describe import at, fmt, kind

MAX_HINTS = 2


class Difference(AssertionError):
    """A result differs from the reference's (raised inside the checker, re-raised to the learner as CheckFailed)."""


class Comparer:
    """Walks expected and got together; ``fail`` builds the message and the Mismatch the hints see."""

    def __init__(self, name, where, inputs, described, hints: Sequence[Hint], rtol, atol, out_dtype, output_names=None):
        self.name, self.where, self.inputs, self.described = name, where, inputs, described
        self.hints = list(hints) + GENERIC_HINTS
        self.rtol, self.atol, self.out_dtype = rtol, atol, out_dtype
        self.output_names = output_names
        self.worst = 0.0

    def compare(self, expected, got) -> float:
        names = self._top_names(expected)
        self._compare(expected, got, "output" if names is None else None, (), names)
        return self.worst

    def _top_names(self, expected):
        if self.output_names is None:
            return None
        if not isinstance(expected, (tuple, list)) or len(expected) != len(self.output_names):
            raise ValueError(f"output_names {tuple(self.output_names)} does not match the reference's result")
        return list(self.output_names)

    def fail(self, path, keys, problem, expected=None, got=None):
        mismatch = Mismatch(
            self.name, tuple(keys), path, self.inputs.args, self.inputs.kwargs, expected, got, self.output_names
        )
        lines = [f"{self.where}: {problem}", f"  inputs: {self.described}"]
        lines += [f"  hint: {h.text(mismatch)}" for h in self.hints if h.matches(mismatch)][:MAX_HINTS]
        raise Difference("\n".join(lines))

    def _compare(self, expected, got, path, keys, names=None):
        if isinstance(expected, dict):
            return self._compare_dict(expected, got, path or "output", keys)
        if isinstance(expected, (tuple, list)):
            return self._compare_sequence(expected, got, path, keys, names)
        return self._compare_array(expected, got, path, keys)

    def _compare_dict(self, expected, got, path, keys):
        if not isinstance(got, dict):
            self.fail(path, keys, f"{path} should be a dict with keys {sorted(expected)}, got {kind(got)}")
        missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
        if missing or extra:
            self.fail(path, keys, f"{path} has the wrong keys: missing {missing}, unexpected {extra}")
        for key in expected:
            self._compare(expected[key], got[key], f"{path}[{key!r}]", (*keys, key))

    def _compare_sequence(self, expected, got, path, keys, names):
        label = path or "the result"
        what = f" ({', '.join(names)})" if names else ""
        if not isinstance(got, (tuple, list)):
            self.fail(label, keys, f"{label} should be a tuple of {len(expected)}{what}, got {kind(got)}")
        if len(got) != len(expected):
            self.fail(label, keys, f"{label} should have {len(expected)} items{what}, got {len(got)}")
        for i, (e, g) in enumerate(zip(expected, got)):
            self._compare(e, g, names[i] if names else f"{label}[{i}]", (*keys, names[i] if names else i))

    def _compare_array(self, expected, got, path, keys):
        if got is None:
            self.fail(path, keys, f"{path} is None: did you forget a `return` statement?")
        if type(got).__module__.startswith("torch"):
            self.fail(path, keys, f"{path} is a torch.Tensor: the exercise is NumPy only, return a NumPy array")
        if isinstance(got, (list, tuple, dict, str)):
            self.fail(
                path,
                keys,
                f"{path} should be a NumPy array, got {kind(got)}: build it with np.array or NumPy operations",
            )
        expected = np.asarray(expected)
        try:
            got_arr = np.asarray(got)
        except Exception:
            self.fail(path, keys, f"{path} should be a NumPy array, got {kind(got)}")
        if got_arr.shape != expected.shape:
            self.fail(path, keys, f"{path} has shape {got_arr.shape}, expected {expected.shape}", expected, got_arr)
        self._check_dtype(expected, got_arr, path, keys)
        if expected.dtype.kind in "biu":
            self._compare_exact(expected, got_arr, path, keys)
        else:
            self._compare_close(expected.astype(np.float64), got_arr.astype(np.float64), path, keys)

    def _check_dtype(self, expected, got, path, keys):
        kinds = {"b": "bool", "i": "integer", "u": "integer", "f": "float", "c": "complex"}
        want, have = kinds.get(expected.dtype.kind, str(expected.dtype)), kinds.get(got.dtype.kind, str(got.dtype))
        if want != have:
            self.fail(path, keys, f"{path} has dtype {got.dtype}, expected {want} values", expected, got)
        if want == "float" and got.ndim > 0 and got.dtype != self.out_dtype:
            self.fail(
                path,
                keys,
                f"{path} has dtype {got.dtype}, expected {self.out_dtype} (the dtype of the inputs): "
                f"don't change the precision inside the function",
                expected,
                got,
            )

    def _compare_exact(self, expected, got, path, keys):
        wrong = np.argwhere(expected != got)
        if len(wrong):
            index = tuple(int(i) for i in wrong[0])
            self.fail(
                path,
                keys,
                f"{path} differs at {len(wrong)} of {expected.size} entries; first at "
                f"{at(path, index)}: expected {fmt(expected[index])}, got {fmt(got[index])}",
                expected,
                got,
            )

    def _compare_close(self, expected, got, path, keys):
        finite_expected = np.isfinite(expected)
        bad_got = finite_expected & ~np.isfinite(got)
        if bad_got.any():
            index = tuple(int(i) for i in np.argwhere(bad_got)[0])
            self.fail(
                path,
                keys,
                f"{path} has {int(bad_got.sum())} non-finite entr{'y' if bad_got.sum() == 1 else 'ies'}; "
                f"first at {at(path, index)}: expected {fmt(expected[index])}, got {fmt(got[index])}",
                expected,
                got,
            )
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
            self.fail(
                path,
                keys,
                (
                    f"{path} differs from the PyTorch reference at {n_bad} of {expected.size} entries.\n"
                    f"  largest error at {at(path, index)}: expected {fmt(expected[index])}, got {fmt(got[index])} "
                    f"(off by {fmt(error[index])}; allowed {fmt(allowed[index])} = atol {self.atol:g} + rtol {self.rtol:g} * |expected|)"
                ),
                expected,
                got,
            )
