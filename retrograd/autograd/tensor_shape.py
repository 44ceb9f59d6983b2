"""Shape operations of a `Tensor` (reshape, permute, transpose, expand, squeeze, split,
T...), a mixin; moving axes and rearranging values (movedim, flip, roll, tril...) are in
`tensor_layout`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from retrograd.autograd import ops
from retrograd.autograd.arguments import Axis, _as_dim, _axis, _axis_or_dim, _conflict, _shape_arg
from retrograd.autograd.function import record

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


class ShapeMethods:
    """The shape operations of `Tensor`."""

    __slots__ = ()

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed."""
        return self.permute(*reversed(range(self.ndim)))

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        return record(ops.Reshape, (self,), {"shape": _shape_arg(shape, "reshape")})

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge the axes from `start_dim` to `end_dim` (all by default) into one; a 0-d
        tensor becomes 1-d, as in PyTorch."""
        ndim = self._data.ndim
        start = _axis(start_dim, ndim, "flatten")
        end = _axis(end_dim, ndim, "flatten")
        if start is None or end is None:  # a 0-d tensor's axis 0 or -1
            return self.reshape(1)
        if start > end:
            raise ValueError(
                f"flatten(): start_dim {start_dim} comes after end_dim {end_dim} "
                f"for a {ndim}-d tensor"
            )
        shape = self.shape
        return self.reshape(*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        """Axis `dim` split into axes of `sizes`, whose product is its length (one size may
        be -1, inferred from the others), as PyTorch."""
        axis = _as_dim(_axis, dim, self.ndim, "unflatten", True)
        sizes = _unflattened(_shape_arg((sizes,), "unflatten", "sizes"), self.shape[axis])
        return self.reshape(*self.shape[:axis], *sizes, *self.shape[axis + 1 :])

    def permute(self, *axes: int | Sequence[int]) -> Tensor:
        return record(ops.Permute, (self,), {"axes": _shape_arg(axes, "permute", "axes")})

    def transpose(
        self,
        axis0: int | None = None,
        axis1: int | None = None,
        *,
        dim0: int | None = None,
        dim1: int | None = None,
    ) -> Tensor:
        """Swap two axes, given as NumPy's `axis0`, `axis1` or PyTorch's `dim0`, `dim1` (the
        last two by default)."""
        ndim = self._data.ndim
        first = _axis_or_dim("transpose", axis0, dim0, ndim, -2, names=("axis0", "dim0"))
        second = _axis_or_dim("transpose", axis1, dim1, ndim, -1, names=("axis1", "dim1"))
        return self._swapped(first, second)

    def _swap(self, axis0: int, axis1: int, op: str) -> Tensor:
        """Swap two axes, for the method `op` that its errors name."""
        ndim = self._data.ndim
        return self._swapped(_axis(axis0, ndim, op), _axis(axis1, ndim, op))

    def _swapped(self, axis0: int | None, axis1: int | None) -> Tensor:
        """Swap two axes already checked (None: a 0-d tensor's axis 0, which swaps with
        itself, as in PyTorch)."""
        axes = list(range(self._data.ndim))
        if axes:
            axes[axis0], axes[axis1] = axis1, axis0
        return record(ops.Permute, (self,), {"axes": tuple(axes)})

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        return record(ops.BroadcastTo, (self,), {"shape": _shape_arg(shape, "expand")})

    broadcast_to = expand

    def expand_as(self, other: Tensor) -> Tensor:
        """`expand` to the shape of `other`."""
        return self.expand(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        """`reshape` to the shape of `other`."""
        return self.reshape(other.shape)

    view_as = reshape_as

    def unsqueeze(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """Insert an axis of size 1 at `axis` (or `dim`), from -(ndim + 1) to ndim."""
        ndim = self._data.ndim
        name = "axis"
        if dim is not None:
            axis, name = _conflict("unsqueeze", "axis", axis, None, "dim", dim), "dim"
        elif axis is None:
            raise TypeError("unsqueeze(): missing the axis to insert (axis or dim)")
        if isinstance(axis, int | np.integer) and not -ndim - 1 <= axis <= ndim:
            # Named here: the check of the result's axes would call the tensor (ndim + 1)-d.
            raise ValueError(
                f"unsqueeze(): {name} {axis} is out of range for a {ndim}-d tensor "
                f"({'dims' if name == 'dim' else 'axes'} {-ndim - 1} to {ndim} insert one)"
            )
        if name == "dim":
            axis = _as_dim(_axis, axis, ndim + 1, "unsqueeze")
        else:
            axis = _axis(axis, ndim + 1, "unsqueeze")
        return self.reshape(np.expand_dims(self.data, axis).shape)

    def squeeze(self, axis: Axis = None, *, dim: Axis = None) -> Tensor:
        """Remove axes of size 1: every one, or those of the given axes (an int or a tuple,
        as `axis` or `dim`) that have size 1; a given axis of another size stays, as
        PyTorch (NumPy refuses)."""
        axes, _ = self._reduced("squeeze", axis, False, dim, None)
        return self.reshape(tuple(n for a, n in enumerate(self.shape) if n != 1 or a not in axes))

    def unbind(self, axis: int | None = None, *, dim: int | None = None) -> tuple[Tensor, ...]:
        """The slices along `axis` or `dim` (0 by default), with that axis removed (one op,
        one node)."""
        axis = _axis_or_dim("unbind", axis, dim, self.ndim, needs_axes=True)
        return record(
            ops.Split, (self,), {"sizes": (1,) * self.shape[axis], "axis": axis, "squeeze": True}
        )

    def split(
        self, split_size: int | Sequence[int], axis: int | None = None, *, dim: int | None = None
    ) -> tuple[Tensor, ...]:
        """Pieces of `split_size` along `axis` or `dim` (0 by default), the last maybe
        smaller, or pieces of the given sizes."""
        axis = _axis_or_dim("split", axis, dim, self.ndim, needs_axes=True)
        length = self.shape[axis]
        if isinstance(split_size, bool):
            raise TypeError(
                f"split(): split_size must be an int or a list of ints, got {split_size}"
            )
        if isinstance(split_size, int | np.integer):
            size = int(split_size)
            if size <= 0:
                raise ValueError(f"split(): split_size must be positive, got {size}")
            sizes = [size] * (length // size)
            if length % size or not length:  # an empty axis gives one empty piece, as PyTorch
                sizes.append(length % size)
        else:
            sizes = list(_shape_arg((split_size,), "split", "sizes"))
            if any(size < 0 for size in sizes):
                raise ValueError(f"split(): sizes must not be negative, got {sizes}")
            if sum(sizes) != length:
                raise ValueError(f"split(): sizes {sizes} do not add up to axis length {length}")
        return record(ops.Split, (self,), {"sizes": tuple(sizes), "axis": axis, "squeeze": False})

    def chunk(
        self, chunks: int, axis: int | None = None, *, dim: int | None = None
    ) -> tuple[Tensor, ...]:
        """At most `chunks` pieces along `axis` or `dim` (0 by default), as PyTorch cuts
        them: each of ceil(length / chunks), the last smaller, and fewer pieces where those
        sizes cover the axis sooner (a length of 6 in 4 chunks gives 3 pieces of 2)."""
        if isinstance(chunks, bool) or not isinstance(chunks, int | np.integer):
            raise TypeError(f"chunk(): chunks must be an int, got {chunks!r}")
        if chunks <= 0:
            raise ValueError(f"chunk(): chunks must be positive, got {chunks}")
        axis = _axis_or_dim("chunk", axis, dim, self.ndim, needs_axes=True)
        size = -(-self.shape[axis] // int(chunks))
        if not size:  # an empty axis gives `chunks` empty pieces, as PyTorch
            return self.split([0] * int(chunks), axis)
        return self.split(size, axis)


def _unflattened(sizes: tuple[int, ...], length: int) -> tuple[int, ...]:
    """The `sizes` of `unflatten` with a -1 inferred, checked to multiply up to `length`."""
    if not sizes:
        raise ValueError("unflatten(): sizes must not be empty")
    if sizes.count(-1) > 1 or any(n < -1 for n in sizes):
        raise ValueError(f"unflatten(): sizes {list(sizes)} may hold one -1 and no other negative")
    known = math.prod(n for n in sizes if n != -1)
    if -1 in sizes and known and not length % known:
        return tuple(length // known if n == -1 else n for n in sizes)
    if -1 not in sizes and known == length:
        return sizes
    raise ValueError(
        f"unflatten(): sizes {list(sizes)} do not multiply up to the length {length} of the axis"
    )
