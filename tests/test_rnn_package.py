"""Chapter 5 (RNN): the solved NumPy blocks against the PyTorch references, the bias mapping, clipping's
details, the hints, the sequence data and the plots."""

from __future__ import annotations

import timeit

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from dlcourse.cases import rnn as cases  # noqa: E402
from dlcourse.checking import Inputs, check, randn  # noqa: E402
from dlcourse.data.sequences import make_noisy_sines, next_step_pairs  # noqa: E402
from dlcourse.demos import rnn as demos  # noqa: E402
from dlcourse.device import to_numpy, to_tensor  # noqa: E402
from dlcourse.mistakes import rnn as mistakes  # noqa: E402
from dlcourse.plots import rnn as rnn_plots  # noqa: E402
from dlcourse.reference import rnn as ref  # noqa: E402
from dlcourse.solved import rnn as solved  # noqa: E402

CELL_GRADS, BPTT_GRADS = ("dx", "dh_prev", "dWx", "dWh", "db"), ("dx", "dh0", "dWx", "dWh", "db")
CLIP_OUTPUTS, LSTM_OUTPUTS = ("clipped", "total_norm"), ("h_next", "c_next")


def rnn_problem(N=3, T=5, D=4, H=6, seed=0, dtype=np.float64):
    """x, h0, Wx, Wh, b of a random RNN."""
    arrays = (
        randn(N, T, D, seed=seed),
        randn(N, H, seed=seed + 1),
        randn(H, D, seed=seed + 2, scale=0.5),
        randn(H, H, seed=seed + 3, scale=0.4),
        randn(H, seed=seed + 4),
    )
    return tuple(a.astype(dtype) for a in arrays)


def lstm_problem(N=3, D=4, H=5, seed=0):
    return (
        randn(N, D, seed=seed),
        randn(N, H, seed=seed + 1),
        randn(N, H, seed=seed + 2),
        randn(4 * H, D, seed=seed + 3, scale=0.5),
        randn(4 * H, H, seed=seed + 4, scale=0.4),
        randn(4 * H, seed=seed + 5),
    )


# --- solved == reference ------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3, 5, 4, 6), (1, 1, 1, 1), (2, 30, 7, 3)])
def test_solved_forward_matches_nn_rnn(shape):
    x, h0, Wx, Wh, b = rnn_problem(*shape)
    check(solved.rnn_cell_forward, ref.rnn_cell_forward, [(x[:, 0], h0, Wx, Wh, b)], quiet=True)
    check(solved.rnn_forward, ref.rnn_forward, [(x, h0, Wx, Wh, b)], quiet=True)
    check(solved.rnn_forward, ref.rnn_forward, [tuple(a.astype(np.float32) for a in (x, h0, Wx, Wh, b))], quiet=True)


@pytest.mark.parametrize("shape", [(3, 5, 4, 6), (1, 1, 1, 1), (2, 30, 7, 3)])
def test_solved_backward_matches_autograd(shape):
    x, h0, Wx, Wh, b = rnn_problem(*shape)
    N, T, D, H = shape
    check(
        solved.rnn_cell_backward,
        ref.rnn_cell_backward,
        [cases.cell_backward_inputs(randn(N, H, seed=9), x[:, 0], h0, Wx, Wh, b)],
        output_names=CELL_GRADS,
        quiet=True,
    )
    check(
        solved.rnn_backward,
        ref.rnn_backward,
        [cases.backward_inputs(randn(N, T, H, seed=10), x, h0, Wx, Wh, b)],
        output_names=BPTT_GRADS,
        quiet=True,
    )


def test_bptt_is_the_cell_backward_stepped_back_through_time():
    x, h0, Wx, Wh, b = rnn_problem(2, 6, 3, 4)
    dhs = randn(2, 6, 4, seed=11)
    hs = solved.rnn_forward(x, h0, Wx, Wh, b)
    states = [h0] + [hs[:, t] for t in range(6)]
    dh, totals = np.zeros_like(h0), [0.0, 0.0, 0.0]
    dxs = []
    for t in reversed(range(6)):
        dx, dh, dWx, dWh, db = solved.rnn_cell_backward(dhs[:, t] + dh, x[:, t], states[t], Wx, Wh, b, states[t + 1])
        totals = [totals[0] + dWx, totals[1] + dWh, totals[2] + db]
        dxs.insert(0, dx)
    got = solved.rnn_backward(dhs, x, h0, Wx, Wh, b, hs)
    for a, e in zip(got, (np.stack(dxs, axis=1), dh, *totals)):
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-14)


