# %% [markdown] id="title"
# # Chapter 6 — Optimizers: SGD, momentum, Nesterov, AdaGrad, RMSprop, Adam
#
# **Learning goals.** After this notebook you can
#
# 1. write every classic optimizer as a small NumPy step function with explicit state — SGD, momentum in
#    both of its common forms, Nesterov, AdaGrad, RMSprop, Adam (and AdamW) — and make it match
#    `torch.optim` **step for step** over 100 steps;
# 2. say exactly how the two momentum forms $v = \beta v + (1-\beta) g$ and $v = \beta v + g$ relate, and what
#    PyTorch's `dampening` does on the first step;
# 3. explain why RMSprop keeps an exponential moving average (not a mean) of squared gradients, and why
#    Adam divides by $1 - \beta^t$;
# 4. read the paths of the optimizers on an ill-conditioned valley and on the Rosenbrock function, and their
#    training curves on a real (small) data set;
# 5. make a NumPy optimizer as fast as PyTorch's on the CPU with in-place operations;
# 6. (stretch) write the step, cosine and warm-up learning-rate schedules of `torch.optim.lr_scheduler`.
#
# **How this notebook works.** Each exercise is a NumPy function with a stub
# (`raise NotImplementedError()`). Replace the stub with your code, run the cell, then run the test
# cell right below it: it feeds your optimizer and `torch.optim` the same 100 gradients and compares the
# parameters after **every** step. Cells that only *show* things use your function once it works and the
# course's solved version until then. Nothing here needs a GPU.

# %% id="setup"
import time

notebook_start = time.perf_counter()

import timeit

import matplotlib.pyplot as plt
import numpy as np
import torch

from dlcourse import data, plots
from dlcourse.cases.optimizers import as_trajectory, random_problem
from dlcourse.checking import Inputs, check
from dlcourse.demos import optimizers as demos
from dlcourse.device import describe, to_numpy, to_tensor
from dlcourse.exercises import use_yours
from dlcourse.mistakes import optimizers as mistakes
from dlcourse.plots import optimizers as opt_plots
from dlcourse.reference import optimizers as ref
from dlcourse.reference.training import fit_torch_mlp
from dlcourse.solved.networks import init_params
from dlcourse.solved.optimizers import Adam, StepOptimizer, minimize_path, trajectory  # the course's solved tools
from dlcourse.solved.training import fit_mlp

torch.manual_seed(0)
torch.set_num_threads(1)  # tiny tensors here: one thread avoids the cost of waking the others
print(describe())

# %% [markdown] id="theory-intro"
# ## 1. One update rule, many optimizers
#
# Training a network means minimising a loss $L(\theta)$ over its parameters $\theta$. Chapter 3 took the
# plain gradient step $\theta_t = \theta_{t-1} - \eta\, g_t$ with $g_t = \nabla L(\theta_{t-1})$ (on a
# mini-batch) and the learning rate $\eta$. Two things make that slow:
#
# * **ill-conditioning**: in a long narrow valley the gradient points mostly *across* the valley, so a
#   learning rate small enough not to bounce between the walls crawls *along* it;
# * **different scales**: some parameters get large gradients, others tiny ones, and one $\eta$ cannot
#   suit them all.
#
# Every optimizer in this chapter keeps a little **state** per parameter — a running sum or average of
# past gradients — to fix one or both. We write each as a **step function** that works on one parameter
# array and returns the new values and the new state; nothing is changed in place:
#
# ```python
# new_p, new_state = some_step(p, g, state, lr=..., ...)   # state is {} before the first step
# ```
#
# The package runs your step function over a dict of parameters (`W`, `b`, …), each with its own state,
# for a list of gradients, one dict per step: `trajectory(step_fn, params, grads, **hyper)` returns the
# parameters after every step. The tests do the same with `torch.optim`, setting each tensor's `.grad` to
# our gradient and calling `optimizer.step()`, in float64, and compare all 100 steps.

# %% [markdown] id="torch-side-theory"
# ### The PyTorch side: feeding `torch.optim` our own gradients
#
# Normally `loss.backward()` fills `.grad`. Here we set it ourselves, so that NumPy and PyTorch see exactly
# the same numbers; `optimizer.step()` then updates the tensors in place.

# %% id="torch-side" tags=["demo"]
w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
optimizer = torch.optim.SGD([w], lr=0.1)
for g in ([1.0, 1.0], [1.0, -1.0], [0.5, 2.0]):
    w.grad = torch.tensor(g, dtype=torch.float64)
    optimizer.step()
    print("after a step:", to_numpy(w))

# %% [markdown] id="problems-theory"
# ### The test problems
#
# A small problem you can follow by hand — one parameter `w` with two entries and three gradients — and
# random ones: `random_problem(shapes, steps=100, seed=...)` gives standard-normal parameters and 100
# gradient dicts (noise around a fixed direction, so that momentum has something to follow;
# `zero_grad=("b",)` gives a parameter zero gradients at every step).

# %% id="problems"
small_params = {"w": np.array([1.0, -2.0])}
small_grads = [{"w": np.array(g)} for g in ([1.0, 1.0], [1.0, -1.0], [0.5, 2.0])]
params, grads = random_problem({"W": (3, 4), "b": (4,)}, steps=100, seed=0)
print("small problem:", small_params, "gradients:", [g["w"] for g in small_grads])
print("random problem:", {k: v.shape for k, v in params.items()}, f"and {len(grads)} gradient dicts")


def side_by_side(step_fn, name, **hyper):
    """The small problem step by step, in NumPy and in torch.optim (section 13 compares 100 random steps)."""
    ours = trajectory(step_fn, small_params, small_grads, **hyper)
    theirs = ref.torch_trajectory(name, small_params, small_grads, **hyper)
    for step in ours:
        print(f"{step}:  NumPy {np.array2string(ours[step]['w'], precision=6)}   "
              f"torch.optim {np.array2string(theirs[step]['w'], precision=6)}")


# %% [markdown] id="sgd-theory"
# ## 2. Stochastic gradient descent, with weight decay
#
# $$ \theta_t = \theta_{t-1} - \eta\,\big(g_t + \lambda\,\theta_{t-1}\big). $$
#
# `weight_decay` $\lambda$ is an L2 penalty $\tfrac{\lambda}{2}\lVert\theta\rVert^2$ added to the loss: its
# gradient $\lambda\theta$ is **added to the gradient** before anything else happens. Every `torch.optim`
# optimizer here does that (except AdamW, section 8), so every step function below starts with the same line.

# %% [markdown] id="ex-sgd"
# ### Exercise 1 — `sgd_step` (1 point)
#
# Return `(new_p, state)`: one SGD step with weight decay. Plain SGD has no state: return the `state` you got.
#
# **Dtype rule (every exercise of this chapter):** float32 parameters and gradients give float32 new
# parameters and state; the tests try float32 too. Mind Python floats: they keep float32 arrays float32, but
# a NumPy float64 scalar (e.g. from `np.sqrt` of a Python number) turns them into float64 under NumPy 2.

# %% id="ch06_sgd" nbgrader={"solution": true}
def sgd_step(p, g, state, lr, weight_decay=0.0):
    """One step of torch.optim.SGD without momentum. Returns (new_p, new_state)."""
    ### BEGIN SOLUTION
    g = g + weight_decay * p  # the L2 penalty's gradient, folded in first
    return p - lr * g, state
    ### END SOLUTION


# %% id="ch06_sgd_test" nbgrader={"grade": true, "locked": true, "points": 1}
check(as_trajectory(sgd_step), ref.sgd, [
    Inputs(small_params, small_grads, lr=0.1),
    Inputs(*random_problem({"W": (3, 4), "b": (4,)}, seed=1), lr=0.05, weight_decay=0.01),
    Inputs(*random_problem({"W": (2, 3, 4), "frozen": (3,)}, seed=2, zero_grad=("frozen",)), lr=0.1, weight_decay=0.1),
    Inputs(*random_problem({"w": (5,)}, steps=30, seed=3, dtype=np.float32), lr=0.01, weight_decay=0.01),   # float32 kept
], hints=mistakes.sgd)
### BEGIN HIDDEN TESTS
check(as_trajectory(sgd_step), ref.sgd, [
    Inputs(*random_problem({"w": (1,)}, steps=10, seed=4, scale=1e3), lr=0.0),
    Inputs(*random_problem({"w": (4, 3)}, steps=50, seed=5, scale=1e-6), lr=1e3),
    Inputs(*random_problem({"W": (3, 2), "b": (2,)}, steps=20, seed=44, dtype=np.float32), lr=0.05, weight_decay=0.1),
], hints=mistakes.sgd)
### END HIDDEN TESTS

# %% id="sgd-torch" tags=["demo"]
side_by_side(use_yours(sgd_step, "optimizers.sgd_step"), "sgd", lr=0.1)


