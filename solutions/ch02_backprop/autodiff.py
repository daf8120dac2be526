# %% [markdown] id="title"
# # Chapter 2, part 2 — An automatic-differentiation engine of your own
#
# In `backprop.ipynb` you wrote one backward function per layer. PyTorch never asks for them: you write
# the forward computation and `loss.backward()` finds every gradient. This notebook shows that there is
# no magic in it. You build a **reverse-mode automatic differentiation** engine for single numbers — in
# the spirit of Andrej Karpathy's *micrograd* — in about forty lines, check it against `torch.autograd`,
# and train a small neural network with it.
#
# **Learning goals.** After this notebook you can
#
# 1. explain how an autograd engine records a computational graph during the forward pass;
# 2. write the local backward rule of addition, multiplication, powers, tanh and ReLU;
# 3. explain why gradients must be **accumulated** (`+=`) and why the backward pass needs a
#    **topological order**;
# 4. check an engine against `torch.autograd` on random expressions;
# 5. train an MLP with nothing but your engine, and see that it takes the very same steps as PyTorch.
#
# As before: replace each `raise NotImplementedError()` with your code, run the cell, then its test cell.
# Cells that only show things use your engine once it works and the course's solved one until then.

# %% id="setup"
import math
import time

import numpy as np
import matplotlib.pyplot as plt
import torch

from dlcourse import data, plots
from dlcourse.cases import autodiff as cases
from dlcourse.checking import check, randn
from dlcourse.demos import autodiff as demos
from dlcourse.device import describe, to_numpy, to_tensor
from dlcourse.mistakes import autodiff as mistakes
from dlcourse.plots import backprop as backprop_plots
from dlcourse.reference import autodiff as ref
from dlcourse.solved.backprop import relative_error
from dlcourse.solved.networks import init_params, mlp_forward

torch.manual_seed(0)
torch.set_num_threads(1)  # this notebook's tensors are tiny: on a busy CPU, extra threads only wait for each other
print(describe())


# %% [markdown] id="value-theory"
# ## 1. A number that remembers where it came from
#
# A `Value` wraps one number. Besides the number (`data`) it stores
#
# * `grad` — the derivative of the final result (say, the loss $L$) with respect to this number,
#   $\partial L / \partial\, \text{this}$; 0 until the backward pass fills it in;
# * `parents` — the Values it was computed from (none for an input, a *leaf*);
# * `local_backward` — a function that passes this Value's `grad` on to its parents: the chain rule for
#   the one operation that made it.
#
# Every operation on Values builds a new Value and so, without anyone noticing, records the
# **computational graph** of the computation. For $\text{out} = a \cdot b$, the chain rule says
#
# $$ \frac{\partial L}{\partial a} \mathrel{+}= \frac{\partial L}{\partial\, \text{out}} \cdot \frac{\partial\, \text{out}}{\partial a}
#    = \text{out.grad} \cdot b, \qquad \frac{\partial L}{\partial b} \mathrel{+}= \text{out.grad} \cdot a. $$
#
# Why $\mathrel{+}=$ and not $=$? A Value can be used several times — $a$ appears twice in $a \cdot b + a$.
# $L$ then depends on $a$ along several paths, and the multivariable chain rule **adds** the
# contributions of all paths. Each use sends its share; `grad` collects them. (PyTorch does the same:
# that is why you call `optimizer.zero_grad()` before every backward pass.)
#
# The class below is given. The operations you write are attached to it afterwards (`Value.__add__ =
# value_add` makes `a + b` call `value_add(a, b)`); subtraction, division and the mirrored forms such as
# `2 * x` are built from them, so they work as soon as yours do.

# %% id="value-class"
class Value:
    """A scalar that remembers how it was computed, so that gradients can flow back through it."""

    def __init__(self, data, parents=(), op=""):
        self.data = float(data)               # the number
        self.grad = 0.0                       # d(final result) / d(this number), filled in by backward()
        self.parents = tuple(parents)         # the Values this one was computed from
        self.op = op                          # the operation that made it, for printing and drawing
        self.local_backward = lambda: None    # passes self.grad on to the parents; a leaf has nothing to pass

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    # Built from the operations you write below:
    def __radd__(self, other):       # 2 + x
        return self + other

    def __rmul__(self, other):       # 2 * x
        return self * other

    def __neg__(self):               # -x
        return self * -1.0

    def __sub__(self, other):        # x - y
        return self + (-other)

    def __rsub__(self, other):       # 2 - x
        return other + (-self)

    def __truediv__(self, other):    # x / y
        return self * other ** -1

    def __rtruediv__(self, other):   # 2 / x
        return other * self ** -1


def as_value(x):
    """x itself if it is a Value, else a new leaf Value holding the number x."""
    return x if isinstance(x, Value) else Value(x)


