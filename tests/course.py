"""What the notebook and grading tests share: where the course is, running nbgrader, building submissions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS, COURSE = ROOT / "solutions", ROOT / "course"


def assignments() -> list[str]:
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def notebooks() -> list[tuple[str, str]]:
    """(assignment, notebook name without .ipynb) for every solution notebook."""
    return [(a, nb.stem) for a in assignments() for nb in sorted((SOLUTIONS / a).glob("*.ipynb"))]


def nbgrader(
    *args: str, cwd: Path, timeout: float = 3000, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run an nbgrader command with this environment's bin/ on PATH (nbgrader calls `alembic` by name)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra_env or {})
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise AssertionError(
            f"nbgrader {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
        )
    return result


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def graded_cells(nb: nbformat.NotebookNode) -> dict[str, float]:
    """grade_id -> points of every autograded test cell."""
    return {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }


def solution_sources(assignment: str, notebook: str) -> dict[str, str]:
    """grade_id -> source of every solution cell of the instructor's notebook."""
    nb = read(SOLUTIONS / assignment / f"{notebook}.ipynb")
    return {
        c.metadata["nbgrader"]["grade_id"]: c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")
    }


def filled_in(student_nb: nbformat.NotebookNode, sources: dict[str, str]) -> nbformat.NotebookNode:
    """The student notebook with its solution cells' sources replaced (what a student would submit)."""
    nb = nbformat.from_dict(student_nb)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in sources:
            cell.source = sources[grade_id]
    return nb


def without_demo_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook without the plain code cells after its first exercise (demos, plots, training runs).

    What remains — the setup cells at the top, the exercises and their tests — is a
    submission a student may make; grading it must give the same scores, because
    test cells depend only on the setup, the exercises and earlier test cells.
    """
    nb = nbformat.from_dict(nb)
    first = next((i for i, c in enumerate(nb.cells) if "nbgrader" in c.metadata), len(nb.cells))
    nb.cells = [c for i, c in enumerate(nb.cells) if i < first or c.cell_type != "code" or "nbgrader" in c.metadata]
    return nb


def copy_course(destination: Path) -> Path:
    """A copy of the course (config, solutions, student notebooks) to grade in without touching the repository."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nbgrader_config.py", destination)
    shutil.copytree(SOLUTIONS, destination / "solutions")
    shutil.copytree(COURSE, destination / "course")
    return destination


def cells_by_id(assignment: str, notebook: str) -> dict[str, str]:
    """grade_id (exercises, tests) or cell id (every other cell) -> source, of a solution notebook."""
    nb = read(SOLUTIONS / assignment / f"{notebook}.ipynb")
    return {c.metadata.get("nbgrader", {}).get("grade_id", c.id): c.source for c in nb.cells}


def run_test_cells(cells: dict[str, str], setup: str, functions: dict) -> dict:
    """A namespace in which the setup cell ran, then every test cell with ``functions`` as the learner's.

    The environment and PyTorch's thread count, which setup cells may change, are restored afterwards.
    """
    from unittest import mock

    import torch

    threads = torch.get_num_threads()
    namespace: dict = {}
    try:
        with mock.patch.dict(os.environ):
            exec(cells[setup], namespace)
            namespace.update(functions)
            for grade_id, source in cells.items():
                if grade_id.endswith("_test"):
                    exec(source, namespace)
    finally:
        torch.set_num_threads(threads)
    return namespace


def failure_of(cells: dict[str, str], namespace: dict, test_id: str, **functions) -> str:
    """Run the test cell ``test_id`` with the given functions as the learner's; return its failure message."""
    import pytest

    namespace = {**namespace, **functions}
    with pytest.raises(AssertionError) as failure:
        exec(cells[test_id], namespace)
    return str(failure.value)
