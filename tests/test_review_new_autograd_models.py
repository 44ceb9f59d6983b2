"""Known-answer cases for today's Tensor, gradcheck, serialization and generation changes."""

import numpy as np
import pytest

import retrograd as rg


def test_setitem_python_int_into_uint8_tensor_writes_it():
    u = rg.tensor(np.array([1, 2], dtype=np.uint8))
    u[0] = 7
    u[1:] = True
    assert u.dtype == np.uint8 and u.data.tolist() == [7, 1]


def test_setitem_python_int_out_of_range_is_named():
    u = rg.tensor(np.array([1, 2], dtype=np.uint8))
    with pytest.raises(OverflowError, match=r"setitem: 300 is out of range .* uint8"):
        u[0] = 300
    with pytest.raises(OverflowError, match=r"add_: -1 is out of range .* uint8"):
        u += -1
    assert u.data.tolist() == [1, 2]


def test_setitem_python_scalars_match_torch():
    torch = pytest.importorskip("torch")
    for dtype, value in (("uint8", 200), ("int8", -5), ("int32", 9), ("float32", 1.5)):
        ours = rg.tensor(np.zeros(3, dtype=dtype))
        theirs = torch.zeros(3, dtype=getattr(torch, dtype))
        ours[1] = value
        theirs[1] = value
        np.testing.assert_array_equal(ours.data, theirs.numpy())
