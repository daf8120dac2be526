"""How long every solution notebook takes to execute: nbclient, a fresh kernel per notebook, one after
another, as ``tests/test_notebooks.py`` runs them (kernel start included).

Besides the wall-clock time, the CPU time the kernel used (user + system, from the operating system's
accounting of finished child processes): on a machine shared with others the wall-clock time grows
with the load, the CPU time much less, so it tells what the notebook costs on a quiet machine.
"""

from __future__ import annotations

import datetime
import resource
import time

from nbclient import NotebookClient

from tests.course import SOLUTIONS, notebooks, read

NOTEBOOK_SECONDS, COURSE_SECONDS = 60.0, 300.0  # the targets: each notebook, the whole course (2 cores)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cell_seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    try:
        start = datetime.datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 0.0
    return (end - start).total_seconds()


def execute(assignment: str, notebook: str) -> dict:
    """Execute one solution notebook in a fresh kernel: wall and CPU seconds, and its slowest cell."""
    path = SOLUTIONS / assignment / f"{notebook}.ipynb"
    nb = read(path)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    cpu, start = _children_cpu(), time.perf_counter()
    client.execute()  # starts the kernel, runs every cell, shuts the kernel down (its CPU time is then counted)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
    slowest = max((c for c in nb.cells if c.cell_type == "code"), key=_cell_seconds)
    return {
        "notebook": f"{assignment}/{notebook}",
        "seconds": seconds,
        "cpu_seconds": cpu,
        "slowest_cell": slowest.get("id", "?"),
        "slowest_cell_seconds": _cell_seconds(slowest),
        "meets_target": seconds < NOTEBOOK_SECONDS,
    }


def time_notebooks(only: list[str] | None = None, echo=print) -> list[dict]:
    """The results of :func:`execute` for every solution notebook (or those whose assignment or
    assignment/notebook is in ``only``)."""
    results = []
    for assignment, notebook in notebooks():
        if only is not None and assignment not in only and f"{assignment}/{notebook}" not in only:
            continue
        result = execute(assignment, notebook)
        echo(
            f"  {result['notebook']}: {result['seconds']:.1f} s (CPU {result['cpu_seconds']:.1f} s; slowest cell "
            f"{result['slowest_cell']}: {result['slowest_cell_seconds']:.1f} s)"
        )
        results.append(result)
    return results
