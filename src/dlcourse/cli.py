"""The ``dlcourse`` command.

dlcourse lab [--instructor]   JupyterLab on the course (index.ipynb open; instructor tools only with --instructor)
dlcourse progress             your points per exercise and chapter, with a total (runs every notebook)
dlcourse check NOTEBOOK...    run a notebook's tests in a fresh kernel; table of points; exit 1 on failure
dlcourse check --all          every notebook in course/
dlcourse grade ASSIGNMENT     autograde every submission on a Dask cluster (run in the course folder)
dlcourse copies ASSIGNMENT    list submissions whose answers are near-copies (of the course's code, of each other)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _course_notebooks(start: Path) -> list[Path]:
    for folder in [start, *start.parents]:
        if (folder / "course").is_dir() and (folder / "nbgrader_config.py").is_file():
            return sorted((folder / "course").glob("*/*.ipynb"))
    raise SystemExit(
        "dlcourse check --all: run it inside the course's folder (the one with course/ and nbgrader_config.py)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlcourse", description="Deep learning from scratch: course tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    lab = sub.add_parser("lab", help="open the course in JupyterLab (learners; --instructor for nbgrader's tools)")
    lab.add_argument("--instructor", action="store_true", help="keep nbgrader's instructor tools (formgrader, ...)")
    lab.add_argument("jupyter_args", nargs=argparse.REMAINDER, help="more options for `jupyter lab`")
    progress = sub.add_parser("progress", help="your points per exercise and chapter, with a total")
    progress.add_argument("--timeout", type=int, default=120, help="seconds a cell may run (default 120)")
    check = sub.add_parser("check", help="run notebooks' tests in a fresh kernel and show your points")
    check.add_argument("notebooks", nargs="*", type=Path)
    check.add_argument("--all", action="store_true", help="every notebook in course/")
    check.add_argument("--timeout", type=int, default=120, help="seconds a cell may run (default 120)")
    grade = sub.add_parser("grade", help="autograde a class's submissions in parallel, on a Dask cluster (instructors)")
    grade.add_argument("assignment")
    grade.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes of the embedded Dask cluster (default: CPU count)",
    )
    grade.add_argument(
        "--scheduler",
        metavar="tcp://HOST:8786",
        help="an existing Dask scheduler to send the submissions to (its workers must see the course "
        "folder at the same path); --workers is then ignored",
    )
    grade.add_argument("--force", action="store_true", help="execute every submission again")
    grade.add_argument(
        "--memory-limit",
        type=float,
        default=8.0,
        metavar="GB",
        help="address-space limit of each grading process and its kernel (0: none; default 8)",
    )
    grade.add_argument(
        "--require-sandbox",
        action="store_true",
        help="refuse to grade where grading kernels cannot run in their bubblewrap sandbox",
    )
    copies = sub.add_parser("copies", help="list near-copied answers for review; changes no score (instructors)")
    copies.add_argument("assignment")
    copies.add_argument("--threshold", type=float, default=0.8, help="similarity from which a pair is listed (0.8)")
    args = parser.parse_args(argv)

    if args.command == "lab":
        from .lab import main as lab_main

        return lab_main(args.instructor, args.jupyter_args)

    if args.command == "progress":
        from .selfcheck import progress as progress_main

        return progress_main(_course_notebooks(Path.cwd()), args.timeout)

    if args.command == "copies":
        from .copies import report_copies

        print(report_copies(Path.cwd(), args.assignment, args.threshold))
        return 0

    if args.command == "grade":
        from .sandbox import problem

        if problem():  # said once here; the nbgrader processes that grade inherit the choice
            if args.require_sandbox:
                print(f"error: --require-sandbox: {problem()}; grading nobody", file=sys.stderr)
                return 2
            print(
                f"WARNING: grading kernels are NOT sandboxed ({problem()}): submissions run with your rights.",
                file=sys.stderr,
            )
        os.environ["DLCOURSE_REQUIRE_SANDBOX"] = (
            "1" if args.require_sandbox else os.environ.get("DLCOURSE_REQUIRE_SANDBOX", "")
        )
        from .grading import grade as grade_class

        status = grade_class(
            Path.cwd(), args.assignment, args.workers, args.force, args.memory_limit, scheduler=args.scheduler
        )
        from .copies import report_copies  # near-copies for the instructor to review (no score changes)

        print(report_copies(Path.cwd(), args.assignment))
        return status

    if args.command == "check":
        from .selfcheck import main as check_main

        paths = _course_notebooks(Path.cwd()) if args.all else args.notebooks
        if not paths:
            parser.error("name one or more notebooks, or use --all")
        missing = [p for p in paths if not p.is_file()]
        if missing:
            parser.error(f"no such notebook: {', '.join(map(str, missing))}")
        return check_main(paths, args.timeout)
    return 2


if __name__ == "__main__":
    sys.exit(main())
