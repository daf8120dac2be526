"""Chapter 5 (gated cells): the solved NumPy cells against the PyTorch references, the references against
PyTorch's own modules, the check adapters, the hints (each fires on its mistake, stays silent on a right
answer and on a dtype-only difference), the recall demo and the plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from dlcourse.cases import gated as cases
from dlcourse.checking import CheckFailed, check, randn
from dlcourse.demos import gated as demo
from dlcourse.mistakes import Mismatch, value_at
from dlcourse.mistakes import gated as mistakes
from dlcourse.plots import gated as gated_plots
from dlcourse.reference import gated as ref
from dlcourse.solved import gated as solved
from dlcourse.solved.rnn import rnn_backward, rnn_forward

LSTM_GRADS = ("dx", "dh_prev", "dc_prev", "dW_ih", "dW_hh", "db_ih", "db_hh")
SEQ_GRADS = ("dx", "dh0", "dc0", "dW_ih", "dW_hh", "db_ih", "db_hh")
TBPTT_GRADS = ("dx", "dh0", "dWx", "dWh", "db")
SIGMOID = ("dlcourse.solved.networks.sigmoid",)


def lstm_args(N=3, D=4, H=5, seed=0, dtype=np.float64):
    a = (
        randn(N, D, seed=seed),
        randn(N, H, seed=seed + 1),
        randn(N, H, seed=seed + 2),
        randn(4 * H, D, seed=seed + 3, scale=0.5),
        randn(4 * H, H, seed=seed + 4, scale=0.5),
        randn(4 * H, seed=seed + 5),
        randn(4 * H, seed=seed + 6),
    )
    return tuple(x.astype(dtype) for x in a)


def gru_args(N=3, D=4, H=5, seed=0, dtype=np.float64):
    a = (
        randn(N, D, seed=seed),
        randn(N, H, seed=seed + 1),
        randn(3 * H, D, seed=seed + 2, scale=0.5),
        randn(3 * H, H, seed=seed + 3, scale=0.5),
        randn(3 * H, seed=seed + 4),
        randn(3 * H, seed=seed + 5),
    )
    return tuple(x.astype(dtype) for x in a)


def tbptt_args(N=2, T=9, D=3, H=4, k=2, seed=0, dtype=np.float64):
    a = (
        randn(N, T, H, seed=seed),
        randn(N, T, D, seed=seed + 1),
        randn(N, H, seed=seed + 2),
        randn(H, D, seed=seed + 3, scale=0.7),
        randn(H, H, seed=seed + 4, scale=0.5),
        randn(H, seed=seed + 5),
    )
    return cases.tbptt_inputs(*(x.astype(dtype) for x in a), k)


# --- solved == reference, reference == PyTorch's modules ------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(3, 4, 5), (1, 1, 1), (2, 7, 3)])
def test_solved_cells_match_pytorch(shape, dtype):
    args = lstm_args(*shape, dtype=dtype)
    check(
        solved.lstm_cell_forward,
        ref.lstm_cell_forward,
        [args],
        output_names=("h_next", "c_next"),
        allow=SIGMOID,
        quiet=True,
    )
    N, _, H = shape
    grads_in = (randn(N, H, seed=40).astype(dtype), randn(N, H, seed=41).astype(dtype))
    check(
        solved.lstm_cell_backward,
        ref.lstm_cell_backward,
        [grads_in + args],
        output_names=LSTM_GRADS,
        allow=SIGMOID,
        quiet=True,
    )
    check(solved.gru_cell_forward, ref.gru_cell_forward, [gru_args(*shape, dtype=dtype)], allow=SIGMOID, quiet=True)


@pytest.mark.parametrize("T,k", [(9, 1), (9, 2), (9, 3), (9, 9), (5, 8), (10, 4)])
def test_solved_tbptt_matches_detach(T, k):
    check(
        solved.tbptt_backward,
        ref.tbptt_backward,
        [tbptt_args(T=T, k=k)],
        output_names=TBPTT_GRADS,
        allow=("dlcourse.solved.rnn.rnn_backward",),
        quiet=True,
    )


def test_tbptt_with_k_at_least_T_is_full_bptt_and_k_1_is_per_step():
    inputs = tbptt_args(T=6, k=6)
    dhs, x, h0, Wx, Wh, b, hs, _ = inputs.args
    full = rnn_backward(dhs, x, h0, Wx, Wh, b, hs)
    for got, want in zip(ref.tbptt_backward(dhs, x, h0, Wx, Wh, b, hs, 6), full):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    cut = ref.tbptt_backward(dhs, x, h0, Wx, Wh, b, hs, 1)
    assert not np.allclose(cut[3], full[3])  # the cut changes dWh
    # k = 1: each step on its own, dz_t = dhs_t (1 - h_t^2)
    dz = dhs * (1 - hs**2)
    np.testing.assert_allclose(cut[0], dz @ Wx, rtol=1e-12)
    np.testing.assert_allclose(cut[1], dz[:, 0] @ Wh, rtol=1e-12)


def test_reference_cells_equal_pytorch_modules_with_default_weights():
    torch.manual_seed(3)
    for module, gates in (
        (torch.nn.LSTMCell(3, 4, dtype=torch.float64), 4),
        (torch.nn.GRUCell(3, 4, dtype=torch.float64), 3),
    ):
        W = [getattr(module, n).detach().numpy() for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        assert W[0].shape == (gates * 4, 3)
        x, h = randn(2, 3, seed=1), randn(2, 4, seed=2)
        with torch.no_grad():
            if gates == 4:
                c = randn(2, 4, seed=3)
                want = [t.numpy() for t in module(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))]
                got = ref.lstm_cell_forward(x, h, c, *W)
            else:
                want, got = [module(torch.tensor(x), torch.tensor(h)).numpy()], [ref.gru_cell_forward(x, h, *W)]
        # The reference runs on the GPU when there is one, the module here on the CPU: the same float64 sums in
        # another order differ by a few ulps (3.8e-16 relative, seen on an H200); a gate in the wrong place or
        # a bias left out differs by 1e-2 or more.
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)


def test_reference_rejects_wrong_layouts():
    x, h, c, W_ih, W_hh, b_ih, b_hh = lstm_args()
    with pytest.raises(ValueError, match="4H"):
        ref.lstm_cell_forward(x, h, c, W_ih[:15], W_hh, b_ih, b_hh)
    with pytest.raises(ValueError, match="3H"):
        ref.gru_cell_forward(x, h, W_ih, W_hh, b_ih, b_hh)
    dhs, x, h0, Wx, Wh, b, hs, _ = tbptt_args().args
    with pytest.raises(ValueError, match="k must be"):
        ref.tbptt_backward(dhs, x, h0, Wx, Wh, b, hs, 0)
    with pytest.raises(ValueError, match="forward's output"):
        ref.tbptt_backward(dhs, x, h0, Wx, Wh, b, hs + 0.1, 2)


def test_rnn_states_equal_solved_forward():
    _, x, h0, Wx, Wh, b, hs, _ = tbptt_args().args
    np.testing.assert_allclose(hs, rnn_forward(x, h0, Wx, Wh, b), rtol=1e-13, atol=1e-15)


# --- the adapter: the learner's pieces chained over a sequence --------------------------------


def test_lstm_unrolled_from_solved_cells_matches_nn_lstm():
    _x, h0, c0, W_ih, W_hh, b_ih, b_hh = lstm_args(N=2, D=3, H=4, seed=5)
    xs, dhs = randn(2, 7, 3, seed=6), randn(2, 7, 4, seed=7)
    check(
        cases.lstm_unrolled(solved.lstm_cell_forward, solved.lstm_cell_backward),
        ref.lstm_sequence_backward,
        [(dhs, xs, h0, c0, W_ih, W_hh, b_ih, b_hh)],
        output_names=SEQ_GRADS,
        allow=SIGMOID,
        quiet=True,
    )


def test_lstm_unrolled_catches_a_backward_that_drops_dc():
    def no_cell_path(*args):
        out = list(solved.lstm_cell_backward(*args))
        out[2] = np.zeros_like(out[2])  # dc_prev lost: right for one step, wrong over a sequence
        return tuple(out)

    _x, h0, c0, W_ih, W_hh, b_ih, b_hh = lstm_args(N=2, D=3, H=4, seed=5)
    with pytest.raises(CheckFailed):
        check(
            cases.lstm_unrolled(solved.lstm_cell_forward, no_cell_path),
            ref.lstm_sequence_backward,
            [(randn(2, 5, 4, seed=8), randn(2, 5, 3, seed=9), h0, c0, W_ih, W_hh, b_ih, b_hh)],
            output_names=SEQ_GRADS,
            allow=SIGMOID,
            quiet=True,
        )


# --- hints --------------------------------------------------------------------------------------


def _mismatch(name, args, got, expected, output_names=None, keys=None):
    keys = keys or ((output_names[0],) if output_names else ())
    return Mismatch(name, keys, "", args, {}, expected=expected, got=got, output_names=output_names)


HINT_CASES = {
    "lstm_cell_forward": (lambda: lstm_args(), ("h_next", "c_next"), solved.lstm_cell_forward),
    "lstm_cell_backward": (
        lambda: (randn(3, 5, seed=50), randn(3, 5, seed=51)) + lstm_args(),
        LSTM_GRADS,
        solved.lstm_cell_backward,
    ),
    "gru_cell_forward": (lambda: gru_args(), None, solved.gru_cell_forward),
    "tbptt_backward": (lambda: tbptt_args(T=9, k=2).args, TBPTT_GRADS, solved.tbptt_backward),
}


def _hint_cases():
    for name in HINT_CASES:
        for index in range(len(getattr(mistakes, name))):
            yield pytest.param(name, index, id=f"{name}-{index}")


@pytest.mark.parametrize("name,index", list(_hint_cases()))
def test_each_hint_fires_on_its_mistake_only(name, index):
    make_args, output_names, right_fn = HINT_CASES[name]
    hints = getattr(mistakes, name)
    hint, args = hints[index], make_args()
    right = right_fn(*args)
    # the wrong function is the first closure cell that is callable with the arguments
    wrong_fn = next(c.cell_contents for c in hint.when.__closure__ if callable(c.cell_contents))
    wrong_result = wrong_fn(*args)
    keys_list = [(o,) for o in output_names] if output_names else [()]
    fired_somewhere = False
    for keys in keys_list:
        if hint.output is not None and keys[0] != hint.output:
            continue
        exp = value_at(right, keys, output_names)
        bad = value_at(wrong_result, keys, output_names)
        if np.allclose(np.asarray(bad, np.float64), np.asarray(exp, np.float64), rtol=1e-6, atol=1e-9):
            continue  # this mistake does not change this output
        fired_somewhere = True
        assert hint.matches(_mismatch(name, args, bad, exp, output_names, keys)), (
            f"{name} hint {index} silent on {keys}"
        )
        # silent on the right answer, and on the right answer in float32
        assert not hint.matches(_mismatch(name, args, exp, exp, output_names, keys))
        assert not hint.matches(_mismatch(name, args, np.asarray(exp, np.float32), exp, output_names, keys))
        # the other hints of the list do not claim this mistake
        others = [
            i
            for i, h in enumerate(hints)
            if i != index and h.matches(_mismatch(name, args, bad, exp, output_names, keys))
        ]
        assert not others, f"{name}: hints {others} also fire on mistake {index} at {keys}"
    assert fired_somewhere, f"{name} hint {index}: its mistake changes nothing on these inputs"


def test_gru_hint_names_the_reset_gate_in_a_failed_check():
    def paper_gru(x, h_prev, W_ih, W_hh, b_ih, b_hh):
        x_r, x_z, x_n = np.split(x @ W_ih.T + b_ih, 3, axis=1)
        W_hr, W_hz, W_hn = np.split(W_hh, 3)
        b_hr, b_hz, b_hn = np.split(b_hh, 3)
        r = 1 / (1 + np.exp(-(x_r + h_prev @ W_hr.T + b_hr)))
        z = 1 / (1 + np.exp(-(x_z + h_prev @ W_hz.T + b_hz)))
        return (1 - z) * np.tanh(x_n + (r * h_prev) @ W_hn.T + b_hn) + z * h_prev

    with pytest.raises(CheckFailed, match="reset gate is applied to h_prev BEFORE"):
        check(paper_gru, ref.gru_cell_forward, [gru_args()], hints=mistakes.gru_cell_forward, quiet=True)


# --- the demo and the plots ----------------------------------------------------------------------


def test_recall_batch_layout():
    x, y = demo.recall_batch(5, 3, np.random.default_rng(0))
    assert x.shape == (5, 4, demo.N_TOKENS + 1) and x.dtype == np.float32 and y.shape == (5,)
    np.testing.assert_array_equal(x[:, 0, : demo.N_TOKENS].argmax(1), y)
    assert (x[:, 0, -1] == 1).all() and (x[:, 1:, -1] == 0).all()
    np.testing.assert_array_equal(x[..., : demo.N_TOKENS].sum(-1), 1)


def test_lstm_learns_a_short_recall_and_numpy_gates_match_torch():
    model, steps = demo.train_recall("lstm", max_gap=3, steps=200, seed=0)
    assert demo.recall_accuracy(model, 3) > 0.9, steps
    params = demo.params_of(model)
    x, _ = demo.recall_batch(4, 6, np.random.default_rng(2))
    gates = demo.lstm_gates(params, x.astype(np.float64))
    h = gates["o"][:, -1] * np.tanh(gates["c"][:, -1])
    with torch.no_grad():
        out, _ = model.rnn(torch.from_numpy(x))
    np.testing.assert_allclose(h, out[:, -1].numpy(), rtol=1e-4, atol=1e-5)  # nn.LSTM runs in float32


def test_gradient_norms_agree_with_autograd():
    torch.manual_seed(0)
    model = demo.RecallModel("lstm", hidden=6)
    params = demo.params_of(model)
    x, y = demo.recall_batch(3, 5, np.random.default_rng(1))
    norms = demo.lstm_gradient_norms(
        solved.lstm_cell_forward, solved.lstm_cell_backward, params, x.astype(np.float64), y
    )
    model = model.double()
    h, c, cs = torch.zeros(3, 6, dtype=torch.float64), torch.zeros(3, 6, dtype=torch.float64), []
    cell = torch.nn.LSTMCell(5, 6, dtype=torch.float64)
    with torch.no_grad():
        for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, n).copy_(getattr(model.rnn, n + "_l0"))
    for t in range(x.shape[1]):
        h, c = cell(torch.from_numpy(x[:, t]).double(), (h, c))
        c.retain_grad()
        cs.append(c)
    torch.nn.functional.cross_entropy(model.readout(h), torch.from_numpy(y)).backward()
    want = [np.linalg.norm(ci.grad.numpy(), axis=1).mean() for ci in cs]
    np.testing.assert_allclose(norms["c"][1:], want, rtol=1e-10)
    rnn = demo.rnn_gradient_norms(demo.params_of(demo.RecallModel("rnn", hidden=6)), x.astype(np.float64), y)
    assert rnn.shape == (x.shape[1] + 1,) and np.all(rnn > 0)


def test_plots_draw():
    _fig, ax = plt.subplots()
    gated_plots.plot_recall_accuracy([5, 10], {"RNN": [1.0, 0.3], "LSTM": [1.0, 1.0]}, chance=0.25, ax=ax)
    assert len(ax.lines) == 3
    gates = {k: np.random.default_rng(0).uniform(size=(7, 4)) for k in "ifgoc"}
    axes = gated_plots.plot_gates(gates, keys="if", order=np.arange(4)[::-1])
    assert len(axes) == 2
    with pytest.raises(ValueError):
        gated_plots.plot_gates({"i": np.zeros(3)}, keys="i")
    _fig2, ax2 = plt.subplots()
    gated_plots.plot_gradient_flow({"a": [1e-3, 1e-1, 1.0], "b": [0.5, 1.0, np.nan]}, ax=ax2)
    assert len(ax2.lines) == 2
    plt.close("all")
