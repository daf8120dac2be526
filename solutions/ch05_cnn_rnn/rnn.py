# %% [markdown] id="title"
# # Chapter 5b — Recurrent networks: forward, backward through time, and why gradients vanish
#
# **Learning goals.** After this notebook you can
#
# 1. write the vanilla RNN cell $h_t = \tanh(x_t W_x^\top + h_{t-1} W_h^\top + b)$ and run it over a whole
#    sequence, in the weight layout of PyTorch's `nn.RNN` — and say why PyTorch keeps **two** biases where one is enough;
# 2. derive and code the backward pass of one cell, then **backpropagation through time** (BPTT) over a sequence;
# 3. see vanishing and exploding gradients happen, as the norm of $\partial L/\partial h_t$ against $t$;
# 4. clip gradients by their global norm exactly as `torch.nn.utils.clip_grad_norm_` does;
# 5. train a small RNN to predict the next value of noisy sine waves — in NumPy with your functions and in
#    PyTorch with `nn.RNN` — and get the same loss, step for step;
# 6. (stretch) write an LSTM cell that matches `nn.LSTMCell`, gate order included.
#
# **How this notebook works.** Each exercise is a NumPy function with a stub (`raise NotImplementedError()`).
# Replace the stub with your code, run the cell, then the test cell below it: it compares your function with
# PyTorch (float64, autograd for the gradients) on fixed and random inputs and says what differs. Cells that only
# *show* things use your function once it works and the course's solved version until then. No GPU needed.

# %% id="setup"
import timeit

import numpy as np
import matplotlib.pyplot as plt
import torch
from torch import nn

from dlcourse.cases import rnn as cases
from dlcourse.checking import check, randn
from dlcourse.data.sequences import make_noisy_sines, next_step_pairs
from dlcourse.demos import rnn as demos
from dlcourse.device import describe, get_device, to_numpy, to_tensor
from dlcourse.exercises import use_yours
from dlcourse.mistakes import rnn as mistakes
from dlcourse.plots import plot_curves
from dlcourse.plots import rnn as rnn_plots
from dlcourse.reference import rnn as ref
from dlcourse.solved.backprop import dense_backward, relative_error
from dlcourse.solved.gradient_descent import minibatches
from dlcourse.solved.losses import mse, mse_grad
from dlcourse.solved.networks import dense_forward
from dlcourse.solved.optimizers import Adam
from dlcourse.solved.rnn import init_rnn_params

torch.manual_seed(0)
print(describe())
print(demos.use_one_thread())  # our matrices are tiny: threads would cost more than they save


# %% [markdown] id="rnn-theory"
# ## 1. A network with a memory
#
# A dense network sees one input and forgets it. A **recurrent neural network** (RNN) reads a sequence
# $x_1, x_2, \dots, x_T$ one step at a time and carries a **hidden state** $h_t$ from step to step — a summary
# of everything it has read so far. The vanilla (Elman) RNN cell:
#
# $$ z_t = x_t W_x^\top + h_{t-1} W_h^\top + b, \qquad h_t = \tanh(z_t). $$
#
# The **same** weights are used at every step (weight sharing over time, as a convolution shares them over
# space), so the network handles sequences of any length. Shapes, for a batch of $N$ sequences:
#
# | symbol | shape | PyTorch name (`nn.RNN`) |
# |---|---|---|
# | $x_t$ | (N, D) | one time step of the input |
# | $h_{t-1}, h_t$ | (N, H) | hidden state |
# | $W_x$ | (H, D) | `weight_ih_l0` |
# | $W_h$ | (H, H) | `weight_hh_l0` |
# | $b$ | (H,) | `bias_ih_l0` + `bias_hh_l0` |
#
# **Two biases in PyTorch, one here.** PyTorch computes $\tanh(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh})$.
# The two biases only ever appear as their sum, so they are *redundant*: any split with $b_{ih} + b_{hh} = b$
# is the same network. PyTorch keeps both for compatibility with NVIDIA's cuDNN library, whose RNN kernels
# have one bias per matrix product. (In a GRU the two are not interchangeable: there the hidden bias of the
# candidate sits inside a product with the reset gate. For the tanh RNN and the LSTM only the sum matters.)
# We keep one bias $b$
# and map it as **$b_{ih} = b$, $b_{hh} = 0$**; reading a PyTorch RNN back, $b = b_{ih} + b_{hh}$.
# (Mapping $b$ into *both* would add it twice — a classic bug.) The redundancy is harmless for the
# forward pass but not for training: both biases receive the same gradient, so their sum moves **twice** as
# far per step as a single bias would (section 7 shows it).
#
# **Sequences are batch-first** in this chapter: a batch of sequences is an array $x$ of shape (N, T, D),
# like `nn.RNN(..., batch_first=True)`. (PyTorch's default is time-major, (T, N, D).)

# %% [markdown] id="ex-cell-forward"
# ### Exercise 1 — `rnn_cell_forward` (2 points)
#
# Return $h_\text{next} = \tanh(x W_x^\top + h_\text{prev} W_h^\top + b)$ for `x` (N, D), `h_prev` (N, H),
# `Wx` (H, D), `Wh` (H, H), `b` (H,). `np.tanh` is fine (you wrote a stable tanh in chapter 1).
# **Dtype rule** (for every exercise of this notebook): float32 inputs give float32 results, float64 inputs
# float64 results; the visible tests check both.

# %% id="ch05_rnn_cell_forward" nbgrader={"solution": true}
def rnn_cell_forward(x, h_prev, Wx, Wh, b):
    """One RNN step: h_next = tanh(x Wx^T + h_prev Wh^T + b), shape (N, H)."""
    ### BEGIN SOLUTION
    return np.tanh(x @ Wx.T + h_prev @ Wh.T + b)
    ### END SOLUTION


# %% id="ch05_rnn_cell_forward_test" nbgrader={"grade": true, "locked": true, "points": 2}
# Case 1 by hand: h_prev = 0, so h_next = tanh([0.5 * 1, 0.25 * 2] + [0, 0.5]) = tanh([0.5, 1.0]).
# Case 2 by hand: x = 0, b = 0, so h_next = tanh(h_prev @ Wh.T) = tanh([0.5 - 0.2, 0.1 - 0.3]).
# Then random cases: saturated units (|z| ~ 1000) and float32 in -> float32 out.
check(rnn_cell_forward, ref.rnn_cell_forward, [
    (np.array([[1.0, 2.0]]), np.zeros((1, 2)), np.array([[0.5, 0.0], [0.0, 0.25]]), np.eye(2), np.array([0.0, 0.5])),
    (np.zeros((1, 2)), np.array([[1.0, -1.0]]), np.eye(2), np.array([[0.5, 0.2], [0.1, 0.3]]), np.zeros(2)),
    (randn(4, 3, seed=1), randn(4, 5, seed=2), randn(5, 3, seed=3, scale=0.5), randn(5, 5, seed=4, scale=0.4), randn(5, seed=5)),
    (randn(5, 4, seed=16, scale=1e3), randn(5, 7, seed=17), randn(7, 4, seed=18), randn(7, 7, seed=19), randn(7, seed=20)),
    tuple(a.astype(np.float32) for a in (randn(4, 3, seed=21), randn(4, 6, seed=22), randn(6, 3, seed=23),
                                         randn(6, 6, seed=24, scale=0.4), randn(6, seed=25))),
], hints=mistakes.rnn_cell_forward)
### BEGIN HIDDEN TESTS
check(rnn_cell_forward, ref.rnn_cell_forward, [
    (randn(1, 6, seed=6), randn(1, 2, seed=7), randn(2, 6, seed=8), randn(2, 2, seed=9), randn(2, seed=10)),     # batch of one
    (randn(3, 1, seed=11), randn(3, 1, seed=12), randn(1, 1, seed=13), randn(1, 1, seed=14), randn(1, seed=15)),  # D = H = 1
    tuple(a.astype(np.float32) for a in (randn(2, 5, seed=26, scale=1e3), randn(2, 3, seed=27), randn(3, 5, seed=28),
                                         randn(3, 3, seed=29), randn(3, seed=30))),
], hints=mistakes.rnn_cell_forward)
### END HIDDEN TESTS

