"""Plots of the gated-cells chapter: recall accuracy against the gap, an LSTM's gates over time, and the
gradient's norm through time for a plain RNN and an LSTM."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from . import _axes

GATE_NAMES = {
    "i": "input gate i",
    "f": "forget gate f",
    "g": "cell candidate g",
    "o": "output gate o",
    "c": "cell state c",
}


def plot_recall_accuracy(
    gaps: Sequence[int],
    accuracy: Mapping[str, Sequence[float]],
    chance: float | None = None,
    ax=None,
    title: str | None = None,
):
    """Accuracy against the gap, one line per model; a dotted line at chance level."""
    ax = _axes(ax)
    for (name, values), marker in zip(accuracy.items(), "os^v"):
        ax.plot(gaps, values, marker=marker, label=name)
    if chance is not None:
        ax.axhline(chance, color="grey", ls=":", label="chance")
    ax.set_xticks(list(gaps))
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("gap (distractor steps between the token and the question)")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=8)
    ax.set_title(title or "recall the first token")
    return ax


def plot_gates(
    gates: Mapping[str, np.ndarray],
    keys: str = "ifo",
    order: np.ndarray | None = None,
    axes=None,
    title: str | None = None,
):
    """Heat maps (unit x time step) of an LSTM's gates on one sequence: gates[k] is (T, H).
    ``order`` sorts the units (rows), e.g. by their mean forget gate."""
    if axes is None:
        _, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 3.6), sharey=True)
    axes = np.atleast_1d(axes)
    image = None
    for ax, key in zip(axes, keys):
        values = np.asarray(gates[key])
        if values.ndim != 2:
            raise ValueError(f"gates[{key!r}] must be (T, H), got shape {values.shape}")
        rows = values.T if order is None else values.T[order]
        lo, hi = (-1, 1) if key in "gc" else (0, 1)
        image = ax.imshow(rows, aspect="auto", cmap="viridis", vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_xlabel("time step t")
        ax.set_title(GATE_NAMES.get(key, key))
    axes[0].set_ylabel("hidden unit")
    if image is not None:
        plt.colorbar(image, ax=list(axes), fraction=0.02)
    if title:
        axes[0].figure.suptitle(title, y=1.03)
    return axes


def plot_gradient_flow(norms: Mapping[str, Sequence[float]], ax=None, title: str | None = None):
    """Gradient norms against the time step t (log scale), one line per setting; each is divided by its
    largest value (NaNs are left out), so the lines show how much of the gradient survives going back."""
    ax = _axes(ax)
    for (name, values), style in zip(norms.items(), ["-", "--", "-.", ":"]):
        values = np.asarray(values, dtype=np.float64)
        ax.semilogy(np.arange(len(values)), values / np.nanmax(values), style, label=name)
    ax.set_xlabel("time step t (the loss is at the last step)")
    ax.set_ylabel("gradient norm / its largest value")
    ax.legend(fontsize=8)
    ax.set_title(title or "how much gradient reaches step t")
    return ax
