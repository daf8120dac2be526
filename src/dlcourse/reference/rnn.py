"""PyTorch references for chapter 5 (RNN): ``nn.RNNCell`` / ``nn.RNN`` (tanh, ``batch_first=True``) with
the learner's weights copied in, their gradients by autograd, ``clip_grad_norm_``, and ``nn.LSTMCell``.

The learner's parameters: Wx (H, D) = ``weight_ih_l0``, Wh (H, H) = ``weight_hh_l0`` and ONE bias b (H,).
PyTorch keeps two biases, ``bias_ih`` and ``bias_hh``, which always appear as a sum
(h = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)): any split with b_ih + b_hh = b is the same network.
We copy b into ``bias_ih`` and zeros into ``bias_hh``, and read a trained PyTorch RNN back as
b = b_ih + b_hh.
"""

from __future__ import annotations

import ast
import copy
import re

import numpy as np
import torch
from torch import nn

from ..checking import Inputs
from ..device import get_device, to_numpy, to_tensor
from ..hints import Hint
from ..solved.networks import sigmoid

DTYPE = torch.float64


# --- copying parameters between NumPy and PyTorch ---------------------------------------------

def _check_rnn_shapes(Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray, gates: int = 1) -> tuple[int, int]:
    Wx, Wh, b = np.asarray(Wx), np.asarray(Wh), np.asarray(b)
    if Wx.ndim != 2 or Wh.ndim != 2 or b.ndim != 1:
        raise ValueError(f"Wx and Wh must be 2-D and b 1-D, got shapes {Wx.shape}, {Wh.shape}, {b.shape}")
    hidden = Wh.shape[1]
    if Wh.shape[0] != gates * hidden or Wx.shape[0] != gates * hidden or b.shape[0] != gates * hidden:
        want = f"{gates} * H" if gates > 1 else "H"
        raise ValueError(f"expected Wx ({want}, D), Wh ({want}, H), b ({want},) with H = {hidden}; "
                         f"got Wx {Wx.shape}, Wh {Wh.shape}, b {b.shape}")
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
        raise ValueError(f"{name} is not the output of {forward} for these inputs "
                         f"(shape {given.shape}, expected {expected.shape}): pass the forward's own result")


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


# --- timing -----------------------------------------------------------------------------------

def use_one_thread() -> str:
    """Run PyTorch and NumPy's BLAS on one thread each from now on, and say what was set.

    The matrices of this chapter are small (a few dozen rows), so threads cost more than they save,
    and on a shared machine they wait for each other; one thread each also makes the NumPy vs PyTorch
    speed comparison fair. NumPy's side needs the optional ``threadpoolctl`` package.
    """
    torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return "PyTorch: 1 thread; NumPy: its default threads (install threadpoolctl to limit them)"
    threadpool_limits(limits=1, user_api="blas")
    return "PyTorch and NumPy (BLAS): 1 thread each"


# --- test inputs that need the forward's output ---------------------------------------------

def cell_backward_inputs(dh_next, x, h_prev, Wx, Wh, b) -> Inputs:
    """The arguments of ``rnn_cell_backward``: these, plus h_next from PyTorch's forward (in x's dtype)."""
    h_next = rnn_cell_forward(x, h_prev, Wx, Wh, b).astype(np.asarray(x).dtype)
    return Inputs(dh_next, x, h_prev, Wx, Wh, b, h_next)


def backward_inputs(dhs, x, h0, Wx, Wh, b) -> Inputs:
    """The arguments of ``rnn_backward``: these, plus hs from PyTorch's forward (in x's dtype)."""
    hs = rnn_forward(x, h0, Wx, Wh, b).astype(np.asarray(x).dtype)
    return Inputs(dhs, x, h0, Wx, Wh, b, hs)


# --- hints: the mistakes learners make, recognised by computing them ------------------------
# (Here rather than in the notebook: several wrong versions differ from the solution in one detail.)

def _part(result, path: str, names):
    """The piece of ``result`` that the checker's ``path`` ("dx", "clipped['W']", "output") points at."""
    match = re.match(r"^(\w+)(.*)$", path)
    head, rest = match.group(1), match.group(2)
    if names is not None:
        result = result[list(names).index(head)]
    for key in re.findall(r"\[(.*?)\]", rest):
        result = result[ast.literal_eval(key)]
    return result


def _mistake(wrong_fn, message: str, names=None) -> Hint:
    """A hint shown when the learner's failing output equals the same output of ``wrong_fn(*inputs)``."""
    def when(m) -> bool:
        wrong = np.asarray(_part(wrong_fn(*copy.deepcopy(m.args), **copy.deepcopy(m.kwargs)), m.path, names), dtype=np.float64)
        got, expected = np.asarray(m.got), np.asarray(m.expected, dtype=np.float64)
        # tight enough to tell apart mistakes that differ by PyTorch's 1e-6 (clipping), loose enough for float32
        rtol, atol = (1e-5, 1e-6) if got.dtype == np.float32 else (1e-9, 1e-12)
        got = got.astype(np.float64)
        return (wrong.shape == got.shape and bool(np.allclose(got, wrong, rtol=rtol, atol=atol))
                and not (wrong.shape == expected.shape and np.allclose(expected, wrong, rtol=rtol, atol=atol)))
    return Hint(message, when)


