"""PyTorch side of the training examples: the same MLP, batches and optimizer as the NumPy loop."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..device import get_device, to_numpy
from ..solved.gradient_descent import minibatches
from .networks import build_mlp

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


def fit_torch_mlp(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    *,
    optimizer: str = "adam",
    lr: float = 1e-3,
    epochs: int,
    batch_size: int,
    loss: str = "cross_entropy",
    activation: str = "relu",
    seed: int = 0,
    dtype=torch.float32,
    **optimizer_options,
):
    """Train an ``nn.Sequential`` copy of ``params`` on the reference device with the same mini-batch order
    as :func:`dlcourse.solved.training.fit_mlp`. Returns (the trained model, per-epoch mean training loss)."""
    device = get_device()
    model = build_mlp(params, activation).to(dtype=dtype)
    opt = OPTIMIZERS[optimizer](model.parameters(), lr=lr, **optimizer_options)
    loss_fn = F.cross_entropy if loss == "cross_entropy" else F.mse_loss
    X_all = torch.as_tensor(X, dtype=dtype, device=device)
    y_all = (
        torch.as_tensor(y, device=device) if loss == "cross_entropy" else torch.as_tensor(y, dtype=dtype, device=device)
    )
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


OPTIMIZER_NAMES = {"sgd": "SGD", "adam": "Adam"}


def train_mlp(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    optimizer: tuple[str, dict],
    epochs: int,
    batch_size: int,
    seed: int = 0,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    patience: int | None = None,
) -> dict:
    """Chapter 7's training loop in PyTorch, float64 on the reference device: an ``nn.Sequential`` copy of the ReLU
    MLP ``params``, ``torch.optim`` (``optimizer = ("sgd" or "adam", its keyword arguments)``), ``F.cross_entropy``,
    the batch order of :func:`dlcourse.solved.gradient_descent.minibatches` (epoch e shuffled with seed + e);
    with ``patience``, early stopping on the validation loss (the rule computed by
    :func:`dlcourse.reference.regularization.early_stopping`) and the best epoch's weights put back.

    Returns {"loss": every step's batch loss, "val_loss": per epoch (with validation), "best_epoch" (with patience),
    "params": the trained parameters}.
    """
    from .regularization import early_stopping  # (the rule's tensor version)

    name, hyper = optimizer
    if name not in OPTIMIZER_NAMES:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZER_NAMES)} with its options, got {name!r}")
    model = build_mlp(params, "relu")
    opt = getattr(torch.optim, OPTIMIZER_NAMES[name])(model.parameters(), **hyper)
    device = get_device()
    X_all, y_all = torch.as_tensor(X, dtype=torch.float64, device=device), torch.as_tensor(y, device=device)
    index_all = np.arange(X.shape[0])
    result: dict = {"loss": []}
    if validation is not None:
        result["val_loss"] = []
        X_val = torch.as_tensor(validation[0], dtype=torch.float64, device=device)
        y_val = torch.as_tensor(validation[1], device=device)
    best_state = None
    for epoch in range(epochs):
        for index, _ in minibatches(index_all, index_all, batch_size, seed=seed + epoch):
            index = torch.as_tensor(index, device=device)
            opt.zero_grad()
            loss = F.cross_entropy(model(X_all[index]), y_all[index])
            loss.backward()
            opt.step()
            result["loss"].append(loss.item())
        if validation is not None:
            with torch.no_grad():
                result["val_loss"].append(F.cross_entropy(model(X_val), y_val).item())
        if patience is not None:
            best = early_stopping(result["val_loss"], patience)[0]
            result["best_epoch"] = np.int64(best)
            if best == epoch:
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if epoch - best >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    result["params"] = {
        f"{p}{layer}": to_numpy(getattr(m, "weight" if p == "W" else "bias"))
        for layer, m in enumerate(linears, start=1)
        for p in "Wb"
    }
    result["loss"] = np.array(result["loss"])
    if validation is not None:
        result["val_loss"] = np.array(result["val_loss"])
    return result
