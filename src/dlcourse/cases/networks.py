"""Chapter 1's test inputs and adapters: MLP parameters with non-zero biases, and what an initialisation must get right.

Random draws cannot be compared number by number with PyTorch's, so ``init_params`` is checked through two
summaries that do not depend on the draw: :func:`init_spread` (each array's shape, each weight matrix's standard
deviation, each bias's largest entry) and :func:`init_distribution` (how the weights are distributed: their mean in
units of their spread, their excess kurtosis, and how much two consecutive layers' draws are alike).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["distribution_of", "init_distribution", "init_spread", "mlp_params", "spread_of"]


def mlp_params(
    layer_sizes: list[int], seed: int = 0, bias_scale: float = 0.5, dtype=np.float64
) -> dict[str, np.ndarray]:
    """Random MLP parameters {"W1": (n1, n0), "b1": (n1,), ...}: weights ~ N(0, 1/n_in) and biases ~ N(0, bias_scale^2).

    Non-zero biases, so that a test sees whether (and with which sign) the bias is added.
    """
    rng = np.random.default_rng(seed)
    params = {}
    for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        params[f"W{layer}"] = rng.normal(0.0, n_in**-0.5, size=(n_out, n_in)).astype(dtype)
        params[f"b{layer}"] = rng.normal(0.0, bias_scale, size=n_out).astype(dtype)
    return params


def _weights(params: dict) -> list[np.ndarray]:
    n_layers = sum(1 for key in params if str(key).startswith("W"))
    return [np.asarray(params[f"W{layer}"], dtype=np.float64) for layer in range(1, n_layers + 1)]


def spread_of(params: dict) -> dict[str, dict[str, np.ndarray]]:
    """Each array's shape; each W's standard deviation, each b's largest |entry| (biases start at zero)."""
    summary = {}
    for key, value in params.items():
        value = np.asarray(value)
        stat = (
            ("std", np.float64(value.std()))
            if str(key).startswith("W")
            else ("max_abs", np.float64(np.abs(value).max(initial=0.0)))
        )
        summary[key] = {"shape": np.array(value.shape), stat[0]: stat[1]}
    return summary


def distribution_of(params: dict) -> dict[str, np.float64]:
    """How the weights are distributed, whatever their scale (each W is first divided by its own std).

    - ``mean / std``: about 0 for zero-mean weights (the largest |value| over the layers);
    - ``excess kurtosis``: about 0 for a normal distribution, -1.2 for a uniform one (the one farthest from 0);
    - ``correlation between layers``: the largest |correlation| of the first entries of two consecutive layers'
      draws; about 0 for independent draws, 1 when every layer restarts the same random stream.
    """
    weights = _weights(params)
    if not weights:
        raise ValueError("the parameters hold no weight matrix W1")
    standardised = [(W - W.mean()) / W.std() for W in weights]
    mean = max(abs(W.mean() / W.std()) for W in weights)
    kurtosis = max((np.mean(z**4) - 3.0 for z in standardised), key=abs)
    correlation = 0.0
    for first, second in zip(standardised[:-1], standardised[1:]):
        n = min(first.size, second.size)
        a, b = first.ravel()[:n], second.ravel()[:n]
        correlation = max(correlation, abs(float(np.corrcoef(a, b)[0, 1])))
    return {
        "mean / std": np.float64(mean),
        "excess kurtosis": np.float64(kurtosis),
        "correlation between layers": np.float64(correlation),
    }


def init_spread(init_params: Callable) -> Callable:
    """check adapter: ``(layer_sizes, method)`` -> :func:`spread_of` of ``init_params(layer_sizes, method, seed=0)``."""

    def spread(layer_sizes, method):
        return spread_of(init_params(layer_sizes, method=method, seed=0))

    spread.__name__ = getattr(init_params, "__name__", "init_params")
    return spread


def init_distribution(init_params: Callable) -> Callable:
    """check adapter: ``(layer_sizes, method)`` -> :func:`distribution_of` of ``init_params(layer_sizes, method, seed=0)``."""

    def distribution(layer_sizes, method):
        return distribution_of(init_params(layer_sizes, method=method, seed=0))

    distribution.__name__ = getattr(init_params, "__name__", "init_params")
    return distribution
