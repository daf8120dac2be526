"""Plots of the CNN chapter: learned filters, feature maps, timings."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from . import _axes


def plot_filters(w: np.ndarray, n_cols: int = 8, title: str | None = None, size: float = 1.0):
    """Convolution filters w (C_out, C_in, kH, kW): one grey/red-blue image per filter when C_in == 1
    (shared colour scale, white = 0), one RGB image per filter (each stretched to [0, 1]) when C_in == 3."""
    w = np.asarray(w)
    if w.ndim != 4 or w.shape[1] not in (1, 3):
        raise ValueError(f"filters must have shape (C_out, 1 or 3, kH, kW), got {w.shape}")
    n_rows = int(np.ceil(w.shape[0] / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size * n_cols, size * n_rows + 0.4), squeeze=False)
    limit = np.abs(w).max() or 1.0
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i >= w.shape[0]:
            continue
        if w.shape[1] == 1:
            ax.imshow(w[i, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
        else:
            rgb = w[i].transpose(1, 2, 0)
            ax.imshow((rgb - rgb.min()) / (np.ptp(rgb) or 1.0))
    if title:
        fig.suptitle(title)
    return axes


def plot_feature_maps(
    image: np.ndarray, layers: Mapping[str, np.ndarray], max_maps: int = 16, title: str | None = None
):
    """An input image (H, W) and, one row per layer, its feature maps (C, h, w), at most ``max_maps`` each."""
    n_cols = 1 + min(max_maps, max(m.shape[0] for m in layers.values()))
    fig, axes = plt.subplots(len(layers), n_cols, figsize=(0.9 * n_cols, 1.0 * len(layers) + 0.5), squeeze=False)
    for row, (name, maps) in zip(axes, layers.items()):
        for ax in row:
            ax.axis("off")
        row[0].imshow(image, cmap="gray_r")
        row[0].set_title("input", fontsize=8)
        for k, ax in enumerate(row[1 : 1 + min(max_maps, maps.shape[0])]):
            ax.imshow(maps[k], cmap="viridis")
            ax.set_title(f"{name} {k}", fontsize=7)
    if title:
        fig.suptitle(title)
    return axes


def plot_timings(times_ms: Mapping[str, float], ax=None, title: str | None = None):
    """Horizontal bars of run times in milliseconds, on a log scale, each labelled with its value."""
    ax = _axes(ax)
    names, values = list(times_ms), np.array(list(times_ms.values()), dtype=float)
    if np.any(values <= 0):
        raise ValueError(f"times must be positive, got {dict(times_ms)}")
    ax.barh(names, values, color="tab:blue")
    ax.set_xscale("log")
    ax.set_xlabel("milliseconds (log scale)")
    ax.invert_yaxis()
    for y, value in enumerate(values):
        ax.text(value, y, f" {value:.3g} ms", va="center", fontsize=8)
    ax.set_xlim(values.min() / 2, values.max() * 8)
    if title:
        ax.set_title(title)
    return ax
