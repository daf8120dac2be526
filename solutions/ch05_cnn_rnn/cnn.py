# %% [markdown] id="cnn-title"
# # Chapter 5a — Convolutional networks: convolution, pooling and augmentation, forward and backward
#
# **Learning goals.** After this notebook you can
#
# 1. compute a 2-D convolution with stride and zero padding exactly as `F.conv2d` does — first with plain
#    loops, then vectorised with *im2col*, within a small factor of PyTorch's speed;
# 2. derive and code the backward pass of a convolution ($\partial L/\partial x$, $\partial L/\partial w$,
#    $\partial L/\partial b$);
# 3. write max-pooling forward and backward, including what happens when two values tie for the maximum;
# 4. flatten feature maps in the order PyTorch uses, so weights move between NumPy and PyTorch;
# 5. write data augmentation (mirror, shift) in NumPy with a seeded generator;
# 6. train a small CNN from scratch in NumPy and the same CNN in PyTorch, and reproduce the source
#    article's CIFAR-10 network (worked example **E2**).
#
# **How this notebook works.** Each exercise is a NumPy function with a stub (`raise NotImplementedError()`).
# Replace the stub with your code, run the cell, then run the test cell below it: it compares your
# function with PyTorch on fixed and on random inputs and tells you what differs. Cells that only *show*
# things use your functions once they work and the course's solved versions until then.
#
# **Threads.** Every array in this notebook is small, and on a small problem a second CPU thread costs more
# in waiting than it saves (especially on a busy shared machine). The setup cell therefore gives NumPy's
# BLAS and PyTorch one thread each — which also makes the speed comparison fair: one core against one core.
# On your own machine, with big models, delete those two lines.

# %% id="cnn-setup"
import os
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # takes effect only before NumPy is first imported
import time

notebook_start = time.perf_counter()

import numpy as np
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from dlcourse import data, plots
from dlcourse.cases import cnn as cases
from dlcourse.checking import Inputs, check, check_seeded, randn
from dlcourse.data import images as image_data
from dlcourse.demos import cnn as demos
from dlcourse.device import describe, get_device, to_numpy, to_tensor
from dlcourse.exercises import use_yours
from dlcourse.mistakes import cnn as mistakes
from dlcourse.plots import cnn as cnn_plots
from dlcourse.reference import cnn as ref
from dlcourse.solved.augmentation import random_rotate
from dlcourse.solved.backprop import dense_backward, relu_backward
from dlcourse.solved.cnn import init_cnn_params
from dlcourse.solved.gradient_descent import minibatches
from dlcourse.solved.losses import cross_entropy, cross_entropy_grad
from dlcourse.solved.networks import dense_forward, relu
from dlcourse.solved.optimizers import Adam

torch.set_num_threads(1)
torch.manual_seed(0)
print(describe())

x_ties = cases.x_ties()   # a 4 x 4 image in which every 2 x 2 window has a tie for its maximum (section 5)


# %% [markdown] id="cnn-conv-theory"
# ## 1. Convolution, the way deep-learning libraries define it
#
# A convolutional layer slides small filters over an image. Shapes follow PyTorch (**NCHW**):
#
# | array | shape | meaning |
# |---|---|---|
# | input `x` | $(N, C, H, W)$ | $N$ images of $C$ channels (3 for colour), $H \times W$ pixels |
# | weights `w` | $(C_\text{out}, C, k_H, k_W)$ | $C_\text{out}$ filters, each spanning **all** $C$ input channels |
# | bias `b` | $(C_\text{out},)$ | one number per filter |
# | output | $(N, C_\text{out}, H_\text{out}, W_\text{out})$ | one *feature map* per filter |
#
# With stride $S$ and zero padding $P$ (that many rows/columns of zeros added on **every** side), output
# pixel $(r, c)$ of filter $f$ is the filter's dot product with the window of the padded input under it:
#
# $$ \text{out}[n, f, r, c] = b_f + \sum_{k=0}^{C-1} \sum_{i=0}^{k_H-1} \sum_{j=0}^{k_W-1}
#     w[f, k, i, j]\; x_\text{pad}[n, k,\; rS + i,\; cS + j], $$
#
# $$ H_\text{out} = \left\lfloor \frac{H + 2P - k_H}{S} \right\rfloor + 1, \qquad
#    W_\text{out} = \left\lfloor \frac{W + 2P - k_W}{S} \right\rfloor + 1 . $$
#
# Three things learners trip over:
#
# * **No kernel flip.** In mathematics, a convolution flips the kernel ($\sum w[i, j]\, x[r - i, c - j]$).
#   Deep-learning libraries compute the formula above — strictly a *cross-correlation* — and still call it
#   convolution. Since the filters are learned, nothing is lost; but to match `F.conv2d`, do not flip.
# * **The "+1" and the floor** in the output size: a 5-pixel row with a 3-pixel window has 3 positions,
#   not 2; with stride 2 and $H + 2P - k_H$ odd, the last row of the input is never read.
# * **Padding goes on both sides**: $P = 1$ adds 2 to each spatial size. A $3 \times 3$ filter with $P = 1$,
#   $S = 1$ keeps the size ("same" padding).

# %% [markdown] id="cnn-ex-loops"
# ### Exercise 1 — `conv2d_forward_loops` (3 points)
#
# Compute the formula above with explicit Python loops: over images $n$, filters $f$, output rows $r$ and
# columns $c$ (the sum over the window may be one NumPy call). `x` is (N, C, H, W), `w` is
# $(C_\text{out}, C, k_H, k_W)$, `b` is $(C_\text{out},)$; the result is $(N, C_\text{out}, H_\text{out}, W_\text{out})$.
# **Dtype rule:** float32 inputs give a float32 result, float64 inputs a float64 one (the test checks both).
# This version is slow; it is the one to read when you are unsure what the fast one must do.
#
# <details><summary>Hint 1</summary>
#
# Build the padded input once, before the loops: NumPy has a function that adds zeros around chosen axes,
# and only the last two axes get padding.
# </details>
#
# <details><summary>Hint 2</summary>
#
# The window of output pixel $(r, c)$ is the slice of the padded image that starts at row $rS$, column $cS$
# and is $k_H \times k_W$ large, over all channels. Its dot product with filter $f$ is a sum of an
# element-wise product. Create the output array with the inputs' dtype.
# </details>

# %% id="ch05_conv2d_loops" nbgrader={"solution": true}
def conv2d_forward_loops(x, w, b, stride=1, padding=0):
    """F.conv2d(x, w, b, stride, padding) with explicit loops: x (N, C, H, W), w (F, C, kH, kW), b (F,)."""
    ### BEGIN SOLUTION
    n, _, h, wd = x.shape
    n_filters, _, kh, kw = w.shape
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (wd + 2 * padding - kw) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((n, n_filters, h_out, w_out), dtype=x.dtype)
    for i in range(n):
        for f in range(n_filters):
            for r in range(h_out):
                for c in range(w_out):
                    window = xp[i, :, r * stride:r * stride + kh, c * stride:c * stride + kw]
                    out[i, f, r, c] = np.sum(window * w[f]) + b[f]
    return out
    ### END SOLUTION


