"""Chapter 5 (gated cells)'s demos: the recall task (remember the first token over a gap of distractors),
small PyTorch RNN / LSTM models trained on it, and NumPy passes over a trained model's weights
(gate activations, gradient norms through time) that take the learner's cell functions as arguments.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from ..solved.losses import softmax
from ..solved.networks import sigmoid

N_TOKENS = 4


def recall_batch(n: int, gap: int, rng: np.random.Generator, n_tokens: int = N_TOKENS):
    """n sequences of gap + 1 steps: a token (one-hot, with a marker on the extra last channel) followed by gap
    random distractor tokens. Returns x (n, gap + 1, n_tokens + 1) float32 and the first tokens y (n,) int64."""
    tokens = rng.integers(0, n_tokens, size=(n, gap + 1))
    x = np.zeros((n, gap + 1, n_tokens + 1), np.float32)
    x[..., :n_tokens] = np.eye(n_tokens, dtype=np.float32)[tokens]
    x[:, 0, n_tokens] = 1.0  # "remember this one"
    return x, tokens[:, 0]


class RecallModel(nn.Module):
    """A one-layer ``nn.RNN`` (tanh) or ``nn.LSTM`` read out by ``nn.Linear`` at the last step."""

    def __init__(self, kind: str, hidden: int = 32, n_tokens: int = N_TOKENS, forget_bias: float = 3.0):
        super().__init__()
        if kind not in ("rnn", "lstm"):
            raise ValueError(f"kind must be 'rnn' or 'lstm', got {kind!r}")
        self.kind = kind
        self.rnn = (nn.LSTM if kind == "lstm" else nn.RNN)(n_tokens + 1, hidden, batch_first=True)
        self.readout = nn.Linear(hidden, n_tokens)
        if kind == "lstm":
            with torch.no_grad():  # forget gates start near sigmoid(3) = 0.95: the memory starts open
                self.rnn.bias_hh_l0[hidden : 2 * hidden] += forget_bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.rnn(x)[0][:, -1])


def train_recall(
    kind: str, max_gap: int, steps: int = 300, hidden: int = 32, seed: int = 0, lr: float = 1e-2, batch: int = 32
) -> tuple[RecallModel, int]:
    """Train a :class:`RecallModel` with Adam (gradients clipped at norm 1) on batches whose gap is drawn
    uniformly from 1..max_gap; stop after ``steps`` steps or once 10 batches in a row are all right.
    Returns (model, steps taken)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = RecallModel(kind, hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    streak = 0
    for step in range(1, steps + 1):  # noqa: B007 (the number of steps taken is returned)
        x, y = recall_batch(batch, int(rng.integers(1, max_gap + 1)), rng)
        logits = model(torch.from_numpy(x))
        loss = nn.functional.cross_entropy(logits, torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        streak = streak + 1 if bool((logits.argmax(1) == torch.from_numpy(y)).all()) else 0
        if streak == 10:
            break
    return model, step


def recall_accuracy(model: RecallModel, gap: int, n: int = 300, seed: int = 1) -> float:
    """The share of n fresh sequences with this gap whose first token the model recalls."""
    x, y = recall_batch(n, gap, np.random.default_rng(seed))
    with torch.no_grad():
        return float((model(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def params_of(model: RecallModel) -> dict[str, np.ndarray]:
    """The trained weights in float64: W_ih, W_hh, b_ih, b_hh of the recurrent layer, W_out, b_out of the readout."""
    get = lambda t: t.detach().cpu().numpy().astype(np.float64)
    r = model.rnn
    return {
        "W_ih": get(r.weight_ih_l0),
        "W_hh": get(r.weight_hh_l0),
        "b_ih": get(r.bias_ih_l0),
        "b_hh": get(r.bias_hh_l0),
        "W_out": get(model.readout.weight),
        "b_out": get(model.readout.bias),
    }


def lstm_gates(params: dict[str, np.ndarray], x: np.ndarray) -> dict[str, np.ndarray]:
    """The gates i, f, g, o and the cell state c of an LSTM over x (N, T, D), each (N, T, H), in NumPy."""
    N, T, _ = x.shape
    H = params["W_hh"].shape[1]
    h, c = np.zeros((N, H)), np.zeros((N, H))
    out = {k: np.empty((N, T, H)) for k in "ifgoc"}
    for t in range(T):
        z = x[:, t] @ params["W_ih"].T + params["b_ih"] + h @ params["W_hh"].T + params["b_hh"]
        z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)
        i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
        c = f * c + i * g
        h = o * np.tanh(c)
        for k, v in zip("ifgoc", (i, f, g, o, c)):
            out[k][:, t] = v
    return out


def _readout_grad(params, h_last, y):
    """dL/dh_T of the mean cross-entropy of the readout at the last step."""
    p = softmax(h_last @ params["W_out"].T + params["b_out"])
    p[np.arange(len(y)), y] -= 1.0
    return p @ params["W_out"] / len(y)


def lstm_gradient_norms(
    cell_forward: Callable, cell_backward: Callable, params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray
) -> dict[str, np.ndarray]:
    """||dL/dc_t|| and ||dL/dh_t|| (t = 0..T, averaged over the batch) for the cross-entropy at the last
    step, by the given LSTM cell forward and backward (the learner's), chained over the sequence.

    dL/dc_t is the whole gradient: what the backward of step t+1 sends along the cell state, plus what
    reaches c_t through h_t = o_t tanh(c_t) (with o_t from :func:`lstm_gates`)."""
    N, T, _ = x.shape
    H = params["W_hh"].shape[1]
    W = (params["W_ih"], params["W_hh"], params["b_ih"], params["b_hh"])
    hs, cs = [np.zeros((N, H))], [np.zeros((N, H))]
    for t in range(T):
        h, c = cell_forward(x[:, t], hs[-1], cs[-1], *W)
        hs.append(h)
        cs.append(c)
    o = lstm_gates(params, x)["o"]  # o[:, t - 1] is o_t
    through_h = lambda dh, t: dh * o[:, t - 1] * (1 - np.tanh(cs[t]) ** 2)
    dh, dc = _readout_grad(params, hs[-1], y), np.zeros((N, H))
    norms_h, norms_c = [np.linalg.norm(dh, axis=1).mean()], [np.linalg.norm(through_h(dh, T), axis=1).mean()]
    for t in reversed(range(T)):
        _, dh, dc, *_ = cell_backward(dh, dc, x[:, t], hs[t], cs[t], *W)
        norms_h.append(np.linalg.norm(dh, axis=1).mean())
        norms_c.append(np.linalg.norm(dc + (through_h(dh, t) if t > 0 else 0.0), axis=1).mean())
    return {"h": np.array(norms_h[::-1]), "c": np.array(norms_c[::-1])}


def rnn_gradient_norms(params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """||dL/dh_t|| (t = 0..T, averaged over the batch) of a trained tanh RNN, for the cross-entropy at the last step."""
    N, T, _ = x.shape
    Wx, Wh, b = params["W_ih"], params["W_hh"], params["b_ih"] + params["b_hh"]
    hs = [np.zeros((N, Wh.shape[0]))]
    for t in range(T):
        hs.append(np.tanh(x[:, t] @ Wx.T + hs[-1] @ Wh.T + b))
    dh = _readout_grad(params, hs[-1], y)
    norms = [np.linalg.norm(dh, axis=1).mean()]
    for t in reversed(range(T)):
        dh = (dh * (1 - hs[t + 1] ** 2)) @ Wh
        norms.append(np.linalg.norm(dh, axis=1).mean())
    return np.array(norms[::-1])