# %% [markdown] id="momentum-theory"
# ## 3. Momentum — two forms, and how they relate
#
# A heavy ball rolling down the valley keeps its speed along the floor and its bounces between the walls
# cancel out. Momentum keeps a **velocity** $v$, a running combination of past gradients, and steps along it.
# Two forms are in common use, and both are called "momentum":
#
# | | velocity | step | at the start |
# |---|---|---|---|
# | **(A) moving average** (the source article, Andrew Ng's course) | $v_t = \beta v_{t-1} + (1-\beta)\,g_t$ | $\theta_t = \theta_{t-1} - \eta\,v_t$ | $v_0 = 0$ |
# | **(B) PyTorch** `SGD(momentum=μ)` | $b_t = \mu\, b_{t-1} + g_t$ | $\theta_t = \theta_{t-1} - \eta\,b_t$ | $b_1 = g_1$ |
#
# **How they relate.** Unroll both: $v_t = (1-\beta)\sum_k \beta^{t-k} g_k$ and $b_t = \sum_k \mu^{t-k} g_k$
# (PyTorch's $b_1 = g_1$ is what $\mu \cdot 0 + g_1$ would give). So with $\mu = \beta$,
# $v_t = (1-\beta)\,b_t$ **exactly**: form (A) with learning rate $\eta$ *is* PyTorch's form with learning
# rate $\eta(1-\beta)$. Under a constant gradient, (A) steps $\eta g$ but (B) steps $\eta g/(1-\mu)$ —
# ten times more for $\mu = 0.9$. The same `lr` means different things in the two forms.
#
# **PyTorch's `dampening`** $\tau$ multiplies the new gradient: $b_t = \mu b_{t-1} + (1-\tau)\, g_t$ —
# **but not on the first step**, where PyTorch starts the buffer at the gradient itself, $b_1 = g_1$,
# undamped. With $\tau = \mu = \beta$ this looks like form (A), and it is, except for that first step:
# the difference $b_t - v_t = \beta^t g_1$ starts at $\beta g_1$ and fades only slowly. The source article
# presents the two forms as one; they are not the same optimizer, and both are in use.

# %% [markdown] id="ex-momentum-ema"
# ### Exercise 2 — `momentum_ema_step` (2 points)
#
# Form (A): $v = \beta v + (1-\beta) g$ starting from $v = 0$, then $\theta \leftarrow \theta - \eta v$.
# Keep $v$ in the state (`state["v"]`); the first call gets an empty state. The test compares it with `torch.optim.SGD(lr=lr * (1 - beta), momentum=beta)`,
# the PyTorch optimizer it equals.

# %% id="ch06_momentum_ema" nbgrader={"solution": true}
def momentum_ema_step(p, g, state, lr, beta=0.9):
    """Momentum as an exponential moving average of gradients (v starts at 0). Returns (new_p, new_state)."""
    ### BEGIN SOLUTION
    v = beta * state.get("v", 0.0) + (1 - beta) * g
    return p - lr * v, {"v": v}
    ### END SOLUTION


# %% id="ch06_momentum_ema_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(as_trajectory(momentum_ema_step), ref.momentum_ema, [
    Inputs(small_params, small_grads, lr=0.1, beta=0.9),
    Inputs(*random_problem({"W": (3, 4), "b": (4,)}, seed=6), lr=0.05, beta=0.8),
    Inputs(*random_problem({"W": (2, 3, 4), "frozen": (1,)}, seed=7, zero_grad=("frozen",)), lr=0.1, beta=0.99),
    Inputs(*random_problem({"w": (6,)}, steps=30, seed=8, dtype=np.float32), lr=0.01, beta=0.9),       # float32 kept
    Inputs(*random_problem({"w": (2, 5)}, seed=10, scale=1e3), lr=1e-4),                                # the default beta
], hints=mistakes.momentum_ema)
### BEGIN HIDDEN TESTS
check(as_trajectory(momentum_ema_step), ref.momentum_ema, [
    Inputs(*random_problem({"w": (3,)}, steps=20, seed=9), lr=0.1, beta=0.0),  # beta = 0 is plain SGD
    Inputs(*random_problem({"W": (4, 2), "b": (2,)}, steps=40, seed=45, dtype=np.float32), lr=0.02, beta=0.7),
], hints=mistakes.momentum_ema)
### END HIDDEN TESTS

# %% [markdown] id="ex-momentum"
# ### Exercise 3 — `momentum_step`: PyTorch's form, with dampening (2 points)
#
# `torch.optim.SGD(lr, momentum, dampening, weight_decay)`: form (B) of the table, with the weight decay
# added to the gradient first and PyTorch's dampening $\tau$: $b_1 = g_1$ (undamped),
# $b_t = \mu b_{t-1} + (1-\tau) g_t$ afterwards, and $\theta \leftarrow \theta - \eta\, b_t$. Keep the buffer in
# `state["buf"]`.
#
# <details><summary>Hint 1</summary>
#
# How does your function know it is the first step? The state it gets then is empty.
# </details>

# %% id="ch06_momentum" nbgrader={"solution": true}
def momentum_step(p, g, state, lr, momentum=0.9, dampening=0.0, weight_decay=0.0):
    """One step of torch.optim.SGD with momentum (and dampening). Returns (new_p, new_state)."""
    ### BEGIN SOLUTION
    g = g + weight_decay * p
    buf = g if "buf" not in state else momentum * state["buf"] + (1 - dampening) * g
    return p - lr * buf, {"buf": buf}
    ### END SOLUTION


# %% id="ch06_momentum_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(as_trajectory(momentum_step), ref.momentum, [
    Inputs(small_params, small_grads, lr=0.1, momentum=0.9),
    Inputs(small_params, small_grads, lr=0.1, momentum=0.9, dampening=0.9),
    Inputs(*random_problem({"W": (3, 4), "b": (4,)}, seed=11), lr=0.05, momentum=0.8, dampening=0.5, weight_decay=0.01),
    Inputs(*random_problem({"W": (2, 3, 4), "frozen": (3,)}, seed=12, zero_grad=("frozen",)), lr=0.01, momentum=0.95, weight_decay=0.1),
    Inputs(*random_problem({"w": (7,)}, steps=30, seed=13, dtype=np.float32), lr=0.01, momentum=0.5, dampening=0.1),  # float32
    Inputs(*random_problem({"w": (1,)}, seed=14), lr=0.01),                                # default momentum 0.9
], hints=mistakes.momentum)
### BEGIN HIDDEN TESTS
check(as_trajectory(momentum_step), ref.momentum, [
    Inputs(*random_problem({"w": (3, 2)}, seed=15, scale=1e3), lr=1e-5, momentum=0.9, dampening=0.9),
    Inputs(*random_problem({"W": (2, 5), "b": (5,)}, steps=40, seed=46, dtype=np.float32), lr=0.02, momentum=0.7, weight_decay=0.05),
], hints=mistakes.momentum)
### END HIDDEN TESTS

# %% [markdown] id="momentum-example-theory"
# ### The worked example: $\eta = 1$, $\beta = 0.9$, $g = 1$ at every step, from $\theta = 0$
#
# The four optimizers below differ only in the form, the learning rate and the dampening. PyTorch's with
# `dampening=0.9` steps by 1 each time (its first buffer is $g_1 = 1$ and stays there); the moving average
# starts from $v = 0$ and steps by $0.1, 0.19, 0.271$; PyTorch without dampening steps by $1, 1.9, 2.71$; and
# PyTorch with $\eta(1-\beta) = 0.1$ reproduces the moving average exactly.

# %% id="momentum-example" tags=["demo"]
my_momentum_ema = use_yours(momentum_ema_step, "optimizers.momentum_ema_step")
my_momentum = use_yours(momentum_step, "optimizers.momentum_step")
zero, ones = {"w": np.array([0.0])}, [{"w": np.array([1.0])}] * 3
rows = {
    "PyTorch SGD(lr=1, momentum=0.9, dampening=0.9)": ref.momentum(zero, ones, lr=1.0, momentum=0.9, dampening=0.9),
    "your momentum_step, dampening=0.9": trajectory(my_momentum, zero, ones, lr=1.0, momentum=0.9, dampening=0.9),
    "moving average (your momentum_ema_step, lr=1)": trajectory(my_momentum_ema, zero, ones, lr=1.0, beta=0.9),
    "PyTorch SGD(lr=1, momentum=0.9), dampening 0": ref.momentum(zero, ones, lr=1.0, momentum=0.9),
    "PyTorch SGD(lr=0.1, momentum=0.9) = lr (1 - beta)": ref.momentum(zero, ones, lr=0.1, momentum=0.9),
}
for label, result in rows.items():
    print(f"{label:52s}", "  ".join(f"{result[s]['w'][0]:8.4f}" for s in result))

# %% id="plot-momentum-forms" tags=["demo"]
# Plot 1: the step each form takes under a constant gradient g = 1 (lr = 1, beta = 0.9), from PyTorch and yours.
zero, ones = {"w": np.array([0.0])}, [{"w": np.array([1.0])}] * 40
step_sizes = lambda result: -np.diff(np.concatenate([[0.0], [result[s]["w"][0] for s in result]]))
curves = {
    "PyTorch, dampening 0: buf -> g / (1 - beta) = 10": step_sizes(ref.momentum(zero, ones, lr=1.0, momentum=0.9)),
    "PyTorch, dampening = beta: buf = g from step 1": step_sizes(ref.momentum(zero, ones, lr=1.0, momentum=0.9, dampening=0.9)),
    "moving average (yours): v = 1 - beta^t": step_sizes(trajectory(my_momentum_ema, zero, ones, lr=1.0, beta=0.9)),
}
ax = plots.plot_curves(curves, xlabel="step t - 1", ylabel="step size |Δθ|", logy=True,
                       title="three momentum variants, constant gradient 1")
