"""Chapter 3's plots: descent paths on the contour lines of a 2-parameter loss, and on a 1-D function."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import matplotlib.pyplot as plt
import numpy as np


def _axes(ax, size=(5, 4)):
    return ax if ax is not None else plt.subplots(figsize=size)[1]


def _as_path(name: str, path, n_dims: int) -> np.ndarray:
    path = np.asarray(path, dtype=np.float64)
    if path.ndim == 1 and n_dims == 1:
        path = path[:, None]
    if path.ndim != 2 or path.shape[1] != n_dims or len(path) < 1:
        raise ValueError(f"path {name!r} must have shape (steps, {n_dims}), got {path.shape}")
    return path


def plot_descent_paths(
    loss: Callable[[np.ndarray], np.ndarray],
    paths: Mapping[str, np.ndarray],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    ax=None,
    title: str | None = None,
    xlabel: str = "parameter 1",
    ylabel: str = "parameter 2",
    resolution: int = 150,
    levels: int = 25,
):
    """Contour lines of ``loss`` (points (P, 2) -> values (P,)) over the box ``xlim`` x ``ylim``, with each
    named path (steps, 2) drawn on top: a dot per step, a circle at the start and a cross at the end.
    Parts of a path outside the box (a diverging run) are cut off by the box."""
    ax = _axes(ax)
    gx, gy = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    values = np.asarray(loss(np.stack([gx.ravel(), gy.ravel()], axis=1)), dtype=np.float64).reshape(gx.shape)
    low, high = values.min(), values.max()
    spaced = low + (high - low) * np.linspace(0, 1, levels + 1)[1:] ** 2  # denser near the minimum
    ax.contour(gx, gy, values, levels=spaced, cmap="viridis", linewidths=0.8)
    for name, path in paths.items():
        path = _as_path(name, path, 2)
        (line,) = ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1, label=name)
        ax.plot(*path[0], "o", color=line.get_color(), mfc="none", ms=8)
        ax.plot(*path[-1], "x", color=line.get_color(), ms=8, mew=2)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if paths:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_descent_1d(
    f: Callable[[np.ndarray], np.ndarray],
    paths: Mapping[str, np.ndarray],
    x: np.ndarray,
    ax=None,
    title: str | None = None,
):
    """The function ``f`` on the grid ``x``, and each named path (steps,) of points x_t drawn as (x_t, f(x_t))."""
    ax = _axes(ax)
    ax.plot(x, f(x), color="grey", lw=1.5)
    for name, path in paths.items():
        path = _as_path(name, path, 1)[:, 0]
        (line,) = ax.plot(path, f(path), ".-", ms=5, lw=0.8, label=name)
        ax.plot(path[0], f(path[:1])[0], "o", color=line.get_color(), mfc="none", ms=9)
        ax.plot(path[-1], f(path[-1:])[0], "x", color=line.get_color(), ms=9, mew=2)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    if paths:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax
