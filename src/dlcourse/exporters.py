"""Grades out of nbgrader's gradebook, in the files learning platforms import: nbgrader export plugins.

    nbgrader export --exporter=dlcourse.exporters.CanvasExporter --to=canvas.csv
    nbgrader export --exporter=dlcourse.exporters.MoodleExporter --to=moodle.csv
    nbgrader export --exporter=dlcourse.exporters.PerExerciseExporter --to=exercises.csv

``--assignment`` and ``--student`` select as with nbgrader's own CSV export. An assignment's
score is nbgrader's: the sum of its notebooks' scores (manual grades over automatic ones, extra
credit included) less the late-submission penalty, never below 0. A student who submitted
nothing gets an empty cell (the platforms read it as "no grade" and leave the gradebook as it
is), or 0 with ``--ExportPlugin.missing_as_zero=True`` as nbgrader's CSV export writes.

Canvas ("Import grades in the Gradebook"; the rules below are those of Canvas's importer,
``GradebookImporter``): the header is ``Student, ID, SIS User ID, SIS Login ID, Section``, then
one column per assignment. Canvas finds a student by ``ID`` (its own user id: nbgrader's
``lms_user_id``, from ``nbgrader db student add --lms-user-id``), else by SIS User ID or SIS
Login ID (nbgrader's student id goes in the column ``CanvasExporter.student_column`` names),
else by name. A column named ``Name (123)`` updates the Canvas assignment with id 123 (set
``c.CanvasExporter.assignment_ids = {"ch01_networks": 123}``); a column named ``Name`` updates
the assignment of that title, or creates it, with the points of the second row, whose first
cell is ``Points Possible``. Scores are written to 2 decimals, Canvas's own precision.

Moodle ("Grade import", CSV file): one row per student, an identifier column and one column
per grade item. On the import page the identifier column is mapped ("Map from") to a user
field ("Map to": username, email address or ID number) and each other column to an existing
grade item or to "new grade item". The identifier column is first (Moodle preselects the first
column) and is named with Moodle's own label for the field, as its exports name it: "Username"
(nbgrader's student id, the default), "Email address" or "ID number" (``MoodleExporter.identifier``).
Moodle stops the whole import at a user it cannot find, and a row without an identifier would
be read as the previous student's, so a student without the chosen identifier stops the export.
New grade items are out of 100, and Moodle refuses grades above that (its ``gradepointmax``).

Per exercise (nbgrader issue #938): one row per student, the score of every grade cell (tests
and manually graded answers, by grade id, an empty cell while a manual grade is missing) and
each assignment's total.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from nbgrader.api import Gradebook, Student
from nbgrader.plugins import ExportPlugin
from traitlets import Bool, Dict, Enum, Int, Unicode


def _number(value: float, digits: int = 2) -> str:
    """A score as the platforms parse it: 3, 4.5, 0.33 (no exponent, no trailing zeros)."""
    text = f"{round(value, digits):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


class GradesExporter(ExportPlugin):
    """What the three exporters share: the selection (--assignment, --student), scores, writing the CSV."""

    missing_as_zero = Bool(
        False,
        help="Write 0 for an assignment a student did not submit (default: an empty cell, "
        "which the platforms read as no grade)",
    ).tag(config=True)
    default_file = "grades.csv"

    def assignments(self, gradebook: Gradebook) -> list:
        wanted = [str(name) for name in self.assignment]
        return sorted((a for a in gradebook.assignments if not wanted or a.name in wanted), key=lambda a: a.name)

    def students(self, gradebook: Gradebook) -> list[Student]:
        wanted = [str(name) for name in self.student]
        return sorted((s for s in gradebook.students if not wanted or s.id in wanted), key=lambda s: s.id)

    @staticmethod
    def submissions(assignment) -> dict:
        """student id -> that student's submission of ``assignment``."""
        return {submission.student.id: submission for submission in assignment.submissions}

    def total(self, submission) -> float | None:
        """nbgrader's score of a submission, less the late penalty (None: not submitted)."""
        if submission is None:
            return 0.0 if self.missing_as_zero else None
        return max(0.0, submission.score - (submission.late_submission_penalty or 0.0))

    def write(self, rows: Iterable[list[str]]) -> None:
        path = Path(self.to or self.default_file)
        self.log.info("Exporting grades to %s", path)
        with path.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)

    def export(self, gradebook: Gradebook) -> None:
        self.write(self.rows(gradebook))

    def rows(self, gradebook: Gradebook) -> list[list[str]]:
        raise NotImplementedError


