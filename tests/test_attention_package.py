"""Chapter 8's package code: the PyTorch references, the solved NumPy attention and Transformer pieces, the hints,
the tiny language model's NumPy and PyTorch versions, the text dataset and the plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse import data
from dlcourse.cases import attention as cases
from dlcourse.checking import Inputs, check, randint, randn
from dlcourse.data.shipped import DatasetError
from dlcourse.demos import attention as demo
from dlcourse.device import get_device, to_numpy, to_tensor
from dlcourse.mistakes import attention as mistakes
from dlcourse.plots import attention as attention_plots
from dlcourse.reference import attention as ref
from dlcourse.solved import attention as solved

X3 = randn(2, 5, 4, seed=1), randn(2, 5, 4, seed=2), randn(2, 5, 3, seed=3)
KEEP = np.array([[True, True, False], [False, False, False]])  # the second query may attend nothing
Q0 = np.array([[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
K0 = np.array([[2.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0]])
V0 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def _bias():
    bias = randn(5, 5, seed=4)
    bias[3, :2] = -np.inf
    return bias


ATTENTION_CASES = [
    (Q0, K0, V0),
    Inputs(Q0, K0, V0, mask=KEEP),
    X3,
    Inputs(*X3, causal=True),
    Inputs(*X3, mask=_bias(), causal=True),
    Inputs(*X3, mask=cases.padding_mask([5, 2], 5)),
    Inputs(randn(3, 4, seed=5), randn(6, 4, seed=6), randn(6, 2, seed=7), causal=True),
    (randn(2, 3, 4, 8, seed=8, scale=30.0), randn(2, 3, 4, 8, seed=9, scale=30.0), randn(2, 3, 4, 8, seed=10)),
    Inputs(*(a.astype(np.float32) for a in X3), mask=randn(5, 5, seed=11) > -0.5, causal=True),
]


def _with_dout(case, seed):
    case = case if isinstance(case, Inputs) else Inputs(*case)
    Q, V = case.args[0], case.args[2]
    dout = randn(*V.shape[:-2], Q.shape[-2], V.shape[-1], seed=seed).astype(Q.dtype)
    return Inputs(dout, *case.args, **case.kwargs)


# --- solved against PyTorch ------------------------------------------------------------------


def test_solved_attention_matches_scaled_dot_product_attention_with_every_kind_of_mask():
    check(solved.attention, ref.attention, ATTENTION_CASES, output_names=("out", "weights"), quiet=True)


def test_solved_attention_backward_matches_autograd():
    check(
        solved.attention_backward,
        ref.attention_backward,
        [_with_dout(c, 20 + i) for i, c in enumerate(ATTENTION_CASES)],
        output_names=("dQ", "dK", "dV"),
        quiet=True,
    )


def test_a_fully_masked_row_gets_zero_weights_output_and_gradient_in_both():
    out, weights = solved.attention(Q0, K0, V0, mask=KEEP)
    ref_out, ref_weights = ref.attention(Q0, K0, V0, mask=KEEP)
    assert np.array_equal(weights[1], np.zeros(3)) and np.array_equal(out[1], np.zeros(2))
    assert np.array_equal(ref_weights[1], np.zeros(3)) and np.array_equal(ref_out[1], np.zeros(2))
    dQ, _, _ = solved.attention_backward(np.ones((2, 2)), Q0, K0, V0, mask=KEEP)
    assert np.array_equal(dQ[1], np.zeros(4))
    with np.errstate(all="raise"):  # no 0/0 or -inf - (-inf) on the way
        solved.attention(Q0, K0, V0, mask=KEEP)


def test_reference_weights_are_pytorchs_softmax_of_the_masked_scaled_scores():
    Q, K, V = X3
    _, weights = ref.attention(Q, K, V, mask=_bias(), causal=True)
    scores = torch.tensor(Q @ np.swapaxes(K, -1, -2) / 2.0 + _bias()).masked_fill(
        ~torch.ones(5, 5).tril().bool(), -np.inf
    )
    assert np.allclose(weights, F.softmax(scores, dim=-1).numpy(), rtol=1e-13, atol=1e-15)


def test_causal_output_does_not_depend_on_the_future_and_the_scale_is_one_over_sqrt_d():
    Q, K, V = randn(1, 6, 4, seed=30), randn(1, 6, 4, seed=31), randn(1, 6, 3, seed=32)
    K2, V2 = K.copy(), V.copy()
    K2[0, 4:], V2[0, 4:] = 7.0, -3.0
    assert np.array_equal(
        solved.attention(Q, K, V, causal=True)[0][0, :4], solved.attention(Q, K2, V2, causal=True)[0][0, :4]
    )
    same = F.scaled_dot_product_attention(*(torch.tensor(a) for a in (Q, K, V)), scale=1 / np.sqrt(4)).numpy()
    assert np.allclose(solved.attention(Q, K, V)[0], same, rtol=1e-13)


def test_solved_multi_head_attention_matches_nn_multihead_attention():
    P8 = cases.attention_params(8, seed=60)
    check(
        solved.multi_head_attention,
        ref.multi_head_attention,
        [
            (randn(2, 5, 8, seed=61), P8, 1),
            Inputs(randn(2, 5, 8, seed=61), P8, 4, causal=True),
            (randn(1, 1, 8, seed=62), P8, 8),
            Inputs(
                randn(2, 3, 8, seed=63).astype(np.float32),
                cases.attention_params(8, seed=64, dtype=np.float32),
                2,
                causal=True,
            ),
        ],
        output_names=("out", "weights"),
        quiet=True,
    )
    with pytest.raises(ValueError, match="divisible"):
        solved.multi_head_attention(randn(1, 2, 8, seed=65), P8, 3)


def test_multi_head_attention_is_permutation_equivariant_without_positions():
    P, X = cases.attention_params(8, seed=66), randn(2, 7, 8, seed=67)
    order = np.random.default_rng(0).permutation(7)
    out, _ = solved.multi_head_attention(X, P, 2)
    assert np.allclose(solved.multi_head_attention(X[:, order], P, 2)[0], out[:, order], rtol=1e-12, atol=1e-14)
    shifted = X + solved.positional_encoding(7, 8)
    moved = X[:, order] + solved.positional_encoding(7, 8)
    assert not np.allclose(
        solved.multi_head_attention(moved, P, 2)[0], solved.multi_head_attention(shifted, P, 2)[0][:, order]
    )


def test_split_and_merge_heads_are_inverses_and_keep_each_heads_features_together():
    X = randn(2, 3, 12, seed=68)
    heads = solved.split_heads(X, 4)
    assert heads.shape == (2, 4, 3, 3) and np.array_equal(heads[1, 2, 0], X[1, 0, 6:9])
    assert np.array_equal(solved.merge_heads(heads), X)


def test_positional_encoding_embedding_and_layer_norm_match_pytorch():
    check(
        solved.positional_encoding, ref.positional_encoding, [(3, 4), (50, 16), (10, 7), (1, 1), (300, 64)], quiet=True
    )
    W, tokens = randn(7, 3, seed=70), np.array([[1, 4, 4, 0, 6], [2, 2, 2, 5, 1]])
    check(
        solved.embedding_forward,
        ref.embedding_forward,
        [(tokens, W), (np.array([3]), W.astype(np.float32))],
        quiet=True,
    )
    check(
        solved.embedding_backward,
        ref.embedding_backward,
        [(randn(2, 5, 3, seed=71), tokens, 7), (randn(3, 2, seed=72).astype(np.float32), np.array([1, 1, 1]), 2)],
        quiet=True,
    )
    x = np.array([[1.0, 2.0, 3.0, 6.0], [5.0, 5.0, 5.0, 5.0], [1000.0, 1001.0, 999.0, 1000.0]])
    g, b = randn(4, seed=73), randn(4, seed=74)
    ln_cases = [
        (x, g, b),
        (x, g, b, 0.5),
        (randn(2, 5, 8, seed=75), randn(8, seed=76), randn(8, seed=77)),
        (randn(6, 4, seed=78).astype(np.float32), g.astype(np.float32), b.astype(np.float32)),
    ]
    check(solved.layer_norm_forward, ref.layer_norm_forward, ln_cases, quiet=True)
    check(
        solved.layer_norm_backward,
        ref.layer_norm_backward,
        [(randn(*c[0].shape, seed=80 + i).astype(c[0].dtype), *c) for i, c in enumerate(ln_cases)],
        output_names=("dx", "dgamma", "dbeta"),
        quiet=True,
    )


def test_solved_block_forward_and_backward_match_the_torch_nn_block():
    B, X = cases.block_params(8, 16, seed=100), randn(2, 6, 8, seed=101)
    B32 = cases.block_params(8, 16, seed=103, dtype=np.float32)
    check(
        solved.transformer_block_forward,
        ref.transformer_block_forward,
        [(X, B, 2), Inputs(X, B, 4, causal=False), (X.astype(np.float32), B32, 2)],
        quiet=True,
    )
    check(
        solved.transformer_block_backward,
        ref.transformer_block_backward,
        [
            (randn(2, 6, 8, seed=102), X, B, 2),
            Inputs(randn(2, 6, 8, seed=102), X, B, 1, causal=False),
            (randn(2, 6, 8, seed=104).astype(np.float32), X.astype(np.float32), B32, 2),
        ],
        output_names=("dX", "grads"),
        quiet=True,
    )


def test_the_reference_block_is_nn_transformer_encoder_layer_pre_norm():
    params, X = cases.block_params(8, 16, seed=105), randn(3, 5, 8, seed=106)
    layer = nn.TransformerEncoderLayer(
        8, 2, dim_feedforward=16, dropout=0.0, activation="relu", batch_first=True, norm_first=True, dtype=torch.float64
    ).to(get_device())
    with torch.no_grad():
        for tensor, names in (
            (layer.norm1.weight, "ln1_g"),
            (layer.norm1.bias, "ln1_b"),
            (layer.self_attn.in_proj_weight, ("Wq", "Wk", "Wv")),
            (layer.self_attn.in_proj_bias, ("bq", "bk", "bv")),
            (layer.self_attn.out_proj.weight, "Wo"),
            (layer.self_attn.out_proj.bias, "bo"),
            (layer.norm2.weight, "ln2_g"),
            (layer.norm2.bias, "ln2_b"),
            (layer.linear1.weight, "W1"),
            (layer.linear1.bias, "b1"),
            (layer.linear2.weight, "W2"),
            (layer.linear2.bias, "b2"),
        ):
            names = names if isinstance(names, tuple) else (names,)
            tensor.copy_(to_tensor(np.concatenate([params[n] for n in names])))
    mask = nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64, device=get_device())
    x = to_tensor(X, requires_grad=True)
    out = layer(x, src_mask=mask, is_causal=True)
    assert np.allclose(to_numpy(out), ref.transformer_block_forward(X, params, 2), rtol=1e-12, atol=1e-13)
    dout = randn(3, 5, 8, seed=107)
    out.backward(to_tensor(dout))
    dX, grads = ref.transformer_block_backward(dout, X, params, 2)
    assert np.allclose(to_numpy(x.grad), dX, rtol=1e-11, atol=1e-13)
    assert np.allclose(to_numpy(layer.linear1.weight.grad), grads["W1"], rtol=1e-11, atol=1e-13)


def test_solved_causal_lm_loss_matches_cross_entropy_of_the_shifted_targets():
    tokens = randint(0, 7, 2, 5, seed=110)
    check(
        solved.causal_lm_loss,
        ref.causal_lm_loss,
        [
            (np.zeros((1, 3, 4)), np.array([[0, 1, 2]])),
            (randn(2, 5, 7, seed=111), tokens),
            (randn(2, 5, 7, seed=112, scale=1000.0), tokens),
            (randn(3, 2, 6, seed=113).astype(np.float32), randint(0, 6, 3, 2, seed=114)),
        ],
        output_names=("loss", "dlogits"),
        quiet=True,
    )
    assert solved.causal_lm_loss(np.zeros((1, 3, 4)), np.array([[0, 1, 2]]))[0] == pytest.approx(np.log(4), rel=1e-15)


# --- the hints ---------------------------------------------------------------------------------


def message_of(student_fn, reference_fn, cases_, **options) -> str:
    with pytest.raises(AssertionError) as failure:
        check(student_fn, reference_fn, cases_, quiet=True, **options)
    return str(failure.value)


def hint_lines(message: str) -> list[str]:
    return [line for line in message.splitlines() if line.strip().startswith("hint:")]


def _unscaled(Q, K, V, mask=None, causal=False):
    return solved.attention(Q * np.sqrt(Q.shape[-1]), K, V, mask, causal)


def _mask_inverted(Q, K, V, mask=None, causal=False):
    return solved.attention(Q, K, V, None if mask is None else ~np.asarray(mask), causal)


def _future(Q, K, V, mask=None, causal=False):
    if not causal:
        return solved.attention(Q, K, V, mask)
    return solved.attention(Q, K, V, np.triu(np.ones((Q.shape[-2], K.shape[-2]), dtype=bool)))


def _softmax_over_queries(Q, K, V, mask=None, causal=False):
    scores = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    e = np.exp(scores - scores.max(axis=-2, keepdims=True))
    weights = e / e.sum(axis=-2, keepdims=True)
    return weights @ V, weights


def _diagonal_softmax_backward(dout, Q, K, V, mask=None, causal=False):
    _, P = solved.attention(Q, K, V, mask, causal)
    dS = (dout @ np.swapaxes(V, -1, -2)) * P * (1 - P) / np.sqrt(Q.shape[-1])
    return dS @ K, np.swapaxes(dS, -1, -2) @ Q, np.swapaxes(P, -1, -2) @ dout


def _unscaled_backward(dout, Q, K, V, mask=None, causal=False):
    dQ, dK, dV = solved.attention_backward(dout, Q, K, V, mask, causal)
    return dQ * np.sqrt(Q.shape[-1]), dK * np.sqrt(Q.shape[-1]), dV


def _heads_by_reshape(X, params, n_heads, causal=False):
    N, L, D = X.shape
    Q, K, V = ((X @ params["W" + c].T + params["b" + c]).reshape(N, n_heads, L, D // n_heads) for c in "qkv")
    out, weights = solved.attention(Q, K, V, causal=causal)
    return out.reshape(N, L, D) @ params["Wo"].T + params["bo"], weights


def _no_projection(X, params, n_heads, causal=False):
    out, weights = solved.multi_head_attention(
        X, {**params, "Wo": np.eye(X.shape[-1]), "bo": np.zeros(X.shape[-1])}, n_heads, causal
    )
    return out, weights


def _pe_swapped(length, d_model):
    pe = solved.positional_encoding(length, d_model + d_model % 2)
    pe[:, 0::2], pe[:, 1::2] = pe[:, 1::2].copy(), pe[:, 0::2].copy()
    return pe[:, :d_model]


def _embedding_assign(dout, tokens, n_vocab):
    dW = np.zeros((n_vocab, dout.shape[-1]), dtype=dout.dtype)
    dW[tokens] += dout
    return dW


def _ln_unbiased(x, gamma, beta, eps=1e-5):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, ddof=1, keepdims=True) + eps) * gamma + beta


def _ln_eps_outside(x, gamma, beta, eps=1e-5):
    return (x - x.mean(-1, keepdims=True)) / (x.std(-1, keepdims=True) + eps) * gamma + beta


def _ln_backward_constant_var(dout, x, gamma, beta, eps=1e-5):
    _, dgamma, dbeta = solved.layer_norm_backward(dout, x, gamma, beta, eps)
    dxhat = dout * gamma
    return (dxhat - dxhat.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps), dgamma, dbeta


def _post_norm(X, p, n_heads, causal=True):
    H = solved.layer_norm_forward(X + solved.multi_head_attention(X, p, n_heads, causal)[0], p["ln1_g"], p["ln1_b"])
    return solved.layer_norm_forward(
        H + np.maximum(H @ p["W1"].T + p["b1"], 0) @ p["W2"].T + p["b2"], p["ln2_g"], p["ln2_b"]
    )


def _lm_unshifted(logits, tokens):
    z = torch.tensor(logits, requires_grad=True)
    loss = F.cross_entropy(z.reshape(-1, z.shape[-1]), torch.tensor(tokens).reshape(-1))
    loss.backward()
    return loss.detach().numpy(), z.grad.numpy()


def _lm_per_sequence(logits, tokens):
    loss, d = solved.causal_lm_loss(logits, tokens)
    return loss * (tokens.shape[1] - 1), d * (tokens.shape[1] - 1)


P8 = cases.attention_params(8, seed=120)
B8 = cases.block_params(8, 16, seed=121)
XB = randn(2, 5, 8, seed=122)
LN_CASE = (randn(3, 6, seed=123, scale=2.0), randn(6, seed=124), randn(6, seed=125))
LM_CASE = (randn(2, 5, 7, seed=126), randint(0, 7, 2, 5, seed=127))
HINTED = [
    # (exercise, wrong function, reference, cases, options, text of the hint)
    ("attention", _unscaled, ref.attention, [X3], {"output_names": ("out", "weights")}, "scores are not scaled"),
    (
        "attention",
        _mask_inverted,
        ref.attention,
        [Inputs(*X3, mask=randn(5, 5, seed=128) > 0)],
        {"output_names": ("out", "weights")},
        "wrong way round",
    ),
    (
        "attention",
        _future,
        ref.attention,
        [Inputs(*X3, causal=True)],
        {"output_names": ("out", "weights")},
        "wrong triangle",
    ),
    ("attention", _softmax_over_queries, ref.attention, [X3], {"output_names": ("out", "weights")}, "over the queries"),
    (
        "attention_backward",
        _diagonal_softmax_backward,
        ref.attention_backward,
        [_with_dout(X3, 129)],
        {"output_names": ("dQ", "dK", "dV")},
        "only the diagonal",
    ),
    (
        "attention_backward",
        _unscaled_backward,
        ref.attention_backward,
        [_with_dout(X3, 130)],
        {"output_names": ("dQ", "dK", "dV")},
        "dQ and dK carry that factor",
    ),
    (
        "multi_head_attention",
        _heads_by_reshape,
        ref.multi_head_attention,
        [(XB, P8, 2)],
        {"output_names": ("out", "weights")},
        "mixes positions",
    ),
    (
        "multi_head_attention",
        _no_projection,
        ref.multi_head_attention,
        [(XB, P8, 2)],
        {"output_names": ("out", "weights")},
        "output projection is missing",
    ),
    (
        "multi_head_attention",
        lambda X, p, h, causal=False: solved.multi_head_attention(X, p, h),
        ref.multi_head_attention,
        [Inputs(XB, P8, 2, causal=True)],
        {"output_names": ("out", "weights")},
        "causal=True was ignored",
    ),
    ("positional_encoding", _pe_swapped, ref.positional_encoding, [(6, 8)], {}, "sin and cos are swapped"),
    (
        "embedding_forward",
        lambda t, W: W[t.ravel()],
        ref.embedding_forward,
        [(randint(0, 5, 2, 3, seed=131), randn(5, 2))],
        {},
        "keeps the tokens' shape",
    ),
    (
        "embedding_backward",
        _embedding_assign,
        ref.embedding_backward,
        [(randn(3, 2, seed=132), np.array([1, 0, 1]), 3)],
        {},
        "np.add.at",
    ),
    ("layer_norm_forward", _ln_unbiased, ref.layer_norm_forward, [LN_CASE], {}, "biased variance"),
    ("layer_norm_forward", _ln_eps_outside, ref.layer_norm_forward, [(*LN_CASE, 0.5)], {}, "inside the square root"),
    (
        "layer_norm_backward",
        _ln_backward_constant_var,
        ref.layer_norm_backward,
        [(randn(3, 6, seed=133), *LN_CASE)],
        {"output_names": ("dx", "dgamma", "dbeta")},
        "treats the variance as a constant",
    ),
    ("transformer_block_forward", _post_norm, ref.transformer_block_forward, [(XB, B8, 2)], {}, "post-norm"),
    (
        "transformer_block_forward",
        lambda X, p, h, causal=True: solved.transformer_block_forward(X, p, h, False),
        ref.transformer_block_forward,
        [(XB, B8, 2)],
        {},
        "causal=True was ignored",
    ),
    (
        "causal_lm_loss",
        _lm_unshifted,
        ref.causal_lm_loss,
        [LM_CASE],
        {"output_names": ("loss", "dlogits")},
        "not shifted",
    ),
    (
        "causal_lm_loss",
        _lm_per_sequence,
        ref.causal_lm_loss,
        [LM_CASE],
        {"output_names": ("loss", "dlogits")},
        "N * (L - 1)",
    ),
]


@pytest.mark.parametrize("number", range(len(HINTED)), ids=[f"{h[0]}-{i}" for i, h in enumerate(HINTED)])
def test_each_hint_fires_on_its_mistake(number):
    exercise, wrong, reference, cases_, options, text = HINTED[number]
    message = message_of(wrong, reference, cases_, hints=getattr(mistakes, exercise), **options)
    assert text in message, message


def test_block_backward_hints_name_the_forgotten_residual_path():
    dout = randn(2, 5, 8, seed=134)

    def without_first(dout, X, p, n_heads, causal=True):
        _, grads = solved.transformer_block_backward(dout, X, p, n_heads, causal)
        return _dX_without_first_residual(dout, X, p, n_heads, causal), grads

    message = message_of(
        without_first,
        ref.transformer_block_backward,
        [(dout, XB, B8, 2)],
        hints=mistakes.transformer_block_backward,
        output_names=("dX", "grads"),
    )
    assert "straight path" in message and "X + MHA(LN1(X))" in message, message


def _dX_without_first_residual(dout, X, p, n_heads, causal):
    """dX through the attention branch only, by autograd through the torch.nn block with the residual's path cut."""
    block = ref.Block.from_params(p, n_heads, causal)
    x = to_tensor(X, requires_grad=True)
    a = block.ln1(x)
    mask = torch.ones(X.shape[1], X.shape[1], dtype=torch.bool, device=get_device()).triu(1) if causal else None
    h = x.detach() + block.attn(a, a, a, attn_mask=mask, need_weights=False)[0]
    out = h + block.ff2(torch.relu(block.ff1(block.ln2(h))))
    out.backward(to_tensor(dout))
    return to_numpy(x.grad)


