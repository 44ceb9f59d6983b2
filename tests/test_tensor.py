"""The Tensor API: dtype rules, creation functions, seeded randomness, properties, shapes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import cross_entropy

# Ops applied to a positive input `x` of shape (3, 4); each must keep x's float dtype.
DTYPE_CASES: dict[str, Callable[[rg.Tensor], object]] = {
    "mul_scalar": lambda x: x * 2.0,
    "rmul_scalar": lambda x: 2.0 * x,
    "rmul_numpy_scalar": lambda x: np.float64(2.0) * x,
    "add_int": lambda x: x + 1,
    "radd_scalar": lambda x: 0.5 + x,
    "sub_scalar": lambda x: x - 1.5,
    "rsub_scalar": lambda x: 2.0 - x,
    "div_scalar": lambda x: x / 3,
    "rdiv_scalar": lambda x: 1 / x,
    "div_tensor": lambda x: x / (x + 1.0),
    "pow_int": lambda x: x**2,
    "pow_float": lambda x: x**0.5,
    "rpow_scalar": lambda x: 2.0**x,
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "abs": lambda x: x.abs(),
    "clip": lambda x: x.clip(0.7, 1.2),
    "maximum_scalar": lambda x: rg.maximum(x, 1.0),
    "minimum_scalar": lambda x: rg.minimum(1.0, x),
    "where_scalar": lambda x: rg.where(x.data > 1.0, x, 0.0),
    "sum": lambda x: x.sum(),
    "mean": lambda x: x.mean(0),
    "var": lambda x: x.var(1, ddof=1),
    "max": lambda x: x.max(1),
    "min": lambda x: x.min(),
    "logsumexp": lambda x: x.logsumexp(1),
    "softmax": lambda x: x.softmax(),
    "log_softmax": lambda x: x.log_softmax(0),
    "matmul": lambda x: x @ rg.ones(4, 2, dtype=x.dtype),
    "linear": lambda x: rg.linear(x, rg.ones(2, 4, dtype=x.dtype), rg.zeros(2, dtype=x.dtype)),
    "cross_entropy": lambda x: cross_entropy(x, np.array([0, 3, 1])),
    "take": lambda x: rg.take(x, np.array([2, 2, 0])),
    "getitem": lambda x: x[np.array([0, 0]), 1:],
    "concat": lambda x: rg.concat([x, x * 2.0], axis=1),
    "stack": lambda x: rg.stack([x, x]),
    "unbind": lambda x: x.unbind(1),
    "split": lambda x: x.split(2, axis=1),
    "reshape": lambda x: x.reshape(2, 6),
    "permute": lambda x: x.T,
    "expand": lambda x: x[:, :1].expand(3, 5),
    "cast_roundtrip": lambda x: x.double().astype(x.dtype),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(DTYPE_CASES))
def test_ops_keep_float_dtype_in_values_and_gradients(name: str, dtype: type) -> None:
    x = rg.tensor(np.random.default_rng(0).uniform(0.5, 1.5, (3, 4)), dtype=dtype)
    x.requires_grad_()
    out = DTYPE_CASES[name](x)
    outputs = out if isinstance(out, tuple) else (out,)
    assert all(o.dtype == dtype for o in outputs)
    sum(o.sum() for o in outputs).backward()
    assert x.grad.dtype == dtype and x.grad.shape == x.shape


def test_cast_gradient_returns_to_source_dtype() -> None:
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64 and y.float().dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


@pytest.mark.parametrize(
    "make",
    [
        lambda: rg.tensor([1, 2], requires_grad=True),
        lambda: rg.zeros(2, dtype=np.int32, requires_grad=True),
        lambda: rg.tensor([True, False]).requires_grad_(),
        lambda: rg.arange(3).requires_grad_(),
    ],
    ids=["tensor", "zeros", "bool_requires_grad_", "arange_requires_grad_"],
)
def test_requires_grad_on_integer_tensor_raises(make: Callable[[], rg.Tensor]) -> None:
    with pytest.raises(TypeError, match="floating"):
        make()


def test_python_floats_default_to_float32() -> None:
    assert rg.tensor(1.5).dtype == np.float32
    assert rg.tensor([1.0, 2.0]).dtype == np.float32
    assert rg.tensor([[1, 2.5]]).dtype == np.float32
    assert rg.zeros(2).dtype == rg.ones(2).dtype == rg.full(2, 0.5).dtype == np.float32
    assert rg.randn(2, generator=0).dtype == rg.rand(2, generator=0).dtype == np.float32
    assert rg.tensor([1, 2]).dtype == np.int64


def test_numpy_float64_is_kept() -> None:
    array = np.array([1.0, 2.0])
    assert rg.tensor(array).dtype == np.float64
    assert rg.tensor(np.float64(1.5)).dtype == np.float64
    assert rg.from_numpy(array).dtype == np.float64
    assert rg.tensor([1.0], dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize(
    "data",
    [[rg.tensor(1.0), rg.tensor(2.0)], [rg.ones(3), rg.ones(3)], [[1.0], [rg.tensor(2.0)]]],
)
def test_constructor_refuses_lists_of_tensors_naming_tensor_and_stack(data: list) -> None:
    """NumPy makes such a list an array of objects; Tensor() said only "dtype object"."""
    with pytest.raises(TypeError, match=r"holds tensors.*rg\.tensor\(data\).*rg\.stack"):
        rg.Tensor(data)
    np.testing.assert_array_equal(rg.tensor(data).data, np.array(data, dtype=np.float32))


@pytest.mark.parametrize("dtype", [None, np.float32])
@pytest.mark.parametrize(
    ("data", "shapes"),
    [([[1, 2], [3]], r"\(2,\), \(1,\)"), ([rg.ones(3), rg.tensor(1.0)], r"\(3,\), \(\)")],
)
def test_constructor_names_the_shapes_of_a_ragged_list(data: list, shapes: str, dtype) -> None:
    """NumPy's own message spoke of an "inhomogeneous part" after some dimensions."""
    with pytest.raises(
        ValueError, match=rf"Tensor\(\): nested sequences must be rectangular.*{shapes}"
    ):
        rg.Tensor(data, dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
@pytest.mark.parametrize(("data", "item"), [(["a"], "'a'"), ([[1.0, 2.0], [3.0, "x"]], "'x'")])
def test_constructor_with_a_dtype_names_a_non_numeric_item(data: list, item: str, dtype) -> None:
    """NumPy's own message was "could not convert string to float"."""
    with pytest.raises(TypeError, match=rf"^Tensor\(\): data must hold numbers, got {item}$"):
        rg.Tensor(data, dtype=dtype)


def test_constructor_names_the_dtype_of_other_non_numeric_data() -> None:
    with pytest.raises(TypeError, match="must be numeric, got dtype object"):
        rg.Tensor([None, 1.0])


def test_tensor_copies_but_from_numpy_shares_memory() -> None:
    array = np.zeros(3)
    copied, shared = rg.tensor(array), rg.from_numpy(array)
    array[0] = 5.0
    assert copied.data[0] == 0.0 and shared.data[0] == 5.0
    assert np.shares_memory(shared.numpy(), array)


# ----- seeded randomness -----
@pytest.mark.parametrize("sample", [rg.randn, rg.rand])
def test_random_same_seed_gives_same_values(sample: Callable[..., rg.Tensor]) -> None:
    a, b, c = sample(3, 4, generator=7), sample(3, 4, generator=7), sample(3, 4, generator=8)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(a.data, c.data)
    from_generator = sample((3, 4), generator=np.random.default_rng(7))
    np.testing.assert_array_equal(a.data, from_generator.data)
    assert a.shape == (3, 4)


def test_random_generator_is_advanced_not_copied() -> None:
    rng = np.random.default_rng(1)
    first, second = rg.randn(5, generator=rng), rg.randn(5, generator=rng)
    assert not np.array_equal(first.data, second.data)


def test_random_leaves_numpy_global_state_alone() -> None:
    before = np.random.get_state()
    rg.randn(4, generator=3)
    rg.rand(4, generator=np.random.default_rng(3))
    rg.randn(4)
    rg.rand(2, 2, dtype=np.float64, requires_grad=True)
    after = np.random.get_state()
    assert before[0] == after[0] and before[2:] == after[2:]
    np.testing.assert_array_equal(before[1], after[1])


def test_rand_is_in_unit_interval() -> None:
    values = rg.rand(1000, generator=0).data
    assert values.min() >= 0.0 and values.max() < 1.0


# ----- creation -----
def test_creation_functions_fill_and_shape() -> None:
    np.testing.assert_array_equal(rg.zeros(2, 3).data, np.zeros((2, 3)))
    np.testing.assert_array_equal(rg.ones((2, 3)).data, np.ones((2, 3)))
    np.testing.assert_array_equal(rg.full((2,), 7.5).data, [7.5, 7.5])
    assert rg.full(3, 1, dtype=np.int64).dtype == np.int64
    x = rg.tensor(np.ones((2, 3)), dtype=np.float64)
    assert rg.zeros_like(x).dtype == np.float64 and rg.ones_like(x).shape == (2, 3)
    assert rg.zeros(2, requires_grad=True).requires_grad


def test_arange_follows_numpy() -> None:
    np.testing.assert_array_equal(rg.arange(4).data, [0, 1, 2, 3])
    assert rg.arange(4).dtype == np.int64
    np.testing.assert_array_equal(rg.arange(1, 2, 0.25).data, [1.0, 1.25, 1.5, 1.75])
    assert rg.arange(1, 2, 0.25).dtype == np.float32
    assert rg.arange(3, dtype=np.float64).dtype == np.float64
    assert rg.arange(10, step=3).tolist() == np.arange(10, step=3).tolist() == [0, 3, 6, 9]
    assert rg.arange(2, -2, -1).tolist() == [2, 1, 0, -1]


# ----- conversion and properties -----
def test_numpy_shares_data_and_refuses_graph_tensors() -> None:
    x = rg.tensor([1.0, 2.0])
    assert x.numpy() is x.data
    y = rg.tensor([1.0], requires_grad=True) * 2.0
    with pytest.raises(RuntimeError, match="detach"):
        y.numpy()
    np.testing.assert_array_equal(y.detach().numpy(), [2.0])


def test_item_and_python_conversions() -> None:
    assert rg.tensor([[2.5]]).item() == 2.5
    assert isinstance(rg.tensor(3).item(), int)
    assert float(rg.tensor(1.5)) == 1.5 and int(rg.tensor(4)) == 4
    assert bool(rg.tensor(1.0)) and rg.tensor([[1, 2]]).tolist() == [[1, 2]]


def test_properties_describe_the_array() -> None:
    x = rg.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.size == 24 and len(x) == 2
    assert x.dtype == np.float32
    assert x.T.shape == (4, 3, 2)
    assert rg.tensor(np.arange(6.0).reshape(2, 3)).T.data.tolist() == [[0, 3], [1, 4], [2, 5]]
    assert x.is_leaf and x.grad_fn is None and x.grad is None


def test_repr_shows_values_and_autograd_state() -> None:
    assert repr(rg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(rg.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert "dtype=float64" in repr(rg.tensor(np.array([1.0])))
    assert "grad_fn=mul" in repr(rg.tensor([1.0], requires_grad=True) * 2.0)
    assert "name='w'" in repr(rg.Tensor([1.0], name="w"))


def test_name_must_be_a_str_or_none() -> None:
    with pytest.raises(TypeError, match="Tensor name must be a str or None, got int 5"):
        rg.Tensor([1.0], name=5)
    t = rg.Tensor([1.0], name="w")
    with pytest.raises(TypeError, match="got tuple"):
        t.name = ("w",)
    assert t.name == "w"
    t.name = None
    assert t.name is None and (t * 2.0).name is None


def test_comparisons_return_tensors_without_grad() -> None:
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = rg.tensor([3.0, 2.0, 1.0])
    results = {
        "lt": (x < y, [True, False, False]),
        "le": (x <= 2.0, [True, True, False]),
        "gt": (x > y, [False, False, True]),
        "ge": (x >= 2, [False, True, True]),
        "eq": (x == y, [False, True, False]),
        "ne": (x != y, [True, False, True]),
    }
    for name, (result, expected) in results.items():
        assert isinstance(result, rg.Tensor), name
        assert result.dtype == np.bool_ and not result.requires_grad and result.grad_fn is None
        assert result.tolist() == expected, name


def test_comparison_with_none_is_a_plain_bool_as_in_pytorch() -> None:
    x = rg.tensor([1.0, 2.0])
    assert (x == None) is False and (x != None) is True  # noqa: E711
    assert x not in [None] and x in [None, x]


def test_argmax_gives_indices_without_grad() -> None:
    x = rg.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], requires_grad=True)
    assert x.argmax().item() == 3
    assert x.argmax(1).tolist() == [1, 0]
    assert x.argmax(0, keepdims=True).shape == (1, 3)
    assert not x.argmax().requires_grad


def test_shapes_take_numpy_integers() -> None:
    n = np.int64(3)
    assert rg.zeros(2, n).shape == rg.full((n, 2), 1.0).shape[::-1] == (2, 3)
    assert rg.randn(np.array([2, 3]), generator=0).shape == (2, 3)
    assert rg.zeros(6).reshape(np.int32(2), n).permute(np.int8(1), 0).shape == (3, 2)


def test_shape_methods_give_expected_shapes() -> None:
    x = rg.zeros(2, 3, 4)
    assert x.reshape(6, 4).shape == (6, 4)
    assert x.reshape((4, -1)).shape == (4, 6)
    assert x.view(24).shape == (24,)
    assert x.flatten().shape == (24,)
    assert x.permute(2, 0, 1).shape == (4, 2, 3)
    assert x.permute((1, 2, 0)).shape == (3, 4, 2)
    assert x.transpose().shape == (2, 4, 3)
    assert x.transpose(0, 2).shape == (4, 3, 2)
    assert rg.zeros(3, 1).expand(2, 3, 5).shape == (2, 3, 5)
    assert rg.zeros(3, 1).broadcast_to((3, 4)).shape == (3, 4)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert rg.zeros(1, 3, 1).squeeze().shape == (3,)
    assert rg.zeros(1, 3, 1).squeeze(2).shape == (1, 3)
    assert [p.shape for p in x.unbind(1)] == [(2, 4)] * 3
    assert [p.shape for p in x.split([1, 3], axis=2)] == [(2, 3, 1), (2, 3, 3)]
    assert [p.shape for p in x.split(np.int64(3), axis=2)] == [(2, 3, 3), (2, 3, 1)]
    assert [p.shape for p in x.split([0, 2, 0], axis=0)] == [(0, 3, 4), (2, 3, 4), (0, 3, 4)]


def test_iterating_gives_the_slices_along_the_first_axis() -> None:
    x = rg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    first, _, last = x
    assert first.tolist() == [0.0, 1.0] and last.tolist() == [4.0, 5.0]
    (first * 2.0 + last).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]])
    assert list(rg.zeros(0, 2)) == []


