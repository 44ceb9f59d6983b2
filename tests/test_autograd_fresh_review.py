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


def _leaf(values) -> rg.Tensor:
    return rg.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def test_gradcheck_skips_integer_outputs_as_torch():
    """A function returning values and their indices (as torch.max(x, dim)) was refused."""
    from retrograd.autograd import gradcheck

    x = _leaf([[0.3, -1.2, 2.0], [1.5, 0.1, -0.4]])
    assert gradcheck(lambda x: (x.max(axis=1), x.argmax(axis=1)), [x])
    assert gradcheck(lambda x: (x > 0, x.tanh()), [x])


def test_gradcheck_names_a_wrong_output_by_its_place_among_all_outputs():
    from retrograd.autograd import GradcheckError, gradcheck

    x = _leaf([0.5, -1.0])
    with pytest.raises(GradcheckError, match=r"\(output 1 element"):
        gradcheck(lambda x: (x.argmax(), x * x.detach()), [x])


def test_gradcheck_refuses_outputs_without_any_floating_tensor():
    from retrograd.autograd import gradcheck

    x = _leaf([0.5, -1.0])
    with pytest.raises(TypeError, match="fn returned a int64 Tensor, a bool Tensor"):
        gradcheck(lambda x: (x.argmax(), x > 0), [x])


def test_gradcheck_integer_outputs_match_torch_gradcheck():
    torch = pytest.importorskip("torch")
    from retrograd.autograd import gradcheck

    data = np.array([[0.3, -1.2, 2.0], [1.5, 0.1, -0.4]])
    x = torch.tensor(data, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: torch.max(x, 1), (x,))
    assert gradcheck(lambda x: (x.max(axis=1), x.argmax(axis=1)), [_leaf(data)])


@pytest.mark.parametrize("axis", [4, -5])
def test_unsqueeze_out_of_range_names_the_tensors_own_dimensions(axis):
    """The error called a 3-d tensor 4-d (the range check ran on the result's axes)."""
    with pytest.raises(
        ValueError, match=r"axis -?\d is out of range for a 3-d tensor \(axes -4 to 3"
    ):
        rg.zeros(2, 3, 4).unsqueeze(axis)