# %% [markdown] id="pytorch-cell"
# ### The same in PyTorch, and the two biases
#
# `nn.RNNCell(D, H)` holds `weight_ih` (H, D), `weight_hh` (H, H), `bias_ih` and `bias_hh`. Below, our
# parameters are copied in with three bias splits: $b_{ih} = b, b_{hh} = 0$ (the course's mapping), half and
# half, and the wrong $b_{ih} = b_{hh} = b$.

# %% id="pytorch-cell-code" tags=["demo"]
my_cell_forward = use_yours(rnn_cell_forward, "rnn.rnn_cell_forward")
x, h_prev = randn(4, 3, seed=30), randn(4, 5, seed=31)
Wx, Wh, b = randn(5, 3, seed=32, scale=0.5), randn(5, 5, seed=33, scale=0.4), randn(5, seed=34)
mine = my_cell_forward(x, h_prev, Wx, Wh, b)
for split, b_ih, b_hh in [("b_ih = b,   b_hh = 0  ", b, np.zeros(5)), ("b_ih = b/2, b_hh = b/2", b / 2, b / 2),
                          ("b_ih = b,   b_hh = b  ", b, b)]:
    cell = ref.build_rnn_cell(Wx, Wh, b)
    with torch.no_grad():
        cell.bias_ih.copy_(to_tensor(b_ih))
        cell.bias_hh.copy_(to_tensor(b_hh))
        theirs = to_numpy(cell(to_tensor(x), to_tensor(h_prev)))
    print(f"{split}: largest difference to your NumPy cell {np.abs(mine - theirs).max():.1e}")
print(cell)


# %% [markdown] id="forward-theory"
# ## 2. Unrolling over a sequence
#
# Run the cell over $t = 1, \dots, T$, each step feeding its $h_t$ to the next, starting from a given
# $h_0$ (often zeros). The output is every hidden state, `hs[:, t]` $= h_{t+1}$ in 0-based Python indexing:
# the state *after* reading `x[:, t]`. `nn.RNN` returns the same array as `output`, and the last state once
# more as `h_n`.
#
# Only the recurrent half $h_{t-1} W_h^\top$ has to wait for the previous step; the input half
# $x_t W_x^\top + b$ of all $T$ steps is one matrix product `x @ Wx.T + b` of shape (N, T, H), done before the
# loop. That is how PyTorch does it too, and it halves the matrix products left inside the loop.

# %% [markdown] id="ex-forward"
# ### Exercise 2 — `rnn_forward` (2 points)
#
# Return `hs` of shape (N, T, H) for `x` (N, T, D) and `h0` (N, H). A Python loop over time is expected (there
# is no way around it: step $t$ needs step $t-1$); no loop over the batch. Keep the inputs' dtype.

# %% id="ch05_rnn_forward" nbgrader={"solution": true}
def rnn_forward(x, h0, Wx, Wh, b):
    """Every hidden state of a tanh RNN over x (N, T, D) from h0 (N, H): hs of shape (N, T, H)."""
    ### BEGIN SOLUTION
    N, T, _ = x.shape
    x_proj = x @ Wx.T + b                       # the input half of every step at once: (N, T, H)
    hs = np.empty((N, T, Wh.shape[0]), dtype=x_proj.dtype)
    h = h0
    for t in range(T):
        h = np.tanh(x_proj[:, t] + h @ Wh.T)
        hs[:, t] = h
    return hs
    ### END SOLUTION


# %% id="ch05_rnn_forward_test" nbgrader={"grade": true, "locked": true, "points": 2}
# Case 1 by hand (one sequence, D = H = 1): h1 = tanh(1), h2 = tanh(0.5 h1), h3 = tanh(-1 + 0.5 h2).
check(rnn_forward, ref.rnn_forward, [
    (np.array([[[1.0], [0.0], [-1.0]]]), np.zeros((1, 1)), np.array([[1.0]]), np.array([[0.5]]), np.zeros(1)),
    (randn(3, 5, 4, seed=40), np.zeros((3, 6)), randn(6, 4, seed=41, scale=0.5), randn(6, 6, seed=42, scale=0.4), randn(6, seed=43)),
    (randn(2, 7, 3, seed=44), randn(2, 4, seed=45), randn(4, 3, seed=46), randn(4, 4, seed=47, scale=0.5), randn(4, seed=48)),
    (randn(4, 1, 3, seed=49), randn(4, 5, seed=50), randn(5, 3, seed=51), randn(5, 5, seed=52), randn(5, seed=53)),      # T = 1
    (randn(2, 4, 3, seed=64, scale=1e3), randn(2, 5, seed=65), randn(5, 3, seed=66), randn(5, 5, seed=67), randn(5, seed=68)),  # saturated
    tuple(a.astype(np.float32) for a in (randn(3, 6, 4, seed=69), randn(3, 5, seed=70), randn(5, 4, seed=71, scale=0.5),
                                         randn(5, 5, seed=72, scale=0.4), randn(5, seed=73))),                          # float32
], hints=mistakes.rnn_forward)
### BEGIN HIDDEN TESTS
check(rnn_forward, ref.rnn_forward, [
    (randn(1, 6, 2, seed=54), randn(1, 3, seed=55), randn(3, 2, seed=56), randn(3, 3, seed=57), randn(3, seed=58)),      # N = 1
    (randn(3, 60, 8, seed=59), randn(3, 16, seed=60), randn(16, 8, seed=61, scale=0.3), randn(16, 16, seed=62, scale=0.2),
     randn(16, seed=63)),                                                                                                # long
    tuple(a.astype(np.float32) for a in (randn(2, 9, 2, seed=74), randn(2, 3, seed=75), randn(3, 2, seed=76),
                                         randn(3, 3, seed=77, scale=0.6), randn(3, seed=78))),
], hints=mistakes.rnn_forward)
### END HIDDEN TESTS

# %% [markdown] id="pytorch-forward"
# ### The same in PyTorch
#
# `nn.RNN(D, H, nonlinearity="tanh", batch_first=True)` returns `(output, h_n)`: `output` is our `hs`,
# `h_n` (1, N, H) the last state; its `h0` argument has shape (num_layers, N, H). Below we go the other way
# too: a **freshly initialised** `nn.RNN`, with two non-zero biases, read into NumPy as $b = b_{ih} + b_{hh}$.

# %% id="pytorch-forward-code" tags=["demo"]
my_rnn_forward = use_yours(rnn_forward, "rnn.rnn_forward")
x, h0 = randn(3, 8, 2, seed=80), randn(3, 4, seed=81)
torch.manual_seed(1)
rnn = nn.RNN(2, 4, nonlinearity="tanh", batch_first=True, dtype=torch.float64).to(get_device())
params = ref.rnn_params_from_torch(rnn)  # Wx = weight_ih_l0, Wh = weight_hh_l0, b = bias_ih_l0 + bias_hh_l0
with torch.no_grad():
    output, h_n = rnn(to_tensor(x), to_tensor(h0)[None])
hs = my_rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])
print("bias_ih_l0:", to_numpy(rnn.bias_ih_l0).round(3), " bias_hh_l0:", to_numpy(rnn.bias_hh_l0).round(3))
print("largest difference, output vs your hs:      ", np.abs(to_numpy(output) - hs).max())
print("largest difference, h_n vs your hs[:, -1]:  ", np.abs(to_numpy(h_n[0]) - hs[:, -1]).max())