# %% id="ch05_conv2d_loops_test" nbgrader={"grade": true, "locked": true, "points": 3}
# Case 1 by hand: a 4x4 image and a 2x2 filter, out[0, 0, r, c] = x[r, c] - x[r+1, c+1] + 0.5 = -4.5 everywhere.
# Then: padding 1 and 2, stride 2 and 3, non-square images and kernels, and float32 in -> float32 out.
x_small, w_small = np.arange(16.0).reshape(1, 1, 4, 4), np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
conv_cases = [
    (x_small, w_small, np.array([0.5])),
    Inputs(x_small, w_small, np.array([0.5]), padding=1),
    Inputs(randn(2, 3, 5, 5, seed=1), randn(4, 3, 3, 3, seed=2), randn(4, seed=3)),
    Inputs(randn(2, 2, 7, 6, seed=4), randn(3, 2, 3, 3, seed=5), randn(3, seed=6), stride=2, padding=1),
    Inputs(randn(2, 3, 7, 5, seed=7), randn(2, 3, 3, 2, seed=8), randn(2, seed=9), padding=2),
    Inputs(randn(1, 2, 8, 7, seed=10), randn(2, 2, 2, 3, seed=11), randn(2, seed=12), stride=3),
    Inputs(randn(2, 2, 5, 4, seed=13).astype(np.float32), randn(3, 2, 2, 2, seed=14).astype(np.float32),
           randn(3, seed=15).astype(np.float32), stride=2, padding=1),
]
check(conv2d_forward_loops, ref.conv2d_forward, conv_cases, hints=mistakes.conv2d_forward_loops)
### BEGIN HIDDEN TESTS
check(conv2d_forward_loops, ref.conv2d_forward, [
    Inputs(randn(1, 1, 5, 6, seed=16), randn(1, 1, 2, 3, seed=17), randn(1, seed=18), stride=2),     # batch 1, 1 channel
    Inputs(randn(3, 2, 6, 9, seed=19), randn(4, 2, 3, 1, seed=20), randn(4, seed=21), stride=2, padding=1),
    Inputs(randn(2, 3, 3, 3, seed=22), randn(2, 3, 5, 5, seed=23), randn(2, seed=24), padding=1),   # 1x1 output
    Inputs(randn(2, 2, 6, 7, seed=25).astype(np.float32), randn(2, 2, 3, 2, seed=26).astype(np.float32),
           randn(2, seed=27).astype(np.float32), stride=3, padding=2),
], hints=mistakes.conv2d_forward_loops)
### END HIDDEN TESTS

# %% [markdown] id="cnn-im2col-theory"
# ## 2. Vectorising: im2col
#
# The loops do $N \cdot C_\text{out} \cdot H_\text{out} \cdot W_\text{out}$ small dot products. Two
# observations turn them into **one matrix product**:
#
# 1. Every output pixel reads one *window* of $C \cdot k_H \cdot k_W$ input values. Lay each window out as a
#    column, and image $n$ becomes a matrix $X_\text{col}[n]$ of shape $(C k_H k_W,\; H_\text{out} W_\text{out})$
#    — "image to columns", **im2col**.
# 2. Each filter, flattened in the same order, is a row of $W_\text{row} = $ `w.reshape(C_out, -1)`. Then
#
# $$ \text{out}[n] = W_\text{row}\, X_\text{col}[n] + b \quad (C_\text{out} \times H_\text{out} W_\text{out}),
#    \text{ reshaped to } (C_\text{out}, H_\text{out}, W_\text{out}). $$
#
# NumPy builds the windows without copying anything:
# `np.lib.stride_tricks.sliding_window_view(x_pad, (kH, kW), axis=(2, 3))` has shape
# $(N, C, H_p - k_H + 1, W_p - k_W + 1, k_H, k_W)$ and is a *view* of `x_pad` (same memory, other strides).
# Slicing `[:, :, ::S, ::S]` keeps the windows a stride $S$ visits. Then move the axes into the order
# $(N, C, k_H, k_W, H_\text{out}, W_\text{out})$ with `transpose` and `reshape` to
# $(N, C k_H k_W, H_\text{out} W_\text{out})$: that reshape is the one real copy. `W_row @ cols` with `cols`
# of shape $(N, \cdot, \cdot)$ multiplies every image's matrix at once (a *batched* matrix product), and
# its result $(N, C_\text{out}, H_\text{out} W_\text{out})$ reshapes straight to NCHW.
#
# The price is memory: each input pixel is copied up to $k_H k_W$ times. The gain: the arithmetic runs in
# an optimised matrix-product routine (BLAS) instead of the Python interpreter.

# %% [markdown] id="cnn-ex-forward"
# ### Exercise 2 — `im2col` and `conv2d_forward` (4 points)
#
# Write `im2col(x, kh, kw, stride, padding)` returning the columns of shape $(N, C k_H k_W, H_\text{out} W_\text{out})$
# (column $p$ of image $n$ holds the window of output pixel $p$, row-major, in the order of `w[f].ravel()`),
# and `conv2d_forward` with it: no Python loop over images, filters or pixels. Same contract as Exercise 1,
# dtype rule included (float32 in, float32 out). The backward pass (Exercise 3) can reuse your `im2col`.
#
# <details><summary>Hint 1</summary>
#
# Pad first; then let NumPy's sliding-window view give you every $k_H \times k_W$ window of the last two axes,
# and keep only the windows a stride visits by slicing those two window-position axes with a step.
# </details>
#
# <details><summary>Hint 2</summary>
#
# The windows' axes are (N, C, positions down, positions across, $k_H$, $k_W$). A column must run through
# C, then $k_H$, then $k_W$ (like `w[f].ravel()`), and the columns through the positions row by row:
# move the axes into that order, then one reshape. For the forward pass, the flattened filters times the
# columns is a batched matrix product; add the bias with broadcasting, then reshape to NCHW.
# </details>

# %% id="ch05_conv2d_forward" nbgrader={"solution": true}
from numpy.lib.stride_tricks import sliding_window_view


def im2col(x, kh, kw, stride=1, padding=0):
    """Receptive fields as columns: (N, C*kh*kw, H_out*W_out), each column ordered like w[f].ravel()."""
    ### BEGIN SOLUTION
    n, c = x.shape[:2]
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]   # (N, C, Ho, Wo, kh, kw)
    h_out, w_out = windows.shape[2:4]
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, h_out * w_out)
    ### END SOLUTION


def conv2d_forward(x, w, b, stride=1, padding=0):
    """F.conv2d(x, w, b, stride, padding), vectorised: x (N, C, H, W), w (F, C, kH, kW), b (F,)."""
    ### BEGIN SOLUTION
    n, _, h, wd = x.shape
    n_filters, _, kh, kw = w.shape
    h_out = (h + 2 * padding - kh) // stride + 1
    w_out = (wd + 2 * padding - kw) // stride + 1
    out = w.reshape(n_filters, -1) @ im2col(x, kh, kw, stride, padding) + b[:, None]
    return out.reshape(n, n_filters, h_out, w_out)
    ### END SOLUTION


# %% id="ch05_conv2d_forward_test" nbgrader={"grade": true, "locked": true, "points": 4}
# The cases of Exercise 1, and a bigger batch.
check(conv2d_forward, ref.conv2d_forward, conv_cases + [
    Inputs(randn(8, 3, 16, 16, seed=28), randn(16, 3, 5, 5, seed=29), randn(16, seed=30), padding=2),
], hints=mistakes.conv2d_forward)
### BEGIN HIDDEN TESTS
check(conv2d_forward, ref.conv2d_forward, [
    Inputs(randn(1, 1, 5, 6, seed=34), randn(1, 1, 2, 3, seed=35), randn(1, seed=36), stride=2),     # batch 1, 1 channel
    Inputs(randn(3, 2, 6, 9, seed=37), randn(4, 2, 3, 1, seed=38), randn(4, seed=39), stride=2, padding=1),
    Inputs(randn(2, 4, 10, 7, seed=40), randn(3, 4, 4, 2, seed=41), randn(3, seed=42), stride=3, padding=1),
    Inputs(randn(2, 3, 3, 3, seed=43), randn(2, 3, 5, 5, seed=44), randn(2, seed=45), padding=1),   # 1x1 output
    Inputs(randn(2, 2, 6, 7, seed=46).astype(np.float32), randn(3, 2, 3, 2, seed=47).astype(np.float32),
           randn(3, seed=48).astype(np.float32), stride=3, padding=2),
], hints=mistakes.conv2d_forward)
### END HIDDEN TESTS

