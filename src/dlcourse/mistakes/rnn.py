"""Chapter 5 (RNN): the mistakes learners make, each recognised by computing it.

Every wrong function takes the checked function's arguments and returns a whole result shaped like the
reference's, computed in NumPy with one thing changed. Two of clipping's mistakes (no 1e-6 in the
denominator, no clipping at a norm exactly equal to max_norm) change the result by about 1e-6 relative:
they are told apart with a tighter comparison than :func:`dlcourse.mistakes.mistake`'s (and, like it,
only where the values differ, never on a dtype-only difference).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from ..solved import rnn as s
from ..solved.networks import sigmoid
from . import Hint, Mismatch, mistake, value_at


def _tight(wrong_fn: Callable, message: str) -> Hint:
    """Like :func:`mistake`, for mistakes that change the result by ~1e-6 relative: float64 results only."""

    def when(m: Mismatch) -> bool:
        pair = m.arrays()
        if pair is None or np.asarray(m.got).dtype != np.float64:
            return False
        expected, got = pair
        if np.allclose(got, expected, rtol=1e-12, atol=1e-15):
            return False
        try:
            wrong = value_at(wrong_fn(*copy.deepcopy(m.args), **copy.deepcopy(m.kwargs)), m.keys, m.output_names)
        except LookupError:
            return False
        wrong = np.asarray(wrong, dtype=np.float64)
        return wrong.shape == got.shape and bool(np.allclose(got, wrong, rtol=1e-10, atol=1e-13))

    return Hint(message, when)


def _shapes(predicate: Callable[[tuple, tuple], bool], message: str) -> Hint:
    return Hint(
        message,
        lambda m: m.got is not None and m.expected is not None and predicate(np.shape(m.got), np.shape(m.expected)),
    )


rnn_cell_forward = [
    mistake(
        lambda x, h, Wx, Wh, b: s.rnn_cell_forward(x, h, Wx, Wh, 2 * b),
        "b is added twice. PyTorch keeps two biases, b_ih and b_hh, but they only ever appear as their "
        "sum: here the one bias b stands for b_ih + b_hh, so add it once.",
    ),
    mistake(
        lambda x, h, Wx, Wh, b: np.tanh(x @ Wx.T + h @ Wh + b),
        "Wh is stored like nn.RNN's weight_hh, (H_out, H_in): the recurrent term is h_prev Wh^T, not h_prev Wh.",
    ),
    mistake(
        lambda x, h, Wx, Wh, b: x @ Wx.T + h @ Wh.T + b, "the tanh is missing: h_next = tanh(x Wx^T + h_prev Wh^T + b)."
    ),
]

rnn_forward = [
    mistake(
        lambda x, h0, Wx, Wh, b: s.rnn_forward(x, np.zeros_like(h0), Wx, Wh, b),
        "the first step must start from the given h0, not from zeros.",
    ),
    mistake(
        lambda x, h0, Wx, Wh, b: np.concatenate(
            [np.asarray(h0)[:, None], s.rnn_forward(x, h0, Wx, Wh, b)[:, :-1]], axis=1
        ),
        "off by one step: hs[:, t] is the state AFTER reading x[:, t] (h_{t+1} if h0 is h_0); "
        "h0 itself is not part of the output.",
    ),
    mistake(
        lambda x, h0, Wx, Wh, b: np.tanh(x @ Wx.T + b + (h0 @ Wh.T)[:, None]),
        "every step used h0: feed each step the hidden state the previous step produced.",
    ),
    _shapes(
        lambda got, want: len(got) == 2 and len(want) == 3,
        "return every hidden state, shape (N, T, H), not only the last one (nn.RNN returns the "
        "last one separately as h_n).",
    ),
    _shapes(
        lambda got, want: len(got) == 3 and got == (want[1], want[0], want[2]) and want[0] != want[1],
        "the result is time-major (T, N, H): this chapter keeps the batch first, (N, T, H), like "
        "nn.RNN(batch_first=True); step t of the input is x[:, t], not x[t].",
    ),
]


def _cell_grads(dz, x, h_prev, Wx, Wh):
    return dz @ Wx, dz @ Wh, dz.T @ x, dz.T @ h_prev, dz.sum(axis=0)


rnn_cell_backward = [
    mistake(
        lambda dh, x, hp, Wx, Wh, b, hn: _cell_grads(dh * (1 - np.tanh(hn) ** 2), x, hp, Wx, Wh),
        "tanh applied twice: h_next is already tanh(z), so tanh'(z) = 1 - h_next**2, not 1 - tanh(h_next)**2.",
    ),
    mistake(
        lambda dh, x, hp, Wx, Wh, b, hn: _cell_grads(dh, x, hp, Wx, Wh),
        "the tanh derivative is missing: first dz = dh_next * (1 - h_next**2), then the linear part.",
    ),
    mistake(
        lambda dh, x, hp, Wx, Wh, b, hn: _cell_grads(dh * (1 - hn**2), x, hp, Wx, Wh.T),
        "dh_prev: the forward used h_prev Wh^T, so the backward is dz Wh (no transpose).",
    ),
    mistake(
        lambda dh, x, hp, Wx, Wh, b, hn: _cell_grads(dh * (1 - hn**2), x, hn, Wx, Wh),
        "dWh pairs dz with the state that went INTO the step: dz^T h_prev, not h_next.",
    ),
]


def _bptt(dhs, x, h0, Wx, Wh, hs, *, carry=True, dWh_with_h_t=False, dh0_before_Wh=False):
    """A backprop through time with one of three mistakes switched on."""
    N, T, H = hs.shape
    h_prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    dz, dh = np.empty_like(hs), np.zeros_like(h0)
    dh_total = dh
    for t in reversed(range(T)):
        dh_total = dhs[:, t] + (dh if carry else 0.0)
        dz[:, t] = dh_total * (1.0 - hs[:, t] ** 2)
        dh = dz[:, t] @ Wh
    if dh0_before_Wh:
        dh = dh_total
    rows = dz.reshape(N * T, H)
    paired = (hs if dWh_with_h_t else h_prev).reshape(N * T, H)
    return dz @ Wx, dh, rows.T @ x.reshape(N * T, -1), rows.T @ paired, rows.sum(axis=0)


rnn_backward = [
    mistake(
        lambda dhs, x, h0, Wx, Wh, b, hs: _bptt(dhs, x, h0, Wx, Wh, hs, carry=False),
        "the gradient from the future is missing: h_t feeds the output at step t AND step t+1, so "
        "dL/dh_t = dhs[:, t] + (what comes back from step t+1); carry it backwards through the loop.",
    ),
    mistake(
        lambda dhs, x, h0, Wx, Wh, b, hs: _bptt(dhs, x, h0, Wx, Wh, hs, dWh_with_h_t=True),
        "dWh: step t multiplied Wh with h_{t-1} (h0 for the first step), so pair dz_t with the "
        "previous state, not with hs[:, t].",
    ),
    mistake(
        lambda dhs, x, h0, Wx, Wh, b, hs: _bptt(dhs, x, h0, Wx, Wh, hs, dh0_before_Wh=True),
        "dh0 is one step further back than dL/dh_1: after the loop it is dz_1 Wh.",
    ),
]


def _clip(grads, max_norm, *, per_parameter=False, eps=1e-6, always=False, strictly_above=False, squared=False):
    """Gradient clipping with one mistake switched on."""
    norms = {k: np.sqrt(np.sum(np.asarray(g, np.float64) ** 2)) for k, g in grads.items()}
    total = np.sqrt(sum(n**2 for n in norms.values()))

    def coef(norm):
        return max_norm / (norm + eps) if always else min(1.0, max_norm / (norm + eps))

    if strictly_above:
        clipped = {k: g * (max_norm / (total + eps)) if total > max_norm else g for k, g in grads.items()}
    else:
        clipped = {k: g * coef(norms[k] if per_parameter else total) for k, g in grads.items()}
    return clipped, total**2 if squared else total


clip_grad_norm = [
    mistake(
        lambda g, m: _clip(g, m, per_parameter=True),
        "each gradient was clipped by its own norm: clipping by the GLOBAL norm scales all of them by "
        "the same factor, computed from sqrt(sum of all squared entries of all gradients).",
    ),
    _tight(
        lambda g, m: _clip(g, m, eps=0.0),
        "close, but PyTorch divides by total_norm + 1e-6 (a guard against dividing by zero): "
        "the factor is max_norm / (total_norm + 1e-6).",
    ),
    mistake(
        lambda g, m: _clip(g, m, always=True),
        "gradients below max_norm were scaled UP: clipping only ever shrinks; the factor is "
        "min(1, max_norm / (total_norm + 1e-6)).",
    ),
    _tight(
        lambda g, m: _clip(g, m, strictly_above=True),
        "at total_norm == max_norm PyTorch still multiplies by max_norm / (total_norm + 1e-6), just "
        "below 1: take the minimum of 1 and that factor rather than testing total_norm > max_norm.",
    ),
    mistake(
        lambda g, m: _clip(g, m, squared=True),
        "total_norm is the square root of the sum of squares, not the sum itself.",
    ),
]


def _lstm_wrong(order: str = "ifgo", h_from_c: bool = False):
    def wrong(x, h_prev, c_prev, Wx, Wh, b):
        z = x @ Wx.T + h_prev @ Wh.T + b
        gates = dict(zip(order, np.split(z, 4, axis=1)))
        c = sigmoid(gates["f"]) * c_prev + sigmoid(gates["i"]) * np.tanh(gates["g"])
        return sigmoid(gates["o"]) * (c if h_from_c else np.tanh(c)), c

    return wrong


lstm_cell_forward = [
    mistake(
        _lstm_wrong("ifog"),
        "gate order: PyTorch stacks the rows of Wx, Wh and b as input, forget, "
        "cell candidate g, output (i, f, g, o), not i, f, o, g.",
    ),
    mistake(_lstm_wrong("fiog"), "gate order: PyTorch's is i, f, g, o (input gate first)."),
    mistake(_lstm_wrong("ifgo", h_from_c=True), "h_next = o * tanh(c_next): the tanh is missing.", output="h_next"),
]
