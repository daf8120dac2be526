"""Chapter 3's PyTorch references and solved NumPy blocks agree, bad input is refused clearly, and the
test-cell helpers and hints say what they should."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.cases import gradient_descent as cases
from dlcourse.checking import CheckFailed, Inputs, check, check_seeded, randn
from dlcourse.demos import gradient_descent as demos
from dlcourse.mistakes import gradient_descent as mistakes
from dlcourse.plots import gradient_descent as gd_plots
from dlcourse.reference import gradient_descent as ref
from dlcourse.solved import gradient_descent as solved

MODELS = cases.MODELS
train = cases.trainer(solved.gradient_descent)


def fit(X, y, params, model="linear", **options):
    return solved.gradient_descent(MODELS[model], X, y, params, **options)


def start(d=2, seed=0):
    return {"W": randn(1, d, seed=seed), "b": randn(1, seed=seed + 1)}


def labels(n, seed):
    return (randn(n, seed=seed) > 0).astype(np.float64)


# --- solved vs reference ------------------------------------------------------------------


def test_solved_minibatches_match_the_dataloader_reference():
    X, y = randn(13, 3, seed=1), randn(13, seed=2)
    check(
        cases.listed(solved.minibatches),
        ref.minibatches,
        [
            (X, y, 4),
            Inputs(X, y, 5, seed=3),
            Inputs(X, y, 4, shuffle=False),
            (X, y, 13),
            (X, y, 20),
            (X, y, 1),
            Inputs(randn(6, 2, 2, seed=4), np.arange(6), np.int64(4), seed=5),
        ],
        quiet=True,
    )
    check_seeded(cases.listed(solved.minibatches), X, y, 4)


def test_minibatches_keep_the_last_partial_batch_and_cover_every_example_once():
    X, y = np.arange(10.0)[:, None], np.arange(10)
    batches = list(solved.minibatches(X, y, 4, seed=3))
    assert [len(b) for _, b in batches] == [4, 4, 2]
    assert sorted(np.concatenate([b for _, b in batches])) == list(range(10))
    assert all(np.array_equal(Xb[:, 0], yb) for Xb, yb in batches)  # X and y rows stay paired
    order = np.random.default_rng(3).permutation(10)
    assert np.array_equal(np.concatenate([b for _, b in batches]), order)


@pytest.mark.parametrize("module", [solved, ref])
@pytest.mark.parametrize(
    "args, message",
    [
        ((np.zeros((5, 2)), np.zeros(4), 2), "different numbers|same number"),
        ((np.zeros((5, 2)), np.zeros(5), 0), "positive integer"),
        ((np.zeros((5, 2)), np.zeros(5), -1), "positive integer"),
        ((np.zeros((5, 2)), np.zeros(5), 2.5), "positive integer"),
        ((np.zeros((5, 2)), np.zeros(5), True), "positive integer"),
    ],
)
def test_minibatches_refuse_bad_sizes_clearly(module, args, message):
    with pytest.raises(ValueError, match=message):
        list(module.minibatches(*args))


def test_solved_gd_step_matches_torch_sgd_and_skips_parameters_without_gradient():
    check(
        cases.after_step(solved.gd_step),
        ref.gd_step,
        [
            ({"W": randn(3, 2, seed=1), "b": randn(3, seed=2)}, {"W": randn(3, 2, seed=3), "b": randn(3, seed=4)}, 0.1),
            ({"W": randn(3, 2, seed=1), "b": randn(3, seed=2)}, {"W": randn(3, 2, seed=3)}, 0.5),
            ({"W": randn(2, 2, seed=5).astype(np.float32)}, {"W": randn(2, 2, seed=6).astype(np.float32)}, 0.1),
        ],
        quiet=True,
    )


def test_the_reference_gd_step_refuses_unknown_parameters():
    with pytest.raises(KeyError, match="unknown"):
        ref.gd_step({"W": np.zeros(2)}, {"V": np.zeros(2)}, 0.1)


def test_references_do_not_change_their_inputs():
    params, grads = start(), {"W": randn(1, 2, seed=9), "b": randn(1, seed=10)}
    before = {k: v.copy() for k, v in params.items()}
    ref.gd_step(params, grads, 0.1)
    ref.sgd_trajectory(randn(6, 2, seed=11), randn(6, seed=12), params, "linear", method="stochastic")
    ref.sgd_path(lambda p: (p**2).sum(), params["W"], 0.1, 3)
    assert all(np.array_equal(before[k], params[k]) for k in params)


@pytest.mark.parametrize("model", ["linear", "logistic"])
def test_solved_losses_and_gradients_match_autograd(model):
    y = randn(9, seed=3) if model == "linear" else labels(9, 3)
    cases = [
        (start(3), randn(9, 3, seed=2), y),
        (start(1), randn(1, 1, seed=4), y[:1]),
        (
            {"W": randn(1, 3, seed=5).astype(np.float32), "b": randn(1, seed=6).astype(np.float32)},
            randn(9, 3, seed=7).astype(np.float32),
            y.astype(np.float32),
        ),
    ]
    if model == "logistic":
        cases.append(({"W": np.array([[1000.0, -1000.0]]), "b": np.zeros(1)}, np.eye(2), np.array([0.0, 0.0])))
    check(MODELS[model], getattr(ref, f"{model}_regression_grads"), cases, output_names=("loss", "grads"), quiet=True)


@pytest.mark.parametrize("model", ["linear", "logistic"])
@pytest.mark.parametrize("method", ["batch", "stochastic", "minibatch"])
def test_solved_trajectory_matches_torch_sgd_at_every_step(model, method):
    X = randn(11, 2, seed=20)
    y = randn(11, seed=21) if model == "linear" else labels(11, 21)
    check(
        train,
        ref.sgd_trajectory,
        [
            Inputs(X, y, start(), model, method=method, lr=0.1, epochs=3, batch_size=4, seed=2),
            Inputs(X, y, start(), model, method=method, lr=0.05, epochs=1, batch_size=20),
        ],
        quiet=True,
    )


def test_trajectory_has_a_row_per_step_and_starts_at_the_start():
    X, y, params = randn(10, 2, seed=1), randn(10, seed=2), start()
    for method, steps in [("batch", 3), ("stochastic", 30), ("minibatch", 9)]:
        trajectory = fit(X, y, params, method=method, epochs=3, batch_size=4)
        assert trajectory["W"].shape == (1 + steps, 1, 2) and trajectory["b"].shape == (1 + steps, 1)
        assert np.array_equal(trajectory["W"][0], params["W"])
    assert fit(X, labels(10, 3), params, "logistic", epochs=0)["W"].shape == (1, 1, 2)


def test_unknown_methods_and_models_are_refused():
    X, y = randn(4, 2, seed=1), randn(4, seed=2)
    with pytest.raises(ValueError, match="method"):
        fit(X, y, start(), method="full")
    with pytest.raises(ValueError, match="method"):
        ref.sgd_trajectory(X, y, start(), "linear", method="full")
    with pytest.raises(ValueError, match="model"):
        ref.sgd_trajectory(X, y, start(), "poisson")


def test_batch_descent_on_a_convex_loss_reaches_least_squares():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = X @ np.array([1.5, -2.0]) + 0.3 + 0.1 * rng.normal(size=50)
    trajectory = fit(X, y, {"W": np.zeros((1, 2)), "b": np.zeros(1)}, method="batch", lr=0.2, epochs=300)
    exact = np.linalg.lstsq(np.c_[X, np.ones(50)], y, rcond=None)[0]
    assert np.allclose(np.r_[trajectory["W"][-1, 0], trajectory["b"][-1]], exact, atol=1e-8)


def test_sgd_path_stops_in_the_local_minimum_of_a_non_convex_function():
    path = ref.sgd_path(lambda p: (p**4 - 3 * p**2 + p).sum(), [2.0], lr=0.02, steps=200)
    assert path.shape == (201, 1)
    assert path[-1, 0] == pytest.approx(1.1309, abs=1e-3)  # not the global minimum near -1.30


def test_loss_along_evaluates_every_row():
    X, y = randn(8, 2, seed=1), randn(8, seed=2)
    trajectory = fit(X, y, start(), method="stochastic", epochs=1)
    losses = demos.loss_along(solved.linear_regression_grads, trajectory, X, y, every=4)
    assert losses.shape == (3,)
    assert losses[0] == pytest.approx(solved.linear_regression_grads(start(), X, y)[0])


# --- test-cell adapters ---------------------------------------------------------------------


def test_check_rejects_explains_a_missing_or_wrong_error():
    def accepts_anything(X, y, batch_size):
        return []

    def raises_type_error(X, y, batch_size):
        raise TypeError("boom")

    case = [((np.zeros((2, 1)), np.zeros(3), 1), {}, "X has 2 examples and y has 3")]
    with pytest.raises(CheckFailed, match="ran without an error"):
        cases.check_rejects(accepts_anything, case)
    with pytest.raises(CheckFailed, match="raised TypeError"):
        cases.check_rejects(raises_type_error, case)
    cases.check_rejects(cases.listed(solved.minibatches), case)


def test_check_rejects_runs_the_learners_function_under_the_watch():
    def delegates(X, y, batch_size):
        return list(solved.minibatches(X, y, batch_size))

    with pytest.raises(CheckFailed, match="dlcourse.solved.gradient_descent.minibatches"):
        cases.check_rejects(delegates, [((np.zeros((2, 1)), np.zeros(3), 1), {}, "sizes differ")])


def test_stubs_are_reported_as_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="not implemented yet"):
        check(cases.listed(stub), ref.minibatches, [(randn(3, 1), randn(3), 2)], name="minibatches")
    with pytest.raises(AssertionError, match="not implemented yet"):
        cases.check_rejects(stub, [((1,), {}, "whatever")], name="minibatches")


# --- hints: each fires on its mistake, and is silent on a right answer and on a dtype-only difference ---------


def _message(student, reference, case_list, hints, **kwargs) -> str:
    try:
        check(student, reference, case_list, hints=hints, quiet=True, **kwargs)
    except CheckFailed as error:
        return str(error)
    return ""


def _texts(hints) -> list[str]:
    return [h.message for h in hints if isinstance(h.message, str)]


def _silent(message: str, hints) -> bool:
    return not any(text in message for text in _texts(hints)) and "hint: the trajectory has" not in message


BATCH_CASES = [
    Inputs(randn(7, 2, seed=1), randn(7, seed=2), 3, seed=4),
    Inputs(randn(9, 3, seed=3).astype(np.float32), randn(9, seed=5).astype(np.float32), 4, seed=2),
]


def _batches(change):
    def wrong(X, y, batch_size, seed=0, shuffle=True):
        return change(list(solved.minibatches(X, y, batch_size, seed, shuffle)), X, y, batch_size, seed)

    return wrong


@pytest.mark.parametrize(
    "wrong, words",
    [
        (_batches(lambda b, X, y, B, seed: b[:-1]), "number of batches"),
        (_batches(lambda b, X, y, B, seed: list(solved.minibatches(X, y, B, seed, shuffle=False))), "original order"),
        (_batches(lambda b, X, y, B, seed: [(Xb, yb[::-1]) for Xb, yb in b]), "y_batch is not"),
        (_batches(lambda b, X, y, B, seed: list(solved.minibatches(X, y, B, seed + 1))), "another order"),
    ],
)
def test_minibatches_hints(wrong, words):
    assert words in _message(wrong, ref.minibatches, BATCH_CASES, mistakes.minibatches)


def test_minibatches_hints_are_silent_on_a_right_answer_and_on_a_dtype_only_difference():
    assert _message(cases.listed(solved.minibatches), ref.minibatches, BATCH_CASES, mistakes.minibatches) == ""
    float64 = _batches(lambda b, X, y, B, seed: [(Xb.astype(np.float64), yb.astype(np.float64)) for Xb, yb in b])
    message = _message(float64, ref.minibatches, BATCH_CASES[1:], mistakes.minibatches)
    assert "dtype float64" in message and _silent(message, mistakes.minibatches)


STEP_CASES = [({"W": randn(2, 2, seed=1), "b": randn(2, seed=3)}, {"W": randn(2, 2, seed=2)}, 0.1)]


@pytest.mark.parametrize(
    "update, words",
    [
        (lambda p, g, lr: p, "did not change"),
        (lambda p, g, lr: p + lr * g, "uphill"),
        (lambda p, g, lr: p - g, "learning rate is missing"),
    ],
)
def test_gd_step_hints(update, words):
    def wrong(params, grads, lr):
        for key, grad in grads.items():
            params[key][...] = update(params[key], grad, lr)

    assert words in _message(cases.after_step(wrong), ref.gd_step, STEP_CASES, mistakes.gd_step)


def test_gd_step_hints_are_silent_on_a_right_answer_and_on_a_dtype_only_difference():
    assert _message(cases.after_step(solved.gd_step), ref.gd_step, STEP_CASES, mistakes.gd_step) == ""

    def float64(params, grads, lr):
        for key, grad in grads.items():
            params[key] = params[key].astype(np.float64) - lr * grad

    case = [({"W": randn(2, 2, seed=1).astype(np.float32)}, {"W": randn(2, 2, seed=2).astype(np.float32)}, 0.1)]
    message = _message(cases.after_step(float64), ref.gd_step, case, mistakes.gd_step)
    assert "dtype float64" in message and _silent(message, mistakes.gd_step)


def _model_cases(model):
    y = randn(6, seed=3) if model == "linear" else labels(6, 3)
    return [
        (start(3), randn(6, 3, seed=2), y),
        ({"W": np.array([[900.0, -900.0, 0.0]]), "b": np.zeros(1)}, randn(6, 3, seed=4), y),
    ]


@pytest.mark.parametrize(
    "model, wrong, words",
    [
        ("linear", mistakes._linear_broadcast, "broadcasts"),
        ("linear", mistakes._halved(solved.linear_regression_grads), "half the right value"),
        ("logistic", mistakes._through_sigmoid_derivative, "cancels"),
        ("logistic", mistakes._without_mean, "N times too large"),
        ("logistic", mistakes._log_of_probabilities, "log(0)"),
    ],
)
def test_regression_hints(model, wrong, words):
    hints = getattr(mistakes, f"{model}_regression_grads")
    reference = getattr(ref, f"{model}_regression_grads")
    assert words in _message(wrong, reference, _model_cases(model), hints, output_names=("loss", "grads"))


@pytest.mark.parametrize("model", ["linear", "logistic"])
def test_regression_hints_are_silent_on_a_right_answer_and_on_a_dtype_only_difference(model):
    hints, reference = getattr(mistakes, f"{model}_regression_grads"), getattr(ref, f"{model}_regression_grads")
    assert _message(MODELS[model], reference, _model_cases(model), hints, output_names=("loss", "grads")) == ""

    def float64(params, X, y):
        return MODELS[model](
            {k: v.astype(np.float64) for k, v in params.items()}, X.astype(np.float64), y.astype(np.float64)
        )

    params, X, y = _model_cases(model)[0]
    case = [({k: v.astype(np.float32) for k, v in params.items()}, X.astype(np.float32), y.astype(np.float32))]
    message = _message(float64, reference, case, hints, output_names=("loss", "grads"))
    assert "dtype float64" in message and _silent(message, hints)


LOOP_CASE = [
    Inputs(
        randn(8, 2, seed=1),
        randn(8, seed=2),
        start(),
        "linear",
        method="minibatch",
        lr=0.1,
        epochs=3,
        batch_size=3,
        seed=1,
    )
]


def _shallow_snapshots(X, y, params, model, **options):
    trajectory = train(X, y, params, model, **options)
    return {k: np.concatenate([v[:1], np.repeat(v[-1:], len(v) - 1, axis=0)]) for k, v in trajectory.items()}


@pytest.mark.parametrize(
    "wrong, words, case",
    [
        (_shallow_snapshots, "Record copies", LOOP_CASE),
        (
            lambda X, y, p, model, **o: {k: v[::3] for k, v in train(X, y, p, model, **o).items()},
            "the trajectory has",
            LOOP_CASE,
        ),
        (mistakes._same_order_every_epoch, "same order", LOOP_CASE),
        (
            mistakes._batch_uses_batch_size,
            "all N examples",
            [
                Inputs(
                    randn(8, 2, seed=1),
                    randn(8, seed=2),
                    start(),
                    "linear",
                    method="batch",
                    lr=0.1,
                    epochs=2,
                    batch_size=3,
                )
            ],
        ),
    ],
)
def test_training_loop_hints(wrong, words, case):
    assert words in _message(wrong, ref.sgd_trajectory, case, mistakes.gradient_descent)


def test_training_loop_hints_are_silent_on_a_right_answer_and_on_a_dtype_only_difference():
    assert _message(train, ref.sgd_trajectory, LOOP_CASE, mistakes.gradient_descent) == ""

    def float64(X, y, params, model, **options):
        return train(
            X.astype(np.float64),
            y.astype(np.float64),
            {k: v.astype(np.float64) for k, v in params.items()},
            model,
            **options,
        )

    X, y, params, model = LOOP_CASE[0].args
    case = [
        Inputs(
            X.astype(np.float32),
            y.astype(np.float32),
            {k: v.astype(np.float32) for k, v in params.items()},
            model,
            **LOOP_CASE[0].kwargs,
        )
    ]
    message = _message(float64, ref.sgd_trajectory, case, mistakes.gradient_descent)
    assert "dtype float64" in message and _silent(message, mistakes.gradient_descent)


# --- plots ----------------------------------------------------------------------------------


def test_plots_draw_paths_and_refuse_bad_shapes():
    import matplotlib

    matplotlib.use("Agg")
    bowl = lambda points: (points**2).sum(axis=1)
    path = ref.sgd_path(lambda p: (p**2).sum(), [1.0, -1.0], 0.1, 5)
    ax = gd_plots.plot_descent_paths(bowl, {"sgd": path}, xlim=(-2, 2), ylim=(-2, 2), title="bowl")
    assert ax.get_title() == "bowl" and len(ax.lines) == 3
    ax = gd_plots.plot_descent_1d(lambda x: x**2, {"a": np.array([1.0, 0.5, 0.25])}, np.linspace(-1, 1, 20))
    assert len(ax.lines) == 4
    with pytest.raises(ValueError, match="shape"):
        gd_plots.plot_descent_paths(bowl, {"bad": np.zeros((3, 3))}, xlim=(-1, 1), ylim=(-1, 1))
