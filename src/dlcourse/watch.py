"""The watch: while a learner's function runs under a check, it may not call the answer key.

A graded exercise earns points only for what the learner's own code computes. While
:func:`dlcourse.checking.check` runs the learner's function, a profile hook
(:func:`sys.setprofile`, which sees every call of a Python function and of a C function)
looks at each call into

* the course's solved code (``dlcourse.solved``) or its PyTorch references (``dlcourse.reference``),
* ``torch`` (its Python functions, its C functions and the methods of its tensors),
* an escape hatch: reading other frames (``sys._getframe``, ``inspect.stack``), the garbage
  collector's object lists, turning the watch off (``sys.setprofile``/``settrace``), starting a
  thread or a process (whose calls the hook would not see).

For such a call it walks the stack from the caller outwards. Frames of libraries (NumPy,
the standard library) and of the course's own helpers are passed over; the first frame
that decides is either

* the learner's code (any code not in an installed library and not the course's): the call is
  recorded as a violation, and the check fails after the function returns, whatever it returned;
* a building block the exercise offers (``allow=``, by qualified name, e.g.
  ``"dlcourse.solved.losses.softmax"`` or a whole module), or a function the test hands to the
  learner's function as an argument (the ``f`` whose gradient ``numerical_gradient(f, x)`` estimates):
  allowed, with everything it calls;
* the checker, reached without meeting learner code (an adapter in the test cell or in
  ``dlcourse.cases`` that calls the learner's function and then a reference): allowed. Such
  adapters are passed over like libraries, so learner code that calls one is still caught.

The answer itself is never on the stack while learner code runs: ``check`` calls the learner's
function on every case before it computes any reference result.

What it cannot see: code the learner copies as text (``inspect.getsource`` of a solved function,
then ``exec``) — that is what ``dlcourse copies`` flags for the instructor —, work done in
C extensions the learner compiles, and code compiled under a forged file name (``compile(source,
"<a library's path>", "exec")``): code is told apart by the file it says it comes from. The watch
stops every ordinary way to the answer key; a determined attacker in the same process is what the
sandbox and the instructor's review are for.

The module is a little over 300 lines on purpose: what counts as forbidden, the escape hatches, the
classification of code and the hook are one mechanism, and each is only correct together with the others.

Cost: one Python callback per call event, which returns after a dictionary lookup for the
common case (NumPy code). Vectorised exercises make few calls; see benchmarks/RESULTS.md.
"""

from __future__ import annotations

import functools
import gc
import inspect
import os
import sys
import sysconfig
import threading
import types
from collections.abc import Iterable
from pathlib import Path

import torch

__all__ = ["Watch"]

PACKAGE_DIR = Path(__file__).resolve().parent
_FORBIDDEN_DIRS = (
    str(PACKAGE_DIR / "solved") + os.sep,
    str(PACKAGE_DIR / "reference") + os.sep,
    str(Path(torch.__file__).resolve().parent) + os.sep,
)
_TRUSTED_DIRS = (str(PACKAGE_DIR / "checking") + os.sep, str(PACKAGE_DIR / "cases") + os.sep)
_THIS_FILE = str(Path(__file__).resolve())
_LIBRARY_DIRS = tuple(
    {
        str(Path(p).resolve()) + os.sep
        for p in (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])
    }
)

# the kinds of code a frame can belong to
LEARNER, LIBRARY, COURSE, TRUSTED, FORBIDDEN = "learner", "library", "course", "trusted", "forbidden"

# Escape hatches: what reads the caller's frames or the interpreter's objects, or turns the hook off. Judged
# by the frame that calls them (a library may read frames for its own purposes: namedtuple, typing).
_ESCAPES_C = frozenset(  # frozen: a set that code could empty would be no watch at all
    (
        sys._getframe,
        sys.setprofile,
        sys.getprofile,  # it would hand over the watch's own hook, and with it what the hook has learnt
        sys.settrace,
        sys._current_frames,
        gc.get_objects,
        gc.get_referrers,
        gc.get_referents,
    )
)
_ESCAPES_PY = frozenset(
    f.__code__
    for f in (
        inspect.currentframe,
        inspect.stack,
        inspect.getouterframes,
        inspect.trace,
        threading.setprofile,
        threading.settrace,
        threading.getprofile,
    )
)
# Out of sight: a thread or a process runs code the hook never sees. Judged like a call into the answer key,
# by whether learner code is behind it (a thread pool's or subprocess's own frames are passed over).
_OUT_OF_SIGHT_PY = frozenset((threading.Thread.start.__code__,))
_out_of_sight_c = [
    getattr(os, name)
    for name in ("fork", "forkpty", "vfork", "system", "posix_spawn", "posix_spawnp")
    if hasattr(os, name)
]
try:
    import _posixsubprocess

    _out_of_sight_c.append(_posixsubprocess.fork_exec)
