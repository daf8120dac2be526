"""Grading end to end with nbgrader, one temporary course per assignment.

For every assignment: `generate_assignment` (fills the gradebook), submissions from
three kinds of student — the solutions filled in, the untouched student version, and
one submission per planted bug (tests/planted_bugs) — then `nbgrader autograde` and
`generate_feedback`, and the scores read back from the gradebook.
"""

from __future__ import annotations

import html
import json
import os
import re

import nbformat
import pytest
from filelock import FileLock
from nbgrader.api import Gradebook

from tests.course import (
    COURSE,
    SOLUTIONS,
    copy_course,
    filled_in,
    graded_cells,
    nbgrader,
    notebooks,
    read,
    solution_sources,
    without_demo_cells,
)
from tests.planted_bugs import PlantedBug, all_bugs

BUGS = all_bugs()
SOLVED, UNTOUCHED = "solved", "untouched"


def grouped(assignment: str, *values):
    """A parameter that runs on the xdist worker that grades ``assignment`` (one grading per assignment)."""
    return pytest.param(assignment, *values, marks=pytest.mark.xdist_group(assignment))


def plant(bug: PlantedBug) -> dict[str, str]:
    sources = solution_sources(bug.assignment, bug.notebook)
    original = sources[bug.cell]
    assert original.count(bug.old) == 1, (
        f"planted bug {bug.student_id}: {bug.old!r} must occur exactly once in {bug.cell}"
    )
    return {**sources, bug.cell: original.replace(bug.old, bug.new)}


def planted_submission(bug: PlantedBug) -> nbformat.NotebookNode:
    student_nb = read(COURSE / bug.assignment / f"{bug.notebook}.ipynb")
    return without_demo_cells(filled_in(student_nb, plant(bug)))


