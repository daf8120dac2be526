"""The course's benchmarks in one command.

    python -m benchmarks                 # everything (about 20 minutes on 2 busy cores); prints the tables
    python -m benchmarks --quick         # tiny sizes, 2 repeats, one notebook, no grading (about a minute)
    python -m benchmarks --markdown benchmarks/RESULTS.md --json results.json

1. NumPy against PyTorch: the course's vectorised NumPy solutions (``dlcourse.solved``) and PyTorch on
   the same float32 inputs, timed with ``timeit`` one call at a time, NumPy and PyTorch alternating
   so that a busy machine slows both alike; medians, their ratio NumPy / PyTorch-CPU, and a check
   that both sides computed the same numbers. PyTorch on CUDA too when there is a GPU.
2. The course's run time: every solution notebook in a fresh kernel, and their sum.
3. Grading throughput: seconds per submission, serial ``nbgrader autograde`` and ``dlcourse grade --workers N``.
4. Sealed grading: seconds per submission with the sandbox and the watch, against neither
   (``benchmarks.sealed_grading``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import statistics
import sys
import timeit
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python benchmarks/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import torch

from benchmarks import kernels as kernel_benchmarks

RERUN = "python -m benchmarks --markdown benchmarks/RESULTS.md"
QUICK_NOTEBOOK = "ch04_losses"  # the solution notebook that needs the least CPU time


# --- settings --------------------------------------------------------------------------------------


def pin_threads(threads: int) -> str:
    """Give PyTorch and NumPy's BLAS ``threads`` threads each; say what was set."""
    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return f"PyTorch {threads} thread(s); NumPy's BLAS its default (threadpoolctl is not installed)"
    threadpool_limits(limits=threads)
    blas = ", ".join(
        f"{p['internal_api']} {p['version'] or ''}: {p['num_threads']}".replace(" :", ":") for p in threadpool_info()
    )
    return f"PyTorch {torch.get_num_threads()} thread(s); NumPy's thread pools ({blas})"


