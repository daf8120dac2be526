# %% [markdown] id="title"
# # Chapter 8 — Attention and a tiny Transformer
#
# The RNN of chapter 5 reads a sequence one step at a time and squeezes everything it has seen into one
# hidden state; what happened 50 steps ago reaches the present only through 50 multiplications by the same
# matrix, and its gradient fades (or explodes) on the way back. **Attention** answers the long-range
# problem another way: every position looks at every earlier position *directly*, in one step, and decides
# by a learned similarity how much of each to take. This is the building block of the Transformer, the
# model behind today's chatbots.
#
# **Learning goals.** After this notebook you can
#
# 1. write scaled dot-product attention with boolean, additive and causal masks, explain the
#    $1/\sqrt{d_k}$ scale (the variance of a dot product) and what a fully masked row does to softmax;
# 2. backpropagate through it (dQ, dK, dV), with chapter 4's softmax backward inside;
# 3. split a model's width into heads and write multi-head attention, with its weights laid out as
#    `nn.MultiheadAttention`'s (`in_proj_weight` stacks Wq, Wk, Wv);
# 4. say why attention needs positions (it is permutation-equivariant), and write the sinusoidal encoding;
# 5. write the token embedding forward and backward (`np.add.at` for repeated tokens), layer normalisation
#    forward and backward;
# 6. assemble a pre-norm Transformer block, forward and backward, and the causal language-model loss;
# 7. train a tiny character-level language model in NumPy with your pieces beside the same model in
#    PyTorch, see both give the same losses, sample text from each, look inside a trained head, and measure
#    attention's quadratic cost beside the RNN's linear one.
#
# **How this notebook works.** Each exercise is a NumPy function with a stub. Replace the stub, run the
# cell, then run the test cell below it: it compares your function with PyTorch (float64) on fixed and
# random inputs and explains what differs. Later exercises call your earlier ones (the Transformer block
# uses your attention and layer norm), so do them in order. Cells that only *show* things use your
# functions once they work and the course's solved versions until then. Nothing here needs a GPU.

# %% id="setup"
import numpy as np
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits
from torch import nn

from dlcourse import data
from dlcourse.cases import attention as cases
from dlcourse.checking import Inputs, check, randint, randn
from dlcourse.demos import attention as demo
from dlcourse.device import describe, get_device, to_numpy, to_tensor
from dlcourse.exercises import use_yours
from dlcourse.mistakes import attention as mistakes
from dlcourse.plots import attention as attention_plots
from dlcourse.reference import attention as ref
from dlcourse.solved.losses import log_softmax, softmax  # chapter 4's stable softmax, solved: use them if you like

torch.manual_seed(0)
if get_device().type == "cpu":
    torch.set_num_threads(1)  # the models here are tiny: on a CPU one thread beats several fighting over them
print(describe())

# %% [markdown] id="sdpa-theory"
# ## 1. Scaled dot-product attention
#
# A sequence of $L$ positions becomes three matrices: **queries** $Q$ ($L_q \times d_k$), **keys** $K$
# ($L_k \times d_k$) and **values** $V$ ($L_k \times d_v$). Query $i$ scores every key $j$ by a dot
# product, softmax turns each row of scores into weights that sum to 1, and the output of query $i$ is
# the weighted mean of the values:
#
# $$ S = \frac{Q K^\top}{\sqrt{d_k}} + M, \qquad P = \operatorname{softmax}_{\text{row}}(S), \qquad
#    \text{out} = P V \quad (L_q \times d_v). $$
#
# Extra leading axes (a batch, heads) just come along: `Q @ np.swapaxes(K, -1, -2)` multiplies the last two.
#
# **Why $1/\sqrt{d_k}$?** If the entries of $q$ and $k$ are independent with mean 0 and variance 1, then
# $q\cdot k = \sum_{t=1}^{d_k} q_t k_t$ is a sum of $d_k$ terms of variance 1: its variance is $d_k$. With
# $d_k = 64$ the scores spread over $\pm 3\cdot 8 = \pm 24$, softmax puts almost all weight on one key, and
# its gradient (which is $p(1-p)$-like) nearly vanishes. Dividing by $\sqrt{d_k}$ brings the variance back
# to 1, whatever the width. The plot below measures it.
#
# **Masks.** $M$ is added to the scores before softmax. A **boolean** mask is True where query $i$ *may*
# attend key $j$ (PyTorch's `F.scaled_dot_product_attention` convention) and False becomes $-\infty$;
# a **float** mask is added as it is (it may hold $-\infty$ or any bias). The **causal** mask lets query
# $i$ see keys $0..i$ only: $-\infty$ above the diagonal (for $L_q \ne L_k$ the triangle starts at the top
# left, as in PyTorch). When both a mask and `causal=True` are given, both apply.
#
# **Stability and fully masked rows.** Softmax subtracts each row's maximum first (chapter 4): scores of
# $\pm 1000$ must give finite weights. A row whose *every* key is masked has every score $-\infty$: its
# maximum is $-\infty$ and $-\infty - (-\infty)$ is `nan`. Such a row (a padding position, say) has nothing
# to attend to; PyTorch gives it weights 0 and output 0, and so must you.

# %% id="score-spread" tags=["demo"]
# The spread of q . k for random unit-variance vectors, with and without the 1/sqrt(d_k) scale.
rng = np.random.default_rng(0)
dims = [4, 16, 64, 256, 1024]
spread = {"q . k": [], "q . k / sqrt(d_k)": []}
for d in dims:
    q, k = rng.normal(size=(2000, d)), rng.normal(size=(2000, d))
    dots = np.sum(q * k, axis=1)
    spread["q . k"].append(dots.std())
    spread["q . k / sqrt(d_k)"].append((dots / np.sqrt(d)).std())
attention_plots.plot_score_spread(dims, spread)
plt.show()
for d, s_raw, s_scaled in zip(dims, spread["q . k"], spread["q . k / sqrt(d_k)"]):
    print(f"d_k = {d:5d}: std of q.k {s_raw:6.2f} (sqrt(d_k) = {np.sqrt(d):5.1f}), scaled {s_scaled:.2f}")


# %% [markdown] id="ex-attention"
# ### Exercise 1 — `attention` (3 points)
#
# `attention(Q, K, V, mask=None, causal=False)` with `Q` (..., Lq, d), `K` (..., Lk, d), `V` (..., Lk, dv)
# returns `(out, weights)`: `out` (..., Lq, dv) and the softmax weights (..., Lq, Lk). `mask` is None, a
# boolean array (True = may attend) or a float array added to the scores, broadcastable to (..., Lq, Lk).
# Rows with every key masked get weights 0. Keep the input's float dtype (float32 in, float32 out: build
# masks and constants so they do not turn float32 into float64; in NumPy 2, `np.sqrt(d)` of an integer is a
# float64 NumPy scalar and makes a float32 array float64, where the Python float `d ** -0.5` does not).
#
# <details><summary>Hint 1</summary>
#
# `np.where(mask, 0.0, -np.inf)` turns a boolean mask into an additive one; `np.tril(np.ones((Lq, Lk), bool))`
# is the causal "may attend" mask.
# </details>
# <details><summary>Hint 2</summary>
#
# For the fully masked rows: `top = scores.max(-1, keepdims=True)`, then `np.where(np.isfinite(top), top, 0.0)`;
# after `e = np.exp(scores - top)` such a row is all zeros, and dividing by `np.where(total > 0, total, 1.0)`
# keeps it 0.
# </details>

