"""PyTorch side of the training examples: the same MLP, batches and optimizer as the NumPy loop."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..device import get_device, to_numpy
from ..solved.gradient_descent import minibatches
from .networks import build_mlp

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


def fit_torch_mlp(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, *, optimizer: str = "adam",
                  lr: float = 1e-3, epochs: int, batch_size: int, loss: str = "cross_entropy",
                  activation: str = "relu", seed: int = 0, dtype=torch.float32, **optimizer_options):
    """Train an ``nn.Sequential`` copy of ``params`` on the reference device with the same mini-batch order
    as :func:`dlcourse.solved.training.fit_mlp`. Returns (the trained model, per-epoch mean training loss)."""
    device = get_device()
    model = build_mlp(params, activation).to(dtype=dtype)
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr, **optimizer_options)
    loss_fn = F.cross_entropy if loss == "cross_entropy" else F.mse_loss
    X_all = torch.as_tensor(X, dtype=dtype, device=device)
    y_all = torch.as_tensor(y, device=device) if loss == "cross_entropy" else torch.as_tensor(y, dtype=dtype, device=device)
    index_all = np.arange(X.shape[0])
    history = []
    for epoch in range(epochs):
        losses = []
        for index, _ in minibatches(index_all, index_all, batch_size, seed=seed + epoch):
            index = torch.as_tensor(index, device=device)
            opt.zero_grad()
            batch_loss = loss_fn(model(X_all[index]), y_all[index])
            batch_loss.backward()
            opt.step()
            losses.append(batch_loss.item())
        history.append(float(np.mean(losses)))
    return model, history


def torch_accuracy(model, X: np.ndarray, y: np.ndarray) -> float:
    """Share of examples whose largest logit is the true class."""
    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        logits = model(torch.as_tensor(X, dtype=dtype, device=get_device()))
    return float(np.mean(to_numpy(logits.argmax(dim=1)) == y))