def _got_shape(predicate, message: str) -> Hint:
    return Hint(message, lambda m: m.got is not None and m.expected is not None
                and predicate(np.shape(m.got), np.shape(m.expected)))


def _cell_grads(dz, x, h_prev, Wx, Wh):
    return dz @ Wx, dz @ Wh, dz.T @ x, dz.T @ h_prev, dz.sum(axis=0)


def _bptt(dhs, x, h0, Wx, Wh, hs, *, carry=True, dWh_with_h_t=False, dh0_before_Wh=False):
    """A backprop through time with one of three mistakes switched on (for hints only)."""
    N, T, H = hs.shape
    h_prev = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    dz, dh = np.empty_like(hs), np.zeros_like(h0)
    for t in reversed(range(T)):
        dh_total = dhs[:, t] + (dh if carry else 0.0)
        dz[:, t] = dh_total * (1.0 - hs[:, t] ** 2)
        dh = dz[:, t] @ Wh
    if dh0_before_Wh:
        dh = dh_total
    rows = dz.reshape(N * T, H)
    paired = (hs if dWh_with_h_t else h_prev).reshape(N * T, H)
    return dz @ Wx, dh, rows.T @ x.reshape(N * T, -1), rows.T @ paired, rows.sum(axis=0)


def _clip(grads, max_norm, *, per_parameter=False, eps=1e-6, always=False, strictly_above=False, squared=False):
    """Gradient clipping with one mistake switched on (for hints only)."""
    norms = {k: np.sqrt(np.sum(np.asarray(g, np.float64) ** 2)) for k, g in grads.items()}
    total = np.sqrt(sum(n ** 2 for n in norms.values()))
    coef = lambda norm: max_norm / (norm + eps) if always else min(1.0, max_norm / (norm + eps))
    if strictly_above:
        clipped = {k: g * (max_norm / (total + eps)) if total > max_norm else g for k, g in grads.items()}
    else:
        clipped = {k: g * coef(norms[k] if per_parameter else total) for k, g in grads.items()}
    return clipped, total ** 2 if squared else total


def _lstm_wrong(order="ifgo", h_from_c=False):
    def wrong(x, h_prev, c_prev, Wx, Wh, b):
        z = x @ Wx.T + h_prev @ Wh.T + b
        gates = dict(zip(order, np.split(z, 4, axis=1)))
        c = sigmoid(gates["f"]) * c_prev + sigmoid(gates["i"]) * np.tanh(gates["g"])
        return sigmoid(gates["o"]) * (c if h_from_c else np.tanh(c)), c
    return wrong


CELL_GRADS = ("dx", "dh_prev", "dWx", "dWh", "db")
BPTT_GRADS = ("dx", "dh0", "dWx", "dWh", "db")
CLIP_OUTPUTS = ("clipped", "total_norm")
LSTM_OUTPUTS = ("h_next", "c_next")