plt.show()


# %% [markdown] id="nesterov-theory"
# ## 4. Nesterov momentum
#
# Nesterov's idea: compute the gradient where the momentum is about to take you, not where you are, so
# that the ball slows down *before* it climbs the opposite wall. Sutskever et al. (2013) wrote it as
# $v_t = \mu v_{t-1} - \eta\nabla L(\theta_{t-1} + \mu v_{t-1})$, $\theta_t = \theta_{t-1} + v_t$. PyTorch stores
# the look-ahead point as the parameters instead (a change of variables), which needs only the gradient
# at the current parameters:
#
# $$ b_t = \mu\, b_{t-1} + g_t \quad (b_1 = g_1), \qquad \theta_t = \theta_{t-1} - \eta\,\big(g_t + \mu\, b_t\big). $$
#
# The step uses the *new* buffer $b_t$ once more, scaled by $\mu$: a look one step ahead.

# %% [markdown] id="ex-nesterov"
# ### Exercise 4 — `nesterov_step` (2 points)
#
# `torch.optim.SGD(lr, momentum, nesterov=True, weight_decay)` (no dampening: PyTorch forbids it with
# Nesterov): the formula above, with the weight decay added to the gradient first. Keep the buffer in
# `state["buf"]`.
#
# <details><summary>Hint 1</summary>
#
# The buffer is exactly Exercise 3's without dampening; only the step differs. Which buffer does the step
# use, the one you got or the one you just computed?
# </details>

# %% id="ch06_nesterov" nbgrader={"solution": true}
def nesterov_step(p, g, state, lr, momentum=0.9, weight_decay=0.0):
    """One step of torch.optim.SGD(nesterov=True). Returns (new_p, new_state)."""
    ### BEGIN SOLUTION
    g = g + weight_decay * p
    buf = g if "buf" not in state else momentum * state["buf"] + g
    return p - lr * (g + momentum * buf), {"buf": buf}
    ### END SOLUTION


# %% id="ch06_nesterov_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(as_trajectory(nesterov_step), ref.nesterov, [
    Inputs(small_params, small_grads, lr=0.1, momentum=0.9),
    Inputs(*random_problem({"W": (3, 4), "b": (4,)}, seed=16), lr=0.02, momentum=0.8, weight_decay=0.01),
    Inputs(*random_problem({"W": (2, 3, 4), "frozen": (2,)}, seed=17, zero_grad=("frozen",)), lr=0.01, momentum=0.99, weight_decay=0.1),
    Inputs(*random_problem({"w": (5,)}, steps=30, seed=18, dtype=np.float32), lr=0.01, momentum=0.5),    # float32 kept
    Inputs(*random_problem({"w": (1,)}, seed=19), lr=0.01),                                              # default momentum
], hints=mistakes.nesterov)
### BEGIN HIDDEN TESTS
check(as_trajectory(nesterov_step), ref.nesterov, [
    Inputs(*random_problem({"w": (4, 4)}, seed=20, scale=1e-6), lr=10.0, momentum=0.9),
    Inputs(*random_problem({"W": (3, 3), "b": (3,)}, steps=40, seed=47, dtype=np.float32), lr=0.02, momentum=0.6, weight_decay=0.05),
], hints=mistakes.nesterov)
### END HIDDEN TESTS

# %% id="nesterov-torch" tags=["demo"]
side_by_side(use_yours(nesterov_step, "optimizers.nesterov_step"), "nesterov", lr=0.1, momentum=0.9)


# %% [markdown] id="adagrad-theory"
# ## 5. AdaGrad: a learning rate per coordinate
#
# AdaGrad (Duchi et al., 2011) divides each coordinate's step by the root of the **sum** of all its squared
# gradients so far:
#
# $$ r_t = r_{t-1} + g_t \odot g_t \;(r_0 = 0), \qquad \theta_t = \theta_{t-1} - \eta\,\frac{g_t}{\sqrt{r_t} + \varepsilon}. $$
#
# Coordinates with large gradients take smaller steps, rare features keep large ones. But $r_t$ only grows,
# so every step size shrinks like $1/\sqrt t$: AdaGrad tends to stop too early in long training.
# `torch.optim.Adagrad` uses $\eta = 0.01$, $\varepsilon = 10^{-10}$, added **outside** the square root.

# %% [markdown] id="ex-adagrad"
# ### Exercise 5 — `adagrad_step` (2 points)
#
# `torch.optim.Adagrad(lr, eps, weight_decay)`: weight decay first, then the formula above, keeping the running
# sum in `state["sum"]`. The tests vary `eps` with gradients as small as $10^{-6}$, where its place matters.
#
# <details><summary>Hint 1</summary>
#
# Two places for $\varepsilon$ look alike: under the square root or added after it. PyTorch adds it after.
# </details>

# %% id="ch06_adagrad" nbgrader={"solution": true}
def adagrad_step(p, g, state, lr=0.01, eps=1e-10, weight_decay=0.0):
    """One step of torch.optim.Adagrad. Returns (new_p, new_state)."""
    ### BEGIN SOLUTION
    g = g + weight_decay * p
    sum_sq = state.get("sum", 0.0) + g * g
    return p - lr * g / (np.sqrt(sum_sq) + eps), {"sum": sum_sq}
    ### END SOLUTION


# %% id="ch06_adagrad_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(as_trajectory(adagrad_step), ref.adagrad, [
    Inputs(small_params, small_grads, lr=0.1),
    Inputs(*random_problem({"W": (3, 4), "b": (4,)}, seed=21), lr=0.05, weight_decay=0.01),
    Inputs(*random_problem({"W": (4, 3), "b": (3,)}, seed=22, scale=1e-6), lr=0.1, eps=1e-6),      # gradients ~ eps: eps matters
    Inputs(*random_problem({"W": (2, 3, 4), "frozen": (2,)}, seed=23, zero_grad=("frozen",)), lr=0.5, weight_decay=0.1),
    Inputs(*random_problem({"w": (5,)}, steps=30, seed=24, dtype=np.float32), lr=0.1),                # float32 kept
    Inputs(*random_problem({"w": (1,)}, seed=25)),                                                    # the defaults
], hints=mistakes.adagrad)
### BEGIN HIDDEN TESTS
check(as_trajectory(adagrad_step), ref.adagrad, [
    Inputs(*random_problem({"w": (6,)}, seed=26), lr=0.1, eps=0.5),
    Inputs(*random_problem({"W": (3, 5), "b": (5,)}, seed=48, scale=1e-7), lr=0.05, eps=1e-7),
    Inputs(*random_problem({"W": (2, 4), "b": (4,)}, steps=40, seed=49, dtype=np.float32), lr=0.05, weight_decay=0.05),
], hints=mistakes.adagrad)
### END HIDDEN TESTS

# %% id="adagrad-torch" tags=["demo"]
side_by_side(use_yours(adagrad_step, "optimizers.adagrad_step"), "adagrad", lr=0.1)


# %% [markdown] id="rmsprop-theory"
# ## 6. RMSprop: a moving average of squared gradients
#
# RMSprop (Hinton's lecture notes, 2012) fixes AdaGrad's ever-shrinking steps by letting old gradients
# fade:
#
# $$ r_t = \alpha\, r_{t-1} + (1-\alpha)\, g_t \odot g_t \;(r_0 = 0), \qquad
#    \theta_t = \theta_{t-1} - \eta\,\frac{g_t}{\sqrt{r_t} + \varepsilon}. $$
#
# **A correction.** The source article describes RMSprop's accumulator as the *mean* of the squared
# gradients. It is not: $r_t$ is an **exponential moving average**, where $g_k^2$ has weight
# $(1-\alpha)\,\alpha^{t-k}$ — recent gradients count most and a gradient is mostly forgotten after a few
# times $1/(1-\alpha)$ steps (100 for $\alpha = 0.99$). A plain mean $\tfrac1t\sum_k g_k^2$ would weigh
# the first gradient as much as the last forever, which is AdaGrad's long memory again.
#
# Two details of `torch.optim.RMSprop` ($\eta = 0.01$, $\alpha = 0.99$, $\varepsilon = 10^{-8}$): $\varepsilon$ is
# added outside the square root (frameworks differ here), and there is **no bias correction**: $r_1 =
# (1-\alpha)\,g_1^2$ is far too small, so the first step is $\eta/\sqrt{1-\alpha} = 10\,\eta$ long whatever the
# gradient. Adam (next) corrects exactly that.

# %% [markdown] id="ex-rmsprop"
# ### Exercise 6 — `rmsprop_step` (2 points)
#
# `torch.optim.RMSprop(lr, alpha, eps, weight_decay)`: weight decay first, then the formula above, keeping the
# moving average in `state["square_avg"]`. The tests vary `eps` with gradients as small as $10^{-6}$.

