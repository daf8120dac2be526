"""Chapter 5 (RNN), solved: the vanilla tanh RNN cell and sequence, forward and backward through time,
gradient clipping by global norm, and an LSTM cell.

Layout (the one ``nn.RNN(batch_first=True)`` uses, with PyTorch's weight shapes):
x (N, T, D) inputs, h0 (N, H) first hidden state, Wx (H, D) like ``weight_ih_l0``,
Wh (H, H) like ``weight_hh_l0``, b (H,) = ``bias_ih_l0 + bias_hh_l0``; hs (N, T, H) every hidden state.
"""

from __future__ import annotations

import numpy as np

from .networks import sigmoid


def rnn_cell_forward(x: np.ndarray, h_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One step: h_next = tanh(x Wx^T + h_prev Wh^T + b), for x (N, D) and h_prev (N, H)."""
    return np.tanh(x @ Wx.T + h_prev @ Wh.T + b)


def rnn_cell_backward(
    dh_next: np.ndarray,
    x: np.ndarray,
    h_prev: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    h_next: np.ndarray,
):
    """(dx, dh_prev, dWx, dWh, db) of one step, given dL/dh_next and the step's inputs and output h_next."""
    dz = dh_next * (1.0 - h_next**2)  # tanh'(z) = 1 - tanh(z)^2 = 1 - h_next^2
    return dz @ Wx, dz @ Wh, dz.T @ x, dz.T @ h_prev, dz.sum(axis=0)


def rnn_forward(x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Every hidden state hs (N, T, H) of the RNN run over x (N, T, D) from h0 (N, H).

    The input half x_t Wx^T + b of every step is one matrix product before the loop;
    only h_{t-1} Wh^T has to wait for the previous step.
    """
    N, T, _ = x.shape
    x_proj = x @ Wx.T + b  # (N, T, H)
    hs = np.empty((N, T, Wh.shape[0]), dtype=x_proj.dtype)
    h = h0
    for t in range(T):
        h = np.tanh(x_proj[:, t] + h @ Wh.T)
        hs[:, t] = h
    return hs


def rnn_backward(
    dhs: np.ndarray, x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray, hs: np.ndarray
):
    """Backprop through time: (dx, dh0, dWx, dWh, db) from dhs = dL/dhs (N, T, H), the gradient that
    reaches every hidden state from outside (a loss at each step), and the forward's hs.

    Only the chain dh_t -> dh_{t-1} is sequential; each weight gradient is one matrix product over
    all N * T rows after the loop.
    """
    N, T, H = hs.shape
    h_prev = np.concatenate([h0[:, None, :], hs[:, :-1]], axis=1)  # h_{t-1} for every t
    dz = np.empty_like(hs)  # dL/dz_t, z_t the pre-activation
    dh = np.zeros_like(h0)  # dL/dh_t arriving from step t+1
    for t in reversed(range(T)):
        dz[:, t] = (dhs[:, t] + dh) * (1.0 - hs[:, t] ** 2)
        dh = dz[:, t] @ Wh
    dz_rows = dz.reshape(N * T, H)
    dWx = dz_rows.T @ x.reshape(N * T, -1)
    dWh = dz_rows.T @ h_prev.reshape(N * T, H)
    return dz @ Wx, dh, dWx, dWh, dz_rows.sum(axis=0)


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float):
    """(clipped grads, total norm) as ``torch.nn.utils.clip_grad_norm_``: every gradient times
    min(1, max_norm / (total_norm + 1e-6)), where total_norm is the 2-norm of all gradients together."""
    total_norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    coef = min(1.0, max_norm / (total_norm + 1e-6))  # never scales up; 1e-6 guards against a zero norm
    return {name: g * coef for name, g in grads.items()}, total_norm


def lstm_cell_forward(
    x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
):
    """(h_next, c_next) of one LSTM step with ``nn.LSTMCell``'s layout: Wx (4H, D), Wh (4H, H), b (4H,)
    hold the gates in the order input i, forget f, cell candidate g, output o."""
    z = x @ Wx.T + h_prev @ Wh.T + b
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)
    c_next = sigmoid(z_f) * c_prev + sigmoid(z_i) * np.tanh(z_g)
    h_next = sigmoid(z_o) * np.tanh(c_next)
    return h_next, c_next


def init_rnn_params(n_in: int, n_hidden: int, n_out: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Parameters of an RNN with a linear readout, drawn like PyTorch's defaults for ``nn.RNN`` and
    ``nn.Linear``: every entry uniform in [-1/sqrt(n_hidden), 1/sqrt(n_hidden)], except the readout
    bias, which starts at 0. Keys Wx (H, D), Wh (H, H), b (H,), Wy (n_out, H), by (n_out,)."""
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(n_hidden)
    draw = lambda *shape: rng.uniform(-bound, bound, size=shape)
    return {
        "Wx": draw(n_hidden, n_in),
        "Wh": draw(n_hidden, n_hidden),
        "b": draw(n_hidden),
        "Wy": draw(n_out, n_hidden),
        "by": np.zeros(n_out),
    }
