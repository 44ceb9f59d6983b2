"""Bad input raises a clear error of the right type, naming the op, shapes or value at fault.

One table: each row builds the bad call, and names the expected exception
type and the substrings its message must contain.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import ShapeError, cross_entropy


class BadCall(NamedTuple):
    name: str
    call: Callable[[], object]
    error: type[Exception]
    message: tuple[str, ...]


def _x(*shape: int) -> rg.Tensor:
    return rg.zeros(*shape, requires_grad=True)


def _backward_twice() -> None:
    loss = (_x(2) * 2.0).sum()
    loss.backward()
    loss.backward()


LOGITS = np.zeros((4, 3))

BAD_CALLS = [
    # shapes that do not fit the op
    BadCall("matmul_inner", lambda: _x(2, 3) @ _x(4, 5), ShapeError,
            ("matmul", "(2, 3)", "(4, 5)")),
    BadCall("matmul_batched", lambda: _x(2, 2, 3) @ _x(2, 4, 5), ShapeError,
            ("matmul", "(2, 2, 3)", "(2, 4, 5)")),
    BadCall("matmul_scalar", lambda: rg.tensor(1.0) @ _x(2, 3), ShapeError,
            ("matmul", "1-d", "()")),
    BadCall("add_broadcast", lambda: _x(2, 3) + _x(4, 5), ShapeError, ("add", "(2, 3)", "(4, 5)")),
    BadCall("mul_broadcast", lambda: _x(2, 3) * _x(3, 2), ShapeError, ("mul", "(2, 3)", "(3, 2)")),
    BadCall("less_broadcast", lambda: _x(2) < _x(3), ShapeError, ("less", "(2,)", "(3,)")),
    BadCall("equal_broadcast", lambda: _x(2, 3) == [1.0, 2.0], ShapeError,
            ("equal", "(2, 3)", "(2,)")),
    BadCall("maximum_broadcast", lambda: rg.maximum(_x(2), _x(3)), ShapeError,
            ("maximum", "(2,)", "(3,)")),
    BadCall("where_broadcast", lambda: rg.where(np.ones((2, 3), bool), _x(2, 3), _x(4, 5)),
            ShapeError, ("where", "(4, 5)")),
    BadCall("reshape", lambda: _x(2, 3).reshape(4, 2), ShapeError,
            ("reshape", "(2, 3)", "(4, 2)")),
    BadCall("expand", lambda: _x(2, 3).expand(4, 5), ShapeError, ("(2, 3)",)),
    BadCall("expand_new_axis_keep", lambda: _x(3).expand(-1, 3), ShapeError,
            ("expand", "-1", "(-1, 3)", "(3,)")),
    BadCall("expand_new_axes_keep", lambda: _x(2).expand(-1, 5, 2), ShapeError,
            ("expand", "-1", "(-1, 5, 2)", "(2,)")),
    BadCall("expand_fewer_axes", lambda: _x(1, 2).expand(2), ShapeError,
            ("expand", "(2,)", "(1, 2)")),
    BadCall("permute_repeat", lambda: _x(2, 3).permute(0, 0), ShapeError, ("permute", "(0, 0)")),
    BadCall("permute_length", lambda: _x(2, 3).permute(0, 1, 2), ShapeError,
            ("permute", "(0, 1, 2)")),
    BadCall("linear_weight", lambda: rg.linear(_x(2, 3), _x(4, 5)), ShapeError,
            ("linear", "(2, 3)", "(4, 5)")),
    BadCall("linear_bias", lambda: rg.linear(_x(2, 3), _x(4, 3), _x(5)), ShapeError,
            ("linear", "bias", "(5,)")),
    BadCall("concat_mismatch", lambda: rg.concat([_x(2, 3), _x(3, 3)], axis=1), ShapeError,
            ("concat", "(2, 3)", "(3, 3)")),
    BadCall("concat_ndim", lambda: rg.concat([_x(2, 3), _x(3)]), ShapeError,
            ("concat", "(2, 3)", "(3,)")),
    BadCall("concat_axis", lambda: rg.concat([_x(2, 3), _x(2, 3)], axis=2), ShapeError,
            ("concat", "axis 2")),
    BadCall("concat_empty", lambda: rg.concat([]), ValueError, ("concat", "at least one")),
    BadCall("stack_mismatch", lambda: rg.stack([_x(2, 3), _x(2, 4)]), ShapeError,
            ("stack", "(2, 3)", "(2, 4)")),
    BadCall("stack_empty", lambda: rg.stack([]), ValueError, ("stack", "at least one")),
    BadCall("concat_float_axis", lambda: rg.concat([_x(2), _x(2)], axis=1.0), TypeError,
            ("concat", "axis", "1.0")),
    BadCall("stack_float_axis", lambda: rg.stack([_x(2), _x(2)], axis=0.0), TypeError,
            ("stack", "axis", "0.0")),
    BadCall("split_sizes", lambda: _x(2, 3).split([1, 3], axis=1), ValueError,
            ("split", "[1, 3]", "3")),
    BadCall("split_size_zero", lambda: _x(4).split(0), ValueError, ("split", "positive")),
    BadCall("split_sizes_negative", lambda: _x(2).split([3, -1]), ValueError,
            ("split", "negative", "[3, -1]")),
    BadCall("split_sizes_float", lambda: _x(2).split([1.5, 0.5]), TypeError,
            ("split", "sizes", "integers", "1.5")),
    BadCall("backward_gradient_shape", lambda: (_x(2, 3) * 2.0).backward(np.ones((3, 2))),
            ShapeError, ("backward", "(3, 2)", "(2, 3)")),
    # axes and indices out of range
    BadCall("sum_axis", lambda: _x(2, 3).sum(2), ValueError, ("sum", "axis 2", "2-d")),
    BadCall("max_axis", lambda: _x(2, 3).max(-3), ValueError, ("max", "axis -3")),
    BadCall("sum_axis_repeated", lambda: _x(2, 3).sum((1, -1)), ValueError,
            ("sum", "(1, -1)", "more than once")),
    BadCall("max_axis_repeated", lambda: _x(2, 3).max((0, 0)), ValueError,
            ("max", "(0, 0)", "more than once")),
    BadCall("unsqueeze_axis", lambda: _x(2, 3).unsqueeze(4), ValueError, ("unsqueeze", "axis 4")),
    BadCall("unbind_axis", lambda: _x(2, 3).unbind(2), ValueError, ("unbind", "axis 2")),
    BadCall("unbind_0d", lambda: rg.tensor(1.0).unbind(), ShapeError, ("unbind", "0-d")),
    BadCall("split_0d", lambda: rg.tensor(1.0).split(1), ShapeError, ("split", "0-d")),
    BadCall("sum_axis_0d", lambda: rg.tensor(1.0).sum(1), ValueError, ("sum", "axis 1", "0-d")),
    BadCall("squeeze_0d_axis", lambda: rg.tensor(1.0).squeeze(1), ValueError,
            ("squeeze", "axis 1", "0-d")),
    BadCall("argmax_axis", lambda: _x(2, 3).argmax(5), ValueError, ("argmax", "axis 5", "2-d")),
    BadCall("transpose_axes_tuple", lambda: _x(2, 3).transpose((0, 1), 1), TypeError,
            ("transpose", "axis", "(0, 1)")),
    BadCall("iterate_0d", lambda: list(rg.tensor(1.0)), TypeError, ("iteration", "0-d")),
    BadCall("getitem_range", lambda: _x(2, 3)[5], IndexError, ("getitem", "5", "(2, 3)")),
    BadCall("getitem_array_range", lambda: _x(2, 3)[np.array([0, 7])], IndexError,
            ("getitem", "7", "(2, 3)")),
    BadCall("take_range", lambda: rg.take(_x(5, 2), [0, 7]), IndexError,
            ("take", "index 7", "5 rows")),
    BadCall("take_negative_range", lambda: rg.take(_x(5, 2), [-6]), IndexError,
            ("take", "index -6")),
    BadCall("take_weight_not_numbers", lambda: rg.take(None, [0]), TypeError,
            ("take", "weight", "object")),
    BadCall("linear_weight_not_numbers", lambda: rg.linear(_x(2, 3), [["a"] * 3]), TypeError,
            ("linear", "weight", "<U1")),
    BadCall("take_float_indices", lambda: rg.take(_x(5, 2), [0.5]), TypeError,
            ("take", "integers")),
    BadCall("one_hot_range", lambda: rg.one_hot([0, 5], 3), IndexError,
            ("one_hot", "index 5", "3 classes")),
    BadCall("one_hot_negative", lambda: rg.one_hot([-1], 3), IndexError, ("one_hot", "-1")),
    BadCall("one_hot_float", lambda: rg.one_hot([1.0], 3), TypeError, ("one_hot", "integers")),
    BadCall("one_hot_linear_range", lambda: rg.one_hot_linear([[0, 3]], rg.zeros(2, 3)),
            IndexError, ("one_hot_linear", "index 3", "3 classes", "(2, 3)")),
    BadCall("one_hot_linear_float", lambda: rg.one_hot_linear([0.5], rg.zeros(2, 3)),
            TypeError, ("one_hot_linear", "integers", "float")),
    BadCall("one_hot_linear_weight", lambda: rg.one_hot_linear([0], rg.zeros(3)),
            ShapeError, ("one_hot_linear", "2-d", "(3,)")),
    BadCall("one_hot_linear_bias", lambda: rg.one_hot_linear([0], rg.zeros(2, 3), rg.zeros(3)),
            ShapeError, ("one_hot_linear", "bias of shape (3,)", "(2, 3)")),
    # cross_entropy targets
    BadCall("ce_target_length", lambda: cross_entropy(_x(4, 3), np.array([0, 1, 2, 0, 1])),
            ShapeError, ("cross_entropy", "(4, 3)", "(5,)")),
    BadCall("ce_target_spatial", lambda: cross_entropy(_x(2, 3, 5), np.zeros((2, 4), int)),
            ShapeError, ("cross_entropy", "(2, 3, 5)", "(2, 5)", "(2, 4)")),
    BadCall("ce_logits_1d", lambda: cross_entropy(_x(3), np.array([0])), ShapeError,
            ("cross_entropy", "(3,)")),
    BadCall("ce_class_range", lambda: cross_entropy(_x(4, 3), np.array([0, 3, 1, 2])),
            IndexError, ("cross_entropy", "class 3", "3 classes")),
    BadCall("ce_class_negative", lambda: cross_entropy(_x(4, 3), np.array([0, -1, 1, 2])),
            IndexError, ("cross_entropy", "class -1")),
    BadCall("ce_float_target", lambda: cross_entropy(_x(4, 3), LOGITS[:, 0]), TypeError,
            ("cross_entropy", "integers")),
    BadCall("ce_reduction", lambda: cross_entropy(_x(4, 3), np.zeros(4, int), reduction="avg"),
            ValueError, ("cross_entropy", "'avg'")),
    # arguments and autograd state
    BadCall("clip_no_bounds", lambda: _x(3).clip(), ValueError, ("clip", "min", "max")),
    BadCall("clip_bound_requires_grad", lambda: _x(3).clip(min=_x(3)), TypeError,
            ("clip", "min", "requires grad", "maximum")),
    BadCall("where_condition", lambda: rg.where(np.ones(3), _x(3), _x(3)), TypeError,
            ("where", "boolean")),
    BadCall("backward_non_scalar", lambda: (_x(2) * 2.0).backward(), RuntimeError,
            ("backward", "scalar", "(2,)")),
    BadCall("backward_no_grad", lambda: rg.zeros(2).sum().backward(), RuntimeError,
            ("backward", "does not require grad")),
    BadCall("backward_twice", _backward_twice, RuntimeError, ("backward", "retain_graph=True")),
    BadCall("retain_grad_no_grad", lambda: rg.zeros(2).retain_grad(), RuntimeError,
            ("retain_grad",)),
    BadCall("requires_grad_int", lambda: rg.tensor([1, 2], requires_grad=True), TypeError,
            ("floating", "int64")),
    BadCall("numpy_with_grad", lambda: _x(2).numpy(), RuntimeError, ("numpy", "detach")),
    BadCall("item_many", lambda: _x(2, 3).item(), ValueError, ("item", "(2, 3)")),
    BadCall("bool_many", lambda: bool(_x(2, 3)), ValueError, ("ambiguous", "(2, 3)")),
    BadCall("len_0d", lambda: len(rg.tensor(1.0)), TypeError, ("0-d",)),
    BadCall("tensor_strings", lambda: rg.tensor(["a"]), TypeError, ("numeric",)),
    BadCall("from_numpy_list", lambda: rg.from_numpy([1.0]), TypeError,
            ("from_numpy", "list")),
    BadCall("zeros_float_size", lambda: rg.zeros(2, 3.7), TypeError,
            ("zeros", "shape", "integers", "3.7")),
    BadCall("full_float_size", lambda: rg.full(2.5, 1.0), TypeError, ("full", "shape", "2.5")),
    BadCall("randn_string_size", lambda: rg.randn(2, "3"), TypeError, ("randn", "shape", "'3'")),
    BadCall("zeros_negative_size", lambda: rg.zeros(2, -1), ValueError,
            ("zeros", "negative", "(2, -1)")),
    BadCall("full_negative_size", lambda: rg.full((-2,), 1.0), ValueError, ("full", "(-2,)")),
    BadCall("randn_negative_size", lambda: rg.randn(-3), ValueError, ("randn", "(-3,)")),
    BadCall("randn_int_dtype", lambda: rg.randn(2, dtype=np.int64), TypeError,
            ("randn", "floating", "int64")),
    BadCall("rand_bool_dtype", lambda: rg.rand(2, dtype=bool), TypeError,
            ("rand", "floating", "bool")),
    BadCall("reshape_float_size", lambda: _x(6).reshape(2.9, 3), TypeError,
            ("reshape", "shape", "integers", "2.9")),
    BadCall("permute_float_axes", lambda: _x(2, 3).permute(1.9, 0.2), TypeError,
            ("permute", "axes", "integers", "1.9")),
    BadCall("expand_float_size", lambda: _x(3).expand(2.0, 3), TypeError,
            ("expand", "shape", "2.0")),
    BadCall("random_bad_seed", lambda: rg.randn(2, generator="seed"), TypeError,
            ("Generator", "str")),
]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_CALLS, ids=lambda b: b.name)
def test_bad_call_raises_clear_error(bad: BadCall) -> None:
    with pytest.raises(bad.error) as info:
        bad.call()
    message = str(info.value)
    missing = [part for part in bad.message if part not in message]
    assert not missing, f"message {message!r} lacks {missing}"


def test_shape_error_is_a_value_error() -> None:
    assert issubclass(ShapeError, ValueError)


def test_value_error_of_an_op_not_about_shapes_keeps_numpys_message() -> None:
    with pytest.raises(ValueError) as info:
        rg.tensor([2]) ** -1
    assert type(info.value) is ValueError
    assert str(info.value) == "pow: Integers to negative integer powers are not allowed."