# %% id="ch06_rmsprop" nbgrader={"solution": true}
def rmsprop_step(p, g, state, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
    """One step of torch.optim.RMSprop. Returns (new_p, new_state)."""
    ### BEGIN SOLUTION
    g = g + weight_decay * p
    square_avg = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g * g
    return p - lr * g / (np.sqrt(square_avg) + eps), {"square_avg": square_avg}
    ### END SOLUTION


# %% id="ch06_rmsprop_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(as_trajectory(rmsprop_step), ref.rmsprop, [
    Inputs(small_params, small_grads, lr=0.01, alpha=0.9),
    Inputs(*random_problem({"W": (3, 4), "b": (4,)}, seed=27), lr=0.01, alpha=0.99, weight_decay=0.01),
    Inputs(*random_problem({"W": (4, 3), "b": (3,)}, seed=28, scale=1e-6), lr=0.01, alpha=0.9, eps=1e-6),   # eps matters
    Inputs(*random_problem({"W": (2, 3, 4), "frozen": (2,)}, seed=29, zero_grad=("frozen",)), lr=0.001, weight_decay=0.1),
    Inputs(*random_problem({"w": (5,)}, steps=30, seed=30, dtype=np.float32), lr=0.01, alpha=0.9),             # float32 kept
    Inputs(*random_problem({"w": (1,)}, seed=31)),                                                              # the defaults
], hints=mistakes.rmsprop)
### BEGIN HIDDEN TESTS
check(as_trajectory(rmsprop_step), ref.rmsprop, [
    Inputs(*random_problem({"w": (6,)}, seed=32, scale=1e3), lr=0.01, alpha=0.5, eps=1e-3),
    Inputs(*random_problem({"W": (3, 5), "b": (5,)}, seed=50, scale=1e-7), lr=0.02, alpha=0.8, eps=1e-7),
    Inputs(*random_problem({"W": (2, 4), "b": (4,)}, steps=40, seed=51, dtype=np.float32), lr=0.005, weight_decay=0.05),
], hints=mistakes.rmsprop)
### END HIDDEN TESTS

# %% id="rmsprop-torch" tags=["demo"]
side_by_side(use_yours(rmsprop_step, "optimizers.rmsprop_step"), "rmsprop", lr=0.01, alpha=0.9)


# %% [markdown] id="adam-theory"
# ## 7. Adam: momentum + RMSprop + bias correction
#
# Adam (Kingma & Ba, 2015) keeps both moving averages, of the gradient (momentum, form A) and of its square
# (RMSprop), and corrects both for starting at zero. With $t = 1, 2, \dots$ counting the steps:
#
# $$ m_t = \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2)\, g_t\odot g_t, \qquad m_0 = v_0 = 0, $$
# $$ \hat m_t = \frac{m_t}{1-\beta_1^{\,t}}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^{\,t}}, \qquad
#    \theta_t = \theta_{t-1} - \eta\,\frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon}. $$
#
# **Why divide by $1-\beta^t$.** Unrolled, $m_t = (1-\beta_1)\sum_{k\le t} \beta_1^{t-k} g_k$: its weights sum
# to $1-\beta_1^t$, not 1. For gradients of a steady size the average is too small by exactly that factor
# at the start — 0.1 at $t = 1$ with $\beta_1 = 0.9$, and $1-0.999 = 0.001$ for $v$. Dividing restores the
# scale; for large $t$ the factors go to 1 and change nothing. Without the correction the first steps have
# the wrong size (section 7's plot). Defaults in `torch.optim.Adam`: $\eta = 10^{-3}$,
# $\beta = (0.9, 0.999)$, $\varepsilon = 10^{-8}$; `weight_decay` is added to the gradient, as in SGD.

# %% [markdown] id="ex-adam"
# ### Exercise 7 — `adam_step` (3 points)
#
# `torch.optim.Adam(lr, betas, eps, weight_decay)`: the formulas above, weight decay added to the gradient first.
# Keep the step count `state["step"]` (1 after the first step) and the averages `state["m"]`, `state["v"]`.
# The tests vary `eps` with gradients as small as $10^{-6}$, and use float32.
#
# <details><summary>Hint 1</summary>
#
# Which $t$ goes into $1 - \beta^t$ on the first step? Count the steps *including* the one you are taking.
# </details>
#
# <details><summary>Hint 2</summary>
#
# Folding the two corrections into one step size, $\eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)$ times
# $m/(\sqrt v + \varepsilon')$, equals PyTorch's step only with $\varepsilon' = \varepsilon\sqrt{1-\beta_2^t}$; and
# `np.sqrt` of a Python float is a float64 scalar, which turns float32 parameters into float64.
# </details>

# %% id="ch06_adam" nbgrader={"solution": true}
def adam_step(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """One step of torch.optim.Adam. Returns (new_p, new_state)."""
    ### BEGIN SOLUTION
    beta1, beta2 = betas
    g = g + weight_decay * p
    t = state.get("step", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), {"step": t, "m": m, "v": v}
    ### END SOLUTION


# %% id="ch06_adam_test" nbgrader={"grade": true, "locked": true, "points": 3}
check(as_trajectory(adam_step), ref.adam, [
    Inputs(small_params, small_grads, lr=0.1),
    Inputs(*random_problem({"W": (3, 4), "b": (4,)}, seed=33), lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01),
    Inputs(*random_problem({"W": (4, 3)}, seed=37, scale=1e-6), lr=0.01, eps=1e-6),                # gradients ~ eps: eps matters
    Inputs(*random_problem({"W": (2, 3, 4), "frozen": (3,)}, seed=34, zero_grad=("frozen",)), lr=0.01, weight_decay=0.1),
    Inputs(*random_problem({"w": (5,)}, steps=30, seed=35, dtype=np.float32), lr=0.01, betas=(0.5, 0.9)),   # float32 kept
    Inputs(*random_problem({"w": (1,)}, seed=36)),                                                          # the defaults
], hints=mistakes.adam)
### BEGIN HIDDEN TESTS
check(as_trajectory(adam_step), ref.adam, [
    Inputs(*random_problem({"w": (6,)}, seed=38, scale=1e3), lr=0.1, betas=(0.0, 0.5), eps=0.1),
    Inputs(*random_problem({"W": (3, 5), "b": (5,)}, seed=52, scale=1e-7), lr=0.02, betas=(0.7, 0.95), eps=1e-7),
    Inputs(*random_problem({"W": (2, 4), "b": (4,)}, steps=40, seed=53, dtype=np.float32), lr=0.005, weight_decay=0.05),
], hints=mistakes.adam)
### END HIDDEN TESTS

# %% id="adam-torch" tags=["demo"]
side_by_side(use_yours(adam_step, "optimizers.adam_step"), "adam", lr=0.1)

# %% [markdown] id="bias-correction-theory"
# ### What the bias correction does in the first steps
#
# Below, gradients of steady size (noise around 1), Adam with the default betas, once as PyTorch does it
# and once without the correction. Left: the raw averages $m_t$, $\sqrt{v_t}$ start near 0 and take
# about 10 and 1000 steps to grow up; the corrected ones are right from step 1. Right: the step size
# $|\Delta\theta|/\eta$. Corrected, it is about 1 from the first step. Uncorrected, it is
# $(1-\beta_1^t)/\sqrt{1-\beta_2^t}$ times larger: 3.2 at step 1 and up to 6.6 around step 12, because $v$
# is even further behind than $m$ — exactly when the parameters are far from anything sensible.

# %% id="plot-bias-correction" tags=["demo"]
# Plot 2: Adam's first 200 steps with and without bias correction.
steps = 200
rng = np.random.default_rng(0)
noisy_ones = [{"w": np.array([1.0 + 0.1 * rng.standard_normal()])} for _ in range(steps)]
start = {"w": np.array([0.0])}
my_adam = use_yours(adam_step, "optimizers.adam_step")
torch_adam_path = ref.adam(start, noisy_ones, lr=1e-3)
your_adam_path = trajectory(my_adam, start, noisy_ones, lr=1e-3)
uncorrected_path = trajectory(demos.adam_without_bias_correction, start, noisy_ones, lr=1e-3)
to_steps = lambda result: np.abs(np.diff(np.concatenate([[0.0], [result[s]["w"][0] for s in result]]))) / 1e-3
m, v, raw = 0.0, 0.0, {"m_t": [], "sqrt(v_t)": [], "m_hat_t": [], "sqrt(v_hat_t)": []}
for t, g in enumerate(noisy_ones, start=1):
    m, v = 0.9 * m + 0.1 * g["w"][0], 0.999 * v + 0.001 * g["w"][0] ** 2
    for key, value in zip(raw, (m, np.sqrt(v), m / (1 - 0.9 ** t), np.sqrt(v / (1 - 0.999 ** t)))):
        raw[key].append(value)
step_sizes = {"torch.optim.Adam": to_steps(torch_adam_path), "yours": to_steps(your_adam_path),
              "without bias correction": to_steps(uncorrected_path)}
t_axis = np.arange(1, steps + 1)
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for label, values in raw.items():
    axes[0].plot(t_axis, values, label=label)
for label, values in step_sizes.items():
    axes[1].plot(t_axis, values, label=label, ls="--" if label == "yours" else "-")
axes[0].set(title="moving averages, raw and corrected", ylabel="value")
axes[1].set(title="Adam's step size, lr = 1e-3", ylabel="|Δθ| / lr")
for ax in axes:
    ax.set(xscale="log", xlabel="step t")
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()


# %% [markdown] id="adamw-theory"
# ## 8. Stretch: AdamW, decoupled weight decay
#
# Adam's `weight_decay` adds $\lambda\theta$ to the gradient, which then goes through the division by
# $\sqrt{\hat v_t}$: a weight with large gradients is barely decayed, and a weight with *no* loss gradient
# is pushed towards 0 at a constant speed of about $\eta$ per step, whatever $\lambda$. Loshchilov & Hutter
# (2019) **decouple** the decay from the adaptive step:
#
# $$ \theta \leftarrow \theta\,(1 - \eta\lambda), \qquad\text{then an Adam step with } g_t \text{ alone.} $$
#
# That is `torch.optim.AdamW` (default $\lambda = 10^{-2}$), the usual optimizer for large models.

# %% [markdown] id="ex-adamw"
# ### Exercise 8 (stretch) — `adamw_step` (2 points)
#
# Shrink `p` by $1 - \eta\lambda$, then take an Adam step without weight decay: call your `adam_step`
# (so make its test pass first).

# %% id="ch06_adamw" nbgrader={"solution": true}
def adamw_step(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """One step of torch.optim.AdamW. Returns (new_p, new_state)."""
    ### BEGIN SOLUTION
    decayed = p * (1 - lr * weight_decay)  # decoupled: shrink the weights, leave the gradient alone
    return adam_step(decayed, g, state, lr=lr, betas=betas, eps=eps)
    ### END SOLUTION


# %% id="ch06_adamw_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(as_trajectory(adamw_step), ref.adamw, [
    Inputs(small_params, small_grads, lr=0.1, weight_decay=0.1),
    Inputs(*random_problem({"W": (3, 4), "b": (4,)}, seed=39), lr=0.01, betas=(0.8, 0.99), weight_decay=0.1),
    Inputs(*random_problem({"W": (2, 3, 4), "frozen": (3,)}, seed=40, zero_grad=("frozen",)), lr=0.01, weight_decay=0.5),
    Inputs(*random_problem({"w": (5,)}, steps=30, seed=41, dtype=np.float32), lr=0.01, eps=1e-6),          # float32 kept
    Inputs(*random_problem({"W": (4, 3)}, seed=54, scale=1e-6), lr=0.01, eps=1e-6, weight_decay=0.2),       # eps matters
    Inputs(*random_problem({"w": (1,)}, seed=42)),                                                         # the defaults
], hints=mistakes.adamw)
### BEGIN HIDDEN TESTS
check(as_trajectory(adamw_step), ref.adamw, [
    Inputs(*random_problem({"w": (2, 2)}, seed=43), lr=0.01, weight_decay=0.0),
    Inputs(*random_problem({"W": (2, 4), "b": (4,)}, steps=40, seed=55, dtype=np.float32), lr=0.005, betas=(0.7, 0.9)),
], hints=mistakes.adamw)
### END HIDDEN TESTS

