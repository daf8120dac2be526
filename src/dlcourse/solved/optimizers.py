"""Chapter 6 (optimizers), solved: NumPy optimizers that match torch.optim step for step.

Two ways to use them.

* Step functions, one per optimizer, with explicit state (what the chapter's exercises ask for)::

      new_p, state = adam_step(p, g, state, lr=1e-3)     # state is {} before the first step

* Classes over a dict of parameters, updated in place (what training loops use)::

      optimizer = Adam(lr=1e-3)
      optimizer.step(params, grads)   # params[name] -= ...; state is kept per parameter name

A parameter whose name is missing from ``grads`` is skipped, state and all, like a
torch parameter whose ``.grad`` is None; a zero gradient is a real step (momentum,
Adam's moving averages and weight decay still move the parameter).

Learning-rate schedules (the chapter's stretch exercises) give the learning rate of every step of a run, as
``torch.optim.lr_scheduler`` sets it. (The module is a little over 300 lines: it is the chapter's one solved
module, step functions, their runners, the in-place classes and the schedules.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

StepFunction = Callable[..., tuple[np.ndarray, dict]]


# --- step functions: new_p, new_state = step(p, g, state, **hyper-parameters) ------------------


def sgd_step(p, g, state, lr, weight_decay=0.0):
    """torch.optim.SGD without momentum: p - lr * (g + weight_decay * p)."""
    g = g + weight_decay * p
    return p - lr * g, state


def momentum_ema_step(p, g, state, lr, beta=0.9):
    """Momentum as a moving average of gradients (the source article's form): v = beta v + (1 - beta) g, v starts at 0.
    Equals torch.optim.SGD(lr=lr * (1 - beta), momentum=beta)."""
    v = beta * state.get("v", 0.0) + (1 - beta) * g
    return p - lr * v, {"v": v}


def momentum_step(p, g, state, lr, momentum=0.9, dampening=0.0, weight_decay=0.0):
    """torch.optim.SGD's momentum: buf = g on the first step, then buf = momentum buf + (1 - dampening) g."""
    g = g + weight_decay * p
    buf = g if "buf" not in state else momentum * state["buf"] + (1 - dampening) * g
    return p - lr * buf, {"buf": buf}


def nesterov_step(p, g, state, lr, momentum=0.9, weight_decay=0.0):
    """torch.optim.SGD(nesterov=True): the buffer as in momentum_step, the step along g + momentum * buf."""
    g = g + weight_decay * p
    buf = g if "buf" not in state else momentum * state["buf"] + g
    return p - lr * (g + momentum * buf), {"buf": buf}


def adagrad_step(p, g, state, lr=0.01, eps=1e-10, weight_decay=0.0):
    """torch.optim.Adagrad: the sum of all squared gradients so far scales each coordinate's step."""
    g = g + weight_decay * p
    sum_sq = state.get("sum", 0.0) + g * g
    return p - lr * g / (np.sqrt(sum_sq) + eps), {"sum": sum_sq}


def rmsprop_step(p, g, state, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0):
    """torch.optim.RMSprop: an exponential moving average (not a plain mean) of squared gradients, from 0."""
    g = g + weight_decay * p
    square_avg = alpha * state.get("square_avg", 0.0) + (1 - alpha) * g * g
    return p - lr * g / (np.sqrt(square_avg) + eps), {"square_avg": square_avg}


def adam_step(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """torch.optim.Adam: moving averages m, v of g and g**2, bias-corrected by 1 - beta**t (t = 1, 2, ...)."""
    beta1, beta2 = betas
    g = g + weight_decay * p
    t = state.get("step", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), {"step": t, "m": m, "v": v}


def adamw_step(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
    """torch.optim.AdamW: decoupled weight decay (shrink p by 1 - lr * weight_decay), then an Adam step without L2."""
    decayed = p * (1 - lr * weight_decay)  # decoupled: shrink the weights, leave the gradient alone
    return adam_step(decayed, g, state, lr=lr, betas=betas, eps=eps)


STEP_FUNCTIONS: dict[str, StepFunction] = {
    "sgd": sgd_step,
    "momentum_ema": momentum_ema_step,
    "momentum": momentum_step,
    "nesterov": nesterov_step,
    "adagrad": adagrad_step,
    "rmsprop": rmsprop_step,
    "adam": adam_step,
    "adamw": adamw_step,
}


# --- learning-rate schedules: the learning rate of steps 0, 1, ..., n_steps - 1 ---------------


def step_schedule(base_lr, n_steps, step_size, gamma=0.1):
    """torch.optim.lr_scheduler.StepLR: the learning rate times gamma after every step_size steps."""
    t = np.arange(n_steps)
    return base_lr * gamma ** (t // step_size)


def cosine_schedule(base_lr, n_steps, T_max, eta_min=0.0):
    """torch.optim.lr_scheduler.CosineAnnealingLR: from base_lr down to eta_min along half a cosine over T_max steps."""
    t = np.arange(n_steps)
    return eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * t / T_max)) / 2


def warmup_cosine_schedule(base_lr, n_steps, warmup_steps, start_factor=0.1, eta_min=0.0):
    """A linear warm-up from start_factor * base_lr to base_lr over warmup_steps, then cosine annealing."""
    t = np.arange(warmup_steps)
    warmup = base_lr * (start_factor + (1 - start_factor) * t / warmup_steps)
    rest = cosine_schedule(base_lr, n_steps - warmup_steps, n_steps - warmup_steps, eta_min)
    return np.concatenate([warmup, rest])


# --- running step functions ----------------------------------------------------------------


def _call_step(step_fn: StepFunction, p, g, state, hyper):
    result = step_fn(p, g, state, **hyper)
    name = getattr(step_fn, "__name__", "the step function")
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise TypeError(f"{name} must return (new_p, new_state) with new_state a dict, got {got}")
    return result


def trajectory(
    step_fn: StepFunction, params: Mapping[str, np.ndarray], grads: Sequence[Mapping[str, np.ndarray]], **hyper
) -> dict[str, dict[str, np.ndarray]]:
    """Feed ``grads[k]`` (a dict, one gradient per parameter) to ``step_fn`` at step k+1, every parameter with its
    own state (``{}`` at first). Returns the parameters after every step: ``{"step 1": {...}, "step 2": ...}``.
    ``params`` is not changed."""
    check_problem(params, grads)
    current = {name: np.array(p, copy=True) for name, p in params.items()}
    states: dict[str, dict] = {name: {} for name in params}
    result = {}
    for k, step_grads in enumerate(grads, start=1):
        for name in current:  # noqa: PLC0206 - the loop rebinds current[name]
            current[name], states[name] = _call_step(step_fn, current[name], step_grads[name], states[name], hyper)
        result[f"step {k}"] = {name: np.array(p, copy=True) for name, p in current.items()}
    return result


def minimize_path(
    step_fn: StepFunction, grad_fn: Callable[[np.ndarray], np.ndarray], x0, steps: int, **hyper
) -> np.ndarray:
    """The points visited from ``x0`` by ``steps`` steps of ``step_fn`` on the gradient ``grad_fn(x)``: (steps + 1, dim)."""
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    x, state = np.array(x0, dtype=np.float64), {}
    path = [x]
    for _ in range(steps):
        x, state = _call_step(step_fn, x, grad_fn(x), state, hyper)
        path.append(np.array(x, copy=True))
    return np.stack(path)


def check_problem(params: Mapping[str, np.ndarray], grads: Sequence[Mapping[str, np.ndarray]]) -> None:
    """Raise a clear error unless ``params`` is a dict of float arrays and ``grads`` a list of dicts with
    a gradient of the same shape for every parameter."""
    if not isinstance(params, Mapping) or not params:
        raise TypeError(f"params must be a non-empty dict of arrays, got {type(params).__name__}")
    for name, p in params.items():
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise TypeError(
                f"params[{name!r}] must be a float NumPy array, got {getattr(p, 'dtype', type(p).__name__)}"
            )
    if isinstance(grads, Mapping) or not isinstance(grads, Sequence):
        raise TypeError("grads must be a list with one dict of gradients per step")
    for k, step_grads in enumerate(grads, start=1):
        if not isinstance(step_grads, Mapping) or set(step_grads) != set(params):
            keys = sorted(step_grads) if isinstance(step_grads, Mapping) else type(step_grads).__name__
            raise ValueError(
                f"grads[{k - 1}] (step {k}) must be a dict with a gradient for each of {sorted(params)}, got {keys}"
            )
        for name, g in step_grads.items():
            if np.shape(g) != params[name].shape:
                raise ValueError(
                    f"grads[{k - 1}][{name!r}] has shape {np.shape(g)}, the parameter {params[name].shape}"
                )


# --- classes over a dict of parameters, updated in place -----------------------------------


class Optimizer:
    """Keeps per-parameter state by name; subclasses define ``update(p, g, state)``, which changes ``p`` in place."""

    def __init__(self, lr: float, weight_decay: float = 0.0):
        if lr < 0:
            raise ValueError(f"lr must be >= 0, got {lr}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
        self.lr, self.weight_decay = lr, weight_decay
        self.state: dict[str, dict] = {}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """One step for every parameter that has a gradient (a missing name is skipped, like .grad None)."""
        missing = set(grads) - set(params)
        if missing:
            raise KeyError(f"gradients for unknown parameters {sorted(missing)}")
        for name, g in grads.items():
            p = params[name]
            if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
                raise TypeError(f"params[{name!r}] must be a float NumPy array (it is updated in place)")
            if np.shape(g) != p.shape:
                raise ValueError(f"the gradient of {name!r} has shape {np.shape(g)}, the parameter {p.shape}")
            self.update(p, np.asarray(g), self.state.setdefault(name, {}))

    def update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        raise NotImplementedError


class StepOptimizer(Optimizer):
    """An optimizer class made from a step function (yours or the course's): ``StepOptimizer(adam_step, lr=1e-3)``."""

    def __init__(self, step_fn: StepFunction, **hyper):
        super().__init__(hyper.get("lr", 0.0), hyper.get("weight_decay", 0.0))
        self.step_fn, self.hyper = step_fn, hyper

    def update(self, p, g, state):
        new_p, new_state = _call_step(self.step_fn, p, g, dict(state), self.hyper)
        p[...] = new_p
        state.clear()
        state.update(new_state)


class SGD(StepOptimizer):
    """torch.optim.SGD: buf = momentum * buf + (1 - dampening) * g (buf = g on the first step);
    Nesterov uses g + momentum * buf."""

    def __init__(
        self,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0 (as in torch.optim.SGD)")
        if momentum < 0:
            raise ValueError(f"momentum must be >= 0, got {momentum}")
        if nesterov:
            super().__init__(nesterov_step, lr=lr, momentum=momentum, weight_decay=weight_decay)
        elif momentum:
            super().__init__(momentum_step, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
        else:
            super().__init__(sgd_step, lr=lr, weight_decay=weight_decay)
        self.momentum, self.dampening, self.nesterov = momentum, dampening, nesterov


class MomentumEMA(StepOptimizer):
    """Momentum as a moving average of the gradients, v = beta v + (1 - beta) g (the source article's form)."""

    def __init__(self, lr: float, beta: float = 0.9):
        if not 0 <= beta < 1:
            raise ValueError(f"beta must be in [0, 1), got {beta}")
        super().__init__(momentum_ema_step, lr=lr, beta=beta)


class Adagrad(StepOptimizer):
    """torch.optim.Adagrad (without lr_decay)."""

    def __init__(self, lr: float = 0.01, eps: float = 1e-10, weight_decay: float = 0.0):
        super().__init__(adagrad_step, lr=lr, eps=eps, weight_decay=weight_decay)


class RMSprop(StepOptimizer):
    """torch.optim.RMSprop (without momentum or centering)."""

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0):
        if not 0 <= alpha < 1:
            raise ValueError(f"alpha must be in [0, 1), got {alpha}")
        super().__init__(rmsprop_step, lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay)


class Adam(Optimizer):
    """torch.optim.Adam: moving averages m, v of g and g**2, bias-corrected by 1 - beta**t.

    Written for speed: every operation writes into the state arrays or a small scratch buffer
    (``out=``), block by block so that the scratch stays in the CPU cache, in the order of
    torch.optim.Adam's own kernel (m += (1 - beta1)(g - m), as torch's lerp_).
    """

    decoupled_weight_decay = False
    block_size = 1 << 16

    def __init__(
        self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0.0
    ):
        super().__init__(lr, weight_decay)
        if not all(0 <= b < 1 for b in betas) or len(betas) != 2:
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas}")
        if eps < 0:
            raise ValueError(f"eps must be >= 0, got {eps}")
        self.betas, self.eps = tuple(betas), eps

    def update(self, p, g, state):
        beta1, beta2 = self.betas
        if not state:
            state.update(step=0, m=np.zeros_like(p), v=np.zeros_like(p))
        if self.weight_decay and self.decoupled_weight_decay:
            p *= 1 - self.lr * self.weight_decay
        elif self.weight_decay:
            g = g + self.weight_decay * p
        state["step"] += 1
        t = state["step"]
        step_size = self.lr / (1 - beta1**t)
        bias_correction2_sqrt = (1 - beta2**t) ** 0.5
        scratch = np.empty(min(p.size, self.block_size), dtype=p.dtype)
        for P, G, M, V in _blocks(self.block_size, p, g, state["m"], state["v"]):
            T = scratch[: P.size].reshape(P.shape)
            np.subtract(G, M, out=T)  # m = m + (1 - beta1) (g - m)
            T *= 1 - beta1
            M += T
            V *= beta2  # v = beta2 v + (1 - beta2) g g
            np.multiply(G, G, out=T)
            T *= 1 - beta2
            V += T
            np.sqrt(V, out=T)  # denominator sqrt(v) / sqrt(1 - beta2^t) + eps
            T /= bias_correction2_sqrt
            T += self.eps
            np.divide(M, T, out=T)  # p -= lr / (1 - beta1^t) * m / denominator
            T *= step_size
            P -= T


class AdamW(Adam):
    """torch.optim.AdamW: Adam with decoupled weight decay, p *= 1 - lr * weight_decay before the Adam step."""

    decoupled_weight_decay = True

    def __init__(
        self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2
    ):
        super().__init__(lr, betas, eps, weight_decay)


def _blocks(size: int, *arrays: np.ndarray):
    """Matching 1-D views of ``size`` elements of C-contiguous arrays (writes go through), else the arrays whole."""
    if not all(a.flags.c_contiguous for a in arrays) or arrays[0].size <= size:
        yield arrays
        return
    flat = [a.reshape(-1) for a in arrays]
    for start in range(0, flat[0].size, size):
        yield tuple(f[start : start + size] for f in flat)
