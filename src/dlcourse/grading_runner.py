"""Run ``nbgrader`` commands without paying for Python and nbgrader's imports each time.

A grading task runs ``nbgrader autograde`` in a process of its own (a crash, a memory limit or a
killed worker never touches anything else), but starting ``python -m nbgrader`` costs about 2 CPU
seconds of imports, as much as executing a small notebook. :class:`Runner` keeps one server process
per worker thread that has imported nbgrader once and forks a child per command: the child changes
to the command's folder, sets its limits, sends its output to a log, and runs nbgrader's own command
line (``NbGraderApp.launch_instance(argv)``), exactly as ``python -m nbgrader ARGS`` run there would
(same configuration files, same preprocessors). Where forking is not possible, :func:`run_nbgrader`
starts ``python -m nbgrader`` as before.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import threading
from pathlib import Path

_local = threading.local()
try:  # resolved here: a preexec_fn must not import (a forked child of a threaded process could deadlock)
    _prctl = ctypes.CDLL(None).prctl
except (OSError, AttributeError):  # not Linux
    _prctl = None


def child_setup(gigabytes: float) -> None:
    """In a grading process: an address-space limit, and death with the process that started it."""
    if gigabytes:
        limit = int(gigabytes * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if _prctl is not None:  # a worker killed mid-task takes its nbgrader along (else it would grade on, orphaned)
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def nbgrader_env() -> dict[str, str]:
    """This environment with its ``bin/`` first on PATH (nbgrader calls ``alembic`` by name), for a child only."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}


def _serve() -> None:
    """The server: one JSON request per line on stdin, one JSON reply per line on stdout."""
    from nbgrader.apps.nbgraderapp import NbGraderApp  # the imports every command shares, paid once

    replies = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child: one nbgrader command, as `python -m nbgrader ARGS` in request["cwd"]
            code = 1
            try:
                log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.chdir(request["cwd"])
                child_setup(request["memory_gb"])
                sys.argv = ["nbgrader", *request["argv"]]
                NbGraderApp.launch_instance(argv=request["argv"])
                code = 0
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            except BaseException:  # noqa: BLE001 (reported in the log, as python -m nbgrader would)
                import traceback

                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")
        replies.flush()


class Runner:
    """A server process (see :func:`_serve`) for the current thread; started on first use, restarted if it died."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from dlcourse.grading_runner import _serve; _serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=nbgrader_env(),
            preexec_fn=lambda: child_setup(0),  # noqa: PLW1509 (child_setup imports nothing)
        )

    def run(self, argv: list[str], cwd: Path, memory_gb: float) -> tuple[int, str]:
        log = Path(cwd) / ".nbgrader-run.log"
        self.process.stdin.write(
            json.dumps({"argv": argv, "cwd": str(cwd), "memory_gb": memory_gb, "log": str(log)}) + "\n"
        )
        self.process.stdin.flush()
        reply = self.process.stdout.readline()
        if not reply:
            raise ConnectionError("the nbgrader server process died")
        return json.loads(reply)["returncode"], log.read_text() if log.exists() else ""


def run_nbgrader(argv: list[str], cwd: Path, memory_gb: float) -> tuple[int, str]:
    """``python -m nbgrader ARGV`` in ``cwd`` under a memory limit: (exit status, its output)."""
    if hasattr(os, "fork") and os.environ.get("DLCOURSE_GRADING_FORK", "1") != "0":
        for _ in (1, 2):  # a server that died (its thread ended, it was killed) is started again once
            runner = getattr(_local, "runner", None)
            if runner is None or runner.process.poll() is not None:
                runner = _local.runner = Runner()
            try:
                return runner.run(argv, cwd, memory_gb)
            except (ConnectionError, BrokenPipeError):
                _local.runner = None
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *argv],
        cwd=cwd,
        env=nbgrader_env(),
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=lambda: child_setup(memory_gb),
    )
    return result.returncode, result.stdout + result.stderr