EXERCISES_32 = {
    "attention": (Inputs(*(a.astype(np.float32) for a in X3), causal=True), ("out", "weights")),
    "attention_backward": (
        _with_dout(Inputs(*(a.astype(np.float32) for a in X3), causal=True), 135),
        ("dQ", "dK", "dV"),
    ),
    "multi_head_attention": (
        (XB.astype(np.float32), cases.attention_params(8, seed=136, dtype=np.float32), 2),
        ("out", "weights"),
    ),
    "embedding_forward": ((randint(0, 5, 2, 3, seed=137), randn(5, 2, seed=138).astype(np.float32)), None),
    "embedding_backward": ((randn(2, 3, 2, seed=139).astype(np.float32), randint(0, 5, 2, 3, seed=137), 5), None),
    "layer_norm_forward": (tuple(a.astype(np.float32) for a in LN_CASE), None),
    "layer_norm_backward": (
        tuple(a.astype(np.float32) for a in (randn(3, 6, seed=140), *LN_CASE)),
        ("dx", "dgamma", "dbeta"),
    ),
    "transformer_block_forward": (
        (XB.astype(np.float32), cases.block_params(8, 16, seed=141, dtype=np.float32), 2),
        None,
    ),
    "transformer_block_backward": (
        (
            randn(2, 5, 8, seed=142).astype(np.float32),
            XB.astype(np.float32),
            cases.block_params(8, 16, seed=141, dtype=np.float32),
            2,
        ),
        ("dX", "grads"),
    ),
    "causal_lm_loss": ((LM_CASE[0].astype(np.float32), LM_CASE[1]), ("loss", "dlogits")),
}


