"""Chapter 7: the regularisation references and solved blocks agree, fit_mlp's new options work (and its old
behaviour is unchanged), the plots draw, the hints of dlcourse.mistakes.regularization fire on their mistakes
and stay silent on correct answers and dtype-only differences, and the notebook's test cells explain them."""

from __future__ import annotations

import inspect
import os
from unittest import mock

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from dlcourse import data  # noqa: E402
from dlcourse.cases import regularization as cases  # noqa: E402
from dlcourse.cases import training as cases_training  # noqa: E402
from dlcourse.checking import Inputs, check, randint, randn  # noqa: E402
from dlcourse.demos import regularization as demos  # noqa: E402
from dlcourse.device import to_numpy, to_tensor  # noqa: E402
from dlcourse.mistakes import regularization as mistakes  # noqa: E402
from dlcourse.mistakes import training as mistakes_training  # noqa: E402
from dlcourse.plots import training as training_plots  # noqa: E402
from dlcourse.reference import regularization as ref  # noqa: E402
from dlcourse.reference import training as ref_training  # noqa: E402
from dlcourse.reference.training import fit_torch_mlp  # noqa: E402
from dlcourse.solved import networks, optimizers, training  # noqa: E402
from dlcourse.solved import regularization as solved
from tests.course import cells_by_id, run_test_cells  # noqa: E402
from tests.course import failure_of as course_failure_of  # noqa: E402


def params_with_biases(sizes, seed):
    params = networks.init_params(sizes, seed=seed)
    return {k: v + randn(*v.shape, seed=seed + 50) if k[0] == "b" else v for k, v in params.items()}


def numbered(n, *shape, seed=0):
    X = randn(n, *shape, seed=seed)
    X.reshape(n, -1)[:, 0] = np.arange(n)
    return X, randint(0, 4, n, seed=seed + 1)


# --- solved blocks against the references -------------------------------------------------


