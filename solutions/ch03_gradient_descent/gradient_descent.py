# %% [markdown] id="title"
# # Chapter 3 — Gradient descent: batch, stochastic, mini-batch, and the learning rate
#
# **Learning goals.** After this notebook you can
#
# 1. cut a data set into shuffled, seeded mini-batches, exactly as PyTorch's `DataLoader` does;
# 2. write the gradient-descent step $\theta \leftarrow \theta - \eta\,\nabla L(\theta)$ for a dict of parameters;
# 3. derive and code the loss and gradients of linear regression (MSE) and logistic regression
#    (binary cross-entropy), and check them against PyTorch's autograd;
# 4. write one training loop that runs **batch**, **stochastic** and **mini-batch** gradient descent, and
#    show that `torch.optim.SGD`, fed the same batches, takes exactly the same steps;
# 5. explain what each variant costs per step, how noisy it is and how it converges — and why a learning
#    rate can be too small, right, or make training diverge;
# 6. say when gradient descent is guaranteed to find a **global** minimum (convex, smooth, a minimum that
#    exists, a small enough step) and why a neural network comes with no such guarantee.
#
# **How this notebook works.** Each exercise is a NumPy function with a stub
# (`raise NotImplementedError()`). Replace the stub with your code, run the cell, then run the test
# cell below it: it compares your function with PyTorch on fixed and on random inputs and tells you
# what differs. Cells that only *show* things use your functions once they work and the course's solved
# versions until then. Chapter 1's and 2's building blocks (activations, MLP forward and backward)
# come already solved from the package. Nothing here needs a GPU.

# %% id="setup"
import time

import numpy as np
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch.utils.data import BatchSampler, DataLoader, TensorDataset

from dlcourse import data, plots
from dlcourse.cases import gradient_descent as cases
from dlcourse.checking import Inputs, check, check_seeded, randn
from dlcourse.demos import gradient_descent as demos
from dlcourse.device import describe, to_numpy, to_tensor
from dlcourse.exercises import use_yours
from dlcourse.mistakes import gradient_descent as mistakes
from dlcourse.plots import gradient_descent as gd_plots
from dlcourse.reference import gradient_descent as ref
from dlcourse.solved.networks import init_params, mlp_forward, sigmoid  # chapter 1's solved blocks

torch.manual_seed(0)
# This chapter's tensors are tiny (tens of numbers): handing them to several CPU threads costs more
# than it saves, so PyTorch gets one thread (a GPU, if there is one, is not affected).
torch.set_num_threads(1)
print(describe())


# %% [markdown] id="gd-theory"
# ## 1. Gradient descent
#
# Training a model means choosing its parameters $\theta$ (weights and biases) to make a **loss** small.
# The loss on a data set of $N$ examples is an average of per-example losses:
#
# $$ L(\theta) = \frac{1}{N} \sum_{i=1}^{N} \ell(\theta;\, x_i, y_i). $$
#
# The gradient $\nabla L(\theta)$ points to where $L$ grows fastest, so a small step against it lowers
# the loss. **Gradient descent** repeats that step with a **learning rate** $\eta > 0$:
#
# $$ \theta_{t+1} = \theta_t - \eta\, \nabla L(\theta_t). $$
#
# The gradient of an average is the average of the per-example gradients, which costs $N$ gradient
# evaluations. The three variants differ only in **how many examples estimate the gradient** of one step:
#
# | variant | examples per step | steps per epoch | cost of one step | the gradient it follows |
# |---|---|---|---|---|
# | batch (full-batch) | all $N$ | 1 | $N$ | exact |
# | stochastic (SGD) | 1 | $N$ | 1 | a very noisy estimate |
# | mini-batch | $B$ (e.g. 16–512) | $\lceil N/B \rceil$ | $B$ | an estimate whose variance falls like $1/B$ |
#
# An **epoch** is one pass over the data: every example is used once. Mini-batches are drawn by
# shuffling the examples at the start of every epoch and cutting the shuffled order into consecutive
# pieces of $B$; the last piece is smaller when $B$ does not divide $N$ (PyTorch's
# `DataLoader(..., drop_last=False)`, its default). Shuffling matters: data sets are often sorted (by
# class, by date), and batches that always come in the same order bias every epoch the same way.
#
# Honest trade-offs, which the experiments in section 5 show:
#
# * **Batch** gradient descent takes the exact gradient, so with a small enough learning rate every step
#   lowers the loss; but one step costs a whole pass over the data, and with millions of examples you
#   get very few steps.
# * **Stochastic** gradient descent takes $N$ cheap steps per epoch and makes fast early progress, but
#   each step follows a noisy estimate: with a constant learning rate it never settles, it keeps
#   jittering around the minimum (a decaying learning rate fixes that). Its one-example steps also
#   waste the vectorised hardware (NumPy, GPUs) that computes 64 examples about as fast as one.
# * **Mini-batch** is the compromise everyone uses: little enough noise, many steps per epoch, and
#   batches that fill the hardware. What deep-learning libraries call "SGD" (`torch.optim.SGD`) is the
#   update rule; whether it is batch, stochastic or mini-batch depends only on the batches you feed it.

# %% [markdown] id="ex-minibatches"
# ### Exercise 1 — `minibatches` (3 points)
#
# Write a function that gives the mini-batches of one epoch, as pairs `(X_batch, y_batch)`:
#
# * `X` has one example per row (shape `(N, ...)`), `y` the matching targets (shape `(N,)` or `(N, ...)`);
#   the batches keep their dtypes (float32 stays float32, integer labels stay integers).
# * If `shuffle` is true, visit the examples in the order `order = np.random.default_rng(seed).permutation(N)`
#   — exactly this call, so that your batches can be compared with the reference; otherwise in the order
#   `0, 1, ..., N-1`.
# * The batches are `order[0:B]`, `order[B:2B]`, ...; **keep the last, smaller batch**.
# * Index `X` and `y` with the **same** rows, and do not change `X` or `y`.
# * Check the inputs first and raise a `ValueError` with a clear message when `X` and `y` hold different
#   numbers of examples, or when `batch_size` is not a positive integer (`int` or `np.integer`, at least 1:
#   `2.5` and `True` are not).
#
# Return a list of the pairs, or `yield` them one by one (a *generator*, what PyTorch's `DataLoader` is);
# the tests accept both. (With a generator, the checks run when the first batch is asked for.)
#
# <details><summary>Hint 1</summary>
#
# The starts of the batches are 0, B, 2B, ...: Python's `range` can count in steps of B, and slicing past the
# end of an array simply stops at its end, which gives the last, smaller batch for free.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Slice the *order* (an array of row numbers), then index `X` and `y` with that same slice of row numbers.
# </details>