def _widen(value):
    if isinstance(value, dict):
        return {k: _widen(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_widen(v) for v in value)
    return np.asarray(value, dtype=np.float64) if np.asarray(value).dtype == np.float32 else value


@pytest.mark.parametrize("exercise", sorted(EXERCISES_32))
def test_hints_stay_silent_on_right_answers_and_dtype_only_differences(exercise):
    case, names = EXERCISES_32[exercise]
    fn, reference, hints = getattr(solved, exercise), getattr(ref, exercise), getattr(mistakes, exercise)
    options = {"output_names": names} if names else {}
    check(fn, reference, [case], hints=hints, quiet=True, **options)
    message = message_of(lambda *a, **k: _widen(fn(*a, **k)), reference, [case], hints=hints, **options)
    assert "dtype" in message and not hint_lines(message), message


def test_positional_encoding_hints_stay_silent_on_the_right_answer():
    check(
        solved.positional_encoding,
        ref.positional_encoding,
        [(5, 6), (4, 3)],
        hints=mistakes.positional_encoding,
        quiet=True,
    )


# --- the tiny language model ---------------------------------------------------------------------

SMALL = demo.LMConfig(d_model=16, n_heads=2, d_ff=32, context=12, batch=4, steps=6, lr=1e-2)


def test_the_numpy_models_gradients_are_autograds_through_the_torch_model():
    text = data.load_text()
    vocab = data.CharVocab(text)
    params = demo.init_lm_params(len(vocab), SMALL)
    tokens = next(demo.batches(vocab.encode(text), SMALL))
    loss, grads = demo.lm_loss_and_grads(params, tokens, demo.pieces(), SMALL.n_heads)
    model = demo.TorchLM(len(vocab), SMALL).to(get_device()).load(params)
    t = to_tensor(tokens)
    logits = model(t)
    assert np.allclose(
        to_numpy(logits), demo.lm_logits(params, tokens, demo.pieces(), SMALL.n_heads), rtol=1e-12, atol=1e-13
    )
    torch_loss = F.cross_entropy(logits[:, :-1].reshape(-1, len(vocab)), t[:, 1:].reshape(-1))
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-13)
    for name, tensor in (
        ("emb", model.emb.weight),
        ("W_out", model.out.weight),
        ("lnf_g", model.lnf.weight),
        ("block.W1", model.block.ff1.weight),
        ("block.ln1_b", model.block.ln1.bias),
    ):
        assert np.allclose(grads[name], to_numpy(tensor.grad), rtol=1e-10, atol=1e-14), name
    wq = np.split(to_numpy(model.block.attn.in_proj_weight.grad), 3)[0]
    assert np.allclose(grads["block.Wq"], wq, rtol=1e-10, atol=1e-14)


