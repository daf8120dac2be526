"""PyTorch references for chapter 8 (attention): ``F.scaled_dot_product_attention``, ``nn.MultiheadAttention``,
``nn.Embedding``, ``nn.LayerNorm``, a pre-norm Transformer block assembled from ``torch.nn`` parts, and autograd
for every backward pass.

NumPy in, NumPy out, float64 on :func:`dlcourse.device.get_device`. Layouts and mask conventions are those of
:mod:`dlcourse.solved.attention`. Where PyTorch's own conventions differ, the functions here translate:
``F.scaled_dot_product_attention`` refuses a mask together with ``is_causal=True`` (we fold the causal mask into
the explicit one), and ``nn.MultiheadAttention``'s boolean ``attn_mask`` is True where attending is NOT allowed
(the opposite of ``F.scaled_dot_product_attention``'s).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..device import get_device, to_numpy, to_tensor

BLOCK_PARAMS = (
    "ln1_g",
    "ln1_b",
    "Wq",
    "bq",
    "Wk",
    "bk",
    "Wv",
    "bv",
    "Wo",
    "bo",
    "ln2_g",
    "ln2_b",
    "W1",
    "b1",
    "W2",
    "b2",
)


def _float(x) -> torch.Tensor:
    return to_tensor(np.asarray(x, dtype=np.float64))


def _mask(mask, causal: bool, n_queries: int, n_keys: int) -> torch.Tensor | None:
    """One attn_mask for F.scaled_dot_product_attention: the given mask with the causal one folded in."""
    if mask is not None:
        mask = np.asarray(mask)
        mask = to_tensor(mask) if mask.dtype == bool else _float(mask)
    if not causal:
        return mask
    lower = torch.ones(n_queries, n_keys, dtype=torch.bool, device=get_device()).tril()
    if mask is None:
        return lower
    if mask.dtype == torch.bool:
        return mask & lower
    return mask.masked_fill(~lower, -math.inf)


def _sdpa(Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor, mask, causal: bool) -> torch.Tensor:
    return F.scaled_dot_product_attention(Q, K, V, attn_mask=_mask(mask, causal, Q.shape[-2], K.shape[-2]))


def attention(Q, K, V, mask=None, causal=False) -> tuple[np.ndarray, np.ndarray]:
    """(out, weights) of scaled dot-product attention. The weights are PyTorch's too: attention applied to
    the identity matrix as values returns exactly its weight matrix."""
    q, k, v = _float(Q), _float(K), _float(V)
    eye = torch.eye(k.shape[-2], dtype=torch.float64, device=get_device()).expand(*k.shape[:-1], k.shape[-2])
    return to_numpy(_sdpa(q, k, v, mask, causal)), to_numpy(_sdpa(q, k, eye, mask, causal))


def attention_backward(dout, Q, K, V, mask=None, causal=False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dQ, dK, dV) by autograd through F.scaled_dot_product_attention."""
    q, k, v = (to_tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in (Q, K, V))
    _sdpa(q, k, v, mask, causal).backward(_float(dout))
    return to_numpy(q.grad), to_numpy(k.grad), to_numpy(v.grad)


def torch_multi_head_attention(params, n_heads: int) -> nn.MultiheadAttention:
    """nn.MultiheadAttention(batch_first=True) holding the NumPy weights: in_proj_weight stacks Wq, Wk, Wv
    (3D, D) and in_proj_bias bq, bk, bv; out_proj is the output projection Wo, bo."""
    D = np.shape(params["Wq"])[1]
    module = nn.MultiheadAttention(D, n_heads, batch_first=True, dropout=0.0, dtype=torch.float64, device=get_device())
    with torch.no_grad():
        module.in_proj_weight.copy_(_float(np.concatenate([params["Wq"], params["Wk"], params["Wv"]])))
        module.in_proj_bias.copy_(_float(np.concatenate([params["bq"], params["bk"], params["bv"]])))
        module.out_proj.weight.copy_(_float(params["Wo"]))
        module.out_proj.bias.copy_(_float(params["bo"]))
    return module


def _future(L: int) -> torch.Tensor:
    """nn.MultiheadAttention's causal attn_mask: True ABOVE the diagonal, where attending is forbidden."""
    return torch.ones(L, L, dtype=torch.bool, device=get_device()).triu(1)


def multi_head_attention(X, params, n_heads, causal=False) -> tuple[np.ndarray, np.ndarray]:
    """(out, per-head weights (N, heads, L, L)) of nn.MultiheadAttention applied to X as query, key and value."""
    x = _float(X)
    module = torch_multi_head_attention(params, n_heads)
    with torch.no_grad():
        out, weights = module(
            x, x, x, attn_mask=_future(x.shape[1]) if causal else None, need_weights=True, average_attn_weights=False
        )
    return to_numpy(out), to_numpy(weights)


