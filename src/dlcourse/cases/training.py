"""Chapter 7's training-loop exercise: the adapter that runs the learner's ``train_mlp`` the way the PyTorch
reference runs its loop (same initial weights, same optimizer settings, same batch order), and its inputs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..checking import randint, randn
from ..solved.networks import init_params
from ..solved.optimizers import SGD, Adam

__all__ = ["OFFERED", "classification_problem", "mlp_params", "run_train_mlp"]

# what the exercise offers the learner's loop: chapters 1-6's solved blocks it is told to use
OFFERED = (
    "dlcourse.solved.networks.mlp_forward",
    "dlcourse.solved.backprop.mlp_backward",
    "dlcourse.solved.losses.cross_entropy",
    "dlcourse.solved.losses.cross_entropy_grad",
    "dlcourse.solved.gradient_descent.minibatches",
    "dlcourse.solved.optimizers",
)

_NUMPY_OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def run_train_mlp(train_mlp: Callable) -> Callable:
    """``(params, X, y, optimizer=(name, options), epochs, batch_size, ...) -> result``, as the reference returns it
    (check it with ``allow=OFFERED``):
    the learner's ``train_mlp`` on a copy of ``params`` with the course's NumPy optimizer of that name and options
    (``"sgd"``: :class:`dlcourse.solved.optimizers.SGD`, ``"adam"``: ``Adam``); the result holds the history's
    entries as arrays and the trained parameters under ``"params"``."""

    def run(params, X, y, optimizer, epochs, batch_size, seed=0, validation=None, patience=None):
        name, options = optimizer
        trained = {key: np.array(value) for key, value in params.items()}
        history = train_mlp(
            trained,
            X,
            y,
            _NUMPY_OPTIMIZERS[name](**options),
            epochs,
            batch_size,
            seed=seed,
            validation=validation,
            patience=patience,
        )
        if not isinstance(history, dict):
            return history  # the checker explains what is wrong with it
        result = {
            key: (np.asarray(value, dtype=np.float64) if key != "best_epoch" else np.int64(value))
            for key, value in history.items()
        }
        result["params"] = trained
        return result

    run.__name__ = getattr(train_mlp, "__name__", "train_mlp")
    return run


def mlp_params(sizes: list[int], seed: int) -> dict[str, np.ndarray]:
    """He-initialised weights and non-zero biases."""
    params = init_params(sizes, seed=seed)
    return {k: v + 0.1 * randn(*v.shape, seed=seed + 100) if k.startswith("b") else v for k, v in params.items()}


def classification_problem(n: int, n_features: int, n_classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random inputs and labels (no pattern: a network can only memorise them, so validation losses rise)."""
    return randn(n, n_features, seed=seed), randint(0, n_classes, n, seed=seed + 1)
