"""The ``dlcourse`` command.

    dlcourse check NOTEBOOK...    run a notebook's tests in a fresh kernel; table of points; exit 1 on failure
    dlcourse check --all          every notebook in course/
"""

from __future__ import annotations

import argparse
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
    args = parser.parse_args(argv)

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
