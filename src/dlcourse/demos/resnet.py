"""Chapter 5 (modern CNN pieces)'s demos: a deep, narrow CNN for the 8 x 8 digits, built with or without skip
connections and with or without batch normalisation, trained in PyTorch; the statistics of its feature maps
and the gradient norm of every layer at initialisation; and reading a trained block into NumPy."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..solved.gradient_descent import minibatches


class Block(nn.Module):
    """conv 3x3 -> BN -> ReLU -> conv 3x3 -> BN, + x when ``skip``, -> ReLU; ``norm=False`` drops the BNs
    (the convolutions then get a bias)."""

    def __init__(self, width: int, skip: bool = True, norm: bool = True):
        super().__init__()
        self.skip = skip
        self.conv1 = nn.Conv2d(width, width, 3, padding=1, bias=not norm)
        self.bn1 = nn.BatchNorm2d(width) if norm else nn.Identity()
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=not norm)
        self.bn2 = nn.BatchNorm2d(width) if norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + x if self.skip else out)


class DigitsNet(nn.Module):
    """stem (conv 3x3 1 -> width, BN, ReLU) -> ``depth`` blocks at 8 x 8 -> global average pooling -> linear 10."""

    def __init__(self, depth: int, skip: bool = True, norm: bool = True, width: int = 16):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1, bias=not norm),
            nn.BatchNorm2d(width) if norm else nn.Identity(),
            nn.ReLU(),
        )
        self.blocks = nn.ModuleList(Block(width, skip, norm) for _ in range(depth))
        self.head = nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.stem(x)
        for block in self.blocks:
            a = block(a)
        return self.head(a.mean(dim=(2, 3)))


def make_net(depth: int, skip: bool, norm: bool = True, seed: int = 0, width: int = 16) -> DigitsNet:
    """A :class:`DigitsNet` with PyTorch's default initialisation drawn from ``seed`` (float32, CPU)."""
    torch.manual_seed(seed)
    return DigitsNet(depth, skip, norm, width)


def train(
    model: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 3e-3,
    seed: int = 0,
) -> list[float]:
    """Adam on the cross-entropy, mini-batches from :func:`minibatches` (epoch e shuffled with seed + e):
    the training loss of every step."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for epoch in range(epochs):
        for X_batch, y_batch in minibatches(X, y, batch_size, seed=seed + epoch):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(torch.as_tensor(X_batch, dtype=torch.float32)), torch.as_tensor(y_batch))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return losses


def accuracy(model: nn.Module, X: np.ndarray, y: np.ndarray) -> float:
    """Test accuracy in evaluation mode (BN with its running statistics)."""
    model.eval()
    with torch.no_grad():
        return float((model(torch.as_tensor(X, dtype=torch.float32)).argmax(1).numpy() == y).mean())


def feature_stats(model: DigitsNet, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, std) of the feature maps after the stem and after every block, on X, in training mode
    (batch statistics), without gradients."""
    model.train()
    means, stds = [], []
    with torch.no_grad():
        a = model.stem(torch.as_tensor(X, dtype=torch.float32))
        for block in [None, *model.blocks]:
            if block is not None:
                a = block(a)
            means.append(a.mean().item())
            stds.append(a.std().item())
    return np.array(means), np.array(stds)


def layer_gradient_norms(model: DigitsNet, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """||dL/dW|| of every convolution (stem first, then two per block), for the cross-entropy on (X, y)."""
    model.train()
    model.zero_grad()
    F.cross_entropy(model(torch.as_tensor(X, dtype=torch.float32)), torch.as_tensor(y)).backward()
    convs = [model.stem[0]] + [c for b in model.blocks for c in (b.conv1, b.conv2)]
    return np.array([c.weight.grad.norm().item() for c in convs])


def block_params(block: Block) -> dict[str, np.ndarray]:
    """A trained block's weights and BN buffers as the NumPy dict of the exercises ("W1", "gamma1", ..., float64)."""
    params = {}
    for key, conv, bn in (("1", block.conv1, block.bn1), ("2", block.conv2, block.bn2)):
        params["W" + key] = conv.weight.detach().double().numpy()
        for name, tensor in (
            ("gamma", bn.weight),
            ("beta", bn.bias),
            ("mean", bn.running_mean),
            ("var", bn.running_var),
        ):
            params[name + key] = tensor.detach().double().numpy()
    return params
