"""PyTorch references for chapter 2's autodiff notebook: ``torch.autograd`` on the same operations and programs
as the learner's engine of Values, in float64 on :func:`dlcourse.device.get_device`.

A *program* (``dlcourse.cases.autodiff.random_program``) is a list of steps; :func:`run_program` defines what
they compute, on torch scalars here and on Values or floats in the tests."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

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


def program_values(program: list[tuple], leaves: list) -> list:
    """Every node of the program on ``leaves``: the leaves, then one value per step."""
    nodes = list(leaves)
    for step in program:
        nodes.append(_apply(step, nodes))
    return nodes


def _apply(step, nodes):
    op, i, *rest = step
    a = nodes[i]
    if op == "add":
        return a + nodes[rest[0]]
    if op == "mul":
        return a * nodes[rest[0]]
    if op == "sub":
        return a - nodes[rest[0]]
    if op == "add_const":
        return rest[0] + a
    if op == "mul_const":
        return rest[0] * a
    if op == "square":
        return a**2
    if op == "cube":
        return a**3
    if op == "tanh":
        return a.tanh() if hasattr(a, "tanh") else math.tanh(a)
    if op == "relu":
        return a.relu() if hasattr(a, "relu") else max(a, 0.0)
    raise ValueError(f"unknown operation {op!r} in a program")


def run_program(program: list[tuple], leaves: list):
    """The program's result on ``leaves`` (Values, torch scalars or floats): the last node."""
    return program_values(program, leaves)[-1]


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
