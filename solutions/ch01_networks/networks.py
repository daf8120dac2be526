# %% [markdown] id="title"
# # Chapter 1 — Networks: neurons, layers and the forward pass
#
# **Learning goals.** After this notebook you can
#
# 1. write the three classic activation functions — sigmoid, tanh, ReLU — so that they never overflow;
# 2. compute a dense (fully connected) layer for a whole batch with one matrix product, in PyTorch's weight layout;
# 3. initialise weights the way Xavier Glorot and Kaiming He proposed, and see why the scale matters;
# 4. run a multi-layer perceptron (MLP) forward and keep what the backward pass (chapter 2) will need;
# 5. count a network's parameters, and check every one of these against PyTorch.
#
# **How this notebook works.** Each exercise is a NumPy function with a stub
# (`raise NotImplementedError()`). Replace the stub with your code, run the cell, then run the test
# cell right below it: it compares your function with PyTorch on fixed and on random inputs and tells
# you what differs. Cells that only *show* things use your function once it works and the course's
# solved version until then. Nothing here needs a GPU; if there is one, the PyTorch side uses it.

# %% id="setup"
import numpy as np
import matplotlib.pyplot as plt
import torch
from torch import nn

from dlcourse import data, plots
from dlcourse.cases import networks as cases
from dlcourse.checking import Inputs, check, check_seeded, randn
from dlcourse.device import describe, get_device, to_numpy, to_tensor
from dlcourse.exercises import use_yours
from dlcourse.mistakes import networks as mistakes
from dlcourse.reference import networks as ref

torch.manual_seed(0)
torch.set_num_threads(1)  # the tensors here are tiny: one thread is faster than several fighting over them
print(describe())


# %% [markdown] id="neuron-theory"
# ## 1. The neuron
#
# A neuron takes inputs $x_1, \dots, x_n$, weighs them, adds a bias and passes the sum through a
# non-linear **activation function** $\varphi$:
#
# $$ z = \sum_{i=1}^{n} w_i x_i + b = \mathbf{w}^\top \mathbf{x} + b, \qquad a = \varphi(z). $$
#
# Without $\varphi$, stacking layers would gain nothing: a composition of linear maps is one linear
# map. The three classic choices:
#
# | name | formula | range | derivative |
# |---|---|---|---|
# | sigmoid | $\sigma(x) = \dfrac{1}{1 + e^{-x}}$ | $(0, 1)$ | $\sigma(x)\,(1 - \sigma(x))$ |
# | tanh | $\tanh(x) = \dfrac{e^{x} - e^{-x}}{e^{x} + e^{-x}} = 2\sigma(2x) - 1$ | $(-1, 1)$ | $1 - \tanh^2(x)$ |
# | ReLU | $\max(0, x)$ | $[0, \infty)$ | $1$ if $x > 0$, else $0$ |
#
# ### Numerical stability
#
# In float64, `np.exp(x)` overflows to `inf` for $x > 709$. The textbook formula
# $1 / (1 + e^{-x})$ is then fine for large positive $x$ but computes $e^{1000} = \infty$ for
# $x = -1000$, with an overflow warning (and `inf / inf = nan` in other arrangements).
# The cure is to rewrite the formula so that `exp` only ever sees a **non-positive** argument:
#
# $$ \sigma(x) = \begin{cases} \dfrac{1}{1 + e^{-x}} & x \ge 0 \\[1ex] \dfrac{e^{x}}{1 + e^{x}} & x < 0 \end{cases}
# \qquad\text{both computed from } e^{-|x|}. $$
#
# Careful with `np.where(cond, a, b)`: it evaluates **both** `a` and `b` on every element, so the
# branch you do not pick can still overflow. Compute $e^{-|x|}$ once and build both branches from it.
# The tests turn NumPy's overflow warnings into errors, so an unstable formula fails even when the
# final value happens to be right.

# %% [markdown] id="ex-sigmoid"
# ### Exercise 1 — `sigmoid` (2 points)
#
# Return $\sigma(x)$ element-wise for an array `x` of any shape, without overflow for any finite `x`.
# **dtype rule** (every exercise of this notebook): float32 in, float32 out; float64 in, float64 out. The
# tests try both. Do not modify `x`.
#
# <details><summary>Hint 1</summary>
#
# Both branches of the formula above can be written with the same number, $e^{-|x|}$, which lies in $(0, 1]$.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Compute $e = e^{-|x|}$ once; then $\sigma(x)$ is $1/(1+e)$ where $x \ge 0$ and $e/(1+e)$ where $x < 0$. A
# `np.where` between two arrays that are both finite everywhere is safe.
# </details>

# %% id="ch01_sigmoid" nbgrader={"solution": true}
def sigmoid(x):
    """Element-wise logistic sigmoid 1 / (1 + exp(-x)), stable for large |x|."""
    ### BEGIN SOLUTION
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION


