"""Chapter 4's package code: the PyTorch references, the solved NumPy losses and metrics, their input checks,
the plots, and the failure messages the notebook's test cells give for the mistakes they describe."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from dlcourse.checking import CheckFailed, check, randint, randn, uniform
from dlcourse.demos import losses as demos
from dlcourse.mistakes import losses as mistakes
from dlcourse.plots import losses as loss_plots
from dlcourse.reference import losses as ref
from dlcourse.reference import metrics as ref_metrics
from dlcourse.solved import losses as solved
from dlcourse.solved import metrics as solved_metrics
from dlcourse.solved.networks import sigmoid
from tests.course import cells_by_id, run_test_cells
from tests.course import failure_of as course_failure_of

EXTREME = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1001.0]])
EXTREME_LABELS = np.array([2, 1, 0])


# --- solved losses against the PyTorch references -----------------------------------------


def test_mse_and_gradient_match_pytorch():
    cases = [
        (randn(5, seed=1), randn(5, seed=2)),
        (randn(4, 3, seed=3), randn(4, 3, seed=4)),
        (randn(2, 3, 2, seed=5).astype(np.float32), randn(2, 3, 2, seed=6).astype(np.float32)),
    ]
    check(solved.mse, ref.mse, cases, quiet=True)
    check(solved.mse_grad, ref.mse_grad, cases, quiet=True)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax_match_pytorch_also_at_extreme_logits(name):
    cases = [
        EXTREME,
        np.array([3.0, -1.0]),
        randn(2, 3, 4, seed=7, scale=500.0),
        randn(4, 1, seed=8),
        randn(5, 6, seed=9).astype(np.float32),
    ]
    check(getattr(solved, name), getattr(ref, name), cases, quiet=True)


def test_softmax_backward_matches_autograd():
    check(
        solved.softmax_backward,
        ref.softmax_backward,
        [
            (randn(3, 3, seed=10), EXTREME),
            (randn(4, seed=11), randn(4, seed=12)),
            (randn(2, 3, 5, seed=13), randn(2, 3, 5, seed=14)),
        ],
        quiet=True,
    )


def test_cross_entropy_and_gradient_match_pytorch_at_logits_of_plus_minus_1000():
    cases = [
        (EXTREME, EXTREME_LABELS),
        (randn(1, 10, seed=15), np.array([3])),
        (randn(16, 5, seed=16, scale=1e3), randint(0, 5, 16, seed=17)),
        (randn(4, 3, seed=18).astype(np.float32), np.array([0, 1, 2, 0])),
    ]
    check(solved.cross_entropy, ref.cross_entropy, cases, quiet=True)
    check(solved.cross_entropy_grad, ref.cross_entropy_grad, cases, quiet=True)
    assert np.isfinite(solved.cross_entropy(EXTREME, EXTREME_LABELS))
    assert np.all(np.isfinite(solved.cross_entropy_grad(EXTREME, EXTREME_LABELS)))


def test_cross_entropy_gradient_is_p_minus_y_over_n():
    logits, labels = randn(6, 4, seed=19), randint(0, 4, 6, seed=20)
    expected = (ref.softmax(logits) - ref.one_hot(labels, 4)) / 6
    np.testing.assert_allclose(ref.cross_entropy_grad(logits, labels), expected, rtol=1e-12, atol=1e-15)


def test_binary_cross_entropy_and_gradient_match_pytorch_at_logits_of_plus_minus_1000():
    cases = [
        (np.array([1000.0, -1000.0, 1000.0, -1000.0]), np.array([1.0, 0.0, 0.0, 1.0])),
        (randn(6, 4, seed=21, scale=3.0), uniform(6, 4, low=0.0, high=1.0, seed=22)),
        (randn(5, seed=23).astype(np.float32), randint(0, 2, 5, seed=24).astype(np.float32)),
    ]
    check(solved.bce_with_logits, ref.bce_with_logits, cases, quiet=True)
    check(solved.bce_with_logits_grad, ref.bce_with_logits_grad, cases, quiet=True)
    assert solved.bce_with_logits(*cases[0]) == pytest.approx(500.0)


@pytest.mark.parametrize("fast, plain", [("softmax_inplace", "softmax"), ("log_softmax_inplace", "log_softmax")])
def test_the_in_place_variants_compute_the_same_bit_for_bit(fast, plain):
    for logits in [EXTREME, randn(2, 3, 4, seed=7, scale=500.0), randn(5, 6, seed=9).astype(np.float32)]:
        a, b = getattr(solved, fast)(logits), getattr(solved, plain)(logits)
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_the_fast_cross_entropy_variants_compute_the_same():
    for logits, labels in [
        (EXTREME, EXTREME_LABELS),
        (randn(16, 5, seed=16, scale=1e3), randint(0, 5, 16, seed=17)),
        (randn(4, 3, seed=18).astype(np.float32), np.array([0, 1, 2, 0])),
    ]:
        # the same log-sum-exp, read at the labels only: equal up to the order of one sum's rounding
        assert solved.cross_entropy_fast(logits, labels) == pytest.approx(
            solved.cross_entropy(logits, labels), rel=1e-12 if logits.dtype == np.float64 else 1e-6
        )
        fast, plain = solved.cross_entropy_grad_inplace(logits, labels), solved.cross_entropy_grad(logits, labels)
        assert fast.dtype == plain.dtype and np.allclose(
            fast, plain, rtol=1e-12 if logits.dtype == np.float64 else 1e-6, atol=1e-15
        )
        # both from one pass: the same operations but the division folded into one scaling (a few ulps apart)
        loss, grad = solved.cross_entropy_with_grad(logits, labels)
        assert loss == pytest.approx(
            solved.cross_entropy(logits, labels), rel=1e-12 if logits.dtype == np.float64 else 1e-6
        )
        assert grad.dtype == plain.dtype and np.allclose(
            grad,
            plain,
            rtol=1e-12 if logits.dtype == np.float64 else 1e-6,
            atol=1e-15 if logits.dtype == np.float64 else 1e-7,
        )


def test_the_keras_style_clipped_bce_caps_a_confident_mistake():
    assert demos.clipped_bce(np.array([1000.0]), np.array([0.0])) == pytest.approx(-np.log(1e-7), rel=1e-6)
    assert demos.clipped_bce(np.array([0.0]), np.array([1.0])) == pytest.approx(np.log(2), rel=1e-9)


def test_one_hot_matches_pytorch():
    check(
        solved.one_hot,
        ref.one_hot,
        [(np.array([0, 2, 1]), 3), (np.array([1]), 5), (randint(0, 10, 40, seed=25), 10)],
        quiet=True,
    )


# --- metrics: solved against the torch reference, the reference against scikit-learn -------

METRIC_CASES = [
    (np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 1, 1, 2, 0]), 3),
    (np.array([0, 1, 2, 2]), np.array([0, 1, 1, 1]), 3),  # class 2 never predicted
    (np.array([0, 0, 0, 0]), np.array([0, 1, 0, 1]), 2),  # class 1 never occurs
    (np.array([0, 1, 0, 1]), np.array([0, 0, 0, 0]), 4),  # classes 2, 3 absent everywhere
    (randint(0, 10, 300, seed=26), randint(0, 10, 300, seed=27), 10),
]


def test_solved_metrics_match_the_torch_reference():
    check(solved_metrics.confusion_matrix, ref_metrics.confusion_matrix, METRIC_CASES, quiet=True)
    check(solved_metrics.precision_recall_f1, ref_metrics.precision_recall_f1, METRIC_CASES, quiet=True)
    check(solved_metrics.macro_f1, ref_metrics.macro_f1, METRIC_CASES, quiet=True)
    check(solved_metrics.accuracy, ref_metrics.accuracy, [c[:2] for c in METRIC_CASES], quiet=True)


@pytest.mark.parametrize("y_true, y_pred, n_classes", METRIC_CASES)
def test_reference_metrics_agree_with_scikit_learn_zero_division_0(y_true, y_pred, n_classes):
    metrics = pytest.importorskip("sklearn.metrics")
    labels = list(range(n_classes))
    np.testing.assert_array_equal(
        ref_metrics.confusion_matrix(y_true, y_pred, n_classes), metrics.confusion_matrix(y_true, y_pred, labels=labels)
    )
    precision, recall, f1, _ = metrics.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    for ours, theirs in zip(ref_metrics.precision_recall_f1(y_true, y_pred, n_classes), (precision, recall, f1)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert float(ref_metrics.macro_f1(y_true, y_pred, n_classes)) == pytest.approx(
        metrics.f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0), rel=1e-12
    )
    assert float(ref_metrics.accuracy(y_true, y_pred)) == pytest.approx(metrics.accuracy_score(y_true, y_pred))


def test_the_zero_division_rule():
    precision, recall, f1 = solved_metrics.precision_recall_f1(np.array([0, 1, 0, 1]), np.array([0, 0, 0, 0]), 4)
    np.testing.assert_array_equal(precision, [0.5, 0.0, 0.0, 0.0])  # classes 1..3 never predicted
    np.testing.assert_array_equal(recall, [1.0, 0.0, 0.0, 0.0])  # classes 2, 3 never occur
    np.testing.assert_allclose(f1, [2 / 3, 0.0, 0.0, 0.0])


# --- bad input gives a clear error ---------------------------------------------------------


@pytest.mark.parametrize("module", [ref], ids=["reference"])
def test_losses_refuse_shapes_that_would_broadcast(module):
    with pytest.raises(ValueError, match="same shape"):
        module.mse(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError, match="same shape"):
        module.bce_with_logits(np.zeros(3), np.zeros((3, 1)))


@pytest.mark.parametrize("module", [ref], ids=["reference"])
@pytest.mark.parametrize(
    "labels, message",
    [
        (np.array([0, 3]), r"in \[0, 3\), found 3"),
        (np.array([-1, 0]), "found -1"),
        (np.array([0.0, 1.0]), "integer class indices"),
        (np.array([[0, 1]]), "1-D"),
        (np.array([0, 1, 2]), "3 entries but there are 2 examples"),
    ],
)
def test_cross_entropy_refuses_bad_labels(module, labels, message):
    with pytest.raises((ValueError, TypeError), match=message):
        module.cross_entropy(np.zeros((2, 3)), labels)


@pytest.mark.parametrize("module", [ref], ids=["reference"])
def test_one_hot_refuses_labels_beyond_n_classes(module):
    with pytest.raises(ValueError, match="found 5"):
        module.one_hot(np.array([0, 5]), 3)


@pytest.mark.parametrize("module", [ref_metrics], ids=["reference"])
def test_metrics_refuse_mismatched_or_out_of_range_labels(module):
    with pytest.raises(ValueError, match="4 entries but there are 3"):
        module.confusion_matrix(np.array([0, 1, 2]), np.array([0, 1, 2, 2]), 3)
    with pytest.raises(ValueError, match="y_pred must lie in"):
        module.precision_recall_f1(np.array([0, 1]), np.array([0, 7]), 3)
    with pytest.raises(ValueError, match="same length"):
        module.accuracy(np.array([0, 1]), np.array([0]))


def test_confusion_matrix_plot_and_its_errors():
    ax = loss_plots.plot_confusion_matrix(np.array([[3, 1], [0, 2]]), class_names=["a", "b"], title="t")
    assert [t.get_text() for t in ax.texts] == ["3", "1", "0", "2"]
    with pytest.raises(ValueError, match="square"):
        loss_plots.plot_confusion_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="class names"):
        loss_plots.plot_confusion_matrix(np.zeros((2, 2), dtype=int), class_names=["a"])


def test_loss_plot_refuses_curves_of_the_wrong_length():
    x = np.linspace(-1, 1, 5)
    loss_plots.plot_losses_and_gradients(x, {"a": x**2}, {"a": 2 * x})
    with pytest.raises(ValueError, match="curve 'b'"):
        loss_plots.plot_losses_and_gradients(x, {"a": x**2}, {"b": x[:3]})


# --- a naive exp fails with a message that says why ----------------------------------------


def naive_softmax(logits):
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


def test_a_naive_softmax_fails_at_logits_of_1000_and_says_why():
    with pytest.raises(AssertionError, match=r"(?s)overflow.*np\.exp\(x\) overflows to inf for x > 709"):
        check(naive_softmax, ref.softmax, [np.array([[1000.0, 0.0]])], quiet=True)


def test_a_naive_softmax_fails_at_logits_of_minus_1000_and_says_why():
    with pytest.raises(
        AssertionError, match=r"(?s)invalid value.*underflows to 0 for x < -745.*shift the arguments by their maximum"
    ):
        check(naive_softmax, ref.softmax, [np.array([[-1000.0, -1000.0]])], quiet=True)


# --- the notebook's test cells: each hint fires on the mistake it describes ------------------

CELLS = cells_by_id("ch04_losses", "losses")


SOLVED_EXERCISES = {
    name: getattr(module, name)
    for module, names in [
        (
            solved,
            [
                "mse",
                "mse_grad",
                "softmax",
                "log_softmax",
                "softmax_backward",
                "one_hot",
                "cross_entropy",
                "cross_entropy_grad",
                "bce_with_logits",
                "bce_with_logits_grad",
            ],
        ),
        (solved_metrics, ["accuracy", "confusion_matrix", "precision_recall_f1", "macro_f1"]),
    ]
    for name in names
}


@pytest.fixture(scope="module")
def notebook_namespace():
    """The notebook's setup and every test cell run with the solved functions: what a test cell may rely on."""
    return run_test_cells(CELLS, "setup", SOLVED_EXERCISES)


