# %% [markdown] id="title"
# # Chapter 2 — Backpropagation and gradient checking
#
# **Learning goals.** After this notebook you can
#
# 1. apply the chain rule on a computational graph: every node multiplies the gradient arriving from
#    above (the *upstream* gradient) by its own local derivative and passes the result on;
# 2. write the backward pass of sigmoid, tanh and ReLU, and of a dense layer for a whole batch
#    (`dX`, `dW`, `db`, with the right shapes);
# 3. backpropagate through a whole MLP using the caches chapter 1's forward pass kept;
# 4. check any gradient numerically with centred differences, measure agreement with a relative
#    error, and choose the step `eps` knowing what goes wrong when it is too large or too small;
# 5. compute the gradients of the source articles' one-neuron example (E5) by hand and see why a dead
#    ReLU unit never learns again.
#
# Every gradient you compute is compared with what PyTorch's automatic differentiation
# (`torch.autograd`, in float64) gives for the same weights and inputs. The second notebook of this
# chapter, `autodiff.ipynb`, builds a small autograd engine of your own.
#
# **How this notebook works.** Each exercise is a NumPy function with a stub
# (`raise NotImplementedError()`). Replace the stub with your code, run the cell, then run the test
# cell below it. Cells that only *show* things use your function once it works and the course's
# solved version until then. Chapter 1's building blocks (`sigmoid`, `dense_forward`,
# `mlp_forward`, ...) are imported already solved, so this notebook does not depend on your chapter 1.

# %% id="setup"
import numpy as np
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse import plots
from dlcourse.cases import backprop as cases
from dlcourse.checking import Inputs, check, randn
from dlcourse.demos import backprop as demos
from dlcourse.device import describe, get_device, to_numpy, to_tensor
from dlcourse.exercises import use_yours
from dlcourse.mistakes import backprop as mistakes
from dlcourse.plots import backprop as backprop_plots
from dlcourse.reference import backprop as ref
from dlcourse.reference.networks import build_mlp
from dlcourse.solved.losses import cross_entropy, cross_entropy_grad, mse, mse_grad
from dlcourse.solved.networks import dense_forward, init_params, mlp_forward, relu, sigmoid, tanh
from dlcourse.solved.optimizers import Adam

torch.manual_seed(0)
torch.set_num_threads(1)  # this notebook's tensors are tiny: on a busy CPU, extra threads only wait for each other
print(describe())

# %% [markdown] id="chain-rule-theory"
# ## 1. The chain rule on a computational graph
#
# Training needs $\partial L / \partial W$ for every weight $W$: how much the loss $L$ changes when
# $W$ changes a little. The source articles write it as the chain rule,
# $\dfrac{\partial L}{\partial W} = \dfrac{\partial L}{\partial y}\,\dfrac{\partial y}{\partial W}$:
# the loss depends on $W$ only through the layer's output $y$.
#
# A network is a **computational graph**: a chain (or tree) of simple operations. The forward pass
# computes every intermediate value and keeps the ones the backward pass will need. The backward pass
# walks the graph from the loss back to the inputs; at each node it receives the **upstream gradient**
# $\partial L / \partial(\text{output})$ and multiplies it by the node's **local derivative**:
#
# $$ \frac{\partial L}{\partial\, \text{input}} \;=\; \frac{\partial L}{\partial\, \text{output}} \cdot
#    \frac{\partial\, \text{output}}{\partial\, \text{input}}. $$
#
# A tiny example: $z = w x + b$, $\hat y = \tanh(z)$, $L = (\hat y - y)^2$. Backward, one node at a time:
#
# | node | local derivative | gradient arriving at its input |
# |---|---|---|
# | $L = (\hat y - y)^2$ | $2(\hat y - y)$ | $\partial L/\partial \hat y = 2(\hat y - y)$ |
# | $\hat y = \tanh z$ | $1 - \tanh^2 z$ | $\partial L/\partial z = \partial L/\partial \hat y \cdot (1 - \hat y^2)$ |
# | $z = w x + b$ | $x$ for $w$, $1$ for $b$ | $\partial L/\partial w = \partial L/\partial z \cdot x$, $\;\partial L/\partial b = \partial L/\partial z$ |
#
# **Shapes.** $L$ is a number, so $\partial L/\partial A$ has exactly the shape of $A$ — for every
# array in the network. We write `dA` for $\partial L/\partial A$. A backward function takes the
# upstream gradient (`dA`, shaped like its output) and what the forward pass cached, and returns the
# gradients of its inputs (shaped like those inputs). That rule alone fixes most matrix products below.
#
# The cell computes the little example by hand and with PyTorch's autograd, which records the graph
# during the forward pass and walks it backwards when you call `loss.backward()`.

# %% id="chain-rule-demo" tags=["demo"]
x, y, w, b = 1.5, 0.2, 0.8, -0.3
z = w * x + b
y_hat = np.tanh(z)
dy_hat = 2 * (y_hat - y)
dz = dy_hat * (1 - y_hat ** 2)
dw, db = dz * x, dz
print(f"by hand : L = {(y_hat - y) ** 2:.10f}, dL/dw = {dw:.10f}, dL/db = {db:.10f}")

wt, bt = to_tensor(w, requires_grad=True), to_tensor(b, requires_grad=True)
loss = (torch.tanh(wt * x + bt) - y) ** 2
loss.backward()  # autograd walks the recorded graph from loss back to wt and bt
print(f"autograd: L = {loss.item():.10f}, dL/dw = {wt.grad.item():.10f}, dL/db = {bt.grad.item():.10f}")


# %% [markdown] id="activation-theory"
# ## 2. Backward through the activations
#
# An activation acts element by element, $A = \varphi(Z)$, so each $Z_{ij}$ affects only $A_{ij}$
# and the chain rule is an element-wise product (NumPy's `*`):
#
# $$ dZ = dA \odot \varphi'(Z), \qquad
#    \sigma'(z) = \sigma(z)\,\big(1 - \sigma(z)\big), \quad
#    \tanh'(z) = 1 - \tanh^2(z), \quad
#    \mathrm{ReLU}'(z) = \begin{cases} 1 & z > 0 \\ 0 & z < 0 \end{cases}. $$
#
# The backward functions receive the cached pre-activation `Z` (chapter 1's caches hold it), so they
# recompute $\sigma(Z)$ or $\tanh(Z)$ — with chapter 1's **stable** functions, imported above, so that
# $Z = -1000$ does not overflow (the tests try it). ReLU has no derivative at exactly $z = 0$; PyTorch (and this
# course) use 0 there. Do not modify `dA` or `Z`: return a new array. **dtype rule** for every backward function
# of this notebook: float32 inputs give a float32 result, float64 inputs a float64 one (the tests try both).