# %% id="ch08_attention" nbgrader={"solution": true}
def attention(Q, K, V, mask=None, causal=False):
    """softmax(Q K^T / sqrt(d) + mask) V over the last two axes; returns (out, weights).

    A row whose every key is masked gets weights 0 and output 0 (as PyTorch does), not 0/0.
    """
    ### BEGIN SOLUTION
    scores = (Q @ np.swapaxes(K, -1, -2)) * Q.shape[-1] ** -0.5          # (..., Lq, Lk)
    if mask is not None:
        mask = np.asarray(mask)
        scores = scores + (np.where(mask, 0.0, -np.inf) if mask.dtype == bool else mask).astype(scores.dtype)
    if causal:                                                            # query i sees keys 0..i
        allowed = np.tril(np.ones(scores.shape[-2:], dtype=bool))
        scores = np.where(allowed, scores, -np.inf)
    top = scores.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)                           # a fully masked row: every score -inf
    e = np.exp(scores - top)
    total = e.sum(axis=-1, keepdims=True)
    weights = e / np.where(total > 0, total, 1.0)                        # 0 / 1 = 0 on a fully masked row
    return weights @ V, weights
    ### END SOLUTION


# %% id="ch08_attention_test" nbgrader={"grade": true, "locked": true, "points": 3}
# By hand: d = 4, so the scale is 1/2. Query 0 matches key 0 (score 2 * 2 / 2 = 2), query 1 matches nothing.
Q0 = np.array([[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
K0 = np.array([[2.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0]])
V0 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
keep = np.array([[True, True, False], [False, False, False]])          # query 1 may attend nothing at all
bias = randn(5, 5, seed=4)                                              # an additive float mask ...
bias[3, :2] = -np.inf                                                   # ... with -inf entries too
X = randn(2, 5, 4, seed=1), randn(2, 5, 4, seed=2), randn(2, 5, 3, seed=3)   # batch of 2, d_v = 3 != d_k
check(attention, ref.attention, [
    (Q0, K0, V0),
    Inputs(Q0, K0, V0, mask=keep),                                      # boolean mask, a fully masked row
    X,
    Inputs(*X, causal=True),
    Inputs(*X, mask=bias, causal=True),                                 # both: the float mask AND the causal one
    Inputs(*X, mask=cases.padding_mask([5, 2], 5)),                     # (N, 1, Lk) broadcast over the queries
    Inputs(randn(3, 4, seed=5), randn(6, 4, seed=6), randn(6, 2, seed=7), causal=True),   # Lq != Lk
    (randn(2, 3, 4, 8, seed=8, scale=30.0), randn(2, 3, 4, 8, seed=9, scale=30.0), randn(2, 3, 4, 8, seed=10)),
    Inputs(*(a.astype(np.float32) for a in X), mask=randn(5, 5, seed=27) > -0.5, causal=True),
], output_names=("out", "weights"), hints=mistakes.attention,
   allow=("dlcourse.solved.losses.softmax", "dlcourse.solved.losses.log_softmax"))
### BEGIN HIDDEN TESTS
check(attention, ref.attention, [
    (randn(1, 4, seed=11), randn(1, 4, seed=12), randn(1, 6, seed=13)),          # one query, one key
    Inputs(randn(4, 7, 16, seed=14), randn(4, 7, 16, seed=15), randn(4, 7, 5, seed=16), causal=True),
    Inputs(randn(3, 2, 6, 8, seed=17), randn(3, 2, 9, 8, seed=18), randn(3, 2, 9, 4, seed=19),
           mask=randn(6, 9, seed=20) > 0.3),
    Inputs(randn(2, 6, 4, seed=21, scale=40.0), randn(2, 6, 4, seed=22, scale=40.0), randn(2, 6, 4, seed=23),
           mask=cases.padding_mask([6, 1], 6), causal=True),
    Inputs(*(randn(2, 5, 4, seed=s).astype(np.float32) for s in (24, 25, 26)), mask=bias.astype(np.float32)),
], output_names=("out", "weights"), hints=mistakes.attention,
   allow=("dlcourse.solved.losses.softmax", "dlcourse.solved.losses.log_softmax"))
### END HIDDEN TESTS

# %% id="pytorch-sdpa" tags=["demo"]
# PyTorch: F.scaled_dot_product_attention, next to your attention. Its defaults and yours agree on the
# scale (1/sqrt(d_k), change it with scale=) and on a boolean mask's meaning (True = may attend), but it
# refuses an explicit mask together with is_causal=True: fold the causal triangle into the mask yourself.
my_attention = use_yours(attention, "attention.attention")
Qd, Kd, Vd = randn(1, 4, 8, seed=30), randn(1, 4, 8, seed=31), randn(1, 4, 3, seed=32)
mine_out, mine_weights = my_attention(Qd, Kd, Vd, causal=True)
torch_out = F.scaled_dot_product_attention(to_tensor(Qd), to_tensor(Kd), to_tensor(Vd), is_causal=True)
print("weights (NumPy, causal):\n", np.array2string(mine_weights[0], precision=3))
print("out NumPy  :", np.array2string(mine_out[0, -1], precision=6))
print("out PyTorch:", np.array2string(to_numpy(torch_out)[0, -1], precision=6),
      f"  largest difference {np.abs(mine_out - to_numpy(torch_out)).max():.1e}")
try:
    F.scaled_dot_product_attention(to_tensor(Qd), to_tensor(Kd), to_tensor(Vd),
                                   attn_mask=torch.ones(4, 4, dtype=torch.bool), is_causal=True)
except RuntimeError as error:
    print("PyTorch with a mask AND is_causal=True:", str(error).splitlines()[0])


# %% [markdown] id="sdpa-backward-theory"
# ### The backward pass
#
# Given $dO = \partial L/\partial\,\text{out}$, go back through the three steps. $\text{out} = PV$ is a
# matrix product (chapter 2): $dV = P^\top dO$ and $dP = dO\, V^\top$. Softmax along each row (chapter 4):
# $dS = P \odot \big(dP - \textstyle\sum_j dP \odot P\big)$, the sum over each row. And
# $S = QK^\top/\sqrt{d_k}$: $dQ = dS\,K/\sqrt{d_k}$, $dK = dS^\top Q/\sqrt{d_k}$. The mask is a constant
# added to $S$: it has no gradient, and where $P = 0$ (masked keys, fully masked rows) $dS = 0$ by itself.
#
# ### Exercise 2 — `attention_backward` (4 points)
#
# `attention_backward(dout, Q, K, V, mask=None, causal=False)` returns `(dQ, dK, dV)`, each of its input's
# shape and dtype. Call your `attention` for the weights. (Chapter 4's solved `softmax` is imported above;
# its `softmax_backward(dP, logits)` would need finite logits, so writing the formula with $P$ is simpler.)

# %% id="ch08_attention_backward" nbgrader={"solution": true}
def attention_backward(dout, Q, K, V, mask=None, causal=False):
    """(dQ, dK, dV) of attention's output, given dout = dL/dout."""
    ### BEGIN SOLUTION
    _, P = attention(Q, K, V, mask, causal)
    dV = np.swapaxes(P, -1, -2) @ dout
    dP = dout @ np.swapaxes(V, -1, -2)
    dS = P * (dP - np.sum(dP * P, axis=-1, keepdims=True)) * Q.shape[-1] ** -0.5   # chapter 4's softmax backward
    return dS @ K, np.swapaxes(dS, -1, -2) @ Q, dV
    ### END SOLUTION


# %% id="ch08_attention_backward_test" nbgrader={"grade": true, "locked": true, "points": 4}
dO0 = np.array([[1.0, 0.0], [0.5, -1.0]])
dOX = randn(2, 5, 3, seed=40)
check(attention_backward, ref.attention_backward, [
    (dO0, Q0, K0, V0),
    Inputs(dO0, Q0, K0, V0, mask=keep),                                 # the fully masked row has no gradient
    (dOX, *X),
    Inputs(dOX, *X, causal=True),
    Inputs(dOX, *X, mask=bias, causal=True),
    Inputs(dOX, *X, mask=cases.padding_mask([5, 2], 5)),
    Inputs(randn(3, 2, seed=41), randn(3, 4, seed=5), randn(6, 4, seed=6), randn(6, 2, seed=7), causal=True),
    (randn(2, 3, 4, 8, seed=42), randn(2, 3, 4, 8, seed=8, scale=30.0), randn(2, 3, 4, 8, seed=9, scale=30.0),
     randn(2, 3, 4, 8, seed=10)),
    Inputs(dOX.astype(np.float32), *(a.astype(np.float32) for a in X), causal=True),
], output_names=("dQ", "dK", "dV"), hints=mistakes.attention_backward,
   allow=("dlcourse.solved.losses.softmax", "dlcourse.solved.losses.log_softmax",
          "dlcourse.solved.losses.softmax_backward"))
### BEGIN HIDDEN TESTS
check(attention_backward, ref.attention_backward, [
    (randn(1, 6, seed=43), randn(1, 4, seed=11), randn(1, 4, seed=12), randn(1, 6, seed=13)),
    Inputs(randn(4, 7, 5, seed=44), randn(4, 7, 16, seed=14), randn(4, 7, 16, seed=15), randn(4, 7, 5, seed=16),
           causal=True),
    Inputs(randn(3, 2, 6, 4, seed=45), randn(3, 2, 6, 8, seed=17), randn(3, 2, 9, 8, seed=18),
           randn(3, 2, 9, 4, seed=19), mask=randn(6, 9, seed=20) > 0.3),
    Inputs(*(randn(2, 5, 4, seed=s).astype(np.float32) for s in (46, 24, 25, 26)), mask=bias.astype(np.float32)),
], output_names=("dQ", "dK", "dV"), hints=mistakes.attention_backward,
   allow=("dlcourse.solved.losses.softmax", "dlcourse.solved.losses.log_softmax",
          "dlcourse.solved.losses.softmax_backward"))
### END HIDDEN TESTS

# %% [markdown] id="causal-theory"
# ### What the causal mask prevents
#
# A language model predicts token $t+1$ from tokens $0..t$. Trained on whole sequences at once, position $t$
# could simply *look* at token $t+1$ and copy it, unless the mask forbids attending the future. Then the
# output at position $t$ does not depend on anything after $t$: change the last tokens and the earlier outputs
# stay exactly as they were. The cell below checks that with your function.

# %% id="causal-demo" tags=["demo"]
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
attention_plots.plot_causal_mask(6, ax=axes[0])
Qc, Kc, Vc = randn(1, 6, 4, seed=50), randn(1, 6, 4, seed=51), randn(1, 6, 3, seed=52)
causal_weights = my_attention(Qc, Kc, Vc, causal=True)[1][0]
axes[1].imshow(causal_weights, cmap="viridis")
axes[1].set_title("your causal attention weights (random Q, K)")
axes[1].set_xlabel("key position j")
axes[1].set_ylabel("query position i")
plt.tight_layout()
plt.show()
changed_K, changed_V = Kc.copy(), Vc.copy()
changed_K[0, 4:], changed_V[0, 4:] = randn(2, 4, seed=53), randn(2, 3, seed=54)      # a different future
before, after = my_attention(Qc, Kc, Vc, causal=True)[0], my_attention(Qc, changed_K, changed_V, causal=True)[0]
print("outputs at positions 0..3 unchanged when positions 4, 5 change:", np.array_equal(before[0, :4], after[0, :4]))
print("outputs at positions 4, 5 changed:                            ", not np.allclose(before[0, 4:], after[0, 4:]))
assert np.array_equal(before[0, :4], after[0, :4]), "with causal=True the past must not see the future"


# %% [markdown] id="mha-theory"
# ## 2. Multi-head attention
#
# One attention compares queries and keys by a single similarity. **Multi-head** attention runs $h$ of them
# side by side, each on its own learned projection of width $d_h = D/h$, so one head can follow the previous
# character while another looks for the last space. For self-attention of $X$ ($N \times L \times D$):
#
# 1. project: $Q = XW_q^\top + b_q$, $K = XW_k^\top + b_k$, $V = XW_v^\top + b_v$ (each $N\times L\times D$,
#    weights in `nn.Linear`'s layout, $W$ of shape (out, in));
# 2. split the last axis into heads: (N, L, D) → (N, L, h, $d_h$) → transpose → (N, h, L, $d_h$). Head $j$
#    owns features $j d_h .. (j+1) d_h - 1$. (Reshaping straight to (N, h, L, $d_h$) would cut across positions.)
# 3. attend in every head at once (your `attention` takes the extra axes), scale $1/\sqrt{d_h}$;
# 4. merge back to (N, L, D) and apply the output projection $W_o$, $b_o$.
#
# **PyTorch's layout.** `nn.MultiheadAttention(D, h, batch_first=True)` keeps $W_q, W_k, W_v$ stacked in one
# `in_proj_weight` of shape $(3D, D)$ (rows $0..D-1$ are $W_q$) and `in_proj_bias` $(3D,)$, the output
# projection in `out_proj`; `batch_first=True` means (N, L, D) like ours (its default is (L, N, D)). Its
# boolean `attn_mask` is True where attending is **forbidden**, the opposite of
# `F.scaled_dot_product_attention`'s. The reference copies your parameters into such a module.
#
# ### Exercise 3 — `multi_head_attention` (3 points)
#
# `multi_head_attention(X, params, n_heads, causal=False)`: `X` (N, L, D), `params` a dict with `Wq`, `bq`,
# `Wk`, `bk`, `Wv`, `bv`, `Wo`, `bo` ((D, D) and (D,)). Return `(out, weights)`, `out` (N, L, D) and every
# head's weights (N, n_heads, L, L). Write `split_heads(X, n_heads)` and `merge_heads(X)` in the same cell
# (the block uses them again).

# %% id="ch08_multi_head_attention" nbgrader={"solution": true}
def split_heads(X, n_heads):
    """(N, L, D) -> (N, n_heads, L, D // n_heads): head h gets features h*dh .. (h+1)*dh - 1."""
    ### BEGIN SOLUTION
    N, L, D = X.shape
    return X.reshape(N, L, n_heads, D // n_heads).transpose(0, 2, 1, 3)
    ### END SOLUTION


def merge_heads(X):
    """(N, n_heads, L, dh) -> (N, L, n_heads * dh), the inverse of split_heads."""
    ### BEGIN SOLUTION
    N, h, L, dh = X.shape
    return X.transpose(0, 2, 1, 3).reshape(N, L, h * dh)
    ### END SOLUTION


def multi_head_attention(X, params, n_heads, causal=False):
    """Self-attention of X (N, L, D) with n_heads heads; returns (out (N, L, D), weights (N, n_heads, L, L))."""
    ### BEGIN SOLUTION
    if X.shape[-1] % n_heads:
        raise ValueError(f"d_model = {X.shape[-1]} is not divisible by n_heads = {n_heads}")
    Q = split_heads(X @ params["Wq"].T + params["bq"], n_heads)
    K = split_heads(X @ params["Wk"].T + params["bk"], n_heads)
    V = split_heads(X @ params["Wv"].T + params["bv"], n_heads)
    heads, weights = attention(Q, K, V, causal=causal)
    return merge_heads(heads) @ params["Wo"].T + params["bo"], weights
    ### END SOLUTION


# %% id="ch08_multi_head_attention_test" nbgrader={"grade": true, "locked": true, "points": 3}
P8 = cases.attention_params(8, seed=60)
X8 = randn(2, 5, 8, seed=61)
check(multi_head_attention, ref.multi_head_attention, [
    (X8, P8, 1),                                                        # one head: plain attention, projected
    (X8, P8, 2),
    Inputs(X8, P8, 4, causal=True),
    Inputs(randn(3, 7, 8, seed=62, scale=20.0), P8, 2, causal=True),    # large inputs: scores in the hundreds
    Inputs(X8.astype(np.float32), cases.attention_params(8, seed=63, dtype=np.float32), 4, causal=True),
], output_names=("out", "weights"), hints=mistakes.multi_head_attention)
### BEGIN HIDDEN TESTS
P12 = cases.attention_params(12, seed=64)
check(multi_head_attention, ref.multi_head_attention, [
    (randn(1, 1, 12, seed=65), P12, 3),
    Inputs(randn(4, 9, 12, seed=66), P12, 6, causal=True),
    (randn(2, 6, 12, seed=67), P12, 12),
    Inputs(randn(2, 4, 12, seed=68).astype(np.float32), cases.attention_params(12, seed=69, dtype=np.float32), 3),
], output_names=("out", "weights"), hints=mistakes.multi_head_attention)
### END HIDDEN TESTS

# %% [markdown] id="permutation-theory"
# ### Attention does not know the order
#
# Nothing in the formula above refers to *where* a position is. Permute the positions of $X$ and the outputs
# come out permuted the same way, no more: self-attention is **permutation-equivariant**. "dog bites man" and
# "man bites dog" would give the same set of vectors. So the model needs the positions put into its input.

# %% id="permutation-demo" tags=["demo"]
my_mha = use_yours(multi_head_attention, "attention.multi_head_attention")
order = np.random.default_rng(0).permutation(5)
out_plain, _ = my_mha(X8, P8, 2)
out_permuted, _ = my_mha(X8[:, order], P8, 2)
print("permuted input gives the permuted output:", np.allclose(out_permuted, out_plain[:, order], rtol=1e-12, atol=1e-12))
mha_torch = ref.torch_multi_head_attention(P8, 2)
print(mha_torch)
print("in_proj_weight", tuple(mha_torch.in_proj_weight.shape), "= Wq, Wk, Wv stacked;",
      "out_proj.weight", tuple(mha_torch.out_proj.weight.shape))
with torch.no_grad():
    torch_mha_out = to_numpy(mha_torch(to_tensor(X8), to_tensor(X8), to_tensor(X8), need_weights=False)[0])
print(f"your multi-head attention vs nn.MultiheadAttention: largest difference {np.abs(out_plain - torch_mha_out).max():.1e}")
assert np.allclose(out_permuted, out_plain[:, order], rtol=1e-12, atol=1e-12)


# %% [markdown] id="pe-theory"
# ## 3. Positions and tokens
#
# **Sinusoidal positional encoding** (Vaswani et al., 2017) adds to position $t$'s input a fixed vector of
# sines and cosines of $t$ at geometrically spaced wavelengths, $2\pi$ up to $10000\cdot 2\pi$:
#
# $$ PE_{t,\,2i} = \sin\!\big(t / 10000^{2i/D}\big), \qquad PE_{t,\,2i+1} = \cos\!\big(t / 10000^{2i/D}\big). $$
#
# Features $2i$ and $2i+1$ share a frequency, so a shift by $k$ positions is a rotation of each (sin, cos)
# pair: a fixed linear map, which attention can learn to use for "$k$ positions back". The alternative is a
# **learned** positional embedding, a table of $L_{\max}$ trainable vectors (GPT-2 does this): simpler and
# often as good, but it knows no position beyond $L_{\max}$, where the sinusoids are defined for every $t$.
#
# ### Exercise 4 — `positional_encoding` (2 points)
#
# `positional_encoding(length, d_model)` returns the (length, d_model) float64 array above. `d_model` may be
# odd: then the last feature is a sine.

# %% id="ch08_positional_encoding" nbgrader={"solution": true}
def positional_encoding(length, d_model):
    """(length, d_model) sinusoids: PE[t, 2i] = sin(t / 10000^(2i/d)), PE[t, 2i+1] = cos(t / 10000^(2i/d))."""
    ### BEGIN SOLUTION
    positions = np.arange(length)[:, None]
    inverse_wavelengths = 10000.0 ** (-np.arange(0, d_model, 2) / d_model)
    angles = positions * inverse_wavelengths                            # (length, ceil(d_model / 2))
    pe = np.zeros((length, d_model))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles[:, : d_model // 2])
    return pe
    ### END SOLUTION


# %% id="ch08_positional_encoding_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(positional_encoding, ref.positional_encoding, [(3, 4), (50, 16), (10, 7), (1, 2)],
      hints=mistakes.positional_encoding)
### BEGIN HIDDEN TESTS
check(positional_encoding, ref.positional_encoding, [(128, 32), (7, 1), (20, 9), (4, 64)],
      hints=mistakes.positional_encoding)
### END HIDDEN TESTS

# %% [markdown] id="embedding-theory"
# **Token embeddings.** A character (or word) is an integer token $y \in \{0..V-1\}$; the model's input for it
# is row $y$ of a learned table $W$ ($V\times D$): `W[tokens]`, for tokens of any shape, gives
# tokens.shape + (D,). It is the same as one-hot($y$) @ $W$, without the multiplications. Backward: row $y$ of
# $dW$ receives the gradient of every position where token $y$ was used, **summed**. With NumPy's fancy
# indexing `dW[tokens] += dout` a token used twice is counted once (both writes go to the same row and the
# second overwrites the first); `np.add.at(dW, tokens, dout)` adds every occurrence.
#
# ### Exercise 5 — `embedding_forward` (1 point)
#
# `embedding_forward(tokens, W)`: integer tokens (any shape), `W` (n_vocab, D) → tokens.shape + (D,), W's dtype.

# %% id="ch08_embedding_forward" nbgrader={"solution": true}
def embedding_forward(tokens, W):
    """The rows of W (n_vocab, D) at the integer tokens (any shape): shape tokens.shape + (D,)."""
    ### BEGIN SOLUTION
    return W[tokens]
    ### END SOLUTION


# %% id="ch08_embedding_forward_test" nbgrader={"grade": true, "locked": true, "points": 1}
W7 = randn(7, 3, seed=70)
tokens_2x5 = np.array([[1, 4, 4, 0, 6], [2, 2, 2, 5, 1]])
check(embedding_forward, ref.embedding_forward, [
    (np.array([3, 0, 3]), W7),
    (tokens_2x5, W7),
    (randint(0, 7, 2, 3, 4, seed=71), W7.astype(np.float32)),
], hints=mistakes.embedding_forward)
### BEGIN HIDDEN TESTS
check(embedding_forward, ref.embedding_forward, [
    (np.array([[0]]), randn(1, 5, seed=72)),
    (randint(0, 50, 8, 16, seed=73), randn(50, 12, seed=74)),
], hints=mistakes.embedding_forward)
### END HIDDEN TESTS

# %% [markdown] id="ex-embedding-backward"
# ### Exercise 6 — `embedding_backward` (2 points)
#
# `embedding_backward(dout, tokens, n_vocab)`: `dout` (tokens.shape + (D,)) → $dW$ (n_vocab, D), dout's dtype.
# Tokens never used get a zero row.

# %% id="ch08_embedding_backward" nbgrader={"solution": true}
def embedding_backward(dout, tokens, n_vocab):
    """dL/dW (n_vocab, D) given dout (tokens.shape + (D,)): every use of a token adds its gradient row."""
    ### BEGIN SOLUTION
    dW = np.zeros((n_vocab, dout.shape[-1]), dtype=dout.dtype)
    np.add.at(dW, tokens.reshape(-1), dout.reshape(-1, dout.shape[-1]))
    return dW
    ### END SOLUTION


# %% id="ch08_embedding_backward_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(embedding_backward, ref.embedding_backward, [
    (np.array([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0]]), np.array([3, 0, 3]), 4),   # token 3 twice: rows add
    (randn(2, 5, 3, seed=75), tokens_2x5, 7),
    (randn(2, 3, 4, 6, seed=76).astype(np.float32), randint(0, 9, 2, 3, 4, seed=77), 9),
], hints=mistakes.embedding_backward)
### BEGIN HIDDEN TESTS
check(embedding_backward, ref.embedding_backward, [
    (randn(1, 1, 4, seed=78), np.array([[2]]), 3),
    (randn(8, 16, 12, seed=79), randint(0, 5, 8, 16, seed=80), 50),
], hints=mistakes.embedding_backward)
### END HIDDEN TESTS

# %% [markdown] id="ln-theory"
# ## 4. Layer normalisation
#
# Chapter 7 normalised inputs with training statistics; **layer norm** normalises every position's feature
# vector by its *own* mean and variance over the features (the last axis), then rescales with learned
# $\gamma$ and $\beta$:
#
# $$ \mu = \tfrac1D\textstyle\sum_j x_j, \quad \sigma^2 = \tfrac1D\sum_j (x_j-\mu)^2, \quad
#    \hat x = \frac{x-\mu}{\sqrt{\sigma^2+\varepsilon}}, \quad y = \gamma \odot \hat x + \beta. $$
#
# Unlike batch norm it needs no batch statistics and behaves the same in training and at test time, which
# suits sequences of any length. PyTorch's `nn.LayerNorm` uses the biased variance (divide by $D$) and puts
# $\varepsilon$ (default $10^{-5}$) inside the square root.
#
# **Backward.** With $g = dy \odot \gamma$ and $r = 1/\sqrt{\sigma^2+\varepsilon}$, the mean and the variance
# both depend on $x$, which gives two correction terms:
#
# $$ dx = r\,\Big(g - \overline{g} - \hat x\,\overline{g \odot \hat x}\Big), \qquad
#    d\gamma = \textstyle\sum_{\text{rows}} dy \odot \hat x, \qquad d\beta = \sum_{\text{rows}} dy, $$
#
# where the bars are means over the last axis, and the sums run over every axis but the last.
#
# ### Exercise 7 — `layer_norm_forward` (2 points)
#
# `layer_norm_forward(x, gamma, beta, eps=1e-5)`: `x` (..., D), `gamma` and `beta` (D,) → $y$, x's shape and dtype.

# %% id="ch08_layer_norm_forward" nbgrader={"solution": true}
def layer_norm_forward(x, gamma, beta, eps=1e-5):
    """Normalise each row (the last axis) to mean 0 and variance 1, then scale by gamma and shift by beta."""
    ### BEGIN SOLUTION
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)                                 # biased (divide by D), as PyTorch
    return (x - mean) / np.sqrt(var + eps) * gamma + beta
    ### END SOLUTION


