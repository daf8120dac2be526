"""`dlcourse grade --scheduler`: a class graded through a real Dask cluster — a `dask scheduler` and two
`dask worker` processes on loopback, each in its own temporary folder — ends with the gradebook serial
`nbgrader autograde` leaves; a worker killed mid-run loses no submission and none is executed twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from dlcourse.grading import WORK
from tests.course import COURSE, copy_course, filled_in, nbgrader, read, solution_sources

A, NB = "ch01_networks", "networks"
DASK = str(Path(sys.executable).parent / "dask")  # the `dask` command of this environment


def submissions() -> dict[str, nbformat.NotebookNode]:
    released = read(COURSE / A / f"{NB}.ipynb")
    sources = solution_sources(A, NB)
    wrong_relu = {**sources, "ch01_relu": "def relu(x):\n    return x"}
    tagged = filled_in(released, wrong_relu)
    for cell in tagged.cells:  # a learner who tags the failing test as a demo: it still runs
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ch01_relu_test":
            cell.metadata["tags"] = ["demo"]
    return {
        "ada": filled_in(released, sources),
        "bob": released,
        "cyd": filled_in(
            released, {**sources, "ch01_dense_forward": "def dense_forward(X, W, b):\n    return X @ W.T"}
        ),
        "dee": tagged,
    }


def make_class(root: Path) -> Path:
    copy_course(root)
    nbgrader("generate_assignment", A, "--force", cwd=root)
    for student, nb in submissions().items():
        (root / "submitted" / student / A).mkdir(parents=True)
        nbformat.write(nb, str(root / "submitted" / student / A / f"{NB}.ipynb"))
    return root


def gradebook_content(root: Path) -> dict:
    """Everything autograde writes that a grade depends on, per student, notebook and cell."""
    content = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for submission in gradebook.find_assignment(A).submissions:
            for nb in submission.notebooks:
                for grade in nb.grades:
                    content[(submission.student.id, nb.name, grade.name)] = (
                        grade.auto_score,
                        grade.manual_score,
                        grade.needs_manual_grade,
                        grade.failed_tests,
                    )
                for comment in nb.comments:
                    content[(submission.student.id, nb.name, "comment", comment.name)] = comment.auto_comment
    return content


def executions(root: Path) -> list[tuple[str, str]]:
    """(student, worker) of every published execution, from the grading journal."""
    lines = (root / WORK / A / "journal.log").read_text().splitlines()
    return [(line.split("\t")[0], line.split("\t")[2]) for line in lines]


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    root = make_class(tmp_path_factory.mktemp("serial") / "course")
    nbgrader("autograde", A, cwd=root)
    content = gradebook_content(root)
    scores = {s: sum(v[0] or 0 for k, v in content.items() if k[0] == s and len(k) == 3) for s in submissions()}
    assert scores["ada"] > scores["cyd"] > 0 and scores["ada"] > scores["dee"] > 0 and scores["bob"] == 0, scores
    return content


class Cluster:
    """A `dask scheduler` and two `dask worker` processes (one process, one thread each) on loopback."""

    def __init__(self, folder: Path):
        self.folder, self.processes = folder, {}
        self.scheduler_file = folder / "scheduler.json"
        self.start(
            "scheduler",
            [
                DASK,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(self.scheduler_file),
            ],
        )
        deadline = time.time() + 120
        while not self.scheduler_file.exists() and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # the file is written whole before the scheduler listens; be safe
        self.address = json.loads(self.scheduler_file.read_text())["address"]
        for name in ("w1", "w2"):
            self.start(
                name,
                [
                    DASK,
                    "worker",
                    self.address,
                    "--name",
                    name,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--local-directory",
                    str(self.tmp(name)),
                ],
            )
        from distributed import Client

        with Client(self.address, timeout=120) as client:
            client.wait_for_workers(2, timeout=180)
            self.workers = {info["name"]: address for address, info in client.scheduler_info()["workers"].items()}

    def tmp(self, name: str) -> Path:
        folder = self.folder / name / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def start(self, name: str, command: list[str]) -> None:
        env = {**os.environ, "TMPDIR": str(self.tmp(name))}  # each process its own temporary folder
        with open(self.folder / f"{name}.log", "w") as log:  # the child keeps its own copy of the descriptor
            self.processes[name] = subprocess.Popen(
                command, cwd=self.tmp(name), env=env, stdout=log, stderr=log, start_new_session=True
            )

    def kill(self, name: str) -> None:
        """SIGKILL a worker and everything it started (its nanny, its worker process, nbgrader, the kernel)."""
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("dask"))
    yield cluster
    cluster.stop()


def grade_command(cluster: Cluster) -> list[str]:
    return [sys.executable, "-m", "dlcourse.cli", "grade", A, "--scheduler", cluster.address]


def env() -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.grading
def test_a_class_graded_through_a_dask_scheduler_equals_serial_autograde(serial, cluster, tmp_path):
    root = make_class(tmp_path / "course")
    done = subprocess.run(
        grade_command(cluster), cwd=root, env=env(), capture_output=True, text=True, timeout=1200, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert gradebook_content(root) == serial
    executed = executions(root)
    assert sorted(s for s, _ in executed) == sorted(submissions()), executed
    assert {w for _, w in executed} == set(cluster.workers.values()), "both workers should have graded"
    assert "4/4 executed" in done.stdout, done.stdout


@pytest.mark.grading
def test_a_worker_killed_mid_run_loses_no_submission_and_none_is_executed_twice(serial, cluster, tmp_path):
    root = make_class(tmp_path / "course")
    grading = subprocess.Popen(
        grade_command(cluster), cwd=root, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline, running = time.time() + 300, []
    while not running and time.time() < deadline and grading.poll() is None:
        running = list(cluster.tmp("w1").glob("dlcourse-grade-*"))  # a task's private copy: w1 is executing
        time.sleep(0.2)
    assert running, "worker w1 never started a submission"
    interrupted = running[0].name.split("-")[2]
    cluster.kill("w1")
    out, _ = grading.communicate(timeout=1200)
    assert grading.returncode == 0, out
    assert gradebook_content(root) == serial, "a submission was lost or graded differently"
    executed = executions(root)
    assert sorted(s for s, _ in executed) == sorted(submissions()), f"executed twice or lost: {executed}"
    assert dict(executed)[interrupted] == cluster.workers["w2"], f"{interrupted} should have been run again on w2"