def test_solved_clip_and_lstm_match_pytorch():
    grads = {"Wx": randn(4, 3, seed=1), "Wh": randn(4, 4, seed=2), "b": randn(4, seed=3)}
    check(
        solved.clip_grad_norm,
        ref.clip_grad_norm,
        [(grads, 1.0), (grads, 100.0), ({"w": np.array([3.0, 4.0])}, 5.0)],
        output_names=CLIP_OUTPUTS,
        quiet=True,
    )
    check(
        solved.lstm_cell_forward,
        ref.lstm_cell_forward,
        [lstm_problem(), lstm_problem(1, 1, 1, seed=7)],
        output_names=LSTM_OUTPUTS,
        quiet=True,
    )


def test_solved_forward_keeps_float32():
    x, h0, Wx, Wh, b = rnn_problem(dtype=np.float32)
    hs = solved.rnn_forward(x, h0, Wx, Wh, b)
    assert hs.dtype == np.float32
    assert all(g.dtype == np.float32 for g in solved.rnn_backward(np.ones_like(hs), x, h0, Wx, Wh, b, hs))


# --- the bias mapping -----------------------------------------------------------------------


def test_any_bias_split_with_the_same_sum_is_the_same_rnn():
    x, h0, Wx, Wh, b = rnn_problem()
    expected = solved.rnn_forward(x, h0, Wx, Wh, b)
    for b_hh in (None, b / 2, randn(6, seed=20)):
        rnn = ref.build_rnn(Wx, Wh, b, b_hh=b_hh)
        np.testing.assert_allclose(to_numpy(rnn.bias_ih_l0 + rnn.bias_hh_l0), b, rtol=1e-15, atol=1e-15)
        with torch.no_grad():
            out, _ = rnn(to_tensor(x), to_tensor(h0)[None])
        np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-12, atol=1e-14)


def test_the_default_mapping_is_b_ih_b_and_b_hh_zero():
    _, _, Wx, Wh, b = rnn_problem()
    for module, suffix in ((ref.build_rnn(Wx, Wh, b), "_l0"), (ref.build_rnn_cell(Wx, Wh, b), "")):
        np.testing.assert_array_equal(to_numpy(getattr(module, "bias_ih" + suffix)), b)
        np.testing.assert_array_equal(to_numpy(getattr(module, "bias_hh" + suffix)), np.zeros_like(b))
        np.testing.assert_array_equal(to_numpy(getattr(module, "weight_ih" + suffix)), Wx)
        np.testing.assert_array_equal(to_numpy(getattr(module, "weight_hh" + suffix)), Wh)


def test_mapping_b_into_both_biases_is_wrong():
    x, h0, Wx, Wh, b = rnn_problem()
    rnn = ref.build_rnn(Wx, Wh, b)
    with torch.no_grad():
        rnn.bias_hh_l0.copy_(to_tensor(b))  # b_ih = b_hh = b: the bias counted twice
        out, _ = rnn(to_tensor(x), to_tensor(h0)[None])
    assert np.abs(to_numpy(out) - solved.rnn_forward(x, h0, Wx, Wh, b)).max() > 0.1
    np.testing.assert_allclose(to_numpy(out), solved.rnn_forward(x, h0, Wx, Wh, 2 * b), rtol=1e-12)