# %% id="ch08_layer_norm_forward_test" nbgrader={"grade": true, "locked": true, "points": 2}
x_ln = np.array([[1.0, 2.0, 3.0, 6.0], [5.0, 5.0, 5.0, 5.0], [1000.0, 1001.0, 999.0, 1000.0]])   # a constant row
g4, b4 = np.array([1.0, 2.0, 0.5, -1.0]), np.array([0.0, 0.1, -0.2, 3.0])
check(layer_norm_forward, ref.layer_norm_forward, [
    (x_ln, np.ones(4), np.zeros(4)),
    (x_ln, g4, b4),
    (x_ln, g4, b4, 0.5),                                                # a large eps: it goes inside the sqrt
    (randn(2, 5, 8, seed=81, scale=3.0), randn(8, seed=82), randn(8, seed=83)),
    (randn(6, 4, seed=84).astype(np.float32), g4.astype(np.float32), b4.astype(np.float32)),
], hints=mistakes.layer_norm_forward)
### BEGIN HIDDEN TESTS
check(layer_norm_forward, ref.layer_norm_forward, [
    (randn(1, 2, seed=85), randn(2, seed=86), randn(2, seed=87)),
    (randn(3, 4, 5, 16, seed=88), randn(16, seed=89), randn(16, seed=90), 1e-3),
    (randn(7, 12, seed=91, scale=3.0).astype(np.float32), randn(12, seed=92).astype(np.float32), randn(12, seed=93).astype(np.float32)),
], hints=mistakes.layer_norm_forward)
### END HIDDEN TESTS