def test_l2_penalty_and_gradient_match_autograd_and_weight_decay():
    params = params_with_biases([5, 7, 3], seed=1)
    grads = {k: randn(*v.shape, seed=i) for i, (k, v) in enumerate(params.items())}
    check(solved.l2_penalty, ref.l2_penalty, [(params, 0.1), (params, 0.0)], quiet=True)
    check(solved.l2_grad, ref.l2_grad, [(grads, params, 0.3)], quiet=True)
    check(solved.l2_grad, ref.l2_grad_by_weight_decay, [(grads, params, 0.3)], quiet=True)
    assert solved.l2_penalty(params, 2.0) == pytest.approx(np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    before = {k: v.copy() for k, v in params.items()}
    ref.l2_grad_by_weight_decay(grads, params, 0.3)
    assert all(np.array_equal(before[k], params[k]) for k in params), (
        "the weight-decay reference changed params in place"
    )


def test_dropout_matches_the_reference_and_pytorchs_own_dropout():
    X = randn(6, 9, seed=2)
    mask = np.random.default_rng(3).random(X.shape) >= 0.4
    check(solved.dropout_forward, ref.dropout_forward, [(X, mask, 0.4), (X.astype(np.float32), mask, 0.4)], quiet=True)
    check(solved.dropout_backward, ref.dropout_backward, [(X, mask, 0.4)], quiet=True)
    out, torch_mask = ref.torch_dropout(X, 0.4, seed=7)
    assert torch_mask.dtype == bool and np.array_equal(out, solved.dropout_forward(X, torch_mask, 0.4))


def test_torch_dropout_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = ref.torch_dropout(randn(50, 20, seed=4), 0.5, seed=1)
    second = ref.torch_dropout(randn(50, 20, seed=4), 0.5, seed=1)
    other = ref.torch_dropout(randn(50, 20, seed=4), 0.5, seed=2)
    assert torch.equal(torch.rand(3), expected_next)
    assert np.array_equal(first[1], second[1]) and not np.array_equal(first[1], other[1])
    assert 0.4 < first[1].mean() < 0.6


@pytest.mark.parametrize(
    "curve, patience, expected",
    [
        ([5, 3, 4, 4, 2], 2, (1, 3)),
        ([3, 2, 1], 1, (2, 2)),
        ([1, 2, 3, 4, 5, 6], 3, (0, 3)),
        ([2, 1, 1, 1, 1.5], 3, (1, 4)),  # a tie is not an improvement
        ([0.7], 5, (0, 0)),
        ([2, np.nan, 1, 3, 3, 3], 2, (2, 4)),  # nan never improves
        ([np.nan, np.nan, np.nan], 2, (0, 2)),
    ],
)
def test_early_stopping_solved_and_tensor_reference_agree(curve, patience, expected):
    assert solved.early_stopping(curve, patience) == ref.early_stopping(curve, patience) == expected


def test_early_stopping_on_random_walks():
    for seed in range(30):
        curve = np.cumsum(np.random.default_rng(seed).standard_normal(60))
        for patience in (1, 3, 10):
            assert solved.early_stopping(curve, patience) == ref.early_stopping(curve, patience)
    with pytest.raises(ValueError, match="at least one"):
        ref.early_stopping([], 3)


@pytest.mark.parametrize("n, fraction", [(30, 0.29), (100, 0.25), (1797, 0.2), (57, 0.3), (16, 0.5)])
def test_split_sizes_follow_random_split(n, fraction):
    X, y = numbered(n, 3, seed=n)
    check(
        lambda X, y, f: cases.summarize_split(X, y, *solved.train_val_split(X, y, f)),
        cases.split_summary,
        [(X, y, fraction)],
        quiet=True,
    )
    assert cases.split_summary(X, y, fraction)["n_val"] == int(fraction * n)


def test_split_summary_notices_broken_splits():
    X, y = numbered(40, 2, seed=5)
    unshuffled = cases.summarize_split(X, y, X[8:], y[8:], X[:8], y[:8])
    assert not unshuffled["shuffled"] and unshuffled["every_row_once"]
    order = np.random.default_rng(0).permutation(40)
    mixed_labels = cases.summarize_split(X, y, X[order[8:]], y[8:], X[order[:8]], y[:8])
    assert not mixed_labels["labels_follow_rows"] and mixed_labels["rows_intact"]
    repeated = cases.summarize_split(X, y, X[order[4:]], y[order[4:]], X[order[:8]], y[order[:8]])
    assert not repeated["every_row_once"]
    assert not cases.summarize_split(
        X, y, *[a.astype(np.float32) if a.dtype.kind == "f" else a for a in solved.train_val_split(X, y, 0.2)]
    )["dtypes_kept"]


def test_normalize_matches_batch_norm_and_uses_training_statistics_only():
    A, B = randn(30, 4, seed=6, scale=50.0) + 7, randn(5, 4, seed=7)
    check(
        solved.normalize,
        ref.normalize,
        [(A, B), (A.astype(np.float32), B.astype(np.float32)), Inputs(A, B, eps=0.1)],
        quiet=True,
    )
    train, other = solved.normalize(A, B)
    assert np.allclose(train.mean(0), 0, atol=1e-12) and np.allclose(train.std(0), 1, atol=1e-6)
    assert np.allclose(other, (B - A.mean(0)) / np.sqrt(A.var(0) + 1e-5))
    constant = np.column_stack([np.full(6, 3.0), randn(6, seed=8)])
    assert np.all(np.isfinite(solved.normalize(constant, constant + 1)[1]))


def test_bad_dropout_probability_and_mask_count_are_refused():
    rng = np.random.default_rng(0)
    for p in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match=r"\[0, 1\)"):
            solved.dropout_mask((2, 3), p, rng)
    params = networks.init_params([3, 4, 4, 2], seed=0)
    with pytest.raises(ValueError, match="needs 2 dropout masks"):
        solved.dropout_mlp_forward(randn(5, 3), params, [np.ones((5, 4), bool)], 0.5)


