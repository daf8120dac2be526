"""Maintainer tools: build the course's notebooks from their committed text sources, and check the rules.

Each solution notebook ``solutions/<chapter>/<name>.ipynb`` is generated from its source
``solutions/<chapter>/<name>.py``, written in jupytext's percent format (JupyterLab, with jupytext,
opens it as a notebook: right click, Open With, Notebook)::

    # %% [markdown] id="goals"                       a markdown cell; its lines start with "# "
    # %% id="setup"                                  a code cell
    # %% id="ch01_sigmoid" nbgrader={"solution": true}
    #                                                an exercise: nbgrader replaces ### BEGIN/END SOLUTION by a stub
    # %% id="ch01_sigmoid_test" nbgrader={"grade": true, "locked": true, "points": 2}
    #                                                a graded, locked test cell (### BEGIN/END HIDDEN TESTS inside)
    # %% id="demo-plot" tags=["demo"]                cell tags, as in JupyterLab's property inspector

``id`` becomes the notebook cell id; an nbgrader cell's ``grade_id`` is its id, and the
``nbgrader`` keys left out take nbgrader's defaults (false, schema_version 3)::

    python -m dlcourse.authoring build [SOURCES...] [--no-course]   # .py -> .ipynb, then nbgrader -> course/
    python -m dlcourse.authoring lint [NOTEBOOKS...]    # the rules below, and every .ipynb is what its .py builds
    python -m dlcourse.authoring source NOTEBOOK...     # .ipynb -> .py, to start a source from a notebook
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat

GRADE_ID = re.compile(r"^ch\d\d_[a-z0-9_]+$")
# What a source keeps (solutions/jupytext.toml says the same to JupyterLab, so that saving there changes nothing else).
TEXT_FORMAT = {
    "extension": ".py",
    "format_name": "percent",
    "notebook_metadata_filter": "-all",
    "cell_metadata_filter": "id,tags,nbgrader,-all",
}
NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
# What jupytext notes about a cell's layout in the text (blank lines, end markers): not the notebook's business.
LAYOUT_KEYS = ("lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker", "skipline", "noskipline")
# Every test cell is tagged so that JupyterLab's Run All goes on past a failing test (the learner sees every
# test's verdict and the demos run); nbclient and nbgrader honour the same tag. The sources leave it out.
TEST_CELL_TAG = "raises-exception"
NBGRADER_DEFAULTS = {"grade": False, "locked": False, "schema_version": 3, "solution": False, "task": False}
NEW_CELL = {
    "markdown": nbformat.v4.new_markdown_cell,
    "code": nbformat.v4.new_code_cell,
    "raw": nbformat.v4.new_raw_cell,
}


class NotebookRuleError(ValueError):
    """A notebook or its source breaks one of the course's rules."""


# --- source text <-> notebook ---------------------------------------------------------------


def notebook_from_text(text: str, where: str = "<source>") -> nbformat.NotebookNode:
    """The notebook a percent source describes (ids and nbgrader metadata in full, no outputs), checked."""
    parsed = jupytext.reads(text, fmt="py:percent")
    metadata = copy.deepcopy(NOTEBOOK_METADATA)
    metadata.update({key: value for key, value in parsed.metadata.items() if key != "jupytext"})
    nb = nbformat.v4.new_notebook(metadata=metadata)
    problems = []
    for index, cell in enumerate(parsed.cells):
        first = next((line for line in cell.source.splitlines() if line.strip()), "")
        label = f"cell {index} ({first[:40]!r})"
        cell_meta = {key: value for key, value in cell.metadata.items() if key not in LAYOUT_KEYS}
        cell_id = cell_meta.pop("id", None)
        if not cell_id:
            problems.append(f'{label}: no id="..." in its "# %%" header')
            cell_id = f"missing-id-{index}"
        if "incorrectly_encoded_metadata" in cell_meta:
            problems.append(
                f"{label}: cannot read {cell_meta['incorrectly_encoded_metadata']!r} in its header "
                '(write key=value, the value in JSON: id="setup" nbgrader={"solution": true})'
            )
        elif set(cell_meta) - {"tags", "nbgrader"}:
            problems.append(
                f"{label}: unknown cell metadata {sorted(set(cell_meta) - {'tags', 'nbgrader'})} "
                "(a header holds id=, tags= and nbgrader=)"
            )
        if "nbgrader" in cell_meta:
            cell_meta["nbgrader"] = {**NBGRADER_DEFAULTS, "grade_id": cell_id, **cell_meta["nbgrader"]}
            if cell_meta["nbgrader"]["grade"] and TEST_CELL_TAG not in cell_meta.get("tags", []):
                cell_meta["tags"] = [*cell_meta.get("tags", []), TEST_CELL_TAG]
        nb.cells.append(NEW_CELL[cell.cell_type](cell.source, id=str(cell_id), metadata=cell_meta))
    if problems:
        raise NotebookRuleError(f"{where}:\n  " + "\n  ".join(problems))
    lint_notebook(nb, where)
    return nb


