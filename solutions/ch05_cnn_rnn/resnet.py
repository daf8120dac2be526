# %% [markdown] id="title"
# # Chapter 5d — Modern CNN pieces: global average pooling, batch normalisation and the residual block
#
# The small CNN of notebook 5a stacks conv, ReLU and pooling and ends with a dense layer on the flattened maps.
# The networks that won ImageNet from 2015 on (ResNet and its descendants) add three pieces that let them be
# **deep** — tens to hundreds of layers — and still train: **batch normalisation** after every convolution, a
# **skip connection** around every pair of convolutions, and **global average pooling** instead of the big dense
# layer at the end.
#
# **Learning goals.** After this notebook you can
#
# 1. write global average pooling and its backward pass, and say why it replaced flatten + dense;
# 2. write batch normalisation for feature maps exactly as `nn.BatchNorm2d` computes it: per-channel batch
#    statistics in training mode (the biased variance to normalise, the unbiased one for the running variance,
#    PyTorch's momentum rule), running statistics in evaluation mode;
# 3. derive and code batch normalisation's backward pass, where the batch mean and variance depend on every input;
# 4. assemble a residual block (conv → BN → ReLU → conv → BN, plus an identity or 1x1-projection shortcut, then
#    ReLU) from your pieces and chapter 5's convolution, forward and backward, and match a block built from
#    `torch.nn` parts;
# 5. see, on a deep and narrow CNN for the digits, what the skip connection does to training, and what batch
#    normalisation does to the feature maps and the skip connection to the gradients layer by layer.
#
# **How this notebook works.** Each exercise is a NumPy function with a stub (`raise NotImplementedError()`).
# Replace the stub with your code, run the cell, then the test cell below it: it compares your function with
# PyTorch (float64, autograd for the gradients) on fixed and random inputs and says what differs. Cells that only
# *show* things use your functions once they work and the course's solved versions until then. No GPU needed.
# **Dtype rule** (every exercise): float32 inputs give float32 results, float64 inputs float64 results; the
# visible tests check both.

# %% id="setup"
import time

notebook_start = time.perf_counter()

import numpy as np
import matplotlib.pyplot as plt
import torch
from threadpoolctl import threadpool_limits
from torch import nn

from dlcourse import data
from dlcourse.cases import resnet as cases
from dlcourse.checking import check, randn
from dlcourse.demos import resnet as demo
from dlcourse.device import describe, to_numpy, to_tensor
from dlcourse.exercises import use_yours
from dlcourse.mistakes import resnet as mistakes
from dlcourse.plots import resnet as resnet_plots
from dlcourse.reference import resnet as ref
from dlcourse.solved.cnn import conv2d_backward, conv2d_forward   # notebook 5a's convolution: exercises 5-6 use it

torch.manual_seed(0)
torch.set_num_threads(1)       # small models: one thread beats several fighting over them
threadpool_limits(limits=1, user_api="blas")
print(describe())


# %% [markdown] id="gap-theory"
# ## 1. Global average pooling
#
# The CNN of notebook 5a flattens its last feature maps, $C \times H \times W$ numbers, into a dense layer: that
# layer's weights grow with the image ($C H W \times$ classes), and it ties every weight to one position. **Global
# average pooling** (GAP; Lin et al., 2013, *Network in Network*) replaces each of the $C$ final feature maps by its
# mean:
#
# $$ \text{pooled}_{n,c} = \frac{1}{HW} \sum_{i=1}^{H} \sum_{j=1}^{W} x_{n,c,i,j}, \qquad (N, C, H, W) \to (N, C). $$
#
# A linear layer on the $C$ means follows. The head then has $C \times$ classes weights whatever the image size, and
# each channel becomes a detector "is this pattern anywhere in the image?". PyTorch writes it
# `F.adaptive_avg_pool2d(x, 1)` (output $1 \times 1$, shape (N, C, 1, 1)) or `nn.AdaptiveAvgPool2d(1)`, followed by
# a flatten; ResNet, and most CNNs since, end this way.
#
# Its backward pass: each input value enters one mean with weight $1/(HW)$, so
# $\partial L/\partial x_{n,c,i,j} = \frac{1}{HW}\, \partial L/\partial \text{pooled}_{n,c}$ at every position $(i, j)$.

# %% [markdown] id="ex-gap"
# ### Exercise 1 — `global_avg_pool` (1 point)
#
# Return the (N, C) means of `x` (N, C, H, W) over its two spatial axes, as `F.adaptive_avg_pool2d(x, 1).flatten(1)`.
#
# ### Exercise 2 — `global_avg_pool_backward` (1 point)
#
# Return $\partial L/\partial x$ (N, C, H, W) given `dout` $= \partial L/\partial \text{pooled}$ (N, C) and
# `x_shape` = (N, C, H, W), in `dout`'s dtype.
#
# <details><summary>Hint</summary>
#
# Give `dout` two axes of length 1 at the end; broadcasting then spreads it over $H \times W$. A broadcast view is
# read-only: return an array of your own.
# </details>

# %% id="ch05_resnet_gap_forward" nbgrader={"solution": true}
def global_avg_pool(x):
    """(N, C, H, W) -> (N, C): the mean of every feature map."""
    ### BEGIN SOLUTION
    return x.mean(axis=(2, 3))
    ### END SOLUTION


# %% id="ch05_resnet_gap_forward_test" nbgrader={"grade": true, "locked": true, "points": 1}
# Case 1 by hand: one example, two channels of 2 x 2: means 2.5 and 0.
# Then random maps that are not square, a 1 x 1 map (pooling changes nothing), and float32.
check(global_avg_pool, ref.global_avg_pool, [
    np.array([[[[1.0, 2.0], [3.0, 4.0]], [[1.0, -1.0], [-2.0, 2.0]]]]),
    randn(3, 4, 5, 7, seed=1),
    randn(2, 3, 1, 1, seed=2),
    randn(4, 2, 6, 3, seed=3).astype(np.float32),
], hints=mistakes.global_avg_pool)
### BEGIN HIDDEN TESTS
check(global_avg_pool, ref.global_avg_pool, [
    randn(1, 6, 4, 4, seed=4), randn(5, 1, 2, 9, seed=5), randn(2, 3, 7, 5, seed=6).astype(np.float32),
], hints=mistakes.global_avg_pool)
### END HIDDEN TESTS