def test_dropout_mlp_gradients_match_autograd_with_the_same_masks():
    X, y = randn(8, 5, seed=9), randint(0, 3, 8, seed=10)
    params = params_with_biases([5, 6, 4, 3], seed=11)
    rng = np.random.default_rng(12)
    masks = [solved.dropout_mask((8, 6), 0.3, rng), solved.dropout_mask((8, 4), 0.3, rng)]
    from dlcourse.solved.losses import cross_entropy_grad

    output, caches = solved.dropout_mlp_forward(X, params, masks, 0.3, "tanh")
    grads = solved.dropout_mlp_backward(cross_entropy_grad(output, y), caches, params, masks, 0.3, "tanh")
    tensors = {k: to_tensor(v, requires_grad=True) for k, v in params.items()}
    a = to_tensor(X)
    for layer in (1, 2):
        a = torch.tanh(F.linear(a, tensors[f"W{layer}"], tensors[f"b{layer}"])) * to_tensor(masks[layer - 1]) / 0.7
    logits = F.linear(a, tensors["W3"], tensors["b3"])
    assert np.allclose(output, to_numpy(logits), rtol=1e-12, atol=1e-12)
    F.cross_entropy(logits, to_tensor(y)).backward()
    for key, tensor in tensors.items():
        assert np.allclose(grads[key], to_numpy(tensor.grad), rtol=1e-10, atol=1e-12), key


# --- fit_mlp: old behaviour kept, new options ----------------------------------------------

MOONS = data.make_moons(120, noise=0.25, seed=1)


def test_fit_mlp_defaults_are_unchanged_and_match_pytorch_step_for_step():
    X, y = MOONS
    start = networks.init_params([2, 8, 2], seed=2)
    params = {k: v.copy() for k, v in start.items()}
    history = training.fit_mlp(params, X, y, optimizers.Adam(lr=0.01), epochs=3, batch_size=32)
    assert set(history) == {"loss"} and len(history["loss"]) == 3
    model, torch_losses = fit_torch_mlp(start, X, y, lr=0.01, epochs=3, batch_size=32, dtype=torch.float64)
    assert np.allclose(history["loss"], torch_losses, rtol=1e-10)
    assert np.allclose(params["W1"], to_numpy(model[0].weight), rtol=1e-9, atol=1e-12)
    with_validation = training.fit_mlp(
        {k: v.copy() for k, v in start.items()},
        X,
        y,
        optimizers.Adam(lr=0.01),
        epochs=2,
        batch_size=32,
        validation=(X, y),
    )
    assert set(with_validation) == {"loss", "val_loss", "val_accuracy"}


def test_fit_mlp_l2_matches_torch_adam_with_weight_decay_on_the_weights():
    X, y = MOONS
    start = networks.init_params([2, 8, 8, 2], seed=3)
    params = {k: v.copy() for k, v in start.items()}
    training.fit_mlp(params, X, y, optimizers.Adam(lr=0.01), epochs=2, batch_size=16, l2=0.05)
    trained = demos.fit_torch_mlp_l2(start, X, y, l2=0.05, lr=0.01, epochs=2, batch_size=16)
    for key in start:
        assert np.allclose(params[key], trained[key], rtol=1e-9, atol=1e-12), key


def test_fit_mlp_dropout_is_seeded_and_changes_training():
    X, y = MOONS
    runs = []
    for seed in (0, 0, 1):
        params = networks.init_params([2, 16, 2], seed=4)
        runs.append(
            training.fit_mlp(params, X, y, optimizers.Adam(lr=0.01), epochs=3, batch_size=32, dropout=0.5, seed=seed)[
                "loss"
            ]
        )
    plain = training.fit_mlp(
        networks.init_params([2, 16, 2], seed=4), X, y, optimizers.Adam(lr=0.01), epochs=3, batch_size=32
    )["loss"]
    assert runs[0] == runs[1] and runs[0] != runs[2] and runs[0] != plain


def test_fit_mlp_early_stopping_restores_the_best_weights():
    X, y = MOONS
    X_val, y_val = data.make_moons(200, noise=0.25, seed=2)
    params = networks.init_params([2, 64, 64, 2], seed=5)
    history = training.fit_mlp(
        params,
        X[:30],
        y[:30],
        optimizers.Adam(lr=0.02),
        epochs=150,
        batch_size=30,
        validation=(X_val, y_val),
        patience=10,
        evaluate_train=True,
    )
    best, stopped = history["best_epoch"], history["stopped_epoch"]
    assert stopped == best + 10 < 149 and len(history["val_loss"]) == stopped + 1
    assert history["val_loss"][best] == min(history["val_loss"])
    assert training.evaluate(params, X_val, y_val)["loss"] == pytest.approx(history["val_loss"][best], rel=1e-12)
    assert len(history["train_loss"]) == len(history["train_accuracy"]) == stopped + 1


