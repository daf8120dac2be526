"""Chapter 8 (attention): the mistakes learners make, each recognised by computing it.

(Over 300 lines: one wrong computation per likely mistake, for eleven exercises; splitting it by
exercise would scatter one chapter's hints over several files.)

Every wrong function takes the checked function's arguments and returns a whole result shaped like the
reference's, computed in NumPy from :mod:`dlcourse.solved.attention` with one thing changed, or None where the
mistake makes no difference (a flipped mask without a mask): a hint must never describe a right answer.
"""

from __future__ import annotations

import numpy as np

from ..solved import attention as s
from . import Hint, Mismatch, mistake


def _attend(Q, K, V, mask=None, causal=False, *, scale=None, axis=-1, invert=False, upper=False):
    """Attention with one mistake: another scale, softmax over another axis, the boolean mask read the other
    way round (True = blocked), or the causal mask's triangle flipped (queries see the future)."""
    scale = Q.shape[-1] ** -0.5 if scale is None else scale
    scores = (Q @ np.swapaxes(K, -1, -2)) * scale
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype == bool:
            mask = ~mask if invert else mask
            scores = scores + np.where(mask, 0.0, -np.inf)
        else:
            scores = scores + mask
    if causal:
        n_q, n_k = scores.shape[-2:]
        allowed = np.triu(np.ones((n_q, n_k), dtype=bool)) if upper else np.tril(np.ones((n_q, n_k), dtype=bool))
        scores = np.where(allowed, scores, -np.inf)
    with np.errstate(invalid="ignore"):
        top = scores.max(axis=axis, keepdims=True)
        top = np.where(np.isfinite(top), top, 0.0)
        e = np.exp(scores - top)
        total = e.sum(axis=axis, keepdims=True)
        weights = e / np.where(total > 0, total, 1.0)
    return weights @ V, weights


def _makes_nan(m: Mismatch) -> bool:
    pair = m.arrays()
    return pair is not None and bool(np.any(np.isfinite(pair[0]) & np.isnan(pair[1])))


FULLY_MASKED = (
    "nan where the answer is finite: a row whose every key is masked has every score -inf, so its "
    "maximum is -inf and scores - max is -inf - (-inf) = nan (and exp gives 0/0). Treat such a row apart: "
    "use 0 as its maximum (np.where(np.isfinite(top), top, 0)) and give it weights 0, as PyTorch does."
)

attention = [
    mistake(
        lambda Q, K, V, mask=None, causal=False: _attend(Q, K, V, mask, causal, scale=1.0),
        "the scores are not scaled: divide Q K^T by sqrt(d_k), the square root of the queries' last axis. "
        "A dot product of d random unit-variance numbers has variance d; without the scale softmax saturates.",
    ),
    mistake(
        lambda Q, K, V, mask=None, causal=False: _attend(Q, K, V, mask, causal, scale=1.0 / Q.shape[-1]),
        "the scores are divided by d_k: the scale is 1 / sqrt(d_k) (it brings a dot product's variance d_k back to 1).",
    ),
    mistake(
        lambda Q, K, V, mask=None, causal=False: _attend(Q, K, V, mask, causal, axis=-2),
        "the softmax runs over the queries (axis -2): each query's weights over the KEYS must sum to 1, so "
        "normalise over the last axis.",
    ),
    mistake(
        lambda Q, K, V, mask=None, causal=False: (
            _attend(Q, K, V, mask, causal, invert=True) if mask is not None and np.asarray(mask).dtype == bool else None
        ),
        "the boolean mask is read the wrong way round: here True means 'may attend' (as in "
        "F.scaled_dot_product_attention; nn.MultiheadAttention's attn_mask uses the opposite).",
    ),
    mistake(
        lambda Q, K, V, mask=None, causal=False: _attend(Q, K, V, mask, causal, upper=True) if causal else None,
        "the causal mask keeps the wrong triangle: query i may see keys 0..i (np.tril), never the future.",
    ),
    Hint(FULLY_MASKED, _makes_nan),
]