# %% id="ch01_sigmoid_test" nbgrader={"grade": true, "locked": true, "points": 2}
# Fixed inputs you can check by hand (sigmoid(0) = 0.5), then the extremes, random ones, and float32.
check(sigmoid, ref.sigmoid, [
    np.array([-2.0, 0.0, 2.0]),
    np.array([-1000.0, -50.0, 50.0, 1000.0]),
    randn(4, 5, seed=1, scale=3.0),
    randn(6, seed=4, scale=100.0).astype(np.float32),   # float32 stays float32, huge values included
], hints=mistakes.sigmoid)
### BEGIN HIDDEN TESTS
check(sigmoid, ref.sigmoid, [
    np.array([-745.2, -709.8, -1e-300, 0.0, 1e-300, 709.8, 745.2]),
    randn(1, seed=2),                                    # a batch of one
    randn(2, 3, 4, seed=3, scale=400.0),                 # 3-D, huge values
    randn(6, 7, seed=5, scale=10.0).astype(np.float32),
], hints=mistakes.sigmoid)
### END HIDDEN TESTS

# %% [markdown] id="ex-tanh"
# ### Exercise 2 — `tanh` (2 points)
#
# Return $\tanh(x)$ element-wise, built from `np.exp` (or `np.expm1`), not `np.tanh`: without overflow for
# any finite `x`, and to full relative precision for tiny $|x|$ (the tests try $10^{-12}$). The naive
# formula $(e^{x} - e^{-x}) / (e^{x} + e^{-x})$ overflows for $|x| > 709$. tanh is odd,
# $\tanh(-x) = -\tanh(x)$, and for $x \ge 0$ it can be written with $e^{-2x} \le 1$:
#
# $$ \tanh(x) = \operatorname{sign}(x)\,\frac{1 - e^{-2|x|}}{1 + e^{-2|x|}}. $$
#
# Same dtype rule: float32 in, float32 out.
#
# <details><summary>Hint 1</summary>
#
# For $|x| = 10^{-12}$, $e^{-2|x|}$ is $0.999999999998$: the subtraction $1 - e^{-2|x|}$ keeps only the few
# digits in which two nearly equal numbers differ (*cancellation*).
# </details>
#
# <details><summary>Hint 2</summary>
#
# NumPy has a function that computes $e^{y} - 1$ directly, accurate for tiny $y$: `np.expm1`. Then
# $1 - e^{-2|x|} = -(e^{-2|x|} - 1)$.
# </details>

# %% id="ch01_tanh" nbgrader={"solution": true}
def tanh(x):
    """Element-wise hyperbolic tangent, stable for large |x|."""
    ### BEGIN SOLUTION
    e = np.exp(-2.0 * np.abs(x))
    return np.sign(x) * -np.expm1(-2.0 * np.abs(x)) / (1.0 + e)
    ### END SOLUTION


# %% id="ch01_tanh_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(tanh, ref.tanh, [
    np.array([-1.0, 0.0, 1.0]),
    np.array([-1000.0, -20.0, 20.0, 1000.0]),
    randn(3, 4, seed=5, scale=2.0),
    randn(8, seed=8, scale=50.0).astype(np.float32),
], hints=mistakes.tanh)
# Tiny values keep their relative precision. atol=0: with the default atol (1e-10) any answer within 1e-10 of
# 1e-12 would pass; 1 - exp(-2|x|) is off by ~1e-4 relative there, which rtol 1e-7 catches.
check(tanh, ref.tanh, [np.array([-1e-12, -1e-8, 3e-9, 1e-5])], atol=0.0, hints=mistakes.tanh)
### BEGIN HIDDEN TESTS
check(tanh, ref.tanh, [
    np.array([-745.0, -400.0, 0.0, 400.0, 745.0]),
    randn(1, seed=6),
    randn(3, 2, 5, seed=7, scale=300.0),
    randn(9, seed=9).astype(np.float32),
], hints=mistakes.tanh)
check(tanh, ref.tanh, [np.array([2e-15, -7e-11, 4e-7]), randn(5, seed=10, scale=1e-9)], atol=0.0, hints=mistakes.tanh)
### END HIDDEN TESTS

# %% [markdown] id="ex-relu"
# ### Exercise 3 — `relu` (1 point)
#
# Return $\max(0, x)$ element-wise, as a **new** array (the tests check that `x` is unchanged).
# Same dtype rule: float32 in, float32 out.

# %% id="ch01_relu" nbgrader={"solution": true}
def relu(x):
    """Element-wise rectified linear unit max(0, x)."""
    ### BEGIN SOLUTION
    return np.maximum(x, 0)
    ### END SOLUTION


