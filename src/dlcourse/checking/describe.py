"""How a failure message shows inputs and values."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

SHOW_VALUES_UP_TO = 12  # inputs this small are printed in full in a failure message


def arg_names(fn, n: int) -> list[str]:
    """The names of the first ``n`` positional parameters of ``fn`` ("argument 3" where it has none)."""
    try:
        params = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    return (params + [f"argument {i + 1}" for i in range(len(params), n)])[:n]


def describe_inputs(fn, args: tuple, kwargs: dict) -> str:
    names = arg_names(fn, len(args))
    parts = [f"{n}={short(a)}" for n, a in zip(names, args)]
    parts += [f"{k}={short(v)}" for k, v in kwargs.items()]
    return ", ".join(parts) or "(none)"


def short(value) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= SHOW_VALUES_UP_TO and value.ndim <= 2:
            body = np.array2string(value, precision=4, separator=", ", suppress_small=False).replace("\n", "")
            return f"{body} ({value.dtype})"
        return f"<{value.dtype} array of shape {value.shape}>"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)) and len(value) > 6:
        return f"<{type(value).__name__} of {len(value)} items>"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(short(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' * (len(value) == 1)})"
    return repr(value)


def kind(value) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a {type(value).__name__}" if value is not None else "None"


def at(path: str, index: tuple) -> str:
    return f"{path}[{', '.join(map(str, index))}]" if index else path


def fmt(value: Any) -> str:
    value = np.asarray(value).item() if np.ndim(value) == 0 else value
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)
