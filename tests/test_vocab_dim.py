"""PyTorch's `dim` beside NumPy's `axis` in the shape methods and the joins, the function
forms PyTorch has for our methods, and the dtypes of elementwise functions of integer
tensors: against torch, values and gradients in float64, and errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd.graph import ShapeError

RTOL = 1e-10
ATOL = 1e-12

CUBE = (np.random.default_rng(5).permutation(24) * 0.5 - 6.0).reshape(2, 3, 4)
ONE_IN_MIDDLE = np.arange(6.0).reshape(2, 1, 3) - 2.5
SCALAR = np.array(1.75)
EMPTY = np.zeros((0, 3))


def _pieces(out: Any) -> tuple:
    """An op's result as a tuple of tensors (split, chunk and unbind give several)."""
    return tuple(out) if isinstance(out, tuple | list) else (out,)


def _both(code: Callable[[Any, Any], Any], array: np.ndarray) -> None:
    """`code(lib, x)` with lib = retrograd and lib = torch, on a float64 tensor holding
    `array`, agrees on every output's shape, dtype and values, and on the gradient of a
    random weighted sum of the outputs."""
    torch = pytest.importorskip("torch")
    x = rg.tensor(array.copy(), dtype=np.float64, requires_grad=True)
    tx = torch.tensor(array.copy(), dtype=torch.float64, requires_grad=True)
    ours, theirs = _pieces(code(rg, x)), _pieces(code(torch, tx))
    assert len(ours) == len(theirs)
    rng = np.random.default_rng(0)
    loss, their_loss = 0.0, 0.0
    for out, expected in zip(ours, theirs):
        assert out.shape == tuple(expected.shape)
        assert out.dtype == np.dtype(str(expected.dtype).removeprefix("torch."))
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=RTOL, atol=ATOL)
        weights = rng.normal(size=out.shape)
        loss = loss + (out * rg.tensor(weights)).sum()
        their_loss = their_loss + (expected * torch.tensor(weights)).sum()
    loss.backward()
    their_loss.backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=RTOL, atol=ATOL)