def test_a_default_initialised_nn_rnn_reads_back_as_b_ih_plus_b_hh():
    torch.manual_seed(3)
    rnn = nn.RNN(4, 5, batch_first=True, dtype=torch.float64)
    assert rnn.bias_hh_l0.abs().max() > 0 and rnn.bias_ih_l0.abs().max() > 0
    params = ref.rnn_params_from_torch(rnn)
    x, h0 = randn(2, 7, 4, seed=5), randn(2, 5, seed=6)
    with torch.no_grad():
        out, h_n = rnn(torch.as_tensor(x), torch.as_tensor(h0)[None])
    hs = solved.rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])
    np.testing.assert_allclose(hs, out.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hs[:, -1], h_n[0].numpy(), rtol=1e-12, atol=1e-14)
    cell_params = ref.rnn_params_from_torch(nn.RNNCell(4, 5, dtype=torch.float64))
    assert set(cell_params) == {"Wx", "Wh", "b"}


def test_both_biases_get_the_same_gradient():
    x, h0, Wx, Wh, b = rnn_problem()
    rnn = ref.build_rnn(Wx, Wh, b)
    out, _ = rnn(to_tensor(x), to_tensor(h0)[None])
    out.sum().backward()
    torch.testing.assert_close(rnn.bias_ih_l0.grad, rnn.bias_hh_l0.grad, rtol=1e-12, atol=1e-14)


def test_params_from_torch_rejects_what_does_not_map():
    with pytest.raises(ValueError, match="one-layer"):
        ref.rnn_params_from_torch(nn.RNN(3, 4, num_layers=2))
    with pytest.raises(ValueError, match="one-layer"):
        ref.rnn_params_from_torch(nn.RNN(3, 4, nonlinearity="relu"))
    with pytest.raises(ValueError, match="one-layer"):
        ref.rnn_params_from_torch(nn.RNNCell(3, 4, nonlinearity="relu"))
    with pytest.raises(TypeError, match="nn.RNN"):
        ref.rnn_params_from_torch(nn.LSTM(3, 4))
    np.testing.assert_array_equal(ref.rnn_params_from_torch(nn.RNN(3, 4, bias=False))["b"], np.zeros(4))


# --- clipping details -------------------------------------------------------------------------


def test_clipping_uses_pytorchs_eps_and_never_scales_up():
    g = {"w": np.array([3.0, 4.0])}
    clipped, norm = ref.clip_grad_norm(g, 5.0)  # norm == max_norm: PyTorch still scales by 5 / (5 + 1e-6)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(clipped["w"], g["w"] * 5.0 / (5.0 + 1e-6), rtol=1e-15)
    clipped, _ = ref.clip_grad_norm(g, 50.0)
    np.testing.assert_array_equal(clipped["w"], g["w"])
    clipped, _ = ref.clip_grad_norm({"w": np.zeros(3)}, 1.0)
    np.testing.assert_array_equal(clipped["w"], np.zeros(3))


def test_clipping_scales_all_gradients_by_one_factor_and_returns_the_norm_before():
    grads = {"a": randn(3, 2, seed=1, scale=10.0), "b": randn(4, seed=2, scale=10.0)}
    before = {k: v.copy() for k, v in grads.items()}
    clipped, norm = solved.clip_grad_norm(grads, 1.0)
    assert norm == pytest.approx(np.sqrt(sum((v**2).sum() for v in before.values())))
    ratios = {float(np.mean(clipped[k] / before[k])) for k in grads}
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-12)
    assert np.sqrt(sum((v**2).sum() for v in clipped.values())) == pytest.approx(1.0, abs=1e-6)
    for k in grads:
        np.testing.assert_array_equal(grads[k], before[k])  # inputs unchanged


def test_reference_clip_rejects_bad_input():
    with pytest.raises(TypeError, match="dict"):
        ref.clip_grad_norm([np.ones(2)], 1.0)
    with pytest.raises(TypeError, match="dict"):
        ref.clip_grad_norm({}, 1.0)


# --- references: gradients through time, bad input ----------------------------------------------


