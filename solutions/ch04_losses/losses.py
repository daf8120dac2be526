# %% [markdown] id="title"
# # Chapter 4 — Losses: what the network is trained to minimise, and how we judge the result
#
# **Learning goals.** After this notebook you can
#
# 1. write the mean squared error (MSE) and its gradient, and say what the mean runs over;
# 2. write softmax and log-softmax with the **log-sum-exp trick**, so that logits of ±1000 give finite,
#    correct numbers, and backpropagate through softmax (its Jacobian);
# 3. write categorical cross-entropy from logits and integer labels, and derive its famous gradient
#    $(p - y)/N$;
# 4. write binary cross-entropy from logits, stable for any logit;
# 5. explain with a plot why cross-entropy, not MSE, is the loss for classification;
# 6. compute accuracy, the confusion matrix, precision, recall and F1 (per class and macro), and
#    recognise when accuracy lies;
# 7. reproduce the source article's Keras MLP 784-128-10 (worked example **E4**) in NumPy and in PyTorch.
#
# **How this notebook works.** Each exercise is a NumPy function with a stub
# (`raise NotImplementedError()`). Replace the stub with your code, run the cell, then run the test
# cell right below it: it compares your function with PyTorch on fixed and on random inputs and tells
# you what differs. Cells that only *show* things use your function once it works and the course's
# solved version until then. Later exercises may call your earlier ones (cross-entropy may use your
# `log_softmax`), so do them in order. Nothing here needs a GPU.

# %% id="setup"
import copy

import numpy as np
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse import data
from dlcourse.cases.losses import exp_errors_explained, zero_division_explained
from dlcourse.checking import check, randint, randn, uniform
from dlcourse.demos import losses as demos
from dlcourse.device import describe, get_device, to_numpy, to_tensor
from dlcourse.exercises import use_yours
from dlcourse.mistakes import losses as mistakes
from dlcourse.plots import losses as loss_plots
from dlcourse.reference import losses as ref
from dlcourse.reference import metrics as ref_metrics
from dlcourse.reference import networks as ref_networks
from dlcourse.reference.training import fit_torch_mlp, torch_accuracy
from dlcourse.solved.networks import count_params, init_params, mlp_forward  # chapter 1's solved blocks (demos)
from dlcourse.solved.networks import sigmoid  # chapter 1's stable sigmoid, solved: use it where you need one
from dlcourse.solved.optimizers import Adam
from dlcourse.solved.training import fit_mlp

torch.manual_seed(0)
if get_device().type == "cpu":
    torch.set_num_threads(1)  # the models here are tiny: on a CPU one thread beats several fighting over them
print(describe())


# %% [markdown] id="losses-intro"
# ## 1. A loss turns "how wrong" into one number
#
# Training adjusts the parameters to make a single number, the **loss**, small. The loss compares the
# network's output with the target over a batch; backpropagation (chapter 2) needs its **gradient**
# with respect to the output, which is where every backward pass starts. So each loss below comes with
# its gradient, and both are checked against PyTorch (`torch.nn.functional` for the loss, autograd for
# the gradient).
#
# All losses in this chapter are **means** (PyTorch's default `reduction="mean"`), so the gradient of
# every term carries a factor $1/(\text{number of terms})$. Forgetting it is the classic mistake: the
# gradient is then $N$ times too large, and a learning rate that worked for one batch size diverges
# for another.
#
# ### Mean squared error (regression)
#
# For predictions $\hat y$ and targets $y$ of the same shape with $M$ entries in all (a batch of $N$
# examples with $K$ outputs each has $M = NK$):
#
# $$ \mathrm{MSE}(\hat y, y) = \frac{1}{M} \sum_{i=1}^{M} (\hat y_i - y_i)^2, \qquad
#    \frac{\partial\, \mathrm{MSE}}{\partial \hat y_i} = \frac{2}{M}\,(\hat y_i - y_i). $$
#
# `F.mse_loss` averages over **every entry**, not only over the batch. Watch the shapes: predictions
# of shape (N, 1) against targets of shape (N,) broadcast to an (N, N) table of every prediction
# against every target — a silent, classic bug (PyTorch warns about it; the course's reference refuses
# it).

# %% [markdown] id="ex-mse"
# ### Exercise 1 — `mse` (1 point)
#
# Return the mean squared error of `pred` against `target` (arrays of the same shape, any number of axes)
# as a number.

# %% id="ch04_mse" nbgrader={"solution": true}
def mse(pred, target):
    """Mean over every entry of (pred - target) ** 2."""
    ### BEGIN SOLUTION
    return float(np.mean((pred - target) ** 2))
    ### END SOLUTION


# %% id="ch04_mse_test" nbgrader={"grade": true, "locked": true, "points": 1}
check(mse, ref.mse, [
    (np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])),    # (0 + 0 + 4) / 3
    (randn(4, 3, seed=1), randn(4, 3, seed=2)),                 # the mean runs over all 12 entries
    (randn(5, 2, seed=7).astype(np.float32), randn(5, 2, seed=8).astype(np.float32)),
], hints=mistakes.mse)
### BEGIN HIDDEN TESTS
check(mse, ref.mse, [
    (np.array([[2.5]]), np.array([[-1.0]])),                    # a batch of one
    (randn(7, 1, seed=3, scale=1e3), randn(7, 1, seed=4)),
    (randn(2, 3, 4, seed=5), randn(2, 3, 4, seed=6)),
    (randn(3, 6, seed=9).astype(np.float32), randn(3, 6, seed=10).astype(np.float32)),
], hints=mistakes.mse)
### END HIDDEN TESTS

# %% [markdown] id="ex-mse-grad"
# ### Exercise 2 — `mse_grad` (2 points)
#
# Return $\partial\,\mathrm{MSE} / \partial\,\text{pred}$, an array of `pred`'s shape and dtype (float32 in,
# float32 out: the tests try both).

# %% id="ch04_mse_grad" nbgrader={"solution": true}
def mse_grad(pred, target):
    """Gradient of mse(pred, target) with respect to pred."""
    ### BEGIN SOLUTION
    return 2.0 * (pred - target) / pred.size
    ### END SOLUTION


# %% id="ch04_mse_grad_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(mse_grad, ref.mse_grad, [
    (np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])),    # only the last entry is off: 2 * (3 - 5) / 3
    (randn(4, 3, seed=9), randn(4, 3, seed=10)),
    (randn(6, 2, seed=11).astype(np.float32), randn(6, 2, seed=12).astype(np.float32)),   # float32 in, float32 out
], hints=mistakes.mse_grad)
### BEGIN HIDDEN TESTS
check(mse_grad, ref.mse_grad, [
    (np.array([[2.5]]), np.array([[-1.0]])),
    (randn(2, 3, 4, seed=13), randn(2, 3, 4, seed=14)),
    (randn(5, 1, seed=15).astype(np.float32), randn(5, 1, seed=16).astype(np.float32)),
], hints=mistakes.mse_grad)
### END HIDDEN TESTS

