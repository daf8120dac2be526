"""Chapter 2 (autodiff)'s test inputs and adapters: an engine of Values run on arrays of numbers, so that
:func:`dlcourse.checking.check` can compare it with ``torch.autograd``.

- :func:`local_gradients` applies one operation entry by entry and runs only its ``local_backward``;
- :func:`random_program` / :func:`run_program` build random expressions that run unchanged on Values and on
  torch tensors; :func:`program_gradients` differentiates one with an engine (the learner's Value class, or,
  through :func:`on_course_graphs`, graphs built by the course's engine so that only ``backward`` is the learner's).

Every adapter takes the engine's class explicitly: nothing here hands the course's engine to learner code.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..reference.autodiff import program_values, run_program
from ..solved import autodiff as solved

__all__ = [
    "ENGINE_BLOCKS",
    "OPS",
    "local_gradients",
    "on_course_graphs",
    "program_gradients",
    "random_program",
    "run_program",
]

# The course engine's operations (and Value.__init__, whose do-nothing local_backward every leaf has): their
# local_backward closures are what a learner's backward() calls on the course's graphs.
ENGINE_BLOCKS = tuple(
    f"dlcourse.solved.autodiff.{name}"
    for name in ("Value.__init__", "value_add", "value_mul", "value_pow", "value_tanh", "value_relu")
)


def local_gradients(op: Callable, *inputs, upstream, value_class: type, initial_grad: float = 0.0):
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
        raise ValueError(
            f"inputs and upstream must have one shape, got {[a.shape for a in arrays]} and {upstream.shape}"
        )
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
            if all(abs(v) < limit for v in program_values(program, probe)):
                return program
        except OverflowError:  # float ** 2 of a huge number: draw another program
            pass


def program_gradients(program: list[tuple], x: np.ndarray, backward: Callable | None = None, *, value_class: type):
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


def on_course_graphs(backward: Callable) -> Callable:
    """check adapter: ``(program, x)`` -> (result, gradient) with the graph built by the course's engine and
    ``backward(root)`` (the learner's) running the backward pass. Allow :data:`ENGINE_BLOCKS` in the check."""

    def gradients(program, x):
        return program_gradients(program, x, backward=backward, value_class=solved.Value)

    gradients.__name__ = getattr(backward, "__name__", "backward")
    return gradients
