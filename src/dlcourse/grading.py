"""Grade a class in parallel, with the gradebook nbgrader's serial ``autograde`` would leave.

nbgrader's ``autograde`` grades one submission at a time, and its SQLite gradebook is not
safe for concurrent writers. ``dlcourse grade ASSIGNMENT --workers N`` splits the work:

1. **execute, in parallel**: each submission is autograded by nbgrader itself in a private
   copy of the course (its own copy of the gradebook), N at a time. The executed notebook is
   kept in ``.grading/<assignment>/<student>/`` — written whole, then renamed, so a run that
   is interrupted and started again executes nobody twice and loses nobody.
2. **record, one at a time**: nbgrader's ``autograde`` runs for every student against the real
   gradebook with one change: instead of executing the notebook again it takes the outputs from
   step 1 (:class:`ReuseExecution`). Every score, comment and timestamp is written by
   nbgrader's own code, in the order serial grading writes them.

Submissions nbgrader cannot grade (not a notebook, a notebook of another assignment, ...)
are reported by name at the end; the exit status is non-zero only when grading itself broke.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

WORK = ".grading"


class ReuseExecution(NbGraderPreprocessor):
    """Stands in for nbgrader's ``Execute``: copies the outputs of an execution done earlier."""

    executed_root = Unicode("", help="folder with <student>/<notebook>.ipynb executed notebooks").tag(config=True)

    def preprocess(self, nb, resources):
        ids = resources["nbgrader"]
        path = Path(self.executed_root) / ids["student"] / f"{ids['notebook']}.ipynb"
        if not path.is_file():
            raise FileNotFoundError(f"no executed notebook for {ids['student']}/{ids['notebook']} in {self.executed_root}")
        executed = nbformat.read(str(path), as_version=4)
        if [c.source for c in executed.cells] != [c.source for c in nb.cells]:
            raise ValueError(f"{path} does not match the submission it was executed from: grade it again with --force")
        for cell, done in zip(nb.cells, executed.cells):
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = done.outputs, done.execution_count
        return nb, resources


@dataclass
class Outcome:
    student: str
    ok: bool
    seconds: float
    message: str = ""


def _cause(log: str) -> str:
    """The most telling line of an nbgrader log: the last exception that is not nbgrader's summary."""
    causes = re.findall(r"^\s*((?:\w+\.)*\w*(?:Error|Exception)\b.*)$", log, re.M)
    causes = [c for c in causes if "NbGraderException" not in c]
    return (causes[-1] if causes else "nbgrader autograde failed").strip()[:300]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # nbgrader runs `alembic`
    return env


