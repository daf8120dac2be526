"""Plots of the RNN chapter: sequences and predictions, and gradient norms through time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from . import _axes


def plot_sequences(noisy: np.ndarray, clean: np.ndarray, n: int = 3, ax=None, title: str | None = None):
    """The first ``n`` sequences: noisy samples as dots, the clean wave they come from as a line."""
    noisy, clean = np.asarray(noisy), np.asarray(clean)
    if noisy.ndim != 2 or noisy.shape != clean.shape:
        raise ValueError(
            f"noisy and clean must be (n_sequences, length) of the same shape, got {noisy.shape}, {clean.shape}"
        )
    ax = _axes(ax)
    steps = np.arange(noisy.shape[1])
    for i in range(min(n, len(noisy))):
        (line,) = ax.plot(steps, clean[i], lw=1)
        ax.plot(steps, noisy[i], ".", color=line.get_color(), ms=4)
    ax.set_xlabel("time step t")
    ax.set_title(title or "noisy sine waves (dots) and the clean waves (lines)")
    return ax


def plot_predictions(
    targets: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    ax=None,
    clean: np.ndarray | None = None,
    first_step: int = 1,
    prediction_start: int | None = None,
    start_generating: int | None = None,
    title: str | None = None,
):
    """One sequence's targets (dots), the clean wave (grey) and each model's predictions (lines) against time.

    ``first_step`` is the time step of targets[0] and clean[0]; ``prediction_start`` that of each prediction's
    first value (default: first_step); ``start_generating`` marks where a model stops seeing data and feeds
    its own predictions back (a dashed vertical line).
    """
    targets = np.ravel(targets)
    ax = _axes(ax)
    steps = first_step + np.arange(len(targets))
    if clean is not None:
        clean = np.ravel(clean)
        ax.plot(first_step + np.arange(len(clean)), clean, color="grey", lw=1, label="clean wave")
    ax.plot(steps, targets, "k.", ms=4, label="noisy data")
    for (name, values), style in zip(predictions.items(), ["-", "--", ":", "-."]):
        values = np.ravel(values)
        ax.plot(
            (first_step if prediction_start is None else prediction_start) + np.arange(len(values)),
            values,
            style,
            lw=1.5,
            label=name,
        )
    if start_generating is not None:
        ax.axvline(start_generating, color="grey", ls="--", lw=1)
    ax.set_xlabel("time step t")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_gradient_norms(
    norms: Mapping[str, Sequence[float]],
    ax=None,
    markers: Mapping[str, Sequence[float]] | None = None,
    title: str | None = None,
):
    """||dL/dh_t|| against t on a log scale, one line per setting; ``markers`` (same keys) are drawn as
    dots on top, e.g. PyTorch's autograd values beside the NumPy ones."""
    ax = _axes(ax)
    for name, values in norms.items():
        values = np.asarray(values, dtype=np.float64)
        (line,) = ax.semilogy(np.arange(len(values)), values, label=name)
        if markers is not None and name in markers:
            other = np.asarray(markers[name], dtype=np.float64)
            ax.semilogy(np.arange(len(other))[::4], other[::4], "o", ms=4, mfc="none", color=line.get_color())
    ax.set_xlabel("time step t")
    ax.set_ylabel(r"$\|\partial L / \partial h_t\|$")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_clipping(norms: Sequence[float], max_norm: float, ax=None, title: str | None = None):
    """The total gradient norm of every training step, with the clipping threshold."""
    ax = _axes(ax)
    norms = np.asarray(norms, dtype=np.float64)
    clipped = norms > max_norm
    ax.semilogy(norms, lw=0.8, label="total gradient norm")
    ax.semilogy(np.flatnonzero(clipped), norms[clipped], "rx", ms=4, label=f"clipped ({clipped.sum()} steps)")
    ax.axhline(max_norm, color="r", ls="--", lw=1, label=f"max_norm = {max_norm:g}")
    ax.set_xlabel("training step")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax
