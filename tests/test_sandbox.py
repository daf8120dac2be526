"""Grading kernels run in a bubblewrap sandbox (dlcourse.sandbox).

Real attack submissions of chapter 1, graded by `nbgrader autograde` and by `dlcourse grade`: one
reads and rewrites what grading keeps outside the submission (solutions/, gradebook.db, another
student's submission) and connects to a loopback server this test started; one is a fork bomb, one
fills the disk. Everything outside stays as it was, the class is graded, honest work keeps full
marks. Then fast tests of the bwrap command line and of a real bwrap run, without nbgrader, and of a
sandbox leaving nothing behind (sockets folder, cgroup, processes) whether its kernel shut down or died.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from dlcourse import sandbox
from tests.course import (
    COURSE,
    copy_course,
    filled_in,
    graded_cells,
    nbgrader,
    read,
    solution_sources,
    without_demo_cells,
)

A, NB = "ch01_networks", "networks"
FULL = graded_cells(read(COURSE / A / f"{NB}.ipynb"))
needs_bwrap = pytest.mark.skipif(sandbox.problem() is not None, reason=f"no sandbox here: {sandbox.problem()}")

# Reads and writes what a grading process can reach, tries the network; prints what happened, as JSON.
INTRUDER = r"""import json, os, socket, sqlite3
from pathlib import Path
seen = {}
def attempt(name, action):
    try:
        seen[name] = "DONE " + repr(action())[:200]
    except Exception as error:
        seen[name] = f"{type(error).__name__}: {error}"
roots = [Path("{root}"), *Path.cwd().parents]
attempt("list_course", lambda: os.listdir("{root}"))
attempt("read_solutions", lambda: Path("{root}/solutions/ch01_networks/networks.ipynb").read_text()[:100])
attempt("find_solutions", lambda: [str(p) for r in roots for p in r.glob("solutions/*/*.ipynb")])
attempt("read_gradebook", lambda: sqlite3.connect("file:{root}/gradebook.db?mode=ro", uri=True)
        .execute("select * from grade").fetchall())
attempt("rewrite_gradebook", lambda: Path("{root}/gradebook.db").write_bytes(b"gone"))
attempt("rewrite_other_submission",
        lambda: Path("{root}/submitted/honest/ch01_networks/networks.ipynb").write_text("{{}}"))
attempt("write_feedback", lambda: Path("{root}/feedback/honest/ch01_networks/networks.html").write_text("pwned"))
attempt("write_own_folder", lambda: Path("planted.txt").write_text("x"))
attempt("connect", lambda: socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"stolen"))
attempt("home", lambda: os.listdir(os.path.expanduser("~root")))
attempt("uid", lambda: os.getuid())
print("SANDBOX-PROBE " + json.dumps(seen))
"""
FORK_BOMB = "import os\nwhile True:\n    os.fork()"
DISK_FILLER = "with open('/tmp/filler', 'wb') as f:\n    while True:\n        f.write(b'x' * 2**20)"


def honest(student_nb) -> nbformat.NotebookNode:
    return without_demo_cells(filled_in(student_nb, solution_sources(A, NB)))


def with_cell(nb, source: str, after_grade_id: str | None = None) -> nbformat.NotebookNode:
    """``nb`` with a code cell added by the learner: after the cell ``after_grade_id``, or at the end."""
    nb = nbformat.from_dict(nb)
    index = (
        len(nb.cells)
        if after_grade_id is None
        else 1
        + next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == after_grade_id)
    )
    nb.cells.insert(index, nbformat.v4.new_code_cell(source))
    return nb


class LoopbackServer:
    """A TCP server on 127.0.0.1 that records whether anyone connected."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port, self.connections = self.socket.getsockname()[1], 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()