# %% [markdown] id="ops-theory"
# ## 2. The operations and their local backward rules
#
# Each operation follows the same pattern:
#
# ```python
# out = Value(<the result>, (<the inputs>), "<op name>")
# def local_backward():
#     input.grad += <d out / d input> * out.grad     # for every input
# out.local_backward = local_backward
# return out
# ```
#
# `local_backward` is a *closure*: it remembers `self`, `other` and `out`, and reads `out.grad` only when
# it runs — during the backward pass, after `out.grad` has been filled in. The local derivatives:
#
# | operation | `out.data` | local derivatives |
# |---|---|---|
# | $a + b$ | $a + b$ | $\partial/\partial a = 1$, $\partial/\partial b = 1$ |
# | $a \cdot b$ | $a b$ | $\partial/\partial a = b$, $\partial/\partial b = a$ |
# | $x^k$ ($k$ a constant number) | $x^k$ | $k\, x^{k-1}$ |
# | $\tanh x$ | $t = \tanh x$ | $1 - t^2$ |
# | $\mathrm{ReLU}(x)$ | $\max(x, 0)$ | $1$ if $x > 0$, else $0$ (also at $x = 0$, as PyTorch) |
#
# **How the tests work.** Each test builds Values from the entries of small arrays, applies your
# operation, sets `out.grad` to an upstream gradient, and runs **only** `out.local_backward()` — your
# `backward()` is not needed yet. PyTorch does the same operation on tensors and calls
# `out.backward(upstream)`; the check compares `out`, and the gradient of each input. Some tests start
# the inputs with `grad = 1.0`, as if another use had already sent its share: your `local_backward` must
# add to it — exactly what PyTorch does with a tensor's `.grad`. Exercise 6's test then runs whole expressions
# built from **your** operations through your `backward()`, so each operation is used together with the others too.

# %% [markdown] id="ex-add"
# ### Exercise 1 — `value_add` (1 point)
#
# Return `self + other` as a new Value with parents `(self, other)` and op `"+"`, whose `local_backward`
# adds `out.grad` to the `grad` of both inputs. `other` may be a plain number: the first line wraps it.

# %% id="ch02_value_add" nbgrader={"solution": true}
def value_add(self, other):
    """self + other, recording the graph."""
    other = as_value(other)
    ### BEGIN SOLUTION
    out = Value(self.data + other.data, (self, other), "+")

    def local_backward():
        self.grad += out.grad
        other.grad += out.grad

    out.local_backward = local_backward
    return out
    ### END SOLUTION


Value.__add__ = value_add

# %% id="ch02_value_add_test" nbgrader={"grade": true, "locked": true, "points": 1}
add_yours = lambda a, b, upstream: cases.local_gradients(value_add, a, b, upstream=upstream, value_class=Value)
add_torch = lambda a, b, upstream: ref.local_gradients(torch.add, a, b, upstream=upstream)
check(add_yours, add_torch, [
    (np.array([2.0]), np.array([-3.0]), np.array([1.0])),                  # out = -1, both gradients 1
    (np.array([1.0, 0.5]), np.array([4.0, -1.0]), np.array([2.0, -3.0])),  # the gradients equal the upstream
    (randn(6, seed=1), randn(6, seed=2), randn(6, seed=3)),
], name="value_add", output_names=("out", "grad_a", "grad_b"), hints=mistakes.value_add)
# The same Value on both sides: x + x sends the gradient to x twice.
add_self_yours = lambda x, upstream: cases.local_gradients(lambda v: value_add(v, v), x, upstream=upstream, value_class=Value)
add_self_torch = lambda x, upstream: ref.local_gradients(lambda t: t + t, x, upstream=upstream)
check(add_self_yours, add_self_torch, [(np.array([1.5, -2.0]), np.array([1.0, 3.0]))],
      name="value_add (x + x)", output_names=("out", "grad_x"), hints=mistakes.value_add_self)
# Gradients accumulate: if a.grad and b.grad hold 1.0 already (from another use), they end at 1.0 + upstream.
add_more_yours = lambda a, b, upstream: cases.local_gradients(value_add, a, b, upstream=upstream, value_class=Value, initial_grad=1.0)
add_more_torch = lambda a, b, upstream: ref.local_gradients(torch.add, a, b, upstream=upstream, initial_grad=1.0)
check(add_more_yours, add_more_torch, [(np.array([2.0, 0.5]), np.array([-3.0, 4.0]), np.array([1.0, -2.0]))],
      name="value_add (grads already 1.0)", output_names=("out", "grad_a", "grad_b"), hints=mistakes.accumulate)
### BEGIN HIDDEN TESTS
add_number_yours = lambda x, upstream: cases.local_gradients(lambda v: value_add(v, 2.5), x, upstream=upstream, value_class=Value)
add_number_torch = lambda x, upstream: ref.local_gradients(lambda t: t + 2.5, x, upstream=upstream)
check(add_number_yours, add_number_torch, [(randn(4, seed=4), randn(4, seed=5))],
      name="value_add (x + 2.5)", output_names=("out", "grad_x"))
check(add_yours, add_torch, [(randn(2, 3, seed=6, scale=1e6), randn(2, 3, seed=7), randn(2, 3, seed=8))],
      output_names=("out", "grad_a", "grad_b"), name="value_add", hints=mistakes.value_add)
check(add_self_yours, add_self_torch, [(randn(5, seed=9), randn(5, seed=10))],
      name="value_add (x + x)", output_names=("out", "grad_x"), hints=mistakes.value_add_self)