def test_mean_of_no_elements_is_nan():
    assert np.isnan(rg.zeros(0).mean().item())
    assert np.isnan(rg.zeros(2, 0).mean(axis=1).data).all()


def test_division_by_a_python_number_divides() -> None:
    # Multiplying by the reciprocal rounds twice: 49 * (1 / 49) is 0.9999999999999999.
    assert (rg.tensor(np.array([49.0])) / 49).item() == 1.0
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        quotient = rg.tensor([1.0, -2.0]) / 0
    assert quotient.tolist() == [np.inf, -np.inf] and quotient.dtype == np.float32


@pytest.mark.parametrize(("values", "ddof"), [([3.0], 1), ([3.0, 4.0], 3), ([], 0)])
def test_var_without_degrees_of_freedom_warns_and_gives_numpys_value(values, ddof) -> None:
    # Both divide by a count of zero or less: NumPy's divide warnings are expected.
    with np.errstate(divide="ignore", invalid="ignore"):
        with pytest.warns(RuntimeWarning, match="[Dd]egrees of freedom"):
            expected = np.var(np.array(values), ddof=ddof)
        with pytest.warns(RuntimeWarning, match="degrees of freedom"):
            got = rg.tensor(np.array(values)).var(ddof=ddof).item()
    np.testing.assert_array_equal(got, expected)  # NaN (0 / 0) or inf, as NumPy


