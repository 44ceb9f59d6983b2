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


def test_full_takes_its_dtype_from_the_fill_value() -> None:
    assert rg.full((2,), True).dtype == np.bool_
    assert rg.full((2, 3), 3).dtype == np.int64
    assert rg.full(2, np.int32(3)).dtype == np.int64
    assert rg.full(2, 0.5).dtype == np.float32
    assert rg.full(2, 3, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(rg.full((2,), True).data, [True, True])
