# %% [markdown] id="title"
# # Chapter 7 — Training in practice, and the capstone
#
# **Learning goals.** After this notebook you can
#
# 1. recognise **overfitting** on a pair of training and validation curves, and say truthfully what
#    reduces it (more data, regularisation, a smaller model, early stopping) and what is no reliable cure
#    (a bigger model — with the caveat of double descent for over-parameterised networks);
# 2. split data into training, validation and test parts with a seeded shuffle, and **normalise** inputs with
#    statistics of the training part only;
# 3. write the **L2 penalty** and its gradient, and see that it is PyTorch's `weight_decay`;
# 4. write **inverted dropout**, forward and backward, and match `F.dropout` given the same mask;
# 5. decide when to stop with **early stopping** (patience, best epoch);
# 6. write the **training loop** yourself — mini-batches, forward, loss, backward, optimizer step, validation,
#    early stopping — and match PyTorch's hand-written loop step for step;
# 7. write **batch normalisation**, forward (training and evaluation modes, running statistics) and backward, and
#    match `nn.BatchNorm1d`;
# 8. put every piece of the course together: the source article's MLP 784-512-10 trained from scratch in
#    NumPy with your loop, next to the same network in PyTorch, on real handwritten digits (worked example E1).
#
# **How this notebook works.** As in every chapter: replace each `raise NotImplementedError()` with your
# code, run the cell, then the test cell below it, which compares your function with PyTorch and explains
# any difference. Demo cells use your functions once they work and the course's solved versions until then.
# Nothing here needs a GPU or a network. With a network, run the notebook with the environment variable
# `DATASET=mnist` to train the capstone on MNIST instead of the offline digits.

# %% id="setup"
import os
import time

# These networks are small: one CPU thread runs them faster than several threads competing for a busy
# machine. (Set OMP_NUM_THREADS before starting Jupyter to use more, e.g. for MNIST.)
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ["OMP_NUM_THREADS"])
import numpy as np
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from dlcourse import data, plots
from dlcourse.cases import regularization as cases
from dlcourse.cases import training as cases_training
from dlcourse.checking import Inputs, check, check_seeded, randn
from dlcourse.data.downloads import load_mnist, load_or_fallback
from dlcourse.demos import regularization as demos
from dlcourse.device import describe, get_device, to_numpy, to_tensor
from dlcourse.exercises import use_yours
from dlcourse.mistakes import regularization as mistakes
from dlcourse.mistakes import training as mistakes_training
from dlcourse.plots import losses as loss_plots, training as training_plots
from dlcourse.reference import regularization as ref
from dlcourse.reference import training as ref_training
from dlcourse.reference.training import fit_torch_mlp, torch_accuracy
from dlcourse.solved.metrics import accuracy, confusion_matrix
from dlcourse.solved.networks import count_params, init_params, mlp_forward
from dlcourse.solved.optimizers import Adam
from dlcourse.solved.training import evaluate, fit_mlp

notebook_start = time.perf_counter()
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
torch.manual_seed(0)
print(describe())

# %% [markdown] id="overfitting-theory"
# ## 1. Overfitting: when the training loss lies
#
# A network is trained to make the **training loss** small, but what we want is a small loss on data it
# has never seen. The difference between the two is the **generalisation gap**:
#
# $$ \text{gap} = L_\text{validation} - L_\text{training}. $$
#
# A model *overfits* when it learns the training examples — their noise included — instead of the pattern
# behind them: the training loss keeps falling while the validation loss stops falling and starts to
# **rise**. We measure this on a **validation set**: examples held out from training, used to compare
# models and settings. A third part, the **test set**, is looked at once, at the very end, to report how
# well the final model does; every decision made by looking at a set's score slowly fits that set too.
#
# What reduces overfitting:
#
# * **more (or more varied) data**: noise averages out; data augmentation (chapter 5) makes more from what you have;
# * **regularisation**: a penalty on large weights (L2, section 4), dropout (section 5);
# * **a smaller model**: fewer parameters can memorise less (in the classical regime; see the note below);
# * **early stopping** (section 6): keep the weights from the epoch where the validation loss was lowest.
#
# > **A correction to the source material.** One of the articles this course grew out of lists "increase
# > the model's complexity" among the ways to fight overfitting. That is backwards: more capacity (more
# > layers, more units) lets a network fit its training data — noise included — more closely, which is
# > what overfitting *is*. Adding capacity is the cure for **underfitting** (training loss still high).
# > That is the **classical** picture (test error U-shaped in the model's size: the bias–variance
# > trade-off), and it is what section 7 measures on a small problem. It is not the whole story for
# > modern networks: grow a network far past the size at which it can fit every training point exactly
# > (the *interpolation threshold*) and its test error can fall again — **double descent** (Belkin et al.,
# > 2019; Nakkiran et al., 2019). Among the many weight settings that fit the training data, gradient
# > descent from a small random start tends to reach smooth ones (*implicit regularisation*), and the
# > bigger the network, the smoother the fit it can find. So in the over-parameterised regime a bigger
# > model can generalise *better*; but that is a property of the training dynamics and it shows up
# > unreliably (it depends on the data, the noise, the optimizer and how long you train), so "add
# > capacity" is still no recipe against overfitting. The cures above are.
#
# Below, a network far larger than the problem needs (2-64-64-2, 4,482 parameters) learns the two-moons
# problem from only **60 noisy points**, and is evaluated after every epoch on 500 other points from the
# same distribution.

# %% id="overfitting-demo" tags=["demo"]
X_moons, y_moons = data.make_moons(1100, noise=0.3, seed=0)
X_small, y_small = X_moons[:60], y_moons[:60]            # the training set: 60 points
X_moons_val, y_moons_val = X_moons[600:], y_moons[600:]  # 500 validation points
MOONS = dict(epochs=200, batch_size=30, validation=(X_moons_val, y_moons_val), evaluate_train=True)


def train_moons(sizes=(2, 64, 64, 2), X=X_small, y=y_small, **options):
    """Train an MLP on moons with Adam (lr 0.01) from the same He initialisation; return (params, history)."""
    params = init_params(list(sizes), seed=0)
    history = fit_mlp(params, X, y, Adam(lr=0.01), **{**MOONS, **options})
    return params, history


baseline_params, baseline = train_moons()
best = int(np.argmin(baseline["val_loss"]))
print(f"lowest validation loss {min(baseline['val_loss']):.3f} at epoch {best}; after 200 epochs: "
      f"training loss {baseline['train_loss'][-1]:.4f}, validation loss {baseline['val_loss'][-1]:.3f}, "
      f"validation accuracy {baseline['val_accuracy'][-1]:.1%}")

# %% id="plot-overfitting" tags=["demo"]
# Plot 1: the classic picture. Training loss (dashed) falls towards 0; validation loss (solid) turns and rises.
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
training_plots.plot_train_val({"2-64-64-2 on 60 points": baseline}, ax=axes[0], title="loss")
training_plots.plot_train_val({"2-64-64-2 on 60 points": baseline}, ax=axes[1], metric="accuracy", title="accuracy")
plt.tight_layout()
plt.show()


# %% [markdown] id="overfitting-comment"
# The training loss falls towards 0 while the validation loss reaches its lowest point around epoch 50 and
# then climbs: the network is fitting the noise of its 60 points. Validation *accuracy* stays flat while
# the validation loss grows — the network becomes ever more confident, also on the points it gets wrong.
# Keep this curve in mind: sections 4–6 add the cures, section 7 compares them.

# %% [markdown] id="split-theory"
# ## 2. Training, validation and test sets
#
# Before anything is trained, hold data out. Shuffle the $N$ examples with a **seeded** generator (the same
# seed gives the same split, so results can be reproduced), then cut:
#
# * $N_\text{val} = \lfloor f \cdot N \rfloor$ examples for validation (`int(val_fraction * N)`, rounded
#   down — the rule `torch.utils.data.random_split` uses for fractions);
# * the other $N - N_\text{val}$ for training.
#
# Shuffling matters because datasets are often stored in order (all the 0s, then all the 1s...): the last
# 20 % unshuffled could be a single class. Shuffle `X` and `y` with the **same** permutation, so that every
# label stays with its example. Apply the function twice to get three parts: first split off the test
# set, then split the rest into training and validation.

# %% [markdown] id="ex-split"
# ### Exercise 1 — `train_val_split` (2 points)
#
# Return `(X_train, y_train, X_val, y_val)`: a random permutation of the $N$ examples drawn from a generator
# made from `seed` (`np.random.default_rng(seed)`), the first `int(val_fraction * N)` shuffled examples for
# validation and the rest for training. `X` may have any number of dimensions (a batch of images, say); split
# along the first axis and keep the dtypes (float32 images stay float32, integer labels stay integers).
#
# A random permutation cannot be compared number by number with PyTorch's, so the test compares what
# matters with a split made by `random_split`: the sizes, every example used exactly once, rows and labels
# kept together, a real shuffle — and that the same seed gives the same split.

# %% id="ch07_train_val_split" nbgrader={"solution": true}
def train_val_split(X, y, val_fraction, seed=0):
    """Seeded shuffle, then (X_train, y_train, X_val, y_val) with int(val_fraction * N) validation examples."""
    ### BEGIN SOLUTION
    n = X.shape[0]
    n_val = int(val_fraction * n)
    order = np.random.default_rng(seed).permutation(n)
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]
    ### END SOLUTION


