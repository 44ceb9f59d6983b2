"""Autograd semantics checked against PyTorch's: gradient accumulation into `.grad`,
`data` rebinding, `requires_grad_`, version counters shared through memory, grad-mode
decorators and anomaly mode's report of backward errors."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import ShapeError


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