except ImportError:  # pragma: no cover - not on POSIX
    pass
_OUT_OF_SIGHT_C = frozenset(_out_of_sight_c)
del _out_of_sight_c
# by identity: a code object's hash is computed anew each time (over its name, bytecode and constants), an
# id's is not; these functions live as long as their modules, so their ids stay theirs
_ESCAPE_IDS = frozenset(id(code) for code in _ESCAPES_PY)
_OUT_OF_SIGHT_IDS = frozenset(id(code) for code in _OUT_OF_SIGHT_PY)


# The hooks' switches as they are when the course is imported: code that replaces sys.setprofile or
# sys.getprofile later (to keep the watch from starting, or to hide that it stopped) does not reach them.
_setprofile, _getprofile, _getframe = sys.setprofile, sys.getprofile, sys._getframe


def _code_of(fn) -> types.CodeType | None:
    """The code object a call of ``fn`` runs: a function's, a method's, or a callable object's ``__call__``."""
    fn = getattr(fn, "__func__", fn)
    if isinstance(fn, types.FunctionType):
        return fn.__code__
    if callable(fn) and not isinstance(fn, type):
        call = vars(type(fn)).get("__call__") or getattr(type(fn), "__call__", None)  # noqa: B004
        return call.__code__ if isinstance(call, types.FunctionType) else None
    return None


@functools.cache
def _file_kind(filename: str) -> str:
    """What a file's code is, by where the file lies (cached: resolving a path costs system calls, and a check
    meets the same few hundred files again and again)."""
    if filename == _THIS_FILE:
        return TRUSTED
    if filename.startswith("<frozen"):
        return LIBRARY
    try:
        resolved = str(Path(filename).resolve())
    except (OSError, ValueError):
        return LEARNER
    if resolved.startswith(_FORBIDDEN_DIRS):
        return FORBIDDEN
    if resolved.startswith(_TRUSTED_DIRS):
        return TRUSTED
    if resolved.startswith(str(PACKAGE_DIR) + os.sep):
        return COURSE
    if resolved.startswith(_LIBRARY_DIRS):
        return LIBRARY
    return LEARNER


@functools.cache
def _module_name(filename: str) -> str:
    """dlcourse.solved.networks for .../dlcourse/solved/networks.py; torch.x.y for torch's files; threading for
    the standard library's threading.py."""
    path = Path(filename)
    roots = [(PACKAGE_DIR, ("dlcourse",)), (Path(torch.__file__).resolve().parent, ("torch",))]
    roots += [(Path(folder), ()) for folder in _LIBRARY_DIRS]
    for root, prefix in roots:
        try:
            parts = path.resolve().relative_to(root).with_suffix("").parts
        except ValueError:
            continue
        parts = parts[:-1] if parts and parts[-1] == "__init__" else parts
        return ".".join((*prefix, *parts))
    return filename


def _is_torch_c_function(fn) -> bool:
    module = getattr(fn, "__module__", None)
    if isinstance(module, str) and module.startswith("torch"):
        return True
    owner = getattr(fn, "__self__", None)
    if owner is None or isinstance(owner, types.ModuleType):
        return isinstance(owner, types.ModuleType) and owner.__name__.startswith("torch")
    owner_type = owner if isinstance(owner, type) else type(owner)
    return getattr(owner_type, "__module__", "").startswith("torch")


def _torch_c_function(fn) -> bool:
    """:func:`_is_torch_c_function`, remembered: by the function (equal bound builtins compare equal), or for a
    method bound to an object, by the object's type (a learner's loop calls ``list.append`` thousands of times)."""
    owner = getattr(fn, "__self__", None)
    key = fn if owner is None or isinstance(owner, (types.ModuleType, type)) else type(owner)
    try:
        return _torch_c_by_key(key)
    except TypeError:  # unhashable
        return _is_torch_c_function(fn)


@functools.cache  # a cache no code can write into (a dict here could be filled with wrong answers)
def _torch_c_by_key(key) -> bool:
    if isinstance(key, type):
        return getattr(key, "__module__", "").startswith("torch")
    return _is_torch_c_function(key)