def test_fit_mlp_uses_the_blocks_it_is_given():
    X, y = MOONS
    calls = {name: 0 for name in training.BLOCKS}

    def spy(name):
        def call(*args):
            calls[name] += 1
            return getattr(solved, name)(*args)

        return call

    training.fit_mlp(
        networks.init_params([2, 8, 2], seed=6),
        X,
        y,
        optimizers.Adam(),
        epochs=2,
        batch_size=60,
        validation=(X, y),
        l2=0.01,
        dropout=0.2,
        patience=5,
        blocks={name: spy(name) for name in training.BLOCKS},
    )
    assert calls == {"l2_grad": 4, "dropout_forward": 4, "dropout_backward": 4, "early_stopping": 2}


def test_fit_mlp_refuses_bad_options():
    X, y = MOONS
    params = networks.init_params([2, 4, 2], seed=7)
    with pytest.raises(ValueError, match="unknown blocks"):
        training.fit_mlp(params, X, y, optimizers.Adam(), epochs=1, batch_size=8, blocks={"l2": solved.l2_grad})
    with pytest.raises(ValueError, match="validation data"):
        training.fit_mlp(params, X, y, optimizers.Adam(), epochs=1, batch_size=8, patience=3)


# --- plots ---------------------------------------------------------------------------------


def test_training_plots_draw():
    history = {"train_loss": [1.0, 0.5, 0.2], "val_loss": [1.1, 0.7, 0.8], "best_epoch": 1}
    ax = training_plots.plot_train_val({"run": history})
    assert len(ax.lines) == 3
    with pytest.raises(ValueError, match="val_accuracy"):
        training_plots.plot_train_val({"run": history}, metric="accuracy")
    ax = training_plots.plot_gaps({"a": (0.1, 0.5), "b": (0.2, 0.3)})
    assert len(ax.patches) == 4 and "gap 0.40" in [t.get_text() for t in ax.texts]
    images = randn(5, 8, 8, seed=1)
    axes = training_plots.show_misclassified(images, np.array([0, 1, 2, 3, 4]), np.array([0, 2, 2, 1, 4]))
    assert [a.get_title() for a in np.ravel(axes) if a.get_title()] == ["1\u21922", "3\u21921"]
    training_plots.show_misclassified(images, np.arange(5), np.arange(5))
    plt.close("all")


# --- the notebook's test cells and their hints -----------------------------------------------

CELLS = cells_by_id("ch07_capstone", "capstone")
EXERCISES = [
    "train_val_split",
    "normalize",
    "l2_penalty",
    "l2_grad",
    "dropout_forward",
    "dropout_backward",
    "early_stopping",
    "batchnorm_forward",
    "batchnorm_backward",
]
SOLVED_FUNCTIONS = {**{name: getattr(solved, name) for name in EXERCISES}, "train_mlp": training.train_mlp}


@pytest.fixture(scope="module")
def notebook_namespace():
    """The notebook's setup and every test cell, run with the solved functions (the setup's settings undone)."""
    return run_test_cells(CELLS, "setup", SOLVED_FUNCTIONS)


def failure_of(namespace: dict, test_id: str, **functions) -> str:
    return course_failure_of(CELLS, namespace, test_id, **functions)


def test_every_exercise_has_a_test_cell_and_the_solutions_pass(notebook_namespace):
    assert {f"ch07_{name}_test" for name in [*EXERCISES, "train_mlp"]} <= set(CELLS)
    namespace: dict = {}
    with mock.patch.dict(os.environ):
        exec(CELLS["setup"], namespace)
    for grade_id, source in CELLS.items():
        if grade_id.startswith("ch07_"):
            exec(source, namespace)


