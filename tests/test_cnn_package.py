"""Chapter 5's CNN package code: the PyTorch references, the solved NumPy layers and augmentation, the test
cases, the demos, the offline image set, the plots, their input checks, the likely-mistake hints (each fires on
its mistake, and stays silent on a correct answer and on a dtype-only difference), and the failure messages the
notebook's test cells give."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import timeit
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlcourse.cases import cnn as cases
from dlcourse.checking import Inputs, check, randn
from dlcourse.data import images as image_data
from dlcourse.demos import cnn as demos
from dlcourse.mistakes import cnn as mistakes
from dlcourse.plots import cnn as cnn_plots
from dlcourse.reference import cnn as ref
from dlcourse.solved import augmentation as solved_aug
from dlcourse.solved import cnn as solved
from tests.course import cells_by_id, run_test_cells
from tests.course import failure_of as course_failure_of

# (x shape, w shape, stride, padding): stride 1 to 3, padding 0 to 2, non-square inputs and kernels,
# one channel and many, a batch of one, a 1x1 output, and an input row that the last window never reads
CONV_CASES = [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0),
    ((2, 3, 6, 6), (4, 3, 3, 3), 1, 1),
    ((2, 2, 7, 7), (3, 2, 3, 3), 2, 1),
    ((2, 3, 7, 5), (2, 3, 3, 2), 1, 2),
    ((1, 1, 5, 6), (1, 1, 2, 3), 2, 0),
    ((3, 2, 6, 9), (4, 2, 3, 1), 2, 1),
    ((2, 2, 6, 6), (3, 2, 3, 3), 2, 0),
    ((2, 4, 10, 7), (3, 4, 4, 2), 3, 1),
    ((2, 3, 3, 3), (2, 3, 5, 5), 1, 1),
]


def conv_inputs(x_shape, w_shape, stride, padding, seed=0, dtype=np.float64):
    return (
        randn(*x_shape, seed=seed).astype(dtype),
        randn(*w_shape, seed=seed + 1).astype(dtype),
        randn(w_shape[0], seed=seed + 2).astype(dtype),
        stride,
        padding,
    )


def backward_inputs(x_shape, w_shape, stride, padding, seed=0, dtype=np.float64):
    x, w, b, stride, padding = conv_inputs(x_shape, w_shape, stride, padding, seed, dtype)
    dout = randn(*ref.conv2d_forward(x, w, b, stride, padding).shape, seed=seed + 3).astype(dtype)
    return Inputs(dout, x, w, stride=stride, padding=padding)


# --- solved layers against the PyTorch references -------------------------------------------


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_CASES)
def test_solved_convolutions_match_f_conv2d(x_shape, w_shape, stride, padding):
    cases = [
        conv_inputs(x_shape, w_shape, stride, padding),
        conv_inputs(x_shape, w_shape, stride, padding, 5, np.float32),
    ]
    check(solved.conv2d_forward, ref.conv2d_forward, cases, quiet=True)
    check(solved.conv2d_forward_loops, ref.conv2d_forward, cases, quiet=True)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_CASES)
def test_solved_conv_backward_matches_autograd(x_shape, w_shape, stride, padding):
    check(
        solved.conv2d_backward,
        ref.conv2d_backward,
        [
            backward_inputs(x_shape, w_shape, stride, padding),
            backward_inputs(x_shape, w_shape, stride, padding, 7, np.float32),
        ],
        output_names=("dx", "dw", "db"),
        quiet=True,
    )


def test_im2col_lays_out_each_window_like_the_flattened_filter():
    x = randn(2, 3, 5, 4, seed=1)
    cols = solved.im2col(x, 2, 3, stride=2, padding=1)
    assert cols.shape == (2, 3 * 2 * 3, 3 * 2)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    assert np.array_equal(cols[1, :, 4], padded[1, :, 4:6, 0:3].ravel())  # output pixel 4 = (row 2, column 0)
    assert np.array_equal(cols[0, :, 3], padded[0, :, 2:4, 2:5].ravel())  # output pixel 3 = (row 1, column 1)
    assert solved.conv_output_size(5, 2, 2, 1) == 3 and solved.conv_output_size(4, 3, 2, 1) == 2


@pytest.mark.parametrize(
    "shape, size, stride",
    [
        ((2, 3, 6, 6), 2, None),
        ((2, 2, 7, 7), 3, 2),
        ((2, 3, 5, 6), 3, 1),
        ((1, 1, 7, 4), 2, None),
        ((2, 2, 8, 6), 2, 1),
    ],
)
def test_solved_maxpool_matches_torch_with_ties_and_overlaps(shape, size, stride):
    for x in (randn(*shape, seed=1), np.round(randn(*shape, seed=2)), np.zeros(shape), -np.abs(randn(*shape, seed=3))):
        check(solved.maxpool_forward, ref.maxpool_forward, [Inputs(x, size, stride)], quiet=True)
        dout = randn(*ref.maxpool_forward(x, size, stride).shape, seed=4)
        check(
            solved.maxpool_backward,
            ref.maxpool_backward,
            [Inputs(dout, x, size, stride), Inputs(dout.astype(np.float32), x.astype(np.float32), size, stride)],
            quiet=True,
        )


def test_torch_sends_a_tied_window_gradient_to_its_first_maximum_in_row_major_order():
    """The rule the notebook teaches, checked on PyTorch itself (CPU, and CUDA when there is one)."""
    x = np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 1.0, 2.0, 2.0], [3.0, 0.0, 0.0, 3.0], [0.0, 3.0, 3.0, 0.0]]]])
    expected = np.array([[1.0, 0, 0, 1], [0, 0, 0, 0], [1, 0, 0, 1], [0, 0, 0, 0]])
    assert np.array_equal(ref.maxpool_backward(np.ones((1, 1, 2, 2)), x, 2)[0, 0], expected)
    assert np.array_equal(solved.maxpool_backward(np.ones((1, 1, 2, 2)), x, 2)[0, 0], expected)
    overlapping = ref.maxpool_backward(np.ones((1, 1, 2, 2)), x, 3, 1)[0, 0]  # two windows share the 3 at (2, 0)
    assert overlapping[2, 0] == 2 and overlapping.sum() == 4


def test_solved_flatten_matches_nn_flatten():
    check(
        solved.flatten,
        ref.flatten,
        [randn(2, 3, 4, 5, seed=1), randn(1, 16, 2, 2, seed=2).astype(np.float32)],
        quiet=True,
    )
    check(solved.flatten_backward, ref.flatten_backward, [(randn(2, 60, seed=3), (2, 3, 4, 5))], quiet=True)


def test_cnn_params_fit_the_torch_model_and_give_the_same_logits():
    params = solved.init_cnn_params(1, [4, 6], [12, 10], image_size=8, seed=1)
    assert params["Wc2"].shape == (6, 4, 3, 3) and params["Wd1"].shape == (12, 6 * 2 * 2)
    assert params["Wc1"].std() == pytest.approx(np.sqrt(2 / 9), rel=0.5)
    model = demos.build_cnn(params)
    x = randn(3, 1, 8, 8, seed=2)
    a = x
    for layer in (1, 2):
        a = solved.maxpool_forward(
            np.maximum(solved.conv2d_forward(a, params[f"Wc{layer}"], params[f"bc{layer}"], 1, 1), 0)
        )
    hidden = np.maximum(solved.flatten(a) @ params["Wd1"].T + params["bd1"], 0)
    logits = hidden @ params["Wd2"].T + params["bd2"]
    with torch.no_grad():
        np.testing.assert_allclose(
            model(torch.as_tensor(x, device=next(model.parameters()).device)).cpu().numpy(),
            logits,
            rtol=1e-10,
            atol=1e-12,
        )


def test_vectorised_conv_is_within_a_small_factor_of_torch_on_the_cpu():
    """A loose guard against a regression to loops (the notebook measures the real ratio, about 1)."""
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((16, 3, 32, 32), (32, 3, 3, 3), (32,)))
    dout = rng.standard_normal((16, 32, 32, 32)).astype(np.float32)
    xt, wt, bt = (torch.as_tensor(a).requires_grad_() for a in (x, w, b))

    def numpy_step():
        solved.conv2d_forward(x, w, b, 1, 1)
        solved.conv2d_backward(dout, x, w, 1, 1)

    def torch_step():
        torch.autograd.grad(F.conv2d(xt, wt, bt, padding=1), (xt, wt, bt), torch.as_tensor(dout))

    numpy_ms = min(timeit.repeat(numpy_step, number=1, repeat=5))
    torch_ms = min(timeit.repeat(torch_step, number=1, repeat=5))
    assert numpy_ms < 20 * torch_ms, (
        f"NumPy conv2d forward+backward {numpy_ms * 1e3:.1f} ms vs torch {torch_ms * 1e3:.1f} ms"
    )


# --- augmentation -------------------------------------------------------------------------------


def test_solved_augmentation_matches_the_torch_reference():
    x = randn(4, 3, 5, 7, seed=1)
    check(solved_aug.flip_horizontal, ref.flip_horizontal, [x, x.astype(np.float32)], quiet=True)
    check(
        solved_aug.shift_images,
        ref.shift_images,
        [(x, np.array([1, -2, 0, 9]), np.array([0, 3, -7, 1])), (x, 2, -1), (x.astype(np.float32), -1, 1)],
        quiet=True,
    )
    check(
        solved_aug.random_augment, ref.random_augment, [Inputs(x, seed=3), Inputs(x, seed=4, max_shift=3)], quiet=True
    )


def test_shift_moves_down_and_right_with_zero_fill():
    image = np.arange(9.0).reshape(1, 1, 3, 3)
    assert np.array_equal(solved_aug.shift_images(image, 1, 0)[0, 0], [[0, 0, 0], [0, 1, 2], [3, 4, 5]])
    assert np.array_equal(solved_aug.shift_images(image, 0, -1)[0, 0], [[1, 2, 0], [4, 5, 0], [7, 8, 0]])
    assert not solved_aug.shift_images(image, 3, 0).any()


def test_random_augment_is_seeded_and_keeps_dtype():
    x = randn(8, 3, 6, 6, seed=2).astype(np.float32)
    a, b, c = (solved_aug.random_augment(x, seed=s) for s in (0, 0, 1))
    assert np.array_equal(a, b) and not np.array_equal(a, c) and a.dtype == np.float32
    assert np.array_equal(
        solved_aug.random_augment(x, seed=5, max_shift=0),
        np.where(ref.random_augment_draws(8, 5, 0)[0][:, None, None, None], x[..., ::-1], x),
    )


def test_rotation_by_quarter_turns_is_exact_and_fills_corners_with_zeros():
    x = randn(2, 3, 7, 7, seed=3)
    assert np.array_equal(solved_aug.rotate_images(x, 0.0), x)
    assert np.array_equal(solved_aug.rotate_images(x, 90.0), torch.rot90(torch.as_tensor(x), 1, dims=(2, 3)).numpy())
    assert np.array_equal(solved_aug.rotate_images(x[:, :, :6, :6], -90.0), np.rot90(x[:, :, :6, :6], -1, axes=(2, 3)))
    turned = solved_aug.rotate_images(np.ones((1, 1, 9, 9)), np.array([45.0]))
    assert turned[0, 0, 0, 0] == 0 and turned[0, 0, 4, 4] == 1
    r1, r2 = solved_aug.random_rotate(x, 15, seed=1), solved_aug.random_rotate(x, 15, seed=1)
    assert np.array_equal(r1, r2) and r1.dtype == x.dtype


# --- the offline image set ----------------------------------------------------------------------


def test_shapes_are_seeded_in_range_and_cover_every_class():
    X, y = image_data.make_shapes(300, size=16, seed=4)
    assert X.shape == (300, 3, 16, 16) and X.dtype == np.float64 and 0 <= X.min() and X.max() <= 1
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(len(image_data.SHAPE_NAMES)))
    assert np.array_equal(X, image_data.make_shapes(300, size=16, seed=4)[0])
    X_train, y_train, X_test, y_test = image_data.load_shapes(50, 20, size=12)
    assert X_train.shape == (50, 3, 12, 12) and X_test.shape == (20, 3, 12, 12)
    assert not np.array_equal(X_train[:20], X_test)


def test_shapes_are_mirror_symmetric_so_a_flip_keeps_the_label():
    grid = (np.arange(32) + 0.5 - 16) / 8  # coordinates centred on the image, radius 8 pixels
    u, v = np.meshgrid(grid, grid, indexing="xy")
    for shape in image_data._SHAPES:
        mask = shape(u, v)
        assert mask.any() and np.array_equal(mask, mask[:, ::-1])


# --- bad input is refused clearly ----------------------------------------------------------------


def test_references_and_helpers_refuse_bad_shapes():
    x = randn(2, 3, 5, 5)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        ref.conv2d_forward(x[0], randn(4, 3, 3, 3), np.zeros(4))
    with pytest.raises(ValueError, match="larger than the padded input"):
        solved.conv_output_size(5, 9, 1, 1)
    with pytest.raises(ValueError, match="dout has shape"):
        ref.conv2d_backward(randn(2, 4, 5, 5), x, randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match="dout has shape"):
        ref.maxpool_backward(randn(2, 3, 3, 3), x, 2)
    with pytest.raises(ValueError, match="odd kernel"):
        solved.init_cnn_params(1, [4], [10], image_size=8, kernel=2)
    with pytest.raises(ValueError, match="to nothing"):
        solved.init_cnn_params(1, [4, 4, 4, 4], [10], image_size=8)
    with pytest.raises(ValueError, match="Wc1"):
        demos.build_cnn({"Wd1": np.zeros((10, 4)), "bd1": np.zeros(10)})


def test_augmentation_data_and_plots_refuse_bad_input():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        solved_aug.random_rotate(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        ref.shift_images(np.zeros((3, 4, 4)), 1, 1)
    with pytest.raises(ValueError, match="positive integer"):
        image_data.make_shapes(0)
    with pytest.raises(ValueError, match="size"):
        image_data.make_shapes(5, size=4)
    with pytest.raises(ValueError, match="different numbers"):
        demos.fit_torch_classifier(
            demos.build_cnn(solved.init_cnn_params(1, [2], [3], 4)),
            np.zeros((4, 1, 4, 4)),
            np.zeros(3, dtype=int),
            epochs=1,
            batch_size=2,
        )
    with pytest.raises(ValueError, match="filters"):
        cnn_plots.plot_filters(np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match="positive"):
        cnn_plots.plot_timings({"a": 1.0, "b": 0.0})


def test_plots_draw():
    axes = cnn_plots.plot_filters(randn(10, 3, 3, 3, seed=1), n_cols=4)
    assert axes.shape == (3, 4)
    cnn_plots.plot_filters(randn(8, 1, 3, 3, seed=2))
    cnn_plots.plot_feature_maps(np.zeros((8, 8)), {"conv1": np.ones((4, 8, 8)), "conv2": np.ones((20, 4, 4))})
    ax = cnn_plots.plot_timings({"loops": 100.0, "im2col": 0.5})
    assert ax.get_xscale() == "log"


def test_fit_torch_classifier_feeds_augmented_batches_in_minibatch_order():
    params = solved.init_cnn_params(1, [2], [3], image_size=4, seed=0)
    X, y = randn(10, 1, 4, 4, seed=1), np.arange(10) % 3
    steps = []

    def augment(batch, step):
        steps.append((step, batch.shape[0]))
        return batch

    history = demos.fit_torch_classifier(
        demos.build_cnn(params), X, y, epochs=2, batch_size=4, augment=augment, validation=(X, y)
    )
    assert steps == [(0, 4), (1, 4), (2, 2), (3, 4), (4, 4), (5, 2)]
    assert len(history["loss"]) == len(history["val_accuracy"]) == 2


# --- the notebook's test cells: the solutions pass, each hint fires on the mistake it describes --

CELLS = cells_by_id("ch05_cnn_rnn", "cnn")
EXERCISES = {
    name: getattr(module, name)
    for module, names in [
        (
            solved,
            [
                "conv2d_forward_loops",
                "conv2d_forward",
                "conv2d_backward",
                "maxpool_forward",
                "maxpool_backward",
                "flatten",
                "flatten_backward",
                "im2col",
            ],
        ),
        (solved_aug, ["flip_horizontal", "shift_images", "random_augment"]),
    ]
    for name in names
}


@pytest.fixture(scope="module")
def notebook_namespace():
    """The notebook's setup and every test cell run with the solved functions: what a test cell may rely on."""
    return run_test_cells(CELLS, "cnn-setup", EXERCISES)