# %% id="ch07_train_val_split_test" nbgrader={"grade": true, "locked": true, "points": 2}
# cases.numbered(n, ...) makes n examples whose first entry is their row number, so the test can follow each
# row; split_summary says what a split must get right (sizes, every row once, labels with their rows, dtypes,
# a real shuffle), here compared with PyTorch's random_split.
summarize_split = lambda X, y, f, seed=0: cases.summarize_split(X, y, *train_val_split(X, y, f, seed))
X_f32, y_f32 = cases.numbered(25, 3, seed=10)
check(summarize_split, cases.split_summary, [
    (*cases.numbered(20, 2), 0.25),
    (*cases.numbered(100, 3, seed=2), 0.25),
    Inputs(*cases.numbered(57, 4, seed=4), 0.3, seed=5),
    (*cases.numbered(30, 2, seed=6), 0.29),          # 0.29 * 30 = 8.7: rounded down to 8
    (*cases.numbered(40, 8, 8, seed=8), 0.2),        # images: split along the first axis
    (X_f32.astype(np.float32), y_f32, 0.2),         # float32 stays float32
], name="train_val_split", hints=mistakes.train_val_split)
check_seeded(train_val_split, *cases.numbered(20, 2), 0.25)
### BEGIN HIDDEN TESTS
check(summarize_split, cases.split_summary, [
    (*cases.numbered(50, 1, seed=7), 0.33),          # 16.5 -> 16
    (*cases.numbered(16, 3, seed=9), 0.5),
    (*cases.numbered(33, 2, 2, seed=12), 0.4),
], name="train_val_split", hints=mistakes.train_val_split)
check_seeded(train_val_split, *cases.numbered(33, 3, seed=11), 0.4, name="train_val_split")
### END HIDDEN TESTS

# %% [markdown] id="split-pytorch"
# **In PyTorch** the same job is done by `torch.utils.data.random_split(dataset, [0.8, 0.2], generator=...)`,
# which returns two `Subset`s of indices. Its permutation differs from NumPy's (another generator), the
# sizes are the same:

# %% id="split-pytorch-code" tags=["demo"]
my_split = use_yours(train_val_split, "regularization.train_val_split")
digit_images, digit_labels = data.load_digits()
_, _, X_val_np, _ = my_split(digit_images, digit_labels, 0.2, seed=0)
generator = torch.Generator().manual_seed(0)
train_part, val_part = torch.utils.data.random_split(range(len(digit_labels)), [0.8, 0.2], generator=generator)
print(f"{len(digit_labels)} digits -> NumPy validation part {len(X_val_np)}, PyTorch {len(val_part)}; "
      f"first validation indices in PyTorch: {val_part.indices[:8]}")


# %% [markdown] id="normalize-theory"
# ## 3. Normalisation, with training statistics only
#
# Gradient descent works best when every input feature has a similar scale: the diabetes data shipped
# with the course measure age in years, blood pressure in mmHg and a serum value in the hundreds. The
# usual cure is to **standardise** each feature $j$ (column) to mean 0 and variance 1:
#
# $$ \hat x_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \varepsilon}}, \qquad
#    \mu_j = \frac1N \sum_i x_{ij}, \quad \sigma_j^2 = \frac1N \sum_i (x_{ij} - \mu_j)^2. $$
#
# $\varepsilon$ (here $10^{-5}$, PyTorch's `BatchNorm` default) keeps a constant feature (variance 0, like
# a pixel that is blank in every image) from dividing by zero. $\sigma_j^2$ is the *biased* variance (divide
# by $N$: `np.var`'s default), as `BatchNorm` uses to normalise.
#
# **The rule that matters:** $\mu$ and $\sigma$ come from the **training part only**, and exactly the same
# numbers are then applied to the validation and test parts. Computing them on all the data, or on the
# test set separately, lets information about the test set leak into training (a **data leak**), and the
# test score stops being an honest estimate of performance on new data. In deployment there is no
# "test-set mean" either: one example arrives at a time.

# %% [markdown] id="ex-normalize"
# ### Exercise 2 — `normalize` (2 points)
#
# Given `X_train` (N, D) and `X_other` (M, D), return `(X_train_normalised, X_other_normalised)`, both
# standardised per column with the mean and biased variance **of `X_train`**, and $\varepsilon$ = `eps`
# inside the square root. Keep the dtype (float32 in, float32 out).
#
# <details><summary>Hint 1</summary>
#
# Two statistics per column, both reduced over the examples (the first axis), both taken from `X_train`
# only; NumPy's variance divides by $N$ unless told otherwise, which is what is wanted here.
# </details>

# %% id="ch07_normalize" nbgrader={"solution": true}
def normalize(X_train, X_other, eps=1e-5):
    """(X_train, X_other) standardised per feature with the training data's mean and variance."""
    ### BEGIN SOLUTION
    mean = X_train.mean(axis=0)
    scale = np.sqrt(X_train.var(axis=0) + eps)
    return (X_train - mean) / scale, (X_other - mean) / scale
    ### END SOLUTION


# %% id="ch07_normalize_test" nbgrader={"grade": true, "locked": true, "points": 2}
# Case 1 by hand: means (2, 4), variances (1, 4). Then features in the hundreds, a constant feature
# (variance 0: only eps keeps it finite), eps = 0.01 on features whose variance is about 0.01 (so eps
# matters), and float32 in -> float32 out.
normalized = ("X_train_normalised", "X_other_normalised")
wide_range = np.random.default_rng(14).uniform(0, 300, size=(30, 5))
check(normalize, ref.normalize, [
    (np.array([[1.0, 2.0], [3.0, 6.0]]), np.array([[2.0, 8.0]])),
    (randn(20, 3, seed=12, scale=5.0) + 10, randn(6, 3, seed=13)),
    (wide_range, wide_range[:4] * 2),
    (np.column_stack([np.zeros(8), randn(8, seed=15)]), randn(3, 2, seed=16)),
    Inputs(randn(16, 4, seed=19, scale=0.1), randn(5, 4, seed=20, scale=0.1), eps=1e-2),
    (randn(12, 6, seed=21).astype(np.float32), randn(3, 6, seed=22).astype(np.float32)),
], output_names=normalized, hints=mistakes.normalize)
### BEGIN HIDDEN TESTS
check(normalize, ref.normalize, [
    (randn(9, 1, seed=17), randn(1, 1, seed=18)),                                  # one feature, one example
    Inputs(randn(10, 3, seed=23, scale=0.3), randn(4, 3, seed=24), eps=0.05),
    (randn(7, 2, seed=25, scale=50.0).astype(np.float32), randn(2, 2, seed=26).astype(np.float32)),
], output_names=normalized, hints=mistakes.normalize)
### END HIDDEN TESTS

# %% [markdown] id="normalize-pytorch"
# **In PyTorch**, `F.batch_norm` in evaluation mode normalises with the running statistics you give it —
# here the training set's — exactly as above (a `BatchNorm1d` layer learns those statistics during
# training and applies them at test time for the same reason). On the diabetes data:

# %% id="normalize-pytorch-code" tags=["demo"]
my_normalize = use_yours(normalize, "regularization.normalize")
features, target, feature_names = data.load_diabetes()
d_train, t_train, d_test, t_test = my_split(features, target, 0.2, seed=0)
mine_train, mine_test = my_normalize(d_train, d_test)
train_t = to_tensor(d_train)
theirs_test = to_numpy(F.batch_norm(to_tensor(d_test), train_t.mean(0), train_t.var(0, unbiased=False), training=False, eps=1e-5))
print("raw training means:   ", np.array2string(d_train.mean(0), precision=1, max_line_width=120))
print("raw training std devs:", np.array2string(d_train.std(0), precision=1, max_line_width=120))
print("normalised training means", np.abs(mine_train.mean(0)).max().round(12), "and std devs", mine_train.std(0).round(4))
print("test set, NumPy vs F.batch_norm: largest difference", np.abs(mine_test - theirs_test).max())
print("test-set means after normalising with TRAINING statistics (not exactly 0, and they should not be):",
      np.array2string(mine_test.mean(0), precision=2))


# %% [markdown] id="l2-theory"
# ## 4. L2 regularisation, alias weight decay
#
# Large weights let a network draw sharp, wiggly boundaries around individual training points. L2
# regularisation adds a penalty on the squared size of the weights to the data loss:
#
# $$ L = L_\text{data} + \frac{\lambda}{2} \sum_{l} \lVert W^{(l)} \rVert_F^2
#      = L_\text{data} + \frac{\lambda}{2} \sum_{l} \sum_{j,k} \big(W^{(l)}_{jk}\big)^2,
#    \qquad \frac{\partial L}{\partial W^{(l)}} = \frac{\partial L_\text{data}}{\partial W^{(l)}} + \lambda W^{(l)}. $$
#
# The factor $\tfrac12$ makes the gradient simply $\lambda W$. Only the **weights** are penalised: biases
# shift the units and do not make the function wiggly, and penalising them can hurt (common practice;
# PyTorch applies `weight_decay` to whatever parameters you give it, so the weights-only choice is made
# with *parameter groups*).
#
# The name *weight decay*: one gradient-descent step becomes
# $W \leftarrow W - \eta(\nabla L_\text{data} + \lambda W) = (1 - \eta\lambda)\,W - \eta \nabla L_\text{data}$ —
# every step shrinks the weights by the factor $1 - \eta\lambda$ before the data gradient acts.
# `torch.optim.SGD(..., weight_decay=λ)` and `torch.optim.Adam(..., weight_decay=λ)` add exactly $\lambda W$
# to the gradient, so they are this L2 penalty. (`torch.optim.AdamW` is different on purpose: it shrinks
# the weights *outside* Adam's per-parameter scaling, "decoupled" weight decay; with Adam, the two are not
# the same thing.)

