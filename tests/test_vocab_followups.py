"""Follow-ups to the PyTorch vocabulary: every result of a 0-d tensor holds an ndarray (never
a NumPy scalar), squeeze(dim) of a dim whose size is not 1, and max/min of two tensors."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd.free_functions import NAMES
from retrograd.autograd.tensor import Tensor

# ---------------------------------------------------------------------------------------
# A Tensor's data is always an ndarray, whatever produced it from a 0-d tensor.

DTYPES = ("float64", "float32", "int64", "bool")
FLOATING = ("float64", "float32")

Arguments = Callable[[Tensor], tuple[tuple, dict]]


def _args(*args: Any, **kwargs: Any) -> Arguments:
    """Fixed arguments after the tensor."""
    return lambda x: (args, kwargs)


def _with_self(*extra: Any) -> Arguments:
    """The tensor itself as the argument (a second operand of its shape), then `extra`."""
    return lambda x: ((x.clone(), *extra), {})


INDEX = np.array(0)

# The arguments of the methods (and of their function forms) that need some; the tensor is
# 0-d unless SHAPES gives the shape it takes (the method needs axes, or a 0-d result comes
# from a 1-d or 2-d input, as dot's and trace's).
ARGUMENTS: dict[str, Arguments] = {
    **{name: _with_self() for name in ("add_", "sub_", "mul_", "div_", "copy_", "allclose")},
    **{name: _with_self() for name in ("atan2", "hypot", "pow", "equal", "isclose")},
    **{name: _with_self() for name in ("eq", "ne", "lt", "le", "gt", "ge")},
    **{name: _with_self() for name in ("logical_and", "logical_or", "logical_xor")},
    **{name: _with_self() for name in ("expand_as", "reshape_as", "view_as", "type_as")},
    **{name: _with_self() for name in ("dot", "matmul", "mm", "bmm", "outer")},
    "addmm": _with_self(np.ones((1, 1))),
    "mv": lambda x: ((x.reshape(1),), {}),
    "astype": _args(np.float32),
    "unflatten": _args(0, (1,)),
    "chunk": _args(1),
    "split": _args(1),
    "clamp": _args(min=0),
    "clip": _args(max=0),
    "clamp_max": _args(0),
    "clamp_min": _args(0),
    "cumprod": _args(0),
    "cumsum": _args(0),
    "fill_": _args(1),
    "lerp": _with_self(0.5),
    "where": lambda x: ((np.array(True), x.clone()), {}),
    "gather": _args(0, INDEX),
    "index_select": _args(0, INDEX),
    "index_add": lambda x: ((0, np.array([0]), x.clone()), {}),
    "take_along_dim": _args(INDEX),
    "scatter": lambda x: ((0, INDEX, x.clone()), {}),
    "scatter_add": lambda x: ((0, INDEX, x.clone()), {}),
    "masked_fill": _args(np.array(True), 0),
    "masked_select": _args(np.array(True)),
    "moveaxis": _args(0, 0),
    "movedim": _args(0, 0),
    "swapaxes": _args(0, -1),
    "swapdims": _args(0, -1),
    "transpose": _args(0, -1),
    "narrow": _args(0, 0, 1),
    "new_full": _args((), 2),
    "new_tensor": _args(np.float64(2.0)),
    "roll": _args(1),
    "topk": _args(1),
    "kthvalue": _args(1),
    "unsqueeze": _args(0),
}
SHAPES: dict[str, tuple[int, ...]] = {
    **dict.fromkeys(("dot", "matmul", "outer", "chunk", "split", "unbind", "diag"), (1,)),
    **dict.fromkeys(("index_add", "moveaxis", "movedim", "narrow", "unflatten"), (1,)),
    **dict.fromkeys(("mm", "mv", "addmm", "trace", "tril", "triu", "diagonal"), (1, 1)),
    "bmm": (1, 1, 1),
}
NOT_CALLED = {
    "backward": "returns nothing",
    "retain_grad": "returns the tensor itself",
    "requires_grad_": "returns the tensor itself",
}

UNARY_OPERATORS = (operator.neg, operator.invert, abs, operator.pos)
BINARY_OPERATORS = (
    *(operator.add, operator.sub, operator.mul, operator.truediv, operator.pow),
    *(operator.and_, operator.or_, operator.xor),
    *(operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge),
)


def _zero_d(dtype: str) -> Tensor:
    return rg.tensor(np.ones((), dtype=dtype))


def _tensors(result: Any) -> list[Tensor]:
    """The tensors in a result, also inside tuples and lists."""
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, tuple | list):
        return [t for item in result for t in _tensors(item)]
    return []


def _methods() -> list[str]:
    return sorted(
        name
        for name in dir(Tensor)
        if not name.startswith("_")
        and callable(getattr(Tensor, name))
        and not isinstance(getattr(Tensor, name), type)
        and name not in NOT_CALLED
        and not isinstance(_static(name), property)
    )


def _static(name: str) -> Any:
    for klass in Tensor.__mro__:
        if name in vars(klass):
            return vars(klass)[name]
    return None


def _call(function: Callable[..., Any], name: str, dtype: str, strict: bool) -> list[Tensor]:
    """`function(x, *arguments)` on a tensor of `dtype` shaped for `name`: its tensors. Unless
    `strict`, a refusal gives none (refusals are other tests' business)."""
    x = _zero_d(dtype).reshape(SHAPES.get(name, ()))
    args, kwargs = ARGUMENTS.get(name, _args())(x)
    if strict:
        return _tensors(function(x, *args, **kwargs))
    try:
        return _tensors(function(x, *args, **kwargs))
    except (TypeError, ValueError, RuntimeError):
        return []


def _scalar_holders(calls: dict[str, Callable[[], list[Tensor]]]) -> list[str]:
    return [
        f"{label}: {type(t._data)}"
        for label, call in calls.items()
        for t in call()
        if type(t._data) is not np.ndarray
    ]


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_method_of_a_0d_tensor_gives_ndarray_data(dtype: str) -> None:
    strict = dtype in FLOATING

    def method(name: str) -> Callable[..., Any]:
        return lambda x, *args, **kwargs: getattr(x, name)(*args, **kwargs)

    calls = {
        name: lambda name=name: _call(method(name), name, dtype, strict) for name in _methods()
    }
    assert not _scalar_holders(calls)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_function_form_on_a_0d_tensor_gives_ndarray_data(dtype: str) -> None:
    strict = dtype in FLOATING
    calls = {
        name: lambda name=name: _call(getattr(rg, name), name, dtype, strict) for name in NAMES
    }
    assert not _scalar_holders(calls)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_operator_on_a_0d_tensor_gives_ndarray_data(dtype: str) -> None:
    operations = {op.__name__: op for op in UNARY_OPERATORS}
    operations["getitem"] = lambda x: x[()]
    for op in BINARY_OPERATORS:
        for other in (1, 1.5, True, _zero_d(dtype)):
            operations[f"{op.__name__}(x, {other!r})"] = lambda x, op=op, o=other: op(x, o)
            operations[f"{op.__name__}({other!r}, x)"] = lambda x, op=op, o=other: op(o, x)
    calls = {
        label: lambda op=op: _call(op, "", dtype, strict=False) for label, op in operations.items()
    }
    assert not _scalar_holders(calls)


# The module-level functions that are not method forms, called to give 0-d tensors where
# they can; NOT_TENSOR_FUNCTIONS make no tensor from a tensor.
FUNCTION_CALLS: dict[str, Callable[[Tensor], Any]] = {
    "addmm": lambda x: rg.addmm(x, x.reshape(1, 1), x.reshape(1, 1)),
    "arange": lambda x: rg.arange(1),
    "as_tensor": lambda x: rg.as_tensor(np.float64(1.0)),
    "atleast_1d": lambda x: rg.atleast_1d(x),
    "atleast_2d": lambda x: rg.atleast_2d(x),
    "bernoulli": lambda x: rg.bernoulli(x * 0.5),
    "bmm": lambda x: rg.bmm(x.reshape(1, 1, 1), x.reshape(1, 1, 1)),
    "broadcast_tensors": lambda x: rg.broadcast_tensors(x, x),
    "cat": lambda x: rg.cat([x.reshape(1), x.reshape(1)]),
    "concat": lambda x: rg.concat([x.reshape(1), x.reshape(1)]),
    "dot": lambda x: rg.dot(x.reshape(1), x.reshape(1)),
    "einsum": lambda x: rg.einsum("i,i", x.reshape(1), x.reshape(1)),
    "empty": lambda x: rg.empty(()),
    "eye": lambda x: rg.eye(1),
    "from_numpy": lambda x: rg.from_numpy(np.ones(())),
    "full": lambda x: rg.full((), 2.0),
    "full_like": lambda x: rg.full_like(x, 2.0),
    "hstack": lambda x: rg.hstack([x, x]),
    "linear": lambda x: rg.linear(x.reshape(1), x.reshape(1, 1)),
    "linspace": lambda x: rg.linspace(0, 1, 1),
    "matmul": lambda x: rg.matmul(x.reshape(1), x.reshape(1)),
    "maximum": lambda x: rg.maximum(x, x),
    "meshgrid": lambda x: rg.meshgrid(x, x),
    "minimum": lambda x: rg.minimum(x, 0.0),
    "mm": lambda x: rg.mm(x.reshape(1, 1), x.reshape(1, 1)),
    "multinomial": lambda x: rg.multinomial(x.reshape(1), 1),
    "mv": lambda x: rg.mv(x.reshape(1, 1), x.reshape(1)),
    "normal": lambda x: rg.normal(x, x),
    "one_hot": lambda x: rg.one_hot(np.array(0), 2),
    "one_hot_linear": lambda x: rg.one_hot_linear(np.array(0), x.reshape(1, 1)),
    "ones": lambda x: rg.ones(()),
    "ones_like": lambda x: rg.ones_like(x),
    "outer": lambda x: rg.outer(x.reshape(1), x.reshape(1)),
    "rand": lambda x: rg.rand(()),
    "rand_like": lambda x: rg.rand_like(x),
    "randint": lambda x: rg.randint(2, ()),
    "randn": lambda x: rg.randn(()),
    "randn_like": lambda x: rg.randn_like(x),
    "randperm": lambda x: rg.randperm(1),
    "stack": lambda x: rg.stack([x, x]),
    "take": lambda x: rg.take(x.reshape(1, 1), np.array(0)),
    "tensor": lambda x: rg.tensor(np.float64(1.0)),
    "tensordot": lambda x: rg.tensordot(x.reshape(1), x.reshape(1), dims=1),
    "trace": lambda x: rg.trace(x.reshape(1, 1)),
    "vstack": lambda x: rg.vstack([x, x]),
    "where": lambda x: rg.where(np.array(True), x, x),
    "zeros": lambda x: rg.zeros(()),
    "zeros_like": lambda x: rg.zeros_like(x),
}
NOT_TENSOR_FUNCTIONS = {
    *("CheckpointError", "Tensor", "autograd", "nn", "optim", "load", "save"),
    *("enable_grad", "no_grad", "set_grad_enabled", "is_grad_enabled", "is_tensor"),
    "manual_seed",
}


def test_every_module_function_is_checked_for_ndarray_data() -> None:
    unchecked = set(rg.__all__) - set(NAMES) - set(FUNCTION_CALLS) - NOT_TENSOR_FUNCTIONS
    assert not unchecked


@pytest.mark.parametrize("dtype", FLOATING)
def test_every_module_function_gives_ndarray_data(dtype: str) -> None:
    calls = {
        name: lambda call=call: _tensors(call(_zero_d(dtype)))
        for name, call in FUNCTION_CALLS.items()
    }
    assert not _scalar_holders(calls)


# ---------------------------------------------------------------------------------------
# squeeze and max/min of two tensors, against PyTorch (values and gradients, float64).


def _compare(ours: Callable[..., Any], theirs: Callable[..., Any], *arrays: np.ndarray) -> None:
    """`ours` and `theirs` of the same float64 inputs agree in values, dtype and gradients."""
    torch = pytest.importorskip("torch")
    ours_in = [rg.tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ours(*ours_in), theirs(*theirs_in)
    assert out.shape == tuple(expected.shape) and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = np.random.default_rng(1).standard_normal(out.shape)
    (out * rg.tensor(weights)).sum().backward()
    (expected * torch.as_tensor(weights)).sum().backward()
    for i, (o, t) in enumerate(zip(ours_in, theirs_in)):
        grad = np.zeros(o.shape) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(o.grad, grad, rtol=1e-10, atol=1e-12, err_msg=f"input {i}")


SQUEEZES = [
    ((2, 1, 3, 1), 0),
    ((2, 1, 3, 1), 2),
    ((2, 1, 3, 1), -1),
    ((2, 1, 3, 1), (0, 1)),
    ((2, 1, 3, 1), (0, 2)),
    ((2, 1, 3, 1), (-4, -2, -1)),
    ((2, 1, 3, 1), ()),
    ((2, 3), 0),
    ((0, 1), 0),
    ((0, 1), (0, 1)),
    ((), 0),
    ((), -1),
]


@pytest.mark.parametrize(("shape", "dim"), SQUEEZES, ids=str)
def test_squeeze_keeps_a_dim_whose_size_is_not_one_as_torch(shape: tuple, dim: Any) -> None:
    x = np.random.default_rng(0).standard_normal(shape)
    _compare(lambda a: a.squeeze(dim), lambda a: a.squeeze(dim), x)
    _compare(lambda a: rg.squeeze(a, dim), lambda a: a.squeeze(dim), x)


def _ties(*shape: int) -> np.ndarray:
    """Values in {-0.5, 0, 0.5}: the two operands meet equal values (the gradient splits)."""
    return np.random.default_rng(sum(shape)).integers(-1, 2, shape) / 2.0


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize(("shape", "other_shape"), [((3, 4), (3, 4)), ((3, 4), (4,)), ((), (2,))])
def test_max_min_of_two_tensors_are_elementwise_as_torch(
    op: str, shape: tuple, other_shape: tuple
) -> None:
    torch = pytest.importorskip("torch")
    x, y = _ties(*shape), _ties(*other_shape)
    theirs = getattr(torch, op)
    _compare(getattr(rg, op), theirs, x, y)
    _compare(lambda a, b: getattr(a, op)(b), lambda a, b: getattr(a, op)(b), x, y)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_of_a_tensor_and_an_array_take_the_array_as_a_constant(op: str) -> None:
    torch = pytest.importorskip("torch")
    y = _ties(4)
    theirs = getattr(torch, op)
    _compare(lambda a: getattr(rg, op)(a, y), lambda a: theirs(a, torch.as_tensor(y)), _ties(3, 4))


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_with_an_int_dim_still_reduce(op: str) -> None:
    torch = pytest.importorskip("torch")
    x = _ties(3, 4)
    _compare(lambda a: getattr(rg, op)(a, 1), lambda a: getattr(torch, f"a{op}")(a, 1), x)
    _compare(
        lambda a: getattr(rg, op)(a, dim=1).values,
        lambda a: getattr(torch, op)(a, dim=1).values,
        np.random.default_rng(2).standard_normal((3, 4)),
    )


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize(
    "kwargs", [{"keepdims": True}, {"dim": 0}, {"keepdim": True}], ids=lambda k: next(iter(k))
)
def test_max_min_of_two_tensors_refuse_axis_arguments(op: str, kwargs: dict) -> None:
    x, y = rg.ones((2, 3)), rg.ones(3)
    with pytest.raises(TypeError, match=rf"^{op}\(\): with a tensor as other .*not taken"):
        getattr(rg, op)(x, y, **kwargs)


def test_max_of_tensors_that_do_not_broadcast_names_both_shapes() -> None:
    with pytest.raises(rg.autograd.ShapeError, match=r"\(2, 3\).*\(4,\)"):
        rg.max(rg.ones((2, 3)), rg.ones(4))
