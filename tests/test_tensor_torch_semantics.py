"""Tensor calls that PyTorch users write, giving PyTorch's values, dtypes and gradients."""

from __future__ import annotations

import numpy as np

import retrograd as rg


def test_getitem_empty_list_selects_nothing() -> None:
    x = rg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    y = x[[]]
    assert y.shape == (0, 3)
    assert x[:, []].shape == (2, 0)
    (y.sum() + x.sum()).backward()
    np.testing.assert_array_equal(x.grad, np.ones((2, 3)))