# %% [markdown] id="softmax-theory"
# ## 2. Softmax, log-softmax and the log-sum-exp trick
#
# A classifier's last layer outputs one real score per class, the **logits** $z \in \mathbb R^C$.
# Softmax turns them into probabilities (positive, summing to 1):
#
# $$ \operatorname{softmax}(z)_i = \frac{e^{z_i}}{\sum_{j=1}^{C} e^{z_j}}, \qquad
#    \log \operatorname{softmax}(z)_i = z_i - \log \sum_{j} e^{z_j}. $$
#
# Written like that, both break in floating point: `np.exp(1000.0)` is `inf` (float64 overflows above
# $e^{709}$), and `np.exp(-1000.0)` is exactly `0` (it *underflows*), so a row of logits all near
# $-1000$ gives $0/0$ = `nan`. The cure uses that softmax does not change when the same constant $c$
# is added to every logit ($e^{z_i + c} / \sum_j e^{z_j + c}$: the $e^c$ cancels). Take $m = \max_j z_j$:
#
# $$ \log \sum_j e^{z_j} = m + \log \sum_j e^{z_j - m} \qquad\text{(the log-sum-exp trick)}. $$
#
# Now every exponent $z_j - m \le 0$, so nothing overflows, and the largest term is $e^0 = 1$, so the
# sum is at least 1 and its log is finite. Subtract each **row's own** maximum (`axis=-1,
# keepdims=True`): one maximum for the whole batch would leave a row of $-1000$s next to a row with a
# $+1000$ underflowing to $0/0$.
#
# **Why a separate log-softmax?** `np.log(softmax(z))` fails even with a stable softmax: for
# $z = (1000, 0)$, softmax is $(1, e^{-1000}) = (1, 0)$ in float64, and $\log 0 = -\infty$, while the
# true log-probability $-1000$ is a perfectly ordinary number. Computing $z - m - \log\sum_j e^{z_j-m}$
# directly never takes the log of a tiny probability. This is why PyTorch's `F.cross_entropy` takes
# **logits** and uses `log_softmax` inside.
#
# **What the stability tests say.** The tests below use logits of $\pm 1000$ and turn NumPy's overflow
# and invalid-value warnings into errors. If a test says *"your function computed an overflow"*,
# some `exp` saw a large positive argument; if it says *"invalid value"*, something computed
# $0/0$, $\infty-\infty$ or $0\cdot\infty$ — usually an `exp` that underflowed to 0 for every entry of a
# row. In both cases: subtract the row maximum before `exp`.

# %% [markdown] id="ex-softmax"
# ### Exercise 3 — `softmax` (2 points)
#
# Return softmax over the **last** axis of `logits` (shape (C,), (N, C), or more axes), stable for any
# finite logits. Keep the input's dtype (float32 in, float32 out).

# %% id="ch04_softmax" nbgrader={"solution": true}
def softmax(logits):
    """Softmax over the last axis, with the row maximum subtracted first."""
    ### BEGIN SOLUTION
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
    ### END SOLUTION


# %% id="ch04_softmax_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(exp_errors_explained(softmax), ref.softmax, [
    np.array([[1.0, 2.0, 3.0]]),
    np.array([[1000.0, 999.0, 0.0], [-1000.0, -1000.0, -1001.0]]),  # e^1000 overflows; e^-1000 underflows to 0
    randn(4, 5, seed=15, scale=3.0),
    np.array([3.0, -1.0, 0.5]),                                      # one example, shape (C,)
    randn(2, 3, 4, seed=18, scale=500.0),                            # 3-D, huge logits
    randn(5, 7, seed=19, scale=5.0).astype(np.float32),              # float32 in, float32 out
], hints=mistakes.softmax)
### BEGIN HIDDEN TESTS
check(exp_errors_explained(softmax), ref.softmax, [
    randn(1, 10, seed=16),                                 # a batch of one
    randn(6, 1, seed=17),                                  # a single class: probability 1
    np.array([[1e3, 1e3], [-1e3, 1e3], [5e3, -5e3]]),
    randn(3, 2, 5, seed=20, scale=300.0),
    randn(4, 6, seed=21, scale=500.0).astype(np.float32),
], hints=mistakes.softmax)
### END HIDDEN TESTS

# %% [markdown] id="ex-log-softmax"
# ### Exercise 4 — `log_softmax` (2 points)
#
# Return $\log\operatorname{softmax}$ over the last axis, with the log-sum-exp trick: never the log of
# a softmax. Any number of axes; float32 in, float32 out.

# %% id="ch04_log_softmax" nbgrader={"solution": true}
def log_softmax(logits):
    """log(softmax(logits)) over the last axis, computed as z - m - log(sum(exp(z - m)))."""
    ### BEGIN SOLUTION
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    ### END SOLUTION


# %% id="ch04_log_softmax_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(exp_errors_explained(log_softmax), ref.log_softmax, [
    np.array([[1.0, 2.0, 3.0]]),
    np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1001.0]]),
    randn(4, 5, seed=20, scale=3.0),
    np.array([3.0, -1.0, 0.5]),                                      # one example, shape (C,)
    randn(2, 3, 4, seed=23, scale=500.0),                            # 3-D, huge logits
    randn(5, 7, seed=24, scale=5.0).astype(np.float32),              # float32 in, float32 out
], hints=mistakes.log_softmax)
### BEGIN HIDDEN TESTS
check(exp_errors_explained(log_softmax), ref.log_softmax, [
    randn(1, 10, seed=21),
    randn(6, 1, seed=22),
    np.array([[1e4, 0.0], [0.0, -1e4]]),
    randn(3, 2, 5, seed=25, scale=300.0),
    randn(4, 6, seed=26, scale=500.0).astype(np.float32),
], hints=mistakes.log_softmax)
### END HIDDEN TESTS

# %% [markdown] id="softmax-backward-theory"
# ### Backpropagating through softmax
#
# Every probability depends on **every** logit (they share the denominator), so softmax's derivative is
# a $C \times C$ Jacobian, not an element-wise factor:
#
# $$ \frac{\partial p_i}{\partial z_j} = p_i\,(\delta_{ij} - p_j)
#    \qquad (\delta_{ij} = 1 \text{ if } i = j \text{, else } 0). $$
#
# The backward pass never builds that matrix. Given the upstream gradient $dP = \partial L / \partial p$
# of one example, the chain rule gives
#
# $$ \frac{\partial L}{\partial z_j} = \sum_i dP_i\, p_i (\delta_{ij} - p_j)
#    = p_j \Big( dP_j - \sum_i dP_i\, p_i \Big), $$
#
# and for a batch the same formula runs along each row.

# %% [markdown] id="ex-softmax-backward"
# ### Exercise 5 — `softmax_backward` (3 points)
#
# Given `dP` $= \partial L/\partial p$ and the `logits` ($p = \operatorname{softmax}(\text{logits})$ over
# the last axis, same shapes, any number of axes), return $\partial L/\partial\,\text{logits}$ in their dtype.
# You may call your `softmax`.

# %% id="ch04_softmax_backward" nbgrader={"solution": true}
def softmax_backward(dP, logits):
    """dL/dlogits for P = softmax(logits) over the last axis, given dL/dP."""
    ### BEGIN SOLUTION
    P = softmax(logits)
    return P * (dP - np.sum(dP * P, axis=-1, keepdims=True))
    ### END SOLUTION


# %% id="ch04_softmax_backward_test" nbgrader={"grade": true, "locked": true, "points": 3}
check(exp_errors_explained(softmax_backward), ref.softmax_backward, [
    (np.array([[1.0, 0.0, 0.0]]), np.array([[1.0, 2.0, 3.0]])),
    (randn(4, 5, seed=25), randn(4, 5, seed=26)),
    (randn(2, 3, seed=27), np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -1001.0]])),
    (np.array([0.5, -1.0, 2.0]), np.array([3.0, -1.0, 0.5])),      # one example, shape (C,)
    (randn(2, 3, 4, seed=32), randn(2, 3, 4, seed=33, scale=5.0)),    # 3-D, p not saturated: every entry counts
    (randn(5, 7, seed=34).astype(np.float32), randn(5, 7, seed=35, scale=5.0).astype(np.float32)),
], hints=mistakes.softmax_backward)
### BEGIN HIDDEN TESTS
check(exp_errors_explained(softmax_backward), ref.softmax_backward, [
    (randn(1, 10, seed=28), randn(1, 10, seed=29)),
    (randn(6, 1, seed=30), randn(6, 1, seed=31)),                  # one class: p = 1, gradient 0
    (randn(3, 2, 5, seed=36), randn(3, 2, 5, seed=37, scale=300.0)),
    (randn(4, 6, seed=38).astype(np.float32), randn(4, 6, seed=39, scale=3.0).astype(np.float32)),
], hints=mistakes.softmax_backward)
### END HIDDEN TESTS

