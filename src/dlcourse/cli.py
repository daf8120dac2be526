"""The ``dlcourse`` command.

    dlcourse check NOTEBOOK...    run a notebook's tests in a fresh kernel; table of points; exit 1 on failure
    dlcourse check --all          every notebook in course/
    dlcourse grade ASSIGNMENT     autograde every submission with N workers (run in the course folder)
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
    raise SystemExit("dlcourse check --all: run it inside the course's folder (the one with course/ and nbgrader_config.py)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlcourse", description="Deep learning from scratch: course tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="run notebooks' tests in a fresh kernel and show your points")
    check.add_argument("notebooks", nargs="*", type=Path)
    check.add_argument("--all", action="store_true", help="every notebook in course/")
    check.add_argument("--timeout", type=int, default=120, help="seconds a cell may run (default 120)")
    grade = sub.add_parser("grade", help="autograde a class's submissions in parallel (instructors)")
    grade.add_argument("assignment")
    grade.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes at once (default: CPU count)")
    grade.add_argument("--force", action="store_true", help="execute every submission again")
    grade.add_argument("--memory-limit", type=float, default=8.0, metavar="GB",
                       help="address-space limit of each grading process and its kernel (0: none; default 8)")
    copies = sub.add_parser("copies", help="list near-copied answers for review; changes no score (instructors)")
    copies.add_argument("assignment")
    copies.add_argument("--threshold", type=float, default=0.8, help="similarity from which a pair is listed (0.8)")
    args = parser.parse_args(argv)

    if args.command == "copies":
        from .copies import report_copies
        print(report_copies(Path.cwd(), args.assignment, args.threshold))
        return 0

    if args.command == "grade":
        from .grading import grade as grade_class
        status = grade_class(Path.cwd(), args.assignment, args.workers, args.force, args.memory_limit)
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
