"""`dlcourse check`: a table of points per exercise, and an exit code that tells the truth."""

from __future__ import annotations

import nbformat
import pytest

from dlcourse.authoring import notebook_from_text
from dlcourse.cli import main
from dlcourse.selfcheck import check_notebook, format_report

NOTEBOOK = """# %% id="setup"
x = 1

# %% id="ch09_good" nbgrader={"solution": true}
def good():
    ### BEGIN SOLUTION
    return 1
    ### END SOLUTION

# %% id="ch09_good_test" nbgrader={"grade": true, "locked": true, "points": 2}
assert good() == 1

# %% id="ch09_bad" nbgrader={"solution": true}
def bad():
    ### BEGIN SOLUTION
    return 2
    ### END SOLUTION

# %% id="ch09_bad_test" nbgrader={"grade": true, "locked": true, "points": 3}
assert bad() == 1, "bad() should return 1"
"""


@pytest.fixture
def notebook(tmp_path):
    def write(text=NOTEBOOK, name="exercise.ipynb"):
        path = tmp_path / name
        nbformat.write(notebook_from_text(text), str(path))
        return path

    return write


def test_points_per_exercise_and_the_first_line_of_each_failure(notebook):
    report = check_notebook(notebook(), progress=lambda line: None)
    assert [(e.grade_id, e.earned, e.points) for e in report.exercises] == [
        ("ch09_good_test", 2, 2),
        ("ch09_bad_test", 0, 3),
    ]
    assert report.exercises[1].error == "AssertionError: bad() should return 1"
    table = format_report(report)
    assert "total" in table and "2/5" in table and not report.passed


def test_the_command_exits_1_on_a_failure_and_0_when_all_pass(notebook, capsys):
    assert main(["check", str(notebook())]) == 1
    out = capsys.readouterr().out
    assert "[2/2] ch09_bad_test: FAILED" in out
    fixed = notebook(NOTEBOOK.replace("return 2", "return 1"), "fixed.ipynb")
    assert main(["check", str(fixed)]) == 0


def test_an_error_outside_the_tests_fails_the_check(notebook):
    report = check_notebook(
        notebook(NOTEBOOK.replace("x = 1", "x = 1 / 0").replace("return 2", "return 1")), progress=lambda line: None
    )
    assert not report.passed and "ZeroDivisionError" in report.other_errors[0]


def test_an_endless_loop_is_stopped_and_costs_its_points(notebook):
    looping = NOTEBOOK.replace('assert bad() == 1, "bad() should return 1"', "while True:\n    pass")
    report = check_notebook(notebook(looping), timeout=3, progress=lambda line: None)
    assert report.exercises[0].earned == 2 and report.exercises[1].earned == 0 and not report.passed


def test_a_file_that_is_not_a_notebook_is_refused(tmp_path, capsys):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ not json")
    assert main(["check", str(broken)]) == 2
    assert "not a readable notebook" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["check", str(tmp_path / "missing.ipynb")])


def test_several_notebooks_end_with_a_total(notebook, capsys):
    fixed = notebook(NOTEBOOK.replace("return 2", "return 1"), "fixed.ipynb")
    assert main(["check", str(notebook()), str(fixed)]) == 1
    assert capsys.readouterr().out.rstrip().endswith("total: 7/10 points, 3 of 4 exercises passed, in 2 notebooks")


def test_progress_shows_points_per_notebook_and_exercise_and_a_total(notebook, tmp_path, capsys, monkeypatch):
    course = tmp_path / "course" / "ch09_demo"
    course.mkdir(parents=True)
    (tmp_path / "nbgrader_config.py").write_text("")
    notebook().rename(course / "exercise.ipynb")
    monkeypatch.chdir(tmp_path)
    assert main(["progress"]) == 0
    out = capsys.readouterr().out
    assert "ch09_demo/exercise" in out and "2/5 points" in out
    assert "✔ good" in out and "✘ bad" in out
    assert out.rstrip().endswith("total: 2/5 points, 1 of 2 exercises passed, in 1 notebook")
