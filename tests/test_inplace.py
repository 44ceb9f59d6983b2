"""In-place safety: version counts, refused in-place ops, and backward that refuses stale values.

A value saved for backward must never change silently: in-place ops on
tensors that require grad are refused while recording, and any other
in-place write (through `.data`, an optimizer step, a view or a detached
alias) makes a later backward through a node that saved the old value raise.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import ShapeError

STALE = "modified in place after being saved for backward"

IN_PLACE: dict[str, tuple[Callable[[rg.Tensor], object], list[float]]] = {
    "add_": (lambda t: t.add_(2.0), [3.0, 0.0]),
    "sub_": (lambda t: t.sub_(2.0), [-1.0, -4.0]),
    "mul_": (lambda t: t.mul_(2.0), [2.0, -4.0]),
    "div_": (lambda t: t.div_(2.0), [0.5, -1.0]),
    "copy_": (lambda t: t.copy_(np.array([7.0, 8.0])), [7.0, 8.0]),
    "zero_": (lambda t: t.zero_(), [0.0, 0.0]),
    "setitem": (lambda t: _setitem(t), [5.0, -2.0]),
}


def _setitem(t: rg.Tensor) -> rg.Tensor:
    t[0] = 5.0
    return t


def _iadd(t: rg.Tensor) -> rg.Tensor:
    t += 2.0
    return t


def _isub(t: rg.Tensor) -> rg.Tensor:
    t -= 2.0
    return t


def _imul(t: rg.Tensor) -> rg.Tensor:
    t *= 2.0
    return t


def _idiv(t: rg.Tensor) -> rg.Tensor:
    t /= 2.0
    return t


OPERATORS = {
    "+=": (_iadd, "add_"),
    "-=": (_isub, "sub_"),
    "*=": (_imul, "mul_"),
    "/=": (_idiv, "div_"),
}


def _values() -> rg.Tensor:
    return rg.tensor(np.array([1.0, -2.0]))


@pytest.mark.parametrize("method", sorted(IN_PLACE))
def test_inplace_method_updates_values_and_bumps_version(method: str) -> None:
    apply, expected = IN_PLACE[method]
    t = _values()
    assert t.version == 0
    assert apply(t) is t
    np.testing.assert_array_equal(t.data, expected)
    first = t.version
    apply(t)
    assert 0 < first < t.version


@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_inplace_operator_keeps_identity_and_bumps_version(operator: str) -> None:
    t = _values()
    data = t.data
    result = OPERATORS[operator][0](t)
    assert result is t and t.data is data and t.version > 0


@pytest.mark.parametrize("method", sorted(IN_PLACE))
def test_inplace_method_on_requires_grad_leaf_raises_under_grad_mode(method: str) -> None:
    t = rg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match=rf"{method}: in-place operation .* requires grad"):
        IN_PLACE[method][0](t)
    np.testing.assert_array_equal(t.data, [1.0, -2.0])
    assert t.version == 0


@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_inplace_operator_on_non_leaf_raises_under_grad_mode(operator: str) -> None:
    apply, method = OPERATORS[operator]
    y = rg.tensor(np.array([1.0, -2.0]), requires_grad=True) * 3.0
    with pytest.raises(RuntimeError, match=rf"{method}: .*no_grad"):
        apply(y)


@pytest.mark.parametrize("method", sorted(IN_PLACE))
def test_inplace_method_on_requires_grad_works_under_no_grad(method: str) -> None:
    apply, expected = IN_PLACE[method]
    t = rg.tensor(np.array([1.0, -2.0]), requires_grad=True)
    with rg.no_grad():
        apply(t)
    np.testing.assert_array_equal(t.data, expected)
    assert t.version > 0 and t.requires_grad and t.is_leaf


def test_data_assignment_and_augmented_assignment_bump_version() -> None:
    t = _values()
    t.data = np.array([5.0, 6.0])
    rebound = t.version
    t.data -= 1.0
    np.testing.assert_array_equal(t.data, [4.0, 5.0])
    assert 0 < rebound < t.version


def test_writes_into_data_are_not_tracked() -> None:
    # Like PyTorch's .data: element writes bypass the version count (documented).
    t = _values()
    t.data[0] = 9.0
    assert t.version == 0 and t.data[0] == 9.0


def test_failed_inplace_leaves_values_and_version_alone() -> None:
    t = _values()
    with pytest.raises(ShapeError, match=r"add_: cannot update shape \(2,\)"):
        t.add_(np.ones((3, 2)))
    with pytest.raises(TypeError, match="cannot write float64 values into a tensor of dtype int64"):
        rg.tensor(np.array([1, 2])).add_(0.5)
    # The quotient of integers is float64, not the divisor's int64.
    with pytest.raises(TypeError, match="div_: cannot write float64 values into .* int64"):
        rg.tensor(np.array([1, 2])).div_(2)
    np.testing.assert_array_equal(t.data, [1.0, -2.0])
    assert t.version == 0


@pytest.mark.parametrize(
    ("index", "value", "expected"),
    [
        (0, rg.tensor([1.0, 2.0, 3.0]), [[1, 2, 3], [0, 0, 0]]),
        ((1, [0, 2]), 5, [[0, 0, 0], [5, 0, 5]]),
        ((slice(None), rg.tensor([1])), np.array([[4.0], [6.0]]), [[0, 4, 0], [0, 6, 0]]),
        (rg.tensor([[True, False, False], [False, False, True]]), -1.0, [[-1, 0, 0], [0, 0, -1]]),
        (..., 2, [[2, 2, 2], [2, 2, 2]]),
    ],
)
def test_setitem_writes_the_selection_as_numpy_does(index, value, expected) -> None:
    t = rg.zeros(2, 3)
    t[index] = value
    np.testing.assert_array_equal(t.data, expected)
    assert t.dtype == np.float32 and t.version > 0


def test_setitem_through_a_view_invalidates_nodes_that_saved_the_tensor() -> None:
    w = rg.tensor([1.0, 2.0], requires_grad=True)
    c = rg.tensor([3.0, 4.0])
    loss = (w * c).sum()
    c.detach()[0] = 9.0
    assert c.data[0] == 9.0
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_setitem_refuses_bad_writes_and_leaves_the_tensor_alone() -> None:
    t = rg.zeros(2, 3)
    with pytest.raises(IndexError, match=r"setitem: index 5 into shape \(2, 3\)"):
        t[5] = 1.0
    with pytest.raises(ShapeError, match=r"setitem: cannot update shape \(2, 3\)"):
        t[0] = [1.0, 2.0]
    with pytest.raises(TypeError, match="setitem: cannot write float64 values into .* int64"):
        rg.tensor([1, 2])[0] = 2.5
    w = rg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="setitem: the value requires grad"):
        t[0, 0] = w[0]
    np.testing.assert_array_equal(t.data, np.zeros((2, 3)))
    assert t.version == 0
    with rg.no_grad():
        t[0, :2] = w
    np.testing.assert_array_equal(t.data[0], [1.0, 2.0, 0.0])


def test_backward_after_inplace_on_saved_input_names_op_and_tensor() -> None:
    x = rg.tensor(np.ones((2, 3)), requires_grad=True)
    w = rg.tensor(np.full((2, 3), 2.0))
    w.name = "w"
    loss = (x * w).sum()
    w.mul_(10.0)
    with pytest.raises(
        RuntimeError, match=rf"input 1 of op 'mul' \(tensor 'w' of shape \(2, 3\)\).*{STALE}"
    ):
        loss.backward()


def test_backward_after_data_rebinding_of_a_leaf_raises() -> None:
    x = rg.tensor(np.ones((2, 3)), requires_grad=True)
    x.name = "x"
    loss = (x @ np.ones((3, 2))).tanh().sum()
    x.data = x.data * 2.0
    with pytest.raises(
        RuntimeError, match=rf"op 'matmul' \(tensor 'x' of shape \(2, 3\)\).*{STALE}"
    ):
        loss.backward()


def test_inplace_before_forward_is_used_by_backward() -> None:
    x = rg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = rg.tensor(np.array([3.0, 4.0]))
    w.add_(1.0)
    (x * w).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, 5.0])


def test_inplace_on_an_unrelated_tensor_does_not_block_backward() -> None:
    x = rg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    other = rg.tensor(np.array([3.0, 4.0]))
    loss = (x * x).sum()
    other.mul_(2.0)
    rg.tensor(np.zeros(2)).add_(1.0)
    loss.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def _aliases() -> dict[str, Callable[[rg.Tensor], rg.Tensor]]:
    return {
        "detach": lambda t: t.detach(),
        "reshape_view": lambda t: t.detach().reshape(-1),
        "slice_view": lambda t: t.detach()[1:],
        "transpose_view": lambda t: t.detach().T,
    }


@pytest.mark.parametrize("alias", sorted(_aliases()))
def test_write_through_alias_of_saved_input_raises(alias: str) -> None:
    x = rg.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    loss = (x * x).sum()
    _aliases()[alias](x).add_(1.0)
    with pytest.raises(RuntimeError, match=rf"op 'mul' .*{STALE}"):
        loss.backward()


def test_write_through_alias_of_saved_output_raises() -> None:
    x = rg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.exp()  # exp saves its own output for backward
    y.detach().mul_(0.0)
    with pytest.raises(RuntimeError, match=rf"saved by op 'exp' .*{STALE}.*detach"):
        y.sum().backward()


def test_write_through_view_of_constant_operand_raises() -> None:
    x = rg.tensor(np.array([3.0, 4.0]), requires_grad=True)
    w = rg.tensor(np.array([[1.0, 2.0]]))
    loss = (x * w).sum()
    w[0].add_(5.0)  # a basic index is a view of w
    with pytest.raises(RuntimeError, match=rf"input 1 of op 'mul' .*{STALE}"):
        loss.backward()


def test_write_into_a_fancy_index_copy_does_not_block_backward() -> None:
    x = rg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    loss = (x * x).sum()
    copy = x.detach()[np.array([0, 0, 2])]  # integer indexing copies
    copy.add_(1.0)
    loss.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])


@pytest.mark.parametrize("kind", ["tensor", "array", "array_in_tuple"])
def test_index_modified_in_place_after_getitem_does_not_change_the_gradient(kind: str) -> None:
    x = rg.tensor(np.arange(4.0), requires_grad=True)
    index = rg.tensor([0, 1]) if kind == "tensor" else np.array([0, 1])
    y = x[(index, Ellipsis)] if kind == "array_in_tuple" else x[index]
    if kind == "tensor":
        index.add_(2)
    else:
        index += 2
    (y * rg.tensor(np.array([1.0, 10.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 10.0, 0.0, 0.0])


def _quadratic() -> tuple[rg.Tensor, rg.optim.SGD]:
    w = rg.tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    w.name = "w"
    return w, rg.optim.SGD([w], lr=0.1)


def test_optimizer_step_between_forward_and_backward_raises() -> None:
    w, optimizer = _quadratic()
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    optimizer.step()
    with pytest.raises(RuntimeError, match=rf"op 'mul' \(tensor 'w' of shape \(3,\)\).*{STALE}"):
        loss.backward()


def test_optimizer_steps_between_iterations_are_legal() -> None:
    w, optimizer = _quadratic()
    versions, losses = [w.version], []
    for _ in range(5):
        optimizer.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        optimizer.step()
        versions.append(w.version)
        losses.append(loss.item())
    assert versions == sorted(set(versions))  # every step is a new version
    np.testing.assert_allclose(w.data, np.array([1.0, -2.0, 3.0]) * 0.8**5)
    assert losses == sorted(losses, reverse=True)


def test_retain_graph_backward_twice_without_modification_works() -> None:
    w, _ = _quadratic()
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(w.grad, 4.0 * w.data)