# %% id="plot-adamw" tags=["demo"]
# Plot 3: a weight whose loss gradient is 0, under Adam(weight_decay=0.1) and AdamW(weight_decay=0.1), lr = 0.01.
one, no_gradient = {"w": np.array([1.0])}, [{"w": np.array([0.0])}] * 500
my_adamw = use_yours(adamw_step, "optimizers.adamw_step")
weight = lambda result: [1.0] + [result[s]["w"][0] for s in result]
curves = {
    "torch.optim.Adam(weight_decay=0.1): L2 in the gradient": weight(ref.adam(one, no_gradient, lr=0.01, weight_decay=0.1)),
    "torch.optim.AdamW(weight_decay=0.1)": weight(ref.adamw(one, no_gradient, lr=0.01, weight_decay=0.1)),
    "your adamw_step": weight(trajectory(my_adamw, one, no_gradient, lr=0.01, weight_decay=0.1)),
}
ax = plots.plot_curves(curves, xlabel="step", ylabel="θ", title="decay of a weight with no loss gradient")
ax.lines[2].set_linestyle("--")
ax.legend(fontsize=8, loc="upper right")
plt.show()

# %% [markdown] id="adamw-comment"
# With L2 inside Adam the weight first falls by about $\eta = 0.01$ per step: Adam normalises the decay
# term $\lambda\theta$ like any gradient, so that speed does not depend on $\lambda$ at all (halve or double
# it: the blue curve stays the same, up to ε); it is essentially 0 after 250 steps. AdamW multiplies the weight by
# $1-\eta\lambda = 0.999$ per step, a decay whose rate *is* $\lambda$: $0.999^{500} \approx 0.61$.

# %% [markdown] id="zero-grad-theory"
# ## 9. A zero gradient is not "no gradient"
#
# A parameter that gets a **zero** gradient still takes a step: momentum carries it on, Adam's averages
# keep it moving, and weight decay shrinks it. PyTorch *skips* a parameter whose `.grad` is `None`
# (after `optimizer.zero_grad()` a parameter not used in the forward pass has `None`): no update, and its
# state — Adam's step count too — stays where it was. That is why the tests feed zero gradients
# explicitly. The course's optimizer classes do the same: a name missing from `grads` is skipped.

# %% id="zero-grad" tags=["demo"]
a = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
b = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
optimizer = torch.optim.Adam([a, b], lr=0.1)
a.grad, b.grad = torch.tensor([1.0], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)
optimizer.step()
a.grad, b.grad = torch.tensor([0.0], dtype=torch.float64), None
optimizer.step()
print(f"PyTorch: zero gradient -> a = {a.item():.6f} (step {int(optimizer.state[a]['step'])}),   "
      f".grad None -> b = {b.item():.6f} (step {int(optimizer.state[b]['step'])})")
numpy_params = {"a": np.array([1.0]), "b": np.array([1.0])}
numpy_adam = StepOptimizer(use_yours(adam_step, "optimizers.adam_step"), lr=0.1)
numpy_adam.step(numpy_params, {"a": np.array([1.0]), "b": np.array([1.0])})
numpy_adam.step(numpy_params, {"a": np.array([0.0])})  # no entry for b: skipped, like .grad None
print(f"NumPy:   zero gradient -> a = {numpy_params['a'][0]:.6f} (step {numpy_adam.state['a']['step']}),   "
      f"no gradient   -> b = {numpy_params['b'][0]:.6f} (step {numpy_adam.state['b']['step']})")


# %% [markdown] id="paths-theory"
# ## 10. Paths on two classic landscapes
#
# Now your step functions walk downhill on two functions of two variables, with gradients computed in
# NumPy; PyTorch walks the same way with `torch.optim` and autograd (the circles on each path).
#
# * An **ill-conditioned quadratic** $f(x, y) = \tfrac12(x^2 + 25\,y^2)$: the curvature across the valley
#   ($y$) is 25 times that along it ($x$). SGD's learning rate must stay below $2/25$ or it diverges in $y$,
#   so it zig-zags across and crawls along.
# * The **Rosenbrock function** $f(x, y) = (1-x)^2 + 100\,(y - x^2)^2$, a curved, flat-bottomed valley with
#   its minimum at $(1, 1)$: easy to find, slow to follow.
#
# The learning rates are chosen per optimizer, roughly as large as works. On the quadratic, momentum (A)
# gets $\eta$ and momentum (B) $\eta(1-\beta)$; on Rosenbrock both get the *same* `lr`, so (A) moves with a
# tenth of (B)'s steps.

# %% id="surfaces" tags=["demo"]
def quadratic(x):
    """Works on NumPy arrays and torch tensors; x[0], x[1] may be grids."""
    return 0.5 * (x[0] ** 2 + 25 * x[1] ** 2)


