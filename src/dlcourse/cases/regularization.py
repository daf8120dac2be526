"""Chapter 7 (training in practice)'s test inputs and adapters: numbered examples whose split can be followed,
parameters with non-zero biases, gradients shaped like them, dropout masks, realistic validation curves, what a
split must get right (compared with PyTorch's ``random_split``), and dropout with PyTorch's own mask."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..checking import randint, randn
from ..reference import regularization as ref
from ..solved.networks import init_params

__all__ = [
    "batchnorm_inputs",
    "dropout_with_torch_mask",
    "grads_like",
    "keep_mask",
    "mlp_params",
    "noisy_curve",
    "numbered",
    "split_summary",
    "summarize_split",
    "torch_dropout_output",
]


def numbered(n: int, *shape: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Examples whose first entry numbers them 0..n-1 (so a test can follow each row), and labels in 0..2."""
    X = randn(n, *shape, seed=seed)
    X.reshape(n, -1)[:, 0] = np.arange(n)
    return X, randint(0, 3, n, seed=seed + 1)


def summarize_split(X: np.ndarray, y: np.ndarray, X_train, y_train, X_val, y_val) -> dict[str, np.ndarray]:
    """What a split must get right, independent of the random draw, for X whose first entry in each row numbers
    the rows 0..N-1: the sizes, every row exactly once, labels that travel with their rows, the dtypes kept, and a
    shuffle (the validation rows are not simply the first or the last rows: for a random choice of 5 or more rows
    out of 16 or more, that happens with a probability below 1 in 6000)."""

    def ids(part):
        part = np.asarray(part)
        return part.reshape(part.shape[0], -1)[:, 0].astype(np.int64)

    ids_train, ids_val = ids(X_train), ids(X_val)
    every = np.concatenate([ids_train, ids_val])
    return {
        "n_train": np.int64(len(ids_train)),
        "n_val": np.int64(len(ids_val)),
        "every_row_once": np.array_equal(np.sort(every), np.arange(X.shape[0])),
        "rows_intact": np.array_equal(X_train, X[ids_train]) and np.array_equal(X_val, X[ids_val]),
        "labels_follow_rows": np.array_equal(y_train, y[ids_train]) and np.array_equal(y_val, y[ids_val]),
        "dtypes_kept": np.asarray(X_train).dtype == X.dtype and np.asarray(y_train).dtype == y.dtype,
        "shuffled": not (
            set(ids_val) <= set(range(len(ids_val))) or set(ids_val) <= set(range(len(ids_train), X.shape[0]))
        ),
    }


def split_summary(X: np.ndarray, y: np.ndarray, val_fraction: float, seed: int = 0) -> dict[str, np.ndarray]:
    """:func:`summarize_split` of PyTorch's ``random_split``: what the learner's split must match."""
    return summarize_split(X, y, *ref.train_val_split(X, y, val_fraction, seed))


def mlp_params(sizes: list[int], seed: int) -> dict[str, np.ndarray]:
    """He-initialised weights and (unlike a fresh network) non-zero biases, so that penalising them shows."""
    params = init_params(sizes, seed=seed)
    return {k: v + randn(*v.shape, seed=seed + 100) if k.startswith("b") else v for k, v in params.items()}


def grads_like(params: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """Random gradients shaped (and typed) like ``params``."""
    return {k: randn(*v.shape, seed=seed + i).astype(v.dtype) for i, (k, v) in enumerate(params.items())}


def keep_mask(shape: tuple[int, ...], p: float, seed: int) -> np.ndarray:
    """A boolean dropout mask: True (keep) with probability 1 - p."""
    return np.random.default_rng(seed).random(shape) >= p


def noisy_curve(n: int, seed: int) -> np.ndarray:
    """A validation curve that falls, wiggles and rises, like a real one."""
    t = np.arange(n)
    return 1.0 / (1 + 0.3 * t) + 0.004 * t + 0.02 * np.random.default_rng(seed).standard_normal(n)


def dropout_with_torch_mask(dropout_forward: Callable) -> Callable:
    """``(X, p, seed) -> dropout_forward(X, mask, p)`` with the mask ``F.dropout`` draws under that seed."""

    def with_torch_mask(X, p, seed):
        return dropout_forward(X, ref.torch_dropout(X, p, seed)[1], p)

    with_torch_mask.__name__ = getattr(dropout_forward, "__name__", "dropout_forward")
    return with_torch_mask


def torch_dropout_output(X: np.ndarray, p: float, seed: int) -> np.ndarray:
    """What ``F.dropout(X, p, training=True)`` returns under ``torch.manual_seed(seed)``."""
    return ref.torch_dropout(X, p, seed)[0]


def batchnorm_inputs(n: int, d: int, seed: int = 0, offset: float = 2.0, dtype=np.float64):
    """(X, gamma, beta, running_mean, running_var) for batch normalisation: X (n, d) with per-feature means around
    ``offset`` and spreads around 2, gamma around 1 and beta around 0 (both clearly not 1 and 0), and running
    statistics unlike the batch's."""
    rng = np.random.default_rng(seed)
    X = offset + rng.normal(0.0, 1.0, size=d) + rng.uniform(0.5, 3.0, size=d) * rng.standard_normal((n, d))
    gamma, beta = 1.0 + 0.5 * rng.standard_normal(d), 0.5 * rng.standard_normal(d)
    running_mean, running_var = 0.3 * rng.standard_normal(d), rng.uniform(0.5, 2.0, size=d)
    return tuple(a.astype(dtype) for a in (X, gamma, beta, running_mean, running_var))
