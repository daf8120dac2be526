"""`dlcourse lab`: JupyterLab on the whole course, the environment's tools on its PATH, instructor tools off for learners.

The browser test (tests/test_browser.py) drives a real server; these check the command and the
configuration it hands to Jupyter, read back by Jupyter's own config loaders.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from jupyterlab_server.config import get_page_config

from dlcourse.lab import INSTRUCTOR_PLUGINS, command, course_root
from tests.course import ROOT


def test_lab_opens_the_course_root_on_index_with_the_environment_first_on_path(tmp_path):
    argv, env = command(ROOT, config_folder=tmp_path)
    assert argv[1:5] == ["-m", "jupyter", "lab", "index.ipynb"] and f"--ServerApp.root_dir={ROOT}" in argv
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert (Path(sys.executable).parent / "dlcourse").exists()  # so `dlcourse check` works in a terminal
    assert "--LabApp.news_url=None" in argv


def test_learners_get_nbgrader_instructor_plugins_disabled_instructors_do_not(tmp_path, monkeypatch):
    _, env = command(ROOT, config_folder=tmp_path)
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", env["JUPYTER_CONFIG_PATH"])  # as the server will see it
    found = get_page_config([]).get("disabledExtensions", [])
    disabled = {k for k in found if not isinstance(found, dict) or found[k]}
    assert disabled >= set(INSTRUCTOR_PLUGINS)
    assert not disabled & {"@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:validate-assignment"}
    _, env = command(ROOT, instructor=True)
    assert env.get("JUPYTER_CONFIG_PATH") == os.environ.get("JUPYTER_CONFIG_PATH")


def test_learners_file_browser_leaves_out_the_solutions_and_keeps_jupyters_own_hidden_files(tmp_path):
    import json

    command(ROOT, config_folder=tmp_path)
    hidden = json.loads((tmp_path / "jupyter_server_config.json").read_text())["ContentsManager"]["hide_globs"]
    assert "solutions" in hidden and "__pycache__" in hidden  # added to Jupyter's defaults, not instead of them


def test_the_course_root_is_found_from_a_chapter_folder():
    assert course_root(ROOT / "course" / "ch01_networks") == ROOT
