"""Chapter 3's PyTorch references and solved NumPy blocks agree, bad input is refused clearly, and the
test-cell helpers and hints say what they should."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.checking import Inputs, check, check_seeded, randn
from dlcourse.plots import gradient_descent as gd_plots
from dlcourse.reference import gradient_descent as ref
from dlcourse.solved import gradient_descent as solved

MODELS = {"linear": solved.linear_regression_grads, "logistic": solved.logistic_regression_grads}


def train(X, y, params, model, **options):
    return solved.gradient_descent(MODELS[model], X, y, params, **options)


def start(d=2, seed=0):
    return {"W": randn(1, d, seed=seed), "b": randn(1, seed=seed + 1)}


def labels(n, seed):
    return (randn(n, seed=seed) > 0).astype(np.float64)


# --- solved vs reference ------------------------------------------------------------------

def test_solved_minibatches_match_the_dataloader_reference():
    X, y = randn(13, 3, seed=1), randn(13, seed=2)
    check(ref.listed(solved.minibatches), ref.minibatches, [
        (X, y, 4), Inputs(X, y, 5, seed=3), Inputs(X, y, 4, shuffle=False), (X, y, 13), (X, y, 20), (X, y, 1),
        Inputs(randn(6, 2, 2, seed=4), np.arange(6), np.int64(4), seed=5),
    ], quiet=True)
    check_seeded(ref.listed(solved.minibatches), X, y, 4)


def test_minibatches_keep_the_last_partial_batch_and_cover_every_example_once():
    X, y = np.arange(10.0)[:, None], np.arange(10)
    batches = list(solved.minibatches(X, y, 4, seed=3))
    assert [len(b) for _, b in batches] == [4, 4, 2]
    assert sorted(np.concatenate([b for _, b in batches])) == list(range(10))
    assert all(np.array_equal(Xb[:, 0], yb) for Xb, yb in batches)   # X and y rows stay paired
    order = np.random.default_rng(3).permutation(10)
    assert np.array_equal(np.concatenate([b for _, b in batches]), order)


@pytest.mark.parametrize("module", [solved, ref])
@pytest.mark.parametrize("args, message", [
    ((np.zeros((5, 2)), np.zeros(4), 2), "different numbers|same number"),
    ((np.zeros((5, 2)), np.zeros(5), 0), "positive integer"),
    ((np.zeros((5, 2)), np.zeros(5), -1), "positive integer"),
    ((np.zeros((5, 2)), np.zeros(5), 2.5), "positive integer"),
    ((np.zeros((5, 2)), np.zeros(5), True), "positive integer"),
])
def test_minibatches_refuse_bad_sizes_clearly(module, args, message):
    with pytest.raises(ValueError, match=message):
        list(module.minibatches(*args))


def test_solved_gd_step_matches_torch_sgd_and_skips_parameters_without_gradient():
    check(ref.after_step(solved.gd_step), ref.gd_step, [
        ({"W": randn(3, 2, seed=1), "b": randn(3, seed=2)}, {"W": randn(3, 2, seed=3), "b": randn(3, seed=4)}, 0.1),
        ({"W": randn(3, 2, seed=1), "b": randn(3, seed=2)}, {"W": randn(3, 2, seed=3)}, 0.5),
        ({"W": randn(2, 2, seed=5).astype(np.float32)}, {"W": randn(2, 2, seed=6).astype(np.float32)}, 0.1),
    ], quiet=True)


def test_gd_step_refuses_unknown_parameters_and_wrong_shapes():
    with pytest.raises(KeyError, match="unknown"):
        solved.gd_step({"W": np.zeros(2)}, {"V": np.zeros(2)}, 0.1)
    with pytest.raises(KeyError, match="unknown"):
        ref.gd_step({"W": np.zeros(2)}, {"V": np.zeros(2)}, 0.1)
    with pytest.raises(ValueError, match="shape"):
        solved.gd_step({"W": np.zeros(2)}, {"W": np.zeros(3)}, 0.1)


def test_references_do_not_change_their_inputs():
    params, grads = start(), {"W": randn(1, 2, seed=9), "b": randn(1, seed=10)}
    before = {k: v.copy() for k, v in params.items()}
    ref.gd_step(params, grads, 0.1)
    ref.sgd_trajectory(randn(6, 2, seed=11), randn(6, seed=12), params, "linear", method="stochastic")
    ref.sgd_path(lambda p: (p ** 2).sum(), params["W"], 0.1, 3)
    assert all(np.array_equal(before[k], params[k]) for k in params)


@pytest.mark.parametrize("model", ["linear", "logistic"])
def test_solved_losses_and_gradients_match_autograd(model):
    y = randn(9, seed=3) if model == "linear" else labels(9, 3)
    cases = [(start(3), randn(9, 3, seed=2), y), (start(1), randn(1, 1, seed=4), y[:1]),
             ({"W": randn(1, 3, seed=5).astype(np.float32), "b": randn(1, seed=6).astype(np.float32)},
              randn(9, 3, seed=7).astype(np.float32), y.astype(np.float32))]
    if model == "logistic":
        cases.append(({"W": np.array([[1000.0, -1000.0]]), "b": np.zeros(1)}, np.eye(2), np.array([0.0, 0.0])))
    check(MODELS[model], getattr(ref, f"{model}_regression_grads"), cases, output_names=("loss", "grads"), quiet=True)


@pytest.mark.parametrize("model", ["linear", "logistic"])
@pytest.mark.parametrize("method", ["batch", "stochastic", "minibatch"])
def test_solved_trajectory_matches_torch_sgd_at_every_step(model, method):
    X = randn(11, 2, seed=20)
    y = randn(11, seed=21) if model == "linear" else labels(11, 21)
    check(train, ref.sgd_trajectory, [
        Inputs(X, y, start(), model, method=method, lr=0.1, epochs=3, batch_size=4, seed=2),
        Inputs(X, y, start(), model, method=method, lr=0.05, epochs=1, batch_size=20),
    ], quiet=True)


def test_trajectory_has_a_row_per_step_and_starts_at_the_start():
    X, y, params = randn(10, 2, seed=1), randn(10, seed=2), start()
    for method, steps in [("batch", 3), ("stochastic", 30), ("minibatch", 9)]:
        trajectory = solved.fit_linear_regression(X, y, params, method=method, epochs=3, batch_size=4)
        assert trajectory["W"].shape == (1 + steps, 1, 2) and trajectory["b"].shape == (1 + steps, 1)
        assert np.array_equal(trajectory["W"][0], params["W"])
    assert solved.fit_logistic_regression(X, labels(10, 3), params, epochs=0)["W"].shape == (1, 1, 2)


def test_unknown_methods_and_models_are_refused():
    X, y = randn(4, 2, seed=1), randn(4, seed=2)
    with pytest.raises(ValueError, match="method"):
        solved.fit_linear_regression(X, y, start(), method="full")
    with pytest.raises(ValueError, match="method"):
        ref.sgd_trajectory(X, y, start(), "linear", method="full")
    with pytest.raises(ValueError, match="model"):
        ref.sgd_trajectory(X, y, start(), "poisson")


def test_batch_descent_on_a_convex_loss_reaches_least_squares():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = X @ np.array([1.5, -2.0]) + 0.3 + 0.1 * rng.normal(size=50)
    trajectory = solved.fit_linear_regression(X, y, {"W": np.zeros((1, 2)), "b": np.zeros(1)}, method="batch", lr=0.2, epochs=300)
    exact = np.linalg.lstsq(np.c_[X, np.ones(50)], y, rcond=None)[0]
    assert np.allclose(np.r_[trajectory["W"][-1, 0], trajectory["b"][-1]], exact, atol=1e-8)


def test_sgd_path_stops_in_the_local_minimum_of_a_non_convex_function():
    path = ref.sgd_path(lambda p: (p ** 4 - 3 * p ** 2 + p).sum(), [2.0], lr=0.02, steps=200)
    assert path.shape == (201, 1)
    assert path[-1, 0] == pytest.approx(1.1309, abs=1e-3)          # not the global minimum near -1.30


def test_loss_along_evaluates_every_row():
    X, y = randn(8, 2, seed=1), randn(8, seed=2)
    trajectory = solved.fit_linear_regression(X, y, start(), method="stochastic", epochs=1)
    losses = solved.loss_along(solved.linear_regression_grads, trajectory, X, y, every=4)
    assert losses.shape == (3,)
    assert losses[0] == pytest.approx(solved.linear_regression_grads(start(), X, y)[0])


# --- test-cell helpers and hints -----------------------------------------------------------

def test_check_rejects_explains_a_missing_or_wrong_error():
    def accepts_anything(X, y, batch_size):
        return []

    def raises_type_error(X, y, batch_size):
        raise TypeError("boom")

    case = [((np.zeros((2, 1)), np.zeros(3), 1), {}, "X has 2 examples and y has 3")]
    with pytest.raises(AssertionError, match="ran without an error"):
        ref.check_rejects(accepts_anything, case)
    with pytest.raises(AssertionError, match="raised TypeError"):
        ref.check_rejects(raises_type_error, case)
    ref.check_rejects(ref.listed(solved.minibatches), case)


def test_stubs_are_reported_as_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    with pytest.raises(AssertionError, match="not implemented yet"):
        check(ref.listed(stub), ref.minibatches, [(randn(3, 1), randn(3), 2)], name="minibatches")
    with pytest.raises(AssertionError, match="not implemented yet"):
        ref.check_rejects(stub, [((1,), {}, "whatever")], name="minibatches")


def _failure(student, reference, cases, hints, **kwargs) -> str:
    with pytest.raises(AssertionError) as error:
        check(student, reference, cases, hints=hints, **kwargs)
    return str(error.value)


def test_step_hints_recognise_the_classic_mistakes():
    def no_change(params, grads, lr):
        params = {k: v - lr * grads[k] for k, v in params.items()}

    def uphill(params, grads, lr):
        for k, g in grads.items():
            params[k] += lr * g

    hints = [ref.UNCHANGED_PARAMS, ref.step_mistake(lambda p, g, lr: p + lr * g, "UPHILL")]
    case = [({"W": randn(2, 2, seed=1)}, {"W": randn(2, 2, seed=2)}, 0.1)]
    assert "did not change" in _failure(ref.after_step(no_change), ref.gd_step, case, hints)
    assert "UPHILL" in _failure(ref.after_step(uphill), ref.gd_step, case, hints)


def test_trajectory_hints_recognise_the_classic_mistakes():
    def shallow_snapshots(X, y, params, model, **options):
        trajectory = train(X, y, params, model, **options)
        return {k: np.concatenate([v[:1], np.repeat(v[-1:], len(v) - 1, axis=0)]) for k, v in trajectory.items()}

    def once_per_epoch(X, y, params, model, **options):
        return {k: v[::4] for k, v in train(X, y, params, model, **options).items()}

    def same_seed(X, y, params, model, **options):
        return ref.same_order_every_epoch(X, y, params, model, **options)

    hints = ref.TRAJECTORY_HINTS + [ref.trajectory_mistake(ref.same_order_every_epoch, "SAME ORDER")]
    case = [Inputs(randn(8, 2, seed=1), randn(8, seed=2), start(), "linear", method="minibatch", lr=0.1, epochs=3,
                   batch_size=2, seed=1)]
    assert "Record copies" in _failure(shallow_snapshots, ref.sgd_trajectory, case, hints)
    assert "rows" in _failure(once_per_epoch, ref.sgd_trajectory, case, hints)
    assert "SAME ORDER" in _failure(same_seed, ref.sgd_trajectory, case, hints)


# --- plots ----------------------------------------------------------------------------------

def test_plots_draw_paths_and_refuse_bad_shapes():
    import matplotlib
    matplotlib.use("Agg")
    bowl = lambda points: (points ** 2).sum(axis=1)
    path = ref.sgd_path(lambda p: (p ** 2).sum(), [1.0, -1.0], 0.1, 5)
    ax = gd_plots.plot_descent_paths(bowl, {"sgd": path}, xlim=(-2, 2), ylim=(-2, 2), title="bowl")
    assert ax.get_title() == "bowl" and len(ax.lines) == 3
    ax = gd_plots.plot_descent_1d(lambda x: x ** 2, {"a": np.array([1.0, 0.5, 0.25])}, np.linspace(-1, 1, 20))
    assert len(ax.lines) == 4
    with pytest.raises(ValueError, match="shape"):
        gd_plots.plot_descent_paths(bowl, {"bad": np.zeros((3, 3))}, xlim=(-1, 1), ylim=(-1, 1))
