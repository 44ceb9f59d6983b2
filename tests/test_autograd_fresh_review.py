"""Known-answer and PyTorch-parity cases for autograd ops and the Tensor API found in review."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        ([[0, 3], [2, 1]], np.uint8),
        ([[0, 7], [9, 4]], np.uint64),
        ([[np.iinfo(np.int64).min, 0], [5, -3]], np.int64),
        ([[True, False], [True, True]], np.bool_),
    ],
)
def test_min_of_integer_and_boolean_tensors_matches_numpy(values, dtype):
    """min was -max(-x): an unsigned 0 or the least int64 wrapped around, and bools failed."""
    data = np.array(values, dtype=dtype)
    x = rg.tensor(data)
    assert x.min().item() == data.min()
    assert x.min(axis=1).tolist() == data.min(axis=1).tolist()
    kept = x.min(axis=(0, 1), keepdims=True)
    assert kept.shape == (1, 1) and kept.dtype == data.dtype
    assert not kept.requires_grad


def test_min_of_integer_tensor_matches_torch_amin():
    torch = pytest.importorskip("torch")
    data = np.array([[0, 200], [17, 3]], dtype=np.uint8)
    expected = torch.tensor(data).amin(dim=0).numpy()
    assert np.array_equal(rg.tensor(data).min(axis=0).data, expected)
