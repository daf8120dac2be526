"""Plots of training in practice (chapter 7): training vs validation curves, the generalisation gap and the
examples a classifier gets wrong. (The confusion matrix is :func:`dlcourse.plots.losses.plot_confusion_matrix`.)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from . import _axes, show_images


def plot_train_val(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    ax=None,
    metric: str = "loss",
    title: str | None = None,
    logy: bool = False,
):
    """For each named training history (as :func:`dlcourse.solved.training.fit_mlp` returns it with
    ``evaluate_train=True`` and validation data): the training curve dashed, the validation curve solid,
    in one colour, with a dot at ``best_epoch`` when early stopping recorded one."""
    ax = _axes(ax)
    for i, (name, history) in enumerate(histories.items()):
        if f"val_{metric}" not in history:
            raise ValueError(f"history {name!r} has no 'val_{metric}': train with validation=(X_val, y_val)")
        color = f"C{i}"
        if f"train_{metric}" in history:
            ax.plot(history[f"train_{metric}"], "--", color=color, lw=1.2, label=f"{name}: training")
        ax.plot(history[f"val_{metric}"], "-", color=color, lw=1.8, label=f"{name}: validation")
        if "best_epoch" in history:
            best = history["best_epoch"]
            ax.plot([best], [history[f"val_{metric}"][best]], "o", color=color, ms=7)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_gaps(results: Mapping[str, tuple[float, float]], ax=None, title: str | None = None, ylabel: str = "loss"):
    """Grouped bars: (training, validation) loss of each named setting, the gap written above each pair."""
    ax = _axes(ax)
    names = list(results)
    train = np.array([results[n][0] for n in names])
    val = np.array([results[n][1] for n in names])
    x = np.arange(len(names))
    ax.bar(x - 0.2, train, 0.4, label="training", color="tab:blue")
    ax.bar(x + 0.2, val, 0.4, label="validation", color="tab:orange")
    for xi, t, v in zip(x, train, val):
        ax.text(xi, max(t, v) * 1.02, f"gap {v - t:.2f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.15 * max(val.max(), train.max()))
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def show_misclassified(
    images: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, n: int = 20, n_cols: int = 10, title: str | None = None
):
    """Up to ``n`` of the images the classifier got wrong, each titled 'true→predicted'."""
    wrong = np.flatnonzero(np.asarray(y_true) != np.asarray(y_pred))[:n]
    if len(wrong) == 0:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no misclassified examples", ha="center", va="center")
        return np.array([ax])
    labels = [f"{y_true[i]}\u2192{y_pred[i]}" for i in wrong]
    axes = show_images(np.asarray(images)[wrong], labels, n_cols=min(n_cols, len(wrong)))
    figure = np.ravel(axes)[0].figure
    figure.suptitle(title or f"{len(wrong)} misclassified examples (true\u2192predicted)", y=1.0)
    figure.tight_layout()
    return axes
