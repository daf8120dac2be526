"""Seconds per submission when a class is graded: serially (``nbgrader autograde``) and by ``dlcourse grade``
on its embedded Dask cluster (``--workers N``), each in its own temporary copy of the course, on a class whose
every student submitted the solutions (so every cell runs, as in a good submission).

``python -m benchmarks`` calls :func:`grading_throughput` (serial against N workers). The whole study of
issue 17 is its own command (it grades a class ten times; about 15 minutes on 2 busy cores)::

    python -m benchmarks.grading_throughput [--assignment ch01_networks] [--students 6] [--markdown FILE]

- serial ``nbgrader autograde`` against the embedded cluster with 1 and 2 workers,
- each with the demo cells skipped (the course's configuration) and run (``skip_cells_with_tag`` set to a
  tag no cell has). Where a chapter's notebooks tag no demo yet, the submissions of the "skipped" runs
  get the tag on every plain code cell after the first exercise (``tests.course.without_demo_cells``'s
  rule, which the grading tests already rely on) and the report says so;
- the recording step alone (nbgrader's autograde reusing the executions, in this process: serial, on the client);
- the Dask scheduler's own cost per task (trivial tasks on the embedded cluster);
- a model of 1,000 students x 9 notebooks on N machines from those numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

if __package__ in (None, ""):  # run as a script: python benchmarks/grading_throughput.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.course import COURSE, copy_course, filled_in, graded_cells, nbgrader, read, solution_sources

DEMO = "demo"
RUN_EVERYTHING = '\nc.Execute.skip_cells_with_tag = "(benchmark: run every cell)"\n'


def tag_demo_cells(nb: nbformat.NotebookNode) -> int:
    """Tag ``demo`` every plain code cell after the first exercise (when none is tagged yet); return how many are tagged."""
    tagged = [c for c in nb.cells if DEMO in c.metadata.get("tags", [])]
    if tagged:
        return len(tagged)
    first = next((i for i, c in enumerate(nb.cells) if "nbgrader" in c.metadata), len(nb.cells))
    for cell in nb.cells[first:]:
        if cell.cell_type == "code" and "nbgrader" not in cell.metadata:
            cell.metadata.setdefault("tags", []).append(DEMO)
            tagged.append(cell)
    return len(tagged)


def make_class(root: Path, assignment: str, students: int, skip_demos: bool = True) -> Path:
    """A copy of the course with ``students`` submissions of ``assignment``, all the solutions filled in."""
    copy_course(root)
    if not skip_demos:
        with open(root / "nbgrader_config.py", "a") as config:
            config.write(RUN_EVERYTHING)
    nbgrader("generate_assignment", assignment, "--force", cwd=root)
    for path in sorted((COURSE / assignment).glob("*.ipynb")):
        submission = filled_in(read(path), solution_sources(assignment, path.stem))
        if skip_demos:
            tag_demo_cells(submission)
        for k in range(1, students + 1):
            folder = root / "submitted" / f"student{k:02d}" / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(submission, str(folder / path.name))
    return root


def full_marks(root: Path, assignment: str) -> bool:
    """Whether every student got every point (the check that the grading really ran)."""
    points = {path.stem: graded_cells(read(path)) for path in (COURSE / assignment).glob("*.ipynb")}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        submissions = gradebook.find_assignment(assignment).submissions
        got = [
            {g.name: g.score for g in nb.grades if g.max_score} == points[nb.name]
            for submission in submissions
            for nb in submission.notebooks
        ]
    return bool(got) and all(got)


def _grade_command(assignment: str, workers: int) -> list[str]:
    return [sys.executable, "-m", "dlcourse.cli", "grade", assignment, "--workers", str(workers)]


def _dlcourse_grade(root: Path, assignment: str, workers: int) -> float:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    done = subprocess.run(
        _grade_command(assignment, workers), cwd=root, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"dlcourse grade failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


class TreeCPU:
    """CPU seconds of every process this one starts meanwhile, and theirs (nbgrader, its kernels, Dask's workers).

    ``getrusage(RUSAGE_CHILDREN)`` misses kernels that no parent waits for; this samples the process tree
    every 0.2 s instead and keeps each process's last user + system time (a process that lives under 0.2 s
    is missed: there are none that matter here).
    """

    def __enter__(self):
        import threading

        self.seen, self._stop = {}, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        import psutil

        me = psutil.Process()
        while not self._stop.wait(0.2):
            for process in me.children(recursive=True):
                try:
                    times = process.cpu_times()
                    self.seen[(process.pid, process.create_time())] = times.user + times.system
                except psutil.Error:
                    pass

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.seconds = sum(self.seen.values())


def time_grading(
    tmp: Path, assignment: str, students: int, workers: int, skip_demos: bool = True, recording: bool = False
) -> dict:
    """Grade a fresh class: ``workers`` 0 is serial ``nbgrader autograde``, else ``dlcourse grade --workers``."""
    root = make_class(tmp / f"w{workers}-{'skip' if skip_demos else 'all'}", assignment, students, skip_demos)
    with TreeCPU() as cpu:
        start = time.perf_counter()
        if workers:
            seconds = _dlcourse_grade(root, assignment, workers)
        else:
            nbgrader("autograde", assignment, cwd=root)
            seconds = time.perf_counter() - start
    result = {
        "workers": workers,
        "skip_demos": skip_demos,
        "seconds": seconds,
        "per_submission": seconds / students,
        "cpu_per_submission": cpu.seconds / students,
        "full_marks": full_marks(root, assignment),
    }
    if recording:  # step 2 alone, in this process (everything is executed now): what the client does per student
        from dlcourse.grading import Recorder

        record = Recorder(root, assignment)
        start, cpu_start = time.perf_counter(), time.process_time()
        for k in range(1, students + 1):
            record(f"student{k:02d}")
        result["recording_per_submission"] = (time.perf_counter() - start) / students
        result["recording_cpu_per_submission"] = (time.process_time() - cpu_start) / students
    return result


def grading_throughput(assignment: str, students: int, workers: int = 2, echo=print) -> dict:
    """Serial and parallel grading of one class of ``assignment``: seconds in all and per submission."""
    result = {"assignment": assignment, "students": students, "workers": workers}
    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-") as tmp:
        for mode, n in (("serial", 0), ("parallel", workers)):
            timed = time_grading(Path(tmp), assignment, students, n)
            result[f"{mode}_seconds"], result[f"{mode}_per_submission"] = timed["seconds"], timed["per_submission"]
            result[f"{mode}_full_marks"] = timed["full_marks"]
            echo(
                f"  {assignment}, {mode}: {timed['seconds']:.0f} s for {students} submissions, "
                f"{timed['per_submission']:.1f} s each{'' if timed['full_marks'] else ' (NOT all full marks!)'}"
            )
    result["speedup"] = result["serial_seconds"] / result["parallel_seconds"]
    return result


def _nothing(i: int) -> int:
    return i


def scheduler_overhead(workers: int = 2, tasks: int = 400, round_trips: int = 30) -> dict:
    """The embedded cluster's own cost: trivial tasks in bulk (per task) and one at a time (round trip)."""
    import logging

    from distributed import Client, LocalCluster, wait

    start = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        ) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter() - start
        client.submit(_nothing, -1, pure=False).result()  # warm up: the function reaches every worker once
        start = time.perf_counter()
        wait(client.map(_nothing, range(tasks), pure=False))
        bulk = (time.perf_counter() - start) / tasks
        trips = []
        for i in range(round_trips):
            start = time.perf_counter()
            client.submit(_nothing, i, pure=False).result()
            trips.append(time.perf_counter() - start)
    return {
        "workers": workers,
        "cluster_start_s": started,
        "per_task_ms": 1000 * bulk,
        "round_trip_ms": 1000 * statistics.median(trips),
    }


