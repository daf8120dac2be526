"""The course's vectorised NumPy solutions against PyTorch, on the same float32 inputs.

Each benchmark is a :class:`Kernel`: it makes its inputs once from a seed, and builds a *fresh*
NumPy runner and a fresh PyTorch runner (on a given device) from them. A runner is a function of
no arguments that does the work once and returns its outputs as a dict of arrays. The first call
of each runner gives the outputs the two sides must agree on (and warms caches up); the calls
after it are timed. Runners that keep state (Adam's moments, the MLP's weights) keep it between
calls, as a training loop would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from dlcourse.reference.rnn import build_rnn
from dlcourse.reference.training import fit_torch_mlp
from dlcourse.solved import cnn, losses, optimizers, rnn, training
from dlcourse.solved.networks import init_params

Outputs = dict[str, np.ndarray]
Runner = Callable[[], dict]  # its outputs: arrays or tensors (compare them after as_arrays)


@dataclass
class Kernel:
    name: str
    shape: str  # what is computed, in words
    target: float  # the largest acceptable ratio NumPy / PyTorch-CPU
    numpy_runner: Callable[[], Runner]
    torch_runner: Callable[[torch.device], Runner]
    tolerance: float = 1e-4  # largest difference allowed, relative to the output's scale


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _normal(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (scale * rng.standard_normal(shape)).astype(np.float32)


def _tensor(array: np.ndarray, device: torch.device, requires_grad: bool = False) -> torch.Tensor:
    return torch.tensor(array, device=device, requires_grad=requires_grad)


def as_arrays(outputs: dict) -> Outputs:
    """A runner's outputs (arrays, tensors or numbers) as NumPy arrays of their own (not views of live state)."""
    return {
        name: (v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)).copy()
        for name, v in outputs.items()
    }


# --- conv2d forward + backward ---------------------------------------------------------------