# %% id="ch01_relu_test" nbgrader={"grade": true, "locked": true, "points": 1}
check(relu, ref.relu, [
    np.array([-2.0, -0.5, 0.0, 0.5, 2.0]),
    randn(4, 6, seed=9),
    np.array([-1e300, -1e-300, 1e-300, 1e300]),
    randn(2, 5, seed=12).astype(np.float32),
], hints=mistakes.relu)
### BEGIN HIDDEN TESTS
check(relu, ref.relu, [
    randn(1, 1, seed=10),
    randn(2, 3, 4, seed=11).astype(np.float32),
    randn(3, 7, seed=13, scale=1e5),
], hints=mistakes.relu)
### END HIDDEN TESTS

# %% [markdown] id="pytorch-activations"
# ### The same in PyTorch
#
# PyTorch has all three as `torch.sigmoid`, `torch.tanh` and `torch.relu` (and as modules
# `nn.Sigmoid()`, `nn.Tanh()`, `nn.ReLU()`). Below, your functions and PyTorch's side by side, on
# the device the course uses. PyTorch also gives us the **derivatives** for free with autograd —
# chapter 2 is about computing them yourself.

# %% id="pytorch-activations-code" tags=["demo"]
my_sigmoid, my_tanh, my_relu = (use_yours(sigmoid, "networks.sigmoid"), use_yours(tanh, "networks.tanh"),
                                use_yours(relu, "networks.relu"))
x = np.array([-1000.0, -3.0, -0.5, 0.0, 0.5, 3.0, 1000.0])
xt = to_tensor(x, requires_grad=True)
for name, mine, theirs in [("sigmoid", my_sigmoid, torch.sigmoid), ("tanh", my_tanh, torch.tanh), ("relu", my_relu, torch.relu)]:
    print(f"{name:8s} NumPy  :", np.array2string(mine(x), precision=4))
    print(f"{name:8s} PyTorch:", np.array2string(to_numpy(theirs(xt)), precision=4))

# %% id="plot-activations" tags=["demo"]
# Plot 1: each activation and its derivative (the derivative from PyTorch's autograd).
grid = np.linspace(-5, 5, 401)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
plots.plot_functions({"sigmoid": my_sigmoid, "tanh": my_tanh, "ReLU": my_relu}, grid, ax=axes[0], title="activations (your NumPy code)")
derivatives = {}
for name, fn in [("sigmoid'", torch.sigmoid), ("tanh'", torch.tanh), ("ReLU'", torch.relu)]:
    g = to_tensor(grid, requires_grad=True)
    fn(g).sum().backward()
    derivatives[name] = to_numpy(g.grad)
axes[1].plot(grid, np.stack(list(derivatives.values()), axis=1), label=list(derivatives))
axes[1].legend()
axes[1].set_title("derivatives (PyTorch autograd)")
plt.tight_layout()
plt.show()


# %% [markdown] id="plot-activations-comment"
# Read the right panel before chapter 2: sigmoid's derivative is at most **0.25**, and tanh's and
# sigmoid's derivatives vanish for large $|x|$ (the units *saturate*). Multiplying many such small
# factors during backpropagation makes gradients vanish in deep networks. ReLU's derivative is
# exactly 1 for every positive input, which is one reason it became the default — but it is exactly
# 0 for negative inputs, which is how a ReLU unit can *die* (section 6).

# %% [markdown] id="dense-theory"
# ## 2. A dense layer, for a whole batch
#
# A layer of $n_\text{out}$ neurons, each connected to all $n_\text{in}$ inputs, has a weight matrix
# and a bias vector. We process a **batch** of $N$ examples at once, one example per row of $X$:
#
# $$ Y = X W^\top + \mathbf{b}, \qquad X \in \mathbb{R}^{N \times n_\text{in}},\;
#    W \in \mathbb{R}^{n_\text{out} \times n_\text{in}},\; \mathbf{b} \in \mathbb{R}^{n_\text{out}},\;
#    Y \in \mathbb{R}^{N \times n_\text{out}}. $$
#
# The bias is added to every row (NumPy *broadcasting*). We store $W$ as (n_out, n_in) — the layout of
# `nn.Linear.weight` and of `F.linear(X, W, b)` — so weights copy between NumPy and PyTorch without
# transposes. (Some books store the transpose and write $XW$; the maths is the same.)

# %% [markdown] id="ex-dense"
# ### Exercise 4 — `dense_forward` (2 points)
#
# Return $Y = XW^\top + b$ for `X` of shape (N, n_in), `W` of shape (n_out, n_in), `b` of shape (n_out,).
# One matrix product, no Python loop over examples. float32 inputs give a float32 result.
#
# <details><summary>Hint 1</summary>
#
# Write the shapes under each other: which product of an (N, n_in) array and an (n_out, n_in) array is (N, n_out)?
# Then NumPy's broadcasting adds an (n_out,) vector to every row.
# </details>