def like_for_like_float32() -> None:
    """No TF32 on GPUs: float32 against float32."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "platform": platform.platform(),
        "date": datetime.datetime.now().isoformat(timespec="minutes"),
    }


def load_average() -> list[float] | None:
    try:
        return [round(x, 1) for x in os.getloadavg()]
    except OSError:
        return None


# --- 1. NumPy against PyTorch ------------------------------------------------------------------------


def largest_difference(ours: dict, theirs: dict) -> float:
    """max over outputs of max |ours - theirs| / max |theirs|: 0 when both sides computed the same numbers."""
    if set(ours) != set(theirs):
        return math.inf
    worst = 0.0
    for name in ours:
        a, b = np.asarray(ours[name], dtype=np.float64), np.asarray(theirs[name], dtype=np.float64)
        if a.shape != b.shape or not (np.isfinite(a).all() and np.isfinite(b).all()):
            return math.inf
        worst = max(worst, float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30)) if a.size else 0.0)
    return worst


def _timed(run, sync=None) -> float:
    def once():
        run()
        if sync:
            sync()

    return timeit.timeit(once, number=1)


def benchmark_kernel(kernel: kernel_benchmarks.Kernel, repeats: int, echo=print) -> dict:
    """Time one kernel: NumPy and PyTorch-CPU alternating, then PyTorch-CUDA when there is a GPU."""
    run_numpy, run_cpu = kernel.numpy_runner(), kernel.torch_runner(torch.device("cpu"))
    ours = kernel_benchmarks.as_arrays(run_numpy())  # the first calls: outputs to compare, caches warm
    theirs = kernel_benchmarks.as_arrays(run_cpu())
    numpy_s, cpu_s = [], []
    for _ in range(repeats):
        numpy_s.append(_timed(run_numpy))
        cpu_s.append(_timed(run_cpu))
    result = {
        "name": kernel.name,
        "shape": kernel.shape,
        "target": kernel.target,
        "repeats": repeats,
        "numpy_s": numpy_s,
        "torch_cpu_s": cpu_s,
        "numpy_median": statistics.median(numpy_s),
        "torch_cpu_median": statistics.median(cpu_s),
        "max_difference": largest_difference(ours, theirs),
        "tolerance": kernel.tolerance,
    }
    result["ratio"] = result["numpy_median"] / result["torch_cpu_median"]
    pair_ratios = sorted(n / t for n, t in zip(numpy_s, cpu_s))
    result["ratio_range"] = [pair_ratios[0], pair_ratios[-1]]
    result["same_numbers"] = result["max_difference"] <= kernel.tolerance
    result["meets_target"] = result["ratio"] <= kernel.target
    if torch.cuda.is_available():
        run_cuda = kernel.torch_runner(torch.device("cuda"))
        result["cuda_max_difference"] = largest_difference(ours, kernel_benchmarks.as_arrays(run_cuda()))
        cuda_s = [_timed(run_cuda, torch.cuda.synchronize) for _ in range(repeats)]
        result["torch_cuda_s"], result["torch_cuda_median"] = cuda_s, statistics.median(cuda_s)
    echo(
        f"  {kernel.name}: NumPy {ms(result['numpy_median'])}, PyTorch-CPU {ms(result['torch_cpu_median'])}, "
        f"ratio {result['ratio']:.2f} (target <= {kernel.target:g}), largest difference {result['max_difference']:.1e}"
    )
    return result


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


# --- tables ---------------------------------------------------------------------------------------------


def yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def kernel_table(rows: list[dict]) -> str:
    cuda = any("torch_cuda_median" in r for r in rows)
    head = [
        "benchmark",
        "inputs",
        "timed calls",
        "NumPy (median)",
        "PyTorch CPU (median)",
        "ratio NumPy / PyTorch-CPU",
        "target",
        "met",
        "same numbers (largest rel. difference)",
    ] + (["PyTorch CUDA (median)"] if cuda else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            r["name"],
            r["shape"],
            str(r["repeats"]),
            ms(r["numpy_median"]),
            ms(r["torch_cpu_median"]),
            f"**{r['ratio']:.2f}** ({r['ratio_range'][0]:.2f}-{r['ratio_range'][1]:.2f})",
            f"<= {r['target']:g}",
            yes(r["meets_target"]),
            f"{yes(r['same_numbers'])} ({r['max_difference']:.0e})",
        ]
        if cuda:
            cells.append(ms(r["torch_cuda_median"]) if "torch_cuda_median" in r else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def notebook_table(rows: list[dict]) -> str:
    from benchmarks.course_time import COURSE_SECONDS

    lines = [
        "| notebook | seconds (wall) | under 60 s | CPU seconds (kernel) | slowest cell |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['notebook']} | {r['seconds']:.1f} | {yes(r['meets_target'])} | {r['cpu_seconds']:.1f} | "
        f"`{r['slowest_cell']}` {r['slowest_cell_seconds']:.1f} s |"
        for r in rows
    ]
    total, cpu = sum(r["seconds"] for r in rows), sum(r["cpu_seconds"] for r in rows)
    lines.append(
        f"| **whole course** ({len(rows)} notebooks) | **{total:.1f}** | under 300 s: {yes(total < COURSE_SECONDS)} "
        f"| {cpu:.1f} | |"
    )
    return "\n".join(lines)


def grading_table(rows: list[dict]) -> str:
    lines = [
        "| chapter | submissions | serial `nbgrader autograde`: s per submission (total) | "
        "parallel `dlcourse grade --workers N`: s per submission (total) | speed-up | full marks (serial / parallel) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['assignment']} | {r['students']} | {r['serial_per_submission']:.1f} ({r['serial_seconds']:.0f} s) | "
            f"{r['parallel_per_submission']:.1f} ({r['parallel_seconds']:.0f} s, N = {r['workers']}) | "
            f"{r['speedup']:.2f}x | {yes(r['serial_full_marks'])} / {yes(r['parallel_full_marks'])} |"
        )
    return "\n".join(lines)


def busy(results: dict) -> bool:
    """Was the machine busy while this ran: the last minute's load average, at the start or at the end, above
    its cores? (The 5- and 15-minute averages also remember what ran before.)"""
    loads = [x[0] for x in (results.get("load_average_start"), results.get("load_average_end")) if x]
    return bool(loads) and max(loads) > results["machine"]["cores"]


def report(results: dict) -> str:
    m = results["machine"]
    parts = [
        f"Measured {m['date']} on {m['cpu']}, {m['cores']} cores"
        + (f", GPU {m['gpu']}" if m["gpu"] else ", no GPU")
        + f"; Python {m['python']}, NumPy {m['numpy']}, PyTorch {m['torch']}. "
        f"Load average {results['load_average_start']} at the start, {results['load_average_end']} at the end. "
        f"Command: `{results['command']}`.",
        f"Threads: {results['threads']}.",
    ]
    if busy(results):
        parts.append(
            f"**The machine was busy** (load average above its {m['cores']} cores): every absolute time is "
            "inflated and varies from run to run. The ratios, NumPy and PyTorch timed in the same run on the "
            "same inputs one after the other, are what to read; the CPU seconds of the notebooks say what they "
            f"cost. Measure again on a quiet machine: `{RERUN}`."
        )
    if results["kernels"]:
        parts += [
            "### NumPy from scratch against PyTorch (float32, same inputs)",
            kernel_table(results["kernels"]),
            "Medians of the timed calls per side (for the MLP, a call is one epoch from the same start), after "
            "one untimed call whose outputs are compared; NumPy and PyTorch alternate. In brackets, the smallest "
            "and largest ratio of the pairs timed one after the other.",
        ]
    if results["notebooks"]:
        parts += [
            "### Solution notebooks (nbclient, a fresh kernel each, default threads)",
            notebook_table(results["notebooks"]),
        ]
    if results["grading"]:
        parts += ["### Grading throughput", grading_table(results["grading"])]
    if results.get("sealed"):
        from benchmarks.sealed_grading import markdown as sealed_table

        parts += ["### Sealed grading: the sandbox and the watch against neither", sealed_table(results["sealed"])]
    return "\n\n".join(parts) + "\n"


# --- the command ------------------------------------------------------------------------------------------


def parse(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes, 2 repeats, one notebook, no grading (checks that it all still runs)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads for PyTorch and NumPy's BLAS (default 1: fair, and steady on a shared machine)",
    )
    parser.add_argument("--repeats", type=int, help="timed calls per side (default 7, MLP epoch 3; quick: 2)")
    parser.add_argument(
        "--kernels", default="all", help="'all', 'none' or names, comma-separated (conv2d,mlp,rnn,softmax,adam)"
    )
    parser.add_argument(
        "--notebooks",
        help=f"'all', 'none' or assignments/notebooks, comma-separated (default all; quick: {QUICK_NOTEBOOK})",
    )
    parser.add_argument(
        "--grading", help="'none' or assignments to grade, comma-separated (default ch01_networks; quick: none)"
    )
    parser.add_argument("--students", type=int, help="submissions per graded class (default 20; quick: 2)")
    parser.add_argument(
        "--sealed", help="'none' or an assignment: sealed against open grading (default ch01_networks; quick: none)"
    )
    parser.add_argument("--workers", type=int, default=2, help="parallel grading workers (default 2)")
    parser.add_argument("--json", type=Path, help="write every measurement here")
    parser.add_argument("--markdown", type=Path, help="write the tables here (e.g. benchmarks/RESULTS.md)")
    return parser.parse_args(argv)


def _choice(value: str | None, default: str) -> list[str] | None:
    value = default if value is None else value
    return None if value == "all" else [] if value == "none" else [v.strip() for v in value.split(",") if v.strip()]


def selected_kernels(quick: bool, names: list[str] | None) -> list[kernel_benchmarks.Kernel]:
    chosen = kernel_benchmarks.kernels(quick)
    if names is None:
        return chosen
    keys = {"conv2d": "conv2d", "mlp": "MLP", "rnn": "RNN", "softmax": "softmax", "adam": "Adam step"}
    unknown = set(names) - set(keys)
    if unknown:
        raise SystemExit(f"unknown kernels {sorted(unknown)}; choose from {sorted(keys)}")
    return [k for k in chosen if any(k.name.startswith(keys[n]) for n in names)]


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    os.chdir(Path(__file__).resolve().parents[1])
    results = {
        "command": "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "load_average_start": load_average(),
        "quick": args.quick,
    }
    results["threads"] = pin_threads(args.threads)
    like_for_like_float32()
    print(
        f"{results['machine']['cpu']}, {results['machine']['cores']} cores, load average {results['load_average_start']}"
    )
    print(results["threads"])

    kernels = selected_kernels(args.quick, _choice(args.kernels, "all"))
    results["kernels"] = []
    if kernels:
        print("NumPy against PyTorch (float32):")
    for kernel in kernels:
        repeats = args.repeats or (2 if args.quick else 3 if kernel.name.startswith("MLP") else 7)
        results["kernels"].append(benchmark_kernel(kernel, repeats))

    only = _choice(args.notebooks, QUICK_NOTEBOOK if args.quick else "all")
    results["notebooks"] = []
    if only != []:
        print("Solution notebooks:")
        from benchmarks.course_time import time_notebooks  # needs Jupyter: imported only when notebooks run

        results["notebooks"] = time_notebooks(only)
        results["course_seconds"] = sum(r["seconds"] for r in results["notebooks"])
        print(f"  all {len(results['notebooks'])}: {results['course_seconds']:.1f} s")

    results["grading"] = []
    for assignment in _choice(args.grading, "none" if args.quick else "ch01_networks") or []:
        print(f"Grading {assignment}:")
        students = args.students or (2 if args.quick else 20)
        from benchmarks.grading_throughput import grading_throughput  # needs nbgrader

        results["grading"].append(grading_throughput(assignment, students, args.workers))

    results["sealed"] = None
    for assignment in _choice(args.sealed, "none" if args.quick else "ch01_networks") or []:
        print(f"Sealed against open grading, {assignment}:")
        from benchmarks.sealed_grading import sealed_overhead  # needs nbgrader

        results["sealed"] = sealed_overhead(assignment, min(args.students or 6, 6))

    results["load_average_end"] = load_average()
    text = report(results)
    print("\n" + text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))
    if args.markdown:
        write_markdown(args.markdown, text)
    return 0


NOTES = "<!-- Notes: everything below this line is kept when the tables above are measured again. -->"


def write_markdown(path: Path, text: str) -> None:
    """The results page: a title, the tables, then the notes the page had below the NOTES line (kept)."""
    old = path.read_text() if path.exists() else ""
    notes = old.split(NOTES, 1)[1] if NOTES in old else "\n"
    path.write_text(
        f"# Benchmarks\n\nRerun: `{RERUN}` (quick check: `python -m benchmarks --quick`; "
        f"options: `python -m benchmarks --help`).\n\n{text}\n{NOTES}{notes}"
    )


if __name__ == "__main__":
    sys.exit(main())