class GradedAssignment:
    """A temporary course in which one assignment was submitted by every kind of student and autograded."""

    def __init__(self, assignment: str, root):
        self.assignment, self.root = assignment, copy_course(root)
        self.bugs = [b for b in BUGS if b.assignment == assignment]
        nbgrader("generate_assignment", assignment, "--force", cwd=root)
        for notebook_path in sorted((COURSE / assignment).glob("*.ipynb")):
            notebook, student_nb = notebook_path.stem, read(notebook_path)
            self.submit(SOLVED, notebook, filled_in(student_nb, solution_sources(assignment, notebook)))
            self.submit(UNTOUCHED, notebook, student_nb)
        for bug in self.bugs:  # a bug's submission: only the notebook it changes, without the demo cells
            self.submit(bug.student_id, bug.notebook, planted_submission(bug))
        nbgrader("autograde", assignment, "--force", cwd=root)
        nbgrader("generate_feedback", assignment, "--force", cwd=root)
        self.scores = self._read_gradebook()

    @classmethod
    def load(cls, assignment: str, root) -> GradedAssignment:
        """An assignment another worker graded already."""
        graded = cls.__new__(cls)
        graded.assignment, graded.root = assignment, root
        graded.scores = json.loads((root / "scores.json").read_text())
        return graded

    def submit(self, student: str, notebook: str, nb) -> None:
        folder = self.root / "submitted" / student / self.assignment
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(folder / f"{notebook}.ipynb"))

    def _read_gradebook(self) -> dict[str, dict[str, dict[str, float]]]:
        """student -> notebook -> grade_id -> score, for every notebook the student submitted."""
        scores: dict = {}
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            submissions = gradebook.find_assignment(self.assignment).submissions
            for submission in submissions:
                for nb in submission.notebooks:
                    if (
                        self.root / "submitted" / submission.student.id / self.assignment / f"{nb.name}.ipynb"
                    ).exists():
                        scores.setdefault(submission.student.id, {})[nb.name] = {
                            g.name: g.score for g in nb.grades if g.max_score
                        }
        return scores

    def feedback(self, student: str, notebook: str) -> str:
        return (self.root / "feedback" / student / self.assignment / f"{notebook}.html").read_text()


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """Grade each assignment once per test run, even across xdist workers (a file lock and a shared folder)."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # this run's folder, the same for every worker (popen-gw0, popen-gw1 are in it)
    cache: dict[str, GradedAssignment] = {}

    def get(assignment: str) -> GradedAssignment:
        if assignment not in cache:
            root = shared / f"graded-{assignment}"
            with FileLock(str(shared / f"graded-{assignment}.lock")):
                if (root / "scores.json").exists():
                    cache[assignment] = GradedAssignment.load(assignment, root)
                else:
                    cache[assignment] = GradedAssignment(assignment, root)
                    (root / "scores.json").write_text(json.dumps(cache[assignment].scores))
        return cache[assignment]

    return get


def points(assignment: str, notebook: str) -> dict[str, float]:
    return graded_cells(read(COURSE / assignment / f"{notebook}.ipynb"))


@pytest.mark.grading
@pytest.mark.parametrize("assignment, notebook", [grouped(a, n) for a, n in notebooks()])
def test_solutions_get_full_marks(graded, assignment, notebook):
    scores = graded(assignment).scores[SOLVED][notebook]
    assert scores == points(assignment, notebook), f"the solutions lose points: {scores}"


@pytest.mark.grading
@pytest.mark.parametrize("assignment, notebook", [grouped(a, n) for a, n in notebooks()])
def test_untouched_student_version_gets_zero(graded, assignment, notebook):
    scores = graded(assignment).scores[UNTOUCHED][notebook]
    assert set(scores) == set(points(assignment, notebook))
    assert all(score == 0 for score in scores.values()), f"points for unwritten code: {scores}"


@pytest.mark.grading
@pytest.mark.parametrize("assignment, bug", [grouped(b.assignment, b) for b in BUGS], ids=[b.student_id for b in BUGS])
def test_a_planted_bug_loses_exactly_its_exercise_points(graded, assignment, bug):
    scores = graded(assignment).scores[bug.student_id][bug.notebook]
    full = points(assignment, bug.notebook)
    expected = {cell: 0 if cell in bug.failing_tests else value for cell, value in full.items()}
    assert scores == expected, f"{bug.why}: expected {expected}, got {scores}"


@pytest.mark.grading
@pytest.mark.parametrize(
    "assignment, bug",
    [grouped(b.assignment, b) for b in BUGS if b.hidden_only],
    ids=[b.student_id for b in BUGS if b.hidden_only],
)
def test_a_hidden_only_bug_passes_the_visible_tests(assignment, bug, tmp_path):
    """The bug that only hidden tests catch really does pass the tests a student sees."""
    from tests.test_notebooks import errors, execute

    path = tmp_path / f"{bug.notebook}.ipynb"
    nbformat.write(planted_submission(bug), str(path))
    nb, _ = execute(path, allow_errors=True)
    assert errors(nb) == {}, f"{bug.why}: the visible tests already catch it: {errors(nb)}"


def test_every_graded_exercise_has_a_planted_bug():
    for assignment, notebook in notebooks():
        exercises = {cell[: -len("_test")] for cell in points(assignment, notebook)}
        planted = {b.cell for b in BUGS if b.assignment == assignment and b.notebook == notebook}
        assert exercises <= planted, (
            f"{assignment}/{notebook}: exercises without a planted bug: {sorted(exercises - planted)}"
        )


@pytest.mark.grading
@pytest.mark.parametrize("assignment, notebook", [grouped(a, n) for a, n in notebooks()])
def test_feedback_shows_scores_and_failures_but_not_hidden_tests(graded, assignment, notebook):
    result = graded(assignment)
    visible = read(COURSE / assignment / f"{notebook}.ipynb")
    visible_lines = {line.strip() for cell in visible.cells for line in cell.source.splitlines()}
    solution = read(SOLUTIONS / assignment / f"{notebook}.ipynb")
    hidden_only = [
        line.strip()
        for cell in solution.cells
        for line in _hidden_block(cell.source)
        if len(line.strip()) > 20 and line.strip() not in visible_lines
    ]
    assert hidden_only, "the notebook has no hidden test code to look for"
    students = [s for s, notebooks_ in result.scores.items() if notebook in notebooks_]
    for student in students:  # the failing ones matter most: tracebacks quote the test cell
        text = html.unescape(re.sub(r"<[^>]+>", "", result.feedback(student, notebook)))
        # whole lines, also as a traceback quotes them ("----> 12 check(...)", "     13 check(...)")
        shown = {re.sub(r"^(-+>)?\s*\d+\s", "", line.strip()).strip() for line in text.splitlines()} | {
            line.strip() for line in text.splitlines()
        }
        leaked = [line for line in hidden_only if line in shown]
        assert not leaked, f"hidden test code appears in {student}'s feedback: {leaked[:3]}"
        assert "HIDDEN TESTS" not in text
        earned = sum(result.scores[student][notebook].values())
        total = sum(points(assignment, notebook).values())
        assert re.search(rf"Score:\s*{earned:g}(\.0)?\s*/\s*{total:g}", text), f"{student}'s feedback lacks its score"
    untouched = html.unescape(re.sub(r"<[^>]+>", "", result.feedback(UNTOUCHED, notebook)))
    assert "not implemented yet" in untouched, "the failure messages should reach the student"


def _hidden_block(source: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            inside = True
        elif "END HIDDEN TESTS" in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines
