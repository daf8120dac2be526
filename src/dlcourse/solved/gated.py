"""Chapter 5 (gated recurrent cells), solved: the LSTM cell forward and backward, the GRU cell forward,
and truncated backpropagation through time for the tanh RNN of ``dlcourse.solved.rnn``.

PyTorch's layout throughout: ``W_ih`` (G*H, D), ``W_hh`` (G*H, H), ``b_ih`` and ``b_hh`` (G*H,), their row
blocks in the order i, f, g, o for the LSTM (G = 4) and r, z, n for the GRU (G = 3). The solution
cells of ``solutions/ch05_cnn_rnn/gated.py`` are this code.
"""

from __future__ import annotations

import numpy as np

from .networks import sigmoid
from .rnn import rnn_backward


def lstm_cell_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
):
    """(h_next, c_next) of one LSTM step, as ``nn.LSTMCell``: gates i, f, g, o from one (N, 4H) product."""
    z = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)
    c_next = sigmoid(z_f) * c_prev + sigmoid(z_i) * np.tanh(z_g)
    h_next = sigmoid(z_o) * np.tanh(c_next)
    return h_next, c_next


def lstm_cell_backward(
    dh_next: np.ndarray,
    dc_next: np.ndarray,
    x: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
):
    """(dx, dh_prev, dc_prev, dW_ih, dW_hh, db_ih, db_hh) of one LSTM step, for the gradients dh_next and
    dc_next that reach its two outputs. The gates are recomputed from the inputs."""
    z = x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)
    i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
    tanh_c = np.tanh(f * c_prev + i * g)
    dc = dc_next + dh_next * o * (1 - tanh_c**2)  # c_next feeds h_next too
    dz = np.concatenate(
        [
            dc * g * i * (1 - i),  # input gate
            dc * c_prev * f * (1 - f),  # forget gate
            dc * i * (1 - g**2),  # cell candidate
            dh_next * tanh_c * o * (1 - o),
        ],  # output gate
        axis=1,
    )
    db = dz.sum(axis=0)
    return dz @ W_ih, dz @ W_hh, dc * f, dz.T @ x, dz.T @ h_prev, db, db.copy()


def gru_cell_forward(
    x: np.ndarray, h_prev: np.ndarray, W_ih: np.ndarray, W_hh: np.ndarray, b_ih: np.ndarray, b_hh: np.ndarray
) -> np.ndarray:
    """h_next of one GRU step, as ``nn.GRUCell``: gates r, z and candidate n; the reset gate multiplies
    the whole hidden part of the candidate, W_hn h + b_hn."""
    x_r, x_z, x_n = np.split(x @ W_ih.T + b_ih, 3, axis=1)
    h_r, h_z, h_n = np.split(h_prev @ W_hh.T + b_hh, 3, axis=1)
    r = sigmoid(x_r + h_r)
    z = sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h_prev


def tbptt_backward(
    dhs: np.ndarray,
    x: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    hs: np.ndarray,
    k: int,
):
    """Truncated BPTT: (dx, dh0, dWx, dWh, db) of the tanh RNN over x (N, T, D) when the graph is cut before
    steps k, 2k, ...: each chunk of k steps is backpropagated on its own, starting from the (constant)
    state the previous chunk ended in, and the weight gradients of all chunks are summed."""
    T = x.shape[1]
    dx, dWx, dWh, db = np.empty_like(x), np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)
    dh0 = None
    for start in range(0, T, k):
        stop = min(start + k, T)
        h_start = h0 if start == 0 else hs[:, start - 1]  # a constant: the graph was cut before it
        dx[:, start:stop], dh_start, dWx_c, dWh_c, db_c = rnn_backward(
            dhs[:, start:stop], x[:, start:stop], h_start, Wx, Wh, b, hs[:, start:stop]
        )
        dWx, dWh, db = dWx + dWx_c, dWh + dWh_c, db + db_c
        if start == 0:
            dh0 = dh_start  # only the first chunk reaches h0
    return dx, dh0, dWx, dWh, db
