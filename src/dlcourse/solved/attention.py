"""Chapter 8 (attention), solved: scaled dot-product attention forward and backward with masks, multi-head
attention, sinusoidal positional encoding, token embeddings, layer normalisation, a pre-norm Transformer
block forward and backward, and the causal language-model loss.

Layouts: a batch of sequences is (N, L, D) (batch first, as ``nn.MultiheadAttention(batch_first=True)``);
heads are split as (N, heads, L, D / heads). Weights follow ``nn.Linear``: ``y = x @ W.T + b`` with W of
shape (n_out, n_in). A boolean mask is True where a query MAY attend a key (``F.scaled_dot_product_attention``'s
convention); a float mask is added to the scores. Float32 inputs give float32 results.
"""

from __future__ import annotations

import numpy as np


def attention(Q, K, V, mask=None, causal=False):
    """softmax(Q K^T / sqrt(d) + mask) V over the last two axes; returns (out, weights).

    A row whose every key is masked gets weights 0 and output 0 (as PyTorch does), not 0/0.
    """
    scores = (Q @ np.swapaxes(K, -1, -2)) * Q.shape[-1] ** -0.5  # (..., Lq, Lk)
    if mask is not None:
        mask = np.asarray(mask)
        scores = scores + (np.where(mask, 0.0, -np.inf) if mask.dtype == bool else mask).astype(scores.dtype)
    if causal:  # query i sees keys 0..i
        allowed = np.tril(np.ones(scores.shape[-2:], dtype=bool))
        scores = np.where(allowed, scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)  # a fully masked row: every score -inf
    e = np.exp(scores - top)
    total = e.sum(axis=-1, keepdims=True)
    weights = e / np.where(total > 0, total, 1.0)  # 0 / 1 = 0 on a fully masked row
    return weights @ V, weights


def attention_backward(dout, Q, K, V, mask=None, causal=False):
    """(dQ, dK, dV) of attention's output, given dout = dL/dout."""
    _, P = attention(Q, K, V, mask, causal)
    dV = np.swapaxes(P, -1, -2) @ dout
    dP = dout @ np.swapaxes(V, -1, -2)
    dS = P * (dP - np.sum(dP * P, axis=-1, keepdims=True)) * Q.shape[-1] ** -0.5  # chapter 4's softmax backward
    return dS @ K, np.swapaxes(dS, -1, -2) @ Q, dV