def _learners_copy(*functions):
    """The functions compiled again from their source under another file name: to the watch they are a learner's
    own code (a wrong answer built on them must not be failed for calling the answer key)."""
    namespace: dict = {"np": np}
    for fn in functions:
        exec(compile(inspect.getsource(fn), f"learners_{fn.__name__}.py", "exec"), namespace)
    return type("Mine", (), {fn.__name__: staticmethod(namespace[fn.__name__]) for fn in functions})


MINE = _learners_copy(solved.train_val_split, solved.normalize, solved.early_stopping)


def _loop_with(old: str, new: str):
    """The course's train_mlp with ``old`` replaced by ``new`` in its source, compiled as a learner's code that uses
    the offered blocks and a learner's early_stopping."""
    from dlcourse.solved.backprop import mlp_backward
    from dlcourse.solved.gradient_descent import minibatches
    from dlcourse.solved.losses import cross_entropy, cross_entropy_grad
    from dlcourse.solved.networks import mlp_forward

    source = inspect.getsource(training.train_mlp)
    assert source.count(old) == 1, old
    namespace = {
        "np": np,
        "mlp_backward": mlp_backward,
        "minibatches": minibatches,
        "cross_entropy": cross_entropy,
        "cross_entropy_grad": cross_entropy_grad,
        "mlp_forward": mlp_forward,
        "early_stopping": MINE.early_stopping,
        "Any": object,
    }
    exec(compile(source.replace(old, new), "learners_train_mlp.py", "exec"), namespace)
    return namespace["train_mlp"]


def _split_without_shuffle(X, y, f, seed=0):
    n_val = int(f * len(X))
    return X[n_val:], y[n_val:], X[:n_val], y[:n_val]


def _split_mixing_labels(X, y, f, seed=0):
    X_train, _, X_val, _ = MINE.train_val_split(X, y, f, seed)
    _, y_train, _, y_val = MINE.train_val_split(X, y, f, seed + 1)
    return X_train, y_train, X_val, y_val


def _early_stopping_with_ties(losses, patience):
    best, best_loss = 0, np.inf
    for epoch, loss in enumerate(losses):
        if loss <= best_loss:
            best, best_loss = epoch, loss
        elif epoch - best >= patience:
            return best, epoch
    return best, len(losses) - 1