# %% [markdown] id="ex-l2-penalty"
# ### Exercise 3 — `l2_penalty` (1 point)
#
# Return $\frac{\lambda}{2}\sum_l \lVert W^{(l)} \rVert^2$ (a number) for a params dict `{"W1", "b1", "W2", ...}`,
# with `lam` $=\lambda$. Penalise every weight matrix (keys starting with `"W"`), no bias. Float32 weights give a
# float32 penalty.

# %% id="ch07_l2_penalty" nbgrader={"solution": true}
def l2_penalty(params, lam):
    """(lam / 2) * sum of squared weights over W1, W2, ... (biases are not penalised)."""
    ### BEGIN SOLUTION
    return 0.5 * lam * sum(np.sum(W * W) for key, W in params.items() if key.startswith("W"))
    ### END SOLUTION


# %% id="ch07_l2_penalty_test" nbgrader={"grade": true, "locked": true, "points": 1}
# Case 1 by hand: 0.1 / 2 * (1 + 4 + 0 + 9) = 0.7 (the biases do not count). cases.mlp_params(sizes, seed) draws
# a network's weights and NON-zero biases (so that penalising them shows); 3 and 4 hidden layers, lam = 0, float32.
check(l2_penalty, ref.l2_penalty, [
    ({"W1": np.array([[1.0, -2.0], [0.0, 3.0]]), "b1": np.array([5.0, 5.0])}, 0.1),
    (cases.mlp_params([4, 3, 2], seed=1), 0.01),
    (cases.mlp_params([6, 5, 4, 3], seed=2), 1e-3),
    (cases.mlp_params([3, 8, 8, 8, 2], seed=4), 0.0),
    (cases.mlp_params([5, 4, 4, 4, 4, 2], seed=7), 0.2),
    ({k: v.astype(np.float32) for k, v in cases.mlp_params([4, 6, 2], seed=5).items()}, 0.05),
], hints=mistakes.l2_penalty)
### BEGIN HIDDEN TESTS
check(l2_penalty, ref.l2_penalty, [
    (cases.mlp_params([5, 1], seed=3), 0.3),                                    # one layer
    (cases.mlp_params([20, 30, 10], seed=6), 2.5),
    ({k: v.astype(np.float32) for k, v in cases.mlp_params([3, 7, 7, 2], seed=8).items()}, 0.4),
], hints=mistakes.l2_penalty)
### END HIDDEN TESTS

# %% [markdown] id="ex-l2-grad"
# ### Exercise 4 — `l2_grad` (2 points)
#
# `grads` holds the gradients of the data loss (the output of chapter 2's `mlp_backward`). Return a **new**
# dict with the gradients of data loss + penalty: $\lambda W$ added to each weight's gradient, the bias
# gradients unchanged. Do not change `grads` or `params` in place. Float32 in, float32 out.

# %% id="ch07_l2_grad" nbgrader={"solution": true}
def l2_grad(grads, params, lam):
    """A new gradient dict: lam * W added to each weight's gradient, the biases' gradients unchanged."""
    ### BEGIN SOLUTION
    return {key: g + lam * params[key] if key.startswith("W") else g.copy() for key, g in grads.items()}
    ### END SOLUTION


# %% id="ch07_l2_grad_test" nbgrader={"grade": true, "locked": true, "points": 2}
# Case 1 by hand: W1's gradient becomes [[10.1, -9.8]], b1's stays [3.0]. cases.grads_like(params, seed) draws
# random gradients shaped like params. Deeper networks, lam = 0, a large lam, float32.
p1, p2 = cases.mlp_params([3, 4, 2], seed=7), cases.mlp_params([5, 6, 6, 3], seed=9)
p4 = {k: v.astype(np.float32) for k, v in cases.mlp_params([4, 5, 3], seed=12).items()}
check(l2_grad, ref.l2_grad, [
    ({"W1": np.array([[1.0, 2.0]]), "b1": np.array([0.5])}, {"W1": np.array([[10.0, -10.0]]), "b1": np.array([3.0])}, 0.1),
    (cases.grads_like(p1, seed=8), p1, 0.01),
    (cases.grads_like(p2, seed=10), p2, 0.5),
    (cases.grads_like(p1, seed=14), p1, 0.0),
    (cases.grads_like(p2, seed=15), p2, 10.0),
    (cases.grads_like(p4, seed=16), p4, 0.05),
], hints=mistakes.l2_grad)
### BEGIN HIDDEN TESTS
p3 = cases.mlp_params([7, 1], seed=11)
p5 = {k: v.astype(np.float32) for k, v in cases.mlp_params([2, 9, 9, 9, 4], seed=18).items()}
check(l2_grad, ref.l2_grad, [
    (cases.grads_like(p3, seed=13), p3, 0.2),
    (cases.grads_like(p5, seed=19), p5, 0.3),
], hints=mistakes.l2_grad)
check(l2_grad, ref.l2_grad_by_weight_decay, [(cases.grads_like(p2, seed=17), p2, 0.3)], name="l2_grad vs SGD weight_decay")
### END HIDDEN TESTS

# %% [markdown] id="l2-pytorch"
# **In PyTorch.** One `torch.optim.SGD` step with learning rate 1 and `weight_decay=λ` on the weights
# (`0` on the biases) changes each parameter by exactly minus your `l2_grad`. And a whole training run
# agrees: the NumPy loop `fit_mlp(..., l2=λ)` (which calls your `l2_grad`) and PyTorch's
# `Adam([{"params": weights, "weight_decay": λ}, {"params": biases}])`, from the same initial weights
# with the same batches, end with the same parameters to rounding error (both in float64).

# %% id="l2-pytorch-code" tags=["demo"]
my_l2_grad = use_yours(l2_grad, "regularization.l2_grad")
p_demo = cases.mlp_params([4, 3, 2], seed=30)
g_demo = cases.grads_like(p_demo, seed=31)
by_decay = ref.l2_grad_by_weight_decay(g_demo, p_demo, 0.1)
print("one SGD(weight_decay) step vs your l2_grad:",
      max(np.abs(by_decay[k] - my_l2_grad(g_demo, p_demo, 0.1)[k]).max() for k in p_demo))
start = init_params([2, 16, 2], seed=1)
numpy_params = {k: v.copy() for k, v in start.items()}
fit_mlp(numpy_params, X_small, y_small, Adam(lr=0.01), epochs=5, batch_size=30, l2=0.01,
                 blocks={"l2_grad": my_l2_grad})
torch_params = demos.fit_torch_mlp_l2(start, X_small, y_small, l2=0.01, lr=0.01, epochs=5, batch_size=30)
print("10 Adam steps with L2, NumPy vs torch.optim.Adam(weight_decay): largest parameter difference",
      max(np.abs(numpy_params[k] - torch_params[k]).max() for k in start))


# %% [markdown] id="dropout-theory"
# ## 5. Dropout
#
# Dropout (Srivastava et al., 2014) switches off each hidden unit at random during training, with
# probability $p$, a new random choice for every example and every step. No unit can rely on a particular
# other unit being there, which discourages the co-adapted, memorising features that overfit; it is like
# training a huge ensemble of thinned networks that share their weights.
#
# **Inverted dropout** (what PyTorch and every modern library do) draws a mask $m$ with $m_{ij} = 1$ with
# probability $1 - p$ (keep) and $0$ with probability $p$ (drop), and scales the kept units up during training:
#
# $$ \text{train:}\quad Y = \frac{X \odot m}{1 - p}, \qquad \text{test:}\quad Y = X. $$
#
# The scaling keeps the expected value unchanged, $\mathbb E[Y] = X$, so at test time the layer is simply
# the identity (`model.eval()` in PyTorch) and predictions are deterministic. (The original paper scaled by
# $1-p$ at test time instead; the result is the same, the inverted form keeps the test path free.)
#
# The backward pass follows from $Y$ being $X$ times a constant per entry:
#
# $$ \frac{\partial L}{\partial X} = \frac{\partial L}{\partial Y} \odot \frac{m}{1 - p}. $$
#
# The mask is random; to compare with PyTorch, your functions take it as an argument. (The course's
# `fit_mlp(..., dropout=p)` draws the masks with a seeded generator and puts dropout after every hidden
# activation.) Note $p$ is the probability to **drop** — PyTorch's convention; Keras's `Dropout(rate)` too,
# but some texts use the keep probability.

# %% [markdown] id="ex-dropout-forward"
# ### Exercise 5 — `dropout_forward` (2 points)
#
# Return $X \odot m / (1 - p)$ for `X` of any shape, a boolean `mask` of the same shape (True = keep) and
# `p` in $[0, 1)$. Float32 in, float32 out.

# %% id="ch07_dropout_forward" nbgrader={"solution": true}
def dropout_forward(X, mask, p):
    """Inverted dropout (training mode): X * mask / (1 - p)."""
    ### BEGIN SOLUTION
    return X * mask / (1.0 - p)
    ### END SOLUTION