# %% [markdown] id="ex-ln-backward"
# ### Exercise 8 — `layer_norm_backward` (3 points)
#
# `layer_norm_backward(dout, x, gamma, beta, eps=1e-5)` returns `(dx, dgamma, dbeta)`, of the shapes and dtype
# of `x`, `gamma`, `beta`.

# %% id="ch08_layer_norm_backward" nbgrader={"solution": true}
def layer_norm_backward(dout, x, gamma, beta, eps=1e-5):
    """(dx, dgamma, dbeta) of layer_norm_forward(x, gamma, beta, eps), given dout."""
    ### BEGIN SOLUTION
    mean = x.mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.var(axis=-1, keepdims=True) + eps)
    xhat = (x - mean) * inv_std
    dxhat = dout * gamma
    dx = inv_std * (dxhat - dxhat.mean(axis=-1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
    D = x.shape[-1]
    return dx, (dout * xhat).reshape(-1, D).sum(axis=0), dout.reshape(-1, D).sum(axis=0)
    ### END SOLUTION


# %% id="ch08_layer_norm_backward_test" nbgrader={"grade": true, "locked": true, "points": 3}
check(layer_norm_backward, ref.layer_norm_backward, [
    (randn(3, 4, seed=94), x_ln, np.ones(4), np.zeros(4)),
    (randn(3, 4, seed=94), x_ln, g4, b4, 0.5),
    (randn(2, 5, 8, seed=95), randn(2, 5, 8, seed=81, scale=3.0), randn(8, seed=82), randn(8, seed=83)),
    (randn(6, 4, seed=96).astype(np.float32), randn(6, 4, seed=84).astype(np.float32), g4.astype(np.float32),
     b4.astype(np.float32)),
], output_names=("dx", "dgamma", "dbeta"), hints=mistakes.layer_norm_backward)
### BEGIN HIDDEN TESTS
check(layer_norm_backward, ref.layer_norm_backward, [
    (randn(1, 2, seed=97), randn(1, 2, seed=85), randn(2, seed=86), randn(2, seed=87)),
    (randn(3, 4, 5, 16, seed=98), randn(3, 4, 5, 16, seed=88), randn(16, seed=89), randn(16, seed=90), 1e-3),
], output_names=("dx", "dgamma", "dbeta"), hints=mistakes.layer_norm_backward)
### END HIDDEN TESTS

# %% [markdown] id="block-theory"
# ## 5. A pre-norm Transformer block
#
# The block puts the pieces together with two **residual connections** (chapter 7's lesson: a path that
# passes the input on unchanged keeps the gradient alive) and layer norm *before* each branch ("pre-norm",
# as GPT-2 and most models since; the 2017 paper normalised after the sum, which trains less easily):
#
# $$ H = X + \mathrm{MHA}(\mathrm{LN}_1(X)), \qquad
#    \text{out} = H + W_2\,\mathrm{relu}\big(W_1\,\mathrm{LN}_2(H) + b_1\big) + b_2 . $$
#
# Parameters (a dict): `ln1_g`, `ln1_b`, the attention's `Wq`, `bq`, `Wk`, `bk`, `Wv`, `bv`, `Wo`, `bo`,
# `ln2_g`, `ln2_b`, and the MLP's `W1` ($d_{ff}\times D$), `b1`, `W2` ($D\times d_{ff}$), `b2`. The reference
# is a module of `nn.LayerNorm`, `nn.MultiheadAttention` and `nn.Linear` holding the same numbers (the package
# tests check it equals `nn.TransformerEncoderLayer(norm_first=True, activation="relu", dropout=0)`).
#
# ### Exercise 9 — `transformer_block_forward` (3 points)
#
# `transformer_block_forward(X, params, n_heads, causal=True)`: `X` (N, L, D) → out (N, L, D). Use your
# `layer_norm_forward` and `multi_head_attention`.

# %% id="ch08_transformer_block_forward" nbgrader={"solution": true}
def transformer_block_forward(X, params, n_heads, causal=True):
    """Pre-norm block: H = X + MHA(LN1(X)); out = H + W2 relu(W1 LN2(H) + b1) + b2."""
    ### BEGIN SOLUTION
    p = params
    H = X + multi_head_attention(layer_norm_forward(X, p["ln1_g"], p["ln1_b"]), p, n_heads, causal)[0]
    hidden = np.maximum(layer_norm_forward(H, p["ln2_g"], p["ln2_b"]) @ p["W1"].T + p["b1"], 0.0)
    return H + hidden @ p["W2"].T + p["b2"]
    ### END SOLUTION


# %% id="ch08_transformer_block_forward_test" nbgrader={"grade": true, "locked": true, "points": 3}
B8 = cases.block_params(8, 16, seed=100)
XB = randn(2, 6, 8, seed=101)
check(transformer_block_forward, ref.transformer_block_forward, [
    (XB, B8, 2),
    Inputs(XB, B8, 4, causal=False),
    (randn(3, 5, 8, seed=102, scale=10.0), B8, 1),
    (XB.astype(np.float32), cases.block_params(8, 16, seed=103, dtype=np.float32), 2),
], hints=mistakes.transformer_block_forward)
### BEGIN HIDDEN TESTS
B12 = cases.block_params(12, 48, seed=104)
check(transformer_block_forward, ref.transformer_block_forward, [
    (randn(1, 1, 12, seed=105), B12, 3),
    Inputs(randn(4, 9, 12, seed=106), B12, 6, causal=False),
    (randn(2, 7, 12, seed=107), B12, 4),
], hints=mistakes.transformer_block_forward)
### END HIDDEN TESTS

# %% [markdown] id="block-backward-theory"
# ### Its backward pass
#
# Go back through the forward pass in reverse. The MLP branch is chapter 2's dense layers and ReLU, then
# your `layer_norm_backward` for $\mathrm{LN}_2$. Each residual sum passes its gradient on *unchanged* as
# well: $dH = d\text{out} + (\text{gradient through the MLP branch})$, and $dX = dH + (\text{gradient through
# the attention branch})$. The attention branch: $W_o$ is a dense layer on the merged heads; split $dH\,W_o$ into
# heads, your `attention_backward` gives $dQ, dK, dV$; each projection adds its share to $d\,\mathrm{LN}_1(X)$;
# then $\mathrm{LN}_1$'s backward. A weight's gradient sums over every position of every sequence: flatten
# (N, L, ·) to (N·L, ·) first.
#
# ### Exercise 10 — `transformer_block_backward` (5 points)
#
# `transformer_block_backward(dout, X, params, n_heads, causal=True)` returns `(dX, grads)`: `dX` of X's shape
# and `grads` a dict with one entry per parameter, of its shape. Recompute the forward pass inside (keep what
# the backward needs), and use your pieces.

# %% id="ch08_transformer_block_backward" nbgrader={"solution": true}
def transformer_block_backward(dout, X, params, n_heads, causal=True):
    """(dX, grads) of transformer_block_forward: grads has one entry per parameter, of its shape."""
    ### BEGIN SOLUTION
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
    ### END SOLUTION


# %% id="ch08_transformer_block_backward_test" nbgrader={"grade": true, "locked": true, "points": 5}
check(transformer_block_backward, ref.transformer_block_backward, [
    (randn(2, 6, 8, seed=108), XB, B8, 2),
    Inputs(randn(2, 6, 8, seed=108), XB, B8, 4, causal=False),
    (randn(3, 5, 8, seed=109), randn(3, 5, 8, seed=102, scale=10.0), B8, 1),
    (randn(2, 6, 8, seed=110).astype(np.float32), XB.astype(np.float32),
     cases.block_params(8, 16, seed=103, dtype=np.float32), 2),
], output_names=("dX", "grads"), hints=mistakes.transformer_block_backward)
### BEGIN HIDDEN TESTS
B12 = cases.block_params(12, 48, seed=104)
check(transformer_block_backward, ref.transformer_block_backward, [
    (randn(1, 1, 12, seed=111), randn(1, 1, 12, seed=105), B12, 3),
    Inputs(randn(4, 9, 12, seed=112), randn(4, 9, 12, seed=106), B12, 6, causal=False),
    (randn(2, 7, 12, seed=113), randn(2, 7, 12, seed=107), B12, 4),
], output_names=("dX", "grads"), hints=mistakes.transformer_block_backward)
### END HIDDEN TESTS

# %% [markdown] id="lm-loss-theory"
# ## 6. The causal language-model loss
#
# A language model reads tokens $y_0 .. y_{L-1}$ and at every position $t$ outputs logits for the **next**
# token. The loss is chapter 4's cross-entropy at every position, with the targets shifted by one: the logits
# at position $t$ against $y_{t+1}$, for $t = 0..L-2$; the last position has no target in the sequence. Its
# mean over all $N(L-1)$ predictions is
#
# $$ \mathcal L = -\frac{1}{N(L-1)} \sum_{n}\sum_{t=0}^{L-2} \log \operatorname{softmax}(z_{n,t})_{y_{n,t+1}},
#    \qquad \frac{\partial\mathcal L}{\partial z_{n,t}} = \frac{\operatorname{softmax}(z_{n,t}) -
#    \text{onehot}(y_{n,t+1})}{N(L-1)} , $$
#
# and 0 for the last position. A model that knows nothing scores $\log V$ (a uniform guess over $V$ tokens).
# Thanks to the causal mask, one forward pass over a sequence trains all $L-1$ predictions at once.
#
# ### Exercise 11 — `causal_lm_loss` (2 points)
#
# `causal_lm_loss(logits, tokens)`: logits (N, L, V), integer tokens (N, L) → `(loss, dlogits)`: the mean above
# as a number and its gradient (N, L, V), logits' dtype. Stable for logits of ±1000 (chapter 4's
# `log_softmax`, imported above, may help).

# %% id="ch08_causal_lm_loss" nbgrader={"solution": true}
def causal_lm_loss(logits, tokens):
    """(loss, dlogits): mean cross-entropy of logits[:, t] (N, L, V) predicting tokens[:, t + 1] (N, L).

    The last position has nothing to predict: its gradient is 0.
    """
    ### BEGIN SOLUTION
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
    ### END SOLUTION


# %% id="ch08_causal_lm_loss_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(causal_lm_loss, ref.causal_lm_loss, [
    (np.zeros((1, 3, 4)), np.array([[0, 1, 2]])),                      # uniform logits: loss log 4
    (randn(2, 5, 7, seed=120), tokens_2x5),
    (randn(2, 5, 7, seed=121, scale=1000.0), tokens_2x5),               # logits of +-1000
    (randn(3, 2, 6, seed=122).astype(np.float32), randint(0, 6, 3, 2, seed=123)),   # L = 2: one prediction each
], output_names=("loss", "dlogits"), hints=mistakes.causal_lm_loss,
   allow=("dlcourse.solved.losses.softmax", "dlcourse.solved.losses.log_softmax"))
