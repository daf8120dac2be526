"""Plots of the modern-CNN notebook: feature-map statistics layer by layer, the gradient norm of every layer,
and training curves smoothed over a few steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from . import _axes


def plot_feature_stats(
    stats: Mapping[str, tuple[Sequence[float], Sequence[float]]], axes=None, title: str | None = None
):
    """Two panels: the mean and the standard deviation (log scale) of the feature maps after each layer,
    one line per network; ``stats[name] = (means, stds)``, index 0 = after the stem."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for (name, (means, stds)), marker in zip(stats.items(), "os^vD"):
        axes[0].plot(np.arange(len(means)), means, marker=marker, label=name)
        axes[1].plot(np.arange(len(stds)), stds, marker=marker, label=name)
    axes[0].set_ylabel("mean of the feature maps")
    axes[1].set_ylabel("standard deviation (log scale)")
    axes[1].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("after block (0 = stem)")
    axes[0].legend(fontsize=8)
    if title:
        axes[0].figure.suptitle(title)
    return axes


def plot_layer_gradients(norms: Mapping[str, Sequence[float]], ax=None, title: str | None = None):
    """||dL/dW|| of every convolution (input side on the left), one line per network, log scale."""
    ax = _axes(ax)
    for (name, values), marker in zip(norms.items(), "os^vD"):
        ax.plot(np.arange(1, len(values) + 1), values, marker=marker, label=name)
    ax.set_yscale("log")
    ax.set_xlabel("convolution (1 = next to the input)")
    ax.set_ylabel("||dL/dW|| at initialisation")
    ax.legend(fontsize=8)
    ax.set_title(title or "gradient norm per layer")
    return ax


def smooth(values: Sequence[float], window: int = 5) -> np.ndarray:
    """The running mean over ``window`` steps (shorter at the start), same length as ``values``."""
    values = np.asarray(values, dtype=float)
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    sums = np.cumsum(np.insert(values, 0, 0.0))
    stop = np.arange(1, len(values) + 1)
    start = np.maximum(stop - window, 0)
    return (sums[stop] - sums[start]) / (stop - start)


def plot_losses(
    curves: Mapping[str, Sequence[float]],
    ax=None,
    window: int = 5,
    title: str | None = None,
    steps_per_epoch: int | None = None,
):
    """Training losses per step, smoothed over ``window`` steps (the raw values faint behind);
    dotted lines at epoch boundaries when ``steps_per_epoch`` is given."""
    ax = _axes(ax)
    for name, values in curves.items():
        (line,) = ax.plot(smooth(values, window), label=name)
        ax.plot(values, color=line.get_color(), alpha=0.2, linewidth=0.8)
    if steps_per_epoch:
        for x in range(steps_per_epoch, max(len(v) for v in curves.values()), steps_per_epoch):
            ax.axvline(x, color="grey", ls=":", linewidth=0.8)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.legend(fontsize=8)
    ax.set_title(title or "training loss")
    return ax
