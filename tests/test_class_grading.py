"""`dlcourse grade`: parallel grading ends with the gradebook serial `nbgrader autograde` gives,
bad submissions cost their authors points (never the class its grading), and an interrupted
run started again executes nobody twice."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from dlcourse.authoring import notebook_from_text
from dlcourse.grading import WORK, _limit_memory, grade
from tests.course import ROOT, nbgrader

A, NB = "ch99_tiny", "tiny"
MEMORY_GB = 4  # address-space limit per grading process and kernel
SCRIPT = """# %% id="setup"
import numpy as np
from dlcourse.checking import check
from dlcourse.reference import networks as ref

# %% id="ch99_relu" nbgrader={"solution": true}
def relu(x):
    ### BEGIN SOLUTION
    return np.maximum(x, 0)
    ### END SOLUTION

# %% id="ch99_relu_test" nbgrader={"grade": true, "locked": true, "points": 1}
check(relu, ref.relu, [np.array([-1.0, 2.0])])
### BEGIN HIDDEN TESTS
check(relu, ref.relu, [np.array([-3.0, 0.5, 7.0])])
### END HIDDEN TESTS

# %% id="ch99_sigmoid" nbgrader={"solution": true}
def sigmoid(x):
    ### BEGIN SOLUTION
    return 1 / (1 + np.exp(-x))
    ### END SOLUTION

# %% id="ch99_sigmoid_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(sigmoid, ref.sigmoid, [np.array([-1.0, 0.0, 1.0])])
### BEGIN HIDDEN TESTS
check(sigmoid, ref.sigmoid, [np.array([-5.0, 5.0])])
### END HIDDEN TESTS

# %% id="ch99_dense" nbgrader={"solution": true}
def dense(X, W, b):
    ### BEGIN SOLUTION
    return X @ W.T + b
    ### END SOLUTION

