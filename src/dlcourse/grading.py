"""Grade a class on a Dask cluster, with the gradebook nbgrader's serial ``autograde`` would leave.

nbgrader's ``autograde`` grades one submission at a time, and its SQLite gradebook is not safe for
concurrent writers. ``dlcourse grade ASSIGNMENT`` splits the work:

1. **execute, as Dask tasks** (one per submission): by default on an embedded ``LocalCluster``
   (one worker process per core, one thread each: nothing to install or start), or with
   ``--scheduler tcp://HOST:8786`` on an existing cluster. A task runs ``nbgrader autograde`` itself
   (nbgrader's command line in a process of its own, forked from one that imported nbgrader once:
   :mod:`dlcourse.grading_runner`), with the course's ``nbgrader_config.py`` (its Execute settings,
   demo skipping, sandbox), in a private copy of the course in the worker's temporary folder, then
   publishes the executed notebooks in ``.grading/<assignment>/<student>/`` with one atomic rename.
   A task depends on nothing of the client but the course root's path (workers on other machines
   mount the same course folder), and is idempotent: a task whose worker died is run again by Dask, and only the first finished run of a
   submission is published; an interrupted ``dlcourse grade`` started again executes nobody twice.
2. **record, one at a time, on the client**, each student as soon as their task ends (while the
   cluster executes the others): nbgrader's ``autograde`` against the real gradebook, with the
   course's own preprocessor list in which the executing preprocessor is replaced by
   :class:`ReuseExecution` (the outputs of step 1). Every score and comment is written by nbgrader's
   own code, one student at a time, as serial grading writes them.

Submissions nbgrader cannot grade (not a notebook, a notebook of another assignment, ...) are
reported by name at the end; the exit status is non-zero only when grading itself broke.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .grading_record import REUSE, WORK, Recorder, ReuseExecution, record_all, recording_preprocessors
from .grading_runner import child_setup, run_nbgrader

__all__ = [
    "REUSE",
    "WORK",
    "Outcome",
    "Recorder",
    "ReuseExecution",
    "execute_one",
    "grade",
    "record_all",
    "recording_preprocessors",
]


@dataclass
class Outcome:
    student: str
    ok: bool
    seconds: float
    message: str = ""
    broke: bool = False  # grading itself broke (not the submission's fault)


def _cause(log: str) -> str:
    """The most telling line of an nbgrader log: the last exception that is not nbgrader's summary."""
    causes = re.findall(r"^\s*((?:\w+\.)*\w*(?:Error|Exception)\b.*)$", log, re.MULTILINE)
    causes = [c for c in causes if "NbGraderException" not in c]
    return (causes[-1] if causes else "nbgrader autograde failed").strip()[:300]


def _limit_memory(gigabytes: float):
    """A ``preexec_fn`` that limits a process's address space (None: no limit)."""
    return (lambda: child_setup(gigabytes)) if gigabytes else None


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def execute_one(root: str, assignment: str, student: str, memory_gb: float = 8.0) -> Outcome:
    """Step 1 for one student, as a Dask task: nbgrader autograde in a private copy; publish the executed notebooks."""
    course, start = Path(root), time.perf_counter()
    work = course / WORK / assignment
    done = work / student
    if done.is_dir():
        return Outcome(student, True, 0.0, "already executed")
    if not (course / "nbgrader_config.py").is_file():
        raise FileNotFoundError(f"worker {_worker_name()} does not see the course at {course}: mount it there")
    with tempfile.TemporaryDirectory(prefix=f"dlcourse-grade-{student}-") as tmp:
        scratch = Path(tmp)
        shutil.copy(course / "nbgrader_config.py", scratch)
        shutil.copy(course / "gradebook.db", scratch)
        shutil.copytree(course / "submitted" / student / assignment, scratch / "submitted" / student / assignment)
        for _attempt in (1, 2):  # a second try only for what may pass on its own (a kernel slow to start)
            returncode, log = run_nbgrader(
                ["autograde", assignment, f"--student={student}", "--force"], scratch, memory_gb
            )
            if returncode == 0:
                break
            (work / f"{student}.log").write_text(log)
            if not re.search(r"Kernel|Timeout|timed out", log):
                break
        seconds = time.perf_counter() - start
        if returncode != 0:
            return Outcome(student, False, seconds, f"{_cause(log)} (log: {WORK}/{assignment}/{student}.log)")
        partial = work / f".{student}.{uuid.uuid4().hex}.partial"
        shutil.copytree(scratch / "autograded" / student / assignment, partial)
    try:
        partial.rename(done)  # the atomic step: from here on this student counts as executed
    except OSError:  # another run of this task (Dask ran it again after losing a worker) was first
        shutil.rmtree(partial, ignore_errors=True)
        return Outcome(student, True, 0.0, "already executed")
    with open(work / "journal.log", "a") as journal:  # one line per published execution, for audits
        journal.write(f"{student}\t{seconds:.2f}\t{_worker_name()}\n")
    return Outcome(student, True, seconds)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return (
        f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"
    )


