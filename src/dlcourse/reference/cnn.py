"""PyTorch references for chapter 5 (CNN): convolution, max-pooling, flatten and augmentation, NumPy in and
NumPy out, computed by PyTorch's own functions and autograd (float64, on the course's device).

Layouts are PyTorch's: images (N, C, H, W); convolution weights (C_out, C_in, kH, kW); biases (C_out,).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..device import get_device, to_numpy, to_tensor
from ..solved.gradient_descent import minibatches


def _as_images(x: np.ndarray, what: str = "x") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{what} must have shape (N, C, H, W), got {x.shape}")
    return x


def conv2d_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """``F.conv2d(x, w, b, stride=stride, padding=padding)``."""
    return to_numpy(F.conv2d(to_tensor(_as_images(x)), to_tensor(w), to_tensor(b), stride=stride, padding=padding))


def conv2d_backward(dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int = 1, padding: int = 0):
    """(dx, dw, db) of ``F.conv2d`` by autograd, for the upstream gradient ``dout``."""
    xt, wt = to_tensor(_as_images(x), requires_grad=True), to_tensor(w, requires_grad=True)
    bt = torch.zeros(wt.shape[0], dtype=torch.float64, device=get_device(), requires_grad=True)
    out = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    if tuple(out.shape) != np.shape(dout):
        raise ValueError(f"dout has shape {np.shape(dout)}, but the convolution's output has shape {tuple(out.shape)}")
    dx, dw, db = torch.autograd.grad(out, (xt, wt, bt), to_tensor(dout))
    return to_numpy(dx), to_numpy(dw), to_numpy(db)


def maxpool_forward(x: np.ndarray, size: int = 2, stride: int | None = None) -> np.ndarray:
    """``F.max_pool2d(x, size, stride)``; stride defaults to the window size, as in PyTorch."""
    return to_numpy(F.max_pool2d(to_tensor(_as_images(x)), size, stride=stride))


def maxpool_backward(dout: np.ndarray, x: np.ndarray, size: int = 2, stride: int | None = None) -> np.ndarray:
    """dL/dx of ``F.max_pool2d`` by autograd. On ties PyTorch sends a window's gradient to its first
    maximum in row-major order; overlapping windows add their gradients."""
    xt = to_tensor(_as_images(x), requires_grad=True)
    out = F.max_pool2d(xt, size, stride=stride)
    if tuple(out.shape) != np.shape(dout):
        raise ValueError(f"dout has shape {np.shape(dout)}, but the pooling's output has shape {tuple(out.shape)}")
    (dx,) = torch.autograd.grad(out, (xt,), to_tensor(dout))
    return to_numpy(dx)


def flatten(x: np.ndarray) -> np.ndarray:
    """``nn.Flatten()(x)``: (N, C, H, W) -> (N, C*H*W)."""
    return to_numpy(nn.Flatten()(to_tensor(x)))


def flatten_backward(dout: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
    """dL/dx of ``nn.Flatten`` by autograd, for an input of shape ``x_shape``."""
    xt = torch.zeros(tuple(x_shape), dtype=torch.float64, device=get_device(), requires_grad=True)
    out = nn.Flatten()(xt)
    (dx,) = torch.autograd.grad(out, (xt,), to_tensor(dout))
    return to_numpy(dx)


# --- augmentation -------------------------------------------------------------------------------

def flip_horizontal(images: np.ndarray) -> np.ndarray:
    """Mirror left-right: ``torch.flip(images, dims=[-1])`` (the width axis of (N, C, H, W))."""
    return to_numpy(torch.flip(to_tensor(_as_images(images, "images")), dims=[-1]))


def shift_images(images: np.ndarray, dy, dx) -> np.ndarray:
    """Image n moved down by dy[n] and right by dx[n] pixels (negative: up / left), zero fill.

    PyTorch: pad every side with zeros by the largest shift (``F.pad``), then cut each image's window.
    """
    images = _as_images(images, "images")
    n, _, h, w = images.shape
    dy, dx = np.broadcast_to(dy, (n,)), np.broadcast_to(dx, (n,))
    m = int(max(np.abs(dy).max(), np.abs(dx).max(), 0))
    padded = F.pad(to_tensor(images), (m, m, m, m))
    out = [padded[i, :, m - int(dy[i]):m - int(dy[i]) + h, m - int(dx[i]):m - int(dx[i]) + w] for i in range(n)]
    return to_numpy(torch.stack(out))


def random_augment_draws(n: int, seed: int, max_shift: int):
    """The random numbers ``random_augment`` uses, in the order the exercise prescribes."""
    rng = np.random.default_rng(seed)
    flip = rng.random(n) < 0.5
    dy = rng.integers(-max_shift, max_shift + 1, size=n)
    dx = rng.integers(-max_shift, max_shift + 1, size=n)
    return flip, dy, dx


def random_augment(images: np.ndarray, seed: int = 0, max_shift: int = 2) -> np.ndarray:
    """Flip each image left-right with probability 1/2, then shift it by up to ``max_shift`` pixels
    each way, with the draws of :func:`random_augment_draws`; the image operations are PyTorch's."""
    images = _as_images(images, "images")
    flip, dy, dx = random_augment_draws(images.shape[0], seed, max_shift)
    t = to_tensor(images)
    flipped = torch.where(to_tensor(flip)[:, None, None, None], torch.flip(t, dims=[-1]), t)
    return shift_images(to_numpy(flipped), dy, dx)