# %% [markdown] id="cnn-pytorch-forward"
# ### The same in PyTorch
#
# `F.conv2d(x, w, b, stride, padding)` is the function; `nn.Conv2d(C, C_out, (kH, kW), stride, padding)` is
# the layer that owns `weight` (shape $(C_\text{out}, C, k_H, k_W)$, our layout) and `bias`. Copy our
# arrays into the layer and the outputs agree to rounding error:

# %% id="cnn-pytorch-forward-code" tags=["demo"]
my_conv2d = use_yours(conv2d_forward, "cnn.conv2d_forward")
x, w, b = randn(2, 3, 6, 5, seed=50), randn(4, 3, 3, 2, seed=51), randn(4, seed=52)
layer = nn.Conv2d(3, 4, kernel_size=(3, 2), stride=2, padding=1, dtype=torch.float64).to(get_device())
with torch.no_grad():
    layer.weight.copy_(to_tensor(w))
    layer.bias.copy_(to_tensor(b))
mine = my_conv2d(x, w, b, stride=2, padding=1)
theirs = to_numpy(layer(to_tensor(x)))
print("output shape, NumPy:", mine.shape, " nn.Conv2d:", theirs.shape)
print("largest difference:", np.abs(mine - theirs).max())


# %% [markdown] id="cnn-backward-theory"
# ## 3. The backward pass of a convolution
#
# Write $\delta = \partial L / \partial\,\text{out}$ (shape of the output). Each weight $w[f, k, i, j]$
# touches every output pixel of filter $f$, and each input pixel is read by every window that covers it.
# The chain rule, applied to the forward formula, gives
#
# $$ \frac{\partial L}{\partial b_f} = \sum_{n, r, c} \delta[n, f, r, c], \qquad
#    \frac{\partial L}{\partial w[f, k, i, j]} = \sum_{n, r, c} \delta[n, f, r, c]\; x_\text{pad}[n, k, rS + i, cS + j], $$
#
# $$ \frac{\partial L}{\partial x_\text{pad}[n, k, rS + i, cS + j]} \mathrel{+}= \sum_f \delta[n, f, r, c]\; w[f, k, i, j]
#    \quad\text{for every } (r, c, i, j), $$
#
# and $\partial L / \partial x$ is $\partial L / \partial x_\text{pad}$ with the padding cut off (the zeros
# are not inputs). The **"+="** matters: when windows overlap ($k > S$), one input pixel receives
# gradient from several output pixels, and the contributions add up.
#
# In im2col form the forward pass was $\text{out}[n] = W_\text{row} X_\text{col}[n] + b$, a matrix product,
# so its gradients are the ones of chapter 2's dense layer:
#
# * $\partial L/\partial W_\text{row} = \sum_n \delta[n]\, X_\text{col}[n]^\top$ (then reshape to `w.shape`),
#   with $\delta[n]$ reshaped to $(C_\text{out}, H_\text{out} W_\text{out})$;
# * $\partial L/\partial X_\text{col}[n] = W_\text{row}^\top\, \delta[n]$ — then **col2im**: add every
#   column entry back onto the input pixel it was copied from. Looping over the $k_H k_W$ kernel offsets
#   $(i, j)$ only, each offset touches the input pixels $(rS + i, cS + j)$ of every output pixel $(r, c)$:
#   one strided slice of the padded input per offset.

# %% [markdown] id="cnn-ex-backward"
# ### Exercise 3 — `conv2d_backward` (6 points)
#
# Return `(dx, dw, db)` for `out = conv2d_forward(x, w, b, stride, padding)` given `dout` $= \delta$. The
# bias does not enter any of the three formulas, so it is not an argument. Loops over the kernel offsets
# are fine; no loops over images or pixels. Each gradient has the shape of what it is the gradient of, and
# the dtype of the inputs (float32 in, float32 out).
#
# <details><summary>Hint 1</summary>
#
# `db` and `dw` need no new idea: they are the dense layer's bias and weight gradients, with $\delta$ laid out
# as $(N, C_\text{out}, H_\text{out} W_\text{out})$ and your `im2col` columns, summed over the batch.
# </details>
#
# <details><summary>Hint 2</summary>
#
# For `dx`: the transposed flattened filters times $\delta$ gives the gradient of every column entry. Reshape
# it to $(N, C, k_H, k_W, H_\text{out}, W_\text{out})$; for each kernel offset $(i, j)$, the entries
# `[:, :, i, j]` belong to the padded-input pixels starting at $(i, j)$ with step $S$, $H_\text{out}$ by
# $W_\text{out}$ of them. Add them there (windows overlap), in an array of zeros of the padded shape, then
# cut the padding off.
# </details>

