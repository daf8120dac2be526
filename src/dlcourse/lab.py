"""``dlcourse lab``: JupyterLab on the whole course, set up for a learner (or, with ``--instructor``, a teacher).

* rooted at the course folder, with ``index.ipynb`` (the list of chapters) open, so every chapter is in
  reach and nbgrader's course root is inside the server's root;
* this environment's ``bin/`` first on the server's PATH, so that ``dlcourse check`` works in
  JupyterLab's terminals;
* for learners, nbgrader's instructor tools are off (the Nbgrader menu, Create Assignment, Formgrader,
  Course List: the lab extensions' plugins and the server extensions); "Assignments" and "Validate" stay;
* for learners, the ``solutions/`` folder (answers and hidden tests) is left out of the file browser: a
  learner who wants to peek must go looking, not stumble on it (it is no lock: the files are on their disk);
* no news pop-up and no update check.

The learner settings live in a private Jupyter config folder put first on ``JUPYTER_CONFIG_PATH``;
nothing is written into the environment or the user's home.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

INSTRUCTOR_PLUGINS = [
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:menu",
]
INSTRUCTOR_SERVER_EXTENSIONS = ["nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list"]
HIDDEN_FROM_LEARNERS = ["solutions"]
QUIET = [
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
]


def course_root(start: Path) -> Path:
    """The course folder: ``start`` or the nearest folder above it with index.ipynb and nbgrader_config.py."""
    for folder in [start, *start.parents]:
        if (folder / "index.ipynb").is_file() and (folder / "nbgrader_config.py").is_file():
            return folder
    raise SystemExit(
        f"dlcourse lab: no course here ({start} and the folders above it have no index.ipynb "
        f"beside nbgrader_config.py); run it in the course's folder"
    )


def learner_config(folder: Path) -> Path:
    """Write the learner's Jupyter config (instructor plugins and server extensions off, the solutions out of the
    file browser) into ``folder``."""
    from jupyter_server.services.contents.manager import ContentsManager

    (folder / "labconfig").mkdir(parents=True, exist_ok=True)
    (folder / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {plugin: True for plugin in INSTRUCTOR_PLUGINS}}, indent=1)
    )
    (folder / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {"jpserver_extensions": {ext: False for ext in INSTRUCTOR_SERVER_EXTENSIONS}},
                "ContentsManager": {"hide_globs": ContentsManager().hide_globs + HIDDEN_FROM_LEARNERS},
            },
            indent=1,
        )
    )
    return folder


def command(
    root: Path, *, instructor: bool = False, extra: list[str] | None = None, config_folder: Path | None = None
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that start JupyterLab on the course."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if not instructor:
        folder = learner_config(config_folder or Path(tempfile.mkdtemp(prefix="dlcourse-lab-")))
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(filter(None, [str(folder), env.get("JUPYTER_CONFIG_PATH")]))
    argv = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "index.ipynb",
        f"--ServerApp.root_dir={root}",
        *QUIET,
        *terminal_shell(env),
        *(extra or []),
    ]
    return argv, env


def terminal_shell(env: dict[str, str]) -> list[str]:
    """JupyterLab's terminals run the user's shell as when JupyterLab is started from a terminal.

    Started without one (output sent to a file, a desktop launcher, an IDE), jupyter_server makes the
    terminal a login shell, and /etc/profile then resets PATH: this environment's ``bin/`` (and so
    ``dlcourse``) would be gone from JupyterLab's terminals. Naming the shell keeps it a plain one."""
    if os.name == "nt":
        return []
    shell = env.get("SHELL") or shutil.which("bash") or shutil.which("sh") or "/bin/sh"
    return [f"--ServerApp.terminado_settings=shell_command={json.dumps([shell])}"]


def main(instructor: bool = False, extra: list[str] | None = None) -> int:
    root = course_root(Path.cwd())
    argv, env = command(root, instructor=instructor, extra=extra)
    os.chdir(root)
    os.execvpe(argv[0], argv, env)  # JupyterLab replaces this process (Ctrl-C stops it as usual)
    return 0  # pragma: no cover