# %% [markdown] id="cell-backward-theory"
# ## 3. The backward pass of one cell
#
# Given $\delta h = \partial L / \partial h_\text{next}$ (N, H), go back through the tanh, then through the two
# products, exactly as for a dense layer (chapter 2). Because $h_\text{next} = \tanh(z)$ and
# $\tanh'(z) = 1 - \tanh^2(z)$, the forward's **output** is all the tanh needs:
#
# $$ \delta z = \delta h \odot (1 - h_\text{next}^2), $$
# $$ \frac{\partial L}{\partial x} = \delta z\, W_x, \quad \frac{\partial L}{\partial h_\text{prev}} = \delta z\, W_h, \quad
#    \frac{\partial L}{\partial W_x} = \delta z^\top x, \quad \frac{\partial L}{\partial W_h} = \delta z^\top h_\text{prev}, \quad
#    \frac{\partial L}{\partial b} = \textstyle\sum_{n} \delta z_{n,:}. $$
#
# Each gradient has the shape of what it is the gradient of — a quick check for a missing transpose. The
# function receives the forward's inputs **and** its output `h_next`, so nothing is recomputed (`b` is among
# the inputs for symmetry with the forward; a bias's gradient does not depend on its value).

# %% [markdown] id="ex-cell-backward"
# ### Exercise 3 — `rnn_cell_backward` (3 points)
#
# Return `(dx, dh_prev, dWx, dWh, db)` for the upstream gradient `dh_next` (N, H) of
# `h_next = rnn_cell_forward(x, h_prev, Wx, Wh, b)`. The reference is PyTorch's autograd through `nn.RNNCell`.

# %% id="ch05_rnn_cell_backward" nbgrader={"solution": true}
def rnn_cell_backward(dh_next, x, h_prev, Wx, Wh, b, h_next):
    """Gradients (dx, dh_prev, dWx, dWh, db) of one RNN step, given dL/dh_next and the step's output h_next."""
    ### BEGIN SOLUTION
    dz = dh_next * (1.0 - h_next ** 2)          # through the tanh, using its output
    return dz @ Wx, dz @ Wh, dz.T @ x, dz.T @ h_prev, dz.sum(axis=0)
    ### END SOLUTION


# %% id="ch05_rnn_cell_backward_test" nbgrader={"grade": true, "locked": true, "points": 3}
# cases.cell_backward_inputs(dh_next, x, h_prev, Wx, Wh, b) adds h_next, computed by PyTorch's forward.
# Case 1 by hand: h_prev = 0, z = 1, so dz = 1 - tanh(1)^2 = 0.42 and dx = dh_prev = dWx = db = 0.42, dWh = 0.
cell_grads = ("dx", "dh_prev", "dWx", "dWh", "db")
check(rnn_cell_backward, ref.rnn_cell_backward, [
    cases.cell_backward_inputs(np.ones((1, 1)), np.ones((1, 1)), np.zeros((1, 1)), np.ones((1, 1)), np.ones((1, 1)),
                               np.zeros(1)),
    cases.cell_backward_inputs(np.array([[1.0, -1.0]]), np.array([[0.5, 1.0]]), np.array([[1.0, 0.0]]), np.eye(2),
                               np.array([[0.5, 0.2], [0.1, 0.3]]), np.zeros(2)),
    cases.cell_backward_inputs(randn(4, 5, seed=90), randn(4, 3, seed=91), randn(4, 5, seed=92),
                               randn(5, 3, seed=93, scale=0.5), randn(5, 5, seed=94, scale=0.4), randn(5, seed=95)),
    cases.cell_backward_inputs(randn(3, 4, seed=108), randn(3, 4, seed=109, scale=30.0), randn(3, 4, seed=110),
                               randn(4, 4, seed=111), randn(4, 4, seed=112), randn(4, seed=113)),     # saturated: dz ~ 0
    cases.cell_backward_inputs(*(a.astype(np.float32) for a in (randn(4, 6, seed=114), randn(4, 3, seed=115),
                                 randn(4, 6, seed=116), randn(6, 3, seed=117, scale=0.5), randn(6, 6, seed=118, scale=0.4),
                                 randn(6, seed=119)))),                                                # float32
], output_names=cell_grads, hints=mistakes.rnn_cell_backward)
### BEGIN HIDDEN TESTS
check(rnn_cell_backward, ref.rnn_cell_backward, [
    cases.cell_backward_inputs(randn(1, 3, seed=96), randn(1, 7, seed=97), randn(1, 3, seed=98), randn(3, 7, seed=99),
                               randn(3, 3, seed=100), randn(3, seed=101)),                            # batch of one, D > H
    cases.cell_backward_inputs(randn(6, 2, seed=102), randn(6, 1, seed=103), randn(6, 2, seed=104), randn(2, 1, seed=105),
                               randn(2, 2, seed=106), randn(2, seed=107)),                            # D = 1
    cases.cell_backward_inputs(*(a.astype(np.float32) for a in (randn(2, 3, seed=120), randn(2, 5, seed=121),
                                 randn(2, 3, seed=122), randn(3, 5, seed=123), randn(3, 3, seed=124), randn(3, seed=125)))),
], output_names=cell_grads, hints=mistakes.rnn_cell_backward)
### END HIDDEN TESTS

# %% [markdown] id="bptt-theory"
# ## 4. Backpropagation through time
#
# Unrolled over $T$ steps, an RNN is a deep network with $T$ layers that **share** their weights. Backpropagation
# through it is ordinary backpropagation, with two things to get right:
#
# 1. **Each $h_t$ has two consumers**: the output at step $t$ (through whatever loss or readout uses the states;
#    its gradient arrives as `dhs[:, t]`) and the next step. So, going backwards in time,
#    $$ \frac{\partial L}{\partial h_t} = \underbrace{\texttt{dhs}_t}_{\text{from the output at } t}
#       + \underbrace{\Big(\frac{\partial L}{\partial h_{t+1}} \odot (1 - h_{t+1}^2)\Big) W_h}_{\text{from step } t+1}. $$
# 2. **Shared weights collect a gradient from every step**: $\partial L/\partial W_x = \sum_t \delta z_t^\top x_t$, and
#    likewise for $W_h$ (paired with $h_{t-1}$, i.e. `h0` for the first step) and $b$.
#
# So BPTT is `rnn_cell_backward` called for $t = T, \dots, 1$ with the incoming gradient
# `dhs[:, t] + dh_from_the_future`, summing the weight gradients. Only the chain $\delta h_t \to \delta h_{t-1}$
# is truly sequential: you can store every $\delta z_t$ in the loop and compute each weight gradient afterwards
# as **one** matrix product over all $N \cdot T$ rows (stack the steps' rows on top of each other), which is
# much faster than $T$ small ones. The gradient with respect to the initial state, `dh0`, is what is left after the
# first step.

# %% [markdown] id="ex-bptt"
# ### Exercise 4 — `rnn_backward` (4 points)
#
# Return `(dx, dh0, dWx, dWh, db)` with shapes (N, T, D), (N, H), (H, D), (H, H), (H,), given `dhs` (N, T, H) — the
# gradient reaching each hidden state from outside — and the forward's inputs and output `hs`. The reference is
# autograd through `nn.RNN`. You may call your `rnn_cell_backward` inside the loop, or write the faster
# version described above. Float32 in, float32 out. The test then chains your `rnn_forward` and `rnn_backward`
# (your backward gets the states of your forward) and compares with autograd through `nn.RNN`, so exercise 2
# must pass first.
#
# <details><summary>Hint 1</summary>
#
# Walk $t = T-1, \dots, 0$ (0-based) with one running array: the gradient that step $t+1$ sends back to
# $h_t$ (zeros before the loop). The state step $t$ started from is `h0` for $t = 0$ and `hs[:, t-1]` after.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Keep every step's $\delta z_t$ in an array shaped like `hs`. After the loop, reshape it to $(N T, H)$ and
# the inputs to $(N T, D)$ (and the previous states to $(N T, H)$): each weight gradient is then one product,
# `db` one sum, and `dx` one product of the whole $\delta z$ with $W_x$. `dh0` is the running gradient left
# after the last iteration.
# </details>