# %% id="ch07_dropout_forward_test" nbgrader={"grade": true, "locked": true, "points": 2}
# Case 1 by hand: [4/3, 0, 4, 16/3]. cases.keep_mask(shape, p, seed) draws a mask keeping each unit with
# probability 1 - p. Then p = 0 (the identity), a 3-D input with heavy dropout, and float32.
check(dropout_forward, ref.dropout_forward, [
    (np.array([[1.0, 2.0, 3.0, 4.0]]), np.array([[True, False, True, True]]), 0.25),
    (randn(5, 6, seed=23), cases.keep_mask((5, 6), 0.5, seed=24), 0.5),
    (randn(4, 7, seed=26), np.ones((4, 7), dtype=bool), 0.0),
    (randn(3, 4, 5, seed=27), cases.keep_mask((3, 4, 5), 0.9, seed=28), 0.9),
    (randn(6, 3, seed=31).astype(np.float32), cases.keep_mask((6, 3), 0.4, seed=32), 0.4),
], hints=mistakes.dropout_forward)
# PyTorch's own dropout: F.dropout under a seed draws a mask; your function with that mask must give its output.
check(cases.dropout_with_torch_mask(dropout_forward), cases.torch_dropout_output, [(randn(8, 10, seed=25), 0.3, 0)],
      name="dropout_forward vs F.dropout")
### BEGIN HIDDEN TESTS
check(dropout_forward, ref.dropout_forward, [
    (randn(1, 9, seed=29), cases.keep_mask((1, 9), 0.2, seed=30), 0.2),                   # batch of one
    (randn(2, 5, 3, seed=33).astype(np.float32), cases.keep_mask((2, 5, 3), 0.7, seed=34), 0.7),
], hints=mistakes.dropout_forward)
check(cases.dropout_with_torch_mask(dropout_forward), cases.torch_dropout_output, [(randn(2, 3, 16, seed=35), 0.6, 1)],
      name="dropout_forward vs F.dropout")
### END HIDDEN TESTS

# %% [markdown] id="ex-dropout-backward"
# ### Exercise 6 — `dropout_backward` (2 points)
#
# Given `dout` $=\partial L/\partial Y$ and the forward pass's `mask` and `p`, return $\partial L/\partial X$.
# The test compares with PyTorch's autograd through the same computation. Float32 in, float32 out.

# %% id="ch07_dropout_backward" nbgrader={"solution": true}
def dropout_backward(dout, mask, p):
    """dL/dX of inverted dropout: dout * mask / (1 - p)."""
    ### BEGIN SOLUTION
    return dout * mask / (1.0 - p)
    ### END SOLUTION


# %% id="ch07_dropout_backward_test" nbgrader={"grade": true, "locked": true, "points": 2}
# Case 1 by hand: [2, 0, 2, 0]. Then random cases, p = 0, a 3-D input, float32.
check(dropout_backward, ref.dropout_backward, [
    (np.array([[1.0, 1.0, 1.0, 1.0]]), np.array([[True, False, True, False]]), 0.5),
    (randn(5, 6, seed=34), cases.keep_mask((5, 6), 0.3, seed=35), 0.3),
    (randn(10, 4, seed=36), cases.keep_mask((10, 4), 0.5, seed=37), 0.5),
    (randn(4, 4, seed=42), np.ones((4, 4), dtype=bool), 0.0),
    (randn(2, 3, 4, seed=38), cases.keep_mask((2, 3, 4), 0.75, seed=39), 0.75),
    (randn(7, 2, seed=43).astype(np.float32), cases.keep_mask((7, 2), 0.5, seed=44), 0.5),
], hints=mistakes.dropout_backward)
### BEGIN HIDDEN TESTS
check(dropout_backward, ref.dropout_backward, [
    (randn(1, 5, seed=40), cases.keep_mask((1, 5), 0.1, seed=41), 0.1),
    (randn(3, 2, 5, seed=45).astype(np.float32), cases.keep_mask((3, 2, 5), 0.2, seed=46), 0.2),
], hints=mistakes.dropout_backward)
### END HIDDEN TESTS

# %% [markdown] id="dropout-pytorch"
# **In PyTorch**, `F.dropout(x, p, training=True)` (or an `nn.Dropout(p)` layer) draws its own mask. Read
# the mask off its output and your function reproduces the output exactly; the mean is kept (on average);
# and in evaluation mode the layer does nothing:

# %% id="dropout-pytorch-code" tags=["demo"]
my_dropout = use_yours(dropout_forward, "regularization.dropout_forward")
x = randn(1000, 100, seed=45) + 1.0
torch_out, torch_mask = ref.torch_dropout(x, 0.5, seed=0)
print(f"F.dropout kept {torch_mask.mean():.1%} of the units; your dropout_forward with that mask differs by",
      np.abs(my_dropout(x, torch_mask, 0.5) - torch_out).max())
print(f"mean of x {x.mean():.4f}, mean after dropout {torch_out.mean():.4f} (kept units scaled by 1/(1-p) = 2)")
layer = torch.nn.Dropout(0.5).eval()
print("nn.Dropout in eval mode returns its input unchanged:", torch.equal(layer(to_tensor(x)), to_tensor(x)))


# %% [markdown] id="early-theory"
# ## 6. Early stopping
#
# The validation curve of section 1 has a lowest point; after it, more training only overfits. **Early
# stopping** watches the validation loss after every epoch, remembers the best epoch (and its weights),
# and stops when the loss has not improved for `patience` epochs in a row; the weights of the best epoch
# are the result. Patience trades time against noise: validation curves wiggle, and a patience of 1 would
# stop at the first wiggle.
#
# Precisely, for losses $v_0, v_1, \dots$ seen one epoch at a time:
#
# * epoch $t$ **improves** if $v_t$ is strictly smaller than every earlier loss (a tie is no improvement);
#   `best_epoch` is the last epoch that improved;
# * training **stops** at the first epoch $t$ with $t - \text{best\_epoch} \ge$ `patience`;
#   if that never happens, it runs to the last epoch.

# %% [markdown] id="ex-early"
# ### Exercise 7 — `early_stopping` (3 points)
#
# Given the whole validation curve `val_losses` (a list or array) and `patience` $\ge 1$, return
# `(best_epoch, stop_epoch)` as integers: what the rule above decides, looking only at the epochs up to
# `stop_epoch`. Example: losses `[5, 3, 4, 4, 2]` with patience 2 stop at epoch 3 (two epochs after the best,
# epoch 1), so `(1, 3)`: the 2 at epoch 4 is never seen. The curve may be a list or an array, float64 or float32. PyTorch has no early-stopping function; the
# reference computes the same rule with tensor operations (`torch.cummin`, `torch.cummax`) instead of a loop.

# %% id="ch07_early_stopping" nbgrader={"solution": true}
def early_stopping(val_losses, patience):
    """(best_epoch, stop_epoch) for a validation curve seen one epoch at a time."""
    ### BEGIN SOLUTION
    best, best_loss = 0, np.inf
    for epoch, loss in enumerate(val_losses):
        if loss < best_loss:
            best, best_loss = epoch, loss
        elif epoch - best >= patience:
            return best, epoch
    return best, len(val_losses) - 1
    ### END SOLUTION


# %% id="ch07_early_stopping_test" nbgrader={"grade": true, "locked": true, "points": 3}
# Cases 1-5 by hand: (1, 3): the 2.0 at epoch 4 is never seen; always improving: (2, 2); never improves after
# epoch 0: (0, 3); a tie is no improvement: (1, 4); patience longer than training: (3, 4).
# cases.noisy_curve(n, seed) is a curve that falls, wiggles and rises, like a real validation curve.
epochs_out = ("best_epoch", "stop_epoch")
check(early_stopping, ref.early_stopping, [
    Inputs([5.0, 3.0, 4.0, 4.0, 2.0], patience=2),
    Inputs([3.0, 2.0, 1.0], patience=1),
    Inputs([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], patience=3),
    Inputs([2.0, 1.0, 1.0, 1.0, 1.5], patience=3),
    Inputs([4.0, 3.0, 3.5, 2.0, 2.5], patience=10),
    Inputs(cases.noisy_curve(60, seed=46), patience=5),
    Inputs(cases.noisy_curve(80, seed=47), patience=10),
    Inputs(cases.noisy_curve(200, seed=48).astype(np.float32), patience=20),
], output_names=epochs_out, hints=mistakes.early_stopping)
### BEGIN HIDDEN TESTS
check(early_stopping, ref.early_stopping, [
    Inputs([0.7], patience=1),                         # one epoch
    Inputs(np.array([1.0, 0.9, 0.95, 0.97, 0.8, 0.85, 0.9, 0.99, 1.2]), patience=3),  # an array; a late improvement
    Inputs(cases.noisy_curve(120, seed=49), patience=1),
    Inputs(cases.noisy_curve(90, seed=50).astype(np.float32), patience=7),
], output_names=epochs_out, hints=mistakes.early_stopping)
### END HIDDEN TESTS