# %% id="ch05_resnet_gap_backward" nbgrader={"solution": true}
def global_avg_pool_backward(dout, x_shape):
    """dL/dx (N, C, H, W) of global average pooling, given dout = dL/dpooled (N, C)."""
    ### BEGIN SOLUTION
    H, W = x_shape[2], x_shape[3]
    return np.broadcast_to(dout[:, :, None, None] / (H * W), x_shape).copy()
    ### END SOLUTION


# %% id="ch05_resnet_gap_backward_test" nbgrader={"grade": true, "locked": true, "points": 1}
# Case 1 by hand: dout = [[1, -2]] over 2 x 2 maps: every position gets 1/4 and -2/4.
# Then random gradients for maps that are not square, a 1 x 1 map, and float32. The reference is autograd.
check(global_avg_pool_backward, ref.global_avg_pool_backward, [
    (np.array([[1.0, -2.0]]), (1, 2, 2, 2)),
    (randn(3, 4, seed=10), (3, 4, 5, 7)),
    (randn(2, 3, seed=11), (2, 3, 1, 1)),
    (randn(4, 2, seed=12).astype(np.float32), (4, 2, 6, 3)),
], hints=mistakes.global_avg_pool_backward)
### BEGIN HIDDEN TESTS
check(global_avg_pool_backward, ref.global_avg_pool_backward, [
    (randn(1, 6, seed=13), (1, 6, 4, 4)), (randn(5, 1, seed=14), (5, 1, 2, 9)),
    (randn(2, 3, seed=15).astype(np.float32), (2, 3, 7, 5)),
], hints=mistakes.global_avg_pool_backward)
### END HIDDEN TESTS

# %% [markdown] id="pytorch-gap"
# ### The same in PyTorch
#
# `nn.AdaptiveAvgPool2d(1)` beside your functions, forward and backward (autograd), on one batch.

# %% id="pytorch-gap-code" tags=["demo"]
my_gap = use_yours(global_avg_pool, "resnet.global_avg_pool")
my_gap_backward = use_yours(global_avg_pool_backward, "resnet.global_avg_pool_backward")
x, dpooled = randn(8, 16, 5, 5, seed=20), randn(8, 16, seed=21)
xt = to_tensor(x, requires_grad=True)
pooled_t = nn.AdaptiveAvgPool2d(1)(xt).flatten(1)
pooled_t.backward(to_tensor(dpooled))
print(nn.AdaptiveAvgPool2d(1))
print("largest difference, forward: ", np.abs(my_gap(x) - to_numpy(pooled_t.detach())).max())
print("largest difference, backward:", np.abs(my_gap_backward(dpooled, x.shape) - to_numpy(xt.grad)).max())


# %% [markdown] id="bn-theory"
# ## 2. Batch normalisation for feature maps
#
# **Batch normalisation** (Ioffe & Szegedy, 2015) standardises what a layer produces, channel by channel, with the
# statistics of the current mini-batch, then lets the network rescale it. For feature maps (`nn.BatchNorm2d`) the
# statistics of channel $c$ are taken over the batch **and** every position — $m = N H W$ values:
#
# $$ \mu_c = \frac{1}{m} \sum_{n,i,j} x_{n,c,i,j}, \qquad
#    \sigma_c^2 = \frac{1}{m} \sum_{n,i,j} (x_{n,c,i,j} - \mu_c)^2, \qquad
#    \hat x_{n,c,i,j} = \frac{x_{n,c,i,j} - \mu_c}{\sqrt{\sigma_c^2 + \varepsilon}}, \qquad
#    \text{out}_{n,c,i,j} = \gamma_c \hat x_{n,c,i,j} + \beta_c . $$
#
# $\gamma$ (`weight`) and $\beta$ (`bias`), one per channel, are learned; $\varepsilon$ (`eps`, default $10^{-5}$) keeps
# the division finite for a constant channel.
#
# **Two modes.** A prediction must not depend on which other images share its batch, so the layer keeps **running
# statistics** (buffers, not parameters) during training, and uses them instead of the batch's in evaluation mode
# (`model.eval()`). PyTorch's exact rules:
#
# * training: normalise with the batch's $\mu_c$ and its **biased** variance $\sigma_c^2$ (divide by $m$), then update
#   $$ \text{running\_mean} \leftarrow (1 - \text{momentum})\,\text{running\_mean} + \text{momentum}\; \mu_c, \qquad
#      \text{running\_var} \leftarrow (1 - \text{momentum})\,\text{running\_var} + \text{momentum}\; \tfrac{m}{m-1}\sigma_c^2, $$
#   the running variance with the **unbiased** estimate (divide by $m - 1$). `momentum = 0.1` by default: it is the
#   weight of the *new* batch (the opposite of an optimizer's momentum, and of Keras's `momentum=0.99`);
# * evaluation: $\hat x = (x - \text{running\_mean}) / \sqrt{\text{running\_var} + \varepsilon}$; nothing is updated.
#
# A new layer starts with running mean 0 and running variance 1, $\gamma = 1$, $\beta = 0$.

# %% [markdown] id="ex-bn-forward"
# ### Exercise 3 — `batchnorm2d_forward` (3 points)
#
# Return `(out, new_running_mean, new_running_var)` for `x` (N, C, H, W), `gamma`, `beta`, `running_mean`,
# `running_var` (each (C,)), `training` (bool), `momentum` and `eps`, as one call of `nn.BatchNorm2d` in that mode
# does (with those four arrays in its `weight`, `bias` and buffers). Do not change the arrays you are given: return
# new running statistics (in evaluation mode, the ones you were given). The test also runs your function through
# several training batches, carrying the running statistics, then in evaluation mode, against one `nn.BatchNorm2d`.
#
# <details><summary>Hint 1</summary>
#
# The statistics of channel $c$ run over axes 0, 2 and 3. To combine a (C,) vector with (N, C, H, W) maps, give it
# shape (C, 1, 1).
# </details>
#
# <details><summary>Hint 2</summary>
#
# `np.var` divides by $m$ unless told otherwise (`ddof`): that is the biased variance. $m = N H W$ is the number of
# values per channel.
# </details>

