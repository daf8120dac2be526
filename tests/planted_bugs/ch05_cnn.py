from . import PlantedBug

A, NB = "ch05_cnn_rnn", "cnn"

SHIFT_BODY = """    out = np.zeros_like(images)
    for i in range(n):
        sy, sx = int(dy[i]), int(dx[i])
        if abs(sy) < h and abs(sx) < w:
            out[i, :, max(sy, 0):h + min(sy, 0), max(sx, 0):w + min(sx, 0)] = \\
                images[i, :, max(-sy, 0):h + min(-sy, 0), max(-sx, 0):w + min(-sx, 0)]
    return out"""

BUGS = [
    PlantedBug(A, NB, "ch05_conv2d_loops", "out[i, f, r, c] = np.sum(window * w[f]) + b[f]",
               "out[i, f, r, c] = np.sum(window * w[f])", "forgot the bias"),
    PlantedBug(A, NB, "ch05_conv2d_loops", "c * stride:c * stride + kw]", "c * stride:c * stride + kh]",
               "uses the kernel's height for its width too (the visible non-square kernels show it)"),
    PlantedBug(A, NB, "ch05_conv2d_forward", "h_out = (h + 2 * padding - kh) // stride + 1",
               "h_out = (h + 2 * padding - kh) // stride", "off-by-one output size (forgot the +1)"),
    PlantedBug(A, NB, "ch05_conv2d_forward", "out = w.reshape(n_filters, -1) @", "out = w[:, :, ::-1, ::-1].reshape(n_filters, -1) @",
               "flips the kernel (a textbook convolution instead of PyTorch's cross-correlation)"),
    PlantedBug(A, NB, "ch05_conv2d_backward", "+= dcols[:, :, i, j]", "= dcols[:, :, i, j]",
               "assigns instead of accumulating in col2im: overlapping windows overwrite each other"),
    PlantedBug(A, NB, "ch05_conv2d_backward", "db = dout.sum(axis=(0, 2, 3))", "db = dout.sum(axis=0)",
               "sums the bias gradient over the batch only, not over the pixels"),
    PlantedBug(A, NB, "ch05_conv2d_backward", "padding:padding + wd]", "padding:padding + h]",
               "crops dx to the height in both directions (the visible non-square inputs show it)"),
    PlantedBug(A, NB, "ch05_maxpool_forward", "stride = size if stride is None else stride", "stride = size",
               "ignores the stride argument"),
    PlantedBug(A, NB, "ch05_maxpool_backward", "(first_max == i * size + j)",
               "(windows[:, :, :, :, i, j] == windows.max(axis=(4, 5)))",
               "on a tie, sends the gradient to every maximum of the window"),
    PlantedBug(A, NB, "ch05_maxpool_backward", "+= dout * (first_max", "= dout * (first_max",
               "assigns instead of accumulating: overlapping windows lose gradient"),
    PlantedBug(A, NB, "ch05_flatten", "return x.reshape(x.shape[0], -1)",
               "return x.transpose(0, 2, 3, 1).reshape(x.shape[0], -1)", "flattens channels-last (Keras's order)"),
    PlantedBug(A, NB, "ch05_augment_flip", "images[..., ::-1].copy()", "images[:, :, ::-1].copy()",
               "flips upside down (axis H) instead of left-right; random_augment, which uses it, fails too",
               loses=("ch05_augment_flip_test", "ch05_augment_random_test")),
    PlantedBug(A, NB, "ch05_augment_shift", SHIFT_BODY,
               "    return np.stack([np.roll(im, (int(a), int(b)), axis=(1, 2)) for im, a, b in zip(images, dy, dx)])",
               "np.roll: pixels wrap around instead of zero fill; random_augment, which uses it, fails too",
               loses=("ch05_augment_shift_test", "ch05_augment_random_test")),
    PlantedBug(A, NB, "ch05_augment_random",
               "    dy = rng.integers(-max_shift, max_shift + 1, size=n)\n    dx = rng.integers(-max_shift, max_shift + 1, size=n)",
               "    dx = rng.integers(-max_shift, max_shift + 1, size=n)\n    dy = rng.integers(-max_shift, max_shift + 1, size=n)",
               "draws dx before dy, not in the prescribed order"),
    # issue 16's classes, each caught by the visible tests: dtype kept, every argument varied, extreme inputs
    PlantedBug(A, NB, "ch05_conv2d_loops", "out = np.zeros((n, n_filters, h_out, w_out), dtype=x.dtype)",
               "out = np.zeros((n, n_filters, h_out, w_out))", "float32 in, float64 out"),
    PlantedBug(A, NB, "ch05_conv2d_forward", "(padding, padding), (padding, padding)))",
               "(padding, 0), (padding, 0)))", "pads one side of each axis only (in im2col, so conv2d_backward fails too)",
               loses=("ch05_conv2d_forward_test", "ch05_conv2d_backward_test")),
    PlantedBug(A, NB, "ch05_conv2d_forward", "axis=(2, 3))[:, :, ::stride, ::stride]", "axis=(2, 3))",
               "im2col ignores the stride (conv2d_backward, which uses it, fails too)",
               loses=("ch05_conv2d_forward_test", "ch05_conv2d_backward_test")),
    PlantedBug(A, NB, "ch05_conv2d_backward", "dtype=dcols.dtype)", ")", "dx in float64 for float32 inputs"),
    PlantedBug(A, NB, "ch05_maxpool_forward", "return windows.max(axis=(4, 5))",
               "return np.maximum(windows.max(axis=(4, 5)), 0)", "starts the maximum at 0: negative maxima become 0"),
    PlantedBug(A, NB, "ch05_maxpool_backward", "dx = np.zeros(x.shape, dtype=dout.dtype)", "dx = np.zeros(x.shape)",
               "float32 in, float64 out"),
    PlantedBug(A, NB, "ch05_augment_shift", "out = np.zeros_like(images)", "out = np.zeros(images.shape)",
               "float32 in, float64 out; random_augment, which uses it, fails too",
               loses=("ch05_augment_shift_test", "ch05_augment_random_test")),
]
