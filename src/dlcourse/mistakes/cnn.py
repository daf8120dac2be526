"""Chapter 5 (CNN and augmentation): the mistakes learners make, each recognised by computing it.

Every wrong function takes the checked function's arguments and returns a whole result shaped like the
reference's, computed in NumPy from :mod:`dlcourse.solved.cnn` / :mod:`dlcourse.solved.augmentation`
with one thing changed. Hints recognised by a shape or a circumstance speak only when values differ
(or shapes do), never on a result that is right but of another dtype.
"""

from __future__ import annotations

import numpy as np

from ..solved import augmentation as aug
from ..solved import cnn as s
from . import Hint, Mismatch, mistake


def _arg(m: Mismatch, index: int, name: str, default=None):
    """The checked call's argument ``name`` (given at position ``index`` or by keyword)."""
    if name in m.kwargs:
        return m.kwargs[name]
    return m.args[index] if len(m.args) > index else default


def _output_size_off(m: Mismatch) -> bool:
    """The result's H or W is one more or one less than it should be."""
    e, g = np.shape(m.expected), np.shape(m.got)
    return len(e) == len(g) == 4 and e[:2] == g[:2] and e != g and all(abs(a - b) <= 1 for a, b in zip(e[2:], g[2:]))


def _padding_once(x, w, b, stride=1, padding=0):
    """Zeros added on one side only (top and left)."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, 0), (padding, 0)))
    return s.conv2d_forward(xp, w, b, stride, 0)


def _stride_ignored_in_index(x, w, b, stride=1, padding=0):
    """The right output size, but window (r, c) read at (r, c) instead of (r*S, c*S)."""
    full = s.conv2d_forward(x, w, b, 1, padding)
    h_out = (x.shape[2] + 2 * padding - w.shape[2]) // stride + 1
    w_out = (x.shape[3] + 2 * padding - w.shape[3]) // stride + 1
    return full[:, :, :h_out, :w_out]


conv2d_forward = [
    mistake(
        lambda x, w, b, stride=1, padding=0: s.conv2d_forward(x, w[:, :, ::-1, ::-1], b, stride, padding),
        "you flipped the kernel (the convolution of a maths textbook). F.conv2d does not flip: "
        "out[n, f, r, c] = sum of w[f, k, i, j] * x_pad[n, k, r*S + i, c*S + j].",
    ),
    mistake(
        lambda x, w, b, stride=1, padding=0: s.conv2d_forward(x, w, 0 * b, stride, padding),
        "the bias is missing: add b[f] to every output pixel of filter f.",
    ),
    mistake(
        _stride_ignored_in_index,
        "the output has the right size, but its windows were read at (r, c) instead of (r*S, c*S): output "
        "pixel (r, c) reads the window whose top-left corner is row r*S, column c*S of the padded input.",
    ),
    Hint(
        "the output size is off by one: H_out = (H + 2P - kH) // S + 1 (the +1 counts the first window "
        "position; padding goes on both sides, hence 2P).",
        _output_size_off,
    ),
    Hint(
        "padding goes on BOTH sides of each spatial axis: P rows on top and P at the bottom, P columns left "
        "and P right, so the padded image is (H + 2P) x (W + 2P).",
        lambda m: (
            _arg(m, 4, "padding", 0) > 0
            and np.shape(m.got) == np.shape(_padding_once(*m.args, **m.kwargs)) != np.shape(m.expected)
        ),
    ),
]
conv2d_forward_loops = conv2d_forward


def _padded_dx(m: Mismatch) -> bool:
    e, g = np.shape(m.expected), np.shape(m.got)
    p = _arg(m, 4, "padding", 0)
    return len(e) == 4 and p > 0 and g == e[:2] + (e[2] + 2 * p, e[3] + 2 * p)


def _assigning(dout, x, w, stride=1, padding=0):
    """col2im with = instead of +=: overlapping windows overwrite each other."""
    n, c, h, wd = x.shape
    n_filters, _, kh, kw = w.shape
    h_out, w_out = dout.shape[2:]
    _, dw, db = s.conv2d_backward(dout, x, w, stride, padding)
    dcols = (w.reshape(n_filters, -1).T @ dout.reshape(n, n_filters, -1)).reshape(n, c, kh, kw, h_out, w_out)
    dx_pad = np.zeros((n, c, h + 2 * padding, wd + 2 * padding), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx_pad[:, :, i : i + stride * h_out : stride, j : j + stride * w_out : stride] = dcols[:, :, i, j]
    return dx_pad[:, :, padding : padding + h, padding : padding + wd], dw, db


def _transposed_filters(dout, x, w, stride=1, padding=0):
    """dw computed as if the filters' (C_out, C_in) axes were swapped (only possible when they are equal)."""
    dx, dw, db = s.conv2d_backward(dout, x, w, stride, padding)
    return dx, dw.transpose(1, 0, 2, 3), db