# %% id="pytorch-softmax" tags=["demo"]
# PyTorch: F.softmax / F.log_softmax, and autograd for the backward pass, next to your NumPy functions.
my_softmax, my_log_softmax = use_yours(softmax, "losses.softmax"), use_yours(log_softmax, "losses.log_softmax")
my_softmax_backward = use_yours(softmax_backward, "losses.softmax_backward")
z = np.array([[1000.0, 0.0, -1000.0], [2.0, 1.0, 0.1]])
dP = np.array([[0.0, 1.0, 0.0], [1.0, -1.0, 0.5]])
zt = to_tensor(z, requires_grad=True)
F.softmax(zt, dim=-1).backward(to_tensor(dP))       # the vector-Jacobian product dP^T J, per row
with np.errstate(divide="ignore"):
    naive = np.log(my_softmax(z))
print("softmax      NumPy  :", np.array2string(my_softmax(z), precision=4).replace("\n", ""))
print("             PyTorch:", np.array2string(to_numpy(F.softmax(zt, dim=-1)), precision=4).replace("\n", ""))
print("log_softmax  NumPy  :", np.array2string(my_log_softmax(z), precision=4).replace("\n", ""))
print("             PyTorch:", np.array2string(to_numpy(F.log_softmax(zt, dim=-1)), precision=4).replace("\n", ""))
print("log(softmax) naive  :", np.array2string(naive, precision=4).replace("\n", ""), " <- -inf where the answer is -1000")
print("backward     NumPy  :", np.array2string(my_softmax_backward(dP, z), precision=4).replace("\n", ""))
print("             PyTorch:", np.array2string(to_numpy(zt.grad), precision=4).replace("\n", ""))


# %% [markdown] id="ce-theory"
# ## 3. Cross-entropy: the loss for classification
#
# A classifier outputs a probability for each class, $p = \operatorname{softmax}(z)$. If the true class
# of an example is $y$, a good model gives it a high probability. Cross-entropy is the negative log of
# that probability, averaged over the batch of $N$ examples:
#
# $$ \mathrm{CE}(Z, y) = -\frac{1}{N} \sum_{n=1}^{N} \log p_{n, y_n}
#    = \frac{1}{N} \sum_{n=1}^{N} \Big( \log \sum_j e^{z_{nj}} - z_{n, y_n} \Big). $$
#
# It is the **negative log-likelihood** of the labels under the model, so minimising it is maximum
# likelihood. Labels come in two spellings that give the same number: an integer class index $y_n$
# (Keras calls the loss *sparse* categorical cross-entropy, PyTorch's `F.cross_entropy` takes this),
# or a **one-hot** row $Y_n$ with a 1 at the true class (Keras's *categorical* cross-entropy):
# $-\log p_{n,y_n} = -\sum_k Y_{nk} \log p_{nk}$.
#
# Its gradient with respect to the logits is strikingly simple. For one example,
# $\partial/\partial z_k \,(\log\sum_j e^{z_j} - z_y) = p_k - [k = y]$, so for the batch mean
#
# $$ \frac{\partial\,\mathrm{CE}}{\partial Z} = \frac{1}{N}\,(P - Y), \qquad Y = \text{one-hot}(y). $$
#
# The complicated softmax Jacobian of section 2 cancels against the derivative of the log: that is why
# frameworks fuse softmax and cross-entropy into one function taking logits.

# %% [markdown] id="ex-one-hot"
# ### Exercise 6 — `one_hot` (1 point)
#
# Given integer `labels` of shape (N,) with values in $[0, C)$ and `n_classes` $= C$, return the
# (N, C) float64 array with a 1 at `[n, labels[n]]` and 0 elsewhere, whatever the labels' integer dtype.
# The number of columns is `n_classes`, even when the batch happens not to contain the last class.

# %% id="ch04_one_hot" nbgrader={"solution": true}
def one_hot(labels, n_classes):
    """(N,) integer labels -> (N, n_classes) float64 one-hot rows."""
    ### BEGIN SOLUTION
    out = np.zeros((labels.shape[0], n_classes))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out
    ### END SOLUTION


# %% id="ch04_one_hot_test" nbgrader={"grade": true, "locked": true, "points": 1}
check(one_hot, ref.one_hot, [
    (np.array([0, 2, 1]), 3),
    (randint(0, 5, 8, seed=36), 5),
    (np.array([0, 0, 1, 0]), 6),                 # the last classes never occur: still 6 columns
    (np.array([2, 2, 2], dtype=np.int32), 3),    # int32 labels
], hints=mistakes.one_hot)
### BEGIN HIDDEN TESTS
check(one_hot, ref.one_hot, [
    (np.array([1]), 4),                          # a batch of one
    (randint(0, 10, 50, seed=37), 10),
    (randint(0, 3, 7, seed=38).astype(np.int32), 5),
], hints=mistakes.one_hot)
### END HIDDEN TESTS

# %% [markdown] id="ex-ce"
# ### Exercise 7 — `cross_entropy` (2 points)
#
# Given `logits` of shape (N, C) and integer `labels` of shape (N,), return the mean cross-entropy as a
# number. Use your `log_softmax`. Logits of $\pm 1000$ must give the right, finite loss.
#
# <details><summary>Hint 1</summary>
#
# Of the (N, C) table of log-probabilities you need exactly N numbers: in row $n$, the column `labels[n]`.
# </details>
#
# <details><summary>Hint 2</summary>
#
# NumPy picks one entry per row when you index with two integer arrays of the same length: one for the rows
# (0, 1, ..., N-1), one for the columns (the labels). A slice `:` for the rows would pick an N x N block.
# </details>

# %% id="ch04_cross_entropy" nbgrader={"solution": true}
def cross_entropy(logits, labels):
    """Mean over the batch of -log softmax(logits)[n, labels[n]]."""
    ### BEGIN SOLUTION
    n = logits.shape[0]
    return float(-log_softmax(logits)[np.arange(n), labels].mean())
    ### END SOLUTION


# %% id="ch04_cross_entropy_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(exp_errors_explained(cross_entropy), ref.cross_entropy, [
    (np.array([[2.0, 1.0, 0.1]]), np.array([0])),
    (np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1001.0]]), np.array([2, 1, 0])),
    (randn(6, 4, seed=38, scale=2.0), randint(0, 4, 6, seed=39)),
    (randn(4, 3, seed=46).astype(np.float32), np.array([2, 2, 2, 2])),
], hints=mistakes.cross_entropy)
### BEGIN HIDDEN TESTS
check(exp_errors_explained(cross_entropy), ref.cross_entropy, [
    (randn(1, 10, seed=40), np.array([7])),                             # a batch of one
    (randn(5, 2, seed=41), np.array([0, 1, 1, 0, 1])),                  # two classes
    (randn(32, 10, seed=42, scale=3.0), randint(0, 10, 32, seed=43)),
    (randn(8, 5, seed=44, scale=1e3), randint(0, 5, 8, seed=45)),       # huge logits everywhere
    (randn(6, 4, seed=47).astype(np.float32), randint(0, 4, 6, seed=48)),
], hints=mistakes.cross_entropy)
### END HIDDEN TESTS