def _backward(dout, Q, K, V, mask=None, causal=False, *, scale=True, diagonal=False):
    _, P = s.attention(Q, K, V, mask, causal)
    dP = dout @ np.swapaxes(V, -1, -2)
    dS = dP * P * (1 - P) if diagonal else P * (dP - np.sum(dP * P, axis=-1, keepdims=True))
    if scale:
        dS = dS * Q.shape[-1] ** -0.5
    return dS @ K, np.swapaxes(dS, -1, -2) @ Q, np.swapaxes(P, -1, -2) @ dout


attention_backward = [
    mistake(
        lambda *a, **k: _backward(*a, **k, scale=False),
        "the forward pass multiplied the scores by 1/sqrt(d_k): by the chain rule dQ and dK carry that factor too.",
    ),
    mistake(
        lambda *a, **k: _backward(*a, **k, diagonal=True),
        "dP * P * (1 - P) is only the diagonal of softmax's Jacobian: every weight of a row depends on every score "
        "of the row, so use chapter 4's P * (dP - sum(dP * P, axis=-1, keepdims=True)).",
    ),
    Hint(FULLY_MASKED, _makes_nan),
]


def _mha(X, params, n_heads, causal=False, *, heads="right", scale=None, project=True):
    N, L, D = X.shape
    dh = D // n_heads

    def split(Y):
        if heads == "no_transpose":  # reshape straight to (N, h, L, dh): mixes positions
            return Y.reshape(N, n_heads, L, dh)
        return s.split_heads(Y, n_heads)

    Q, K, V = (split(X @ params["W" + c].T + params["b" + c]) for c in "qkv")
    out, weights = _attend(Q, K, V, causal=causal, scale=scale)
    merged = out.reshape(N, L, D) if heads == "no_transpose" else s.merge_heads(out)
    return (merged @ params["Wo"].T + params["bo"] if project else merged), weights


multi_head_attention = [
    mistake(
        lambda X, p, h, causal=False: _mha(X, p, h, causal, heads="no_transpose"),
        "the heads were made by reshaping (N, L, D) straight to (N, heads, L, D/heads): that mixes positions "
        "into the heads. Reshape to (N, L, heads, D/heads), then transpose to (N, heads, L, D/heads).",
    ),
    mistake(
        lambda X, p, h, causal=False: _mha(X, p, h, causal, scale=X.shape[-1] ** -0.5),
        "the scores are scaled by 1/sqrt(d_model): each head's queries have d_model / n_heads features, and "
        "the scale is 1/sqrt of that.",
    ),
    mistake(
        lambda X, p, h, causal=False: _mha(X, p, h, causal, project=False),
        "the output projection is missing: after merging the heads apply Wo and bo.",
        output="out",
    ),
    mistake(
        lambda X, p, h, causal=False: _mha(X, p, h, False) if causal else None,
        "causal=True was ignored: with it, position i attends positions 0..i only.",
    ),
]


