"""Chapter 5 (gated cells)'s test inputs and adapters: truncated BPTT's arguments completed with the forward's
states (computed by PyTorch), and an LSTM unrolled over a sequence from the learner's own cell forward and
backward, to check the two pieces used together against ``nn.LSTM``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..checking import Inputs
from ..reference.gated import rnn_states

__all__ = ["lstm_unrolled", "tbptt_inputs"]


def tbptt_inputs(dhs, x, h0, Wx, Wh, b, k: int) -> Inputs:
    """The arguments of ``tbptt_backward``: these, plus hs from PyTorch's forward (in x's dtype) before k."""
    hs = rnn_states(x, h0, Wx, Wh, b).astype(np.asarray(x).dtype)
    return Inputs(dhs, x, h0, Wx, Wh, b, hs, k)


def lstm_unrolled(cell_forward: Callable, cell_backward: Callable) -> Callable:
    """``lstm_sequence_backward(dhs, x, h0, c0, W_ih, W_hh, b_ih, b_hh)`` built from a cell forward and backward:
    the forward over x (N, T, D) keeps every (h, c); the backward goes from the last step to the first,
    carrying dh and dc, adding dhs[:, t] to dh, and summing the weight gradients.
    Returns (dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh), like ``reference.gated.lstm_sequence_backward``."""

    def lstm_sequence_backward(dhs, x, h0, c0, W_ih, W_hh, b_ih, b_hh):
        T = x.shape[1]
        hs, cs = [h0], [c0]
        for t in range(T):
            h, c = cell_forward(x[:, t], hs[-1], cs[-1], W_ih, W_hh, b_ih, b_hh)
            hs.append(h)
            cs.append(c)
        dx = np.zeros_like(x)
        dh, dc = np.zeros_like(h0), np.zeros_like(c0)
        sums = None
        for t in reversed(range(T)):
            dx_t, dh, dc, *grads = cell_backward(dh + dhs[:, t], dc, x[:, t], hs[t], cs[t], W_ih, W_hh, b_ih, b_hh)
            dx[:, t] = dx_t
            sums = grads if sums is None else [a + g for a, g in zip(sums, grads)]
        return (dx, dh, dc, *sums)

    return lstm_sequence_backward
