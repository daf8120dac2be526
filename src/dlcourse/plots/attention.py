"""Plots of the attention chapter: attention maps, the causal mask, loss curves, and attention's cost vs an RNN's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from . import _axes


def plot_attention_map(weights: np.ndarray, labels: Sequence[str], ax=None, title: str | None = None):
    """An (L, L) weight matrix as an image: row i is query i, column j key j; labels name the positions."""
    weights = np.asarray(weights)
    if weights.ndim != 2 or weights.shape[0] != weights.shape[1] or len(labels) != weights.shape[0]:
        raise ValueError(f"weights must be (L, L) with L = len(labels) = {len(labels)}, got {weights.shape}")
    ax = _axes(ax)
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=max(float(weights.max()), 1e-12))
    shown = [repr(c)[1:-1] if c != " " else "␣" for c in labels]
    ax.set_xticks(range(len(labels)), shown, fontsize=7)
    ax.set_yticks(range(len(labels)), shown, fontsize=7)
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("query (attending)")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title or "attention weights")
    return ax


def plot_causal_mask(length: int, ax=None, title: str | None = None):
    """The causal mask of a sequence of the given length: allowed (query i, key j <= i) light, forbidden dark."""
    ax = _axes(ax)
    allowed = np.tril(np.ones((length, length), dtype=bool))
    ax.imshow(allowed, cmap="Greys_r", vmin=0, vmax=1)
    for i in range(length):
        for j in range(length):
            ax.text(
                j,
                i,
                "0" if allowed[i, j] else "-∞",
                ha="center",
                va="center",
                fontsize=7,
                color="black" if allowed[i, j] else "white",
            )
    ax.set_xticks(range(length))
    ax.set_yticks(range(length))
    ax.set_xlabel("key position j")
    ax.set_ylabel("query position i")
    ax.set_title(title or "causal mask: added to the scores")
    return ax


def plot_loss_curves(
    curves: Mapping[str, np.ndarray], ax=None, title: str | None = None, baseline: float | None = None
):
    """Training loss per step for each named run; ``baseline`` draws a horizontal reference (e.g. log(vocab size))."""
    ax = _axes(ax)
    styles = ["-", "--", ":", "-."]
    for k, (name, losses) in enumerate(curves.items()):
        ax.plot(np.arange(1, len(losses) + 1), losses, styles[k % len(styles)], label=name)
    if baseline is not None:
        ax.axhline(baseline, color="grey", lw=0.8, ls=":", label=f"uniform guess, log V = {baseline:.2f}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.legend()
    ax.set_title(title or "training loss")
    return ax


def plot_cost(cost: Mapping[str, np.ndarray], ax=None, title: str | None = None):
    """Seconds per pass against sequence length on log-log axes, with slope-1 and slope-2 guide lines."""
    lengths = np.asarray(cost["lengths"], dtype=float)
    ax = _axes(ax)
    for name, marker in (("attention", "o-"), ("rnn", "s-")):
        ax.loglog(
            lengths,
            cost[name],
            marker,
            label={"attention": "self-attention (all pairs)", "rnn": "RNN (one step per position)"}[name],
        )
    for slope, style in ((1, ":"), (2, "--")):
        anchor = cost["rnn" if slope == 1 else "attention"][-1]
        ax.loglog(
            lengths,
            anchor * (lengths / lengths[-1]) ** slope,
            style,
            color="grey",
            lw=0.8,
            label=f"∝ L{'²' if slope == 2 else ''}",
        )
    ax.set_xlabel("sequence length L")
    ax.set_ylabel("seconds per pass")
    ax.legend()
    ax.set_title(title or "cost vs sequence length")
    return ax


def plot_score_spread(dims: Sequence[int], stds: Mapping[str, Sequence[float]], ax=None, title: str | None = None):
    """Standard deviation of dot-product scores against the dimension d, scaled and unscaled."""
    ax = _axes(ax)
    for name, values in stds.items():
        ax.plot(dims, values, "o-", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("d_k (dimension of queries and keys)")
    ax.set_ylabel("standard deviation of the scores")
    ax.legend()
    ax.set_title(title or "why divide by sqrt(d_k)")
    return ax
