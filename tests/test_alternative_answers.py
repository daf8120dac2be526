"""Honest code is never flagged: correct implementations that look nothing like the solutions pass under the watch.

Each alternative is compiled as a notebook cell is (a file name of its own), so the watch
treats it as the learner's code. They use NumPy, ``math``, helpers of their own, a Python
loop, ``np.einsum``, ``np.frompyfunc``... and the building blocks an exercise offers.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from dlcourse.checking import check, randn
from dlcourse.reference import backprop as ref_backprop
from dlcourse.reference import losses as ref_losses
from dlcourse.reference import networks as ref_networks

X = [
    np.array([-800.0, -3.0, -1e-9, 0.0, 2.5, 800.0]),
    randn(3, 4, seed=1, scale=4.0),
    randn(2, 5, seed=2).astype(np.float32),
]

ALTERNATIVES = [
    (
        "sigmoid",
        ref_networks.sigmoid,
        X,
        (),
        """
        import math
        def _one(v):
            return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
        def sigmoid(x):
            out = np.empty_like(x)
            for i, v in np.ndenumerate(x):
                out[i] = _one(float(v))
            return out
        """,
    ),
    (
        "sigmoid",
        ref_networks.sigmoid,
        X,
        (),
        """
        def sigmoid(x):
            return 0.5 * (1 + tanh_half(x))
        def tanh_half(x):
            e = np.exp(-np.abs(x))   # tanh(x/2) = sign(x) (1 - e^-|x|) / (1 + e^-|x|)
            return np.sign(x) * (1 - e) / (1 + e)
        """,
    ),
    (
        "tanh",
        ref_networks.tanh,
        X,
        (),
        """
        def tanh(x):
            a = np.abs(x)
            return np.copysign(-np.expm1(-2 * a) / (1 + np.exp(-2 * a)), x)
        """,
    ),
    (
        "relu",
        ref_networks.relu,
        X,
        (),
        """
        def relu(x):
            return x * (x > 0)
        """,
    ),
    (
        "dense_forward",
        ref_networks.dense_forward,
        [(randn(4, 3, seed=3), randn(2, 3, seed=4), randn(2, seed=5))],
        (),
        """
        def dense_forward(X, W, b):
            return np.einsum("ni,oi->no", X, W) + b[None, :]
        """,
    ),
    (
        "count_params",
        ref_networks.count_params,
        [[784, 128, 10], [3, 5, 5, 1]],
        (),
        """
        from functools import reduce
        def count_params(sizes):
            return reduce(lambda total, pair: total + (pair[0] + 1) * pair[1], zip(sizes, sizes[1:]), 0)
        """,
    ),
    (
        "softmax",
        ref_losses.softmax,
        [randn(3, 5, seed=6, scale=300.0), randn(2, 4, seed=7)],
        (),
        """
        def softmax(z):
            shifted = z - z.max(axis=-1, keepdims=True)
            log_norm = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
            return np.exp(shifted - log_norm)
        """,
    ),
    (
        "sigmoid_backward",
        ref_backprop.sigmoid_backward,
        [(randn(3, 4, seed=8), randn(3, 4, seed=9, scale=5.0))],
        ("dlcourse.solved.networks.sigmoid",),
        """
        from dlcourse.solved.networks import sigmoid   # the block chapter 2 offers
        def sigmoid_backward(dA, Z):
            s = sigmoid(Z)
            return dA * s * (1 - s)
        """,
    ),
]


@pytest.mark.parametrize("number", range(len(ALTERNATIVES)), ids=[f"{a[0]}-{i}" for i, a in enumerate(ALTERNATIVES)])
def test_an_alternative_correct_answer_passes(number, capsys):
    name, reference, cases, allow, source = ALTERNATIVES[number]
    scope = {"np": np}
    exec(compile(textwrap.dedent(source), f"<learner cell {number}>", "exec"), scope)
    check(scope[name], reference, cases, allow=allow)
    assert "matches the PyTorch reference" in capsys.readouterr().out
