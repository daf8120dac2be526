"""Chapter 4's demos: the probability-based binary cross-entropy, clipped as Keras does, beside the logit form."""

from __future__ import annotations

import numpy as np

from ..solved.networks import sigmoid


def clipped_bce(logits: np.ndarray, targets: np.ndarray, eps: float = 1e-7) -> float:
    """Binary cross-entropy of sigmoid(logits) with the probabilities clipped to [eps, 1 - eps] (Keras's backend):
    finite, but a confident mistake costs at most -log(eps), about 16.1."""
    p = np.clip(sigmoid(logits), eps, 1 - eps)
    return float(-np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p)))