def test_the_solution_cells_pass_their_test_cells():
    threads = torch.get_num_threads()
    namespace: dict = {}
    try:
        exec(CELLS["cnn-setup"], namespace)
        for grade_id, source in CELLS.items():
            if grade_id.startswith("ch05_"):
                exec(source, namespace)
    finally:
        torch.set_num_threads(threads)


def failure_of(namespace: dict, test_id: str, **functions) -> str:
    """Run the notebook's test cell ``test_id`` with the given functions as the learner's; return its failure message."""
    return course_failure_of(CELLS, namespace, test_id, **functions)


# --- the hints of dlcourse.mistakes.cnn: each fires on its mistake, and only then ----------------


def _conv_no_bias(x, w, b, stride=1, padding=0):
    return solved.conv2d_forward(x, w, 0 * b, stride, padding)


def _conv_flipped(x, w, b, stride=1, padding=0):
    return solved.conv2d_forward(x, w[:, :, ::-1, ::-1], b, stride, padding)


def _conv_one_row_short(x, w, b, stride=1, padding=0):
    return solved.conv2d_forward(x, w, b, stride, padding)[:, :, :-1, :]


def _conv_padded_once(x, w, b, stride=1, padding=0):
    return solved.conv2d_forward(np.pad(x, ((0, 0), (0, 0), (padding, 0), (padding, 0))), w, b, stride, 0)


