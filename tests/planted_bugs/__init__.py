"""Classic mistakes planted in the solution notebooks, to prove that grading catches each one.

Every module here defines ``BUGS``, a list of :class:`PlantedBug`. The grading test
(``tests/test_grading.py``) makes one submission per bug: the solution notebook with
exactly that one text replacement in one solution cell. ``nbgrader autograde`` must give
it full marks minus the points of the test cells in ``loses`` (by default the exercise's
own test cell), and nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil
import zlib
from dataclasses import dataclass


@dataclass(frozen=True)
class PlantedBug:
    assignment: str  # e.g. "ch01_networks"
    notebook: str  # notebook name without .ipynb, e.g. "networks"
    cell: str  # grade_id of the solution cell to change, e.g. "ch01_sigmoid"
    old: str  # text in that cell to replace: must occur exactly once
    new: str  # what replaces it
    why: str  # the mistake it stands for, in a learner's words
    loses: tuple[str, ...] = ()  # grade_ids of the test cells that must fail; () means (cell + "_test",)
    hidden_only: bool = False  # True: the visible tests pass, only the hidden tests catch it

    @property
    def failing_tests(self) -> tuple[str, ...]:
        return self.loses or (f"{self.cell}_test",)

    @property
    def student_id(self) -> str:
        return f"bug-{self.cell}-{zlib.crc32((self.old + self.new).encode()):08x}"


def all_bugs() -> list[PlantedBug]:
    bugs = []
    for module in pkgutil.iter_modules(__path__):
        bugs += importlib.import_module(f"{__name__}.{module.name}").BUGS
    return bugs
