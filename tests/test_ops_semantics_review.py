"""Tensor ops at the edges PyTorch users reach: broadcasting bounds, empty tensors, odd
indices. Expected values are PyTorch 2.13's, written out so the tests run without it."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import ShapeError


def test_clip_bounds_that_broadcast_the_result_give_the_summed_gradient() -> None:
    x = rg.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    y = x.clip(rg.tensor(np.zeros((2, 3))), rg.tensor(1.0))
    assert y.shape == (2, 3)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 0.0])
    x.grad = None
    x.clip(max=np.array([[0.0], [1.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 1.0, 0.0])


def test_clip_at_numpy_scalars_keeps_the_tensors_dtype() -> None:
    x = rg.tensor([1.0, 5.0], requires_grad=True)
    y = x.clip(np.float64(0.5), np.float64(2.5))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, [1.0, 2.5])
    assert rg.tensor(np.array([1, 5], np.int32)).clip(np.int64(2)).dtype == np.int32


def test_max_of_an_empty_tensor_over_other_axes_is_empty() -> None:
    x = rg.tensor(np.zeros((0, 3)), requires_grad=True)
    y = x.max(1)
    assert y.shape == (0,)
    assert x.min(-1, keepdims=True).shape == (0, 1)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((0, 3)))
    for reduce in (lambda: x.max(), lambda: x.max(0), lambda: x.min((0, 1))):
        with pytest.raises(
            ShapeError, match=r"over the empty axis 0 of a tensor of shape \(0, 3\)"
        ):
            reduce()


def test_argmax_of_an_empty_tensor_names_its_shape() -> None:
    x = rg.tensor(np.zeros((0, 3)))
    assert x.argmax(1).shape == (0,)
    with pytest.raises(ShapeError, match=r"argmax\(\): .* empty tensor of shape \(0, 3\)"):
        x.argmax()
    with pytest.raises(ShapeError, match="along axis 0"):
        x.argmax(0)


def test_getitem_takes_a_list_of_0d_tensors_and_sums_repeats() -> None:
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x[[rg.tensor(2), rg.tensor(2), 0]]
    np.testing.assert_array_equal(y.data, [3.0, 3.0, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 2.0])


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((3, 3, 4), r"^expand: cannot expand shape \(2, 3, 4\) to \(3, 3, 4\): axis 0 of size 2 "),
        ((2, 1, 4), r"axis 1 of size 3 would become 1 \(only axes of size 1 expand\)"),
        ((-2, 3, 4), r"^expand: shape \(-2, 3, 4\) has the negative size -2 at axis 0$"),
    ],
)
def test_expand_refusal_names_the_axis_that_cannot_expand(shape, message) -> None:
    with pytest.raises(ShapeError, match=message):
        rg.tensor(np.zeros((2, 3, 4))).expand(*shape)


def test_split_of_an_empty_axis_gives_one_empty_piece() -> None:
    x = rg.tensor(np.zeros((0, 2)), requires_grad=True)
    (piece,) = x.split(2)
    assert piece.shape == (0, 2)
    (piece * 2.0).sum().backward()
    assert x.grad.shape == (0, 2)
    assert [p.shape for p in x.split(1, axis=-1)] == [(0, 1), (0, 1)]


def test_split_refuses_a_bool_size() -> None:
    with pytest.raises(TypeError, match="split_size must be an int or a list of ints, got True"):
        rg.tensor(np.zeros((3, 2))).split(True)


def test_min_errors_name_min() -> None:
    x = rg.tensor(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"^min\(\): axis 2 is out of range for a 2-d tensor$"):
        x.min(2)
    with pytest.raises(ShapeError, match=r"^min: the minimum over the empty axis 0 of a tensor"):
        x.min(0)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_errors_name_the_function_called(op: str) -> None:
    x = rg.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=rf"^{op}\(\): axis 2 is out of range for a 2-d tensor$"):
        getattr(x, op)(2)
    with pytest.raises(TypeError, match=rf"^{op}\(\): axis must be an int"):
        getattr(x, op)("1")


def test_std_is_the_root_of_var_with_a_zero_gradient_where_it_is_zero() -> None:
    # torch.tensor([[1., 1, 1], [1, 2, 4]]).std(1, correction=0) and its gradient.
    x = rg.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]], requires_grad=True, dtype=np.float64)
    y = x.std(1)
    np.testing.assert_allclose(y.data, [0.0, np.sqrt(14 / 9)])
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0, 0], [-0.35634832, -0.08908708, 0.4454354]])
    np.testing.assert_allclose(x.std(ddof=1).data, np.sqrt(x.var(ddof=1).data))
    assert x.std((0, 1), keepdims=True).shape == (1, 1)


def test_std_errors_and_warnings_name_std() -> None:
    x = rg.tensor([[1.0, 2.0]])
    with pytest.raises(ValueError, match=r"^std\(\): axis 2 is out of range"):
        x.std(2)
    with pytest.raises(TypeError, match=r"^std\(\): ddof must be a number, got '1'"):
        x.std(ddof="1")
    # var divides 0 by a count of 0, as NumPy: its invalid-value warning is expected.
    freedom = pytest.warns(RuntimeWarning, match=r"^std\(\): degrees of freedom <= 0")
    with np.errstate(invalid="ignore"), freedom:
        assert np.isnan(x.std(0, ddof=1).data).all()


def test_prod_gradient_with_zeros_is_the_product_of_the_others() -> None:
    # As torch.prod: no zero gives out / x; one zero gives the product of the others
    # there and 0 elsewhere; two zeros give 0 everywhere.
    x = rg.tensor([[2.0, 4.0, 3.0], [2.0, 0.0, 3.0], [0.0, 0.0, 3.0]], requires_grad=True)
    y = x.prod(1)
    np.testing.assert_array_equal(y.data, [24.0, 0.0, 0.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [[12.0, 6.0, 8.0], [0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])
    assert x.prod().item() == 0.0 and x.prod(0, keepdims=True).shape == (1, 3)
    assert rg.tensor(np.zeros((0, 3))).prod(0).tolist() == [1.0, 1.0, 1.0]
    assert rg.tensor([True, False]).prod().dtype == np.int64


def test_prod_errors_name_prod() -> None:
    with pytest.raises(ValueError, match=r"^prod\(\): axis 2 is out of range for a 2-d tensor"):
        rg.tensor(np.ones((2, 3))).prod(2)
    with pytest.raises(TypeError, match=r"^prod\(\): axis must be an int or a tuple of ints"):
        rg.tensor(np.ones((2, 3))).prod(1.0)


def test_argmin_finds_the_first_smallest_value() -> None:
    x = rg.tensor([[3.0, 1.0, 1.0], [0.5, 2.0, 0.5]])
    assert x.argmin().item() == 3
    assert x.argmin(1).tolist() == [1, 0]
    assert x.argmin(0, keepdims=True).tolist() == [[1, 0, 1]]
    assert x.argmin(keepdims=True).shape == (1, 1)
    assert rg.tensor(5.0).argmin(0).item() == 0
    assert not x.argmin().requires_grad


def test_argmin_errors_name_argmin() -> None:
    with pytest.raises(ValueError, match=r"^argmin\(\): axis 2 is out of range"):
        rg.tensor(np.ones((2, 3))).argmin(2)
    with pytest.raises(ShapeError, match=r"^argmin\(\): no smallest value along axis 0 of an"):
        rg.tensor(np.zeros((0, 3))).argmin(0)


@pytest.mark.parametrize(
    ("length", "chunks", "sizes"),
    [(5, 3, [2, 2, 1]), (6, 4, [2, 2, 2]), (5, 4, [2, 2, 1]), (2, 5, [1, 1]), (0, 3, [0, 0, 0])],
)
def test_chunk_cuts_as_torch(length: int, chunks: int, sizes: list[int]) -> None:
    x = rg.tensor(np.arange(2.0 * length).reshape(2, length), requires_grad=True)
    pieces = x.chunk(chunks, axis=-1)
    assert [p.shape[1] for p in pieces] == sizes
    np.testing.assert_array_equal(np.concatenate([p.data for p in pieces], axis=1), x.data)
    sum((p * float(i)).sum() for i, p in enumerate(pieces)).backward()
    np.testing.assert_array_equal(x.grad[0], np.repeat(np.arange(len(sizes)), sizes))


def test_chunk_refuses_bad_arguments() -> None:
    x = rg.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"^chunk\(\): chunks must be positive, got 0"):
        x.chunk(0)
    with pytest.raises(TypeError, match=r"^chunk\(\): chunks must be an int, got 2.0"):
        x.chunk(2.0)
    with pytest.raises(ValueError, match=r"^chunk\(\): axis 2 is out of range"):
        x.chunk(2, axis=2)
    with pytest.raises(ShapeError, match=r"^chunk\(\): a 0-d tensor has no axis to chunk along"):
        rg.tensor(1.0).chunk(2)


def test_flatten_merges_a_range_of_axes() -> None:
    x = rg.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert x.flatten().shape == (24,)
    assert x.flatten(1).shape == (2, 12)
    assert x.flatten(0, 1).shape == (6, 4)
    assert x.flatten(-2, -1).shape == (2, 12)
    assert x.flatten(1, 1).shape == (2, 3, 4)
    assert rg.tensor(1.0).flatten().shape == (1,)
    assert rg.tensor(np.zeros((2, 0, 3))).flatten(1).shape == (2, 0)
    x.flatten(0, 1).sum().backward()
    assert x.grad.shape == (2, 3, 4)


def test_flatten_refuses_bad_dims() -> None:
    x = rg.tensor(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"^flatten\(\): start_dim 2 comes after end_dim 1"):
        x.flatten(2, 1)
    with pytest.raises(ValueError, match=r"^flatten\(\): axis 3 is out of range for a 3-d"):
        x.flatten(3)
    with pytest.raises(TypeError, match=r"^flatten\(\): axis must be an int"):
        x.flatten(0, 1.0)


def test_bitwise_operators_follow_torch_dtypes() -> None:
    b = rg.tensor([True, False])
    i = rg.tensor([3, 5])
    for result, values, dtype in [
        (b & rg.tensor([True, True]), [True, False], np.bool_),
        (b | True, [True, True], np.bool_),
        (b ^ b, [False, False], np.bool_),
        (~b, [False, True], np.bool_),
        (True & b, [True, False], np.bool_),
        (b ^ 1, [0, 1], np.int64),
        (i & b, [1, 0], np.int64),
        (~i, [-4, -6], np.int64),
        (rg.tensor(np.array([3, 5], np.int32)) & 3, [3, 1], np.int32),
    ]:
        assert result.tolist() == values and result.dtype == dtype
        assert not result.requires_grad and result.grad_fn is None


@pytest.mark.parametrize(
    ("apply", "message"),
    [
        (lambda b, f: b & f, r"^bitwise_and \(&\): .* got dtypes bool and float32"),
        (lambda b, f: f | b, r"^bitwise_or \(\|\): .* got dtypes float32 and bool"),
        (lambda b, f: b ^ 1.5, r"^bitwise_xor \(\^\): .* got dtypes bool and float32"),
        (lambda b, f: ~f, r"^bitwise_not \(~\): .* got dtype float32"),
    ],
)
def test_bitwise_operators_refuse_floats(apply, message) -> None:
    b = rg.tensor([True, False])
    f = rg.tensor([1.0, 0.0], requires_grad=True)
    with pytest.raises(TypeError, match=message):
        apply(b, f)


def test_bitwise_operators_name_shapes_that_do_not_broadcast() -> None:
    with pytest.raises(ShapeError, match=r"^bitwise_and \(&\): .*\(2,\) and \(3,\) do not"):
        rg.tensor([True, False]) & rg.tensor([True, False, True])
