"""Chapter 2 (autodiff)'s demos: moving an MLP's parameters between NumPy and Values, the learner's engine or
the course's while it is incomplete, fewer garbage-collector pauses for a big graph, and PyTorch's side of the
hinge-loss training run the notebook compares with.
"""

from __future__ import annotations

import contextlib
import gc

import numpy as np
import torch

from ..device import to_numpy, to_tensor
from ..reference.networks import build_mlp
from ..solved import autodiff as solved


def to_values(params: dict[str, np.ndarray], value_class: type) -> dict[str, list]:
    """A NumPy params dict (W1, b1, ...) as nested lists of Values with the same layout."""
    return {
        key: [[value_class(w) for w in row] for row in p] if p.ndim == 2 else [value_class(v) for v in p]
        for key, p in params.items()
    }


def to_arrays(value_params: dict[str, list]) -> dict[str, np.ndarray]:
    """The numbers of a Value params dict as NumPy arrays (``data``)."""
    return {
        key: np.array([[w.data for w in row] for row in p]) if isinstance(p[0], list) else np.array([v.data for v in p])
        for key, p in value_params.items()
    }


def parameters(value_params: dict[str, list]) -> list:
    """Every Value of a params dict, in a fixed order."""
    flat = []
    for p in value_params.values():
        for item in p:
            flat.extend(item if isinstance(item, list) else [item])
    return flat


def engine_or_solved(value_class):
    """``value_class`` when all its operations and ``backward`` run, else (with a note) the course's
    :class:`Value`: demo cells use it so that they work before every exercise is done."""
    try:
        x, y = value_class(0.5), value_class(-1.5)
        ((x * y + x) ** 2).tanh().relu().backward()
        return value_class
    except NotImplementedError:
        print(f"(your {value_class.__name__} is not complete yet: this cell uses the course's solved Value)")
        return solved.Value


@contextlib.contextmanager
def fewer_gc_pauses(threshold: int = 100_000):
    """Run the block with Python's cycle collector started less often (every ``threshold`` new objects
    instead of 700). An engine of Values creates millions of small objects whose closures refer to each
    other; with the default setting the collector re-scans them so often that it costs most of the time."""
    old = gc.get_threshold()
    gc.set_threshold(threshold, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def hinge_loss(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean of relu(1 - y * score) for labels y in {-1, +1}."""
    return torch.relu(1 - labels * scores.reshape(-1)).mean()


def train_hinge_mlp(
    params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, steps: int, lr: float, activation: str = "tanh"
):
    """Full-batch torch.optim.SGD on the mean hinge loss of an ``nn.Sequential`` copy of ``params``
    (one output score, labels y in {-1, +1}). Returns (losses per step, the trained params)."""
    model = build_mlp(params, activation)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    Xt, yt = to_tensor(X), to_tensor(np.asarray(y, dtype=np.float64))
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = hinge_loss(model(Xt), yt)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    trained = {}
    for layer, linear in enumerate([m for m in model if isinstance(m, torch.nn.Linear)], start=1):
        trained[f"W{layer}"], trained[f"b{layer}"] = to_numpy(linear.weight).copy(), to_numpy(linear.bias).copy()
    return np.array(losses), trained