def test_numpy_and_pytorch_training_give_the_same_losses_in_float64():
    text = data.load_text()
    vocab = data.CharVocab(text)
    stream = vocab.encode(text)
    _, numpy_losses, _ = demo.train_numpy_lm(stream, len(vocab), SMALL)
    _, torch_losses, _ = demo.train_torch_lm(stream, len(vocab), SMALL)
    assert numpy_losses.shape == torch_losses.shape == (SMALL.steps,)
    assert np.allclose(numpy_losses, torch_losses, rtol=1e-11, atol=0)
    assert numpy_losses[-1] < numpy_losses[0]
    prompt = vocab.encode("It is")
    params = demo.init_lm_params(len(vocab), SMALL)
    first = demo.sample(
        lambda t: demo.lm_logits(params, t, demo.pieces(), SMALL.n_heads), prompt, 20, SMALL.context, seed=3
    )
    again = demo.sample(
        lambda t: demo.lm_logits(params, t, demo.pieces(), SMALL.n_heads), prompt, 20, SMALL.context, seed=3
    )
    assert np.array_equal(first, again) and len(first) == 25 and np.array_equal(first[:5], prompt)


def test_pieces_takes_the_learners_functions_and_refuses_unknown_names():
    def mine(tokens, W):
        return W[tokens]

    assert demo.pieces(embedding_forward=mine).embedding_forward is mine
    assert demo.pieces().transformer_block_backward is solved.transformer_block_backward
    with pytest.raises(TypeError, match="unknown pieces"):
        demo.pieces(softmax=mine)