conv2d_backward = [
    Hint(
        "db has one entry per filter: sum dout over the batch AND both spatial axes.",
        lambda m: np.shape(m.got) != np.shape(m.expected),
        output="db",
    ),
    Hint(
        "dx still has the padding: cut it off, keeping rows and columns P .. P + H - 1 (and P .. P + W - 1).",
        _padded_dx,
        output="dx",
    ),
    mistake(
        _assigning,
        "the windows overlap here (kernel larger than the stride): an input pixel read by several "
        "windows gets the SUM of their gradients. Accumulate, never overwrite.",
        output="dx",
    ),
    mistake(
        lambda dout, x, w, stride=1, padding=0: s.conv2d_backward(dout[:, :, ::-1, ::-1], x, w, stride, padding),
        "dout was read back to front: dout[n, f, r, c] belongs to the window at (r*S, c*S).",
    ),
]


def _every_max(dout, x, size=2, stride=None):
    """On a tie, the gradient to every maximum of the window (non-overlapping windows)."""
    stride = size if stride is None else stride
    pooled = s.maxpool_forward(x, size, stride)
    dx = np.zeros(x.shape, dtype=dout.dtype)
    h_out, w_out = pooled.shape[2:]
    for i in range(size):
        for j in range(size):
            window = x[:, :, i : i + stride * h_out : stride, j : j + stride * w_out : stride]
            dx[:, :, i : i + stride * h_out : stride, j : j + stride * w_out : stride] += dout * (window == pooled)
    return dx


def _pool_assigning(dout, x, size=2, stride=None):
    stride = size if stride is None else stride
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, h_out, w_out = windows.shape[:4]
    first = windows.reshape(n, c, h_out, w_out, -1).argmax(axis=4)
    dx = np.zeros(x.shape, dtype=dout.dtype)
    for i in range(size):
        for j in range(size):
            dx[:, :, i : i + stride * h_out : stride, j : j + stride * w_out : stride] = dout * (first == i * size + j)
    return dx


def _flip_hw(a: np.ndarray) -> np.ndarray:
    return a[:, :, ::-1, ::-1]


maxpool_forward = [
    mistake(
        lambda x, size=2, stride=None: np.maximum(s.maxpool_forward(x, size, stride), 0),
        "negative maxima became 0: start the maximum at -inf (or at the window's first value), not at 0.",
    ),
    Hint("the output size is off by one: H_out = (H - size) // stride + 1.", _output_size_off),
    Hint(
        "the stride was ignored: windows start every `stride` pixels (stride=None means stride = size).",
        lambda m: (
            _arg(m, 2, "stride") not in (None, _arg(m, 1, "size", 2))
            and np.shape(m.got) == np.shape(s.maxpool_forward(m.args[0], _arg(m, 1, "size", 2))) != np.shape(m.expected)
        ),
    ),
]