### END HIDDEN TESTS

# %% [markdown] id="ex-mul"
# ### Exercise 2 — `value_mul` (2 points)
#
# Return `self * other` (op `"*"`): each factor's gradient is the **other** factor's value times `out.grad`.
#
# <details><summary>Hint 1</summary>
#
# If $b$ is held fixed, how much does $a b$ change when $a$ changes by a little $\delta$? That change, divided by
# $\delta$, is what `out.grad` gets multiplied by on its way to `self`.
# </details>

# %% id="ch02_value_mul" nbgrader={"solution": true}
def value_mul(self, other):
    """self * other, recording the graph."""
    other = as_value(other)
    ### BEGIN SOLUTION
    out = Value(self.data * other.data, (self, other), "*")

    def local_backward():
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out.local_backward = local_backward
    return out
    ### END SOLUTION


Value.__mul__ = value_mul

# %% id="ch02_value_mul_test" nbgrader={"grade": true, "locked": true, "points": 2}
mul_yours = lambda a, b, upstream: cases.local_gradients(value_mul, a, b, upstream=upstream, value_class=Value)
mul_torch = lambda a, b, upstream: ref.local_gradients(torch.mul, a, b, upstream=upstream)
check(mul_yours, mul_torch, [
    (np.array([2.0]), np.array([-3.0]), np.array([1.0])),                  # out = -6, grad_a = -3, grad_b = 2
    (randn(6, seed=11), randn(6, seed=12), randn(6, seed=13)),
], name="value_mul", output_names=("out", "grad_a", "grad_b"), hints=mistakes.value_mul)
mul_self_yours = lambda x, upstream: cases.local_gradients(lambda v: value_mul(v, v), x, upstream=upstream, value_class=Value)
mul_self_torch = lambda x, upstream: ref.local_gradients(lambda t: t * t, x, upstream=upstream)
check(mul_self_yours, mul_self_torch, [(np.array([3.0, -0.5]), np.array([1.0, 2.0]))],   # x * x: gradient 2 x
      name="value_mul (x * x)", output_names=("out", "grad_x"), hints=mistakes.value_mul_self)
mul_more_yours = lambda a, b, upstream: cases.local_gradients(value_mul, a, b, upstream=upstream, value_class=Value, initial_grad=1.0)
mul_more_torch = lambda a, b, upstream: ref.local_gradients(torch.mul, a, b, upstream=upstream, initial_grad=1.0)
check(mul_more_yours, mul_more_torch, [(np.array([2.0, 0.5]), np.array([-3.0, 4.0]), np.array([1.0, -2.0]))],
      name="value_mul (grads already 1.0)", output_names=("out", "grad_a", "grad_b"), hints=mistakes.accumulate)
### BEGIN HIDDEN TESTS
mul_number_yours = lambda x, upstream: cases.local_gradients(lambda v: value_mul(v, -1.5), x, upstream=upstream, value_class=Value)
mul_number_torch = lambda x, upstream: ref.local_gradients(lambda t: t * -1.5, x, upstream=upstream)
check(mul_number_yours, mul_number_torch, [(randn(4, seed=14), randn(4, seed=15))],
      name="value_mul (x * -1.5)", output_names=("out", "grad_x"))
check(mul_yours, mul_torch, [
    (np.array([0.0, 5.0]), np.array([7.0, 0.0]), np.array([1.0, 1.0])),   # a zero factor
    (randn(3, 2, seed=16, scale=1e3), randn(3, 2, seed=17), randn(3, 2, seed=18)),
], name="value_mul", output_names=("out", "grad_a", "grad_b"), hints=mistakes.value_mul)
check(mul_self_yours, mul_self_torch, [(randn(5, seed=19), randn(5, seed=20))],
      name="value_mul (x * x)", output_names=("out", "grad_x"), hints=mistakes.value_mul_self)
### END HIDDEN TESTS

# %% [markdown] id="ex-pow"
# ### Exercise 3 — `value_pow` (2 points)
#
# Return `self ** k` for a constant number `k` (an `int` or a `float`, not a Value), with op `f"**{k}"`
# and the local derivative $k\,x^{k-1}$. Division uses it with $k = -1$.
#
# <details><summary>Hint 1</summary>
#
# The local derivative needs the input's value, `self.data`, not the output's; and like every local backward it
# is multiplied by `out.grad` and added to `self.grad`.
# </details>

# %% id="ch02_value_pow" nbgrader={"solution": true}
def value_pow(self, k):
    """self ** k for a constant number k, recording the graph."""
    if not isinstance(k, (int, float)):
        raise TypeError(f"Value ** k needs a constant number k, got {type(k).__name__}")
    ### BEGIN SOLUTION
    out = Value(self.data ** k, (self,), f"**{k}")

    def local_backward():
        self.grad += k * self.data ** (k - 1) * out.grad

    out.local_backward = local_backward
    return out
    ### END SOLUTION


Value.__pow__ = value_pow