# %% id="ch03_minibatches" nbgrader={"solution": true}
def minibatches(X, y, batch_size, seed=0, shuffle=True):
    """The (X_batch, y_batch) pairs of one epoch, in a seeded shuffled order, the last partial batch kept."""
    ### BEGIN SOLUTION
    if len(X) != len(y):
        raise ValueError(f"X and y hold different numbers of examples: {len(X)} and {len(y)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    n = len(X)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    for start in range(0, n, batch_size):
        rows = order[start:start + batch_size]
        yield X[rows], y[rows]
    ### END SOLUTION


# %% id="ch03_minibatches_test" nbgrader={"grade": true, "locked": true, "points": 3}
# The reference: DataLoader(TensorDataset(X, y), sampler=BatchSampler(order, batch_size, drop_last=False)).
my_batches = cases.listed(minibatches)  # your batches as a list, so check() can compare them
X_small, y_small = np.arange(10.0).reshape(5, 2), np.arange(5)
check(my_batches, ref.minibatches, [
    Inputs(X_small, y_small, 2, shuffle=False),      # rows (0, 1), (2, 3), (4): the last batch is smaller
    Inputs(X_small, y_small, 2, seed=0),             # the same, shuffled
    Inputs(randn(13, 3, seed=1), randn(13, seed=2), 4, seed=3),
    Inputs(randn(7, 3, seed=10), np.arange(7) % 3, 10, seed=1),                   # batch larger than N, integer labels
    Inputs(randn(11, 2, 3, seed=17), randn(11, seed=18), np.int64(4), seed=9),    # 3-D X, a NumPy integer size
    Inputs(randn(9, 3, seed=19).astype(np.float32), randn(9, seed=20).astype(np.float32), 4, seed=11),  # float32 kept
], hints=mistakes.minibatches)
check_seeded(my_batches, randn(20, 2, seed=6), randn(20, seed=7), 6)
cases.check_rejects(my_batches, [
    ((randn(5, 2, seed=8), randn(4, seed=9), 2), {}, "X has 5 examples and y has 4"),
    ((X_small, y_small, 0), {}, "batch_size is 0"),
    ((X_small, y_small, 2.5), {}, "batch_size is not an integer"),
])
### BEGIN HIDDEN TESTS
check(my_batches, ref.minibatches, [
    Inputs(randn(12, 2, seed=4), randn(12, seed=5), 3, seed=7),
    Inputs(randn(8, 2, seed=11), randn(8, 1, seed=12), 8, seed=2),                      # one full batch, 2-D targets
    Inputs(randn(5, 2, seed=13), randn(5, seed=14), 1, seed=5),                         # batches of one
    Inputs(randn(1, 4, seed=15), randn(1, seed=16), 3),                                 # one example
    Inputs(randn(6, 2, seed=21), randn(6, seed=22), 4, seed=3, shuffle=False),
    Inputs(randn(10, 4, seed=26).astype(np.float32), np.arange(10), 3, seed=12),
], hints=mistakes.minibatches)
check_seeded(my_batches, randn(30, 3, seed=23), np.arange(30), 7, shuffle=True)
cases.check_rejects(my_batches, [
    ((randn(3, 2, seed=24), randn(6, seed=25), 2), {}, "X has 3 examples and y has 6"),
    ((X_small, y_small, -2), {}, "batch_size is negative"),
])
### END HIDDEN TESTS

# %% [markdown] id="pytorch-batches"
# ### The same in PyTorch
#
# PyTorch splits the work in three: a `Dataset` gives examples by index, a *sampler* gives the order of the
# indices, and a `DataLoader` puts them together into batches. `DataLoader(dataset, batch_size=B,
# shuffle=True)` shuffles with PyTorch's own random generator; to get *our* order we hand it a
# `BatchSampler` over our permutation. Both sides print the same batches:

# %% id="pytorch-batches-code" tags=["demo"]
my_minibatches = use_yours(minibatches, "gradient_descent.minibatches")
X_demo, y_demo = np.arange(14.0).reshape(7, 2), np.arange(7)
for X_batch, y_batch in my_minibatches(X_demo, y_demo, 3, seed=0):
    print("NumPy  :", y_batch, X_batch[:, 0])
order = np.random.default_rng(0).permutation(7)
loader = DataLoader(TensorDataset(torch.as_tensor(X_demo), torch.as_tensor(y_demo)),
                    sampler=BatchSampler(order.tolist(), batch_size=3, drop_last=False), batch_size=None)
for X_batch, y_batch in loader:
    print("PyTorch:", to_numpy(y_batch), to_numpy(X_batch[:, 0]))


# %% [markdown] id="ex-gd-step"
# ### Exercise 2 — `gd_step` (1 point)
#
# The parameters of a model live in a dict, `{"W": array, "b": array}`, and so do their gradients.
# Write the gradient-descent step: for every parameter that **has** a gradient in `grads`,
#
# $$ p \leftarrow p - \eta\, \frac{\partial L}{\partial p}. $$
#
# Change the arrays of `params` **in place**, as `torch.optim.SGD.step()` changes its tensors in place,
# and return nothing. A parameter missing from `grads` stays as it is (PyTorch skips a parameter whose
# `.grad` is `None`: that is how layers are *frozen*; the tests freeze one). Do not change `grads`.
# Float32 parameters stay float32.
#
# <details><summary>Hint 1</summary>
#
# "In place" means the caller's arrays themselves change: the dict you were given must hold the new values
# when your function returns, in the very same array objects.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Loop over the gradients you were given, not over the parameters (a frozen parameter has no gradient), and
# use an augmented assignment on the dict's entry: it writes into the existing array.
# </details>

# %% id="ch03_gd_step" nbgrader={"solution": true}
def gd_step(params, grads, lr):
    """One gradient-descent step, in place: params[k] -= lr * grads[k] for every k in grads."""
    ### BEGIN SOLUTION
    for key, grad in grads.items():
        params[key] -= lr * grad
    ### END SOLUTION


# %% id="ch03_gd_step_test" nbgrader={"grade": true, "locked": true, "points": 1}
# cases.after_step(gd_step) runs your gd_step on a copy of params and returns that copy.
check(cases.after_step(gd_step), ref.gd_step, [
    (dict(w=np.array([1.0, 2.0]), b=np.array([0.5])), dict(w=np.array([0.5, -1.0]), b=np.array([1.0])), 0.1),
    ({"W": randn(3, 4, seed=30), "b": randn(3, seed=31)}, {"W": randn(3, 4, seed=32), "b": randn(3, seed=33)}, 0.01),
    ({"W": randn(2, 3, seed=34), "b": randn(2, seed=35)}, {"W": randn(2, 3, seed=36)}, 0.5),     # b is frozen
    ({"W": randn(3, 2, seed=49).astype(np.float32)}, {"W": randn(3, 2, seed=50).astype(np.float32)}, 0.1),  # float32
], name="gd_step", hints=mistakes.gd_step)
### BEGIN HIDDEN TESTS
check(cases.after_step(gd_step), ref.gd_step, [
    ({"W1": randn(4, 3, seed=37), "b1": randn(4, seed=38), "W2": randn(1, 4, seed=39), "b2": randn(1, seed=40)},
     {"W1": randn(4, 3, seed=41), "b1": randn(4, seed=42), "W2": randn(1, 4, seed=43), "b2": randn(1, seed=44)}, 3.0),
    ({"K": randn(2, 3, 3, seed=45)}, {"K": randn(2, 3, 3, seed=46, scale=1e3)}, 1e-4),         # 3-D, large gradient
    ({"W": randn(2, 2, seed=47)}, {"W": randn(2, 2, seed=48)}, 0.0),                           # lr 0: nothing moves
    ({"W": randn(4, 2, seed=51), "b": randn(4, seed=52)}, {"b": randn(4, seed=53)}, 0.2),        # W frozen
], name="gd_step", hints=mistakes.gd_step)
### END HIDDEN TESTS

# %% [markdown] id="pytorch-step"
# ### The same in PyTorch
#
# `torch.optim.SGD(params, lr)` keeps a list of tensors; `loss.backward()` fills each one's `.grad`, and
# `optimizer.step()` does exactly your update, in place. (`optimizer.zero_grad()` clears the `.grad`s
# before the next backward pass, because PyTorch *adds* new gradients to old ones.)

# %% id="pytorch-step-code" tags=["demo"]
my_gd_step = use_yours(gd_step, "gradient_descent.gd_step")
params = {"W": np.array([[1.0, -2.0]]), "b": np.array([0.5])}
grads = {"W": np.array([[0.3, 0.1]]), "b": np.array([-1.0])}
W_t, b_t = to_tensor(params["W"].copy(), requires_grad=True), to_tensor(params["b"].copy(), requires_grad=True)
W_t.grad, b_t.grad = to_tensor(grads["W"]), to_tensor(grads["b"])
torch.optim.SGD([W_t, b_t], lr=0.1).step()
my_gd_step(params, grads, 0.1)
print("NumPy   W, b:", params["W"], params["b"])
print("PyTorch W, b:", to_numpy(W_t), to_numpy(b_t))


# %% [markdown] id="models-theory"
# ## 2. Two models and their gradients
#
# Both models of this chapter are one dense unit, $z_i = \mathbf x_i \cdot \mathbf w + b$: in chapter 1's
# layout, `W` has shape `(1, d)` (like `nn.Linear(d, 1).weight`), `b` shape `(1,)`, and the $N$
# predictions are `z = (X @ W.T + b)[:, 0]`, shape `(N,)` like the targets `y`.
#
# **Linear regression** fits real targets with the **mean squared error**. With the residuals
# $r_i = z_i - y_i$:
#
# $$ L = \frac1N \sum_i r_i^2, \qquad
#    \frac{\partial L}{\partial \mathbf w} = \frac2N \sum_i r_i\, \mathbf x_i = \frac2N\, \mathbf r^\top X, \qquad
#    \frac{\partial L}{\partial b} = \frac2N \sum_i r_i . $$
#
# **Logistic regression** classifies: $p_i = \sigma(z_i)$ is the predicted probability that $y_i = 1$, and the
# loss is the **binary cross-entropy** $-\frac1N \sum_i [\,y_i \log p_i + (1 - y_i) \log(1 - p_i)\,]$. Written
# with the logits $z_i$ it becomes a formula that never overflows (chapter 4 derives it):
#
# $$ L = \frac1N \sum_i \Big[\max(z_i, 0) - z_i y_i + \log\!\big(1 + e^{-|z_i|}\big)\Big], \qquad
#    \frac{\partial L}{\partial z_i} = \frac{\sigma(z_i) - y_i}{N}, $$
#
# and the chain rule through $z_i = \mathbf x_i \cdot \mathbf w + b$ gives
# $\partial L / \partial \mathbf w = \frac1N (\sigma(\mathbf z) - \mathbf y)^\top X$ and
# $\partial L / \partial b = \frac1N \sum_i (\sigma(z_i) - y_i)$ — the same shape as for linear regression,
# with $\sigma(z) - y$ in place of $2(z - y)$. The MSE of linear regression is a convex function of
# $(\mathbf w, b)$, and so is this cross-entropy: a fact we will need in section 7.
#
# Mind the shapes: `X @ W.T + b` has shape `(N, 1)`, and `(N, 1) - (N,)` *broadcasts* to an `(N, N)` matrix
# of every prediction minus every target — no error, just wrong numbers. Take column 0 first.

# %% [markdown] id="ex-linear"
# ### Exercise 3 — `linear_regression_grads` (2 points)
#
# Return `(loss, grads)`: the mean squared error (a float) of the linear model `params = {"W": (1, d),
# "b": (1,)}` on `X` (N, d) and `y` (N,), and its gradients `{"W": (1, d), "b": (1,)}`, vectorised (no loop
# over examples). **Dtype rule:** float32 inputs give float32 gradients (the tests try float32 too): don't
# create float64 arrays along the way.

# %% id="ch03_linear_regression_grads" nbgrader={"solution": true}
def linear_regression_grads(params, X, y):
    """Mean squared error of (X @ W.T + b)[:, 0] against y, and its gradients {"W", "b"}."""
    ### BEGIN SOLUTION
    residual = (X @ params["W"].T + params["b"])[:, 0] - y
    n = len(y)
    loss = np.mean(residual ** 2)
    grads = {"W": 2.0 / n * (residual @ X)[None, :], "b": 2.0 / n * residual.sum(keepdims=True)}
    return loss, grads
    ### END SOLUTION


# %% id="ch03_linear_regression_grads_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(linear_regression_grads, ref.linear_regression_grads, [
    # by hand: z = [1, 2], residuals [0, -1], loss 0.5, dW = (2/2) * (0*1 + (-1)*2) = -2, db = -1
    ({"W": np.array([[1.0]]), "b": np.array([0.0])}, np.array([[1.0], [2.0]]), np.array([1.0, 3.0])),
    ({"W": randn(1, 3, seed=51), "b": randn(1, seed=52)}, randn(8, 3, seed=53), randn(8, seed=54)),
    ({"W": randn(1, 3, seed=67).astype(np.float32), "b": randn(1, seed=68).astype(np.float32)},
     randn(9, 3, seed=69).astype(np.float32), randn(9, seed=70).astype(np.float32)),          # float32 in, float32 out
], output_names=("loss", "grads"), hints=mistakes.linear_regression_grads)
### BEGIN HIDDEN TESTS
check(linear_regression_grads, ref.linear_regression_grads, [
    ({"W": randn(1, 5, seed=55), "b": randn(1, seed=56)}, randn(1, 5, seed=57), randn(1, seed=58)),      # one example
    ({"W": randn(1, 1, seed=59), "b": randn(1, seed=60)}, randn(40, 1, seed=61, scale=100.0), randn(40, seed=62)),
    ({"W": randn(1, 20, seed=63), "b": randn(1, seed=64)}, randn(6, 20, seed=65), randn(6, seed=66, scale=1e3)),
    ({"W": randn(1, 4, seed=71).astype(np.float32), "b": randn(1, seed=72).astype(np.float32)},
     randn(5, 4, seed=73).astype(np.float32), randn(5, seed=74).astype(np.float32)),
], output_names=("loss", "grads"), hints=mistakes.linear_regression_grads)
### END HIDDEN TESTS