# %% id="ch05_resnet_bn_forward" nbgrader={"solution": true}
def batchnorm2d_forward(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
    """nn.BatchNorm2d: (out, new_running_mean, new_running_var)."""
    ### BEGIN SOLUTION
    if training:
        mean = x.mean(axis=(0, 2, 3))
        var = x.var(axis=(0, 2, 3))                    # biased (divides by m): normalises the batch
        m = x.size // x.shape[1]                       # values per channel: N * H * W
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * m / (m - 1)   # unbiased
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None], running_mean, running_var
    ### END SOLUTION


# %% id="ch05_resnet_bn_forward_test" nbgrader={"grade": true, "locked": true, "points": 3}
# Case 1 by hand: one channel holding 1, 3, 5, 7 (m = 4): mean 4, biased variance 5, so out = (x - 4) / sqrt(5 + eps);
# running_mean = 0.9 * 0 + 0.1 * 4 = 0.4 and running_var = 0.9 * 1 + 0.1 * 5 * 4/3 = 1.5667.
# Then random cases (gamma, beta and the running statistics all non-trivial) in training and evaluation mode, a
# constant channel (variance 0: only eps keeps the division finite, and that channel's output is beta),
# momentum and eps changed (eps = 0.5 on a channel of small variance, where eps matters), float32; then your
# function over three training batches and an evaluation batch against one nn.BatchNorm2d.
bn_outputs = ("out", "running_mean", "running_var")
x1 = np.array([[[[1.0, 3.0]]], [[[5.0, 7.0]]]])                       # (2, 1, 1, 2)
small = randn(3, 2, 4, 4, seed=34, scale=0.1)                          # variance ~ 0.01: eps = 0.5 dominates it
constant_channel = np.concatenate([np.full((2, 1, 3, 3), 3.0), randn(2, 1, 3, 3, seed=29)], axis=1)
check(batchnorm2d_forward, ref.batchnorm2d_forward, [
    (x1, np.ones(1), np.zeros(1), np.zeros(1), np.ones(1)),
    (randn(4, 3, 5, 6, seed=30, scale=2.0) + 1.0, *cases.bn_params(3, seed=31)),
    (constant_channel, *cases.bn_params(2, seed=28)),                                   # variance 0: out = beta
    (randn(4, 3, 5, 6, seed=32), *cases.bn_params(3, seed=33), False),                  # evaluation mode
    (small, *cases.bn_params(2, seed=35), True, 0.3, 0.5),                              # momentum 0.3, eps 0.5
    (small, *cases.bn_params(2, seed=36), False, 0.1, 0.5),                             # eps in evaluation mode
    (randn(2, 4, 3, 5, seed=37).astype(np.float32), *cases.bn_params(4, seed=38, dtype=np.float32)),
    (randn(2, 4, 3, 5, seed=39).astype(np.float32), *cases.bn_params(4, seed=40, dtype=np.float32), False),
], output_names=bn_outputs, hints=mistakes.batchnorm2d_forward)
check(cases.bn_sequence(batchnorm2d_forward), ref.batchnorm2d_sequence, [
    ([randn(3, 2, 4, 4, seed=41 + i, scale=1.0 + i) + i for i in range(3)], randn(2, 2, 4, 4, seed=44),
     *cases.bn_params(2, seed=45), 0.2, 1e-3),
], name="your batch norm over 3 training batches, then in evaluation mode",
   output_names=("training outputs", "eval output", "running_mean", "running_var"))
### BEGIN HIDDEN TESTS
check(batchnorm2d_forward, ref.batchnorm2d_forward, [
    (randn(6, 5, 2, 3, seed=46, scale=3.0) - 2.0, *cases.bn_params(5, seed=47)),
    (randn(1, 2, 7, 4, seed=48), *cases.bn_params(2, seed=49), True, 0.05, 1e-3),
    (randn(3, 1, 3, 3, seed=50), *cases.bn_params(1, seed=51), False, 0.5, 0.1),
    (randn(5, 3, 2, 2, seed=52).astype(np.float32), *cases.bn_params(3, seed=53, dtype=np.float32), True, 0.2),
], output_names=bn_outputs, hints=mistakes.batchnorm2d_forward)
check(cases.bn_sequence(batchnorm2d_forward), ref.batchnorm2d_sequence, [
    ([randn(2, 3, 3, 5, seed=54 + i) * (i + 1) for i in range(5)], randn(4, 3, 3, 5, seed=60), *cases.bn_params(3, seed=61)),
], name="your batch norm over 5 training batches, then in evaluation mode",
   output_names=("training outputs", "eval output", "running_mean", "running_var"))
### END HIDDEN TESTS

# %% [markdown] id="pytorch-bn"
# ### The same in PyTorch
#
# `nn.BatchNorm2d(16)` fresh (running mean 0, variance 1), called in training mode on 20 batches of feature maps
# whose channels have mean 3 and standard deviation 2, beside your function carrying the same statistics; then both
# in evaluation mode. After 20 batches at momentum 0.1 the running statistics have moved $1 - 0.9^{20} \approx 88\%$
# of the way from (0, 1) to the data's (3, 4).

# %% id="pytorch-bn-code" tags=["demo"]
my_bn = use_yours(batchnorm2d_forward, "resnet.batchnorm2d_forward")
bn = nn.BatchNorm2d(16, dtype=torch.float64)
gamma, beta = to_numpy(bn.weight.detach()), to_numpy(bn.bias.detach())
running_mean, running_var = np.zeros(16), np.ones(16)
rng = np.random.default_rng(0)
for step in range(20):
    x = 3.0 + 2.0 * rng.standard_normal((32, 16, 6, 6))
    with torch.no_grad():
        bn.train()(torch.from_numpy(x))
    out, running_mean, running_var = my_bn(x, gamma, beta, running_mean, running_var, True, 0.1, 1e-5)