# %% id="ch05_rnn_backward" nbgrader={"solution": true}
def rnn_backward(dhs, x, h0, Wx, Wh, b, hs):
    """Backprop through time: (dx, dh0, dWx, dWh, db) given dL/dhs (N, T, H) and the forward's hs."""
    ### BEGIN SOLUTION
    N, T, H = hs.shape
    h_prev = np.concatenate([h0[:, None, :], hs[:, :-1]], axis=1)   # the state each step started from
    dz = np.empty_like(hs)                                           # dL/dz_t for every step
    dh = np.zeros_like(h0)                                           # dL/dh_t coming back from step t+1
    for t in reversed(range(T)):
        dz[:, t] = (dhs[:, t] + dh) * (1.0 - hs[:, t] ** 2)
        dh = dz[:, t] @ Wh
    dz_rows = dz.reshape(N * T, H)                                   # all steps' rows: one product per weight
    dWx = dz_rows.T @ x.reshape(N * T, -1)
    dWh = dz_rows.T @ h_prev.reshape(N * T, H)
    return dz @ Wx, dh, dWx, dWh, dz_rows.sum(axis=0)
    ### END SOLUTION


# %% id="ch05_rnn_backward_test" nbgrader={"grade": true, "locked": true, "points": 4}
# cases.backward_inputs(dhs, x, h0, Wx, Wh, b) adds hs, computed by PyTorch's forward.
# Case 1: one sequence of 3 steps, D = H = 1, the loss only at the last step. Then a loss at every step,
# T = 1, saturated units, and float32 in -> float32 out; and finally your forward and backward chained.
bptt_grads = ("dx", "dh0", "dWx", "dWh", "db")
check(rnn_backward, ref.rnn_backward, [
    cases.backward_inputs(np.array([[[0.0], [0.0], [1.0]]]), np.array([[[1.0], [0.0], [-1.0]]]), np.zeros((1, 1)),
                          np.array([[1.0]]), np.array([[0.5]]), np.zeros(1)),
    cases.backward_inputs(randn(3, 5, 6, seed=120), randn(3, 5, 4, seed=121), randn(3, 6, seed=122),
                          randn(6, 4, seed=123, scale=0.5), randn(6, 6, seed=124, scale=0.4), randn(6, seed=125)),
    cases.backward_inputs(randn(2, 8, 4, seed=126), randn(2, 8, 3, seed=127), np.zeros((2, 4)), randn(4, 3, seed=128),
                          randn(4, 4, seed=129, scale=0.5), randn(4, seed=130)),
    cases.backward_inputs(randn(4, 1, 5, seed=131), randn(4, 1, 3, seed=132), randn(4, 5, seed=133), randn(5, 3, seed=134),
                          randn(5, 5, seed=135), randn(5, seed=136)),                                  # T = 1
    cases.backward_inputs(randn(2, 5, 4, seed=149), randn(2, 5, 3, seed=150, scale=50.0), randn(2, 4, seed=151),
                          randn(4, 3, seed=152), randn(4, 4, seed=153), randn(4, seed=154)),           # saturated
    cases.backward_inputs(*(a.astype(np.float32) for a in (randn(3, 6, 5, seed=155), randn(3, 6, 4, seed=156),
                            randn(3, 5, seed=157), randn(5, 4, seed=158, scale=0.5), randn(5, 5, seed=159, scale=0.4),
                            randn(5, seed=160)))),                                                     # float32
], output_names=bptt_grads, hints=mistakes.rnn_backward)
check(cases.forward_then_backward(rnn_forward, rnn_backward), ref.rnn_sequence_backward, [
    (randn(3, 6, 4, seed=170), randn(3, 6, 3, seed=171), randn(3, 4, seed=172), randn(4, 3, seed=173, scale=0.5),
     randn(4, 4, seed=174, scale=0.5), randn(4, seed=175)),
], name="your rnn_forward + rnn_backward over 6 steps", output_names=bptt_grads)
### BEGIN HIDDEN TESTS
check(rnn_backward, ref.rnn_backward, [
    cases.backward_inputs(randn(1, 6, 3, seed=137), randn(1, 6, 7, seed=138), randn(1, 3, seed=139),
                          randn(3, 7, seed=140, scale=0.4), randn(3, 3, seed=141, scale=0.5), randn(3, seed=142)),  # N = 1
    cases.backward_inputs(randn(3, 40, 10, seed=143), randn(3, 40, 2, seed=144), randn(3, 10, seed=145),
                          randn(10, 2, seed=146), randn(10, 10, seed=147, scale=0.25), randn(10, seed=148)),     # long
    cases.backward_inputs(*(a.astype(np.float32) for a in (randn(2, 9, 3, seed=161), randn(2, 9, 2, seed=162),
                            randn(2, 3, seed=163), randn(3, 2, seed=164), randn(3, 3, seed=165, scale=0.5),
                            randn(3, seed=166)))),
], output_names=bptt_grads, hints=mistakes.rnn_backward)
check(cases.forward_then_backward(rnn_forward, rnn_backward), ref.rnn_sequence_backward, [
    (randn(2, 15, 5, seed=176), randn(2, 15, 2, seed=177), np.zeros((2, 5)), randn(5, 2, seed=178),
     randn(5, 5, seed=179, scale=0.3), randn(5, seed=180)),
], name="your rnn_forward + rnn_backward over 15 steps", output_names=bptt_grads)
### END HIDDEN TESTS

# %% [markdown] id="pytorch-bptt"
# ### The same in PyTorch
#
# PyTorch never asks you for BPTT: `output.backward(dhs)` on the output of `nn.RNN` walks the recorded graph
# back through all $T$ steps. Below, the same random problem both ways, with the relative error of each gradient
# (about 1e-16 when they agree).

# %% id="pytorch-bptt-code" tags=["demo"]
my_rnn_backward = use_yours(rnn_backward, "rnn.rnn_backward")
x, h0, dhs = randn(4, 12, 3, seed=170), randn(4, 6, seed=171), randn(4, 12, 6, seed=172)
Wx, Wh, b = randn(6, 3, seed=173, scale=0.5), randn(6, 6, seed=174, scale=0.4), randn(6, seed=175)
mine = my_rnn_backward(dhs, x, h0, Wx, Wh, b, my_rnn_forward(x, h0, Wx, Wh, b))

rnn = ref.build_rnn(Wx, Wh, b)                      # bias_ih = b, bias_hh = 0
xt, h0t = to_tensor(x, requires_grad=True), to_tensor(h0, requires_grad=True)
output, _ = rnn(xt, h0t[None])
output.backward(to_tensor(dhs))
theirs = [xt.grad, h0t.grad, rnn.weight_ih_l0.grad, rnn.weight_hh_l0.grad, rnn.bias_ih_l0.grad]
for name, m, t in zip(("dx", "dh0", "dWx", "dWh", "db"), mine, theirs):
    print(f"{name:4s} shape {str(m.shape):12s} relative error {relative_error(m, to_numpy(t)):.1e}")
print("bias_ih.grad - bias_hh.grad, largest entry:", (rnn.bias_ih_l0.grad - rnn.bias_hh_l0.grad).abs().max().item(),
      "(the same gradient, up to rounding)")

# %% [markdown] id="vanishing-theory"
# ## 5. Vanishing and exploding gradients
#
# Going back one step multiplies the gradient (a row vector, from the right) by the Jacobian of $h_t$ with
# respect to $h_{t-1}$, $\partial h_t / \partial h_{t-1} = \operatorname{diag}(1 - h_t^2)\, W_h$ (entry $(i, j)$ is
# $(1 - h_{t,i}^2)\, W_h[i, j]$). Going back $k$ steps multiplies $k$ of them:
#
# $$ \frac{\partial L}{\partial h_{t-k}} = \frac{\partial L}{\partial h_t}\;
#    \prod_{j=0}^{k-1} \operatorname{diag}(1 - h_{t-j}^2)\, W_h . $$
#
# A product of many matrices behaves like a power: when they shrink vectors (small $W_h$, or tanh units
# saturated at $\pm 1$ where $1 - h^2 \approx 0$), the gradient **vanishes** exponentially with the distance $k$ —
# the network cannot learn that an early input matters for a late output (the *long-range dependency* problem).
# When they stretch vectors (large $W_h$), it **explodes** — one update throws the weights far away.
#
# Below: a loss on the **last** state only, $T = 60$ steps, random $W_h$ with entries
# $\mathcal N(0, g^2/H)$ for three gains $g$ (its spectral radius is about $g$). We go back step by step with
# **your** `rnn_cell_backward` and record $\lVert \partial L/\partial h_t \rVert$; the circles are PyTorch's
# autograd through an unrolled `nn.RNNCell` (each $h_t$ keeping its `.grad`).

