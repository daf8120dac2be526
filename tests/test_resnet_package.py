"""Chapter 5 (modern CNN pieces): the solved NumPy code against the PyTorch references, the references against
PyTorch's own modules and PyTorch's documented batch-norm rule, the check adapters (the learner's pieces used
together), the hints (each fires on its mistake, stays silent on a right answer and on a dtype-only difference),
the demo networks and the plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from dlcourse.cases import resnet as cases
from dlcourse.checking import CheckFailed, check, randn
from dlcourse.demos import resnet as demo
from dlcourse.mistakes import Mismatch, value_at
from dlcourse.mistakes import resnet as mistakes
from dlcourse.plots import resnet as resnet_plots
from dlcourse.reference import resnet as ref
from dlcourse.solved import resnet as solved

CONV = ("dlcourse.solved.cnn.conv2d_forward", "dlcourse.solved.cnn.conv2d_backward")
BN_OUT = ("out", "running_mean", "running_var")
BN_GRADS = ("dx", "dgamma", "dbeta")


def bn_args(N=3, C=4, H=5, W=6, seed=0, training=True, dtype=np.float64):
    x = (randn(N, C, H, W, seed=seed, scale=2.0) + 1.0).astype(dtype)
    return (x, *cases.bn_params(C, seed + 1, dtype), training)


def block_args(N=2, c_in=3, c_out=3, size=(6, 5), stride=1, seed=0, projection=None, training=True, dtype=np.float64):
    projection = stride != 1 or c_in != c_out if projection is None else projection
    return (
        randn(N, c_in, *size, seed=seed).astype(dtype),
        cases.block_params(c_in, c_out, seed + 1, projection, dtype),
        stride,
        training,
    )


def block_back_args(**kw):
    x, params, stride, _ = block_args(**kw)
    out = ref.residual_block_forward(x, params, stride)
    return randn(*out.shape, seed=99).astype(x.dtype), x, params, stride


# --- solved == reference ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(3, 4, 5, 7), (1, 2, 1, 1), (2, 3, 6, 2)])
def test_global_average_pooling_matches_pytorch(shape, dtype):
    check(solved.global_avg_pool, ref.global_avg_pool, [randn(*shape, seed=1).astype(dtype)], quiet=True)
    check(
        solved.global_avg_pool_backward,
        ref.global_avg_pool_backward,
        [(randn(*shape[:2], seed=2).astype(dtype), shape)],
        quiet=True,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("momentum,eps", [(0.1, 1e-5), (0.3, 0.5), (1.0, 1e-3)])
def test_batchnorm_forward_matches_pytorch(training, momentum, eps, dtype):
    check(
        solved.batchnorm2d_forward,
        ref.batchnorm2d_forward,
        [bn_args(training=training, dtype=dtype) + (momentum, eps)],
        output_names=BN_OUT,
        quiet=True,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,eps", [((4, 3, 5, 6), 1e-5), ((2, 3, 1, 1), 1e-5), ((3, 2, 4, 4), 0.5)])
def test_batchnorm_backward_matches_autograd(shape, eps, dtype):
    x = (randn(*shape, seed=3) + 0.5).astype(dtype)
    dout = randn(*shape, seed=4, scale=0.1 if dtype == np.float32 else 1.0).astype(dtype)
    check(
        solved.batchnorm2d_backward,
        ref.batchnorm2d_backward,
        [(dout, x, cases.bn_params(shape[1], 5, dtype)[0], eps)],
        output_names=BN_GRADS,
        quiet=True,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "c_in,c_out,stride,projection",
    [(3, 3, 1, False), (3, 6, 2, True), (3, 5, 1, True), (4, 4, 1, True), (2, 3, 3, True)],
)
def test_residual_block_matches_torch_nn(c_in, c_out, stride, projection, dtype):
    for training in (True, False):
        check(
            solved.residual_block_forward,
            ref.residual_block_forward,
            [block_args(c_in=c_in, c_out=c_out, stride=stride, projection=projection, training=training, dtype=dtype)],
            allow=CONV,
            quiet=True,
        )
    if dtype == np.float64:  # float32 gradients: see the notebook's test (dout ~ 0.1)
        check(
            solved.residual_block_backward,
            ref.residual_block_backward,
            [block_back_args(c_in=c_in, c_out=c_out, stride=stride, projection=projection)],
            output_names=("dx", "grads"),
            allow=CONV,
            quiet=True,
        )


# --- the references against PyTorch's modules and documented rules -----------------------------


def test_batchnorm_reference_follows_pytorchs_documented_rule():
    x, gamma, beta, mean, var, _ = bn_args(N=2, C=3, H=2, W=2, seed=7)
    out, new_mean, new_var = ref.batchnorm2d_forward(x, gamma, beta, mean, var, True, 0.25, 1e-4)
    m = 2 * 2 * 2
    batch_mean, batch_var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(new_mean, 0.75 * mean + 0.25 * batch_mean, rtol=1e-14)
    np.testing.assert_allclose(new_var, 0.75 * var + 0.25 * batch_var * m / (m - 1), rtol=1e-14)  # unbiased
    x_hat = (x - batch_mean[:, None, None]) / np.sqrt(batch_var[:, None, None] + 1e-4)  # biased
    np.testing.assert_allclose(out, gamma[:, None, None] * x_hat + beta[:, None, None], rtol=1e-12, atol=1e-14)
    out_eval, kept_mean, kept_var = ref.batchnorm2d_forward(x, gamma, beta, mean, var, False, 0.25, 1e-4)
    np.testing.assert_array_equal(kept_mean, mean)
    np.testing.assert_array_equal(kept_var, var)
    x_hat = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-4)
    np.testing.assert_allclose(out_eval, gamma[:, None, None] * x_hat + beta[:, None, None], rtol=1e-12, atol=1e-14)


def test_build_block_reads_the_dict_into_pytorchs_names():
    params = cases.block_params(3, 4, seed=2, projection=True)
    block = ref.build_block(params, stride=2)
    state = block.state_dict()
    pairs = {
        "W1": "conv1.weight",
        "gamma1": "bn1.weight",
        "beta1": "bn1.bias",
        "mean1": "bn1.running_mean",
        "var1": "bn1.running_var",
        "W2": "conv2.weight",
        "var2": "bn2.running_var",
        "W_s": "shortcut.0.weight",
        "gamma_s": "shortcut.1.weight",
        "mean_s": "shortcut.1.running_mean",
    }
    for key, name in pairs.items():
        np.testing.assert_array_equal(state[name].cpu().numpy(), params[key])
    assert block.conv1.stride == (2, 2) and block.shortcut[0].stride == (2, 2) and block.conv1.bias is None
    assert isinstance(ref.build_block(cases.block_params(3, 3, seed=2), 1).shortcut, torch.nn.Identity)


def test_reference_block_equals_the_same_block_written_with_functional_ops():
    x, params, stride, _ = block_args(c_in=2, c_out=4, stride=2, seed=4)
    t = {k: torch.from_numpy(v) for k, v in params.items()}
    xt = torch.from_numpy(x)

    def conv_bn(a, key, stride, padding):
        z = torch.nn.functional.conv2d(a, t["W" + key], stride=stride, padding=padding)
        return torch.nn.functional.batch_norm(z, None, None, t["gamma" + key], t["beta" + key], training=True)

    want = torch.relu(conv_bn(torch.relu(conv_bn(xt, "1", 2, 1)), "2", 1, 1) + conv_bn(xt, "_s", 2, 0))
    np.testing.assert_allclose(ref.residual_block_forward(x, params, stride), want.numpy(), rtol=1e-13, atol=1e-14)


def test_references_reject_wrong_shapes():
    with pytest.raises(ValueError, match="all be"):
        ref.batchnorm2d_forward(randn(2, 3, 2, 2), np.ones(3), np.zeros(2), np.zeros(3), np.ones(3))
    params = cases.block_params(3, 4, seed=0, projection=True)
    params["W2"] = params["W2"][:, :3]
    with pytest.raises(ValueError, match="W2"):
        ref.residual_block_forward(randn(2, 3, 4, 4), params)
    with pytest.raises(ValueError, match="identity shortcut"):
        ref.BasicBlock(3, 4, 1, projection=False)


# --- the adapters: the learner's pieces used together -------------------------------------------------


def test_bn_sequence_from_solved_matches_one_batchnorm_module():
    batches = [randn(3, 2, 4, 4, seed=10 + i) * (1 + i) + i for i in range(4)]
    check(
        cases.bn_sequence(solved.batchnorm2d_forward),
        ref.batchnorm2d_sequence,
        [(batches, randn(2, 2, 4, 4, seed=20), *cases.bn_params(2, seed=21), 0.2, 1e-3)],
        quiet=True,
    )


def test_bn_sequence_catches_running_statistics_that_are_not_carried():
    def no_update(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
        out = solved.batchnorm2d_forward(x, gamma, beta, running_mean, running_var, training, momentum, eps)[0]
        return out, running_mean, running_var

    with pytest.raises(CheckFailed):
        check(
            cases.bn_sequence(no_update),
            ref.batchnorm2d_sequence,
            [([randn(3, 2, 4, 4, seed=30) + 2], randn(2, 2, 4, 4, seed=31), *cases.bn_params(2, seed=32))],
            quiet=True,
        )


def test_block_stack_from_solved_matches_autograd():
    stack = cases.block_stack(
        solved.residual_block_forward,
        solved.residual_block_backward,
        solved.global_avg_pool,
        solved.global_avg_pool_backward,
    )
    check(
        stack,
        ref.block_stack_backward,
        [cases.stack_case(2, 6, [3, 3, 5, 5], [1, 2, 1], seed=40)],
        output_names=("pooled", "dx", "grads"),
        allow=CONV,
        quiet=True,
    )


def test_block_stack_catches_a_backward_without_the_shortcut():
    def no_shortcut(dout, x, params, stride=1):
        dx, grads = solved.residual_block_backward(dout, x, params, stride)
        if "W_s" in params:
            return dx, grads
        out = solved.residual_block_forward(x, params, stride)
        return dx - dout * (out > 0), grads

    stack = cases.block_stack(
        solved.residual_block_forward, no_shortcut, solved.global_avg_pool, solved.global_avg_pool_backward
    )
    with pytest.raises(CheckFailed):
        check(
            stack,
            ref.block_stack_backward,
            [cases.stack_case(2, 5, [3, 3, 4], [1, 2], seed=41)],
            output_names=("pooled", "dx", "grads"),
            allow=CONV,
            quiet=True,
        )


# --- hints ------------------------------------------------------------------------------------------


def _mismatch(name, args, got, expected, output_names=None, keys=()):
    return Mismatch(name, keys, "", args, {}, expected=expected, got=got, output_names=output_names)


HINT_CASES = {  # name -> (argument sets, output names)
    "global_avg_pool": ([lambda: (randn(3, 4, 5, 6, seed=1),)], None),
    "global_avg_pool_backward": ([lambda: (randn(3, 4, seed=2), (3, 4, 5, 6))], None),
    "batchnorm2d_forward": (
        [
            lambda: bn_args(),
            lambda: bn_args(training=False),
            lambda: bn_args(N=2, C=3, H=2, W=2, seed=5, training=False) + (0.1, 0.3),
        ],
        BN_OUT,
    ),
    "batchnorm2d_backward": (
        [lambda: (randn(3, 4, 5, 6, seed=3), randn(3, 4, 5, 6, seed=4) + 1.0, cases.bn_params(4, 5)[0])],
        BN_GRADS,
    ),
    "residual_block_forward": (
        [
            lambda: block_args(),
            lambda: block_args(c_out=5, stride=2),
            lambda: block_args(c_out=5, stride=2, training=False),
        ],
        None,
    ),
    "residual_block_backward": (
        [lambda: block_back_args(), lambda: block_back_args(c_out=5, stride=2)],
        ("dx", "grads"),
    ),
}


def _hint_cases():
    for name in HINT_CASES:
        for index in range(len(getattr(mistakes, name))):
            yield pytest.param(name, index, id=f"{name}-{index}")


@pytest.mark.parametrize("name,index", list(_hint_cases()))
def test_each_hint_fires_on_its_mistake_only(name, index):
    makers, output_names = HINT_CASES[name]
    hints, right_fn = getattr(mistakes, name), getattr(solved, name)
    hint = hints[index]
    wrong_fn = next(c.cell_contents for c in hint.when.__closure__ if callable(c.cell_contents))
    keys_list = [(o,) for o in output_names] if output_names else [()]
    fired_somewhere = False
    for make_args in makers:
        args = make_args()
        right, wrong_result = right_fn(*args), wrong_fn(*args)
        for keys in keys_list:
            if hint.output is not None and keys[0] != hint.output:
                continue
            exp, bad = value_at(right, keys, output_names), value_at(wrong_result, keys, output_names)
            if isinstance(exp, dict) or np.allclose(
                np.asarray(bad, np.float64), np.asarray(exp, np.float64), rtol=1e-6, atol=1e-9
            ):
                continue  # this mistake does not change this output for these arguments
            fired_somewhere = True
            assert hint.matches(_mismatch(name, args, bad, exp, output_names, keys)), (
                f"{name} hint {index} silent on {keys}"
            )
            assert not hint.matches(_mismatch(name, args, exp, exp, output_names, keys))
            assert not hint.matches(_mismatch(name, args, np.asarray(exp, np.float32), exp, output_names, keys))
            others = [
                i
                for i, h in enumerate(hints)
                if i != index and h.matches(_mismatch(name, args, bad, exp, output_names, keys))
            ]
            assert not others, f"{name}: hints {others} also fire on mistake {index} at {keys}"
    assert fired_somewhere, f"{name} hint {index}: its mistake changes nothing on these inputs"


def test_bn_hint_reaches_the_learner_in_a_failed_check():
    def unbiased(x, gamma, beta, running_mean, running_var, training=True, momentum=0.1, eps=1e-5):
        _, rm, rv = solved.batchnorm2d_forward(x, gamma, beta, running_mean, running_var, training, momentum, eps)
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3), ddof=1)
        out = gamma[:, None, None] * (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + eps) + beta[:, None, None]
        return out, rm, rv

    with pytest.raises(CheckFailed, match="BIASED variance"):
        check(
            unbiased,
            ref.batchnorm2d_forward,
            [bn_args()],
            output_names=BN_OUT,
            hints=mistakes.batchnorm2d_forward,
            quiet=True,
        )


# --- the demos and the plots ------------------------------------------------------------------------------


def test_demo_network_layout_and_skip_switch():
    x = randn(5, 1, 8, 8, seed=0).astype(np.float32)
    residual, plain = demo.make_net(3, skip=True, seed=1), demo.make_net(3, skip=False, seed=1)
    assert sum(p.numel() for p in residual.parameters()) == sum(p.numel() for p in plain.parameters())
    for a, b in zip(residual.parameters(), plain.parameters()):
        torch.testing.assert_close(a, b)  # same initial weights
    residual.eval()
    plain.eval()
    with torch.no_grad():
        out_r, out_p = residual(torch.from_numpy(x)), plain(torch.from_numpy(x))
    assert out_r.shape == (5, 10) and not torch.allclose(out_r, out_p)
    assert all(isinstance(b.bn1, torch.nn.Identity) for b in demo.make_net(2, True, norm=False).blocks)


def test_trained_demo_block_runs_in_numpy_eval_mode():
    net = demo.make_net(2, skip=True, seed=0)
    X, y = randn(64, 1, 8, 8, seed=1), np.arange(64) % 10
    losses = demo.train(net, X, y, epochs=2, batch_size=16)
    assert len(losses) == 8 and np.all(np.isfinite(losses))
    net.eval()
    block = net.blocks[0]
    a = randn(3, 16, 8, 8, seed=2)
    with torch.no_grad():
        want = block(torch.from_numpy(a).float()).double().numpy()
    got = solved.residual_block_forward(a, demo.block_params(block), 1, False)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)  # the torch block runs in float32


def test_feature_stats_and_gradient_norms_agree_with_direct_computation():
    net = demo.make_net(3, skip=False, norm=False, seed=3)
    X, y = randn(16, 1, 8, 8, seed=4), np.arange(16) % 10
    means, stds = demo.feature_stats(net, X)
    assert means.shape == stds.shape == (4,)
    with torch.no_grad():
        a = net.blocks[0](net.stem(torch.from_numpy(X).float()))
    assert means[1] == pytest.approx(a.mean().item()) and stds[1] == pytest.approx(a.std().item())
    norms = demo.layer_gradient_norms(net, X, y)
    assert norms.shape == (7,)
    net.zero_grad()
    torch.nn.functional.cross_entropy(net(torch.from_numpy(X).float()), torch.from_numpy(y)).backward()
    assert norms[-1] == pytest.approx(net.blocks[-1].conv2.weight.grad.norm().item())
    assert norms[0] < norms[-1] * 1e-1  # a plain stack without BN at PyTorch's default initialisation


def test_plots_draw_and_smooth():
    np.testing.assert_allclose(resnet_plots.smooth([1.0, 2.0, 3.0, 4.0], 2), [1.0, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(resnet_plots.smooth([1.0, 5.0], 1), [1.0, 5.0])
    with pytest.raises(ValueError):
        resnet_plots.smooth([1.0], 0)
    axes = resnet_plots.plot_feature_stats({"a": ([0.0, 0.1], [1.0, 0.5]), "b": ([0.0, 0.0], [1.0, 1.0])})
    assert len(axes[0].lines) == 2 and axes[1].get_yscale() == "log"
    _fig, ax = plt.subplots()
    resnet_plots.plot_layer_gradients({"plain": [1e-6, 1e-3, 1.0], "residual": [0.5, 0.7, 1.0]}, ax=ax)
    assert len(ax.lines) == 2
    _fig, ax2 = plt.subplots()
    resnet_plots.plot_losses(
        {"a": [3.0, 2.0, 1.0, 0.5], "b": [3.0, 2.9, 2.8, 2.7]}, ax=ax2, window=2, steps_per_epoch=2
    )
    assert len(ax2.lines) == 5  # two curves, two faint raw curves, one epoch boundary
    plt.close("all")