# %% id="plot-early" tags=["demo"]
# Plot 2: the baseline's validation curve from section 1, and where early stopping stops it for three patiences.
my_early_stopping = use_yours(early_stopping, "regularization.early_stopping")
fig, ax = plt.subplots(figsize=(7, 3.6))
ax.plot(baseline["val_loss"], color="tab:orange", label="validation loss (2-64-64-2, 60 points)")
ax.plot(baseline["train_loss"], "--", color="tab:blue", label="training loss")
for patience, color in [(5, "tab:red"), (20, "tab:purple"), (50, "tab:green")]:
    best_epoch, stop_epoch = my_early_stopping(baseline["val_loss"], patience)
    torch_best, torch_stop = ref.early_stopping(baseline["val_loss"], patience)
    ax.axvline(stop_epoch, color=color, ls=":", label=f"patience {patience}: stop at {stop_epoch}, keep epoch {best_epoch}")
    ax.plot([best_epoch], [baseline["val_loss"][best_epoch]], "o", color=color)
    print(f"patience {patience:2d}: yours (best, stop) = ({best_epoch}, {stop_epoch}); PyTorch tensor version = ({torch_best}, {torch_stop})")
ax.set_xlabel("epoch")
ax.set_ylabel("loss")
ax.set_ylim(0, 1)
ax.legend(fontsize=8)
ax.set_title("early stopping on the validation curve")
plt.show()

# %% [markdown] id="compare-theory"
# ## 7. What reduces overfitting, measured
#
# Now every cure on the same problem as in section 1 (60 training points, 200 epochs, the same initial
# weights and batches). The course's training loop `fit_mlp` does the work, with **your** `l2_grad`,
# `dropout_forward`, `dropout_backward` and `early_stopping` plugged in through `blocks=`:
#
# * L2 with $\lambda = 0.01$; dropout with $p = 0.5$ after both hidden layers; early stopping with patience 50;
# * 10 times more data (600 points; batches of 300, so the number of Adam steps stays the same);
# * a smaller network, 2-8-8-2 (114 parameters), and a bigger one, 2-128-128-2 (17,154 parameters).
#
# For each we measure the training and validation loss of the final weights (for early stopping: the
# weights it kept).

# %% id="compare-runs" tags=["demo"]
my_blocks = {"l2_grad": my_l2_grad, "dropout_forward": my_dropout,
             "dropout_backward": use_yours(dropout_backward, "regularization.dropout_backward"),
             "early_stopping": my_early_stopping}
runs = {
    "baseline 2-64-64-2": (baseline_params, baseline),
    "L2, λ = 0.01": train_moons(l2=0.01, blocks=my_blocks),
    "dropout, p = 0.5": train_moons(dropout=0.5, blocks=my_blocks),
    "early stopping, patience 50": train_moons(patience=50, blocks=my_blocks),
    "10x more data": train_moons(X=X_moons[:600], y=y_moons[:600], batch_size=300),
    "smaller: 2-8-8-2": train_moons(sizes=(2, 8, 8, 2)),
    "bigger: 2-128-128-2": train_moons(sizes=(2, 128, 128, 2)),
}
gaps = {}
for name, (params, history) in runs.items():
    X_fit, y_fit = (X_moons[:600], y_moons[:600]) if name == "10x more data" else (X_small, y_small)
    on_train = evaluate(params, X_fit, y_fit)
    on_val = evaluate(params, X_moons_val, y_moons_val)
    gaps[name] = (on_train["loss"], on_val["loss"])
    print(f"{name:28s} training loss {on_train['loss']:.3f}  validation loss {on_val['loss']:.3f}  "
          f"gap {on_val['loss'] - on_train['loss']:.3f}  validation accuracy {on_val['accuracy']:.1%}")

# %% id="plot-compare" tags=["demo"]
# Plot 3: training vs validation curves with and without regularisation; plot 4: the gaps of every setting.
fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
training_plots.plot_train_val({name: runs[name][1] for name in list(runs)[:4]}, ax=axes[0],
                              title="with and without regularisation (dot: the epoch early stopping kept)")
axes[0].set_ylim(0, 0.8)
training_plots.plot_gaps(gaps, ax=axes[1], title="final training vs validation loss")
plt.tight_layout()
plt.show()

# %% id="plot-regions" tags=["demo"]
# Plot 5: what the networks learned. The unregularised one bends its boundary around single noisy points.
fig, axes = plt.subplots(1, 4, figsize=(15, 3.6))
for ax, name in zip(axes, ["baseline 2-64-64-2", "L2, λ = 0.01", "smaller: 2-8-8-2", "bigger: 2-128-128-2"]):
    params = runs[name][0]
    predict = lambda points, params=params: mlp_forward(points, params)[0].argmax(axis=1)
    plots.plot_decision_regions(predict, X_small, y_small, ax=ax, title=name, resolution=120)
plt.tight_layout()
plt.show()

# %% [markdown] id="compare-comment"
# Read the numbers above (they are the same on every run: everything is seeded):
#
# * without help, the training loss goes to almost 0 while the validation loss climbs far above its minimum;
# * L2, dropout, early stopping, more data and a smaller network all **shrink the gap** and give a lower
#   validation loss than the baseline's final one;
# * the **bigger** network does not: its training loss is as low as ever and its gap is at least as large as
#   the baseline's. Here, extra capacity is what overfitting feeds on; the source article's advice to add
#   complexity against overfitting is wrong as a cure.
#
# Two honest caveats. The cures have their own knobs, tuned on the validation set: too much L2 underfits
# (try $\lambda = 0.03$ or $0.1$ in the cell above and watch the training loss), and too little patience
# stops on a wiggle (plot 2). And this is one small experiment in the classical regime of section 1's note:
# on large datasets very large networks often generalise best of all, partly thanks to data and these cures,
# partly thanks to the implicit regularisation of gradient descent beyond the interpolation threshold
# (double descent) — an effect of size that is real but not one to count on as a cure.

# %% [markdown] id="loop-theory"
# ## 8. Your own training loop
#
# Until now the course's `fit_mlp` did the training. Every piece of it is yours by now; the loop that ties them
# together is the last one. One **epoch** visits every training example once, in mini-batches, in a new
# seeded order each epoch; one **step** is
#
# 1. forward: the batch's logits, keeping the caches (chapter 1's `mlp_forward`);
# 2. the loss of the batch (chapter 4's `cross_entropy`), recorded — it measures the weights *before* the step;
# 3. backward: $\partial L / \partial\,\text{logits}$ (chapter 4's `cross_entropy_grad`), then every parameter's
#    gradient (chapter 2's `mlp_backward`);
# 4. the optimizer's update (chapter 6: `optimizer.step(params, grads)` changes `params` in place).
#
# After each epoch, the validation loss (when there is validation data) and, with a `patience`, your
# `early_stopping` of section 6 decides whether to stop — and then the weights of the best epoch are the result,
# not the last ones.
#
# PyTorch writes the same loop by hand too (there is no `fit` in `torch.nn`):
#
# ```python
# for epoch in range(epochs):
#     for X_batch, y_batch in loader:            # the seeded batch order
#         optimizer.zero_grad()                  # autograd adds into .grad: clear it first
#         loss = F.cross_entropy(model(X_batch), y_batch)
#         loss.backward()
#         optimizer.step()
# ```
#
# The test runs your loop and exactly this PyTorch loop (`nn.Sequential`, `torch.optim.SGD` or `Adam`) from the
# same initial weights, on the same batches, in float64, and compares **every step's loss**, the validation
# losses, the best epoch and the final weights.

# %% [markdown] id="ex-train-mlp"
# ### Exercise 8 — `train_mlp` (4 points)
#
# Train the ReLU MLP `params` (a dict W1, b1, ..., changed in place) on `(X, y)` with cross-entropy:
#
# * epoch `e` (0, 1, ...) visits the batches of `minibatches(X, y, batch_size, seed=seed + e)` (chapter 3's, last
#   partial batch included);
# * every step appends the batch's mean loss, before the update, to `history["loss"]`, then updates with
#   `optimizer.step(params, grads)`;
# * with `validation = (X_val, y_val)`: after each epoch, append the loss on it to `history["val_loss"]`;
# * with `patience` (which comes with validation data): after each epoch, `early_stopping(history["val_loss"],
#   patience)` (yours) gives the best epoch so far; store it as `history["best_epoch"]`, keep a copy of the weights
#   of that epoch, and stop after the epoch where `epoch - best_epoch >= patience`; then put the best epoch's
#   weights back into `params`.
#
# Return `history`. The blocks to use are imported for you below (they are allowed in this exercise; the test
# forbids any other use of the course's solved code). Everything here is float64.
#
# <details><summary>Hint 1</summary>
#
# Two nested loops, epochs outside, batches inside; the validation loss and the early-stopping decision belong
# to the outer loop, after the inner one.
# </details>
#
# <details><summary>Hint 2</summary>
#
# "Keep a copy": `params` is changed in place by every step, so a dict that refers to the same arrays changes
# with them; copy each array when its epoch is the best so far. At the end, write the copies back into
# `params` (the caller's dict: it must hold the best weights when `train_mlp` returns).
# </details>

# %% id="ch07_train_mlp" nbgrader={"solution": true}
from dlcourse.solved.backprop import mlp_backward
from dlcourse.solved.gradient_descent import minibatches
from dlcourse.solved.losses import cross_entropy, cross_entropy_grad


