"""Keeps grading honest when a submission changes the grading code at run time.

A learner's code runs in the same kernel as the tests, so it could (by mistake or not)
redefine ``check``, patch ``np.allclose`` or replace a reference such as ``ref.sigmoid``.
Two defences, both automatic:

* **Names.** In a notebook, every name bound to the course's code (``check``, ``ref``,
  ``Inputs``, ...) after a cell has run is put back before each later cell runs, so a
  solution cell that rebinds ``check`` does not change what the test cells call.
* **Code.** Before comparing anything, :func:`verify_environment` checks that the course's
  modules still hold the functions their files define, and that the NumPy and PyTorch
  functions the references and the checker rely on are the libraries' own. If not, the
  test fails with a message saying what was changed.

This stops accidents and the obvious tricks; it is not a sandbox against someone who studies
this file to defeat it (the instructor reads suspicious submissions in the formgrader).
"""

from __future__ import annotations

import inspect
import sys
import sysconfig
import types
from pathlib import Path

import numpy as np
import torch

PACKAGE_DIR = Path(__file__).resolve().parent
GUARDED_MODULE_PREFIXES = (
    "dlcourse.checking",
    "dlcourse.mistakes",
    "dlcourse.watch",
    "dlcourse.cases",
    "dlcourse.device",
    "dlcourse.reference",
)

# library functions the checker and the references use (or that a learner might think they use)
NUMPY_FUNCTIONS = [
    "allclose",
    "isclose",
    "array_equal",
    "abs",
    "isfinite",
    "isnan",
    "where",
    "argmax",
    "argwhere",
    "count_nonzero",
    "unravel_index",
    "asarray",
    "maximum",
    "minimum",
    "max",
    "errstate",
    "ndim",
]
TORCH_FUNCTIONS = [
    "allclose",
    "isclose",
    "equal",
    "sigmoid",
    "tanh",
    "relu",
    "exp",
    "log",
    "matmul",
    "as_tensor",
    "tensor",
    "conv2d",
    "max_pool2d",
]


UFUNC_NAMES = {"abs": "absolute"}


def _defined_in(fn, folder: Path) -> bool:
    return Path(fn.__code__.co_filename).resolve().is_relative_to(folder)


STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()


def _is_library(fn) -> bool:
    """Defined in an installed package or in Python's standard library."""
    path = Path(fn.__code__.co_filename).resolve()
    return "site-packages" in path.parts or "dist-packages" in path.parts or path.is_relative_to(STDLIB)


def _genuine(module, attr: str, value) -> bool:
    """Is ``module.attr`` what the library or the course's own file defines?"""
    if module is np or module is torch:
        if isinstance(value, types.FunctionType):
            return _defined_in(value, Path(module.__file__).resolve().parent)
        if isinstance(value, np.ufunc):
            return value.__name__ == UFUNC_NAMES.get(attr, attr)
        return value is not None  # a C function of the library
    if not isinstance(value, types.FunctionType):
        return False
    value = inspect.unwrap(value)  # a decorated function: check the function it wraps
    if not isinstance(value, types.FunctionType):
        return True
    if value.__module__ == module.__name__:
        return Path(value.__code__.co_filename).resolve() == Path(module.__file__).resolve()
    return _defined_in(value, PACKAGE_DIR) or _is_library(value)  # imported into the module


def _watched():
    """(module, attribute) pairs whose values grading relies on."""
    pairs = [(np, name) for name in NUMPY_FUNCTIONS if hasattr(np, name)]
    pairs += [(torch, name) for name in TORCH_FUNCTIONS if hasattr(torch, name)]
    for name, module in list(sys.modules.items()):
        if name.startswith(GUARDED_MODULE_PREFIXES) and getattr(module, "__file__", None):
            known = {attr for (mod, attr) in _originals if mod == name}
            current = {
                attr
                for attr, value in vars(module).items()
                if not attr.startswith("__") and isinstance(value, types.FunctionType)
            }
            pairs += [(module, attr) for attr in sorted(known | current)]
    return pairs


_originals: dict[tuple[str, str], object] = {}


def remember_originals() -> None:
    """Note the genuine value of every watched function not noted yet (done before learners' code runs)."""
    for module, attr in _watched():
        key, value = (module.__name__, attr), getattr(module, attr, None)
        if key not in _originals and _genuine(module, attr, value):
            _originals[key] = value


def verify_environment() -> None:
    """Put back every watched function that code in the notebook replaced; fail if one cannot be put back."""
    remember_originals()
    restored, broken = [], []
    for module, attr in _watched():
        value = getattr(module, attr, None)
        if _genuine(module, attr, value):
            continue
        key = (module.__name__, attr)
        if key in _originals:
            setattr(module, attr, _originals[key])
            restored.append(f"{module.__name__}.{attr}")
        else:
            broken.append(f"{module.__name__}.{attr}")
    if restored:
        print(f"note: code in this notebook replaced {', '.join(restored)}; the tests use the originals.")
    if broken:
        raise AssertionError(
            f"the grading code was changed while the notebook ran: {', '.join(broken[:5])}"
            f"{' ...' if len(broken) > 5 else ''}. Tests cannot pass in a kernel where the checker, a reference "
            f"or the library functions they use were replaced. Remove that code, restart the kernel and run all cells."
        )


def _is_course_object(value) -> bool:
    if isinstance(value, types.ModuleType):
        return value.__name__.startswith("dlcourse")
    module = getattr(value, "__module__", None)
    return isinstance(module, str) and module.startswith(GUARDED_MODULE_PREFIXES) and callable(value)


def install_name_guard() -> bool:
    """In IPython: after each cell, remember the names bound to the course's code; before each cell, put them back."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or getattr(shell, "_dlcourse_name_guard", False):
        return False
    protected: dict[str, object] = {}

    def remember(result=None):
        remember_originals()
        for name, value in list(shell.user_ns.items()):
            if name not in protected and not name.startswith("_") and _is_course_object(value):
                protected[name] = value

    def restore(info=None):
        for name, value in protected.items():
            if shell.user_ns.get(name) is not value:
                shell.user_ns[name] = value

    shell.events.register("post_run_cell", remember)
    shell.events.register("pre_run_cell", restore)
    shell._dlcourse_name_guard = True
    return True


remember_originals()  # the libraries' functions as they are when the course is imported
