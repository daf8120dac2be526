"""PyTorch references for chapter 2's autodiff notebook: ``torch.autograd`` on the same operations and programs
as the learner's engine of Values, in float64 on :func:`dlcourse.device.get_device`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..cases.autodiff import run_program
from ..device import to_numpy, to_tensor


def _grad_or_zeros(t: torch.Tensor) -> np.ndarray:
    return to_numpy(t.grad) if t.grad is not None else np.zeros(tuple(t.shape))


def local_gradients(op: Callable, *inputs, upstream: np.ndarray, initial_grad: float = 0.0):
    """(out, d/d each array input of sum(op(*inputs) * upstream)) by autograd; numbers in ``inputs``
    are passed to ``op`` as they are. ``op`` is a PyTorch function such as ``torch.mul``.
    With ``initial_grad``, each input's ``.grad`` holds that value before ``backward()``, which adds to it."""
    tensors = [to_tensor(x, requires_grad=True) if isinstance(x, np.ndarray) else x for x in inputs]
    if initial_grad:
        for t in tensors:
            if isinstance(t, torch.Tensor):
                t.grad = torch.full_like(t, float(initial_grad))
    out = op(*tensors)
    out.backward(to_tensor(upstream))
    return (to_numpy(out), *[_grad_or_zeros(t) for t in tensors if isinstance(t, torch.Tensor)])


def program_gradients(program: list[tuple], x: np.ndarray):
    """(result, d result / d x) of a :func:`dlcourse.cases.autodiff.random_program`, run on torch
    scalars and differentiated by autograd."""
    xt = to_tensor(x, requires_grad=True)
    root = run_program(program, list(xt.unbind()))
    root.backward()
    return np.float64(root.item()), _grad_or_zeros(xt)


def neuron_gradients(x: np.ndarray, w: np.ndarray, b: float):
    """(out, d out/dx, d out/dw, d out/db) of out = tanh(w . x + b), by autograd."""
    xt, wt = to_tensor(x, requires_grad=True), to_tensor(w, requires_grad=True)
    bt = to_tensor(np.float64(b), requires_grad=True)
    out = torch.tanh((wt * xt).sum() + bt)
    out.backward()
    return np.float64(out.item()), _grad_or_zeros(xt), _grad_or_zeros(wt), np.float64(bt.grad.item())