SAME: dict[str, tuple[Callable[[Any, Any], Any], np.ndarray]] = {
    "squeeze_dim": (lambda lib, x: x.squeeze(dim=1), ONE_IN_MIDDLE),
    "squeeze_negative_dim": (lambda lib, x: x.squeeze(dim=-2), ONE_IN_MIDDLE),
    "squeeze_dim_not_one": (lambda lib, x: x.squeeze(dim=0), ONE_IN_MIDDLE),
    "squeeze_dims": (lambda lib, x: x.squeeze(dim=(0, 1)), ONE_IN_MIDDLE),
    "squeeze_function": (lambda lib, x: lib.squeeze(x, dim=1), ONE_IN_MIDDLE),
    "squeeze_scalar": (lambda lib, x: x.squeeze(dim=0), SCALAR),
    "unsqueeze_dim": (lambda lib, x: x.unsqueeze(dim=0), CUBE),
    "unsqueeze_last": (lambda lib, x: x.unsqueeze(dim=3), CUBE),
    "unsqueeze_function": (lambda lib, x: lib.unsqueeze(x, dim=-4), CUBE),
    "unsqueeze_scalar": (lambda lib, x: lib.unsqueeze(x, dim=-1), SCALAR),
    "transpose_dims": (lambda lib, x: x.transpose(dim0=0, dim1=2), CUBE),
    "transpose_function": (lambda lib, x: lib.transpose(x, dim0=-1, dim1=1), CUBE),
    "transpose_scalar": (lambda lib, x: x.transpose(dim0=0, dim1=-1), SCALAR),
    "split_dim": (lambda lib, x: x.split(3, dim=2), CUBE),
    "split_sizes_dim": (lambda lib, x: x.split([1, 3], dim=-1), CUBE),
    "split_function": (lambda lib, x: lib.split(x, 1, dim=0), CUBE),
    "split_empty": (lambda lib, x: x.split(2, dim=0), EMPTY),
    "chunk_dim": (lambda lib, x: x.chunk(2, dim=2), CUBE),
    "chunk_function": (lambda lib, x: lib.chunk(x, 3, dim=-1), CUBE),
    "chunk_empty": (lambda lib, x: x.chunk(2, dim=0), EMPTY),
    "unbind_dim": (lambda lib, x: x.unbind(dim=2), CUBE),
    "unbind_function": (lambda lib, x: lib.unbind(x, dim=-2), CUBE),
    "cat_dim": (lambda lib, x: lib.cat([x, x * 2], dim=1), CUBE),
    "concat_negative_dim": (lambda lib, x: lib.concat([x, x[..., :1]], dim=-1), CUBE),
    "cat_empty": (lambda lib, x: lib.cat([x, x], dim=1), EMPTY),
    "stack_dim": (lambda lib, x: lib.stack([x, x * 2], dim=3), CUBE),
    "stack_negative_dim": (lambda lib, x: lib.stack([x, -x], dim=-2), CUBE),
    "stack_scalar": (lambda lib, x: lib.stack([x, x * 3], dim=-1), SCALAR),
    "unflatten": (lambda lib, x: x.unflatten(2, (2, 2)), CUBE),
    "unflatten_inferred": (lambda lib, x: lib.unflatten(x, -1, (-1, 2)), CUBE),
    "unflatten_ones": (lambda lib, x: x.unflatten(0, (1, 2, 1)), CUBE),
    "unflatten_empty": (lambda lib, x: x.unflatten(0, (0, 5)), EMPTY),
    "broadcast_to_function": (lambda lib, x: lib.broadcast_to(x, (2, 2, 3, 4)), CUBE),
    "detach_function": (lambda lib, x: lib.detach(x) * x, CUBE),
}


@pytest.mark.parametrize("name", SAME)
def test_dim_spelling_matches_torch(name: str) -> None:
    code, array = SAME[name]
    _both(code, array)


def test_detach_function_cuts_the_graph() -> None:
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = rg.detach(x)
    assert not y.requires_grad and y.is_leaf
    assert np.shares_memory(y.data, x.data)


def _x() -> rg.Tensor:
    return rg.tensor(CUBE.copy(), dtype=np.float64)