def test_hidden_state_gradients_match_stepping_back_with_the_cell_backward():
    x, h0, Wx, Wh, b = rnn_problem(2, 8, 3, 4)
    dh_last = randn(2, 4, seed=30)
    grads = ref.hidden_state_gradients(x, h0, Wx, Wh, b, dh_last)
    assert grads.shape == (9, 2, 4)
    hs = solved.rnn_forward(x, h0, Wx, Wh, b)
    states, dh = [h0] + [hs[:, t] for t in range(8)], dh_last
    np.testing.assert_allclose(grads[8], dh_last)
    for t in range(8, 0, -1):
        _, dh, _, _, _ = solved.rnn_cell_backward(dh, x[:, t - 1], states[t - 1], Wx, Wh, b, states[t])
        np.testing.assert_allclose(grads[t - 1], dh, rtol=1e-10, atol=1e-14)


def test_references_reject_bad_shapes_and_inconsistent_outputs():
    x, h0, Wx, Wh, b = rnn_problem()
    with pytest.raises(ValueError, match=r"Wx \(H, D\)"):
        ref.build_rnn(Wx.T, Wh, b)
    with pytest.raises(ValueError, match=r"\(N, T, D\)"):
        ref.rnn_forward(x[:, 0], h0, Wx, Wh, b)
    with pytest.raises(ValueError, match="hidden state"):
        ref.rnn_forward(x, h0[:, :2], Wx, Wh, b)
    with pytest.raises(ValueError, match="4 \\* H"):
        ref.build_lstm_cell(Wx, Wh, b)
    with pytest.raises(ValueError, match="c_prev"):
        ref.lstm_cell_forward(*lstm_problem()[:2], np.zeros((3, 2)), *lstm_problem()[3:])
    hs = solved.rnn_forward(x, h0, Wx, Wh, b)
    with pytest.raises(ValueError, match="hs is not the output of rnn_forward"):
        ref.rnn_backward(np.ones_like(hs), x, h0, Wx, Wh, b, hs + 0.1)
    with pytest.raises(ValueError, match="h_next is not the output"):
        ref.rnn_cell_backward(np.ones_like(h0), x[:, 0], h0, Wx, Wh, b, np.zeros_like(h0))


def test_backward_input_helpers_add_the_forward_output():
    x, h0, Wx, Wh, b = rnn_problem(dtype=np.float32)
    inputs = cases.backward_inputs(np.ones((3, 5, 6), np.float32), x, h0, Wx, Wh, b)
    assert isinstance(inputs, Inputs) and len(inputs.args) == 7
    assert inputs.args[-1].dtype == np.float32 and inputs.args[-1].shape == (3, 5, 6)
    cell_inputs = cases.cell_backward_inputs(np.ones((3, 6)), x[:, 0], h0, Wx, Wh, b)
    np.testing.assert_allclose(cell_inputs.args[-1], solved.rnn_cell_forward(x[:, 0], h0, Wx, Wh, b), rtol=1e-6)


# --- hints fire on the mistakes they describe ---------------------------------------------------


def _fails_with(student, reference, cases, hint_text, **kwargs):
    with pytest.raises(AssertionError) as error:
        check(student, reference, cases, quiet=True, **kwargs)
    assert hint_text in str(error.value), str(error.value)


def _no_hint(student, reference, cases, **kwargs):
    """The check fails (it must), and no hint speaks: a dtype-only difference is no described mistake."""
    with pytest.raises(AssertionError) as error:
        check(student, reference, cases, quiet=True, **kwargs)
    assert "hint:" not in str(error.value), str(error.value)


def _in_float32(fn):
    """fn with its float results cast to float32: right values, wrong dtype for float64 inputs."""

    def cast(value):
        if isinstance(value, dict):
            return {k: cast(v) for k, v in value.items()}
        if isinstance(value, tuple):
            return tuple(cast(v) for v in value)
        return np.asarray(value).astype(np.float32)

    return lambda *args, **kwargs: cast(fn(*args, **kwargs))