# --- models -------------------------------------------------------------------------------------

def build_cnn(params: dict[str, np.ndarray], dtype=torch.float64) -> nn.Sequential:
    """An ``nn.Sequential`` of [Conv2d (3x3, padding 1), ReLU, MaxPool2d(2)] per conv layer ("Wc1", "bc1", ...),
    then Flatten and one Linear layer per dense layer ("Wd1", "bd1", ...; ReLU between, none after the last),
    with its weights copied from ``params``, on the course's device."""
    convs = sorted((k for k in params if k.startswith("Wc")), key=lambda k: int(k[2:]))
    denses = sorted((k for k in params if k.startswith("Wd")), key=lambda k: int(k[2:]))
    if not convs or not denses:
        raise ValueError(f"params needs conv weights Wc1.. and dense weights Wd1.., got {sorted(params)}")
    layers: list[nn.Module] = []
    for key in convs:
        W, b = params[key], params["b" + key[1:]]
        conv = nn.Conv2d(W.shape[1], W.shape[0], W.shape[2:], padding=W.shape[2] // 2, dtype=dtype)
        _copy(conv, W, b)
        layers += [conv, nn.ReLU(), nn.MaxPool2d(2)]
    layers.append(nn.Flatten())
    for index, key in enumerate(denses):
        W, b = params[key], params["b" + key[1:]]
        linear = nn.Linear(W.shape[1], W.shape[0], dtype=dtype)
        _copy(linear, W, b)
        layers += [linear] + ([nn.ReLU()] if index < len(denses) - 1 else [])
    return nn.Sequential(*layers).to(get_device())


def _copy(module: nn.Module, W: np.ndarray, b: np.ndarray) -> None:
    if tuple(module.weight.shape) != W.shape:
        raise ValueError(f"weight of shape {W.shape} does not fit {module}")
    with torch.no_grad():
        module.weight.copy_(torch.as_tensor(W))
        module.bias.copy_(torch.as_tensor(b))


def fit_torch_classifier(model: nn.Module, X: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int,
                         lr: float = 1e-3, seed: int = 0, augment=None, dtype=None,
                         validation: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, list[float]]:
    """Train ``model`` with Adam and cross-entropy on the course's device, with the mini-batch order of
    :func:`dlcourse.solved.gradient_descent.minibatches` (epoch e shuffled with seed + e), so a NumPy
    loop over the same batches sees the same data in the same order.

    ``augment(X_batch, step)`` (NumPy in, NumPy out) transforms each training batch before it goes to the
    model. Returns per-epoch mean training loss (and validation accuracy when ``validation`` is given).
    """
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y hold different numbers of examples: {X.shape[0]} and {y.shape[0]}")
    device = get_device()
    dtype = dtype or next(model.parameters()).dtype
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history: dict[str, list[float]] = {"loss": []}
    index_all, step = np.arange(X.shape[0]), 0
    for epoch in range(epochs):
        model.train()
        losses = []
        for index, _ in minibatches(index_all, index_all, batch_size, seed=seed + epoch):
            X_batch = X[index] if augment is None else augment(X[index], step)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(torch.as_tensor(X_batch, dtype=dtype, device=device)),
                                   torch.as_tensor(y[index], device=device))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            step += 1
        history["loss"].append(float(np.mean(losses)))
        if validation is not None:
            history.setdefault("val_accuracy", []).append(torch_accuracy(model, *validation))
    return history


def torch_predict(model: nn.Module, X: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """The class with the largest logit for every example, in evaluation mode and without gradients."""
    dtype = next(model.parameters()).dtype
    model.eval()
    with torch.no_grad():
        return np.concatenate([to_numpy(model(torch.as_tensor(X[i:i + batch_size], dtype=dtype, device=get_device()))
                                        .argmax(dim=1)) for i in range(0, X.shape[0], batch_size)])


def torch_accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    """Share of examples whose largest logit is the true class."""
    return float(np.mean(torch_predict(model, X) == y))
