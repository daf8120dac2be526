"""PyTorch references for chapter 5 (RNN): ``nn.RNNCell`` / ``nn.RNN`` (tanh, ``batch_first=True``) with
the learner's weights copied in, their gradients by autograd, ``clip_grad_norm_``, and ``nn.LSTMCell``.

The learner's parameters: Wx (H, D) = ``weight_ih_l0``, Wh (H, H) = ``weight_hh_l0`` and ONE bias b (H,).
PyTorch keeps two biases, ``bias_ih`` and ``bias_hh``, which always appear as a sum
(h = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)): any split with b_ih + b_hh = b is the same network.
We copy b into ``bias_ih`` and zeros into ``bias_hh``, and read a trained PyTorch RNN back as
b = b_ih + b_hh.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..device import get_device, to_numpy, to_tensor

DTYPE = torch.float64


# --- copying parameters between NumPy and PyTorch ---------------------------------------------


def _check_rnn_shapes(Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray, gates: int = 1) -> tuple[int, int]:
    Wx, Wh, b = np.asarray(Wx), np.asarray(Wh), np.asarray(b)
    if Wx.ndim != 2 or Wh.ndim != 2 or b.ndim != 1:
        raise ValueError(f"Wx and Wh must be 2-D and b 1-D, got shapes {Wx.shape}, {Wh.shape}, {b.shape}")
    hidden = Wh.shape[1]
    if Wh.shape[0] != gates * hidden or Wx.shape[0] != gates * hidden or b.shape[0] != gates * hidden:
        want = f"{gates} * H" if gates > 1 else "H"
        raise ValueError(
            f"expected Wx ({want}, D), Wh ({want}, H), b ({want},) with H = {hidden}; "
            f"got Wx {Wx.shape}, Wh {Wh.shape}, b {b.shape}"
        )
    return Wx.shape[1], hidden


def _copy_weights(module: nn.Module, Wx, Wh, b, b_hh, suffix: str = "") -> nn.Module:
    b_hh = np.zeros_like(np.asarray(b, dtype=np.float64)) if b_hh is None else np.asarray(b_hh, dtype=np.float64)
    with torch.no_grad():
        getattr(module, f"weight_ih{suffix}").copy_(to_tensor(Wx))
        getattr(module, f"weight_hh{suffix}").copy_(to_tensor(Wh))
        getattr(module, f"bias_ih{suffix}").copy_(to_tensor(np.asarray(b, dtype=np.float64) - b_hh))
        getattr(module, f"bias_hh{suffix}").copy_(to_tensor(b_hh))
    return module


def build_rnn(Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray, b_hh: np.ndarray | None = None) -> nn.RNN:
    """``nn.RNN(D, H, nonlinearity="tanh", batch_first=True)``, float64 on the reference device, with
    weight_ih = Wx, weight_hh = Wh, bias_ih = b - b_hh and bias_hh = b_hh (zeros unless given)."""
    D, H = _check_rnn_shapes(Wx, Wh, b)
    rnn = nn.RNN(D, H, nonlinearity="tanh", batch_first=True, dtype=DTYPE, device=get_device())
    return _copy_weights(rnn, Wx, Wh, b, b_hh, suffix="_l0")


def build_rnn_cell(Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray, b_hh: np.ndarray | None = None) -> nn.RNNCell:
    """``nn.RNNCell(D, H, nonlinearity="tanh")`` with the same weights and bias split as :func:`build_rnn`."""
    D, H = _check_rnn_shapes(Wx, Wh, b)
    cell = nn.RNNCell(D, H, nonlinearity="tanh", dtype=DTYPE, device=get_device())
    return _copy_weights(cell, Wx, Wh, b, b_hh)


def build_lstm_cell(Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray) -> nn.LSTMCell:
    """``nn.LSTMCell(D, H)`` with weight_ih = Wx (4H, D), weight_hh = Wh (4H, H), bias_ih = b, bias_hh = 0."""
    D, H = _check_rnn_shapes(Wx, Wh, b, gates=4)
    cell = nn.LSTMCell(D, H, dtype=DTYPE, device=get_device())
    return _copy_weights(cell, Wx, Wh, b, None)


def rnn_params_from_torch(rnn: nn.RNN | nn.RNNCell) -> dict[str, np.ndarray]:
    """{"Wx", "Wh", "b"} of a one-layer tanh PyTorch RNN (or RNNCell), with b = bias_ih + bias_hh
    (zeros for a module made with ``bias=False``)."""
    if not isinstance(rnn, (nn.RNN, nn.RNNCell)):
        raise TypeError(f"expected an nn.RNN or nn.RNNCell, got {type(rnn).__name__}")
    is_rnn = isinstance(rnn, nn.RNN)
    if rnn.nonlinearity != "tanh" or (is_rnn and (rnn.num_layers != 1 or rnn.bidirectional or rnn.proj_size)):
        raise ValueError("only a one-layer, one-direction tanh RNN maps onto (Wx, Wh, b)")
    suffix = "_l0" if is_rnn else ""
    get = lambda name: to_numpy(getattr(rnn, name + suffix)).astype(np.float64)
    Wx, Wh = get("weight_ih"), get("weight_hh")
    b = get("bias_ih") + get("bias_hh") if rnn.bias else np.zeros(Wh.shape[0])
    return {"Wx": Wx, "Wh": Wh, "b": b}


# --- forward ----------------------------------------------------------------------------------


def _check_batch(x: np.ndarray, h: np.ndarray, D: int, H: int, x_ndim: int) -> None:
    x, h = np.asarray(x), np.asarray(h)
    if x.ndim != x_ndim or x.shape[-1] != D:
        layout = "(N, D)" if x_ndim == 2 else "(N, T, D)"
        raise ValueError(f"x must have shape {layout} with D = {D} (Wx is (H, D)), got {x.shape}")
    if h.shape != (x.shape[0], H):
        raise ValueError(f"the hidden state must have shape (N, H) = ({x.shape[0]}, {H}), got {h.shape}")


def rnn_cell_forward(x, h_prev, Wx, Wh, b) -> np.ndarray:
    """h_next = nn.RNNCell(x, h_prev) for x (N, D), h_prev (N, H)."""
    cell = build_rnn_cell(Wx, Wh, b)
    _check_batch(x, h_prev, cell.input_size, cell.hidden_size, 2)
    with torch.no_grad():
        return to_numpy(cell(to_tensor(x), to_tensor(h_prev)))


def rnn_forward(x, h0, Wx, Wh, b) -> np.ndarray:
    """Every hidden state (N, T, H): the output of ``nn.RNN(batch_first=True)`` on x (N, T, D) from h0 (N, H)."""
    rnn = build_rnn(Wx, Wh, b)
    _check_batch(x, h0, rnn.input_size, rnn.hidden_size, 3)
    with torch.no_grad():
        out, _ = rnn(to_tensor(x), to_tensor(h0).unsqueeze(0))  # nn.RNN wants h0 as (layers, N, H)
    return to_numpy(out)


def lstm_cell_forward(x, h_prev, c_prev, Wx, Wh, b):
    """(h_next, c_next) = nn.LSTMCell(x, (h_prev, c_prev)); gates in PyTorch's order i, f, g, o."""
    cell = build_lstm_cell(Wx, Wh, b)
    _check_batch(x, h_prev, cell.input_size, cell.hidden_size, 2)
    if np.shape(c_prev) != np.shape(h_prev):
        raise ValueError(f"c_prev must have h_prev's shape {np.shape(h_prev)}, got {np.shape(c_prev)}")
    with torch.no_grad():
        h, c = cell(to_tensor(x), (to_tensor(h_prev), to_tensor(c_prev)))
    return to_numpy(h), to_numpy(c)