def _conv_stride_in_size_only(x, w, b, stride=1, padding=0):
    """Loops whose output size uses the stride but whose windows start at (r, c)."""
    n, _, h, wd = x.shape
    f, _, kh, kw = w.shape
    h_out, w_out = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((n, f, h_out, w_out), dtype=x.dtype)
    for r in range(h_out):
        for c in range(w_out):
            out[:, :, r, c] = np.einsum("nkij,fkij->nf", xp[:, :, r : r + kh, c : c + kw], w) + b
    return out


def _backward_db_over_batch(dout, x, w, stride=1, padding=0):
    dx, dw, _ = solved.conv2d_backward(dout, x, w, stride, padding)
    return dx, dw, dout.sum(axis=0)


def _backward_uncropped(dout, x, w, stride=1, padding=0):
    _, dw, db = solved.conv2d_backward(dout, x, w, stride, padding)
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dx_pad, _, _ = solved.conv2d_backward(dout, padded, w, stride, 0)
    return dx_pad, dw, db


def _backward_assigning(dout, x, w, stride=1, padding=0):
    """col2im with = instead of +=, written independently of the hint's own version."""
    n, c, h, wd = x.shape
    _, _, kh, kw = w.shape
    _, dw, db = solved.conv2d_backward(dout, x, w, stride, padding)
    dx_pad = np.zeros((n, c, h + 2 * padding, wd + 2 * padding), dtype=dout.dtype)
    h_out, w_out = dout.shape[2:]
    for i in range(kh):
        for j in range(kw):
            dx_pad[:, :, i : i + stride * h_out : stride, j : j + stride * w_out : stride] = np.einsum(
                "nfrc,fk->nkrc", dout, w[:, :, i, j]
            )
    return dx_pad[:, :, padding : padding + h, padding : padding + wd], dw, db