### BEGIN HIDDEN TESTS
check(causal_lm_loss, ref.causal_lm_loss, [
    (randn(4, 16, 30, seed=124), randint(0, 30, 4, 16, seed=125)),
    (randn(1, 9, 3, seed=126, scale=50.0).astype(np.float32), randint(0, 3, 1, 9, seed=127)),
], output_names=("loss", "dlogits"), hints=mistakes.causal_lm_loss,
   allow=("dlcourse.solved.losses.softmax", "dlcourse.solved.losses.log_softmax"))
### END HIDDEN TESTS

# %% [markdown] id="lm-theory"
# ## 7. A tiny character-level language model, in NumPy and in PyTorch
#
# Everything is in place for a model that writes text, one character at a time. The text is the opening
# chapter of Jane Austen's *Pride and Prejudice* (1813, public domain; `datasets/README.md` says where it comes
# from), about 4,500 characters and 51 distinct ones, so $V = 51$ and a uniform guess costs
# $\log 51 \approx 3.93$ nats per character.
#
# The model: embedding ($D = 32$) + sinusoidal positions → **one** pre-norm causal Transformer block (4 heads
# of 8, MLP width 128) → layer norm → a linear layer to 51 logits; about 16,000 parameters. Training: Adam,
# learning rate 0.01, 600 steps of 16 random windows of 32 characters. The NumPy model is your functions (the
# course's solved ones where yours are still stubs); the PyTorch model is `nn.Embedding`, the block of
# `torch.nn` parts, `nn.LayerNorm`, `nn.Linear`, `F.cross_entropy` and `torch.optim.Adam`, on the GPU when there
# is one. Both start from the same numbers, see the same batches and run in float64, so their losses must agree
# to rounding error step after step: a strong check of every backward pass above.

