"""Chapter 2's plots: gradient-check error against epsilon, gradient size per layer, a computational graph."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from . import _axes


def plot_error_vs_epsilon(
    epsilons: Sequence[float], errors: Mapping[str, Sequence[float]], ax=None, title: str | None = None
):
    """Relative error of numerical gradients (one curve per method) against the step eps, log-log."""
    ax = _axes(ax)
    epsilons = np.asarray(epsilons, dtype=np.float64)
    for name, values in errors.items():
        values = np.asarray(values, dtype=np.float64)
        if values.shape != epsilons.shape:
            raise ValueError(
                f"{name!r} has {values.shape[0] if values.ndim else 0} errors for {epsilons.size} epsilons"
            )
        ax.loglog(epsilons, np.maximum(values, 1e-17), marker=".", label=name)
    ax.set_xlabel("eps (step of the finite difference)")
    ax.set_ylabel("relative error vs autograd")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def plot_layer_gradients(norms: Mapping[str, Sequence[float]], ax=None, title: str | None = None):
    """The size of each layer's weight gradient (one curve per network), layer 1 = next to the input."""
    ax = _axes(ax)
    for name, values in norms.items():
        ax.semilogy(np.arange(1, len(values) + 1), values, marker="o", label=name)
    ax.set_xlabel("layer (1 = first, next to the input)")
    ax.set_ylabel("mean |dL/dW| of the layer")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def draw_graph(root, ax=None, title: str | None = None, names: Mapping | None = None):
    """The computational graph below ``root`` (objects with data, grad, parents, op): one box per node,
    placed by depth, inputs on the left, the result on the right, each labelled op / data / grad.
    ``names`` maps some nodes to a label shown instead of their op (``{x1: "x1"}``)."""
    names = {id(node): name for node, name in (names or {}).items()}
    depth: dict[int, int] = {}
    nodes: dict[int, object] = {}

    def place(node) -> int:  # longest path from a leaf: parents always stand left of their children
        key = id(node)
        if key not in depth:
            nodes[key] = node
            depth[key] = 1 + max((place(p) for p in node.parents), default=-1)
        return depth[key]

    place(root)
    columns: dict[int, list[int]] = {}
    for key in nodes:
        columns.setdefault(depth[key], []).append(key)
    position = {}
    for column, keys in columns.items():
        for row, key in enumerate(keys):
            position[key] = (column, row - (len(keys) - 1) / 2)
    ax = (
        ax
        if ax is not None
        else plt.subplots(figsize=(2.2 * (len(columns) + 1), 1.1 * max(map(len, columns.values())) + 1.5))[1]
    )
    for key, node in nodes.items():
        for parent in node.parents:
            (x0, y0), (x1, y1) = position[id(parent)], position[key]
            ax.annotate(
                "", xy=(x1 - 0.28, y1), xytext=(x0 + 0.28, y0), arrowprops=dict(arrowstyle="->", color="grey", lw=1)
            )
    for key, node in nodes.items():
        x, y = position[key]
        label = f"{names.get(key) or node.op or 'input'}\ndata {node.data:.3g}\ngrad {node.grad:.3g}"
        colour = "#ffe9b3" if node is root else "#d9ecff" if not node.parents else "white"
        ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=8,
            bbox=dict(boxstyle="round", facecolor=colour, edgecolor="grey"),
        )
    ax.set_xlim(-0.6, max(columns) + 0.6)
    ys = [y for _, y in position.values()]
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax
