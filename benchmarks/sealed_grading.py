"""What sealed grading costs per submission: serial ``nbgrader autograde`` of a class as the course configures
it (each kernel in its bubblewrap sandbox, every check under the watch) against the same class graded open
(no sandbox, a watch that does nothing). The issue's goal: at most 1.2x.

    python -m benchmarks.sealed_grading [--assignment ch01_networks] [--students 6] [--rounds 2]

The open runs name a bubblewrap that does not exist (``--SandboxedKernelManager.bwrap``: nbgrader then
warns once and runs the kernels unsandboxed, as on a machine without bubblewrap) and put a
``sitecustomize`` on the kernels' ``PYTHONPATH`` that makes ``check`` use a watch that does nothing (it
reaches only the unsandboxed kernels: the sandbox passes no ``PYTHONPATH``). Sealed and open runs
alternate, each on a fresh copy of the class, so that a change in the machine's load touches both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.grading_throughput import TreeCPU, full_marks, make_class
from tests.course import nbgrader

ROOT = Path(__file__).resolve().parents[1]
NO_SANDBOX = "--SandboxedKernelManager.bwrap=/nonexistent/bwrap"
SITECUSTOMIZE = f"""# written by benchmarks.sealed_grading: in a grading kernel, check() runs without the watch
import sys
if any("ipykernel" in part for part in getattr(sys, "orig_argv", [])):
    sys.path.insert(0, {str(ROOT)!r})
    from benchmarks.no_watch import NoWatch, use_watch  # light: dlcourse.checking, as the setup cell imports it

    use_watch(NoWatch)
"""


def grade_once(folder: Path, assignment: str, students: int, sealed: bool) -> dict:
    """Grade a fresh class serially; seconds and CPU seconds per submission."""
    root = make_class(folder, assignment, students)
    env = {}
    args = ["autograde", assignment]
    if not sealed:
        site = folder / "open-site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
        args.append(NO_SANDBOX)
    with TreeCPU() as cpu:
        start = time.perf_counter()
        nbgrader(*args, cwd=root, extra_env=env)
        seconds = time.perf_counter() - start
    return {
        "sealed": sealed,
        "per_submission": seconds / students,
        "cpu_per_submission": cpu.seconds / students,
        "full_marks": full_marks(root, assignment),
    }


def sealed_overhead(assignment: str = "ch01_networks", students: int = 6, rounds: int = 2, echo=print) -> dict:
    runs = []
    with tempfile.TemporaryDirectory(prefix="dlcourse-sealed-") as tmp:
        for k in range(rounds):
            for sealed in (True, False) if k % 2 == 0 else (False, True):
                run = grade_once(Path(tmp) / f"{k}-{'sealed' if sealed else 'open'}", assignment, students, sealed)
                runs.append(run)
                echo(
                    f"  {'sealed' if sealed else 'open  '}: {run['per_submission']:.2f} s per submission "
                    f"({run['cpu_per_submission']:.2f} CPU s){'' if run['full_marks'] else ' (NOT all full marks!)'}"
                )
    result = {"assignment": assignment, "students": students, "rounds": rounds, "runs": runs}
    for key in ("per_submission", "cpu_per_submission"):
        sealed = statistics.median(r[key] for r in runs if r["sealed"])
        unsealed = statistics.median(r[key] for r in runs if not r["sealed"])
        result[f"sealed_{key}"], result[f"open_{key}"], result[f"ratio_{key}"] = sealed, unsealed, sealed / unsealed
    result["full_marks"] = all(r["full_marks"] for r in runs)
    return result


def markdown(r: dict) -> str:
    return (
        f"| grading of {r['assignment']} ({r['students']} submissions, {r['rounds']} rounds, medians) | sealed "
        "(sandbox + watch) | open (neither) | ratio (goal <= 1.2x) | full marks |\n|---|---|---|---|---|\n"
        f"| seconds per submission | {r['sealed_per_submission']:.2f} | {r['open_per_submission']:.2f} | "
        f"{r['ratio_per_submission']:.2f}x | {'yes' if r['full_marks'] else 'NO'} |\n"
        f"| CPU seconds per submission | {r['sealed_cpu_per_submission']:.2f} | {r['open_cpu_per_submission']:.2f} | "
        f"{r['ratio_cpu_per_submission']:.2f}x | |\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sealed_grading", description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="ch01_networks")
    parser.add_argument("--students", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    print(markdown(sealed_overhead(args.assignment, args.students, args.rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