# %% id="ch05_conv2d_backward" nbgrader={"solution": true}
def conv2d_backward(dout, x, w, stride=1, padding=0):
    """(dx, dw, db) of the convolution, given dout of shape (N, F, H_out, W_out)."""
    ### BEGIN SOLUTION
    n, c, h, wd = x.shape
    n_filters, _, kh, kw = w.shape
    h_out, w_out = dout.shape[2:]
    dout_rows = dout.reshape(n, n_filters, h_out * w_out)
    db = dout.sum(axis=(0, 2, 3))
    dw = (dout_rows @ im2col(x, kh, kw, stride, padding).transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    dcols = (w.reshape(n_filters, -1).T @ dout_rows).reshape(n, c, kh, kw, h_out, w_out)
    dx_pad = np.zeros((n, c, h + 2 * padding, wd + 2 * padding), dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx_pad[:, :, i:i + stride * h_out:stride, j:j + stride * w_out:stride] += dcols[:, :, i, j]
    dx = dx_pad[:, :, padding:padding + h, padding:padding + wd]
    return dx, dw, db
    ### END SOLUTION


# %% id="ch05_conv2d_backward_test" nbgrader={"grade": true, "locked": true, "points": 6}
# Case 1 by hand: a 3x3 image, a 2x2 filter of ones, dout of ones. Then dx counts how many windows read each
# pixel ([[1, 2, 1], [2, 4, 2], [1, 2, 1]]), dw sums each 2x2 sub-square's pixels, and db = 4.
# cases.backward_case(x shape, w shape, stride, padding) draws x, w and a dout of the output's shape.
backward_cases = [
    (np.ones((1, 1, 2, 2)), np.arange(9.0).reshape(1, 1, 3, 3), np.ones((1, 1, 2, 2))),
    cases.backward_case((2, 3, 5, 5), (4, 3, 3, 3), seed=60),
    cases.backward_case((2, 3, 6, 6), (4, 3, 3, 3), padding=1, seed=63),
    cases.backward_case((2, 2, 7, 7), (3, 2, 3, 3), stride=2, padding=1, seed=66),     # overlapping windows
    cases.backward_case((2, 3, 7, 5), (2, 3, 3, 2), padding=2, seed=69),               # non-square input and kernel
    cases.backward_case((2, 2, 6, 6), (3, 2, 3, 3), stride=2, seed=72),                # last row/column never read
    cases.backward_case((2, 2, 5, 4), (3, 2, 2, 2), stride=2, padding=1, seed=75, dtype=np.float32),
]
check(conv2d_backward, ref.conv2d_backward, backward_cases, output_names=("dx", "dw", "db"),
      hints=mistakes.conv2d_backward)
### BEGIN HIDDEN TESTS
check(conv2d_backward, ref.conv2d_backward, [
    cases.backward_case((1, 1, 5, 6), (1, 1, 2, 3), stride=2, seed=78),                # batch 1, one channel
    cases.backward_case((3, 2, 6, 9), (4, 2, 3, 1), stride=2, padding=1, seed=81),
    cases.backward_case((2, 4, 10, 7), (3, 4, 4, 2), stride=3, padding=1, seed=84),
    cases.backward_case((2, 3, 7, 6), (2, 3, 3, 2), stride=2, padding=2, seed=87, dtype=np.float32),
], output_names=("dx", "dw", "db"), hints=mistakes.conv2d_backward)
### END HIDDEN TESTS

# %% [markdown] id="cnn-pytorch-backward"
# ### The same in PyTorch: autograd
#
# PyTorch records the forward pass and runs exactly these formulas backwards when asked. Below, the loss
# $L = \sum \text{out} \odot \delta$ (whose gradient with respect to `out` is $\delta$) is differentiated by
# autograd and compared with your three arrays.

# %% id="cnn-pytorch-backward-code" tags=["demo"]
my_conv2d_backward = use_yours(conv2d_backward, "cnn.conv2d_backward")
x, w, b = randn(2, 3, 6, 5, seed=90), randn(4, 3, 3, 2, seed=91), randn(4, seed=92)
delta = randn(2, 4, 3, 3, seed=93)
xt, wt, bt = (to_tensor(a, requires_grad=True) for a in (x, w, b))
(F.conv2d(xt, wt, bt, stride=2, padding=1) * to_tensor(delta)).sum().backward()
for name, mine, theirs in zip(("dx", "dw", "db"), my_conv2d_backward(delta, x, w, stride=2, padding=1),
                              (xt.grad, wt.grad, bt.grad)):
    print(f"{name}: shape {mine.shape}, largest difference to autograd {np.abs(mine - to_numpy(theirs)).max():.1e}")

# %% [markdown] id="cnn-speed-theory"
# ## 4. How fast? Loops, im2col and PyTorch
#
# First the forward pass on a small batch (8 images of 3 x 16 x 16, 8 filters of 3 x 3): the loop version,
# your vectorised version, and `F.conv2d`, all on the CPU. Then the measurement that matters for
# training, forward **and** backward on a realistic layer: a batch of 64 images of 3 x 32 x 32 (CIFAR-10's
# size), 32 filters of 3 x 3, stride 1, padding 1 — your `conv2d_forward` + `conv2d_backward` against
# `F.conv2d` + autograd, in float32 (what CNNs train in) and float64. Each time is the median of several runs.
# The times depend on the machine and on what else runs on it; the *ratios* are the point.

# %% id="cnn-speed-code" tags=["demo"]
# demos.conv_timings runs the race described above (median times in ms, CPU, one thread)
my_conv_loops = use_yours(conv2d_forward_loops, "cnn.conv2d_forward_loops")
small, speed = demos.conv_timings(my_conv2d, my_conv2d_backward, my_conv_loops)
for name, ms in small.items():
    print(f"forward, 8 x 3 x 16 x 16, 8 filters   {name:22s} {ms:9.2f} ms")
for name, (numpy_ms, torch_ms) in speed.items():
    print(f"forward + backward, 64 x 3 x 32 x 32, 32 filters, {name}: NumPy {numpy_ms:6.1f} ms, "
          f"PyTorch {torch_ms:6.1f} ms, ratio {numpy_ms / torch_ms:.2f}")
conv_ratio = speed["float32"][0] / speed["float32"][1]
cnn_plots.plot_timings(small, title="conv2d forward on the CPU, 8 x 3 x 16 x 16 (one thread)")
plt.show()

# %% [markdown] id="cnn-speed-comment"
# The loops are about a thousand times slower than im2col: the interpreter pays for every window. im2col
# lands within a small factor of PyTorch, often on par on one thread: both spend their time in matrix
# products. In float32, PyTorch's CPU convolutions come from oneDNN, a library tuned for each CPU; in
# float64 it has no oneDNN kernel and does im2col ("unfold") plus a matrix product itself, much like you.
# On a GPU, `F.conv2d` calls cuDNN and leaves any CPU code far behind — that is why real networks train
# there.

# %% [markdown] id="cnn-pool-theory"
# ## 5. Max-pooling
#
# A pooling layer shrinks feature maps: max-pooling with window $k$ and stride $S$ keeps the largest value of
# each $k \times k$ window, channel by channel:
#
# $$ \text{out}[n, c, r, s] = \max_{0 \le i, j < k} x[n, c,\; rS + i,\; sS + j], \qquad
#    H_\text{out} = \lfloor (H - k)/S \rfloor + 1. $$
#
# In PyTorch, `F.max_pool2d(x, k)` uses stride $S = k$ unless told otherwise (non-overlapping windows, the
# usual $2 \times 2$ pooling halves $H$ and $W$). It has no parameters; it gives a little invariance to
# small shifts and cuts the computation of the next layers.
#
# **Backward.** Inside a window, only the maximum influenced the output, so the window's gradient goes
# entirely to the position of the maximum, and every other position gets 0:
# $\partial L / \partial x[\text{argmax}] \mathrel{+}= \delta[n, c, r, s]$. Windows that overlap ($S < k$)
# can share a maximum, which then receives the **sum** of their gradients.
#
# **Ties.** When two entries of a window are equal and maximal, the max is not differentiable there and
# any split of the gradient between them is a valid *subgradient*. Libraries pick one rule.
# **PyTorch's rule (CPU and CUDA): the whole gradient goes to the *first* maximum in row-major order** —
# scanning the window's top row left to right, then the next row. `np.argmax` on the window flattened in
# row-major order returns exactly that index. See it:

# %% id="cnn-pool-ties" tags=["demo"]
xt = to_tensor(x_ties, requires_grad=True)
F.max_pool2d(xt, 2).sum().backward()
print("input (every 2x2 window has a tie):\n", x_ties[0, 0])
print("PyTorch's gradient of max_pool2d(x, 2).sum(): one 1 per window, at its first maximum\n", to_numpy(xt.grad)[0, 0])


# %% [markdown] id="cnn-ex-pool-forward"
# ### Exercise 4 — `maxpool_forward` (2 points)
#
# Return `F.max_pool2d(x, size, stride)` for `x` of shape (N, C, H, W); `stride=None` means `stride = size`.
# The inputs can be negative; windows may overlap (`stride < size`). Float32 in, float32 out.
#
# <details><summary>Hint 1</summary>
#
# The windows are the convolution's windows without padding, taken per channel: the sliding-window view of
# Exercise 2 gives them, and a maximum over the two window axes finishes the job. (A loop over the
# `size` x `size` offsets, taking an element-wise maximum of strided slices, works too.)
# </details>

# %% id="ch05_maxpool_forward" nbgrader={"solution": true}
def maxpool_forward(x, size=2, stride=None):
    """Max over every size x size window (stride defaults to size): (N, C, H_out, W_out)."""
    ### BEGIN SOLUTION
    stride = size if stride is None else stride
    windows = sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    return windows.max(axis=(4, 5))
    ### END SOLUTION


# %% id="ch05_maxpool_forward_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(maxpool_forward, ref.maxpool_forward, [
    x_ties,
    randn(2, 3, 6, 6, seed=110),
    Inputs(randn(2, 2, 7, 7, seed=111), 3, stride=2),                 # stride != size, the last row unused
    Inputs(randn(2, 3, 5, 6, seed=112), 3, stride=1),                 # overlapping windows, non-square
    Inputs(-np.abs(randn(2, 2, 4, 4, seed=113)) - 1.0, 2),            # every value negative
    Inputs(randn(3, 4, 8, 6, seed=114).astype(np.float32), 2, stride=1),
], hints=mistakes.maxpool_forward)
### BEGIN HIDDEN TESTS
check(maxpool_forward, ref.maxpool_forward, [
    Inputs(randn(1, 1, 7, 4, seed=115), 2),                           # batch 1, 1 channel, odd size
    Inputs(randn(2, 3, 9, 8, seed=116), 4, stride=3),
    Inputs(randn(2, 2, 6, 7, seed=117).astype(np.float32), 3, stride=2),
], hints=mistakes.maxpool_forward)
### END HIDDEN TESTS

