"""A watch that does nothing, and how to make ``check`` use it: for measuring what the watch costs
(``benchmarks.watch_overhead``, ``benchmarks.sealed_grading``). Light on purpose: a grading kernel imports it."""

from __future__ import annotations


class NoWatch:
    """Stands in for dlcourse.watch.Watch: records nothing."""

    violation = None

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def use_watch(cls) -> None:
    """Make ``check`` use ``cls`` as its watch: in the checker's modules and in the guard's record of them (which
    would otherwise put the real watch back at the next check, as it does when a notebook swaps it)."""
    import dlcourse.checking as checking
    from dlcourse import guard
    from dlcourse.checking import running

    guard.remember_originals()
    for module in (checking, running):
        module.Watch = cls
        guard._originals[(module.__name__, "Watch")] = cls
