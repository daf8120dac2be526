"""Grades into the learning platforms: nbgrader's real `export` with the course's exporters, on a
gradebook filled by real `nbgrader autograde` (two tiny assignments, three students), each file
read back with the csv module and checked against the rules its platform documents:

- Canvas, "Import grades in the Gradebook", as Canvas's importer (app/models/gradebook_importer.rb)
  reads a file: a header whose first cells contain "Student" and "ID", then "SIS User ID", "SIS Login
  ID" and a last student column containing "Section"; assignment columns "Title (id)" (numeric id) or
  "Title"; a row whose first cell contains "Points Possible"; a student found by ID, SIS id or name;
  an empty score or "-" is no score.
- Moodle, "Grade import" (CSV), as grade/import/csv reads it: the identifier column mapped to a
  user field (userid, username, useridnumber, useremail: Moodle labels them "Username", "ID number",
  "Email address"), each other column mapped to a grade item; a blank or "-" is no grade, any other
  value must be a number, at most 100 (gradepointmax) by default; an unknown or blank user stops it.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.course import nbgrader

pytestmark = pytest.mark.grading

STUDENTS = """id,first_name,last_name,email,lms_user_id
alice,Alice,"O'Neil, Jr",alice@example.org,1001
bob,Bob,Brown,bob@example.org,
carol,Carol,Chen,,
"""
# assignment -> [(grade id, kind, points, source)]; the solution is the first line of each answer
ASSIGNMENTS = {
    "hw1": [
        ("hw1_square", "answer", 0, "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION"),
        ("hw1_square_test", "test", 1, "assert square(3) == 9"),
        ("hw1_cube", "answer", 0, "def cube(x):\n    ### BEGIN SOLUTION\n    return x ** 3\n    ### END SOLUTION"),
        ("hw1_cube_test", "test", 2, "assert cube(2) == 8\nassert cube(-1) == -1"),
    ],
    "hw2": [
        ("hw2_double", "answer", 0, "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"),
        ("hw2_double_test", "test", 3, "assert double(4) == 8"),
        ("hw2_explain", "manual", 2, "Why?\n\n=== BEGIN MARK SCHEME ===\nBecause.\n=== END MARK SCHEME ==="),
    ],
}
# student -> assignment -> (answers by grade id, submission time); hw1 is due 2026-01-10 12:00 UTC
SUBMITTED = {
    "alice": {
        "hw1": (
            {"hw1_square": "def square(x):\n    return x * x", "hw1_cube": "def cube(x):\n    return x * x * x"},
            "2026-01-09 08:00:00 UTC",
        ),
        "hw2": (
            {"hw2_double": "def double(x):\n    return x + x", "hw2_explain": "Because it doubles."},
            "2026-01-09 08:00:00 UTC",
        ),
    },
    "bob": {
        "hw1": (
            {"hw1_square": "def square(x):\n    return x ** 2", "hw1_cube": "def cube(x):\n    return 3 * x"},
            "2026-01-11 09:00:00 UTC",
        )
    },  # late: the "zero" penalty takes the 1 point he earned
}
ALICE_MANUAL = 1.5  # the instructor's manual grade of alice's hw2_explain, out of 2
CANVAS_IDS = {"hw1": 501}  # hw1 exists in Canvas as assignment 501; hw2 is new there


def cell(grade_id: str, kind: str, points: int, source: str):
    if kind == "manual":
        new = nbformat.v4.new_markdown_cell(source, id=grade_id)
    else:
        new = nbformat.v4.new_code_cell(source, id=grade_id)
    new.metadata["nbgrader"] = {
        "grade_id": grade_id,
        "schema_version": 3,
        "solution": kind != "test",
        "grade": kind != "answer",
        "locked": kind == "test",
        **({"points": points} if kind != "answer" else {}),
    }
    return new


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("exports")
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        "c.CourseDirectory.course_id = 'tiny'\n"
        "c.LateSubmissionPlugin.penalty_method = 'zero'\n"
        f"c.CanvasExporter.assignment_ids = {CANVAS_IDS!r}\n"
    )
    for assignment, cells in ASSIGNMENTS.items():
        (root / "source" / assignment).mkdir(parents=True)
        nb = nbformat.v4.new_notebook(cells=[cell(*spec) for spec in cells])
        nbformat.write(nb, str(root / "source" / assignment / f"{assignment}.ipynb"))
    (root / "students.csv").write_text(STUDENTS)
    nbgrader("db", "student", "import", "students.csv", cwd=root)
    nbgrader("db", "assignment", "add", "hw1", "--duedate=2026-01-10 12:00:00 UTC", cwd=root)
    for assignment in ASSIGNMENTS:
        nbgrader("generate_assignment", assignment, cwd=root)
    for student, work in SUBMITTED.items():
        for assignment, (answers, when) in work.items():
            nb = nbformat.read(str(root / "release" / assignment / f"{assignment}.ipynb"), as_version=4)
            for c in nb.cells:
                c.source = answers.get(c.metadata.get("nbgrader", {}).get("grade_id"), c.source)
            folder = root / "submitted" / student / assignment
            folder.mkdir(parents=True)
            nbformat.write(nb, str(folder / f"{assignment}.ipynb"))
            (folder / "timestamp.txt").write_text(when)
    for assignment in ASSIGNMENTS:
        nbgrader("autograde", assignment, cwd=root)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:  # what the formgrader does on "save"
        grade = gb.find_grade("hw2_explain", "hw2", "hw2", "alice")
        grade.manual_score = ALICE_MANUAL
        gb.db.commit()
    return root


def export(course: Path, exporter: str, name: str, *options: str) -> list[list[str]]:
    nbgrader("export", f"--exporter=dlcourse.exporters.{exporter}", f"--to={name}", *options, cwd=course)
    with (course / name).open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def number_or_blank(value: str, decimals: int | None = None) -> float | None:
    if value.strip() in ("", "-"):
        return None
    assert re.fullmatch(r"-?\d+(\.\d+)?", value), f"not a plain number: {value!r}"
    if decimals is not None:
        assert len(value.partition(".")[2]) <= decimals, value
    return float(value)


def test_the_gradebook_is_what_autograde_made(course):
    """The scores the exports must carry (so that the expected values below are nbgrader's, not assumed)."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        alice1, bob1 = gb.find_submission("hw1", "alice"), gb.find_submission("hw1", "bob")
        assert (alice1.score, alice1.late_submission_penalty) == (3.0, 0.0)
        assert (bob1.score, bob1.late_submission_penalty) == (1.0, 1.0)  # square right, cube wrong; late
        assert gb.find_submission("hw2", "alice").score == 3.0 + ALICE_MANUAL


def test_canvas_gradebook_csv(course):
    rows = export(course, "CanvasExporter", "canvas.csv")
    header = rows[0]
    # Canvas's header check: row[0] includes "Student", row[1] "ID"; then SIS User ID and SIS Login ID,
    # and the last student column includes "Section" (5 student columns)
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    titles = [
        re.fullmatch(r"(.*)\s\((\d+)\)", h).groups() if re.fullmatch(r"(.*)\s\((\d+)\)", h) else (h, None)
        for h in header[5:]
    ]
    assert titles == [("hw1", "501"), ("hw2", None)]  # hw1 updates Canvas assignment 501; hw2 by title (or new)
    points = next(row for row in rows if "Points Possible" in row[0])
    assert rows.index(points) == 1 and [number_or_blank(v) for v in points[5:]] == [3.0, 5.0]
    students = {row[3]: row for row in rows[2:]}  # nbgrader's id is the SIS Login ID (the default)
    assert all(len(row) == len(header) for row in rows)
    assert students["alice"][:5] == ["O'Neil, Jr, Alice", "1001", "", "alice", ""]  # ID: Canvas's user id
    assert students["bob"][:2] == ["Brown, Bob", ""] and students["carol"][0] == "Chen, Carol"
    scores = {sid: [number_or_blank(v, decimals=2) for v in row[5:]] for sid, row in students.items()}
    assert scores == {"alice": [3.0, 3.0 + ALICE_MANUAL], "bob": [0.0, None], "carol": [None, None]}


def test_canvas_options_sis_user_id_and_zero_for_missing(course):
    rows = export(
        course,
        "CanvasExporter",
        "canvas_sis.csv",
        "--CanvasExporter.student_column=SIS User ID",
        "--CanvasExporter.missing_as_zero=True",
        "--CanvasExporter.section=Lecture A",
    )
    students = {row[2]: row for row in rows[2:]}
    assert set(students) == {"alice", "bob", "carol"} and all(
        row[3] == "" and row[4] == "Lecture A" for row in students.values()
    )
    assert [number_or_blank(v) for v in students["carol"][5:]] == [0.0, 0.0]


def test_moodle_grade_import_csv(course):
    rows = export(course, "MoodleExporter", "moodle.csv")
    header = rows[0]
    # the identifier column first (Moodle's "Map from" starts there), named with Moodle's label for the field
    assert header[0] in {"Username", "Email address", "ID number"} and header[0] == "Username"
    assert header[1:3] == ["First name", "Last name"] and header[3:] == ["hw1", "hw2"]  # one column per grade item
    identifiers = [row[0] for row in rows[1:]]
    assert sorted(identifiers) == ["alice", "bob", "carol"] and all(identifiers)  # none blank, none unknown
    grades = {row[0]: [number_or_blank(v) for v in row[3:]] for row in rows[1:]}
    assert all(g is None or 0 <= g <= 100 for values in grades.values() for g in values)  # gradepointmax
    assert grades == {"alice": [3.0, 3.0 + ALICE_MANUAL], "bob": [0.0, None], "carol": [None, None]}
    assert {row[0]: row[1:3] for row in rows[1:]}["alice"] == ["Alice", "O'Neil, Jr"]


def test_moodle_by_email_refuses_a_student_without_one_and_exports_the_others(course):
    with pytest.raises(AssertionError, match="no email for carol"):
        export(course, "MoodleExporter", "moodle_email.csv", "--MoodleExporter.identifier=email")
    rows = export(
        course,
        "MoodleExporter",
        "moodle_email.csv",
        "--MoodleExporter.identifier=email",
        "--ExportPlugin.student=alice",
        "--ExportPlugin.student=bob",
        "--ExportPlugin.assignment=hw2",
    )
    assert rows == [
        ["Email address", "First name", "Last name", "hw2"],
        ["alice@example.org", "Alice", "O'Neil, Jr", "4.5"],
        ["bob@example.org", "Bob", "Brown", ""],
    ]


def test_per_exercise_csv(course):
    rows = export(course, "PerExerciseExporter", "exercises.csv")
    assert rows[0] == [
        "student_id",
        "first_name",
        "last_name",
        "email",
        "hw1_square_test",
        "hw1_cube_test",
        "hw1 total",
        "hw2_double_test",
        "hw2_explain",
        "hw2 total",
    ]
    by_student = {row[0]: [number_or_blank(v) for v in row[4:]] for row in rows[1:]}
    assert by_student == {
        "alice": [1.0, 2.0, 3.0, 3.0, ALICE_MANUAL, 3.0 + ALICE_MANUAL],
        "bob": [1.0, 0.0, 0.0, None, None, None],  # his cells as graded; the total after the late penalty
        "carol": [None] * 6,
    }
