"""Step 2 of ``dlcourse grade`` (see :mod:`dlcourse.grading`): record executed submissions into the gradebook.

nbgrader's own ``autograde`` runs on the client, one student at a time, against the real gradebook,
with the course's configured preprocessor list in which the executing preprocessor (nbgrader's
``Execute``, the course's ``GradingExecute`` or the sandbox's subclass) is replaced by
:class:`ReuseExecution`: the outputs come from the execution a Dask task published in
``.grading/<assignment>/<student>/``. Every score and comment is written by nbgrader's code.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

WORK = ".grading"
REUSE = f"{__name__}.ReuseExecution"


class ReuseExecution(NbGraderPreprocessor):
    """Stands in for nbgrader's ``Execute``: copies the outputs of an execution done earlier."""

    executed_root = Unicode("", help="folder with <student>/<notebook>.ipynb executed notebooks").tag(config=True)

    def preprocess(self, nb, resources):
        ids = resources["nbgrader"]
        path = Path(self.executed_root) / ids["student"] / f"{ids['notebook']}.ipynb"
        if not path.is_file():
            raise FileNotFoundError(
                f"no executed notebook for {ids['student']}/{ids['notebook']} in {self.executed_root}"
            )
        executed = nbformat.read(str(path), as_version=4)
        if [c.source for c in executed.cells] != [c.source for c in nb.cells]:
            raise ValueError(f"{path} does not match the submission it was executed from: grade it again with --force")
        for cell, done in zip(nb.cells, executed.cells):
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = done.outputs, done.execution_count
        return nb, resources


def recording_preprocessors(config) -> list:
    """The course's autograde preprocessors (nbgrader's default if unset) with the executing one replaced by ReuseExecution."""
    from nbconvert.preprocessors import ExecutePreprocessor
    from nbgrader.converters import Autograde
    from traitlets.utils.importstring import import_item

    configured = (
        config.Autograde.autograde_preprocessors
        if "autograde_preprocessors" in config.Autograde
        else Autograde.autograde_preprocessors.default()
    )
    classes = [import_item(p) if isinstance(p, str) else p for p in configured]
    executes = [isinstance(cls, type) and issubclass(cls, ExecutePreprocessor) for cls in classes]
    if sum(executes) != 1:
        raise ValueError(f"expected one executing preprocessor in Autograde.autograde_preprocessors: {configured}")
    return [REUSE if is_execute else p for p, is_execute in zip(configured, executes)]


class Recorder:
    """Step 2: nbgrader's own autograde of one student against the real gradebook, reusing the execution."""

    def __init__(self, root: Path, assignment: str):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config, PyFileConfigLoader

        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
        config.merge(
            Config(
                {
                    "Autograde": {"autograde_preprocessors": recording_preprocessors(config)},
                    "ReuseExecution": {"executed_root": str(root / WORK / assignment)},
                }
            )
        )
        self.api = NbGraderAPI(CourseDirectory(config=config), config=config)
        self.assignment, self.problems = assignment, {}

    def __call__(self, student: str) -> None:
        result = self.api.autograde(self.assignment, student, force=True, create=True)
        if not result["success"]:
            lines = [line for line in (result.get("error") or result.get("log") or "").splitlines() if line.strip()]
            self.problems[student] = (lines[-1] if lines else "nbgrader could not grade it")[-300:]


def record_all(root: Path, assignment: str, students: list[str]) -> dict[str, str]:
    """Step 2 for ``students`` one after the other; their problems by name."""
    record = Recorder(root, assignment)
    for student in students:
        record(student)
    return record.problems
