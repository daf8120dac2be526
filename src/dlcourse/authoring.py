"""Maintainer tools for the course notebooks: a text form to write them in, and the rules they must follow.

The solution notebooks in ``solutions/`` are the source of truth. To write or
edit one as plain text, convert it to a *percent script* and back::

    python -m dlcourse.authoring script solutions/ch01_networks/networks.ipynb > /tmp/networks.py
    python -m dlcourse.authoring build /tmp/networks.py solutions/ch01_networks/networks.ipynb
    python -m dlcourse.authoring lint            # every notebook follows the rules below
    python -m dlcourse.authoring strip FILE...   # drop outputs, give cells without an id a stable one

A percent script is Python with a header line before each cell::

    # %% [markdown] id=goals          a markdown cell; its lines start with "# "
    # %% id=setup                     a plain code cell
    # %% solution id=ch01_sigmoid     an exercise: nbgrader replaces ### BEGIN/END SOLUTION by a stub
    # %% test id=ch01_sigmoid_test points=2
                                      a graded, locked test cell (### BEGIN/END HIDDEN TESTS inside)

``id`` is optional for markdown and plain cells (a stable id is derived from the
cell's text); for solution and test cells it is the nbgrader ``grade_id``.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from pathlib import Path

import nbformat

HEADER = re.compile(r"^# %%(?: \[(?P<markdown>markdown)\])?(?P<attrs>(?: [a-z_]+(?:=[^\s]+)?)*)\s*$")
GRADE_ID = re.compile(r"^ch\d\d_[a-z0-9_]+$")
KINDS = ("solution", "test")


class NotebookRuleError(ValueError):
    """A notebook or percent script breaks one of the course's rules."""


# --- script -> notebook ---------------------------------------------------------------------

def _parse_attrs(text: str, line_no: int) -> dict[str, str]:
    attrs = {}
    for word in text.split():
        key, _, value = word.partition("=")
        if key in KINDS and not value:
            attrs["kind"] = key
        elif key in ("id", "points") and value:
            attrs[key] = value
        else:
            raise NotebookRuleError(f"line {line_no}: unknown cell attribute {word!r} (use solution, test, id=, points=)")
    return attrs


def _trim(lines: list[str]) -> str:
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def parse_script(text: str) -> list[dict]:
    """The cells of a percent script: dicts with type, source, and optional kind, id, points."""
    cells, current = [], None
    for line_no, line in enumerate(text.splitlines(), start=1):
        match = HEADER.match(line)
        if match:
            current = {"type": "markdown" if match["markdown"] else "code", "lines": [], "line": line_no}
            current.update(_parse_attrs(match["attrs"], line_no))
            if current["type"] == "markdown" and "kind" in current:
                raise NotebookRuleError(f"line {line_no}: a markdown cell cannot be a {current['kind']} cell")
            cells.append(current)
        elif current is None:
            if line.strip():
                raise NotebookRuleError(f"line {line_no}: text before the first '# %%' cell header")
        elif current["type"] == "markdown":
            if line.strip() and not (line == "#" or line.startswith("# ")):
                raise NotebookRuleError(f"line {line_no}: markdown lines must start with '# ', got {line!r}")
            current["lines"].append(line[2:])
        else:
            current["lines"].append(line)
    for cell in cells:
        cell["source"] = _trim(cell.pop("lines"))
    return cells


def stable_id(source: str, taken: set[str]) -> str:
    """An id derived from the cell's text (so inserting a cell elsewhere changes no other id), unique in ``taken``."""
    base = "c" + hashlib.sha1(source.encode()).hexdigest()[:10]
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def build_notebook(cells: list[dict]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    taken: set[str] = {c["id"] for c in cells if "id" in c}
    for cell in cells:
        cell_id = cell.get("id") or stable_id(cell["source"], taken)
        taken.add(cell_id)
        if cell["type"] == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(cell["source"], id=cell_id))
            continue
        new = nbformat.v4.new_code_cell(cell["source"], id=cell_id)
        kind = cell.get("kind")
        if kind:
            meta = {"grade": kind == "test", "grade_id": cell_id, "locked": kind == "test",
                    "schema_version": 3, "solution": kind == "solution", "task": False}
            if kind == "test":
                points = float(cell.get("points", 0))
                meta["points"] = int(points) if points.is_integer() else points
            new.metadata["nbgrader"] = meta
        nb.cells.append(new)
    lint_notebook(nb, "<built notebook>")
    return nb


# --- notebook -> script ---------------------------------------------------------------------

def notebook_to_script(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown":
            header = f"# %% [markdown] id={cell.id}"
            body = "\n".join(("# " + line) if line else "#" for line in cell.source.splitlines())
        else:
            kind = "test " if meta.get("grade") else "solution " if meta.get("solution") else ""
            points = f" points={meta['points']}" if meta.get("grade") else ""
            header = f"# %% {kind}id={cell.id}{points}"
            body = cell.source
        parts.append(f"{header}\n{body}\n" if body else f"{header}\n")
    return "\n".join(parts)


# --- rules ----------------------------------------------------------------------------------

def lint_notebook(nb: nbformat.NotebookNode, where: str, *, student: bool = False) -> list[str]:
    """Raise NotebookRuleError listing every rule the notebook breaks; return the grade ids of its test cells."""
    problems, test_ids, seen = [], [], set()
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as error:
        problems.append(f"not a valid notebook: {error.message}")
    previous_solution = None
    for index, cell in enumerate(nb.cells):
        label = f"cell {index} ({cell.get('id', 'no id')})"
        if not cell.get("id"):
            problems.append(f"{label}: no cell id (run `python -m dlcourse.authoring strip`)")
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count):
            problems.append(f"{label}: has outputs or an execution count (run `python -m dlcourse.authoring strip`)")
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


def strip(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Outputs and execution counts removed; cells without an id given a stable one."""
    taken = {c.get("id") for c in nb.cells if c.get("id")}
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if not cell.get("id"):
            cell.id = stable_id(cell.source, taken)
            taken.add(cell.id)
    return nb


def course_notebooks(root: Path) -> list[Path]:
    return sorted((root / "solutions").glob("*/*.ipynb")) + sorted((root / "course").glob("*/*.ipynb"))


def read(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:
        raise NotebookRuleError(f"{path}: cannot be read as a notebook: {error}") from error


def write(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcourse.authoring", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("build", help="percent script -> notebook")
    p.add_argument("script", type=Path)
    p.add_argument("notebook", type=Path)
    p = sub.add_parser("script", help="notebook -> percent script (printed)")
    p.add_argument("notebook", type=Path)
    p = sub.add_parser("lint", help="check every notebook of the course (or the ones named)")
    p.add_argument("notebooks", type=Path, nargs="*")
    p = sub.add_parser("strip", help="drop outputs, give cells without an id a stable one")
    p.add_argument("notebooks", type=Path, nargs="+")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            write(build_notebook(parse_script(args.script.read_text())), args.notebook)
        elif args.command == "script":
            sys.stdout.write(notebook_to_script(read(args.notebook)))
        elif args.command == "strip":
            for path in args.notebooks:
                write(strip(read(path)), path)
        else:
            paths = args.notebooks or course_notebooks(Path.cwd())
            for path in paths:
                lint_notebook(read(path), str(path), student="course" in path.parts)
            print(f"{len(paths)} notebooks follow the rules")
    except NotebookRuleError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