# %% id="ch01_dense_forward" nbgrader={"solution": true}
def dense_forward(X, W, b):
    """Dense layer for a batch: X (N, n_in), W (n_out, n_in), b (n_out,) -> (N, n_out)."""
    ### BEGIN SOLUTION
    return X @ W.T + b
    ### END SOLUTION


# %% id="ch01_dense_forward_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(dense_forward, ref.dense_forward, [
    (np.array([[1.0, 2.0]]), np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.5, -0.5, 0.0])),
    (randn(4, 3, seed=12), randn(3, 3, seed=13), randn(3, seed=14)),
    (randn(5, 4, seed=15), randn(2, 4, seed=16), randn(2, seed=17)),
    (randn(3, 4, seed=27).astype(np.float32), randn(2, 4, seed=28).astype(np.float32), randn(2, seed=29).astype(np.float32)),
], hints=mistakes.dense_forward)
### BEGIN HIDDEN TESTS
check(dense_forward, ref.dense_forward, [
    (randn(1, 7, seed=18), randn(3, 7, seed=19), randn(3, seed=20)),       # batch of one
    (randn(6, 1, seed=21), randn(1, 1, seed=22), randn(1, seed=23)),       # one input, one output
    (randn(16, 5, seed=24, scale=1e3), randn(9, 5, seed=25), randn(9, seed=26)),
    (randn(7, 3, seed=37).astype(np.float32), randn(5, 3, seed=38).astype(np.float32), randn(5, seed=39).astype(np.float32)),
], hints=mistakes.dense_forward)
### END HIDDEN TESTS

# %% id="pytorch-dense" tags=["demo"]
# PyTorch: nn.Linear(n_in, n_out) holds weight (n_out, n_in) and bias (n_out,). Copy ours in, compare.
X, W, b = randn(4, 3, seed=30), randn(2, 3, seed=31), randn(2, seed=32)
linear = nn.Linear(3, 2, dtype=torch.float64).to(get_device())
with torch.no_grad():
    linear.weight.copy_(to_tensor(W))
    linear.bias.copy_(to_tensor(b))
mine = use_yours(dense_forward, "networks.dense_forward")(X, W, b)
theirs = to_numpy(linear(to_tensor(X)))
print("NumPy:\n", mine, "\nnn.Linear:\n", theirs, "\nlargest difference:", np.abs(mine - theirs).max())


# %% [markdown] id="init-theory"
# ## 3. Initialisation: the scale of the weights matters
#
# Start a network with all weights zero and every neuron of a layer computes the same thing forever
# (their gradients are equal too): the weights must be random to *break the symmetry*. But how large?
# Each pre-activation $z_j = \sum_i W_{ji} a_i$ sums $n_\text{in}$ terms, so its variance is about
# $n_\text{in}\,\mathrm{Var}(W)\,\mathrm{E}[a^2]$. To keep signals the same size layer after layer:
#
# * **Xavier / Glorot** (for tanh, sigmoid): $\;W \sim \mathcal N\!\left(0,\ \dfrac{2}{n_\text{in} + n_\text{out}}\right)$
#   — a compromise between keeping the forward and the backward signal stable;
# * **He / Kaiming** (for ReLU, which zeroes half its inputs): $\;W \sim \mathcal N\!\left(0,\ \dfrac{2}{n_\text{in}}\right)$.
#
# Biases start at zero. Mind that the second parameter of $\mathcal N$ above is the **variance**;
# `rng.normal(loc, scale)` wants the **standard deviation**. PyTorch's versions are
# `nn.init.xavier_normal_` and `nn.init.kaiming_normal_(w, nonlinearity="relu")`.

# %% [markdown] id="ex-init"
# ### Exercise 5 — `init_params` (2 points)
#
# Given `layer_sizes = [n_0, n_1, ..., n_L]`, return a dict with `W1, b1, ..., WL, bL` where `Wl` has
# shape $(n_l, n_{l-1})$ and `bl` shape $(n_l,)$ of zeros; `method` is `"he"` or `"xavier"`.
# The weights are drawn from a **normal** distribution with mean 0 and the method's variance, each layer's
# draws independent of the others'. Draw every random number from one generator made from the seed,
# `rng = np.random.default_rng(seed)`, so that the same seed always gives the same network (and
# another seed another one). Return float64 arrays.
#
# Random draws cannot be compared number by number with PyTorch's, so the test compares what does not
# depend on the draw, with PyTorch's own initialisers (`nn.init.kaiming_normal_`, `nn.init.xavier_normal_`):
# the shapes, zero biases, the spread (std) of each weight matrix to 2 %; and the *distribution*: the mean
# (in units of the std, about 0), the excess kurtosis (about 0 for a normal distribution, $-1.2$ for a
# uniform one) and the correlation between two layers' draws (about 0 when they are independent), each to
# within 0.15.
#
# <details><summary>Hint 1</summary>
#
# `rng.normal(loc, scale, size=...)`: `loc` is the mean, `scale` the **standard deviation**, the square root of
# the variance above.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Make the generator once, before the loop over the layers: a generator made again inside the loop with the
# same seed hands every layer the same numbers.
# </details>

