"""The committed text sources build the committed notebooks, and the rules catch what they promise to."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import jupytext
import nbformat
import pytest

from dlcourse.authoring import NotebookRuleError, lint, lint_notebook, main, notebook_from_text, notebook_json
from tests.course import ROOT, SOLUTIONS, nbgrader, read

SOURCE = """# %% [markdown] id="intro"
# # Title
#
# Some text with $\\LaTeX$.

# %% id="setup"
import numpy as np

# %% id="ch09_double" nbgrader={"solution": true}
def double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION

# %% id="ch09_double_test" nbgrader={"grade": true, "locked": true, "points": 2}
assert double(1) == 2

# %% id="show" tags=["demo"]
print(double(3))
# one blank line before the next cell, not jupytext's two: no layout metadata in the notebook

# %% [markdown] id="end"
# The end.
"""


def solution_notebooks() -> list[Path]:
    return sorted(SOLUTIONS.glob("*/*.ipynb"))


def test_every_solution_notebook_has_a_source():
    assert [p.with_suffix(".py") for p in solution_notebooks()] == sorted(SOLUTIONS.glob("*/*.py"))
    assert len(solution_notebooks()) >= 9  # the chapters that existed when the sources were introduced


@pytest.mark.parametrize("notebook", solution_notebooks(), ids=lambda p: p.stem)
def test_every_solution_notebook_is_byte_for_byte_what_its_source_builds(notebook):
    source = notebook.with_suffix(".py").read_text(encoding="utf-8")
    assert notebook_json(notebook_from_text(source, str(notebook))) == notebook.read_text(encoding="utf-8")


def test_the_source_command_writes_what_is_committed(tmp_path, capsys):
    """`source` (a notebook -> its text) is the inverse of the build, for every notebook of the course."""
    for notebook in solution_notebooks():
        copied = tmp_path / notebook.parent.name / notebook.name
        copied.parent.mkdir(exist_ok=True)
        shutil.copy(notebook, copied)
        assert main(["source", str(copied)]) == 0
        assert copied.with_suffix(".py").read_bytes() == notebook.with_suffix(".py").read_bytes(), notebook
    assert main(["source", str(copied)]) == 1
    assert "exists: edit it, then build" in capsys.readouterr().err


def test_a_source_is_a_notebook_for_jupytext_with_ids_and_nbgrader_metadata():
    """What JupyterLab (jupytext) opens: the cells, their ids and nbgrader metadata, the same source text."""
    path = SOLUTIONS / "ch01_networks" / "networks.py"
    opened = jupytext.read(path)
    built = nbformat.read(path.with_suffix(".ipynb"), as_version=4)
    assert [c.metadata["id"] for c in opened.cells] == [c.id for c in built.cells]
    assert [c.source for c in opened.cells] == [c.source for c in built.cells]
    assert opened.cells[4].metadata["nbgrader"] == {"solution": True}


def test_jupyterlab_opens_a_source_as_a_notebook_and_saves_it_to_the_source_only(tmp_path):
    """Through jupytext's contents manager, the one the Jupyter server behind JupyterLab uses."""
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

    shutil.copy(SOLUTIONS / "jupytext.toml", tmp_path)
    for suffix in (".py", ".ipynb"):
        shutil.copy((SOLUTIONS / "ch01_networks" / "networks").with_suffix(suffix), tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    contents = build_async_jupytext_contents_manager_class(AsyncLargeFileManager)(root_dir=str(tmp_path))

    async def open_edit_save():
        model = await contents.get("networks.py", type="notebook")
        assert model["type"] == "notebook"
        cells = model["content"].cells
        assert [c.metadata["id"] for c in cells] == [c.id for c in read(tmp_path / "networks.ipynb").cells]
        setup = next(c for c in cells if c.metadata["id"] == "setup")
        setup.metadata.update(tags=["demo"], editable=False, scrolled=True)  # what JupyterLab may add
        setup.outputs = [nbformat.v4.new_output("stream", name="stdout", text="cpu")]
        await contents.save(model, "networks.py")

    asyncio.run(open_edit_save())
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after.keys() == before.keys() and after["networks.ipynb"] == before["networks.ipynb"]  # not paired
    assert after["networks.py"].decode() == before["networks.py"].decode().replace(
        '# %% id="setup"\n', '# %% id="setup" tags=["demo"]\n', 1
    )


def test_the_build_fills_in_nbgrader_metadata_and_keeps_tags():
    nb = notebook_from_text(SOURCE)
    assert [c.id for c in nb.cells] == ["intro", "setup", "ch09_double", "ch09_double_test", "show", "end"]
    assert nb.cells[0].source == "# Title\n\nSome text with $\\LaTeX$."
    assert nb.cells[2].metadata == {
        "nbgrader": {
            "grade": False,
            "grade_id": "ch09_double",
            "locked": False,
            "schema_version": 3,
            "solution": True,
            "task": False,
        }
    }
    assert nb.cells[3].metadata["nbgrader"] == {
        "grade": True,
        "grade_id": "ch09_double_test",
        "locked": True,
        "points": 2,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    assert nb.cells[4].metadata == {"tags": ["demo"]}
    assert nb.metadata == {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }


def test_the_build_writes_the_notebook_beside_its_source_and_lint_sees_a_stale_one(tmp_path, capsys):
    folder = tmp_path / "solutions" / "ch01_networks"
    folder.mkdir(parents=True)
    source, notebook = folder / "networks.py", folder / "networks.ipynb"
    shutil.copy(SOLUTIONS / "ch01_networks" / "networks.py", source)
    assert main(["build", "--no-course", str(source)]) == 0
    assert notebook.read_bytes() == (SOLUTIONS / "ch01_networks" / "networks.ipynb").read_bytes()
    assert lint([notebook]) == []

    edited = source.read_text().replace("def sigmoid(x):", "def sigmoid(x):\n    # a maintainer's edit", 1)
    source.write_text(edited)
    assert "not what networks.py builds" in lint([notebook])[0]
    assert main(["lint", str(notebook)]) == 1
    assert "python -m dlcourse.authoring build" in capsys.readouterr().err
    assert main(["build", "--no-course", str(source)]) == 0
    cell = next(c for c in nbformat.read(notebook, as_version=4).cells if c.id == "ch01_sigmoid")
    assert cell.source.startswith("def sigmoid(x):\n    # a maintainer's edit\n")
    assert lint([notebook]) == []


@pytest.mark.parametrize(
    "change, problem",
    [
        (('# %% id="setup"', "# %%"), re.escape("cell 1 ('import numpy as np'): no id=")),
        (('"points": 2', '"points": 0'), "points > 0"),
        ((', "locked": true', ""), "must be locked"),
        (('id="ch09_double_test"', 'id="ch09_other_test"'), "named after its exercise"),
        (("    ### END SOLUTION\n", ""), "BEGIN SOLUTION / ### END SOLUTION"),
        (('id="ch09_double" ', 'id="double" '), "should look like ch01_sigmoid"),
        (('id="show"', 'id="ch09_double_test"'), "cell id 'ch09_double_test' is used twice"),
        (('id="setup"', "id=setup"), "cannot read 'id=setup'"),
        (('id="show"', 'id="show" collapsed=true'), "unknown cell metadata \\['collapsed'\\]"),
    ],
)
def test_the_rules_catch_broken_sources(change, problem):
    assert SOURCE.count(change[0]) == 1
    notebook_from_text(SOURCE)
    with pytest.raises(NotebookRuleError, match=problem):
        notebook_from_text(SOURCE.replace(*change))


def test_outputs_are_refused():
    nb = notebook_from_text(SOURCE)
    lint_notebook(nb, "x")
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi")]
    with pytest.raises(NotebookRuleError, match="cell 1 \\(setup\\): has outputs"):
        lint_notebook(nb, "x")


def test_a_solution_notebook_without_a_source_is_reported(tmp_path):
    notebook = tmp_path / "solutions" / "ch09_x" / "x.ipynb"
    notebook.parent.mkdir(parents=True)
    notebook.write_text(notebook_json(notebook_from_text(SOURCE)))
    assert "no text source x.py" in lint([notebook])[0]


@pytest.mark.grading
def test_nbgrader_releases_no_source(tmp_path):
    """generate_assignment (which the build runs) copies neither the .py source nor its hidden tests into course/."""
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(SOLUTIONS / "ch04_losses", tmp_path / "solutions" / "ch04_losses")
    (tmp_path / "solutions" / "ch04_losses" / "notes.txt").write_text("a data file the students get")
    nbgrader("generate_assignment", "ch04_losses", "--no-db", "--force", cwd=tmp_path)
    released = sorted(p.name for p in (tmp_path / "course" / "ch04_losses").iterdir())
    assert released == ["losses.ipynb", "notes.txt"]
    assert (tmp_path / "course" / "ch04_losses" / "losses.ipynb").read_bytes() == (
        ROOT / "course" / "ch04_losses" / "losses.ipynb"
    ).read_bytes()