# %% [markdown] id="ex-sigmoid-backward"
# ### Exercise 1 — `sigmoid_backward` (2 points)
#
# Return $dZ = dA \odot \sigma(Z)(1 - \sigma(Z))$ for arrays `dA` and `Z` of the same shape.

# %% id="ch02_sigmoid_backward" nbgrader={"solution": true}
def sigmoid_backward(dA, Z):
    """dL/dZ for A = sigmoid(Z), given the upstream gradient dA = dL/dA."""
    ### BEGIN SOLUTION
    s = sigmoid(Z)
    return dA * s * (1.0 - s)
    ### END SOLUTION


# %% id="ch02_sigmoid_backward_test" nbgrader={"grade": true, "locked": true, "points": 2}
# sigmoid'(0) = 0.25, so with dA = 1 the middle entry is 0.25; then dA other than 1; extremes; random; float32.
offered = ("dlcourse.solved.networks.sigmoid",)  # chapter 1's stable sigmoid, imported in the setup cell
check(sigmoid_backward, ref.sigmoid_backward, [
    (np.ones(3), np.array([-2.0, 0.0, 2.0])),
    (np.array([1.0, -2.0, 0.5]), np.zeros(3)),
    (np.ones(4), np.array([-1000.0, -50.0, 50.0, 1000.0])),           # chapter 1's stable sigmoid needed
    (randn(4, 5, seed=1), randn(4, 5, seed=2, scale=3.0)),
    (randn(6, 3, seed=7).astype(np.float32), randn(6, 3, seed=8, scale=30.0).astype(np.float32)),
], hints=mistakes.sigmoid_backward, allow=offered)
### BEGIN HIDDEN TESTS
check(sigmoid_backward, ref.sigmoid_backward, [
    (np.ones(4), np.array([-745.0, -709.8, 709.8, 745.0])),
    (randn(1, 1, seed=3), randn(1, 1, seed=4)),                        # a batch of one
    (randn(2, 3, 4, seed=5), randn(2, 3, 4, seed=6, scale=5.0)),       # 3-D
    (randn(5, 2, seed=9).astype(np.float32), randn(5, 2, seed=10).astype(np.float32)),
], hints=mistakes.sigmoid_backward, allow=offered)
### END HIDDEN TESTS

# %% [markdown] id="ex-tanh-backward"
# ### Exercise 2 — `tanh_backward` (1 point)
#
# Return $dZ = dA \odot (1 - \tanh^2 Z)$.

# %% id="ch02_tanh_backward" nbgrader={"solution": true}
def tanh_backward(dA, Z):
    """dL/dZ for A = tanh(Z), given dA = dL/dA."""
    ### BEGIN SOLUTION
    return dA * (1.0 - tanh(Z) ** 2)
    ### END SOLUTION


# %% id="ch02_tanh_backward_test" nbgrader={"grade": true, "locked": true, "points": 1}
# tanh'(0) = 1 and tanh' is even: the same value at -1 and +1. Then extremes, random, float32.
offered = ("dlcourse.solved.networks.tanh",)  # chapter 1's stable tanh, imported in the setup cell
check(tanh_backward, ref.tanh_backward, [
    (np.ones(3), np.array([-1.0, 0.0, 1.0])),
    (np.ones(4), np.array([-800.0, -20.0, 20.0, 800.0])),
    (randn(3, 4, seed=9), randn(3, 4, seed=10, scale=2.0)),
    (randn(5, 2, seed=15).astype(np.float32), randn(5, 2, seed=16).astype(np.float32)),
], hints=mistakes.tanh_backward, allow=offered)
### BEGIN HIDDEN TESTS
check(tanh_backward, ref.tanh_backward, [
    (np.ones(3), np.array([-745.0, 400.0, 745.0])),
    (randn(1, seed=11), randn(1, seed=12)),
    (randn(2, 2, 3, seed=13), randn(2, 2, 3, seed=14)),
    (randn(4, 3, seed=17).astype(np.float32), randn(4, 3, seed=18, scale=10.0).astype(np.float32)),
], hints=mistakes.tanh_backward, allow=offered)
### END HIDDEN TESTS

# %% [markdown] id="ex-relu-backward"
# ### Exercise 3 — `relu_backward` (1 point)
#
# Return $dZ = dA$ where $Z > 0$ and $0$ elsewhere (also at $Z = 0$ exactly).

# %% id="ch02_relu_backward" nbgrader={"solution": true}
def relu_backward(dA, Z):
    """dL/dZ for A = relu(Z), given dA = dL/dA (derivative 0 at Z = 0, as in PyTorch)."""
    ### BEGIN SOLUTION
    return dA * (Z > 0)
    ### END SOLUTION


# %% id="ch02_relu_backward_test" nbgrader={"grade": true, "locked": true, "points": 1}
check(relu_backward, ref.relu_backward, [
    (np.array([1.0, 2.0, 3.0, 4.0]), np.array([-1.0, 0.0, 0.5, 2.0])),   # Z = 0 passes no gradient
    (np.array([-1.0, -1.0, 5.0]), np.array([1e-300, -1e-300, 0.0])),
    (randn(4, 6, seed=17), randn(4, 6, seed=18)),
    (randn(2, 3, 4, seed=21).astype(np.float32), randn(2, 3, 4, seed=22).astype(np.float32)),
], hints=mistakes.relu_backward)
### BEGIN HIDDEN TESTS
check(relu_backward, ref.relu_backward, [
    (randn(1, 1, seed=19), randn(1, 1, seed=20)),
    (randn(3, 5, seed=23, scale=1e3), randn(3, 5, seed=24)),
    (randn(6, 2, seed=25).astype(np.float32), randn(6, 2, seed=26).astype(np.float32)),
], hints=mistakes.relu_backward)
### END HIDDEN TESTS

# %% [markdown] id="pytorch-activations"
# ### The same in PyTorch
#
# PyTorch never asks you for these functions: `torch.sigmoid`, `torch.tanh` and `torch.relu` each
# register their backward with autograd. Give `Z` `requires_grad=True`, run the activation, call
# `A.backward(dA)` — which starts the backward pass with the upstream gradient `dA` — and `Z.grad`
# holds $dZ$. Below, yours and autograd's side by side.

# %% id="pytorch-activations-code" tags=["demo"]
backwards = {"sigmoid": (use_yours(sigmoid_backward, "backprop.sigmoid_backward"), torch.sigmoid),
             "tanh": (use_yours(tanh_backward, "backprop.tanh_backward"), torch.tanh),
             "relu": (use_yours(relu_backward, "backprop.relu_backward"), torch.relu)}