# %% id="ch01_init_params" nbgrader={"solution": true}
def init_params(layer_sizes, method="he", seed=0):
    """Xavier or He normal initialisation of an MLP: {"W1": (n1, n0), "b1": (n1,), ...}."""
    ### BEGIN SOLUTION
    rng = np.random.default_rng(seed)
    params = {}
    for layer, (n_in, n_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:]), start=1):
        std = np.sqrt(2.0 / n_in) if method == "he" else np.sqrt(2.0 / (n_in + n_out))
        params[f"W{layer}"] = rng.normal(0.0, std, size=(n_out, n_in))
        params[f"b{layer}"] = np.zeros(n_out)
    return params
    ### END SOLUTION


# %% id="ch01_init_params_test" nbgrader={"grade": true, "locked": true, "points": 2}
# Spread: the sample std of 40,000+ draws is within ~0.4 % of the true one, so 2 % accepts every seed and
# catches a wrong formula (fan_out for fan_in, the variance for the std: 10 % and more here).
check(cases.init_spread(init_params), cases.init_spread(ref.init_params),
      [([300, 200, 200, 200], "he"), ([300, 200, 200, 200], "xavier")], rtol=0.02, hints=mistakes.init_params)
# Distribution: with 40,000+ draws per layer, these statistics lie within ~0.03 of their true values (mean / std,
# correlation: 1/sqrt(n); excess kurtosis: sqrt(24 / n)), so 0.15 accepts every seed and catches a mean of
# 1 (mean / std > 10), a uniform draw (kurtosis -1.2) and a generator re-made per layer (correlation 1).
check(cases.init_distribution(init_params), cases.init_distribution(ref.init_params),
      [([300, 200, 200, 200], "he"), ([300, 200, 200, 200], "xavier")], rtol=0.0, atol=0.15, hints=mistakes.init_params)
check_seeded(init_params, [4, 3, 2])
### BEGIN HIDDEN TESTS
check(cases.init_spread(init_params), cases.init_spread(ref.init_params),
      [([250, 400], "he"), ([250, 400], "xavier"), ([500, 100, 400, 100], "he")], rtol=0.02, hints=mistakes.init_params)
check(cases.init_distribution(init_params), cases.init_distribution(ref.init_params),
      [([400, 250, 250], "he"), ([500, 100, 400, 100], "xavier")], rtol=0.0, atol=0.15, hints=mistakes.init_params)
check_seeded(init_params, [6, 5, 4, 3], method="xavier")
### END HIDDEN TESTS

# %% [markdown] id="mlp-theory"
# ## 4. The multi-layer perceptron, forward
#
# An MLP alternates dense layers and activations. With $A^{(0)} = X$:
#
# $$ Z^{(l)} = A^{(l-1)} W^{(l)\top} + \mathbf b^{(l)}, \qquad A^{(l)} = \varphi\big(Z^{(l)}\big) \quad (l < L), \qquad
#    \text{output} = Z^{(L)}. $$
#
# The last layer has **no activation**: it outputs raw scores (*logits*) or a regression value; the
# loss (chapter 4) decides what to do with them. The backward pass (chapter 2) needs, for every layer,
# its input $A^{(l-1)}$ and its pre-activation $Z^{(l)}$, so the forward pass returns them as
# `caches[l-1] = (A_prev, Z)`.

# %% [markdown] id="ex-mlp"
# ### Exercise 6 — `mlp_forward` (3 points)
#
# Return `(output, caches)` for `params` shaped like `init_params`'s (any number of layers,
# `len(params) // 2`; the tests give the biases non-zero values) and `activation` one of `"relu"`, `"tanh"`,
# `"sigmoid"`. Take the activation functions from the dict `ACTIVATIONS` imported below: it holds the
# course's solved versions, so that a slip in exercises 1–4 does not cost you points twice. float32 inputs
# and parameters give a float32 output and caches.
#
# <details><summary>Hint 1</summary>
#
# One loop over the layers $l = 1, \dots, L$; keep the current activations in one variable that each layer
# replaces. Only the last layer skips the activation.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Each layer computes what `dense_forward` of exercise 4 computes, with `params[f"W{l}"]` and `params[f"b{l}"]`;
# append `(A_prev, Z)` to the caches before applying the activation.
# </details>

# %% id="ch01_mlp_forward" nbgrader={"solution": true}
from dlcourse.solved.networks import ACTIVATIONS  # {"relu": ..., "tanh": ..., "sigmoid": ...}, the course's versions


