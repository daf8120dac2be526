"""PyTorch references for chapter 7 (training in practice): L2 penalty and weight decay, dropout,
early stopping, the train/validation split and normalisation with training statistics."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..device import get_device, to_numpy, to_tensor


def _weights(params: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {key: to_tensor(value, requires_grad=True) for key, value in params.items() if key.startswith("W")}


def l2_penalty(params: dict[str, np.ndarray], lam: float) -> np.ndarray:
    """(lam / 2) * sum of W ** 2 over the weight matrices, computed by PyTorch (biases are not penalised)."""
    weights = _weights(params)
    total = sum((W.pow(2).sum() for W in weights.values()), torch.zeros((), dtype=torch.float64, device=get_device()))
    return to_numpy(0.5 * lam * total)


def l2_grad(grads: dict[str, np.ndarray], params: dict[str, np.ndarray], lam: float) -> dict[str, np.ndarray]:
    """The given data-loss gradients plus the gradient of :func:`l2_penalty`, which autograd computes."""
    weights = _weights(params)
    penalty = 0.5 * lam * sum(W.pow(2).sum() for W in weights.values())
    penalty_grads = dict(zip(weights, torch.autograd.grad(penalty, list(weights.values())))) if weights else {}
    return {
        key: g + to_numpy(penalty_grads[key]) if key in penalty_grads else np.array(g, dtype=np.float64)
        for key, g in grads.items()
    }


def l2_grad_by_weight_decay(
    grads: dict[str, np.ndarray], params: dict[str, np.ndarray], lam: float
) -> dict[str, np.ndarray]:
    """The same gradient read off one ``torch.optim.SGD`` step with lr = 1, ``weight_decay=lam`` on the
    weights and 0 on the biases: for plain SGD, weight decay IS the L2 penalty's gradient."""
    tensors = {key: to_tensor(np.array(value, dtype=np.float64), requires_grad=True) for key, value in params.items()}
    for (
        key,
        tensor,
    ) in tensors.items():  # (copies: on the CPU a tensor can share memory with its array, and step() writes)
        tensor.grad = to_tensor(grads[key])
    optimizer = torch.optim.SGD(
        [
            {"params": [t for k, t in tensors.items() if k.startswith("W")], "weight_decay": lam},
            {"params": [t for k, t in tensors.items() if not k.startswith("W")], "weight_decay": 0.0},
        ],
        lr=1.0,
    )
    optimizer.step()
    return {key: params[key] - to_numpy(tensor) for key, tensor in tensors.items()}


def dropout_forward(X: np.ndarray, mask: np.ndarray, p: float) -> np.ndarray:
    """Inverted dropout with a given mask, X * mask / (1 - p): what ``F.dropout`` computes for the mask it draws
    (see :func:`torch_dropout`)."""
    return to_numpy(to_tensor(X) * to_tensor(mask) / (1.0 - p))


def dropout_backward(dout: np.ndarray, mask: np.ndarray, p: float) -> np.ndarray:
    """dL/dX of :func:`dropout_forward` by autograd, given dL/d(output)."""
    X = torch.zeros(np.shape(dout), dtype=torch.float64, device=get_device(), requires_grad=True)
    out = X * to_tensor(mask) / (1.0 - p)
    return to_numpy(torch.autograd.grad(out, X, grad_outputs=to_tensor(dout))[0])