Z, dA = np.array([-3.0, -0.5, 0.0, 0.5, 3.0]), np.array([1.0, 1.0, 1.0, 1.0, -2.0])
for name, (mine, torch_fn) in backwards.items():
    Zt = to_tensor(Z, requires_grad=True)
    torch_fn(Zt).backward(to_tensor(dA))
    print(f"{name:8s} NumPy   : {np.array2string(mine(dA, Z), precision=5)}")
    print(f"{name:8s} autograd: {np.array2string(to_numpy(Zt.grad), precision=5)}")


# %% [markdown] id="dense-theory"
# ## 3. Backward through a dense layer, for a batch
#
# Chapter 1's dense layer computes $Y = XW^\top + \mathbf b$ with $X$ of shape $(N, n_\text{in})$, $W$
# of shape $(n_\text{out}, n_\text{in})$ (PyTorch's layout) and $Y$ of shape $(N, n_\text{out})$. Entry
# by entry, $Y_{nj} = \sum_i X_{ni} W_{ji} + b_j$. Given $dY$, the chain rule gives
#
# $$ \frac{\partial L}{\partial W_{ji}} = \sum_n dY_{nj}\, X_{ni}, \qquad
#    \frac{\partial L}{\partial X_{ni}} = \sum_j dY_{nj}\, W_{ji}, \qquad
#    \frac{\partial L}{\partial b_j} = \sum_n dY_{nj}, $$
#
# that is, as matrix products,
#
# $$ dW = dY^\top X \;\; (n_\text{out} \times n_\text{in}), \qquad dX = dY\, W \;\; (N \times n_\text{in}), \qquad
#    d\mathbf b = \textstyle\sum_n dY_{n,:} \;\; (n_\text{out}). $$
#
# Check them with the shape rule: `dW` must have `W`'s shape, and `dY.T @ X` is the only product of
# `dY` and `X` that does. **Why sums over the batch?** The same $W$ and $\mathbf b$ serve every example,
# so each example's contribution adds up. If the loss is a *mean* over the batch, its $1/N$ is already
# inside `dY` (chapter 4's loss gradients include it): do not divide again here.

# %% [markdown] id="ex-dense-backward"
# ### Exercise 4 — `dense_backward` (3 points)
#
# Return the tuple `(dX, dW, db)` for `dY` of shape (N, n_out), `X` of shape (N, n_in) and `W` of shape
# (n_out, n_in). No loops over examples. (The bias is not needed: $Y$ depends on it linearly with
# derivative 1.) float32 inputs give float32 gradients.
#
# <details><summary>Hint 1</summary>
#
# Write down the shape each gradient must have, then find the one product of the arrays you have that gives it.
# </details>

# %% id="ch02_dense_backward" nbgrader={"solution": true}
def dense_backward(dY, X, W):
    """Gradients (dX, dW, db) of a dense layer Y = X @ W.T + b, given dY = dL/dY."""
    ### BEGIN SOLUTION
    dX = dY @ W
    dW = dY.T @ X
    db = dY.sum(axis=0)
    return dX, dW, db
    ### END SOLUTION


# %% id="ch02_dense_backward_test" nbgrader={"grade": true, "locked": true, "points": 3}
# By hand for the first case: dX = dY @ W = [[0, -1]], dW = dY.T @ X = [[1, 2], [0, 0], [-1, -2]], db = [1, 0, -1].
check(dense_backward, ref.dense_backward, [
    (np.array([[1.0, 0.0, -1.0]]), np.array([[1.0, 2.0]]), np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])),
    (randn(4, 3, seed=23), randn(4, 5, seed=24), randn(3, 5, seed=25)),
    (randn(6, 2, seed=26), randn(6, 3, seed=27), randn(2, 3, seed=28)),
    (randn(3, 3, seed=35), randn(3, 3, seed=36), randn(3, 3, seed=37)),        # square: transposes don't show in the shapes
    (randn(4, 2, seed=41).astype(np.float32), randn(4, 3, seed=42).astype(np.float32), randn(2, 3, seed=43).astype(np.float32)),
], output_names=("dX", "dW", "db"), hints=mistakes.dense_backward)
### BEGIN HIDDEN TESTS
check(dense_backward, ref.dense_backward, [
    (randn(1, 4, seed=29), randn(1, 7, seed=30), randn(4, 7, seed=31)),        # a batch of one
    (randn(5, 1, seed=32), randn(5, 1, seed=33), randn(1, 1, seed=34)),        # one input, one output
    (randn(32, 10, seed=38, scale=1e3), randn(32, 20, seed=39), randn(10, 20, seed=40)),
    (randn(7, 4, seed=44).astype(np.float32), randn(7, 5, seed=45).astype(np.float32), randn(4, 5, seed=46).astype(np.float32)),
], output_names=("dX", "dW", "db"), hints=mistakes.dense_backward)
### END HIDDEN TESTS

# %% [markdown] id="pytorch-dense"
# ### The same in PyTorch
#
# An `nn.Linear(n_in, n_out)` with our weights copied in; `Y.backward(dY)` fills `linear.weight.grad`,
# `linear.bias.grad` and, because we asked for it, `X.grad`.

# %% id="pytorch-dense-code" tags=["demo"]
dY, X, W, b = randn(4, 2, seed=44), randn(4, 3, seed=45), randn(2, 3, seed=46), randn(2, seed=47)
linear = nn.Linear(3, 2, dtype=torch.float64).to(get_device())
with torch.no_grad():
    linear.weight.copy_(to_tensor(W))
    linear.bias.copy_(to_tensor(b))
Xt = to_tensor(X, requires_grad=True)
linear(Xt).backward(to_tensor(dY))
theirs = {"dX": to_numpy(Xt.grad), "dW": to_numpy(linear.weight.grad), "db": to_numpy(linear.bias.grad)}
mine = dict(zip(("dX", "dW", "db"), use_yours(dense_backward, "backprop.dense_backward")(dY, X, W)))
for name in mine:
    print(f"{name}: shape {mine[name].shape}, largest |NumPy - PyTorch| = {np.abs(mine[name] - theirs[name]).max():.1e}")
print("dW (NumPy):\n", mine["dW"], "\nlinear.weight.grad:\n", theirs["dW"])

