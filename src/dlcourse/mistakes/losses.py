"""Chapter 4 (losses and metrics): the mistakes learners make, each recognised by computing it.

Every wrong function takes the checked function's arguments and returns a whole result shaped like the
reference's, computed in NumPy from :mod:`dlcourse.solved.losses` / :mod:`dlcourse.solved.metrics` with one
thing changed. (Overflowing exps need no hint here: the checker turns NumPy's overflow into an error that
says what happened.)
"""

from __future__ import annotations

import numpy as np

from ..solved import losses as s
from ..solved import metrics as sm
from ..solved.networks import sigmoid
from . import mistake

mse = [
    mistake(
        lambda p, t: np.sqrt(np.mean((p - t) ** 2)), "that is the ROOT mean squared error: MSE has no square root."
    ),
    mistake(lambda p, t: np.mean(np.abs(p - t)), "that is the mean ABSOLUTE error: square the differences instead."),
    mistake(
        lambda p, t: np.sum((p - t) ** 2) / p.shape[0],
        "you divided by the batch size N: the mean runs over EVERY entry (N * K of them).",
    ),
]

mse_grad = [
    mistake(
        lambda p, t: (p - t) / p.size,
        "the derivative of (pred - target)**2 is 2 (pred - target): the factor 2 is missing.",
    ),
    mistake(
        lambda p, t: 2 * (p - t) / p.shape[0],
        "divide by the number of ENTRIES (N * K), not by the batch size N: the mean runs over every entry.",
    ),
    mistake(lambda p, t: 2 * (p - t), "the mean's 1/M is missing: M is the number of entries."),
]