def _pe(length, d_model, *, swap=False, per_column=False, sign=-1):
    positions = np.arange(length)[:, None]
    if per_column:  # every column its own frequency, 10000^(-j/d)
        angles = positions * 10000.0 ** (sign * np.arange(d_model) / d_model)
        pe = np.where(np.arange(d_model) % 2 == 0, np.sin(angles), np.cos(angles))
        return pe
    angles = positions * 10000.0 ** (sign * np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((length, d_model))
    first, second = (np.cos, np.sin) if swap else (np.sin, np.cos)
    pe[:, 0::2] = first(angles)
    pe[:, 1::2] = second(angles[:, : d_model // 2])
    return pe


positional_encoding = [
    mistake(lambda n, d: _pe(n, d, swap=True), "sin and cos are swapped: even features (0, 2, ...) get the sine."),
    mistake(
        lambda n, d: _pe(n, d, per_column=True),
        "each pair of features shares one frequency: the exponent is 2i/d for features 2i and 2i + 1 "
        "(np.arange(0, d_model, 2) / d_model), not j/d for every feature j.",
    ),
    mistake(
        lambda n, d: _pe(n, d, sign=1),
        "the angles are t * 10000^(2i/d): divide by the power instead, t / 10000^(2i/d), so the wavelengths grow "
        "from 2 pi to 10000 * 2 pi.",
    ),
]


def _flattened(m: Mismatch) -> bool:
    if m.expected is None or m.got is None:
        return False
    e, g = np.shape(m.expected), np.shape(m.got)
    return e != g and int(np.prod(e)) == int(np.prod(g))


embedding_forward = [
    Hint(
        "the result has the right numbers in the wrong shape: W[tokens] keeps the tokens' shape and adds the "
        "embedding axis, tokens.shape + (D,).",
        _flattened,
    ),
]


def _embedding_backward_assign(dout, tokens, n_vocab):
    dW = np.zeros((n_vocab, dout.shape[-1]), dtype=dout.dtype)
    dW[tokens.reshape(-1)] += dout.reshape(-1, dout.shape[-1])
    return dW


embedding_backward = [
    mistake(
        _embedding_backward_assign,
        "dW[tokens] += dout counts a token that occurs several times only once (fancy-index assignment keeps "
        "the last write): use np.add.at(dW, tokens, dout), which adds every occurrence.",
    ),
]


def _ln(x, gamma, beta, eps=1e-5, *, ddof=0, eps_outside=False, axis=-1):
    mean = x.mean(axis=axis, keepdims=True)
    std = x.std(axis=axis, keepdims=True, ddof=ddof)
    return (x - mean) / (std + eps if eps_outside else np.sqrt(std**2 + eps)) * gamma + beta


layer_norm_forward = [
    mistake(
        lambda x, g, b, eps=1e-5: _ln(x, g, b, eps, ddof=1),
        "the variance divides by D - 1 (ddof=1): layer norm, like PyTorch, uses the biased variance, dividing by D.",
    ),
    mistake(
        lambda x, g, b, eps=1e-5: _ln(x, g, b, eps, eps_outside=True),
        "eps goes inside the square root: (x - mean) / sqrt(var + eps), not / (std + eps).",
    ),
    mistake(
        lambda x, g, b, eps=1e-5: _ln(x, g, b, eps, axis=0),
        "the statistics run over the batch (axis 0): that is batch norm. Layer norm normalises each row over its "
        "features, the last axis.",
    ),
]


def _ln_backward(dout, x, gamma, beta, eps=1e-5, *, constant_var=False, constant_mean=False):
    dx, dgamma, dbeta = s.layer_norm_backward(dout, x, gamma, beta, eps)
    inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    xhat = (x - x.mean(axis=-1, keepdims=True)) * inv_std
    dxhat = dout * gamma
    if constant_var:
        dx = inv_std * (dxhat - dxhat.mean(axis=-1, keepdims=True))
    if constant_mean:
        dx = inv_std * (dxhat - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
    return dx, dgamma, dbeta


layer_norm_backward = [
    mistake(
        lambda *a, **k: _ln_backward(*a, **k, constant_var=True),
        "dx treats the variance as a constant: it depends on x too, which adds - xhat * mean(dxhat * xhat).",
        output="dx",
    ),
    mistake(
        lambda *a, **k: _ln_backward(*a, **k, constant_mean=True),
        "dx treats the mean as a constant: it depends on x too, which adds - mean(dxhat).",
        output="dx",
    ),
    mistake(
        lambda dout, x, g, b, eps=1e-5: (None, dout.reshape(-1, x.shape[-1]).sum(axis=0), None),
        "dgamma is the sum over rows of dout * xhat (gamma multiplies the normalised x), not of dout.",
        output="dgamma",
    ),
]


def _post_norm(X, p, n_heads, causal=True):
    H = s.layer_norm_forward(X + s.multi_head_attention(X, p, n_heads, causal)[0], p["ln1_g"], p["ln1_b"])
    M = np.maximum(H @ p["W1"].T + p["b1"], 0.0) @ p["W2"].T + p["b2"]
    return s.layer_norm_forward(H + M, p["ln2_g"], p["ln2_b"])


def _no_attention_residual(X, p, n_heads, causal=True):
    H = s.multi_head_attention(s.layer_norm_forward(X, p["ln1_g"], p["ln1_b"]), p, n_heads, causal)[0]
    return (
        H + np.maximum(s.layer_norm_forward(H, p["ln2_g"], p["ln2_b"]) @ p["W1"].T + p["b1"], 0.0) @ p["W2"].T + p["b2"]
    )


transformer_block_forward = [
    mistake(
        _post_norm,
        "that is the post-norm block (layer norm AFTER each residual sum, as in the 2017 paper): this "
        "block is pre-norm, x + MHA(LN1(x)), then h + MLP(LN2(h)).",
    ),
    mistake(_no_attention_residual, "the residual around the attention is missing: H = X + MHA(LN1(X))."),
    mistake(
        lambda X, p, h, causal=True: s.transformer_block_forward(X, p, h, False) if causal else None,
        "causal=True was ignored: pass it on to the attention.",
    ),
    mistake(
        lambda X, p, h, causal=True: None if causal else s.transformer_block_forward(X, p, h, True),
        "the attention was causal although causal=False: pass causal on instead of fixing it.",
    ),
]


def _block_backward_without(dout, X, p, n_heads, causal=True, *, skip):
    dX, grads = s.transformer_block_backward(dout, X, p, n_heads, causal)
    X1 = s.layer_norm_forward(X, p["ln1_g"], p["ln1_b"])
    heads = s.merge_heads(
        s.attention(*(s.split_heads(X1 @ p["W" + c].T + p["b" + c], n_heads) for c in "qkv"), causal=causal)[0]
    )
    H = X + heads @ p["Wo"].T + p["bo"]
    if skip == "attention":  # dX without the gradient that flows straight through the first residual
        Z = s.layer_norm_forward(H, p["ln2_g"], p["ln2_b"]) @ p["W1"].T + p["b1"]
        dH = dout + s.layer_norm_backward(((dout @ p["W2"]) * (Z > 0)) @ p["W1"], H, p["ln2_g"], p["ln2_b"])[0]
        return dX - dH, grads
    if skip == "mlp":  # dH without dout: the second residual's straight path forgotten (dX only)
        Z = s.layer_norm_forward(H, p["ln2_g"], p["ln2_b"]) @ p["W1"].T + p["b1"]
        dH = s.layer_norm_backward(((dout @ p["W2"]) * (Z > 0)) @ p["W1"], H, p["ln2_g"], p["ln2_b"])[0]
        dQ, dK, dV = s.attention_backward(
            s.split_heads(dH @ p["Wo"], n_heads),
            *(s.split_heads(X1 @ p["W" + c].T + p["b" + c], n_heads) for c in "qkv"),
            causal=causal,
        )
        dX1 = sum(s.merge_heads(d) @ p["W" + c] for c, d in zip("qkv", (dQ, dK, dV)))
        return dH + s.layer_norm_backward(dX1, X, p["ln1_g"], p["ln1_b"])[0], grads
    raise ValueError(skip)


transformer_block_backward = [
    mistake(
        lambda *a, **k: _block_backward_without(*a, **k, skip="attention"),
        "dX misses the residual's straight path: X + MHA(LN1(X)) passes dH to X unchanged, on top of the "
        "gradient through the attention.",
        output="dX",
    ),
    mistake(
        lambda *a, **k: _block_backward_without(*a, **k, skip="mlp"),
        "the gradient reaching H misses the second residual's straight path: out = H + MLP(LN2(H)), so "
        "dH = dout + (the gradient through the MLP and LN2).",
        output="dX",
    ),
]


def _lm_loss(logits, tokens, *, shift=True, per_sequence=False):
    if not shift:
        N, _, V = logits.shape
        padded = np.concatenate([logits, np.zeros((N, 1, V), dtype=logits.dtype)], axis=1)
        loss, d = s.causal_lm_loss(padded, np.concatenate([tokens[:, :1], tokens], axis=1))
        return loss, d[:, :-1]
    loss, d = s.causal_lm_loss(logits, tokens)
    if per_sequence:  # averaged over the N sequences only, not the N (L - 1) predictions
        return loss * (tokens.shape[1] - 1), d * (tokens.shape[1] - 1)
    return loss, d


causal_lm_loss = [
    mistake(
        lambda z, t: _lm_loss(z, t, shift=False),
        "the targets are not shifted: the logits at position t predict the NEXT token, tokens[:, t + 1] "
        "(compare logits[:, :-1] with tokens[:, 1:]).",
    ),
    mistake(
        lambda z, t: _lm_loss(z, t, per_sequence=True),
        "the mean runs over every prediction, N * (L - 1) of them, not only over the N sequences.",
    ),
]