print(bn)
print("running mean, channel 0: yours", running_mean[0].round(4), " PyTorch", round(bn.running_mean[0].item(), 4))
print("running var,  channel 0: yours", running_var[0].round(4), " PyTorch", round(bn.running_var[0].item(), 4))
x_eval = 3.0 + 2.0 * rng.standard_normal((4, 16, 6, 6))
with torch.no_grad():
    theirs = bn.eval()(torch.from_numpy(x_eval)).numpy()
print("largest difference in evaluation mode:", np.abs(my_bn(x_eval, gamma, beta, running_mean, running_var, False)[0] - theirs).max())


# %% [markdown] id="bn-backward-theory"
# ## 3. Batch normalisation's backward pass
#
# In training mode $\mu_c$ and $\sigma_c^2$ are functions of the whole batch: changing one $x_{n,c,i,j}$ moves its
# channel's mean and variance, and through them every output of that channel. Write $\delta = \partial L/\partial
# \text{out}$ and $\delta\hat x = \gamma_c\, \delta$ (per channel). The parameters are easy:
#
# $$ \frac{\partial L}{\partial \beta_c} = \sum_{n,i,j} \delta_{n,c,i,j}, \qquad
#    \frac{\partial L}{\partial \gamma_c} = \sum_{n,i,j} \delta_{n,c,i,j}\, \hat x_{n,c,i,j}. $$
#
# For $x$, follow the three paths from $x$ to $\hat x$ (directly, through $\mu_c$, through $\sigma_c^2$) and
# simplify; with $\langle\cdot\rangle$ the mean over $(n, i, j)$ within channel $c$:
#
# $$ \frac{\partial L}{\partial x} = \frac{1}{\sqrt{\sigma_c^2 + \varepsilon}}
#    \Big( \delta\hat x - \langle \delta\hat x \rangle - \hat x\, \langle \delta\hat x \odot \hat x \rangle \Big). $$
#
# The gradient is the part of $\delta\hat x$ that neither shifts the channel (its mean is removed) nor scales it (its
# component along $\hat x$ is removed): BN's output does not change when the input channel is shifted or scaled by a
# positive factor (up to $\varepsilon$), so neither kind of change gets a gradient. (In evaluation mode the statistics are constants and
# $\partial L/\partial x = \delta\hat x / \sqrt{\text{running\_var} + \varepsilon}$; training is what needs this pass.)

# %% [markdown] id="ex-bn-backward"
# ### Exercise 4 — `batchnorm2d_backward` (4 points)
#
# Return `(dx, dgamma, dbeta)` — (N, C, H, W), (C,), (C,) — for `dout` (N, C, H, W), the layer's input `x`, `gamma`
# and `eps`, in **training mode** (batch statistics; $\beta$ and the running statistics do not enter the gradients).
# The reference is autograd through `nn.BatchNorm2d` for $L = \sum \delta \odot \text{out}$.
#
# <details><summary>Hint 1</summary>
#
# Recompute $\hat x$ and $1/\sqrt{\sigma^2 + \varepsilon}$ from `x` first, keeping the reduced axes
# (`keepdims=True`) so that they broadcast against (N, C, H, W).
# </details>
#
# <details><summary>Hint 2</summary>
#
# A check by hand: with `dout` all ones, $\delta\hat x$ is $\gamma_c$ everywhere, its mean is $\gamma_c$ and
# $\langle \hat x \rangle = 0$, so $\partial L/\partial x = 0$.
# </details>

# %% id="ch05_resnet_bn_backward" nbgrader={"solution": true}
def batchnorm2d_backward(dout, x, gamma, eps=1e-5):
    """(dx, dgamma, dbeta) of batchnorm2d_forward in training mode."""
    ### BEGIN SOLUTION
    axes = (0, 2, 3)
    mean = x.mean(axis=axes, keepdims=True)
    inv_std = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    x_hat = (x - mean) * inv_std
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    dx_hat = dout * gamma[:, None, None]
    dx = inv_std * (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                    - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True))
    return dx, dgamma, dbeta
    ### END SOLUTION


# %% id="ch05_resnet_bn_backward_test" nbgrader={"grade": true, "locked": true, "points": 4}
# Case 1 by hand: dout all ones: dx = 0, dbeta = m = 4 per channel, dgamma = sum of x_hat = 0.
# Then random cases (gamma of both signs), eps = 0.5 on small maps (eps matters), one value per channel and
# position but a batch of 2, float32.
bn_grads = ("dx", "dgamma", "dbeta")


def bn_back_case(N, C, H, W, seed, scale=1.0, eps=1e-5, dtype=np.float64):
    # float32: dout ~ 0.1, so that float32's rounding in these sums (~1e-7 of the terms) stays well under the
    # absolute tolerance 1e-6 where a gradient entry is close to 0; a real mistake still changes entries by ~0.01-0.1.
    x = randn(N, C, H, W, seed=seed, scale=scale) + 0.5
    dout = randn(N, C, H, W, seed=seed + 1, scale=0.1 if dtype == np.float32 else 1.0)
    return tuple(a.astype(dtype) for a in (dout, x, cases.bn_params(C, seed + 2)[0])) + (eps,)


check(batchnorm2d_backward, ref.batchnorm2d_backward, [
    (np.ones((2, 2, 1, 2)), randn(2, 2, 1, 2, seed=70), np.array([1.0, -2.0])),
    bn_back_case(4, 3, 5, 6, seed=71),
    bn_back_case(3, 2, 4, 4, seed=72, scale=0.1, eps=0.5),             # eps matters
    bn_back_case(2, 3, 1, 1, seed=73),                                 # m = 2 values per channel
    bn_back_case(2, 4, 3, 5, seed=74, dtype=np.float32),
], output_names=bn_grads, hints=mistakes.batchnorm2d_backward)
### BEGIN HIDDEN TESTS
check(batchnorm2d_backward, ref.batchnorm2d_backward, [
    bn_back_case(6, 5, 2, 3, seed=75, scale=3.0),
    bn_back_case(1, 2, 7, 4, seed=76, eps=1e-3),
    bn_back_case(5, 1, 3, 3, seed=77, scale=0.05, eps=0.1),
    bn_back_case(3, 3, 4, 2, seed=78, dtype=np.float32),
], output_names=bn_grads, hints=mistakes.batchnorm2d_backward)
### END HIDDEN TESTS