def test_forward_hints():
    x, h0, Wx, Wh, b = rnn_problem()
    cell_case = [(x[:, 0], h0, Wx, Wh, b)]
    hints = mistakes.rnn_cell_forward
    _fails_with(
        lambda x, h, Wx, Wh, b: np.tanh(x @ Wx.T + h @ Wh.T + 2 * b),
        ref.rnn_cell_forward,
        cell_case,
        "b is added twice",
        hints=hints,
    )
    _fails_with(
        lambda x, h, Wx, Wh, b: np.tanh(x @ Wx.T + h @ Wh + b),
        ref.rnn_cell_forward,
        cell_case,
        "h_prev Wh^T",
        hints=hints,
    )
    _fails_with(
        lambda x, h, Wx, Wh, b: x @ Wx.T + h @ Wh.T + b, ref.rnn_cell_forward, cell_case, "tanh is missing", hints=hints
    )
    check(solved.rnn_cell_forward, ref.rnn_cell_forward, cell_case, hints=hints, quiet=True)
    _no_hint(_in_float32(solved.rnn_cell_forward), ref.rnn_cell_forward, cell_case, hints=hints)
    hints, case = mistakes.rnn_forward, [(x, h0, Wx, Wh, b)]
    _fails_with(
        lambda x, h0, *w: solved.rnn_forward(x, np.zeros_like(h0), *w), ref.rnn_forward, case, "given h0", hints=hints
    )
    _fails_with(
        lambda x, h0, *w: np.concatenate([h0[:, None], solved.rnn_forward(x, h0, *w)[:, :-1]], axis=1),
        ref.rnn_forward,
        case,
        "off by one step",
        hints=hints,
    )
    _fails_with(
        lambda x, h0, *w: solved.rnn_forward(x, h0, *w)[:, -1],
        ref.rnn_forward,
        case,
        "not only the last one",
        hints=hints,
    )
    _fails_with(
        lambda x, h0, *w: solved.rnn_forward(x, h0, *w).transpose(1, 0, 2),
        ref.rnn_forward,
        case,
        "time-major",
        hints=hints,
    )
    _fails_with(
        lambda x, h0, Wx, Wh, b: np.tanh(x @ Wx.T + b + (h0 @ Wh.T)[:, None]),
        ref.rnn_forward,
        case,
        "every step used h0",
        hints=hints,
    )
    check(solved.rnn_forward, ref.rnn_forward, case, hints=hints, quiet=True)
    _no_hint(_in_float32(solved.rnn_forward), ref.rnn_forward, case, hints=hints)


def test_backward_hints():
    x, h0, Wx, Wh, b = rnn_problem()
    hints = mistakes.rnn_cell_backward
    case = [cases.cell_backward_inputs(randn(3, 6, seed=40), x[:, 0], h0, Wx, Wh, b)]

    def cell_with(dz_fn, h_for_dWh="prev", Wh_T=False):
        def wrong(dh, x, hp, Wx, Wh, b, hn):
            dz = dz_fn(dh, hn)
            return dz @ Wx, dz @ (Wh.T if Wh_T else Wh), dz.T @ x, dz.T @ (hp if h_for_dWh == "prev" else hn), dz.sum(0)

        return wrong

    kwargs = dict(output_names=CELL_GRADS, hints=hints)
    _fails_with(
        cell_with(lambda dh, hn: dh * (1 - np.tanh(hn) ** 2)),
        ref.rnn_cell_backward,
        case,
        "tanh applied twice",
        **kwargs,
    )
    _fails_with(cell_with(lambda dh, hn: dh), ref.rnn_cell_backward, case, "tanh derivative is missing", **kwargs)
    _fails_with(cell_with(lambda dh, hn: dh * (1 - hn**2), Wh_T=True), ref.rnn_cell_backward, case, "dz Wh", **kwargs)
    _fails_with(
        cell_with(lambda dh, hn: dh * (1 - hn**2), h_for_dWh="next"),
        ref.rnn_cell_backward,
        case,
        "dz^T h_prev",
        **kwargs,
    )
    check(solved.rnn_cell_backward, ref.rnn_cell_backward, case, quiet=True, **kwargs)
    _no_hint(_in_float32(solved.rnn_cell_backward), ref.rnn_cell_backward, case, **kwargs)

    kwargs = dict(output_names=BPTT_GRADS, hints=mistakes.rnn_backward)
    case = [cases.backward_inputs(randn(3, 5, 6, seed=41), x, h0, Wx, Wh, b)]
    _fails_with(
        lambda *a: mistakes._bptt(*a[:5], a[6], carry=False),
        ref.rnn_backward,
        case,
        "gradient from the future",
        **kwargs,
    )
    _fails_with(
        lambda *a: mistakes._bptt(*a[:5], a[6], dWh_with_h_t=True),
        ref.rnn_backward,
        case,
        "pair dz_t with the previous",
        **kwargs,
    )
    _fails_with(
        lambda *a: mistakes._bptt(*a[:5], a[6], dh0_before_Wh=True), ref.rnn_backward, case, "dz_1 Wh", **kwargs
    )
    check(solved.rnn_backward, ref.rnn_backward, case, quiet=True, **kwargs)
    _no_hint(_in_float32(solved.rnn_backward), ref.rnn_backward, case, **kwargs)


