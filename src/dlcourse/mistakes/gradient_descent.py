"""Chapter 3 (gradient descent): the mistakes learners make, each recognised by computing it.

Every wrong function takes the checked function's arguments and returns a whole result shaped like the
reference's, computed in NumPy from :mod:`dlcourse.solved.gradient_descent` with one thing changed. The
checked functions are those the test cells hand to ``check``: ``minibatches`` as a list
(:func:`dlcourse.cases.gradient_descent.listed`), ``gd_step`` as the parameters after the step
(:func:`~dlcourse.cases.gradient_descent.after_step`), the training loop as ``train(X, y, params, model, **options)``
(:func:`~dlcourse.cases.gradient_descent.trainer`).
"""

from __future__ import annotations

import numpy as np

from ..solved import gradient_descent as s
from . import Hint, Mismatch, mistake

MODELS = {"linear": s.linear_regression_grads, "logistic": s.logistic_regression_grads}


# --- minibatches ------------------------------------------------------------------------------


def _batch_count_differs(m: Mismatch) -> bool:
    return m.keys == () and isinstance(m.args[0], np.ndarray)


def _in_order(X, y, batch_size, seed=0, shuffle=True):
    return list(s.minibatches(X, y, batch_size, seed, shuffle=False))


def _y_part_differs(m: Mismatch) -> bool:
    return len(m.keys) == 2 and m.keys[1] == 1 and m.values_differ()


def _x_part_differs(m: Mismatch) -> bool:
    return len(m.keys) == 2 and m.keys[1] == 0 and m.values_differ()


minibatches = [
    Hint(
        "the number of batches is wrong: an epoch has ceil(N / batch_size) batches, the last one smaller "
        "when batch_size does not divide N.",
        _batch_count_differs,
    ),
    mistake(
        _in_order,
        "the batches hold the rows in their original order: when shuffle is true, visit the examples "
        "in the order np.random.default_rng(seed).permutation(N).",
    ),
    Hint("X_batch is right but y_batch is not: index X and y with the same rows of the same order.", _y_part_differs),
    Hint(
        "the examples come in another order than the reference's: shuffle exactly with "
        "np.random.default_rng(seed).permutation(N) (not np.random.shuffle or the global np.random), "
        "and cut that order into consecutive pieces.",
        _x_part_differs,
    ),
]


# --- gd_step ------------------------------------------------------------------------------------


def _stepped(update):
    """A wrong gd_step's result: every parameter with a gradient becomes update(p, g, lr)."""

    def after(params, grads, lr):
        return {
            k: update(np.asarray(v, dtype=np.float64), np.asarray(grads[k], dtype=np.float64), lr) if k in grads else v
            for k, v in params.items()
        }

    return after


gd_step = [
    mistake(
        lambda params, grads, lr: params,
        "the parameters did not change. Update the arrays in the dict you were given, in place: a new dict, or "
        "rebinding a loop variable to a new array, leaves the caller's parameters as they were.",
    ),
    mistake(_stepped(lambda p, g, lr: p + lr * g), "you stepped uphill: subtract the gradient."),
    mistake(_stepped(lambda p, g, lr: p - g), "the learning rate is missing: the step is lr times the gradient."),
]


# --- linear and logistic regression ---------------------------------------------------------------


def _linear_broadcast(params, X, y):
    return float(np.mean((X @ params["W"].T + params["b"] - y) ** 2)), s.linear_regression_grads(params, X, y)[1]


def _halved(grads_fn):
    def wrong(params, X, y):
        loss, grads = grads_fn(params, X, y)
        return loss, {k: 0.5 * v for k, v in grads.items()}

    return wrong


linear_regression_grads = [
    mistake(
        _linear_broadcast,
        "X @ W.T + b has shape (N, 1) and y (N,): their difference broadcasts to an (N, N) table. Take column 0 first.",
        output="loss",
    ),
    mistake(
        _halved(s.linear_regression_grads),
        "the gradient is half the right value: the derivative of r**2 is 2 r.",
        output="grads",
    ),
]


