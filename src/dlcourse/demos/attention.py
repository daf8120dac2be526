"""Chapter 8's demos: a tiny character-level Transformer language model trained in NumPy (from the learner's
pieces, or the course's solved ones) and the same model in PyTorch; sampling; attention's cost measured
beside an RNN's.

The model: token embedding + sinusoidal positions -> one pre-norm causal Transformer block -> layer norm ->
a linear layer to the vocabulary's logits. Both implementations start from the same NumPy parameters, see the
same batches and take the same Adam steps, so in float64 their losses agree to rounding for many steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..device import get_device, to_numpy, to_tensor
from ..reference.attention import BLOCK_PARAMS, Block
from ..reference.attention import positional_encoding as torch_positional_encoding
from ..solved import attention as solved
from ..solved.optimizers import Adam

PIECES = (
    "embedding_forward",
    "embedding_backward",
    "positional_encoding",
    "layer_norm_forward",
    "layer_norm_backward",
    "multi_head_attention",
    "transformer_block_forward",
    "transformer_block_backward",
    "causal_lm_loss",
)


@dataclass(frozen=True)
class LMConfig:
    d_model: int = 32
    n_heads: int = 4
    d_ff: int = 128
    context: int = 32
    batch: int = 16
    steps: int = 600
    lr: float = 1e-2
    seed: int = 0


def pieces(**yours: Callable) -> SimpleNamespace:
    """The model's building blocks: the functions given (the learner's), the course's solved ones for the rest."""
    unknown = set(yours) - set(PIECES)
    if unknown:
        raise TypeError(f"unknown pieces {sorted(unknown)}; the model uses {PIECES}")
    return SimpleNamespace(**{name: yours.get(name, getattr(solved, name)) for name in PIECES})


def init_lm_params(n_vocab: int, config: LMConfig) -> dict[str, np.ndarray]:
    """Float64 parameters: 'emb' (n_vocab, d), the block's under 'block.', 'lnf_g', 'lnf_b', 'W_out', 'b_out'."""
    rng = np.random.default_rng(config.seed)
    d, f = config.d_model, config.d_ff
    params = {"emb": rng.normal(0.0, 1.0, size=(n_vocab, d))}
    shapes = {"W1": (f, d), "b1": (f,), "W2": (d, f)}
    for name in BLOCK_PARAMS:
        shape = shapes.get(name, (d, d) if name.startswith("W") else (d,))
        if name.startswith("W"):
            params["block." + name] = rng.normal(0.0, shape[1] ** -0.5, size=shape)
        else:
            params["block." + name] = np.ones(shape) if name.endswith("_g") else np.zeros(shape)
    params.update(
        lnf_g=np.ones(d), lnf_b=np.zeros(d), W_out=rng.normal(0.0, d**-0.5, size=(n_vocab, d)), b_out=np.zeros(n_vocab)
    )
    return params