def test_clip_and_lstm_hints():
    grads = {"W": np.array([[3.0, 0.0], [0.0, 0.0]]), "b": np.array([4.0, 0.0])}
    kwargs = dict(output_names=CLIP_OUTPUTS, hints=mistakes.clip_grad_norm)
    _fails_with(
        lambda g, m: mistakes._clip(g, m, per_parameter=True),
        ref.clip_grad_norm,
        [(grads, 1.0)],
        "GLOBAL norm",
        **kwargs,
    )
    _fails_with(
        lambda g, m: mistakes._clip(g, m, eps=0.0), ref.clip_grad_norm, [(grads, 1.0)], "total_norm + 1e-6", **kwargs
    )
    _fails_with(
        lambda g, m: mistakes._clip(g, m, always=True), ref.clip_grad_norm, [(grads, 10.0)], "scaled UP", **kwargs
    )
    _fails_with(
        lambda g, m: mistakes._clip(g, m, strictly_above=True),
        ref.clip_grad_norm,
        [({"w": np.array([3.0, 4.0])}, 5.0)],
        "rather than testing total_norm > max_norm",
        **kwargs,
    )
    _fails_with(
        lambda g, m: mistakes._clip(g, m, squared=True), ref.clip_grad_norm, [(grads, 100.0)], "square root", **kwargs
    )
    for max_norm in (1.0, 5.0, 10.0):
        check(solved.clip_grad_norm, ref.clip_grad_norm, [(grads, max_norm)], quiet=True, **kwargs)
        _no_hint(_in_float32(solved.clip_grad_norm), ref.clip_grad_norm, [(grads, max_norm)], **kwargs)

    kwargs = dict(output_names=LSTM_OUTPUTS, hints=mistakes.lstm_cell_forward)
    _fails_with(mistakes._lstm_wrong("ifog"), ref.lstm_cell_forward, [lstm_problem()], "i, f, g, o", **kwargs)
    _fails_with(mistakes._lstm_wrong("fiog"), ref.lstm_cell_forward, [lstm_problem()], "input gate first", **kwargs)
    _fails_with(
        mistakes._lstm_wrong(h_from_c=True), ref.lstm_cell_forward, [lstm_problem()], "o * tanh(c_next)", **kwargs
    )
    check(solved.lstm_cell_forward, ref.lstm_cell_forward, [lstm_problem()], quiet=True, **kwargs)
    _no_hint(_in_float32(solved.lstm_cell_forward), ref.lstm_cell_forward, [lstm_problem()], **kwargs)


def test_a_stub_gets_the_not_implemented_message():
    def rnn_forward(x, h0, Wx, Wh, b):
        raise NotImplementedError()

    _fails_with(rnn_forward, ref.rnn_forward, [rnn_problem()], "not implemented yet")


# --- data ---------------------------------------------------------------------------------------


def test_noisy_sines_are_seeded_and_shaped():
    noisy, clean = make_noisy_sines(10, 40, noise=0.1, seed=3)
    assert noisy.shape == clean.shape == (10, 40) and noisy.dtype == np.float64
    again, _ = make_noisy_sines(10, 40, noise=0.1, seed=3)
    other, _ = make_noisy_sines(10, 40, noise=0.1, seed=4)
    np.testing.assert_array_equal(noisy, again)
    assert not np.allclose(noisy, other)
    assert np.abs(clean).max() <= 1.0
    assert 0.08 < np.std(noisy - clean) < 0.12
    np.testing.assert_array_equal(make_noisy_sines(5, 20, noise=0.0)[0], make_noisy_sines(5, 20, noise=0.0)[1])


