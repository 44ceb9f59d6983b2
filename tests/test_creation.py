"""Creation functions: tensor() from lists holding tensors, and arguments refused by name."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import functional as F


def test_tensor_of_zero_d_tensors_copies_their_values() -> None:
    x, y = rg.tensor([1.0, 2.0]), rg.tensor([3.0, 4.0, 5.0])
    t = rg.tensor([x.sum(), y.sum()])
    assert t.dtype == np.float32 and t.shape == (2,)
    assert t.is_leaf and not t.requires_grad
    np.testing.assert_array_equal(t.data, [3.0, 12.0])


def test_tensor_of_tensors_and_numbers_nests_like_lists() -> None:
    y = rg.tensor([1.0, 2.0, 3.0])
    t = rg.tensor([[y[0], 7.0], (y[1], y[2])])
    np.testing.assert_array_equal(t.data, [[1.0, 7.0], [2.0, 3.0]])
    rows = rg.tensor([y, [4.0, 5.0, 6.0]])
    assert rows.shape == (2, 3) and rows.dtype == np.float32
    y.data[0] = 9.0  # the copy shares no memory with its sources
    assert t.data[0, 0] == 1.0 and rows.data[0, 0] == 1.0


def test_tensor_of_tensors_requiring_grad_warns_and_does_not_differentiate() -> None:
    x = rg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="requires grad"):
        t = rg.tensor([x.sum(), (x * x).sum()], requires_grad=True)
    assert t.is_leaf and t.requires_grad
    t.sum().backward()
    assert x.grad is None
    np.testing.assert_array_equal(t.grad, [1.0, 1.0])


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([np.float64(1.0), np.float64(2.0)], np.float64),  # tensors keep their dtype, as arrays
        ([np.float64(1.0), 2.0], np.float64),
        ([np.float32(1.0), 2], np.float32),  # NumPy would widen int64 with float32 to float64
        ([np.int32(1), np.int32(2)], np.int32),
        ([np.int32(1), 2.5], np.float32),  # a Python float counts as float32
        ([np.int64(1), 2], np.int64),
        ([np.bool_(True), False], np.bool_),
        ([np.bool_(True), 2], np.int64),
        ([np.float16(1.0), 2], np.float16),
    ],
)
def test_tensor_of_tensors_takes_pytorchs_dtype(items: list, expected: type) -> None:
    """Items that are NumPy scalars become 0-d tensors of that dtype; the others stay numbers."""
    values = [rg.tensor(np.asarray(v)) if isinstance(v, np.generic) else v for v in items]
    assert rg.tensor(values).dtype == expected


def test_tensor_of_tensors_keeps_the_dtype_of_the_same_values_as_an_array() -> None:
    a, b = rg.tensor(np.ones(3)), rg.tensor(np.zeros(3))
    assert rg.tensor([a, b]).dtype == rg.tensor(np.stack([a.data, b.data])).dtype == np.float64
    assert rg.tensor([a, b], dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(
    ("data", "shapes"),
    [
        ([[1, 2], [3]], r"\(2,\), \(1,\)"),
        ([[[1, 2], [3, 4]], [[5, 6], [7]]], r"\(2,\), \(1,\)"),
        ([rg.ones(3), rg.ones(2)], r"\(3,\), \(2,\)"),
        ([rg.ones(3), [1.0, 2.0]], r"\(3,\), \(2,\)"),
        ([[1.0, 2.0], np.ones(3)], r"\(2,\), \(3,\)"),
    ],
)
def test_tensor_of_ragged_lists_names_the_shapes(data: list, shapes: str) -> None:
    with pytest.raises(
        ValueError, match=rf"tensor\(\): nested sequences must be rectangular.*{shapes}"
    ):
        rg.tensor(data)


def test_tensor_of_non_numeric_items_with_tensors_is_refused() -> None:
    with pytest.raises(TypeError, match="must be numeric, got dtype <U1"):
        rg.tensor([rg.tensor(1.0), "a"])


def test_tensor_of_a_tensor_is_a_copy() -> None:
    x = rg.tensor(np.array([1.0, 2.0]))
    t = rg.tensor(x)
    assert t.dtype == np.float64 and not np.shares_memory(t.data, x.data)
    w = rg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match=r"detach\(\)\.clone\(\)"):
        copy = rg.tensor(w)
    assert copy.is_leaf and not copy.requires_grad


@pytest.mark.parametrize("join", [rg.concat, rg.stack])
def test_concat_and_stack_refuse_a_single_tensor(join) -> None:
    """Iterating a tensor would join its rows: concat(x) gave shape (12,) without an error."""
    x = rg.ones(3, 4)
    with pytest.raises(TypeError, match=rf"{join.__name__}\(\): tensors must be a list or tuple"):
        join(x)
    with pytest.raises(TypeError, match="got ndarray"):
        join(np.ones((3, 4)))


def test_concat_and_stack_take_any_iterable() -> None:
    x = rg.ones(3, 4)
    assert rg.concat(t for t in (x, x)).shape == (6, 4)
    assert rg.stack(iter([x, x]), axis=1).shape == (3, 2, 4)


def test_from_numpy_refuses_non_numeric_arrays() -> None:
    with pytest.raises(
        TypeError, match="from_numpy\\(\\): array must be numeric, got dtype object"
    ):
        rg.from_numpy(np.array([None]))


@pytest.mark.parametrize("args", [(float("nan"),), (0, float("inf")), (0, 1, float("nan"))])
def test_arange_refuses_non_finite_arguments(args: tuple) -> None:
    with pytest.raises(ValueError, match=r"arange\(\): start, stop and step must be finite"):
        rg.arange(*args)


@pytest.mark.parametrize(
    ("args", "sign"),
    [
        ((0, 5, -1), "positive"),
        ((5, 0), "negative"),
        ((-5,), "negative"),
        ((0.0, 1.0, -0.5), "positive"),
    ],
)
def test_arange_refuses_a_step_leading_away_from_the_end(args: tuple, sign: str) -> None:
    """As PyTorch: NumPy gives an empty array, hiding swapped bounds."""
    with pytest.raises(ValueError, match=rf"arange\(\): step=.* leads away.*start=.*stop=.*{sign}"):
        rg.arange(*args)


@pytest.mark.parametrize("args", [(5, 5), (5, 5, -1), (0,), (2.5, 2.5, 0.5)])
def test_arange_with_equal_bounds_is_empty(args: tuple) -> None:
    assert rg.arange(*args).shape == (0,)


def test_one_hot_infers_the_classes_by_default_as_pytorch() -> None:
    """num_classes=-1, the default, is the largest index + 1 (torch.nn.functional.one_hot)."""
    index = rg.tensor([[0], [3]])
    for out in (rg.one_hot(index), rg.one_hot(index, -1), rg.one_hot([[0], [3]], num_classes=-1)):
        assert out.shape == (2, 1, 4) and out.dtype == np.float32
        np.testing.assert_array_equal(out.data, [[[1, 0, 0, 0]], [[0, 0, 0, 1]]])
    assert rg.one_hot([0, 2], 5).shape == (2, 5)
    assert rg.one_hot(np.array([], dtype=np.int64), 3).shape == (0, 3)


def test_one_hot_refuses_to_infer_the_classes_of_no_indices() -> None:
    with pytest.raises(ValueError, match=r"one_hot\(\): cannot infer num_classes .* empty"):
        rg.one_hot(np.array([], dtype=np.int64))


@pytest.mark.parametrize(("indices", "classes"), [([0, 2], 0), ([0, 2], -2), ([], 0)])
def test_one_hot_refuses_a_count_that_is_not_positive(indices: list, classes: int) -> None:
    with pytest.raises(ValueError, match=rf"one_hot\(\): num_classes must be positive.*{classes}"):
        rg.one_hot(np.array(indices, dtype=np.int64), classes)


@pytest.mark.parametrize("classes", [2.0, True, "3"])
def test_one_hot_refuses_a_count_that_is_not_an_int(classes) -> None:
    with pytest.raises(TypeError, match=r"one_hot\(\): num_classes must be an int"):
        rg.one_hot([0, 1], classes)


def test_one_hot_names_a_negative_index_when_inferring() -> None:
    with pytest.raises(IndexError, match=r"one_hot\(\): index -3 is out of range.*largest index"):
        rg.one_hot([-3, 2])


@pytest.mark.parametrize("fill", ["a", [1.0, 2.0], rg.ones(2), 1 + 2j])
def test_full_refuses_a_fill_value_that_is_not_a_number(fill) -> None:
    """NumPy broadcast a list silently and raised its own error for a string."""
    with pytest.raises(TypeError, match=r"full\(\): fill_value must be a number"):
        rg.full(2, fill)


def test_full_takes_a_zero_d_tensor_as_its_value() -> None:
    assert rg.full(2, rg.tensor(3)).dtype == np.int64
    np.testing.assert_array_equal(rg.full(2, rg.tensor(0.5)).data, [0.5, 0.5])


def test_zeros_like_and_ones_like_take_a_dtype() -> None:
    x = rg.ones(2, 3)
    assert rg.zeros_like(x, dtype=np.float64).dtype == np.float64
    assert rg.ones_like(x, dtype=np.int64).dtype == np.int64
    assert rg.ones_like(x).dtype == np.float32


def test_cross_entropy_refuses_integer_logits() -> None:
    """As PyTorch: integer logits gave a float64 loss, silently."""
    with pytest.raises(
        TypeError, match=r"cross_entropy\(\): logits must be floating, got dtype int64"
    ):
        F.cross_entropy(rg.tensor([[1, 2]]), [0])
