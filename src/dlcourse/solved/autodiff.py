"""Chapter 2 (autodiff), solved: a scalar reverse-mode automatic differentiation engine, micrograd style.

A :class:`Value` holds one number (``data``), the derivative of the final result with respect to
it (``grad``), the Values it was computed from (``parents``) and a ``local_backward`` function that
passes its own ``grad`` on to its parents (the chain rule, one operation at a time).
``root.backward()`` sets ``root.grad = 1`` and runs every ``local_backward`` in reverse
topological order.

The helpers below run an engine on arrays of numbers, so that the notebook's tests can compare it
with ``torch.autograd`` through :func:`dlcourse.checking.check`:

- :func:`local_gradients` applies one operation entry by entry and runs only its ``local_backward``;
- :func:`random_program` / :func:`run_program` build random expressions that run unchanged on Values
  and on torch tensors; :func:`program_gradients` differentiates one with an engine.
"""

from __future__ import annotations

import contextlib
import gc
import math
from typing import Callable, Sequence

import numpy as np


class Value:
    """A scalar that remembers how it was computed, so that gradients can flow back through it."""

    def __init__(self, data, parents: Sequence["Value"] = (), op: str = ""):
        self.data = float(data)
        self.grad = 0.0
        self.parents = tuple(parents)
        self.op = op
        self.local_backward: Callable[[], None] = lambda: None  # a leaf has nothing to pass on

    def __repr__(self):
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def local_backward():
            self.grad += out.grad
            other.grad += out.grad

        out.local_backward = local_backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def local_backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out.local_backward = local_backward
        return out

    def __pow__(self, k):
        if not isinstance(k, (int, float)):
            raise TypeError(f"Value ** k needs a constant number k, got {type(k).__name__}")
        out = Value(self.data ** k, (self,), f"**{k}")

        def local_backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out.local_backward = local_backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def local_backward():
            self.grad += (1.0 - t * t) * out.grad

        out.local_backward = local_backward
        return out

    def relu(self):
        out = Value(max(self.data, 0.0), (self,), "relu")

        def local_backward():
            self.grad += (self.data > 0) * out.grad

        out.local_backward = local_backward
        return out

    def backward(self):
        """d self / d v for every Value v that self was computed from, accumulated into v.grad."""
        self.grad = 1.0
        for node in reversed(topological_order(self)):
            node.local_backward()

    # Derived operations, built from the ones above.
    __radd__ = __add__
    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return other * self ** -1


def topological_order(root) -> list:
    """Every node ``root`` depends on, each after all of its parents (root last). Iterative, so deep
    graphs do not hit Python's recursion limit."""
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((parent, False) for parent in node.parents if id(parent) not in visited)
    return order


# --- running an engine on arrays, for the tests ------------------------------------------------

def local_gradients(op: Callable, *inputs, upstream, value_class=Value, initial_grad: float = 0.0):
    """Apply ``op`` to Values made from the entries of the array ``inputs`` (numbers are passed as
    they are), give each result ``grad = upstream`` entry, run only its ``local_backward``, and
    return ``(out, grad of each array input)`` as float64 arrays of the inputs' shape.

    The input Values start with ``grad = initial_grad``, as if another use of them had already passed
    its gradient back: a correct ``local_backward`` adds to it."""
    arrays = [np.asarray(x, dtype=np.float64) for x in inputs if isinstance(x, np.ndarray)]
    if not arrays:
        raise ValueError("local_gradients needs at least one array input")
    shape = arrays[0].shape
    upstream = np.asarray(upstream, dtype=np.float64)
    if any(a.shape != shape for a in arrays) or upstream.shape != shape:
        raise ValueError(f"inputs and upstream must have one shape, got {[a.shape for a in arrays]} and {upstream.shape}")
    out = np.zeros(shape)
    grads = [np.zeros(shape) for _ in arrays]
    for index in np.ndindex(shape):
        leaves = [value_class(a[index]) for a in arrays]
        for leaf in leaves:
            leaf.grad = float(initial_grad)
        leaf_iter = iter(leaves)
        args = [next(leaf_iter) if isinstance(x, np.ndarray) else x for x in inputs]
        result = op(*args)
        if not isinstance(result, value_class):
            raise TypeError(f"the operation should return a {value_class.__name__}, got {type(result).__name__}")
        result.grad = float(upstream[index])
        result.local_backward()
        out[index] = result.data
        for grad, leaf in zip(grads, leaves):
            grad[index] = leaf.grad
    return (out, *grads)


OPS = ("add", "mul", "sub", "add_const", "mul_const", "square", "cube", "tanh", "relu")