def failure_of(namespace: dict, test_id: str, **functions) -> str:
    """Run the notebook's test cell ``test_id`` with the given functions as the learner's; return its failure message."""
    return course_failure_of(CELLS, namespace, test_id, **functions)


def test_the_solution_cells_pass_their_test_cells():
    namespace: dict = {}
    exec(CELLS["setup"], namespace)  # noqa: S102 - the notebook cell under test
    for grade_id, source in CELLS.items():
        if grade_id.startswith("ch04_"):
            exec(source, namespace)  # noqa: S102


# The wrong answers below stand for a learner's code: NumPy only (the watch fails a learner function that
# calls the course's solved code, so they must not lean on it).


def _np_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _np_log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _np_one_hot(y, n):
    return np.eye(n)[y]


def _np_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _np_confusion(t, p, n):
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (t, p), 1)
    return counts


def _np_prf(t, p, n):
    counts = _np_confusion(t, p, n)
    tp = np.diag(counts).astype(float)
    predicted, actual = counts.sum(axis=0), counts.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros(n), where=predicted != 0)
    recall = np.divide(tp, actual, out=np.zeros(n), where=actual != 0)
    both = precision + recall
    return precision, recall, np.divide(2 * precision * recall, both, out=np.zeros(n), where=both != 0)


