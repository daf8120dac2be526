"""Chapter 2 (autodiff): the mistakes learners make in an engine of Values, each recognised by computing it.

The local operations are checked as ``(out, grad_a, grad_b)`` (or ``(out, grad_x)``) over arrays of inputs, the
backward pass as ``(output, grad)`` of a program (see :mod:`dlcourse.cases.autodiff`).
"""

from __future__ import annotations

import math

import numpy as np

from ..cases.autodiff import program_gradients
from ..solved import autodiff as s
from . import Hint, Mismatch, mistake

_tanh = np.vectorize(math.tanh, otypes=[np.float64])


def _overwritten(m: Mismatch) -> bool:
    """A gradient that lost what the input's grad held before (1.0): got = expected - 1."""
    pair = m.arrays()
    return (
        str(m.output).startswith("grad")
        and pair is not None
        and m.values_differ()
        and np.allclose(pair[0] - 1.0, pair[1], rtol=1e-9, atol=1e-12)
    )


accumulate = [
    Hint(
        "the gradient that was already in the input's grad is gone: add to it (`self.grad += ...`), "
        "do not overwrite it (`self.grad = ...`); a Value used in several places collects a share from each.",
        _overwritten,
    ),
]

value_add = [
    mistake(
        lambda a, b, upstream: (a + b, 0 * a, 0 * b),
        "the gradients stayed 0: local_backward must add out.grad to self.grad and to other.grad (define it "
        "inside value_add and set out.local_backward = local_backward).",
    ),
    *accumulate,
]

value_add_self = [
    mistake(
        lambda x, upstream: (2 * x, upstream),
        "x + x sends a gradient to x twice: accumulate with "
        "`self.grad += ...` and `other.grad += ...`; `=` keeps only the last one.",
        output="grad_x",
    ),
]

value_mul = [
    mistake(
        lambda a, b, upstream: (a * b, a * upstream, b * upstream),
        "each factor's gradient is the OTHER factor "
        "times out.grad: self.grad += other.data * out.grad, other.grad += self.data * out.grad.",
    ),
    mistake(
        lambda a, b, upstream: (a * b, b, a), "multiply by out.grad, the gradient arriving from above (chain rule)."
    ),
    *accumulate,
]

value_mul_self = [
    mistake(
        lambda x, upstream: (x * x, x * upstream),
        "x * x sends a gradient to x twice: accumulate with +=, so that x.grad = 2 x out.grad.",
        output="grad_x",
    ),
]

value_pow = [
    mistake(
        lambda x, k, upstream: (x**k, x ** (k - 1) * upstream),
        "d(x**k)/dx = k * x**(k - 1): the factor k is missing.",
        output="grad_x",
    ),
    mistake(
        lambda x, k, upstream: (x**k, k * x**k * upstream),
        "d(x**k)/dx = k * x**(k - 1): the exponent drops by one.",
        output="grad_x",
    ),
    mistake(
        lambda x, k, upstream: (x**k, k * x ** (k - 1)),
        "multiply by out.grad, the gradient arriving from above.",
        output="grad_x",
    ),
    *accumulate,
]

value_tanh = [
    mistake(
        lambda x, upstream: (_tanh(x), (1 - x**2) * upstream),
        "1 - t**2 needs t = tanh(x), the output, not x.",
        output="grad_x",
    ),
    mistake(
        lambda x, upstream: (_tanh(x), 1 - _tanh(x) ** 2),
        "multiply by out.grad, the gradient arriving from above.",
        output="grad_x",
    ),
    *accumulate,
]

value_relu = [
    mistake(
        lambda x, upstream: (np.maximum(x, 0.0), (x >= 0) * upstream),
        "at 0 exactly use derivative 0, as PyTorch does: (self.data > 0), not >= 0.",
        output="grad_x",
    ),
    mistake(
        lambda x, upstream: (np.maximum(x, 0.0), (x > 0) * 1.0),
        "multiply by out.grad, the gradient arriving from above.",
        output="grad_x",
    ),
    *accumulate,
]


# --- backward(): wrong walks over the graph --------------------------------------------------------------------


def _backward_without_seed(root):
    order = s.topological_order(root)
    for node in reversed(order):
        node.local_backward()


def _backward_recursive(root):
    root.grad = 1.0

    def visit(node):
        node.local_backward()
        for parent in node.parents:
            visit(parent)

    visit(root)


def _backward_unordered(root):
    """Every node once, but in the order a depth-first walk meets them (parents before all their children are done)."""
    root.grad = 1.0
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        node.local_backward()
        stack.extend(node.parents)


def _backward_with_repeats(root):
    """A topological walk without a 'visited' set: shared nodes are listed (and run) more than once."""
    order = []

    def visit(node):
        for parent in node.parents:
            visit(parent)
        order.append(node)

    visit(root)
    root.grad = 1.0
    for node in reversed(order):
        node.local_backward()


def _with(backward):
    return lambda program, x: program_gradients(program, x, backward=backward, value_class=s.Value)


value_backward = [
    mistake(
        _with(_backward_without_seed),
        "all gradients are 0: set self.grad = 1.0 (d self / d self) before running the local backward functions.",
        output="grad",
    ),
    mistake(
        _with(_backward_recursive),
        "a node used twice passed on its gradient before it was complete (and more "
        "than once): build a topological order first, then run each node's local_backward once, in reverse order.",
        output="grad",
    ),
    mistake(
        _with(_backward_with_repeats),
        "shared nodes appear several times in your order: keep a `visited` set so "
        "that each node is added (and its local_backward run) once.",
        output="grad",
    ),
    mistake(
        _with(_backward_unordered),
        "each node must run its local_backward only after every node that uses it has "
        "(reverse TOPOLOGICAL order); a plain depth-first walk does not ensure that.",
        output="grad",
    ),
]


def _neuron(x, w, b, *, bias=True, swapped=False):
    t = math.tanh(float(np.dot(w, x)) + (b if bias else 0.0))
    d = 1.0 - t * t
    dx, dw = d * np.asarray(w, dtype=np.float64), d * np.asarray(x, dtype=np.float64)
    return (t, dw, dx, d if bias else 0.0) if swapped else (t, dx, dw, d if bias else 0.0)


neuron_gradients = [
    mistake(
        lambda x, w, b: _neuron(x, w, b, bias=False),
        "the bias is missing: out = tanh(w . x + b), and b is a Value too, whose grad is d out / d b.",
    ),
    mistake(
        lambda x, w, b: _neuron(x, w, b, swapped=True),
        "dx and dw are swapped: d out / d x_i is w_i (1 - out**2), the grad of the Value made from x_i.",
    ),
]
