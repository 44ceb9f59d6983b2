"""Autograd semantics checked against PyTorch's: gradient accumulation into `.grad`,
`data` rebinding, `requires_grad_`, version counters shared through memory, grad-mode
decorators and anomaly mode's report of backward errors."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import ShapeError, detect_anomaly


def _leaf(name: str = "w") -> rg.Tensor:
    return rg.Tensor([1.0, 2.0], requires_grad=True, name=name)


# ----- accumulation into .grad -----
@pytest.mark.parametrize(
    ("held", "error", "found"),
    [
        (np.zeros(3, np.float32), ShapeError, r"an array of shape \(3,\) and dtype float32"),
        (np.zeros(2), TypeError, r"an array of shape \(2,\) and dtype float64"),
        ([0.0, 1.0], TypeError, "a list"),
        (rg.tensor([0.0, 1.0]), TypeError, "a Tensor"),
    ],
)
def test_backward_refuses_to_accumulate_into_a_foreign_grad(
    held: object, error: type, found: str
) -> None:
    w, other = _leaf(), _leaf("other")
    w.grad = held
    named = r"\.grad of tensor 'w' \(shape \(2,\), dtype float32\)"
    with pytest.raises(error, match=rf"{named}.*{found}"):
        (w * other).sum().backward()
    # Refused before any gradient was stored.
    assert w.grad is held and other.grad is None


def test_backward_after_data_rebound_to_another_shape_names_the_stale_grad() -> None:
    w = _leaf()
    (w * 2.0).sum().backward()
    w.data = np.zeros(3, np.float32)
    with pytest.raises(ShapeError, match=r"holds an array of shape \(2,\).*zero_grad"):
        (w * 2.0).sum().backward()
    w.zero_grad()
    (w * 2.0).sum().backward()
    np.testing.assert_array_equal(w.grad, [2.0, 2.0, 2.0])


def test_retained_grad_assigned_by_hand_is_checked_too() -> None:
    w = _leaf()
    h = w * 2.0
    h.retain_grad()
    h.grad = np.zeros(2)  # float64 on a float32 tensor
    with pytest.raises(TypeError, match=r"\.grad of tensor \(shape \(2,\), dtype float32\)"):
        h.sum().backward()


# ----- data rebinding and requires_grad_ -----
def test_data_set_to_a_tensor_binds_its_array() -> None:
    w, source = _leaf(), rg.tensor([3.0, 4.0])
    w.data = source
    assert w.data is source.data and w.dtype == np.float32


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", r"Tensor\.data: tensor data must be numeric, got dtype <U3"),
        (np.array([1, 2]), r"Tensor\.data: a tensor that requires grad needs a floating .* int64"),
    ],
)
def test_data_refuses_values_a_tensor_cannot_hold(value: object, message: str) -> None:
    w = _leaf()
    data = w.data
    with pytest.raises(TypeError, match=message):
        w.data = value
    assert w.data is data and w.version == 0


def test_data_of_a_tensor_without_grad_may_become_integer() -> None:
    t = rg.tensor([1.0, 2.0])
    t.data = np.array([1, 2])
    assert t.dtype == np.int64


@pytest.mark.parametrize("flag", ["yes", 1, None])
def test_requires_grad_refuses_a_flag_that_is_not_a_bool(flag: object) -> None:
    t = rg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="requires_grad_\\(\\): requires_grad must be a bool"):
        t.requires_grad_(flag)
    assert t.requires_grad is False
    assert t.requires_grad_(np.bool_(True)).requires_grad is True


# ----- version counters shared through memory -----
def test_version_counts_writes_through_a_detached_tensor_or_a_view() -> None:
    w = _leaf()
    w.detach().add_(1.0)
    first = w.version
    assert first > 0
    values = rg.tensor([[1.0, 2.0], [3.0, 4.0]])
    values[0].mul_(2.0)  # a view of the first row
    assert values.version > 0
    assert values.reshape(4).version == values.version
    np.testing.assert_array_equal(w.data, [2.0, 3.0])


def test_gradcheck_notices_an_input_modified_through_a_detached_tensor() -> None:
    def scale(x: rg.Tensor) -> rg.Tensor:
        x.detach().mul_(1.0)
        return x * 2.0

    x = rg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match="fn modified .* in place"):
        rg.autograd.gradcheck(scale, (x,))


# ----- grad-mode decorators -----
def test_grad_modes_decorate_without_parentheses() -> None:
    @rg.no_grad
    def doubled(x: rg.Tensor) -> rg.Tensor:
        return x * 2.0

    @rg.enable_grad
    def tripled(x: rg.Tensor) -> rg.Tensor:
        return x * 3.0

    @rg.no_grad
    def pieces(x: rg.Tensor) -> Iterator[rg.Tensor]:
        yield x * 2.0

    w = _leaf()
    assert not doubled(w).requires_grad and doubled.__name__ == "doubled"
    assert not next(pieces(w)).requires_grad
    with rg.no_grad():
        assert tripled(w).requires_grad
    assert rg.autograd.is_grad_enabled()


def test_grad_mode_refuses_to_decorate_what_is_not_callable() -> None:
    with pytest.raises(TypeError, match="no_grad: decorates a function, got int"):
        rg.no_grad(3)


# ----- anomaly mode and errors raised during backward -----
def _line_after() -> str:
    """'this file:N' for the line after the caller's."""
    return f"{__file__}:{sys._getframe(1).f_lineno + 1}"