def _log_of_softmax(z):
    with np.errstate(divide="ignore"):
        return np.log(_np_softmax(z))


HINT_CASES = [
    ("ch04_mse_test", "mse", lambda p, t: float(np.sqrt(np.mean((p - t) ** 2))), "ROOT mean squared error"),
    ("ch04_mse_grad_test", "mse_grad", lambda p, t: (p - t) / p.size, "the factor 2 is missing"),
    ("ch04_mse_grad_test", "mse_grad", lambda p, t: 2 * (p - t) / p.shape[0], "number of ENTRIES"),
    ("ch04_softmax_test", "softmax", naive_softmax, "np.exp(x) overflows to inf"),
    (
        "ch04_softmax_test",
        "softmax",
        lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(axis=-1, keepdims=True),
        "Subtract each row's own maximum",
    ),
    (
        "ch04_softmax_test",
        "softmax",
        lambda z: (
            np.exp(z - z.max(axis=0, keepdims=True))
            / np.exp(z - z.max(axis=0, keepdims=True)).sum(axis=0, keepdims=True)
        ),
        "each ROW (one example) must sum to 1",
    ),
    ("ch04_log_softmax_test", "log_softmax", _log_of_softmax, "log(0) = -inf"),
    (
        "ch04_softmax_backward_test",
        "softmax_backward",
        lambda dP, z: dP * _np_softmax(z) * (1 - _np_softmax(z)),
        "only the diagonal of the Jacobian",
    ),
    ("ch04_one_hot_test", "one_hot", lambda y, n: np.eye(y.max() + 1)[y], "the number of columns is n_classes"),
    ("ch04_cross_entropy_test", "cross_entropy", lambda z, y: float(-_np_log_softmax(z)[:, y].mean()), "N x N block"),
    (
        "ch04_cross_entropy_test",
        "cross_entropy",
        lambda z, y: float(-_log_of_softmax(z)[np.arange(len(y)), y].mean()),
        "use log_softmax",
    ),
    (
        "ch04_cross_entropy_grad_test",
        "cross_entropy_grad",
        lambda z, y: _np_softmax(z) - _np_one_hot(y, z.shape[1]),
        "1/N of the mean is missing",
    ),
    (
        "ch04_cross_entropy_grad_test",
        "cross_entropy_grad",
        lambda z, y: (_np_softmax(z) - _np_one_hot(y, z.shape[1])) / z.size,
        "not by N * C",
    ),
    (
        "ch04_bce_with_logits_test",
        "bce_with_logits",
        lambda x, y: _clipped_bce(x, y),
        "caps the loss of a confident mistake",
    ),
    (
        "ch04_bce_with_logits_grad_test",
        "bce_with_logits_grad",
        lambda x, y: (1.0 / (1.0 + np.exp(-x)) - y) / x.size,
        "overflow",
    ),
    (
        "ch04_bce_with_logits_grad_test",
        "bce_with_logits_grad",
        lambda x, y: (_np_sigmoid(x) - y) / x.shape[0],
        "not by the first axis only",
    ),
    ("ch04_accuracy_test", "accuracy", lambda t, p: float(np.sum(t == p)), "not their count"),
    ("ch04_confusion_matrix_test", "confusion_matrix", lambda t, p, n: _np_confusion(p, t, n), "yours is transposed"),
    ("ch04_confusion_matrix_test", "confusion_matrix", lambda t, p, n: _counted_once(t, p, n), "repeated indices"),
    (
        "ch04_precision_recall_f1_test",
        "precision_recall_f1",
        lambda t, p, n: _swap(_np_prf(t, p, n)),
        "yours are swapped",
    ),
    (
        "ch04_precision_recall_f1_test",
        "precision_recall_f1",
        lambda t, p, n: _unguarded_prf(t, p, n),
        "zero-division rule",
    ),
    ("ch04_macro_f1_test", "macro_f1", lambda t, p, n: _f1_of_means(t, p, n), "mean of the per-class F1 scores"),
    ("ch04_macro_f1_test", "macro_f1", lambda t, p, n: _mean_over_seen(t, p, n), "including those that never occur"),
]