def text_from_notebook(nb: nbformat.NotebookNode) -> str:
    """The percent source of a notebook: the inverse of notebook_from_text for the course's notebooks."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        meta = {"id": cell.id, **cell.metadata}
        if meta.get("nbgrader", {}).get("grade") and TEST_CELL_TAG in meta.get("tags", []):
            meta["tags"] = [tag for tag in meta["tags"] if tag != TEST_CELL_TAG]
            if not meta["tags"]:
                del meta["tags"]
        if "nbgrader" in meta:
            meta["nbgrader"] = {
                key: value
                for key, value in meta["nbgrader"].items()
                if not (key == "grade_id" and value == cell.id) and NBGRADER_DEFAULTS.get(key) != value
            }
        cell.metadata = meta
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return jupytext.writes(nb, fmt=dict(TEXT_FORMAT))


def notebook_json(nb: nbformat.NotebookNode) -> str:
    """The text of the .ipynb file, exactly as nbformat.write (and nbgrader) writes it."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def build_source(source: Path) -> Path:
    """Write the notebook next to ``source`` (same name, .ipynb); return its path."""
    target = source.with_suffix(".ipynb")
    built = notebook_json(notebook_from_text(source.read_text(encoding="utf-8"), str(source)))
    if not target.exists() or target.read_text(encoding="utf-8") != built:
        target.write_text(built, encoding="utf-8")
    return target


