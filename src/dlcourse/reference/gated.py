"""PyTorch references for chapter 5's gated cells: ``nn.LSTMCell`` and ``nn.GRUCell`` with the learner's
weights copied in (both biases, PyTorch's layout), their gradients by autograd, and truncated
backpropagation through time on ``nn.RNNCell`` with ``.detach()`` every k steps.

Layout, as PyTorch stores it: ``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H), ``bias_ih`` and ``bias_hh``
(G*H,), with G = 4 row blocks for the LSTM (gates i, f, g, o) and G = 3 for the GRU (r, z, n).
Everything runs in float64 on :func:`dlcourse.device.get_device`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..device import get_device, to_numpy, to_tensor

DTYPE = torch.float64


def _check_layout(W_ih, W_hh, b_ih, b_hh, gates: int) -> tuple[int, int]:
    shapes = [np.shape(a) for a in (W_ih, W_hh, b_ih, b_hh)]
    if len(shapes[0]) != 2 or len(shapes[1]) != 2 or len(shapes[2]) != 1 or len(shapes[3]) != 1:
        raise ValueError(f"W_ih, W_hh must be 2-D and b_ih, b_hh 1-D, got shapes {shapes}")
    hidden = shapes[1][1]
    rows = gates * hidden
    if shapes[0][0] != rows or shapes[1][0] != rows or shapes[2] != (rows,) or shapes[3] != (rows,):
        raise ValueError(
            f"expected W_ih ({gates}H, D), W_hh ({gates}H, H), b_ih and b_hh ({gates}H,) with "
            f"H = {hidden}; got {shapes}"
        )
    return shapes[0][1], hidden


def _copy_in(cell: nn.Module, W_ih, W_hh, b_ih, b_hh) -> nn.Module:
    with torch.no_grad():
        for name, value in (("weight_ih", W_ih), ("weight_hh", W_hh), ("bias_ih", b_ih), ("bias_hh", b_hh)):
            getattr(cell, name).copy_(to_tensor(value))
    return cell


def build_lstm_cell(W_ih, W_hh, b_ih, b_hh) -> nn.LSTMCell:
    """``nn.LSTMCell(D, H)`` in float64 with weight_ih = W_ih (4H, D), weight_hh = W_hh (4H, H) and both biases."""
    D, H = _check_layout(W_ih, W_hh, b_ih, b_hh, 4)
    return _copy_in(nn.LSTMCell(D, H, dtype=DTYPE, device=get_device()), W_ih, W_hh, b_ih, b_hh)


def build_gru_cell(W_ih, W_hh, b_ih, b_hh) -> nn.GRUCell:
    """``nn.GRUCell(D, H)`` in float64 with weight_ih = W_ih (3H, D), weight_hh = W_hh (3H, H) and both biases."""
    D, H = _check_layout(W_ih, W_hh, b_ih, b_hh, 3)
    return _copy_in(nn.GRUCell(D, H, dtype=DTYPE, device=get_device()), W_ih, W_hh, b_ih, b_hh)


def _check_states(x, *states, D: int, H: int) -> None:
    if np.ndim(x) != 2 or np.shape(x)[1] != D:
        raise ValueError(f"x must be (N, D) with D = {D}, got {np.shape(x)}")
    for s in states:
        if np.shape(s) != (np.shape(x)[0], H):
            raise ValueError(f"states must be (N, H) = ({np.shape(x)[0]}, {H}), got {np.shape(s)}")


def lstm_cell_forward(x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """(h_next, c_next) = nn.LSTMCell(x, (h_prev, c_prev))."""
    cell = build_lstm_cell(W_ih, W_hh, b_ih, b_hh)
    _check_states(x, h_prev, c_prev, D=cell.input_size, H=cell.hidden_size)
    with torch.no_grad():
        h, c = cell(to_tensor(x), (to_tensor(h_prev), to_tensor(c_prev)))
    return to_numpy(h), to_numpy(c)


def lstm_cell_backward(dh_next, dc_next, x, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):
    """(dx, dh_prev, dc_prev, dW_ih, dW_hh, db_ih, db_hh) by autograd through ``nn.LSTMCell`` for
    L = sum(dh_next * h_next) + sum(dc_next * c_next)."""
    cell = build_lstm_cell(W_ih, W_hh, b_ih, b_hh)
    _check_states(x, h_prev, c_prev, dh_next, dc_next, D=cell.input_size, H=cell.hidden_size)
    xt, ht, ct = (to_tensor(a, requires_grad=True) for a in (x, h_prev, c_prev))
    h, c = cell(xt, (ht, ct))
    loss = (h * to_tensor(dh_next)).sum() + (c * to_tensor(dc_next)).sum()
    wrt = [xt, ht, ct, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]
    return tuple(to_numpy(g) for g in torch.autograd.grad(loss, wrt))


def lstm_sequence_backward(dhs, x, h0, c0, W_ih, W_hh, b_ih, b_hh):
    """Backprop through time of ``nn.LSTM(batch_first=True)`` over x (N, T, D) from (h0, c0), for
    L = sum(dhs * hs): (dx, dh0, dc0, dW_ih, dW_hh, db_ih, db_hh) by autograd."""
    D, H = _check_layout(W_ih, W_hh, b_ih, b_hh, 4)
    lstm = nn.LSTM(D, H, batch_first=True, dtype=DTYPE, device=get_device())
    with torch.no_grad():
        for name, value in (("weight_ih_l0", W_ih), ("weight_hh_l0", W_hh), ("bias_ih_l0", b_ih), ("bias_hh_l0", b_hh)):
            getattr(lstm, name).copy_(to_tensor(value))
    xt, ht, ct = (to_tensor(a, requires_grad=True) for a in (x, h0, c0))
    hs, _ = lstm(xt, (ht[None], ct[None]))
    loss = (hs * to_tensor(dhs)).sum()
    wrt = [xt, ht, ct, lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0]
    return tuple(to_numpy(g) for g in torch.autograd.grad(loss, wrt))


def gru_cell_forward(x, h_prev, W_ih, W_hh, b_ih, b_hh) -> np.ndarray:
    """h_next = nn.GRUCell(x, h_prev)."""
    cell = build_gru_cell(W_ih, W_hh, b_ih, b_hh)
    _check_states(x, h_prev, D=cell.input_size, H=cell.hidden_size)
    with torch.no_grad():
        return to_numpy(cell(to_tensor(x), to_tensor(h_prev)))


def _rnn_cell(Wx, Wh, b) -> nn.RNNCell:
    D, H = _check_layout(Wx, Wh, b, np.zeros(np.shape(b)), 1)
    return _copy_in(nn.RNNCell(D, H, nonlinearity="tanh", dtype=DTYPE, device=get_device()), Wx, Wh, b, np.zeros(H))


def rnn_states(x, h0, Wx, Wh, b) -> np.ndarray:
    """Every hidden state hs (N, T, H) of the tanh RNN (``nn.RNNCell`` unrolled) over x (N, T, D) from h0."""
    cell, h, states = _rnn_cell(Wx, Wh, b), to_tensor(h0), []
    with torch.no_grad():
        for t in range(np.shape(x)[1]):
            h = cell(to_tensor(np.asarray(x)[:, t]), h)
            states.append(h)
    return to_numpy(torch.stack(states, dim=1))


def tbptt_backward(dhs, x, h0, Wx, Wh, b, hs, k: int):
    """Truncated BPTT as PyTorch does it: an ``nn.RNNCell`` (bias_ih = b, bias_hh = 0) unrolled over
    x (N, T, D) from h0, the state ``.detach()``-ed before every step t = k, 2k, ...; then
    L = sum(dhs * hs) is backpropagated once. Returns (dx, dh0, dWx, dWh, db).

    hs (the forward's output) is only checked: autograd recomputes it.
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    cell = _rnn_cell(Wx, Wh, b)
    if np.ndim(x) != 3 or np.shape(dhs) != np.shape(x)[:2] + (cell.hidden_size,):
        raise ValueError(f"x must be (N, T, D) and dhs (N, T, H); got {np.shape(x)}, {np.shape(dhs)}")
    xt, h0t = to_tensor(x, requires_grad=True), to_tensor(h0, requires_grad=True)
    h, states = h0t, []
    for t in range(xt.shape[1]):
        if t > 0 and t % k == 0:
            h = h.detach()  # the graph is cut here: no gradient flows back into the previous chunk
        h = cell(xt[:, t], h)
        states.append(h)
    out = torch.stack(states, dim=1)
    if np.shape(hs) != tuple(out.shape) or not np.allclose(
        np.asarray(hs, np.float64), to_numpy(out), rtol=1e-4, atol=1e-5
    ):
        raise ValueError("hs is not the forward's output for these inputs: pass rnn_forward(x, h0, Wx, Wh, b)")
    loss = (out * to_tensor(dhs)).sum()
    return tuple(
        to_numpy(g) for g in torch.autograd.grad(loss, [xt, h0t, cell.weight_ih, cell.weight_hh, cell.bias_ih])
    )