class Watch:
    """A context manager that records the first forbidden call made by learner code while it is active.

    ``allow``: qualified names (functions or modules) the learner may call. ``trusted_files``:
    the files (notebook cells) whose code is the test's own, e.g. the cell that called ``check``.
    ``learner``: the function's name, for the message.
    """

    def __init__(
        self, learner: str, allow: Iterable[str] = (), trusted_files: Iterable[str] = (), offered: Iterable[object] = ()
    ):
        self.learner = learner
        self.allow = tuple(allow)
        self.trusted_files = frozenset(trusted_files)
        self.offered = frozenset(filter(None, (_code_of(fn) for fn in offered)))
        self.violation: str | None = None
        # id(code) -> kind; the code objects are kept alive in _seen, so that an id is never reused meanwhile
        self._kinds: dict[int, str] = {}
        self._seen: list[types.CodeType] = []
        self._base = None
        self._previous = None
        self._hook = None

    # --- classifying code -------------------------------------------------------------------

    def _allowed_name(self, qualified: str) -> bool:
        return any(qualified == a or qualified.startswith(a + ".") for a in self.allow)

    def _qualified(self, code: types.CodeType) -> str:
        return f"{_module_name(code.co_filename)}.{getattr(code, 'co_qualname', code.co_name)}"

    def _kind(self, code: types.CodeType) -> str:
        kind = self._kinds.get(id(code))
        if kind is None:
            kind = self._classify(code)
            self._seen.append(code)
            self._kinds[id(code)] = kind
        return kind

    def _classify(self, code: types.CodeType) -> str:
        if code in self.offered:
            return "allowed"
        filename = code.co_filename
        if filename in self.trusted_files:
            return TRUSTED
        kind = _file_kind(filename)
        if kind == FORBIDDEN and self.allow and self._allowed_name(self._qualified(code)):
            return "allowed"
        return kind

    # --- deciding ----------------------------------------------------------------------------

    def _learner_behind(self, frame) -> bool:
        """Walk out from ``frame`` to the checker: is learner code on the way, before an offered block?

        Libraries, the course's helpers and the test's own code (the checker, ``dlcourse.cases``,
        the test cell) are passed over: an adapter may call a reference after the learner's function
        returned, but learner code that calls an adapter which calls a reference is still found.
        """
        while frame is not None and frame is not self._base:
            kind = self._kind(frame.f_code)
            if kind == LEARNER:
                return True
            if kind in ("allowed", FORBIDDEN):
                return False
            frame = frame.f_back
        return False

    def _record(self, what: str) -> None:
        if self.violation is None:
            self.violation = what

    def _make_hook(self):
        """The profile function: a closure over what it needs, since it runs on every call and return event
        (a return event only pays for the two comparisons of ``event``)."""
        kinds, kind_of, learner_behind, record = self._kinds, self._kind, self._learner_behind, self._record
        qualified, torch_c = self._qualified, _torch_c_function
        escapes_c, escape_ids, hidden_c, hidden_ids = _ESCAPES_C, _ESCAPE_IDS, _OUT_OF_SIGHT_C, _OUT_OF_SIGHT_IDS

        def hook(frame, event, arg):
            if event == "c_call":
                code = frame.f_code
                kind = kinds.get(id(code)) or kind_of(code)
                if kind == FORBIDDEN or kind == "allowed":
                    return
                try:
                    escape, hidden = arg in escapes_c, arg in hidden_c
                except TypeError:
                    escape = hidden = False
                if escape:
                    if kind == LEARNER:
                        record(
                            f"`{getattr(arg, '__module__', None) or 'builtins'}.{arg.__name__}` "
                            f"(it reads the caller's frames or turns the watch off)"
                        )
                elif hidden:
                    if learner_behind(frame):
                        record(
                            f"`{getattr(arg, '__module__', None) or 'os'}.{arg.__name__}` (it runs code out of sight)"
                        )
                elif torch_c(arg) and learner_behind(frame):
                    record(f"`torch` (`{getattr(arg, '__qualname__', arg)}`)")
            elif event == "call":
                code = frame.f_code
                kind = kinds.get(id(code)) or kind_of(code)
                if kind == FORBIDDEN:
                    caller = frame.f_back
                    if (
                        caller is not None
                        and kind_of(caller.f_code) not in (FORBIDDEN, "allowed")
                        and learner_behind(caller)
                    ):
                        record(f"`{qualified(code)}`")
                elif id(code) in escape_ids:
                    if frame.f_back is not None and kind_of(frame.f_back.f_code) == LEARNER:
                        record(f"`{qualified(code)}` (it reads the caller's frames or turns the watch off)")
                elif id(code) in hidden_ids and frame.f_back is not None and learner_behind(frame.f_back):
                    record(f"`{qualified(code)}` (it runs code out of sight)")

        return hook

    # --- the context manager -------------------------------------------------------------------

    def __enter__(self) -> Watch:
        self._base = _getframe(1)
        self._previous = _getprofile()
        self._hook = self._make_hook()
        _setprofile(self._hook)  # not threading.setprofile: starting a thread is a violation of its own
        return self

    def __exit__(self, *exc_info) -> None:
        hook = _getprofile()
        _setprofile(self._previous)
        if hook is None or hook is not self._hook:
            self._record("`sys.setprofile` (it turned the course's watch off)")
        self._base = None

    def message(self) -> str:
        offered = f" The exercise offers: {', '.join(self.allow)}." if self.allow else ""
        return (
            f"`{self.learner}` calls {self.violation}: this exercise is graded on what your own code computes. "
            f"Write it with NumPy (and your own functions), not with the course's solved code, its PyTorch "
            f"references or torch.{offered}"
        )
