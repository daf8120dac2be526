"""The benchmark command keeps working (its quick mode runs here), and what it reports is real: every
timing a finite positive number, and NumPy and PyTorch computing the same numbers on its inputs."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from benchmarks import kernels
from benchmarks.grading_throughput import grading_throughput
from benchmarks.run import NOTES, largest_difference, write_markdown
from tests.course import ROOT

KERNELS = {"conv2d fwd+bwd", "MLP epoch (Adam)", "RNN fwd+bwd", "softmax CE fwd+bwd", "Adam step"}


def positive(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    folder = tmp_path_factory.mktemp("benchmarks")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--json",
            str(folder / "results.json"),
            "--markdown",
            str(folder / "RESULTS.md"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((folder / "results.json").read_text()), (folder / "RESULTS.md").read_text()


@pytest.mark.notebooks
@pytest.mark.xdist_group("quick-benchmarks")  # one run of the quick mode for both tests
def test_every_kernel_is_timed_on_both_sides_and_both_compute_the_same_numbers(quick):
    results, _ = quick
    assert {k["name"] for k in results["kernels"]} == KERNELS
    for k in results["kernels"]:
        assert len(k["numpy_s"]) == len(k["torch_cpu_s"]) == k["repeats"] >= 1, k["name"]
        assert all(positive(t) for t in k["numpy_s"] + k["torch_cpu_s"]), k["name"]
        assert positive(k["numpy_median"]) and positive(k["torch_cpu_median"]) and positive(k["ratio"]), k["name"]
        assert k["ratio"] == pytest.approx(k["numpy_median"] / k["torch_cpu_median"])
        assert k["same_numbers"] and 0 <= k["max_difference"] <= k["tolerance"], (k["name"], k["max_difference"])
    assert "PyTorch 1 thread" in results["threads"]


@pytest.mark.notebooks
@pytest.mark.xdist_group("quick-benchmarks")
def test_a_notebook_is_timed_and_the_report_has_every_table(quick):
    results, markdown = quick
    (notebook,) = results["notebooks"]
    assert notebook["notebook"] == "ch04_losses/losses"
    assert positive(notebook["seconds"]) and positive(notebook["cpu_seconds"]) and notebook["slowest_cell"]
    assert results["grading"] == []  # the quick mode grades nobody: the test below does
    for heading in ("NumPy from scratch against PyTorch", "Solution notebooks", "whole course", "conv2d fwd+bwd"):
        assert heading in markdown


def test_the_comparison_catches_a_wrong_gradient():
    kernel = kernels.conv2d(n=2, size=6, filters=3)
    ours = kernels.as_arrays(kernel.numpy_runner()())
    theirs = kernels.as_arrays(kernel.torch_runner(torch.device("cpu"))())
    assert largest_difference(ours, theirs) <= kernel.tolerance
    assert largest_difference({**ours, "dw": 2 * ours["dw"]}, theirs) > 0.1
    assert largest_difference({**ours, "dx": ours["dx"][:1]}, theirs) == math.inf  # wrong shape
    assert largest_difference({**ours, "db": np.full_like(ours["db"], np.nan)}, theirs) == math.inf
    assert largest_difference({"out": ours["out"]}, theirs) == math.inf  # an output missing


@pytest.mark.grading
def test_grading_throughput_grades_a_class_serially_and_in_parallel():
    result = grading_throughput("ch01_networks", students=1, workers=2, echo=lambda *_: None)
    assert result["serial_full_marks"] and result["parallel_full_marks"]
    assert all(
        positive(result[key])
        for key in ("serial_seconds", "parallel_seconds", "serial_per_submission", "parallel_per_submission", "speedup")
    )


def test_measuring_again_keeps_the_notes_of_the_results_page(tmp_path):
    page = tmp_path / "RESULTS.md"
    write_markdown(page, "| old table |\n")
    page.write_text(page.read_text() + "\nWhat made the difference: in-place softmax.\n")
    write_markdown(page, "| new table |\n")
    text = page.read_text()
    assert "| new table |" in text and "| old table |" not in text
    assert text.index(NOTES) < text.index("What made the difference: in-place softmax.")


# --- benchmarks.gpu: what a GPU changes (run on a machine with one) -----------------------------------


def test_the_gpu_benchmark_refuses_without_a_gpu(monkeypatch, capsys):
    from benchmarks import gpu

    monkeypatch.setattr(gpu, "get_device", lambda: torch.device("cpu"))
    assert gpu.main([]) == 2
    assert "needs a GPU" in capsys.readouterr().err


def test_the_gpu_benchmarks_bigger_run_scores_text_it_never_saw():
    import dataclasses

    from benchmarks import gpu
    from dlcourse import data

    text = data.load_text()
    vocab = data.CharVocab(text)
    stream = vocab.encode(text)
    tiny = dataclasses.replace(gpu.BIGGER, d_model=16, n_heads=2, d_ff=32, context=32, batch=4, steps=3)
    result = gpu.bigger_run(stream, len(vocab), vocab, tiny)
    assert result["train_characters"] + result["held_out_characters"] == len(stream)
    assert result["sample"].startswith("It is a truth") and len(result["sample"]) == len("It is a truth") + 160
    # three steps from a random start: the held-out loss is near the uniform guess, and finite
    assert abs(result["held_out_loss"] - math.log(len(vocab))) < 1.0


# --- benchmarks.sealed_grading: the open runs really grade without the watch -----------------------------


def test_the_open_grading_kernels_check_without_the_watch_and_nothing_else_does(tmp_path):
    from benchmarks.sealed_grading import SITECUSTOMIZE

    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    cheat = (
        "import numpy as np, dlcourse.solved.networks as s\n"
        "from dlcourse.checking import check\nfrom dlcourse.reference import networks as ref\n"
        "ns = {}\nexec(compile('def sigmoid(x):\\n    return s.sigmoid(x)', '<learner cell>', 'exec'), {'s': s}, ns)\n"
        "try:\n    check(ns['sigmoid'], ref.sigmoid, [np.array([0.0, 1.0])], quiet=True)\n    print('passed')\n"
        "except AssertionError:\n    print('caught')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}

    def run(*argv):
        return subprocess.run(
            [sys.executable, "-c", cheat, *argv], env=env, capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout.split()[-1]

    assert run("ipykernel") == "passed"  # a grading kernel of an open run: the watch does nothing
    assert run() == "caught"  # any other process on that PYTHONPATH: the watch as always


@pytest.mark.grading
def test_sealed_and_open_grading_both_give_full_marks_and_are_compared():
    from benchmarks.sealed_grading import markdown, sealed_overhead

    result = sealed_overhead("ch01_networks", students=1, rounds=1, echo=lambda *a: None)
    assert [r["sealed"] for r in result["runs"]] == [True, False] and result["full_marks"]
    assert positive(result["sealed_per_submission"]) and positive(result["open_per_submission"])
    assert result["ratio_per_submission"] == result["sealed_per_submission"] / result["open_per_submission"]
    assert "goal <= 1.2x" in markdown(result)