def model(
    per_notebook_s: float,
    recording_s: float,
    overhead_ms: float,
    students: int = 1000,
    notebooks: int = 9,
    cores_per_machine: int = 2,
    machines=(1, 2, 5, 10, 50),
) -> list[dict]:
    """Hours to grade ``students`` x ``notebooks`` on N machines: executions spread over every core (one task
    per submission, the scheduler's cost per task added); the serial recording on the client runs meanwhile
    (each student as their task ends), so the slower of the two sets the total."""
    executions = students * notebooks
    rows = []
    for n in machines:
        execute = executions * (per_notebook_s + overhead_ms / 1000) / (n * cores_per_machine)
        record = executions * recording_s
        rows.append(
            {
                "machines": n,
                "cores": n * cores_per_machine,
                "execute_h": execute / 3600,
                "record_h": record / 3600,
                "total_h": max(execute, record) / 3600,
            }
        )
    return rows


def study(assignment: str, students: int, echo=print) -> dict:
    results = {
        "assignment": assignment,
        "students": students,
        "load_start": [round(x, 1) for x in os.getloadavg()],
        "cores": os.cpu_count(),
        "runs": [],
    }
    sample = filled_in(read(next((COURSE / assignment).glob("*.ipynb"))), {})
    results["demo_cells_in_course"] = sum(DEMO in c.metadata.get("tags", []) for c in sample.cells)
    results["demo_cells_tagged"] = tag_demo_cells(sample)
    with tempfile.TemporaryDirectory(prefix="dlcourse-bench-") as tmp:
        for skip in (False, True):
            for workers in (0, 1, 2):
                run = time_grading(Path(tmp), assignment, students, workers, skip, recording=(workers == 2 and skip))
                results["runs"].append(run)
                echo(
                    f"  {'serial autograde' if not workers else f'dlcourse grade, {workers} worker(s)'}, demos "
                    f"{'skipped' if skip else 'run'}: {run['per_submission']:.1f} s per submission "
                    f"({run['cpu_per_submission']:.1f} CPU s)"
                    f"{'' if run['full_marks'] else ' (NOT all full marks!)'}"
                )
    results["overhead"] = scheduler_overhead(2)
    echo(
        f"  scheduler: {results['overhead']['per_task_ms']:.1f} ms per trivial task, "
        f"round trip {results['overhead']['round_trip_ms']:.1f} ms"
    )
    results["load_end"] = [round(x, 1) for x in os.getloadavg()]
    return results