# %% [markdown] id="ex-ce-grad"
# ### Exercise 8 — `cross_entropy_grad` (3 points)
#
# Return $\partial\,\mathrm{CE}/\partial\,\text{logits} = (P - Y)/N$, shape (N, C). You may use your
# `softmax` and `one_hot`. Do not modify `logits`, and keep its dtype (float32 in, float32 out; the tests
# try both).
#
# <details><summary>Hint 1</summary>
#
# `one_hot` gives float64. What dtype does float32 minus float64 give in NumPy?
# </details>

# %% id="ch04_cross_entropy_grad" nbgrader={"solution": true}
def cross_entropy_grad(logits, labels):
    """(softmax(logits) - one_hot(labels)) / N."""
    ### BEGIN SOLUTION
    n = logits.shape[0]
    return (softmax(logits) - one_hot(labels, logits.shape[1]).astype(logits.dtype)) / n
    ### END SOLUTION


# %% id="ch04_cross_entropy_grad_test" nbgrader={"grade": true, "locked": true, "points": 3}
check(exp_errors_explained(cross_entropy_grad), ref.cross_entropy_grad, [
    (np.array([[2.0, 1.0, 0.1]]), np.array([0])),
    (np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1001.0]]), np.array([2, 1, 0])),
    (randn(6, 4, seed=47, scale=2.0), randint(0, 4, 6, seed=48)),
    (randn(4, 3, seed=55).astype(np.float32), np.array([2, 2, 2, 2])),          # float32 in, float32 out
], hints=mistakes.cross_entropy_grad)
### BEGIN HIDDEN TESTS
check(exp_errors_explained(cross_entropy_grad), ref.cross_entropy_grad, [
    (randn(1, 10, seed=49), np.array([7])),
    (randn(5, 2, seed=50), np.array([0, 1, 1, 0, 1])),
    (randn(32, 10, seed=51, scale=3.0), randint(0, 10, 32, seed=52)),
    (randn(8, 5, seed=53, scale=1e3), randint(0, 5, 8, seed=54)),
    (randn(6, 4, seed=56).astype(np.float32), randint(0, 4, 6, seed=57)),
], hints=mistakes.cross_entropy_grad)
### END HIDDEN TESTS

# %% id="pytorch-ce" tags=["demo"]
# PyTorch: F.cross_entropy takes logits and integer labels; autograd gives the gradient.
my_cross_entropy = use_yours(cross_entropy, "losses.cross_entropy")
my_cross_entropy_grad = use_yours(cross_entropy_grad, "losses.cross_entropy_grad")
logits = np.array([[1000.0, 0.0, -1000.0], [2.0, 1.0, 0.1], [0.5, 0.5, 3.0]])
labels = np.array([2, 0, 2])
zt = to_tensor(logits, requires_grad=True)
loss = F.cross_entropy(zt, to_tensor(labels))
loss.backward()
print(f"cross-entropy  NumPy {my_cross_entropy(logits, labels):.10f}   PyTorch {loss.item():.10f}")
print("gradient NumPy:\n", np.array2string(my_cross_entropy_grad(logits, labels), precision=5))
print("gradient PyTorch autograd:\n", np.array2string(to_numpy(zt.grad), precision=5))

# %% [markdown] id="ce-vs-mse-theory"
# ### Why cross-entropy and not MSE for classification
#
# Nothing stops us from putting the softmax probabilities into MSE against the one-hot target. The plot
# below shows why nobody does. Take 3 classes, hold the two wrong logits at 0 and move the logit of the
# true class, $z_\text{true}$, from very wrong (−10) to very right (+10). Left: the two losses; right:
# their gradient with respect to $z_\text{true}$, computed by **your** functions (the MSE gradient is
# `softmax_backward(mse_grad(p, y), z)`: the chain rule through softmax) and by PyTorch's autograd
# (dashed).

# %% id="plot-ce-vs-mse" tags=["demo"]
# Plot 1: cross-entropy vs MSE-on-probabilities, and their gradients, against the true class's logit.
my_mse, my_mse_grad = use_yours(mse, "losses.mse"), use_yours(mse_grad, "losses.mse_grad")
my_one_hot = use_yours(one_hot, "losses.one_hot")
z_true = np.linspace(-10, 10, 201)
target = np.array([0])
y_onehot = my_one_hot(target, 3)
curves, grads = {"cross-entropy": [], "MSE on softmax": []}, {"cross-entropy": [], "MSE on softmax": []}
for value in z_true:
    z = np.array([[value, 0.0, 0.0]])
    p = my_softmax(z)
    curves["cross-entropy"].append(my_cross_entropy(z, target))
    curves["MSE on softmax"].append(my_mse(p, y_onehot))
    grads["cross-entropy"].append(my_cross_entropy_grad(z, target)[0, 0])
    grads["MSE on softmax"].append(my_softmax_backward(my_mse_grad(p, y_onehot), z)[0, 0])
# The same curves from PyTorch: one row per value of z_true; summing the per-row losses keeps each row's gradient.
Zt = to_tensor(np.stack([z_true, 0 * z_true, 0 * z_true], axis=1), requires_grad=True)
Yt = to_tensor(np.zeros(len(z_true), dtype=np.int64))
ce_rows = F.cross_entropy(Zt, Yt, reduction="none")
mse_rows = ((F.softmax(Zt, dim=1) - F.one_hot(Yt, 3)) ** 2).mean(dim=1)
ce_grad_t = to_numpy(torch.autograd.grad(ce_rows.sum(), Zt)[0][:, 0])
mse_grad_t = to_numpy(torch.autograd.grad(mse_rows.sum(), Zt)[0][:, 0])
curves.update({"PyTorch cross-entropy": to_numpy(ce_rows), "PyTorch MSE": to_numpy(mse_rows)})
grads.update({"PyTorch cross-entropy": ce_grad_t, "PyTorch MSE": mse_grad_t})
styles = {"PyTorch cross-entropy": "k--", "PyTorch MSE": "k:"}
axes = loss_plots.plot_losses_and_gradients(z_true, {k: np.array(v) for k, v in curves.items()},
                                            {k: np.array(v) for k, v in grads.items()}, styles=styles)
axes[0].set_title("loss (true class's logit varies, others at 0)")
axes[1].set_title("d loss / d (true class's logit)")
plt.tight_layout()
plt.show()
print(f"at z_true = -10 (confidently wrong): cross-entropy gradient {grads['cross-entropy'][0]:.4f}, "
      f"MSE gradient {grads['MSE on softmax'][0]:.2e}")


# %% [markdown] id="ce-vs-mse-comment"
# Read the right panel from the left. When the model is **confidently wrong** ($z_\text{true} \ll 0$,
# $p_\text{true} \approx 0$), the cross-entropy gradient is $p_\text{true} - 1 \approx -1$: the
# strongest possible push in the right direction. The MSE gradient is almost **zero** there: it is
# $(p - y)$ times softmax's Jacobian, and the Jacobian $p_i(\delta_{ij} - p_j)$ vanishes when the
# probabilities saturate at 0 or 1. So with MSE a network that is badly wrong learns slowest exactly
# where it should learn fastest — the same saturation that makes sigmoid units slow (chapter 1).
# The loss curves tell the same story: cross-entropy grows without bound (linearly) as the true class
# gets less likely and punishes confident mistakes, while MSE flattens out (at 0.5 here; with 3 classes it can
# never exceed 2/3). Cross-entropy is
# also convex in the logits, which MSE on softmax is not. MSE remains the right loss for **regression**,
# where the output is an unbounded number, not a probability.