# %% id="plot-vanishing" tags=["demo"]
# Plot 1: gradient norms through time for small, medium and large recurrent weights.
my_cell_backward = use_yours(rnn_cell_backward, "rnn.rnn_cell_backward")
N, T, D, H = 8, 60, 1, 64
x, h0 = randn(N, T, D, seed=180), np.zeros((N, H))
Wx, b, W_base = randn(H, D, seed=181), np.zeros(H), randn(H, H, seed=182) / np.sqrt(H)
dh_last = randn(N, H, seed=183)                                  # dL/dh_T: the loss sees only the last state


def hidden_gradient_norms(Wh):
    """||dL/dh_t|| for t = 0..T, going back through time with rnn_cell_backward."""
    hs = my_rnn_forward(x, h0, Wx, Wh, b)
    states = [h0] + [hs[:, t] for t in range(T)]                 # states[t] = h_t
    dh, norms = dh_last, [np.linalg.norm(dh_last)]
    for t in range(T, 0, -1):                                    # step t read x[:, t-1] and made h_t from h_{t-1}
        _, dh, _, _, _ = my_cell_backward(dh, x[:, t - 1], states[t - 1], Wx, Wh, b, states[t])
        norms.append(np.linalg.norm(dh))
    return norms[::-1]


numpy_norms, torch_norms = {}, {}
for gain in (0.5, 1.0, 2.5):
    Wh = gain * W_base
    label = f"g = {gain} (spectral radius {np.abs(np.linalg.eigvals(Wh)).max():.2f})"
    numpy_norms[label] = hidden_gradient_norms(Wh)
    torch_norms[label] = np.linalg.norm(ref.hidden_state_gradients(x, h0, Wx, Wh, b, dh_last), axis=(1, 2))
rnn_plots.plot_gradient_norms(numpy_norms, markers=torch_norms,
                              title="loss at t = 60: gradient reaching each earlier state (lines: NumPy, circles: PyTorch)")
plt.show()
for label in numpy_norms:
    print(f"{label}: ||dL/dh_60|| = {numpy_norms[label][-1]:.3g}, ||dL/dh_0|| = {numpy_norms[label][0]:.3g} "
          f"(PyTorch {torch_norms[label][0]:.3g})")


# %% [markdown] id="vanishing-comment"
# With $g = 0.5$ the gradient has shrunk by many orders of magnitude after 60 steps, and even $g = 1$ loses
# most of it (the saturated tanh units keep shrinking it). With $g = 2.5$ the Jacobians stretch vectors more
# than the saturation shrinks them, and the gradient **grows** exponentially going back in time. The cures: for exploding gradients, **clipping**
# (next section); for vanishing gradients, architectures with an additive memory path — the **LSTM**
# (section 9) and GRU — plus careful initialisation (e.g. orthogonal $W_h$) and shorter effective horizons.

# %% [markdown] id="clip-theory"
# ## 6. Gradient clipping by global norm
#
# Clipping leaves the **direction** of the update alone and caps its **length**. Treat all gradients
# $g_1, \dots, g_P$ (one per parameter array) as one long vector:
#
# $$ \lVert g \rVert = \sqrt{\textstyle\sum_{p} \sum_{i} g_{p,i}^2}, \qquad
#    g_p \leftarrow g_p \cdot \min\!\Big(1,\ \frac{\text{max\_norm}}{\lVert g \rVert + 10^{-6}}\Big). $$
#
# This is exactly `torch.nn.utils.clip_grad_norm_(parameters, max_norm)`, which scales the `.grad` of every
# parameter **in place** and returns $\lVert g \rVert$, the norm *before* clipping. Mind two details of it:
#
# * the $10^{-6}$ in the denominator (a guard against dividing by zero), so a clipped gradient has norm
#   slightly *below* max_norm, and
# * the factor is clamped at 1: gradients are only ever scaled **down** — when $\lVert g\rVert + 10^{-6} >$
#   max_norm, which includes a norm exactly equal to max_norm.
#
# Clipping each parameter's gradient by its own norm is a different (and rarer) method: it changes the
# direction of the update.

# %% [markdown] id="ex-clip"
# ### Exercise 5 — `clip_grad_norm` (2 points)
#
# `grads` is a dict of name → gradient array. Return `(clipped, total_norm)`: a **new** dict with every gradient
# scaled by the factor above (leave the input arrays unchanged), and the total norm before clipping.
# Float32 gradients stay float32.

# %% id="ch05_clip_grad_norm" nbgrader={"solution": true}
def clip_grad_norm(grads, max_norm):
    """(clipped gradients, total norm before clipping), like torch.nn.utils.clip_grad_norm_."""
    ### BEGIN SOLUTION
    total_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads.values()))
    coef = min(1.0, max_norm / (total_norm + 1e-6))
    return {name: g * coef for name, g in grads.items()}, total_norm
    ### END SOLUTION


# %% id="ch05_clip_grad_norm_test" nbgrader={"grade": true, "locked": true, "points": 2}
# Case 1 by hand: total norm sqrt(3^2 + 4^2) = 5 > 1, so every entry is multiplied by 1 / (5 + 1e-6).
# Case 2: the same gradients with max_norm 10 > 5 come back unchanged. Case 3: a norm of exactly max_norm is
# still scaled, by 5 / (5 + 1e-6). Then zero gradients, an exploded gradient, and float32.
clip_outputs = ("clipped", "total_norm")
small = {"W": np.array([[3.0, 0.0], [0.0, 0.0]]), "b": np.array([4.0, 0.0])}
check(clip_grad_norm, ref.clip_grad_norm, [
    (small, 1.0),
    (small, 10.0),
    (small, 5.0),
    ({"Wx": randn(4, 3, seed=190), "Wh": randn(4, 4, seed=191), "b": randn(4, seed=192)}, 2.0),
    ({"W": np.zeros((3, 2)), "b": np.zeros(2)}, 1.0),                               # zero gradients stay zero
    ({"Wx": randn(8, 5, seed=193, scale=1e6), "Wh": randn(8, 8, seed=194), "b": randn(8, seed=195)}, 0.5),  # exploded
    ({"W": randn(5, 4, seed=200).astype(np.float32), "b": randn(4, seed=201).astype(np.float32)}, 0.1),  # float32
], output_names=clip_outputs, hints=mistakes.clip_grad_norm)
### BEGIN HIDDEN TESTS
check(clip_grad_norm, ref.clip_grad_norm, [
    ({"w": np.array([3.0, 4.0])}, 5.0),                                             # norm exactly max_norm
    ({"a": randn(3, seed=196), "b": randn(2, 2, seed=197), "c": randn(1, seed=198), "d": randn(2, 3, 2, seed=199)}, 1.5),
    ({"W": randn(3, 3, seed=202).astype(np.float32), "b": randn(3, seed=203).astype(np.float32)}, 10.0),
], output_names=clip_outputs, hints=mistakes.clip_grad_norm)
### END HIDDEN TESTS

# %% id="pytorch-clip" tags=["demo"]
# PyTorch: the gradients of the exploding RNN of section 5 (g = 2.5), clipped in place by clip_grad_norm_,
# beside your clip_grad_norm on the same gradients.
my_clip = use_yours(clip_grad_norm, "rnn.clip_grad_norm")
rnn = ref.build_rnn(Wx, 2.5 * W_base, b)
output, _ = rnn(to_tensor(x))
output[:, -1].backward(to_tensor(dh_last))
grads = {"Wx": to_numpy(rnn.weight_ih_l0.grad), "Wh": to_numpy(rnn.weight_hh_l0.grad), "b": to_numpy(rnn.bias_ih_l0.grad)}
clipped, my_norm = my_clip(grads, 1.0)
rnn.bias_hh_l0.grad = None   # our one b: clip the gradient of bias_ih only, as the NumPy side does
torch_norm = nn.utils.clip_grad_norm_(rnn.parameters(), max_norm=1.0)
print(f"total norm before clipping: NumPy {my_norm:.6g}, PyTorch {torch_norm.item():.6g}")
print(f"norm after clipping:        NumPy {np.sqrt(sum((g ** 2).sum() for g in clipped.values())):.9f}, PyTorch "
      f"{torch.sqrt(sum((p.grad ** 2).sum() for p in rnn.parameters() if p.grad is not None)).item():.9f}")
