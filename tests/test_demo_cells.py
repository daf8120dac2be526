"""Grading skips demo cells (code cells tagged ``demo``), and nothing a grade depends on.

- For every solution notebook: executed as nbgrader autogrades it (``GradingExecute`` configured by
  the course's ``nbgrader_config.py``, ``NBGRADER_EXECUTION=autograde``) and executed whole, every cell
  nbgrader owns (exercises, tests, locked cells) gives the same outputs.
- Through real ``nbgrader autograde`` / ``validate`` on a tiny course: a demo cell is not executed; a
  test or solution cell a learner tagged ``demo`` still is.
- The autograde preprocessor list is nbgrader's own default with ``Execute`` replaced, nothing else.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from unittest import mock

import nbformat
import pytest
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.api import Gradebook
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute
from traitlets.config import PyFileConfigLoader
from traitlets.utils.importstring import import_item

from dlcourse.grading import REUSE, recording_preprocessors
from dlcourse.grading_execute import NAME, GradingExecute, with_grading_execute
from tests.course import ROOT, SOLUTIONS, nbgrader, notebooks, read

DEMO = "demo"


def course_config():
    return PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()


def test_autograde_runs_nbgraders_own_list_with_execute_replaced():
    config = course_config()
    default = Autograde.autograde_preprocessors.default()
    configured = Autograde(config=config).autograde_preprocessors
    assert len(configured) == len(default)
    for ours, nbgraders in zip(configured, default):  # GradingExecute (or a subclass: the sandbox's) for Execute
        ours = import_item(ours) if isinstance(ours, str) else ours
        assert issubclass(ours, GradingExecute) if nbgraders is Execute else ours is nbgraders, (ours, nbgraders)
    assert config.Execute.skip_cells_with_tag == DEMO
    assert recording_preprocessors(config) == [REUSE if p is Execute else p for p in default]
    assert with_grading_execute(["nbgrader.preprocessors.Execute", ClearMetadataPreprocessor]) == [
        NAME,
        ClearMetadataPreprocessor,
    ]
    with pytest.raises(ValueError):
        with_grading_execute([ClearMetadataPreprocessor])


# --- every notebook: the graded cells do not depend on the demo cells ------------------------------


def owned_outputs(nb) -> dict[str, list]:
    """grade_id -> outputs of every cell nbgrader owns, as a reader sees them: without execution counts, and
    consecutive prints to one stream joined (how the kernel splits them into messages depends on timing)."""

    def clean(outputs):
        joined = []
        for output in outputs:
            output = {k: v for k, v in output.items() if k != "execution_count"}
            if (
                joined
                and output["output_type"] == "stream"
                and joined[-1]["output_type"] == "stream"
                and joined[-1]["name"] == output["name"]
            ):
                joined[-1] = {**joined[-1], "text": joined[-1]["text"] + output["text"]}
            else:
                joined.append(output)
        return joined

    return {
        c.metadata["nbgrader"]["grade_id"]: clean(c.get("outputs", []))
        for c in nb.cells
        if "nbgrader" in c.metadata and c.cell_type == "code"
    }


def execute(path: Path, preprocessor) -> nbformat.NotebookNode:
    nb = read(path)
    with mock.patch.dict(os.environ, NBGRADER_EXECUTION="autograde"):  # what the grading kernel sees
        preprocessor.preprocess(nb, {"metadata": {"path": str(path.parent)}})
    return nb


def graded_cells_that_need_demos(path: Path) -> list[str]:
    """grade_ids of the cells nbgrader owns whose outputs change when ``path``'s demo cells are skipped."""
    config = course_config()
    demos = [c.id for c in read(path).cells if DEMO in c.metadata.get("tags", []) and c.cell_type == "code"]
    skipping = execute(path, GradingExecute(config=config))
    config.Execute.skip_cells_with_tag = "(a tag no cell has)"  # set in the config: preprocess() reloads it
    whole = execute(path, Execute(config=config))
    assert all(not c.get("outputs") for c in skipping.cells if c.id in demos), "a demo cell ran while grading"
    assert all(c.execution_count for c in whole.cells if c.id in demos), "the whole run skipped a demo cell"
    expected, got = owned_outputs(whole), owned_outputs(skipping)
    return [grade_id for grade_id in expected if expected[grade_id] != got[grade_id]]


@pytest.mark.notebooks
@pytest.mark.parametrize("assignment, notebook", notebooks())
def test_graded_cells_give_the_same_outputs_without_the_demo_cells(assignment, notebook):
    path = SOLUTIONS / assignment / f"{notebook}.ipynb"
    cells = read(path).cells
    demos = [c.id for c in cells if DEMO in c.metadata.get("tags", []) and c.cell_type == "code"]
    assert not [c for c in cells if DEMO in c.metadata.get("tags", []) and "nbgrader" in c.metadata], (
        "a cell nbgrader owns is never a demo: remove the tag"
    )
    if not demos:
        pytest.skip(f"{assignment}/{notebook} tags no demo cell: grading runs it whole")
    differ = graded_cells_that_need_demos(path)
    assert not differ, (
        f"{assignment}/{notebook}: without the demo cells {demos}, these graded cells give other "
        f"outputs: {differ}; a demo that a graded cell needs must not be tagged demo"
    )


