"""Layout operations of a `Tensor` under PyTorch's names: moving and swapping axes (movedim,
swapaxes, t), narrowing, flipping, rolling and repeating values, and the triangles and
diagonals of matrices, a mixin.

Each is composed from the shape, indexing and `where` ops, so none needs a backward of its
own.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from retrograd.autograd import ops
from retrograd.autograd.arguments import _axes, _axis, _shape_arg
from retrograd.autograd.function import record
from retrograd.autograd.graph import ShapeError

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


class LayoutMethods:
    """The axis-moving, value-rearranging and matrix-part methods of `Tensor`."""

    __slots__ = ()

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        """Swap two axes (NumPy's name of `transpose`)."""
        return self._swap(axis0, axis1, "swapaxes")

    def swapdims(self, dim0: int, dim1: int) -> Tensor:
        """Swap two axes (PyTorch's other name of `transpose`)."""
        return self._swap(dim0, dim1, "swapdims")

    def t(self) -> Tensor:
        """A 2-d tensor transposed; a 1-d or 0-d one as it is (as PyTorch, which refuses more
        axes)."""
        if self.ndim > 2:
            raise ShapeError(f"t(): expects a tensor of at most 2 axes, got shape {self.shape}")
        return self._swap(0, -1, "t")

    def movedim(self, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
        """Move the axes `source` to the positions `destination`; the others keep their order."""
        sources = self._dims(source, "movedim", "source")
        destinations = self._dims(destination, "movedim", "destination")
        if len(sources) != len(destinations):
            raise ValueError(
                f"movedim(): source {source!r} and destination {destination!r} must name as "
                "many axes"
            )
        order = [a for a in range(self.ndim) if a not in sources]
        for to, axis in sorted(zip(destinations, sources)):
            order.insert(to, axis)
        return self.permute(*order)

    moveaxis = movedim

    def _dims(self, dims: int | Sequence[int], op: str, name: str) -> list[int]:
        """Axes in the order given, non-negative, each once (naming `op` and `name`)."""
        given = [dims] if isinstance(dims, int | np.integer) else list(dims)
        axes = [_axis(d, self.ndim, op) or 0 for d in given]
        if len(set(axes)) < len(axes):
            raise ValueError(f"{op}(): {name} {dims!r} names an axis more than once")
        return axes

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """The `length` entries along `dim` from `start` (negative counts from the end)."""
        dim = _axis(dim, self.ndim, "narrow", needs_axes=True)
        size = self.shape[dim]
        first = start + size if -size <= start < 0 else start
        if not 0 <= first <= size or length < 0 or first + length > size:
            raise IndexError(
                f"narrow(): start {start} and length {length} do not fit in dim {dim} "
                f"of size {size}"
            )
        return self[(slice(None),) * dim + (slice(first, first + length),)]

    def flip(self, *dims: int | Sequence[int]) -> Tensor:
        """The values in reverse order along each of `dims`."""
        axes = _axes(_shape_arg(dims, "flip", "dims"), self.ndim, "flip")
        return self[
            tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(self.ndim))
        ]

    def roll(self, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
        """The values shifted along `dims` by `shifts`, those past the end coming round to
        the start; without `dims`, shifted over the flattened tensor (shape kept)."""
        if dims is None:
            return self.reshape(-1).roll(shifts, 0).reshape(self.shape)
        shift_list = _shape_arg((shifts,), "roll", "shifts")
        dim_list = _shape_arg((dims,), "roll", "dims")
        if len(shift_list) != len(dim_list):
            raise ValueError(f"roll(): shifts {shifts!r} and dims {dims!r} differ in length")
        out = self
        for shift, dim in zip(shift_list, dim_list):
            axis = _axis(dim, max(self.ndim, 1), "roll")
            size = out.shape[axis] if out.ndim else 1
            cut = size - shift % size if size else 0
            if 0 < cut < size:
                keep = (slice(None),) * axis
                pieces = (out[(*keep, slice(cut, None))], out[(*keep, slice(None, cut))])
                out = record(ops.Concat, pieces, {"axis": axis})
        return out

    def repeat(self, *sizes: int | Sequence[int]) -> Tensor:
        """The tensor tiled `sizes[i]` times along axis i (more sizes than axes add leading
        axes), as PyTorch's repeat and NumPy's tile."""
        sizes = _shape_arg(sizes, "repeat", "sizes")
        if len(sizes) < self.ndim:
            raise ValueError(
                f"repeat(): {len(sizes)} sizes for a {self.ndim}-d tensor; give one per axis"
            )
        if any(n < 0 for n in sizes):
            raise ValueError(f"repeat(): sizes must not be negative, got {sizes}")
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        # Each axis becomes a pair (copies, axis): broadcast the copies, then merge the pair.
        paired = self.reshape([n for size in shape for n in (1, size)])
        spread = paired.expand([n for pair in zip(sizes, shape) for n in pair])
        return spread.reshape([n * size for n, size in zip(sizes, shape)])

    def tile(self, *dims: int | Sequence[int]) -> Tensor:
        """`repeat`, with ones added in front of `dims` when it has fewer than the axes."""
        dims = _shape_arg(dims, "tile", "dims")
        return self.repeat((1,) * (self.ndim - len(dims)) + dims)

    def tril(self, diagonal: int = 0) -> Tensor:
        """The values on and below the `diagonal`-th diagonal of the last two axes, 0 above."""
        return self._triangle(diagonal, "tril")

    def triu(self, diagonal: int = 0) -> Tensor:
        """The values on and above the `diagonal`-th diagonal of the last two axes, 0 below."""
        return self._triangle(diagonal, "triu")

    def _triangle(self, diagonal: int, op: str) -> Tensor:
        """tril or triu: the values where the mask holds, 0 elsewhere (also for inf and NaN,
        which multiplying by a 0/1 mask would turn into NaN)."""
        if self.ndim < 2:
            raise ShapeError(f"{op}(): expects a tensor of at least 2 axes, got shape {self.shape}")
        diagonal = operator.index(diagonal)
        rows, cols = self.shape[-2:]
        below = np.tri(rows, cols, diagonal if op == "tril" else diagonal - 1, dtype=bool)
        mask = self._make(below if op == "tril" else ~below, None, 0)
        return record(ops.Where, (mask, self, self._operand(0)))

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The `offset`-th diagonal of the axes `dim1` and `dim2`, which it replaces by one
        last axis (as PyTorch)."""
        first, second = self._dims((dim1, dim2), "diagonal", "dims")
        if self.ndim < 2:
            raise ShapeError(f"diagonal(): expects at least 2 axes, got shape {self.shape}")
        rest = [a for a in range(self.ndim) if a not in (first, second)]
        moved = self.permute(*rest, first, second)
        row, col = max(-offset, 0), max(offset, 0)
        length = max(0, min(self.shape[first] - row, self.shape[second] - col))
        steps = np.arange(length)
        return moved[..., steps + row, steps + col]

    def diag(self, diagonal: int = 0) -> Tensor:
        """Of a 1-d tensor, the square matrix with it on the `diagonal`-th diagonal; of a
        2-d one, that diagonal."""
        if self.ndim == 2:
            return self.diagonal(diagonal)
        if self.ndim != 1:
            raise ShapeError(f"diag(): expects a 1-d or 2-d tensor, got shape {self.shape}")
        size = self.shape[0] + abs(diagonal)
        grid = np.arange(size)
        # Each place reads the entry its row (or column) would hold on the diagonal.
        along = grid[:, None] if diagonal >= 0 else grid[None, :]
        spread = self[np.minimum(np.broadcast_to(along, (size, size)), max(self.shape[0] - 1, 0))]
        mask = self._make(np.eye(size, k=diagonal, dtype=bool), None, 0)
        return record(ops.Where, (mask, spread, self._operand(0)))
