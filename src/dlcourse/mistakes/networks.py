"""Chapter 1 (networks): the mistakes learners make, each recognised by computing it (or, for the random
initialisation, by the statistics it leaves)."""

from __future__ import annotations

import numpy as np

from ..solved import networks as s
from . import Hint, Mismatch, mistake

sigmoid = [
    mistake(lambda x: 1.0 - s.sigmoid(x), "you computed 1 / (1 + exp(x)): the sign inside exp is flipped."),
]

tanh = [
    mistake(
        lambda x: np.abs(s.tanh(x)),
        "the sign of x is lost: tanh is odd, tanh(-x) = -tanh(x). Compute it for |x| and give it x's sign.",
    ),
    Hint(
        "digits lost to cancellation for tiny |x|: 1 - exp(-2|x|) subtracts two nearly equal numbers. "
        "np.expm1(y) computes exp(y) - 1 without that loss.",
        lambda m: _cancelled(m),
    ),
]


def _cancelled(m: Mismatch) -> bool:
    """The learner's tanh equals the cancelling formula sign(x) (1 - e) / (1 + e), e = exp(-2|x|), to 1e-9 relative,
    where the right answer differs from it by more than that (tiny |x|: mistake()'s absolute floor would hide it)."""
    pair = m.arrays()
    if pair is None or not m.args:
        return False
    x = np.asarray(m.args[0], dtype=np.float64)
    if x.shape != pair[0].shape:
        return False
    e = np.exp(-2.0 * np.abs(x))
    naive = np.sign(x) * (1.0 - e) / (1.0 + e)
    expected, got = pair
    scale = np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
    return bool(np.all(np.abs(got - naive) <= 1e-9 * scale) and np.any(np.abs(got - expected) > 1e-7 * scale))


relu = [
    mistake(lambda x: np.abs(x), "ReLU sets negative entries to 0; it does not flip their sign (that is |x|)."),
]

dense_forward = [
    mistake(
        lambda X, W, b: X @ W + b,
        "W is stored as (n_out, n_in), like nn.Linear.weight: the product is X @ W.T, not X @ W.",
    ),
    mistake(lambda X, W, b: X @ W.T, "the bias b is missing: Y = X W^T + b."),
    mistake(lambda X, W, b: X @ W.T - b, "the bias is subtracted: Y = X W^T + b."),
]


def _forward(X, params, activation="relu", *, on_output=False, bias_sign=1.0, always=None):
    """mlp_forward with one mistake: an activation after the last layer too, the bias subtracted, or always
    the same activation whatever the argument."""
    n_layers = len(params) // 2
    act = s.ACTIVATIONS[always or activation]
    caches, A = [], X
    for layer in range(1, n_layers + 1):
        Z = A @ params[f"W{layer}"].T + bias_sign * params[f"b{layer}"]
        caches.append((A, Z))
        A = act(Z) if (layer < n_layers or on_output) else Z
    return A, caches


mlp_forward = [
    mistake(
        lambda *a, **k: _forward(*a, **k, on_output=True),
        "the last layer has no activation: return its Z (the logits) as they are.",
    ),
    mistake(lambda *a, **k: _forward(*a, **k, bias_sign=-1.0), "the bias is subtracted: Z = A W^T + b."),
    mistake(
        lambda *a, **k: _forward(*a, **k, always="relu"),
        "use the `activation` argument (ACTIVATIONS[activation]), not always ReLU.",
    ),
]


# --- init_params: random draws, recognised by their statistics ----------------------------------------


def _at(m: Mismatch, name: str) -> bool:
    return bool(m.keys) and m.keys[-1] == name and m.values_differ()


def _variance_for_std(m: Mismatch) -> bool:
    pair = m.arrays()
    if not _at(m, "std") or pair is None:
        return False
    expected, got = float(pair[0]), float(pair[1])
    return abs(got - expected**2) < 0.05 * expected**2


init_params = [
    Hint(
        "the spread is the variance: rng.normal(loc, scale) takes the standard deviation as scale, "
        "sqrt(2 / n_in) for He, not 2 / n_in.",
        _variance_for_std,
    ),
    Hint(
        "the weights' spread is off. He: std = sqrt(2 / n_in); Xavier: std = sqrt(2 / (n_in + n_out)), with "
        "n_in = W.shape[1] (the layer's inputs) and n_out = W.shape[0].",
        lambda m: _at(m, "std") and not _variance_for_std(m),
    ),
    Hint("the biases start at zero: np.zeros(n_out).", lambda m: _at(m, "max_abs")),
    Hint(
        "the weights' mean is not 0: draw them centred on zero (the first argument of rng.normal is the mean).",
        lambda m: _at(m, "mean / std"),
    ),
    Hint(
        "the weights are not normally distributed (a uniform distribution has excess kurtosis -1.2, a normal one 0): "
        "draw them with rng.normal, even if another distribution has the right std.",
        lambda m: _at(m, "excess kurtosis"),
    ),
    Hint(
        "two layers got the same random numbers: make ONE generator from the seed, before the loop over layers, "
        "and draw every layer from it (a generator re-made in each layer restarts the same stream).",
        lambda m: _at(m, "correlation between layers"),
    ),
]


def _count_weights_only(sizes):
    return sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def _count_biases_of_inputs(sizes):
    return sum(n_in * n_out + n_in for n_in, n_out in zip(sizes[:-1], sizes[1:]))


count_params = [
    mistake(
        _count_weights_only, "the biases are missing: every layer has n_out of them, besides its n_out * n_in weights."
    ),
    mistake(_count_biases_of_inputs, "a layer has one bias per OUTPUT unit (n_out of them), not per input."),
    mistake(
        lambda sizes: sum(a * b + b for a, b in zip(sizes[:-2], sizes[1:-1])),
        "the last layer is missing: a network with sizes [n_0, ..., n_L] has L dense layers.",
    ),
]