# %% [markdown] id="mlp-theory"
# ## 4. Backward through the whole MLP
#
# Chapter 1's `mlp_forward(X, params, activation)` returns `(output, caches)` with
# `caches[l - 1] = (A_prev, Z)` for layer $l$: its input $A^{(l-1)}$ and its pre-activation $Z^{(l)}$.
# The output layer has no activation. Given `dout` $= \partial L / \partial\,\text{output}$, walk the
# layers from the last to the first:
#
# $$ dZ^{(L)} = \texttt{dout}; \qquad \text{for } l = L, \dots, 1:\quad
#    \big(dA^{(l-1)},\, dW^{(l)},\, d\mathbf b^{(l)}\big) = \texttt{dense\_backward}\big(dZ^{(l)}, A^{(l-1)}, W^{(l)}\big), \quad
#    dZ^{(l-1)} = dA^{(l-1)} \odot \varphi'\big(Z^{(l-1)}\big) \;\; (l > 1). $$
#
# Mind the indices: the activation between layers $l-1$ and $l$ was applied to $Z^{(l-1)}$, which
# sits in `caches[l - 2]`. The gradient with respect to the input $X$ itself, $dA^{(0)}$, is not needed.

# %% [markdown] id="ex-mlp-backward"
# ### Exercise 5 — `mlp_backward` (4 points)
#
# Return a dict `{"W1": dW1, "b1": db1, ..., "WL": dWL, "bL": dbL}` for `dout` (shaped like the output),
# the `caches` of `mlp_forward` and the same `params` and `activation`. Use your `dense_backward` and
# the dict `ACTIVATION_BACKWARDS` below. (Its test runs your function with the course's solved
# `dense_backward` and activation backwards, so that a mistake in those costs points only once — their
# own tests above catch it.) The tests use networks of one to four hidden layers, every activation, non-zero
# biases, and float32 as well as float64 (float32 in, float32 gradients out).
#
# <details><summary>Hint 1</summary>
#
# Draw the layers of a network with two hidden layers and write, for each arrow backwards, which gradient
# flows along it and which cached array it needs.
# </details>

# %% id="ch02_mlp_backward" nbgrader={"solution": true}
ACTIVATION_BACKWARDS = {"relu": relu_backward, "tanh": tanh_backward, "sigmoid": sigmoid_backward}


def mlp_backward(dout, caches, params, activation="relu"):
    """Gradients of every W and b of an MLP, from dL/d(output) and the caches of mlp_forward."""
    ### BEGIN SOLUTION
    grads, n_layers = {}, len(caches)
    dZ = dout                                   # no activation after the last layer
    for layer in range(n_layers, 0, -1):
        A_prev, _ = caches[layer - 1]
        dA_prev, grads[f"W{layer}"], grads[f"b{layer}"] = dense_backward(dZ, A_prev, params[f"W{layer}"])
        if layer > 1:
            Z_below = caches[layer - 2][1]
            dZ = ACTIVATION_BACKWARDS[activation](dA_prev, Z_below)
    return grads
    ### END SOLUTION


# %% id="ch02_mlp_backward_test" nbgrader={"grade": true, "locked": true, "points": 4}
# cases.mlp_case: a random MLP with non-zero biases, its caches (chapter 1's mlp_forward) and a random dout.
with cases.solved_blocks(globals()):  # the course's dense_backward and activation backwards, just for this test
    check(mlp_backward, ref.mlp_backward, [
        cases.mlp_case([3, 2], seed=1),                                  # one layer: just dense_backward
        cases.mlp_case([4, 6, 3], seed=2),
        cases.mlp_case([4, 6, 5, 5, 2], seed=3, activation="tanh"),     # 3 hidden layers
        cases.mlp_case([3, 8, 8, 8, 8, 1], seed=4, activation="sigmoid"),
        cases.mlp_case([5, 7, 6, 3], seed=5, dtype=np.float32),
    ], hints=mistakes.mlp_backward, allow=cases.BACKPROP_BLOCKS)
    ### BEGIN HIDDEN TESTS
    check(mlp_backward, ref.mlp_backward, [
        cases.mlp_case([4, 6, 3], seed=6, activation="tanh"),
        cases.mlp_case([10, 7, 3], seed=7, n=1),                         # a batch of one
        cases.mlp_case([2, 5, 5, 5, 5, 2], seed=8, activation="tanh", n=9),
        cases.mlp_case([6] * 11 + [2], seed=9, activation="relu"),      # 11 layers
        cases.mlp_case([3, 4, 4, 2], seed=10, activation="sigmoid", dtype=np.float32),
    ], hints=mistakes.mlp_backward, allow=cases.BACKPROP_BLOCKS)
    ### END HIDDEN TESTS

# %% [markdown] id="pytorch-mlp"
# ### The same in PyTorch — a real loss
#
# In training, `dout` comes from the loss. For the cross-entropy of chapter 4 it is
# `cross_entropy_grad(logits, labels)` $= (\text{softmax} - \text{one-hot}) / N$ (imported solved).
# PyTorch builds the same MLP as an `nn.Sequential` with our weights copied in, computes
# `F.cross_entropy` and calls `loss.backward()`. The two sets of gradients agree to rounding error.

# %% id="pytorch-mlp-code" tags=["demo"]
my_mlp_backward = use_yours(mlp_backward, "backprop.mlp_backward")
params = init_params([4, 8, 6, 3], seed=11)
X, labels = randn(10, 4, seed=48), np.random.default_rng(49).integers(0, 3, size=10)
logits, caches = mlp_forward(X, params, "tanh")
mine = my_mlp_backward(cross_entropy_grad(logits, labels), caches, params, "tanh")

model = build_mlp(params, "tanh")
torch_loss = F.cross_entropy(model(to_tensor(X)), to_tensor(labels))
torch_loss.backward()
linears = [m for m in model if isinstance(m, nn.Linear)]
print(f"loss: NumPy {cross_entropy(logits, labels):.12f}, PyTorch {torch_loss.item():.12f}")
for layer, linear in enumerate(linears, start=1):
    for name, theirs in ((f"W{layer}", linear.weight.grad), (f"b{layer}", linear.bias.grad)):
        print(f"d{name:3s} shape {str(mine[name].shape):8s} largest |NumPy - PyTorch| = {np.abs(mine[name] - to_numpy(theirs)).max():.1e}")

# %% [markdown] id="vanishing-theory"
# ### What backpropagation shows: vanishing gradients
#
# Backward, every layer multiplies the gradient by $W^\top$ and by $\varphi'(Z)$. Sigmoid's derivative is
# at most $0.25$, so through ten sigmoid layers the activation factors alone multiply the gradient by **at most**
# $0.25^{10} \approx 10^{-6}$ — by less wherever a unit is away from $z = 0$ — and the weights' factors, about 1 in
# size with Xavier initialisation, do not make up for it: the first layers barely learn. tanh's derivative is at most 1 (at $z = 0$),
# ReLU's is exactly 1 where the unit is active; with the matching initialisation (chapter 1) their
# gradients keep their size. The plot measures it with your `mlp_backward`: the mean $|dW|$ of each layer
# of three 10-layer networks of width 64, for a cross-entropy loss on random data.

