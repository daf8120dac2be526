"""Chapter 2 (backprop)'s test inputs and adapters.

- :class:`TwinFunction`: a test function written twice, NumPy (what the learner's ``numerical_gradient`` calls)
  and PyTorch (what the reference differentiates); :data:`CUBIC`, :data:`SIN_SQUARE`, :data:`HALF_SQUARED_NORM`,
  :func:`linear_map`, :func:`mlp_loss_of_W1`;
- :func:`mlp_case`: inputs of ``mlp_backward`` (a random MLP with non-zero biases, its caches, a random dout);
- :func:`solved_blocks` and :data:`BACKPROP_BLOCKS`: the test of ``mlp_backward`` runs it with the course's
  ``dense_backward`` and activation backwards, so that a mistake in those costs points only once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..checking import Inputs, randn
from ..device import to_tensor
from ..solved import backprop as solved_backprop
from ..solved.losses import cross_entropy
from ..solved.networks import mlp_forward
from .networks import mlp_params

__all__ = [
    "BACKPROP_BLOCKS",
    "CUBIC",
    "HALF_SQUARED_NORM",
    "SIN_SQUARE",
    "TwinFunction",
    "linear_map",
    "mlp_case",
    "mlp_loss_of_W1",
    "solved_backprop_blocks",
    "solved_blocks",
]


class TwinFunction:
    """One function written twice: ``numpy_fn`` (called when the twin is called, as numerical_gradient
    does) and ``torch_fn`` (what the reference runs). Its repr is its ``name``."""

    def __init__(self, name: str, numpy_fn: Callable, torch_fn: Callable):
        self.name, self.numpy_fn, self.torch_fn = name, numpy_fn, torch_fn

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.numpy_fn(x)

    def __repr__(self):
        return self.name


CUBIC = TwinFunction("f(x) = x**3 - 2x", lambda x: x**3 - 2 * x, lambda t: t**3 - 2 * t)
SIN_SQUARE = TwinFunction("f(x) = sin(x) * x**2", lambda x: np.sin(x) * x**2, lambda t: torch.sin(t) * t**2)
HALF_SQUARED_NORM = TwinFunction(
    "f(x) = sum(x**2) / 2 (a scalar)", lambda x: np.sum(x**2) / 2, lambda t: (t**2).sum() / 2
)


def linear_map(M: np.ndarray) -> TwinFunction:
    """f(x) = x @ M.T: every output depends on every input."""
    M = np.array(M, dtype=np.float64)
    return TwinFunction(f"f(x) = x @ M.T, M of shape {M.shape}", lambda x: x @ M.T, lambda t: t @ to_tensor(M).T)


def mlp_loss_of_W1(
    params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, activation: str = "tanh"
) -> TwinFunction:
    """f(W) = the cross-entropy loss of the MLP with W in place of params["W1"] (a scalar)."""
    n_layers = len(params) // 2

    def numpy_fn(W):
        return np.float64(cross_entropy(mlp_forward(X, {**params, "W1": W}, activation)[0], y))

    def torch_fn(W):
        a = to_tensor(X)
        for layer in range(1, n_layers + 1):
            weight = W if layer == 1 else to_tensor(params[f"W{layer}"])
            a = F.linear(a, weight, to_tensor(params[f"b{layer}"]))
            if layer < n_layers:
                a = getattr(torch, activation)(a)
        return F.cross_entropy(a, to_tensor(y))

    return TwinFunction(f"f(W1) = MLP loss ({activation})", numpy_fn, torch_fn)


def mlp_case(sizes: list[int], seed: int, activation: str = "relu", n: int = 5, dtype=np.float64) -> Inputs:
    """Inputs for mlp_backward: a random MLP (non-zero biases), its caches for a random batch of ``n``, a random dout."""
    params = mlp_params(sizes, seed=seed, bias_scale=0.3, dtype=dtype)
    out, caches = mlp_forward(randn(n, sizes[0], seed=seed + 100).astype(dtype), params, activation)
    return Inputs(randn(*out.shape, seed=seed + 200).astype(dtype), caches, params, activation=activation)


# What the test of mlp_backward offers the learner's function: the course's versions of the chapter's blocks.
BACKPROP_BLOCKS = tuple(
    f"dlcourse.solved.backprop.{name}"
    for name in ("dense_backward", "relu_backward", "tanh_backward", "sigmoid_backward")
)


def solved_backprop_blocks() -> dict:
    """The chapter's solved building blocks by the names the notebook uses."""
    s = solved_backprop
    return {
        "sigmoid_backward": s.sigmoid_backward,
        "tanh_backward": s.tanh_backward,
        "relu_backward": s.relu_backward,
        "dense_backward": s.dense_backward,
        "ACTIVATION_BACKWARDS": dict(s.ACTIVATION_BACKWARDS),
    }


@contextlib.contextmanager
def solved_blocks(namespace: dict, **blocks):
    """Within the block, ``namespace`` (a notebook's ``globals()``) holds the course's solved ``blocks``
    (by default :func:`solved_backprop_blocks`) instead of the learner's, and gets the learner's back afterwards.
    A test of an exercise that calls earlier exercises uses it so that an earlier mistake costs points only once."""
    blocks = blocks or solved_backprop_blocks()
    missing = object()
    saved = {name: namespace.get(name, missing) for name in blocks}
    namespace.update(blocks)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value