# %% [markdown] id="cnn-ex-pool-backward"
# ### Exercise 5 — `maxpool_backward` (4 points)
#
# Return $\partial L / \partial x$ (shape of `x`) given `dout` $= \partial L / \partial\,\text{out}$: each
# window's gradient goes to its maximum, **on a tie to the first maximum in row-major order** (PyTorch's
# rule), and overlapping windows add up. The result has `dout`'s dtype (float32 in, float32 out).
#
# <details><summary>Hint 1</summary>
#
# Find, for every window, *which* of its `size * size` entries is the first maximum: flatten each window in
# row-major order and ask NumPy for the index of its largest entry (it returns the first one on a tie).
# </details>
#
# <details><summary>Hint 2</summary>
#
# Then loop over the offsets $(i, j)$ of a window, as in the convolution's backward pass: the windows'
# entries at offset $(i, j)$ are a strided slice of `x`, and each receives `dout` where its offset is the
# window's first maximum, 0 elsewhere. Add, do not assign: overlapping windows share entries.
# </details>

# %% id="ch05_maxpool_backward" nbgrader={"solution": true}
def maxpool_backward(dout, x, size=2, stride=None):
    """dL/dx of max-pooling: each window's gradient to its first maximum (row-major), summed over windows."""
    ### BEGIN SOLUTION
    stride = size if stride is None else stride
    windows = sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, h_out, w_out = windows.shape[:4]
    first_max = windows.reshape(n, c, h_out, w_out, size * size).argmax(axis=4)
    dx = np.zeros(x.shape, dtype=dout.dtype)
    for i in range(size):
        for j in range(size):
            dx[:, :, i:i + stride * h_out:stride, j:j + stride * w_out:stride] += dout * (first_max == i * size + j)
    return dx
    ### END SOLUTION


# %% id="ch05_maxpool_backward_test" nbgrader={"grade": true, "locked": true, "points": 4}
# cases.pool_case(x, size, stride) adds a random dout of the pooled shape. Rounded values: many ties.
integers = np.round(randn(2, 3, 6, 6, seed=120))
check(maxpool_backward, ref.maxpool_backward, [
    Inputs(np.ones((1, 1, 2, 2)), x_ties, 2, None),
    cases.pool_case(randn(2, 3, 6, 6, seed=121), seed=122),
    cases.pool_case(integers, seed=123),
    cases.pool_case(integers, 3, 1, seed=124),                                # overlapping windows with ties
    cases.pool_case(np.round(randn(2, 2, 7, 6, seed=125)), 3, 2, seed=126),    # overlap by one, unused last row
    cases.pool_case(np.zeros((1, 2, 4, 4)), 2, seed=127),                      # every entry ties
    cases.pool_case(np.round(randn(2, 3, 6, 4, seed=128)).astype(np.float32), 2, seed=129),
], hints=mistakes.maxpool_backward)
### BEGIN HIDDEN TESTS
check(maxpool_backward, ref.maxpool_backward, [
    cases.pool_case(np.round(randn(1, 1, 5, 8, seed=130)), 2, 1, seed=131),    # batch 1, one channel, non-square
    cases.pool_case(-np.abs(randn(2, 2, 4, 6, seed=132)), 2, seed=133),
    cases.pool_case(np.round(randn(2, 2, 9, 7, seed=134)), 4, 3, seed=135),
    cases.pool_case(np.round(randn(2, 2, 7, 7, seed=136)).astype(np.float32), 3, 2, seed=137),
], hints=mistakes.maxpool_backward)
### END HIDDEN TESTS

# %% [markdown] id="cnn-flatten-theory"
# ## 6. Flatten
#
# Between the convolutional part and the dense layers, each example's feature maps $(C, H, W)$ become one
# vector of length $C H W$. The **order** matters the moment weights move between frameworks: PyTorch's
# `nn.Flatten()` (and `x.reshape(N, -1)` on an NCHW array) runs through channels, then rows, then columns
# — index $c H W + h W + w$. Keras, which stores images channels-last (NHWC), flattens in the order
# $(h, w, c)$; a dense layer trained on one order gives garbage with the other. Flatten has no parameters;
# its backward pass is a reshape of the gradient back to the input's shape.

# %% [markdown] id="cnn-ex-flatten"
# ### Exercise 6 — `flatten` and `flatten_backward` (1 point)
#
# `flatten(x)`: (N, C, H, W) → (N, C·H·W) in PyTorch's order. `flatten_backward(dout, x_shape)`: the
# gradient with respect to the input, of shape `x_shape`. Both keep the dtype of their array argument.

# %% id="ch05_flatten" nbgrader={"solution": true}
def flatten(x):
    """(N, C, H, W) -> (N, C*H*W), channels first, like nn.Flatten."""
    ### BEGIN SOLUTION
    return x.reshape(x.shape[0], -1)
    ### END SOLUTION


def flatten_backward(dout, x_shape):
    """Gradient of flatten: dout (N, C*H*W) back to x_shape."""
    ### BEGIN SOLUTION
    return dout.reshape(x_shape)
    ### END SOLUTION


# %% id="ch05_flatten_test" nbgrader={"grade": true, "locked": true, "points": 1}
check(flatten, ref.flatten, [np.arange(24.0).reshape(2, 3, 2, 2), randn(4, 3, 5, 2, seed=140),
                             randn(3, 1, 4, 7, seed=141).astype(np.float32)], hints=mistakes.flatten)
check(flatten_backward, ref.flatten_backward, [(randn(4, 30, seed=142), (4, 3, 5, 2)),
                                               (randn(3, 28, seed=143).astype(np.float32), (3, 1, 4, 7))],
      hints=mistakes.flatten_backward)
### BEGIN HIDDEN TESTS
check(flatten, ref.flatten, [randn(1, 16, 2, 2, seed=144), randn(2, 5, 3, 3, seed=145).astype(np.float32)],
      hints=mistakes.flatten)
check(flatten_backward, ref.flatten_backward, [(randn(1, 64, seed=146), (1, 16, 2, 2)),
                                               (randn(2, 45, seed=147).astype(np.float32), (2, 5, 3, 3))],
      hints=mistakes.flatten_backward)
### END HIDDEN TESTS

# %% [markdown] id="cnn-digits-theory"
# ## 7. A CNN from scratch on the digits
#
# Every piece is there. A small CNN for the 8 x 8 handwritten digits (`data.load_digits()`, 1797 images):
#
# ```
# input 1x8x8 -> conv 8 filters 3x3, pad 1 -> ReLU -> max-pool 2 -> 8x4x4
#             -> conv 16 filters 3x3, pad 1 -> ReLU -> max-pool 2 -> 16x2x2 -> flatten 64 -> dense 10 (logits)
# ```
#
# The forward pass chains your layers and keeps what each backward step needs; the backward pass runs
# the chain backwards — dense (chapter 2), flatten, pool, ReLU, conv, pool, ReLU, conv. The loss is the
# cross-entropy of chapter 4, the optimizer Adam of chapter 6 (both from the package). Then PyTorch trains
# **the same network**: `demos.build_cnn` copies the same initial weights into an `nn.Sequential`, and both
# see the same mini-batches in the same order, in float64 — so the two loss curves must coincide.

