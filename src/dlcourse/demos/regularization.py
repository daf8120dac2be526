"""Chapter 7 (training in practice)'s demos: the PyTorch side of a training run with L2 (weight decay on the
weights only), from the same initial weights and in the same batch order as the NumPy loop."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..device import get_device, to_numpy, to_tensor
from ..reference.networks import build_mlp
from ..solved.gradient_descent import minibatches


def fit_torch_mlp_l2(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    *,
    l2: float,
    lr: float = 1e-3,
    epochs: int,
    batch_size: int,
    activation: str = "relu",
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Train an ``nn.Sequential`` copy of ``params`` (float64) with ``torch.optim.Adam``, ``weight_decay=l2`` on the
    weights only and cross-entropy, in the batch order of :func:`dlcourse.solved.training.fit_mlp`.
    Returns the trained parameters as a params dict."""
    model = build_mlp(params, activation)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    optimizer = torch.optim.Adam(
        [
            {"params": [m.weight for m in linears], "weight_decay": l2},
            {"params": [m.bias for m in linears], "weight_decay": 0.0},
        ],
        lr=lr,
    )
    X_all, y_all = to_tensor(X), to_tensor(y)
    index_all = np.arange(X.shape[0])
    for epoch in range(epochs):
        for index, _ in minibatches(index_all, index_all, batch_size, seed=seed + epoch):
            index = torch.as_tensor(index, device=get_device())
            optimizer.zero_grad()
            F.cross_entropy(model(X_all[index]), y_all[index]).backward()
            optimizer.step()
    trained = {}
    for layer, m in enumerate(linears, start=1):
        trained[f"W{layer}"], trained[f"b{layer}"] = to_numpy(m.weight), to_numpy(m.bias)
    return trained


def deep_mlp_losses(
    X: np.ndarray,
    y: np.ndarray,
    *,
    depth: int = 10,
    width: int = 64,
    batch_norm: bool,
    epochs: int = 5,
    batch_size: int = 64,
    lr: float = 0.05,
    seed: int = 0,
) -> list[float]:
    """The training loss of every step of a deep ReLU MLP (``depth`` hidden layers of ``width``) trained with plain SGD,
    with or without ``nn.BatchNorm1d`` after each hidden linear layer, from the same seed and batch order."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    n_in = X.shape[1]
    for _ in range(depth):
        layers += [nn.Linear(n_in, width, dtype=torch.float64)]
        layers += [nn.BatchNorm1d(width, dtype=torch.float64)] if batch_norm else []
        layers += [nn.ReLU()]
        n_in = width
    model = nn.Sequential(*layers, nn.Linear(n_in, int(y.max()) + 1, dtype=torch.float64)).to(get_device())
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    X_all, y_all = to_tensor(X), torch.as_tensor(y, device=get_device())
    losses, index_all = [], np.arange(X.shape[0])
    for epoch in range(epochs):
        for index, _ in minibatches(index_all, index_all, batch_size, seed=seed + epoch):
            index = torch.as_tensor(index, device=get_device())
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X_all[index]), y_all[index])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses
