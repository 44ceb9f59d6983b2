"""Reading and writing a `Tensor` at an index along one axis (gather, scatter,
index_select, masked_fill...), ordering it (sort, topk) and cumulative sums and
products, a mixin.

The methods and their arguments are PyTorch's. Sorting's values are gathered at the
sorted indices, so their gradient goes back to the sorted positions through `gather`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from retrograd.autograd import ops
from retrograd.autograd.arguments import _axis
from retrograd.autograd.function import record
from retrograd.autograd.graph import ShapeError

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


class ValuesIndices(NamedTuple):
    """What `sort`, `topk`, `max(dim=...)`, `min(dim=...)`, `median(dim=...)`, `kthvalue`
    and `mode` return, as PyTorch's torch.return_types: the `values` and their `indices`
    along the axis."""

    values: Tensor
    indices: Tensor


def picked(source: Tensor, indices: np.ndarray, axis: int, keepdim: bool) -> ValuesIndices:
    """The values of `source` at `indices` (one per place, along `axis` kept with size 1)
    and those indices, that axis dropped unless `keepdim`: the one element each of
    max(dim), median(dim), kthvalue and mode picks, which alone takes the gradient."""
    values = source.gather(axis, indices)
    positions = source._make(np.asarray(indices, dtype=np.int64), None, 0)
    if keepdim:
        return ValuesIndices(values, positions)
    return ValuesIndices(values.squeeze(axis), positions.squeeze(axis))


class GatherMethods:
    """The index, ordering and cumulative methods of `Tensor`."""

    __slots__ = ()

    def gather(self, dim: int, index: Any) -> Tensor:
        """out[i][j] = self[index[i][j]][j] for dim 0 (and so on): values read along `dim` at
        an integer index of the same number of axes, which sets the result's shape."""
        index = _index_array(index, "gather")
        if not self.ndim:  # a 0-d tensor's one value, read as from a 1-d tensor
            return self.reshape(1).gather(0, index.reshape(-1)).reshape(index.shape)
        dim = _axis(dim, self.ndim, "gather")
        return record(ops.Gather, (self,), {"index": index, "dim": dim})

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
        """A copy with `src` (a tensor, or a number: `value`) written along `dim` at the places
        `index` names; where it names a place twice, the later write stays."""
        return self._scatter(ops.Scatter, dim, index, src if value is None else value, "scatter")

    def scatter_add(self, dim: int, index: Any, src: Any) -> Tensor:
        """A copy with the values of `src` added along `dim` at the places `index` names
        (repeated places add up)."""
        return self._scatter(ops.ScatterAdd, dim, index, src, "scatter_add")

    def _scatter(self, op: Any, dim: int, index: Any, src: Any, name: str) -> Tensor:
        """Run the scatter `op` (src a tensor, or a number filling the index's shape)."""
        index = _index_array(index, name)
        if src is None:
            raise TypeError(f"{name}(): src (a tensor) or value (a number) is required")
        if not isinstance(src, GatherMethods):
            src = self._make(np.full(index.shape, src, dtype=self.dtype), None, 0)
        if not self.ndim:
            flat = self.reshape(1)._scatter(op, 0, index.reshape(-1), src.reshape(-1), name)
            return flat.reshape(())
        dim = _axis(dim, self.ndim, name)
        return record(op, (self, src), {"index": index, "dim": dim})

    def index_add(self, dim: int, index: Any, source: Tensor, *, alpha: float = 1) -> Tensor:
        """A copy with source's slices along `dim` added at the positions the 1-d `index`
        names, times `alpha` (repeated positions add up)."""
        index = _index_array(index, "index_add").reshape(-1)
        dim = _axis(dim, self.ndim, "index_add", needs_axes=True)
        rest = [n for a, n in enumerate(self.shape) if a != dim]
        if source.shape[:dim] + source.shape[dim + 1 :] != tuple(rest) or (
            source.shape[dim] != index.size
        ):
            raise ShapeError(
                f"index_add(): source of shape {source.shape} does not fit the input of shape "
                f"{self.shape} with an index of {index.size} entries along dim {dim}"
            )
        along = [1] * self.ndim
        along[dim] = -1
        places = np.broadcast_to(index.reshape(along), source.shape)
        return self.scatter_add(dim, places, source * alpha if alpha != 1 else source)

    def index_select(self, dim: int, index: Any) -> Tensor:
        """The slices along `dim` at the positions of the 1-d (or 0-d) integer `index`."""
        index = _index_array(index, "index_select")
        if index.ndim > 1:
            raise ShapeError(f"index_select(): index must be 1-d or 0-d, got shape {index.shape}")
        if not self.ndim:
            return self.reshape(1).index_select(0, index).reshape(())
        dim = _axis(dim, self.ndim, "index_select")
        ops.indexing.check_index("index_select", index.reshape(-1), (self.shape[dim],), 0)
        return self[(slice(None),) * dim + (index.reshape(-1),)]

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Tensor:
        """gather with the index and the tensor broadcast against each other along every axis
        but `dim`; without `dim`, the flattened tensor at the flattened indices."""
        indices = _index_array(indices, "take_along_dim")
        if dim is None:
            return self.reshape(-1).gather(0, indices.reshape(-1))
        if self.ndim != indices.ndim:
            raise ShapeError(
                f"take_along_dim(): indices of shape {indices.shape} must have as many axes "
                f"as the input of shape {self.shape}"
            )
        if not self.ndim:
            return self.gather(0, indices)
        dim = _axis(dim, self.ndim, "take_along_dim")
        try:
            shape = list(np.broadcast_shapes(_one_at(self.shape, dim), _one_at(indices.shape, dim)))
        except ValueError:
            raise ShapeError(
                f"take_along_dim(): indices of shape {indices.shape} do not broadcast with the "
                f"input of shape {self.shape} outside dim {dim}"
            ) from None
        own = self.expand(*shape[:dim], self.shape[dim], *shape[dim + 1 :])
        shape[dim] = indices.shape[dim]
        return own.gather(dim, np.broadcast_to(indices, shape))

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """`value` (a number, or a 0-d tensor whose gradient flows) where the boolean `mask`,
        broadcast, holds; the tensor's own values elsewhere."""
        mask = _mask(mask, "masked_fill")
        if isinstance(value, GatherMethods) and value.ndim:
            raise ShapeError(
                f"masked_fill(): value must be a number or a 0-d tensor, got shape {value.shape}"
            )
        return record(ops.Where, (mask, self._operand(value), self))

    def masked_select(self, mask: Any) -> Tensor:
        """The values where the boolean `mask` holds (both broadcast), as a 1-d tensor."""
        mask = _mask(mask, "masked_select")
        try:
            shape = np.broadcast_shapes(self.shape, mask.shape)
        except ValueError:
            raise ShapeError(
                f"masked_select(): mask of shape {mask.shape} does not broadcast with the "
                f"input of shape {self.shape}"
            ) from None
        return self.expand(shape)[np.broadcast_to(mask.data, shape)]

    def where(self, condition: Any, other: Any) -> Tensor:
        """This tensor's values where `condition` holds, `other`'s elsewhere (as rg.where)."""
        from retrograd.autograd.functional import where

        return where(condition, self, other)

    def sort(
        self, dim: int = -1, descending: bool = False, *, stable: bool = False
    ) -> ValuesIndices:
        """The values sorted along `dim` and where they came from (int64). The sort is stable
        (equal values keep their order, also descending); NaN counts as the largest."""
        indices = self.argsort(dim, descending)
        return ValuesIndices(self.gather(dim, indices), indices)

    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
        """The indices that sort the tensor along `dim` (int64, no gradient). The sort is
        always stable: `stable` is there for PyTorch's signature."""
        data = self.data if self.ndim else self.data.reshape(1)
        axis = _axis(dim, data.ndim, "argsort")
        if descending:
            # Ascending of the reversed values, reversed: descending, equal values in order.
            last = data.shape[axis] - 1
            order = last - np.flip(np.flip(data, axis).argsort(axis, kind="stable"), axis)
        else:
            order = data.argsort(axis, kind="stable")
        return self._make(order.astype(np.int64).reshape(self.shape), None, 0)

    def topk(
        self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
    ) -> ValuesIndices:
        """The `k` largest (or smallest) values along `dim`, in order, and their indices."""
        data = self.data if self.ndim else self.data.reshape(1)
        axis = _axis(dim, data.ndim, "topk")
        if isinstance(k, bool) or not isinstance(k, int | np.integer):
            raise TypeError(f"topk(): k must be an int, got {k!r}")
        if not 0 <= k <= data.shape[axis]:
            raise ValueError(
                f"topk(): k {k} is out of range for dim {axis} of size {data.shape[axis]}"
            )
        order = self.argsort(dim, descending=largest).data.reshape(data.shape)
        indices = np.take(order, np.arange(k), axis=axis).reshape(
            self.shape if not self.ndim else (*order.shape[:axis], k, *order.shape[axis + 1 :])
        )
        indices = self._make(indices, None, 0)
        return ValuesIndices(self.gather(dim, indices), indices)

    def cumsum(self, dim: int) -> Tensor:
        """Running sums along `dim` (integers and booleans sum as int64, as PyTorch)."""
        if not self.ndim:
            return self.reshape(1).cumsum(0).reshape(())
        return record(ops.Cumsum, (self,), {"dim": _axis(dim, self.ndim, "cumsum")})

    def cumprod(self, dim: int) -> Tensor:
        """Running products along `dim`; the gradient is exact where values are zero."""
        if not self.ndim:
            return self.reshape(1).cumprod(0).reshape(())
        return record(ops.Cumprod, (self,), {"dim": _axis(dim, self.ndim, "cumprod")})


def _index_array(index: Any, op: str) -> np.ndarray:
    """An integer index as a copy of its array (later changes to the caller's stay out of
    the gradient), refusing floats and booleans, naming `op`."""
    array = np.array(index.data if isinstance(index, GatherMethods) else index)
    if array.size == 0 and array.dtype.kind == "f":  # an empty list: no places
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{op}(): index must be an integer tensor, got dtype {array.dtype}")
    return array


def _mask(mask: Any, op: str) -> Tensor:
    """A boolean mask as a tensor without gradient, naming `op` if it is not boolean."""
    from retrograd.autograd.tensor import Tensor

    mask = mask if isinstance(mask, Tensor) else Tensor(mask)
    if mask.dtype != np.bool_:
        raise TypeError(f"{op}(): mask must be boolean, got dtype {mask.dtype}")
    return mask


def _one_at(shape: tuple[int, ...], dim: int) -> tuple[int, ...]:
    """`shape` with size 1 at `dim`: the part that broadcasts in take_along_dim."""
    return (*shape[:dim], 1, *shape[dim + 1 :])