# %% [markdown] id="block-theory"
# ## 4. The residual block
#
# A plain deep network asks each layer to compute a whole new representation $H(x)$. **Residual learning** (He et al.,
# 2015) asks a pair of layers for a *correction* $F(x)$ only and adds the input back:
#
# $$ \text{out} = \operatorname{ReLU}\big(F(x) + \text{shortcut}(x)\big), \qquad
#    F(x) = \operatorname{BN}_2\big(\operatorname{conv}_2(\operatorname{ReLU}(\operatorname{BN}_1(\operatorname{conv}_1 x)))\big). $$
#
# The **shortcut** (skip connection) is the identity mapping $x$ itself when the shapes agree. When the block halves
# the resolution (`stride=2` in conv$_1$) or changes the number of channels, $x$ no longer fits, and a **projection**
# takes its place: a $1 \times 1$ convolution with the same stride followed by its own batch norm (torchvision's
# `downsample`). Both 3x3 convolutions use padding 1 and have **no bias**: the batch norm after each subtracts the
# channel's mean, which would cancel any bias.
#
# Why it helps: with weights near zero a block is close to the identity, so a deep stack of them starts close to a
# shallow network instead of to a random function; and the gradient reaches $x$ along the shortcut *plus* through
# $F$ — $\partial\,\text{out}/\partial x = \text{mask} \odot (I + \partial F/\partial x)$ — so it cannot vanish by
# being multiplied through many layers (section 6 measures it).
#
# **Parameters** come in a dict (PyTorch's names in brackets): `"W1"` (C_out, C_in, 3, 3) [`conv1.weight`],
# `"gamma1"`, `"beta1"`, `"mean1"`, `"var1"` [`bn1.weight`, `bn1.bias`, `bn1.running_mean`, `bn1.running_var`], the
# same with `"2"` (`"W2"` is (C_out, C_out, 3, 3)), and for a projection shortcut `"W_s"` (C_out, C_in, 1, 1) with
# `"gamma_s"`, `"beta_s"`, `"mean_s"`, `"var_s"` [`shortcut.0.weight`, `shortcut.1.*`]. The block has a projection
# exactly when `"W_s"` is in the dict.

# %% [markdown] id="ex-block-forward"
# ### Exercise 5 — `residual_block_forward` (3 points)
#
# Return the block's output (N, C_out, H_out, W_out) for `x` (N, C_in, H, W), the dict `params`, `stride` (of conv$_1$
# and of the projection) and `training` (every batch norm in that mode; the block returns only its output, the
# running statistics' update is exercise 3's business). Build it from **your** `batchnorm2d_forward` and notebook 5a's
# `conv2d_forward(x, w, b, stride, padding)` (imported in the setup cell; it needs a bias: pass zeros **of x's dtype**,
# or float32 inputs turn into a float64 output). The reference is a block assembled from `nn.Conv2d`,
# `nn.BatchNorm2d` and `nn.Identity` with your dict's values copied in.
#
# <details><summary>Hint</summary>
#
# A small helper inside the function, "conv then BN" for a key `"1"`, `"2"` or `"_s"`, makes each of the three
# branches one line. Where does the last ReLU go relative to the addition?
# </details>

