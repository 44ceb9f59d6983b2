"""PyTorch's elementwise vocabulary: the Tensor methods (sin, floor, lerp, nan_to_num...) and
the function forms of tensor methods (rg.exp(x), rg.sum(x, 1)...), each against torch in
float64, values and gradients, with their dtypes and errors."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import creation, free_functions, functional

RTOL = 1e-10
ATOL = 1e-12


def _pair(values, requires_grad=True):
    """The same float64 values as a retrograd tensor and a torch tensor."""
    torch = pytest.importorskip("torch")
    array = np.asarray(values, dtype=np.float64)
    return (
        rg.tensor(array, requires_grad=requires_grad),
        torch.tensor(array, requires_grad=requires_grad),
    )


def _close(ours, theirs) -> None:
    """Values (and dtype kind) of a retrograd result equal torch's."""
    theirs = theirs.detach().numpy()
    ours = ours.data
    assert ours.shape == theirs.shape
    assert ours.dtype.kind == theirs.dtype.kind, (ours.dtype, theirs.dtype)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def _check_grads(ours_out, theirs_out, ours_in, theirs_in) -> None:
    """The gradients of a fixed weighted sum of the outputs agree for every input."""
    weights = np.linspace(-1.5, 2.0, ours_out.size).reshape(ours_out.shape)
    (ours_out * rg.tensor(weights)).sum().backward()
    (theirs_out * theirs_out.new_tensor(weights)).sum().backward()
    for mine, torchs in zip(ours_in, theirs_in):
        expected = np.zeros(mine.shape) if torchs.grad is None else torchs.grad.numpy()
        got = np.zeros(mine.shape) if mine.grad is None else mine.grad
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


# ----- function forms of methods -----
FUNCTION_CASES = [
    ("exp", (), {}),
    ("log", (), {}),
    ("sqrt", (), {}),
    ("tanh", (), {}),
    ("sigmoid", (), {}),
    ("relu", (), {}),
    ("abs", (), {}),
    ("sum", (1,), {}),
    ("sum", (), {}),
    ("mean", (0,), {}),
    ("prod", (-1,), {}),
    ("logsumexp", (1,), {}),
    ("softmax", (1,), {}),
    ("log_softmax", (0,), {}),
    ("flatten", (), {}),
    ("transpose", (0, 1), {}),
    ("permute", ((1, 0),), {}),
    ("reshape", ((6,),), {}),
    ("unsqueeze", (1,), {}),
    ("squeeze", (), {}),
    ("clamp", (0.5, 2.0), {}),
    ("clip", (0.5, 2.0), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), FUNCTION_CASES)
def test_function_form_matches_torch(name, args, kwargs):
    torch = pytest.importorskip("torch")
    values = np.array([[0.3, 1.7, 2.2], [1.1, 0.6, 2.9]])
    x, tx = _pair(values)
    ours = getattr(rg, name)(x, *args, **kwargs)
    theirs = getattr(torch, name)(tx, *args, **kwargs)
    _close(ours, theirs)
    _check_grads(ours, theirs, [x], [tx])


def test_function_forms_of_splits_match_torch():
    torch = pytest.importorskip("torch")
    x, tx = _pair(np.arange(12.0).reshape(3, 4))
    for name, args in [("split", (2, 1)), ("chunk", (2, 0)), ("unbind", (1,))]:
        ours, theirs = getattr(rg, name)(x, *args), getattr(torch, name)(tx, *args)
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _close(a, b)


def test_function_forms_of_statistics_match_torch():
    torch = pytest.importorskip("torch")
    x, tx = _pair([[0.3, 1.7, 2.2], [1.1, 0.6, 2.9]])
    _close(rg.var(x, 1, ddof=1), torch.var(tx, 1))
    _close(rg.std(x, 0, ddof=1), torch.std(tx, 0))
    _close(rg.max(x), torch.max(tx))
    _close(rg.min(x), torch.min(tx))
    _close(rg.argmax(x, 1), torch.argmax(tx, 1))
    _close(rg.argmin(x), torch.argmin(tx))


def test_function_form_is_the_method_call():
    x = rg.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    for name in free_functions.NAMES:
        assert callable(getattr(rg.Tensor, name)), name
    assert rg.sum(x, axis=0, keepdims=True).shape == x.sum(axis=0, keepdims=True).shape
    assert rg.sum(x).grad_fn.op.name == "sum"
    np.testing.assert_array_equal(rg.sum(input=x, axis=1).data, x.sum(axis=1).data)


