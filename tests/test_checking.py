"""The checking helper: it passes correct code, and its failure messages say what is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from dlcourse.checking import Inputs, check, check_seeded, randint, randn, uniform
from dlcourse.mistakes import Hint, mistake
from dlcourse.reference import networks as ref


def fails(student, reference, cases, **options) -> str:
    with pytest.raises(AssertionError) as info:
        check(student, reference, cases, quiet=True, **options)
    return str(info.value)


def dense(X, W, b):
    return X @ W.T + b


def mean_grad(X):
    """A reference whose result depends on the batch size: d mean(X) / dX = 1/N."""
    return np.full_like(X, 1.0 / X.size)


def test_correct_code_passes_and_says_so(capsys):
    check(dense, ref.dense_forward, [(randn(3, 4, seed=1), randn(2, 4, seed=2), randn(2, seed=3))])
    assert "dense matches the PyTorch reference on 1 case" in capsys.readouterr().out


def test_the_message_names_the_case_index_expected_and_got():
    message = fails(lambda x: x * 1.5, ref.relu, [np.array([1.0, 2.0]), np.array([3.0, -1.0, 4.0])], name="relu")
    assert message.startswith("relu, case 1 of 2")
    assert "largest error at output[1]: expected 2, got 3" in message
    assert "inputs: x=[1., 2.] (float64)" in message


def test_a_missing_division_by_n_is_recognised():
    message = fails(lambda X: np.ones_like(X), mean_grad, [randn(4, seed=0)])
    assert "4 times too large: did you forget to divide by N = 4" in message


def test_a_flipped_sign_is_recognised():
    assert "signs are flipped" in fails(lambda x: -x, lambda x: x.copy(), [randn(3, seed=0)])


def test_a_wrong_shape_is_reported_with_both_shapes_and_a_transposition_hint():
    message = fails(lambda X, W, b: (X @ W.T + b).T, ref.dense_forward, [(randn(3, 4), randn(2, 4), randn(2))])
    assert "output has shape (2, 3), expected (3, 2)" in message
    assert "looks transposed" in message


def test_overflow_in_student_code_is_an_error_with_an_explanation():
    naive = lambda x: 1.0 / (1.0 + np.exp(-x))
    message = fails(naive, ref.sigmoid, [np.array([-1000.0, 0.0])], name="sigmoid")
    assert "overflow" in message and "exp sees only arguments <= 0" in message


def test_non_finite_results_are_reported():
    message = fails(lambda x: np.where(x > 0, np.inf, x), lambda x: x.copy(), [np.array([1.0, -1.0])])
    assert "non-finite entry" in message and "expected 1, got inf" in message


def test_a_stub_is_reported_as_not_implemented():
    def stub(x):
        raise NotImplementedError()

    assert "stub is not implemented yet" in fails(stub, ref.relu, [randn(2)])


def test_an_exception_is_reported_with_its_type_and_the_inputs():
    message = fails(lambda x: x.nonexistent, ref.relu, [randn(2)], name="relu")
    assert "your function raised AttributeError" in message and "inputs: x=" in message


def test_none_and_lists_and_tensors_are_explained():
    assert "did you forget a `return`" in fails(lambda x: None, ref.relu, [randn(2)])
    assert "should be a NumPy array, got a list" in fails(lambda x: list(x), ref.relu, [randn(2)])
    import torch

    assert "is a torch.Tensor" in fails(lambda x: torch.tensor(x), ref.relu, [randn(2)])


def test_changing_an_input_in_place_fails():
    def relu_in_place(x):
        x[x < 0] = 0
        return x

    assert "changed its input `x` in place" in fails(relu_in_place, ref.relu, [np.array([-1.0, 2.0])])


def test_dtype_must_follow_the_inputs():
    message = fails(lambda x: np.maximum(x, 0).astype(np.float64), ref.relu, [randn(3).astype(np.float32)])
    assert "dtype float64, expected float32" in message
    assert "expected float values" in fails(lambda x: (x > 0).astype(int), ref.relu, [randn(3)])


def test_float32_inputs_get_float32_tolerances():
    x = randn(50, seed=3).astype(np.float32)
    check(lambda v: (1 / (1 + np.exp(-v.astype(np.float64)))).astype(np.float32), ref.sigmoid, [x], quiet=True)


def test_tolerance_is_tight_in_float64():
    x = randn(5, seed=4)
    fails(lambda v: ref.sigmoid(v) * (1 + 1e-6), ref.sigmoid, [x])
    check(lambda v: ref.sigmoid(v) * (1 + 1e-12), ref.sigmoid, [x], quiet=True)


def test_tuple_and_dict_results_are_compared_by_name():
    def reference(x):
        return x * 2, {"W1": x + 1}

    message = fails(lambda x: (x * 2, {"W1": x}), reference, [np.array([1.0])], output_names=("out", "grads"))
    assert "grads['W1']" in message
    assert "should have 2 items (out, grads), got 1" in fails(
        lambda x: (x * 2,), reference, [np.array([1.0])], output_names=("out", "grads")
    )
    assert "missing ['W1'], unexpected ['W2']" in fails(lambda x: (x * 2, {"W2": x + 1}), reference, [np.array([1.0])])


def test_integer_results_are_compared_exactly():
    message = fails(lambda sizes: 10, ref.count_params, [[2, 3]], name="count_params")
    assert "expected 9, got 10" in message


def test_a_chapter_hint_is_shown_when_its_mistake_matches():
    hints = [mistake(lambda X, W, b: X @ W.T, "the bias b is missing.")]
    message = fails(lambda X, W, b: X @ W.T, ref.dense_forward, [(randn(3, 4), randn(2, 4), randn(2))], hints=hints)
    assert "hint: the bias b is missing." in message


def test_a_hint_that_raises_never_hides_the_failure():
    broken = Hint("never shown", lambda m: 1 / 0)
    message = fails(lambda x: x + 1, lambda x: x.copy(), [randn(2)], hints=[broken])
    assert "never shown" not in message and "differs" in message


def test_keyword_inputs_reach_both_functions():
    check(lambda x, scale=1.0: x * scale, lambda x, scale=1.0: x * scale, [Inputs(randn(2), scale=3.0)], quiet=True)
    fails(lambda x, scale=1.0: x, lambda x, scale=1.0: x * scale, [Inputs(randn(2), scale=3.0)])


def test_bad_calls_of_check_are_clear():
    with pytest.raises(ValueError, match="no test cases"):
        check(ref.relu, ref.relu, [])
    with pytest.raises(TypeError, match="your function"):
        check(None, ref.relu, [randn(2)])


def test_check_seeded_needs_determinism_and_use_of_the_seed():
    check_seeded(lambda n, seed: np.random.default_rng(seed).normal(size=n), 3)
    with pytest.raises(AssertionError, match="different results"):
        check_seeded(lambda n, seed: np.random.normal(size=n), 3)
    with pytest.raises(AssertionError, match="is the seed used"):
        check_seeded(lambda n, seed: np.random.default_rng(0).normal(size=n), 3)


def test_input_builders_are_seeded_and_typed():
    assert np.array_equal(randn(2, 3, seed=5), randn(2, 3, seed=5)) and randn(2, 3).dtype == np.float64
    assert uniform(4, low=2, high=3).min() >= 2 and randint(0, 3, 10).dtype == np.int64


def test_hints_see_structured_keys_into_the_result():
    """A mistake is matched at the failing part of a nested result (a dict inside a tuple), not on a display string."""

    def reference(x):
        return x * 2, {"W1": x + 1, "b1": x - 1}

    wrong = mistake(
        lambda x: (x * 2, {"W1": x + 1, "b1": x + 1}), "b1 has the wrong sign of its shift.", output="grads"
    )
    message = fails(
        lambda x: (x * 2, {"W1": x + 1, "b1": x + 1}),
        reference,
        [randn(3, seed=4)],
        output_names=("out", "grads"),
        hints=[wrong],
    )
    assert "grads['b1']" in message and "hint: b1 has the wrong sign of its shift." in message
    other_output = mistake(lambda x: (x * 2, {"W1": x + 1, "b1": x + 1}), "never shown", output="out")
    assert "never shown" not in fails(
        lambda x: (x * 2, {"W1": x + 1, "b1": x + 1}),
        reference,
        [randn(3, seed=4)],
        output_names=("out", "grads"),
        hints=[other_output],
    )


def test_a_hint_stays_silent_when_only_the_dtype_differs():
    said = mistake(lambda x: x.astype(np.float64) * 1.0, "a wrong formula")
    message = fails(
        lambda x: x.astype(np.float64), lambda x: x.copy(), [randn(4, seed=5).astype(np.float32)], hints=[said]
    )
    assert "expected float32" in message and "a wrong formula" not in message


def test_an_overflow_gets_the_overflow_hint_and_a_nan_the_invalid_value_hint():
    overflow = fails(lambda x: 1 / (1 + np.exp(-x)), ref.sigmoid, [np.array([-1000.0, 0.0])], name="sigmoid")
    assert "overflow" in overflow and "arguments <= 0" in overflow and "0/0" not in overflow
    invalid = fails(lambda x: (x * 0) / (x * 0), lambda x: np.full_like(x, 0.5), [np.array([1.0, 2.0])])
    assert "0/0" in invalid and "arguments <= 0" not in invalid