def random_program(n_inputs: int, n_steps: int, seed: int = 0, limit: float = 1e3) -> list[tuple]:
    """A random expression of ``n_inputs`` numbers as a list of steps ``(op, i, j_or_constant)``; node i
    is input i for i < n_inputs, else the result of step i - n_inputs. Every node is used at least once
    (the unused ones are summed at the end) and some several times, so gradients must accumulate.
    Programs whose values exceed ``limit`` in size on standard-normal inputs are drawn again."""
    if n_inputs < 1 or n_steps < 1:
        raise ValueError(f"a program needs n_inputs >= 1 and n_steps >= 1, got {n_inputs}, {n_steps}")
    rng = np.random.default_rng(seed)
    while True:
        program, unused = [], list(range(n_inputs))
        n_nodes = n_inputs
        for _ in range(n_steps):
            op = OPS[rng.integers(len(OPS))]
            first = unused.pop(rng.integers(len(unused))) if unused else int(rng.integers(n_nodes))
            if op in ("add", "mul", "sub"):
                second = int(rng.integers(n_nodes))
                if second in unused:
                    unused.remove(second)
                program.append((op, first, second))
            elif op in ("add_const", "mul_const"):
                program.append((op, first, round(float(rng.uniform(-2, 2)), 3)))
            else:
                program.append((op, first))
            unused.append(n_nodes)
            n_nodes += 1
        total = unused[0]
        for i in unused[1:]:  # sum what no step used, so that every node reaches the result
            program.append(("add", total, i))
            total, n_nodes = n_nodes, n_nodes + 1
        probe = [rng.standard_normal() for _ in range(n_inputs)]
        try:
            if all(abs(v) < limit for v in _program_values(program, probe)):
                return program
        except OverflowError:  # float ** 2 of a huge number: draw another program
            pass


def _program_values(program, leaves):
    nodes = list(leaves)
    for step in program:
        nodes.append(_apply(step, nodes))
    return nodes


def _apply(step, nodes):
    op, i, *rest = step
    a = nodes[i]
    if op == "add":
        return a + nodes[rest[0]]
    if op == "mul":
        return a * nodes[rest[0]]
    if op == "sub":
        return a - nodes[rest[0]]
    if op == "add_const":
        return rest[0] + a
    if op == "mul_const":
        return rest[0] * a
    if op == "square":
        return a ** 2
    if op == "cube":
        return a ** 3
    if op == "tanh":
        return a.tanh() if hasattr(a, "tanh") else math.tanh(a)
    if op == "relu":
        return a.relu() if hasattr(a, "relu") else max(a, 0.0)
    raise ValueError(f"unknown operation {op!r} in a program")


def run_program(program: list[tuple], leaves: Sequence):
    """The program's result on ``leaves`` (Values, torch scalars or floats): the last node."""
    return _program_values(program, leaves)[-1]


def program_gradients(program: list[tuple], x: np.ndarray, backward: Callable | None = None, value_class=Value):
    """(result, d result / d x) of a program on the numbers ``x``, differentiated by an engine:
    ``value_class`` builds the graph; ``backward(root)`` (default ``root.backward()``) runs the pass."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D array of the program's inputs, got shape {x.shape}")
    leaves = [value_class(v) for v in x]
    root = run_program(program, leaves)
    if backward is None:
        root.backward()
    else:
        backward(root)
    return np.float64(root.data), np.array([leaf.grad for leaf in leaves])


# --- moving parameters between NumPy and Values -----------------------------------------------

def to_values(params: dict[str, np.ndarray], value_class=Value) -> dict[str, list]:
    """A NumPy params dict (W1, b1, ...) as nested lists of Values with the same layout."""
    return {key: [[value_class(w) for w in row] for row in p] if p.ndim == 2 else [value_class(v) for v in p]
            for key, p in params.items()}


def to_arrays(value_params: dict[str, list]) -> dict[str, np.ndarray]:
    """The numbers of a Value params dict as NumPy arrays (``data``)."""
    return {key: np.array([[w.data for w in row] for row in p]) if isinstance(p[0], list) else np.array([v.data for v in p])
            for key, p in value_params.items()}


def parameters(value_params: dict[str, list]) -> list:
    """Every Value of a params dict, in a fixed order."""
    flat = []
    for p in value_params.values():
        for item in p:
            flat.extend(item if isinstance(item, list) else [item])
    return flat


def engine_or_solved(value_class):
    """``value_class`` when all its operations and ``backward`` run, else (with a note) the course's
    :class:`Value`: demo cells use it so that they work before every exercise is done."""
    try:
        x, y = value_class(0.5), value_class(-1.5)
        ((x * y + x) ** 2).tanh().relu().backward()
        return value_class
    except NotImplementedError:
        print(f"(your {value_class.__name__} is not complete yet: this cell uses the course's solved Value)")
        return Value


@contextlib.contextmanager
def fewer_gc_pauses(threshold: int = 100_000):
    """Run the block with Python's cycle collector started less often (every ``threshold`` new objects
    instead of 700). An engine of Values creates millions of small objects whose closures refer to each
    other; with the default setting the collector re-scans them so often that it costs most of the time."""
    old = gc.get_threshold()
    gc.set_threshold(threshold, *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