def split_heads(X, n_heads):
    """(N, L, D) -> (N, n_heads, L, D // n_heads): head h gets features h*dh .. (h+1)*dh - 1."""
    N, L, D = X.shape
    return X.reshape(N, L, n_heads, D // n_heads).transpose(0, 2, 1, 3)


def merge_heads(X):
    """(N, n_heads, L, dh) -> (N, L, n_heads * dh), the inverse of split_heads."""
    N, h, L, dh = X.shape
    return X.transpose(0, 2, 1, 3).reshape(N, L, h * dh)


def multi_head_attention(X, params, n_heads, causal=False):
    """Self-attention of X (N, L, D) with n_heads heads; returns (out (N, L, D), weights (N, n_heads, L, L))."""
    if X.shape[-1] % n_heads:
        raise ValueError(f"d_model = {X.shape[-1]} is not divisible by n_heads = {n_heads}")
    Q = split_heads(X @ params["Wq"].T + params["bq"], n_heads)
    K = split_heads(X @ params["Wk"].T + params["bk"], n_heads)
    V = split_heads(X @ params["Wv"].T + params["bv"], n_heads)
    heads, weights = attention(Q, K, V, causal=causal)
    return merge_heads(heads) @ params["Wo"].T + params["bo"], weights


def positional_encoding(length, d_model):
    """(length, d_model) sinusoids: PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(t / 10000^(2i/d))."""
    positions = np.arange(length)[:, None]
    inverse_wavelengths = 10000.0 ** (-np.arange(0, d_model, 2) / d_model)
    angles = positions * inverse_wavelengths  # (length, ceil(d_model / 2))
    pe = np.zeros((length, d_model))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return pe


def embedding_forward(tokens, W):
    """The rows of W (n_vocab, D) at the integer tokens (any shape): shape tokens.shape + (D,)."""
    return W[tokens]


def embedding_backward(dout, tokens, n_vocab):
    """dL/dW (n_vocab, D) given dout (tokens.shape + (D,)): every use of a token adds its gradient row."""
    dW = np.zeros((n_vocab, dout.shape[-1]), dtype=dout.dtype)
    np.add.at(dW, tokens.reshape(-1), dout.reshape(-1, dout.shape[-1]))
    return dW


def layer_norm_forward(x, gamma, beta, eps=1e-5):
    """Normalise each row (the last axis) to mean 0 and variance 1, then scale by gamma and shift by beta."""
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)  # biased (divide by D), as PyTorch
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def layer_norm_backward(dout, x, gamma, beta, eps=1e-5):
    """(dx, dgamma, dbeta) of layer_norm_forward(x, gamma, beta, eps), given dout."""
    mean = x.mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    xhat = (x - mean) * inv_std
    dxhat = dout * gamma
    dx = inv_std * (dxhat - dxhat.mean(axis=-1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
    D = x.shape[-1]
    return dx, (dout * xhat).reshape(-1, D).sum(axis=0), dout.reshape(-1, D).sum(axis=0)


def transformer_block_forward(X, params, n_heads, causal=True):
    """Pre-norm block: H = X + MHA(LN1(X)); out = H + W2 relu(W1 LN2(H) + b1) + b2."""
    p = params
    H = X + multi_head_attention(layer_norm_forward(X, p["ln1_g"], p["ln1_b"]), p, n_heads, causal)[0]
    hidden = np.maximum(layer_norm_forward(H, p["ln2_g"], p["ln2_b"]) @ p["W1"].T + p["b1"], 0.0)
    return H + hidden @ p["W2"].T + p["b2"]


def transformer_block_backward(dout, X, params, n_heads, causal=True):
    """(dX, grads) of transformer_block_forward: grads has one entry per parameter, of its shape."""
    p = params
    D = X.shape[-1]
    # forward again, keeping what the backward pass needs
    X1 = layer_norm_forward(X, p["ln1_g"], p["ln1_b"])
    Q, K, V = (split_heads(X1 @ p["W" + c].T + p["b" + c], n_heads) for c in "qkv")
    heads = merge_heads(attention(Q, K, V, causal=causal)[0])
    H = X + heads @ p["Wo"].T + p["bo"]
    X2 = layer_norm_forward(H, p["ln2_g"], p["ln2_b"])
    Z = X2 @ p["W1"].T + p["b1"]
    R = np.maximum(Z, 0.0)
    # backward: MLP branch, then the attention branch; each residual adds its input's gradient
    grads = {}
    flat = dout.reshape(-1, D)
    grads["W2"], grads["b2"] = flat.T @ R.reshape(-1, R.shape[-1]), flat.sum(axis=0)
    dZ = (dout @ p["W2"]) * (Z > 0)
    dZ_flat = dZ.reshape(-1, dZ.shape[-1])
    grads["W1"], grads["b1"] = dZ_flat.T @ X2.reshape(-1, D), dZ_flat.sum(axis=0)
    dH_norm, grads["ln2_g"], grads["ln2_b"] = layer_norm_backward(dZ @ p["W1"], H, p["ln2_g"], p["ln2_b"])
    dH = dout + dH_norm
    dH_flat = dH.reshape(-1, D)
    grads["Wo"], grads["bo"] = dH_flat.T @ heads.reshape(-1, D), dH_flat.sum(axis=0)
    dQ, dK, dV = attention_backward(split_heads(dH @ p["Wo"], n_heads), Q, K, V, causal=causal)
    dX1 = np.zeros_like(X1)
    for c, d_proj in zip("qkv", (dQ, dK, dV)):
        d_flat = merge_heads(d_proj).reshape(-1, D)
        grads["W" + c], grads["b" + c] = d_flat.T @ X1.reshape(-1, D), d_flat.sum(axis=0)
        dX1 += merge_heads(d_proj) @ p["W" + c]
    dX_norm, grads["ln1_g"], grads["ln1_b"] = layer_norm_backward(dX1, X, p["ln1_g"], p["ln1_b"])
    return dH + dX_norm, grads


def causal_lm_loss(logits, tokens):
    """(loss, dlogits): mean cross-entropy of logits[:, t] (N, L, V) predicting tokens[:, t + 1] (N, L).

    The last position has nothing to predict: its gradient is 0.
    """
    N, L, n_vocab = logits.shape
    z = logits[:, :-1].reshape(-1, n_vocab)
    targets = tokens[:, 1:].reshape(-1)
    rows = np.arange(len(targets))
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_p[rows, targets].mean()
    dz = np.exp(log_p)
    dz[rows, targets] -= 1.0
    dlogits = np.zeros_like(logits)
    dlogits[:, :-1] = (dz / len(targets)).reshape(N, L - 1, n_vocab)
    return loss, dlogits
