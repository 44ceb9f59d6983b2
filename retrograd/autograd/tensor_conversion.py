"""Sizes, copies and conversions of a `Tensor` in PyTorch's vocabulary (numel, clone, to,
long, new_zeros, detach_, fill_...), a mixin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd import ops
from retrograd.autograd.arguments import _shape_arg
from retrograd.autograd.function import record
from retrograd.autograd.graph import FREED, ShapeError
from retrograd.autograd.tensor_in_place import _assign

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


class ConversionMethods:
    """The sizes, copies and conversions of `Tensor`."""

    __slots__ = ()

    def numel(self) -> int:
        """The number of values (PyTorch's name for `size`)."""
        return self._data.size

    nelement = numel

    def dim(self) -> int:
        """The number of axes (PyTorch's name for `ndim`)."""
        return self._data.ndim

    def element_size(self) -> int:
        """The bytes of one value."""
        return self._data.itemsize

    def clone(self) -> Tensor:
        """A copy in its own memory; the gradient passes through it to this tensor."""
        return record(ops.Cast, (self,), {"dtype": self._data.dtype})

    def to(self, *args: Any, dtype: Any = None, device: Any = None, copy: bool = False) -> Tensor:
        """This tensor in another dtype (as `astype`), as torch's `to`: given a dtype, a
        device, a tensor (its dtype), or a device then a dtype. The one device is 'cpu':
        others are refused. `copy=True` copies even when nothing changes."""
        if len(args) > 2:
            raise TypeError(f"to(): takes a device and a dtype at most, got {args!r}")
        for arg in args:
            if isinstance(arg, ConversionMethods):  # a Tensor: take its dtype
                dtype = arg.dtype
            elif _is_device(arg):
                device = arg
            else:
                dtype = arg
        _check_device("to", device)
        converted = self if dtype is None else self.astype(_dtype("to", dtype))
        return converted.clone() if copy and converted is self else converted

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor in `other`'s dtype."""
        if not isinstance(other, ConversionMethods):
            raise TypeError(f"type_as(): other must be a Tensor, got {type(other).__name__}")
        return self.astype(other.dtype)

    def long(self) -> Tensor:
        """This tensor as int64 (no gradient)."""
        return self.astype(np.int64)

    def int(self) -> Tensor:
        """This tensor as int32 (no gradient)."""
        return self.astype(np.int32)

    def bool(self) -> Tensor:
        """Whether each value is nonzero, as a boolean tensor (no gradient)."""
        return self.astype(np.bool_)

    def half(self) -> Tensor:
        """This tensor as float16; differentiable, as in PyTorch (its gradient is float16)."""
        return self.astype(np.float16)

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place: it becomes a leaf that does not require
        grad (as torch's `detach_`), and is returned.

        Refused, as in PyTorch, for a view (an op's output sharing memory with its
        input); and for an op's output whose graph is still live (not yet freed by a
        backward): ops recorded from it would stop passing gradients here, where
        PyTorch's keep them. `detach()` gives a new tensor instead.
        """
        node = self._node
        if node is not None:
            if any(np.may_share_memory(self._data, parent._data) for parent in node.parents):
                raise RuntimeError(
                    "detach_(): cannot detach a view in place (its memory is its input's); "
                    "use detach() instead"
                )
            if node.saved is not FREED:
                raise RuntimeError(
                    "detach_(): the graph through this tensor is still live, so ops made from "
                    "it would lose their gradient; use detach() instead, or call detach_() "
                    "after backward()"
                )
        self._node = None
        self.requires_grad = False
        return self

    def fill_(self, value: Any) -> Tensor:
        """In place: set every value to `value`, a number or a 0-d tensor."""
        shape = np.shape(value._data if isinstance(value, ConversionMethods) else value)
        if shape:
            raise ShapeError(f"fill_(): value must be a number or a 0-d tensor, got shape {shape}")
        return self._in_place(_assign, value, "fill_")

    def new_tensor(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A new leaf holding a copy of `data`, in this tensor's dtype unless `dtype` is given."""
        values = data._data if isinstance(data, ConversionMethods) else data
        dtype = self.dtype if dtype is None else _dtype("new_tensor", dtype)
        return type(self)(np.array(values, dtype=dtype), requires_grad=requires_grad)

    def new_zeros(
        self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """A new leaf of zeros of `size`, in this tensor's dtype unless `dtype` is given."""
        return self._new("new_zeros", size, 0, dtype, device, requires_grad)

    def new_ones(
        self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """A new leaf of ones of `size`, in this tensor's dtype unless `dtype` is given."""
        return self._new("new_ones", size, 1, dtype, device, requires_grad)

    def new_empty(
        self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """A new leaf of `size`, in this tensor's dtype unless `dtype` is given. Its values
        are zeros, where PyTorch leaves them unset."""
        return self._new("new_empty", size, 0, dtype, device, requires_grad)

    def new_full(
        self,
        size: Any,
        fill_value: Any,
        *,
        dtype: Any = None,
        device: Any = None,
        requires_grad: bool = False,
    ) -> Tensor:
        """A new leaf of `size` filled with `fill_value`, in this tensor's dtype unless
        `dtype` is given."""
        return self._new("new_full", (size,), fill_value, dtype, device, requires_grad)

    def _new(
        self, op: str, size: tuple, fill: Any, dtype: Any, device: Any, requires_grad: bool
    ) -> Tensor:
        """A new leaf of `size` (a shape, or its sizes one by one) filled with `fill`."""
        _check_device(op, device)
        shape = _shape_arg(size, op, "size")
        if any(n < 0 for n in shape):
            raise ValueError(f"{op}(): sizes must not be negative, got {shape}")
        dtype = self.dtype if dtype is None else _dtype(op, dtype)
        return type(self)(np.full(shape, fill, dtype=dtype), requires_grad=requires_grad)


def _is_device(value: Any) -> bool:
    """Whether a positional argument of `to` names a device rather than a dtype: a string
    NumPy does not read as a dtype ('cpu', 'cuda:0'), or a torch.device."""
    if isinstance(value, str):
        try:
            np.dtype(value)
        except TypeError:
            return True
        return False
    return type(value).__name__ == "device"


def _check_device(op: str, device: Any) -> None:
    """Refuse any device but the CPU, naming it."""
    if device is None:
        return
    name = str(device)
    if name != "cpu" and not name.startswith("cpu:"):
        raise ValueError(
            f"{op}(): {name!r} is not an available device (nor a dtype): retrograd tensors "
            "are NumPy arrays on the CPU, device 'cpu'"
        )


def _dtype(op: str, dtype: Any) -> np.dtype:
    """`dtype` as a NumPy dtype, or an error naming `op`."""
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}(): {dtype!r} is neither a dtype nor a device") from None
