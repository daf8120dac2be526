"""What the watch costs: each solution notebook's graded test cells timed with and without it.

The notebook's cells run in this process (demo cells skipped, as when grading); every graded test
cell then runs ``repeats`` times with the watch and ``repeats`` times with a watch that does
nothing, alternating, and the fastest of each is kept. The issue's goal: at most 1.5x per cell.

    python -m benchmarks.watch_overhead [NOTEBOOK ...]
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import nbformat  # noqa: E402

from benchmarks.no_watch import NoWatch, use_watch  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _is_demo(cell) -> bool:
    return "demo" in cell.metadata.get("tags", []) and not cell.metadata.get("nbgrader")


def time_notebook(path: Path, repeats: int = 3) -> list[tuple[str, float, float]]:
    """(grade id, seconds with the watch, seconds without) for every graded test cell of ``path``."""
    from dlcourse.watch import Watch

    nb = nbformat.read(str(path), as_version=4)
    namespace: dict = {"__name__": "__main__"}
    rows, failures = [], []
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        for cell in nb.cells:
            if cell.cell_type != "code" or _is_demo(cell):
                continue
            code = compile(cell.source, f"<cell {cell.id}>", "exec")
            if not cell.metadata.get("nbgrader", {}).get("grade"):
                with contextlib.redirect_stdout(None):
                    exec(code, namespace)
                continue
            best = {True: float("inf"), False: float("inf")}
            for _ in range(repeats):
                for watched in (True, False):
                    use_watch(Watch if watched else NoWatch)
                    start = time.perf_counter()
                    with contextlib.redirect_stdout(None):
                        try:
                            exec(code, namespace)
                        except AssertionError as error:  # a failing cell is timed too, and reported
                            failures.append(f"{cell.id}: {str(error)[:120]}")
                    best[watched] = min(best[watched], time.perf_counter() - start)
            rows.append((cell.metadata["nbgrader"]["grade_id"], best[True], best[False]))
    finally:
        use_watch(Watch)
        os.chdir(cwd)
    for failure in sorted(set(failures)):
        print(f"  (failed: {failure})", file=sys.stderr)
    return rows


def main(argv: list[str]) -> None:
    paths = [Path(a) for a in argv] or sorted((ROOT / "solutions").glob("*/*.ipynb"))
    print("| notebook | graded cells | with the watch (s) | without (s) | ratio | largest cell ratio |")
    print("|---|---|---|---|---|---|")
    for path in paths:
        rows = time_notebook(path)
        watched, plain = sum(r[1] for r in rows), sum(r[2] for r in rows)
        worst = max(rows, key=lambda r: r[1] / r[2])
        print(
            f"| {path.parent.name}/{path.stem} | {len(rows)} | {watched:.3f} | {plain:.3f} | {watched / plain:.2f}x "
            f"| {worst[1] / worst[2]:.2f}x ({worst[0]}) |"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
