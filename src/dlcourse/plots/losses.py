"""Chapter 4's plots: losses next to their gradients, and confusion matrices."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from . import _axes


def plot_losses_and_gradients(
    x: np.ndarray,
    losses: Mapping[str, np.ndarray],
    gradients: Mapping[str, np.ndarray],
    axes=None,
    xlabel: str = "logit of the true class",
    styles: Mapping[str, str] | None = None,
):
    """Two panels over the same x: each named loss (left) and each named gradient (right).

    ``styles`` maps a name to a matplotlib format string (e.g. ``"k--"``) for curves that should stand out.
    """
    x = np.asarray(x)
    for group in (losses, gradients):
        for name, values in group.items():
            if np.shape(values) != x.shape:
                raise ValueError(f"curve {name!r} has shape {np.shape(values)}, expected {x.shape} like x")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    styles = styles or {}
    for ax, group, ylabel in [(axes[0], losses, "loss"), (axes[1], gradients, "gradient")]:
        for name, values in group.items():
            ax.plot(x, values, styles.get(name, "-"), label=name)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
    return axes


def plot_confusion_matrix(
    counts: np.ndarray, ax=None, class_names: Sequence[str] | None = None, title: str | None = None
):
    """A confusion matrix as a heat map with the count in each cell (rows: true class, columns: predicted)."""
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"a confusion matrix is square (n_classes, n_classes), got shape {counts.shape}")
    n = counts.shape[0]
    names = [str(i) for i in range(n)] if class_names is None else [str(c) for c in class_names]
    if len(names) != n:
        raise ValueError(f"{len(names)} class names for {n} classes")
    ax = _axes(ax)
    ax.imshow(counts, cmap="Blues")
    for i in range(n):
        for j in range(n):
            dark = counts[i, j] > 0.6 * counts.max()
            ax.text(
                j,
                i,
                str(counts[i, j]),
                ha="center",
                va="center",
                fontsize=8 if n > 5 else 11,
                color="white" if dark else "black",
            )
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title:
        ax.set_title(title)
    return ax