# %% id="cnn-digits-model" tags=["demo"]
my_maxpool = use_yours(maxpool_forward, "cnn.maxpool_forward")
my_maxpool_backward = use_yours(maxpool_backward, "cnn.maxpool_backward")
my_flatten, my_flatten_backward = use_yours(flatten, "cnn.flatten"), use_yours(flatten_backward, "cnn.flatten_backward")


def cnn_forward(X, params):
    """Logits of [conv 3x3 pad 1 -> ReLU -> max-pool 2] * 2 -> flatten -> dense, and the caches for backward."""
    caches, A = [], X
    for layer in (1, 2):
        Z = my_conv2d(A, params[f"Wc{layer}"], params[f"bc{layer}"], 1, 1)
        R = relu(Z)
        caches.append((A, Z, R))
        A = my_maxpool(R, 2)
    flat = my_flatten(A)
    caches.append((A.shape, flat))
    return dense_forward(flat, params["Wd1"], params["bd1"]), caches


def cnn_backward(dlogits, caches, params):
    """Gradients of every parameter, from dL/dlogits, running the forward chain backwards."""
    grads = {}
    pooled_shape, flat = caches[-1]
    dflat, grads["Wd1"], grads["bd1"] = dense_backward(dlogits, flat, params["Wd1"])
    dA = my_flatten_backward(dflat, pooled_shape)
    for layer in (2, 1):
        A_prev, Z, R = caches[layer - 1]
        dZ = relu_backward(my_maxpool_backward(dA, R, 2), Z)
        dA, grads[f"Wc{layer}"], grads[f"bc{layer}"] = my_conv2d_backward(dZ, A_prev, params[f"Wc{layer}"], 1, 1)
    return grads


images, labels = data.load_digits()
order = np.random.default_rng(0).permutation(len(images))
test_idx, train_idx = order[:360], order[360:]
X_train, y_train = images[train_idx, None], labels[train_idx]      # (1437, 1, 8, 8): one channel
X_test, y_test = images[test_idx, None], labels[test_idx]
initial = init_cnn_params(1, [8, 16], [10], image_size=8, seed=0)
print("parameters:", {k: v.shape for k, v in initial.items()}, "-", sum(v.size for v in initial.values()), "in all")

# %% id="cnn-digits-train" tags=["demo"]
EPOCHS, BATCH, LR = 6, 32, 3e-3
params = {k: v.copy() for k, v in initial.items()}
optimizer = Adam(lr=LR)
numpy_losses = []
start = time.perf_counter()
for epoch in range(EPOCHS):
    batch_losses = []
    for X_batch, y_batch in minibatches(X_train, y_train, BATCH, seed=epoch):
        logits, caches = cnn_forward(X_batch, params)
        batch_losses.append(cross_entropy(logits, y_batch))
        optimizer.step(params, cnn_backward(cross_entropy_grad(logits, y_batch), caches, params))
    numpy_losses.append(float(np.mean(batch_losses)))
numpy_seconds = time.perf_counter() - start
numpy_accuracy = float(np.mean(cnn_forward(X_test, params)[0].argmax(axis=1) == y_test))

torch_cnn = demos.build_cnn(initial)            # the same initial weights, float64, on get_device()
print(torch_cnn)
start = time.perf_counter()
torch_history = demos.fit_torch_classifier(torch_cnn, X_train, y_train, epochs=EPOCHS, batch_size=BATCH, lr=LR)
torch_seconds = time.perf_counter() - start
torch_accuracy = demos.torch_accuracy(torch_cnn, X_test, y_test)
print(f"NumPy CNN:   test accuracy {numpy_accuracy:.1%}, trained in {numpy_seconds:.1f} s")
print(f"PyTorch CNN: test accuracy {torch_accuracy:.1%}, trained in {torch_seconds:.1f} s on {get_device()}")
print("largest difference between the per-epoch losses:", np.abs(np.array(numpy_losses) - torch_history["loss"]).max())

# %% id="cnn-digits-plot-loss" tags=["demo"]
# Plot: the two training curves lie on top of each other.
ax = plots.plot_curves({"NumPy (your layers)": numpy_losses, "PyTorch": torch_history["loss"]}, xlabel="epoch",
                       ylabel="mean training loss", title="the same CNN, the same batches: NumPy and PyTorch")
ax.lines[1].set(linestyle="--", linewidth=2.5)   # dashed, or it would hide the NumPy curve exactly
ax.legend()
plt.show()

# %% [markdown] id="cnn-filters-theory"
# ### What did it learn?
#
# The first layer's eight 3 x 3 filters (red positive, blue negative), and the feature maps a test digit
# produces: each map is high where its filter's pattern (an edge, a stroke direction) appears. The second
# layer's maps (the first 8 of 16 shown) are coarser (4 x 4) and combine the first layer's patterns.

# %% id="cnn-filters-plot" tags=["demo"]
cnn_plots.plot_filters(params["Wc1"], n_cols=8, title="first-layer filters learned by the NumPy CNN")
plt.show()
digit = X_test[:1]
_, digit_caches = cnn_forward(digit, params)
cnn_plots.plot_feature_maps(digit[0, 0], {"conv1": digit_caches[0][2][0], "conv2": digit_caches[1][2][0]}, max_maps=8,
                            title=f"feature maps (after ReLU) of a test '{y_test[0]}'")
plt.show()


# %% [markdown] id="cnn-augment-theory"
# ## 8. Data augmentation in NumPy
#
# A network that has seen a cat facing left should also know the cat facing right. **Data augmentation**
# makes new training images by changes that keep the label: mirroring, small shifts, small rotations,
# brightness changes. It is a cure for overfitting that adds data without collecting any — the source
# articles list "more data" as the first cure. Three rules:
#
# * augment the **training** batches only, a new random draw each time; evaluate on the original test images;
# * only changes that keep the label: a horizontal flip is fine for CIFAR-10's cars and cats, wrong for
#   digits (a mirrored 3 is no 3) and for text;
# * pixels that come in from outside the picture need a value: here zeros ("zero fill"). `np.roll` would
#   wrap the pixels that leave one side around to the other — a different, usually wrong, image.
#
# Our images are (N, C, H, W): "horizontal" is the **last** axis (W). Shifting image $n$ by
# $(d_y, d_x)$ means $\text{out}[n, :, r, c] = x[n, :, r - d_y, c - d_x]$ where that is inside the image, else 0:
# positive $d_y$ moves the picture **down**, positive $d_x$ to the **right**.

# %% [markdown] id="cnn-ex-flip"
# ### Exercise 7 — `flip_horizontal` (1 point)
#
# Mirror every image left-right. Return a new array (do not change `images`) of the same dtype.

# %% id="ch05_augment_flip" nbgrader={"solution": true}
def flip_horizontal(images):
    """Every image of (N, C, H, W) mirrored left-right."""
    ### BEGIN SOLUTION
    return images[..., ::-1].copy()
    ### END SOLUTION


# %% id="ch05_augment_flip_test" nbgrader={"grade": true, "locked": true, "points": 1}
check(flip_horizontal, ref.flip_horizontal, [np.arange(12.0).reshape(2, 1, 2, 3), randn(2, 3, 4, 5, seed=150),
                                             randn(2, 3, 4, 6, seed=151).astype(np.float32)],
      hints=mistakes.flip_horizontal)
