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