# %% [markdown] id="ex-logistic"
# ### Exercise 4 — `logistic_regression_grads` (2 points)
#
# Return `(loss, grads)` for logistic regression: the mean binary cross-entropy of the logits
# `z = (X @ W.T + b)[:, 0]` against the 0/1 targets `y` (floats), with the stable formula above, and its
# gradients `{"W": (1, d), "b": (1,)}`. `sigmoid` (chapter 1's stable version) is imported and you may
# use it. The tests use logits of ±1000, where $\log(\sigma(z))$ computed naively gives $\log 0 = -\infty$
# and `np.exp(-z)` overflows. Float32 inputs give float32 results.

# %% id="ch03_logistic_regression_grads" nbgrader={"solution": true}
def logistic_regression_grads(params, X, y):
    """Mean binary cross-entropy of the logits (X @ W.T + b)[:, 0] against 0/1 targets y, and its gradients."""
    ### BEGIN SOLUTION
    z = (X @ params["W"].T + params["b"])[:, 0]
    n = len(y)
    loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    error = (sigmoid(z) - y) / n
    return loss, {"W": (error @ X)[None, :], "b": error.sum(keepdims=True)}
    ### END SOLUTION


# %% id="ch03_logistic_regression_grads_test" nbgrader={"grade": true, "locked": true, "points": 2}
X_lr = randn(10, 3, seed=71)
y_lr = (randn(10, seed=72) > 0).astype(np.float64)
check(logistic_regression_grads, ref.logistic_regression_grads, [
    # by hand: z = 0 everywhere, so p = 0.5, the loss is log 2 and dL/dz = (0.5 - y) / N
    ({"W": np.zeros((1, 2)), "b": np.zeros(1)}, np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([1.0, 0.0])),
    ({"W": randn(1, 3, seed=73), "b": randn(1, seed=74)}, X_lr, y_lr),
    ({"W": np.array([[1000.0, -1000.0]]), "b": np.zeros(1)}, np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
     np.array([0.0, 1.0, 1.0])),                                        # logits +-1000 and 0: confidently wrong
    ({"W": randn(1, 3, seed=86).astype(np.float32), "b": randn(1, seed=87).astype(np.float32)},
     X_lr.astype(np.float32), y_lr.astype(np.float32)),                 # float32 in, float32 out
], output_names=("loss", "grads"), hints=mistakes.logistic_regression_grads, allow=("dlcourse.solved.networks.sigmoid",))
### BEGIN HIDDEN TESTS
check(logistic_regression_grads, ref.logistic_regression_grads, [
    ({"W": randn(1, 3, seed=75, scale=300.0), "b": np.array([5.0])}, X_lr, y_lr),      # logits in the hundreds
    ({"W": randn(1, 4, seed=76), "b": randn(1, seed=77)}, randn(1, 4, seed=78), np.array([1.0])),   # one example
    ({"W": randn(1, 2, seed=79), "b": randn(1, seed=80)}, randn(25, 2, seed=81), np.ones(25)),     # one class only
    ({"W": randn(1, 6, seed=82), "b": randn(1, seed=83)}, randn(12, 6, seed=84, scale=1e3),
     (randn(12, seed=85) > 0).astype(np.float64)),
    ({"W": randn(1, 5, seed=88).astype(np.float32), "b": randn(1, seed=89).astype(np.float32)},
     randn(7, 5, seed=90).astype(np.float32), (randn(7, seed=91) > 0).astype(np.float32)),
], output_names=("loss", "grads"), hints=mistakes.logistic_regression_grads, allow=("dlcourse.solved.networks.sigmoid",))
### END HIDDEN TESTS

