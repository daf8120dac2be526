"""Chapter 6 (optimizers): the mistakes learners make, each recognised by computing it.

(A little over 300 lines: one wrong step per likely mistake, for every optimizer and schedule of the
chapter; they share the trajectory helpers.)

The test cells check a step function through ``as_trajectory(step)``: the parameters after every step of a
problem, ``{"step 1": {"W": ...}, ...}``. Each mistake here is a *wrong step function*; the hint is shown when
the learner's parameters at the failing step equal the trajectory that wrong step function gives there (and
only when the values differ from the right answer: a right answer in the wrong dtype is no mistake of these).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..solved.optimizers import trajectory
from . import Hint, mistake


def step_mistake(wrong_step: Callable, message: str) -> Hint:
    """A hint shown when the learner's trajectory equals, at the failing part, that of ``wrong_step``."""
    return mistake(lambda params, grads, **hyper: trajectory(wrong_step, params, grads, **hyper), message)


# --- wrong step functions ------------------------------------------------------------------------------------


def sgd_ignoring_weight_decay(p, g, state, lr, weight_decay=0.0):
    return p - lr * g, state


def sgd_decay_after_step(p, g, state, lr, weight_decay=0.0):
    return (p - lr * g) * (1 - lr * weight_decay), state


def momentum_ema_undamped(p, g, state, lr, beta=0.9):
    v = beta * state.get("v", 0.0) + g
    return p - lr * v, {"v": v}


def momentum_ema_weights_swapped(p, g, state, lr, beta=0.9):
    v = (1 - beta) * state.get("v", 0.0) + beta * g
    return p - lr * v, {"v": v}


def momentum_buffer_from_zero(p, g, state, lr, momentum=0.9, dampening=0.0, weight_decay=0.0):
    g = g + weight_decay * p
    buf = momentum * state.get("buf", 0.0) + (1 - dampening) * g
    return p - lr * buf, {"buf": buf}


def momentum_ignoring_dampening(p, g, state, lr, momentum=0.9, dampening=0.0, weight_decay=0.0):
    g = g + weight_decay * p
    buf = momentum * state.get("buf", 0.0) + g
    return p - lr * buf, {"buf": buf}


def nesterov_plain_momentum(p, g, state, lr, momentum=0.9, weight_decay=0.0):
    g = g + weight_decay * p
    buf = g if "buf" not in state else momentum * state["buf"] + g
    return p - lr * buf, {"buf": buf}


def nesterov_old_buffer(p, g, state, lr, momentum=0.9, weight_decay=0.0):
    g = g + weight_decay * p
    old = state.get("buf", g)  # on the first step old and new buffer are both g
    buf = g if "buf" not in state else momentum * old + g
    return p - lr * (g + momentum * old), {"buf": buf}


def adagrad_eps_inside_sqrt(p, g, state, lr=0.01, eps=1e-10, weight_decay=0.0):
    g = g + weight_decay * p
    sum_sq = state.get("sum", 0.0) + g * g
    return p - lr * g / np.sqrt(sum_sq + eps), {"sum": sum_sq}


def adagrad_not_accumulated(p, g, state, lr=0.01, eps=1e-10, weight_decay=0.0):
    g = g + weight_decay * p
    return p - lr * g / (np.sqrt(g * g) + eps), state


def adagrad_without_sqrt(p, g, state, lr=0.01, eps=1e-10, weight_decay=0.0):
    g = g + weight_decay * p
    sum_sq = state.get("sum", 0.0) + g * g
    return p - lr * g / (sum_sq + eps), {"sum": sum_sq}