# %% id="plot-vanishing" tags=["demo"]
# Plot 1: the size of each layer's weight gradient in three deep networks.
X_deep = randn(256, 64, seed=50)
labels_deep = np.random.default_rng(51).integers(0, 10, size=256)
sizes = [64] * 10 + [10]
networks = {"sigmoid, Xavier": ("sigmoid", "xavier"), "tanh, Xavier": ("tanh", "xavier"), "ReLU, He": ("relu", "he")}
norms = {}
for name, (activation, method) in networks.items():
    deep_params = init_params(sizes, method, seed=12)
    logits, caches = mlp_forward(X_deep, deep_params, activation)
    grads = my_mlp_backward(cross_entropy_grad(logits, labels_deep), caches, deep_params, activation)
    norms[name] = [np.abs(grads[f"W{l}"]).mean() for l in range(1, len(sizes))]
backprop_plots.plot_layer_gradients(norms, title="gradient size per layer (10 hidden layers)")
plt.show()
print({name: f"first / last layer = {values[0] / values[-1]:.1e}" for name, values in norms.items()})


# %% [markdown] id="numerical-theory"
# ## 5. Numerical gradients and the relative error
#
# How do you know a backward function is right? Compare it with the *definition* of the derivative.
# For a small step $\varepsilon$, Taylor's formula gives
#
# $$ f(x \pm \varepsilon) = f(x) \pm \varepsilon f'(x) + \tfrac{\varepsilon^2}{2} f''(x) \pm \tfrac{\varepsilon^3}{6} f'''(x) + \dots
#    \quad\Longrightarrow\quad
#    \frac{f(x + \varepsilon) - f(x - \varepsilon)}{2\varepsilon} = f'(x) + \tfrac{\varepsilon^2}{6} f'''(x) + \dots $$
#
# The **centred difference** is off by $O(\varepsilon^2)$; the one-sided
# $\big(f(x + \varepsilon) - f(x)\big)/\varepsilon$ is off by $O(\varepsilon)$ — far worse.
#
# For an array input and an array output we do what a backward function does: given an upstream
# gradient `dout` (shaped like $f(x)$; all ones if not given) we want the gradient of the number
# $\sum f(x) \odot \texttt{dout}$ with respect to every entry of $x$. Nudge one entry $x_k$ by
# $\pm\varepsilon$, evaluate $f$ twice, and
#
# $$ \text{grad}_k \approx \sum \frac{\big(f(x + \varepsilon e_k) - f(x - \varepsilon e_k)\big) \odot \texttt{dout}}{2\varepsilon}. $$
#
# So `numerical_gradient(sigmoid, Z, dA)` must match `sigmoid_backward(dA, Z)`: a check for any backward
# function, at the price of two forward passes per entry (far too slow for training, fine for testing).
#
# **Comparing two gradients.** An absolute difference of $10^{-6}$ is excellent for gradients of size 100
# and terrible for gradients of size $10^{-6}$. The usual measure (cs231n's) is the largest entry-wise
# **relative error**
#
# $$ \text{rel}(a, b) = \max_k \frac{|a_k - b_k|}{\max(|a_k| + |b_k|,\ 10^{-8})}, $$
#
# floored at $10^{-8}$ so that two zeros compare as equal instead of $0/0$. Rules of thumb in float64:
# below $10^{-7}$ the gradient is right; $10^{-7}$ to $10^{-4}$ look closer (kinks of ReLU, a too large
# $\varepsilon$); above $10^{-4}$ something is wrong.

# %% [markdown] id="ex-numerical-gradient"
# ### Exercise 6 — `numerical_gradient` (3 points)
#
# Return the centred-difference gradient of `sum(f(x) * dout)` with respect to `x` (`dout=None` means
# all ones), as a float64 array of `x`'s shape, with the step `eps` given. `x` (float64, any shape) is
# nudged **in place**, one entry at a time, and every entry is put back, so that `x` is unchanged in the end —
# the tests check it. Nudging in place lets `f` be a function that reads `x` by reference, such as a loss that
# reads `params["W1"]`.
#
# The test compares your result with the same centred difference computed by PyTorch, so it sees whether you
# used the `eps` you were given: with `eps = 0.1` the centred difference of $x^3 - 2x$ is $3x^2 - 2 + \varepsilon^2$.
#
# <details><summary>Hint 1</summary>
#
# `np.ndindex(x.shape)` yields every index of an array of any shape, so one loop covers vectors, matrices and more.
# </details>
#
# <details><summary>Hint 2</summary>
#
# For each index: remember the original value, set it to `original + eps`, evaluate `f`, set it to
# `original - eps`, evaluate `f` again, restore it. Keep a float64 *copy* of each result: `f` might return a view
# of `x`, which the next nudge would change under your feet.
# </details>

# %% id="ch02_numerical_gradient" nbgrader={"solution": true}
def numerical_gradient(f, x, dout=None, eps=1e-6):
    """Centred-difference gradient of sum(f(x) * dout) with respect to x (dout defaults to ones)."""
    ### BEGIN SOLUTION
    grad = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = np.array(f(x), dtype=np.float64)
        x[index] = original - eps
        minus = np.array(f(x), dtype=np.float64)
        x[index] = original
        weights = np.ones_like(plus) if dout is None else dout
        grad[index] = np.sum((plus - minus) * weights) / (2.0 * eps)
    return grad
    ### END SOLUTION


