"""Chapter 6 plots: optimizer paths over the contours of a 2-D function."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np

from . import _axes


def _check_path(name: str, path) -> np.ndarray:
    path = np.asarray(path, dtype=np.float64)
    if path.ndim != 2 or path.shape[1] != 2 or len(path) == 0:
        raise ValueError(f"path {name!r} must be an array of 2-D points, shape (n_points, 2), got {path.shape}")
    return path


def plot_contours(
    f: Callable[[np.ndarray], np.ndarray],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    ax=None,
    levels: int = 16,
    resolution: int = 80,
    minimum=None,
):
    """Contours of ``f`` over a box; ``f`` takes points as an array of shape (2, ...) (x = p[0], y = p[1]).
    Levels are spaced logarithmically above the smallest value, so that valleys show their shape."""
    ax = _axes(ax)
    gx, gy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    values = np.asarray(f(np.stack([gx, gy])), dtype=np.float64)
    if values.shape != gx.shape:
        raise ValueError(
            f"f must map an array of shape (2, {resolution}, {resolution}) to ({resolution}, {resolution}), "
            f"got {values.shape}"
        )
    low, high = values.min(), values.max()
    offsets = np.geomspace(max((high - low) * 1e-4, 1e-12), high - low, levels)
    ax.contour(gx, gy, values, levels=low + offsets, cmap="viridis_r", linewidths=0.7, alpha=0.55)
    if minimum is not None:
        ax.plot(*minimum, marker="*", color="gold", markeredgecolor="k", markersize=13, zorder=5)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return ax


def plot_paths(
    f: Callable[[np.ndarray], np.ndarray],
    paths: Mapping[str, np.ndarray],
    xlim,
    ylim,
    ax=None,
    reference_paths: Mapping[str, np.ndarray] | None = None,
    title: str | None = None,
    minimum=None,
    reference_every: int = 10,
):
    """Each named path (points visited, shape (n, 2)) as a line over the contours of ``f``; where
    ``reference_paths`` has the same name (PyTorch's path), every ``reference_every``-th point as a dot on top."""
    ax = plot_contours(f, xlim, ylim, ax=ax, minimum=minimum)
    reference_paths = reference_paths or {}
    for i, (name, path) in enumerate(paths.items()):
        path = _check_path(name, path)
        color = f"C{i % 10}"
        ax.plot(path[:, 0], path[:, 1], color=color, lw=1.4, label=name)
        ax.plot(*path[0], marker="o", color="k", markersize=4)
        if name in reference_paths:
            ref = _check_path(name, reference_paths[name])[::reference_every]
            ax.plot(
                ref[:, 0],
                ref[:, 1],
                ls="none",
                marker="o",
                markersize=3.5,
                markerfacecolor="none",
                markeredgecolor=color,
                alpha=0.9,
            )
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_path_grid(
    f: Callable[[np.ndarray], np.ndarray],
    panels: Mapping[str, Mapping[str, np.ndarray]],
    xlim,
    ylim,
    reference_paths: Mapping[str, np.ndarray] | None = None,
    n_cols: int = 4,
    title: str | None = None,
    minimum=None,
    reference_every: int = 10,
):
    """Small panels side by side, each with a few named NumPy paths (lines) and PyTorch's paths of the same
    names (dots) over the contours of ``f``: ``panels = {"panel title": {"SGD": path, ...}, ...}``."""
    if not panels:
        raise ValueError("plot_path_grid needs at least one panel")
    n_rows = int(np.ceil(len(panels) / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.4 * n_cols, 3.1 * n_rows), squeeze=False)
    for ax, (panel_title, paths) in zip(axes.ravel(), panels.items()):
        plot_paths(
            f,
            paths,
            xlim,
            ylim,
            ax=ax,
            reference_paths=reference_paths,
            minimum=minimum,
            reference_every=reference_every,
            title=panel_title,
        )
        ax.legend(fontsize=7, loc="lower left")
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(panels) :]:
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return axes