# %% [markdown] id="loop-theory"
# ## 3. The training loop, and its trajectory
#
# A training loop needs only the model's `loss_and_grads(params, X_batch, y_batch)` — your two functions
# above — and the batches:
#
# ```
# for epoch in range(epochs):
#     for X_batch, y_batch in minibatches(X, y, B, seed=seed + epoch):   # a new order every epoch
#         loss, grads = loss_and_grads(params, X_batch, y_batch)
#         gd_step(params, grads, lr)
# ```
#
# The three variants are this one loop with another batch size: `"batch"` uses $B = N$ (one step per
# epoch), `"stochastic"` $B = 1$, `"minibatch"` the given `batch_size`. To see what the loop does — and to
# compare it with PyTorch step by step — we record the **trajectory**: the parameters at the start and after
# every step.

# %% [markdown] id="ex-loop"
# ### Exercise 5 — `gradient_descent` (4 points)
#
# Train a **copy** of `params` (the caller's dict and its arrays must not change) with the loop above, using
# your `minibatches` and `gd_step`:
#
# * the batch size is `len(X)` for `method="batch"`, `1` for `"stochastic"`, `batch_size` for `"minibatch"`;
#   any other `method` raises a `ValueError`;
# * epoch `e` (counting from 0) uses `minibatches(X, y, size, seed=seed + e)`;
# * return the trajectory as a dict `{name: array}` where `array[0]` is the starting value of that
#   parameter and `array[t]` its value after step `t`, so each array has shape `(1 + steps, *param.shape)`
#   and the parameters' dtype (float32 stays float32). `gd_step` keeps changing the arrays in place, so what
#   you record must not change with them.
#
# The test feeds your loop the course's solved `linear_regression_grads` / `logistic_regression_grads`, so a
# mistake in exercise 3 or 4 does not count twice, and compares the whole trajectory with `torch.optim.SGD`
# started from the same parameters and fed the same batches in the same order.
#
# <details><summary>Hint 1</summary>
#
# A dict of arrays is copied only one level deep by `dict(...)` or `.copy()`: the new dict holds the same
# arrays. Copy each array (a dict comprehension does it in one line), both for the training copy and for every
# snapshot you record.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Keep a list of snapshots (the start first, then one after every step); at the end, for each parameter name,
# stack that parameter's snapshots along a new first axis.
# </details>

# %% id="ch03_gradient_descent" nbgrader={"solution": true}
def gradient_descent(loss_and_grads, X, y, params, *, method="minibatch", lr=0.1, epochs=1, batch_size=32, seed=0):
    """Plain gradient descent on a copy of params; returns {name: (1 + steps, *shape) trajectory}."""
    ### BEGIN SOLUTION
    sizes = {"batch": len(X), "stochastic": 1, "minibatch": batch_size}
    if method not in sizes:
        raise ValueError(f"method must be 'batch', 'stochastic' or 'minibatch', got {method!r}")
    params = {key: value.copy() for key, value in params.items()}
    snapshots = [{key: value.copy() for key, value in params.items()}]
    for epoch in range(epochs):
        for X_batch, y_batch in minibatches(X, y, sizes[method], seed=seed + epoch):
            _, grads = loss_and_grads(params, X_batch, y_batch)
            gd_step(params, grads, lr)
            snapshots.append({key: value.copy() for key, value in params.items()})
    return {key: np.stack([snapshot[key] for snapshot in snapshots]) for key in params}
    ### END SOLUTION


# %% id="ch03_gradient_descent_test" nbgrader={"grade": true, "locked": true, "points": 4}
train = cases.trainer(gradient_descent)   # train(X, y, params, "linear" or "logistic", **options): your loop
X_reg, y_reg = randn(5, 2, seed=90), randn(5, seed=91)
start = {"W": np.array([[0.5, -0.5]]), "b": np.array([0.0])}
X_cls, y_cls = randn(9, 2, seed=92), (randn(9, seed=93) > 0).astype(np.float64)
check(train, ref.sgd_trajectory, [
    Inputs(X_reg, y_reg, start, "linear", method="batch", lr=0.1, epochs=3),          # 3 steps
    Inputs(X_reg, y_reg, start, "linear", method="stochastic", lr=0.1, epochs=2),     # 2 x 5 steps
    Inputs(X_reg, y_reg, start, "linear", method="minibatch", lr=0.1, epochs=3, batch_size=2),   # 3 x 3 steps
    Inputs(X_cls, y_cls, start, "logistic", method="minibatch", lr=0.5, epochs=2, batch_size=4, seed=1),
    Inputs(X_reg, y_reg, start, "linear", method="batch", lr=0.1, epochs=2, batch_size=2),       # batch ignores batch_size
    Inputs(X_reg.astype(np.float32), y_reg.astype(np.float32), {k: v.astype(np.float32) for k, v in start.items()},
           "linear", method="minibatch", lr=0.1, epochs=2, batch_size=3),                        # float32 kept
], name="gradient_descent", hints=mistakes.gradient_descent, allow=cases.MODEL_BLOCKS)
cases.check_rejects(train, [((X_reg, y_reg, start, "linear"), {"method": "full"}, "method is 'full'")],
                    name="gradient_descent", allow=cases.MODEL_BLOCKS)