# %% id="ch02_numerical_gradient_test" nbgrader={"grade": true, "locked": true, "points": 3}
# The reference is the same centred difference, computed by PyTorch on the torch twin of each test function
# (cases.CUBIC etc. are written in NumPy and in PyTorch). Two right answers differ only by rounding: the two
# evaluations of f differ in their last bits, ~1e-16 |f|, divided by 2 eps = 2e-6: ~1e-9 here. atol 1e-8 allows
# that; a one-sided difference (off by eps |f''| / 2 ~ 1e-6) or a forgotten factor 2 or eps is far outside.
tolerance = dict(rtol=1e-6, atol=1e-8)
check(numerical_gradient, ref.numerical_gradient, [
    Inputs(cases.CUBIC, np.array([-1.0, 0.5, 2.0])),                       # f'(x) = 3x**2 - 2 = [1, -1.25, 10]
    Inputs(cases.CUBIC, np.array([-1.0, 0.5, 2.0]), eps=0.1),              # 3x**2 - 2 + eps**2: yours must use eps
    Inputs(cases.SIN_SQUARE, randn(3, 4, seed=52), randn(3, 4, seed=53)),  # with an upstream gradient dout
    Inputs(cases.linear_map(randn(2, 3, seed=54)), randn(4, 3, seed=55), randn(4, 2, seed=56)),  # every output depends on every input
    Inputs(cases.HALF_SQUARED_NORM, randn(2, 3, 2, seed=57), eps=1e-4),    # 3-D x, a scalar f
], hints=mistakes.numerical_gradient, **tolerance)
### BEGIN HIDDEN TESTS
mlp_params_w1 = init_params([2, 5, 3], seed=13)
check(numerical_gradient, ref.numerical_gradient, [
    Inputs(cases.HALF_SQUARED_NORM, randn(5, seed=58)),                    # a scalar output, dout=None
    Inputs(cases.SIN_SQUARE, randn(2, 3, 2, seed=58), randn(2, 3, 2, seed=59)),  # 3-D
    Inputs(cases.CUBIC, np.array([3.0]), np.array([-2.0]), eps=1e-3),
    Inputs(cases.SIN_SQUARE, randn(4, seed=63), randn(4, seed=64), eps=0.05),
    Inputs(cases.linear_map(randn(1, 6, seed=60)), randn(1, 6, seed=61), np.array([[1.5]])),
    Inputs(cases.mlp_loss_of_W1(mlp_params_w1, randn(7, 2, seed=62), np.arange(7) % 3), mlp_params_w1["W1"].copy()),
], hints=mistakes.numerical_gradient, **tolerance)
### END HIDDEN TESTS

# %% [markdown] id="ex-relative-error"
# ### Exercise 7 — `relative_error` (1 point)
#
# Return $\max_k |a_k - b_k| / \max(|a_k| + |b_k|, 10^{-8})$ as a Python `float`, for two arrays of
# the same shape.

# %% id="ch02_relative_error" nbgrader={"solution": true}
def relative_error(a, b):
    """Largest entry-wise relative error between two arrays of the same shape."""
    ### BEGIN SOLUTION
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))
    ### END SOLUTION


# %% id="ch02_relative_error_test" nbgrader={"grade": true, "locked": true, "points": 1}
# By hand: [1, 2] vs [1, 2.2] -> max(0 / 2, 0.2 / 4.2) = 0.047619...; equal arrays -> 0; zeros compare as equal.
check(relative_error, ref.relative_error, [
    (np.array([1.0, 2.0]), np.array([1.0, 2.2])),
    (np.array([3.0, -1.0]), np.array([3.0, -1.0])),
    (np.array([0.0, 1.0]), np.array([0.0, 1.0 + 1e-9])),
    (randn(4, 5, seed=63), randn(4, 5, seed=63) + randn(4, 5, seed=64, scale=1e-6)),
], hints=mistakes.relative_error)
### BEGIN HIDDEN TESTS
check(relative_error, ref.relative_error, [
    (np.array([2.5]), np.array([-2.5])),                                       # opposite signs: the largest possible, 1
    (randn(3, 4, seed=65, scale=1e6), randn(3, 4, seed=65, scale=1e6) * (1 + 1e-7)),   # scale does not matter
    (np.array([1e-12, 0.0, 3.0]), np.array([0.0, 1e-12, 3.0])),                # the floor 1e-8 keeps tiny values from counting
    (randn(2, 3, 2, seed=66), randn(2, 3, 2, seed=67)),
], hints=mistakes.relative_error)
### END HIDDEN TESTS

# %% [markdown] id="gradcheck-theory"
# ## 6. Gradient checking: numerical vs analytic vs autograd
#
# Now all three ways to get a gradient, on a random MLP 4-5-3 with tanh and the cross-entropy loss:
#
# * **analytic**: your `mlp_backward` (backpropagation by hand);
# * **numerical**: your `numerical_gradient` of the loss with respect to each parameter array, nudged in place;
# * **autograd**: PyTorch's `loss.backward()` on the same weights and inputs, in float64.
#
# Analytic and autograd compute the same formulas in a different order, so they agree to rounding error
# ($10^{-16}$ to $10^{-13}$). The numerical gradient carries the truncation and rounding errors of the
# finite difference, about $10^{-10}$ to $10^{-8}$ here (how much depends on
# $\varepsilon$: next plot). Gradient checks use tanh (or sigmoid) for a
# reason: at a ReLU's kink ($Z$ within $\varepsilon$ of 0) the function is not differentiable and the
# numerical gradient can be far off even when the backward pass is right.

# %% id="gradcheck-code" tags=["demo"]
my_numerical_gradient = use_yours(numerical_gradient, "backprop.numerical_gradient")
my_relative_error = use_yours(relative_error, "backprop.relative_error")

check_params = init_params([4, 5, 3], "xavier", seed=14)
check_params.update({k: randn(*v.shape, seed=70 + i, scale=0.5) for i, (k, v) in enumerate(check_params.items()) if k.startswith("b")})
X_check, y_check = randn(6, 4, seed=68), np.array([0, 1, 2, 0, 1, 2])


def check_loss(_):
    """The loss; it reads the parameters by reference, so numerical_gradient's in-place nudges show."""
    return cross_entropy(mlp_forward(X_check, check_params, "tanh")[0], y_check)


logits, caches = mlp_forward(X_check, check_params, "tanh")
analytic = my_mlp_backward(cross_entropy_grad(logits, y_check), caches, check_params, "tanh")
numerical = {name: my_numerical_gradient(check_loss, check_params[name]) for name in check_params}
autograd_loss, autograd = ref.mlp_loss_gradients(check_params, X_check, y_check, "tanh")

print(f"loss: NumPy {check_loss(None):.15f}, PyTorch {autograd_loss:.15f}")
print(f"{'param':6s} {'shape':8s} {'numerical vs analytic':>22s} {'analytic vs autograd':>21s} {'numerical vs autograd':>22s}")
gradcheck_errors = {}
for name in check_params:
    errors = (my_relative_error(numerical[name], analytic[name]), my_relative_error(analytic[name], autograd[name]),
              my_relative_error(numerical[name], autograd[name]))
    gradcheck_errors[name] = errors
    print(f"{name:6s} {str(check_params[name].shape):8s} {errors[0]:22.1e} {errors[1]:21.1e} {errors[2]:22.1e}")
worst = np.max(list(gradcheck_errors.values()), axis=0)
print(f"worst  {'':8s} {worst[0]:22.1e} {worst[1]:21.1e} {worst[2]:22.1e}")