def test_next_step_pairs_shift_by_one():
    series = np.arange(12.0).reshape(2, 6)
    inputs, targets = next_step_pairs(series)
    assert inputs.shape == targets.shape == (2, 5, 1)
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    np.testing.assert_array_equal(targets[..., 0], series[:, 1:])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_sequences=0), "n_sequences"),
        (dict(n_sequences=2.5), "n_sequences"),
        (dict(length=1), "length"),
        (dict(noise=-0.1), "noise"),
        (dict(periods=(10.0, 5.0)), "periods"),
        (dict(periods=(0.0, 5.0)), "periods"),
    ],
)
def test_noisy_sines_reject_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_noisy_sines(**kwargs)


def test_next_step_pairs_rejects_bad_shapes():
    with pytest.raises(ValueError, match="n_sequences, length"):
        next_step_pairs(np.zeros(5))
    with pytest.raises(ValueError, match="length >= 2"):
        next_step_pairs(np.zeros((3, 1)))


# --- init, plots, threads, speed ------------------------------------------------------------------


def test_init_rnn_params_shapes_and_range():
    p = solved.init_rnn_params(3, 16, 2, seed=1)
    assert {k: v.shape for k, v in p.items()} == {"Wx": (16, 3), "Wh": (16, 16), "b": (16,), "Wy": (2, 16), "by": (2,)}
    assert all(np.abs(v).max() <= 0.25 for v in p.values())
    np.testing.assert_array_equal(p["by"], 0.0)
    np.testing.assert_array_equal(p["Wh"], solved.init_rnn_params(3, 16, 2, seed=1)["Wh"])


def test_plots_draw():
    noisy, clean = make_noisy_sines(3, 30)
    assert rnn_plots.plot_sequences(noisy, clean) is not None
    ax = rnn_plots.plot_predictions(noisy[0, 1:], {"model": clean[0, 1:]}, clean=clean[0, 1:], start_generating=10)
    assert len(ax.lines) >= 3
    ax = rnn_plots.plot_gradient_norms({"a": np.logspace(-5, 0, 20)}, markers={"a": np.logspace(-5, 0, 20)})
    assert ax.get_yscale() == "log"
    ax = rnn_plots.plot_clipping(np.array([0.1, 2.0, 0.3]), 1.0)
    assert "1 steps" in ax.get_legend().get_texts()[1].get_text()
    with pytest.raises(ValueError, match="same shape"):
        rnn_plots.plot_sequences(noisy, clean[:, :5])
    plt.close("all")


def test_use_one_thread_sets_pytorch_to_one_thread():
    threads = torch.get_num_threads()
    try:
        assert "1 thread" in demos.use_one_thread()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=None)
        except ImportError:
            pass


def test_numpy_bptt_is_within_a_small_factor_of_nn_rnn():
    """The issue's target is 1.5x on one thread each (measured about 0.8-1.0x); this shared-machine test allows 3x."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    x, h0, Wx, Wh, b = rnn_problem(32, 50, 128, 128, dtype=np.float32)
    dhs = randn(32, 50, 128, seed=50).astype(np.float32)
    rnn = nn.RNN(128, 128, batch_first=True)
    xt, h0t, dhst = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True), torch.tensor(dhs)

    def numpy_run():
        solved.rnn_backward(dhs, x, h0, Wx, Wh, b, solved.rnn_forward(x, h0, Wx, Wh, b))

    def torch_run():
        rnn(xt, h0t)[0].backward(dhst)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
            times = {}
            for name, fn in (("numpy", numpy_run), ("torch", torch_run)):
                fn()
                times[name] = np.median(timeit.repeat(fn, number=3, repeat=7))
    finally:
        torch.set_num_threads(threads)
    assert times["numpy"] < 3 * times["torch"], times
