"""Chapter 5 (RNN)'s test inputs: the backward passes' arguments, completed with the forward's output as
PyTorch computes it (in the inputs' dtype); and the learner's forward and backward chained, to check the two
pieces used together against autograd through ``nn.RNN``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..checking import Inputs
from ..reference.rnn import rnn_cell_forward, rnn_forward

__all__ = ["backward_inputs", "cell_backward_inputs", "forward_then_backward"]


def cell_backward_inputs(dh_next, x, h_prev, Wx, Wh, b) -> Inputs:
    """The arguments of ``rnn_cell_backward``: these, plus h_next from PyTorch's forward (in x's dtype)."""
    h_next = rnn_cell_forward(x, h_prev, Wx, Wh, b).astype(np.asarray(x).dtype)
    return Inputs(dh_next, x, h_prev, Wx, Wh, b, h_next)


def backward_inputs(dhs, x, h0, Wx, Wh, b) -> Inputs:
    """The arguments of ``rnn_backward``: these, plus hs from PyTorch's forward (in x's dtype)."""
    hs = rnn_forward(x, h0, Wx, Wh, b).astype(np.asarray(x).dtype)
    return Inputs(dhs, x, h0, Wx, Wh, b, hs)


def forward_then_backward(forward: Callable, backward: Callable) -> Callable:
    """``rnn_sequence_backward(dhs, x, h0, Wx, Wh, b)`` from a learner's ``rnn_forward`` and ``rnn_backward``:
    the backward gets the hidden states of the learner's own forward, not PyTorch's. Returns
    (dx, dh0, dWx, dWh, db), like ``reference.rnn.rnn_sequence_backward``."""

    def rnn_sequence_backward(dhs, x, h0, Wx, Wh, b):
        return backward(dhs, x, h0, Wx, Wh, b, forward(x, h0, Wx, Wh, b))

    return rnn_sequence_backward