HINT_CASES = [
    ("ch07_train_val_split_test", "train_val_split", _split_without_shuffle, "block of consecutive rows"),
    ("ch07_train_val_split_test", "train_val_split", _split_mixing_labels, "the SAME permutation"),
    (
        "ch07_normalize_test",
        "normalize",
        lambda A, B, eps=1e-5: (MINE.normalize(A, A, eps)[0], MINE.normalize(B, B, eps)[0]),
        "its OWN mean and variance",
    ),
    (
        "ch07_normalize_test",
        "normalize",
        lambda A, B, eps=1e-5: tuple((X - A.mean(0)) / (A.std(0) + eps) for X in (A, B)),
        "eps belongs inside the square root",
    ),
    (
        "ch07_normalize_test",
        "normalize",
        lambda A, B, eps=1e-5: tuple((X - A.mean(0)) / np.sqrt(A.var(0, ddof=1) + eps) for X in (A, B)),
        "not the unbiased one",
    ),
    (
        "ch07_normalize_test",
        "normalize",
        lambda A, B, eps=1e-5: tuple((X - A.mean()) / np.sqrt(A.var() + eps) for X in (A, B)),
        "(axis 0) only",
    ),
    (
        "ch07_l2_penalty_test",
        "l2_penalty",
        lambda p, lam: 0.5 * lam * sum(np.sum(v * v) for v in p.values()),
        "skip the biases",
    ),
    (
        "ch07_l2_penalty_test",
        "l2_penalty",
        lambda p, lam: lam * sum(np.sum(v * v) for k, v in p.items() if k[0] == "W"),
        "the 1/2 is missing",
    ),
    ("ch07_l2_grad_test", "l2_grad", lambda g, p, lam: {k: v + lam * p[k] for k, v in g.items()}, "only the weights"),
    ("ch07_normalize_test", "normalize", lambda A, B, eps=1e-5: MINE.normalize(A, B), "eps was ignored"),
    (
        "ch07_train_val_split_test",
        "train_val_split",
        lambda X, y, f, seed=0: tuple(a.astype(np.float64) for a in MINE.train_val_split(X, y, f, seed)),
        "dtypes changed",
    ),
    (
        "ch07_l2_grad_test",
        "l2_grad",
        lambda g, p, lam: {k: v + 2 * lam * p[k] if k[0] == "W" else v for k, v in g.items()},
        "not 2 * lam * W",
    ),
    (
        "ch07_l2_grad_test",
        "l2_grad",
        lambda g, p, lam: {k: lam * p[k] if k[0] == "W" else v for k, v in g.items()},
        "TO the data gradient",
    ),
    ("ch07_dropout_forward_test", "dropout_forward", lambda X, m, p: X * m, "scaled by 1 / (1 - p)"),
    ("ch07_dropout_forward_test", "dropout_forward", lambda X, m, p: X * m * (1 - p), "test-time rule"),
    ("ch07_dropout_forward_test", "dropout_forward", lambda X, m, p: X * m / p, "probability to DROP"),
    ("ch07_dropout_forward_test", "dropout_forward", lambda X, m, p: X * ~m / (1 - p), "not by its negation"),
    ("ch07_dropout_backward_test", "dropout_backward", lambda d, m, p: d / (1 - p), "multiply by the mask too"),
    ("ch07_dropout_backward_test", "dropout_backward", lambda d, m, p: d * m, "same 1 / (1 - p) scale"),
    (
        "ch07_early_stopping_test",
        "early_stopping",
        lambda v, patience: MINE.early_stopping(v, patience + 1),
        "one epoch too long",
    ),
    (
        "ch07_early_stopping_test",
        "early_stopping",
        lambda v, patience: MINE.early_stopping(v, max(patience - 1, 1)),
        "one epoch too early",
    ),
    (
        "ch07_early_stopping_test",
        "early_stopping",
        lambda v, patience: (int(np.argmin(v)), MINE.early_stopping(v, patience)[1]),
        "not the minimum of the whole curve",
    ),
    ("ch07_early_stopping_test", "early_stopping", _early_stopping_with_ties, "a tie is no improvement"),
    ("ch07_train_mlp_test", "train_mlp", _loop_with("seed=seed + epoch", "seed=seed"), "seed + e"),
    (
        "ch07_train_mlp_test",
        "train_mlp",
        _loop_with("best_params = {key: value.copy() for key, value in params.items()}", "best_params = dict(params)"),
        "the weights are the last epoch's",
    ),
    (
        "ch07_train_mlp_test",
        "train_mlp",
        _loop_with("X_val, y_val = validation", "X_val, y_val = X, y"),
        "measured on the training data",
    ),
    (
        "ch07_train_mlp_test",
        "train_mlp",
        _loop_with("if epoch - best_epoch >= patience:", "if epoch - best_epoch > patience:"),
        "more steps than",
    ),
    (
        "ch07_batchnorm_forward_test",
        "batchnorm_forward",
        lambda *a, **k: mistakes._bn(*a, **k, biased_running=True),
        "UNBIASED batch variance",
    ),
    (
        "ch07_batchnorm_forward_test",
        "batchnorm_forward",
        lambda *a, **k: mistakes._bn(*a, **k, keras_momentum=True),
        "weight of the NEW batch",
    ),
    (
        "ch07_batchnorm_forward_test",
        "batchnorm_forward",
        lambda *a, **k: mistakes._bn(*a, **k, batch_stats_in_eval=True),
        "with the RUNNING statistics",
    ),
    (
        "ch07_batchnorm_forward_test",
        "batchnorm_forward",
        lambda *a, **k: mistakes._bn(*a, **k, eps_outside=True),
        "inside the square root",
    ),
    (
        "ch07_batchnorm_backward_test",
        "batchnorm_backward",
        lambda *a, **k: mistakes._bn_backward(*a, **k, constant_stats=True),
        "two more terms",
    ),
    (
        "ch07_batchnorm_backward_test",
        "batchnorm_backward",
        lambda *a, **k: mistakes._bn_backward(*a, **k, no_variance_term=True),
        "through the batch variance is missing",
    ),
    (
        "ch07_batchnorm_backward_test",
        "batchnorm_backward",
        lambda *a, **k: mistakes._bn_backward(*a, **k, dgamma_from_X=True),
        "NORMALISED input",
    ),
]


