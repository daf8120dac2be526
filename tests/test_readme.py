"""The README's commands are the ones that work: CI runs the README's test command verbatim."""

from __future__ import annotations

import re

from tests.course import ROOT


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(python3 -m venv[^\n]*)\n```", (ROOT / "README.md").read_text())


def test_the_readme_gives_a_setup_command_and_a_test_command():
    setup, test = readme_commands()
    assert setup.endswith(".venv/bin/dlcourse lab")  # the whole course, index.ipynb open (tests/test_lab.py)
    assert "pytest" in test and "torch==2.13.0" in test and "torch==2.13.0" in setup


def test_ci_runs_exactly_the_readme_test_command():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci_lines


def test_binder_gets_python_311_and_a_cpu_only_torch():
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    requirements = (ROOT / "binder" / "requirements.txt").read_text()
    assert "download.pytorch.org/whl/cpu" in requirements and re.search(r"^torch==[\d.]+\+cpu$", requirements, re.M)