def conv2d(n: int = 64, c: int = 3, size: int = 32, filters: int = 32, k: int = 3, seed: int = 0) -> Kernel:
    rng = _rng(seed)
    x, w = _normal(rng, n, c, size, size), _normal(rng, filters, c, k, k, scale=0.3)
    b, dout = _normal(rng, filters), _normal(rng, n, filters, size, size)

    def numpy_runner() -> Runner:
        def run():
            out = cnn.conv2d_forward(x, w, b, stride=1, padding=k // 2)
            dx, dw, db = cnn.conv2d_backward(dout, x, w, stride=1, padding=k // 2)
            return {"out": out, "dx": dx, "dw": dw, "db": db}

        return run

    def torch_runner(device: torch.device) -> Runner:
        xt, wt, bt = (_tensor(a, device, requires_grad=True) for a in (x, w, b))
        dout_t = _tensor(dout, device)

        def run():
            out = F.conv2d(xt, wt, bt, stride=1, padding=k // 2)
            dx, dw, db = torch.autograd.grad(out, (xt, wt, bt), dout_t)
            return {"out": out, "dx": dx, "dw": dw, "db": db}

        return run

    return Kernel(
        "conv2d fwd+bwd",
        f"batch {n} of {c}x{size}x{size}, {filters} filters {k}x{k}, stride 1, pad {k // 2}",
        2.0,
        numpy_runner,
        torch_runner,
    )


# --- one epoch of MLP training -----------------------------------------------------------------


def mlp_epoch(
    n: int = 10_000, sizes: tuple[int, ...] = (784, 512, 10), batch: int = 32, lr: float = 1e-3, seed: int = 0
) -> Kernel:
    rng = _rng(seed)
    X = rng.random((n, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], n)
    start = {k: v.astype(np.float32) for k, v in init_params(list(sizes), seed=seed).items()}

    def numpy_runner() -> Runner:
        def run():  # the course's NumPy loop: the same start, one epoch
            params = {k: v.copy() for k, v in start.items()}
            history = training.fit_mlp(params, X, y, optimizers.Adam(lr=lr), epochs=1, batch_size=batch, seed=seed)
            return {"loss": np.float32(history["loss"][0]), **params}

        return run

    def torch_runner(device: torch.device) -> Runner:
        def run():  # the course's PyTorch loop: a new model from the same start, one epoch
            with _reference_device(device):
                model, history = fit_torch_mlp(
                    start, X, y, optimizer="adam", lr=lr, epochs=1, batch_size=batch, seed=seed, dtype=torch.float32
                )
            linears = [m for m in model if isinstance(m, torch.nn.Linear)]
            weights = {
                f"{p}{i}": getattr(m, {"W": "weight", "b": "bias"}[p]) for i, m in enumerate(linears, 1) for p in "Wb"
            }
            return {"loss": np.float32(history[0]), **weights}

        return run

    return Kernel(
        "MLP epoch (Adam)",
        f"{'-'.join(map(str, sizes))}, batch {batch}, {n:,} samples, Adam lr {lr}",
        1.0,
        numpy_runner,
        torch_runner,
        tolerance=2e-3,
    )


class _reference_device:
    """Run the course's PyTorch references (``dlcourse.device.get_device``) on ``device`` for a while."""

    def __init__(self, device: torch.device):
        self.device = str(device)

    def __enter__(self):
        import os

        from dlcourse.device import get_device

        self.saved = os.environ.get("DLCOURSE_DEVICE")
        os.environ["DLCOURSE_DEVICE"] = self.device
        get_device.cache_clear()

    def __exit__(self, *exc):
        import os

        from dlcourse.device import get_device

        if self.saved is None:
            os.environ.pop("DLCOURSE_DEVICE", None)
        else:
            os.environ["DLCOURSE_DEVICE"] = self.saved
        get_device.cache_clear()


# --- RNN forward + backward through time ------------------------------------------------------


def rnn_bptt(n: int = 32, steps: int = 50, d: int = 64, hidden: int = 128, seed: int = 0) -> Kernel:
    rng = _rng(seed)
    params = rnn.init_rnn_params(d, hidden, 1, seed=seed)
    Wx, Wh, b = (params[k].astype(np.float32) for k in ("Wx", "Wh", "b"))
    x, h0, dhs = _normal(rng, n, steps, d), _normal(rng, n, hidden, scale=0.5), _normal(rng, n, steps, hidden)

    def numpy_runner() -> Runner:
        def run():
            hs = rnn.rnn_forward(x, h0, Wx, Wh, b)
            dx, dh0, dWx, dWh, db = rnn.rnn_backward(dhs, x, h0, Wx, Wh, b, hs)
            return {"hs": hs, "dx": dx, "dh0": dh0, "dWx": dWx, "dWh": dWh, "db": db}

        return run

    def torch_runner(device: torch.device) -> Runner:
        with _reference_device(device):
            module = build_rnn(Wx, Wh, b).to(dtype=torch.float32)
        xt, h0t, dhs_t = _tensor(x, device, True), _tensor(h0, device, True), _tensor(dhs, device)
        weights = (module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0)

        def run():
            hs, _ = module(xt, h0t[None])
            dx, dh0, dWx, dWh, db = torch.autograd.grad(hs, (xt, h0t, *weights), dhs_t)
            return {"hs": hs, "dx": dx, "dh0": dh0, "dWx": dWx, "dWh": dWh, "db": db}

        return run

    return Kernel(
        "RNN fwd+bwd",
        f"{steps} steps, batch {n}, input {d}, hidden {hidden} (nn.RNN)",
        1.5,
        numpy_runner,
        torch_runner,
        tolerance=1e-3,
    )


# --- softmax cross-entropy forward + backward ---------------------------------------------------


def softmax_cross_entropy(n: int = 4096, classes: int = 1000, seed: int = 0) -> Kernel:
    rng = _rng(seed)
    logits, labels = _normal(rng, n, classes, scale=3.0), rng.integers(0, classes, n)

    def numpy_runner() -> Runner:
        def run():
            # the solved loss and its gradient from one pass, keeping the forward's exponentials for the backward
            # as F.cross_entropy keeps its log-softmax (cross_entropy_fast + cross_entropy_grad_inplace: ~2x slower)
            loss, dlogits = losses.cross_entropy_with_grad(logits, labels)
            return {"loss": np.float32(loss), "dlogits": dlogits}

        return run

    def torch_runner(device: torch.device) -> Runner:
        logits_t, labels_t = _tensor(logits, device, True), torch.as_tensor(labels, device=device)

        def run():
            loss = F.cross_entropy(logits_t, labels_t)
            (dlogits,) = torch.autograd.grad(loss, logits_t)
            return {"loss": loss, "dlogits": dlogits}

        return run

    return Kernel("softmax CE fwd+bwd", f"{n}x{classes} logits", 2.0, numpy_runner, torch_runner)


# --- one Adam step ------------------------------------------------------------------------------


def adam_step(n: int = 10_000_000, lr: float = 1e-3, seed: int = 0) -> Kernel:
    rng = _rng(seed)
    p0, g = _normal(rng, n), _normal(rng, n)

    def numpy_runner() -> Runner:
        params, grads, adam = {"p": p0.copy()}, {"p": g}, optimizers.Adam(lr=lr)

        def run():
            adam.step(params, grads)
            return {"p": params["p"], "m": adam.state["p"]["m"], "v": adam.state["p"]["v"]}

        return run

    def torch_runner(device: torch.device) -> Runner:
        p = _tensor(p0, device, requires_grad=True)
        p.grad = _tensor(g, device)
        adam = torch.optim.Adam([p], lr=lr)

        def run():
            adam.step()
            state = adam.state[p]
            return {"p": p, "m": state["exp_avg"], "v": state["exp_avg_sq"]}

        return run

    return Kernel(
        "Adam step",
        f"{n:,} float32 parameters (steady state, after a first step)",
        1.0,
        numpy_runner,
        torch_runner,
        tolerance=1e-5,
    )


FULL = (conv2d, mlp_epoch, rnn_bptt, softmax_cross_entropy, adam_step)
QUICK = {  # the same code paths on tiny inputs: what the test runs so that this file cannot rot
    conv2d: dict(n=4, size=8, filters=4),
    mlp_epoch: dict(n=256, sizes=(64, 32, 10)),
    rnn_bptt: dict(n=4, steps=5, d=8, hidden=16),
    softmax_cross_entropy: dict(n=64, classes=10),
    adam_step: dict(n=10_000),
}


def kernels(quick: bool = False) -> list[Kernel]:
    return [make(**QUICK[make]) if quick else make() for make in FULL]
