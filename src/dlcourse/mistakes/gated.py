"""Chapter 5 (gated cells): the mistakes learners make with the LSTM, the GRU and truncated BPTT, each
recognised by computing it (a whole wrong result, shaped like the reference's)."""

from __future__ import annotations

import numpy as np

from ..solved.networks import sigmoid
from ..solved.rnn import rnn_backward
from . import mistake


def _lstm(order: str = "ifgo", use_b_hh: bool = True, tanh_c: bool = True, g_sigmoid: bool = False):
    def wrong(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
        z = x @ W_ih.T + b_ih + h_prev @ W_hh.T + (b_hh if use_b_hh else 0.0)
        gate = dict(zip(order, np.split(z, 4, axis=1)))
        g = sigmoid(gate["g"]) if g_sigmoid else np.tanh(gate["g"])
        c = sigmoid(gate["f"]) * c_prev + sigmoid(gate["i"]) * g
        return sigmoid(gate["o"]) * (np.tanh(c) if tanh_c else c), c

    return wrong


lstm_cell_forward = [
    mistake(
        _lstm("ifog"),
        "gate order: PyTorch stacks the row blocks of W_ih, W_hh and both biases as input i, "
        "forget f, cell candidate g, output o (i, f, g, o), not i, f, o, g.",
    ),
    mistake(_lstm("fiog"), "gate order: PyTorch's is i, f, g, o (the input gate's rows come first)."),
    mistake(
        _lstm(use_b_hh=False), "b_hh is missing: PyTorch adds both biases, x W_ih^T + b_ih + h_prev W_hh^T + b_hh."
    ),
    mistake(
        _lstm(g_sigmoid=True),
        "the cell candidate g goes through tanh (values in (-1, 1)), not a sigmoid: "
        "i, f and o are gates, g is the content written.",
    ),
    mistake(_lstm(tanh_c=False), "h_next = o * tanh(c_next): the tanh of the cell state is missing.", output="h_next"),
]


def _lstm_back(through_h: bool = True, tanh_prime: bool = True, f_with_c_next: bool = False, db_hh_zero: bool = False):
    def wrong(dh, dc_next, x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
        z = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
        i, f, g, o = (fn(a) for fn, a in zip((sigmoid, sigmoid, np.tanh, sigmoid), np.split(z, 4, axis=1)))
        c_next = f * c_prev + i * g
        tc = np.tanh(c_next)
        dc = dc_next + (dh * o * ((1 - tc**2) if tanh_prime else 1.0) if through_h else 0.0)
        dz = np.concatenate(
            [
                dc * g * i * (1 - i),
                dc * (c_next if f_with_c_next else c_prev) * f * (1 - f),
                dc * i * (1 - g**2),
                dh * tc * o * (1 - o),
            ],
            axis=1,
        )
        db = dz.sum(axis=0)
        return dz @ W_ih, dz @ W_hh, dc * f, dz.T @ x, dz.T @ h_prev, db, np.zeros_like(db) if db_hh_zero else db

    return wrong


lstm_cell_backward = [
    mistake(
        _lstm_back(through_h=False),
        "c_next reaches the loss twice: directly (dc_next) and through h_next = o * tanh(c_next). "
        "The gradient at the cell state is dc_next + dh_next * o * (1 - tanh(c_next)**2).",
    ),
    mistake(
        _lstm_back(tanh_prime=False),
        "going from h_next back to c_next, multiply by tanh'(c_next) = 1 - tanh(c_next)**2 too, not only by o.",
    ),
    mistake(
        _lstm_back(f_with_c_next=True),
        "the forget gate multiplies c_prev, so its gradient is dc * c_prev (times f(1 - f)), not dc * c_next.",
    ),
    mistake(
        _lstm_back(db_hh_zero=True),
        "db_hh is not zero: b_hh is added to the same sum as b_ih, so both biases get the same gradient, "
        "the sum over the batch of dL/dz.",
        output="db_hh",
    ),
]


def _gru(order: str = "rzn", reset_before: bool = False, b_hn_outside: bool = False, z_swapped: bool = False):
    def wrong(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        xi = dict(zip(order, np.split(x @ W_ih.T + b_ih, 3, axis=1)))
        Wh = dict(zip(order, np.split(W_hh, 3, axis=0)))
        bh = dict(zip(order, np.split(b_hh, 3)))
        r = sigmoid(xi["r"] + h_prev @ Wh["r"].T + bh["r"])
        z = sigmoid(xi["z"] + h_prev @ Wh["z"].T + bh["z"])
        if reset_before:
            hidden = (r * h_prev) @ Wh["n"].T + bh["n"]
        elif b_hn_outside:
            hidden = r * (h_prev @ Wh["n"].T) + bh["n"]
        else:
            hidden = r * (h_prev @ Wh["n"].T + bh["n"])
        n = np.tanh(xi["n"] + hidden)
        return z * n + (1 - z) * h_prev if z_swapped else (1 - z) * n + z * h_prev

    return wrong


gru_cell_forward = [
    mistake(
        _gru(reset_before=True),
        "the reset gate is applied to h_prev BEFORE the product, (r * h_prev) W_hn^T, as in Cho et al.'s paper; "
        "PyTorch (and cuDNN) apply it AFTER: n = tanh(x W_in^T + b_in + r * (h_prev W_hn^T + b_hn)).",
    ),
    mistake(
        _gru(b_hn_outside=True),
        "b_hn sits inside the reset gate's product: r * (h_prev W_hn^T + b_hn), so here the two biases are "
        "not interchangeable (b_in is outside it, b_hn inside).",
    ),
    mistake(
        _gru(z_swapped=True),
        "z and 1 - z are swapped: in PyTorch z is the share of the OLD state kept, h_next = (1 - z) * n + z * h_prev.",
    ),
    mistake(_gru("zrn"), "gate order: PyTorch stacks the row blocks as reset r, update z, candidate n (r, z, n)."),
]


def _tbptt(from_h0: bool = False, dh0_last: bool = False, shift: int = 0, last_chunk_only: bool = False):
    def wrong(dhs, x, h0, Wx, Wh, b, hs, k):
        T = x.shape[1]
        starts = [0] + list(range(k + shift, T, k)) if shift else list(range(0, T, k))
        bounds = list(zip(starts, starts[1:] + [T]))
        dx, grads, dh0 = np.empty_like(x), None, None
        for start, stop in bounds:
            h_start = h0 if (start == 0 or from_h0) else hs[:, start - 1]
            out = rnn_backward(dhs[:, start:stop], x[:, start:stop], h_start, Wx, Wh, b, hs[:, start:stop])
            dx[:, start:stop] = out[0]
            grads = out[2:] if (grads is None or last_chunk_only) else tuple(a + c for a, c in zip(grads, out[2:]))
            if start == 0 or dh0_last:
                dh0 = out[1]
        return (dx, dh0, *grads)

    return wrong


tbptt_backward = [
    mistake(
        lambda dhs, x, h0, Wx, Wh, b, hs, k: rnn_backward(dhs, x, h0, Wx, Wh, b, hs),
        "this is the full BPTT: nothing was cut. With truncation no gradient crosses from a chunk into the "
        "one before it: the state a chunk starts from is a constant.",
    ),
    mistake(
        _tbptt(from_h0=True),
        "every chunk after the first starts from the state the previous chunk ended in, hs[:, start - 1] "
        "(a constant, but not h0): dWh pairs the chunk's first dz with it.",
    ),
    mistake(
        _tbptt(dh0_last=True),
        "only the first chunk reaches h0: dh0 is the first chunk's dh_start, not the last's.",
        output="dh0",
    ),
    mistake(
        _tbptt(shift=1),
        "off by one: the graph is cut before steps k, 2k, ... (0-based), so chunks are x[:, 0:k], x[:, k:2k], ...",
    ),
    mistake(
        _tbptt(last_chunk_only=True),
        "the weight gradients of ALL chunks add up (the same weights are used in every chunk); here only one "
        "chunk's survived.",
    ),
]