# %% id="ch05_resnet_block_forward" nbgrader={"solution": true}
def residual_block_forward(x, params, stride=1, training=True):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), shortcut = x or bn_s(conv_s(x)) when "W_s" in params."""
    ### BEGIN SOLUTION
    def conv_bn(a, key, stride, padding):
        W = params["W" + key]
        z = conv2d_forward(a, W, np.zeros(W.shape[0], a.dtype), stride, padding)
        return batchnorm2d_forward(z, params["gamma" + key], params["beta" + key],
                                   params["mean" + key], params["var" + key], training)[0]

    h = np.maximum(conv_bn(x, "1", stride, 1), 0)
    main = conv_bn(h, "2", 1, 1)
    shortcut = conv_bn(x, "_s", stride, 0) if "W_s" in params else x
    return np.maximum(main + shortcut, 0)
    ### END SOLUTION


# %% id="ch05_resnet_block_forward_test" nbgrader={"grade": true, "locked": true, "points": 3}
# cases.block_params(c_in, c_out, seed, projection) draws He-scaled weights and non-trivial BN parameters and buffers.
# Case 1 by hand: zero conv weights and the identity shortcut: the main branch is beta2 (BN of a constant map is beta),
# so out = relu(beta2 + x) per channel. Then the identity shortcut, a projection with stride 2 and more channels,
# a projection at stride 1 (channels change only), odd sizes, evaluation mode (running statistics), and float32.
conv_blocks = ("dlcourse.solved.cnn.conv2d_forward", "dlcourse.solved.cnn.conv2d_backward")
by_hand = {k: np.zeros_like(v) if k.startswith("W") else v for k, v in cases.block_params(2, 2, seed=80).items()}


def block_case(N, c_in, c_out, size, stride, seed, projection=None, training=True, dtype=np.float64):
    projection = stride != 1 or c_in != c_out if projection is None else projection
    x = randn(N, c_in, *size, seed=seed).astype(dtype)
    return x, cases.block_params(c_in, c_out, seed + 1, projection, dtype), stride, training


check(residual_block_forward, ref.residual_block_forward, [
    (randn(2, 2, 3, 3, seed=81), by_hand, 1, True),
    block_case(3, 4, 4, (6, 6), 1, seed=82),                          # identity shortcut
    block_case(2, 3, 6, (8, 7), 2, seed=83),                          # projection, stride 2, odd width
    block_case(2, 3, 5, (5, 5), 1, seed=84),                          # projection, stride 1
    block_case(2, 4, 4, (5, 6), 1, seed=85, training=False),          # evaluation mode, identity
    block_case(2, 3, 4, (6, 6), 2, seed=86, training=False),          # evaluation mode, projection
    block_case(2, 3, 3, (5, 5), 1, seed=87, dtype=np.float32),
    block_case(2, 2, 4, (6, 5), 2, seed=88, dtype=np.float32),
], hints=mistakes.residual_block_forward, allow=conv_blocks)
### BEGIN HIDDEN TESTS
check(residual_block_forward, ref.residual_block_forward, [
    block_case(4, 2, 2, (4, 7), 1, seed=90),
    block_case(1, 5, 3, (9, 9), 2, seed=91),
    block_case(3, 2, 3, (4, 4), 1, seed=92, training=False),
    block_case(2, 3, 3, (7, 5), 2, seed=93, projection=True, dtype=np.float32),
], hints=mistakes.residual_block_forward, allow=conv_blocks)
### END HIDDEN TESTS

# %% [markdown] id="pytorch-block"
# ### The same in PyTorch
#
# The reference block, printed: torchvision's `BasicBlock` layout built from `torch.nn` parts. Its `state_dict`
# names are the ones in brackets above; your dict is read into it and the two outputs compared.

# %% id="pytorch-block-code" tags=["demo"]
my_block = use_yours(residual_block_forward, "resnet.residual_block_forward")
x, params, stride, _ = block_case(4, 8, 16, (8, 8), 2, seed=95)
block = ref.build_block(params, stride)
print(block)
print("state_dict:", list(block.state_dict())[:6], "...")
with torch.no_grad():
    for training in (True, False):
        theirs = to_numpy(ref.build_block(params, stride).train(training)(to_tensor(x)))   # fresh buffers each time
        print(f"training={training}: output {theirs.shape}, largest difference to yours",
              np.abs(my_block(x, params, stride, training) - theirs).max())


# %% [markdown] id="block-backward-theory"
# ## 5. The residual block's backward pass
#
# Run the forward's graph backwards, keeping the intermediate values (recompute them: call the forward's pieces again).
# With $d = \delta \odot [\text{out} > 0]$, the gradient after the last ReLU:
#
# 1. **two branches** receive $d$: the main branch (BN$_2$, conv$_2$, ReLU, BN$_1$, conv$_1$, each with its own backward)
#    and the shortcut (nothing to do for the identity; BN$_s$ then conv$_s$ for a projection);
# 2. $x$ feeds both, so $\partial L/\partial x$ is the **sum** of what comes back along each;
# 3. each batch norm's backward needs its **input** (the conv's output $z$), each conv's backward its input;
#    `conv2d_backward(dout, x, w, stride, padding)` returns $(dx, dw, db)$ ($db$ is not needed: no bias).
#
# This is where the block helps the gradient: along the identity shortcut, $d$ reaches $x$ unchanged.

# %% [markdown] id="ex-block-backward"
# ### Exercise 6 — `residual_block_backward` (4 points)
#
# Return `(dx, grads)` for `dout` (the gradient of the block's output), `x`, `params` and `stride`, in **training
# mode**: `dx` shaped like `x`, `grads` a dict with `"W1"`, `"gamma1"`, `"beta1"`, `"W2"`, `"gamma2"`, `"beta2"` and,
# with a projection, `"W_s"`, `"gamma_s"`, `"beta_s"` (no running statistics: they get no gradient). Use your
# `batchnorm2d_forward`/`batchnorm2d_backward` and notebook 5a's `conv2d_forward`/`conv2d_backward`. The reference is
# autograd through the block of exercise 5. The test then stacks **your** blocks (an identity one and a projection
# one), ends with **your** global average pooling, and compares the whole chain's forward and backward with
# autograd through the same `torch.nn` blocks and `F.adaptive_avg_pool2d`.
#
# <details><summary>Hint 1</summary>
#
# Two helpers inside the function: "conv then BN" that returns both $z$ (the conv's output) and the BN's output, and
# its backward, which stores the three gradients of its key in `grads` and returns the gradient of its input.
# </details>
#
# <details><summary>Hint 2</summary>
#
# The last ReLU's mask is `out > 0` where `out` is the sum of the two branches. The first ReLU's mask uses BN$_1$'s
# output.
# </details>

# %% id="ch05_resnet_block_backward" nbgrader={"solution": true}
def residual_block_backward(dout, x, params, stride=1):
    """(dx, grads) of residual_block_forward in training mode."""
    ### BEGIN SOLUTION
    grads = {}

    def conv_bn(a, key, stride, padding):
        W = params["W" + key]
        z = conv2d_forward(a, W, np.zeros(W.shape[0], a.dtype), stride, padding)
        y = batchnorm2d_forward(z, params["gamma" + key], params["beta" + key],
                                params["mean" + key], params["var" + key])[0]
        return z, y

    def conv_bn_backward(dy, a, z, key, stride, padding):
        dz, grads["gamma" + key], grads["beta" + key] = batchnorm2d_backward(dy, z, params["gamma" + key])
        da, grads["W" + key], _ = conv2d_backward(dz, a, params["W" + key], stride, padding)
        return da

    z1, y1 = conv_bn(x, "1", stride, 1)
    h = np.maximum(y1, 0)
    z2, y2 = conv_bn(h, "2", 1, 1)
    projection = "W_s" in params
    if projection:
        zs, shortcut = conv_bn(x, "_s", stride, 0)
    else:
        shortcut = x
    d = dout * (y2 + shortcut > 0)                     # through the final ReLU, to both branches
    dh = conv_bn_backward(d, h, z2, "2", 1, 1)
    dx = conv_bn_backward(dh * (y1 > 0), x, z1, "1", stride, 1)
    dx = dx + (conv_bn_backward(d, x, zs, "_s", stride, 0) if projection else d)
    return dx, grads
    ### END SOLUTION


# %% id="ch05_resnet_block_backward_test" nbgrader={"grade": true, "locked": true, "points": 4}
# Case 1: the block of exercise 5's case 1 (zero conv weights, identity shortcut): the main branch is the constant
# beta2, so dx = dout * (out > 0) exactly (the shortcut's share; nothing passes the zero W2), dW1 = 0, and dW2 is
# large: BN of a constant map divides its gradient by sqrt(eps).
# Then the identity shortcut, a projection with stride 2, a projection at stride 1, float32; and the stack of two of
# your blocks followed by your global average pooling, against autograd through torch.nn.
block_grads = ("dx", "grads")


def block_back_case(N, c_in, c_out, size, stride, seed, dtype=np.float64):
    x, params, stride, _ = block_case(N, c_in, c_out, size, stride, seed, dtype=dtype)
    out_shape = ref.residual_block_forward(x, params, stride).shape
    scale = 0.1 if dtype == np.float32 else 1.0            # float32: as in exercise 4's test
    return randn(*out_shape, seed=seed + 2, scale=scale).astype(dtype), x, params, stride


check(residual_block_backward, ref.residual_block_backward, [
    (randn(2, 2, 3, 3, seed=100), randn(2, 2, 3, 3, seed=81), by_hand, 1),
    block_back_case(3, 4, 4, (6, 6), 1, seed=101),
    block_back_case(2, 3, 6, (8, 7), 2, seed=102),
    block_back_case(2, 3, 5, (5, 5), 1, seed=103),
    block_back_case(2, 3, 3, (5, 5), 1, seed=104, dtype=np.float32),
    block_back_case(2, 2, 4, (6, 5), 2, seed=105, dtype=np.float32),
], output_names=block_grads, hints=mistakes.residual_block_backward, allow=conv_blocks)
check(cases.block_stack(residual_block_forward, residual_block_backward, global_avg_pool, global_avg_pool_backward),
      ref.block_stack_backward, [cases.stack_case(2, 6, [3, 3, 5], [1, 2], seed=106)],
      name="your blocks (identity, then projection with stride 2) + your global average pooling",
      output_names=("pooled", "dx", "grads"), allow=conv_blocks)
### BEGIN HIDDEN TESTS
check(residual_block_backward, ref.residual_block_backward, [
    block_back_case(4, 2, 2, (4, 7), 1, seed=110),
    block_back_case(1, 5, 3, (9, 9), 2, seed=111),
    block_back_case(2, 3, 3, (7, 5), 2, seed=112, dtype=np.float32),
], output_names=block_grads, hints=mistakes.residual_block_backward, allow=conv_blocks)
check(cases.block_stack(residual_block_forward, residual_block_backward, global_avg_pool, global_avg_pool_backward),
      ref.block_stack_backward, [cases.stack_case(3, 5, [2, 4, 4, 3], [2, 1, 1], seed=113)],
      name="three of your blocks + your global average pooling",
      output_names=("pooled", "dx", "grads"), allow=conv_blocks)
### END HIDDEN TESTS

# %% [markdown] id="experiment-theory"
# ## 6. An experiment: a deep, narrow CNN on the digits, with and without skip connections
#
# The 8 x 8 digits of notebook 5a (`data.load_digits()`, 1437 for training, 360 for testing), and a network far deeper
# than they need: a stem (conv 3x3, 1 → 16 channels, BN, ReLU), then **8 blocks** of two 3x3 convolutions with batch
# norm (16 channels, 8 x 8 all the way), global average pooling and a linear layer to 10 classes — 18 layers with
# weights. Once with the skip connection in every block (a ResNet), once without (a *plain* network: the same layers,
# the same initial weights, no `+ x`); and, for comparison, a plain network of only 2 blocks (6 layers). All in
# PyTorch (float32, Adam, learning rate 0.003, batches of 64, the same batch order), 3 epochs each: a few seconds
# (skipped when grading). To go further: more epochs, more seeds, deeper stacks (`demo.make_net(depth, skip)`).

# %% id="experiment-run" tags=["demo"]
images, labels = data.load_digits()
order = np.random.default_rng(0).permutation(len(images))
X_test, y_test = images[order[:360], None], labels[order[:360]]             # (360, 1, 8, 8)
X_train, y_train = images[order[360:], None], labels[order[360:]]
DEPTH, EPOCHS = 8, 3
nets, losses, test_accuracy = {}, {}, {}
start = time.perf_counter()
for name, depth, skip in ((f"residual, {DEPTH} blocks", DEPTH, True), (f"plain, {DEPTH} blocks", DEPTH, False),
                          ("plain, 2 blocks", 2, False)):
    nets[name] = demo.make_net(depth, skip=skip, seed=0)
    losses[name] = demo.train(nets[name], X_train, y_train, epochs=EPOCHS, seed=0)
    test_accuracy[name] = demo.accuracy(nets[name], X_test, y_test)
print(f"three networks ({', '.join(str(sum(p.numel() for p in net.parameters())) for net in nets.values())} "
      f"parameters) trained in {time.perf_counter() - start:.1f} s")
for name in losses:
    print(f"{name:19s}: training loss over the last 5 steps {np.mean(losses[name][-5:]):.3f}, "
          f"test accuracy {test_accuracy[name]:.1%}")

# %% id="plot-losses" tags=["demo"]
# Plot 1: the training loss of the three networks, step by step.
resnet_plots.plot_losses(losses, steps_per_epoch=int(np.ceil(len(X_train) / 64)),
                         title=f"8 x 8 digits: {DEPTH} blocks ({2 * DEPTH + 2} layers) with and without skips, "
                               "and 2 plain blocks")
plt.show()

# %% [markdown] id="experiment-results"
# Same layers, same initial weights, same batches: the residual network's loss falls fast from the first steps,
# the plain one's crawls — and ends *above* the plain network of 2 blocks. This is the **degradation problem** He et
# al. set out to solve: a deeper plain network trains *worse* than a shallower one — on the training set, so it is
# not overfitting — although it could copy the shallower one and set its extra layers to the identity. Plain layers
# find the identity hard to learn; a residual block gets it for free (all weights zero) and only learns corrections.
# (One seed and 3 epochs here; with seeds 1 to 3 the losses moved, the order of the three did not.)
#
# ### What batch normalisation does to the feature maps
#
# Below, at initialisation (PyTorch's default weights), the mean and standard deviation of the feature maps after
# the stem and after each block, on 256 training digits, for plain networks of 8 blocks with and without batch norm,
# and for the residual network. Without BN the scale of each layer's output is whatever the weights' initialisation
# and every layer before make it (here it falls fivefold in the first block and stays near 0.02, ten times below the
# stem's; with another initialisation it could as well grow); with BN every layer's output is standardised per
# channel whatever came before. (The residual network's grows slowly:
# each block adds its branch's variance to what the shortcut carries.)

# %% id="plot-feature-stats" tags=["demo"]
# Plot 2: feature-map statistics layer by layer, with and without batch normalisation.
sample, sample_y = X_train[:256], y_train[:256]
stats = {"plain, no BN": demo.feature_stats(demo.make_net(DEPTH, skip=False, norm=False), sample),
         "plain, BN": demo.feature_stats(demo.make_net(DEPTH, skip=False), sample),
         "residual, BN": demo.feature_stats(demo.make_net(DEPTH, skip=True), sample)}
resnet_plots.plot_feature_stats(stats, title="feature maps at initialisation, after each block")
plt.show()
for name, (means, stds) in stats.items():
    print(f"{name:13s}: standard deviation after the stem {stds[0]:.3f}, after block {DEPTH} {stds[-1]:.4f}")

# %% [markdown] id="gradients-theory"
# ### The gradient layer by layer
#
# The norm of $\partial L/\partial W$ for every convolution (1 = next to the input), at initialisation, for the
# cross-entropy on the same 256 digits. Without batch norm the plain network's gradient shrinks by orders of
# magnitude from the output back to the input — the first layers barely learn; the skip connections carry it back.
# With batch norm both are of the same order at initialisation: BN fixes the *scale* of the signal, not the
# degradation the experiment above shows, which is about what the layers can learn, not only where they start.

# %% id="plot-gradients" tags=["demo"]
# Plot 3: ||dL/dW|| per layer, with and without skip connections (and batch norm).
norms = {f"{kind}, {bn}": demo.layer_gradient_norms(demo.make_net(DEPTH, skip=kind == "residual", norm=bn == "BN"),
                                                    sample, sample_y)
         for bn in ("no BN", "BN") for kind in ("plain", "residual")}
resnet_plots.plot_layer_gradients(norms, title=f"gradient norm per layer at initialisation ({DEPTH} blocks)")
plt.show()
for name, values in norms.items():
    print(f"{name:16s}: ||dL/dW|| first conv / last conv = {values[0] / values[-1]:.1e}")

# %% [markdown] id="numpy-block-theory"
# ### The trained network's blocks, in your NumPy
#
# A trained `nn.BatchNorm2d` keeps its running statistics; your functions read them. Below, the residual network's
# stem runs in PyTorch, then all 8 trained blocks run as **your** `residual_block_forward` in evaluation mode, then
# **your** global average pooling and the trained linear layer, on the test digits.

# %% id="numpy-block" tags=["demo"]
resnet = nets[f"residual, {DEPTH} blocks"].eval()
with torch.no_grad():
    a = resnet.stem(torch.as_tensor(X_test, dtype=torch.float32)).double().numpy()
    torch_logits = resnet(torch.as_tensor(X_test, dtype=torch.float32)).numpy()
for trained in resnet.blocks:
    a = my_block(a, demo.block_params(trained), 1, False)
W_out, b_out = resnet.head.weight.detach().double().numpy(), resnet.head.bias.detach().double().numpy()
numpy_logits = my_gap(a) @ W_out.T + b_out
print(f"test accuracy through your NumPy blocks {np.mean(numpy_logits.argmax(1) == y_test):.1%} "
      f"(PyTorch {np.mean(torch_logits.argmax(1) == y_test):.1%}); largest logit difference "
      f"{np.abs(numpy_logits - torch_logits).max():.1e} (PyTorch ran in float32)")
print(f"this notebook ran in {time.perf_counter() - notebook_start:.0f} s")

# %% [markdown] id="summary"
# ## Summary
#
# * **Global average pooling** turns each final feature map into its mean, (N, C, H, W) → (N, C); its backward spreads
#   $\partial L/\partial \text{pooled} / (HW)$ over every position. The head no longer depends on the image size.
# * **Batch normalisation** (`nn.BatchNorm2d`) standardises each channel over $N H W$ values and rescales it by
#   $\gamma, \beta$. Training: batch statistics, biased variance to normalise, running statistics updated as
#   $(1 - m)\,\text{old} + m\,\text{batch}$ with the **unbiased** variance and momentum $m = 0.1$. Evaluation: running
#   statistics, nothing updated.
# * Its backward pass removes from $\gamma\,\delta$ its mean and its component along $\hat x$, per channel, and scales
#   by $1/\sqrt{\sigma^2 + \varepsilon}$; $\partial L/\partial \gamma = \sum \delta \hat x$, $\partial L/\partial \beta = \sum \delta$.
# * A **residual block** computes ReLU(F(x) + shortcut(x)) with F = conv → BN → ReLU → conv → BN; the shortcut is the
#   identity, or a 1x1 convolution + BN when the stride or the channels change. Its backward sums the gradient of both
#   paths at $x$.
# * On a deep, narrow CNN the skip connections make the difference between a network that trains and one that barely
#   does; batch norm keeps the feature maps' scale fixed layer after layer; without it, the plain stack's gradient
#   vanishes towards the input while the residual stack's does not.
#
# **Next:** chapter 6's optimizers train these networks; chapter 8's Transformer uses the same two ideas — a residual
# connection around every sub-layer, and a normalisation (layer norm, per example instead of per batch).
#
# ## Glossary / 术语表
#
# | English | 中文 |
# |---|---|
# | residual connection / skip connection | 残差连接 / 跳跃连接 |
# | residual block | 残差块 |
# | residual learning | 残差学习 |
# | identity mapping | 恒等映射 |
# | projection shortcut (1x1 convolution) | 投影捷径（1×1 卷积） |
# | batch normalisation | 批归一化 |
# | running statistics (running mean / variance) | 滑动统计量（滑动均值 / 方差） |
# | biased / unbiased variance | 有偏 / 无偏方差 |
# | training mode / evaluation mode | 训练模式 / 评估模式 |
# | global average pooling | 全局平均池化 |
# | feature map | 特征图 |
# | degradation problem | 退化问题 |
# | vanishing gradient | 梯度消失 |
# | plain network | 普通网络（无残差连接） |

# %% [markdown] id="progress-title"
# ## Your progress
#
# Which exercises of this notebook pass in this session, and their points (run every test cell first,
# or *Run All*). `dlcourse progress` in a terminal shows every chapter, in fresh kernels.

# %% id="progress" tags=["demo"]
from dlcourse.progress import progress_table

progress_table()
