"""A small offline colour-image set for the CNN chapter: ten kinds of shapes, generated from a seed.

Every image is (3, size, size) like a CIFAR-10 image: one shape in a random colour, at a random place and
scale, on a random background colour (a light shape on a dark background or the other way round), with a
little pixel noise. The class is the shape. All ten shapes
are symmetric left-right, so a horizontal flip keeps the label (as it does for CIFAR-10's cats and
ships); a small rotation or shift keeps it too. Nothing is downloaded and no file is read.
"""

from __future__ import annotations

import numpy as np

SHAPE_NAMES = (
    "circle",
    "ring",
    "square",
    "diamond",
    "triangle up",
    "triangle down",
    "plus",
    "cross",
    "horizontal bar",
    "vertical bar",
)


def _bar(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    return (np.abs(p) <= 1.0) & (np.abs(q) <= 0.3)


def _turned(u: np.ndarray, v: np.ndarray):
    """The coordinates turned by 45 degrees."""
    return (u + v) / np.sqrt(2.0), (u - v) / np.sqrt(2.0)


# label -> mask of the shape, in coordinates (u right, v down) scaled to the shape's radius
_SHAPES = (
    lambda u, v: np.hypot(u, v) <= 1.0,
    lambda u, v: (np.hypot(u, v) <= 1.0) & (np.hypot(u, v) >= 0.55),
    lambda u, v: np.maximum(np.abs(u), np.abs(v)) <= 0.8,
    lambda u, v: np.abs(u) + np.abs(v) <= 1.0,
    lambda u, v: (np.abs(u) <= 0.55 * (v + 1.0)) & (v <= 0.8),
    lambda u, v: (np.abs(u) <= 0.55 * (1.0 - v)) & (v >= -0.8),
    lambda u, v: _bar(u, v) | _bar(v, u),
    lambda u, v: _bar(*_turned(u, v)) | _bar(*_turned(u, v)[::-1]),
    lambda u, v: _bar(u, v),
    lambda u, v: _bar(v, u),
)


def make_shapes(n: int, size: int = 32, seed: int = 0, noise: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (n, 3, size, size), float64 in [0, 1], and their labels (n,) int64 in 0..9 (see SHAPE_NAMES)."""
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if int(size) != size or size < 8:
        raise ValueError(f"size must be an integer >= 8, got {size!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(SHAPE_NAMES), size=n)
    radius = rng.uniform(0.25, 0.4, size=n) * size
    centre = size / 2 + rng.uniform(-0.1, 0.1, size=(2, n)) * size
    # light shape on a dark background or dark on light, each channel drawn separately: random hues,
    # and a contrast of at least 0.1 (usually far more) in every channel
    dark, light = rng.uniform(0.0, 0.45, size=(n, 3)), rng.uniform(0.55, 1.0, size=(n, 3))
    light_shape = rng.random(n)[:, None] < 0.5
    colour, background = np.where(light_shape, light, dark), np.where(light_shape, dark, light)
    grid = np.arange(size) + 0.5
    u = (grid[None, None, :] - centre[0][:, None, None]) / radius[:, None, None]
    v = (grid[None, :, None] - centre[1][:, None, None]) / radius[:, None, None]
    masks = np.zeros((n, size, size), dtype=bool)
    for label, shape in enumerate(_SHAPES):
        chosen = labels == label
        masks[chosen] = shape(u[chosen], v[chosen])
    images = np.where(masks[:, None], colour[:, :, None, None], background[:, :, None, None])
    images = images + noise * rng.standard_normal(images.shape)
    return np.clip(images, 0.0, 1.0), labels.astype(np.int64)


def load_shapes(n_train: int = 2000, n_test: int = 500, size: int = 32, seed: int = 0):
    """(X_train, y_train, X_test, y_test) of the shapes set, in the layout of a CIFAR-10 loader:
    images (n, 3, size, size) float64 in [0, 1], labels int64. Train and test come from different seeds."""
    X_train, y_train = make_shapes(n_train, size, seed=seed)
    X_test, y_test = make_shapes(n_test, size, seed=seed + 10_000)
    return X_train, y_train, X_test, y_test
