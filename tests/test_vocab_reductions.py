"""PyTorch's names for reductions, comparisons and conversions, against torch: values and
gradients in float64, dim/keepdim and axis/keepdims, 0-d and empty inputs, and errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import retrograd as rg

RTOL = 1e-10
ATOL = 1e-12

DISTINCT = (np.random.default_rng(3).permutation(24) * 0.25 - 3.0).reshape(2, 3, 4)
TIES = np.array([[1.0, 3.0, 3.0, -2.0], [-2.0, -2.0, 0.5, 0.5], [4.0, 4.0, 4.0, 4.0]])
WITH_NAN = np.array([[1.0, np.nan, -2.0], [np.nan, np.nan, 3.0]])
WITH_ZEROS = np.array([[0.0, 0.0, 0.0], [1.5, 0.0, -2.0]])


def _both(ours: Callable, theirs: Callable, array: np.ndarray, grad: bool = True) -> None:
    """`ours` of a retrograd tensor and `theirs` of a torch tensor holding `array` agree on
    values and, with `grad`, on the gradient of a random weighted sum of the output."""
    torch = pytest.importorskip("torch")
    x = rg.tensor(array.copy(), dtype=np.float64, requires_grad=grad)
    tx = torch.tensor(array.copy(), dtype=torch.float64, requires_grad=grad)
    out, expected = ours(x), theirs(tx)
    assert out.shape == tuple(expected.shape)
    assert out.dtype == np.dtype(str(expected.dtype).removeprefix("torch."))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=RTOL, atol=ATOL)
    if not grad:
        return
    weights = np.random.default_rng(0).normal(size=out.shape)
    (out * rg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=RTOL, atol=ATOL)


SAME: dict[str, tuple[Callable, np.ndarray]] = {
    "sum_dim": (lambda t: t.sum(dim=1), DISTINCT),
    "sum_dims_keepdim": (lambda t: t.sum(dim=(0, 2), keepdim=True), DISTINCT),
    "sum_negative_dim": (lambda t: t.sum(-1, True), DISTINCT),
    "mean_dims": (lambda t: t.mean(dim=(-1, 0)), DISTINCT),
    "mean_keepdim": (lambda t: t.mean(dim=1, keepdim=True), DISTINCT),
    "prod_dim": (lambda t: t.prod(dim=-1), DISTINCT),
    "logsumexp_dim": (lambda t: t.logsumexp(dim=(0, 1), keepdim=True), DISTINCT),
    "softmax_dim": (lambda t: t.softmax(dim=0), DISTINCT),
    "log_softmax_dim": (lambda t: t.log_softmax(dim=1), DISTINCT),
    "var_correction": (lambda t: t.var(dim=1, correction=1), DISTINCT),
    "var_unbiased_false": (lambda t: t.var(unbiased=False), DISTINCT),
    "var_correction_2": (lambda t: t.var(dim=(0, 2), correction=2, keepdim=True), DISTINCT),
    "std_correction": (lambda t: t.std(dim=-1, correction=0), DISTINCT),
    "std_unbiased": (lambda t: t.std(dim=(0, 1), unbiased=True, keepdim=True), DISTINCT),
    "std_constant_rows": (lambda t: t.std(dim=1, correction=1), WITH_ZEROS[:1]),
    "amax": (lambda t: t.amax(), TIES),
    "amax_dim_ties": (lambda t: t.amax(dim=1), TIES),
    "amax_dims_keepdim": (lambda t: t.amax(dim=(0, -1), keepdim=True), DISTINCT),
    "amin_dim_ties": (lambda t: t.amin(-1, True), TIES),
    "amin_dim0": (lambda t: t.amin(dim=0), TIES),
    "nansum": (lambda t: t.nansum(), WITH_NAN),
    "nansum_dim": (lambda t: t.nansum(dim=1, keepdim=True), WITH_NAN),
    "nanmean_dim": (lambda t: t.nanmean(dim=1), WITH_NAN),
    "norm": (lambda t: t.norm(), DISTINCT),
    "norm_fro_dims": (lambda t: t.norm("fro", dim=(1, 2)), DISTINCT),
    "norm_2_dim": (lambda t: t.norm(2, dim=1, keepdim=True), DISTINCT),
    "norm_2_zero_row": (lambda t: t.norm(dim=1), WITH_ZEROS),
    "norm_1": (lambda t: t.norm(1, dim=-1), DISTINCT),
    "norm_inf_ties": (lambda t: t.norm(float("inf"), dim=1), TIES),
    "norm_minus_inf": (lambda t: t.norm(float("-inf"), dim=0), DISTINCT),
    "norm_3": (lambda t: t.norm(3, dim=(0, 2)), DISTINCT),
    "norm_half": (lambda t: t.norm(0.5), TIES + 5.0),
    "norm_3_zero_row": (lambda t: t.norm(3, dim=1), WITH_ZEROS),
    "norm_half_zeros": (lambda t: t.norm(0.5, dim=1), WITH_ZEROS),
    "norm_minus_1_zeros": (lambda t: t.norm(-1, dim=1), WITH_ZEROS),
    "clone": (lambda t: t.clone() * 2, DISTINCT),
    "half_back": (lambda t: t.half().double(), TIES),
    "to_double": (lambda t: t.to("cpu").to(t.dtype) * 3, DISTINCT),
    "zero_d_sum": (lambda t: t.sum(dim=0), np.array(2.5)),
    "zero_d_amax": (lambda t: t.amax(dim=-1, keepdim=True), np.array(2.5)),
    "zero_d_norm": (lambda t: t.norm(), np.array(-2.5)),
    "empty_sum": (lambda t: t.sum(dim=0), np.zeros((0, 3))),
    "empty_amax_other_dim": (lambda t: t.amax(dim=1), np.zeros((0, 3))),
    "empty_norm": (lambda t: t.norm(dim=0), np.zeros((0, 3))),
}


@pytest.mark.parametrize("name", SAME)
def test_reduction_matches_torch(name: str) -> None:
    fn, array = SAME[name]
    _both(fn, fn, array)


THEIRS: dict[str, tuple[Callable, Callable, np.ndarray]] = {
    # Ours takes NumPy's names too; torch takes dim and keepdim.
    "sum_axis": (
        lambda t: t.sum(axis=1, keepdims=True),
        lambda t: t.sum(1, keepdim=True),
        DISTINCT,
    ),
    "amax_axis": (lambda t: t.amax(axis=(0, 1)), lambda t: t.amax((0, 1)), DISTINCT),
    "norm_axis": (
        lambda t: t.norm(axis=2, keepdims=True),
        lambda t: t.norm(dim=2, keepdim=True),
        DISTINCT,
    ),
    "var_ddof": (lambda t: t.var(1, ddof=1), lambda t: t.var(1, correction=1), DISTINCT),
    "std_default_biased": (lambda t: t.std(), lambda t: t.std(correction=0), DISTINCT),
    "max_values": (lambda t: t.max(dim=1).values, lambda t: t.max(dim=1).values, DISTINCT),
    "max_keepdim": (
        lambda t: t.max(dim=-1, keepdim=True)[0],
        lambda t: t.max(-1, True)[0],
        DISTINCT,
    ),
    # Ties: max(dim) gives the whole gradient to the first index, amax shares it.
    "max_values_ties": (lambda t: t.max(dim=1).values, lambda t: t.max(dim=1).values, TIES),
    "min_values_ties": (lambda t: t.min(dim=1)[0], lambda t: t.min(dim=1)[0], TIES),
    "min_values": (lambda t: t.min(dim=0).values, lambda t: t.min(dim=0).values, DISTINCT),
    "max_zero_d": (lambda t: t.max(dim=0).values, lambda t: t.max(dim=0).values, np.array(1.5)),
    "max_empty_other_dim": (lambda t: t.max(dim=1)[0], lambda t: t.max(dim=1)[0], np.zeros((0, 3))),
    "new_tensor_is_leaf": (
        lambda t: t * t.new_tensor([1, 2, 3, 4]),
        lambda t: t * t.new_tensor([1, 2, 3, 4]),
        TIES,
    ),
    "type_as": (
        lambda t: t.type_as(t.float()).double(),
        lambda t: t.type_as(t.float()).double(),
        DISTINCT,
    ),
}


@pytest.mark.parametrize("name", THEIRS)
def test_torch_spelling_matches_torch(name: str) -> None:
    ours, theirs, array = THEIRS[name]
    _both(ours, theirs, array)


NO_GRAD: dict[str, tuple[Callable, np.ndarray]] = {
    "max_indices_ties": (lambda t: t.max(dim=-1).indices, TIES),
    "max_indices": (lambda t: t.max(dim=1).indices, DISTINCT),
    "min_indices_keepdim": (lambda t: t.min(dim=-1, keepdim=True).indices, DISTINCT),
    "argmax_dim": (lambda t: t.argmax(dim=1, keepdim=True), DISTINCT),
    "argmin_dim": (lambda t: t.argmin(dim=-1), DISTINCT),
    "all": (lambda t: t.all(), WITH_ZEROS),
    "all_dim": (lambda t: t.all(dim=1), WITH_ZEROS),
    "any_dims_keepdim": (lambda t: t.any(dim=(0, 1), keepdim=True), WITH_ZEROS),
    "any_empty": (lambda t: t.any(dim=0), np.zeros((0, 3))),
    "all_zero_d": (lambda t: t.all(dim=0), np.array(0.0)),
    "count_nonzero": (lambda t: t.count_nonzero(), WITH_ZEROS),
    "count_nonzero_dim": (lambda t: t.count_nonzero(dim=-1), WITH_ZEROS),
    "count_nonzero_dims": (lambda t: t.count_nonzero(dim=(0, 1)), WITH_ZEROS),
    "norm_0": (lambda t: t.norm(0, dim=1), WITH_ZEROS),
    "eq": (lambda t: t.eq(0.0), WITH_ZEROS),
    "ne": (lambda t: t.ne(t[:1]), WITH_ZEROS),
    "lt": (lambda t: t.lt(1.5), WITH_ZEROS),
    "le": (lambda t: t.le(1.5), WITH_ZEROS),
    "gt": (lambda t: t.gt(t[1:]), WITH_ZEROS),
    "ge": (lambda t: t.ge(0.0), WITH_ZEROS),
    "logical_not": (lambda t: t.logical_not(), WITH_ZEROS),
    "logical_and": (lambda t: t.logical_and(t[1:]), WITH_ZEROS),
    "logical_or": (lambda t: t.logical_or(t[:1]), WITH_ZEROS),
    "logical_xor": (lambda t: t.logical_xor(t[1:]), WITH_ZEROS),
    "isclose": (lambda t: t.isclose(t[1:] + 1e-9), WITH_ZEROS),
    "isclose_tolerances": (lambda t: t.isclose(t + 0.01, rtol=0.0, atol=0.02), WITH_ZEROS),
    "isclose_nan": (lambda t: t.isclose(t, equal_nan=True), WITH_NAN),
    "isclose_nan_unequal": (lambda t: t.isclose(t), WITH_NAN),
    "nanmean_all_nan_column": (lambda t: t.nanmean(dim=0), WITH_NAN),
    "long": (lambda t: t.long(), DISTINCT),
    "int": (lambda t: t.int(), DISTINCT),
    "bool": (lambda t: t.bool(), WITH_ZEROS),
    "new_zeros": (lambda t: t.new_zeros(2, 3), DISTINCT),
    "new_ones_shape": (lambda t: t.new_ones((4,)), DISTINCT),
    "new_full": (lambda t: t.new_full((2, 1), 7.5), DISTINCT),
    "new_empty_size": (lambda t: t.new_empty(0, 2) + 1, DISTINCT),
}


@pytest.mark.parametrize("name", NO_GRAD)
def test_result_without_gradient_matches_torch(name: str) -> None:
    fn, array = NO_GRAD[name]
    _both(fn, fn, array, grad=False)


def test_max_dim_gives_values_and_indices_as_torch() -> None:
    result = rg.tensor([[2.0, 5.0, 5.0]]).max(dim=1)
    assert isinstance(result, tuple) and result._fields == ("values", "indices")
    values, indices = result
    assert values.data.tolist() == [5.0] and indices.data.tolist() == [1]
    assert indices.dtype == np.int64


def test_nanmean_gives_nan_values_no_gradient() -> None:
    # torch's gradient is NaN at the NaNs of an all-NaN slice (NaN times the mask's 0).
    x = rg.tensor(WITH_NAN, requires_grad=True)
    x.nanmean(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.5, 0.0, 0.5], [0.0, 0.0, 1.0]])
    assert np.isnan(rg.tensor([np.nan]).nanmean().item())


def test_whole_tensor_answers_match_torch() -> None:
    torch = pytest.importorskip("torch")
    a, b = np.array([[1.0, 2.0], [3.0, np.nan]]), np.array([[1.0, 2.0 + 1e-7], [3.0, np.nan]])
    ours, theirs = rg.tensor(a), torch.tensor(a)
    for rtol, atol, equal_nan in [(1e-5, 1e-8, False), (1e-5, 1e-8, True), (0.0, 1e-9, True)]:
        got = ours.allclose(rg.tensor(b), rtol, atol, equal_nan)
        assert got is torch.allclose(theirs, torch.tensor(b), rtol, atol, equal_nan)
    x = rg.tensor([[1, 2], [3, 4]])
    assert x.equal(rg.tensor([[1, 2], [3, 4]])) is True
    assert x.equal(rg.tensor([1, 2])) is False and x.equal(rg.tensor([[1, 2], [3, 5]])) is False
    assert (x.numel(), x.nelement(), x.dim(), x.element_size()) == (4, 4, 2, 8)
    assert rg.tensor(1.0).dim() == 0 and rg.tensor([1.0]).half().element_size() == 2


def test_clone_has_its_own_memory_and_keeps_the_dtype() -> None:
    for x in (rg.tensor([1.0, 2.0], requires_grad=True), rg.tensor([1, 2]), rg.tensor([True])):
        copy = x.clone()
        assert not np.shares_memory(copy.data, x.data)
        assert copy.dtype == x.dtype and copy.requires_grad == x.requires_grad


def test_to_takes_a_dtype_a_device_or_a_tensor() -> None:
    x = rg.tensor([1.5, 2.0])
    assert x.to("cpu") is x and x.to(device="cpu") is x and x.to(np.float32) is x
    assert x.to("float64").dtype == np.float64 and x.to(dtype=np.int64).dtype == np.int64
    assert x.to("cpu", np.float64).dtype == np.float64
    assert x.to(rg.tensor([1], dtype=np.int32)).dtype == np.int32
    copy = x.to("cpu", copy=True)
    assert copy is not x and not np.shares_memory(copy.data, x.data)


def test_half_tensors_can_require_grad_as_in_torch() -> None:
    x = rg.tensor([1.0, -2.0], requires_grad=True)
    y = x.half()
    assert y.dtype == np.float16 and y.requires_grad
    (y * 3).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [3.0, 3.0]


def test_new_tensors_take_this_dtype_and_arguments() -> None:
    x = rg.tensor([1, 2], dtype=np.int32)
    assert x.new_tensor([1.7, 2.2]).dtype == np.int32  # converted as torch.new_tensor
    assert x.new_zeros(2, dtype=np.float64).dtype == np.float64
    grown = rg.tensor([1.0]).new_ones(2, 2, requires_grad=True)
    assert grown.requires_grad and grown.is_leaf and grown.shape == (2, 2)
    source = np.array([1.0, 2.0])
    copied = rg.tensor([0.0]).new_tensor(source)
    source[0] = 9.0
    assert copied.data.tolist() == [1.0, 2.0]


def test_detach__makes_a_freed_result_or_a_leaf_a_plain_leaf() -> None:
    torch = pytest.importorskip("torch")
    leaf = rg.tensor([1.0, 2.0], requires_grad=True)
    assert leaf.detach_() is leaf and not leaf.requires_grad and leaf.is_leaf
    assert torch.ones(2, requires_grad=True).detach_().requires_grad is False
    w = rg.tensor([1.0, 2.0], requires_grad=True)
    hidden = w * 2
    (hidden * 3).sum().backward()
    hidden.detach_()
    assert hidden.is_leaf and not hidden.requires_grad and hidden.grad_fn is None
    (hidden * w).sum().backward()  # the next step's graph stops at the detached tensor
    assert w.grad.tolist() == [8.0, 10.0]


def test_detach__refuses_what_would_lose_gradients() -> None:
    torch = pytest.importorskip("torch")
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^detach_\(\): cannot detach a view in place"):
        x[1:].detach_()
    with pytest.raises(RuntimeError, match="view"):
        torch.ones(3, requires_grad=True)[1:].detach_()
    y = x * 2
    z = (y * 3).sum()
    with pytest.raises(RuntimeError, match=r"^detach_\(\): the graph through this tensor is"):
        y.detach_()
    z.backward()
    assert x.grad.tolist() == [6.0, 6.0, 6.0] and y.requires_grad


def test_fill__follows_the_in_place_rules() -> None:
    x = rg.tensor([[1.0, 2.0]])
    version = x.version
    assert x.fill_(3) is x and x.data.tolist() == [[3.0, 3.0]] and x.version > version
    x.fill_(rg.tensor(-1.0))
    assert x.data.tolist() == [[-1.0, -1.0]]
    with pytest.raises(RuntimeError, match=r"^fill_: in-place operation on a tensor that"):
        rg.tensor([1.0], requires_grad=True).fill_(0.0)
    with pytest.raises(TypeError, match=r"^fill_: cannot write float64 values into a tensor"):
        rg.tensor([1, 2]).fill_(0.5)
    with rg.no_grad():
        rg.tensor([1.0], requires_grad=True).fill_(2.0)


ERRORS: list[tuple[Callable[[], Any], type, str]] = [
    (
        lambda: rg.tensor([[1.0]]).sum(dim=2),
        ValueError,
        r"^sum\(\): dim 2 is out of range for a 2-d",
    ),
    (lambda: rg.tensor([[1.0]]).amax(dim=-3), ValueError, r"^amax\(\): dim -3 is out of range"),
    (
        lambda: rg.tensor([[1.0]]).mean(dim=1.0),
        TypeError,
        r"^mean\(\): dim must be an int or a tuple",
    ),
    (
        lambda: rg.tensor([[1.0]]).sum(axis=0, dim=0),
        TypeError,
        r"^sum\(\): got both axis=0 and dim=0",
    ),
    (
        lambda: rg.tensor([1.0]).sum(keepdims=True, keepdim=True),
        TypeError,
        r"^sum\(\): got both keepdims",
    ),
    (
        lambda: rg.tensor([1.0]).softmax(0, dim=0),
        TypeError,
        r"^softmax\(\): got both axis=0 and dim=0",
    ),
    (
        lambda: rg.tensor([[1.0]]).max(dim=(0, 1)),
        TypeError,
        r"^max\(\): dim must be an int, got \(0, 1\)",
    ),
    (lambda: rg.tensor([[1.0]]).min(dim=2), ValueError, r"^min\(\): dim 2 is out of range"),
    (
        lambda: rg.zeros((2, 0)).max(dim=1),
        ValueError,
        r"^max\(\): no largest value along axis 1 of an",
    ),
    (lambda: rg.zeros((2, 0)).amin(dim=1), ValueError, r"^amin: the minimum over the empty axis 1"),
    (lambda: rg.tensor([1.0]).argmax(dim=1), ValueError, r"^argmax\(\): dim 1 is out of range"),
    (
        lambda: rg.tensor([1.0, 2.0]).var(ddof=1, correction=1),
        TypeError,
        r"^var\(\): got ddof and correction",
    ),
    (
        lambda: rg.tensor([1.0, 2.0]).std(unbiased=1),
        TypeError,
        r"^std\(\): unbiased must be a bool, got 1",
    ),
    (
        lambda: rg.tensor([1.0, 2.0]).var(correction="1"),
        TypeError,
        r"^var\(\): correction must be a number",
    ),
    (
        lambda: rg.tensor([1, 2]).norm(),
        TypeError,
        r"^norm\(\): needs a floating tensor, got dtype int64",
    ),
    (lambda: rg.tensor([[1.0]]).norm("nuc"), ValueError, r"^norm\(\): p must be 'fro' or a number"),
    (lambda: rg.tensor([1, 2]).nanmean(), TypeError, r"^nanmean\(\): needs a floating tensor"),
    (lambda: rg.tensor([[1.0]]).all(dim=3), ValueError, r"^all\(\): dim 3 is out of range"),
    (
        lambda: rg.tensor([[1.0]]).count_nonzero(dim="0"),
        TypeError,
        r"^count_nonzero\(\): dim must be",
    ),
    (
        lambda: rg.tensor([1.0, 2.0]).eq(rg.zeros(3)),
        ValueError,
        r"^eq: operands with shapes \(2,\) and \(3,\)",
    ),
    (
        lambda: rg.tensor([1.0, 2.0]).logical_or([1, 0, 1]),
        ValueError,
        r"^logical_or: operands with shapes",
    ),
    (
        lambda: rg.tensor([1.0, 2.0]).isclose(rg.zeros(3)),
        ValueError,
        r"^isclose: operands with shapes",
    ),
    (
        lambda: rg.tensor([1.0]).to("cuda"),
        ValueError,
        r"^to\(\): 'cuda' is not an available device",
    ),
    (
        lambda: rg.tensor([1.0]).to(device="mps"),
        ValueError,
        r"^to\(\): 'mps' is not an available device",
    ),
    (lambda: rg.tensor([1.0]).to(3.5), TypeError, r"^to\(\): 3.5 is neither a dtype nor a device"),
    (
        lambda: rg.tensor([1.0]).to("cpu", np.float32, np.float64),
        TypeError,
        r"^to\(\): takes a device and a dtype",
    ),
    (
        lambda: rg.tensor([1.0]).type_as(np.zeros(2)),
        TypeError,
        r"^type_as\(\): other must be a Tensor",
    ),
    (
        lambda: rg.tensor([1.0]).new_zeros(2, -1),
        ValueError,
        r"^new_zeros\(\): sizes must not be negative",
    ),
    (lambda: rg.tensor([1.0]).new_ones(2.5), TypeError, r"^new_ones\(\): size must be integers"),
    (
        lambda: rg.tensor([1.0]).new_full((2,), 1.0, device="cuda:0"),
        ValueError,
        r"^new_full\(\): 'cuda:0'",
    ),
    (
        lambda: rg.tensor([1.0, 2.0]).fill_(rg.tensor([1.0, 2.0])),
        ValueError,
        r"^fill_\(\): value must be a number",
    ),
    (
        lambda: rg.tensor([1]).new_zeros(2, requires_grad=True),
        TypeError,
        r"^requires_grad=True needs a floating",
    ),
]


@pytest.mark.parametrize(("call", "error", "message"), ERRORS, ids=[m for _, _, m in ERRORS])
def test_mistakes_are_named(call: Callable[[], Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()


FUNCTION_FORMS = [
    ("amax", (1,)),
    ("amin", ()),
    ("norm", ()),
    ("all", ()),
    ("any", ()),
    ("count_nonzero", ()),
    ("nansum", ()),
    ("nanmean", ()),
    ("clone", ()),
    ("numel", ()),
    ("eq", (0.0,)),
    ("ne", (0.0,)),
    ("lt", (1.0,)),
    ("le", (1.0,)),
    ("gt", (1.0,)),
    ("ge", (1.0,)),
    ("logical_not", ()),
    ("logical_and", (WITH_ZEROS[::-1],)),
    ("logical_or", (WITH_ZEROS[::-1],)),
    ("logical_xor", (WITH_ZEROS[::-1],)),
    ("isclose", (WITH_ZEROS[::-1],)),
    ("allclose", (WITH_ZEROS,)),
    ("equal", (WITH_ZEROS[::-1],)),
]


@pytest.mark.parametrize(("name", "args"), FUNCTION_FORMS, ids=[n for n, _ in FUNCTION_FORMS])
def test_function_form_matches_torch(name: str, args: tuple) -> None:
    torch = pytest.importorskip("torch")
    theirs_args = [torch.tensor(a.copy()) if isinstance(a, np.ndarray) else a for a in args]
    ours = getattr(rg, name)(WITH_ZEROS, *args)  # an array becomes a constant tensor
    theirs = getattr(torch, name)(torch.tensor(WITH_ZEROS), *theirs_args)
    if isinstance(theirs, bool | int):
        assert type(ours) is type(theirs) and ours == theirs
    else:
        np.testing.assert_array_equal(ours.data, theirs.numpy())
        assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
