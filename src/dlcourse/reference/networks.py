"""PyTorch references for chapter 1 (networks): activations, dense layer, MLP, parameter count."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..device import get_device, to_numpy, to_tensor

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def sigmoid(x: np.ndarray) -> np.ndarray:
    return to_numpy(torch.sigmoid(to_tensor(x)))


def tanh(x: np.ndarray) -> np.ndarray:
    return to_numpy(torch.tanh(to_tensor(x)))


def relu(x: np.ndarray) -> np.ndarray:
    return to_numpy(torch.relu(to_tensor(x)))


def dense_forward(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Y = X W^T + b, with W laid out as ``nn.Linear.weight``: (n_out, n_in)."""
    return to_numpy(F.linear(to_tensor(X), to_tensor(W), to_tensor(b)))


def build_mlp(params: dict[str, np.ndarray], activation: str = "relu") -> nn.Sequential:
    """An ``nn.Sequential`` of Linear layers (activation between them, none after the last),
    float64 on the reference device, with weights copied from ``params`` (W1, b1, W2, b2, ...)."""
    n_layers = count_layers(params)
    layers: list[nn.Module] = []
    for layer in range(1, n_layers + 1):
        W, b = params[f"W{layer}"], params[f"b{layer}"]
        linear = nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(W, dtype=torch.float64))
            linear.bias.copy_(torch.as_tensor(b, dtype=torch.float64))
        layers.append(linear)
        if layer < n_layers:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers).to(get_device())


def count_layers(params: dict[str, np.ndarray]) -> int:
    """How many dense layers a params dict holds, checking that W1, b1, ..., WL, bL are all there."""
    n_layers = sum(1 for key in params if key.startswith("W"))
    expected = {f"{p}{i}" for i in range(1, n_layers + 1) for p in "Wb"}
    if set(params) != expected:
        raise ValueError(f"params must hold exactly {sorted(expected)}, got {sorted(params)}")
    return n_layers


def mlp_forward(X: np.ndarray, params: dict[str, np.ndarray], activation: str = "relu"):
    """(output, caches) of an MLP run by ``nn.Sequential``; caches[l] = (input of layer l+1, its pre-activation Z)."""
    model = build_mlp(params, activation)
    caches, a = [], to_tensor(X)
    with torch.no_grad():
        for module in model:
            if isinstance(module, nn.Linear):
                z = module(a)
                caches.append((to_numpy(a), to_numpy(z)))
                a = z
            else:
                a = module(a)
    return to_numpy(a), caches


def count_params(layer_sizes: list[int]) -> int:
    """The number of trainable parameters of the MLP with these layer sizes, as PyTorch counts them."""
    model = nn.Sequential(*[nn.Linear(i, o) for i, o in zip(layer_sizes[:-1], layer_sizes[1:])])
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def init_params(layer_sizes: list[int], method: str = "he", seed: int = 0) -> dict[str, np.ndarray]:
    """Weights initialised by PyTorch's own initialisers, zero biases, as a params dict.

    ``he``: ``nn.init.kaiming_normal_(W, nonlinearity="relu")``, std sqrt(2 / fan_in);
    ``xavier``: ``nn.init.xavier_normal_(W)``, std sqrt(2 / (fan_in + fan_out)).
    """
    initialisers = {
        "he": lambda w, g: nn.init.kaiming_normal_(w, nonlinearity="relu", generator=g),
        "xavier": lambda w, g: nn.init.xavier_normal_(w, generator=g),
    }
    if method not in initialisers:
        raise ValueError(f"method must be one of {sorted(initialisers)}, got {method!r}")
    generator = torch.Generator().manual_seed(seed)
    params = {}
    for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        W = torch.empty(n_out, n_in, dtype=torch.float64)
        initialisers[method](W, generator)
        params[f"W{layer}"], params[f"b{layer}"] = W.numpy(), np.zeros(n_out)
    return params