# %% [markdown] id="epsilon-theory"
# ### Choosing eps: truncation error against rounding error
#
# Two errors pull in opposite directions:
#
# * **truncation** — the Taylor terms we dropped: $\approx \varepsilon^2 |f'''| / 6$ for the centred
#   difference, $\approx \varepsilon |f''| / 2$ for the one-sided one. They shrink with $\varepsilon$.
# * **rounding** — $f$ is computed with a relative error of about the machine epsilon
#   ($\epsilon_\text{mach} \approx 1.1 \times 10^{-16}$ in float64, $6 \times 10^{-8}$ in float32); the
#   difference of two nearly equal numbers keeps that *absolute* error, and dividing by $2\varepsilon$
#   blows it up: $\approx \epsilon_\text{mach} |f| / \varepsilon$. It **grows** as $\varepsilon$ shrinks.
#
# The total is smallest where the two meet: for the centred difference at
# $\varepsilon \approx \epsilon_\text{mach}^{1/3} \approx 10^{-5}$ (float64), for the one-sided one at
# $\sqrt{\epsilon_\text{mach}} \approx 10^{-8}$, with a larger error. In float32 the best you can reach is
# about $10^{-4}$ to $10^{-3}$: **always gradient-check in float64.** The plot sweeps $\varepsilon$ for the
# gradient of the loss with respect to `W1` of the network above; the V shapes are the two errors.

# %% id="plot-epsilon" tags=["demo"]
# Plot 2: relative error of numerical gradients (vs autograd) against eps.
def forward_difference(f, x, eps):
    """The one-sided difference (f(x + eps) - f(x)) / eps, for comparison (scalar f)."""
    grad, base = np.zeros(x.shape), f(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        grad[index] = (f(x) - base) / eps
        x[index] = original
    return grad


params32 = {k: v.astype(np.float32) for k, v in check_params.items()}
X32 = X_check.astype(np.float32)
loss32 = lambda _: cross_entropy(mlp_forward(X32, params32, "tanh")[0], y_check)
epsilons = np.logspace(-13, -1, 25)
curves = {"centred, float64": [], "one-sided, float64": [], "centred, float32": []}
for eps in epsilons:
    curves["centred, float64"].append(my_relative_error(my_numerical_gradient(check_loss, check_params["W1"], eps=eps), autograd["W1"]))
    curves["one-sided, float64"].append(my_relative_error(forward_difference(check_loss, check_params["W1"], eps), autograd["W1"]))
    curves["centred, float32"].append(my_relative_error(my_numerical_gradient(loss32, params32["W1"], eps=eps), autograd["W1"]))
ax = backprop_plots.plot_error_vs_epsilon(epsilons, curves, title="gradient check of dL/dW1: error against eps")
ax.axhline(1e-7, color="grey", ls=":", lw=1)
ax.text(epsilons[0], 1.5e-7, "1e-7: 'right' in float64", fontsize=8, color="grey")
plt.show()
for name, values in curves.items():
    best = int(np.argmin(values))
    print(f"{name:20s} best eps = {epsilons[best]:.0e}, relative error there {values[best]:.1e}")

# %% [markdown] id="e5-theory"
# ## 7. Worked example E5 by hand: one ReLU neuron, and how it dies
#
# One of the source articles trains the smallest network there is: two inputs, one output unit with a
# ReLU, mean-squared error, Adam, 1000 steps on the two samples $x = (1, 2) \mapsto 1$ and
# $x = (2, 1) \mapsto 2$, printing the loss every 100 steps. Chapter 1 trained it with PyTorch; now
# we compute its gradients ourselves. Forward and backward:
#
# $$ Z = XW^\top + b, \quad \hat Y = \mathrm{ReLU}(Z), \quad L = \frac1N \sum_n (\hat Y_n - Y_n)^2; \qquad
#    d\hat Y = \frac{2}{N}(\hat Y - Y), \quad dZ = d\hat Y \odot [Z > 0], \quad (dX, dW, db) = \texttt{dense\_backward}(dZ, X, W). $$
#
# Look at $dZ$: where $Z < 0$ it is **exactly 0**. If $Z < 0$ for *both* samples, then $dW = 0$ and
# $db = 0$: no optimizer can move the weights, and the unit stays dead forever. Below, the gradients by
# hand (your `relu_backward` and `dense_backward`, chapter 4's `mse_grad`) next to autograd's, at three
# starting points.

# %% id="e5-gradients" tags=["demo"]
X_e5 = np.array([[1.0, 2.0], [2.0, 1.0]])
y_e5 = np.array([[1.0], [2.0]])
my_relu_backward = use_yours(relu_backward, "backprop.relu_backward")
my_dense_backward = use_yours(dense_backward, "backprop.dense_backward")


def e5_loss_and_grads(W, b):
    """Loss and (dW, db) of relu(X W^T + b) under the mean squared error, by hand."""
    Z = dense_forward(X_e5, W, b)
    Y_hat = relu(Z)
    dZ = my_relu_backward(mse_grad(Y_hat, y_e5), Z)
    _, dW, db = my_dense_backward(dZ, X_e5, W)
    return mse(Y_hat, y_e5), dW, db


starts = {"healthy": (np.array([[0.3, 0.2]]), np.array([0.1]), 0.01),
          "dead from the start": (np.array([[-0.3, -0.2]]), np.array([-0.1]), 0.01),
          "killed by a large step": (np.array([[1.5, 1.5]]), np.array([1.0]), 0.5)}
for name, (W0, b0, lr) in starts.items():
    loss, dW, db = e5_loss_and_grads(W0, b0)
    torch_loss, torch_dW, torch_db = ref.relu_neuron_gradients(W0, b0, X_e5, y_e5)
    print(f"{name:22s} Z = {dense_forward(X_e5, W0, b0).ravel()}, loss {loss:.4f} (PyTorch {torch_loss:.4f})")
    print(f"{'':22s} by hand : dW = {dW.ravel()}, db = {db}")
    print(f"{'':22s} autograd: dW = {torch_dW.ravel()}, db = {torch_db}")


# %% [markdown] id="e5-training-theory"
# ### Training E5 with hand-made gradients
#
# The NumPy loop uses these gradients with the course's solved Adam (chapter 6; it takes the same steps
# as `torch.optim.Adam`), the PyTorch loop uses autograd and `torch.optim.Adam`; both start from the same
# weights. Three runs: the healthy start and the dead start with a small learning rate (0.01, as in chapter 1), and
# a start whose outputs are far too large, with a large learning rate (0.5): its first steps overshoot, $Z$
# becomes negative for both samples and the unit dies **during** training. Adam keeps moving for a while
# on its momentum (its moving average of past gradients decays, but is not zero at once) — further into
# the dead region — and then stops for good.

# %% id="e5-training" tags=["demo"]
def train_e5_numpy(W0, b0, lr, steps=1000):
    """E5 with gradients by hand and the course's Adam; returns the loss and |dW| + |db| of every step."""
    params, optimizer = {"W": W0.copy(), "b": b0.copy()}, Adam(lr=lr)
    losses, grad_sizes = [], []
    for step in range(steps):
        loss, dW, db = e5_loss_and_grads(params["W"], params["b"])
        losses.append(loss)
        grad_sizes.append(np.abs(dW).sum() + np.abs(db).sum())
        optimizer.step(params, {"W": dW, "b": db})
    return np.array(losses), np.array(grad_sizes), params


runs = {}
for name, (W0, b0, lr) in starts.items():
    losses, grad_sizes, final = train_e5_numpy(W0, b0, lr)
    torch_run = demos.train_relu_neuron(W0, b0, X_e5, y_e5, steps=1000, lr=lr)
    runs[name] = (losses, grad_sizes, torch_run)
    print(f"{name}: final W = {final['W'].ravel()}, b = {final['b']} (PyTorch: {torch_run['W'].ravel()}, {torch_run['b']}); "
          f"largest |loss NumPy - loss PyTorch| over 1000 steps = {np.abs(losses - torch_run['loss']).max():.1e}")
print("\nstep  " + "".join(f"{name:>24s}" for name in runs))
for step in range(0, 1000, 100):
    print(f"{step:4d}  " + "".join(f"{runs[name][0][step]:24.6f}" for name in runs))

# %% id="plot-e5" tags=["demo"]
# Plot 3: loss and gradient size of the three runs; NumPy in colour, PyTorch dashed black (they coincide).
styles = {"healthy": ("tab:green", "-"), "dead from the start": ("tab:red", "-"), "killed by a large step": ("tab:purple", "-.")}
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for name, (losses, grad_sizes, torch_run) in runs.items():
    colour, style = styles[name]
    axes[0].plot(losses, color=colour, ls=style, lw=2, label=f"{name} (NumPy)")
    axes[0].plot(torch_run["loss"], color="k", ls="--", lw=0.8)
    axes[1].plot(grad_sizes[:50], color=colour, ls=style, lw=2, marker=".", label=name)
axes[0].set(yscale="log", ylim=(1e-12, 50), xlabel="Adam step", ylabel="MSE loss", title="E5: loss (dashed: PyTorch)")
axes[0].legend(fontsize=8)
axes[1].set_yscale("symlog", linthresh=1e-3)
axes[1].set(xlabel="Adam step", ylabel="|dW| + |db| (by hand)", title="the first 50 gradients: exactly 0 once dead")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown] id="e5-comment"
# The healthy unit fits both samples exactly (loss $\to 0$; its gradient then vanishes because the
# loss is at its minimum, not because the unit is dead). The dead unit's loss never moves from
# $\frac12(1^2 + 2^2) = 2.5$: its output is 0 for both samples and its gradient is exactly 0 from the first
# step, by hand as by autograd. The third run dies after a few steps and stays at 2.5. Remedies: no
# ReLU on a regression output (use the identity), a smaller learning rate, weights drawn centred on zero
# with zero biases so that pre-activations start centred (He initialisation sets only their *variance*, so
# that signals keep their size), or a Leaky ReLU whose slope for $z < 0$ is small but not zero, so that a
# gradient always flows.