def positional_encoding(length: int, d_model: int) -> np.ndarray:
    """The sinusoidal encoding as the PyTorch tutorials compute it: exp(-2i log(10000) / d) for the frequencies."""
    position = torch.arange(length, dtype=torch.float64, device=get_device())[:, None]
    freq = torch.exp(
        torch.arange(0, d_model, 2, dtype=torch.float64, device=get_device()) * (-math.log(10000.0) / d_model)
    )
    pe = torch.zeros(length, d_model, dtype=torch.float64, device=get_device())
    pe[:, 0::2] = torch.sin(position * freq)
    pe[:, 1::2] = torch.cos(position * freq[: d_model // 2])
    return to_numpy(pe)


def embedding_forward(tokens, W) -> np.ndarray:
    module = nn.Embedding.from_pretrained(_float(W), freeze=True)
    with torch.no_grad():
        return to_numpy(module(to_tensor(np.asarray(tokens))))


def embedding_backward(dout, tokens, n_vocab: int) -> np.ndarray:
    """dL/dW of nn.Embedding by autograd (its weights' values do not matter)."""
    module = nn.Embedding(n_vocab, np.shape(dout)[-1], dtype=torch.float64, device=get_device())
    module(to_tensor(np.asarray(tokens))).backward(_float(dout))
    return to_numpy(module.weight.grad)


def layer_norm_forward(x, gamma, beta, eps=1e-5) -> np.ndarray:
    return to_numpy(F.layer_norm(_float(x), (np.shape(x)[-1],), _float(gamma), _float(beta), eps))


def layer_norm_backward(dout, x, gamma, beta, eps=1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dx, dgamma, dbeta) by autograd through nn.LayerNorm."""
    module = nn.LayerNorm(np.shape(x)[-1], eps=eps, dtype=torch.float64, device=get_device())
    with torch.no_grad():
        module.weight.copy_(_float(gamma))
        module.bias.copy_(_float(beta))
    xt = to_tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    module(xt).backward(_float(dout))
    return to_numpy(xt.grad), to_numpy(module.weight.grad), to_numpy(module.bias.grad)


class Block(nn.Module):
    """Pre-norm Transformer block from torch.nn parts: x + attn(ln1(x)), then h + ff2(relu(ff1(ln2(h))))."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, causal: bool = True):
        super().__init__()
        self.causal = causal
        self.ln1 = nn.LayerNorm(d_model, dtype=torch.float64)
        self.attn = nn.MultiheadAttention(d_model, n_heads, batch_first=True, dtype=torch.float64)
        self.ln2 = nn.LayerNorm(d_model, dtype=torch.float64)
        self.ff1 = nn.Linear(d_model, d_ff, dtype=torch.float64)
        self.ff2 = nn.Linear(d_ff, d_model, dtype=torch.float64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.ln1(x)
        x = (
            x
            + self.attn(
                a, a, a, attn_mask=_future(x.shape[1]).to(x.device) if self.causal else None, need_weights=False
            )[0]
        )
        return x + self.ff2(torch.relu(self.ff1(self.ln2(x))))

    @classmethod
    def from_params(cls, params, n_heads: int, causal: bool = True) -> Block:
        d_ff, d_model = np.shape(params["W1"])
        block = cls(d_model, n_heads, d_ff, causal).to(get_device())
        block.load(params)
        return block

    def load(self, params) -> None:
        """Copy the NumPy parameters (names as in BLOCK_PARAMS) into the module."""
        with torch.no_grad():
            for name, tensor in self.named_tensors().items():
                tensor.copy_(
                    _float(np.concatenate([params[n] for n in name]) if isinstance(name, tuple) else params[name])
                )

    def named_tensors(self) -> dict:
        """NumPy parameter name (or a tuple of names stacked in one tensor) -> the module's tensor."""
        return {
            "ln1_g": self.ln1.weight,
            "ln1_b": self.ln1.bias,
            ("Wq", "Wk", "Wv"): self.attn.in_proj_weight,
            ("bq", "bk", "bv"): self.attn.in_proj_bias,
            "Wo": self.attn.out_proj.weight,
            "bo": self.attn.out_proj.bias,
            "ln2_g": self.ln2.weight,
            "ln2_b": self.ln2.bias,
            "W1": self.ff1.weight,
            "b1": self.ff1.bias,
            "W2": self.ff2.weight,
            "b2": self.ff2.bias,
        }

    def grads(self) -> dict[str, np.ndarray]:
        """The gradients as NumPy arrays under the NumPy names (in_proj's split back into q, k, v)."""
        out = {}
        for name, tensor in self.named_tensors().items():
            if isinstance(name, tuple):
                out.update(zip(name, np.split(to_numpy(tensor.grad), 3)))
            else:
                out[name] = to_numpy(tensor.grad)
        return {n: out[n] for n in BLOCK_PARAMS}


def transformer_block_forward(X, params, n_heads, causal=True) -> np.ndarray:
    block = Block.from_params(params, n_heads, causal)
    with torch.no_grad():
        return to_numpy(block(_float(X)))


def transformer_block_backward(dout, X, params, n_heads, causal=True) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(dX, grads) by autograd through the torch.nn block."""
    block = Block.from_params(params, n_heads, causal)
    x = to_tensor(np.asarray(X, dtype=np.float64), requires_grad=True)
    block(x).backward(_float(dout))
    return to_numpy(x.grad), block.grads()


def causal_lm_loss(logits, tokens) -> tuple[np.ndarray, np.ndarray]:
    """(loss, dlogits): F.cross_entropy of logits[:, :-1] against tokens[:, 1:], and autograd's gradient."""
    z = to_tensor(np.asarray(logits, dtype=np.float64), requires_grad=True)
    y = to_tensor(np.asarray(tokens))
    loss = F.cross_entropy(z[:, :-1].reshape(-1, z.shape[-1]), y[:, 1:].reshape(-1))
    loss.backward()
    return to_numpy(loss), to_numpy(z.grad)
