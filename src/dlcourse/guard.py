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


def _in_library(path: Path) -> bool:
    """A (resolved) file of an installed package or of Python's standard library."""
    return "site-packages" in path.parts or "dist-packages" in path.parts or path.is_relative_to(STDLIB)


def _is_library(fn) -> bool:
    """Defined in an installed package or in Python's standard library."""
    return _in_library(Path(fn.__code__.co_filename).resolve())


_MISSING = object()
# Modules whose every attribute is kept as it was when first seen (not only their functions): the watch's
# sets of escape hatches, its folders and its cached helpers are what it decides with.
FROZEN_MODULES = ("dlcourse.watch",)


def _owner_name(owner) -> str:
    return owner.__name__ if isinstance(owner, types.ModuleType) else f"{owner.__module__}.{owner.__qualname__}"


def _genuine_class(value) -> bool:
    """A class its module really defines: the course's own (not one made elsewhere with a course module's name),
    a built-in module's, or an installed library's."""
    module = sys.modules.get(getattr(value, "__module__", None) or "")
    if module is None:
        return False
    defines_it = getattr(module, value.__qualname__, None) is value
    file = getattr(module, "__file__", None)
    if file is None:  # a built-in module's class (builtins, _thread, ...)
        return defines_it
    path = Path(file).resolve()
    return (defines_it and path.is_relative_to(PACKAGE_DIR)) or _in_library(path)


def _genuine(owner, attr: str, value) -> bool:
    """Is ``owner.attr`` (a module's or a course class's) what the library or the course's own file defines?

    Once a value has been noted (before any learner code ran), only that very object is genuine."""
    noted = _originals.get((_owner_name(owner), attr), _MISSING)
    if noted is not _MISSING:
        return value is noted
    if isinstance(owner, type):  # a course class, seen for the first time: as its module made it
        return True
    if owner is np or owner is torch:
        if isinstance(value, types.FunctionType):
            return _defined_in(value, Path(owner.__file__).resolve().parent)
        if isinstance(value, np.ufunc):
            return value.__name__ == UFUNC_NAMES.get(attr, attr)
        return value is not None  # a C function of the library
    if isinstance(value, type):
        return _genuine_class(value)
    if isinstance(value, types.BuiltinFunctionType):
        home = sys.modules.get(value.__module__ or "builtins")
        return getattr(home, value.__name__, None) is value
    if not isinstance(value, types.FunctionType):
        return isinstance(owner, types.ModuleType) and owner.__name__.startswith(FROZEN_MODULES)
    value = inspect.unwrap(value)  # a decorated function: check the function it wraps
    if not isinstance(value, types.FunctionType):
        return True
    if value.__module__ == owner.__name__:  # owner is a module here: classes returned above
        return Path(value.__code__.co_filename).resolve() == Path(owner.__file__).resolve()
    return _defined_in(value, PACKAGE_DIR) or _is_library(value)  # imported into the module


def _guarded_attributes(owner) -> set[str]:
    """The attributes of a guarded module or course class that grading relies on."""
    frozen = isinstance(owner, types.ModuleType) and owner.__name__.startswith(FROZEN_MODULES)
    return {
        attr
        for attr, value in vars(owner).items()
        if not (attr.startswith("__") and attr.endswith("__") and not isinstance(value, types.FunctionType))
        and (
            frozen
            or isinstance(value, (types.FunctionType, types.BuiltinFunctionType))
            or (isinstance(value, type) and value.__module__.startswith("dlcourse"))
        )
    }


def _watched():
    """(owner, attribute) pairs whose values grading relies on: owners are modules and the course's classes."""
    pairs = [(np, name) for name in NUMPY_FUNCTIONS if hasattr(np, name)]
    pairs += [(torch, name) for name in TORCH_FUNCTIONS if hasattr(torch, name)]
    known: dict[str, set[str]] = {}
    for where, attr in _originals:
        known.setdefault(where, set()).add(attr)
    for name, module in list(sys.modules.items()):
        if name.startswith(GUARDED_MODULE_PREFIXES) and getattr(module, "__file__", None):
            owners = [module] + [
                value
                for value in list(vars(module).values())
                if isinstance(value, type) and value.__module__ == name and value.__qualname__ == value.__name__
            ]
            for owner in owners:
                attrs = known.get(_owner_name(owner), set()) | _guarded_attributes(owner)
                pairs += [(owner, attr) for attr in sorted(attrs)]
    return pairs


_originals: dict[tuple[str, str], object] = {}


def remember_originals() -> None:
    """Note the genuine value of every watched attribute not noted yet (done before learners' code runs)."""
    for owner, attr in _watched():
        key, value = (_owner_name(owner), attr), getattr(owner, attr, None)
        if key not in _originals and _genuine(owner, attr, value):
            _originals[key] = value


def verify_environment() -> None:
    """Put back every watched attribute that code in the notebook replaced; fail if one cannot be put back."""
    remember_originals()
    restored, broken = [], []
    for owner, attr in _watched():
        value = getattr(owner, attr, None)
        if _genuine(owner, attr, value):
            continue
        key = (_owner_name(owner), attr)
        if key in _originals:
            setattr(owner, attr, _originals[key])
            restored.append(f"{key[0]}.{attr}")
        else:
            broken.append(f"{key[0]}.{attr}")
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