# %% [markdown] id="bce-theory"
# ## 4. Binary cross-entropy from logits
#
# With two classes, one logit $x$ is enough: $p = \sigma(x)$ is the probability of class 1, and for a
# target $y \in [0, 1]$ (usually 0 or 1)
#
# $$ \ell(x, y) = -\big[\, y \log \sigma(x) + (1 - y) \log (1 - \sigma(x)) \,\big]. $$
#
# Written like that it fails twice: $\sigma(1000) = 1$ exactly in float64, so $\log(1 - \sigma) =
# \log 0 = -\infty$, and $0 \cdot (-\infty)$ is `nan`. Losses that are given probabilities patch
# this: the Keras backend clips the probabilities it receives to $[10^{-7}, 1 - 10^{-7}]$ (so the loss
# never exceeds about 16.1), and PyTorch's `F.binary_cross_entropy` clamps each log at −100.
# The clean solution works with the logit.
# With $\log\sigma(x) = -\log(1 + e^{-x})$ and $\log(1-\sigma(x)) = -x - \log(1 + e^{-x})$, the loss is
# $\ell = (1 - y)\,x + \log(1 + e^{-x})$, and to keep the exponent non-positive for either sign of $x$:
#
# $$ \ell(x, y) = \max(x, 0) - x\,y + \log\!\big(1 + e^{-|x|}\big), \qquad
#    \frac{\partial \ell}{\partial x} = \sigma(x) - y. $$
#
# (`np.log1p(u)` computes $\log(1 + u)$ accurately for tiny $u$.) The mean over all $M$ entries is
# PyTorch's `F.binary_cross_entropy_with_logits`; its gradient is $(\sigma(x) - y)/M$ — the same
# "prediction minus target" shape as the softmax case. A model with several independent yes/no outputs
# (multi-label) uses one such logit per output, so the inputs may have any shape.

# %% [markdown] id="ex-bce"
# ### Exercise 9 — `bce_with_logits` (2 points)
#
# Given `logits` and `targets` of the same shape (targets in $[0, 1]$), return the mean binary
# cross-entropy as a number, finite and correct for logits of $\pm 1000$. Any shape (a multi-label model
# has one logit per output), targets may be soft (anywhere in $[0, 1]$).

# %% id="ch04_bce_with_logits" nbgrader={"solution": true}
def bce_with_logits(logits, targets):
    """Mean over every entry of max(x, 0) - x y + log(1 + exp(-|x|))."""
    ### BEGIN SOLUTION
    return float(np.mean(np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))))
    ### END SOLUTION


# %% id="ch04_bce_with_logits_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(bce_with_logits, ref.bce_with_logits, [
    (np.array([0.0, 2.0, -1.0]), np.array([1.0, 0.0, 1.0])),
    (np.array([1000.0, -1000.0, 1000.0, -1000.0]), np.array([1.0, 0.0, 0.0, 1.0])),   # 0, 0, 1000, 1000
    (randn(8, seed=56, scale=3.0), randint(0, 2, 8, seed=57).astype(np.float64)),
    (randn(6, 4, seed=58, scale=2.0), uniform(6, 4, low=0.0, high=1.0, seed=59)),     # soft targets, multi-label
    (randn(5, 3, seed=60).astype(np.float32), randint(0, 2, 5, 3, seed=61).astype(np.float32)),
], hints=mistakes.bce_with_logits, allow=("dlcourse.solved.networks.sigmoid",))
### BEGIN HIDDEN TESTS
check(bce_with_logits, ref.bce_with_logits, [
    (np.array([-3.0]), np.array([0.0])),                                       # one entry
    (np.array([745.0, -745.0, 1e5, -1e5]), np.array([0.0, 1.0, 1.0, 0.0])),
    (randn(3, 2, 4, seed=62, scale=4.0), uniform(3, 2, 4, low=0.0, high=1.0, seed=63)),
    (randn(7, seed=64).astype(np.float32), randint(0, 2, 7, seed=65).astype(np.float32)),
], hints=mistakes.bce_with_logits, allow=("dlcourse.solved.networks.sigmoid",))
### END HIDDEN TESTS

# %% [markdown] id="ex-bce-grad"
# ### Exercise 10 — `bce_with_logits_grad` (2 points)
#
# Return $\partial/\partial\,\text{logits}$ of your `bce_with_logits`: $(\sigma(x) - y)/M$ with $M$ the
# number of entries, in the logits' shape and dtype (float32 in, float32 out). A naive sigmoid overflows
# at $x = -1000$; use chapter 1's stable `sigmoid` (imported at the top) or your own.

# %% id="ch04_bce_with_logits_grad" nbgrader={"solution": true}
def bce_with_logits_grad(logits, targets):
    """Gradient of bce_with_logits with respect to the logits."""
    ### BEGIN SOLUTION
    return (sigmoid(logits) - targets) / logits.size
    ### END SOLUTION


# %% id="ch04_bce_with_logits_grad_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(bce_with_logits_grad, ref.bce_with_logits_grad, [
    (np.array([0.0, 2.0, -1.0]), np.array([1.0, 0.0, 1.0])),
    (np.array([1000.0, -1000.0, 1000.0, -1000.0]), np.array([1.0, 0.0, 0.0, 1.0])),
    (randn(8, seed=62, scale=3.0), randint(0, 2, 8, seed=63).astype(np.float64)),
    (randn(6, 4, seed=64, scale=2.0), uniform(6, 4, low=0.0, high=1.0, seed=65)),     # 2-D: M = 24 entries
    (randn(5, 3, seed=66).astype(np.float32), randint(0, 2, 5, 3, seed=67).astype(np.float32)),
], hints=mistakes.bce_with_logits_grad, allow=("dlcourse.solved.networks.sigmoid",))
### BEGIN HIDDEN TESTS
check(bce_with_logits_grad, ref.bce_with_logits_grad, [
    (np.array([-3.0]), np.array([0.0])),
    (np.array([745.0, -745.0, 1e5, -1e5]), np.array([0.0, 1.0, 1.0, 0.0])),
    (randn(3, 2, 4, seed=68, scale=4.0), uniform(3, 2, 4, low=0.0, high=1.0, seed=69)),
    (randn(7, seed=70).astype(np.float32), randint(0, 2, 7, seed=71).astype(np.float32)),
], hints=mistakes.bce_with_logits_grad, allow=("dlcourse.solved.networks.sigmoid",))
### END HIDDEN TESTS

