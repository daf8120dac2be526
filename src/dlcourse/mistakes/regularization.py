"""Chapter 7 (training in practice): the mistakes learners make, each recognised by computing it (or, for the
split, by which of its properties fails).

Every wrong function takes the checked function's arguments and returns a whole result shaped like the
reference's, computed in NumPy with one thing changed.
"""

from __future__ import annotations

import numpy as np

from ..solved import regularization as s
from . import Hint, Mismatch, mistake


def _part(name: str):
    """The split summary's entry ``name`` differs (the summary is a dict of properties)."""
    return lambda m: bool(m.keys) and m.keys[0] == name


train_val_split = [
    Hint(
        "the sizes are off: N_val = int(val_fraction * N) (rounded down, as random_split does), N_train = N - N_val.",
        lambda m: bool(m.keys) and m.keys[0] in ("n_train", "n_val"),
    ),
    Hint(
        "the validation part is a block of consecutive rows: shuffle the examples with a generator made from "
        "the seed before cutting.",
        _part("shuffled"),
    ),
    Hint(
        "X and y must be indexed with the SAME permutation, or labels end up on the wrong examples.",
        _part("labels_follow_rows"),
    ),
    Hint(
        "some examples are missing or repeated: cut ONE permutation into two disjoint parts.", _part("every_row_once")
    ),
    Hint(
        "the dtypes changed: index the arrays, do not convert them (float32 images stay float32, integer labels "
        "stay integers).",
        _part("dtypes_kept"),
    ),
]


def _std_plus_eps(A, B, eps=1e-5):
    return tuple((X - A.mean(0)) / (A.std(0) + eps) for X in (A, B))


normalize = [
    mistake(
        lambda A, B, eps=1e-5: (s.normalize(A, A, eps)[0], s.normalize(B, B, eps)[0]),
        "X_other was normalised with its OWN mean and variance: use the training statistics for both sets.",
        output="X_other_normalised",
    ),
    mistake(
        lambda A, B, eps=1e-5: s.normalize(np.concatenate([A, B]), np.concatenate([A, B]), eps)[0][: len(A)],
        "the statistics come from the training data only, not from training and other data together.",
        output="X_train_normalised",
    ),
    mistake(_std_plus_eps, "eps belongs inside the square root: (X - mean) / sqrt(var + eps), not / (std + eps)."),
    mistake(
        lambda A, B, eps=1e-5: tuple((X - A.mean(0)) / np.sqrt(A.var(0, ddof=1) + eps) for X in (A, B)),
        "use the biased variance (divide by N), not the unbiased one (N - 1).",
    ),
    mistake(
        lambda A, B, eps=1e-5: tuple((X - A.mean()) / np.sqrt(A.var() + eps) for X in (A, B)),
        "each feature (column) gets its own mean and variance: reduce over the examples (axis 0) only.",
    ),
    mistake(lambda A, B, eps=1e-5: s.normalize(A, B, 1e-5), "eps was ignored: use the eps argument, not a fixed 1e-5."),
    mistake(
        lambda A, B, eps=1e-5: s.normalize(A, B, 0.0),
        "eps is missing: (X - mean) / sqrt(var + eps) (it keeps a constant feature from dividing by zero).",
    ),
]


def _all_squares(params, lam):
    return 0.5 * lam * sum(np.sum(v * v) for v in params.values())


l2_penalty = [
    mistake(_all_squares, "only the weights are penalised: skip the biases (keys starting with 'b')."),
    mistake(
        lambda params, lam: 2 * _all_squares({k: v for k, v in params.items() if k[0] == "W"}, lam),
        "the penalty is (lam / 2) * sum of squares: the 1/2 is missing.",
    ),
    mistake(
        lambda params, lam: lam * sum(np.sqrt(np.sum(v * v)) for k, v in params.items() if k[0] == "W"),
        "square the weights (sum of W**2): the norm itself, without the square, is not the L2 penalty.",
    ),
]


def _bias_changed(m: Mismatch) -> bool:
    return bool(m.keys) and isinstance(m.keys[0], str) and m.keys[0].startswith("b") and m.values_differ()


l2_grad = [
    Hint("bias gradients get no lam * b term: only the weights are penalised.", _bias_changed),
    mistake(
        lambda g, p, lam: {k: v + 2 * lam * p[k] for k, v in g.items()},
        "the gradient of (lam/2) * W**2 is lam * W, not 2 * lam * W.",
    ),
    mistake(
        lambda g, p, lam: {k: lam * p[k] for k, v in g.items()},
        "add lam * W TO the data gradient: the data loss still has its own gradient.",
    ),
]

dropout_forward = [
    mistake(
        lambda X, mask, p: X * mask,
        "the kept units must be scaled by 1 / (1 - p) (inverted dropout), so that the expected output equals X.",
    ),
    mistake(
        lambda X, mask, p: X * mask * (1 - p),
        "multiply the kept units by 1 / (1 - p), not by (1 - p): "
        "scaling by (1 - p) is the test-time rule of the original, "
        "non-inverted dropout.",
    ),
    mistake(
        lambda X, mask, p: X * mask / p, "p is the probability to DROP a unit: divide by the keep probability 1 - p."
    ),
    mistake(
        lambda X, mask, p: X * ~np.asarray(mask) / (1 - p),
        "mask is True where a unit is KEPT: multiply by mask, not by its negation.",
    ),
]