def test_head_weights_are_causal_rows_that_sum_to_one():
    vocab = data.CharVocab(data.load_text())
    params = demo.init_lm_params(len(vocab), SMALL)
    weights = demo.head_weights(params, vocab.encode("Mr. Bennet"), demo.pieces(), SMALL.n_heads)
    assert weights.shape == (2, 10, 10)
    assert np.allclose(weights.sum(-1), 1.0) and np.all(np.triu(weights[0], 1) == 0)


def test_cost_measurement_has_a_time_per_length():
    cost = demo.attention_vs_rnn_cost([8, 16], solved.attention, lambda x, h0, Wx, Wh, b: x, d=4, repeats=1)
    assert list(cost["lengths"]) == [8, 16] and cost["attention"].shape == cost["rnn"].shape == (2,)
    assert np.all(cost["attention"] > 0)


# --- the text dataset and the plots ----------------------------------------------------------------


def test_the_shipped_text_loads_checked_and_round_trips_through_the_vocabulary(tmp_path):
    text = data.load_text()
    assert text.startswith("It is a truth universally acknowledged") and len(text) == 4475
    vocab = data.CharVocab(text)
    assert len(vocab) == 51 and vocab.decode(vocab.encode(text)) == text
    readme = (data.datasets_dir() / "README.md").read_text(encoding="utf-8")
    assert data.text.TEXT_SHA256 in readme and data.text.TEXT_FILE in readme
    assert data.shipped.sha256(data.datasets_dir() / data.text.TEXT_FILE) == data.text.TEXT_SHA256
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("Zebra")
    (tmp_path / data.text.TEXT_FILE).write_text(text.replace("truth", "trvth"), encoding="utf-8")
    with pytest.raises(DatasetError, match="corrupted or was changed"):
        data.load_text(tmp_path)
    with pytest.raises(DatasetError, match="missing"):
        data.load_text(tmp_path / "nowhere")


def test_the_plots_draw_and_refuse_bad_shapes():
    import matplotlib.pyplot as plt

    weights = solved.attention(*(randn(1, 4, 4, seed=s) for s in (150, 151, 152)), causal=True)[1][0]
    ax = attention_plots.plot_attention_map(weights, list("ab c"))
    assert ax.get_xlabel() == "key (attended to)"
    with pytest.raises(ValueError, match="len\\(labels\\)"):
        attention_plots.plot_attention_map(weights, list("abc"))
    attention_plots.plot_causal_mask(4)
    attention_plots.plot_loss_curves({"a": np.array([3.0, 2.0]), "b": np.array([3.0, 2.1])}, baseline=np.log(5))
    attention_plots.plot_cost(
        {"lengths": np.array([8, 16]), "attention": np.array([1e-5, 4e-5]), "rnn": np.array([2e-5, 4e-5])}
    )
    attention_plots.plot_score_spread([4, 16], {"raw": [2.0, 4.0], "scaled": [1.0, 1.0]})
    plt.close("all")
