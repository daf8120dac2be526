"""Notebook conveniences around the learner's own functions."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable


def solved(name: str) -> Callable:
    """The course's solved version of an exercise, by its name under ``dlcourse.solved`` ("networks.sigmoid")."""
    module, _, attr = name.rpartition(".")
    if not module:
        raise ValueError(f"name the solved function with its chapter module, like 'networks.sigmoid', got {name!r}")
    try:
        return getattr(importlib.import_module(f"dlcourse.solved.{module}"), attr)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"dlcourse.solved has no {name!r}") from error


def use_yours(yours: Callable, fallback: Callable | str) -> Callable:
    """Your function, or the course's solved version (``fallback``, e.g. "networks.sigmoid") until yours works.

    Demos and plots call the result, so they run before you finish the exercise
    and show your own code's work once it passes its test. Until then (a stub, or
    a function whose test cell failed) they use the solved version, and say so once.
    The solved version is looked up only when it is needed, and never lands in the
    notebook's namespace.
    """
    from .checking import verdict

    told = False

    def fall_back(reason: str, args, kwargs):
        nonlocal told
        if not told:
            print(f"({yours.__name__} {reason}: this cell uses the course's solved version)")
            told = True
        return (solved(fallback) if isinstance(fallback, str) else fallback)(*args, **kwargs)

    @functools.wraps(yours)
    def call(*args, **kwargs):
        if verdict(yours) is False:
            return fall_back("does not pass its test yet", args, kwargs)
        try:
            return yours(*args, **kwargs)
        except NotImplementedError:
            return fall_back("is not implemented yet", args, kwargs)

    return call
