"""Chapter 8's test inputs: random parameters for multi-head attention and the Transformer block, masks."""

from __future__ import annotations

import numpy as np

from ..reference.attention import BLOCK_PARAMS  # the block's parameter names, in one place


def block_params(d_model: int, d_ff: int, seed: int = 0, dtype=np.float64) -> dict[str, np.ndarray]:
    """Random parameters of a pre-norm Transformer block (nn.Linear layout, W (n_out, n_in)).

    Weights ~ N(0, 1/n_in); biases and layer-norm shifts ~ N(0, 0.3^2); layer-norm scales 1 + N(0, 0.3^2), so
    that a mistake in any of them changes the result.
    """
    rng = np.random.default_rng(seed)
    shapes = {"W1": (d_ff, d_model), "b1": (d_ff,), "W2": (d_model, d_ff)}
    params = {}
    for name in BLOCK_PARAMS:
        shape = shapes.get(name, (d_model, d_model) if name.startswith("W") else (d_model,))
        if name.startswith("W"):
            value = rng.normal(0.0, shape[1] ** -0.5, size=shape)
        else:
            value = rng.normal(0.0, 0.3, size=shape) + (1.0 if name.endswith("_g") else 0.0)
        params[name] = value.astype(dtype)
    return params


def attention_params(d_model: int, seed: int = 0, dtype=np.float64) -> dict[str, np.ndarray]:
    """Only the attention's Wq, bq, Wk, bk, Wv, bv, Wo, bo."""
    full = block_params(d_model, d_model, seed, dtype)
    return {k: full[k] for k in ("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo")}


def padding_mask(lengths, n_keys: int) -> np.ndarray:
    """(N, 1, n_keys) boolean: True for the first lengths[n] keys of sequence n (the real tokens), False after."""
    return (np.arange(n_keys)[None, :] < np.asarray(lengths)[:, None])[:, None, :]