def test_function_form_takes_array_likes_as_constants():
    out = rg.exp([0.0, 1.0])
    assert out.dtype == np.float32 and not out.requires_grad  # Python floats: float32
    np.testing.assert_allclose(out.data, np.exp([0.0, 1.0]), rtol=1e-6)
    assert rg.sum(np.arange(4.0)).dtype == np.float64  # an array keeps its dtype
    assert rg.max(3).item() == 3


def test_function_form_refuses_non_numeric_input_naming_itself():
    with pytest.raises(TypeError, match=r"exp\(\): input must be a tensor"):
        rg.exp("a")
    with pytest.raises(TypeError, match=r"sum\(\): input must be a tensor"):
        rg.sum({"a": 1})


def test_function_form_metadata_comes_from_the_method():
    for name in free_functions.NAMES:
        function = getattr(rg, name)
        method = getattr(rg.Tensor, name)
        assert function.__name__ == function.__qualname__ == name
        assert function.__module__ == "retrograd.autograd.free_functions"
        assert function.__wrapped__ is method
        assert f"`Tensor.{name}`" in function.__doc__
        assert (inspect.getdoc(method) or "") in function.__doc__
        params = list(inspect.signature(function).parameters)
        assert params == ["input", *list(inspect.signature(method).parameters)[1:]]


def test_function_forms_are_exported_without_replacing_existing_functions():
    for name in free_functions.NAMES:
        assert getattr(rg, name) is free_functions.FUNCTIONS[name]
        assert getattr(rg.autograd, name) is free_functions.FUNCTIONS[name]
        assert name in rg.__all__ and name in rg.autograd.__all__
    own = {
        name
        for module in (functional, creation)
        for name, value in vars(module).items()
        if callable(value) and not name.startswith("_")
    }
    assert not own & set(free_functions.NAMES)
    assert rg.maximum is functional.maximum and rg.where is functional.where


def test_method_function_refuses_a_missing_method():
    with pytest.raises(AttributeError, match="Tensor has no method 'frobnicate'"):
        free_functions.method_function("frobnicate")


# ----- the elementwise methods -----
REAL = [[-1.7, -0.6, 0.3], [0.9, 1.3, 2.45]]
UNIT = [[-0.9, -0.35, 0.0], [0.2, 0.55, 0.85]]
POSITIVE = [[0.2, 0.75, 1.0], [1.6, 2.5, 8.0]]
FRACTIONAL = [[-1.7, -1.25, -0.3], [0.35, 1.65, 2.5]]

UNARY_CASES = [
    ("sin", REAL),
    ("cos", REAL),
    ("tan", REAL),
    ("asin", UNIT),
    ("acos", UNIT),
    ("atan", REAL),
    ("sinh", REAL),
    ("cosh", REAL),
    ("log1p", UNIT),
    ("expm1", REAL),
    ("log2", POSITIVE),
    ("log10", POSITIVE),
    ("exp2", REAL),
    ("erf", REAL),
    ("square", REAL),
    ("reciprocal", REAL),
    ("rsqrt", POSITIVE),
    ("neg", REAL),
    ("negative", REAL),
    ("sign", REAL),
    ("floor", FRACTIONAL),
    ("ceil", FRACTIONAL),
    ("round", FRACTIONAL),
    ("trunc", FRACTIONAL),
    ("frac", FRACTIONAL),
]


@pytest.mark.parametrize(("name", "values"), UNARY_CASES)
@pytest.mark.parametrize("shape", [(2, 3), (), (0, 3)])
def test_unary_method_matches_torch(name, values, shape):
    torch = pytest.importorskip("torch")
    array = np.asarray(values, dtype=np.float64)
    array = array[0, 1] if shape == () else array[:0] if shape == (0, 3) else array
    x, tx = _pair(array)
    ours, theirs = getattr(x, name)(), getattr(tx, name)()
    _close(ours, theirs)
    assert ours.requires_grad == theirs.requires_grad
    _check_grads(ours, theirs, [x], [tx])
    _close(getattr(rg, name)(x), getattr(torch, name)(tx))


