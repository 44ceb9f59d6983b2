"""cumprod, median, kthvalue, mode and pad's reflect, replicate and circular modes, checked
against PyTorch on values and gradients in float64."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd.graph import ShapeError

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


def _distinct(shape: tuple[int, ...]) -> np.ndarray:
    """Values without ties (their indices are then the same in every implementation)."""
    return RNG.permutation(int(np.prod(shape))).reshape(shape) * 0.5 - 3.0


@pytest.mark.parametrize("method", ["median", "nanmedian"])
@pytest.mark.parametrize("shape, dim", [((3, 4), 0), ((3, 5), 1), ((2, 3, 4), -1), ((), 0)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_median_along_dim_matches_torch(method: str, shape, dim: int, keepdim: bool) -> None:
    ours, theirs = _both(_distinct(shape))
    mine = getattr(ours, method)(dim, keepdim)
    torchs = getattr(theirs, method)(dim, keepdim)
    assert mine.indices.tolist() == torchs.indices.tolist()
    _same_gradient(mine.values, torchs.values, ours, theirs)


@pytest.mark.parametrize("method", ["median", "nanmedian"])
@pytest.mark.parametrize("shape", [(4,), (3, 5), ()])
def test_median_of_all_values_matches_torch(method: str, shape) -> None:
    ours, theirs = _both(_distinct(shape))
    _same_gradient(getattr(ours, method)(), getattr(theirs, method)(), ours, theirs)


def test_median_with_nan_and_ties_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    nan = float("nan")
    array = np.array([[1.0, nan, 0.0, 2.0], [2.0, 2.0, 1.0, 7.0], [nan, nan, 3.0, 1.0]])
    for method in ("median", "nanmedian"):
        mine = getattr(rg.tensor(array), method)(1)
        torchs = getattr(torch.tensor(array), method)(1)
        _same(mine.values, torchs.values)
        _same(getattr(rg.tensor(array), method)(), getattr(torch.tensor(array), method)())
    assert np.isnan(rg.zeros(0).median().item())


@pytest.mark.parametrize("k, dim", [(1, 0), (3, 1), (5, -1), (2, -2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue_matches_torch(k: int, dim: int, keepdim: bool) -> None:
    ours, theirs = _both(_distinct((3, 5)))
    mine, torchs = ours.kthvalue(k, dim, keepdim), theirs.kthvalue(k, dim, keepdim)
    assert mine.indices.tolist() == torchs.indices.tolist()
    _same_gradient(mine.values, torchs.values, ours, theirs)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_mode_takes_the_smallest_of_ties_and_its_last_index_as_torch(
    dim: int, keepdim: bool
) -> None:
    array = np.array([[3.0, 1.0, 2.0, 1.0, 3.0, 5.0], [2.0, 2.0, 2.0, 7.0, 7.0, 7.0]])
    array = np.concatenate([array, array[::-1, ::-1]])
    ours, theirs = _both(array)
    mine, torchs = ours.mode(dim, keepdim), theirs.mode(dim, keepdim)
    assert mine.indices.tolist() == torchs.indices.tolist()
    _same_gradient(mine.values, torchs.values, ours, theirs)
    ours, theirs = _both(np.array(1.5))
    assert ours.mode().indices.tolist() == theirs.mode().indices.tolist()
    _same_gradient(ours.mode().values, theirs.mode().values, ours, theirs)


def test_order_statistics_refuse_bad_arguments_naming_the_method() -> None:
    x = rg.ones((2, 3))
    with pytest.raises(ValueError, match=r"kthvalue\(\): k 4 is out of range"):
        x.kthvalue(4)
    with pytest.raises(ValueError, match=r"kthvalue\(\): k 0"):
        x.kthvalue(0)
    with pytest.raises(TypeError, match=r"kthvalue\(\): k must be an int"):
        x.kthvalue(1.5)
    with pytest.raises(ValueError, match=r"median\(\): dim 2"):
        x.median(2)
    with pytest.raises(ValueError, match=r"mode\(\): dim -3"):
        x.mode(-3)
    with pytest.raises(ShapeError, match=r"median\(\): dim 0 .* empty"):
        rg.ones((0, 2)).median(0)
    assert rg.ones((2, 0)).median(0).values.shape == (0,)


def test_order_statistics_are_module_functions_too() -> None:
    x = rg.tensor([[3.0, 1.0, 2.0], [1.0, 1.0, 0.0]])
    assert rg.median(x).item() == 1.0
    assert rg.nanmedian(x, 1).values.tolist() == [2.0, 1.0]
    assert rg.kthvalue(x, 3, 1).values.tolist() == [3.0, 1.0]
    assert rg.mode(x, 1).values.tolist() == [1.0, 1.0]


PAD_CASES = [
    ((2, 6), (2, 1)),
    ((1, 2, 6), (5, 5)),
    ((1, 2, 6), (-1, 2)),
    ((1, 2, 6), (-3, 3)),
    ((1, 2, 6), (0, 0)),
    ((2, 4, 5), (1, 2, 3, 0)),
    ((2, 3, 4, 5), (-1, 2, 2, -1)),
    ((3, 4, 5, 2), (1, 1, 2, 0, 0, 3)),
    ((2, 3, 4, 5, 2), (1, 0, 1, 2, 0, 2)),
]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape, pad", PAD_CASES)
def test_pad_modes_match_torch(mode: str, shape, pad) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _both(RNG.normal(size=shape))
    mine = rg.nn.functional.pad(ours, pad, mode=mode)
    _same_gradient(mine, torch.nn.functional.pad(theirs, pad, mode=mode), ours, theirs)


@pytest.mark.parametrize("mode", ["replicate", "circular"])
def test_pad_modes_beyond_the_axis_match_torch(mode: str) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = _both(RNG.normal(size=(1, 2, 3)))
    pad = (3, 2) if mode == "circular" else (7, 4)
    mine = rg.nn.functional.pad(ours, pad, mode=mode)
    _same_gradient(mine, torch.nn.functional.pad(theirs, pad, mode=mode), ours, theirs)


def test_pad_circular_of_an_empty_batch_or_channel_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    for shape in [(0, 2, 3), (1, 0, 3)]:
        mine = rg.nn.functional.pad(rg.zeros(shape), (1, 2), mode="circular")
        assert mine.shape == tuple(
            torch.nn.functional.pad(torch.zeros(shape), (1, 2), mode="circular").shape
        )


@pytest.mark.parametrize(
    "mode, shape, pad, error, message",
    [
        ("reflect", (1, 1, 6), (6, 0), ValueError, r"'reflect': padding \(6, 0\) of axis 2 of"),
        ("reflect", (1, 1, 6), (-7, 1), ValueError, "leaves no entries"),
        ("circular", (1, 1, 6), (7, 0), ValueError, "wraps around more than once"),
        ("replicate", (6,), (1, 1), NotImplementedError, "2 pad sizes needs a 2-d or 3-d"),
        ("reflect", (2, 2, 2, 6), (1, 1), NotImplementedError, "got shape"),
        ("circular", (2, 3, 6), (1,) * 6, NotImplementedError, "6 pad sizes needs a 4-d"),
        ("replicate", (1, 0, 3), (1, 1), ShapeError, "axis 1 is empty"),
        ("reflect", (0, 6), (1, 1), ShapeError, "axis 0 is empty"),
        ("wrap", (1, 6), (1, 1), NotImplementedError, "mode 'wrap' is not supported"),
    ],
)
def test_pad_mode_errors_name_mode_and_sizes(mode, shape, pad, error, message) -> None:
    with pytest.raises(error, match=message):
        rg.nn.functional.pad(rg.zeros(shape), pad, mode=mode)


def test_pad_modes_take_no_value() -> None:
    with pytest.raises(ValueError, match="mode 'reflect' takes no value"):
        rg.nn.functional.pad(rg.zeros((1, 3)), (1, 1), mode="reflect", value=0.0)