def progress_bar(done: int, total: int, problems: int, eta: float | None = None, width: int = 30) -> str:
    filled = int(width * done / total) if total else width
    bar = f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total} executed"
    if eta is not None and done < total:
        bar += f", ETA {_duration(eta)}"
    return bar + (f", {problems} problem(s)" if problems else "")


def execute_on_dask(
    root: Path,
    assignment: str,
    students: list[str],
    scheduler: str | None,
    workers: int,
    memory_gb: float,
    echo=print,
    then=None,
) -> list[Outcome]:
    """Step 1: one task per student on the cluster at ``scheduler`` (or an embedded LocalCluster); ``then(outcome)``
    for each as it ends (on the client, one at a time), with a progress bar."""
    import logging

    from distributed import Client, LocalCluster, as_completed

    cluster = (
        None
        if scheduler
        else LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        )
    )
    client = Client(scheduler or cluster)
    try:
        if scheduler and not client.scheduler_info()["workers"]:
            echo(f"waiting for a worker to join {scheduler} ...")
        where = scheduler or f"an embedded cluster of {workers} worker(s)"
        echo(f"grading {len(students)} submissions of {assignment} on {where}")
        run = uuid.uuid4().hex[:8]
        futures = {
            client.submit(
                execute_one, str(root), assignment, s, memory_gb, key=f"grade-{assignment}-{s}-{run}", pure=False
            ): s
            for s in students
        }
        start, outcomes = time.perf_counter(), []
        for future in as_completed(futures):
            try:
                outcomes.append(future.result())
            except Exception as error:  # noqa: BLE001 (the task itself failed: a worker that cannot see the course, died, ...)
                outcomes.append(
                    Outcome(futures[future], False, 0.0, f"{type(error).__name__}: {error}"[:300], broke=True)
                )
            if then is not None:
                then(outcomes[-1])
            fresh = sum(o.seconds > 0 for o in outcomes)  # executed in this run (not before it)
            eta = (time.perf_counter() - start) / fresh * (len(students) - len(outcomes)) if fresh else None
            echo(
                f"\r{progress_bar(len(outcomes), len(students), sum(not o.ok for o in outcomes), eta)}",
                end="",
                flush=True,
            )
        echo("")
        return outcomes
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def grade(
    root: Path,
    assignment: str,
    workers: int = 2,
    force: bool = False,
    memory_gb: float = 8.0,
    echo=print,
    scheduler: str | None = None,
) -> int:
    """Grade every submission of ``assignment`` under ``root/submitted``; return the exit status."""
    root = root.resolve()
    if not (root / "nbgrader_config.py").is_file() or not (root / "gradebook.db").is_file():
        echo(
            f"error: {root} needs nbgrader_config.py and a gradebook.db that knows {assignment!r} "
            f"(run `nbgrader generate_assignment {assignment}` first)"
        )
        return 2
    students = sorted(p.parent.name for p in (root / "submitted").glob(f"*/{assignment}") if p.is_dir())
    if not students:
        echo(f"no submissions of {assignment} under {root / 'submitted'}")
        return 2
    if force:
        shutil.rmtree(root / WORK / assignment, ignore_errors=True)
    (root / WORK / assignment).mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    executed_before = [s for s in students if (root / WORK / assignment / s).is_dir()]
    if executed_before:
        echo(f"{len(executed_before)} of {len(students)} submissions already executed (in {WORK}/{assignment})")
    record, outcomes = Recorder(root, assignment), []
    if len(executed_before) == len(students):  # nothing to execute: only record
        for student in students:
            record(student)
    else:  # a task for every student (one executed before returns at once), each recorded as it ends
        outcomes = execute_on_dask(
            root,
            assignment,
            students,
            scheduler,
            workers,
            memory_gb,
            echo,
            then=lambda outcome: record(outcome.student),
        )
    failed, problems = {o.student: o.message for o in outcomes if not o.ok}, record.problems
    for student, message in {**problems, **failed}.items():
        echo(f"problem: {student}: {message}")
    executed = [o for o in outcomes if o.ok and o.seconds]
    bad = set(problems) | set(failed)
    echo(
        f"done in {time.perf_counter() - start:.0f} s: {len(students) - len(bad)} graded, {len(bad)} with problems"
        + (f"; {sum(o.seconds for o in executed) / len(executed):.1f} s per execution" if executed else "")
    )
    broke = sorted({o.student for o in outcomes if o.broke} | (set(problems) - set(failed)))
    if broke:  # a task that failed by itself, or an execution nbgrader could not record: grading itself broke
        echo(f"error: grading broke for {broke} (run the same command again to resume)")
        return 1
    return 0