maxpool_backward = [
    mistake(
        lambda dout, x, size=2, stride=None: _flip_hw(s.maxpool_backward(_flip_hw(dout), _flip_hw(x), size, stride)),
        "on a tie your gradient went to the LAST maximum of the window. PyTorch gives it to the FIRST one in "
        "row-major order (top row first, left to right).",
    ),
    mistake(
        _every_max,
        "on a tie you sent the gradient to EVERY maximum of the window, so it counts twice. It goes to one "
        "entry only: the first maximum in row-major order.",
    ),
    mistake(
        _pool_assigning,
        "the windows overlap here (stride < size): an entry that is the maximum of several windows gets the "
        "SUM of their gradients. Accumulate, never overwrite.",
    ),
]

flatten = [
    mistake(
        lambda x: s.flatten(x.transpose(0, 2, 3, 1)),
        "you flattened channels-last (h, w, c), Keras's order; nn.Flatten on NCHW goes channel, row, column.",
    ),
    Hint(
        "keep the batch axis: flatten each example, (N, C, H, W) -> (N, C*H*W), not everything into one vector.",
        lambda m: np.ndim(m.got) == 1,
    ),
]

flatten_backward: list[Hint] = []

flip_horizontal = [
    mistake(
        lambda images: images[:, :, ::-1], "you flipped upside down (axis 2 is H). Left-right is the last axis, W."
    ),
    mistake(
        lambda images: images[:, ::-1], "you reversed the colour channels (axis 1). Left-right is the last axis, W."
    ),
    mistake(
        lambda images: images[::-1], "you reversed the order of the images (axis 0). Left-right is the last axis, W."
    ),
]


def _rolled(images, dy, dx):
    n = images.shape[0]
    dy, dx = np.broadcast_to(dy, (n,)), np.broadcast_to(dx, (n,))
    return np.stack([np.roll(im, (int(a), int(b)), axis=(1, 2)) for im, a, b in zip(images, dy, dx)])


shift_images = [
    mistake(_rolled, "pixels that leave one side came back on the other (a roll). Fill with zeros instead."),
    mistake(
        lambda images, dy, dx: aug.shift_images(images, -np.asarray(dy), -np.asarray(dx)),
        "the direction is reversed: positive dy moves the picture DOWN, out[r] = x[r - dy].",
    ),
    mistake(
        lambda images, dy, dx: aug.shift_images(images, dx, dy),
        "dy and dx are swapped: dy moves along the rows (axis 2, down), dx along the columns (axis 3, right).",
    ),
]


def _augment(images, seed=0, max_shift=2, *, order="flip dy dx", shift_first=False):
    n = images.shape[0]
    rng = np.random.default_rng(seed)
    draws = {}
    for what in order.split():
        draws[what] = rng.random(n) < 0.5 if what == "flip" else rng.integers(-max_shift, max_shift + 1, size=n)
    flip = draws["flip"][:, None, None, None]
    if shift_first:
        shifted = aug.shift_images(images, draws["dy"], draws["dx"])
        return np.where(flip, aug.flip_horizontal(shifted), shifted)
    return aug.shift_images(np.where(flip, aug.flip_horizontal(images), images), draws["dy"], draws["dx"])


random_augment = [
    mistake(
        lambda images, seed=0, max_shift=2: _augment(images, seed, max_shift, order="flip dx dy"),
        "the draws come in the wrong order: flip first, then dy, then dx (the test replays them in that order).",
    ),
    mistake(
        lambda images, seed=0, max_shift=2: _augment(images, seed, max_shift, order="dy dx flip"),
        "the draws come in the wrong order: the flips are drawn first, then dy, then dx.",
    ),
    mistake(
        lambda images, seed=0, max_shift=2: _augment(images, seed, max_shift, shift_first=True),
        "mirror first, then shift: mirroring a shifted image moves it the other way.",
    ),
    Hint(
        "draw exactly as prescribed, from ONE generator made from the seed: the flips, then dy, then dx, each "
        "of size N, with the shifts in -max_shift..max_shift inclusive; mirror first, then shift.",
        lambda m: m.values_differ(),
    ),
]
