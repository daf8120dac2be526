"""Chapter 2 (backprop): the mistakes learners make, each recognised by computing it in NumPy."""

from __future__ import annotations

import numpy as np

from ..solved import backprop as s
from ..solved.networks import sigmoid as _sigmoid
from ..solved.networks import tanh as _tanh
from . import mistake

sigmoid_backward = [
    mistake(
        lambda dA, Z: _sigmoid(Z) * (1 - _sigmoid(Z)),
        "you returned sigmoid'(Z) alone: multiply it by the upstream gradient dA (the chain rule).",
    ),
    mistake(lambda dA, Z: dA * Z * (1 - Z), "s * (1 - s) needs s = sigmoid(Z), the unit's output, not Z itself."),
    mistake(lambda dA, Z: dA * _sigmoid(Z), "sigmoid's derivative is sigmoid(Z) * (1 - sigmoid(Z)), not sigmoid(Z)."),
]

tanh_backward = [
    mistake(
        lambda dA, Z: 1 - _tanh(Z) ** 2,
        "you returned tanh'(Z) alone: multiply it by the upstream gradient dA (the chain rule).",
    ),
    mistake(lambda dA, Z: dA * (1 - Z**2), "1 - t**2 needs t = tanh(Z), not Z itself."),
    mistake(lambda dA, Z: dA * (1 - _tanh(Z)), "tanh's derivative is 1 - tanh(Z)**2: the square is missing."),
]

relu_backward = [
    mistake(
        lambda dA, Z: dA * (Z >= 0),
        "at Z = 0 exactly ReLU has no derivative; PyTorch (and this course) use 0 there: mask with Z > 0, not Z >= 0.",
    ),
    mistake(
        lambda dA, Z: (Z > 0).astype(np.float64),
        "you returned the mask alone: multiply it by the upstream gradient dA.",
    ),
    mistake(
        lambda dA, Z: np.maximum(dA, 0),
        "the mask comes from Z (where the unit was active in the forward pass), not from the sign of dA.",
    ),
]


def _dense(dY, X, W, *, dX=None, dW=None, db=None):
    """dense_backward with one of its three results replaced."""
    right = s.dense_backward(dY, X, W)
    return (right[0] if dX is None else dX, right[1] if dW is None else dW, right[2] if db is None else db)


dense_backward = [
    mistake(
        lambda dY, X, W: _dense(dY, X, W, dW=X.T @ dY),
        "dW must have W's shape (n_out, n_in): dW = dY.T @ X (X.T @ dY is its transpose).",
        output="dW",
    ),
    mistake(
        lambda dY, X, W: _dense(dY, X, W, dW=dY.T @ X / X.shape[0]),
        "no 1/N in dW: if the loss is a mean over the batch, its gradient dY already holds the 1/N.",
        output="dW",
    ),
    mistake(
        lambda dY, X, W: _dense(dY, X, W, db=dY.mean(axis=0)),
        "db sums dY over the batch (b is added to every row, so every row's gradient reaches it): "
        "the sum over axis 0, not the mean.",
        output="db",
    ),
    mistake(
        lambda dY, X, W: _dense(dY, X, W, db=dY.sum(axis=1)),
        "sum over the batch axis, axis=0: db has one entry per output unit.",
        output="db",
    ),
    mistake(
        lambda dY, X, W: _dense(dY, X, W, dX=dY @ W.T),
        "dX = dY @ W: W is stored as (n_out, n_in), so no transpose here.",
        output="dX",
    ),
]


def _mlp_backward_wrong(
    dout,
    caches,
    params,
    activation="relu",
    *,
    output_activation=False,
    skip_activation=False,
    always="",
    same_layer=False,
) -> dict:
    grads, n_layers = {}, len(caches)
    act = s.ACTIVATION_BACKWARDS[always or activation]
    dZ = act(dout, caches[-1][1]) if output_activation else dout
    for layer in range(n_layers, 0, -1):
        A_prev, Z = caches[layer - 1]
        dA_prev, grads[f"W{layer}"], grads[f"b{layer}"] = s.dense_backward(dZ, A_prev, params[f"W{layer}"])
        if layer > 1:
            dZ = dA_prev if skip_activation else act(dA_prev, caches[layer - 2][1] if not same_layer else A_prev)
    return grads


mlp_backward = [
    mistake(
        lambda *a, **k: _mlp_backward_wrong(*a, **k, output_activation=True),
        "the output layer has no activation: start with dZ = dout for the last layer.",
    ),
    mistake(
        lambda *a, **k: _mlp_backward_wrong(*a, **k, skip_activation=True),
        "between two dense layers, pass dA_prev through the activation's backward "
        "(with the Z of the layer below, caches[l - 2][1]) before the next dense_backward.",
    ),
    mistake(
        lambda *a, **k: _mlp_backward_wrong(*a, **k, always="relu"),
        "use the `activation` argument (ACTIVATION_BACKWARDS[activation]), not always ReLU's backward.",
    ),
    mistake(
        lambda *a, **k: _mlp_backward_wrong(*a, **k, same_layer=True),
        "the activation's backward needs its own input Z (caches[l - 2][1], the pre-activation of the layer "
        "below), not A_prev (its output).",
    ),
]


def _forward_difference(f, x, dout=None, eps=1e-6):
    x = np.array(x, dtype=np.float64)
    base = np.array(f(x), dtype=np.float64)
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        grad[index] = np.sum((np.array(f(x), dtype=np.float64) - base) * (1.0 if dout is None else dout)) / eps
        x[index] = original
    return grad


numerical_gradient = [
    mistake(
        _forward_difference,
        "this is the one-sided difference (f(x + eps) - f(x)) / eps, whose error shrinks only like eps: "
        "use the centred (f(x + eps) - f(x - eps)) / (2 eps), whose error shrinks like eps**2.",
    ),
    mistake(
        lambda f, x, dout=None, eps=1e-6: s.numerical_gradient(f, np.array(x, dtype=np.float64), dout, eps) * 2,
        "divide the centred difference by 2 * eps: the two points are 2 eps apart.",
    ),
    mistake(
        lambda f, x, dout=None, eps=1e-6: s.numerical_gradient(f, np.array(x, dtype=np.float64), None, eps),
        "weight each output's change by dout before summing: the gradient of sum(f(x) * dout).",
    ),
    mistake(
        lambda f, x, dout=None, eps=1e-6: s.numerical_gradient(f, np.array(x, dtype=np.float64), dout),
        "use the `eps` argument: with eps = 0.1 the centred difference of x**3 is 3x**2 - 2 + eps**2, not the exact "
        "derivative (the test compares with the same finite difference, computed by PyTorch).",
    ),
]

relative_error = [
    mistake(
        lambda a, b: np.max(np.abs(a - b)),
        "divide by max(|a| + |b|, 1e-8) entry by entry: a difference means little without the scale of the values.",
    ),
    mistake(
        lambda a, b: np.mean(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)),
        "take the largest (np.max) of the entry-wise relative errors, not the mean: one bad entry must show.",
    ),
    mistake(
        lambda a, b: np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-8)),
        "the denominator is |a| + |b| (symmetric in a and b), floored at 1e-8.",
    ),
]