@pytest.mark.notebooks
def test_a_graded_cell_that_needs_a_demo_is_found(tmp_path):
    nb = solution_notebook()
    nb.cells[2].source = "offset = 10  # a demo whose result a test prints"
    nb.cells.append(cell("print(double(2) + globals().get('offset', 0))", "uses_demo_test", "test", points=1))
    nbformat.write(nb, str(tmp_path / "needs_demo.ipynb"))
    assert graded_cells_that_need_demos(tmp_path / "needs_demo.ipynb") == ["uses_demo_test"]


# --- through nbgrader: demos skipped, tags on nbgrader's cells ignored -------------------------------

A, NB = "ch98_demo", "demo"


def cell(source: str, grade_id: str | None = None, kind: str | None = None, points: int = 0, tags=()):
    c = nbformat.v4.new_code_cell(source)
    if tags:
        c.metadata["tags"] = list(tags)
    if kind:
        c.metadata["nbgrader"] = {
            "grade_id": grade_id,
            "schema_version": 3,
            "solution": kind == "solution",
            "grade": kind == "test",
            "locked": kind == "test",
            "task": False,
            **({"points": points} if kind == "test" else {}),
        }
    return c


SOLUTION = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
# A demo that would cost the exercise its points if it ran (real demos compute nothing a test needs)
BREAKING_DEMO = 'print("the demo ran")\ndouble = None'


def solution_notebook():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        cell("import math"),
        cell(SOLUTION, "double", "solution"),
        cell(BREAKING_DEMO, tags=[DEMO]),
        cell(
            "assert double(3) == 6\n### BEGIN HIDDEN TESTS\nassert double(-1) == -2\n### END HIDDEN TESTS",
            "double_test",
            "test",
            points=2,
        ),
    ]
    return nb


def retag(nb, grade_id: str, tags: list[str], source: str | None = None):
    nb = nbformat.from_dict(nb)
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            c.metadata["tags"] = tags
            if source is not None:
                c.source = source
    return nb


@pytest.fixture(scope="module")
def demo_course(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo") / "course"
    (root / "solutions" / A).mkdir(parents=True)
    (root / "nbgrader_config.py").write_text((ROOT / "nbgrader_config.py").read_text())
    nbformat.write(solution_notebook(), str(root / "solutions" / A / f"{NB}.ipynb"))
    nbgrader("generate_assignment", A, "--force", cwd=root)
    released = read(root / "course" / A / f"{NB}.ipynb")
    solved = retag(released, "double", [], "def double(x):\n    return 2 * x")
    wrong = "def double(x):\n    return x"
    students = {
        "solved": (solved, 2),
        # a learner who tags the test of a wrong answer as a demo (or nbclient's skip tag) loses its points
        "tags_test_as_demo": (retag(retag(solved, "double", [], wrong), "double_test", [DEMO, "skip-execution"]), 0),
        # a solution cell tagged demo still defines its function
        "tags_solution_as_demo": (retag(solved, "double", [DEMO]), 2),
    }
    for student, (nb, _) in students.items():
        (root / "submitted" / student / A).mkdir(parents=True)
        nbformat.write(nb, str(root / "submitted" / student / A / f"{NB}.ipynb"))
    nbgrader("autograde", A, cwd=root)
    return root, {student: points for student, (_, points) in students.items()}


@pytest.mark.grading
def test_autograde_skips_demo_cells_but_never_a_cell_nbgrader_owns(demo_course):
    root, expected = demo_course
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        got = {s.student.id: s.score for s in gradebook.find_assignment(A).submissions}
    assert got == expected
    for student in expected:
        graded = read(root / "autograded" / student / A / f"{NB}.ipynb")
        demo = next(c for c in graded.cells if c.source == BREAKING_DEMO)
        assert not demo.outputs, f"{student}: the demo cell ran"
        test = next(c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "double_test")
        assert test.execution_count, f"{student}: the test cell did not run"


@pytest.mark.grading
def test_validate_skips_demo_cells(demo_course):
    root, _ = demo_course
    submission = root / "submitted" / "solved" / A / f"{NB}.ipynb"
    out = nbgrader("validate", str(submission), cwd=root).stdout
    assert "Success! Your notebook passes all the tests." in out, out
    # the same notebook with the demo untagged: validate runs it, and the test fails
    nb = read(submission)
    for c in nb.cells:
        if c.source == BREAKING_DEMO:
            c.metadata["tags"] = []
    untagged = submission.with_name("untagged.ipynb")
    nbformat.write(nb, str(untagged))
    out = nbgrader("validate", str(untagged), cwd=root).stdout
    assert re.search(r"failed|error", out, re.IGNORECASE) and "Success!" not in out, out
