"""In-place updates of a `Tensor`'s values (add_, copy_, +=...), a mixin.

Each is refused on a tensor that requires grad while grad mode is on, and
bumps the tensor's version so nodes that saved it earlier become invalid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd.graph import ShapeError, grad_mode

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


class InPlaceMethods:
    """The in-place updates of `Tensor`."""

    __slots__ = ()

    def _in_place(self, ufunc: Any, other: Any, name: str) -> Tensor:
        if self.requires_grad and grad_mode.enabled:
            raise RuntimeError(
                f"{name}: in-place operation on a tensor that requires grad; use an "
                "out-of-place op (x = x + y) or update it under retrograd.no_grad()"
            )
        # A Tensor is an InPlaceMethods (the class is imported here before Tensor exists).
        value = other._data if isinstance(other, InPlaceMethods) else other
        try:
            ufunc(self._data, value, out=self._data, casting="same_kind")
        except TypeError:
            result = _result_dtype(ufunc, self._data, value)
            raise TypeError(
                f"{name}: cannot write {result} values into a tensor of dtype {self.dtype} in place"
            ) from None
        except ValueError as err:
            raise ShapeError(f"{name}: cannot update shape {self.shape} in place: {err}") from None
        except OverflowError:  # a Python int outside the dtype's range, as 300 for uint8
            raise OverflowError(
                f"{name}: {value!r} is out of range for a tensor of dtype {self.dtype}"
            ) from None
        self._bump_version()
        return self

    def add_(self, other: Any) -> Tensor:
        """In place: self += other."""
        return self._in_place(np.add, other, "add_")

    def sub_(self, other: Any) -> Tensor:
        """In place: self -= other."""
        return self._in_place(np.subtract, other, "sub_")

    def mul_(self, other: Any) -> Tensor:
        """In place: self *= other."""
        return self._in_place(np.multiply, other, "mul_")

    def div_(self, other: Any) -> Tensor:
        """In place: self /= other."""
        return self._in_place(np.divide, other, "div_")

    def copy_(self, other: Any) -> Tensor:
        """In place: overwrite the values with other's (broadcast to this shape)."""
        return self._in_place(_assign, other, "copy_")

    def zero_(self) -> Tensor:
        """In place: set every value to zero (False for a boolean tensor)."""
        return self._in_place(_assign, self._data.dtype.type(0), "zero_")

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_


def _result_dtype(ufunc: Any, target: np.ndarray, value: Any) -> np.dtype:
    """The dtype of what an in-place update computes (int64 / int64 gives float64), which
    is what failed to fit the target; the value's own dtype where even that fails."""
    if not isinstance(ufunc, np.ufunc):  # an assignment: what fails to fit is the value
        return np.asarray(value).dtype
    try:
        return np.asarray(ufunc(target, value)).dtype
    except TypeError:  # no loop for these dtypes at all: name the value's
        return np.asarray(value).dtype


def _assign(target: np.ndarray, value: Any, out: np.ndarray, casting: str) -> None:
    """`copy_` as a ufunc-shaped call, so it shares the in-place checks."""
    np.copyto(out, value, casting=casting)


def assign_at(index: Any, target: np.ndarray, value: Any, out: np.ndarray, casting: str) -> None:
    """`setitem` as a ufunc-shaped call (as `_assign`), converted as `copy_` converts: NumPy's
    own assignment would cut floats written into an integer tensor silently, and a Python
    number is taken by its value (1 fits a uint8 tensor, 300 does not), not as an int64."""
    converted = np.empty(np.shape(value), out.dtype)
    np.copyto(converted, value, casting=casting)
    try:
        out[index] = converted
    except IndexError as err:
        raise IndexError(f"setitem: index {index!r} into shape {out.shape}: {err}") from None