@pytest.mark.parametrize("test_id, name, wrong, message", HINT_CASES, ids=[f"{c[1]}-{c[3][:24]}" for c in HINT_CASES])
def test_the_notebook_explains_the_mistake(notebook_namespace, test_id, name, wrong, message):
    wrong.__name__ = name
    assert message in failure_of(notebook_namespace, test_id, **{name: wrong})


def test_the_capstone_cells_run_on_mnist_shaped_data(monkeypatch, capsys):
    """With DATASET=mnist the capstone trains 784-512-10 on whatever load_mnist returns (here a small fake set
    in MNIST's shapes: no download), and falls back to the digits with a message when MNIST is unavailable."""
    from dlcourse.data.downloads import DatasetUnavailable

    rng = np.random.default_rng(0)
    fake = (rng.random((120, 28, 28)), rng.integers(0, 10, 120), rng.random((30, 28, 28)), rng.integers(0, 10, 30))
    threads = torch.get_num_threads()
    namespace: dict = dict(SOLVED_FUNCTIONS)
    try:
        with mock.patch.dict(os.environ, {"DATASET": "mnist"}):
            exec(CELLS["setup"], namespace)
            namespace.update(SOLVED_FUNCTIONS)
            for cell in ("split-pytorch-code", "normalize-pytorch-code"):
                exec(CELLS[cell], namespace)
            namespace["load_mnist"] = lambda: fake
            for cell in ("capstone-data", "capstone-train", "plot-capstone", "plot-misclassified"):
                exec(CELLS[cell], namespace)
            assert namespace["dataset_name"] == "MNIST" and namespace["sizes"] == [784, 512, 10]
            assert namespace["X_test"].shape == (30, 784) and 0 <= namespace["numpy_accuracy"] <= 1

            def offline():
                raise DatasetUnavailable("no network in this test")

            namespace["load_mnist"] = offline
            exec(CELLS["capstone-data"], namespace)
            assert namespace["dataset_name"] == "digits" and namespace["sizes"] == [64, 512, 10]
            assert "MNIST is not available, so this notebook uses the offline digits set" in capsys.readouterr().out
    finally:
        torch.set_num_threads(threads)
        plt.close("all")


# --- the hints themselves: each fires on its mistake (checked directly against the reference), stays silent on a
# correct answer and on a dtype-only difference ------------------------------------------------------------------

SPLIT = (*cases.numbered(40, 3, seed=1), 0.25)
REFERENCE_OF = {
    "train_val_split": cases.split_summary,
    "normalize": ref.normalize,
    "l2_penalty": ref.l2_penalty,
    "l2_grad": ref.l2_grad,
    "dropout_forward": ref.dropout_forward,
    "dropout_backward": ref.dropout_backward,
    "early_stopping": ref.early_stopping,
    "train_mlp": ref_training.train_mlp,
    "batchnorm_forward": ref.batchnorm_forward,
    "batchnorm_backward": ref.batchnorm_backward,
}
OUTPUTS_OF = {
    "normalize": ("X_train_normalised", "X_other_normalised"),
    "early_stopping": ("best_epoch", "stop_epoch"),
    "batchnorm_forward": ("out", "running_mean", "running_var"),
    "batchnorm_backward": ("dX", "dgamma", "dbeta"),
}
P = cases.mlp_params([3, 5, 4, 2], seed=3)
CASE_OF = {
    "train_val_split": SPLIT,
    "normalize": Inputs(randn(12, 3, seed=4, scale=0.2) + 1, randn(4, 3, seed=5), eps=1e-2),
    "l2_penalty": (P, 0.1),
    "l2_grad": (cases.grads_like(P, seed=6), P, 0.1),
    "dropout_forward": (randn(5, 6, seed=7), cases.keep_mask((5, 6), 0.3, seed=8), 0.3),
    "dropout_backward": (randn(5, 6, seed=9), cases.keep_mask((5, 6), 0.3, seed=10), 0.3),
    "early_stopping": Inputs([2.0, 1.0, 1.0, 1.0, 1.5, 0.5, 2.0, 2.0, 2.0], patience=3),
    "train_mlp": Inputs(
        cases_training.mlp_params([3, 16, 3], seed=4),
        *cases_training.classification_problem(10, 3, 3, seed=1),
        ("adam", {"lr": 0.05}),
        30,
        5,
        validation=cases_training.classification_problem(8, 3, 3, seed=5),
        patience=3,
    ),
    "batchnorm_forward": Inputs(*cases.batchnorm_inputs(6, 3, seed=11), momentum=0.2),
    "batchnorm_backward": Inputs(randn(6, 3, seed=12), *cases.batchnorm_inputs(6, 3, seed=11)[:2], eps=1e-2),
}