### BEGIN HIDDEN TESTS
check(flip_horizontal, ref.flip_horizontal, [randn(1, 1, 1, 7, seed=152), randn(3, 3, 5, 5, seed=153),
                                             randn(2, 2, 3, 3, seed=154).astype(np.float32)],
      hints=mistakes.flip_horizontal)
### END HIDDEN TESTS

# %% [markdown] id="cnn-ex-shift"
# ### Exercise 8 — `shift_images` (2 points)
#
# Move image $n$ down by `dy[n]` and right by `dx[n]` pixels (negative values: up, left), with zero fill.
# `dy` and `dx` are integers or integer arrays of length N. Shifts of the image's size or more leave
# nothing but zeros. Keep the dtype of `images` (float32 in, float32 out).
#
# <details><summary>Hint 1</summary>
#
# Start from an array of zeros like `images`. For one image and a shift $d \ge 0$ down, output rows
# $d .. H-1$ receive input rows $0 .. H-1-d$; for $d < 0$ it is the other way round. The same for columns.
# </details>

# %% id="ch05_augment_shift" nbgrader={"solution": true}
def shift_images(images, dy, dx):
    """Image n shifted by (dy[n], dx[n]) pixels (down, right), zeros coming in."""
    ### BEGIN SOLUTION
    n, _, h, w = images.shape
    dy, dx = np.broadcast_to(dy, (n,)), np.broadcast_to(dx, (n,))
    out = np.zeros_like(images)
    for i in range(n):
        sy, sx = int(dy[i]), int(dx[i])
        if abs(sy) < h and abs(sx) < w:
            out[i, :, max(sy, 0):h + min(sy, 0), max(sx, 0):w + min(sx, 0)] = \
                images[i, :, max(-sy, 0):h + min(-sy, 0), max(-sx, 0):w + min(-sx, 0)]
    return out
    ### END SOLUTION


# %% id="ch05_augment_shift_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(shift_images, ref.shift_images, [
    (np.arange(9.0).reshape(1, 1, 3, 3), 1, 0),                  # down by one: the top row becomes zeros
    (np.arange(9.0).reshape(1, 1, 3, 3), 0, -1),                 # left by one
    (randn(4, 3, 5, 5, seed=160), np.array([1, -2, 0, 2]), np.array([0, 1, -1, 2])),
    (randn(3, 2, 4, 6, seed=161), np.array([4, -1, 0]), np.array([0, -6, 7])),    # shifted out of the picture
    (randn(2, 3, 6, 6, seed=162).astype(np.float32), np.array([3, -3]), np.array([-3, 3])),
], hints=mistakes.shift_images)
### BEGIN HIDDEN TESTS
check(shift_images, ref.shift_images, [
    (randn(1, 1, 5, 3, seed=163), -2, 2),                                          # batch 1, non-square
    (randn(3, 2, 7, 4, seed=164), np.array([-7, 2, 6]), np.array([1, -4, -3])),
    (randn(2, 1, 4, 5, seed=165).astype(np.float32), np.array([-1, 2]), np.array([5, -2])),
], hints=mistakes.shift_images)
### END HIDDEN TESTS

# %% [markdown] id="cnn-ex-random"
# ### Exercise 9 — `random_augment` (2 points)
#
# Put the two together with a seeded generator. With `rng = np.random.default_rng(seed)` draw, **in this
# order** (so that the test can replay your draws):
#
# 1. `flip = rng.random(N) < 0.5` — which images to mirror;
# 2. `dy = rng.integers(-max_shift, max_shift + 1, size=N)`;
# 3. `dx = rng.integers(-max_shift, max_shift + 1, size=N)`;
#
# then mirror the images where `flip` is true and shift every image by `(dy, dx)`. The same seed must give
# the same batch; never use the global `np.random` functions. Keep the dtype of `images`.

# %% id="ch05_augment_random" nbgrader={"solution": true}
def random_augment(images, seed=0, max_shift=2):
    """Random left-right flips (probability 1/2) and shifts of up to max_shift pixels, from one seeded generator."""
    ### BEGIN SOLUTION
    n = images.shape[0]
    rng = np.random.default_rng(seed)
    flip = rng.random(n) < 0.5
    dy = rng.integers(-max_shift, max_shift + 1, size=n)
    dx = rng.integers(-max_shift, max_shift + 1, size=n)
    flipped = np.where(flip[:, None, None, None], flip_horizontal(images), images)
    return shift_images(flipped, dy, dx)
    ### END SOLUTION


# %% id="ch05_augment_random_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(random_augment, ref.random_augment, [Inputs(randn(6, 3, 5, 5, seed=170), seed=0),
                                           Inputs(randn(8, 1, 6, 4, seed=171), seed=1, max_shift=1),
                                           Inputs(randn(5, 3, 8, 6, seed=172).astype(np.float32), seed=2, max_shift=3)],
      hints=mistakes.random_augment)
check_seeded(random_augment, randn(6, 3, 5, 5, seed=173))
### BEGIN HIDDEN TESTS
check(random_augment, ref.random_augment, [Inputs(randn(1, 3, 7, 7, seed=174), seed=5, max_shift=3),
                                           Inputs(randn(16, 2, 4, 4, seed=175), seed=6, max_shift=0),
                                           Inputs(randn(7, 2, 6, 5, seed=176).astype(np.float32), seed=7, max_shift=2)],
      hints=mistakes.random_augment)
check_seeded(random_augment, randn(4, 1, 6, 6, seed=177), max_shift=3)
### END HIDDEN TESTS

# %% [markdown] id="cnn-e2-theory"
# ## 9. Worked example E2: the source article's CIFAR-10 network
#
# The source article trains, in Keras, a small CNN on CIFAR-10 (60 000 colour images of 32 x 32, ten
# classes: planes, cars, birds, cats, ...):
#
# ```
# Conv2D(32, 3x3, same, ReLU) -> MaxPool 2 -> Conv2D(64, 3x3, same, ReLU) -> MaxPool 2
# -> Flatten -> Dense(128, ReLU) -> Dense(10, softmax)
# ```
#
# with augmentation (rotations, shifts, horizontal flips), mean subtraction, and Adam with learning rate
# $10^{-3}$. Below, the same network in PyTorch. Two translations: `padding=1` is Keras's "same" for a
# 3 x 3 kernel, and there is **no softmax layer** — `F.cross_entropy` takes the raw logits and applies
# log-softmax itself (a softmax layer in front of it would apply softmax twice, a classic bug that slows
# learning). **Mean subtraction** (Keras's `featurewise_center`) subtracts each channel's mean over the
# *training* set from every image, training and test alike.
#
# **Data.** CIFAR-10 is a 170 MB download, so by default this notebook uses the course's offline image
# set: ten kinds of coloured shapes, generated from a seed (`dlcourse.data.images`), 16 x 16 pixels so that
# training takes seconds on a CPU. Set the environment variable `DATASET=cifar10` before starting Jupyter to
# train on (a subset of) the real CIFAR-10; when it cannot be downloaded, the notebook says so and falls back
# to the shapes. **Augmentation** is your NumPy code: `random_augment` (flips and shifts) and the package's
# `random_rotate` (up to 15 degrees, nearest pixel, zero fill) transform each training batch before it
# becomes a tensor.

