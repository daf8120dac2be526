"""Every notebook follows the course's rules, executes, and course/ is exactly what nbgrader makes of solutions/."""

from __future__ import annotations

import filecmp
import time

import nbformat
import pytest
from nbclient import NotebookClient

from dlcourse.authoring import course_notebooks, lint_notebook
from tests.course import COURSE, ROOT, SOLUTIONS, assignments, graded_cells, nbgrader, notebooks, read

SOLUTION_SECONDS = 60  # the chapter standard: a solution notebook runs in under a minute on 2 cores


def execute(path, allow_errors: bool) -> tuple[nbformat.NotebookNode, float]:
    nb = read(path)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def errors(nb) -> dict[str, str]:
    """cell id -> 'ename: evalue' of every cell that raised."""
    found = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found[cell.id] = f"{output.ename}: {output.evalue}"
    return found


def test_there_are_chapters():
    assert "ch01_networks" in assignments()
    assert notebooks(), "no solution notebooks found"


@pytest.mark.parametrize("path", course_notebooks(ROOT), ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_follows_the_rules(path):
    lint_notebook(read(path), str(path), student=path.is_relative_to(COURSE))


@pytest.mark.notebooks
@pytest.mark.parametrize("assignment, notebook", notebooks())
def test_solution_notebook_runs_without_error_in_time(assignment, notebook):
    nb, seconds = execute(SOLUTIONS / assignment / f"{notebook}.ipynb", allow_errors=False)
    print(f"{assignment}/{notebook}: {seconds:.1f} s")
    assert seconds < SOLUTION_SECONDS, (
        f"{assignment}/{notebook} took {seconds:.0f} s, the limit is {SOLUTION_SECONDS} s"
    )


@pytest.mark.notebooks
@pytest.mark.parametrize("assignment, notebook", notebooks())
def test_student_notebook_fails_exactly_in_its_graded_cells(assignment, notebook):
    path = COURSE / assignment / f"{notebook}.ipynb"
    nb, _ = execute(path, allow_errors=True)
    graded = set(graded_cells(nb))
    failed = errors(nb)
    ungraded_failures = {cell: error for cell, error in failed.items() if cell not in graded}
    assert not ungraded_failures, f"cells that are not graded tests failed in the student version: {ungraded_failures}"
    passing_stubs = graded - set(failed)
    assert not passing_stubs, (
        f"graded test cells pass on the untouched stubs (a test that cannot fail): {passing_stubs}"
    )
    for cell, error in failed.items():
        assert "not implemented yet" in error, f"{cell} failed for another reason than the stub: {error}"


@pytest.mark.parametrize("assignment", assignments())
def test_course_is_what_nbgrader_generates_from_solutions(assignment, tmp_path):
    nbgrader(
        "generate_assignment",
        assignment,
        "--no-db",
        "--force",
        f"--CourseDirectory.release_directory={tmp_path}",
        cwd=ROOT,
    )
    generated, committed = tmp_path / assignment, COURSE / assignment
    names = sorted(p.name for p in generated.iterdir())
    assert names == sorted(p.name for p in committed.iterdir()), (
        f"course/{assignment} holds other files than nbgrader makes"
    )
    different = [n for n in names if not filecmp.cmp(generated / n, committed / n, shallow=False)]
    assert not different, (
        f"course/{assignment}/{different} differ from what nbgrader generates: run "
        f"`nbgrader generate_assignment {assignment} --no-db --force` and commit"
    )