# (code taking (lib, x), our error type, a regex our message matches)
ERRORS: dict[str, tuple[Callable[[Any, Any], Any], type, str]] = {
    "split_dim_range": (lambda lib, x: x.split(2, dim=3), ValueError, r"^split\(\): dim 3 is out"),
    "split_both": (
        lambda lib, x: x.split(2, 0, dim=1),
        TypeError,
        r"split\(\): got both axis=0 and dim=1",
    ),
    "chunk_dim_float": (
        lambda lib, x: x.chunk(2, dim=1.5),
        TypeError,
        r"^chunk\(\): dim must be an int",
    ),
    "chunk_both": (
        lambda lib, x: x.chunk(2, axis=1, dim=1),
        TypeError,
        r"chunk\(\): got both axis=1 and dim=1",
    ),
    "unbind_dim_range": (
        lambda lib, x: x.unbind(dim=-4),
        ValueError,
        r"^unbind\(\): dim -4 is out",
    ),
    "unbind_scalar": (
        lambda lib, x: lib.tensor(2.0).unbind(dim=0),
        ShapeError,
        r"^unbind\(\): a 0-d tensor",
    ),
    "transpose_dim_range": (
        lambda lib, x: x.transpose(dim0=3, dim1=0),
        ValueError,
        r"^transpose\(\): dim 3 is out",
    ),
    "transpose_both": (
        lambda lib, x: x.transpose(0, 1, dim0=1, dim1=2),
        TypeError,
        r"transpose\(\): got both axis0=0 and dim0=1",
    ),
    "squeeze_dim_range": (
        lambda lib, x: x.squeeze(dim=5),
        ValueError,
        r"^squeeze\(\): dim 5 is out",
    ),
    "squeeze_both": (
        lambda lib, x: x.squeeze(0, dim=0),
        TypeError,
        r"squeeze\(\): got both axis=0 and dim=0",
    ),
    "unsqueeze_dim_range": (
        lambda lib, x: x.unsqueeze(dim=4),
        ValueError,
        r"^unsqueeze\(\): dim 4 is out of range for a 3-d tensor \(dims -4 to 3 insert one\)",
    ),
    "unsqueeze_dim_float": (
        lambda lib, x: x.unsqueeze(dim=1.0),
        TypeError,
        r"^unsqueeze\(\): dim must be an int",
    ),
    "unsqueeze_both": (
        lambda lib, x: x.unsqueeze(0, dim=0),
        TypeError,
        r"unsqueeze\(\): got both axis=0 and dim=0",
    ),
    "unsqueeze_missing": (
        lambda lib, x: x.unsqueeze(),
        TypeError,
        r"^unsqueeze\(\): missing the axis",
    ),
    "cat_dim_range": (
        lambda lib, x: lib.cat([x, x], dim=3),
        ShapeError,
        r"^concat: dim 3 is out of range",
    ),
    "cat_both": (
        lambda lib, x: lib.cat([x, x], 1, dim=1),
        TypeError,
        r"concat\(\): got both axis=1 and dim=1",
    ),
    "cat_dim_float": (
        lambda lib, x: lib.cat([x, x], dim=1.0),
        TypeError,
        r"^concat\(\): dim must be an int",
    ),
    "cat_shapes_dim": (
        lambda lib, x: lib.cat([x, x[:1, :1]], dim=2),
        ShapeError,
        r"^concat: shapes .* differ outside dim 2",
    ),
    "stack_dim_range": (
        lambda lib, x: lib.stack([x, x], dim=4),
        ShapeError,
        r"^stack: dim 4 is out of range for tensors of shape \(2, 3, 4\) \(dims -4 to 3 insert",
    ),
    "stack_both": (
        lambda lib, x: lib.stack([x, x], 0, dim=0),
        TypeError,
        r"stack\(\): got both axis=0 and dim=0",
    ),
    "unflatten_product": (
        lambda lib, x: x.unflatten(2, (3, 2)),
        ValueError,
        r"^unflatten\(\): sizes \[3, 2\] do not multiply up to the length 4",
    ),
    "unflatten_two_inferred": (
        lambda lib, x: x.unflatten(2, (-1, -1)),
        ValueError,
        r"^unflatten\(\): sizes \[-1, -1\] may hold one -1",
    ),
    "unflatten_negative": (
        lambda lib, x: x.unflatten(2, (2, -2)),
        ValueError,
        r"^unflatten\(\): sizes \[2, -2\]",
    ),
    "unflatten_no_sizes": (
        lambda lib, x: x.unflatten(2, ()),
        ValueError,
        r"^unflatten\(\): sizes must not be empty",
    ),
    "unflatten_dim_range": (
        lambda lib, x: x.unflatten(3, (2, 2)),
        ValueError,
        r"^unflatten\(\): dim 3 is out",
    ),
    "unflatten_scalar": (
        lambda lib, x: lib.tensor(1.0).unflatten(0, (1,)),
        ShapeError,
        r"^unflatten\(\): a 0-d tensor",
    ),
}


