"""Comparisons (<, ==, eq, isclose...), logical and bitwise operators (&, logical_and...)
and boolean reductions (all, any, count_nonzero) of a `Tensor`, a mixin: their results
have no gradient."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd.arguments import Axis
from retrograd.autograd.graph import ShapeError

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


class LogicMethods:
    """The comparisons and bitwise operators of `Tensor`, which give tensors without
    gradient."""

    __slots__ = ()

    def _compare(self, other: Any, fn: Any, op: str | None = None) -> Tensor:
        """`fn` of this tensor and `other` (broadcast), whose errors name `op` (or `fn`)."""
        other = self._operand(other)
        try:
            return self._make(np.asarray(fn(self.data, other.data)), None, 0)
        except ValueError:
            raise _not_broadcastable(op or fn.__name__, self.shape, other.shape) from None

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

    def eq(self, other: Any) -> Tensor:
        """Elementwise ==, as a boolean tensor."""
        return self._compare(other, np.equal, "eq")

    def ne(self, other: Any) -> Tensor:
        """Elementwise !=, as a boolean tensor."""
        return self._compare(other, np.not_equal, "ne")

    def lt(self, other: Any) -> Tensor:
        """Elementwise <, as a boolean tensor."""
        return self._compare(other, np.less, "lt")

    def le(self, other: Any) -> Tensor:
        """Elementwise <=, as a boolean tensor."""
        return self._compare(other, np.less_equal, "le")

    def gt(self, other: Any) -> Tensor:
        """Elementwise >, as a boolean tensor."""
        return self._compare(other, np.greater, "gt")

    def ge(self, other: Any) -> Tensor:
        """Elementwise >=, as a boolean tensor."""
        return self._compare(other, np.greater_equal, "ge")

    def logical_and(self, other: Any) -> Tensor:
        """Elementwise and of the values' truth (nonzero is true), as a boolean tensor."""
        return self._compare(other, np.logical_and, "logical_and")

    def logical_or(self, other: Any) -> Tensor:
        """Elementwise or of the values' truth (nonzero is true), as a boolean tensor."""
        return self._compare(other, np.logical_or, "logical_or")

    def logical_xor(self, other: Any) -> Tensor:
        """Elementwise exclusive or of the values' truth, as a boolean tensor."""
        return self._compare(other, np.logical_xor, "logical_xor")

    def logical_not(self) -> Tensor:
        """Elementwise not of the values' truth (zero is false), as a boolean tensor."""
        return self._make(np.asarray(np.logical_not(self._data)), None, 0)

    def isclose(
        self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> Tensor:
        """Where |self - other| <= atol + rtol * |other|, as a boolean tensor (torch.isclose)."""
        return self._compare(
            other,
            lambda a, b: np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan),
            "isclose",
        )

    def allclose(
        self, other: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> bool:
        """Whether `isclose` holds everywhere, as a Python bool (torch.allclose)."""
        return bool(self.isclose(other, rtol, atol, equal_nan)._data.all())

    def equal(self, other: Any) -> bool:
        """Whether `other` has this shape and these values, as a Python bool (torch.equal)."""
        other = self._operand(other)
        return self.shape == other.shape and bool(np.array_equal(self._data, other._data))

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
        return self._make(np.asarray(np.invert(self._data)), None, 0)

    def all(
        self,
        dim: Axis = None,
        keepdim: bool | None = None,
        *,
        axis: Axis = None,
        keepdims: bool = False,
    ) -> Tensor:
        """Whether every value over `dim` (all by default) is nonzero, as a boolean tensor."""
        axes, keepdims = self._reduced("all", axis, keepdims, dim, keepdim)
        return self._make(np.asarray(np.all(self._data, axis=axes, keepdims=keepdims)), None, 0)

    def any(
        self,
        dim: Axis = None,
        keepdim: bool | None = None,
        *,
        axis: Axis = None,
        keepdims: bool = False,
    ) -> Tensor:
        """Whether some value over `dim` (all by default) is nonzero, as a boolean tensor."""
        axes, keepdims = self._reduced("any", axis, keepdims, dim, keepdim)
        return self._make(np.asarray(np.any(self._data, axis=axes, keepdims=keepdims)), None, 0)

    def count_nonzero(self, dim: Axis = None, *, axis: Axis = None) -> Tensor:
        """The number of nonzero values over `dim` (all by default), as an int64 tensor."""
        axes, _ = self._reduced("count_nonzero", axis, False, dim, None)
        count = np.count_nonzero(self._data, axis=axes)
        return self._make(np.asarray(count, dtype=np.int64), None, 0)


def _not_broadcastable(op: str, shape: tuple[int, ...], other: tuple[int, ...]) -> ShapeError:
    """The error for operands of `op` whose shapes do not broadcast together."""
    return ShapeError(f"{op}: operands with shapes {shape} and {other} do not broadcast together")