def _clipped_bce(x, y):
    p = np.clip(_np_sigmoid(x), 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _counted_once(t, p, n):
    counts = np.zeros((n, n), dtype=np.int64)
    counts[t, p] += 1
    return counts


def _swap(prf):
    return prf[1], prf[0], prf[2]


def _unguarded_prf(t, p, n):
    counts = _np_confusion(t, p, n)
    tp = np.diag(counts)
    precision, recall = tp / counts.sum(axis=0), tp / counts.sum(axis=1)
    return precision, recall, 2 * precision * recall / (precision + recall)


def _f1_of_means(t, p, n):
    precision, recall, _ = _np_prf(t, p, n)
    return float(2 * precision.mean() * recall.mean() / (precision.mean() + recall.mean()))


def _mean_over_seen(t, p, n):
    f1 = _np_prf(t, p, n)[2]
    return float(f1[np.isin(np.arange(n), np.concatenate([t, p]))].mean())


@pytest.mark.parametrize("test_id, name, wrong, message", HINT_CASES, ids=[f"{c[0]}-{c[3][:24]}" for c in HINT_CASES])
def test_the_notebook_explains_the_mistake(notebook_namespace, test_id, name, wrong, message):
    wrong.__name__ = name
    assert message in failure_of(notebook_namespace, test_id, **{name: wrong})


# --- the hint lists: silent on a right answer and on a dtype-only difference ------------------------------

FLOAT_CASES = {
    "mse_grad": (randn(4, 3, seed=1), randn(4, 3, seed=2)),
    "softmax": (randn(4, 5, seed=3),),
    "log_softmax": (randn(4, 5, seed=4),),
    "softmax_backward": (randn(4, 5, seed=5), randn(4, 5, seed=6)),
    "cross_entropy_grad": (randn(6, 4, seed=7), randint(0, 4, 6, seed=8)),
    "bce_with_logits_grad": (randn(6, seed=9), randint(0, 2, 6, seed=10).astype(np.float64)),
}


def _float32(case):
    return tuple(a.astype(np.float32) if a.dtype == np.float64 else a for a in case)


@pytest.mark.parametrize("name", sorted(FLOAT_CASES))
def test_hints_are_silent_on_a_right_answer_and_on_a_dtype_only_difference(name):
    hints, right = getattr(mistakes, name), getattr(solved, name)
    check(right, getattr(ref, name), [FLOAT_CASES[name], _float32(FLOAT_CASES[name])], hints=hints, quiet=True)

    def float64(*args):
        return right(*(a.astype(np.float64) if a.dtype == np.float32 else a for a in args))

    float64.__name__ = name
    with pytest.raises(CheckFailed) as failed:
        check(float64, getattr(ref, name), [_float32(FLOAT_CASES[name])], hints=hints, quiet=True)
    message = str(failed.value)
    assert "dtype float64" in message
    assert not [h.message for h in hints if isinstance(h.message, str) and h.message in message]


def _failure(student, reference, cases, hints, **kwargs) -> str:
    with pytest.raises(CheckFailed) as failed:
        check(student, reference, cases, hints=hints, quiet=True, **kwargs)
    return str(failed.value)


METRIC_CASE = [(np.array([0, 0, 1, 1, 2, 2, 2]), np.array([0, 1, 1, 1, 2, 0, 0]), 3)]


@pytest.mark.parametrize(
    "name, wrong, words",
    [
        ("mse", lambda p, t: float(np.sum((p - t) ** 2) / p.shape[0]), "EVERY entry"),
        ("log_softmax", lambda z: solved.softmax(z), "softmax itself"),
        ("softmax_backward", lambda dP, z: dP * solved.softmax(z), "-p_i p_j"),
        ("cross_entropy", lambda z, y: float(-solved.log_softmax(z)[np.arange(len(y)), y].sum()), "not the sum"),
        ("bce_with_logits", lambda x, y: float(np.mean(np.maximum(x, 0) - x * y + np.log1p(np.exp(-x)))), "-|x|"),
        ("bce_with_logits_grad", lambda x, y: (y - sigmoid(x)) / x.size, "sign is flipped"),
    ],
)
def test_the_hints_the_notebook_cells_do_not_exercise(name, wrong, words):
    case = (
        FLOAT_CASES.get(name)
        or {
            "mse": (randn(4, 3, seed=1), randn(4, 3, seed=2)),
            "cross_entropy": (randn(6, 4, seed=7), randint(0, 4, 6, seed=8)),
            "bce_with_logits": (randn(6, seed=9), randint(0, 2, 6, seed=10).astype(float)),
        }[name]
    )
    assert words in _failure(wrong, getattr(ref, name), [case], getattr(mistakes, name))


def test_the_metric_hints_fire_and_stay_silent_on_a_right_answer():
    assert "error rate" in _failure(
        lambda t, p: float(np.mean(t != p)), ref_metrics.accuracy, [c[:2] for c in METRIC_CASE], mistakes.accuracy
    )
    assert "HARMONIC" in _failure(
        lambda t, p, n: _arithmetic(solved_metrics.precision_recall_f1(t, p, n)),
        ref_metrics.precision_recall_f1,
        METRIC_CASE,
        mistakes.precision_recall_f1,
        output_names=("precision", "recall", "f1"),
    )
    for name in ["confusion_matrix", "precision_recall_f1", "macro_f1"]:
        names = ("precision", "recall", "f1") if name == "precision_recall_f1" else None
        check(
            getattr(solved_metrics, name),
            getattr(ref_metrics, name),
            METRIC_CASE,
            hints=getattr(mistakes, name),
            output_names=names,
            quiet=True,
        )


def _arithmetic(prf):
    return prf[0], prf[1], (prf[0] + prf[1]) / 2
