"""Solution code is written once: what a solution cell defines is what ``dlcourse.solved`` runs.

Every top-level function or class a solution cell defines that ``dlcourse.solved`` also
defines (in the chapter's own module where it has one) must be the same code: the same
abstract syntax tree, docstrings and type annotations aside (they compute nothing; the
notebooks may leave them out to read lighter). A deliberately faster variant in ``solved`` has a
name of its own and a unit test that it computes the same.
"""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import pytest

import dlcourse.solved
from tests.course import SOLUTIONS, notebooks, read

SOLVED_DIR = Path(dlcourse.solved.__file__).parent


def _without_docstrings(node: ast.AST) -> str:
    node = ast.parse(ast.unparse(node)).body[0]  # a copy
    for n in ast.walk(node):
        body = getattr(n, "body", None)
        if (
            isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(getattr(body[0], "value", None), ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            n.body = body[1:] or [ast.Pass()]
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n.returns = None
        if isinstance(n, ast.arg):
            n.annotation = None
    return ast.dump(node, annotate_fields=False)


def _definitions(source: str) -> dict[str, ast.AST]:
    tree = ast.parse(source)
    return {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def _solved_definitions() -> dict[str, dict[str, ast.AST]]:
    return {
        info.name: _definitions((SOLVED_DIR / f"{info.name}.py").read_text())
        for info in pkgutil.iter_modules([str(SOLVED_DIR)])
    }


def _solution_cell_definitions(assignment: str, notebook: str) -> dict[str, ast.AST]:
    found = {}
    for cell in read(SOLUTIONS / assignment / f"{notebook}.ipynb").cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            found.update(_definitions(cell.source))
    return found


@pytest.mark.parametrize("assignment,notebook", notebooks(), ids=[f"{a}/{n}" for a, n in notebooks()])
def test_solution_cells_and_solved_code_are_the_same_code(assignment, notebook):
    solved = _solved_definitions()
    own = solved.get(notebook, {})
    differ, compared = [], 0
    for name, node in _solution_cell_definitions(assignment, notebook).items():
        candidates = [own[name]] if name in own else [defs[name] for defs in solved.values() if name in defs]
        if not candidates:
            continue  # only in the notebook (nothing to drift from)
        compared += 1
        if all(_without_docstrings(node) != _without_docstrings(c) for c in candidates):
            differ.append(name)
    assert not differ, (
        f"{assignment}/{notebook}: {differ} differ from their dlcourse.solved versions; make them the "
        f"same code (a faster variant gets a name of its own)"
    )


def test_the_comparison_sees_a_change_of_code_but_not_of_docstring():
    a = _definitions('def f(x):\n    """One."""\n    return x + 1\n')["f"]
    b = _definitions('def f(x):\n    """Two."""\n    return x + 1\n')["f"]
    c = _definitions("def f(x):\n    return x - 1\n")["f"]
    d = _definitions("def f(x: float) -> float:\n    return x + 1\n")["f"]
    assert _without_docstrings(a) == _without_docstrings(b) == _without_docstrings(d) != _without_docstrings(c)