@pytest.mark.parametrize(("name", "values"), UNARY_CASES)
def test_unary_method_keeps_float32_and_floats_integers_as_torch(name, values):
    torch = pytest.importorskip("torch")
    x = rg.tensor(np.asarray(values, dtype=np.float32))
    assert getattr(x, name)().dtype == np.float32
    integers = [[-2, 0, 1], [3, 1, 2]]
    if name in ("frac", "rsqrt", "log2", "log10", "reciprocal", "log1p"):
        integers = [[1, 2, 3], [4, 8, 1]]  # in their domains (torch has no frac of integers)
    elif name in ("asin", "acos"):
        integers = [[-1, 0, 1], [1, 0, -1]]
    try:
        expected = getattr(torch.tensor(integers), name)()
    except RuntimeError:
        return
    got = getattr(rg.tensor(integers), name)()
    assert got.dtype == np.dtype(str(expected.dtype).removeprefix("torch."))
    np.testing.assert_allclose(got.data, expected.numpy(), rtol=1e-6)


def test_round_with_decimals_matches_torch():
    torch = pytest.importorskip("torch")
    x, tx = _pair([[-1.237, 0.255, 14.5], [2.5, 3.5, -0.5]])
    for decimals in (0, 1, 2, -1):
        ours, theirs = x.round(decimals=decimals), tx.round(decimals=decimals)
        _close(ours, theirs)
        _close(rg.round(x, decimals=decimals), torch.round(tx, decimals=decimals))
    _check_grads(x.round(decimals=1), tx.round(decimals=1), [x], [tx])
    with pytest.raises(TypeError, match=r"round\(\): decimals must be an int, got 1.5"):
        x.round(decimals=1.5)


BINARY_CASES = [
    ("atan2", REAL, [[0.7, -1.1, -0.4], [2.0, -0.3, 0.8]]),
    ("hypot", REAL, [[0.7, -1.1, -0.4], [2.0, -0.3, 0.8]]),
    ("pow", POSITIVE, [[0.7, -1.1, -0.4], [2.0, -0.3, 0.8]]),
]


@pytest.mark.parametrize(("name", "a", "b"), BINARY_CASES)
def test_binary_method_matches_torch_with_broadcasting(name, a, b):
    torch = pytest.importorskip("torch")
    x, tx = _pair(a)
    for other in (np.asarray(b)[0], np.asarray(b), np.asarray(b)[:, :1]):
        y, ty = _pair(other)
        ours, theirs = getattr(x, name)(y), getattr(tx, name)(ty)
        _close(ours, theirs)
        _check_grads(ours, theirs, [x, y], [tx, ty])
        x.grad = tx.grad = None
        _close(getattr(rg, name)(x, y), getattr(torch, name)(tx, ty))


def test_atan2_gradient_at_the_origin_is_zero_as_torch():
    x, tx = _pair([0.0, 0.0, 1.5])
    y, ty = _pair([0.0, 2.0, 0.0])
    _check_grads(x.atan2(y), tx.atan2(ty), [x, y], [tx, ty])


def test_binary_methods_take_numbers_in_the_tensor_dtype():
    torch = pytest.importorskip("torch")
    x = rg.tensor([0.5, -1.5, 2.0])
    tx = torch.tensor([0.5, -1.5, 2.0])
    assert x.atan2(2.0).dtype == x.hypot(1).dtype == x.pow(2).dtype == np.float32
    np.testing.assert_allclose(x.pow(3).data, tx.pow(3).numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.atan2(2.0).data, tx.atan2(torch.tensor(2.0)).numpy(), rtol=1e-6)
    ints = rg.tensor([1, 2, 3])
    assert ints.atan2(ints).dtype == np.float32 and ints.pow(2).dtype == np.int64
    assert ints.pow(0.5).dtype == np.float32


@pytest.mark.parametrize("name", ["atan2", "hypot", "pow"])
def test_binary_method_errors_name_method_argument_and_shapes(name):
    x = rg.tensor([[1.0, 2.0, 3.0]])
    argument = "exponent" if name == "pow" else "other"
    with pytest.raises(TypeError, match=rf"{name}\(\): {argument} must be a tensor or a number"):
        getattr(x, name)("a")
    with pytest.raises(rg.autograd.ShapeError, match=rf"{name}: .*\(1, 3\), \(2,\)"):
        getattr(x, name)(rg.tensor([1.0, 2.0]))


def test_lerp_matches_torch_with_scalar_and_tensor_weights():
    torch = pytest.importorskip("torch")
    x, tx = _pair(REAL)
    end, tend = _pair([1.5, -0.5, 0.25])
    ours, theirs = x.lerp(end, 0.3), tx.lerp(tend, 0.3)
    _close(ours, theirs)
    _check_grads(ours, theirs, [x, end], [tx, tend])
    x.grad = end.grad = tx.grad = tend.grad = None
    weight, tweight = _pair([[0.2], [0.9]])
    ours, theirs = rg.lerp(x, end, weight), torch.lerp(tx, tend, tweight)
    _close(ours, theirs)
    _check_grads(ours, theirs, [x, end, weight], [tx, tend, tweight])