# %% id="lm-train" tags=["demo"]
text = data.load_text()
vocab = data.CharVocab(text)
stream = vocab.encode(text)
config = demo.LMConfig()
mine = demo.pieces(**{name: use_yours(globals()[name], f"attention.{name}") for name in demo.PIECES})
n_params = sum(v.size for v in demo.init_lm_params(len(vocab), config).values())
print(f"{len(text):,} characters, vocabulary of {len(vocab)}; model with {n_params:,} parameters; {config}")

with threadpool_limits(1):   # small matrices: one BLAS thread is faster than several
    lm_params, numpy_losses, numpy_seconds = demo.train_numpy_lm(stream, len(vocab), config, mine)
torch_model, torch_losses, torch_seconds = demo.train_torch_lm(stream, len(vocab), config)
print(f"NumPy   : {config.steps} steps in {numpy_seconds:.1f} s, final loss (mean of the last 20 steps) "
      f"{numpy_losses[-20:].mean():.3f}")
print(f"PyTorch : {config.steps} steps in {torch_seconds:.1f} s on {get_device()}, final loss {torch_losses[-20:].mean():.3f}")
print("step   NumPy loss          PyTorch loss        |difference|")
for step in (0, 1, 2, 3, 4, 99, 299, 599):
    print(f"{step + 1:4d}   {numpy_losses[step]:.15f}   {torch_losses[step]:.15f}   {abs(numpy_losses[step] - torch_losses[step]):.1e}")