dropout_backward = [
    mistake(lambda dout, mask, p: dout / (1 - p), "dropped units pass no gradient back: multiply by the mask too."),
    mistake(lambda dout, mask, p: dout * mask, "the gradient carries the same 1 / (1 - p) scale as the forward pass."),
    mistake(
        lambda dout, mask, p: dout * mask * (1 - p),
        "the forward pass divides by (1 - p), so the backward pass does too.",
    ),
]


def _with_ties(losses, patience):
    best, best_loss = 0, np.inf
    for epoch, loss in enumerate(losses):
        if loss <= best_loss:
            best, best_loss = epoch, loss
        elif epoch - best >= patience:
            return best, epoch
    return best, len(losses) - 1


early_stopping = [
    mistake(
        lambda v, patience: s.early_stopping(v, patience + 1),
        "you wait one epoch too long: stop as soon as epoch - best_epoch >= patience (with patience 2 "
        "and the best at epoch 1, training stops at epoch 3).",
    ),
    mistake(
        lambda v, patience: s.early_stopping(v, max(patience - 1, 1)),
        "you stop one epoch too early: stop when epoch - best_epoch >= patience, counting from the best epoch.",
    ),
    mistake(
        lambda v, patience: (int(np.argmin(v)), s.early_stopping(v, patience)[1]),
        "best_epoch is the best epoch SEEN before stopping, not the minimum of the whole curve.",
        output="best_epoch",
    ),
    mistake(
        _with_ties, "a tie is no improvement: an epoch improves only when its loss is strictly below every earlier one."
    ),
    Hint(
        "stop when epoch - best_epoch >= patience, or at the last epoch if that never happens.",
        lambda m: m.output == "stop_epoch" and m.values_differ(),
    ),
]


def _bn(
    X,
    gamma,
    beta,
    running_mean,
    running_var,
    training=True,
    momentum=0.1,
    eps=1e-5,
    *,
    biased_running=False,
    keras_momentum=False,
    batch_stats_in_eval=False,
    update_in_eval=False,
    eps_outside=False,
    unbiased_norm=False,
):
    """Batch normalisation's forward pass with one mistake switched on."""
    n = X.shape[0]
    mean, var = X.mean(axis=0), X.var(axis=0)
    new_mean, new_var = running_mean, running_var
    if training or update_in_eval:
        keep = momentum if keras_momentum else 1 - momentum
        unbiased = var if biased_running else var * n / (n - 1)
        new_mean = keep * running_mean + (1 - keep) * mean
        new_var = keep * running_var + (1 - keep) * unbiased
    if not (training or batch_stats_in_eval):
        mean, var = running_mean, running_var
    elif unbiased_norm:
        var = var * n / (n - 1)
    scale = 1 / (np.sqrt(var) + eps) if eps_outside else 1 / np.sqrt(var + eps)
    return gamma * (X - mean) * scale + beta, new_mean, new_var


batchnorm_forward = [
    mistake(
        lambda *a, **k: _bn(*a, **k, biased_running=True),
        "running_var is updated with the UNBIASED batch variance (times N / (N - 1)), as PyTorch does; the "
        "output is normalised with the biased one.",
        output="running_var",
    ),
    mistake(
        lambda *a, **k: _bn(*a, **k, keras_momentum=True),
        "momentum is the weight of the NEW batch statistic in PyTorch: running = (1 - momentum) * running + "
        "momentum * batch (Keras's momentum is the other way round).",
    ),
    mistake(
        lambda *a, **k: _bn(*a, **k, batch_stats_in_eval=True),
        "in evaluation mode (training=False) the output is normalised with the RUNNING statistics, not the batch's.",
        output="out",
    ),
    mistake(
        lambda *a, **k: _bn(*a, **k, update_in_eval=True), "in evaluation mode the running statistics stay as they are."
    ),
    mistake(
        lambda *a, **k: _bn(*a, **k, eps_outside=True),
        "eps belongs inside the square root: (X - mean) / sqrt(var + eps).",
    ),
    mistake(
        lambda *a, **k: _bn(*a, **k, unbiased_norm=True),
        "the output is normalised with the BIASED batch variance (divide by N); only running_var uses N - 1.",
        output="out",
    ),
]


def _bn_backward(dout, X, gamma, eps=1e-5, *, constant_stats=False, no_variance_term=False, dgamma_from_X=False):
    n = X.shape[0]
    inv_std = 1.0 / np.sqrt(X.var(axis=0) + eps)
    X_hat = (X - X.mean(axis=0)) * inv_std
    dX_hat = dout * gamma
    if constant_stats:
        dX = dX_hat * inv_std
    elif no_variance_term:
        dX = inv_std / n * (n * dX_hat - dX_hat.sum(axis=0))
    else:
        dX = inv_std / n * (n * dX_hat - dX_hat.sum(axis=0) - X_hat * (dX_hat * X_hat).sum(axis=0))
    dgamma = (dout * (X if dgamma_from_X else X_hat)).sum(axis=0)
    return dX, dgamma, dout.sum(axis=0)


batchnorm_backward = [
    mistake(
        lambda *a, **k: _bn_backward(*a, **k, constant_stats=True),
        "the batch mean and variance depend on every X[n] too: dX has two more terms than dout * gamma / std "
        "(the gradient through the mean and through the variance).",
        output="dX",
    ),
    mistake(
        lambda *a, **k: _bn_backward(*a, **k, no_variance_term=True),
        "the gradient through the batch variance is missing: subtract X_hat * sum(dX_hat * X_hat) / N as well.",
        output="dX",
    ),
    mistake(
        lambda *a, **k: _bn_backward(*a, **k, dgamma_from_X=True),
        "dgamma multiplies dout by the NORMALISED input X_hat, not by X.",
        output="dgamma",
    ),
]