# --- backward (autograd) ----------------------------------------------------------------------


def _check_output(given, recomputed: torch.Tensor, name: str, forward: str) -> None:
    given = np.asarray(given, dtype=np.float64)
    expected = to_numpy(recomputed)
    if given.shape != expected.shape or not np.allclose(given, expected, rtol=1e-4, atol=1e-5):
        raise ValueError(
            f"{name} is not the output of {forward} for these inputs "
            f"(shape {given.shape}, expected {expected.shape}): pass the forward's own result"
        )


def _grads(output: torch.Tensor, upstream, wrt: list[torch.Tensor]):
    output.backward(to_tensor(upstream))
    return tuple(to_numpy(t.grad) for t in wrt)


def rnn_cell_backward(dh_next, x, h_prev, Wx, Wh, b, h_next):
    """(dx, dh_prev, dWx, dWh, db) by autograd through ``nn.RNNCell``, for the upstream gradient dh_next.
    h_next (the forward's output) is only checked: autograd recomputes it."""
    cell = build_rnn_cell(Wx, Wh, b)
    _check_batch(x, h_prev, cell.input_size, cell.hidden_size, 2)
    xt, ht = to_tensor(x, requires_grad=True), to_tensor(h_prev, requires_grad=True)
    out = cell(xt, ht)
    _check_output(h_next, out, "h_next", "rnn_cell_forward")
    return _grads(out, dh_next, [xt, ht, cell.weight_ih, cell.weight_hh, cell.bias_ih])


