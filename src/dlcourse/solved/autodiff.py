"""Chapter 2 (autodiff), solved: a scalar reverse-mode automatic differentiation engine, micrograd style.

A :class:`Value` holds one number (``data``), the derivative of the final result with respect to
it (``grad``), the Values it was computed from (``parents``) and a ``local_backward`` function that
passes its own ``grad`` on to its parents (the chain rule, one operation at a time).

The class and the operations are the notebook's own code (``autodiff.ipynb`` defines the same functions and
attaches them the same way). ``Value.backward`` is :func:`backward_iterative`, which computes what the
notebook's :func:`value_backward` computes (a unit test compares them) but walks the graph with an explicit
stack, so graphs deeper than Python's recursion limit work too.
"""

from __future__ import annotations

import math


class Value:
    """A scalar that remembers how it was computed, so that gradients can flow back through it."""

    def __init__(self, data, parents=(), op=""):
        self.data = float(data)  # the number
        self.grad = 0.0  # d(final result) / d(this number), filled in by backward()
        self.parents = tuple(parents)  # the Values this one was computed from
        self.op = op  # the operation that made it, for printing and drawing
        self.local_backward = lambda: None  # passes self.grad on to the parents; a leaf has nothing to pass

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    # Built from the operations below:
    def __radd__(self, other):  # 2 + x
        return self + other

    def __rmul__(self, other):  # 2 * x
        return self * other

    def __neg__(self):  # -x
        return self * -1.0

    def __sub__(self, other):  # x - y
        return self + (-other)

    def __rsub__(self, other):  # 2 - x
        return other + (-self)

    def __truediv__(self, other):  # x / y
        return self * other**-1

    def __rtruediv__(self, other):  # 2 / x
        return other * self**-1


def as_value(x):
    """x itself if it is a Value, else a new leaf Value holding the number x."""
    return x if isinstance(x, Value) else Value(x)


def value_add(self, other):
    """self + other, recording the graph."""
    other = as_value(other)
    out = Value(self.data + other.data, (self, other), "+")

    def local_backward():
        self.grad += out.grad
        other.grad += out.grad

    out.local_backward = local_backward
    return out


def value_mul(self, other):
    """self * other, recording the graph."""
    other = as_value(other)
    out = Value(self.data * other.data, (self, other), "*")

    def local_backward():
        self.grad += other.data * out.grad
        other.grad += self.data * out.grad

    out.local_backward = local_backward
    return out


def value_pow(self, k):
    """self ** k for a constant number k, recording the graph."""
    if not isinstance(k, (int, float)):
        raise TypeError(f"Value ** k needs a constant number k, got {type(k).__name__}")
    out = Value(self.data**k, (self,), f"**{k}")

    def local_backward():
        self.grad += k * self.data ** (k - 1) * out.grad

    out.local_backward = local_backward
    return out


def value_tanh(self):
    """tanh(self), recording the graph."""
    t = math.tanh(self.data)
    out = Value(t, (self,), "tanh")

    def local_backward():
        self.grad += (1.0 - t * t) * out.grad

    out.local_backward = local_backward
    return out


def value_relu(self):
    """relu(self), recording the graph."""
    out = Value(max(self.data, 0.0), (self,), "relu")

    def local_backward():
        self.grad += (self.data > 0) * out.grad

    out.local_backward = local_backward
    return out


def value_backward(self):
    """Fill in d self / d v for every Value v that self depends on (reverse-mode autodiff)."""
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


def topological_order(root) -> list:
    """Every node ``root`` depends on, each after all of its parents (root last), the order
    :func:`value_backward` builds, found with an explicit stack instead of recursion."""
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((parent, False) for parent in reversed(node.parents) if id(parent) not in visited)
    return order


def backward_iterative(self):
    """:func:`value_backward` for graphs of any depth (no recursion)."""
    self.grad = 1.0
    for node in reversed(topological_order(self)):
        node.local_backward()


Value.__add__ = value_add
Value.__mul__ = value_mul
Value.__pow__ = value_pow
Value.tanh = value_tanh
Value.relu = value_relu
Value.backward = backward_iterative
