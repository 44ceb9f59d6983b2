"""Comparisons (<, ==...) and boolean and bitwise operators (&, |, ^, ~) of a `Tensor`,
a mixin: their results have no gradient."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd.graph import ShapeError

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


class LogicMethods:
    """The comparisons and bitwise operators of `Tensor`, which give tensors without
    gradient."""

    __slots__ = ()

    def _compare(self, other: Any, fn: Any) -> Tensor:
        other = self._operand(other)
        try:
            return self._make(fn(self.data, other.data), None, 0)
        except ValueError:
            raise _not_broadcastable(fn.__name__, self.shape, other.shape) from None

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    def __eq__(self, other: Any) -> Tensor | bool:  # type: ignore[override]
        """Elementwise ==; `t == None` is False, as in PyTorch (so `t in [None]` works)."""
        if other is None:
            return False
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor | bool:  # type: ignore[override]
        """Elementwise !=; `t != None` is True, as in PyTorch."""
        if other is None:
            return True
        return self._compare(other, np.not_equal)

    # Defining __eq__ drops the inherited hash: tensors hash by identity, as in PyTorch.
    __hash__ = object.__hash__

    def _bitwise(self, other: Any, fn: Any, op: str) -> Tensor:
        """`fn` of boolean or integer operands, as PyTorch's bitwise ops; floats are refused.

        A Python bool or int is handed to NumPy as it is, so it takes the tensor's
        dtype (an int32 tensor & 3 stays int32).
        """
        # A Tensor is a LogicMethods (the class is imported here before Tensor exists).
        value = other._data if isinstance(other, LogicMethods) else other
        if not isinstance(value, bool | int | np.ndarray):
            from retrograd.autograd.tensor import as_array  # that module imports this one

            value = as_array(value)
        kinds = (self._data.dtype, np.asarray(value).dtype)
        if any(kind.kind not in "biu" for kind in kinds):
            raise TypeError(
                f"{op}: operands must be boolean or integer tensors, got dtypes "
                f"{kinds[0]} and {kinds[1]}; compare floats first (x > 0) for a boolean tensor"
            )
        try:
            return self._make(np.asarray(fn(self._data, value)), None, 0)
        except ValueError:
            raise _not_broadcastable(op, self.shape, np.shape(value)) from None

    def __and__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_and, "bitwise_and (&)")

    def __or__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_or, "bitwise_or (|)")

    def __xor__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_xor, "bitwise_xor (^)")

    __rand__ = __and__
    __ror__ = __or__
    __rxor__ = __xor__

    def __invert__(self) -> Tensor:
        """Logical not of a boolean tensor, bitwise not of an integer one."""
        if self._data.dtype.kind not in "biu":
            raise TypeError(
                f"bitwise_not (~): needs a boolean or integer tensor, got dtype {self.dtype}"
            )
        return self._make(np.invert(self._data), None, 0)


def _not_broadcastable(op: str, shape: tuple[int, ...], other: tuple[int, ...]) -> ShapeError:
    """The error for operands of `op` whose shapes do not broadcast together."""
    return ShapeError(f"{op}: operands with shapes {shape} and {other} do not broadcast together")