# %% id="ch99_dense_test" nbgrader={"grade": true, "locked": true, "points": 3}
check(dense, ref.dense_forward, [(np.ones((2, 3)), np.ones((4, 3)), np.zeros(4))])
### BEGIN HIDDEN TESTS
check(dense, ref.dense_forward, [(np.eye(3), np.arange(6.0).reshape(2, 3), np.ones(2))])
### END HIDDEN TESTS
"""
FULL = {"ch99_relu_test": 1, "ch99_sigmoid_test": 2, "ch99_dense_test": 3}


def edit(nb, grade_id, new_source=None, delete=False):
    nb = nbformat.from_dict(nb)
    for i, cell in enumerate(nb.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            if delete:
                del nb.cells[i]
            else:
                cell.source = new_source
            return nb
    raise KeyError(grade_id)


SOLVED_RELU = "def relu(x):\n    return np.maximum(x, 0)"
SOLVED_SIGMOID = "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))"
SOLVED_DENSE = "def dense(X, W, b):\n    return X @ W.T + b"


def solved(nb):
    nb = edit(nb, "ch99_relu", SOLVED_RELU)
    nb = edit(nb, "ch99_sigmoid", SOLVED_SIGMOID)
    return edit(nb, "ch99_dense", SOLVED_DENSE)


# student -> (what they submit, expected scores or None for "cannot be graded")
def submissions(student_nb, other_chapter_nb):
    return {
        "good": (solved(student_nb), FULL),
        "untouched": (student_nb, {k: 0 for k in FULL}),
        "raises": (
            edit(solved(student_nb), "ch99_sigmoid", "1 / 0\n" + SOLVED_SIGMOID),
            {**FULL, "ch99_sigmoid_test": 0},
        ),
        "loops_in_function": (
            edit(solved(student_nb), "ch99_relu", "def relu(x):\n    while True:\n        pass"),
            {**FULL, "ch99_relu_test": 0},
        ),
        "loops_at_top_level": (edit(solved(student_nb), "ch99_dense", SOLVED_DENSE + "\nwhile True:\n    pass"), FULL),
        # nbgrader gives a deleted test cell no automatic score and flags it for manual grading (0 until then)
        "deleted_test": (
            edit(solved(student_nb), "ch99_sigmoid_test", delete=True),
            {**FULL, "ch99_sigmoid_test": None},
        ),
        "tampered_test": (
            edit(edit(solved(student_nb), "ch99_relu", "def relu(x):\n    return x"), "ch99_relu_test", "assert True"),
            {**FULL, "ch99_relu_test": 0},
        ),
        "memory_hog": (
            edit(
                solved(student_nb),
                "ch99_relu",
                "def relu(x):\n    hog = []\n    while True:\n        hog.append(np.ones(2**26))",
            ),
            {**FULL, "ch99_relu_test": 0},
        ),
        # tampering: a wrong relu, and code that tries to make every test pass anyway
        "redefines_check": (
            edit(
                solved(student_nb),
                "ch99_relu",
                "def relu(x):\n    return x\n\ndef check(*args, **kwargs):\n    return None",
            ),
            {**FULL, "ch99_relu_test": 0},
        ),
        "patches_libraries": (
            edit(
                solved(student_nb),
                "ch99_relu",
                "import torch\nnp.allclose = torch.allclose = lambda *a, **k: True\n"
                "np.abs = lambda x: 0 * x\ntorch.relu = lambda x: x\n\ndef relu(x):\n    return x",
            ),
            {**FULL, "ch99_relu_test": 0},
        ),
        "edits_reference": (
            edit(
                solved(student_nb),
                "ch99_relu",
                "def relu(x):\n    return x\n\nref.relu = relu\n"
                "import dlcourse.checking\ndlcourse.checking.check = lambda *a, **k: None",
            ),
            {**FULL, "ch99_relu_test": 0},
        ),
        "not_json": ("{ this is not a notebook", None),
        "other_chapter": (other_chapter_nb, None),
    }


def make_course(root: Path, timeout: int = 15) -> Path:
    root.mkdir(parents=True)
    config = (
        (ROOT / "nbgrader_config.py").read_text().replace("c.Execute.timeout = 60", f"c.Execute.timeout = {timeout}")
    )
    (root / "nbgrader_config.py").write_text(config)
    (root / "solutions" / A).mkdir(parents=True)
    nbformat.write(notebook_from_text(SCRIPT), str(root / "solutions" / A / f"{NB}.ipynb"))
    nbgrader("generate_assignment", A, "--force", cwd=root)
    student_nb = nbformat.read(str(root / "course" / A / f"{NB}.ipynb"), as_version=4)
    other = nbformat.read(str(ROOT / "course" / "ch01_networks" / "networks.ipynb"), as_version=4)
    for student, (content, _) in submissions(student_nb, other).items():
        folder = root / "submitted" / student / A
        folder.mkdir(parents=True)
        if isinstance(content, str):
            (folder / f"{NB}.ipynb").write_text(content)
        else:
            nbformat.write(content, str(folder / f"{NB}.ipynb"))
    return root


def gradebook_content(root: Path) -> dict:
    """Everything autograde writes that a grade depends on, per student, notebook and cell."""
    content = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for submission in gb.find_assignment(A).submissions:
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


def scores(content: dict, student: str) -> dict:
    return {key[2]: value[0] for key, value in content.items() if key[0] == student and key[1] == NB and len(key) == 3}


def serial_autograde(root: Path, *args: str) -> None:
    # the same memory limit as the parallel runs: without one, the memory hog would take the whole machine
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", A, *args],
        cwd=root,
        capture_output=True,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"},
        preexec_fn=_limit_memory(MEMORY_GB),
    )


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("serial") / "course")
    serial_autograde(root)
    # A gradable submission that nbgrader failed to grade as a whole (a kernel that did not start in time on
    # a loaded machine) is graded again, as an instructor would; `dlcourse grade` retries such failures itself.
    student_nb = nbformat.read(str(root / "course" / A / f"{NB}.ipynb"), as_version=4)
    for student, (_, expected) in submissions(student_nb, student_nb).items():
        if expected is not None and all(v is None for v in scores(gradebook_content(root), student).values()):
            serial_autograde(root, f"--student={student}", "--force")
    return gradebook_content(root)


@pytest.mark.grading
def test_parallel_grading_equals_serial_and_bad_submissions_cost_only_their_points(serial, tmp_path, capsys):
    root = make_course(tmp_path / "course")
    assert grade(root, A, workers=2, memory_gb=MEMORY_GB) == 0, "bad submissions must not make the grading itself fail"
    out = capsys.readouterr().out
    parallel = gradebook_content(root)
    assert parallel == serial
    student_nb = nbformat.read(str(root / "course" / A / f"{NB}.ipynb"), as_version=4)
    for student, (_, expected) in submissions(student_nb, student_nb).items():
        if expected is None:
            assert f"problem: {student}:" in out, f"{student}'s submission should be reported as a problem"
        else:
            assert scores(parallel, student) == expected, student
    assert parallel[("deleted_test", NB, "ch99_sigmoid_test")][2] is True, "a deleted test cell needs a manual grade"
    assert "executed" in out and "[" in out  # the progress bar


@pytest.mark.grading
def test_an_interrupted_run_started_again_executes_nobody_twice(serial, tmp_path):
    root = make_course(tmp_path / "course")
    command = [sys.executable, "-m", "dlcourse.cli", "grade", A, "--workers", "2", "--memory-limit", str(MEMORY_GB)]
    first = subprocess.Popen(
        command, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    journal = root / WORK / A / "journal.log"
    deadline = time.time() + 300
    while time.time() < deadline and (not journal.exists() or len(journal.read_text().splitlines()) < 2):
        time.sleep(0.5)
    os.killpg(first.pid, signal.SIGKILL)  # the grading process and everything it started
    first.wait()
    done_before = journal.read_text().splitlines()
    assert 2 <= len(done_before) < 8, "the run should have been interrupted halfway"
    second = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stdout + second.stderr
    executions = [line.split("\t")[0] for line in journal.read_text().splitlines()]
    assert len(executions) == len(set(executions)), f"executed twice: {executions}"
    assert gradebook_content(root) == serial
    shutil.rmtree(root / WORK)