# %% id="ch02_value_pow_test" nbgrader={"grade": true, "locked": true, "points": 2}
pow_yours = lambda x, k, upstream: cases.local_gradients(value_pow, x, k, upstream=upstream, value_class=Value)
pow_torch = lambda x, k, upstream: ref.local_gradients(torch.pow, x, k, upstream=upstream)
check(pow_yours, pow_torch, [
    (np.array([2.0, -1.0, 0.5]), 2, np.ones(3)),                           # x**2: out [4, 1, 0.25], grad 2x = [4, -2, 1]
    (np.array([2.0, -1.0, 0.5]), 3, np.ones(3)),
    (np.array([2.0, -4.0]), -1, np.array([1.0, 2.0])),                     # 1/x: grad -1/x**2
    (randn(5, seed=21), 2, randn(5, seed=22)),
], name="value_pow", output_names=("out", "grad_x"), hints=mistakes.value_pow)
### BEGIN HIDDEN TESTS
check(pow_yours, pow_torch, [
    (np.array([0.25, 4.0, 9.0]), 0.5, randn(3, seed=23)),                  # a square root
    (randn(4, seed=24), 1, randn(4, seed=25)),
    (np.array([1.5, -2.0, 3.0]), -2, randn(3, seed=26)),
    (np.array([1.1, 0.9]), 10, np.ones(2)),
], name="value_pow", output_names=("out", "grad_x"), hints=mistakes.value_pow)
check(lambda x, k, upstream: cases.local_gradients(value_pow, x, k, upstream=upstream, value_class=Value, initial_grad=1.0),
      lambda x, k, upstream: ref.local_gradients(torch.pow, x, k, upstream=upstream, initial_grad=1.0),
      [(randn(3, seed=40), 3, randn(3, seed=41))],
      hints=mistakes.accumulate, name="value_pow (grad already 1.0)", output_names=("out", "grad_x"))
### END HIDDEN TESTS

# %% [markdown] id="ex-tanh"
# ### Exercise 4 — `value_tanh` (1 point)
#
# Return $\tanh$ of `self` (op `"tanh"`) with the local derivative $1 - t^2$, $t = \tanh x$ the output.
# Use `math.tanh` (it never overflows, unlike a formula with `math.exp`).

# %% id="ch02_value_tanh" nbgrader={"solution": true}
def value_tanh(self):
    """tanh(self), recording the graph."""
    ### BEGIN SOLUTION
    t = math.tanh(self.data)
    out = Value(t, (self,), "tanh")

    def local_backward():
        self.grad += (1.0 - t * t) * out.grad

    out.local_backward = local_backward
    return out
    ### END SOLUTION


Value.tanh = value_tanh

# %% id="ch02_value_tanh_test" nbgrader={"grade": true, "locked": true, "points": 1}
tanh_yours = lambda x, upstream: cases.local_gradients(value_tanh, x, upstream=upstream, value_class=Value)
tanh_torch = lambda x, upstream: ref.local_gradients(torch.tanh, x, upstream=upstream)
check(tanh_yours, tanh_torch, [
    (np.array([-1.0, 0.0, 1.0]), np.ones(3)),                              # tanh'(0) = 1
    (randn(6, seed=27, scale=2.0), randn(6, seed=28)),
], name="value_tanh", output_names=("out", "grad_x"), hints=mistakes.value_tanh)
### BEGIN HIDDEN TESTS
check(tanh_yours, tanh_torch, [
    (np.array([-800.0, -30.0, 30.0, 800.0]), np.ones(4)),                 # no overflow
    (np.array([1e-9, -1e-12]), np.array([2.0, 3.0])),
    (randn(3, 3, seed=29), randn(3, 3, seed=30)),
], name="value_tanh", output_names=("out", "grad_x"), hints=mistakes.value_tanh)
check(lambda x, upstream: cases.local_gradients(value_tanh, x, upstream=upstream, value_class=Value, initial_grad=1.0),
      lambda x, upstream: ref.local_gradients(torch.tanh, x, upstream=upstream, initial_grad=1.0),
      [(randn(3, seed=42), randn(3, seed=43))],
      hints=mistakes.accumulate, name="value_tanh (grad already 1.0)", output_names=("out", "grad_x"))
### END HIDDEN TESTS

# %% [markdown] id="ex-relu"
# ### Exercise 5 — `value_relu` (1 point)
#
# Return $\max(x, 0)$ (op `"relu"`) with local derivative 1 where $x > 0$ and 0 elsewhere, 0 at $x = 0$ too.
#
# <details><summary>Hint 1</summary>
#
# In Python, `True * 2.5` is `2.5` and `False * 2.5` is `0.0`: a comparison can serve as the 0-or-1 factor.
# </details>

# %% id="ch02_value_relu" nbgrader={"solution": true}
def value_relu(self):
    """relu(self), recording the graph."""
    ### BEGIN SOLUTION
    out = Value(max(self.data, 0.0), (self,), "relu")

    def local_backward():
        self.grad += (self.data > 0) * out.grad

    out.local_backward = local_backward
    return out
    ### END SOLUTION


Value.relu = value_relu