def train_mlp(params, X, y, optimizer, epochs, batch_size, seed=0, validation=None, patience=None):
    """Train the MLP params in place; return {"loss": per step, "val_loss": per epoch, "best_epoch"}."""
    ### BEGIN SOLUTION
    history = {"loss": []}
    if validation is not None:
        history["val_loss"] = []
    best_params = None
    for epoch in range(epochs):
        for X_batch, y_batch in minibatches(X, y, batch_size, seed=seed + epoch):
            logits, caches = mlp_forward(X_batch, params)
            history["loss"].append(cross_entropy(logits, y_batch))
            grads = mlp_backward(cross_entropy_grad(logits, y_batch), caches, params)
            optimizer.step(params, grads)
        if validation is not None:
            X_val, y_val = validation
            history["val_loss"].append(cross_entropy(mlp_forward(X_val, params)[0], y_val))
        if patience is not None:
            best_epoch = early_stopping(history["val_loss"], patience)[0]
            history["best_epoch"] = best_epoch
            if best_epoch == epoch:
                best_params = {key: value.copy() for key, value in params.items()}
            if epoch - best_epoch >= patience:
                break
    if best_params is not None:
        for key, value in best_params.items():
            params[key][...] = value
    return history
    ### END SOLUTION


# %% id="ch07_train_mlp_test" nbgrader={"grade": true, "locked": true, "points": 4}
# cases.run_train_mlp(train_mlp) runs your loop with the course's NumPy optimizer named in the case ("sgd" or
# "adam", with its options) on a copy of the parameters; ref.train_mlp runs the PyTorch loop. Cases: one hidden
# layer with SGD and a partial last batch; three hidden layers with Adam, another seed and validation data; early
# stopping that triggers (random labels: the validation loss soon rises), which also uses your early_stopping.
X_loop, y_loop = cases_training.classification_problem(10, 3, 3, seed=1)
validation_loop = cases_training.classification_problem(8, 3, 3, seed=5)
loop_hints = mistakes_training.train_mlp
check(cases_training.run_train_mlp(train_mlp), ref_training.train_mlp, [
    Inputs(cases_training.mlp_params([3, 5, 3], seed=2), X_loop, y_loop, ("sgd", {"lr": 0.1}), 2, 4),
    Inputs(cases_training.mlp_params([3, 6, 6, 6, 3], seed=3), X_loop, y_loop, ("adam", {"lr": 0.01}), 3, 4, seed=5,
           validation=validation_loop),
    Inputs(cases_training.mlp_params([3, 16, 3], seed=4), X_loop, y_loop, ("adam", {"lr": 0.05}), 30, 5,
           validation=validation_loop, patience=3),
], name="train_mlp", hints=loop_hints, allow=cases_training.OFFERED)
### BEGIN HIDDEN TESTS
X_loop2, y_loop2 = cases_training.classification_problem(23, 4, 5, seed=7)
validation_loop2 = cases_training.classification_problem(9, 4, 5, seed=8)
check(cases_training.run_train_mlp(train_mlp), ref_training.train_mlp, [
    Inputs(cases_training.mlp_params([4, 7, 5], seed=9), X_loop2, y_loop2, ("sgd", {"lr": 0.05, "momentum": 0.9}), 3, 6,
           seed=2),
    Inputs(cases_training.mlp_params([4, 8, 8, 5], seed=10), X_loop2, y_loop2, ("adam", {"lr": 0.03}), 25, 8,
           validation=validation_loop2, patience=2),
], name="train_mlp", hints=loop_hints, allow=cases_training.OFFERED)
### END HIDDEN TESTS

# %% id="loop-pytorch" tags=["demo"]
# Your loop beside PyTorch's hand-written one (nn.Sequential, torch.optim.Adam), from the same weights, on the moons
# of section 1: 3 epochs of 4 steps each, float64. The losses agree step for step, up to rounding.
my_train_mlp = use_yours(train_mlp, "training.train_mlp")
start_loop = init_params([2, 16, 16, 2], seed=3)
mine_loop = my_train_mlp({k: v.copy() for k, v in start_loop.items()}, X_small, y_small, Adam(lr=0.01), 3, 16)
theirs_loop = ref_training.train_mlp(start_loop, X_small, y_small, ("adam", {"lr": 0.01}), 3, 16)
for step, (a, b) in enumerate(zip(mine_loop["loss"], theirs_loop["loss"])):
    print(f"step {step:2d}: NumPy {a:.12f}  PyTorch {b:.12f}  difference {abs(a - b):.1e}")


# %% [markdown] id="bn-theory"
# ## 9. Batch normalisation
#
# Section 3 standardised the *inputs* once, with the training set's statistics. **Batch normalisation**
# (Ioffe & Szegedy, 2015) does the same inside the network, to the pre-activations of a layer, at every step,
# with the statistics of the current mini-batch — and then lets the network undo it where that helps, with a
# learned scale $\gamma$ and shift $\beta$ per feature:
#
# $$ \mu = \frac1N \sum_n x_n, \quad \sigma^2 = \frac1N \sum_n (x_n - \mu)^2, \quad
#    \hat x_n = \frac{x_n - \mu}{\sqrt{\sigma^2 + \varepsilon}}, \quad y_n = \gamma \odot \hat x_n + \beta . $$
#
# Each feature's inputs then keep a steady scale however the earlier layers change, which lets deep networks
# train with larger learning rates. Two modes:
#
# * **training** (`model.train()`): normalise with the batch's $\mu, \sigma^2$ (the *biased* variance), and update
#   running estimates, $r_\mu \leftarrow (1 - m)\, r_\mu + m\, \mu$ and $r_{\sigma^2} \leftarrow (1 - m)\, r_{\sigma^2} + m\,
#   \tfrac{N}{N-1} \sigma^2$ — PyTorch's `momentum` $m$ (0.1 by default) weighs the **new** batch, and the running
#   variance uses the *unbiased* estimate;
# * **evaluation** (`model.eval()`): normalise with the running estimates instead, so that a prediction does not
#   depend on the other examples of the batch; nothing is updated.
#
# **Backward** (training mode). $\mu$ and $\sigma^2$ depend on every $x_n$ of the batch, so the gradient has three
# paths: through $\hat x_n$ directly, through $\mu$ and through $\sigma^2$. With $\delta \hat x = \delta y \odot \gamma$,
# summing the three gives, per feature,
#
# $$ \frac{\partial L}{\partial x_n} = \frac{1}{N \sqrt{\sigma^2 + \varepsilon}} \Big( N\, \delta\hat x_n - \sum_k \delta\hat x_k
#    - \hat x_n \sum_k \delta\hat x_k\, \hat x_k \Big), \qquad
#    \frac{\partial L}{\partial \gamma} = \sum_n \delta y_n \odot \hat x_n, \qquad \frac{\partial L}{\partial \beta} = \sum_n \delta y_n . $$

# %% [markdown] id="ex-bn-forward"
# ### Exercise 9 — `batchnorm_forward` (3 points)
#
# For `X` (N, D), `gamma`, `beta`, `running_mean`, `running_var` (each (D,)), the flag `training`, `momentum` and
# `eps`, return `(out, new_running_mean, new_running_var)` exactly as `nn.BatchNorm1d(D, eps=eps,
# momentum=momentum)` computes them in that mode (in evaluation mode the running statistics come back unchanged).
# Do not change the input arrays. Float32 in, float32 out.

# %% id="ch07_batchnorm_forward" nbgrader={"solution": true}
def batchnorm_forward(X, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    """nn.BatchNorm1d on X (N, D): (output, new running_mean, new running_var)."""
    ### BEGIN SOLUTION
    if training:
        n = X.shape[0]
        mean, var = X.mean(axis=0), X.var(axis=0)
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    else:
        mean, var = running_mean, running_var
    out = gamma * (X - mean) / np.sqrt(var + eps) + beta
    return out, running_mean, running_var
    ### END SOLUTION


# %% id="ch07_batchnorm_forward_test" nbgrader={"grade": true, "locked": true, "points": 3}
# cases.batchnorm_inputs(N, D, seed) draws X with means far from 0, gamma and beta far from (1, 0), and running
# statistics that differ from the batch's. Training and evaluation mode, momentum and eps varied, a batch of two,
# inputs around 1000, float32.
bn_outputs = ("out", "running_mean", "running_var")
check(batchnorm_forward, ref.batchnorm_forward, [
    Inputs(*cases.batchnorm_inputs(8, 3, seed=60)),
    Inputs(*cases.batchnorm_inputs(8, 3, seed=60), training=False),
    Inputs(*cases.batchnorm_inputs(5, 4, seed=61), momentum=0.3, eps=1e-2),
    Inputs(*cases.batchnorm_inputs(2, 3, seed=62)),                                    # a batch of two
    Inputs(*cases.batchnorm_inputs(6, 2, seed=63, offset=1e3)),                        # far from 0
    Inputs(*cases.batchnorm_inputs(7, 5, seed=64, dtype=np.float32), momentum=0.2),
], output_names=bn_outputs, hints=mistakes.batchnorm_forward)
### BEGIN HIDDEN TESTS
check(batchnorm_forward, ref.batchnorm_forward, [
    Inputs(*cases.batchnorm_inputs(16, 6, seed=65), training=False, eps=1e-3),
    Inputs(*cases.batchnorm_inputs(3, 1, seed=66), momentum=0.9),
    Inputs(*cases.batchnorm_inputs(9, 4, seed=67, dtype=np.float32), training=False),
], output_names=bn_outputs, hints=mistakes.batchnorm_forward)
### END HIDDEN TESTS

# %% [markdown] id="ex-bn-backward"
# ### Exercise 10 — `batchnorm_backward` (3 points)
#
# Given `dout` $= \partial L/\partial y$ (N, D), the forward pass's input `X`, `gamma` and `eps`, return
# `(dX, dgamma, dbeta)` for training mode (batch statistics), as autograd computes them through `F.batch_norm`.
# Float32 in, float32 out.
#
# <details><summary>Hint 1</summary>
#
# Recompute the batch's $\hat x$ and $1/\sqrt{\sigma^2 + \varepsilon}$ from `X` first; every term of the formula is then
# an element-wise product or a sum over the batch axis (axis 0).
# </details>

# %% id="ch07_batchnorm_backward" nbgrader={"solution": true}
def batchnorm_backward(dout, X, gamma, eps=1e-5):
    """(dX, dgamma, dbeta) of batchnorm_forward in training mode (batch statistics), given dL/d(output)."""
    ### BEGIN SOLUTION
    n = X.shape[0]
    inv_std = 1.0 / np.sqrt(X.var(axis=0) + eps)
    X_hat = (X - X.mean(axis=0)) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * X_hat).sum(axis=0)
    dX_hat = dout * gamma
    dX = inv_std / n * (n * dX_hat - dX_hat.sum(axis=0) - X_hat * (dX_hat * X_hat).sum(axis=0))
    return dX, dgamma, dbeta
    ### END SOLUTION


