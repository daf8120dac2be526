"""Seeded generated sequences for the RNN chapter: noisy sine waves and next-step prediction pairs.

Every call with the same seed gives the same data, on every machine.
"""

from __future__ import annotations

import numpy as np


def make_noisy_sines(
    n_sequences: int = 256,
    length: int = 51,
    noise: float = 0.1,
    periods: tuple[float, float] = (8.0, 30.0),
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_sequences`` sine waves of ``length`` samples, each with its own period (uniform in ``periods``,
    in time steps), phase (uniform in [0, 2 pi)) and amplitude (uniform in [0.5, 1]).

    Returns (noisy, clean), both float64 of shape (n_sequences, length): noisy = clean + N(0, noise^2).
    """
    if int(n_sequences) != n_sequences or n_sequences < 1:
        raise ValueError(f"n_sequences must be a positive integer, got {n_sequences!r}")
    if int(length) != length or length < 2:
        raise ValueError(f"length must be an integer >= 2 (an input and a next value), got {length!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    low, high = periods
    if not 0 < low <= high:
        raise ValueError(f"periods must be (shortest, longest) with 0 < shortest <= longest, got {periods!r}")
    rng = np.random.default_rng(seed)
    n_sequences, length = int(n_sequences), int(length)
    period = rng.uniform(low, high, size=(n_sequences, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(n_sequences, 1))
    amplitude = rng.uniform(0.5, 1.0, size=(n_sequences, 1))
    clean = amplitude * np.sin(2 * np.pi * np.arange(length) / period + phase)
    return clean + rng.normal(0.0, noise, size=clean.shape), clean


def next_step_pairs(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets) for next-step prediction, each (N, T, 1) with T = length - 1:
    the input at step t is series[:, t], its target series[:, t + 1]."""
    series = np.asarray(series)
    if series.ndim != 2 or series.shape[1] < 2:
        raise ValueError(f"series must have shape (n_sequences, length) with length >= 2, got {series.shape}")
    return series[:, :-1, None], series[:, 1:, None]