@pytest.mark.parametrize("name", ERRORS)
def test_dim_errors_name_method_and_spelling(name: str) -> None:
    """Each mistake is refused by torch too; ours is a clear error naming the method and
    the spelling the caller used."""
    torch = pytest.importorskip("torch")
    code, error, message = ERRORS[name]
    with pytest.raises((TypeError, ValueError, IndexError, RuntimeError)):
        code(torch, torch.tensor(CUBE))
    with pytest.raises(error, match=message):
        code(rg, _x())


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (lambda x: x.split(2, axis=3), r"^split\(\): axis 3 is out"),
        (
            lambda x: x.unsqueeze(-5),
            r"^unsqueeze\(\): axis -5 is out of range .* \(axes -4 to 3 insert one\)",
        ),
        (lambda x: rg.stack([x, x], axis=-5), r"^stack: axis -5 is out of range"),
        (lambda x: rg.cat([x, x], axis=3), r"^concat: axis 3 is out of range"),
        (lambda x: x.transpose(0, 3), r"^transpose\(\): axis 3 is out"),
    ],
)
def test_axis_errors_keep_saying_axis(code: Callable, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        code(_x())


INTEGER_INPUTS = {
    "int64": np.array([0, 1, 2, 5], dtype=np.int64),
    "int32": np.array([1, 3, 4, 9], dtype=np.int32),
    "bool": np.array([True, False, True]),
}


@pytest.mark.parametrize("dtype", ["int64", "int32"])
@pytest.mark.parametrize("name", ["sqrt", "rsqrt", "relu", "abs"])
def test_integer_input_dtype_matches_torch(name: str, dtype: str) -> None:
    """sqrt and rsqrt of integers give float32; relu and abs keep integers, as PyTorch."""
    torch = pytest.importorskip("torch")
    array = INTEGER_INPUTS[dtype]
    expected = getattr(torch, name)(torch.tensor(array))
    with np.errstate(divide="ignore"):  # rsqrt(0) = inf, as torch
        out = getattr(rg, name)(rg.tensor(array))
    assert out.dtype == np.dtype(str(expected.dtype).removeprefix("torch."))
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["int64", "int32"])
@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid"])
def test_integer_input_of_the_step_functions_takes_numpy_dtype(name: str, dtype: str) -> None:
    """exp, log, tanh and sigmoid, which every LSTM and GRU step calls, take no dtype test:
    integers give NumPy's float64 (PyTorch: float32), with PyTorch's values."""
    torch = pytest.importorskip("torch")
    array = INTEGER_INPUTS[dtype]
    expected = getattr(torch, name)(torch.tensor(array))
    with np.errstate(divide="ignore"):  # log(0) = -inf, as torch
        out = getattr(rg, name)(rg.tensor(array))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-6)


def test_sigmoid_of_booleans_is_refused_naming_the_op() -> None:
    with pytest.raises(TypeError, match=r"^sigmoid: not defined for operands of dtypes bool"):
        rg.tensor([True, False]).sigmoid()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sigmoid"])
def test_float_input_keeps_its_dtype(name: str, dtype: type) -> None:
    x = rg.tensor([0.5, 2.0], dtype=dtype, requires_grad=True)
    out = getattr(x, name)()
    out.sum().backward()
    assert out.dtype == dtype and x.grad.dtype == dtype


# Torch functions named as one of our methods that retrograd deliberately has as methods only.
METHOD_ONLY = {
    "dtype": "torch.dtype is the class of dtypes, not a function of a tensor",
}


def test_every_method_torch_has_as_a_function_is_one() -> None:
    """A Tensor method whose name torch also has as a function is a function of rg too,
    except the in-place methods (name ending in _, as torch.zero_), which stay methods, and
    the deliberate omissions in METHOD_ONLY."""
    torch = pytest.importorskip("torch")
    names = {n for n in dir(rg.Tensor) if not n.startswith("_") and not n.endswith("_")}
    in_torch = {n for n in names if callable(getattr(torch, n, None))}
    missing = sorted(n for n in in_torch - METHOD_ONLY.keys() if not callable(getattr(rg, n, None)))
    assert not missing, f"torch has these as functions, rg does not: {missing}"
    assert METHOD_ONLY.keys() <= in_torch  # no stale entries
