"""Chapter 6 package: solved NumPy optimizers against torch.optim, the references, hints, errors and plots."""

from __future__ import annotations

import timeit

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from dlcourse.cases import optimizers as cases
from dlcourse.checking import CheckFailed, Inputs, check
from dlcourse.demos import optimizers as demos
from dlcourse.mistakes import optimizers as mistakes
from dlcourse.plots import optimizers as opt_plots
from dlcourse.reference import optimizers as ref
from dlcourse.solved import optimizers as solved

# every exercise with hyper-parameters that exercise weight decay, non-default betas / eps, dampening
SETTINGS = {
    "sgd": {"lr": 0.05, "weight_decay": 0.01},
    "momentum_ema": {"lr": 0.05, "beta": 0.8},
    "momentum": {"lr": 0.05, "momentum": 0.8, "dampening": 0.5, "weight_decay": 0.01},
    "nesterov": {"lr": 0.02, "momentum": 0.8, "weight_decay": 0.01},
    "adagrad": {"lr": 0.05, "eps": 1e-6, "weight_decay": 0.01},
    "rmsprop": {"lr": 0.01, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.01},
    "adam": {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.01},
    "adamw": {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1},
}

CLASSES = {
    "sgd": lambda: solved.SGD(0.05, weight_decay=0.01),
    "momentum_ema": lambda: solved.MomentumEMA(0.05, beta=0.8),
    "momentum": lambda: solved.SGD(0.05, momentum=0.8, dampening=0.5, weight_decay=0.01),
    "nesterov": lambda: solved.SGD(0.02, momentum=0.8, nesterov=True, weight_decay=0.01),
    "adagrad": lambda: solved.Adagrad(0.05, eps=1e-6, weight_decay=0.01),
    "rmsprop": lambda: solved.RMSprop(0.01, alpha=0.9, eps=1e-6, weight_decay=0.01),
    "adam": lambda: solved.Adam(0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01),
    "adamw": lambda: solved.AdamW(0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
}


def problem(seed=0, **options):
    return cases.random_problem({"W": (3, 4), "b": (4,), "frozen": (2,)}, seed=seed, zero_grad=("frozen",), **options)


def class_trajectory(optimizer, params, grads):
    """The parameters after every step of an optimizer class, in the trajectory format."""
    params = {k: v.copy() for k, v in params.items()}
    result = {}
    for k, step_grads in enumerate(grads, start=1):
        optimizer.step(params, step_grads)
        result[f"step {k}"] = {key: value.copy() for key, value in params.items()}
    return result


def largest(a, b):
    return max(float(np.abs(a[s][k] - b[s][k]).max()) for s in b for k in b[s])


# --- solved vs reference ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SETTINGS))
def test_step_function_matches_torch_optim_for_100_steps(name):
    reference = getattr(ref, name)
    check(
        cases.as_trajectory(solved.STEP_FUNCTIONS[name]),
        reference,
        [
            Inputs(*problem(seed=1), **SETTINGS[name]),
            Inputs(*cases.random_problem({"w": (2, 3, 4)}, seed=2, scale=1e-3), **SETTINGS[name]),
            Inputs(*cases.random_problem({"w": (5,)}, steps=30, seed=3, dtype=np.float32), **SETTINGS[name]),
        ],
        rtol=1e-10,
        atol=1e-12,
    )


@pytest.mark.parametrize("name", list(CLASSES))
def test_optimizer_class_matches_torch_optim_for_100_steps(name):
    params, grads = problem(seed=4)
    ours = class_trajectory(CLASSES[name](), params, grads)
    theirs = ref.torch_trajectory(name, params, grads, **SETTINGS[name])
    assert len(ours) == len(theirs) == 100
    assert largest(ours, theirs) < 1e-12


@pytest.mark.parametrize("decoupled", [False, True])
def test_fast_adam_in_blocks_matches_torch_on_large_and_non_contiguous_parameters(decoupled):
    shapes = {"big": (300, 700), "small": (3,)}  # 210,000 entries: several blocks of 65,536
    params, grads = cases.random_problem(shapes, steps=5, seed=5)
    params["transposed"] = np.asfortranarray(np.arange(12.0).reshape(3, 4))  # not C-contiguous: updated whole
    for g in grads:
        g["transposed"] = np.ones((3, 4))
    optimizer = (solved.AdamW if decoupled else solved.Adam)(0.01, weight_decay=0.1)
    ours = class_trajectory(optimizer, params, grads)
    theirs = ref.torch_trajectory("adamw" if decoupled else "adam", params, grads, lr=0.01, weight_decay=0.1)
    assert largest(ours, theirs) < 1e-12


def test_fast_adam_float32_stays_float32_and_close_to_torch():
    params, grads = cases.random_problem({"w": (1000,)}, steps=20, seed=6, dtype=np.float32)
    ours = class_trajectory(solved.Adam(1e-3), params, grads)
    theirs = ref.adam(params, grads, lr=1e-3)
    assert ours["step 20"]["w"].dtype == np.float32
    assert largest(ours, theirs) < 1e-5


def test_momentum_worked_example_numbers():
    zero, ones = {"w": np.array([0.0])}, [{"w": np.array([1.0])}] * 3
    path = lambda result: [round(float(result[s]["w"][0]), 10) for s in result]
    assert path(ref.momentum(zero, ones, lr=1.0, momentum=0.9, dampening=0.9)) == [-1.0, -2.0, -3.0]
    assert path(ref.momentum(zero, ones, lr=1.0, momentum=0.9)) == [-1.0, -2.9, -5.61]
    assert path(solved.trajectory(solved.momentum_ema_step, zero, ones, lr=1.0, beta=0.9)) == [-0.1, -0.29, -0.561]
    assert path(ref.momentum(zero, ones, lr=0.1, momentum=0.9)) == [-0.1, -0.29, -0.561]
    assert path(solved.trajectory(solved.momentum_step, zero, ones, lr=1.0, momentum=0.9, dampening=0.9)) == [
        -1.0,
        -2.0,
        -3.0,
    ]


def test_default_hyper_parameters_are_torch_defaults():
    params, grads = problem(seed=7)
    for name in ("adagrad", "rmsprop", "adam", "adamw"):
        assert (
            largest(
                solved.trajectory(solved.STEP_FUNCTIONS[name], params, grads), ref.torch_trajectory(name, params, grads)
            )
            < 1e-12
        )
    for name in ("momentum", "nesterov"):  # the exercises' default momentum is 0.9
        assert (
            largest(
                solved.trajectory(solved.STEP_FUNCTIONS[name], params, grads, lr=0.01),
                ref.torch_trajectory(name, params, grads, lr=0.01, momentum=0.9),
            )
            < 1e-12
        )


def test_zero_gradient_is_a_step_but_a_missing_gradient_is_none():
    params = {"a": np.array([1.0]), "b": np.array([1.0])}
    optimizer = solved.Adam(lr=0.1)
    optimizer.step(params, {"a": np.array([1.0]), "b": np.array([1.0])})
    optimizer.step(params, {"a": np.array([0.0])})
    a = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    torch_adam = torch.optim.Adam([a, b], lr=0.1)
    a.grad, b.grad = torch.ones(1, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    torch_adam.step()
    a.grad, b.grad = torch.zeros(1, dtype=torch.float64), None
    torch_adam.step()
    assert params["a"][0] == pytest.approx(a.item(), rel=1e-14) and params["a"][0] < 0.9
    assert params["b"][0] == pytest.approx(b.item(), rel=1e-14) and b.item() == pytest.approx(0.9, abs=1e-6)
    assert optimizer.state["b"]["step"] == int(torch_adam.state[b]["step"]) == 1


def test_trajectory_leaves_inputs_alone_and_accepts_in_place_step_functions():
    params, grads = problem(seed=8)
    before = {k: v.copy() for k, v in params.items()}

    def in_place_sgd(p, g, state, lr):
        p -= lr * g
        return p, state

    result = solved.trajectory(in_place_sgd, params, grads, lr=0.1)
    assert all(np.array_equal(params[k], before[k]) for k in params)
    assert largest(result, ref.sgd(params, grads, lr=0.1)) < 1e-12


def test_minimize_path_matches_torch_on_a_quadratic():
    f = lambda x: 0.5 * (x[0] ** 2 + 10 * x[1] ** 2)
    grad = lambda x: np.array([x[0], 10 * x[1]])
    for name, hyper in [("nesterov", {"lr": 0.05, "momentum": 0.8}), ("adam", {"lr": 0.1})]:
        ours = solved.minimize_path(solved.STEP_FUNCTIONS[name], grad, (2.0, 1.0), 50, **hyper)
        theirs = ref.torch_minimize_path(name, f, (2.0, 1.0), 50, **hyper)
        assert ours.shape == theirs.shape == (51, 2)
        assert np.abs(ours - theirs).max() < 1e-12


def test_fit_mlp_with_solved_adam_matches_pytorch_training():
    from dlcourse.data import load_digits
    from dlcourse.reference.training import fit_torch_mlp
    from dlcourse.solved.networks import init_params
    from dlcourse.solved.training import fit_mlp

    images, labels = load_digits()
    X, y = images.reshape(len(images), -1)[:300], labels[:300]
    params = init_params([64, 16, 10], seed=0)
    _, torch_losses = fit_torch_mlp(
        params, X, y, optimizer="adam", lr=1e-2, epochs=2, batch_size=32, dtype=torch.float64
    )
    history = fit_mlp({k: v.copy() for k, v in params.items()}, X, y, solved.Adam(lr=1e-2), epochs=2, batch_size=32)
    assert np.allclose(history["loss"], torch_losses, rtol=1e-10)


def test_solved_adam_is_not_slower_than_torch_on_the_cpu():
    n = 1_000_000
    rng = np.random.default_rng(0)
    w, g = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
    params, grads = {"w": w.copy()}, {"w": g}
    ours = solved.Adam(1e-3)
    tensor = torch.tensor(w, requires_grad=True)
    tensor.grad = torch.tensor(g)
    theirs = torch.optim.Adam([tensor], lr=1e-3)
    ours.step(params, grads)
    theirs.step()
    assert np.abs(params["w"] - tensor.detach().numpy()).max() < 1e-6
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t_ours = np.median(timeit.repeat(lambda: ours.step(params, grads), number=3, repeat=5))
        t_theirs = np.median(timeit.repeat(theirs.step, number=3, repeat=5))
    finally:
        torch.set_num_threads(threads)
    assert t_ours < 2.0 * t_theirs, f"solved.Adam {t_ours:.4f} s vs torch.optim.Adam {t_theirs:.4f} s"


# --- hints -----------------------------------------------------------------------------------

MISTAKES = [  # (exercise, wrong step function, hyper-parameters that reveal it)
    ("sgd", mistakes.sgd_ignoring_weight_decay, {"lr": 0.1, "weight_decay": 0.1}),
    ("sgd", mistakes.sgd_decay_after_step, {"lr": 0.1, "weight_decay": 0.1}),
    ("momentum_ema", mistakes.momentum_ema_undamped, {"lr": 0.1, "beta": 0.9}),
    ("momentum_ema", mistakes.momentum_ema_weights_swapped, {"lr": 0.1, "beta": 0.9}),
    ("momentum", mistakes.momentum_buffer_from_zero, {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("momentum", mistakes.momentum_ignoring_dampening, {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("nesterov", mistakes.nesterov_plain_momentum, {"lr": 0.1, "momentum": 0.9}),
    ("nesterov", mistakes.nesterov_old_buffer, {"lr": 0.1, "momentum": 0.9}),
    ("adagrad", mistakes.adagrad_eps_inside_sqrt, {"lr": 0.1, "eps": 0.5}),
    ("adagrad", mistakes.adagrad_without_sqrt, {"lr": 0.1}),
    ("adagrad", mistakes.adagrad_not_accumulated, {"lr": 0.1}),
    ("rmsprop", mistakes.rmsprop_plain_mean, {"lr": 0.01, "alpha": 0.9}),
    ("rmsprop", mistakes.rmsprop_weights_swapped, {"lr": 0.01, "alpha": 0.9}),
    ("rmsprop", mistakes.rmsprop_eps_inside_sqrt, {"lr": 0.01, "eps": 0.5}),
    ("adam", mistakes.adam_without_bias_correction, {"lr": 0.01}),
    ("adam", mistakes.adam_m_uncorrected, {"lr": 0.01}),
    ("adam", mistakes.adam_v_uncorrected, {"lr": 0.01}),
    ("adam", mistakes.adam_bias_correction_off_by_one, {"lr": 0.01}),
    ("adam", mistakes.adam_eps_inside_sqrt, {"lr": 0.01, "eps": 0.5}),
    ("adam", mistakes.adam_betas_swapped, {"lr": 0.01}),
    ("adamw", mistakes.adamw_as_l2, {"lr": 0.01, "weight_decay": 0.5}),
    ("adamw", mistakes.adamw_decay_without_lr, {"lr": 0.01, "weight_decay": 0.5}),
    ("adamw", mistakes.adamw_decay_after_step, {"lr": 0.01, "weight_decay": 0.5}),
]


@pytest.mark.parametrize("name, wrong, hyper", MISTAKES, ids=[m[1].__name__ for m in MISTAKES])
def test_each_mistake_fails_the_check_and_its_hint_names_it(name, wrong, hyper):
    hint = mistakes.step_mistake(wrong, f"HINT for {wrong.__name__}")
    other = mistakes.step_mistake(solved.sgd_step, "HINT that must not show")
    with pytest.raises(AssertionError) as failure:
        check(
            cases.as_trajectory(wrong),
            getattr(ref, name),
            [Inputs(*problem(seed=9, scale=1e-2), **hyper)],
            hints=[hint, other],
        )
    message = str(failure.value)
    assert f"HINT for {wrong.__name__}" in message
    assert "must not show" not in message
    assert "output['step " in message and "differs from the PyTorch reference" in message


@pytest.mark.parametrize(
    "wrong", [mistakes.adam_m_uncorrected, mistakes.adam_v_uncorrected, mistakes.adam_without_bias_correction]
)
def test_the_adam_list_names_a_missing_bias_correction_once(wrong):
    with pytest.raises(CheckFailed) as failure:
        check(cases.as_trajectory(wrong), ref.adam, [Inputs(*problem(seed=10))], hints=mistakes.adam)
    assert str(failure.value).count("a bias correction is missing") == 1


def test_checker_reports_the_first_step_that_differs():
    with pytest.raises(AssertionError, match=r"output\['step 1'\]\['W'\]"):
        check(
            cases.as_trajectory(mistakes.momentum_buffer_from_zero),
            ref.momentum,
            [Inputs(*problem(seed=11), lr=0.1, momentum=0.9, dampening=0.9)],
        )


def test_a_step_function_that_forgets_the_state_gets_a_clear_message():
    def forgets_state(p, g, state, lr):
        return p - lr * g

    with pytest.raises(AssertionError, match=r"must return \(new_p, new_state\)"):
        check(cases.as_trajectory(forgets_state), ref.sgd, [Inputs(*problem(seed=12), lr=0.1)])


# --- bad input -------------------------------------------------------------------------------


def test_bad_problems_are_rejected_clearly():
    params, grads = problem(seed=13)
    with pytest.raises(ValueError, match=r"grads\[0\]\['W'\] has shape"):
        solved.trajectory(solved.sgd_step, params, [{**grads[0], "W": np.zeros((4, 3))}], lr=0.1)
    with pytest.raises(ValueError, match="must be a dict with a gradient for each of"):
        ref.sgd(params, [{"W": grads[0]["W"]}], lr=0.1)
    with pytest.raises(TypeError, match="one dict of gradients per step"):
        ref.sgd(params, grads[0], lr=0.1)
    with pytest.raises(TypeError, match="must be a float NumPy array"):
        solved.trajectory(solved.sgd_step, {"w": np.array([1, 2])}, [{"w": np.array([1, 2])}], lr=0.1)
    with pytest.raises(TypeError, match="non-empty dict"):
        ref.adam({}, [], lr=0.1)
    with pytest.raises(ValueError, match="unknown optimizer"):
        ref.torch_trajectory("lion", params, grads)
    with pytest.raises(ValueError, match="zero_grad names unknown"):
        cases.random_problem({"w": (2,)}, zero_grad=("b",))
    with pytest.raises(ValueError, match="steps must be >= 0"):
        solved.minimize_path(solved.sgd_step, lambda x: x, (1.0, 1.0), -1, lr=0.1)


def test_bad_optimizer_settings_are_rejected_clearly():
    with pytest.raises(ValueError, match="lr must be >= 0"):
        solved.Adam(lr=-1.0)
    with pytest.raises(ValueError, match="betas must be two numbers"):
        solved.Adam(betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum needs"):
        solved.SGD(0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="alpha must be in"):
        solved.RMSprop(alpha=1.5)
    with pytest.raises(ValueError, match="beta must be in"):
        solved.MomentumEMA(0.1, beta=1.0)
    with pytest.raises(KeyError, match="unknown parameters"):
        solved.SGD(0.1).step({"w": np.zeros(2)}, {"v": np.zeros(2)})
    with pytest.raises(ValueError, match="has shape"):
        solved.Adam().step({"w": np.zeros(2)}, {"w": np.zeros(3)})
    with pytest.raises(TypeError, match="updated in place"):
        solved.Adam().step({"w": np.zeros(2, dtype=int)}, {"w": np.zeros(2)})


# --- plots ------------------------------------------------------------------------------------


def test_path_plots_draw_and_reject_bad_paths():
    f = lambda x: x[0] ** 2 + x[1] ** 2
    path = solved.minimize_path(solved.sgd_step, lambda x: 2 * x, (1.0, 1.0), 10, lr=0.1)
    axes = opt_plots.plot_path_grid(
        f,
        {"SGD and a copy": {"SGD": path, "copy": path}, "alone": {"alone": path}},
        (-1, 1),
        (-1, 1),
        reference_paths={"SGD": path},
        n_cols=3,
        minimum=(0, 0),
        title="test",
    )
    assert axes.shape == (1, 3) and len(axes[0, 0].lines) >= 5 and not axes[0, 2].axison
    with pytest.raises(ValueError, match="shape \\(n_points, 2\\)"):
        opt_plots.plot_paths(f, {"bad": np.zeros((5, 3))}, (-1, 1), (-1, 1))
    with pytest.raises(ValueError, match="f must map"):
        opt_plots.plot_contours(lambda x: 1.0, (-1, 1), (-1, 1))
    with pytest.raises(ValueError, match="at least one panel"):
        opt_plots.plot_path_grid(f, {}, (-1, 1), (-1, 1))
    plt.close("all")


# --- the hint lists: silent on a right answer and on a dtype-only difference ------------------------------


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_hints_are_silent_on_a_right_answer(name):
    check(
        cases.as_trajectory(solved.STEP_FUNCTIONS[name]),
        getattr(ref, name),
        [Inputs(*problem(seed=20, scale=1e-3), **SETTINGS[name])],
        hints=getattr(mistakes, name),
        quiet=True,
    )


def _float64_results(step):
    def step64(p, g, state, **hyper):
        return step(p.astype(np.float64), g.astype(np.float64), state, **hyper)

    step64.__name__ = step.__name__
    return step64


def adam_folded_step_size(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """A correct Adam in NumPy 2 whose step size, folded into one Python-float expression, is a float64 scalar:
    float32 parameters come back float64 (values right to float32 precision)."""
    beta1, beta2 = betas
    g = g + weight_decay * p
    t = state.get("step", 0) + 1
    m = beta1 * state.get("m", 0.0) + (1 - beta1) * g
    v = beta2 * state.get("v", 0.0) + (1 - beta2) * g * g
    step_size = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    return p - step_size * m / (np.sqrt(v) + eps * np.sqrt(1 - beta2**t)), {"step": t, "m": m, "v": v}


@pytest.mark.parametrize(
    "name, step",
    [(name, _float64_results(solved.STEP_FUNCTIONS[name])) for name in sorted(SETTINGS)]
    + [("adam", adam_folded_step_size)],
    ids=lambda v: getattr(v, "__name__", v),
)
@pytest.mark.parametrize("scale", [1.0, 1e-6], ids=["gradients ~1", "gradients ~1e-6 (eps matters)"])
def test_hints_are_silent_on_a_dtype_only_difference(name, step, scale):
    params, grads = cases.random_problem({"W": (3, 4), "b": (4,)}, steps=30, seed=21, scale=scale, dtype=np.float32)
    with pytest.raises(CheckFailed) as failure:
        check(
            cases.as_trajectory(step),
            getattr(ref, name),
            [Inputs(params, grads, **SETTINGS[name])],
            hints=getattr(mistakes, name),
            quiet=True,
        )
    message = str(failure.value)
    assert "dtype float64" in message
    assert "hint:" not in message, message


def test_the_eps_hints_need_data_where_eps_matters():
    """The visible eps tests use gradients ~1e-6 with eps 1e-6..1e-8: eps inside the root changes the result there
    (with gradients ~1 it changes nothing a float64 comparison could see, and no test of it could fail)."""
    for name, wrong in [
        ("adagrad", mistakes.adagrad_eps_inside_sqrt),
        ("rmsprop", mistakes.rmsprop_eps_inside_sqrt),
        ("adam", mistakes.adam_eps_inside_sqrt),
    ]:
        tiny = cases.random_problem({"W": (4, 3), "b": (3,)}, seed=22, scale=1e-6)
        with pytest.raises(CheckFailed, match="eps goes outside the square root"):
            check(
                cases.as_trajectory(wrong),
                getattr(ref, name),
                [Inputs(*tiny, lr=0.01, eps=1e-6)],
                hints=getattr(mistakes, name),
                quiet=True,
            )


def test_the_demo_measures_the_distance_to_torch_optim():
    params, grads = problem(seed=23)
    assert demos.largest_difference(solved.adam_step, "adam", params, grads, lr=0.01) < 1e-12
    assert demos.largest_difference(mistakes.adam_m_uncorrected, "adam", params, grads, lr=0.01) > 1e-4


# --- learning-rate schedules (stretch) ----------------------------------------------------------------------

SCHEDULE_CASES = {
    "step_schedule": [(0.1, 10, 3), (0.5, 25, 7, 0.5), (2.0, 6, 10, 0.3)],
    "cosine_schedule": [(0.1, 5, 4), (0.1, 30, 20, 0.01), (1.0, 12, 12)],
    "warmup_cosine_schedule": [(0.1, 10, 4), (0.5, 30, 6, 0.2, 0.01), (1.0, 8, 1, 0.5)],
}


@pytest.mark.parametrize("name", sorted(SCHEDULE_CASES))
def test_solved_schedules_match_torch_lr_scheduler_over_whole_runs_and_their_hints_stay_silent(name):
    check(getattr(solved, name), getattr(ref, name), SCHEDULE_CASES[name], hints=getattr(mistakes, name), quiet=True)


def test_the_schedulers_really_drive_a_run():
    lrs = ref.cosine_schedule(0.1, 20, 20, 0.01)
    ours = demos.scheduled_path(solved.momentum_step, lambda x: x, (1.0, -2.0), lrs, momentum=0.5)
    theirs = ref.torch_scheduled_path(
        "momentum",
        lambda x: 0.5 * (x**2).sum(),
        (1.0, -2.0),
        "cosine",
        0.1,
        20,
        {"T_max": 20, "eta_min": 0.01},
        momentum=0.5,
    )
    assert np.abs(ours - theirs).max() < 1e-14
    constant = demos.scheduled_path(solved.momentum_step, lambda x: x, (1.0, -2.0), np.full(20, 0.1), momentum=0.5)
    assert np.abs(constant - theirs).max() > 1e-3


@pytest.mark.parametrize(
    "name, wrong, words",
    [
        ("step_schedule", lambda b, n, s, g=0.1: b * g ** (np.arange(n) / s), "in jumps"),
        ("step_schedule", lambda b, n, s, g=0.1: b * g ** ((np.arange(n) + 1) // s), "off by one"),
        (
            "cosine_schedule",
            lambda b, n, T, e=0.0: b * (1 + np.cos(np.pi * np.arange(n) / T)) / 2,
            "eta_min is ignored",
        ),
        (
            "cosine_schedule",
            lambda b, n, T, e=0.0: e + (b - e) * (1 + np.cos(np.pi * np.arange(n) / n)) / 2,
            "the period is T_max",
        ),
        ("cosine_schedule", lambda b, n, T, e=0.0: e + (b - e) * (1 + np.cos(np.pi * np.arange(n) / T)), "halve it"),
        (
            "warmup_cosine_schedule",
            lambda b, n, w, f=0.1, e=0.0: mistakes._warmup_cosine(b, n, w, f, e, ramp_end=w - 1),
            "one step early",
        ),
        (
            "warmup_cosine_schedule",
            lambda b, n, w, f=0.1, e=0.0: mistakes._warmup_cosine(b, n, w, f, e, restart=False),
            "starts at its beginning",
        ),
        (
            "warmup_cosine_schedule",
            lambda b, n, w, f=0.1, e=0.0: mistakes._warmup_cosine(b, n, w, f, e, start=0.0),
            "not at 0",
        ),
    ],
)
def test_schedule_hints(name, wrong, words):
    with pytest.raises(CheckFailed) as failure:
        check(wrong, getattr(ref, name), SCHEDULE_CASES[name][1:2], hints=getattr(mistakes, name), quiet=True)
    assert words in str(failure.value)


def test_the_range_test_stops_when_the_loss_blows_up():
    from dlcourse.solved.networks import init_params

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 5)), rng.integers(0, 3, 64)
    lrs, losses = demos.lr_range_test(
        solved.sgd_step, init_params([5, 8, 3], seed=0), X, y, lr_min=1e-3, lr_max=1e3, steps=60, batch_size=16
    )
    assert len(lrs) == len(losses) < 60  # stopped early: the loss exploded at large rates
    assert losses[-1] > 4 * losses.min() or not np.isfinite(losses[-1])
    assert np.allclose(lrs, np.geomspace(1e-3, 1e3, 60)[: len(lrs)])
