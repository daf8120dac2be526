"""Chapter 2 (backprop)'s demos: E5's one ReLU neuron trained by PyTorch (autograd and torch.optim.Adam), the run
the notebook's NumPy training with hand-made gradients is compared with step by step."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..device import to_numpy, to_tensor


def _float_leaf(x) -> torch.Tensor:
    return to_tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


def train_relu_neuron(
    W0: np.ndarray, b0: np.ndarray, X: np.ndarray, y: np.ndarray, steps: int = 1000, lr: float = 0.01
) -> dict[str, np.ndarray]:
    """E5 in PyTorch: relu(x W^T + b), F.mse_loss, torch.optim.Adam(lr), ``steps`` full-batch steps.
    Returns per step the loss and the gradient (before the update), and the final W, b."""
    Wt, bt = _float_leaf(W0), _float_leaf(b0)
    optimizer = torch.optim.Adam([Wt, bt], lr=lr)
    Xt, yt = to_tensor(X), to_tensor(y)
    losses, dWs, dbs = [], [], []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(torch.relu(F.linear(Xt, Wt, bt)), yt)
        loss.backward()
        losses.append(loss.item())
        dWs.append(to_numpy(Wt.grad).copy())
        dbs.append(to_numpy(bt.grad).copy())
        optimizer.step()
    return {
        "loss": np.array(losses),
        "dW": np.array(dWs),
        "db": np.array(dbs),
        "W": to_numpy(Wt).copy(),
        "b": to_numpy(bt).copy(),
    }