def _through_sigmoid_derivative(params, X, y):
    """The MSE-style chain rule, (p - y) p (1 - p), instead of the cross-entropy's p - y."""
    loss, _ = s.logistic_regression_grads(params, X, y)
    p = s.sigmoid(s.linear_predict(params, X))
    error = (p - y) * p * (1 - p) / len(y)
    return loss, {"W": (error @ X)[None, :], "b": np.array([error.sum()])}


def _without_mean(params, X, y):
    loss, grads = s.logistic_regression_grads(params, X, y)
    return loss, {k: len(y) * v for k, v in grads.items()}


def _log_of_probabilities(params, X, y):
    z = s.linear_predict(params, X)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        p = 1 / (1 + np.exp(-z))
        loss = float(np.mean(-y * np.log(p) - (1 - y) * np.log(1 - p)))
    return loss, s.logistic_regression_grads(params, X, y)[1]


logistic_regression_grads = [
    mistake(
        _through_sigmoid_derivative,
        "with the cross-entropy, sigma'(z) cancels in the chain rule: dL/dz is "
        "(sigmoid(z) - y) / N, with no extra factor sigmoid(z) (1 - sigmoid(z)).",
        output="grads",
    ),
    mistake(
        _without_mean,
        "the gradient is N times too large: the loss is a mean over the N examples, so dL/dz carries 1/N.",
        output="grads",
    ),
    mistake(
        _log_of_probabilities,
        "the cross-entropy computed from probabilities, log(sigmoid(z)), is log(0) = -inf "
        "for large logits: use the logit form max(z, 0) - z y + log(1 + exp(-|z|)).",
        output="loss",
    ),
]


# --- the training loop ------------------------------------------------------------------------------


def _same_order_every_epoch(X, y, params, model, *, epochs=1, seed=0, **options):
    rows = {key: [np.asarray(value, dtype=np.float64)[None]] for key, value in params.items()}
    current = params
    for _ in range(epochs):
        part = s.gradient_descent(MODELS[model], X, y, current, epochs=1, seed=seed, **options)
        for key, parts in rows.items():
            parts.append(part[key][1:])
        current = {key: part[key][-1] for key in part}
    return {key: np.concatenate(parts) for key, parts in rows.items()}


def _batch_uses_batch_size(X, y, params, model, *, method="minibatch", batch_size=32, **options):
    if method == "batch":
        method = "minibatch"
    return s.gradient_descent(MODELS[model], X, y, params, method=method, batch_size=batch_size, **options)


def _later_rows_all_equal(m: Mismatch) -> bool:
    """Rows 1, 2, ... of the learner's trajectory are all the final parameters, and the reference's are not."""
    if m.got is None or m.expected is None:
        return False
    got, expected = np.asarray(m.got), np.asarray(m.expected)
    return (
        got.ndim >= 1 and len(got) > 2 and bool(np.all(got[1:] == got[-1])) and not np.all(expected[1:] == expected[-1])
    )


def _wrong_length(m: Mismatch) -> bool:
    if m.got is None or m.expected is None:
        return False
    got, expected = np.asarray(m.got), np.asarray(m.expected)
    return got.ndim == expected.ndim and got.shape[1:] == expected.shape[1:] and len(got) != len(expected)


gradient_descent = [
    Hint(
        "every row of your trajectory after the start holds the same (final) parameters: you recorded the arrays "
        "themselves (or a dict of them: dict(params) copies only the dict), and gd_step kept changing them in place. "
        "Record copies of the arrays.",
        _later_rows_all_equal,
    ),
    Hint(
        lambda m: (
            f"the trajectory has {len(np.asarray(m.got))} rows, the reference {len(np.asarray(m.expected))}: "
            f"it holds the start and then the parameters after EVERY step (one step per batch), so "
            f"1 + epochs * (number of batches per epoch) rows. Did you record once per epoch, "
            f"forget the starting point, or use the wrong batch size for this method?"
        ),
        _wrong_length,
    ),
    mistake(_same_order_every_epoch, "every epoch visits the batches in the same order: epoch e must use seed + e."),
    mistake(
        _batch_uses_batch_size, "batch gradient descent uses all N examples in one step, whatever batch_size says."
    ),
]