def quadratic_grad(x):
    return np.array([x[0], 25 * x[1]])


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosenbrock_grad(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


yours = {name: use_yours(fn, f"optimizers.{name}_step") for name, fn in [
    ("sgd", sgd_step), ("momentum_ema", momentum_ema_step), ("momentum", momentum_step), ("nesterov", nesterov_step),
    ("adagrad", adagrad_step), ("rmsprop", rmsprop_step), ("adam", adam_step), ("adamw", adamw_step)]}
LABELS = {"sgd": "SGD", "momentum_ema": "momentum (A: moving average)", "momentum": "momentum (B: PyTorch)",
          "nesterov": "Nesterov", "adagrad": "AdaGrad", "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW"}


def walk(f, grad, x0, steps, settings):
    """Paths of your step functions (NumPy gradients) and of torch.optim (autograd) from x0."""
    ours = {LABELS[n]: minimize_path(yours[n], grad, x0, steps, **hyper) for n, hyper in settings.items()}
    theirs = {LABELS[n]: ref.torch_minimize_path(n, f, x0, steps, **hyper) for n, hyper in settings.items()}
    worst = max(np.abs(ours[k] - theirs[k]).max() for k in ours)
    print(f"{f.__name__}: largest distance between the NumPy and the PyTorch paths over {steps} steps: {worst:.1e}")
    return ours, theirs


def in_pairs(paths):
    """Two optimizers per panel: SGD and momentum (A), momentum (B) and Nesterov, AdaGrad and RMSprop, Adam and AdamW."""
    labels = list(paths)
    return {" / ".join(labels[i:i + 2]): {k: paths[k] for k in labels[i:i + 2]} for i in range(0, len(labels), 2)}


# %% id="plot-quadratic" tags=["demo"]
# Plot 4: the ill-conditioned quadratic, 60 steps from (-4, 1.5).
quadratic_settings = {
    "sgd": dict(lr=0.075), "momentum_ema": dict(lr=0.075, beta=0.8), "momentum": dict(lr=0.015, momentum=0.8),
    "nesterov": dict(lr=0.015, momentum=0.8), "adagrad": dict(lr=1.0), "rmsprop": dict(lr=0.1, alpha=0.9),
    "adam": dict(lr=0.3, betas=(0.9, 0.99)), "adamw": dict(lr=0.3, betas=(0.9, 0.99), weight_decay=0.1)}
ours, theirs = walk(quadratic, quadratic_grad, (-4.0, 1.5), 60, quadratic_settings)
opt_plots.plot_path_grid(quadratic, in_pairs(ours), (-4.5, 1.5), (-2.0, 2.0), reference_paths=theirs, minimum=(0, 0), reference_every=2,
                         title="f(x, y) = (x² + 25 y²) / 2: lines your NumPy steps, circles torch.optim")
plt.show()

# %% [markdown] id="quadratic-comment"
# SGD bounces across the valley with shrinking zig-zags. Momentum (A) with $\eta = 0.075$, $\beta = 0.8$ and
# momentum (B) with $\eta = 0.015 = 0.075\,(1-0.8)$ draw **the same path** — the relation of section 3.
# Nesterov damps the overshoot. AdaGrad and RMSprop divide each coordinate's step by that coordinate's own
# gradient scale, so at first **both coordinates move by about the same amount** (about $\eta$ each, whatever
# their gradients): the path leaves at 45°, not towards the minimum. The steep coordinate $y$, with less far to go,
# reaches the valley floor first, and then they walk along the floor in $x$ — an **L-shaped path**, not a
# straight line. Adam does the same with momentum, so it overshoots and circles back.

# %% id="plot-rosenbrock" tags=["demo"]
# Plot 5: the Rosenbrock function, 300 steps from (-1.2, 1).
rosenbrock_settings = {
    "sgd": dict(lr=1.5e-3), "momentum_ema": dict(lr=1.5e-3, beta=0.9), "momentum": dict(lr=1.5e-3, momentum=0.9),
    "nesterov": dict(lr=1.5e-3, momentum=0.9), "adagrad": dict(lr=0.3), "rmsprop": dict(lr=0.015, alpha=0.9),
    "adam": dict(lr=0.07, betas=(0.9, 0.99)), "adamw": dict(lr=0.07, betas=(0.9, 0.99), weight_decay=0.05)}
ours, theirs = walk(rosenbrock, rosenbrock_grad, (-1.2, 1.0), 300, rosenbrock_settings)
opt_plots.plot_path_grid(rosenbrock, in_pairs(ours), (-1.5, 1.5), (-0.5, 1.5), reference_paths=theirs, minimum=(1, 1), reference_every=10,
                         title="Rosenbrock: 300 steps from (-1.2, 1); lines your NumPy steps, circles torch.optim")
plt.show()
for label, path in ours.items():
    print(f"{label:30s} ends at ({path[-1, 0]:6.3f}, {path[-1, 1]:6.3f}), f = {rosenbrock(path[-1]):.2e}")

# %% [markdown] id="rosenbrock-comment"
# Only the methods that build up speed along the valley floor get close to $(1, 1)$ in 300 steps:
# PyTorch-form momentum and Nesterov, whose effective step along the floor is $\eta/(1-\mu)$, ten times
# SGD's. RMSprop, Adam and AdamW follow the floor but are about halfway; SGD, the moving-average momentum
# with the same $\eta$, and AdaGrad (whose steps shrink like $1/\sqrt t$) are still crawling. (The NumPy and PyTorch paths
# differ by about $10^{-8}$ here, not $10^{-16}$: the two gradients are computed in different orders, and
# a long curved valley amplifies rounding differences step after step.)

# %% [markdown] id="training-theory"
# ## 11. The same MLP on the digits, under each optimizer
#
# A 64-32-10 ReLU network on the 8×8 digits (1437 training images, 360 for validation), 8 epochs of
# mini-batches of 64, the same initial weights and batch order for every optimizer; the training loop is
# the course's `fit_mlp` (chapters 2–4), the optimizer your step function wrapped in `StepOptimizer`. For
# Adam and SGD with momentum, PyTorch trains the same network with the same batches (circles).
# To scale up: more epochs, a wider network, or MNIST (chapter 7); the code does not change.

# %% id="plot-training" tags=["demo"]
# Plot 6: training loss and validation accuracy per epoch.
images, labels = data.load_digits()
X = images.reshape(len(images), -1)
order = np.random.default_rng(0).permutation(len(X))
train, val = order[:1437], order[1437:]
training_settings = {
    "sgd": dict(lr=0.1), "momentum_ema": dict(lr=0.1, beta=0.9), "momentum": dict(lr=0.05, momentum=0.9),
    "nesterov": dict(lr=0.05, momentum=0.9), "adagrad": dict(lr=0.05), "rmsprop": dict(lr=2e-3),
    "adam": dict(lr=2e-3), "adamw": dict(lr=2e-3, weight_decay=1e-2)}
EPOCHS, BATCH = 8, 64
histories = {}
for name, hyper in training_settings.items():
    params = init_params([64, 32, 10], seed=0)
    histories[LABELS[name]] = fit_mlp(params, X[train], labels[train], StepOptimizer(yours[name], **hyper),
                                      epochs=EPOCHS, batch_size=BATCH, validation=(X[val], labels[val]))
torch_losses = {
    "Adam": fit_torch_mlp(init_params([64, 32, 10], seed=0), X[train], labels[train], optimizer="adam", lr=2e-3,
                          epochs=EPOCHS, batch_size=BATCH, dtype=torch.float64)[1],
    "momentum (B: PyTorch)": fit_torch_mlp(init_params([64, 32, 10], seed=0), X[train], labels[train], optimizer="sgd",
                                           lr=0.05, momentum=0.9, epochs=EPOCHS, batch_size=BATCH, dtype=torch.float64)[1],
}
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
plots.plot_curves({k: h["loss"] for k, h in histories.items()}, ax=axes[0], xlabel="epoch", ylabel="mean training loss",
                  logy=True, title="training loss (lines NumPy, circles PyTorch)")
for i, (label, losses) in enumerate(torch_losses.items()):
    color = axes[0].lines[list(histories).index(label)].get_color()
    axes[0].plot(np.arange(EPOCHS), losses, ls="none", marker="o", markerfacecolor="none", color=color)
plots.plot_curves({k: h["val_accuracy"] for k, h in histories.items()}, ax=axes[1], xlabel="epoch",
                  ylabel="validation accuracy", title="validation accuracy")
axes[1].legend(fontsize=8)
axes[0].get_legend().remove()
plt.tight_layout()
plt.show()
for label, losses in torch_losses.items():
    print(f"{label}: largest difference between the NumPy and PyTorch epoch losses: "
          f"{np.abs(np.array(histories[label]['loss']) - losses).max():.1e}")
for label, h in histories.items():
    print(f"{label:30s} final training loss {h['loss'][-1]:.4f}, validation accuracy {h['val_accuracy'][-1]:.3f}")

# %% [markdown] id="training-comment"
# With these learning rates the PyTorch-form momentum and Nesterov learn fastest and AdaGrad's big early
# steps pay off on this short run; Adam with $\eta = 2\cdot 10^{-3}$ is steady but not the quickest
# here. The ranking depends on the learning rates: every optimizer has its own good range, and "Adam with
# the defaults" is a good *first* try, not a law. The NumPy and PyTorch curves agree to rounding error.

# %% [markdown] id="speed-theory"
# ## 12. Speed: one Adam step over 10 million parameters
#
# A straightforward NumPy Adam (like yours) creates a new array for every intermediate result —
# `beta1 * m`, `(1 - beta1) * g`, their sum, `g * g`, … — about a dozen arrays of 10 million floats per
# step, each written to memory and read back. The course's `solved.Adam` class updates `m`, `v` and the
# parameters **in place** with `out=` arguments (`np.multiply(g, g, out=tmp)`, `m += tmp`), in blocks of
# 65,536 entries so that the one scratch buffer stays in the CPU cache, in the same order of operations as
# PyTorch's kernel, so that it stays equal to `torch.optim.Adam` to rounding. Timings are medians of
# `timeit` repeats; on a busy machine they vary a lot. (A straightforward step function like yours is
# several times slower: time `my_adam(w0, g0, {})` with `timeit` if you like.) PyTorch runs
# on one thread, like NumPy (with more threads it is faster on an idle many-core machine, and slower on
# a busy one).

# %% id="speed" tags=["demo"]
n = 10_000_000
rng = np.random.default_rng(0)
w0, g0 = rng.random(n, dtype=np.float32), rng.random(n, dtype=np.float32) - 0.5
numpy_params, numpy_grads = {"w": w0.copy()}, {"w": g0}
fast_adam = Adam(lr=1e-3)
w_torch = torch.tensor(w0, requires_grad=True)  # on the CPU, a copy of w0
w_torch.grad = torch.tensor(g0)
torch_adam = torch.optim.Adam([w_torch], lr=1e-3)
fast_adam.step(numpy_params, numpy_grads)
torch_adam.step()
difference = np.abs(numpy_params["w"] - to_numpy(w_torch)).max()
print(f"one step from the same start, largest |NumPy - PyTorch| (float32): {difference:.1e}")


def median_seconds(fn, repeat):
    return float(np.median(timeit.repeat(fn, number=1, repeat=repeat)))


seconds = {"solved.Adam (in place), median of 5": median_seconds(lambda: fast_adam.step(numpy_params, numpy_grads), 5),
           "torch.optim.Adam (1 thread), median of 5": median_seconds(torch_adam.step, 5)}
for label, duration in seconds.items():
    print(f"{label:42s} {1e3 * duration:7.1f} ms")
adam_ratio = seconds["solved.Adam (in place), median of 5"] / seconds["torch.optim.Adam (1 thread), median of 5"]
print(f"ratio solved.Adam / torch.optim.Adam: {adam_ratio:.2f}")
del numpy_params, numpy_grads, w_torch, torch_adam, fast_adam, w0, g0

# %% [markdown] id="closing-theory"
# ## 13. Closing numbers
#
# Every optimizer of this chapter against `torch.optim` over 100 steps of a random problem with weight
# decay, non-default hyper-parameters and a parameter whose gradient is always zero (float64): the largest
# difference of any parameter entry after any step.

# %% id="closing" tags=["demo"]
closing_settings = {
    "sgd": dict(lr=0.05, weight_decay=0.01), "momentum_ema": dict(lr=0.05, beta=0.8),
    "momentum": dict(lr=0.05, momentum=0.8, dampening=0.5, weight_decay=0.01),
    "nesterov": dict(lr=0.02, momentum=0.8, weight_decay=0.01), "adagrad": dict(lr=0.05, weight_decay=0.01),
    "rmsprop": dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.01),
    "adam": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01),
    "adamw": dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)}