WEIGHT = rg.tensor(np.eye(2))
# Each builds its call with `a` applied to its array operands: rg.tensor, or a conversion.
ARRAY_OPERANDS: dict[str, Callable[[Callable[[np.ndarray], object]], rg.Tensor]] = {
    "take": lambda a: rg.take(a(np.ones((3, 2))), [0, 2]),
    "linear_input": lambda a: rg.linear(a(np.ones((2, 2))), WEIGHT),
    "linear_weight_bias": lambda a: rg.linear(WEIGHT, a(np.ones((2, 2))), a(np.ones(2))),
    "linear_residual": lambda a: rg.linear(WEIGHT, WEIGHT, residual=a(np.ones(2))),
    "one_hot_linear": lambda a: rg.one_hot_linear([0, 1], a(np.ones((2, 3))), a(np.ones(2))),
    "cross_entropy": lambda a: cross_entropy(a(np.ones((2, 3))), [0, 1]),
    "matmul": lambda a: rg.matmul(a(np.ones((2, 2))), a(np.ones(2))),
}


@pytest.mark.parametrize("name", sorted(ARRAY_OPERANDS))
@pytest.mark.parametrize("given", ["ndarray", "list"])
def test_functions_take_arrays_and_lists_as_constant_operands(name: str, given: str) -> None:
    convert = np.asarray if given == "ndarray" else np.ndarray.tolist
    result = ARRAY_OPERANDS[name](convert)
    expected = ARRAY_OPERANDS[name](rg.tensor)
    assert isinstance(result, rg.Tensor)
    np.testing.assert_allclose(result.data, expected.data)
