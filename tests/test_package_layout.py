"""The package's layout rules (architecture): every folder is a package, reference/ holds only PyTorch
references, no module imports the solved answers under a plain name in a student notebook, modules stay small."""

from __future__ import annotations

import ast

import pytest

from tests.course import COURSE, ROOT

PACKAGE = ROOT / "src" / "dlcourse"
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)
MAX_LINES = 300


def test_every_folder_of_the_package_is_a_package():
    """A folder without __init__.py is left out of a (non-editable) install by setuptools' find."""
    folders = {p.parent for p in MODULES}
    assert sorted(str(f) for f in folders if not (f / "__init__.py").is_file()) == []


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_is_small_or_says_why(module):
    lines = module.read_text().splitlines()
    docstring = ast.get_docstring(ast.parse(module.read_text())) or ""
    assert len(lines) <= MAX_LINES or " lines" in docstring.lower(), (
        f"{module.relative_to(ROOT)} has {len(lines)} lines: split it, or say at its top why it is longer than {MAX_LINES}"
    )


@pytest.mark.parametrize("module", sorted((PACKAGE / "reference").glob("*.py")), ids=lambda p: p.stem)
def test_reference_modules_hold_pytorch_references_only(module):
    """No hints, no adapters of the checker, no demos: reference/ is the truth a test compares with.

    (A reference may share an input validator or the batch order with the solved code, as both must
    accept the same inputs and see the same batches.)"""
    tree = ast.parse(module.read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    forbidden = {
        m
        for m in imported
        if m and any(part in m.split(".") for part in ("checking", "hints", "mistakes", "cases", "demos"))
    }
    assert not forbidden, f"{module.name} imports {sorted(forbidden)}"


@pytest.mark.parametrize("notebook", sorted(COURSE.glob("*/*.ipynb")), ids=lambda p: p.stem)
def test_student_notebooks_do_not_import_the_answer_key_under_a_plain_name(notebook):
    text = notebook.read_text()
    assert "import networks as solved" not in text and not any(
        f"from dlcourse.solved import {m} as solved" in text for m in ("networks", "backprop", "losses", "cnn", "rnn")
    )
    assert "dlcourse.solved import" not in text.replace("from dlcourse.solved.", ""), (
        f"{notebook.name} imports a dlcourse.solved module under a name"
    )