def test_anomaly_mode_names_the_line_of_an_op_whose_input_changed_in_place() -> None:
    x = _leaf()
    with detect_anomaly():
        y = x.detach().exp()
        where = _line_after()
        loss = (x * y).sum()
    y.data += 1.0
    with pytest.raises(RuntimeError, match=rf"op 'mul' .*created at {re.escape(where)}\)$"):
        loss.backward()


def test_anomaly_mode_names_the_line_of_an_op_whose_graph_was_freed() -> None:
    x = _leaf()
    with detect_anomaly():
        where = _line_after()
        loss = (x * x).sum()
        loss.backward()
        expected = rf"retain_graph=True.*created at {re.escape(where)}"
        with pytest.raises(RuntimeError, match=expected):
            loss.backward()


def test_backward_errors_outside_anomaly_mode_name_no_line() -> None:
    x = _leaf()
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="to go twice$"):
        loss.backward()


def test_set_grad_enabled_as_call_context_and_decorator_like_torch():
    """PyTorch code switches recording with set_grad_enabled(mode); it did not exist."""
    x = rg.ones(2, requires_grad=True)
    with rg.set_grad_enabled(False):
        assert not rg.is_grad_enabled() and not (x * 2).requires_grad
    assert rg.is_grad_enabled()
    with rg.no_grad(), rg.set_grad_enabled(True):
        assert (x * 2).requires_grad
    try:
        rg.set_grad_enabled(False)
        assert not rg.is_grad_enabled()
    finally:
        rg.set_grad_enabled(True)

    @rg.set_grad_enabled(False)
    def doubled_records() -> bool:
        return (x * 2).requires_grad

    assert rg.is_grad_enabled()  # decorating switched nothing
    assert doubled_records() is False and rg.is_grad_enabled()
    with pytest.raises(TypeError, match=r"set_grad_enabled\(\): mode must be True or False, got 1"):
        rg.set_grad_enabled(1)
    assert rg.is_grad_enabled()


def test_backward_refuses_a_retained_grad_of_the_wrong_shape():
    """A non-leaf that retains its gradient is checked as a leaf is, before summing into it."""
    x = rg.ones(3, requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.grad = np.zeros(5, dtype=np.float32)
    with pytest.raises(ShapeError, match=r"cannot accumulate into \.grad .*shape \(5,\)"):
        y.sum().backward()
