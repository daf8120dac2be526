"""Seeded 2-D toy problems for plots of decision regions: every call with the same seed gives the same data."""

from __future__ import annotations

import numpy as np


def _check_counts(n: int, noise: float) -> None:
    if int(n) != n or n < 1:
        raise ValueError(f"the number of points must be a positive integer, got {n!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: X (n, 2) float64, y (n,) int64 in {0, 1}."""
    _check_counts(n, noise)
    rng = np.random.default_rng(seed)
    n_top = n // 2
    angles = np.concatenate([np.linspace(0, np.pi, n_top), np.linspace(0, np.pi, n - n_top)])
    top = np.stack([np.cos(angles[:n_top]), np.sin(angles[:n_top])], axis=1)
    bottom = np.stack([1 - np.cos(angles[n_top:]), 0.5 - np.sin(angles[n_top:])], axis=1)
    X = np.concatenate([top, bottom]) + rng.normal(0, noise, size=(n, 2))
    y = np.concatenate([np.zeros(n_top, np.int64), np.ones(n - n_top, np.int64)])
    order = rng.permutation(n)
    return X[order], y[order]


def make_spirals(
    n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """cs231n's spirals: ``n_classes`` arms, X (n_per_class * n_classes, 2) float64, y int64."""
    _check_counts(n_per_class, noise)
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k in range(n_classes):
        radius = np.linspace(0.0, 1.0, n_per_class)
        theta = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + rng.normal(0, noise, n_per_class)
        X.append(np.stack([radius * np.sin(theta), radius * np.cos(theta)], axis=1))
        y.append(np.full(n_per_class, k, dtype=np.int64))
    return np.concatenate(X), np.concatenate(y)


def make_blobs(n: int = 200, centers: int = 3, std: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs around ``centers`` points on a circle of radius 2: X (n, 2) float64, y int64."""
    _check_counts(n, std)
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(centers) / centers
    means = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    y = rng.integers(0, centers, size=n, dtype=np.int64)
    return means[y] + rng.normal(0, std, size=(n, 2)), y