def mlp_forward(X, params, activation="relu"):
    """Forward pass of an MLP: returns (output, caches) with caches[l] = (input of layer l+1, its Z)."""
    ### BEGIN SOLUTION
    n_layers = len(params) // 2
    caches, A = [], X
    for layer in range(1, n_layers + 1):
        Z = A @ params[f"W{layer}"].T + params[f"b{layer}"]
        caches.append((A, Z))
        A = ACTIVATIONS[activation](Z) if layer < n_layers else Z
    return A, caches
    ### END SOLUTION


# %% id="ch01_mlp_forward_test" nbgrader={"grade": true, "locked": true, "points": 3}
# Random weights and non-zero biases (cases.mlp_params); one layer, then deeper networks, every activation, float32.
offered = ("dlcourse.solved.networks.relu", "dlcourse.solved.networks.tanh", "dlcourse.solved.networks.sigmoid")
check(mlp_forward, ref.mlp_forward, [
    (randn(5, 4, seed=33), cases.mlp_params([4, 3], seed=1)),                    # one layer: just dense_forward
    (randn(5, 4, seed=33), cases.mlp_params([4, 6, 3], seed=2)),
    Inputs(randn(5, 4, seed=33), cases.mlp_params([4, 6, 5, 5, 2], seed=3), activation="tanh"),     # 3 hidden layers
    Inputs(randn(6, 3, seed=34), cases.mlp_params([3, 8, 8, 8, 8, 1], seed=4), activation="sigmoid"),
    Inputs(randn(4, 5, seed=35).astype(np.float32), cases.mlp_params([5, 7, 6, 3], seed=5, dtype=np.float32)),
], output_names=("output", "caches"), hints=mistakes.mlp_forward, allow=offered)
### BEGIN HIDDEN TESTS
check(mlp_forward, ref.mlp_forward, [
    Inputs(randn(5, 4, seed=36), cases.mlp_params([4, 6, 3], seed=6), activation="tanh"),
    Inputs(randn(1, 10, seed=37), cases.mlp_params([10, 7, 3], seed=7)),                         # batch of one
    Inputs(randn(3, 2, seed=38, scale=1e3), cases.mlp_params([2, 5, 5, 2], seed=8), activation="tanh"),
    Inputs(randn(8, 6, seed=39), cases.mlp_params([6] * 12 + [2], seed=9), activation="relu"),    # 12 layers
    Inputs(randn(2, 3, seed=40).astype(np.float32), cases.mlp_params([3, 4, 4, 4, 2], seed=10, dtype=np.float32),
           activation="sigmoid"),
], output_names=("output", "caches"), hints=mistakes.mlp_forward, allow=offered)
### END HIDDEN TESTS

# %% id="pytorch-mlp" tags=["demo"]
# PyTorch: the same MLP as an nn.Sequential with our weights copied in (ref.build_mlp does the copying:
# Linear(4, 6), ReLU, Linear(6, 3)). The outputs agree to rounding error.
my_mlp_forward = use_yours(mlp_forward, "networks.mlp_forward")
my_init_params = use_yours(init_params, "networks.init_params")
X = randn(5, 4, seed=33)
params = my_init_params([4, 6, 3], seed=8)
model = ref.build_mlp(params, "relu")
print(model)
mine, _ = my_mlp_forward(X, params)
theirs = to_numpy(model(to_tensor(X)))
print("largest difference between NumPy and PyTorch:", np.abs(mine - theirs).max())

# %% [markdown] id="init-demo-theory"
# ### Why initialisation matters — a picture
#
# Push 1000 random inputs through a 10-layer tanh or ReLU network and look at the activations of
# every second layer. With weights that are too small the signal shrinks to zero; with the right scale
# it keeps its size all the way through. (Too large, and tanh units saturate at ±1.)

# %% id="plot-init" tags=["demo"]
# Plot 2: activation histograms through a deep network, three initialisations.
X_deep = randn(1000, 256, seed=36)
sizes = [256] * 11
settings = {
    "tanh, std 0.01": ("tanh", {k: v * (0.01 / np.sqrt(2 / 512)) if k.startswith("W") else v
                                for k, v in my_init_params(sizes, "xavier", seed=9).items()}),
    "tanh, Xavier": ("tanh", my_init_params(sizes, "xavier", seed=9)),
    "ReLU, He": ("relu", my_init_params(sizes, "he", seed=9)),
}
fig, axes = plt.subplots(len(settings), 5, figsize=(13, 6), sharex="row")
for row, (title, (act, p)) in zip(axes, settings.items()):
    _, caches = my_mlp_forward(X_deep, p, act)
    layer_outputs = {f"layer {l}": ACTIVATIONS[act](caches[l - 1][1]) for l in (2, 4, 6, 8, 10)}
    plots.plot_histograms(layer_outputs, axes=row)
    row[0].set_ylabel(title)
fig.suptitle("activations through 10 layers: too small, Xavier (tanh), He (ReLU)")
plt.tight_layout()
plt.show()

