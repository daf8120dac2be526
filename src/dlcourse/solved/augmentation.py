"""Chapter 5 (CNN), solved: data augmentation of image batches (N, C, H, W) in NumPy, seeded.

Augmentation makes new training images from old ones by changes that keep the label: mirror the
image left-right, move it a few pixels, turn it a few degrees. Pixels that come in from outside the
image are zeros ("zero fill"), not the pixels that left on the other side (that would be np.roll).
"""

from __future__ import annotations

import numpy as np


def _check_images(images: np.ndarray) -> None:
    if np.ndim(images) != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {np.shape(images)}")


def flip_horizontal(images: np.ndarray) -> np.ndarray:
    """Every image of (N, C, H, W) mirrored left-right (the last axis, W)."""
    return images[..., ::-1].copy()


def shift_images(images: np.ndarray, dy, dx) -> np.ndarray:
    """Image n moved down by dy[n] and right by dx[n] pixels (negative: up, left); zeros come in.

    ``dy`` and ``dx`` are integers or integer arrays of length N: out[n, :, r, c] = images[n, :, r - dy[n], c - dx[n]].
    """
    n, _, h, w = images.shape
    dy, dx = np.broadcast_to(dy, (n,)), np.broadcast_to(dx, (n,))
    out = np.zeros_like(images)
    for i in range(n):
        sy, sx = int(dy[i]), int(dx[i])
        if abs(sy) < h and abs(sx) < w:
            out[i, :, max(sy, 0) : h + min(sy, 0), max(sx, 0) : w + min(sx, 0)] = images[
                i, :, max(-sy, 0) : h + min(-sy, 0), max(-sx, 0) : w + min(-sx, 0)
            ]
    return out


def random_augment(images: np.ndarray, seed: int = 0, max_shift: int = 2) -> np.ndarray:
    """Flip each image left-right with probability 1/2, then shift it by a random number of pixels in
    -max_shift..max_shift along each axis. Draws, from ``rng = np.random.default_rng(seed)``, in this order:
    ``flip = rng.random(N) < 0.5``, ``dy = rng.integers(-max_shift, max_shift + 1, size=N)``, then dx likewise."""
    n = images.shape[0]
    rng = np.random.default_rng(seed)
    flip = rng.random(n) < 0.5
    dy = rng.integers(-max_shift, max_shift + 1, size=n)
    dx = rng.integers(-max_shift, max_shift + 1, size=n)
    flipped = np.where(flip[:, None, None, None], flip_horizontal(images), images)
    return shift_images(flipped, dy, dx)


def rotate_images(images: np.ndarray, degrees) -> np.ndarray:
    """Image n turned counter-clockwise by degrees[n] about its centre, nearest-neighbour, zero fill.

    Each output pixel looks up the input pixel that the rotation brings onto it (the inverse rotation),
    rounded to the nearest pixel; 90 degrees on a square image is exactly ``np.rot90``.
    """
    _check_images(images)
    n, _, h, w = images.shape
    theta = np.deg2rad(np.broadcast_to(np.asarray(degrees, dtype=np.float64), (n,)))[:, None, None]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    rows, cols = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")
    # screen coordinates (x right, y up) of each output pixel, turned back by -theta
    x, y = cols[None], -rows[None]
    src_x = np.cos(theta) * x + np.sin(theta) * y
    src_y = -np.sin(theta) * x + np.cos(theta) * y
    src_r, src_c = np.rint(cy - src_y).astype(int), np.rint(src_x + cx).astype(int)
    inside = (src_r >= 0) & (src_r < h) & (src_c >= 0) & (src_c < w)
    batch = np.arange(n)[:, None, None]
    out = images[batch, :, np.clip(src_r, 0, h - 1), np.clip(src_c, 0, w - 1)]  # (n, h, w, C)
    return np.where(inside[..., None], out, 0).transpose(0, 3, 1, 2).astype(images.dtype, copy=False)


def random_rotate(images: np.ndarray, max_degrees: float = 15.0, seed: int = 0) -> np.ndarray:
    """Each image turned by an angle drawn uniformly from [-max_degrees, max_degrees]."""
    _check_images(images)
    angles = np.random.default_rng(seed).uniform(-max_degrees, max_degrees, size=images.shape[0])
    return rotate_images(images, angles)