# %% id="ch07_batchnorm_backward_test" nbgrader={"grade": true, "locked": true, "points": 3}
# The same kinds of input as the forward pass's: eps varied, a batch of two, inputs around 1000, float32.
bn_grads = ("dX", "dgamma", "dbeta")
check(batchnorm_backward, ref.batchnorm_backward, [
    Inputs(randn(8, 3, seed=70), *cases.batchnorm_inputs(8, 3, seed=60)[:2]),
    Inputs(randn(5, 4, seed=71), *cases.batchnorm_inputs(5, 4, seed=61)[:2], eps=1e-2),
    Inputs(randn(2, 3, seed=72), *cases.batchnorm_inputs(2, 3, seed=62)[:2]),
    Inputs(randn(6, 2, seed=73), *cases.batchnorm_inputs(6, 2, seed=63, offset=1e3)[:2]),
    Inputs(randn(7, 5, seed=74).astype(np.float32), *cases.batchnorm_inputs(7, 5, seed=64, dtype=np.float32)[:2]),
], output_names=bn_grads, hints=mistakes.batchnorm_backward)
### BEGIN HIDDEN TESTS
check(batchnorm_backward, ref.batchnorm_backward, [
    Inputs(randn(16, 6, seed=75), *cases.batchnorm_inputs(16, 6, seed=65)[:2], eps=1e-3),
    Inputs(randn(9, 4, seed=76).astype(np.float32), *cases.batchnorm_inputs(9, 4, seed=67, dtype=np.float32)[:2]),
], output_names=bn_grads, hints=mistakes.batchnorm_backward)
### END HIDDEN TESTS

# %% id="bn-pytorch" tags=["demo"]
# nn.BatchNorm1d over a few training steps and then in eval mode, beside your forward pass with the same numbers.
my_batchnorm = use_yours(batchnorm_forward, "regularization.batchnorm_forward")
bn = torch.nn.BatchNorm1d(3, dtype=torch.float64)
running_mean, running_var = np.zeros(3), np.ones(3)
rng_bn = np.random.default_rng(0)
for step in range(5):
    X_bn = rng_bn.normal(5.0, 2.0, size=(16, 3))
    out_mine, running_mean, running_var = my_batchnorm(X_bn, np.ones(3), np.zeros(3), running_mean, running_var)
    out_torch = to_numpy(bn(torch.as_tensor(X_bn)).detach())
print("after 5 training steps, running_mean: yours", running_mean.round(4), " PyTorch", to_numpy(bn.running_mean).round(4))
bn.eval()
X_bn = rng_bn.normal(5.0, 2.0, size=(4, 3))
out_mine = my_batchnorm(X_bn, np.ones(3), np.zeros(3), running_mean, running_var, training=False)[0]
print("eval mode, largest difference of the outputs:", np.abs(out_mine - to_numpy(bn(torch.as_tensor(X_bn)).detach())).max())

# %% id="bn-deep-plot" tags=["demo"]
# Plot 6: a deep network (10 hidden ReLU layers of 64 units) on the digits, plain SGD with the same learning rate,
# the same initial weights and batches, with and without a BatchNorm1d after every hidden linear layer (PyTorch).
# Without it, the signal shrinks from layer to layer at PyTorch's default initialisation and SGD barely moves the
# loss from log(10) = 2.30 in these few epochs; with it, every layer's inputs keep a unit scale and the loss falls.
bn_X, bn_y = my_normalize(digit_images.reshape(len(digit_images), -1), digit_images[:1].reshape(1, -1))[0], digit_labels
deep_curves = {label: demos.deep_mlp_losses(bn_X, bn_y, batch_norm=flag)
               for label, flag in [("without batch normalisation", False), ("with BatchNorm1d", True)]}
plots.plot_curves(deep_curves, xlabel="SGD step", ylabel="training loss (mini-batch)",
                  title="a 10-hidden-layer MLP on the digits, SGD lr 0.05")
plt.show()
print({label: round(float(np.mean(curve[-10:])), 3) for label, curve in deep_curves.items()}, "(mean of the last 10 steps)")

# %% [markdown] id="capstone-theory"
# ## 10. Capstone — worked example E1: the MLP 784-512-10, from scratch and in PyTorch
#
# The source article's classic: an MLP with one hidden layer of 512 ReLU units and a softmax output over 10
# digits, trained with categorical cross-entropy and Adam for **10 epochs** with **batches of 32**. Here it
# is built entirely from the course's pieces: your split and normalisation (sections 2–3), chapter 1's
# initialisation and forward pass, chapter 2's backward pass, chapter 4's cross-entropy (softmax folded in),
# chapter 3's mini-batches and chapter 6's Adam, in **your** loop `train_mlp` (section 8). Next to it, the same network in
# PyTorch (`nn.Sequential(Linear, ReLU, Linear)`, `torch.optim.Adam`, float32 as usual, on the GPU when
# there is one), starting from the **same initial weights** and seeing the **same batches**.
#
# Offline the data are the 1,797 shipped 8x8 digits (so the network is 64-512-10): 80 % for training,
# 20 % held out as the test set, which is used once, at the end. With a network and `DATASET=mnist`
# the same cells train the article's 784-512-10 on MNIST's 60,000 training images and report accuracy on
# its 10,000 test images (the NumPy run then takes minutes on a CPU; nothing else changes).

# %% id="capstone-data" tags=["demo"]
DATASET = os.environ.get("DATASET", "digits").strip().lower()


def digits_split():
    """The shipped digits, split by your train_val_split: 80 % training, 20 % test."""
    return my_split(digit_images, digit_labels, 0.2, seed=0)


if DATASET == "mnist":
    dataset_name, (images_train, labels_train, images_test, labels_test) = load_or_fallback(
        load_mnist, digits_split, name="MNIST", fallback_name="digits")
else:
    dataset_name, (images_train, labels_train, images_test, labels_test) = "digits", digits_split()
X_train, X_test = my_normalize(images_train.reshape(len(images_train), -1), images_test.reshape(len(images_test), -1))
sizes = [X_train.shape[1], 512, 10]
print(f"{dataset_name}: {len(X_train)} training and {len(X_test)} test images of {images_train.shape[1:]} pixels; "
      f"MLP {'-'.join(map(str, sizes))} with {count_params(sizes):,} parameters")

# %% id="capstone-train" tags=["demo"]
E1 = dict(epochs=10, batch_size=32)
initial = init_params(sizes, seed=0)

