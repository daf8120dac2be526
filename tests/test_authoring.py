"""The notebook text format round-trips, and the rules catch what they promise to."""

from __future__ import annotations

import pytest

from dlcourse.authoring import NotebookRuleError, build_notebook, lint_notebook, notebook_to_script, parse_script, strip
from tests.course import SOLUTIONS, read

SCRIPT = """# %% [markdown] id=intro
# # Title
#
# Some text.

# %% id=setup
import numpy as np

# %% solution id=ch09_double
def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION

# %% test id=ch09_double_test points=2
assert double(1) == 2
"""


def test_script_to_notebook_and_back_is_lossless():
    nb = build_notebook(parse_script(SCRIPT))
    assert [c.id for c in nb.cells] == ["intro", "setup", "ch09_double", "ch09_double_test"]
    assert nb.cells[3].metadata["nbgrader"] == {"grade": True, "grade_id": "ch09_double_test", "locked": True,
                                               "points": 2, "schema_version": 3, "solution": False, "task": False}
    assert build_notebook(parse_script(notebook_to_script(nb))) == nb


def test_every_solution_notebook_round_trips():
    for path in SOLUTIONS.glob("*/*.ipynb"):
        nb = read(path)
        assert build_notebook(parse_script(notebook_to_script(nb))).cells == nb.cells, path


def test_cells_without_id_get_a_stable_one():
    text = SCRIPT.replace("# %% id=setup", "# %%")
    assert build_notebook(parse_script(text)).cells[1].id == build_notebook(parse_script(text)).cells[1].id


@pytest.mark.parametrize("change, problem", [
    (("points=2", "points=0"), "points > 0"),
    (("id=ch09_double_test", "id=ch09_other_test"), "named after its exercise"),
    (("    ### END SOLUTION\n", ""), "BEGIN SOLUTION / ### END SOLUTION"),
    (("id=ch09_double\n", "id=double\n"), "should look like ch01_sigmoid"),
])
def test_the_rules_catch_broken_notebooks(change, problem):
    with pytest.raises(NotebookRuleError, match=problem):
        build_notebook(parse_script(SCRIPT.replace(*change)))


def test_outputs_are_refused_and_strip_removes_them():
    nb = build_notebook(parse_script(SCRIPT))
    nb.cells[1].outputs = [{"output_type": "stream", "name": "stdout", "text": "hi"}]
    nb.cells[1].execution_count = 1
    with pytest.raises(NotebookRuleError, match="outputs"):
        lint_notebook(nb, "x")
    lint_notebook(strip(nb), "x")


def test_script_errors_name_the_line():
    with pytest.raises(NotebookRuleError, match="line 1: text before"):
        parse_script("x = 1\n# %% id=a\n")
    with pytest.raises(NotebookRuleError, match="unknown cell attribute"):
        parse_script("# %% hidden id=a\n")