# %% id="pytorch-bce" tags=["demo"]
# PyTorch: F.binary_cross_entropy_with_logits and autograd, next to yours; and the clipped, probability-based
# versions, which cannot tell a confident mistake at x = 20 from one at x = 1000.
my_bce, my_bce_grad = use_yours(bce_with_logits, "losses.bce_with_logits"), use_yours(bce_with_logits_grad, "losses.bce_with_logits_grad")
for x_value in [2.0, 20.0, 1000.0]:
    x, y = np.array([x_value]), np.array([0.0])          # target 0, the model says class 1 with logit x
    xt = to_tensor(x, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(xt, to_tensor(y))
    loss.backward()
    prob_loss = F.binary_cross_entropy(torch.sigmoid(to_tensor(x)), to_tensor(y)).item()
    print(f"x = {x_value:6.0f}: yours {my_bce(x, y):9.4f} (grad {my_bce_grad(x, y)[0]:.4f}) | "
          f"PyTorch from logits {loss.item():9.4f} (grad {xt.grad.item():.4f}) | "
          f"PyTorch from probabilities {prob_loss:7.2f} | Keras-style clipped {demos.clipped_bce(x, y):6.2f}")

# %% [markdown] id="metrics-theory"
# ## 5. Evaluation metrics: accuracy, precision, recall, F1
#
# The loss is what training minimises; people judge a classifier by **metrics** computed from its hard
# predictions $\hat y_n = \arg\max_k z_{nk}$. Everything starts from the **confusion matrix**: for $C$
# classes, the $C \times C$ table of counts
#
# $$ M_{ij} = \#\{ n : y_n = i,\ \hat y_n = j \} \qquad \text{(row: true class, column: predicted class)}, $$
#
# the convention of scikit-learn and of most textbooks. For class $k$: the **true positives**
# $TP_k = M_{kk}$; the **false positives** $FP_k$ are the rest of column $k$ (predicted $k$, but wrong);
# the **false negatives** $FN_k$ are the rest of row $k$ (really $k$, but missed). Then
#
# $$ \text{accuracy} = \frac{\sum_k M_{kk}}{N}, \quad
#    \text{precision}_k = \frac{TP_k}{TP_k + FP_k}, \quad
#    \text{recall}_k = \frac{TP_k}{TP_k + FN_k}, \quad
#    F1_k = \frac{2\,\text{precision}_k\,\text{recall}_k}{\text{precision}_k + \text{recall}_k}. $$
#
# Precision answers "when the model says $k$, how often is it right?"; recall answers "of all the real
# $k$s, how many did it find?". F1 is their **harmonic** mean, which is small as soon as either is small.
# **Macro F1** is the plain mean of the per-class F1 scores, so every class counts the same however rare
# it is. (Beware: some texts take the F1 of the mean precision and mean recall instead, which is a
# different number; scikit-learn and this course use the mean of the per-class F1s.)
#
# **The zero-division rule.** A class that is never predicted has $TP + FP = 0$, and its precision is
# $0/0$. This course, like scikit-learn's `zero_division=0`, defines every such ratio as **0**:
# precision 0 for a class never predicted, recall 0 for a class that never occurs, F1 0 when
# precision + recall is 0. Macro averages run over all `n_classes` classes. (The tests turn NumPy's
# "invalid value" warning, which a $0/0$ raises, into an error.)
#
# <details><summary>Hint: dividing only where it is defined</summary>
#
# `np.divide` takes an output array to start from and a `where=` mask: entries where the mask is false keep
# the output's starting value.
# </details>

# %% id="zero-division-rule" tags=["demo"]
with np.errstate(invalid="ignore"):
    print("NumPy's 0/0 is", np.float64(0.0) / np.float64(0.0), "- and the tests turn it into an error.")


# %% [markdown] id="ex-accuracy"
# ### Exercise 11 — `accuracy` (1 point)
#
# Given integer arrays `y_true` and `y_pred` of shape (N,), return the fraction (a number in [0, 1]) of
# examples where they agree.

# %% id="ch04_accuracy" nbgrader={"solution": true}
def accuracy(y_true, y_pred):
    """Share of examples whose predicted class equals the true class."""
    ### BEGIN SOLUTION
    return float(np.mean(y_true == y_pred))
    ### END SOLUTION


# %% id="ch04_accuracy_test" nbgrader={"grade": true, "locked": true, "points": 1}
check(accuracy, ref_metrics.accuracy, [
    (np.array([0, 1, 2, 1]), np.array([0, 2, 2, 1])),      # 3 of 4
    (randint(0, 3, 20, seed=68), randint(0, 3, 20, seed=69)),
    (np.array([0, 1, 0]), np.array([1, 0, 1])),             # all wrong
], hints=mistakes.accuracy)
### BEGIN HIDDEN TESTS
check(accuracy, ref_metrics.accuracy, [
    (np.array([4]), np.array([4])),
    (randint(0, 10, 500, seed=70), randint(0, 10, 500, seed=71)),
], hints=mistakes.accuracy)
### END HIDDEN TESTS

# %% [markdown] id="ex-confusion"
# ### Exercise 12 — `confusion_matrix` (2 points)
#
# Return the (n_classes, n_classes) **integer** array $M$ with $M_{ij}$ = number of examples of true
# class $i$ predicted as $j$. Every example counts, also when the same (true, predicted) pair occurs many
# times; `n_classes` rows and columns, also for classes that never occur.
#
# <details><summary>Hint 1</summary>
#
# Indexing `M` with the two label arrays and adding 1 looks right, but try it on two equal pairs: NumPy
# applies `+=` with fancy indexing once per *distinct* index.
# </details>
#
# <details><summary>Hint 2</summary>
#
# NumPy has an *unbuffered* in-place add for exactly this (`np.add.at`); `np.bincount` of a combined index
# `i * n_classes + j`, or a plain loop, work too.
# </details>

# %% id="ch04_confusion_matrix" nbgrader={"solution": true}
def confusion_matrix(y_true, y_pred, n_classes):
    """M[i, j] = number of examples with true class i and predicted class j."""
    ### BEGIN SOLUTION
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts
    ### END SOLUTION


# %% id="ch04_confusion_matrix_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(confusion_matrix, ref_metrics.confusion_matrix, [
    (np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 1, 1, 2, 0]), 3),
    (randint(0, 4, 30, seed=72), randint(0, 4, 30, seed=73), 4),
    (np.array([0, 1, 0, 1]), np.array([0, 0, 0, 0]), 5),            # classes 2..4 never seen
], hints=mistakes.confusion_matrix)
### BEGIN HIDDEN TESTS
check(confusion_matrix, ref_metrics.confusion_matrix, [
    (np.array([1]), np.array([2]), 3),                              # one example
    (randint(0, 10, 300, seed=74), randint(0, 10, 300, seed=75), 10),
], hints=mistakes.confusion_matrix)
### END HIDDEN TESTS

# %% [markdown] id="ex-prf"
# ### Exercise 13 — `precision_recall_f1` (3 points)
#
# Return a tuple `(precision, recall, f1)` of three float arrays of shape (n_classes,), one entry per
# class, with the zero-division rule above. You may use your `confusion_matrix`: its column sums count
# how often each class was predicted, its row sums how often each class occurs.

# %% id="ch04_precision_recall_f1" nbgrader={"solution": true}
def precision_recall_f1(y_true, y_pred, n_classes):
    """Per-class precision, recall and F1; every 0/0 counts as 0."""
    ### BEGIN SOLUTION
    counts = confusion_matrix(y_true, y_pred, n_classes)
    tp = np.diag(counts).astype(float)
    predicted, actual = counts.sum(axis=0), counts.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros(n_classes), where=predicted != 0)
    recall = np.divide(tp, actual, out=np.zeros(n_classes), where=actual != 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros(n_classes), where=both != 0)
    return precision, recall, f1
    ### END SOLUTION


# %% id="ch04_precision_recall_f1_test" nbgrader={"grade": true, "locked": true, "points": 3}
prf = zero_division_explained(precision_recall_f1)
check(prf, ref_metrics.precision_recall_f1, [
    (np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 1, 1, 2, 0]), 3),
    (np.array([0, 1, 2, 2]), np.array([0, 1, 1, 1]), 3),           # class 2 is never predicted: precision 0
    (np.array([0, 0, 0, 0]), np.array([0, 1, 0, 1]), 2),           # class 1 never occurs: recall 0
    (np.array([0, 1, 0, 1]), np.array([0, 0, 0, 0]), 4),           # classes 2, 3 neither occur nor are predicted
    (randint(0, 4, 30, seed=76), randint(0, 4, 30, seed=77), 4),
], output_names=("precision", "recall", "f1"), hints=mistakes.precision_recall_f1)
### BEGIN HIDDEN TESTS
check(prf, ref_metrics.precision_recall_f1, [
    (np.array([3]), np.array([3]), 5),                             # one example
    (np.array([0, 1]), np.array([1, 0]), 2),                       # all wrong: precision = recall = 0, F1 = 0
    (randint(0, 10, 300, seed=78), randint(0, 10, 300, seed=79), 10),
], output_names=("precision", "recall", "f1"), hints=mistakes.precision_recall_f1)
### END HIDDEN TESTS