numpy_params = {k: v.copy() for k, v in initial.items()}
start = time.perf_counter()
my_train_mlp = use_yours(train_mlp, "training.train_mlp")
step_losses = my_train_mlp(numpy_params, X_train, labels_train, Adam(lr=1e-3), **E1)["loss"]
steps_per_epoch = -(-len(X_train) // E1["batch_size"])                 # the last partial batch counts as a step
numpy_history = {"loss": [float(np.mean(step_losses[e * steps_per_epoch:(e + 1) * steps_per_epoch]))
                          for e in range(E1["epochs"])]}              # per epoch, like the PyTorch side
numpy_seconds = time.perf_counter() - start
numpy_logits, _ = mlp_forward(X_test, numpy_params)
numpy_predictions = numpy_logits.argmax(axis=1)
numpy_accuracy = accuracy(labels_test, numpy_predictions)

start = time.perf_counter()
torch_model, torch_history = fit_torch_mlp(initial, X_train, labels_train, optimizer="adam", lr=1e-3, **E1)
torch_seconds = time.perf_counter() - start
torch_test_accuracy = torch_accuracy(torch_model, X_test, labels_test)

print(f"E1 on {dataset_name}, {E1['epochs']} epochs, batch {E1['batch_size']}, Adam lr 1e-3, same initial weights and batches")
print(f"  {'':22s}{'test accuracy':>15s}{'training time':>15s}{'final training loss':>22s}")
print(f"  {'NumPy (float64, CPU)':22s}{numpy_accuracy:>15.2%}{numpy_seconds:>14.1f}s{numpy_history['loss'][-1]:>22.4f}")
print(f"  {f'PyTorch (float32, {get_device().type})':22s}{torch_test_accuracy:>15.2%}{torch_seconds:>14.1f}s{torch_history[-1]:>22.4f}")

# %% id="plot-capstone" tags=["demo"]
# Plot 7: both training curves, and the confusion matrix of the NumPy model on the test set.
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
plots.plot_curves({"NumPy": numpy_history["loss"], "PyTorch": torch_history}, ax=axes[0], xlabel="epoch",
                  ylabel="mean training loss", logy=True, title=f"E1 on {dataset_name}: training loss")
counts = confusion_matrix(labels_test, numpy_predictions, 10)
loss_plots.plot_confusion_matrix(counts, ax=axes[1], title=f"NumPy model, test set: {numpy_accuracy:.1%} right")
plt.tight_layout()
plt.show()

# %% id="plot-misclassified" tags=["demo"]
# Plot 8: the test images the NumPy model gets wrong (true → predicted). Many are hard even for a person.
training_plots.show_misclassified(images_test, labels_test, numpy_predictions, n=20)
plt.show()

# %% [markdown] id="capstone-comment"
# **Reading the result.** Both implementations run the same algorithm from the same start on the same
# batches, so their test accuracies agree to within a test image or two (PyTorch computes in float32,
# NumPy in float64: tiny rounding differences grow over hundreds of Adam steps). With the course's split,
# both reach **98.1 % test accuracy on the digits (352 of 359 test images)**, and the two training curves
# lie on top of each other. The digits are small, so 10 epochs take a second or two on a CPU, and PyTorch
# is no faster than NumPy here: with batches of 32 tiny matrices, the time goes into Python overhead per
# step, not arithmetic. On MNIST, with 784 inputs and 60,000 images, the arithmetic dominates, and a GPU
# is where PyTorch pulls far ahead. The article's network typically reaches about 98 % test accuracy on
# MNIST. The confusion matrix shows *which* digits get mixed up; the misclassified images show why.
#
# **Scaling up.** `DATASET=mnist jupyter lab` (with a network, once; the files are cached in
# `~/.cache/dlcourse`) runs the capstone on MNIST. To regularise it, pass `l2=`, `dropout=` or
# `patience=` (with `validation=`: split a validation part off the training set with your
# `train_val_split`) to `fit_mlp` (the course's loop with those options; your `train_mlp` takes
# `validation=` and `patience=`), and `weight_decay=` to `fit_torch_mlp`.

# %% [markdown] id="e4-again-theory"
# ### Worked example E4 again, through your loop
#
# Chapter 4 trained the source article's Keras model (784-128-10 on MNIST, 64-128-10 on the shipped digits:
# ReLU, Adam with learning rate $10^{-3}$, batch 32, 5 epochs) with the course's loop. Here it runs through
# **your** `train_mlp`, with what this chapter added: inputs normalised with training statistics, a validation
# part split off the *training* images (the test images stay untouched until the one final report), and early
# stopping on it. PyTorch's loop (`nn.Sequential`, `torch.optim.Adam`, `F.cross_entropy`) runs beside it
# from the same weights on the same batches, in float64, so every step's loss must agree to rounding.

# %% id="e4-again" tags=["demo"]
X_fit, y_fit, X_val, y_val = my_split(X_train, labels_train, 0.2, seed=1)
e4_sizes = [X_train.shape[1], 128, 10]
e4_start = init_params(e4_sizes, seed=0)
E4 = dict(epochs=5, batch_size=32, validation=(X_val, y_val), patience=2)
e4_params = {k: v.copy() for k, v in e4_start.items()}
mine_e4 = my_train_mlp(e4_params, X_fit, y_fit, Adam(lr=1e-3), **E4)
theirs_e4 = ref_training.train_mlp(e4_start, X_fit, y_fit, ("adam", {"lr": 1e-3}), **E4)
print(f"E4 ({'-'.join(map(str, e4_sizes))}) on {len(X_fit)} training and {len(X_val)} validation images")
print("epoch   validation loss: yours     PyTorch")
for epoch, (a, b) in enumerate(zip(mine_e4["val_loss"], theirs_e4["val_loss"]), start=1):
    print(f"{epoch:5d}   {a:23.10f}   {b:.10f}")
step_gap = max(abs(a - b) / abs(b) for a, b in zip(mine_e4["loss"], theirs_e4["loss"]))
e4_accuracy = accuracy(labels_test, mlp_forward(X_test, e4_params)[0].argmax(axis=1))
print(f"{len(mine_e4['loss'])} steps (PyTorch {len(theirs_e4['loss'])}); largest relative difference of a step's loss "
      f"{step_gap:.1e}; best epoch {mine_e4['best_epoch'] + 1} (PyTorch {theirs_e4['best_epoch'] + 1}); "
      f"test accuracy of the weights kept: {e4_accuracy:.2%}")
assert len(mine_e4["loss"]) == len(theirs_e4["loss"]) and step_gap < 1e-10, "your loop and PyTorch's took different steps"

# %% [markdown] id="e4-again-comment"
# Both loops take the same 180 steps and keep the same epoch, and the step losses agree to about $10^{-15}$:
# float64 rounding of the same sums in two orders. A quarter of E1's width and half its epochs reach about 96 %
# of the test images (E1: 98 %). Early stopping decides nothing here: the validation loss is still falling after
# 5 epochs, and still after 30 (try it): this small model does not overfit 1,150 digits that soon. Section 6
# showed a setting where it does.

# %% [markdown] id="summary"
# ## Summary
#
# * **Overfitting**: training loss falls, validation loss rises. Measure it on a held-out **validation**
#   set; keep the **test** set for one final report.
# * It is reduced by **more data**, **regularisation** (L2 / weight decay, dropout), a **smaller model** and
#   **early stopping**. A bigger model is no cure in the classical regime (the source article is wrong
#   there); far beyond the interpolation threshold, test error can fall again with size (double descent,
#   implicit regularisation), but that is no reliable remedy either.
# * Split with a seeded shuffle ($\lfloor fN \rfloor$ for validation); **normalise with training
#   statistics only**, and apply the same numbers to validation and test data.
# * **L2**: $L + \frac\lambda2\sum\lVert W\rVert^2$, gradient $+\lambda W$, weights only; it is
#   `weight_decay` in `torch.optim.SGD`/`Adam` (not in `AdamW`, which decouples it).
# * **Inverted dropout**: $X \odot m / (1-p)$ in training, identity at test time; backward
#   $\partial L/\partial Y \odot m/(1-p)$; `F.dropout` / `nn.Dropout` in PyTorch.
# * **Early stopping**: keep the best epoch, stop after `patience` epochs without improvement.
# * **E1**: the 784-512-10 MLP, built from this course's NumPy pieces, matches PyTorch's accuracy; the
#   cell below prints the numbers of this run. **E4**, the article's 784-128-10 (64-128-10 on the digits), runs
#   through your own `train_mlp` with a validation split and early stopping, step for step equal to PyTorch's loop.
#
# ## Glossary / 术语表
#
# | English | 中文 |
# |---|---|
# | overfitting / underfitting | 过拟合 / 欠拟合 |
# | generalisation, generalisation gap | 泛化，泛化差距 |
# | training / validation / test set | 训练集 / 验证集 / 测试集 |
# | data leak(age) | 数据泄露 |
# | normalisation, standardisation | 归一化，标准化 |
# | regularisation | 正则化 |
# | L2 regularisation, weight decay | L2 正则化，权重衰减 |
# | penalty term | 惩罚项 |
# | dropout (inverted dropout) | 随机失活 / 丢弃法（反向随机失活） |
# | mask | 掩码 |
# | early stopping, patience | 早停，耐心值 |
# | model capacity / complexity | 模型容量 / 复杂度 |
# | double descent | 双下降 |
# | implicit regularisation | 隐式正则化 |
# | interpolation threshold | 插值阈值 |
# | hyper-parameter | 超参数 |
# | data augmentation | 数据增强 |
# | confusion matrix | 混淆矩阵 |
# | epoch, mini-batch | 轮次（周期），小批量 |

# %% id="closing-numbers" tags=["demo"]
graded = {"train_val_split": 2, "normalize": 2, "l2_penalty": 1, "l2_grad": 2, "dropout_forward": 2,
          "dropout_backward": 2, "early_stopping": 3, "train_mlp": 4, "batchnorm_forward": 3,
          "batchnorm_backward": 3}
print(f"{len(graded)} graded exercises, {sum(graded.values())} points: {graded}")
print(f"E1 on {dataset_name}: NumPy {numpy_accuracy:.2%} test accuracy in {numpy_seconds:.1f} s; "
      f"PyTorch ({get_device().type}) {torch_test_accuracy:.2%} in {torch_seconds:.1f} s")
print(f"this notebook ran in {time.perf_counter() - notebook_start:.0f} s")

# %% [markdown] id="progress-title"
# ## Your progress
#
# Which exercises of this notebook pass in this session, and their points (run every test cell first,
# or *Run All*). `dlcourse progress` in a terminal shows every chapter, in fresh kernels.

# %% id="progress" tags=["demo"]
from dlcourse.progress import progress_table

progress_table()
