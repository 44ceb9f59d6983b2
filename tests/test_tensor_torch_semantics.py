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


def test_integer_and_bool_tensors_meet_python_floats_in_float32() -> None:
    i, b = rg.tensor([1, 2, 3]), rg.tensor([True, False, True])
    results = {
        "i * 2.5": i * 2.5,
        "2.5 * i": 2.5 * i,
        "i + 0.5": i + 0.5,
        "0.5 - i": 0.5 - i,
        "i / 2.0": i / 2.0,
        "1.0 / i": 1.0 / i,
        "i ** 0.5": i**0.5,
        "2.0 ** i": 2.0**i,
        "i.sqrt()": i.sqrt(),
        "b * 2.5": b * 2.5,
        "i + np.float64": i + np.float64(0.5),
        "int32 - np.float32": rg.tensor(np.array([1, 2], np.int32)) - np.float32(0.5),
    }
    wrong = {name: str(t.dtype) for name, t in results.items() if t.dtype != np.float32}
    assert not wrong, f"PyTorch gives float32 for all of these: {wrong}"
    np.testing.assert_allclose((i * 2.5).data, [2.5, 5.0, 7.5])
    np.testing.assert_allclose((0.5 - i).data, [-0.5, -1.5, -2.5])
    np.testing.assert_allclose((2.0**i).data, [2.0, 4.0, 8.0])
    # Integers with integers stay integers; float tensors keep their own dtype.
    assert (i + 2).dtype == (2 - i).dtype == (i**2).dtype == np.int64
    assert (rg.tensor([1.0], dtype=np.float64) * 2.5).dtype == np.float64


def test_clamp_takes_tensor_bounds() -> None:
    x = rg.tensor([-2.0, 0.5, 3.0], requires_grad=True)
    low, high = rg.tensor([-1.0, 1.0, 0.0]), rg.tensor(2.0)
    y = x.clamp(low, high)
    np.testing.assert_array_equal(y.data, [-1.0, 1.0, 2.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    x.grad = None
    x.clamp(max=rg.tensor([0.0, 1.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 1.0])  # the bound itself passes it