# %% [markdown] id="regions-theory"
# ## 5. What an MLP can draw: decision regions
#
# A classifier's *decision regions* are the parts of input space it assigns to each class. A single
# neuron draws one straight line; a hidden layer bends it. Below, PyTorch trains a small MLP (2-32-32-2)
# on the two-moons data for a few hundred steps — training is chapters 2–6 — then **your**
# `mlp_forward` runs with the trained weights copied out of PyTorch and draws the regions.

# %% id="plot-regions" tags=["demo"]
# Plot 3: decision regions of a PyTorch-trained MLP, evaluated by your NumPy forward pass.
X_moons, y_moons = data.make_moons(300, noise=0.15, seed=0)
torch.manual_seed(0)
net = ref.build_mlp(my_init_params([2, 32, 32, 2], seed=10), "relu")
optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
Xt, yt = to_tensor(X_moons), to_tensor(y_moons)
for step in range(300):
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(net(Xt), yt)
    loss.backward()
    optimizer.step()
linears = [m for m in net if isinstance(m, nn.Linear)]
trained = {}
for l, m in enumerate(linears, start=1):
    trained[f"W{l}"], trained[f"b{l}"] = to_numpy(m.weight), to_numpy(m.bias)
predict = lambda points: my_mlp_forward(points, trained)[0].argmax(axis=1)
accuracy = (predict(X_moons) == y_moons).mean()
plots.plot_decision_regions(predict, X_moons, y_moons,
                            title=f"2-32-32-2 ReLU MLP, training accuracy {accuracy:.1%}")
plt.show()


# %% [markdown] id="count-theory"
# ## 6. Counting parameters, and the source articles' examples
#
# A dense layer from $n_\text{in}$ to $n_\text{out}$ has $n_\text{out} \cdot n_\text{in}$ weights and
# $n_\text{out}$ biases. PyTorch counts them with `sum(p.numel() for p in model.parameters())`
# (Keras prints the same number in `model.summary()`).

# %% [markdown] id="ex-count"
# ### Exercise 7 — `count_params` (1 point)
#
# Return the number of trainable parameters (an `int`) of the MLP with the given `layer_sizes`
# $[n_0, n_1, \dots, n_L]$.
#
# <details><summary>Hint 1</summary>
#
# The network has $L$ dense layers, one per pair of neighbouring sizes $(n_{l-1}, n_l)$; each has a weight matrix
# and a bias vector.
# </details>

# %% id="ch01_count_params" nbgrader={"solution": true}
def count_params(layer_sizes):
    """Number of weights and biases of an MLP with these layer sizes."""
    ### BEGIN SOLUTION
    return sum(n_out * n_in + n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))
    ### END SOLUTION


# %% id="ch01_count_params_test" nbgrader={"grade": true, "locked": true, "points": 1}
check(count_params, ref.count_params, [[2, 1], [784, 128, 10], [3, 5, 7, 4, 2]], hints=mistakes.count_params)
### BEGIN HIDDEN TESTS
check(count_params, ref.count_params, [[784, 512, 10], [10, 10, 10, 10], [1, 1], [3, 100, 1]], hints=mistakes.count_params)
### END HIDDEN TESTS

# %% [markdown] id="e4"
# ### Worked example E4: the Keras MLP 784-128-10
#
# One of the source articles builds `Dense(128, activation="relu", input_shape=(784,))` followed by
# `Dense(10, activation="softmax")` for MNIST, and Keras reports **101,770** parameters. The same
# network in PyTorch (the softmax goes into the loss, chapter 4), counted both ways:

# %% id="e4-code" tags=["demo"]
e4 = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
torch_count = sum(p.numel() for p in e4.parameters())
my_count = use_yours(count_params, "networks.count_params")([784, 128, 10])
print(e4)
print(f"PyTorch: {torch_count:,} parameters; your count_params: {my_count:,}")
if my_count != torch_count:
    print(f"your count_params is off by {my_count - torch_count:+,}: its test above says what is missing")

# %% [markdown] id="e5"
# ### Worked example E5: one ReLU neuron, and how it dies
#
# Another article trains the smallest network there is: two inputs, one output unit with a ReLU,
# mean-squared-error loss, Adam, 1000 steps on two samples, printing the loss every 100 steps.
# Its forward pass is `relu(dense_forward(x, W, b))` with $W$ of shape (1, 2). Below we reproduce it
# in PyTorch — twice: from a healthy start, and from a start where the pre-activation $z$ is negative
# for **both** samples.
#
# ReLU's derivative is 0 for $z < 0$. When $z < 0$ for every training example, no gradient reaches $W$
# or $b$, Adam has nothing to follow, and the loss stays where it is forever: the unit is **dead**. This
# is why a ReLU on the *output* of a regression model is risky, why biases start at zero and weights are
# drawn centred on zero (then a unit's pre-activation is positive for about half of the inputs; He
# initialisation only sets the weights' *variance*, so that signals keep their size), and why variants like
# Leaky ReLU exist. Chapter 2 computes these gradients by hand and shows the zero.

