"""House rules a newcomer can run: `ruff check` and `ruff format --check`, configured in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.course import ROOT

PATHS = ["src", "tests", "benchmarks", "nbgrader_config.py"]


def ruff() -> list[str]:
    found = Path(sys.executable).parent / "ruff"
    if found.exists():
        return [str(found)]
    if shutil.which("ruff"):
        return ["ruff"]
    pytest.fail("ruff is not installed: it is in the test extra (pip install -e '.[test]')")


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_the_code_follows_the_house_rules(command):
    result = subprocess.run([*ruff(), *command, *PATHS], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, (
        f"`ruff {' '.join(command)}` found problems (run `ruff check --fix` / "
        f"`ruff format` to fix most):\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
    )
