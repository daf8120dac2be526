"""The table at the end of each notebook: which exercises pass in this kernel, and the points they are worth.

Every check records, for the notebook cell that called it, whether it passed (a cell passes when
all its checks pass in its latest run). ``progress_table()`` reads the notebook's test cells
(their points and ids) from the notebook file, matches them to the cells that ran, and prints
one line per exercise and the total. The notebook file is the one JupyterLab opened
(``__session__`` / ``JPY_SESSION_NAME``), or the only notebook in the kernel's folder.
"""

from __future__ import annotations

import linecache
import os
from pathlib import Path

import nbformat

_CELLS: dict[str, tuple[int, bool]] = {}  # test cell source -> (its execution count, passed so far)


def _execution_count() -> int:
    try:
        from IPython import get_ipython
    except ImportError:
        return 0
    shell = get_ipython()
    return int(getattr(shell, "execution_count", 0) or 0)


def record(filename: str, passed: bool) -> None:
    """Note the verdict of a check called from the code in ``filename`` (a notebook cell)."""
    source = "".join(linecache.getlines(filename)).strip()
    if not source:
        return
    count = _execution_count()
    previous = _CELLS.get(source)
    if previous is not None and previous[0] == count:
        passed = previous[1] and passed
    _CELLS[source] = (count, passed)


def _notebook_path(path: str | os.PathLike | None) -> Path | None:
    candidates = [path, os.environ.get("JPY_SESSION_NAME")]
    for candidate in filter(None, candidates):
        candidate = Path(candidate)
        for option in (candidate, Path.cwd() / candidate.name):
            if option.suffix == ".ipynb" and option.is_file():
                return option
    found = sorted(Path.cwd().glob("*.ipynb"))
    return found[0] if len(found) == 1 else None


def progress_table(notebook: str | os.PathLike | None = None) -> None:
    """Print the exercises of this notebook: passed, failed or not run yet, with points and a total."""
    path = _notebook_path(notebook)
    if path is None:
        print("(progress: cannot tell which notebook this is; run `dlcourse progress` in a terminal instead)")
        return
    nb = nbformat.read(str(path), as_version=4)
    rows, earned, possible = [], 0.0, 0.0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        points = float(meta.get("points", 0))
        state = _CELLS.get(cell.source.strip())
        mark = "not run yet" if state is None else ("passed" if state[1] else "failed")
        earned += points if mark == "passed" else 0.0
        possible += points
        name = meta["grade_id"].removesuffix("_test")
        rows.append((name.split("_", 1)[1] if name[:2] == "ch" and name[2:4].isdigit() else name, mark, points))
    width = max([len(r[0]) for r in rows] + [8])
    lines = [f"{'exercise':<{width}}  {'result':<11}  points"]
    lines += [
        f"{name:<{width}}  {mark:<11}  {points if mark == 'passed' else 0:g}/{points:g}" for name, mark, points in rows
    ]
    lines.append(
        f"{'total':<{width}}  {sum(r[1] == 'passed' for r in rows)}/{len(rows)} passed  {earned:g}/{possible:g}"
    )
    print("\n".join(lines))  # printed, not returned: as a cell's last expression it would show twice
