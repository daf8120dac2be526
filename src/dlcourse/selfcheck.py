"""Self-check for learners: run a notebook's tests in a fresh kernel and print what passes.

``dlcourse check course/ch01_networks/networks.ipynb`` executes the notebook from top to
bottom (as a grader would: a fresh kernel, no state from your session), then prints a
table of the exercises with points earned / possible and the first line of each
failure. It works offline, without nbgrader's gradebook or exchange, and exits 1 when
anything failed (``nbgrader validate`` exits 0 even then).
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError


@dataclass
class Exercise:
    grade_id: str
    points: float
    error: str | None = None  # first line of the failure, None when passed

    @property
    def earned(self) -> float:
        return 0.0 if self.error else self.points


@dataclass
class Report:
    notebook: Path
    exercises: list[Exercise] = field(default_factory=list)
    other_errors: list[str] = field(default_factory=list)  # cells outside the tests that failed
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.other_errors and all(e.error is None for e in self.exercises)


def _first_line(output) -> str:
    text = f"{output.ename}: {output.evalue}".strip()
    return text.splitlines()[0] if text else output.ename


def check_notebook(path: Path, timeout: int = 120, progress=print) -> Report:
    """Execute ``path`` in a fresh kernel (cell timeout ``timeout`` s) and report per graded cell."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as error:  # not JSON, not a notebook
        raise ValueError(f"{path} is not a readable notebook: {error}") from error
    report = Report(path)
    graded = {c.id: c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}
    total = len(graded)
    done = 0

    def on_cell_executed(cell, cell_index, execute_reply, **_):
        nonlocal done
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if cell.id in graded:
            done += 1
            meta = cell.metadata["nbgrader"]
            exercise = Exercise(
                meta["grade_id"], float(meta.get("points", 0)), _first_line(errors[0]) if errors else None
            )
            report.exercises.append(exercise)
            progress(f"  [{done}/{total}] {exercise.grade_id}: {'ok' if exercise.error is None else 'FAILED'}")
        elif errors:
            report.other_errors.append(f"cell {cell_index} ({cell.id}): {_first_line(errors[0])}")

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_executed=on_cell_executed,
    )
    start = time.perf_counter()
    try:
        client.execute(stderr=subprocess.DEVNULL)  # the kernel's own log (a TCP warning) is not the learner's business
    except (CellTimeoutError, DeadKernelError) as error:
        report.other_errors.append(f"the notebook stopped: {str(error).splitlines()[0]}")
    report.seconds = time.perf_counter() - start
    seen = {e.grade_id for e in report.exercises}
    for cell in graded.values():  # cells never reached (the kernel died or timed out)
        meta = cell.metadata["nbgrader"]
        if meta["grade_id"] not in seen:
            report.exercises.append(Exercise(meta["grade_id"], float(meta.get("points", 0)), "not run"))
    return report


def format_report(report: Report) -> str:
    width = max([len(e.grade_id) for e in report.exercises] + [8])
    lines = [f"{report.notebook}  ({report.seconds:.0f} s)", f"  {'exercise':<{width}}  {'points':>6}  result"]
    for e in report.exercises:
        result = "passed" if e.error is None else e.error[:100]
        lines.append(f"  {e.grade_id:<{width}}  {f'{e.earned:g}/{e.points:g}':>6}  {result}")
    earned, possible = sum(e.earned for e in report.exercises), sum(e.points for e in report.exercises)
    lines.append(f"  {'total':<{width}}  {f'{earned:g}/{possible:g}':>6}")
    lines += [f"  other error: {message}" for message in report.other_errors]
    return "\n".join(lines)


def format_total(reports: list[Report]) -> str:
    earned = sum(e.earned for r in reports for e in r.exercises)
    possible = sum(e.points for r in reports for e in r.exercises)
    passed = sum(e.error is None for r in reports for e in r.exercises)
    count = sum(len(r.exercises) for r in reports)
    return (
        f"total: {earned:g}/{possible:g} points, {passed} of {count} exercises passed, "
        f"in {len(reports)} notebook{'s' * (len(reports) != 1)}"
    )


def format_progress(reports: list[Report]) -> str:
    """One line per chapter notebook (points, exercises passed), the exercises under it, then the total."""
    lines = []
    for report in reports:
        earned, possible = sum(e.earned for e in report.exercises), sum(e.points for e in report.exercises)
        name = f"{report.notebook.parent.name}/{report.notebook.stem}"
        lines.append(f"{name:<36} {f'{earned:g}/{possible:g}':>7} points")
        marks = "  ".join(
            f"{'✔' if e.error is None else '✘'} {e.grade_id.split('_', 1)[-1].removesuffix('_test')}"
            for e in report.exercises
        )
        lines.append(f"    {marks}")
    lines.append(format_total(reports))
    return "\n".join(lines)


def progress(paths: list[Path], timeout: int = 120) -> int:
    """``dlcourse progress``: run every notebook quietly, then show points per chapter and exercise, and the total."""
    reports = []
    for path in paths:
        print(f"running {path} ...", flush=True)
        try:
            reports.append(check_notebook(path, timeout, progress=lambda line: None))
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    print(format_progress(reports))
    return 0


def main(paths: list[Path], timeout: int = 120) -> int:
    reports = []
    for path in paths:
        print(f"checking {path} ...", flush=True)
        try:
            reports.append(check_notebook(path, timeout, progress=lambda line: print(line, flush=True)))
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(format_report(reports[-1]), flush=True)
    if len(reports) > 1:
        print(format_total(reports))
    return 0 if all(r.passed for r in reports) else 1
