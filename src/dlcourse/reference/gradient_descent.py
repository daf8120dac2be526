"""PyTorch references for chapter 3 (gradient descent).

The references take and return NumPy arrays and run in float64 on :func:`dlcourse.device.get_device`:

* :func:`minibatches`: ``torch.utils.data.DataLoader`` with a ``BatchSampler`` (``drop_last=False``) over the
  order ``np.random.default_rng(seed).permutation(N)``;
* :func:`gd_step`: one ``torch.optim.SGD`` step;
* :func:`linear_regression_grads` / :func:`logistic_regression_grads`: ``F.mse_loss`` /
  ``F.binary_cross_entropy_with_logits`` of ``F.linear`` and their gradients by autograd;
* :func:`sgd_trajectory`: ``torch.optim.SGD`` from the same start, fed the same batches in the same order,
  with the parameters recorded after every step;
* :func:`sgd_path`: ``torch.optim.SGD`` on any differentiable function of one parameter tensor.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import BatchSampler, DataLoader, TensorDataset

from ..device import to_numpy, to_tensor

LOSSES = {"linear": F.mse_loss, "logistic": F.binary_cross_entropy_with_logits}


# --- references ---------------------------------------------------------------------------


def _fresh_tensor(value, requires_grad: bool = False) -> torch.Tensor:
    """A float64 copy on the reference device (``torch.as_tensor`` would share the caller's memory on the CPU,
    and the optimizer would then change the caller's array)."""
    return to_tensor(np.array(value, dtype=np.float64), requires_grad=requires_grad)


def minibatches(X: np.ndarray, y: np.ndarray, batch_size: int, seed: int = 0, shuffle: bool = True):
    """The list of (X_batch, y_batch) a ``DataLoader`` gives for the seeded order, last partial batch kept."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim < 1 or y.ndim < 1 or len(X) != len(y):
        raise ValueError(f"X and y must hold the same number of examples, got shapes {X.shape} and {y.shape}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return [
        (to_numpy(X_batch), to_numpy(y_batch))
        for X_batch, y_batch in _loader(to_tensor(X), to_tensor(y), int(batch_size), seed, shuffle)
    ]


def _loader(X: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int, shuffle: bool) -> DataLoader:
    n = len(X)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    sampler = BatchSampler(order.tolist(), batch_size=batch_size, drop_last=False)
    return DataLoader(TensorDataset(X, y), sampler=sampler, batch_size=None)  # each item is a whole batch


def gd_step(params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float) -> dict[str, np.ndarray]:
    """The parameters after one ``torch.optim.SGD(lr=lr)`` step (parameters without a gradient are skipped)."""
    unknown = set(grads) - set(params)
    if unknown:
        raise KeyError(f"gradients for unknown parameters {sorted(unknown)}")
    tensors = {key: _fresh_tensor(value) for key, value in params.items()}
    for key, grad in grads.items():
        tensors[key].grad = to_tensor(grad)
    torch.optim.SGD(list(tensors.values()), lr=lr).step()
    return {key: to_numpy(t) for key, t in tensors.items()}


def _loss_and_grads(model: str, params, X, y):
    W, b = (_fresh_tensor(params[k], requires_grad=True) for k in ("W", "b"))
    loss = LOSSES[model](F.linear(to_tensor(X), W, b)[:, 0], to_tensor(np.asarray(y, dtype=np.float64)))
    loss.backward()
    return loss.item(), {"W": to_numpy(W.grad), "b": to_numpy(b.grad)}


def linear_regression_grads(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray):
    """(loss, grads) of ``F.mse_loss(F.linear(X, W, b)[:, 0], y)``, gradients by autograd."""
    return _loss_and_grads("linear", params, X, y)


def logistic_regression_grads(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray):
    """(loss, grads) of ``F.binary_cross_entropy_with_logits(F.linear(X, W, b)[:, 0], y)``, gradients by autograd."""
    return _loss_and_grads("logistic", params, X, y)


def sgd_trajectory(
    X: np.ndarray,
    y: np.ndarray,
    params: dict[str, np.ndarray],
    model: str,
    *,
    method: str = "minibatch",
    lr: float = 0.1,
    epochs: int = 1,
    batch_size: int = 32,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """``torch.optim.SGD`` on the linear (``model="linear"``, MSE) or logistic (``"logistic"``, BCE) model,
    started from ``params`` and fed, in epoch e, the batches of the order ``default_rng(seed + e)``;
    returns {"W": (1 + steps, 1, d), "b": (1 + steps, 1)}: the start, then the parameters after every step."""
    if model not in LOSSES:
        raise ValueError(f"model must be one of {sorted(LOSSES)}, got {model!r}")
    sizes = {"batch": len(X), "stochastic": 1, "minibatch": batch_size}
    if method not in sizes:
        raise ValueError(f"method must be one of {sorted(sizes)}, got {method!r}")
    W, b = (_fresh_tensor(params[k], requires_grad=True) for k in ("W", "b"))
    optimizer = torch.optim.SGD([W, b], lr=lr)
    X_all, y_all = to_tensor(X), to_tensor(np.asarray(y, dtype=np.float64))
    trajectory = [(to_numpy(W).copy(), to_numpy(b).copy())]
    for epoch in range(epochs):
        for X_batch, y_batch in _loader(X_all, y_all, sizes[method], seed + epoch, shuffle=True):
            optimizer.zero_grad()
            LOSSES[model](F.linear(X_batch, W, b)[:, 0], y_batch).backward()
            optimizer.step()
            trajectory.append((to_numpy(W).copy(), to_numpy(b).copy()))
    return {"W": np.stack([w for w, _ in trajectory]), "b": np.stack([b_ for _, b_ in trajectory])}


def sgd_path(loss_fn: Callable[[torch.Tensor], torch.Tensor], start, lr: float, steps: int) -> np.ndarray:
    """The points ``torch.optim.SGD`` visits minimising ``loss_fn(p)`` from ``start``: (steps + 1, *start.shape)."""
    p = _fresh_tensor(start, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=lr)
    path = [to_numpy(p).copy()]
    for _ in range(steps):
        optimizer.zero_grad()
        loss_fn(p).backward()
        optimizer.step()
        path.append(to_numpy(p).copy())
    return np.stack(path)