### BEGIN HIDDEN TESTS
check(train, ref.sgd_trajectory, [
    Inputs(randn(23, 4, seed=94), randn(23, seed=95), {"W": randn(1, 4, seed=96), "b": randn(1, seed=97)}, "linear",
           method="minibatch", lr=0.05, epochs=4, batch_size=5, seed=7),
    Inputs(X_cls, y_cls, start, "logistic", method="stochastic", lr=1.0, epochs=2, seed=3),
    Inputs(X_cls, y_cls, start, "logistic", method="batch", lr=2.0, epochs=5),
    Inputs(X_reg, y_reg, start, "linear", method="minibatch", lr=0.1, epochs=2, batch_size=50),   # batch > N
    Inputs(randn(6, 1, seed=98), randn(6, seed=99), {"W": np.zeros((1, 1)), "b": np.zeros(1)}, "linear",
           method="stochastic", lr=0.3, epochs=3, seed=5),
    Inputs(X_reg, y_reg, start, "linear", method="batch", lr=0.1, epochs=0),                     # no steps at all
], name="gradient_descent", hints=mistakes.gradient_descent, allow=cases.MODEL_BLOCKS)
cases.check_rejects(train, [((X_reg, y_reg, start, "linear"), {"method": "Batch"}, "method is 'Batch'")],
                    name="gradient_descent", allow=cases.MODEL_BLOCKS)
### END HIDDEN TESTS

# %% [markdown] id="pytorch-loop"
# ## 4. The same loop in PyTorch, step for step
#
# Here is the PyTorch version of one run, written out: the parameters become tensors that require
# gradients, `torch.optim.SGD` holds them, a `DataLoader` serves our batches, autograd computes the
# gradients of `F.mse_loss`. Your NumPy trajectory and PyTorch's agree at **every** step, to rounding error.
# (`ref.sgd_trajectory` is this loop, also for logistic regression with
# `F.binary_cross_entropy_with_logits`; the test above used it.)

# %% id="pytorch-loop-code" tags=["demo"]
my_gradient_descent = use_yours(gradient_descent, "gradient_descent.gradient_descent")
my_linear_grads = use_yours(linear_regression_grads, "gradient_descent.linear_regression_grads")
my_logistic_grads = use_yours(logistic_regression_grads, "gradient_descent.logistic_regression_grads")

# One feature plus a bias: two parameters (w, b), so that we can draw the loss as a landscape later.
rng = np.random.default_rng(0)
x_feature = rng.normal(1.0, 1.0, size=200)
X_line, y_line = x_feature[:, None], 3.0 * x_feature - 2.0 + rng.normal(0.0, 0.5, size=200)
start = {"W": np.array([[-1.0]]), "b": np.array([3.0])}
options = dict(method="minibatch", lr=0.05, epochs=3, batch_size=16, seed=0)

mine = my_gradient_descent(my_linear_grads, X_line, y_line, start, **options)

W_t, b_t = to_tensor(start["W"].copy(), requires_grad=True), to_tensor(start["b"].copy(), requires_grad=True)
optimizer = torch.optim.SGD([W_t, b_t], lr=options["lr"])
dataset = TensorDataset(to_tensor(X_line), to_tensor(y_line))
torch_W, torch_b = [to_numpy(W_t).copy()], [to_numpy(b_t).copy()]
for epoch in range(options["epochs"]):
    order = np.random.default_rng(options["seed"] + epoch).permutation(len(X_line))
    loader = DataLoader(dataset, sampler=BatchSampler(order.tolist(), options["batch_size"], drop_last=False), batch_size=None)
    for X_batch, y_batch in loader:
        optimizer.zero_grad()
        F.mse_loss(F.linear(X_batch, W_t, b_t)[:, 0], y_batch).backward()
        optimizer.step()
        torch_W.append(to_numpy(W_t).copy())
        torch_b.append(to_numpy(b_t).copy())
torch_W, torch_b = np.stack(torch_W), np.stack(torch_b)

print(f"{len(mine['W']) - 1} steps; (w, b) after steps 0, 1, 13, 39:")
for step in (0, 1, 13, 39):
    print(f"  step {step:2d}  NumPy ({mine['W'][step, 0, 0]: .6f}, {mine['b'][step, 0]: .6f})"
          f"   PyTorch ({torch_W[step, 0, 0]: .6f}, {torch_b[step, 0]: .6f})")

# Every variant, both models: the largest difference over whole trajectories.
X_blob, labels_blob = data.make_blobs(200, centers=2, std=1.2, seed=0)
y_blob = labels_blob.astype(np.float64)
runs = [("linear", X_line, y_line, my_linear_grads, dict(lr=0.05, batch_size=16)),
        ("logistic", X_blob, y_blob, my_logistic_grads, dict(lr=0.5, batch_size=16))]
largest_difference = max(np.abs(mine["W"] - torch_W).max(), np.abs(mine["b"] - torch_b).max())
for model, X_run, y_run, grads_fn, settings in runs:
    start_run = {"W": np.zeros((1, X_run.shape[1])), "b": np.zeros(1)}
    for method in ("batch", "stochastic", "minibatch"):
        epochs = 1 if method == "stochastic" else 3     # one stochastic epoch is already 200 steps
        ours = my_gradient_descent(grads_fn, X_run, y_run, start_run, method=method, epochs=epochs, seed=1, **settings)
        theirs = ref.sgd_trajectory(X_run, y_run, start_run, model, method=method, epochs=epochs, seed=1, **settings)
        difference = max(np.abs(ours[k] - theirs[k]).max() for k in ours)
        largest_difference = max(largest_difference, difference)
        print(f"{model:8s} {method:10s}: {len(ours['W']) - 1:3d} steps, largest |NumPy - PyTorch| = {difference:.1e}")
print(f"largest parameter difference between the NumPy and the PyTorch trajectories: {largest_difference:.1e}")

# %% [markdown] id="variants-theory"
# ## 5. Batch, stochastic, mini-batch: what they cost and how they converge
#
# The same data (200 points, $y \approx 3x - 2$), the same start and the same learning rate $\eta = 0.05$ for
# all three variants, 20 epochs each. The left plot shows the loss on the whole training set after every epoch —
# that is, after the same amount of arithmetic (every example's gradient computed once per epoch). The right
# plot shows the first 60 *steps*: what each variant does with one update.

# %% id="variants-code" tags=["demo"]
epochs_demo, lr_demo = 20, 0.05
steps_per_epoch = {"batch": 1, "minibatch": int(np.ceil(len(X_line) / 16)), "stochastic": len(X_line)}
trajectories, per_epoch = {}, {}
print(f"{'method':10s} {'steps/epoch':>11s} {'seconds/epoch':>13s} {'µs/step':>8s}  final loss")
for method, steps in steps_per_epoch.items():
    began = time.perf_counter()
    trajectories[method] = my_gradient_descent(my_linear_grads, X_line, y_line, start, method=method,
                                               lr=lr_demo, epochs=epochs_demo, batch_size=16)
    seconds = (time.perf_counter() - began) / epochs_demo
    per_epoch[method] = demos.loss_along(my_linear_grads, trajectories[method], X_line, y_line, every=steps)
    print(f"{method:10s} {steps:11d} {seconds:13.4f} {1e6 * seconds / steps:8.1f}  {per_epoch[method][-1]:.4f}")