def generate_course(root: Path, chapters: list[str]) -> None:
    """``nbgrader generate_assignment CHAPTER --no-db --force`` in ``root``: solutions/ -> course/."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    for chapter in chapters:
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", chapter, "--no-db", "--force"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise NotebookRuleError(f"nbgrader generate_assignment {chapter} failed:\n{result.stderr[-4000:]}")


# --- rules ----------------------------------------------------------------------------------


def lint_notebook(nb: nbformat.NotebookNode, where: str, *, student: bool = False) -> list[str]:
    """Raise NotebookRuleError listing every rule the notebook breaks; return the grade ids of its test cells."""
    problems, test_ids, seen = [], [], set()
    ids = [cell.get("id") for cell in nb.cells]
    problems += [f"cell id {cell_id!r} is used twice" for cell_id in sorted({i for i in ids if i and ids.count(i) > 1})]
    try:
        if not problems:  # (validate would "repair" duplicate ids, in place)
            nbformat.validate(nb)
    except nbformat.ValidationError as error:
        problems.append(f"not a valid notebook: {error.message}")
    previous_solution = None
    for index, cell in enumerate(nb.cells):
        label = f"cell {index} ({cell.get('id', 'no id')})"
        if not cell.get("id"):
            problems.append(f"{label}: no cell id")
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count):
            problems.append(f"{label}: has outputs or an execution count")
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        grade_id = meta.get("grade_id", "")
        if grade_id in seen:
            problems.append(f"{label}: grade_id {grade_id!r} is used twice")
        seen.add(grade_id)
        if not GRADE_ID.match(grade_id):
            problems.append(f"{label}: grade_id {grade_id!r} should look like ch01_sigmoid / ch01_sigmoid_test")
        if meta.get("solution") and not student:
            if "### BEGIN SOLUTION" not in cell.source or "### END SOLUTION" not in cell.source:
                problems.append(f"{label}: a solution cell needs ### BEGIN SOLUTION / ### END SOLUTION")
            previous_solution = grade_id
        if meta.get("grade"):
            test_ids.append(grade_id)
            if not grade_id.endswith("_test"):
                problems.append(f"{label}: a test cell's grade_id should end in _test")
            if not meta.get("points", 0) > 0:
                problems.append(f"{label}: a test cell needs points > 0")
            if not meta.get("locked"):
                problems.append(f"{label}: a test cell must be locked")
            if previous_solution and not grade_id.startswith(previous_solution):
                problems.append(f"{label}: test {grade_id!r} should be named after its exercise {previous_solution!r}")
            previous_solution = None
    if problems:
        raise NotebookRuleError(f"{where}:\n  " + "\n  ".join(problems))
    return test_ids


def lint_built(notebook: Path) -> None:
    """Raise NotebookRuleError unless the solution notebook is byte for byte what its .py source builds."""
    source = notebook.with_suffix(".py")
    if not source.exists():
        raise NotebookRuleError(f"{notebook}: no text source {source.name} beside it")
    built = notebook_json(notebook_from_text(source.read_text(encoding="utf-8"), str(source)))
    if notebook.read_text(encoding="utf-8") != built:
        raise NotebookRuleError(
            f"{notebook}: is not what {source.name} builds (run `python -m dlcourse.authoring build`)"
        )


def course_notebooks(root: Path) -> list[Path]:
    return sorted((root / "solutions").glob("*/*.ipynb")) + sorted((root / "course").glob("*/*.ipynb"))


def sources(root: Path) -> list[Path]:
    return sorted((root / "solutions").glob("*/*.py"))


def read(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:
        raise NotebookRuleError(f"{path}: cannot be read as a notebook: {error}") from error


def lint(paths: list[Path]) -> list[str]:
    """Every rule for every notebook named; the problems found (empty when all is well)."""
    problems = []
    for path in paths:
        student = "course" in path.parts
        try:
            lint_notebook(read(path), str(path), student=student)
            if not student:
                lint_built(path)
        except NotebookRuleError as error:
            problems.append(str(error))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcourse.authoring", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="sources (default: solutions/*/*.py) -> notebooks, then nbgrader -> course/")
    p.add_argument("sources", type=Path, nargs="*")
    p.add_argument("--no-course", action="store_true", help="do not regenerate course/ with nbgrader")
    p = sub.add_parser("lint", help="check every notebook of the course (or the ones named)")
    p.add_argument("notebooks", type=Path, nargs="*")
    p = sub.add_parser("source", help="notebook -> percent source beside it (refuses to overwrite one)")
    p.add_argument("notebooks", type=Path, nargs="+")
    args = parser.parse_args(argv)
    root = Path.cwd()
    try:
        if args.command == "build":
            paths = args.sources or sources(root)
            for path in paths:
                print(f"built {build_source(path)}")
            if not args.no_course:
                generate_course(root, sorted({path.resolve().parent.name for path in paths}))
                print("regenerated course/ with nbgrader generate_assignment")
        elif args.command == "source":
            for path in args.notebooks:
                target = path.with_suffix(".py")
                if target.exists():
                    raise NotebookRuleError(f"{target} exists: edit it, then build")
                target.write_text(text_from_notebook(read(path)), encoding="utf-8")
                print(f"wrote {target}")
        else:
            paths = args.notebooks or course_notebooks(root)
            problems = lint(paths)
            if problems:
                raise NotebookRuleError("\n".join(problems))
            print(f"{len(paths)} notebooks follow the rules")
    except NotebookRuleError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
