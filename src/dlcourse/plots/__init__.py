"""The plots the chapters draw. Each function draws on a matplotlib Axes (made if not given) and returns it.

General plots live here; a chapter with plots of its own adds a module beside this one (e.g. ``plots/optimizers.py``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def _axes(ax):
    return ax if ax is not None else plt.subplots(figsize=(5, 4))[1]


def plot_functions(
    functions: Mapping[str, Callable[[np.ndarray], np.ndarray]],
    x: np.ndarray | None = None,
    ax=None,
    title: str | None = None,
):
    """Each named function of one variable, on a shared x grid (default -5..5)."""
    ax = _axes(ax)
    x = np.linspace(-5, 5, 401) if x is None else x
    for name, fn in functions.items():
        ax.plot(x, fn(x), label=name)
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def plot_decision_regions(
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    ax=None,
    title: str | None = None,
    resolution: int = 200,
):
    """The classes ``predict`` (points -> int labels) gives over the plane, with the data on top."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision regions need 2-D points of shape (n, 2), got {X.shape}")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
    ax = _axes(ax)
    margin = 0.5
    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    labels = np.asarray(predict(np.stack([gx.ravel(), gy.ravel()], axis=1))).reshape(gx.shape)
    n_classes = int(max(labels.max(), y.max())) + 1
    ax.contourf(gx, gy, labels, levels=np.arange(n_classes + 1) - 0.5, cmap="coolwarm", alpha=0.3)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=18, vmin=0, vmax=n_classes - 1)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    if title:
        ax.set_title(title)
    return ax


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    ax=None,
    xlabel: str = "step",
    ylabel: str = "loss",
    title: str | None = None,
    logy: bool = False,
):
    """Named curves (losses, accuracies, norms) against their index."""
    ax = _axes(ax)
    for name, values in curves.items():
        ax.plot(np.arange(len(values)), values, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if len(curves) > 1:
        ax.legend()
    if title:
        ax.set_title(title)
    return ax


def plot_histograms(samples: Mapping[str, np.ndarray], axes=None, bins: int = 50, title: str | None = None):
    """One histogram per named sample, side by side on a shared x axis."""
    if axes is None:
        _, axes = plt.subplots(1, len(samples), figsize=(3 * len(samples), 2.6), sharex=True, squeeze=False)
        axes = axes[0]
    for ax, (name, values) in zip(axes, samples.items()):
        ax.hist(np.ravel(values), bins=bins, color="tab:blue")
        ax.set_title(name, fontsize=9)
        ax.set_yticks([])
    if title:
        axes[0].figure.suptitle(title)
    return axes


def show_images(
    images: np.ndarray, labels: Sequence | None = None, n_cols: int = 10, cmap: str = "gray_r", title: str | None = None
):
    """A grid of images (n, H, W) or (n, H, W, 3) with optional labels above each."""
    images = np.asarray(images)
    n_rows = int(np.ceil(len(images) / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(1.1 * n_cols, 1.25 * n_rows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=cmap)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    return axes