def _pool_back_last_max(dout, x, size=2, stride=None):
    flip = lambda a: a[:, :, ::-1, ::-1]
    return flip(solved.maxpool_backward(flip(dout), flip(x), size, stride))


def _pool_back_every_max(dout, x, size=2, stride=None):
    up = lambda a: a.repeat(size, axis=2).repeat(size, axis=3)
    return (x == up(solved.maxpool_forward(x, size))) * up(dout)


def _pool_back_assigning(dout, x, size=2, stride=None):
    stride = size if stride is None else stride
    windows = np.lib.stride_tricks.sliding_window_view(x, (size, size), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, h_out, w_out = windows.shape[:4]
    first = windows.reshape(n, c, h_out, w_out, -1).argmax(axis=4)
    dx = np.zeros(x.shape, dtype=dout.dtype)
    for i in range(size):
        for j in range(size):
            dx[:, :, i : i + stride * h_out : stride, j : j + stride * w_out : stride] = dout * (first == i * size + j)
    return dx


def _rolled(images, dy, dx):
    n = images.shape[0]
    dy, dx = np.broadcast_to(dy, (n,)), np.broadcast_to(dx, (n,))
    return np.stack([np.roll(im, (int(a), int(b)), axis=(1, 2)) for im, a, b in zip(images, dy, dx)])


def _augment(images, seed=0, max_shift=2, *, dx_first=False, shift_first=False):
    n = images.shape[0]
    rng = np.random.default_rng(seed)
    flip = rng.random(n) < 0.5
    first, second = (rng.integers(-max_shift, max_shift + 1, size=n) for _ in range(2))
    dy, dx = (second, first) if dx_first else (first, second)
    mirror = lambda a: np.where(flip[:, None, None, None], a[..., ::-1], a)
    return (
        mirror(solved_aug.shift_images(images, dy, dx))
        if shift_first
        else solved_aug.shift_images(mirror(images), dy, dx)
    )


CONV = Inputs(randn(2, 2, 7, 6, seed=1), randn(3, 2, 3, 2, seed=2), randn(3, seed=3), stride=2, padding=1)
CONV_STRIDE3 = Inputs(randn(1, 2, 8, 7, seed=4), randn(2, 2, 2, 3, seed=5), randn(2, seed=6), stride=3)
BACKWARD = cases.backward_case((2, 2, 7, 7), (3, 2, 3, 3), stride=2, padding=1, seed=7)
POOL = Inputs(randn(2, 3, 7, 6, seed=8), 3, stride=2)
POOL_TIES = cases.pool_case(np.round(randn(2, 3, 6, 6, seed=9)), seed=10)
POOL_OVERLAP = cases.pool_case(np.round(randn(2, 2, 7, 6, seed=11)), 3, 1, seed=12)
SHIFT = Inputs(randn(4, 3, 5, 5, seed=13), np.array([1, -2, 0, 2]), np.array([0, 1, -1, 2]))
AUGMENT = Inputs(randn(8, 3, 5, 5, seed=14), seed=3, max_shift=2)

# (hints, solved function, reference, case, output names, a wrong function, what its hint says)
MISTAKES = [
    ("conv2d_forward", _conv_flipped, CONV, "you flipped the kernel"),
    ("conv2d_forward", _conv_no_bias, CONV, "the bias is missing"),
    ("conv2d_forward", _conv_one_row_short, CONV, "off by one"),
    ("conv2d_forward", _conv_padded_once, CONV, "BOTH sides"),
    ("conv2d_forward", _conv_stride_in_size_only, CONV_STRIDE3, "instead of (r*S, c*S)"),
    ("conv2d_backward", _backward_db_over_batch, BACKWARD, "sum dout over the batch AND both spatial axes"),
    ("conv2d_backward", _backward_uncropped, BACKWARD, "dx still has the padding"),
    ("conv2d_backward", _backward_assigning, BACKWARD, "never overwrite"),
    (
        "maxpool_forward",
        lambda x, size=2, stride=None: np.maximum(solved.maxpool_forward(x, size, stride), 0),
        Inputs(-np.abs(randn(2, 2, 4, 4, seed=15)) - 1, 2),
        "negative maxima became 0",
    ),
    (
        "maxpool_forward",
        lambda x, size=2, stride=None: solved.maxpool_forward(x, size, stride)[:, :, 1:],
        POOL,
        "H_out = (H - size) // stride + 1",
    ),
    ("maxpool_forward", lambda x, size=2, stride=None: solved.maxpool_forward(x, size), POOL, "the stride was ignored"),
    ("maxpool_backward", _pool_back_last_max, POOL_TIES, "LAST maximum"),
    ("maxpool_backward", _pool_back_every_max, POOL_TIES, "EVERY maximum"),
    ("maxpool_backward", _pool_back_assigning, POOL_OVERLAP, "the windows overlap here"),
    ("flatten", lambda x: x.transpose(0, 2, 3, 1).reshape(x.shape[0], -1), randn(2, 3, 4, 5, seed=16), "channels-last"),
    ("flatten", lambda x: x.ravel(), randn(2, 3, 4, 5, seed=16), "keep the batch axis"),
    ("flip_horizontal", lambda images: images[:, :, ::-1].copy(), randn(2, 3, 4, 5, seed=17), "upside down"),
    ("flip_horizontal", lambda images: images[:, ::-1].copy(), randn(2, 3, 4, 5, seed=17), "colour channels"),
    ("flip_horizontal", lambda images: images[::-1].copy(), randn(2, 3, 4, 5, seed=17), "order of the images"),
    ("shift_images", _rolled, SHIFT, "came back on the other"),
    (
        "shift_images",
        lambda images, dy, dx: solved_aug.shift_images(images, -np.asarray(dy), -np.asarray(dx)),
        SHIFT,
        "the direction is reversed",
    ),
    ("shift_images", lambda images, dy, dx: solved_aug.shift_images(images, dx, dy), SHIFT, "swapped"),
    (
        "random_augment",
        lambda images, seed=0, max_shift=2: _augment(images, seed, max_shift, dx_first=True),
        AUGMENT,
        "flip first, then dy, then dx",
    ),
    (
        "random_augment",
        lambda images, seed=0, max_shift=2: _augment(images, seed, max_shift, shift_first=True),
        AUGMENT,
        "mirror first, then shift",
    ),
]
OUTPUTS = {"conv2d_backward": ("dx", "dw", "db")}
REFERENCES = {
    "conv2d_forward": ref.conv2d_forward,
    "conv2d_backward": ref.conv2d_backward,
    "maxpool_forward": ref.maxpool_forward,
    "maxpool_backward": ref.maxpool_backward,
    "flatten": ref.flatten,
    "flip_horizontal": ref.flip_horizontal,
    "shift_images": ref.shift_images,
    "random_augment": ref.random_augment,
}
SOLVED = {name: getattr(solved, name, None) or getattr(solved_aug, name) for name in REFERENCES}


def _message(fn, name: str, case) -> str:
    with pytest.raises(AssertionError) as failure:
        check(
            fn,
            REFERENCES[name],
            [case],
            name=name,
            output_names=OUTPUTS.get(name),
            hints=getattr(mistakes, name),
            quiet=True,
        )
    return str(failure.value)


def _chapter_hints_in(message: str, name: str, case) -> list[str]:
    """The texts of the chapter's hints for ``name`` that appear in ``message``."""
    texts = []
    for hint in getattr(mistakes, name):
        text = hint.message if isinstance(hint.message, str) else None
        if text and text[:40] in message:
            texts.append(text)
    return texts


@pytest.mark.parametrize("name, wrong, case, message", MISTAKES, ids=[f"{m[0]}-{m[3][:24]}" for m in MISTAKES])
def test_each_hint_fires_on_its_mistake(name, wrong, case, message):
    assert message in _message(wrong, name, case)


@pytest.mark.parametrize("name", sorted({m[0] for m in MISTAKES}))
def test_no_hint_on_a_correct_answer_or_a_dtype_only_difference(name):
    cases_of = [m[2] for m in MISTAKES if m[0] == name]
    check(SOLVED[name], REFERENCES[name], cases_of, output_names=OUTPUTS.get(name), quiet=True)

    def as_float32(*args, **kwargs):  # right values, wrong dtype (float64 in, float32 out)
        result = SOLVED[name](*args, **kwargs)
        return tuple(r.astype(np.float32) for r in result) if isinstance(result, tuple) else result.astype(np.float32)

    for case in cases_of:
        message = _message(as_float32, name, case)
        assert "dtype" in message and "hint:" not in message, message


# --- the notebook's test cells: the solutions pass, the hints reach the learner -------------------


def _learners_copy(module) -> SimpleNamespace:
    """The module's functions compiled again from its source under another file name: to the watch they are a
    learner's own code (a wrong answer built on them must not be failed for calling the answer key)."""
    namespace: dict = {}
    exec(compile(Path(module.__file__).read_text(), f"learners_{Path(module.__file__).name}", "exec"), namespace)
    return SimpleNamespace(**namespace)


MINE = _learners_copy(solved)
MINE_AUG = _learners_copy(solved_aug)

HINT_CASES = [
    (
        "ch05_conv2d_loops_test",
        "conv2d_forward_loops",
        lambda x, w, b, stride=1, padding=0: MINE.conv2d_forward(x, w[:, :, ::-1, ::-1], b, stride, padding),
        "you flipped the kernel",
    ),
    (
        "ch05_conv2d_loops_test",
        "conv2d_forward_loops",
        lambda x, w, b, stride=1, padding=0: MINE.conv2d_forward(x, w, b, stride, padding)[:, :, :-1, :],
        "off by one",
    ),
    (
        "ch05_conv2d_forward_test",
        "conv2d_forward",
        lambda x, w, b, stride=1, padding=0: MINE.conv2d_forward(x, w, 0 * b, stride, padding),
        "the bias is missing",
    ),
    (
        "ch05_conv2d_backward_test",
        "conv2d_backward",
        lambda dout, x, w, stride=1, padding=0: (
            MINE.conv2d_backward(dout, x, w, stride, padding)[0],
            MINE.conv2d_backward(dout, x, w, stride, padding)[1],
            dout.sum(axis=0),
        ),
        "sum dout over the batch",
    ),
    (
        "ch05_maxpool_backward_test",
        "maxpool_backward",
        lambda dout, x, size=2, stride=None: MINE.maxpool_backward(
            dout[:, :, ::-1, ::-1], x[:, :, ::-1, ::-1], size, stride
        )[:, :, ::-1, ::-1],
        "LAST maximum",
    ),
    (
        "ch05_augment_shift_test",
        "shift_images",
        lambda images, dy, dx: MINE_AUG.shift_images(images, dx, dy),
        "swapped",
    ),
]


@pytest.mark.parametrize("test_id, name, wrong, message", HINT_CASES, ids=[f"{c[0]}-{c[3][:24]}" for c in HINT_CASES])
def test_the_notebook_explains_the_mistake(notebook_namespace, test_id, name, wrong, message):
    wrong.__name__ = name
    assert message in failure_of(notebook_namespace, test_id, **{name: wrong})


def test_a_float64_result_for_float32_inputs_fails_in_the_visible_tests(notebook_namespace):
    def conv_in_float64(x, w, b, stride=1, padding=0):
        return MINE.conv2d_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), stride, padding)

    conv_in_float64.__name__ = "conv2d_forward"
    assert "expected float32" in failure_of(
        notebook_namespace, "ch05_conv2d_forward_test", conv2d_forward=conv_in_float64
    )


def test_a_stub_is_reported_as_not_implemented(notebook_namespace):
    def stub(*args, **kwargs):
        raise NotImplementedError()

    stub.__name__ = "conv2d_backward"
    assert "conv2d_backward is not implemented yet" in failure_of(
        notebook_namespace, "ch05_conv2d_backward_test", conv2d_backward=stub
    )