def _checked(name, fn):
    if name == "train_val_split":
        return lambda X, y, f, seed=0: cases.summarize_split(X, y, *fn(X, y, f, seed))
    if name == "train_mlp":
        return cases_training.run_train_mlp(fn)
    return fn


def _message(name, fn, case=None):
    with pytest.raises(AssertionError) as failure:
        check(
            _checked(name, fn),
            REFERENCE_OF[name],
            [CASE_OF[name] if case is None else case],
            name=name,
            output_names=OUTPUTS_OF.get(name),
            hints=_hints(name),
            quiet=True,
            allow=cases_training.OFFERED,
        )
    return str(failure.value)


def _hints(name):
    return mistakes_training.train_mlp if name == "train_mlp" else getattr(mistakes, name)


@pytest.mark.parametrize("test_id, name, wrong, message", HINT_CASES, ids=[f"{c[1]}-{c[3][:24]}" for c in HINT_CASES])
def test_each_hint_fires_on_its_mistake(test_id, name, wrong, message):
    case = None
    if name == "early_stopping":
        case = (
            Inputs([2.0, 1.0, 1.0, 1.0, 1.5], patience=3)
            if "tie" in message
            else Inputs([5.0, 3.0, 4.0, 4.0, 2.0, 1.0, 0.5], patience=2)
        )
    if name == "batchnorm_forward" and "RUNNING" in message:
        case = Inputs(*cases.batchnorm_inputs(6, 3, seed=11), training=False)
    assert message in _message(name, wrong, case)


@pytest.mark.parametrize("name", [*EXERCISES, "train_mlp"])
def test_no_hint_on_a_correct_answer_or_a_dtype_only_difference(name):
    right = SOLVED_FUNCTIONS[name]
    check(
        _checked(name, right),
        REFERENCE_OF[name],
        [CASE_OF[name]],
        output_names=OUTPUTS_OF.get(name),
        hints=_hints(name),
        quiet=True,
        allow=cases_training.OFFERED,
    )
    if name in ("train_val_split", "early_stopping", "l2_penalty", "train_mlp"):
        return  # a split's summary, two integers and a number: no float array whose dtype could be off

    def cast(value):
        if isinstance(value, dict):
            return {k: cast(v) for k, v in value.items()}
        if isinstance(value, tuple):
            return tuple(cast(v) for v in value)
        return np.asarray(value).astype(np.float32)

    message = _message(name, lambda *a, **k: cast(right(*a, **k)))
    assert "dtype" in message and "hint:" not in message, message


def test_a_loop_that_calls_the_courses_own_loop_is_refused(notebook_namespace):
    """The offered blocks (forward, loss, backward, batches, optimizer) may be used; the course's fit_mlp may not."""
    namespace: dict = {}
    exec(
        compile(
            "def train_mlp(params, X, y, optimizer, epochs, batch_size, seed=0, validation=None, patience=None):\n"
            "    from dlcourse.solved.training import fit_mlp\n"
            "    return fit_mlp(params, X, y, optimizer, epochs=epochs, batch_size=batch_size, seed=seed)\n",
            "learners_cheat.py",
            "exec",
        ),
        namespace,
    )
    message = failure_of(notebook_namespace, "ch07_train_mlp_test", train_mlp=namespace["train_mlp"])
    assert "dlcourse.solved.training.fit_mlp" in message, message