# %% [markdown] id="ex-macro-f1"
# ### Exercise 14 — `macro_f1` (1 point)
#
# Return the macro F1 (a number): the mean over all `n_classes` classes of the per-class F1.

# %% id="ch04_macro_f1" nbgrader={"solution": true}
def macro_f1(y_true, y_pred, n_classes):
    """Mean of the per-class F1 scores over all n_classes classes."""
    ### BEGIN SOLUTION
    return float(precision_recall_f1(y_true, y_pred, n_classes)[2].mean())
    ### END SOLUTION


# %% id="ch04_macro_f1_test" nbgrader={"grade": true, "locked": true, "points": 1}
check(zero_division_explained(macro_f1), ref_metrics.macro_f1, [
    (np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 1, 1, 2, 0]), 3),
    (randint(0, 4, 30, seed=80), randint(0, 4, 30, seed=81), 4),
    (np.array([0, 1, 0, 1]), np.array([0, 0, 0, 0]), 4),           # classes 2, 3 count with F1 = 0
], hints=mistakes.macro_f1)
### BEGIN HIDDEN TESTS
check(zero_division_explained(macro_f1), ref_metrics.macro_f1, [
    (np.array([2]), np.array([2]), 3),
    (randint(0, 10, 300, seed=82), randint(0, 10, 300, seed=83), 10),
], hints=mistakes.macro_f1)
### END HIDDEN TESTS

# %% [markdown] id="imbalance-theory"
# ### When accuracy misleads
#
# A screening test for a rare illness: of 1000 people, 30 are ill (class 1). Model A is lazy and calls
# everybody healthy. Model B is a real detector: it gives each person a score and flags everyone whose
# score exceeds 1.5; it finds most of the ill and raises some false alarms. Compare their numbers (computed by your functions;
# the PyTorch reference computation is printed below them for model B).

# %% id="imbalance-code" tags=["demo"]
my_accuracy = use_yours(accuracy, "metrics.accuracy")
my_confusion_matrix = use_yours(confusion_matrix, "metrics.confusion_matrix")
my_prf = use_yours(precision_recall_f1, "metrics.precision_recall_f1")
my_macro_f1 = use_yours(macro_f1, "metrics.macro_f1")

rng = np.random.default_rng(0)
ill = np.zeros(1000, dtype=np.int64)
ill[rng.choice(1000, size=30, replace=False)] = 1
score = ill * 2.5 + rng.standard_normal(1000)           # the detector's evidence of illness
models = {"A: always 'healthy'": np.zeros(1000, dtype=np.int64), "B: detector (score > 1.5)": (score > 1.5).astype(np.int64)}
print(f"{'model':28s} {'accuracy':>9s} {'precision(ill)':>15s} {'recall(ill)':>12s} {'F1(ill)':>8s} {'macro F1':>9s}")
for name, predicted in models.items():
    precision, recall, f1 = my_prf(ill, predicted, 2)
    print(f"{name:28s} {my_accuracy(ill, predicted):9.3f} {precision[1]:15.3f} {recall[1]:12.3f} {f1[1]:8.3f} "
          f"{my_macro_f1(ill, predicted, 2):9.3f}")
precision_t, recall_t, f1_t = ref_metrics.precision_recall_f1(ill, models["B: detector (score > 1.5)"], 2)
print(f"{'B, PyTorch reference':28s} {ref_metrics.accuracy(ill, models['B: detector (score > 1.5)']):9.3f} "
      f"{precision_t[1]:15.3f} {recall_t[1]:12.3f} {f1_t[1]:8.3f} {ref_metrics.macro_f1(ill, models['B: detector (score > 1.5)'], 2):9.3f}")

# %% id="plot-imbalance" tags=["demo"]
# Plot 2: the two confusion matrices. A's accuracy is high only because the healthy class is large.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
for ax, (name, predicted) in zip(axes, models.items()):
    loss_plots.plot_confusion_matrix(my_confusion_matrix(ill, predicted, 2), ax=ax, class_names=["healthy", "ill"],
                                     title=f"{name}\naccuracy {my_accuracy(ill, predicted):.1%}")
plt.tight_layout()
plt.show()

# %% [markdown] id="imbalance-comment"
# Model A scores **97 %** accuracy and is useless: it finds none of the ill (recall 0; its precision for
# "ill" is 0 by our zero-division rule, since it never says "ill"). Model B has *lower* accuracy because
# of its false alarms, yet it finds most of the ill, and its precision says what share of its alarms are
# real. With imbalanced classes, accuracy mostly measures the majority class; report per-class
# precision and recall (or macro F1, which weighs every class the same), and decide which error costs
# more — for a screening test a missed illness (low recall) is usually worse than a false alarm. Accuracy
# is a fair summary only when the classes are roughly balanced and all mistakes cost the same.

# %% [markdown] id="e4-theory"
# ## 6. Worked example E4: the Keras MLP 784-128-10, in NumPy and in PyTorch
#
# One of the source articles trains this model on MNIST:
#
# ```python
# model = keras.Sequential([
#     keras.layers.Dense(128, activation="relu", input_shape=(784,)),
#     keras.layers.Dense(10, activation="softmax"),
# ])
# model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
# model.fit(x_train, y_train, epochs=5)        # Keras's default batch size is 32
# ```
#
# *Sparse* categorical cross-entropy is this chapter's `cross_entropy` with integer labels. Keras puts
# the softmax in the model and the loss takes probabilities; PyTorch and this course keep the last layer
# linear (logits) and put the softmax inside the loss — the same model, computed the stable way of
# section 2. Its parameter count, checked with PyTorch, is $784 \cdot 128 + 128 + 128 \cdot 10 + 10 =
# 101{,}770$.
#
# **From MNIST to the offline digits.** An MNIST image has $28 \times 28 = 784$ grey pixels (0..255,
# scaled to [0, 1]), flattened into the 784 inputs. The course's offline digits set has $8 \times 8 = 64$
# pixels (each counts the ink in a $4 \times 4$ block of a $32 \times 32$ scan, 0..16, scaled to [0, 1]),
# flattened into 64 inputs. Only the first layer changes, from $784 \times 128$ to $64 \times 128$
# weights: the model is 64-128-10 with $64 \cdot 128 + 128 + 1290 = 9{,}610$ parameters. Everything
# else — ReLU, 10 logits, Adam with learning rate $10^{-3}$, batch 32, 5 epochs, sparse cross-entropy —
# is as in the article. We hold out a seeded 20 % of the images as a test set that training never sees.

# %% id="e4-count" tags=["demo"]
e4_torch = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
print(e4_torch)
e4_count = sum(p.numel() for p in e4_torch.parameters())
print(f"PyTorch counts {e4_count:,} parameters; the course's count_params says "
      f"{count_params([784, 128, 10]):,}")
assert e4_count == count_params([784, 128, 10]) == 101_770

images, digit_labels = data.load_digits()
X_digits = images.reshape(len(images), -1)                  # (1797, 8, 8) -> (1797, 64), like 28x28 -> 784
order = np.random.default_rng(0).permutation(len(X_digits))
n_test = len(X_digits) // 5
test_index, train_index = order[:n_test], order[n_test:]
X_train, y_train = X_digits[train_index], digit_labels[train_index]
X_test, y_test = X_digits[test_index], digit_labels[test_index]
layer_sizes = [X_digits.shape[1], 128, 10]
print(f"digits: {len(X_train)} training and {len(X_test)} test images, {X_digits.shape[1]} inputs; "
      f"model {'-'.join(map(str, layer_sizes))} with {ref_networks.count_params(layer_sizes):,} parameters (PyTorch's count)")