class CanvasExporter(GradesExporter):
    """Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, one column per assignment."""

    student_column = Enum(
        ["SIS Login ID", "SIS User ID"],
        default_value="SIS Login ID",
        help="The Canvas column that holds nbgrader's student id",
    ).tag(config=True)
    assignment_ids = Dict(
        key_trait=Unicode(),
        value_trait=Int(),
        help="Canvas assignment id of each nbgrader assignment (columns 'name (id)' update that "
        "assignment; without one, Canvas matches the title or creates it)",
    ).tag(config=True)
    section = Unicode("", help="The Section column (Canvas reads it only as a label)").tag(config=True)
    default_file = "canvas_grades.csv"
    HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")

    def column(self, name: str) -> str:
        return f"{name} ({self.assignment_ids[name]})" if name in self.assignment_ids else name

    def rows(self, gradebook: Gradebook) -> list[list[str]]:
        assignments = self.assignments(gradebook)
        submitted = [self.submissions(a) for a in assignments]
        rows = [
            [*self.HEADER] + [self.column(a.name) for a in assignments],
            ["Points Possible", "", "", "", ""] + [_number(a.max_score) for a in assignments],
        ]
        for student in self.students(gradebook):
            name = ", ".join(part for part in (student.last_name, student.first_name) if part) or student.id
            sis = [student.id, ""] if self.student_column == "SIS User ID" else ["", student.id]
            scores = [self.total(by_student.get(student.id)) for by_student in submitted]
            rows.append(
                [name, student.lms_user_id or "", *sis, self.section]
                + ["" if score is None else _number(score) for score in scores]
            )
        return rows


class MoodleExporter(GradesExporter):
    """Moodle's grade import (CSV): the identifier column first, first and last name, one column per assignment."""

    identifier = Enum(
        ["username", "email", "idnumber"],
        default_value="username",
        help="The Moodle user field that identifies students: username or idnumber (both nbgrader's "
        "student id) or email",
    ).tag(config=True)
    default_file = "moodle_grades.csv"
    LABELS: ClassVar[dict[str, str]] = {"username": "Username", "email": "Email address", "idnumber": "ID number"}
    GRADEPOINTMAX = 100  # Moodle's default highest grade; a higher one stops the import

    def rows(self, gradebook: Gradebook) -> list[list[str]]:
        assignments, students = self.assignments(gradebook), self.students(gradebook)
        identify = (lambda s: s.email or "") if self.identifier == "email" else (lambda s: s.id)
        missing = [s.id for s in students if not identify(s).strip()]
        if missing:
            raise ValueError(
                f"Moodle export by {self.LABELS[self.identifier]}: no {self.identifier} for "
                f"{', '.join(missing)} (Moodle would stop the import, or credit the row above); "
                f"add it (nbgrader db student add ID --email=...) or leave them out (--student)"
            )
        submitted = [self.submissions(a) for a in assignments]
        rows = [[self.LABELS[self.identifier], "First name", "Last name"] + [a.name for a in assignments]]
        for student in students:
            scores = [self.total(by_student.get(student.id)) for by_student in submitted]
            if any(score is not None and score > self.GRADEPOINTMAX for score in scores):
                self.log.warning(
                    "%s has a score above %d: raise Moodle's gradepointmax before importing",
                    student.id,
                    self.GRADEPOINTMAX,
                )
            rows.append(
                [identify(student), student.first_name or "", student.last_name or ""]
                + ["" if score is None else _number(score) for score in scores]
            )
        return rows


class PerExerciseExporter(GradesExporter):
    """Every grade cell's score per student (nbgrader #938), and each assignment's total."""

    default_file = "exercise_grades.csv"

    @staticmethod
    def cells(assignment) -> list[tuple[str, str]]:
        """(notebook, grade id) of every grade cell of an assignment, in the order nbgrader stored them."""
        return [(nb.name, cell.name) for nb in assignment.notebooks for cell in nb.grade_cells]

    def rows(self, gradebook: Gradebook) -> list[list[str]]:
        assignments = self.assignments(gradebook)
        cells = {a.name: self.cells(a) for a in assignments}
        ids = [grade_id for a in assignments for _, grade_id in cells[a.name]]
        header = ["student_id", "first_name", "last_name", "email"]
        for a in assignments:  # a grade id used twice is written notebook/grade_id
            header += [f"{nb}/{gid}" if ids.count(gid) > 1 else gid for nb, gid in cells[a.name]] + [f"{a.name} total"]
        submitted = {a.name: self.submissions(a) for a in assignments}
        rows = [header]
        for student in self.students(gradebook):
            row = [student.id, student.first_name or "", student.last_name or "", student.email or ""]
            for a in assignments:
                submission = submitted[a.name].get(student.id)
                grades = (
                    {}
                    if submission is None
                    else {(nb.name, g.name): g for nb in submission.notebooks for g in nb.grades}
                )
                for key in cells[a.name]:
                    grade = grades.get(key)
                    graded = grade is not None and (grade.manual_score is not None or grade.auto_score is not None)
                    row.append(_number(grade.score, 6) if graded else "")
                total = self.total(submission)
                row.append("" if total is None else _number(total, 6))
            rows.append(row)
        return rows