# Same float64 arithmetic in another order: the first steps agree to rounding error, ~1e-15 relative.
assert np.allclose(numpy_losses[:10], torch_losses[:10], rtol=1e-10, atol=0), "NumPy and PyTorch losses differ"

# %% id="lm-plot" tags=["demo"]
fig, ax = plt.subplots(figsize=(7, 4))
attention_plots.plot_loss_curves({"NumPy (your pieces)": numpy_losses, "PyTorch (torch.nn, float64)": torch_losses},
                                 ax=ax, baseline=np.log(len(vocab)),
                                 title="tiny Transformer on Pride and Prejudice, chapter 1")
plt.show()

# %% id="lm-sample" tags=["demo"]
# Text from each model: the same prompt, the same seeded draws at temperature 0.8.
prompt = vocab.encode("It is a truth")
numpy_text = demo.sample(lambda t: demo.lm_logits(lm_params, t, mine, config.n_heads), prompt, 160, config.context)
torch_text = demo.sample(demo.torch_next_logits(torch_model), prompt, 160, config.context)
print("NumPy  :", repr(vocab.decode(numpy_text)))
print("PyTorch:", repr(vocab.decode(torch_text)))

# %% [markdown] id="lm-comment"
# The loss falls from $\log 51 \approx 3.9$ to about 1.4 nats per character in 600 steps: the model has learnt
# which characters are frequent, which follow which, and short words ("the", "of", "you") and names ("Mr.
# Bennet"). With 16,000 parameters and only 4,500 characters it is partly *memorising* this one page; a
# held-out text would score worse (chapter 7's lesson). The two curves lie on top of each other, and with the same seeded draws the two models usually
# write the very same text (a draw that falls within rounding error of a boundary could differ).
#
# **Scaling up.** This run is sized for a CPU in a few seconds. What a GPU gives was measured on an NVIDIA H200
# (`python -m benchmarks.gpu`): this same run takes 2.2 s there in float64 (6.5 s for NumPy on that machine's
# CPU), with the two losses still equal to $1.4 \times 10^{-15}$ relative over all 600 steps. The "next size",
# $D = 256$, 8 heads, context 256, batch 64, 1,500 steps in float32 (816,000 parameters), trains in 7 s on the
# GPU (4.5 ms a step) on the first 90 % of this chapter and scores on the last 10 % it never saw: a training
# loss of 0.04 nats, a held-out loss of 6.5, *worse than the uniform guess* (3.9). Its sample repeats the chapter
# nearly word for word. Fifty times the parameters on the same 4,000 characters buys memorisation, not language:
# chapter 7's lesson at full size. The next size needs the next size of *data* too: the whole novel (Project
# Gutenberg #1342, about 700,000 characters), several blocks, dropout and a validation split (chapter 7);
# small character models of that kind are commonly reported near 1.3–1.5 nats per character on held-out text
# (not measured here: the course ships only this chapter).