# %% id="cnn-e2-data" tags=["demo"]
def load_e2_data():
    """(name, class names, X_train, y_train, X_test, y_test): CIFAR-10 if DATASET=cifar10 and available, else shapes."""
    if os.environ.get("DATASET", "").lower() == "cifar10":
        try:
            from dlcourse.data.downloads import DatasetUnavailable, load_cifar10
            try:
                X_tr, y_tr, X_te, y_te = load_cifar10()
                names = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
                return "CIFAR-10 (first 10 000 training images)", names, X_tr[:10_000], y_tr[:10_000], X_te, y_te
            except DatasetUnavailable as error:
                print(f"CIFAR-10 is not available ({error}); using the offline shapes instead.")
        except ImportError as error:
            print(f"the CIFAR-10 loader cannot be imported ({error}); using the offline shapes instead.")
    return ("offline shapes, 16 x 16", image_data.SHAPE_NAMES) + image_data.load_shapes(1500, 500, size=16, seed=0)


e2_name, e2_classes, X_e2, y_e2, X_e2_test, y_e2_test = load_e2_data()
channel_mean = X_e2.mean(axis=(0, 2, 3), keepdims=True)          # training set only
print(f"{e2_name}: train {X_e2.shape}, test {X_e2_test.shape}, channel means {channel_mean.ravel().round(3)}")

my_random_augment = use_yours(random_augment, "augmentation.random_augment")


def augment_batch(batch, step):
    """Training batches only: flip + shift (yours), rotate up to 15 degrees, then subtract the mean."""
    shift = max(1, batch.shape[-1] // 10)                         # about 10 % of the width, as in the article
    batch = random_rotate(my_random_augment(batch, seed=step, max_shift=shift), 15.0, seed=step)
    return (batch - channel_mean).astype(np.float32)


examples = augment_batch(X_e2[:10], step=0) + channel_mean
plots.show_images(np.concatenate([X_e2[:10], examples]).transpose(0, 2, 3, 1).clip(0, 1),
                  [e2_classes[c] for c in np.concatenate([y_e2[:10], y_e2[:10]])],
                  title="ten training images (top) and one random augmentation of each (bottom)")
plt.show()


# %% id="cnn-e2-train" tags=["demo"]
def e2_cnn(channels, size, n_classes=10):
    """The article's network: Conv32-pool-Conv64-pool-Dense128-Dense10, 'same' padding, ReLU."""
    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * (size // 4) ** 2, 128), nn.ReLU(), nn.Linear(128, n_classes),
    ).to(get_device())


torch.manual_seed(0)
model = e2_cnn(X_e2.shape[1], X_e2.shape[-1])
print(model, f"\n{sum(p.numel() for p in model.parameters()):,} parameters")
X_e2_test_centred = (X_e2_test - channel_mean).astype(np.float32)
start = time.perf_counter()
e2_history = demos.fit_torch_classifier(model, X_e2, y_e2, epochs=3, batch_size=32, lr=1e-3, augment=augment_batch,
                                      validation=(X_e2_test_centred, y_e2_test))
e2_seconds = time.perf_counter() - start
e2_accuracy = e2_history["val_accuracy"][-1]
print(f"E2 on {e2_name}: test accuracy {e2_accuracy:.1%} after {len(e2_history['loss'])} epochs ({e2_seconds:.1f} s)")

# %% id="cnn-e2-plot" tags=["demo"]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
plots.plot_curves({"training loss (augmented batches)": e2_history["loss"]}, ax=axes[0], xlabel="epoch",
                  ylabel="cross-entropy", title=f"E2 on {e2_name}")
plots.plot_curves({"test accuracy": e2_history["val_accuracy"]}, ax=axes[1], xlabel="epoch", ylabel="accuracy",
                  title="test accuracy after each epoch")
plt.tight_layout()
plt.show()
cnn_plots.plot_filters(to_numpy(model[0].weight), n_cols=16, size=0.6,
                       title="E2's 32 first-layer filters (each 3 x 3 x RGB, stretched to full contrast)")
plt.show()

# %% [markdown] id="cnn-e2-comment"
# **Scaling up.** On CIFAR-10 this network reaches roughly 70 % test accuracy after some 20–50 epochs over
# all 50 000 images with augmentation — hours on a laptop CPU, minutes on a GPU (`get_device()` picks the GPU
# when there is one). With `DATASET=cifar10` the run above (10 000 images, 3 epochs) takes minutes on a CPU
# and stops well short of that; raise the epochs and drop the `[:10_000]` subset in `load_e2_data` to go further. The
# shapes are easy by design; they show that the pipeline works, not what the network can do.

# %% [markdown] id="cnn-summary"
# ## Summary
#
# * A convolution layer computes, for every filter and output pixel, a dot product with a window of the
#   (zero-padded) input — a cross-correlation, without flipping the kernel. Output size
#   $\lfloor (H + 2P - k)/S \rfloor + 1$.
# * im2col turns the convolution into one matrix product: `sliding_window_view` gives the windows without a
#   copy, one reshape lays them out as columns. It brings NumPy within a small factor of PyTorch on a CPU.
# * Backward: $\partial L/\partial b$ sums $\delta$ over batch and space; $\partial L/\partial w$ correlates
#   $\delta$ with the input windows; $\partial L/\partial x$ spreads $\delta \cdot w$ back over the windows
#   (**adding** where they overlap) and drops the padding.
# * Max-pooling passes each window's gradient to its maximum; on ties PyTorch picks the first maximum in
#   row-major order; overlapping windows add up.
# * Flatten in the order of the framework you exchange weights with (NCHW: channel, row, column).
# * Augmentation (flips, shifts, rotations that keep the label) adds training data for free; seed it, apply
#   it to training batches only, and fill with zeros rather than wrapping around.
# * A CNN built from these NumPy layers trains to the same losses as PyTorch's, batch for batch.
#
# ## Closing numbers (this run)

# %% id="cnn-closing" tags=["demo"]
print("exercises: 9, points: 25 (3 + 4 + 6 + 2 + 4 + 1 + 1 + 2 + 2)")
print(f"digits CNN test accuracy: NumPy {numpy_accuracy:.1%}, PyTorch {torch_accuracy:.1%}")
print(f"E2 ({e2_name}): test accuracy {e2_accuracy:.1%}")
print(f"conv2d forward+backward, 64 x 3 x 32 x 32, 32 filters 3x3, float32: NumPy / PyTorch time = {conv_ratio:.2f}")
print(f"this notebook ran in {time.perf_counter() - notebook_start:.0f} s")

# %% [markdown] id="cnn-glossary"
# ## Glossary / 术语表
#
# | English | 中文 |
# |---|---|
# | convolutional neural network (CNN) | 卷积神经网络 |
# | convolution / cross-correlation | 卷积 / 互相关 |
# | filter, kernel | 滤波器，卷积核 |
# | channel | 通道 |
# | feature map | 特征图 |
# | stride | 步幅 |
# | (zero) padding | （零）填充 |
# | receptive field | 感受野 |
# | im2col | 图像转列（im2col） |
# | pooling, max-pooling | 池化，最大池化 |
# | subgradient | 次梯度 |
# | flatten | 展平 |
# | data augmentation | 数据增强 |
# | horizontal flip / shift / rotation | 水平翻转 / 平移 / 旋转 |
# | mean subtraction | 去均值 |
# | overfitting | 过拟合 |
# | batch | 批量 |
# | logits | 对数几率 / 未归一化的对数概率（logits） |
# | backpropagation | 反向传播 |

# %% [markdown] id="progress-title"
# ## Your progress
#
# Which exercises of this notebook pass in this session, and their points (run every test cell first,
# or *Run All*). `dlcourse progress` in a terminal shows every chapter, in fresh kernels.

# %% id="progress" tags=["demo"]
from dlcourse.progress import progress_table

progress_table()