def markdown(r: dict) -> str:
    def cell(x):
        return f"{x['per_submission']:.1f} s ({x['cpu_per_submission']:.1f} CPU s)"

    def run(workers, skip):
        return next(x for x in r["runs"] if x["workers"] == workers and x["skip_demos"] == skip)

    lines = [
        (
            f"Grading {r['students']} submissions of {r['assignment']} (solutions filled in), {r['cores']} cores, "
            f"load average {r['load_start']} at the start, {r['load_end']} at the end."
        ),
        "",
        (
            "| demo cells | serial `nbgrader autograde` | `dlcourse grade`, 1 worker | `dlcourse grade`, 2 workers "
            "| 2 workers vs serial | full marks |"
        ),
        "|---|---|---|---|---|---|",
    ]
    for skip in (False, True):
        s, one, two = run(0, skip), run(1, skip), run(2, skip)
        lines.append(
            f"| {'skipped' if skip else 'run'} | {cell(s)} | {cell(one)} | {cell(two)} | "
            f"{s['seconds'] / two['seconds']:.2f}x | "
            f"{'yes' if all(x['full_marks'] for x in (s, one, two)) else 'NO'} |"
        )
    tagged = (
        "tagged in the course"
        if r["demo_cells_in_course"]
        else "not tagged in the course yet: tagged for this run by the rule 'plain code cells after the first exercise'"
    )
    o, rec = r["overhead"], run(2, True)["recording_per_submission"]
    lines += [
        "",
        (
            f"Demo cells: {r['demo_cells_tagged']} in the notebook, {tagged}. Seconds per submission are "
            "wall-clock seconds of the whole command divided by the submissions (cluster start and the serial "
            "recording included); in brackets the CPU seconds of every process it started (nbgrader, kernels, Dask), "
            f"which a busy machine inflates far less. Recording alone (step 2, on the client): {rec:.2f} s "
            f"({run(2, True)['recording_cpu_per_submission']:.2f} CPU s) per submission. "
            f"Scheduler: {o['per_task_ms']:.1f} ms per trivial task in bulk, {o['round_trip_ms']:.1f} ms round trip "
            f"for one, {o['cluster_start_s']:.1f} s to start a 2-worker embedded cluster."
        ),
        "",
    ]
    per_notebook = run(0, True)["cpu_per_submission"]  # on a core of its own, CPU seconds are wall-clock seconds
    lines += [
        (
            f"Model: 1,000 students x 9 notebooks, {per_notebook:.1f} s per notebook execution (chapter 1's serial "
            f"CPU seconds with demos skipped; chapter 1 is the slowest notebook), {o['per_task_ms']:.1f} ms scheduler cost per "
            f"task, {rec:.2f} s serial recording per submission, 2 cores per machine:"
        ),
        "",
        "| machines | cores | executing | recording (serial) | total |",
        "|---|---|---|---|---|",
    ]
    for m in model(per_notebook, rec, o["per_task_ms"]):
        lines.append(
            f"| {m['machines']} | {m['cores']} | {m['execute_h']:.2f} h | {m['record_h']:.2f} h | {m['total_h']:.2f} h |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.grading_throughput", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--assignment", default="ch01_networks")
    parser.add_argument("--students", type=int, default=6)
    parser.add_argument("--markdown", type=Path, help="write the tables here")
    args = parser.parse_args(argv)
    os.chdir(Path(__file__).resolve().parents[1])
    text = markdown(study(args.assignment, args.students))
    print("\n" + text)
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