def _softmax_over(axis):
    def wrong(z):
        e = np.exp(z - z.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    return wrong


def _softmax_over_everything(z):
    e = np.exp(z - z.max())
    return e / e.sum()


softmax = [
    mistake(
        _softmax_over(0),
        "each ROW (one example) must sum to 1: take the max and the sum over the last axis, "
        "keeping that axis so that they broadcast back.",
    ),
    mistake(
        _softmax_over_everything,
        "you normalised over the whole array: each row must sum to 1 on its own "
        "(the max and the sum over the last axis).",
    ),
]


def _log_of_softmax(z):
    with np.errstate(divide="ignore"):
        return np.log(s.softmax(z))


def _shift_forgotten_outside(z):
    return z - np.log(np.exp(z - z.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True))


log_softmax = [
    mistake(
        _log_of_softmax,
        "you took log(softmax(z)): softmax underflows to exactly 0 for a logit far below the "
        "row's largest, and log(0) = -inf. Compute (z - m) - log(sum(exp(z - m))) with m the row max.",
    ),
    mistake(
        _shift_forgotten_outside,
        "log_softmax = (z - m) - log(sum(exp(z - m))): you subtracted the max m inside "
        "the exp but not from the first z.",
    ),
    mistake(lambda z: _softmax_over(-1)(z), "that is softmax itself: take its log, computed the stable way."),
]

softmax_backward = [
    mistake(
        lambda dP, z: dP * s.softmax(z) * (1 - s.softmax(z)),
        "dP * p * (1 - p) is only the diagonal of the Jacobian (the sigmoid's rule): every p_i depends on every "
        "logit, so subtract, per row, the sum of dP * p over the classes.",
    ),
    mistake(
        lambda dP, z: s.softmax(z) * (dP - np.sum(dP * s.softmax(z))),
        "the sum of dP * p runs over each row's classes only, not over the whole batch.",
    ),
    mistake(
        lambda dP, z: dP * s.softmax(z),
        "the second term of the Jacobian, -p_i p_j, is missing: p * (dP - sum over the row of dP * p).",
    ),
]

one_hot = [
    mistake(
        lambda labels, n: s.one_hot(labels, int(labels.max()) + 1),
        "the number of columns is n_classes, not labels.max() + 1: a batch need not contain every class.",
    ),
]


def _ce_from_log_of_softmax(z, y):
    with np.errstate(divide="ignore"):
        return -np.log(s.softmax(z))[np.arange(len(y)), y].mean()


cross_entropy = [
    mistake(
        _ce_from_log_of_softmax,
        "log(softmax(z)) is -inf where softmax underflows to 0: use log_softmax "
        "(the log-sum-exp trick), which gives the finite log-probability.",
    ),
    mistake(
        lambda z, y: -s.log_softmax(z)[:, y].mean(),
        "you picked an N x N block (every example's score for every label): pick ONE entry per row, row n at "
        "column labels[n].",
    ),
    mistake(
        lambda z, y: -np.mean(s.log_softmax(z) * s.one_hot(y, z.shape[1])),
        "you averaged over all N * C entries of the one-hot product: the mean runs over the N examples only.",
    ),
    mistake(
        lambda z, y: -s.log_softmax(z)[np.arange(len(y)), y].sum(), "the loss is the MEAN over the batch, not the sum."
    ),
]

cross_entropy_grad = [
    mistake(
        lambda z, y: s.softmax(z) / z.shape[0],
        "subtract 1 at each example's true class: the gradient is (p - y) / N with y one-hot.",
    ),
    mistake(
        lambda z, y: (s.softmax(z) - s.one_hot(y, z.shape[1])) / z.size,
        "divide by the batch size N = logits.shape[0], not by N * C: the loss is a mean over examples.",
    ),
    mistake(lambda z, y: s.softmax(z) - s.one_hot(y, z.shape[1]), "the 1/N of the mean is missing."),
]


def _bce_clipped(x, y, eps=1e-7):
    p = np.clip(sigmoid(x), eps, 1 - eps)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


bce_with_logits = [
    mistake(
        _bce_clipped,
        "clipping the probability to [1e-7, 1 - 1e-7] caps the loss of a confident mistake at "
        "about 16.1: use the logit form max(x, 0) - x y + log(1 + exp(-|x|)), which is exact.",
    ),
    mistake(
        lambda x, y: np.mean(np.maximum(x, 0) + x * y + np.log1p(np.exp(-np.abs(x)))), "the middle term is MINUS x * y."
    ),
    mistake(
        lambda x, y: np.mean(np.maximum(x, 0) - x * y + np.log1p(np.exp(np.minimum(-x, 700.0)))),
        "log(1 + exp(-x)) is only right for x >= 0 (and overflows below): the last term is log(1 + exp(-|x|)).",
    ),
]

bce_with_logits_grad = [
    mistake(
        lambda x, y: (sigmoid(x) - y) / x.shape[0],
        "divide by the number of entries, not by the first axis only: the mean runs over every entry.",
    ),
    mistake(lambda x, y: sigmoid(x) - y, "the mean's 1/M is missing: M is the number of entries."),
    mistake(lambda x, y: (y - sigmoid(x)) / x.size, "the sign is flipped: the gradient is (sigmoid(x) - y) / M."),
]

accuracy = [
    mistake(lambda t, p: np.sum(t == p), "return the share of correct predictions (divide by N), not their count."),
    mistake(lambda t, p: np.mean(t != p), "that is the error rate: accuracy is the share of predictions that AGREE."),
]


def _counted_once_per_pair(t, p, n):
    counts = np.zeros((n, n), dtype=np.int64)
    counts[t, p] += 1
    return counts


confusion_matrix = [
    mistake(
        lambda t, p, n: sm.confusion_matrix(p, t, n),
        "rows are the TRUE class and columns the PREDICTED class, M[y_true, y_pred]: yours is transposed.",
    ),
    mistake(
        _counted_once_per_pair,
        "each (true, predicted) pair was counted once however often it occurs: "
        "`+= 1` with fancy indexing does not accumulate repeated indices.",
    ),
]


def _prf_swapped(t, p, n):
    precision, recall, f1 = sm.precision_recall_f1(t, p, n)
    return recall, precision, f1


def _prf_arithmetic_mean(t, p, n):
    precision, recall, _ = sm.precision_recall_f1(t, p, n)
    return precision, recall, (precision + recall) / 2


precision_recall_f1 = [
    mistake(
        _prf_swapped,
        "precision divides TP by how often the class was PREDICTED (a column sum of the confusion "
        "matrix), recall by how often it OCCURS (a row sum): yours are swapped.",
        output="precision",
    ),
    mistake(
        _prf_arithmetic_mean,
        "F1 is the HARMONIC mean 2 P R / (P + R), not the arithmetic mean (P + R) / 2.",
        output="f1",
    ),
]


def _f1_of_means(t, p, n):
    precision, recall, _ = sm.precision_recall_f1(t, p, n)
    P, R = precision.mean(), recall.mean()
    return 2 * P * R / (P + R)


def _mean_over_seen_classes(t, p, n):
    f1 = sm.precision_recall_f1(t, p, n)[2]
    seen = np.isin(np.arange(n), np.concatenate([t, p]))
    return f1[seen].mean()


macro_f1 = [
    mistake(
        _f1_of_means,
        "that is the F1 of the mean precision and mean recall: macro F1 is the mean of the per-class F1 scores.",
    ),
    mistake(
        _mean_over_seen_classes,
        "average over all n_classes classes, including those that never occur and are never predicted (their F1 is 0).",
    ),
]
