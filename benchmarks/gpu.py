"""What a GPU changes, measured on a machine that has one: ``python -m benchmarks.gpu --json out.json``.

1. Chapter 8's tiny language model exactly as the notebook runs it: the NumPy model (the course's solved
   pieces) against the PyTorch model on the GPU, both float64, the same start and batches. Their losses
   must agree to rounding error step after step (the notebook asserts the first ten to rtol 1e-10).
2. The "next size" the notebook speaks of: the same one-block model at D = 256, 8 heads, context 256,
   batch 64, in float32 on the GPU, trained on the first 90 % of the shipped chapter and scored on the last
   10 % it never saw; seconds per step, and a sample.

It needs only NumPy, PyTorch and the course's package (``PYTHONPATH=src`` is enough), and refuses to run
without a GPU: on a CPU the second part takes hours.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from dlcourse import data
from dlcourse.demos import attention as demo
from dlcourse.device import get_device, to_tensor

BIGGER = demo.LMConfig(d_model=256, n_heads=8, d_ff=1024, context=256, batch=64, steps=1500, lr=3e-4, seed=0)


def chapter_run(stream: np.ndarray, n_vocab: int) -> dict:
    """The notebook's own run: NumPy against PyTorch-on-GPU, float64."""
    config = demo.LMConfig()
    _, numpy_losses, numpy_s = demo.train_numpy_lm(stream, n_vocab, config)
    _, torch_losses, torch_s = demo.train_torch_lm(stream, n_vocab, config)
    relative = np.abs(numpy_losses - torch_losses) / np.abs(torch_losses)
    return {
        "config": dataclasses.asdict(config),
        "numpy_seconds": numpy_s,
        "torch_seconds": torch_s,
        "largest_relative_difference_first_10_steps": float(relative[:10].max()),
        "largest_relative_difference_all_steps": float(relative.max()),
        "final_loss_numpy": float(numpy_losses[-20:].mean()),
        "final_loss_torch": float(torch_losses[-20:].mean()),
    }


def held_out_loss(model, tokens: np.ndarray, context: int, n_vocab: int) -> float:
    """Mean next-character loss over the held-out text, in windows of ``context`` (no gradient)."""
    losses, counts = [], []
    with torch.no_grad():
        for start in range(0, len(tokens) - 1, context):
            window = tokens[start : start + context + 1]
            if len(window) < 2:
                break
            t = to_tensor(window[None])
            logits = model(t[:, :-1].to(torch.int64)).float()
            losses.append(F.cross_entropy(logits.reshape(-1, n_vocab), t[0, 1:].long(), reduction="sum").item())
            counts.append(len(window) - 1)
    return sum(losses) / sum(counts)


def bigger_run(stream: np.ndarray, n_vocab: int, vocab, config: demo.LMConfig = BIGGER) -> dict:
    """The next size, float32 on the GPU: held-out loss and seconds per step."""
    split = int(0.9 * len(stream))
    train, held_out = stream[:split], stream[split:]
    model, losses, seconds = demo.train_torch_lm(train, n_vocab, config, dtype=torch.float32)
    model.eval()
    prompt = vocab.encode("It is a truth")
    text = demo.sample(demo.torch_next_logits(model), prompt, 160, config.context)
    n_params = sum(p.numel() for p in model.parameters())
    return {
        "config": dataclasses.asdict(config),
        "parameters": n_params,
        "train_characters": len(train),
        "held_out_characters": len(held_out),
        "seconds": seconds,
        "ms_per_step": 1000 * seconds / config.steps,
        "train_loss_last_20_steps": float(losses[-20:].mean()),
        "held_out_loss": held_out_loss(model, held_out, config.context, n_vocab),
        "uniform_loss": math.log(n_vocab),
        "sample": vocab.decode(text),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gpu", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the measurements here")
    args = parser.parse_args(argv)
    if get_device().type != "cuda":
        print("benchmarks.gpu needs a GPU (PyTorch sees none); see the module's docstring", file=sys.stderr)
        return 2
    text = data.load_text()
    vocab = data.CharVocab(text)
    stream = vocab.encode(text)
    started = time.perf_counter()
    results = {
        "gpu": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "chapter_run": chapter_run(stream, len(vocab)),
        "bigger_run": bigger_run(stream, len(vocab), vocab),
    }
    results["total_seconds"] = time.perf_counter() - started
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
