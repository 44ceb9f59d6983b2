"""Elementwise functions of a `Tensor` (exp, log, tanh, relu, clip...), a mixin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd import ops
from retrograd.autograd.function import record

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


class ElementwiseMethods:
    """The elementwise functions of `Tensor` (the arithmetic operators are its own)."""

    __slots__ = ()

    def exp(self) -> Tensor:
        return record(ops.Exp, (self,))

    def log(self) -> Tensor:
        return record(ops.Log, (self,))

    def sqrt(self) -> Tensor:
        return self**0.5

    def tanh(self) -> Tensor:
        return record(ops.Tanh, (self,))

    def sigmoid(self) -> Tensor:
        return record(ops.Sigmoid, (self,))

    def relu(self) -> Tensor:
        return record(ops.Relu, (self,))

    def abs(self) -> Tensor:
        return record(ops.Abs, (self,))

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Limit values to [min, max]; the gradient flows where the input was inside."""
        if min is None and max is None:
            raise ValueError("clip(): give at least one of min and max")
        return record(ops.Clip, (self,), {"low": _bound(min, "min"), "high": _bound(max, "max")})

    clamp = clip


def _bound(value: Any, name: str) -> Any:
    """A bound of `clip` as NumPy takes it: a tensor's array (its gradient is not computed,
    so a tensor that requires one is refused). A NumPy scalar becomes a Python number,
    which takes the tensor's dtype as in arithmetic: NumPy would compute a float32 tensor
    clipped at an np.float64 in float64."""
    if value is None or type(value) is float or type(value) is int:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if not isinstance(value, ElementwiseMethods):  # not a Tensor (this class is its base)
        return value
    if value.requires_grad:
        raise TypeError(
            f"clip(): {name} is a tensor that requires grad, but clip gives its bounds no "
            f"gradient; use {'maximum' if name == 'min' else 'minimum'}() for that"
        )
    return value.data