# %% [markdown] id="summary"
# ## Summary
#
# * Backpropagation is the chain rule on the computational graph: each operation multiplies the
#   upstream gradient by its local derivative. A gradient always has the shape of what it is the
#   gradient of.
# * Activations: $dZ = dA \odot \varphi'(Z)$ with $\sigma' = \sigma(1 - \sigma)$, $\tanh' = 1 - \tanh^2$,
#   $\mathrm{ReLU}' = [Z > 0]$.
# * Dense layer $Y = XW^\top + b$: $dX = dY\,W$, $dW = dY^\top X$, $db = \sum_n dY_n$ — sums over the
#   batch, because every example uses the same weights; the loss's $1/N$ lives in $dY$.
# * An MLP's backward pass runs the layers in reverse, using the $(A_\text{prev}, Z)$ the forward pass cached.
# * Numerical gradients by centred differences (error $O(\varepsilon^2)$) check any backward function;
#   compare with a relative error. $\varepsilon \approx 10^{-5}$–$10^{-6}$ in float64; too large and
#   truncation dominates, too small and rounding does; float32 is too coarse for gradient checks.
# * Closing numbers of this notebook: analytic vs autograd agree to about $10^{-16}$, numerical vs
#   autograd to about $10^{-9}$–$10^{-8}$ (the table in section 6).
# * A ReLU unit with $Z < 0$ on every example gets exactly zero gradient and never recovers (E5).
#
# **Scaling up.** Everything here runs in seconds on a CPU. The vanishing-gradient picture scales to any
# depth and width by changing `sizes`; numerical gradients cost two forward passes per parameter, so on a
# large network check a random subset of the entries.
#
# **Next:** `autodiff.ipynb` builds a small automatic-differentiation engine — the idea behind
# `loss.backward()` — and trains a network with it.
#
# ## Glossary / 术语表
#
# | English | 中文 |
# |---|---|
# | backpropagation | 反向传播 |
# | chain rule | 链式法则 |
# | computational graph | 计算图 |
# | gradient | 梯度 |
# | upstream gradient | 上游梯度 |
# | local derivative | 局部导数 |
# | partial derivative | 偏导数 |
# | forward pass / backward pass | 前向传播 / 反向传播 |
# | cache (of the forward pass) | 缓存（前向传播的中间结果） |
# | automatic differentiation (autograd) | 自动微分 |
# | numerical gradient, finite difference | 数值梯度，有限差分 |
# | centred difference | 中心差分 |
# | gradient checking | 梯度检验 |
# | relative error | 相对误差 |
# | truncation error / rounding error | 截断误差 / 舍入误差 |
# | machine epsilon | 机器精度 |
# | vanishing gradient | 梯度消失 |
# | dead ReLU | 死亡 ReLU |
# | learning rate | 学习率 |

# %% [markdown] id="progress-title"
# ## Your progress
#
# Which exercises of this notebook pass in this session, and their points (run every test cell first,
# or *Run All*). `dlcourse progress` in a terminal shows every chapter, in fresh kernels.

# %% id="progress" tags=["demo"]
from dlcourse.progress import progress_table

progress_table()