print("largest difference of the clipped gradients:",
      max(np.abs(clipped[k] - to_numpy(p.grad)).max() for k, p in zip(grads, [rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0])))

# %% [markdown] id="task-theory"
# ## 7. A sequence task: predicting the next value of a noisy sine wave
#
# Each sequence is a sine wave with its own period (8–30 steps), phase and amplitude, plus Gaussian noise of
# standard deviation 0.1. At every step the network sees the current value and must predict the next one:
# inputs `series[:, :-1]`, targets `series[:, 1:]`, $T = 50$. To do well it must work out the period and
# phase from what it has seen so far — which is what the hidden state is for. Two yardsticks: repeating the
# current value ("copy") and the noise floor $0.1^2 = 0.01$, which no predictor can beat on average.
#
# The model: the RNN (H = 32) and a linear readout $\hat y_t = h_t W_y^\top + b_y$ at every step, with the
# mean squared error over all steps. Its backward pass is the readout's `dense_backward` (chapter 2), which
# gives `dhs`, then your `rnn_backward`; then your `clip_grad_norm` (max_norm 0.5) and Adam (chapter 6,
# lr 0.01, from the package). 60 epochs of 4 mini-batches of 64 sequences.

# %% id="task-data" tags=["demo"]
series, clean = make_noisy_sines(320, 51, noise=0.1, seed=0)
x_all, y_all = next_step_pairs(series)                     # (320, 50, 1) each
x_train, y_train, x_test, y_test = x_all[:256], y_all[:256], x_all[256:], y_all[256:]
copy_mse = np.mean((x_test - y_test) ** 2)
print(f"train {x_train.shape}, test {x_test.shape}; test MSE of 'copy the current value' = {copy_mse:.4f}, noise floor 0.0100")

# Plot 2: three of the training sequences.
rnn_plots.plot_sequences(series, clean, n=3)
plt.show()

# %% id="task-numpy" tags=["demo"]
H, EPOCHS, BATCH, LR, MAX_NORM = 32, 60, 64, 0.01, 0.5
my_backward = use_yours(rnn_backward, "rnn.rnn_backward")


def loss_and_grads(params, x, y):
    """MSE of the RNN + readout on a batch, and the gradient of every parameter."""
    N, T, _ = x.shape
    h0 = np.zeros((N, H))
    hs = my_rnn_forward(x, h0, params["Wx"], params["Wh"], params["b"])
    rows = hs.reshape(N * T, H)                            # the readout treats every step as one example
    y_hat = dense_forward(rows, params["Wy"], params["by"])
    loss, dy = mse(y_hat, y.reshape(N * T, 1)), mse_grad(y_hat, y.reshape(N * T, 1))
    drows, dWy, dby = dense_backward(dy, rows, params["Wy"])
    _, _, dWx, dWh, db = my_backward(drows.reshape(N, T, H), x, h0, params["Wx"], params["Wh"], params["b"], hs)
    return loss, {"Wx": dWx, "Wh": dWh, "b": db, "Wy": dWy, "by": dby}


initial = init_rnn_params(1, H, 1, seed=0)          # drawn like PyTorch's defaults
params = {k: v.copy() for k, v in initial.items()}
optimizer = Adam(lr=LR)
numpy_losses, grad_norms = [], []
start = timeit.default_timer()
for epoch in range(EPOCHS):
    for x_batch, y_batch in minibatches(x_train, y_train, BATCH, seed=epoch):
        loss, grads = loss_and_grads(params, x_batch, y_batch)
        grads, norm = my_clip(grads, MAX_NORM)
        optimizer.step(params, grads)
        numpy_losses.append(loss)
        grad_norms.append(norm)
numpy_seconds = timeit.default_timer() - start
numpy_test = loss_and_grads(params, x_test, y_test)[0]
print(f"NumPy:  {len(numpy_losses)} steps in {numpy_seconds:.1f} s, last training loss {numpy_losses[-1]:.4f}, test MSE {numpy_test:.4f}")


# %% [markdown] id="task-torch-theory"
# ### The same model in PyTorch
#
# `nn.RNN` + `nn.Linear`, started from the **same** parameters (b copied into `bias_ih`, `bias_hh` = 0), trained
# in float64 with the same batches, `clip_grad_norm_` and `torch.optim.Adam`. One more detail makes the two
# trajectories identical: `bias_hh` is **frozen** (`requires_grad_(False)`). Left trainable, it would get the
# same gradient as `bias_ih`, Adam would move both by the same amount, and the effective bias
# $b_{ih} + b_{hh}$ would move twice as far per step as NumPy's single $b$ — a different (equally valid)
# training run, not a bug. The cell after training checks this doubling.

# %% id="task-torch" tags=["demo"]
class SineRNN(nn.Module):
    """nn.RNN (tanh, batch_first) and a linear readout at every step, from a NumPy parameter dict."""

    def __init__(self, params, train_bias_hh=False):
        super().__init__()
        self.rnn = ref.build_rnn(params["Wx"], params["Wh"], params["b"])
        self.rnn.bias_hh_l0.requires_grad_(train_bias_hh)
        self.readout = nn.Linear(params["Wy"].shape[1], params["Wy"].shape[0], dtype=torch.float64).to(get_device())
        with torch.no_grad():
            self.readout.weight.copy_(to_tensor(params["Wy"]))
            self.readout.bias.copy_(to_tensor(params["by"]))

    def forward(self, x):
        hs, _ = self.rnn(x)        # h0 defaults to zeros
        return self.readout(hs)


model = SineRNN(initial)
torch_optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=LR)
torch_losses = []
start = timeit.default_timer()
for epoch in range(EPOCHS):
    for x_batch, y_batch in minibatches(x_train, y_train, BATCH, seed=epoch):
        torch_optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(to_tensor(x_batch)), to_tensor(y_batch))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
        torch_optimizer.step()
        torch_losses.append(loss.item())
torch_seconds = timeit.default_timer() - start
with torch.no_grad():
    torch_test = nn.functional.mse_loss(model(to_tensor(x_test)), to_tensor(y_test)).item()
print(f"PyTorch: {len(torch_losses)} steps in {torch_seconds:.1f} s, last training loss {torch_losses[-1]:.4f}, test MSE {torch_test:.4f}")
print(f"largest difference between the NumPy and PyTorch losses over all steps: {np.abs(np.subtract(numpy_losses, torch_losses)).max():.1e}")

# %% id="task-two-biases" tags=["demo"]
# Two trainable biases: one Adam step from the same start. Both biases get the same gradient and move by the
# same amount, so their sum moves twice as far as NumPy's single b.
for train_bias_hh in (False, True):
    m = SineRNN(initial, train_bias_hh=train_bias_hh)
    opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=LR)
    nn.functional.mse_loss(m(to_tensor(x_train[:BATCH])), to_tensor(y_train[:BATCH])).backward()
    opt.step()
    moved = to_numpy(m.rnn.bias_ih_l0 + m.rnn.bias_hh_l0) - initial["b"]
    print(f"bias_hh trainable: {train_bias_hh!s:5}  largest move of b_ih + b_hh after one step: {np.abs(moved).max():.4f}")

# %% id="plot-training" tags=["demo"]
# Plot 3: the training losses of both implementations (they coincide), and clipping at work.
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
plot_curves({"NumPy (your functions)": numpy_losses, "PyTorch nn.RNN": torch_losses}, ax=axes[0], xlabel="Adam step",
            ylabel="training MSE", logy=True, title="next-step prediction of noisy sines")