# %% id="ch02_value_relu_test" nbgrader={"grade": true, "locked": true, "points": 1}
relu_yours = lambda x, upstream: cases.local_gradients(value_relu, x, upstream=upstream, value_class=Value)
relu_torch = lambda x, upstream: ref.local_gradients(torch.relu, x, upstream=upstream)
check(relu_yours, relu_torch, [
    (np.array([-2.0, -0.5, 0.5, 3.0]), np.array([1.0, 2.0, 3.0, 4.0])),   # negative inputs pass no gradient
    (randn(6, seed=31), randn(6, seed=32)),
], name="value_relu", output_names=("out", "grad_x"), hints=mistakes.value_relu)
### BEGIN HIDDEN TESTS
check(relu_yours, relu_torch, [
    (np.array([0.0, 1e-300, -1e-300]), np.array([5.0, 5.0, 5.0])),        # derivative 0 at exactly 0
    (randn(2, 4, seed=33, scale=1e3), randn(2, 4, seed=34)),
], name="value_relu", output_names=("out", "grad_x"), hints=mistakes.value_relu)
check(lambda x, upstream: cases.local_gradients(value_relu, x, upstream=upstream, value_class=Value, initial_grad=1.0),
      lambda x, upstream: ref.local_gradients(torch.relu, x, upstream=upstream, initial_grad=1.0),
      [(np.array([-1.0, 2.0]), np.array([3.0, 3.0]))],
      hints=mistakes.accumulate, name="value_relu (grad already 1.0)", output_names=("out", "grad_x"))
### END HIDDEN TESTS

# %% [markdown] id="backward-theory"
# ## 3. The backward pass: reverse topological order
#
# `root.backward()` must fill in $\partial\,\text{root} / \partial v$ for every Value $v$ below the root:
#
# 1. `root.grad = 1.0`, since $\partial\,\text{root} / \partial\,\text{root} = 1$;
# 2. call `local_backward()` of every node, **each once, and only after every node that uses it has
#    called its own**: only then is the node's `grad` complete (all paths added), ready to be passed on.
#
# An order in which every node comes after all its parents is a **topological order**; reversed, it is
# exactly the order step 2 needs. A depth-first search builds it: visit a node's parents first (each node only
# once), and append the node to the order when all of its parents are done.
#
# Why not simply call `root.local_backward()` and then recurse into the parents? Take $a = x \cdot y$,
# $b = \tanh a$, $c = a + b$. Recursing from $c$ reaches $a$ straight from $c$, **before** $b$ has added
# its share to `a.grad`, so $x$ and $y$ get an incomplete gradient — and then again from $b$, counted
# twice. The topological order avoids both. (A recursive search goes as deep as the graph; for very deep
# graphs, write it with an explicit stack, as the course's solved engine does.)

# %% [markdown] id="ex-backward"
# ### Exercise 6 — `value_backward` (3 points)
#
# Write `backward(self)`: build the topological order of the graph below `self`, set `self.grad = 1.0`,
# and call `local_backward()` of every node in reverse order, each node once. Use only `node.parents`,
# `node.local_backward` and `node.grad`. The test's expressions are random *programs*: lists of steps such as
# `("mul", 0, 1)` (node 0 times node 1) or `("tanh", 2)`, where nodes 0, 1, ... are the inputs and each
# step appends a new node; the last node is the result. The test builds them with the course's solved engine
# (which has the same attributes), so that only your `backward()` is tested here; exercise 7 then puts your
# operations and your `backward()` to work together.
#
# <details><summary>Hint 1</summary>
#
# Write a small inner function `visit(node)` that first visits the node's parents and then appends the node to a
# list; a set of the nodes already visited keeps each node to one visit.
# </details>
#
# <details><summary>Hint 2</summary>
#
# After `visit(self)` the list holds every node after all of its parents, `self` last. Seed `self.grad`, then walk
# the list backwards, calling each node's `local_backward()`.
# </details>

# %% id="ch02_value_backward" nbgrader={"solution": true}
def value_backward(self):
    """Fill in d self / d v for every Value v that self depends on (reverse-mode autodiff)."""
    ### BEGIN SOLUTION
    order, visited = [], set()

    def visit(node):
        if node not in visited:
            visited.add(node)
            for parent in node.parents:
                visit(parent)
            order.append(node)

    visit(self)
    self.grad = 1.0
    for node in reversed(order):
        node.local_backward()
    ### END SOLUTION


Value.backward = value_backward