def rnn_backward(dhs, x, h0, Wx, Wh, b, hs):
    """Backprop through time by autograd through ``nn.RNN``: (dx, dh0, dWx, dWh, db) for the gradient dhs
    (N, T, H) reaching every hidden state from outside. hs (the forward's output) is only checked."""
    rnn = build_rnn(Wx, Wh, b)
    _check_batch(x, h0, rnn.input_size, rnn.hidden_size, 3)
    xt, h0t = to_tensor(x, requires_grad=True), to_tensor(h0, requires_grad=True)
    out, _ = rnn(xt, h0t.unsqueeze(0))
    _check_output(hs, out, "hs", "rnn_forward")
    # bias_ih and bias_hh get the same gradient (they enter as a sum): either one is dL/db.
    return _grads(out, dhs, [xt, h0t, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0])


def rnn_sequence_backward(dhs, x, h0, Wx, Wh, b):
    """:func:`rnn_backward` with the forward computed here too: the reference for a learner's forward and
    backward chained (``cases.rnn.forward_then_backward``)."""
    return rnn_backward(dhs, x, h0, Wx, Wh, b, rnn_forward(x, h0, Wx, Wh, b))


def hidden_state_gradients(x, h0, Wx, Wh, b, dh_last) -> np.ndarray:
    """dL/dh_t for t = 0..T (h_0 the initial state) when the loss sees only the last state, with
    dL/dh_T = dh_last: an ``nn.RNNCell`` unrolled by hand, each h_t keeping its ``.grad``. Shape (T+1, N, H)."""
    cell = build_rnn_cell(Wx, Wh, b)
    _check_batch(x, h0, cell.input_size, cell.hidden_size, 3)
    xt = to_tensor(x)
    states = [to_tensor(h0, requires_grad=True)]
    for t in range(xt.shape[1]):
        states.append(cell(xt[:, t], states[-1]))
        states[-1].retain_grad()
    states[-1].backward(to_tensor(dh_last))
    return np.stack([to_numpy(h.grad) for h in states])


# --- clipping ---------------------------------------------------------------------------------


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float):
    """(clipped gradients, total norm) from ``torch.nn.utils.clip_grad_norm_``: each gradient is attached
    to a parameter's ``.grad``, clipped in place by PyTorch, and read back."""
    if not isinstance(grads, dict) or not grads:
        raise TypeError(f"grads must be a non-empty dict of name -> array, got {type(grads).__name__}")
    params = {}
    for name, g in grads.items():
        p = torch.zeros(np.shape(g), dtype=DTYPE, device=get_device(), requires_grad=True)
        p.grad = to_tensor(g).clone()  # clip_grad_norm_ works in place: keep the caller's array intact
        params[name] = p
    total = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm)
    return {name: to_numpy(p.grad) for name, p in params.items()}, to_numpy(total)
