"""Ops that read and write values at an index along one axis: gather, scatter, cumsum,
cumprod.

`gather`, `scatter` and `scatter_add` take PyTorch's index: an integer array of
the input's number of axes, whose entry at each position names the place along
`dim` to read (or write); along the other axes it is no larger than the input.
The index is a parameter (a copy), not an input: it has no gradient.
"""

from __future__ import annotations

import numpy as np

from retrograd.autograd.function import Function
from retrograd.autograd.graph import Node, ShapeError


def check_index(op: str, index: np.ndarray, shape: tuple[int, ...], dim: int) -> None:
    """Refuse an index that is not integer, has another number of axes than a tensor of
    `shape`, is larger along an axis other than `dim`, or points outside `dim`."""
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}(): index must be an integer tensor, got dtype {index.dtype}")
    if index.ndim != len(shape):
        raise ShapeError(
            f"{op}(): index of shape {index.shape} must have as many axes as the input "
            f"of shape {shape}"
        )
    for axis, (n, size) in enumerate(zip(index.shape, shape)):
        if axis != dim and n > size:
            raise ShapeError(
                f"{op}(): index of shape {index.shape} is larger than the input of shape "
                f"{shape} along dim {axis}"
            )
    bad = (index < 0) | (index >= shape[dim])
    if bad.any():
        raise IndexError(
            f"{op}(): index {int(index[bad].flat[0])} is out of bounds for dim {dim} "
            f"with size {shape[dim]}"
        )


def positions(index: np.ndarray, dim: int) -> tuple[np.ndarray, ...]:
    """The NumPy index of the places `index` names: its values along `dim`, and along
    every other axis the position itself (broadcast, not materialised)."""
    places: list[np.ndarray] = []
    for axis, n in enumerate(index.shape):
        shape = [1] * index.ndim
        shape[axis] = n
        places.append(index if axis == dim else np.arange(n).reshape(shape))
    return tuple(places)


def _leading(index: np.ndarray) -> tuple[slice, ...]:
    """The part of a source tensor that an index of this shape reads (its first entries)."""
    return tuple(slice(0, n) for n in index.shape)


class Gather(Function):
    """d gather(a, dim, index) = d out added into zeros of a's shape at the index"""

    reads_inputs = False

    @staticmethod
    def forward(ctx: Node, a: np.ndarray, index: np.ndarray, dim: int) -> np.ndarray:
        check_index("gather", index, a.shape, dim)
        return a[positions(index, dim)]

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        out = np.zeros(ctx.parents[0].data.shape, dtype=grad.dtype)
        # An index may name one place several times; np.add.at sums them where `+=` keeps one.
        np.add.at(out, positions(ctx.params["index"], ctx.params["dim"]), grad)
        return (out,)


def _check_source(op: str, a: np.ndarray, src: np.ndarray, index: np.ndarray) -> None:
    """Refuse a source of another dtype than the input, or smaller than the index."""
    if src.dtype != a.dtype:
        raise TypeError(
            f"{op}(): src has dtype {src.dtype}, the input has {a.dtype}; they must be equal"
        )
    if src.ndim != index.ndim or any(n > s for n, s in zip(index.shape, src.shape)):
        raise ShapeError(
            f"{op}(): index of shape {index.shape} is larger than src of shape {src.shape}"
        )


class Scatter(Function):
    """d scatter(a, src) = d out at a's unwritten places; d out at the written places to src"""

    reads_inputs = False

    @staticmethod
    def forward(
        ctx: Node, a: np.ndarray, src: np.ndarray, index: np.ndarray, dim: int
    ) -> np.ndarray:
        check_index("scatter", index, a.shape, dim)
        _check_source("scatter", a, src, index)
        out = a.copy()
        out[positions(index, dim)] = src[_leading(index)]
        return out

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        places = positions(ctx.params["index"], ctx.params["dim"])
        to_a = grad.copy()
        to_a[places] = 0
        return to_a, _to_source(ctx, grad, places)


class ScatterAdd(Function):
    """d scatter_add(a, src) = d out to a; d out at the places written to src"""

    reads_inputs = False

    @staticmethod
    def forward(
        ctx: Node, a: np.ndarray, src: np.ndarray, index: np.ndarray, dim: int
    ) -> np.ndarray:
        check_index("scatter_add", index, a.shape, dim)
        _check_source("scatter_add", a, src, index)
        out = a.copy()
        np.add.at(out, positions(index, dim), src[_leading(index)])
        return out

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        places = positions(ctx.params["index"], ctx.params["dim"])
        return grad, _to_source(ctx, grad, places)


def _to_source(ctx: Node, grad: np.ndarray, places: tuple[np.ndarray, ...]) -> np.ndarray:
    """A scatter's gradient for its source: the output's gradient at the places each source
    entry was written to, zero for the entries the index does not read."""
    out = np.zeros(ctx.parents[1].data.shape, dtype=grad.dtype)
    out[_leading(ctx.params["index"])] = grad[places]
    return out


class Cumsum(Function):
    """d cumsum(a) = the reversed cumulative sum of d out"""

    reads_inputs = False

    @staticmethod
    def forward(ctx: Node, a: np.ndarray, dim: int) -> np.ndarray:
        return np.cumsum(a, axis=dim)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        dim = ctx.params["dim"]
        return (np.flip(np.cumsum(np.flip(grad, dim), axis=dim), dim),)


class Cumprod(Function):
    """d cumprod(a)_k = prod(a before k) * sum over j >= k of d out_j * prod(a in (k, j])"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray, dim: int) -> np.ndarray:
        ctx.saved = a
        return np.cumprod(a, axis=dim)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        # No division by a (0 / 0 at a zero): the products before each place times the
        # sums after it, the latter by the recurrence s_k = g_k + a_{k+1} s_{k+1}.
        dim = ctx.params["dim"]
        a = np.moveaxis(ctx.saved, dim, 0)
        g = np.moveaxis(grad, dim, 0)
        before = np.cumprod(np.concatenate([np.ones_like(a[:1]), a[:-1]]), axis=0)
        after = np.empty_like(g)
        if len(g):
            after[-1] = g[-1]
        for k in range(len(g) - 2, -1, -1):
            after[k] = g[k] + a[k + 1] * after[k + 1]
        return (np.moveaxis(before * after, 0, dim),)