# %% id="ch02_value_backward_test" nbgrader={"grade": true, "locked": true, "points": 3}
# Your backward() alone, on graphs the course's engine builds (its operations' local backwards are allowed).
check(cases.on_course_graphs(value_backward), ref.program_gradients, [
    ([("mul", 0, 1)], np.array([2.0, -3.0])),                              # x0 * x1: gradients (x1, x0) = (-3, 2)
    ([("mul", 0, 1), ("add", 2, 0)], np.array([2.0, -3.0])),               # x0 * x1 + x0: x0 used twice
    ([("mul", 0, 1), ("tanh", 2), ("add", 2, 3)], np.array([0.5, -1.0])),  # a = x0 x1, b = tanh(a), a + b: a used twice
    (cases.random_program(3, 8, seed=1), randn(3, seed=35)),
    (cases.random_program(4, 12, seed=2), randn(4, seed=36)),
], name="value_backward", output_names=("output", "grad"), hints=mistakes.value_backward, allow=cases.ENGINE_BLOCKS)
### BEGIN HIDDEN TESTS
check(cases.on_course_graphs(value_backward), ref.program_gradients, [
    ([("square", 0), ("square", 1), ("square", 2)], np.array([1.5])),     # a chain: ((x^2)^2)^2, gradient 8 x^7
    ([("add", 0, 0), ("add", 1, 1), ("add", 2, 2), ("add", 3, 3)], np.array([0.3])),  # 16 paths: gradient 16
    (cases.random_program(1, 10, seed=3), randn(1, seed=37)),
    (cases.random_program(6, 30, seed=4), randn(6, seed=38)),
    (cases.random_program(5, 60, seed=5), randn(5, seed=39)),
], name="value_backward", output_names=("output", "grad"), hints=mistakes.value_backward, allow=cases.ENGINE_BLOCKS)
### END HIDDEN TESTS

# %% [markdown] id="ex-neuron"
# ### Exercise 7 — `neuron_gradients`: your engine at work (2 points)
#
# Now everything you wrote works together. For one tanh neuron,
#
# $$ \text{out} = \tanh\Big(\sum_i w_i x_i + b\Big), $$
#
# with 1-D float arrays `x` and `w` of the same length and a number `b`, build the computation from **your**
# `Value`s, call `out.backward()`, and return `(out, dx, dw, db)`: `out` and `db` as numbers, `dx` and `dw` as
# float64 arrays shaped like `x` (the derivatives of `out` with respect to each input, weight and the bias).
# The test compares them with `torch.autograd`, and it also runs random programs (as in exercise 6) through
# your `Value` class: your operations, then your `backward()`. A mistake in an operation shows here as well as
# in its own test.
#
# <details><summary>Hint 1</summary>
#
# Make a leaf Value for every number you need a derivative for, and keep them: after `backward()` their `grad`
# holds the answers.
# </details>

# %% id="ch02_neuron_gradients" nbgrader={"solution": true}
def neuron_gradients(x, w, b):
    """(out, d out/dx, d out/dw, d out/db) for out = tanh(w . x + b), computed with your engine."""
    ### BEGIN SOLUTION
    xs, ws, bias = [Value(v) for v in x], [Value(v) for v in w], Value(b)
    z = bias
    for xi, wi in zip(xs, ws):
        z = z + wi * xi
    out = z.tanh()
    out.backward()
    return out.data, np.array([v.grad for v in xs]), np.array([v.grad for v in ws]), bias.grad
    ### END SOLUTION


# %% id="ch02_neuron_gradients_test" nbgrader={"grade": true, "locked": true, "points": 2}
# Your whole engine: random programs on graphs built by your Value (subtraction and division are built from your
# operations), differentiated by your backward().
engine = lambda program, x: cases.program_gradients(program, x, value_class=Value)
check(engine, ref.program_gradients, [
    ([("mul", 0, 1), ("tanh", 2), ("add", 2, 3)], np.array([0.5, -1.0])),
    ([("sub", 0, 1), ("cube", 2), ("relu", 3), ("mul", 4, 0)], np.array([1.5, 0.5])),
    (cases.random_program(3, 10, seed=6), randn(3, seed=40)),
    (cases.random_program(5, 25, seed=7), randn(5, seed=41)),
], name="your engine (your Value's operations and backward())", output_names=("output", "grad"),
      hints=mistakes.value_backward)
# The neuron: the one drawn in section 4 (out = tanh(0.6 - 1.8) ~ -0.834), random ones, a saturated one.
check(neuron_gradients, ref.neuron_gradients, [
    (np.array([2.0, -1.0]), np.array([-0.5, 0.8]), 0.6),
    (randn(5, seed=44), randn(5, seed=45), -0.3),
    (randn(3, seed=46), randn(3, seed=47, scale=10.0), 2.5),
], output_names=("out", "dx", "dw", "db"), hints=mistakes.neuron_gradients)
### BEGIN HIDDEN TESTS
check(engine, ref.program_gradients, [
    (cases.random_program(2, 15, seed=8), randn(2, seed=42)),
    (cases.random_program(6, 40, seed=9), randn(6, seed=43)),
], name="your engine (your Value's operations and backward())", output_names=("output", "grad"),
      hints=mistakes.value_backward)
check(neuron_gradients, ref.neuron_gradients, [
    (np.array([0.7]), np.array([-1.2]), 0.0),
    (randn(12, seed=48), randn(12, seed=49, scale=0.3), 0.1),
], output_names=("out", "dx", "dw", "db"), hints=mistakes.neuron_gradients)
### END HIDDEN TESTS

# %% [markdown] id="check-theory"
# ## 4. Your engine against `torch.autograd`
#
# Now all of your engine at once — your operations and your `backward()` — on random expressions, next to
# PyTorch, which runs the same program on 0-d tensors and differentiates it with `root.backward()`.
# First a single neuron drawn as its graph: inputs on the left, the result on the right, every node with
# the number it holds and the gradient the backward pass left in it.