# %% id="e5-code" tags=["demo"]
X_e5 = np.array([[1.0, 2.0], [2.0, 1.0]])
y_e5 = np.array([[1.0], [2.0]])
my_relu_ = use_yours(relu, "networks.relu")
my_dense = use_yours(dense_forward, "networks.dense_forward")


def train_e5(W0, b0, steps=1000, lr=0.01):
    """Train relu(x W^T + b) with MSE and Adam in PyTorch, starting from W0, b0; return the losses."""
    W = to_tensor(W0, requires_grad=True)
    b = to_tensor(b0, requires_grad=True)
    optimizer = torch.optim.Adam([W, b], lr=lr)
    Xt, yt, losses = to_tensor(X_e5), to_tensor(y_e5), []
    for step in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(torch.relu(nn.functional.linear(Xt, W, b)), yt)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % 100 == 0:
            print(f"  step {step:4d}  loss {loss.item():.6f}")
    return losses


healthy = (np.array([[0.3, 0.2]]), np.array([0.1]))
dead = (np.array([[-0.3, -0.2]]), np.array([-0.1]))
for name, (W0, b0) in [("healthy", healthy), ("dead", dead)]:
    z = my_dense(X_e5, W0, b0)
    print(f"{name} start: z = {z.ravel()}, NumPy output = {my_relu_(z).ravel()}, "
          f"PyTorch output = {to_numpy(torch.relu(nn.functional.linear(to_tensor(X_e5), to_tensor(W0), to_tensor(b0)))).ravel()}")
losses = {}
for name, (W0, b0) in [("healthy start", healthy), ("dead start (z < 0 for both samples)", dead)]:
    print(name)
    losses[name] = train_e5(W0, b0)

# %% id="plot-e5" tags=["demo"]
# Plot 4: the two training curves. The dead unit's loss never moves: its gradient is exactly zero.
plots.plot_curves(losses, xlabel="Adam step", ylabel="MSE loss", logy=True, title="E5: a healthy and a dead ReLU unit")
plt.show()
print("final losses:", {k: round(v[-1], 6) for k, v in losses.items()})

# %% [markdown] id="summary"
# ## Summary
#
# * A neuron computes $\varphi(\mathbf w^\top \mathbf x + b)$; a dense layer does it for $n_\text{out}$
#   neurons and a batch of $N$ examples at once: $Y = XW^\top + \mathbf b$ — with $W$ in PyTorch's (n_out, n_in) layout.
# * Sigmoid and tanh must be written so that `exp` never sees a large positive argument; ReLU is a max.
# * Weights start random (to break symmetry), drawn from a normal distribution with mean 0 and a variance
#   that keeps signals the same size from layer to layer: Xavier $2/(n_\text{in}+n_\text{out})$ for tanh,
#   He $2/n_\text{in}$ for ReLU; biases start at zero.
# * An MLP's forward pass alternates dense layers and activations, with no activation on the output,
#   and keeps `(A_prev, Z)` of each layer for the backward pass.
# * A ReLU unit whose input is negative for every example gets no gradient and never recovers.
#
# **Scaling up.** Everything here runs in seconds on a CPU. To go bigger, raise the sizes in the
# initialisation picture or the moons example's hidden layers; the code does not change.
#
# **Next:** chapter 2 computes the gradients of all of this by hand — the backward pass.
#
# ## Glossary / 术语表
#
# | English | 中文 |
# |---|---|
# | neuron | 神经元 |
# | weight / bias | 权重 / 偏置 |
# | activation function | 激活函数 |
# | sigmoid / tanh / ReLU | S 型函数 / 双曲正切 / 线性整流函数 |
# | dense (fully connected) layer | 全连接层 |
# | feedforward network, multi-layer perceptron (MLP) | 前馈网络，多层感知机 |
# | forward pass | 前向传播 |
# | batch | 批量 |
# | logits (unnormalised scores) | 对数几率 / 未归一化的对数概率 |
# | initialisation (Xavier, He) | 初始化（Xavier、He） |
# | overflow / numerical stability | 溢出 / 数值稳定性 |
# | saturation | 饱和 |
# | dead ReLU | 死亡 ReLU |
# | decision region / boundary | 决策区域 / 边界 |
# | parameter count | 参数量 |

# %% [markdown] id="progress-title"
# ## Your progress
#
# Which exercises of this notebook pass in this session, and their points (run every test cell first,
# or *Run All*). `dlcourse progress` in a terminal shows every chapter, in fresh kernels.

# %% id="progress" tags=["demo"]
from dlcourse.progress import progress_table

progress_table()