params, grads = random_problem({"W": (8, 5), "b": (5,), "frozen": (3,)}, steps=100, seed=2024, zero_grad=("frozen",))
print(f"{'optimizer':30s} largest |NumPy - torch.optim| over 100 steps")
for name, hyper in closing_settings.items():
    print(f"{LABELS[name]:30s} {demos.largest_difference(yours[name], name, params, grads, **hyper):.1e}")
print(f"\nAdam step over 10 million float32 parameters, solved.Adam / torch.optim.Adam: {adam_ratio:.2f}")
print(f"this notebook ran in {time.perf_counter() - notebook_start:.0f} s")


# %% [markdown] id="schedules-theory"
# ## 14. Stretch: learning-rate schedules
#
# A constant learning rate is a compromise: large steps make fast early progress, but near a minimum (and with
# noisy mini-batch gradients) they keep the parameters bouncing around it. So training usually **changes the
# learning rate as it goes**, with one of a few standard shapes, written here for step $t = 0, 1, \dots$ of a
# run of $n$ steps, starting from the base rate $\eta_0$:
#
# * **step decay** (`torch.optim.lr_scheduler.StepLR(step_size=s, gamma=γ)`): multiply by $\gamma$ every $s$ steps,
#   $\eta_t = \eta_0\,\gamma^{\lfloor t/s \rfloor}$;
# * **cosine annealing** (`CosineAnnealingLR(T_max=T, eta_min=η_min)`): half a cosine from $\eta_0$ down to
#   $\eta_\min$ over $T$ steps, $\eta_t = \eta_\min + (\eta_0 - \eta_\min)\,\tfrac12\big(1 + \cos(\pi t / T)\big)$ (past $T$ it
#   climbs back up: the cosine goes on);
# * **linear warm-up, then cosine** (`SequentialLR` of `LinearLR(start_factor=f, total_iters=w)` and
#   `CosineAnnealingLR(T_max=n - w)`): for the first $w$ steps $\eta_t = \eta_0\,\big(f + (1 - f)\,t/w\big)$, rising from
#   $f\eta_0$ towards $\eta_0$; from step $w$ on, the cosine over the remaining $n - w$ steps, its own step count
#   starting at 0. Warm-up protects the first steps, when the weights are random and (for Adam) the second-moment
#   estimate is still poor; it is the standard start for Transformers.
#
# PyTorch's schedulers change the optimizer's learning rate each time you call `scheduler.step()`, once after
# every `optimizer.step()`. The exercises return the whole schedule at once: the learning rate **used by step
# $t$**, for $t = 0, \dots, n - 1$, as a float64 array of shape `(n_steps,)`. The tests run a real
# `torch.optim.SGD` with the scheduler for the whole run and read its learning rate before every step.

# %% [markdown] id="ex-step-schedule"
# ### Exercise 9 (stretch) — `step_schedule` (1 point)
#
# Return the step-decay learning rates of a run of `n_steps` steps. `step_size` need not divide `n_steps`.

# %% id="ch06_step_schedule" nbgrader={"solution": true}
def step_schedule(base_lr, n_steps, step_size, gamma=0.1):
    """torch.optim.lr_scheduler.StepLR: the learning rate times gamma after every step_size steps."""
    ### BEGIN SOLUTION
    t = np.arange(n_steps)
    return base_lr * gamma ** (t // step_size)
    ### END SOLUTION


# %% id="ch06_step_schedule_test" nbgrader={"grade": true, "locked": true, "points": 1}
check(step_schedule, ref.step_schedule, [
    (0.1, 10, 3),                 # 0.1 for steps 0-2, 0.01 for 3-5, 0.001 for 6-8, 1e-4 at step 9
    (0.5, 25, 7, 0.5),
    (2.0, 6, 10, 0.3),            # step_size longer than the run: no decay at all
], hints=mistakes.step_schedule)
### BEGIN HIDDEN TESTS
check(step_schedule, ref.step_schedule, [
    (0.01, 40, 1, 0.9),
    (1.0, 33, 8, 0.25),
], hints=mistakes.step_schedule)
### END HIDDEN TESTS

# %% [markdown] id="ex-cosine-schedule"
# ### Exercise 10 (stretch) — `cosine_schedule` (2 points)
#
# Return the cosine-annealing learning rates of a run of `n_steps` steps, with period `T_max` and floor
# `eta_min`. The run may be longer than `T_max` (then the rate climbs back, as PyTorch's does).

# %% id="ch06_cosine_schedule" nbgrader={"solution": true}
def cosine_schedule(base_lr, n_steps, T_max, eta_min=0.0):
    """torch.optim.lr_scheduler.CosineAnnealingLR: from base_lr down to eta_min along half a cosine over T_max steps."""
    ### BEGIN SOLUTION
    t = np.arange(n_steps)
    return eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * t / T_max)) / 2
    ### END SOLUTION


# %% id="ch06_cosine_schedule_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(cosine_schedule, ref.cosine_schedule, [
    (0.1, 5, 4),                  # 0.1, 0.0854, 0.05, 0.0146, 0 (the bottom at step T_max = 4)
    (0.1, 30, 20, 0.01),          # a floor, and a run longer than T_max: back up after step 20
    (1.0, 12, 12),                # the run is exactly T_max long
], hints=mistakes.cosine_schedule)
### BEGIN HIDDEN TESTS
check(cosine_schedule, ref.cosine_schedule, [
    (0.3, 50, 7, 0.05),
    (0.02, 9, 100, 0.001),
], hints=mistakes.cosine_schedule)
### END HIDDEN TESTS

# %% [markdown] id="ex-warmup-cosine"
# ### Exercise 11 (stretch) — `warmup_cosine_schedule` (2 points)
#
# Return the learning rates of a run of `n_steps` steps: a linear warm-up over the first `warmup_steps` steps
# from `start_factor * base_lr`, then cosine annealing from `base_lr` to `eta_min` over the remaining
# `n_steps - warmup_steps` steps (`0 < warmup_steps < n_steps`). You may call your `cosine_schedule`.
#
# <details><summary>Hint 1</summary>
#
# Build the two pieces separately, each with its own step count starting at 0, and join them end to end.
# </details>

# %% id="ch06_warmup_cosine_schedule" nbgrader={"solution": true}
def warmup_cosine_schedule(base_lr, n_steps, warmup_steps, start_factor=0.1, eta_min=0.0):
    """A linear warm-up from start_factor * base_lr to base_lr over warmup_steps, then cosine annealing."""
    ### BEGIN SOLUTION
    t = np.arange(warmup_steps)
    warmup = base_lr * (start_factor + (1 - start_factor) * t / warmup_steps)
    rest = cosine_schedule(base_lr, n_steps - warmup_steps, n_steps - warmup_steps, eta_min)
    return np.concatenate([warmup, rest])
    ### END SOLUTION


# %% id="ch06_warmup_cosine_schedule_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(warmup_cosine_schedule, ref.warmup_cosine_schedule, [
    (0.1, 10, 4),                        # 0.01, 0.0325, 0.055, 0.0775, then the cosine from 0.1 over 6 steps
    (0.5, 30, 6, 0.2, 0.01),             # another start factor and a floor
    (1.0, 8, 1, 0.5),                    # a warm-up of one step
], hints=mistakes.warmup_cosine_schedule)
### BEGIN HIDDEN TESTS
check(warmup_cosine_schedule, ref.warmup_cosine_schedule, [
    (0.01, 100, 10, 0.01, 1e-4),
    (2.0, 17, 5),
], hints=mistakes.warmup_cosine_schedule)
### END HIDDEN TESTS