axes[0].axhline(copy_mse, color="grey", ls=":", label="copy the current value")
axes[0].axhline(0.01, color="k", ls=":", label="noise floor")
axes[0].legend(fontsize=8)
rnn_plots.plot_clipping(grad_norms, MAX_NORM, ax=axes[1], title="gradient norm before clipping")
plt.tight_layout()
plt.show()


# %% id="plot-predictions" tags=["demo"]
# Plot 4: predictions on a test sequence. Left: one step ahead, the model sees every true value.
# Right: the model sees the first 25 values, then feeds its own predictions back for 26 more steps.
def generate(params, observed, n_steps):
    """Read `observed` (B, T0) for B sequences, then predict n_steps more values, each fed back as the next input."""
    h, out = np.zeros((observed.shape[0], H)), []
    for t in range(observed.shape[1] + n_steps - 1):
        value_in = observed[:, t:t + 1] if t < observed.shape[1] else value
        h = my_cell_forward(value_in, h, params["Wx"], params["Wh"], params["b"])
        value = dense_forward(h, params["Wy"], params["by"])          # (B, 1): the prediction of the next value
        if t >= observed.shape[1] - 1:
            out.append(value[:, 0])
    return np.stack(out, axis=1)


def generate_torch(model, observed, n_steps):
    """The same closed loop for one sequence (T0,) with nn.RNN, carrying h_n from call to call."""
    with torch.no_grad():
        hs, h = model.rnn(to_tensor(observed[None, :, None]))
        value, out = model.readout(hs[:, -1]), []
        for _ in range(n_steps):
            out.append(value.item())
            hs, h = model.rnn(value[:, None], h)
            value = model.readout(hs[:, -1])
    return np.array(out)