def test_lerp_errors_name_arguments_and_shapes():
    x = rg.tensor([[1.0, 2.0, 3.0]])
    with pytest.raises(rg.autograd.ShapeError, match=r"lerp\(\): input of shape \(1, 3\), end"):
        x.lerp(rg.tensor([1.0, 2.0]), 0.5)
    with pytest.raises(rg.autograd.ShapeError, match=r"weight of shape \(4,\)"):
        x.lerp(x, rg.tensor(np.ones(4)))
    with pytest.raises(TypeError, match=r"lerp\(\): weight must be a tensor or a number"):
        x.lerp(x, "half")


@pytest.mark.parametrize("name", ["clamp_min", "clamp_max"])
def test_clamp_min_and_max_match_torch(name):
    torch = pytest.importorskip("torch")
    x, tx = _pair(REAL)
    ours, theirs = getattr(x, name)(0.4), getattr(tx, name)(0.4)
    _close(ours, theirs)
    _check_grads(ours, theirs, [x], [tx])
    bound = np.array([0.0, 1.0, 0.3])
    _close(getattr(rg, name)(x, rg.tensor(bound)), getattr(torch, name)(tx, torch.tensor(bound)))
    with pytest.raises(TypeError, match=rf"{name}\(\): {name[-3:]} must be a number"):
        getattr(x, name)(None)


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite"])
def test_non_finite_tests_match_torch(name):
    values = [[np.nan, np.inf, -np.inf], [0.0, -2.5, 1e308]]
    x, tx = _pair(values)
    ours, theirs = getattr(x, name)(), getattr(tx, name)()
    assert ours.dtype == np.bool_ and not ours.requires_grad
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    np.testing.assert_array_equal(
        getattr(rg, name)(rg.tensor([1, 2])).data, [name == "isfinite"] * 2
    )


@pytest.mark.parametrize(
    "kwargs", [{}, {"nan": 2.0}, {"nan": -1.0, "posinf": 5.0, "neginf": -7.5}, {"posinf": 1e300}]
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nan_to_num_matches_torch_with_zero_gradient_where_not_finite(kwargs, dtype):
    torch = pytest.importorskip("torch")
    values = np.array([[np.nan, np.inf, -np.inf], [0.5, -2.5, 3.0]], dtype=dtype)
    x = rg.tensor(values, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    ours, theirs = x.nan_to_num(**kwargs), tx.nan_to_num(**kwargs)
    assert ours.dtype == dtype
    np.testing.assert_array_equal(ours.data, theirs.detach().numpy())
    _check_grads(ours, theirs, [x], [tx])
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(rg.nan_to_num(values, **kwargs).data, ours.data)


def test_nan_to_num_refuses_non_numbers_naming_the_argument():
    x = rg.tensor([1.0, np.nan])
    with pytest.raises(TypeError, match=r"nan_to_num\(\): nan must be a number, got None"):
        x.nan_to_num(nan=None)
    with pytest.raises(TypeError, match=r"nan_to_num\(\): posinf must be a number, got 'big'"):
        x.nan_to_num(posinf="big")


def test_zero_gradient_functions_require_grad_as_torch():
    x = rg.tensor([0.4, -1.6], requires_grad=True)
    for name in ("floor", "ceil", "round", "trunc", "sign"):
        out = getattr(x, name)()
        assert out.requires_grad
        out.sum().backward()
        np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    assert not rg.tensor([0.4]).floor().requires_grad
    with rg.no_grad():
        assert not x.floor().requires_grad


def test_round_of_integers_to_tens_rounds_halves_to_even():
    rounded = rg.tensor([15, 25, -14, 7]).round(decimals=-1)
    assert rounded.dtype == np.int64 and rounded.tolist() == [20, 20, -10, 10]
    assert rg.tensor([15, 25]).round().tolist() == [15, 25]
    assert rg.tensor([True, False]).round(decimals=-1).dtype == np.bool_


def test_sign_of_booleans_and_integers_keeps_dtype():
    assert rg.tensor([True, False]).sign().dtype == np.bool_
    signs = rg.tensor([-3, 0, 4]).sign()
    assert signs.dtype == np.int64 and signs.tolist() == [-1, 0, 1]