# %% id="attention-map" tags=["demo"]
# Inside the trained block: each head's attention weights on a sentence from the text.
sentence = "Mr. Bennet made no answer."
maps = demo.head_weights(lm_params, vocab.encode(sentence), mine, config.n_heads)
fig, axes = plt.subplots(2, 2, figsize=(12, 11))
for head, ax in enumerate(axes.flat):
    attention_plots.plot_attention_map(maps[head], list(sentence), ax=ax, title=f"head {head}")
plt.tight_layout()
plt.show()
previous = [np.mean(np.diagonal(maps[h], offset=-1)) for h in range(config.n_heads)]
print("mean weight on the previous character, per head:", np.round(previous, 2))

# %% [markdown] id="attention-map-comment"
# Each row is one query character, and its weights over the characters up to it (the causal triangle). Heads
# specialise: typically one head puts most of its weight on the character itself or the one just before (a
# bigram detector), another spreads out over the current word or jumps back to the last space or capital.
# Which head does what changes with the seed; the printout says how much weight each head gives the previous
# character.

# %% [markdown] id="cost-theory"
# ## 8. What attention costs
#
# Self-attention compares every position with every other: the score matrix is $L\times L$, so time and
# memory grow as $L^2$. The RNN does a fixed amount of work per step, $L$ steps in all: linear in $L$, but the
# steps must run one after another, where attention's work is one big matrix product that a GPU runs in
# parallel. The cell below measures one causal self-attention (your `attention`) and one RNN pass (chapter 5's,
# solved) on $d = 32$ features for growing $L$.

# %% id="cost-measure" tags=["demo"]
from dlcourse.exercises import solved as solved_function  # chapter 5's RNN forward, the course's solved version

lengths = [64, 128, 256, 512, 1024, 2048]
with threadpool_limits(1):
    cost = demo.attention_vs_rnn_cost(lengths, my_attention, solved_function("rnn.rnn_forward"), d=32, repeats=5)
attention_plots.plot_cost(cost)
plt.show()
for L, a, r in zip(cost["lengths"], cost["attention"], cost["rnn"]):
    print(f"L = {L:5d}: attention {a * 1e3:8.2f} ms, RNN {r * 1e3:7.2f} ms")
# The slope on log-log axes from L = 256 on (short sequences are dominated by fixed per-call costs):
slopes = {name: np.polyfit(np.log(cost["lengths"][2:]), np.log(cost[name][2:]), 1)[0] for name in ("attention", "rnn")}
print(f"time grows as L^{slopes['attention']:.1f} for attention (quadratic: 2) and L^{slopes['rnn']:.1f} for the RNN (linear: 1)")

# %% [markdown] id="summary"
# ## Summary
#
# * **Attention** is $\operatorname{softmax}(QK^\top/\sqrt{d_k} + M)\,V$: each query takes a weighted mean of
#   the values, weighted by its similarity to each key. The $1/\sqrt{d_k}$ keeps the scores' variance at 1
#   whatever the width, so softmax does not saturate.
# * **Masks** add $-\infty$ where attending is forbidden. Subtract each row's maximum before `exp`
#   (chapter 4), and give a row with every key masked weights 0 instead of $0/0$. The **causal** mask makes
#   position $t$ blind to everything after it, so one pass trains every next-token prediction at once.
# * The **backward** pass is a matrix product's and a softmax's: $dV = P^\top dO$, $dS = P\odot(dP - \sum dP\odot P)$,
#   $dQ = dS\,K/\sqrt{d_k}$, $dK = dS^\top Q/\sqrt{d_k}$.
# * **Multi-head** attention splits $D$ into $h$ heads of $D/h$ (reshape, then transpose), attends in each,
#   merges and projects; PyTorch stacks $W_q, W_k, W_v$ in `in_proj_weight`, and its `attn_mask` True means
#   *forbidden*.
# * Attention is **permutation-equivariant**: positions must be added, by sinusoids or a learned table.
#   **Embeddings** are table lookups; their gradient adds up every use of a token (`np.add.at`).
# * **Layer norm** normalises each position over its features; its backward has a mean and a variance term.
#   The **pre-norm block** is $H = X + \mathrm{MHA}(\mathrm{LN}_1 X)$, $\text{out} = H + \mathrm{MLP}(\mathrm{LN}_2 H)$;
#   the residuals pass gradients straight through.
# * A one-block character model trained from these pieces in NumPy matches PyTorch loss for loss in float64.
#   Attention's cost grows as $L^2$ against the RNN's $L$, the price of looking at everything at once.
#
# ## Glossary / 术语表
#
# | English | 中文 |
# |---|---|
# | attention | 注意力（注意力机制） |
# | self-attention | 自注意力 |
# | scaled dot-product attention | 缩放点积注意力 |
# | query / key / value | 查询 / 键 / 值 |
# | attention weights, attention map | 注意力权重，注意力图 |
# | multi-head attention | 多头注意力 |
# | head | 头（注意力头） |
# | mask, causal mask | 掩码，因果掩码 |
# | padding | 填充 |
# | positional encoding (sinusoidal / learned) | 位置编码（正弦 / 可学习） |
# | permutation equivariance | 置换等变性 |
# | token, vocabulary | 词元（标记），词表 |
# | embedding | 嵌入 |
# | layer normalization | 层归一化 |
# | residual connection | 残差连接 |
# | pre-norm / post-norm | 前置归一化 / 后置归一化 |
# | feed-forward network (MLP) | 前馈网络（多层感知机） |
# | Transformer block | Transformer 块 |
# | language model, causal language model | 语言模型，因果语言模型 |
# | next-token prediction | 下一个词元预测 |
# | character-level | 字符级 |
# | sampling, temperature | 采样，温度 |
# | quadratic complexity | 二次复杂度 |

# %% [markdown] id="progress-title"
# ## Your progress
#
# Which exercises of this notebook pass in this session, and their points (run every test cell first,
# or *Run All*). `dlcourse progress` in a terminal shows every chapter, in fresh kernels.

# %% id="progress" tags=["demo"]
from dlcourse.progress import progress_table

progress_table()
