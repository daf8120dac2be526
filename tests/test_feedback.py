"""Tracebacks in feedback lose the frames that quote hidden tests, and keep the explanation."""

from __future__ import annotations

import nbformat

from dlcourse.feedback import HideHiddenTestsInTracebacks, hidden_lines

SOURCE = """check(f, ref.f, [x])
### BEGIN HIDDEN TESTS
check(f, ref.f, [secret_input])
### END HIDDEN TESTS"""


def graded_cell_with_error(frames):
    cell = nbformat.v4.new_code_cell(SOURCE, id="t")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "ch09_f_test", "points": 1}
    cell.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="f, case 1 of 1: differs", traceback=frames)]
    return cell


def test_hidden_lines_are_those_between_the_markers():
    assert hidden_lines(SOURCE) == {"### BEGIN HIDDEN TESTS", "check(f, ref.f, [secret_input])", "### END HIDDEN TESTS"}


def test_frames_quoting_hidden_lines_are_dropped_and_the_message_stays():
    frames = ["\x1b[0;31mAssertionError\x1b[0m    Traceback (most recent call last)",
              "Cell In[5], line 3\n      1 check(f, ref.f, [x])\n      2 ### BEGIN HIDDEN TESTS\n\x1b[0;32m----> 3\x1b[0m check(f, ref.f, [secret_input])",
              "File checking.py:101, in check(...)\n    99 where = ...",
              "\x1b[0;31mAssertionError\x1b[0m: f, case 1 of 1: differs"]
    cell, _ = HideHiddenTestsInTracebacks().preprocess_cell(graded_cell_with_error(frames), {}, 0)
    text = "\n".join(cell.outputs[0]["traceback"])
    assert "secret_input" not in text and "BEGIN HIDDEN" not in text
    assert "f, case 1 of 1: differs" in text and "checking.py" in text and "not shown" in text


def test_cells_without_hidden_tests_are_left_alone():
    cell = graded_cell_with_error(["Cell In[5], line 1\n----> 1 check(f, ref.f, [x])"])
    cell.source = "check(f, ref.f, [x])"
    before = list(cell.outputs[0]["traceback"])
    cell, _ = HideHiddenTestsInTracebacks().preprocess_cell(cell, {}, 0)
    assert cell.outputs[0]["traceback"] == before
