"""Chapter 6 (optimizers), solved: optimizers over a dict of NumPy parameters, step for step as torch.optim.

Use::

    optimizer = Adam(lr=1e-3)
    optimizer.step(params, grads)   # updates params in place; state is kept per parameter name
"""

from __future__ import annotations

import numpy as np


class Optimizer:
    """Keeps per-parameter state by name; subclasses define ``update(name, p, g, state)``."""

    def __init__(self, lr: float, weight_decay: float = 0.0):
        if lr < 0:
            raise ValueError(f"lr must be >= 0, got {lr}")
        self.lr, self.weight_decay = lr, weight_decay
        self.state: dict[str, dict] = {}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        missing = set(grads) - set(params)
        if missing:
            raise KeyError(f"gradients for unknown parameters {sorted(missing)}")
        for name, g in grads.items():
            p = params[name]
            if self.weight_decay:
                g = g + self.weight_decay * p  # L2 penalty folded into the gradient, as torch.optim does
            self.update(p, g, self.state.setdefault(name, {}))

    def update(self, p: np.ndarray, g: np.ndarray, state: dict) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """torch.optim.SGD: buf = momentum * buf + (1 - dampening) * g (buf = g on the first step);
    Nesterov uses g + momentum * buf."""

    def __init__(self, lr: float, momentum: float = 0.0, dampening: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0 (as in torch.optim.SGD)")
        self.momentum, self.dampening, self.nesterov = momentum, dampening, nesterov

    def update(self, p, g, state):
        if self.momentum:
            if "buf" not in state:
                state["buf"] = g.copy()
            else:
                state["buf"] = self.momentum * state["buf"] + (1 - self.dampening) * g
            g = g + self.momentum * state["buf"] if self.nesterov else state["buf"]
        p -= self.lr * g


class Adam(Optimizer):
    """torch.optim.Adam: moving averages m, v of g and g**2, bias-corrected by 1 - beta**t."""

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.betas, self.eps = betas, eps

    def update(self, p, g, state):
        beta1, beta2 = self.betas
        if "t" not in state:
            state.update(t=0, m=np.zeros_like(p), v=np.zeros_like(p))
        state["t"] += 1
        state["m"] = beta1 * state["m"] + (1 - beta1) * g
        state["v"] = beta2 * state["v"] + (1 - beta2) * g * g
        m_hat = state["m"] / (1 - beta1 ** state["t"])
        v_hat = state["v"] / (1 - beta2 ** state["t"])
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