# %% id="e4-train" tags=["demo"]
# The same start for both: He-initialised weights (Keras would use Glorot-uniform; either works here).
initial = init_params(layer_sizes, "he", seed=0)
settings = dict(epochs=5, batch_size=32, seed=0)

numpy_params = copy.deepcopy(initial)          # fit_mlp trains in place: forward, cross_entropy_grad, backward, Adam
numpy_history = fit_mlp(numpy_params, X_train, y_train, Adam(lr=1e-3), validation=(X_test, y_test), **settings)
numpy_predicted = mlp_forward(X_test, numpy_params)[0].argmax(axis=1)

torch_model, torch_history = fit_torch_mlp(copy.deepcopy(initial), X_train, y_train, optimizer="adam", lr=1e-3,
                                           dtype=torch.float64, **settings)     # nn.Sequential, F.cross_entropy, torch.optim.Adam
with torch.no_grad():
    torch_predicted = to_numpy(torch_model(to_tensor(X_test)).argmax(dim=1))
torch32_model, _ = fit_torch_mlp(copy.deepcopy(initial), X_train, y_train, optimizer="adam", lr=1e-3, **settings)

numpy_accuracy, torch_accuracy64 = my_accuracy(y_test, numpy_predicted), my_accuracy(y_test, torch_predicted)
print("epoch  NumPy loss   PyTorch loss   |difference|")
for epoch, (a, b) in enumerate(zip(numpy_history["loss"], torch_history), start=1):
    print(f"{epoch:5d}  {a:10.6f}   {b:12.6f}   {abs(a - b):.1e}")
print(f"test accuracy: NumPy {numpy_accuracy:.2%}, PyTorch (float64) {torch_accuracy64:.2%}, "
      f"PyTorch in its default float32 {torch_accuracy(torch32_model, X_test, y_test):.2%}")

# %% id="plot-e4" tags=["demo"]
# Plot 3: training curves of both implementations, and the test set's confusion matrix (your functions).
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
epochs = np.arange(1, settings["epochs"] + 1)
axes[0].plot(epochs, numpy_history["loss"], "o-", label="NumPy: training loss")
axes[0].plot(epochs, torch_history, "k--", label="PyTorch: training loss")
axes[0].plot(epochs, numpy_history["val_loss"], "s-", label="NumPy: test loss")
axes[0].set_xlabel("epoch")
axes[0].set_xticks(epochs)
axes[0].set_ylabel("cross-entropy")
axes[0].set_title("E4 on the digits: NumPy and PyTorch")
axes[0].legend()
loss_plots.plot_confusion_matrix(my_confusion_matrix(y_test, numpy_predicted, 10), ax=axes[1],
                                 title=f"NumPy model on the test set, accuracy {numpy_accuracy:.1%}")
plt.tight_layout()
plt.show()
precision, recall, f1 = my_prf(y_test, numpy_predicted, 10)
print("digit      " + " ".join(f"{d:6d}" for d in range(10)))
for name, values in [("precision", precision), ("recall", recall), ("F1", f1)]:
    print(f"{name:10s} " + " ".join(f"{v:6.3f}" for v in values))
print(f"macro F1 {my_macro_f1(y_test, numpy_predicted, 10):.3f}")

# %% [markdown] id="e4-comment"
# (The training loss is averaged over each epoch's batches while the model was still improving, so it
# lies above the test loss, which is measured at the epoch's end.)
#
# The two implementations agree step for step: the same initial weights, the same mini-batches, the same
# Adam, in the same float64 precision, so the losses match to rounding error (the differences printed
# above) and so do the predictions. PyTorch's default float32 changes the last digits of the weights,
# which can flip at most a borderline prediction or two (compare the float32 accuracy printed above).
# On these balanced classes accuracy and macro F1 tell a similar story; the per-class table shows which
# digits the model still gets wrong, and the confusion matrix shows what it takes them for.
#
# **Scaling up.** With MNIST (`dlcourse.data.downloads.load_mnist()` fetches it when there is a
# network; chapter 7 uses it), flatten the 28x28 images to 784 inputs and use
# `layer_sizes = [784, 128, 10]` — the article's 101,770 parameters — on its 60,000 training images. The
# code above does not change, only the time: about 40x more data and 12x more first-layer weights
# (a GPU makes the PyTorch side fast).

# %% [markdown] id="summary"
# ## Summary
#
# * Every loss here is a **mean**, so its gradient carries $1/M$: MSE's is $2(\hat y - y)/M$ with $M$ the
#   number of entries, cross-entropy's $(P - Y)/N$ with $N$ the batch size, binary cross-entropy's
#   $(\sigma(x) - y)/M$.
# * **Softmax** turns logits into probabilities; subtract each row's maximum first (the **log-sum-exp
#   trick**) and logits of ±1000 stay finite. Compute **log-softmax** directly, never `log(softmax)`.
#   Softmax's backward pass is $p \odot (dP - \sum dP \odot p)$.
# * **Cross-entropy** from logits and integer labels is $-\frac1N\sum_n \log p_{n,y_n}$; fused with
#   softmax its gradient is simply $(P - Y)/N$. Binary cross-entropy from a logit is
#   $\max(x, 0) - xy + \log(1 + e^{-|x|})$.
# * For classification, cross-entropy beats MSE on probabilities: its gradient stays large when the model
#   is confidently wrong, where MSE's vanishes.
# * **Metrics** come from the confusion matrix (rows true, columns predicted). Precision asks how many
#   alarms are right, recall how many cases are found, F1 is their harmonic mean; 0/0 counts as 0 here.
#   On imbalanced data accuracy can be high for a useless model: look at per-class recall and macro F1.
# * **E4**: the article's 784-128-10 Keras model has 101,770 parameters; on the 8x8 digits (64-128-10)
#   the from-scratch NumPy model and PyTorch train identically.
#
# **Next:** chapter 5 builds convolutional and recurrent networks on top of these losses.
#
# ## Glossary / 术语表
#
# | English | 中文 |
# |---|---|
# | loss function | 损失函数 |
# | mean squared error (MSE) | 均方误差 |
# | cross-entropy (categorical / sparse categorical) | 交叉熵（分类 / 稀疏分类交叉熵） |
# | binary cross-entropy | 二元交叉熵 |
# | negative log-likelihood, maximum likelihood | 负对数似然，最大似然 |
# | logits | 对数几率 / 未归一化的对数概率（logits） |
# | softmax / log-softmax | softmax 函数（归一化指数函数）/ 对数 softmax |
# | log-sum-exp trick | log-sum-exp 技巧（对数求和指数技巧） |
# | overflow / underflow | 上溢 / 下溢 |
# | numerical stability | 数值稳定性 |
# | one-hot encoding | 独热编码 |
# | label / class | 标签 / 类别 |
# | Jacobian | 雅可比矩阵 |
# | gradient | 梯度 |
# | evaluation metric | 评估指标 |
# | accuracy | 准确率 |
# | precision | 精确率（查准率） |
# | recall | 召回率（查全率） |
# | F1 score, harmonic mean | F1 分数，调和平均数 |
# | macro average | 宏平均 |
# | confusion matrix | 混淆矩阵 |
# | true positive / false positive / false negative | 真正例 / 假正例 / 假反例 |
# | class imbalance | 类别不平衡 |
# | training set / test set | 训练集 / 测试集 |

# %% [markdown] id="progress-title"
# ## Your progress
#
# Which exercises of this notebook pass in this session, and their points (run every test cell first,
# or *Run All*). `dlcourse progress` in a terminal shows every chapter, in fresh kernels.

# %% id="progress" tags=["demo"]
from dlcourse.progress import progress_table

progress_table()