def block_of(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The block's parameters under their own names (the same arrays: updating one updates the other)."""
    return {k[len("block.") :]: v for k, v in params.items() if k.startswith("block.")}


def lm_logits(params, tokens: np.ndarray, p: SimpleNamespace, n_heads: int) -> np.ndarray:
    """(N, L, n_vocab) logits of the NumPy model for integer tokens (N, L)."""
    X = p.embedding_forward(tokens, params["emb"]) + p.positional_encoding(tokens.shape[1], params["emb"].shape[1])
    H = p.transformer_block_forward(X, block_of(params), n_heads, True)
    return p.layer_norm_forward(H, params["lnf_g"], params["lnf_b"]) @ params["W_out"].T + params["b_out"]


def lm_loss_and_grads(params, tokens: np.ndarray, p: SimpleNamespace, n_heads: int):
    """(loss, grads) of the NumPy model on a batch of token sequences: forward, then backward by hand."""
    D = params["emb"].shape[1]
    X = p.embedding_forward(tokens, params["emb"]) + p.positional_encoding(tokens.shape[1], D)
    block = block_of(params)
    H = p.transformer_block_forward(X, block, n_heads, True)
    Hn = p.layer_norm_forward(H, params["lnf_g"], params["lnf_b"])
    logits = Hn @ params["W_out"].T + params["b_out"]
    loss, dlogits = p.causal_lm_loss(logits, tokens)
    flat = dlogits.reshape(-1, dlogits.shape[-1])
    grads = {"W_out": flat.T @ Hn.reshape(-1, D), "b_out": flat.sum(axis=0)}
    dH, grads["lnf_g"], grads["lnf_b"] = p.layer_norm_backward(
        dlogits @ params["W_out"], H, params["lnf_g"], params["lnf_b"]
    )
    dX, block_grads = p.transformer_block_backward(dH, X, block, n_heads, True)
    grads.update({"block." + k: v for k, v in block_grads.items()})
    grads["emb"] = p.embedding_backward(dX, tokens, params["emb"].shape[0])
    return float(loss), grads


def batches(data: np.ndarray, config: LMConfig) -> Iterator[np.ndarray]:
    """config.steps seeded batches (batch, context) of consecutive tokens from random places in data."""
    rng = np.random.default_rng(config.seed + 1)
    offsets = np.arange(config.context)
    for _ in range(config.steps):
        starts = rng.integers(0, len(data) - config.context + 1, size=config.batch)
        yield data[starts[:, None] + offsets]


def train_numpy_lm(data: np.ndarray, n_vocab: int, config: LMConfig, p: SimpleNamespace | None = None):
    """(params, losses, seconds): the NumPy model trained with the course's Adam, one loss per step."""
    p = p or pieces()
    params = init_lm_params(n_vocab, config)
    optimizer, losses = Adam(lr=config.lr), []
    start = time.perf_counter()
    for tokens in batches(data, config):
        loss, grads = lm_loss_and_grads(params, tokens, p, config.n_heads)
        optimizer.step(params, grads)
        losses.append(loss)
    return params, np.array(losses), time.perf_counter() - start


class TorchLM(nn.Module):
    """The same model from torch.nn parts: nn.Embedding, a fixed sinusoidal buffer, the block, nn.LayerNorm, nn.Linear."""

    def __init__(self, n_vocab: int, config: LMConfig, dtype=torch.float64):
        super().__init__()
        d = config.d_model
        self.n_heads = config.n_heads
        self.emb = nn.Embedding(n_vocab, d, dtype=dtype)
        self.register_buffer("pe", torch.tensor(torch_positional_encoding(config.context, d), dtype=dtype))
        self.block = Block(d, config.n_heads, config.d_ff, causal=True).to(dtype)
        self.lnf = nn.LayerNorm(d, dtype=dtype)
        self.out = nn.Linear(d, n_vocab, dtype=dtype)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.out(self.lnf(self.block(self.emb(tokens) + self.pe[: tokens.shape[1]])))

    def load(self, params: dict[str, np.ndarray]) -> TorchLM:
        with torch.no_grad():
            for tensor, value in (
                (self.emb.weight, params["emb"]),
                (self.lnf.weight, params["lnf_g"]),
                (self.lnf.bias, params["lnf_b"]),
                (self.out.weight, params["W_out"]),
                (self.out.bias, params["b_out"]),
            ):
                tensor.copy_(torch.as_tensor(value, dtype=tensor.dtype))
            for name, tensor in self.block.named_tensors().items():
                names = name if isinstance(name, tuple) else (name,)
                tensor.copy_(torch.as_tensor(np.concatenate([params["block." + n] for n in names]), dtype=tensor.dtype))
        return self


def train_torch_lm(data: np.ndarray, n_vocab: int, config: LMConfig, dtype=torch.float64):
    """(model, losses, seconds): TorchLM from the same initial parameters, the same batches, torch.optim.Adam."""
    model = TorchLM(n_vocab, config, dtype).to(get_device()).load(init_lm_params(n_vocab, config))
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    losses = []
    start = time.perf_counter()
    for tokens in batches(data, config):
        t = to_tensor(tokens)
        logits = model(t)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, n_vocab), t[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    if get_device().type == "cuda":
        torch.cuda.synchronize()
    return model, np.array(losses), time.perf_counter() - start


def sample(
    next_logits: Callable[[np.ndarray], np.ndarray],
    prompt: np.ndarray,
    n: int,
    context: int,
    seed: int = 0,
    temperature: float = 0.8,
) -> np.ndarray:
    """prompt followed by n tokens drawn one at a time from softmax(logits / temperature) of the last position.

    ``next_logits`` maps (1, L) tokens to (1, L, n_vocab) logits. The draws come from one seeded generator, so
    two models with the same logits write the same text.
    """
    rng = np.random.default_rng(seed)
    tokens = list(np.asarray(prompt, dtype=np.int64))
    for _ in range(n):
        window = np.array(tokens[-context:], dtype=np.int64)[None]
        z = np.asarray(next_logits(window), dtype=np.float64)[0, -1] / temperature
        probs = np.exp(z - z.max())
        tokens.append(int(rng.choice(len(probs), p=probs / probs.sum())))
    return np.array(tokens)


def torch_next_logits(model: TorchLM) -> Callable[[np.ndarray], np.ndarray]:
    def run(tokens: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return to_numpy(model(to_tensor(tokens)))

    return run


def head_weights(params, tokens: np.ndarray, p: SimpleNamespace, n_heads: int) -> np.ndarray:
    """(n_heads, L, L) attention weights of the trained block's heads on one sequence of tokens (L,)."""
    tokens = np.asarray(tokens)[None]
    D = params["emb"].shape[1]
    X = p.embedding_forward(tokens, params["emb"]) + p.positional_encoding(tokens.shape[1], D)
    block = block_of(params)
    _, weights = p.multi_head_attention(p.layer_norm_forward(X, block["ln1_g"], block["ln1_b"]), block, n_heads, True)
    return weights[0]


def best_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """The shortest of ``repeats`` wall-clock timings of fn(), in seconds."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def attention_vs_rnn_cost(
    lengths, attention_fn: Callable, rnn_forward: Callable, d: int = 32, seed: int = 0, repeats: int = 3
) -> dict[str, np.ndarray]:
    """Seconds for one self-attention (L queries, L keys, width d) and one RNN pass (L steps, hidden d), per length."""
    rng = np.random.default_rng(seed)
    Wx, Wh, b = rng.normal(0, d**-0.5, (d, d)), rng.normal(0, d**-0.5, (d, d)), np.zeros(d)
    times = {"attention": [], "rnn": []}
    for L in lengths:
        X = rng.normal(size=(1, L, d))
        times["attention"].append(best_time(lambda X=X: attention_fn(X, X, X, causal=True), repeats))
        times["rnn"].append(best_time(lambda X=X: rnn_forward(X, np.zeros((1, d)), Wx, Wh, b), repeats))
    return {"lengths": np.asarray(lengths), **{k: np.array(v) for k, v in times.items()}}
