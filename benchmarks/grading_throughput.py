"""Seconds per submission when a class is graded: serially (``nbgrader autograde``) and in parallel
(``dlcourse grade --workers N``), each in its own temporary copy of the course, on a class whose
every student submitted the solutions (so every cell runs, as in a good submission)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from tests.course import COURSE, copy_course, filled_in, graded_cells, nbgrader, read, solution_sources


def make_class(root: Path, assignment: str, students: int) -> Path:
    """A copy of the course with ``students`` submissions of ``assignment``, all the solutions filled in."""
    copy_course(root)
    nbgrader("generate_assignment", assignment, "--force", cwd=root)
    for path in sorted((COURSE / assignment).glob("*.ipynb")):
        submission = filled_in(read(path), solution_sources(assignment, path.stem))
        for k in range(1, students + 1):
            folder = root / "submitted" / f"student{k:02d}" / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(submission, str(folder / path.name))
    return root


def full_marks(root: Path, assignment: str) -> bool:
    """Whether every student got every point (the check that the grading really ran)."""
    points = {path.stem: graded_cells(read(path)) for path in (COURSE / assignment).glob("*.ipynb")}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        submissions = gradebook.find_assignment(assignment).submissions
        got = [{g.name: g.score for g in nb.grades if g.max_score} == points[nb.name]
               for submission in submissions for nb in submission.notebooks]
    return bool(got) and all(got)


def _grade_command(assignment: str, workers: int) -> list[str]:
    return [sys.executable, "-m", "dlcourse.cli", "grade", assignment, "--workers", str(workers)]


def grading_throughput(assignment: str, students: int, workers: int = 2, echo=print) -> dict:
    """Serial and parallel grading of one class of ``assignment``: seconds in all and per submission."""
    result = {"assignment": assignment, "students": students, "workers": workers}
    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-") as tmp:
        for mode in ("serial", "parallel"):
            root = make_class(Path(tmp) / mode, assignment, students)
            start = time.perf_counter()
            if mode == "serial":
                nbgrader("autograde", assignment, cwd=root)
            else:
                env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
                done = subprocess.run(_grade_command(assignment, workers), cwd=root, env=env, capture_output=True, text=True)
                if done.returncode != 0:
                    raise RuntimeError(f"dlcourse grade failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
            seconds = time.perf_counter() - start
            result[f"{mode}_seconds"] = seconds
            result[f"{mode}_per_submission"] = seconds / students
            result[f"{mode}_full_marks"] = full_marks(root, assignment)
            echo(f"  {assignment}, {mode}: {seconds:.0f} s for {students} submissions, "
                 f"{seconds / students:.1f} s each{'' if result[f'{mode}_full_marks'] else ' (NOT all full marks!)'}")
    result["speedup"] = result["serial_seconds"] / result["parallel_seconds"]
    return result
