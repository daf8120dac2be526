"""The instructor's whole nbgrader cycle on one machine, as the README gives it, with three students.

generate -> release -> (students) fetch -> submit -> collect -> autograde -> generate feedback ->
release feedback -> (students) fetch feedback -> export grades as CSV.
Student A submits the solutions, B the untouched notebook, C the solutions with two planted bugs.
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import nbformat
import pytest

from tests.course import COURSE, copy_course, filled_in, graded_cells, nbgrader, read, solution_sources
from tests.planted_bugs import all_bugs

ASSIGNMENT, NOTEBOOK = "ch01_networks", "networks"


def run(args: list[str], cwd: Path, user: str | None = None) -> None:
    # nbgrader's exchange knows a student by the login name
    nbgrader(*args, cwd=cwd, timeout=900, extra_env={"USER": user, "LOGNAME": user, "HOME": str(cwd)} if user else None)


def with_bugs(nb, cells: list[str]):
    sources = solution_sources(ASSIGNMENT, NOTEBOOK)
    for bug in all_bugs():
        if bug.assignment == ASSIGNMENT and bug.cell in cells and not bug.hidden_only and bug.cell in sources:
            if bug.old in sources[bug.cell]:
                sources[bug.cell] = sources[bug.cell].replace(bug.old, bug.new)
                cells = [c for c in cells if c != bug.cell]
    assert not cells, f"no planted bug found for {cells}"
    return filled_in(nb, sources)


@pytest.mark.grading
def test_the_whole_cycle_with_three_students(tmp_path):
    course = copy_course(tmp_path / "instructor")
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    ex = f"--Exchange.root={exchange}"
    run(["generate_assignment", ASSIGNMENT, "--force"], course)
    run(["release_assignment", ASSIGNMENT, ex, "--force"], course)

    points = graded_cells(read(COURSE / ASSIGNMENT / f"{NOTEBOOK}.ipynb"))
    total = sum(points.values())
    lost = points["ch01_sigmoid_test"] + points["ch01_count_params_test"]
    students = {
        "alice": (lambda nb: filled_in(nb, solution_sources(ASSIGNMENT, NOTEBOOK)), total),
        "bob": (lambda nb: nb, 0),
        "carol": (lambda nb: with_bugs(nb, ["ch01_sigmoid", "ch01_count_params"]), total - lost),
    }
    for student, (work, _) in students.items():
        home = tmp_path / student
        home.mkdir()
        run(["fetch_assignment", ASSIGNMENT, "--course=dlcourse", ex], home, user=student)
        path = home / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        nbformat.write(work(read(path)), str(path))
        # one machine, one login: each student names itself (on JupyterHub the login name does it)
        run(["submit", ASSIGNMENT, "--course=dlcourse", f"--student={student}", ex], home, user=student)

    run(["collect", ASSIGNMENT, ex, "--ExchangeCollect.check_owner=False"], course)
    assert sorted(p.name for p in (course / "submitted").iterdir()) == sorted(students)
    run(["autograde", ASSIGNMENT], course)
    run(["generate_feedback", ASSIGNMENT], course)
    run(["release_feedback", ASSIGNMENT, ex], course)
    run(["export", "--to=grades.csv"], course)

    with open(course / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    for student, (_, expected) in students.items():
        assert float(rows[student]["score"]) == expected, f"{student}: {rows[student]}"
        assert float(rows[student]["max_score"]) == total

    for student, (_, expected) in students.items():
        home = tmp_path / student
        run(["fetch_feedback", ASSIGNMENT, "--course=dlcourse", ex], home, user=student)
        pages = list((home / ASSIGNMENT / "feedback").glob("*/*.html"))
        assert len(pages) == 1, f"{student} got no feedback: {list((home / ASSIGNMENT).rglob('*'))}"
        text = html.unescape(re.sub(r"<[^>]+>", "", pages[0].read_text()))
        assert re.search(rf"Score:\s*{expected:g}(\.0)?\s*/\s*{total:g}", text), f"{student}'s feedback lacks the score"
        assert "HIDDEN TESTS" not in text and "745.2" not in text  # 745.2 appears only in a hidden test
        if student == "carol":
            # the textbook sigmoid overflows on the visible extreme case: the checker's lesson reaches the student
            assert re.search(r"sigmoid, case \d+ of \d+: your function computed an overflow", text), (
                "the failure message should reach the student"
            )