warmup, test_series, test_clean = 25, series[256:], clean[256:]
closed_loop = generate(params, test_series[:, :warmup], 26)               # every test sequence at once
errors = np.mean((closed_loop - test_clean[:, warmup:]) ** 2, axis=1)
example = int(np.argsort(errors)[len(errors) // 2])                      # a typical one: the median error
print(f"closed loop, all {len(errors)} test sequences: MSE against the clean wave over the 26 generated steps: "
      f"median {np.median(errors):.3f}, best {errors.min():.3f}, worst {errors.max():.3f} "
      f"(the waves' mean square is {np.mean(test_clean ** 2):.3f}); plotted: test sequence {example}")

with torch.no_grad():
    torch_pred = to_numpy(model(to_tensor(x_test[example:example + 1])))[0]
hs = my_rnn_forward(x_test[example:example + 1], np.zeros((1, H)), params["Wx"], params["Wh"], params["b"])
numpy_pred = dense_forward(hs[0], params["Wy"], params["by"])
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
rnn_plots.plot_predictions(y_test[example], {"NumPy": numpy_pred, "PyTorch": torch_pred}, ax=axes[0],
                           clean=test_clean[example, 1:], title="one step ahead (a test sequence)")
rnn_plots.plot_predictions(test_series[example, 1:], {"NumPy, closed loop": closed_loop[example],
                                                      "PyTorch, closed loop": generate_torch(model, test_series[example, :warmup], 26)},
                           ax=axes[1], clean=test_clean[example, 1:], prediction_start=warmup, start_generating=warmup,
                           title=f"closed loop after {warmup} observed steps")
axes[1].set_xlim(0, 51)
plt.tight_layout()
plt.show()

# %% [markdown] id="results"
# ### Results
#
# Both implementations reach the same test MSE — well below "copy the current value", and a bit more than twice
# the noise floor (the first steps of each sequence, where the period is still unknown, cost the most).
# In closed loop (right) the model keeps producing a wave, but less faithfully than one step ahead: on the
# plotted sequence (the median error of the test set) and on most others its phase drifts or its amplitude
# shrinks over the 26 generated steps; on the best ones it stays on the clean wave. Errors grow in closed loop
# because the model was only ever trained to predict one step from **true** values (*teacher forcing*): its
# own mistakes feed back and compound. To scale up: more epochs, a larger H, longer sequences; the code does
# not change.

# %% id="results-table" tags=["demo"]
print(f"{'':28s}{'NumPy':>10s}{'PyTorch':>10s}")
print(f"{'final training loss (MSE)':28s}{numpy_losses[-1]:10.4f}{torch_losses[-1]:10.4f}")
print(f"{'test MSE':28s}{numpy_test:10.4f}{torch_test:10.4f}")
print(f"{'training time (s)':28s}{numpy_seconds:10.1f}{torch_seconds:10.1f}")
print(f"test MSE of 'copy': {copy_mse:.4f}; noise floor: 0.0100; steps clipped: {np.sum(np.array(grad_norms) > MAX_NORM)} of {len(grad_norms)}")

# %% [markdown] id="speed-theory"
# ## 8. How fast is your BPTT?
#
# A fair race: forward **and** backward over $T = 50$ steps, batch 32, input 128, hidden 128, float32 (PyTorch's
# default), one thread each, the median of repeated runs of `timeit`. PyTorch's `nn.RNN` on the CPU runs the
# same loop over time in C++; NumPy pays a few microseconds of Python per operation, but the hoisted input
# product and the one-product weight gradients keep the work in a handful of large matrix products.

# %% id="speed" tags=["demo"]
N, T, D, H_big = 32, 50, 128, 128
f32 = lambda a: a.astype(np.float32)
x, h0, dhs = f32(randn(N, T, D, seed=210)), f32(randn(N, H_big, seed=211, scale=0.1)), f32(randn(N, T, H_big, seed=212))
Wx, Wh, b = f32(randn(H_big, D, seed=213, scale=D ** -0.5)), f32(randn(H_big, H_big, seed=214, scale=H_big ** -0.5)), np.zeros(H_big, np.float32)


def numpy_forward_backward():
    hs = my_rnn_forward(x, h0, Wx, Wh, b)
    return my_rnn_backward(dhs, x, h0, Wx, Wh, b, hs)


rnn32 = nn.RNN(D, H_big, batch_first=True)                    # float32, on the CPU like NumPy
xt, h0t, dhst = torch.tensor(x, requires_grad=True), torch.tensor(h0[None], requires_grad=True), torch.tensor(dhs)


def torch_forward_backward():
    output, _ = rnn32(xt, h0t)
    output.backward(dhst)


timings = {}
for name, fn in [("NumPy", numpy_forward_backward), ("PyTorch", torch_forward_backward)]:
    fn()                                                          # warm up
    timings[name] = np.median(timeit.repeat(fn, number=3, repeat=7)) / 3
print(f"forward + backward, T={T}, N={N}, D={D}, H={H_big}, float32, 1 thread:")
print(f"  NumPy (yours) {1e3 * timings['NumPy']:.2f} ms, PyTorch nn.RNN {1e3 * timings['PyTorch']:.2f} ms, "
      f"ratio NumPy / PyTorch = {timings['NumPy'] / timings['PyTorch']:.2f}")

# %% [markdown] id="lstm-theory"
# ## 9. Stretch: the LSTM cell
#
# The **long short-term memory** cell (Hochreiter & Schmidhuber, 1997; the forget gate from Gers et al., 2000)
# adds a **cell state** $c_t$ that is updated *additively*, under the control of gates — sigmoids in $(0, 1)$
# that decide how much to let through:
#
# $$ \begin{aligned}
#   [\,z_i, z_f, z_g, z_o\,] &= x_t W_x^\top + h_{t-1} W_h^\top + b && \text{(one product, split in 4 along the columns)}\\
#   i &= \sigma(z_i),\quad f = \sigma(z_f),\quad g = \tanh(z_g),\quad o = \sigma(z_o) \\
#   c_t &= f \odot c_{t-1} + i \odot g \\
#   h_t &= o \odot \tanh(c_t)
# \end{aligned} $$
#
# Going back, $\partial c_t/\partial c_{t-1} = \operatorname{diag}(f)$: no repeated matrix product, no tanh
# squashing on that path, so when the forget gate stays near 1 the gradient survives many steps. That is
# the LSTM's answer to the vanishing gradient of section 5.
#
# **PyTorch's layout** (`nn.LSTMCell`, `nn.LSTM`): `weight_ih` is (4H, D), `weight_hh` (4H, H), the biases (4H,),
# their row blocks in the order **i, f, g, o** (input gate, forget gate, cell candidate, output gate). Other
# libraries use other orders (Keras: i, f, c, o; some papers: i, f, o, g) — copying weights between them needs
# the blocks reordered. As for the RNN, PyTorch's two biases add up; we keep one, $b = b_{ih} + b_{hh}$.

# %% [markdown] id="ex-lstm"
# ### Exercise 6 — `lstm_cell_forward` (3 points)
#
# Return `(h_next, c_next)`, each (N, H), for `x` (N, D), `h_prev` and `c_prev` (N, H), `Wx` (4H, D), `Wh` (4H, H),
# `b` (4H,). Float32 in, float32 out. The cell below imports chapter 1's stable `sigmoid` from the package for
# you (this exercise is allowed to call it; use your own from chapter 1 if you prefer).

# %% id="ch05_lstm_cell_forward" nbgrader={"solution": true}
from dlcourse.solved.networks import sigmoid


def lstm_cell_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One LSTM step with PyTorch's gate order i, f, g, o: returns (h_next, c_next)."""
    ### BEGIN SOLUTION
    z = x @ Wx.T + h_prev @ Wh.T + b
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)
    c_next = sigmoid(z_f) * c_prev + sigmoid(z_i) * np.tanh(z_g)
    h_next = sigmoid(z_o) * np.tanh(c_next)
    return h_next, c_next
    ### END SOLUTION


# %% id="ch05_lstm_cell_forward_test" nbgrader={"grade": true, "locked": true, "points": 3}
# Case 1 by hand (H = 1, zero weights): the gates are sigmoid(b) = sigmoid([1, 2, 3, 4]) in the order i, f, g, o
# (g = tanh(3)), so c_next = sigmoid(2) * 1 + sigmoid(1) * tanh(3) and h_next = sigmoid(4) * tanh(c_next).
# Then random cases: saturated gates, and float32 in -> float32 out.
lstm_outputs = ("h_next", "c_next")
offered = ("dlcourse.solved.networks.sigmoid",)   # the stable sigmoid imported above may be used
check(lstm_cell_forward, ref.lstm_cell_forward, [
    (np.array([[1.0]]), np.array([[0.5]]), np.array([[1.0]]), np.zeros((4, 1)), np.zeros((4, 1)), np.array([1.0, 2.0, 3.0, 4.0])),
    (randn(3, 4, seed=220), randn(3, 5, seed=221), randn(3, 5, seed=222), randn(20, 4, seed=223, scale=0.5),
     randn(20, 5, seed=224, scale=0.4), randn(20, seed=225)),
    (randn(2, 3, seed=238, scale=1e3), randn(2, 2, seed=239), randn(2, 2, seed=240, scale=10.0), randn(8, 3, seed=241),
     randn(8, 2, seed=242), randn(8, seed=243)),                                                         # saturated gates
    tuple(a.astype(np.float32) for a in (randn(3, 4, seed=244), randn(3, 3, seed=245), randn(3, 3, seed=246),
                                         randn(12, 4, seed=247, scale=0.5), randn(12, 3, seed=248, scale=0.5), randn(12, seed=249))),
], output_names=lstm_outputs, hints=mistakes.lstm_cell_forward, allow=offered)
### BEGIN HIDDEN TESTS
check(lstm_cell_forward, ref.lstm_cell_forward, [
    (randn(1, 6, seed=226), randn(1, 2, seed=227), randn(1, 2, seed=228), randn(8, 6, seed=229), randn(8, 2, seed=230), randn(8, seed=231)),
    (randn(4, 1, seed=232), randn(4, 3, seed=233), randn(4, 3, seed=234), randn(12, 1, seed=235), randn(12, 3, seed=236), randn(12, seed=237)),
    tuple(a.astype(np.float32) for a in (randn(2, 2, seed=250), randn(2, 4, seed=251), randn(2, 4, seed=252),
                                         randn(16, 2, seed=253), randn(16, 4, seed=254), randn(16, seed=255))),
], output_names=lstm_outputs, hints=mistakes.lstm_cell_forward, allow=offered)
### END HIDDEN TESTS

# %% id="pytorch-lstm" tags=["demo"]
# PyTorch: nn.LSTMCell with our weights (bias_ih = b, bias_hh = 0), beside your cell, over 20 steps of a sequence.
my_lstm = use_yours(lstm_cell_forward, "rnn.lstm_cell_forward")
x, Wx, Wh, b = randn(2, 20, 3, seed=260), randn(16, 3, seed=261, scale=0.5), randn(16, 4, seed=262, scale=0.5), randn(16, seed=263)
cell = ref.build_lstm_cell(Wx, Wh, b)
h, c = np.zeros((2, 4)), np.zeros((2, 4))
ht, ct = to_tensor(h), to_tensor(c)
with torch.no_grad():
    for t in range(20):
        h, c = my_lstm(x[:, t], h, c, Wx, Wh, b)
        ht, ct = cell(to_tensor(x[:, t]), (ht, ct))
print(cell)
print("after 20 steps, largest difference: h", np.abs(h - to_numpy(ht)).max(), " c", np.abs(c - to_numpy(ct)).max())

# %% [markdown] id="summary"
# ## Summary
#
# * A vanilla RNN applies one cell, $h_t = \tanh(x_t W_x^\top + h_{t-1} W_h^\top + b)$, at every step with the same
#   weights; `nn.RNN(batch_first=True)` returns all the $h_t$ as `output` and the last as `h_n`.
# * PyTorch's two biases $b_{ih}, b_{hh}$ only appear as a sum: map one bias as $b_{ih} = b,\ b_{hh} = 0$ and read
#   back $b = b_{ih} + b_{hh}$. Both get the same gradient, so training both moves their sum twice as fast.
# * One cell's backward: $\delta z = \delta h \odot (1 - h^2)$, then the dense-layer rules.
#   BPTT adds the gradient from the next step to each $\delta h_t$ and sums the weight gradients over time —
#   best as one matrix product after the loop.
# * Going back $k$ steps multiplies $k$ Jacobians $\operatorname{diag}(1 - h^2) W_h$: gradients vanish or explode
#   exponentially. Clipping by global norm, $g \cdot \min(1, \text{max\_norm}/(\lVert g\rVert + 10^{-6}))$, tames
#   the explosions without changing the direction; LSTMs (gate order i, f, g, o in PyTorch) keep a
#   gradient path through the cell state for the vanishing.
# * Trained on noisy sine waves, your NumPy RNN and PyTorch's follow the same loss trajectory step for step.
#
# **Next:** chapter 6 looks at the optimizers (Adam and its relatives) used here.
#
# ## Glossary / 术语表
#
# | English | 中文 |
# |---|---|
# | recurrent neural network (RNN) | 循环神经网络 |
# | sequence / time step | 序列 / 时间步 |
# | hidden state | 隐藏状态 |
# | weight sharing | 权重共享 |
# | unrolling (over time) | （按时间）展开 |
# | backpropagation through time (BPTT) | 随时间反向传播 |
# | vanishing / exploding gradient | 梯度消失 / 梯度爆炸 |
# | long-range dependency | 长程依赖 |
# | gradient clipping (by global norm) | 梯度裁剪（按全局范数） |
# | Jacobian matrix | 雅可比矩阵 |
# | spectral radius | 谱半径 |
# | saturation | 饱和 |
# | next-step prediction | 下一步预测 |
# | closed loop / autoregressive generation | 闭环 / 自回归生成 |
# | long short-term memory (LSTM) | 长短期记忆网络 |
# | cell state | 细胞状态 |
# | input / forget / output gate | 输入门 / 遗忘门 / 输出门 |
# | gated recurrent unit (GRU) | 门控循环单元 |

# %% [markdown] id="progress-title"
# ## Your progress
#
# Which exercises of this notebook pass in this session, and their points (run every test cell first,
# or *Run All*). `dlcourse progress` in a terminal shows every chapter, in fresh kernels.

# %% id="progress" tags=["demo"]
from dlcourse.progress import progress_table

progress_table()
