"""Chapter 5 (CNN)'s demos: the digits CNN and E2's network in PyTorch (built from NumPy parameters, trained
with the same mini-batch order as the NumPy loop), and the speed race of the convolutions.
"""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..device import get_device, to_numpy
from ..solved import cnn as solved
from ..solved.gradient_descent import minibatches


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


def fit_torch_classifier(
    model: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    lr: float = 1e-3,
    seed: int = 0,
    augment=None,
    dtype=None,
    validation: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, list[float]]:
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
            loss = F.cross_entropy(
                model(torch.as_tensor(X_batch, dtype=dtype, device=device)), torch.as_tensor(y[index], device=device)
            )
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
        return np.concatenate(
            [
                to_numpy(model(torch.as_tensor(X[i : i + batch_size], dtype=dtype, device=get_device())).argmax(dim=1))
                for i in range(0, X.shape[0], batch_size)
            ]
        )


def torch_accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    """Share of examples whose largest logit is the true class."""
    return float(np.mean(torch_predict(model, X) == y))


def median_ms(fn: Callable[[], object], repeat: int = 5, number: int = 2) -> float:
    """Median over ``repeat`` runs of the time of one call, in milliseconds."""
    return 1e3 * float(np.median(timeit.repeat(fn, repeat=repeat, number=number))) / number


def _race(conv_forward: Callable, conv_backward: Callable, dtype, rng: np.random.Generator):
    """(NumPy ms, PyTorch ms, whether the NumPy side was too slow) of forward + backward on one big batch."""
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((64, 3, 32, 32), (32, 3, 3, 3), (32,)))
    delta = rng.standard_normal((64, 32, 32, 32)).astype(dtype)
    xt, wt, bt = (torch.as_tensor(a).requires_grad_() for a in (x, w, b))
    deltat = torch.as_tensor(delta)

    def numpy_step():
        conv_forward(x, w, b, 1, 1)
        conv_backward(delta, x, w, 1, 1)

    def torch_step():
        torch.autograd.grad(F.conv2d(xt, wt, bt, padding=1), (xt, wt, bt), deltat)

    start = time.perf_counter()
    numpy_step()
    if time.perf_counter() - start > 2:
        return None
    repeat, number = (5, 2) if dtype == np.float32 else (3, 1)
    return median_ms(numpy_step, repeat, number), median_ms(torch_step, repeat, number)


def conv_timings(conv_forward: Callable, conv_backward: Callable, conv_loops: Callable, seed: int = 100):
    """The notebook's speed race, on the CPU: (forward times of loops / im2col / F.conv2d on 8 x 3 x 16 x 16 in ms,
    {dtype name: (NumPy ms, PyTorch ms)} of forward + backward on 64 x 3 x 32 x 32 with 32 filters 3 x 3).

    A learner's convolution that takes over 2 s on the big batch is replaced by the course's (and it says so).
    """
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((8, 3, 16, 16)), rng.standard_normal((8, 3, 3, 3)), rng.standard_normal(8)
    xt, wt, bt = (torch.as_tensor(a) for a in (x, w, b))  # CPU tensors
    small = {
        "loops (Exercise 1)": median_ms(lambda: conv_loops(x, w, b, 1, 1), repeat=3, number=1),
        "im2col (Exercise 2)": median_ms(lambda: conv_forward(x, w, b, 1, 1)),
        "F.conv2d": median_ms(lambda: F.conv2d(xt, wt, bt, padding=1)),
    }
    speed = {}
    for dtype in (np.float32, np.float64):
        times = _race(conv_forward, conv_backward, dtype, rng)
        if times is None:
            print(
                "your conv2d_forward/backward take over 2 s on this batch: vectorise them (timing the solved versions)"
            )
            conv_forward, conv_backward = solved.conv2d_forward, solved.conv2d_backward
            times = _race(conv_forward, conv_backward, dtype, rng)
        speed[np.dtype(dtype).name] = times
    return small, speed