def rmsprop_plain_mean(p, g, state, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = g + weight_decay * p
    t = state.get("t", 0) + 1
    mean_sq = state.get("mean_sq", 0.0) + (g * g - state.get("mean_sq", 0.0)) / t
    return p - lr * g / (np.sqrt(mean_sq) + eps), {"t": t, "mean_sq": mean_sq}


def rmsprop_weights_swapped(p, g, state, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = g + weight_decay * p
    square_avg = (1 - alpha) * state.get("square_avg", 0.0) + alpha * g * g
    return p - lr * g / (np.sqrt(square_avg) + eps), {"square_avg": square_avg}


def rmsprop_eps_inside_sqrt(p, g, state, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
    g = g + weight_decay * p
    square_avg = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g * g
    return p - lr * g / np.sqrt(square_avg + eps), {"square_avg": square_avg}


def _adam(p, g, state, lr, betas, eps, weight_decay, *, correct=(True, True), t_offset=0, eps_inside=False):
    beta1, beta2 = betas
    g = g + weight_decay * p
    t = state.get("step", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** (t + t_offset)) if correct[0] else m
    v_hat = v / (1 - beta2 ** (t + t_offset)) if correct[1] else v
    denominator = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
    return p - lr * m_hat / denominator, {"step": t, "m": m, "v": v}


def adam_without_bias_correction(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    return _adam(p, g, state, lr, betas, eps, weight_decay, correct=(False, False))


def adam_m_uncorrected(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    return _adam(p, g, state, lr, betas, eps, weight_decay, correct=(False, True))


def adam_v_uncorrected(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    return _adam(p, g, state, lr, betas, eps, weight_decay, correct=(True, False))


def adam_bias_correction_off_by_one(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    return _adam(p, g, state, lr, betas, eps, weight_decay, t_offset=1)


def adam_eps_inside_sqrt(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    return _adam(p, g, state, lr, betas, eps, weight_decay, eps_inside=True)


def adam_betas_swapped(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    return _adam(p, g, state, lr, betas[::-1], eps, weight_decay)


def adamw_as_l2(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    return _adam(p, g, state, lr, betas, eps, weight_decay)


def adamw_decay_without_lr(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    return _adam(p * (1 - weight_decay), g, state, lr, betas, eps, 0.0)


def adamw_decay_after_step(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    new_p, new_state = _adam(p, g, state, lr, betas, eps, 0.0)
    return new_p * (1 - lr * weight_decay), new_state


# --- the hints, one list per exercise -----------------------------------------------------------------------

sgd = [
    step_mistake(sgd_ignoring_weight_decay, "weight_decay is ignored: add weight_decay * p to the gradient first."),
    step_mistake(
        sgd_decay_after_step,
        "torch.optim folds weight decay into the gradient (g + weight_decay * p) "
        "before the step, it does not shrink p afterwards.",
    ),
]

momentum_ema = [
    step_mistake(
        momentum_ema_undamped,
        "you computed v = beta * v + g (PyTorch's form): this form multiplies the new gradient by (1 - beta).",
    ),
    step_mistake(
        momentum_ema_weights_swapped, "the weights are swapped: the old velocity gets beta, the new gradient 1 - beta."
    ),
]

momentum = [
    step_mistake(
        momentum_buffer_from_zero,
        "the first step: PyTorch starts the buffer at the gradient itself "
        "(buf = g, undamped), not at 0 followed by the usual update.",
    ),
    step_mistake(
        momentum_ignoring_dampening,
        "dampening is ignored: after the first step, buf = momentum * buf + (1 - dampening) * g.",
    ),
]

nesterov = [
    step_mistake(
        nesterov_plain_momentum, "this is plain momentum (a step along buf): Nesterov steps along g + momentum * buf."
    ),
    step_mistake(
        nesterov_old_buffer,
        "the look-ahead uses the buffer after this step's update (momentum * new buf), not the old one.",
    ),
]

adagrad = [
    step_mistake(
        adagrad_eps_inside_sqrt, "eps goes outside the square root: g / (sqrt(sum) + eps), as in torch.optim."
    ),
    step_mistake(adagrad_without_sqrt, "divide by the square ROOT of the sum of squared gradients."),
    step_mistake(adagrad_not_accumulated, "the sum must accumulate: state['sum'] + g * g, over all the steps so far."),
]

rmsprop = [
    step_mistake(
        rmsprop_plain_mean,
        "this is the plain mean of the squared gradients (as the source article says): "
        "RMSprop keeps an exponential moving average, alpha * r + (1 - alpha) * g**2.",
    ),
    step_mistake(
        rmsprop_weights_swapped, "the weights are swapped: the old average gets alpha, the new g**2 gets 1 - alpha."
    ),
    step_mistake(rmsprop_eps_inside_sqrt, "eps goes outside the square root: g / (sqrt(r) + eps)."),
]

_BIAS = "a bias correction is missing: divide m by 1 - beta1**t AND v by 1 - beta2**t."
adam = [
    step_mistake(adam_without_bias_correction, _BIAS),
    step_mistake(adam_m_uncorrected, _BIAS),
    step_mistake(adam_v_uncorrected, _BIAS),
    step_mistake(
        adam_bias_correction_off_by_one,
        "the bias correction uses the wrong t: t is 1 at the first step (t = step count after it).",
    ),
    step_mistake(adam_eps_inside_sqrt, "eps goes outside the square root: m_hat / (sqrt(v_hat) + eps)."),
    step_mistake(
        adam_betas_swapped, "betas = (beta1, beta2): beta1 (0.9) for the gradient's average m, beta2 (0.999) for v."
    ),
]

adamw = [
    step_mistake(
        adamw_as_l2,
        "this is Adam with L2 (weight decay added to the gradient): AdamW shrinks p by "
        "1 - lr * weight_decay and leaves the gradient alone.",
    ),
    step_mistake(
        adamw_decay_without_lr, "the decay factor is 1 - lr * weight_decay (it scales with the learning rate)."
    ),
    step_mistake(adamw_decay_after_step, "decay the parameters before the Adam step, as torch.optim.AdamW does."),
]


# --- learning-rate schedules ----------------------------------------------------------------------------------


def _cosine(base_lr, t, T_max, eta_min=0.0, half=True):
    return eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * t / T_max)) / (2 if half else 1)


step_schedule = [
    mistake(
        lambda base_lr, n, step_size, gamma=0.1: base_lr * gamma ** (np.arange(n) / step_size),
        "the learning rate falls in jumps: it is multiplied by gamma once every step_size steps (integer "
        "division of the step number), not a little at every step.",
    ),
    mistake(
        lambda base_lr, n, step_size, gamma=0.1: base_lr * gamma ** ((np.arange(n) + 1) // step_size),
        "off by one step: step 0 uses base_lr, and the first decay comes at step step_size.",
    ),
]

cosine_schedule = [
    mistake(
        lambda base_lr, n, T_max, eta_min=0.0: _cosine(base_lr, np.arange(n), T_max),
        "eta_min is ignored: the cosine runs from base_lr down to eta_min, not to 0.",
    ),
    mistake(
        lambda base_lr, n, T_max, eta_min=0.0: _cosine(base_lr, np.arange(n), n, eta_min),
        "the period is T_max, not the number of steps of the run (the two differ in the tests).",
    ),
    mistake(
        lambda base_lr, n, T_max, eta_min=0.0: _cosine(base_lr, np.arange(n) + 1, T_max, eta_min),
        "off by one step: step 0 uses base_lr itself (cos 0 = 1).",
    ),
    mistake(
        lambda base_lr, n, T_max, eta_min=0.0: _cosine(base_lr, np.arange(n), T_max, eta_min, half=False),
        "(1 + cos) goes from 2 to 0: halve it, so that the schedule starts at base_lr.",
    ),
]


def _warmup_cosine(
    base_lr, n, warmup, start_factor=0.1, eta_min=0.0, *, ramp_end=None, T_max=None, restart=True, start=None
):
    t = np.arange(warmup)
    start = start_factor if start is None else start
    ramp = base_lr * (start + (1 - start) * t / (warmup if ramp_end is None else ramp_end))
    steps = np.arange(n - warmup) if restart else np.arange(warmup, n)
    return np.concatenate([ramp, _cosine(base_lr, steps, n - warmup if T_max is None else T_max, eta_min)])


warmup_cosine_schedule = [
    mistake(
        lambda b, n, w, f=0.1, e=0.0: _warmup_cosine(b, n, w, f, e, ramp_end=w - 1),
        "the warm-up reaches base_lr one step early: it climbs by (1 - start_factor) / warmup_steps a step and "
        "reaches base_lr at step warmup_steps, the first step of the cosine.",
    ),
    mistake(
        lambda b, n, w, f=0.1, e=0.0: _warmup_cosine(b, n, w, f, e, T_max=n),
        "the cosine part lasts n_steps - warmup_steps steps, not n_steps.",
    ),
    mistake(
        lambda b, n, w, f=0.1, e=0.0: _warmup_cosine(b, n, w, f, e, restart=False),
        "the cosine starts at its beginning (base_lr) when the warm-up ends: count its steps from there.",
    ),
    mistake(
        lambda b, n, w, f=0.1, e=0.0: _warmup_cosine(b, n, w, f, e, start=0.0),
        "the warm-up starts at start_factor * base_lr, not at 0.",
    ),
]