# %% id="plot-schedules" tags=["demo"]
# Plot 7: the three schedules (yours: lines, torch.optim.lr_scheduler: circles), and SGD with momentum on the
# ill-conditioned quadratic of section 10 under each, your NumPy steps against torch.optim with the scheduler.
my_step_schedule = use_yours(step_schedule, "optimizers.step_schedule")
my_cosine_schedule = use_yours(cosine_schedule, "optimizers.cosine_schedule")
my_warmup_cosine = use_yours(warmup_cosine_schedule, "optimizers.warmup_cosine_schedule")
n_run, base = 80, 0.03
schedules = {
    "constant": (np.full(n_run, base), None, None),
    "step (20, 0.3)": (my_step_schedule(base, n_run, 20, 0.3), "step", dict(step_size=20, gamma=0.3)),
    "cosine": (my_cosine_schedule(base, n_run, n_run), "cosine", dict(T_max=n_run)),
    "warm-up 10, cosine": (my_warmup_cosine(base, n_run, 10), "warmup_cosine", dict(warmup_steps=10)),
}
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for label, (lrs, name, options) in schedules.items():
    line, = axes[0].plot(lrs, label=label)
    path = demos.scheduled_path(yours["momentum"], quadratic_grad, (-4.0, 1.5), lrs, momentum=0.8)
    axes[1].plot(quadratic(path.T), color=line.get_color(), label=label)
    if name is not None:
        theirs = ref.torch_scheduled_path("momentum", quadratic, (-4.0, 1.5), name, base, n_run, options, momentum=0.8)
        axes[0].plot(np.arange(0, n_run, 4), ref.SCHEDULES[name](base, n_run, **options)[::4], "o",
                     color=line.get_color(), markerfacecolor="none")
        axes[1].plot(np.arange(0, n_run + 1, 4), quadratic(theirs.T)[::4], "o", color=line.get_color(),
                     markerfacecolor="none")
        print(f"{label:20s} largest |NumPy - torch.optim| along the path: {np.abs(path - theirs).max():.1e}")
axes[0].set(xlabel="step", ylabel="learning rate", title="schedules (lines yours, circles torch.optim.lr_scheduler)")
axes[1].set(xlabel="step", ylabel="f(x, y)", yscale="log", title="momentum (B) on (x² + 25 y²) / 2 under each schedule")
for ax in axes:
    ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown] id="schedules-comment"
# All four runs start alike; the schedules differ at the end. With a constant rate the loss keeps falling at the
# rate the largest safe step allows; decaying the rate late lets the last steps settle, and the warm-up costs a
# little progress at the start for safety that matters far more on a real network (random weights, noisy
# gradients, Adam's young second moments) than on this quadratic. On a noiseless quadratic a constant rate is hard
# to beat; the benefit of decay shows with mini-batch noise, which keeps a constant-rate run bouncing around the
# minimum (chapter 3's stochastic gradient descent).

# %% [markdown] id="range-test-theory"
# ### Choosing the base rate: a learning-rate range test
#
# Every schedule starts from a base rate $\eta_0$. L. Smith's **range test** (2017) finds a sensible one in a
# single short run: train from the initial weights while the learning rate grows geometrically, here from
# $10^{-5}$ to $10$ over 150 mini-batches, and watch the batch loss. At first the rate is too small to change
# anything; then the loss falls, faster and faster; past some rate the steps overshoot and the loss shoots up
# (the run stops when it is 4 times its lowest). A good base rate lies where the loss still falls steeply,
# a few times (about ten times) below the rate of the lowest loss. Below, the digits MLP of section 11 under your
# momentum (B) and your Adam. (The test mixes two effects — the loss also falls because the network trains as the
# run goes on — so it gives a range to try, not a precise optimum.)

# %% id="plot-range-test" tags=["demo"]
# Plot 8: the learning-rate range test on the digits MLP 64-32-10 (mini-batches of 32).
fig, ax = plt.subplots(figsize=(7, 4))
for label, name, hyper in [("momentum (B), 0.9", "momentum", dict(momentum=0.9)), ("Adam", "adam", {})]:
    lrs, batch_losses = demos.lr_range_test(yours[name], init_params([64, 32, 10], seed=0), X[train], labels[train],
                                            lr_min=1e-5, lr_max=10.0, steps=150, **hyper)
    smooth = np.array([batch_losses[max(0, i - 4):i + 1].mean() for i in range(len(batch_losses))])  # 5-batch mean
    line, = ax.plot(lrs, smooth, label=label)
    best = lrs[np.argmin(smooth)]
    ax.axvline(best / 10, color=line.get_color(), ls=":", lw=1)
    print(f"{label:18s}: lowest (smoothed) loss at lr = {best:.2g}; a tenth of it: {best / 10:.2g} "
          f"(section 11 used {training_settings[name]['lr']:g})")
ax.set(xscale="log", xlabel="learning rate (growing every batch)", ylabel="batch loss (5-batch mean)",
       title="learning-rate range test (dotted: a tenth of the best rate)")
ax.legend()
plt.show()

# %% [markdown] id="summary"
# ## Summary
#
# | exercise | optimizer | state | points |
# |---|---|---|---|
# | 1 `sgd_step` | $\theta - \eta(g + \lambda\theta)$ | none | 1 |
# | 2 `momentum_ema_step` | $v = \beta v + (1-\beta) g$, $\theta - \eta v$ | $v$ | 2 |
# | 3 `momentum_step` | $b = \mu b + (1-\tau) g$ ($b_1 = g_1$), $\theta - \eta b$ | $b$ | 2 |
# | 4 `nesterov_step` | $b = \mu b + g$, $\theta - \eta(g + \mu b)$ | $b$ | 2 |
# | 5 `adagrad_step` | $r = r + g^2$, $\theta - \eta g / (\sqrt r + \varepsilon)$ | $r$ | 2 |
# | 6 `rmsprop_step` | $r = \alpha r + (1-\alpha) g^2$, $\theta - \eta g / (\sqrt r + \varepsilon)$ | $r$ | 2 |
# | 7 `adam_step` | $m, v$ moving averages, divided by $1-\beta^t$ | $t, m, v$ | 3 |
# | 8 `adamw_step` | $\theta(1 - \eta\lambda)$, then Adam | $t, m, v$ | 2 |
# | 9 `step_schedule` (stretch) | $\eta_0\gamma^{\lfloor t/s\rfloor}$ | — | 1 |
# | 10 `cosine_schedule` (stretch) | $\eta_\min + (\eta_0 - \eta_\min)(1 + \cos(\pi t/T))/2$ | — | 2 |
# | 11 `warmup_cosine_schedule` (stretch) | linear from $f\eta_0$, then cosine | — | 2 |
# | | | | **21** |
#
# * Every optimizer here is "a gradient step with a memory": a buffer or an average per parameter, kept
#   between steps, with weight decay (except AdamW's) added to the gradient first.
# * The two momentum forms differ by the factor $1-\beta$: the moving average with $\eta$ equals PyTorch's
#   with $\eta(1-\beta)$. PyTorch's `dampening` damps every gradient except the first, which starts the
#   buffer undamped ($\eta = 1$, $\beta = 0.9$, $g = 1$: $-1, -2, -3$ versus $-0.1, -0.29, -0.561$).
# * RMSprop's accumulator is an exponential moving average of squared gradients, not a mean; it has no bias
#   correction, so its first step is $\eta/\sqrt{1-\alpha}$ long.
# * Adam's division by $1-\beta^t$ makes its first steps the right size; $t$ starts at 1.
# * L2 inside Adam is not weight decay; AdamW decays the weights directly.
# * A zero gradient is a step; `.grad = None` is no step.
# * In-place NumPy (`out=`, blocks that stay in the cache) makes a NumPy optimizer as fast as PyTorch's on the CPU.
# * Learning-rate schedules (step decay, cosine annealing, linear warm-up) set the rate of every step; yours match
#   `torch.optim.lr_scheduler` over whole runs. A range test (the rate growing every batch) finds a base rate.
#
# **Next:** chapter 7 puts everything together — and trains with the course's `solved.Adam`.
#
# ## Glossary / 术语表
#
# | English | 中文 |
# |---|---|
# | optimizer | 优化器 |
# | learning rate | 学习率 |
# | stochastic gradient descent (SGD) | 随机梯度下降 |
# | momentum / velocity | 动量 / 速度 |
# | dampening | 阻尼 |
# | Nesterov accelerated gradient | Nesterov 加速梯度 |
# | exponential moving average | 指数移动平均 |
# | adaptive learning rate | 自适应学习率 |
# | AdaGrad / RMSprop / Adam | 自适应梯度 / 均方根传播 / 自适应矩估计 |
# | first / second moment | 一阶矩 / 二阶矩 |
# | bias correction | 偏差修正 |
# | weight decay, L2 regularization | 权重衰减，L2 正则化 |
# | decoupled weight decay (AdamW) | 解耦权重衰减 |
# | ill-conditioned | 病态（条件数大） |
# | Rosenbrock function | Rosenbrock 函数（香蕉函数） |
# | state (of an optimizer) | （优化器的）状态 |
# | in-place operation | 原地操作 |
# | learning-rate schedule / warm-up | 学习率调度 / 预热 |
# | learning-rate range test | 学习率范围测试 |
# | step decay / cosine annealing | 阶梯衰减 / 余弦退火 |

# %% [markdown] id="progress-title"
# ## Your progress
#
# Which exercises of this notebook pass in this session, and their points (run every test cell first,
# or *Run All*). `dlcourse progress` in a terminal shows every chapter, in fresh kernels.

# %% id="progress" tags=["demo"]
from dlcourse.progress import progress_table

progress_table()