HINTS = {
    "rnn_cell_forward": [
        _mistake(lambda x, h, Wx, Wh, b: rnn_cell_forward(x, h, Wx, Wh, 2 * b),
                 "b is added twice. PyTorch keeps two biases, b_ih and b_hh, but they only ever appear as their "
                 "sum: here the one bias b stands for b_ih + b_hh, so add it once."),
        _mistake(lambda x, h, Wx, Wh, b: np.tanh(x @ Wx.T + h @ Wh + b),
                 "Wh is stored like nn.RNN's weight_hh, (H_out, H_in): the recurrent term is h_prev @ Wh.T, not h_prev @ Wh."),
        _mistake(lambda x, h, Wx, Wh, b: x @ Wx.T + h @ Wh.T + b,
                 "the tanh is missing: h_next = tanh(x Wx^T + h_prev Wh^T + b)."),
    ],
    "rnn_forward": [
        _mistake(lambda x, h0, Wx, Wh, b: rnn_forward(x, np.zeros_like(h0), Wx, Wh, b),
                 "the first step must start from the given h0, not from zeros."),
        _mistake(lambda x, h0, Wx, Wh, b: np.concatenate([np.asarray(h0)[:, None], rnn_forward(x, h0, Wx, Wh, b)[:, :-1]], axis=1),
                 "off by one step: hs[:, t] is the state AFTER reading x[:, t] (h_{t+1} if h0 is h_0); "
                 "h0 itself is not part of the output."),
        _mistake(lambda x, h0, Wx, Wh, b: np.tanh(x @ Wx.T + b + (h0 @ Wh.T)[:, None]),
                 "every step used h0: feed each step the hidden state the previous step produced."),
        _got_shape(lambda got, want: len(got) == 2 and len(want) == 3,
                   "return every hidden state, shape (N, T, H), not only the last one (nn.RNN returns the "
                   "last one separately as h_n)."),
        _got_shape(lambda got, want: len(got) == 3 and got == (want[1], want[0], want[2]) and want[0] != want[1],
                   "the result is time-major (T, N, H): this chapter keeps the batch first, (N, T, H), like "
                   "nn.RNN(batch_first=True); index the time step with x[:, t], not x[t]."),
    ],
    "rnn_cell_backward": [
        _mistake(lambda dh, x, hp, Wx, Wh, b, hn: _cell_grads(dh * (1 - np.tanh(hn) ** 2), x, hp, Wx, Wh),
                 "tanh applied twice: h_next is already tanh(z), so tanh'(z) = 1 - h_next**2, not 1 - tanh(h_next)**2.",
                 CELL_GRADS),
        _mistake(lambda dh, x, hp, Wx, Wh, b, hn: _cell_grads(dh, x, hp, Wx, Wh),
                 "the tanh derivative is missing: first dz = dh_next * (1 - h_next**2), then the linear part.",
                 CELL_GRADS),
        _mistake(lambda dh, x, hp, Wx, Wh, b, hn: _cell_grads(dh * (1 - hn ** 2), x, hp, Wx, Wh.T),
                 "dh_prev: the forward used h_prev @ Wh.T, so the backward is dz @ Wh (no transpose).", CELL_GRADS),
        _mistake(lambda dh, x, hp, Wx, Wh, b, hn: _cell_grads(dh * (1 - hn ** 2), x, hn, Wx, Wh),
                 "dWh pairs dz with the state that went INTO the step: dz.T @ h_prev, not h_next.", CELL_GRADS),
    ],
    "rnn_backward": [
        _mistake(lambda dhs, x, h0, Wx, Wh, b, hs: _bptt(dhs, x, h0, Wx, Wh, hs, carry=False),
                 "the gradient from the future is missing: h_t feeds the output at step t AND step t+1, so "
                 "dL/dh_t = dhs[:, t] + (what comes back from step t+1); carry it backwards through the loop.",
                 BPTT_GRADS),
        _mistake(lambda dhs, x, h0, Wx, Wh, b, hs: _bptt(dhs, x, h0, Wx, Wh, hs, dWh_with_h_t=True),
                 "dWh: step t multiplied Wh with h_{t-1} (h0 for the first step), so pair dz_t with the "
                 "previous state, not with hs[:, t].", BPTT_GRADS),
        _mistake(lambda dhs, x, h0, Wx, Wh, b, hs: _bptt(dhs, x, h0, Wx, Wh, hs, dh0_before_Wh=True),
                 "dh0 is one step further back than dL/dh_1: after the loop it is dz_1 @ Wh.", BPTT_GRADS),
    ],
    "clip_grad_norm": [
        _mistake(lambda g, m: _clip(g, m, per_parameter=True),
                 "each gradient was clipped by its own norm: clipping by the GLOBAL norm scales all of them by "
                 "the same factor, computed from sqrt(sum of all squared entries of all gradients).", CLIP_OUTPUTS),
        _mistake(lambda g, m: _clip(g, m, eps=0.0),
                 "close, but PyTorch divides by total_norm + 1e-6 (a guard against dividing by zero): "
                 "use max_norm / (total_norm + 1e-6).", CLIP_OUTPUTS),
        _mistake(lambda g, m: _clip(g, m, always=True),
                 "gradients below max_norm were scaled UP: clipping only ever shrinks; the factor is "
                 "min(1, max_norm / (total_norm + 1e-6)).", CLIP_OUTPUTS),
        _mistake(lambda g, m: _clip(g, m, strictly_above=True),
                 "at total_norm == max_norm PyTorch still multiplies by max_norm / (total_norm + 1e-6), just "
                 "below 1: use min(1, ...) rather than `if total_norm > max_norm`.", CLIP_OUTPUTS),
        _mistake(lambda g, m: _clip(g, m, squared=True),
                 "total_norm is the square root of the sum of squares, not the sum itself.", CLIP_OUTPUTS),
    ],
    "lstm_cell_forward": [
        _mistake(_lstm_wrong("ifog"), "gate order: PyTorch stacks the rows of Wx, Wh and b as input, forget, "
                                      "cell candidate g, output (i, f, g, o), not i, f, o, g.", LSTM_OUTPUTS),
        _mistake(_lstm_wrong("fiog"), "gate order: PyTorch's is i, f, g, o (input gate first).", LSTM_OUTPUTS),
        _mistake(_lstm_wrong("ifgo", h_from_c=True), "h_next = o * tanh(c_next): the tanh is missing.", LSTM_OUTPUTS),
    ],
}