def make_course(root: Path, port: int) -> Path:
    copy_course(root)
    nbgrader("generate_assignment", A, "--force", cwd=root)
    student_nb = read(root / "course" / A / f"{NB}.ipynb")
    submissions = {
        "honest": honest(student_nb),
        "intruder": with_cell(
            honest(student_nb), INTRUDER.replace("{root}", str(root)).replace("{port}", str(port)).replace("{{}}", "{}")
        ),
        "filler": with_cell(honest(student_nb), DISK_FILLER, after_grade_id="ch01_sigmoid_test"),
        "bomber": with_cell(honest(student_nb), FORK_BOMB),
    }
    for student, nb in submissions.items():
        (root / "submitted" / student / A).mkdir(parents=True)
        nbformat.write(nb, str(root / "submitted" / student / A / f"{NB}.ipynb"))
    (root / "feedback" / "honest" / A).mkdir(parents=True)
    (root / "feedback" / "honest" / A / f"{NB}.html").write_text("feedback")
    return root


def fingerprint(root: Path) -> dict[str, str]:
    """What grading must not let a submission change: solutions, submissions, feedback."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in ("solutions", "submitted", "feedback")
        for p in sorted((root / folder).rglob("*"))
        if p.is_file()
    }


def scores(root: Path) -> dict[str, dict[str, float]]:
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return {
            s.student.id: {g.name: g.score for nb in s.notebooks for g in nb.grades}
            for s in gb.find_assignment(A).submissions
        }


def outputs(root: Path, student: str) -> str:
    nb = read(root / "autograded" / student / A / f"{NB}.ipynb")
    return "\n".join(
        o.get("text", "") + " ".join(o.get("traceback", []))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )


def still_running(marker: str) -> list[str]:
    """Command lines of processes that mention ``marker`` (a sandbox's bwrap names its work folder)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in text and "pytest" not in text:
            found.append(text)
    return found


def check_attacks_failed(root: Path, server: LoopbackServer, before: dict[str, str]) -> None:
    graded = scores(root)
    assert set(graded) >= {"honest", "intruder", "filler"}, "the class must be graded"
    for student in ("honest", "intruder", "filler"):  # these attacks cost nothing: they failed outside the exercises
        assert graded[student] == FULL, student
    # The fork bomb reaches the process limit and its whole sandbox is killed: nbgrader cannot finish that
    # submission (it names it) and gives it no automatic score.
    assert all(score == 0 for score in graded.get("bomber", {}).values())
    probe = json.loads(outputs(root, "intruder").split("SANDBOX-PROBE ", 1)[1].splitlines()[0])
    for name, outcome in probe.items():
        if name == "uid":
            assert outcome == "DONE 65534"
        elif name == "find_solutions":
            assert outcome == "DONE []", outcome
        elif name == "list_course":  # at most the way down to its own folder: autograded/<student>/<assignment>
            missing = f"FileNotFoundError: [Errno 2] No such file or directory: '{root}'"
            assert outcome in ("DONE ['autograded']", missing), outcome
        elif name.startswith(("rewrite_", "write_")):
            # Under /tmp (where these tests and dlcourse grade's private copies are), a write may land in the
            # sandbox's own /tmp and vanish with it; what counts is that nothing outside changed (below).
            pass
        else:
            assert not outcome.startswith("DONE"), f"{name}: {outcome}"
    assert server.connections == 0, "a grading kernel reached a loopback server"
    assert fingerprint(root) == before, "a submission changed files outside its sandbox"
    assert not (root / "autograded" / "intruder" / A / "planted.txt").exists()
    assert b"gone" not in (root / "gradebook.db").read_bytes()[:100], "the gradebook was rewritten"
    assert "No space left on device" in outputs(root, "filler") or "File too large" in outputs(root, "filler")
    assert not still_running(str(root)), "a sandbox outlived its grading"


@needs_bwrap
@pytest.mark.grading
def test_attacks_fail_in_the_sandbox_under_nbgrader_autograde(tmp_path):
    server = LoopbackServer()
    root = make_course(tmp_path / "course", server.port)
    before = fingerprint(root)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", A],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    log = result.stdout + result.stderr
    failed = set(re.findall(r"error processing assignment '\w+' for student '(\w+)'", log))
    assert result.returncode != 0 and failed == {"bomber"}, "nbgrader names the submission it could not grade"
    assert "reached its process limit" in log, "the fork bomb should hit the process limit"
    check_attacks_failed(root, server, before)


@needs_bwrap
@pytest.mark.grading
def test_attacks_fail_in_the_sandbox_under_dlcourse_grade(tmp_path):
    server = LoopbackServer()
    root = make_course(tmp_path / "course", server.port)
    before = fingerprint(root)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [sys.executable, "-m", "dlcourse.cli", "grade", A, "--workers", "1", "--require-sandbox"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "NOT sandboxed" not in result.stdout + result.stderr
    assert "problem: bomber:" in result.stdout and result.stdout.count("problem: ") == 1
    assert "reached its process limit" in (root / ".grading" / A / "bomber.log").read_text()
    check_attacks_failed(root, server, before)


# --- the bwrap command line, and bwrap itself, without nbgrader -----------------------------------------------


def test_the_command_line_binds_the_work_folder_and_the_environment_read_only_and_nothing_of_the_course(tmp_path):
    work, sockets = tmp_path / "autograded" / "alice" / A, tmp_path / "sockets"
    work.mkdir(parents=True)
    sockets.mkdir()
    command = sandbox.bwrap_command(["python", "-m", "ipykernel_launcher"], work, sockets)
    assert command[-4:] == ["--", "python", "-m", "ipykernel_launcher"]
    options = command[: command.index("--")]
    binds = {
        (options[i], options[i + 1], options[i + 2])
        for i in range(len(options) - 2)
        if options[i] in ("--bind", "--ro-bind", "--ro-bind-try")
    }
    sources = {source for _, source, _ in binds}
    assert ("--ro-bind", str(work), str(work)) in binds and ("--bind", str(sockets), str(sockets)) in binds
    assert [b for b in binds if b[0] == "--bind"] == [("--bind", str(sockets), str(sockets))], "one writable bind"
    for needed in (sys.prefix, sys.base_prefix, str(Path(sandbox.__file__).resolve().parents[1])):
        assert any(needed == s or needed.startswith(s + "/") for s in sources | {"/usr"}), needed
    repo = Path(__file__).resolve().parents[1]
    assert str(repo / "datasets") in sources
    for secret in (repo, repo / "solutions", repo / "gradebook.db", Path.home(), Path("/etc"), tmp_path):
        assert str(secret) not in sources, secret
    assert {"--unshare-all", "--die-with-parent"} <= set(options)
    assert options[options.index("--uid") + 1] == options[options.index("--gid") + 1] == "65534"
    assert options[options.index("--unsetenv") + 1] == "JPY_PARENT_PID"
    assert options.index("/tmp") < options.index(str(work)), "--tmpfs /tmp must come before binds under /tmp"
    assert options[options.index("--remount-ro") + 1 :].count("/") >= 1


def test_a_course_root_is_never_a_sandbox_work_folder(tmp_path):
    (tmp_path / "gradebook.db").write_text("")
    with pytest.raises(sandbox.SandboxUnavailable):
        sandbox.bwrap_command(["true"], tmp_path, tmp_path)


def test_sandboxed_replaces_nbgrader_execute_and_its_subclasses():
    from nbgrader.preprocessors import Execute, IgnorePattern

    class MyExecute(Execute):
        pass

    replaced = sandbox.sandboxed(["nbgrader.preprocessors.Execute", IgnorePattern, MyExecute])
    assert replaced[0] is sandbox.SandboxedExecute and replaced[1] is IgnorePattern
    assert issubclass(replaced[2], MyExecute) and replaced[2] is not MyExecute
    assert replaced[2]().kernel_manager_class is sandbox.SandboxedKernelManager
    assert Execute().kernel_manager_class is not sandbox.SandboxedKernelManager
    with pytest.raises(ValueError):
        sandbox.sandboxed([IgnorePattern])


@needs_bwrap
def test_inside_bwrap_nothing_of_the_course_is_reachable_and_limits_hold(tmp_path):
    work, sockets = tmp_path / "work", tmp_path / "sockets"
    work.mkdir()
    sockets.mkdir()
    server = LoopbackServer()
    repo = Path(__file__).resolve().parents[1]
    probe = f'''import json, os, socket
from pathlib import Path
def attempt(action):
    try:
        return "DONE " + repr(action())
    except Exception as error:
        return type(error).__name__
print(json.dumps({{
    "uid": os.getuid(), "cwd": os.getcwd(),
    "repo": attempt(lambda: os.listdir("{repo}")),
    "solutions": attempt(lambda: os.listdir("{repo}/solutions")),
    "package": attempt(lambda: __import__("dlcourse.checking").__name__),
    "datasets": attempt(lambda: len(os.listdir("{repo}/datasets")) > 0),
    "write_work": attempt(lambda: open("x", "w")),
    "write_sockets": attempt(lambda: open("{sockets}/x", "w").write("ok")),
    "write_root": attempt(lambda: open("/x", "w")),
    "tmp_filler": attempt(lambda: open("/tmp/f", "wb").write(b"x" * (2 * 2**20))),
    "connect": attempt(lambda: socket.create_connection(("127.0.0.1", {server.port}), timeout=3)),
    "env": sorted(os.environ),
}}))
'''
    command = sandbox.bwrap_command([sys.executable, "-c", probe], work, sockets, disk_mb=1)
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, env={"SECRET_TOKEN": "x", "PATH": "/usr/bin"}
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["uid"] == 65534 and seen["cwd"] == str(work)
    assert seen["repo"].startswith("DONE") and "solutions" not in seen["repo"] and "gradebook.db" not in seen["repo"]
    assert seen["solutions"] == "FileNotFoundError"
    assert seen["package"] == "DONE 'dlcourse'" and seen["datasets"] == "DONE True"
    assert seen["write_work"] == seen["write_root"] == "OSError"  # read-only file system
    assert seen["write_sockets"] == "DONE 2"
    assert seen["tmp_filler"] == "OSError"  # no space left on a 1 MB /tmp
    assert seen["connect"] == "ConnectionRefusedError" and server.connections == 0
    assert (sockets / "x").read_text() == "ok" and not (work / "x").exists()


def test_without_bubblewrap_a_kernel_is_refused_when_required_and_runs_after_one_warning_otherwise(tmp_path, caplog):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import os; print(os.getuid() == 65534)")])
    manager = sandbox.SandboxedKernelManager(bwrap="/nonexistent/bwrap", require=True)
    with pytest.raises(sandbox.SandboxUnavailable, match="not installed"):
        NotebookClient(nb, km=manager, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    sandbox._warned = False
    for _ in range(2):
        manager = sandbox.SandboxedKernelManager(bwrap="/nonexistent/bwrap")
        NotebookClient(nb, km=manager, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
        assert nb.cells[0].outputs[0]["text"] == "False\n"  # it ran, outside a sandbox
    assert sum("NOT sandboxed" in r.getMessage() for r in caplog.records) == 1


def test_dlcourse_grade_require_sandbox_refuses_without_bubblewrap(tmp_path):
    env = {**os.environ, "PATH": str(Path(sys.executable).parent)}  # no bwrap on this PATH
    result = subprocess.run(
        [sys.executable, "-m", "dlcourse.cli", "grade", A, "--require-sandbox"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "--require-sandbox" in result.stderr and "grading nobody" in result.stderr


@needs_bwrap
@pytest.mark.parametrize("cell", ["1 + 1", "import os\nos._exit(1)"], ids=["shut down", "died"])
def test_a_sandbox_leaves_nothing_behind(cell, tmp_path):
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    made = []

    class Recording(sandbox.SandboxedKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):
            await super()._async_launch_kernel(kernel_cmd, **kw)
            made.append((Path(self._sockets_dir), self._cgroup))

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    client = NotebookClient(
        nb, kernel_manager_class=Recording, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    except DeadKernelError:
        assert "_exit" in cell
    [(sockets, cgroup)] = made
    assert not sockets.exists(), "the kernel's sockets folder is left behind"
    assert cgroup is None or not cgroup.exists(), "the kernel's cgroup is left behind"
    assert not still_running(str(tmp_path))
