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
    cell.outputs = [
        nbformat.v4.new_output("error", ename="AssertionError", evalue="f, case 1 of 1: differs", traceback=frames)
    ]
    return cell


def test_hidden_lines_are_those_between_the_markers():
    assert hidden_lines(SOURCE) == {"### BEGIN HIDDEN TESTS", "check(f, ref.f, [secret_input])", "### END HIDDEN TESTS"}


def test_frames_quoting_hidden_lines_are_dropped_and_the_message_stays():
    frames = [
        "\x1b[0;31mAssertionError\x1b[0m    Traceback (most recent call last)",
        "Cell In[5], line 3\n      1 check(f, ref.f, [x])\n      2 ### BEGIN HIDDEN TESTS\n\x1b[0;32m----> 3\x1b[0m check(f, ref.f, [secret_input])",
        "File checking.py:101, in check(...)\n    99 where = ...",
        "\x1b[0;31mAssertionError\x1b[0m: f, case 1 of 1: differs",
    ]
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


CUSTOM = """check(f, ref.f, [x])
# >>> hidden
check(f, ref.f, [secret_input])
# <<< hidden"""
CUSTOM_DELIMITERS = {"ClearHiddenTests": {"begin_test_delimeter": ">>> hidden", "end_test_delimeter": "<<< hidden"}}


def test_the_delimiters_are_those_clear_hidden_tests_is_configured_with():
    """A course that sets ClearHiddenTests's delimiters gets the same lines hidden in tracebacks,
    through nbconvert's exporter as nbgrader's GenerateFeedback registers the preprocessors."""
    from nbconvert.exporters import NotebookExporter
    from traitlets.config import Config

    frames = [
        "Cell In[5], line 3\n      1 check(f, ref.f, [x])\n      2 # >>> hidden\n----> 3 check(f, ref.f, [secret_input])",
        "AssertionError: f, case 1 of 1: differs",
    ]

    def feedback_traceback(config: Config) -> str:
        cell = graded_cell_with_error(frames)
        cell.source = CUSTOM
        exporter = NotebookExporter(config=config)
        exporter.register_preprocessor("dlcourse.feedback.HideHiddenTestsInTracebacks", enabled=True)
        nb, _ = exporter.from_notebook_node(nbformat.v4.new_notebook(cells=[cell]))
        return "\n".join(nbformat.reads(nb, as_version=4).cells[0].outputs[0]["traceback"])

    assert hidden_lines(CUSTOM, ">>> hidden", "<<< hidden") == {
        "# >>> hidden",
        "check(f, ref.f, [secret_input])",
        "# <<< hidden",
    }
    hidden = feedback_traceback(Config(CUSTOM_DELIMITERS))
    assert "secret_input" not in hidden and "not shown" in hidden and "f, case 1 of 1: differs" in hidden
    # with nbgrader's default delimiters these lines are not a hidden block: the frame stays (so the test can fail)
    assert "secret_input" in feedback_traceback(Config())


def test_a_submission_that_prints_the_hidden_tests_shows_nothing_of_them_in_feedback():
    """The grading kernel can read the notebook it runs: a cell that prints the hidden block gets it redacted."""
    test_cell = graded_cell_with_error(["AssertionError: f, case 1 of 1: differs"])
    leaking = nbformat.v4.new_code_cell("print(open('ch09.ipynb').read())", id="s")
    leaking.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"my notes\n{SOURCE}\nthe end\n"),
        nbformat.v4.new_output(
            "execute_result", data={"text/plain": "'check(f, ref.f, [secret_input])'"}, execution_count=1
        ),
    ]
    nb = nbformat.v4.new_notebook(cells=[leaking, test_cell])
    nb, _ = HideHiddenTestsInTracebacks().preprocess(nb, {})
    text = nb.cells[0].outputs[0]["text"]
    assert "secret_input" not in text and "secret_input" not in nb.cells[0].outputs[1]["data"]["text/plain"]
    assert "my notes" in text and "the end" in text and "check(f, ref.f, [x])" in text  # visible lines stay
    assert "not shown" in text