# %% id="neuron-graph" tags=["demo"]
# Plot 1: the graph of one tanh neuron, after backward(), and the same neuron in PyTorch.
Engine = demos.engine_or_solved(Value)
x1, x2, w1, w2, b = Engine(2.0), Engine(-1.0), Engine(-0.5), Engine(0.8), Engine(0.6)
neuron = (x1 * w1 + x2 * w2 + b).tanh()
neuron.backward()
backprop_plots.draw_graph(neuron, title="tanh(x1 w1 + x2 w2 + b) after backward()",
                          names={x1: "x1", x2: "x2", w1: "w1", w2: "w2", b: "b"})
plt.show()

xt1, xt2, wt1, wt2, bt = (to_tensor(v, requires_grad=True) for v in (2.0, -1.0, -0.5, 0.8, 0.6))
torch_neuron = torch.tanh(xt1 * wt1 + xt2 * wt2 + bt)
torch_neuron.backward()
for name, mine, theirs in [("x1", x1, xt1), ("x2", x2, xt2), ("w1", w1, wt1), ("w2", w2, wt2), ("b", b, bt)]:
    print(f"d out / d {name:2s}: your engine {mine.grad:+.12f}   torch.autograd {theirs.grad.item():+.12f}")

# %% id="random-expressions" tags=["demo"]
# 200 random programs (5 inputs, 20 steps each), your engine vs torch.autograd.
value_errors, grad_errors, grad_errors_scaled = [], [], []
for seed in range(200):
    program = cases.random_program(5, 20, seed=1000 + seed)
    x = randn(5, seed=seed)
    out_mine, grad_mine = cases.program_gradients(program, x, value_class=Engine)
    out_torch, grad_torch = ref.program_gradients(program, x)
    value_errors.append(relative_error(np.array([out_mine]), np.array([out_torch])))
    grad_errors.append(relative_error(grad_mine, grad_torch))
    grad_errors_scaled.append(np.abs(grad_mine - grad_torch).max() / max(np.abs(grad_torch).max(), 1e-300))
print("one of the programs:", program)
print(f"over 200 programs, largest relative error of the result: {max(value_errors):.1e}")
print(f"  of the gradients, entry by entry: {max(grad_errors):.1e} (median {np.median(grad_errors):.1e})")
print(f"  of the gradients, relative to the largest gradient of the program: {max(grad_errors_scaled):.1e}")


# %% [markdown] id="random-expressions-comment"
# The results agree to the last bit or two. Most gradients do too; the largest entry-wise errors sit on
# gradients that are tiny compared with the others of their program — for instance after a saturated
# tanh, where $1 - t^2$ with $t \approx 1$ loses digits to cancellation in both engines, which then
# round differently. Measured against the size of the program's gradients, the difference is at the
# rounding level, $10^{-15}$.

# %% [markdown] id="mlp-theory"
# ## 5. Training a neural network with your engine
#
# An MLP is just many additions, multiplications and tanh's. Below, chapter 1's weights (He
# initialisation, `W` of shape (n_out, n_in)) become Values, `mlp_forward_values` runs the network on one
# example at a time, and the **hinge loss** of a support-vector machine, $\frac1N \sum_n
# \mathrm{ReLU}(1 - y_n s_n)$ with labels $y_n \in \{-1, +1\}$ and scores $s_n$, needs nothing but the
# operations you wrote. Each step: forward on the whole training set, `zero_grad` (grads accumulate!),
# `loss.backward()`, and plain gradient descent $w \leftarrow w - \eta\, \partial L / \partial w$.
#
# PyTorch trains the same network (`nn.Sequential` with the same initial weights, the same loss,
# `torch.optim.SGD` with the same learning rate). Both compute the same numbers in the same order up to
# rounding, so the two runs coincide step by step — one in pure Python, one in optimised C++.
#
# A practical note: each training step creates some ten thousand Values, each with a closure that refers
# back to it. Python's cycle garbage collector, which by default starts after every 700 new objects,
# would re-scan them so often that it took most of the time; `demos.fewer_gc_pauses()` starts it
# less often while the loop runs. The learning rate 1.0 is large on purpose (few steps on a slow engine),
# so the loss curve is bumpy; both runs are bumpy in exactly the same way.

# %% id="mlp-values" tags=["demo"]
def mlp_forward_values(x, value_params):
    """Chapter 1's MLP on ONE example, Value by Value: z_j = sum_i W[j][i] a_i + b[j]; tanh between layers."""
    n_layers = len(value_params) // 2
    a = list(x)
    for layer in range(1, n_layers + 1):
        W, b = value_params[f"W{layer}"], value_params[f"b{layer}"]
        z = [sum((w * ai for w, ai in zip(row, a)), bj) for row, bj in zip(W, b)]
        a = [zj.tanh() for zj in z] if layer < n_layers else z
    return a


def hinge_loss(scores, labels):
    """Mean of relu(1 - y * s) over the examples: 0 once every example is on its side with margin 1."""
    terms = [(1 - float(y) * s).relu() for s, y in zip(scores, labels)]
    return sum(terms[1:], terms[0]) * (1.0 / len(terms))