def _limit_memory(gigabytes: float):
    def apply():
        import resource
        limit = int(gigabytes * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply if gigabytes else None


def execute_one(root: Path, assignment: str, student: str, memory_gb: float) -> Outcome:
    """Step 1 for one student: nbgrader autograde in a private copy; keep the executed notebooks."""
    start = time.perf_counter()
    done = root / WORK / assignment / student
    if done.is_dir():
        return Outcome(student, True, 0.0, "already executed")
    scratch = root / WORK / assignment / f".{student}.running"
    shutil.rmtree(scratch, ignore_errors=True)
    (scratch / "submitted" / student).mkdir(parents=True)
    shutil.copy(root / "nbgrader_config.py", scratch)
    shutil.copy(root / "gradebook.db", scratch)
    shutil.copytree(root / "submitted" / student / assignment, scratch / "submitted" / student / assignment)
    command = [sys.executable, "-m", "nbgrader", "autograde", assignment, f"--student={student}", "--force"]
    for attempt in (1, 2):  # a second try only for what may pass on its own (a kernel that was slow to start)
        result = subprocess.run(command, cwd=scratch, env=_env(), capture_output=True, text=True,
                                preexec_fn=_limit_memory(memory_gb))
        if result.returncode == 0:
            break
        log = result.stdout + result.stderr
        (root / WORK / assignment / f"{student}.log").write_text(log)
        if not re.search(r"Kernel|Timeout|timed out", log):
            break
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        return Outcome(student, False, seconds, f"{_cause(log)} (log: {WORK}/{assignment}/{student}.log)")
    (scratch / "autograded" / student / assignment).rename(scratch / "executed")
    (scratch / "executed").rename(done)  # the atomic step: from here on this student counts as executed
    with open(root / WORK / assignment / "journal.log", "a") as journal:  # one line per execution, for audits
        journal.write(f"{student}\t{seconds:.2f}\n")
    shutil.rmtree(scratch, ignore_errors=True)
    return Outcome(student, True, seconds)


def record_all(root: Path, assignment: str, students: list[str]) -> dict[str, str]:
    """Step 2: nbgrader's own autograde for every student, one at a time, reusing the executions."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config, PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    merged = Config()
    merged.merge(config)
    merged.merge(Config({
        "Autograde": {"autograde_preprocessors": [
            "dlcourse.grading.ReuseExecution", "nbgrader.preprocessors.IgnorePattern",
            "nbconvert.preprocessors.ClearMetadataPreprocessor", "nbgrader.preprocessors.LimitOutput",
            "nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties",
            "nbgrader.preprocessors.CheckCellMetadata"]},
        "ReuseExecution": {"executed_root": str(root / WORK / assignment)},
    }))
    old_path = os.environ["PATH"]
    os.environ["PATH"] = _env()["PATH"]
    try:
        api = NbGraderAPI(CourseDirectory(config=merged), config=merged)
        problems = {}
        for student in students:
            result = api.autograde(assignment, student, force=True, create=True)
            if not result["success"]:
                lines = [line for line in (result.get("error") or result.get("log") or "").splitlines() if line.strip()]
                problems[student] = (lines[-1] if lines else "nbgrader could not grade it")[-300:]
        return problems
    finally:
        os.environ["PATH"] = old_path


def progress_bar(done: int, total: int, problems: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    return f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total} executed" + (f", {problems} problem(s)" if problems else "")


def grade(root: Path, assignment: str, workers: int = 2, force: bool = False, memory_gb: float = 8.0,
          echo=print) -> int:
    """Grade every submission of ``assignment`` under ``root/submitted``; return the exit status."""
    root = root.resolve()
    if not (root / "nbgrader_config.py").is_file() or not (root / "gradebook.db").is_file():
        echo(f"error: {root} needs nbgrader_config.py and a gradebook.db that knows {assignment!r} "
             f"(run `nbgrader generate_assignment {assignment}` first)")
        return 2
    students = sorted(p.parent.name for p in (root / "submitted").glob(f"*/{assignment}") if p.is_dir())
    if not students:
        echo(f"no submissions of {assignment} under {root / 'submitted'}")
        return 2
    if force:
        shutil.rmtree(root / WORK / assignment, ignore_errors=True)
    (root / WORK / assignment).mkdir(parents=True, exist_ok=True)
    echo(f"grading {len(students)} submissions of {assignment} with {workers} workers")
    start, outcomes = time.perf_counter(), []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(execute_one, root, assignment, s, memory_gb) for s in students]
        for future in as_completed(futures):
            outcomes.append(future.result())
            echo(f"\r{progress_bar(len(outcomes), len(students), sum(not o.ok for o in outcomes))}", end="", flush=True)
    echo("")
    failed = {o.student: o.message for o in outcomes if not o.ok}
    problems = record_all(root, assignment, students)
    for student, message in {**problems, **failed}.items():
        echo(f"problem: {student}: {message}")
    executed = [o for o in outcomes if o.ok and o.seconds]
    echo(f"done in {time.perf_counter() - start:.0f} s: {len(students) - len(set(problems) | set(failed))} graded, "
         f"{len(set(problems) | set(failed))} with problems"
         + (f"; {sum(o.seconds for o in executed) / len(executed):.1f} s per execution" if executed else ""))
    unexplained = set(problems) - set(failed)
    if unexplained:  # step 1 executed them, step 2 could not record them: grading itself broke
        echo(f"error: grading broke for {sorted(unexplained)}")
        return 1
    return 0
