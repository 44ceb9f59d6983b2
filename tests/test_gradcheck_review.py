"""gradcheck and retrograd.testing as a user drives them: several outputs, a single Tensor as
inputs, functions that write into their inputs, bad steps and tolerances, low-precision outputs."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import GradcheckError, PrecisionWarning, gradcheck
from retrograd.testing import assert_gradients


def _x() -> rg.Tensor:
    return rg.tensor(np.array([0.5, 1.0, 1.5]), requires_grad=True)


def test_gradcheck_tuple_outputs_like_torch():
    torch = pytest.importorskip("torch")

    def pair(x):
        return x.tanh(), x.exp().sum()

    values = torch.tensor([0.5, 1.0, 1.5], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(pair, (values,))
    assert gradcheck(pair, [_x()])


def test_gradcheck_tuple_outputs_name_the_wrong_output():
    with pytest.raises(GradcheckError, match=r"output 1 element \(2,\)\): numeric 3, analytic 1.5"):
        gradcheck(lambda x: (x.tanh(), x * x.detach()), [_x()])


def test_gradcheck_tuple_outputs_projected_find_the_wrong_output():
    big = rg.tensor(np.random.default_rng(0).random((200, 120)), requires_grad=True)
    assert gradcheck(lambda b: (b.tanh(), b.sum()), [big])
    with pytest.raises(GradcheckError, match="projected on random weights"):
        gradcheck(lambda b: (b.tanh(), (b * b.detach()).sum()), [big])


def test_gradcheck_single_tensor_as_inputs_like_torch():
    assert gradcheck(lambda x: x.tanh(), _x())


def test_gradcheck_constants_modified_in_place_are_refused_and_left_intact():
    def bump_tensor(x, c):
        c.add_(1.0)
        return (x * c).sum()

    def bump_array(x, a):
        a += 1
        return (x * rg.tensor(a)).sum()

    c, a = rg.ones(3, dtype=np.float64), np.ones(3)
    with pytest.raises(RuntimeError, match=r"fn modified input 1 of shape \(3,\) in place"):
        gradcheck(bump_tensor, [_x(), c])
    with pytest.raises(RuntimeError, match=r"fn modified input 1 of shape \(3,\) in place"):
        gradcheck(bump_array, [_x(), a])
    np.testing.assert_array_equal(c.data, np.ones(3))
    np.testing.assert_array_equal(a, np.ones(3))


def test_gradcheck_checked_input_modified_in_place_is_refused():
    def drift(x):
        with rg.no_grad():
            x.mul_(1.0001)
        return x.exp()

    x = _x()
    with pytest.raises(RuntimeError, match="fn modified input 0 .* in place"):
        gradcheck(drift, [x])
    np.testing.assert_array_equal(x.data, [0.5, 1.0, 1.5])


@pytest.mark.parametrize(
    ("option", "value"),
    [("eps", 0.0), ("eps", -1e-6), ("eps", float("nan")), ("atol", -1.0), ("rtol", float("inf"))],
)
def test_gradcheck_bad_step_or_tolerance_is_refused(option, value):
    with pytest.raises(ValueError, match=f"gradcheck\\(\\): {option} must be a finite number"):
        gradcheck(lambda x: x * x.detach(), [_x()], **{option: value})


def test_gradcheck_float32_output_failure_says_why():
    with pytest.raises(GradcheckError, match="fn returned float32 output from float64 inputs"):
        gradcheck(lambda x: x.exp().float(), [_x()])
    assert gradcheck(lambda x: x.exp().float(), [_x()], eps=1e-2, atol=1e-4)


def test_assert_gradients_refuses_raise_exception():
    # With raise_exception=False gradcheck returns False, and a wrong gradient would pass.
    with pytest.raises(TypeError, match="raise_exception is not an option"):
        assert_gradients(lambda x: x * x.detach(), shapes=[(3,)], raise_exception=False)


def test_gradcheck_promotion_warning_names_the_dtype():
    half = rg.tensor(np.array([0.5, 1.0], dtype=np.float16), requires_grad=True)
    with pytest.warns(PrecisionWarning, match=r"inputs \[0\] .* float16 is too coarse"):
        assert gradcheck(lambda x: x.tanh(), [half])


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"fn": 3}, TypeError, "fn must be callable, got int"),
        (
            {"full_jacobian_limit": "20"},
            TypeError,
            "full_jacobian_limit must be an integer >= 0, got '20'",
        ),
        (
            {"full_jacobian_limit": 1.5},
            TypeError,
            "full_jacobian_limit must be an integer >= 0, got 1.5",
        ),
        ({"full_jacobian_limit": -1}, ValueError, "full_jacobian_limit must be an integer >= 0"),
        ({"seed": "a"}, TypeError, "seed must be an integer >= 0, got 'a'"),
        ({"seed": True}, TypeError, "seed must be an integer >= 0, got True"),
        ({"seed": -1}, ValueError, "seed must be an integer >= 0, got -1"),
    ],
)
def test_gradcheck_names_a_bad_fn_limit_or_seed(options, error, match):
    arguments = {"fn": lambda x: x.tanh(), **options}
    with pytest.raises(error, match=f"gradcheck\\(\\): {match}"):
        gradcheck(arguments.pop("fn"), [_x()], **arguments)
    assert gradcheck(lambda x: x.tanh(), [_x()], full_jacobian_limit=0, seed=np.int64(3))