X_moons, y_moons = data.make_moons(60, noise=0.1, seed=0)
labels = 2 * y_moons - 1                          # {0, 1} -> {-1, +1}
params0 = init_params([2, 12, 1], "he", seed=0)  # chapter 1's initialisation: 2 inputs, 12 tanh units, 1 score
value_params = demos.to_values(params0, Engine)
weights = demos.parameters(value_params)
X_values = [[Engine(v) for v in row] for row in X_moons]
print(f"{len(weights)} parameters, {len(X_values)} training examples")

# %% id="mlp-train" tags=["demo"]
steps, lr = 50, 1.0
losses, start = [], time.perf_counter()
with demos.fewer_gc_pauses():          # see the note above: Python's garbage collector
    for step in range(steps):
        loss = hinge_loss([mlp_forward_values(x, value_params)[0] for x in X_values], labels)
        for w in weights:
            w.grad = 0.0                          # zero_grad: backward() adds to grad
        loss.backward()
        for w in weights:
            w.data -= lr * w.grad                 # gradient descent
        losses.append(loss.data)
engine_seconds = time.perf_counter() - start

start = time.perf_counter()
torch_losses, torch_params = demos.train_hinge_mlp(params0, X_moons, labels, steps=steps, lr=lr)
torch_seconds = time.perf_counter() - start

trained = demos.to_arrays(value_params)
print(f"your engine: {engine_seconds:.1f} s; PyTorch: {torch_seconds:.2f} s (timings on a shared CPU)")
print(f"largest |loss difference| over {steps} steps: {np.abs(np.array(losses) - torch_losses).max():.1e}")
print("largest relative error of the trained weights:",
      f"{max(relative_error(trained[k], torch_params[k]) for k in trained):.1e}")
for step in range(0, steps, 10):
    print(f"step {step:3d}  loss: your engine {losses[step]:.6f}   PyTorch {torch_losses[step]:.6f}")


# %% id="plot-training" tags=["demo"]
# Plot 2: the training curves of both; Plot 3: what the two trained networks predict.
def predictor(params):
    return lambda points: (mlp_forward(points, params, "tanh")[0][:, 0] > 0).astype(np.int64)


fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
plots.plot_curves({"your engine": losses, "PyTorch": torch_losses}, ax=axes[0], xlabel="gradient-descent step",
                  ylabel="hinge loss", title="training with your engine and with PyTorch")
axes[0].lines[1].set_linestyle("--")
for ax, (name, params) in zip(axes[1:], [("your engine", trained), ("PyTorch", torch_params)]):
    accuracy = (predictor(params)(X_moons) == y_moons).mean()
    plots.plot_decision_regions(predictor(params), X_moons, y_moons, ax=ax, resolution=150,
                                title=f"trained by {name}: accuracy {accuracy:.1%}")
plt.tight_layout()
plt.show()

# %% [markdown] id="summary"
# ## Summary
#
# * Reverse-mode automatic differentiation records the computational graph during the forward pass: each
#   result remembers its parents and how to pass a gradient back to them (its local derivative).
# * The backward pass sets the root's gradient to 1 and calls every node's local backward once, in
#   reverse topological order, so that each node's gradient is complete before it is passed on.
# * Gradients **accumulate** (`+=`): a value used along several paths gets the sum of their
#   contributions. That is also why training loops zero the gradients before each backward pass.
# * Your engine agrees with `torch.autograd` to rounding error (results to about $10^{-16}$, gradients to
#   about $10^{-15}$ of their size; section 4)
#   and trains a network to the same weights as PyTorch, step for step — only far slower: it handles one
#   number at a time in Python, where PyTorch's autograd handles whole tensors in C++, with a local backward
#   rule per tensor operation (the ones you wrote in `backprop.ipynb`).
#
# **Scaling up.** The engine's cost grows with the number of scalar operations, so keep it to toy sizes;
# raise `steps` or the hidden layer a little to see a smoother boundary. The tensor version of the same
# idea is what PyTorch does: try `torch.autograd.grad` on the programs above.
#
# ## Glossary / 术语表
#
# | English | 中文 |
# |---|---|
# | automatic differentiation (reverse mode) | 自动微分（反向模式） |
# | computational graph | 计算图 |
# | node / leaf | 节点 / 叶节点 |
# | parent (input of an operation) | 父节点（运算的输入） |
# | local derivative | 局部导数 |
# | chain rule | 链式法则 |
# | gradient accumulation | 梯度累加 |
# | topological order / sort | 拓扑顺序 / 拓扑排序 |
# | depth-first search | 深度优先搜索 |
# | closure | 闭包 |
# | scalar | 标量 |
# | hinge loss | 合页损失 |
# | support-vector machine (SVM) | 支持向量机 |
# | gradient descent | 梯度下降 |
# | decision region / boundary | 决策区域 / 边界 |

# %% [markdown] id="progress-title"
# ## Your progress
#
# Which exercises of this notebook pass in this session, and their points (run every test cell first,
# or *Run All*). `dlcourse progress` in a terminal shows every chapter, in fresh kernels.

# %% id="progress" tags=["demo"]
from dlcourse.progress import progress_table

progress_table()