def torch_dropout(X: np.ndarray, p: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """PyTorch's own ``F.dropout(X, p, training=True)`` under ``torch.manual_seed(seed)``, and the boolean mask
    it drew (found by dropping a tensor of ones with the same seed). The global RNG state is left as it was."""
    device = get_device()
    devices = [device] if device.type == "cuda" else []
    x = to_tensor(X)
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        out = F.dropout(x, p, training=True)
        torch.manual_seed(seed)
        mask = F.dropout(torch.ones_like(x), p, training=True) != 0
    return to_numpy(out), to_numpy(mask)


def early_stopping(val_losses, patience: int) -> tuple[int, int]:
    """(best_epoch, stop_epoch) computed with tensor operations, without a loop over epochs: an epoch improves
    when its loss is below the running minimum of the epochs before it (``torch.cummin``); the last improvement
    so far is a running maximum (``torch.cummax``); training stops at the first epoch ``patience`` epochs after it."""
    losses = torch.as_tensor(np.asarray(val_losses, dtype=np.float64), device=get_device())
    n = losses.shape[0]
    if n == 0:
        raise ValueError("early_stopping needs at least one validation loss")
    epochs = torch.arange(n, device=losses.device)
    running_min = torch.cummin(torch.nan_to_num(losses, nan=torch.inf), dim=0).values
    before = torch.cat([torch.full((1,), torch.inf, dtype=losses.dtype, device=losses.device), running_min[:-1]])
    improved = losses < before
    last_improvement = torch.cummax(torch.where(improved, epochs, torch.zeros_like(epochs)), dim=0).values
    stopping = (epochs - last_improvement) >= patience
    stop = int(torch.nonzero(stopping)[0, 0]) if bool(stopping.any()) else n - 1
    return int(last_improvement[stop]), stop


def train_val_split(X: np.ndarray, y: np.ndarray, val_fraction: float, seed: int = 0):
    """A split by ``torch.utils.data.random_split`` with fractions [1 - val_fraction, val_fraction]: it gives the
    validation part int(val_fraction * N) examples (floor), the training part the rest."""
    generator = torch.Generator().manual_seed(seed)
    train, val = torch.utils.data.random_split(
        range(X.shape[0]), [1.0 - val_fraction, val_fraction], generator=generator
    )
    train, val = np.array(train.indices, dtype=np.int64), np.array(val.indices, dtype=np.int64)
    return X[train], y[train], X[val], y[val]


def normalize(X_train: np.ndarray, X_other: np.ndarray, eps: float = 1e-5):
    """Both sets standardised by ``F.batch_norm`` in evaluation mode with the training set's per-feature mean
    and biased variance as its running statistics: (X - mean) / sqrt(var + eps)."""
    train, other = to_tensor(X_train), to_tensor(X_other)
    mean, var = train.mean(dim=0), train.var(dim=0, unbiased=False)
    return tuple(to_numpy(F.batch_norm(x, mean, var, training=False, eps=eps)) for x in (train, other))


def batchnorm_forward(
    X: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """``nn.BatchNorm1d(D, eps, momentum)`` with these parameters and running statistics, in training or evaluation
    mode: (output, running_mean, running_var) after the call."""
    bn = torch.nn.BatchNorm1d(np.shape(X)[1], eps=eps, momentum=momentum, dtype=torch.float64, device=get_device())
    with torch.no_grad():
        bn.weight.copy_(to_tensor(gamma))
        bn.bias.copy_(to_tensor(beta))
        bn.running_mean.copy_(to_tensor(running_mean))
        bn.running_var.copy_(to_tensor(running_var))
        bn.train(bool(training))
        out = bn(to_tensor(X))
    return to_numpy(out), to_numpy(bn.running_mean), to_numpy(bn.running_var)


def batchnorm_backward(dout: np.ndarray, X: np.ndarray, gamma: np.ndarray, eps: float = 1e-5):
    """(dX, dgamma, dbeta) by autograd through ``F.batch_norm`` in training mode (batch statistics)."""
    Xt, gt = to_tensor(X, requires_grad=True), to_tensor(gamma, requires_grad=True)
    bt = torch.zeros(np.shape(gamma), dtype=torch.float64, device=get_device(), requires_grad=True)
    out = F.batch_norm(Xt, None, None, gt, bt, training=True, eps=eps)
    return tuple(to_numpy(g) for g in torch.autograd.grad(out, (Xt, gt, bt), to_tensor(dout)))
