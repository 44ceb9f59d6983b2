"""Indexing, ordering and shape methods under PyTorch's names, against torch: values, dtypes
and float64 gradients, with dim variants, negative dims, 0-d and empty inputs, and errors."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd.graph import ShapeError

RNG = np.random.default_rng(0)
X = RNG.permutation(24).reshape(2, 3, 4) * 0.37 - 4.0  # distinct values: no ties in sorts
INDEX = np.array([[[0, 2, 2, 1], [1, 1, 0, 0]], [[2, 0, 1, 1], [0, 0, 0, 2]]])  # repeats
MASK = X > 0

# name -> (method call on a tensor, input array): each is run on rg and torch alike.
CASES = {
    "gather": (lambda t, m: t.gather(1, m.index(INDEX)), X),
    "gather_negative_dim": (lambda t, m: t.gather(-1, m.index(INDEX[:, :, :3])), X),
    "gather_0d": (lambda t, m: t.gather(0, m.index(np.array(0))), np.array(2.5)),
    "gather_empty": (lambda t, m: t.gather(0, m.index(np.zeros((0, 3), int))), X[0]),
    "scatter": (lambda t, m: t.scatter(1, m.index(INDEX[:, :, :1]), t[:, :2, :1] * 3.0), X),
    "scatter_value": (lambda t, m: t.scatter(2, m.index(INDEX[:, :, :2] + 1), value=7.0), X),
    "scatter_add": (lambda t, m: t.scatter_add(1, m.index(INDEX), t[:, :2] * t[:, :2]), X),
    "index_add": (lambda t, m: t.index_add(1, m.index([2, 0, 2]), t[:, :3] * 2.0), X[0].T),
    "index_select": (lambda t, m: t.index_select(-1, m.index([3, 0, 3])), X),
    "take_along_dim": (lambda t, m: t.take_along_dim(m.index(INDEX[:1, :1, :2]), 2), X),
    "take_along_dim_flat": (lambda t, m: t.take_along_dim(m.index([5, 0, 5])), X),
    "masked_fill": (lambda t, m: t.masked_fill(m.mask(MASK[0]), -1.5), X),
    "masked_fill_tensor": (lambda t, m: t.masked_fill(m.mask(MASK), t.sum() * 1.0), X),
    "masked_select": (lambda t, m: t.masked_select(m.mask(MASK[:, :1])), X),
    "where": (lambda t, m: t.where(m.mask(MASK), t * t), X),
    "sort": (lambda t, m: t.sort(1).values * 1.0, X),
    "sort_descending": (lambda t, m: t.sort(dim=-1, descending=True).values * 1.0, X),
    "sort_0d": (lambda t, m: t.sort().values * 1.0, np.array(2.5)),
    "topk": (lambda t, m: t.topk(2).values * 1.0, X),
    "topk_smallest": (lambda t, m: t.topk(2, dim=0, largest=False).values * 1.0, X),
    "cumsum": (lambda t, m: t.cumsum(1) * t, X),
    "cumsum_negative": (lambda t, m: t.cumsum(-1) * 1.0, X),
    "cumsum_0d": (lambda t, m: t.cumsum(0) * 1.0, np.array(2.5)),
    "flip": (lambda t, m: t.flip(0, 2) * t, X),
    "flip_tuple": (lambda t, m: t.flip((-1,)) * 1.0, X),
    "roll": (lambda t, m: t.roll((1, -5), (0, 2)) * 1.0, X),
    "roll_flat": (lambda t, m: t.roll(7) * 1.0, X),
    "tril": (lambda t, m: t.tril() * 1.0, X),
    "triu": (lambda t, m: t.triu(1) * 1.0, X),
    "tril_negative": (lambda t, m: t.tril(-1) * 1.0, X[0]),
    "repeat": (lambda t, m: t.repeat(2, 1, 3) * 1.0, X[0]),
    "repeat_0d": (lambda t, m: t.repeat(2) * 1.0, np.array(2.5)),
    "tile": (lambda t, m: t.tile((2,)) * 1.0, X),
    "narrow": (lambda t, m: t.narrow(-1, -3, 2) * 1.0, X),
    "movedim": (lambda t, m: t.movedim((0, 1), (2, 0)) * 1.0, X),
    "moveaxis": (lambda t, m: t.moveaxis(-1, 0) * 1.0, X),
    "swapaxes": (lambda t, m: t.swapaxes(0, -1) * 1.0, X),
    "swapdims": (lambda t, m: t.swapdims(1, 2) * 1.0, X),
    "t": (lambda t, m: t.t() * 1.0, X[0]),
    "t_1d": (lambda t, m: t.t() * 1.0, X[0, 0]),
    "expand_as": (lambda t, m: t.expand_as(m.zeros(2, 3, 4)) * 1.0, X[:1, :, :1]),
    "view_as": (lambda t, m: t.view_as(m.zeros(4, 6)) * 1.0, X),
    "reshape_as": (lambda t, m: t.reshape_as(m.zeros(6, 4)) * 1.0, X),
    "diagonal": (lambda t, m: t.diagonal() * 1.0, X),
    "diagonal_offset": (lambda t, m: t.diagonal(offset=-1, dim1=2, dim2=1) * 1.0, X),
    "diag_1d": (lambda t, m: t.diag(-2) * 1.0, X[0, 0]),
    "diag_2d": (lambda t, m: t.diag(1) * 1.0, X[0]),
    "squeeze_tuple": (lambda t, m: t.squeeze((0, 2)) * 1.0, X[:1, :, :1]),
}


class Maker:
    """The index, mask and zeros of one library, so a case is written once for both."""

    def __init__(self, lib) -> None:
        self.lib = lib

    def index(self, values) -> object:
        return self.lib.tensor(np.array(values, dtype=np.int64))

    def mask(self, values) -> object:
        return self.lib.tensor(np.array(values, dtype=bool))

    def zeros(self, *shape) -> object:
        return self.lib.zeros(*shape)


@pytest.mark.parametrize("name", sorted(CASES))
def test_method_matches_torch_values_and_gradients(name: str) -> None:
    torch = pytest.importorskip("torch")
    call, data = CASES[name]
    x = rg.tensor(data.astype(np.float64), requires_grad=True)
    tx = torch.tensor(data.astype(np.float64), requires_grad=True)
    out, expected = call(x, Maker(rg)), call(tx, Maker(torch))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert out.shape == tuple(expected.shape)
    weights = RNG.standard_normal(out.shape)
    (out * weights).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "name",
    ["argsort", "argsort_descending", "sort_indices", "topk_indices", "cumsum_int", "cumsum_bool"],
)
def test_integer_results_match_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    ties = np.array([[3, 1, 3, 2, 1], [0, 0, 5, 5, 0]], dtype=np.int32)
    calls = {
        "argsort": lambda t: t.argsort(dim=1, stable=True),
        "argsort_descending": lambda t: t.argsort(dim=0, descending=True, stable=True),
        "sort_indices": lambda t: t.sort(dim=-1, descending=True, stable=True).indices,
        "topk_indices": lambda t: t.topk(1, dim=1).indices,
        "cumsum_int": lambda t: t.cumsum(1),
        "cumsum_bool": lambda t: (t > 1).cumsum(0),
    }
    out = calls[name](rg.tensor(ties))
    expected = calls[name](torch.tensor(ties)).numpy()
    np.testing.assert_array_equal(out.data, expected)
    assert out.dtype == expected.dtype


def test_float32_stays_float32() -> None:
    x = rg.tensor(X.astype(np.float32))
    results = [x.gather(1, INDEX[:1, :2, :2]), x.sort().values, x.cumsum(0), x.flip(0), x.tril()]
    results += [x.scatter_add(1, INDEX, x), x.masked_fill(MASK, 1.0), x.repeat(1, 2, 1)]
    assert all(r.dtype == np.float32 for r in results)


def test_sort_returns_values_and_indices_by_name_and_position() -> None:
    values, indices = rg.tensor([3.0, 1.0, 2.0]).sort()
    result = rg.tensor([3.0, 1.0, 2.0]).topk(2)
    np.testing.assert_array_equal(values.data, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(indices.data, [1, 2, 0])
    np.testing.assert_array_equal(result.values.data, [3.0, 2.0])
    np.testing.assert_array_equal(result.indices.data, [0, 2])


def test_descending_sort_puts_nan_first_as_torch() -> None:
    torch = pytest.importorskip("torch")
    data = np.array([1.0, np.nan, -2.0, 5.0])
    for descending in (False, True):
        out = rg.tensor(data).sort(descending=descending)
        expected = torch.tensor(data).sort(descending=descending)
        np.testing.assert_array_equal(out.values.data, expected.values.numpy())
        np.testing.assert_array_equal(out.indices.data, expected.indices.numpy())


def test_gather_backward_sums_repeated_indices() -> None:
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.gather(0, [2, 2, 2, 0]).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 3.0])


def test_tril_keeps_infinities_above_as_zero() -> None:
    x = rg.tensor([[1.0, np.inf], [np.nan, 2.0]])
    np.testing.assert_array_equal(x.tril().data, [[1.0, 0.0], [np.nan, 2.0]])
    np.testing.assert_array_equal(x.triu().data, [[1.0, np.inf], [0.0, 2.0]])


def test_gather_index_is_copied() -> None:
    x = rg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    index = np.array([0, 1])
    y = x.gather(0, index)
    index[:] = 2
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 0.0])


ERRORS = [
    (lambda x: x.gather(1, [[0.5]]), TypeError, "gather\\(\\): index must be an integer"),
    (lambda x: x.gather(1, [[[True]]]), TypeError, "gather\\(\\): index must be an integer"),
    (lambda x: x.gather(1, [[3]]), ShapeError, "gather\\(\\): index of shape \\(1, 1\\)"),
    (
        lambda x: x.gather(1, INDEX + 2),
        IndexError,
        "gather\\(\\): index 4 is out of bounds for dim 1 with size 3",
    ),
    (lambda x: x.gather(2, -INDEX), IndexError, "out of bounds for dim 2 with size 4"),
    (lambda x: x.gather(3, INDEX), ValueError, "gather\\(\\): axis 3 is out of range"),
    (lambda x: x.gather(0, np.zeros((1, 4, 1), int)), ShapeError, "larger than the input"),
    (
        lambda x: x.scatter(1, INDEX, x.astype(np.float32)),
        TypeError,
        "scatter\\(\\): src has dtype",
    ),
    (lambda x: x.scatter(1, INDEX, x[:, :1]), ShapeError, "scatter\\(\\): index of shape"),
    (lambda x: x.scatter(1, INDEX), TypeError, "scatter\\(\\): src"),
    (lambda x: x.scatter_add(0, INDEX + 5, x), IndexError, "scatter_add\\(\\): index 5"),
    (lambda x: x.index_select(0, [[0]]), ShapeError, "index_select\\(\\): index must be 1-d"),
    (lambda x: x.index_select(0, [2]), IndexError, "index_select\\(\\): index 2 is out of bounds"),
    (lambda x: x.index_add(0, [0], x), ShapeError, "index_add\\(\\): source of shape"),
    (lambda x: x.take_along_dim(INDEX[0], 1), ShapeError, "take_along_dim\\(\\): indices"),
    (lambda x: x.take_along_dim(INDEX[:, :, :3].repeat(3, 2), 1), ShapeError, "do not broadcast"),
    (lambda x: x.masked_fill(X > 0, rg.zeros(2)), ShapeError, "masked_fill\\(\\): value must"),
    (lambda x: x.masked_fill(X, 0.0), TypeError, "masked_fill\\(\\): mask must be boolean"),
    (lambda x: x.masked_select(MASK[:, :2]), ShapeError, "masked_select\\(\\): mask of shape"),
    (lambda x: x.sort(3), ValueError, "argsort\\(\\): axis 3 is out of range"),
    (lambda x: x.topk(5), ValueError, "topk\\(\\): k 5 is out of range for dim 2 of size 4"),
    (lambda x: x.topk(1.0), TypeError, "topk\\(\\): k must be an int"),
    (lambda x: x.cumsum(-4), ValueError, "cumsum\\(\\): axis -4 is out of range"),
    (lambda x: x.flip(0, 0), ValueError, "flip\\(\\): axis .* names an axis more than once"),
    (lambda x: x.roll((1, 2), 0), ValueError, "roll\\(\\): shifts"),
    (lambda x: x.repeat(2, 2), ValueError, "repeat\\(\\): 2 sizes for a 3-d tensor"),
    (lambda x: x.repeat(1, -1, 1), ValueError, "repeat\\(\\): sizes must not be negative"),
    (lambda x: x[0, 0].tril(), ShapeError, "tril\\(\\): expects a tensor of at least 2 axes"),
    (lambda x: x.narrow(1, 2, 2), IndexError, "narrow\\(\\): start 2 and length 2"),
    (lambda x: x.movedim((0, 1), 2), ValueError, "movedim\\(\\): source"),
    (lambda x: x.movedim((0, 0), (1, 2)), ValueError, "movedim\\(\\): source .* more than once"),
    (lambda x: x.swapaxes(0, 3), ValueError, "swapaxes\\(\\): axis 3"),
    (lambda x: x.t(), ShapeError, "t\\(\\): expects a tensor of at most 2 axes"),
    (lambda x: x.diagonal(dim1=1, dim2=-2), ValueError, "diagonal\\(\\): dims"),
    (lambda x: x.diag(), ShapeError, "diag\\(\\): expects a 1-d or 2-d tensor"),
]


@pytest.mark.parametrize("call, error, message", ERRORS)
def test_errors_name_method_and_argument(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call(rg.tensor(X))


def test_function_forms_match_torch() -> None:
    torch = pytest.importorskip("torch")
    calls = {
        "gather": (1, np.array([[0, 2], [1, 1]])),
        "sort": (0,),
        "topk": (1,),
        "cumsum": (1,),
        "flip": ((0,),),
        "roll": (1, 1),
        "tril": (),
        "diagonal": (),
        "narrow": (1, 1, 2),
        "movedim": (0, 1),
        "t": (),
        "take_along_dim": (np.array([[0], [2]]), 1),
    }
    data = X[0, :2, :3]
    for name, args in calls.items():
        torch_args = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        out = getattr(rg, name)(data, *args)
        expected = getattr(torch, name)(torch.tensor(data), *torch_args)
        if name in ("sort", "topk"):
            out, expected = out.values, expected.values
        np.testing.assert_array_equal(out.data, expected.numpy(), err_msg=name)