# 60 steps of each: batch descent needs 60 epochs for that
first_steps = {method: {k: v[:61] for k, v in run.items()} for method, run in trajectories.items()}
first_steps["batch"] = my_gradient_descent(my_linear_grads, X_line, y_line, start, method="batch", lr=lr_demo, epochs=60)
per_step = {method: demos.loss_along(my_linear_grads, run, X_line, y_line) for method, run in first_steps.items()}
best = np.linalg.lstsq(np.c_[X_line, np.ones(len(X_line))], y_line, rcond=None)[0]
best_loss = np.mean((X_line[:, 0] * best[0] + best[1] - y_line) ** 2)
print(f"the minimum (least squares): w = {best[0]:.4f}, b = {best[1]:.4f}, loss {best_loss:.4f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
plots.plot_curves(per_epoch, ax=axes[0], xlabel="epoch", ylabel="training loss (MSE)", logy=True,
                  title="loss after every epoch (same work per epoch)")
axes[0].axhline(best_loss, color="grey", ls="--", lw=1, label="minimum")
axes[0].legend()
plots.plot_curves(per_step, ax=axes[1], xlabel="step", ylabel="training loss (MSE)", logy=True,
                  title="the first 60 steps (one update each)")
plt.tight_layout()
plt.show()

# %% [markdown] id="variants-comment"
# What the numbers and curves say (timings are from whatever machine ran this notebook):
#
# * **Per epoch**, batch gradient descent is by far the slowest learner: 20 epochs are only 20 steps, and its
#   loss is still far above the minimum. Mini-batch (13 steps per epoch) gets to the minimum in a few epochs;
#   stochastic (200 steps per epoch) gets close after one.
# * **Per step** (right), batch descent lowers the loss smoothly and *every* step helps; the stochastic curve
#   is jagged — single examples pull the parameters in all directions.
# * **At the end**, stochastic descent does *not* sit at the minimum: with a constant learning rate the noise
#   of one-example gradients keeps it jittering around it (its final loss is above the minimum's), while
#   batch and mini-batch settle. The usual remedy is to decay the learning rate.
# * **Time per step** is not proportional to the number of examples: a step on 200 examples costs far less
#   than 200 one-example steps, because NumPy (or a GPU) processes a whole batch in one vectorised operation
#   while every step pays the fixed cost of Python and function calls. So the stochastic epoch is the
#   slowest in wall-clock time even though it does the same arithmetic. That is why mini-batches are the default.

# %% [markdown] id="lr-theory"
# ## 6. The learning rate: too small, right, divergent
#
# For a quadratic loss like this MSE, the gradient is linear: $\nabla L(\theta) = H(\theta - \theta^*)$ with the
# constant **Hessian** $H = \frac2N \tilde X^\top \tilde X$ (where $\tilde X = [X, \mathbf 1]$). A step multiplies the
# distance to the minimum by $(I - \eta H)$, so along an eigenvector of $H$ with eigenvalue $\lambda$ the error
# is multiplied by $(1 - \eta\lambda)$ each step:
#
# * $\eta$ too small: $1 - \eta\lambda \approx 1$ and progress is slow (here along the flat direction, small $\lambda$);
# * $\eta > 2 / \lambda_\max$: $|1 - \eta\lambda_\max| > 1$ and the error **grows** every step, with alternating
#   sign — the parameters zig-zag across the valley ever further out: the run **diverges**;
# * the best constant rate for a quadratic is $\eta = 2 / (\lambda_\max + \lambda_\min)$.
#
# Neural networks are not quadratic, but the picture holds near a minimum, which is why a learning rate that
# is too large shows up as a loss that explodes to `inf`/`nan`.

# %% id="lr-code" tags=["demo"]
X_tilde = np.c_[X_line, np.ones(len(X_line))]
eigenvalues = np.linalg.eigvalsh(2.0 / len(X_line) * X_tilde.T @ X_tilde)
lr_limit = 2.0 / eigenvalues.max()
learning_rates = {"too small": 0.05 * lr_limit, "right": 2.0 / eigenvalues.sum(), "too large": 1.1 * lr_limit}
print(f"Hessian eigenvalues {eigenvalues.round(3)}: the run diverges for lr > 2 / {eigenvalues.max():.3f} = {lr_limit:.3f}")
lr_runs, lr_losses = {}, {}
for name, lr in learning_rates.items():
    label = f"{name}: lr = {lr:.3f}"
    lr_runs[label] = my_gradient_descent(my_linear_grads, X_line, y_line, start, method="batch", lr=lr, epochs=30)
    lr_losses[label] = demos.loss_along(my_linear_grads, lr_runs[label], X_line, y_line)
    torch_path = ref.sgd_path(lambda p: F.mse_loss(to_tensor(X_line[:, 0]) * p[0] + p[1], to_tensor(y_line)),
                              [start["W"][0, 0], start["b"][0]], lr, 30)
    print(f"{label:25s} loss after 30 steps: NumPy {lr_losses[label][-1]:10.4g}, "
          f"torch.optim.SGD on the same loss: {np.mean((X_line[:, 0] * torch_path[-1, 0] + torch_path[-1, 1] - y_line) ** 2):10.4g}")


def line_loss(points):
    """The MSE of the line w x + b on our data, for many (w, b) points at once: (P, 2) -> (P,)."""
    return np.mean((points[:, :1] * X_line[:, 0] + points[:, 1:] - y_line) ** 2, axis=1)


as_path = lambda run: np.c_[run["W"][:, 0, 0], run["b"][:, 0]]
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
plots.plot_curves(lr_losses, ax=axes[0], xlabel="step (batch gradient descent)", ylabel="training loss (MSE)",
                  logy=True, title="three learning rates")
lr_paths = {label: as_path(run)[:12] if label.startswith("too large") else as_path(run) for label, run in lr_runs.items()}
gd_plots.plot_descent_paths(line_loss, lr_paths, xlim=(-2.0, 5.0), ylim=(-5.0, 4.5), ax=axes[1], xlabel="w", ylabel="b",
                            title="their paths on the loss contours (too large: 11 steps)")
axes[1].plot(*best, "k*", ms=12)
plt.tight_layout()
plt.show()

# %% [markdown] id="paths-theory"
# ### The three variants on the same landscape
#
# The same contour lines, now with 30 steps of each variant at $\eta = 0.05$. Batch descent walks smoothly
# down the valley (it would need many more steps to reach the star); mini-batch and stochastic steps wander,
# because each follows the gradient of a few examples or of one — which is not the gradient of the whole loss.
# Thirty batch steps used 6000 example gradients, thirty stochastic steps 30, and thirty mini-batch steps 464:
# an epoch of 200 examples in batches of 16 is 13 steps (twelve of 16 and a last one of 8), so 30 steps are two
# whole epochs (400 examples) and 4 more batches of 16.

# %% id="paths-code" tags=["demo"]
variant_paths = {method: as_path(run)[:31] for method, run in first_steps.items()}
ax = gd_plots.plot_descent_paths(line_loss, variant_paths, xlim=(-2.0, 5.0), ylim=(-5.0, 4.5), xlabel="w", ylabel="b",
                                 title="30 steps of each variant (lr = 0.05)")
ax.plot(*best, "k*", ms=12)
plt.show()

# %% [markdown] id="convexity-theory"
# ## 7. Local minima: where gradient descent can get stuck
#
# One of the source articles says that batch gradient descent is guaranteed to reach the global optimum.
# **That needs conditions.** A function is *convex* when the straight segment between any two points of its
# graph lies above the graph — a single bowl, like the MSE of linear regression or the cross-entropy of
# logistic regression. There, every point where the gradient is zero is a global minimum. The classic theorem
# asks for four things: the loss is **convex**, it is **$L$-smooth** (its gradient changes at most $L$ times as
# fast as the parameters, $\lVert\nabla f(a) - \nabla f(b)\rVert \le L\,\lVert a - b\rVert$; for a quadratic, $L$ is
# the largest eigenvalue of the Hessian), **a minimum exists**, and the step is **$\eta < 2/L$**. Then the loss
# of batch gradient descent falls to the minimum value. Each condition matters:
#
# * **No minimum, no convergence.** Logistic regression on *linearly separable* data is convex and smooth, but
#   has no minimiser: scaling a separating $\mathbf w$ up always lowers the loss, which tends to 0 and is never
#   reached. Gradient descent drives the loss towards 0 while $\lVert\mathbf w\rVert$ grows without bound (slowly,
#   like $\log t$). The two clouds of section 4 overlap, so there a minimum exists.
# * **Too large a step** diverges even on a convex quadratic (section 6).
# * **Convexity is sufficient, not necessary.** Some non-convex losses come with the same guarantee: under the
#   *Polyak–Łojasiewicz* condition, $\tfrac12\lVert\nabla f(\theta)\rVert^2 \ge \mu\,(f(\theta) - f^*)$ for some $\mu > 0$
#   (the gradient is only small near the minimum value), gradient descent with $\eta \le 1/L$ converges to the
#   global minimum value at a linear rate, convex or not; $f(x) = x^2 + 3\sin^2 x$ is such a function.
#
# Gradient descent only knows the **local** slope. On a non-convex function it stops at whatever point with
# zero gradient it reaches first — a local minimum, or a saddle point — and the *exact* gradient of batch descent
# holds it there for ever. Take
#
# $$ f(x) = x^4 - 3x^2 + x, \qquad f'(x) = 4x^3 - 6x + 1, $$
#
# with a global minimum near $x = -1.30$ ($f \approx -3.51$) and a local one near $x = 1.13$ ($f \approx -1.07$).
# Below, your `gd_step` and `torch.optim.SGD` both start at $x = 2$ and at $x = -2$:

# %% id="convexity-code" tags=["demo"]
f = lambda x: x ** 4 - 3 * x ** 2 + x
f_grad = lambda x: 4 * x ** 3 - 6 * x + 1
paths_1d = {}
for x_start in (2.0, -2.0):
    point, path = {"x": np.array([x_start])}, [x_start]
    for _ in range(60):
        my_gd_step(point, {"x": f_grad(point["x"])}, 0.02)
        path.append(point["x"][0])
    torch_path = ref.sgd_path(lambda p: (p ** 4 - 3 * p ** 2 + p).sum(), [x_start], lr=0.02, steps=60)
    paths_1d[f"start {x_start:+.0f}"] = np.array(path)
    print(f"start {x_start:+.1f}: NumPy ends at x = {path[-1]: .5f} (f = {f(path[-1]): .4f}, f' = {f_grad(path[-1]):.1e}); "
          f"torch.optim.SGD at x = {torch_path[-1, 0]: .5f}")
gd_plots.plot_descent_1d(f, paths_1d, np.linspace(-2.1, 2.1, 400),
                         title="gradient descent on $x^4 - 3x^2 + x$ from two starts")
plt.show()

# %% [markdown] id="convexity-comment"
# From $x = 2$ the descent rolls into the **local** minimum at $1.13$ and stays: the gradient there is zero, so no
# step, however many, leaves it. Only the start on the other side finds the global minimum. The loss of a
# neural network with a hidden layer is not convex: swap two hidden units and you get another minimum with the
# same loss, while the point halfway between the two is in general not a minimum, which a convex loss would require.
# So for networks gradient descent (batch or not) comes
# with **no** guarantee of a global minimum. In practice, mini-batch noise helps to roll out of narrow dips and
# over saddle points, and the minima found in large networks tend to be good enough; but that is experience, not a
# theorem. On convex, smooth problems whose minimum exists (linear regression; logistic regression on data that
# is not separable) the guarantee does hold, with a step below $2/L$.

# %% [markdown] id="logistic-demo"
# ### Logistic regression on two overlapping clouds
#
# Your loop with your logistic gradients, mini-batches of 16, $\eta = 0.5$, 20 epochs on the two blobs used in
# section 4; the decision boundary is where $\mathbf x \cdot \mathbf w + b = 0$. PyTorch's trajectory (same
# batches) ends at the same parameters.

# %% id="logistic-demo-code" tags=["demo"]
start_blob = {"W": np.zeros((1, 2)), "b": np.zeros(1)}
blob_run = my_gradient_descent(my_logistic_grads, X_blob, y_blob, start_blob, method="minibatch", lr=0.5, epochs=20, batch_size=16)
blob_torch = ref.sgd_trajectory(X_blob, y_blob, start_blob, "logistic", method="minibatch", lr=0.5, epochs=20, batch_size=16)
final = {k: v[-1] for k, v in blob_run.items()}
predict = lambda points: ((points @ final["W"].T + final["b"])[:, 0] > 0).astype(np.int64)
accuracy = np.mean(predict(X_blob) == labels_blob)
print(f"final W = {final['W'].round(4)}, b = {final['b'].round(4)}; PyTorch W = {blob_torch['W'][-1].round(4)}, "
      f"b = {blob_torch['b'][-1].round(4)}; largest difference over {len(blob_run['W']) - 1} steps: "
      f"{max(np.abs(blob_run[k] - blob_torch[k]).max() for k in blob_run):.1e}")
largest_difference = max(largest_difference, max(np.abs(blob_run[k] - blob_torch[k]).max() for k in blob_run))
plots.plot_decision_regions(predict, X_blob, labels_blob, title=f"logistic regression, training accuracy {accuracy:.1%}")
plt.show()

# %% [markdown] id="e3-theory"
# ## 8. Worked example E3: a regression MLP, in NumPy and in PyTorch
#
# One of the source articles trains a 13-10-1 MLP on the **Boston housing** prices with Adam, the mean squared
# error, 100 epochs and batches of 10 (Keras's `load_boston`). That data set is gone: scikit-learn deprecated
# `load_boston` in version 1.0 and removed it in 1.2, because one of its 13 features was engineered from the share
# of Black residents of each town under an assumption of racial self-segregation — an ethical problem, and a
# reminder to ask where the columns of a data set come from. We use a regression set the course ships instead:
# the **diabetes** data (Efron et al., 2004, the example data of least-angle regression): 442 patients, 10
# features (age, sex, body-mass index, blood pressure and six blood serum measurements), and as target a
# measure of disease progression one year later. So the network is **10-10-1**, with ReLU.
#
# Two things from this chapter matter here:
#
# * **Normalise with training statistics only.** The features are raw (ages in years, blood pressure in mm Hg):
#   subtract the *training* mean and divide by the *training* standard deviation, and apply the same numbers to
#   the test set. Statistics computed on all the data would leak information from the test set into training. We
#   standardise the target the same way (it ranges from 25 to 346: a network starting near 0 would spend its first
#   hundreds of steps just moving its output bias there), and report test MSEs in the target's own units.
# * **The same batches on both sides.** The NumPy loop (`dlcourse.solved.training.fit_mlp`: chapter 1's forward
#   pass, chapter 2's backward pass, this chapter's `minibatches`) and PyTorch (`fit_torch_mlp`: an
#   `nn.Sequential` and `torch.optim`) start from the same weights and visit the same batches, so float64 runs
#   give the same network. Adam is chapter 6's subject; here we use the course's solved `Adam`, to match the
#   article. Then the same network once more with plain gradient descent through **your** `gd_step`.
#
# To keep the notebook fast this runs 100 epochs of 36 small batches; there is nothing to scale up on a data set of
# 442 rows, but the same code runs unchanged on a larger regression set.

# %% id="e3-code" tags=["demo"]
from dlcourse.reference.training import fit_torch_mlp
from dlcourse.solved.optimizers import Adam
from dlcourse.solved.training import fit_mlp

features, target, feature_names = data.load_diabetes()
order = np.random.default_rng(0).permutation(len(features))
train_rows, test_rows = order[:353], order[353:]                       # an 80 / 20 split
mean, std = features[train_rows].mean(axis=0), features[train_rows].std(axis=0)
y_mean, y_std = target[train_rows].mean(), target[train_rows].std()
X_train, X_test = (features[train_rows] - mean) / std, (features[test_rows] - mean) / std
y_train, y_test = ((target[train_rows] - y_mean) / y_std)[:, None], ((target[test_rows] - y_mean) / y_std)[:, None]
print(f"{len(X_train)} training and {len(X_test)} test patients; features: {', '.join(feature_names)}")

e3_start = init_params([10, 10, 1], "he", seed=0)
test_mse = lambda predictions: float(np.mean((predictions - y_test) ** 2) * y_std ** 2)   # in the target's units

numpy_params = {k: v.copy() for k, v in e3_start.items()}
began = time.perf_counter()
numpy_history = fit_mlp(numpy_params, X_train, y_train, Adam(lr=1e-3), epochs=100, batch_size=10, loss="mse", seed=0)
numpy_seconds = time.perf_counter() - began
began = time.perf_counter()
torch_model, torch_history = fit_torch_mlp(e3_start, X_train, y_train, optimizer="adam", lr=1e-3, epochs=100,
                                           batch_size=10, loss="mse", seed=0, dtype=torch.float64,
                                           foreach=False)  # one tensor at a time: faster for tiny networks
torch_seconds = time.perf_counter() - began
with torch.no_grad():
    torch_predictions = to_numpy(torch_model(to_tensor(X_test)))


class PlainGradientDescent:
    """fit_mlp's optimizer interface around your gd_step."""

    def __init__(self, lr):
        self.lr = lr

    def step(self, params, grads):
        my_gd_step(params, grads, self.lr)


sgd_params = {k: v.copy() for k, v in e3_start.items()}
sgd_history = fit_mlp(sgd_params, X_train, y_train, PlainGradientDescent(0.01), epochs=100, batch_size=10, loss="mse", seed=0)

e3_numpy_mse, e3_torch_mse = test_mse(mlp_forward(X_test, numpy_params)[0]), test_mse(torch_predictions)
print(f"E3, MLP 10-10-1, Adam lr=1e-3, MSE, 100 epochs, batch 10:")
print(f"  test MSE, NumPy:   {e3_numpy_mse:8.1f}   ({numpy_seconds:.1f} s)")
print(f"  test MSE, PyTorch: {e3_torch_mse:8.1f}   ({torch_seconds:.1f} s)")
print(f"  same MLP, plain gradient descent with your gd_step (lr=0.01): test MSE {test_mse(mlp_forward(X_test, sgd_params)[0]):8.1f}")
print(f"  for scale: always predicting the training mean gives {test_mse(np.zeros_like(y_test)):8.1f}")

# %% id="e3-plot" tags=["demo"]
fig, ax = plt.subplots(figsize=(6, 3.8))
plots.plot_curves({"NumPy, Adam": numpy_history["loss"], "PyTorch, Adam": torch_history,
                   "NumPy, your gd_step": sgd_history["loss"]}, ax=ax, xlabel="epoch",
                  ylabel="training loss (MSE, standardised target)", logy=True, title="E3: diabetes, MLP 10-10-1")
ax.lines[1].set_linestyle("--")
plt.show()

# %% [markdown] id="e3-comment"
# The NumPy and PyTorch curves lie on top of each other: same start, same batches, same arithmetic in float64.
# The test MSE is in the target's squared units; compare it with the error of always predicting the mean. On a
# data set this small the test MSE depends noticeably on the split and the seed — try another seed before
# drawing conclusions from a difference of a few percent.

# %% id="closing-numbers" tags=["demo"]
print(f"largest parameter difference between your trajectories and torch.optim.SGD's: {largest_difference:.1e}")
print(f"E3 test MSE: NumPy {e3_numpy_mse:.1f}, PyTorch {e3_torch_mse:.1f}")

# %% [markdown] id="summary"
# ## Summary
#
# * Gradient descent repeats $\theta \leftarrow \theta - \eta \nabla L(\theta)$. Batch, stochastic and mini-batch
#   descent are the same loop with batches of $N$, $1$ and $B$ examples, drawn from a freshly shuffled order every epoch
#   (the last batch may be smaller).
# * Batch steps are exact but expensive; stochastic steps are cheap but noisy and keep jittering around the minimum
#   at a constant learning rate; mini-batches balance noise, number of steps and vectorised hardware.
# * The learning rate must be below $2/\lambda_\max$ of the Hessian or the run diverges; too small and it crawls.
# * Fed the same batches from the same start, your NumPy loop and `torch.optim.SGD` take identical steps.
# * Gradient descent is guaranteed to reach the minimum value when the loss is convex and $L$-smooth, a minimum
#   exists and $\eta < 2/L$ (logistic regression on separable data has no minimum: its weights grow for ever);
#   some non-convex losses (the Polyak–Łojasiewicz condition) share the guarantee. On a neural network's loss
#   there is none: it can stop in a local minimum.
# * E3: the Boston set was withdrawn for an ethically indefensible feature; the diabetes MLP trained in NumPy and in
#   PyTorch reaches the same test MSE. Normalise with training statistics only.
#
# **Next:** chapter 4 looks closely at the losses (MSE, cross-entropy, softmax), chapter 6 at optimizers that improve
# on the plain step (momentum, RMSprop, Adam).
#
# ## Glossary / 术语表
#
# | English | 中文 |
# |---|---|
# | gradient descent | 梯度下降 |
# | batch / full-batch gradient descent | 批量梯度下降 |
# | stochastic gradient descent (SGD) | 随机梯度下降 |
# | mini-batch gradient descent | 小批量梯度下降 |
# | learning rate | 学习率 |
# | epoch | 轮次（周期） |
# | batch size | 批量大小 |
# | shuffle | 打乱 |
# | loss function | 损失函数 |
# | mean squared error (MSE) | 均方误差 |
# | binary cross-entropy | 二元交叉熵 |
# | linear regression / logistic regression | 线性回归 / 逻辑回归 |
# | trajectory | 轨迹 |
# | convergence / divergence | 收敛 / 发散 |
# | convex function | 凸函数 |
# | local minimum / global minimum | 局部最小值 / 全局最小值 |
# | saddle point | 鞍点 |
# | Hessian matrix | 黑塞矩阵（海森矩阵） |
# | normalisation (standardisation) | 归一化（标准化） |
# | training set / test set | 训练集 / 测试集 |

# %% [markdown] id="progress-title"
# ## Your progress
#
# Which exercises of this notebook pass in this session, and their points (run every test cell first,
# or *Run All*). `dlcourse progress` in a terminal shows every chapter, in fresh kernels.

# %% id="progress" tags=["demo"]
from dlcourse.progress import progress_table

progress_table()
