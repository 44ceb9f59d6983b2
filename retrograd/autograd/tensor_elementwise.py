"""Elementwise functions of a `Tensor` (exp, log, tanh, sin, floor, lerp, nan_to_num...),
a mixin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd import ops
from retrograd.autograd.function import record
from retrograd.autograd.graph import ShapeError

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


class ElementwiseMethods:
    """The elementwise functions of `Tensor` (the arithmetic operators are its own)."""

    __slots__ = ()

    # exp, log, tanh and sigmoid of an integer or boolean tensor give float32, as PyTorch.
    # exp, log, tanh and sigmoid run in every LSTM and GRU step: they take no dtype test, so
    # an integer tensor gives NumPy's float64 (float16 for bool and int8) where PyTorch gives
    # float32; the functions below, off that path, convert as PyTorch does.
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

    def clamp_min(self, min: Any) -> Tensor:
        """Values below `min` raised to it (`clamp(min=min)`)."""
        if min is None:
            raise TypeError("clamp_min(): min must be a number or a tensor, got None")
        return self.clip(min=min)

    def clamp_max(self, max: Any) -> Tensor:
        """Values above `max` lowered to it (`clamp(max=max)`)."""
        if max is None:
            raise TypeError("clamp_max(): max must be a number or a tensor, got None")
        return self.clip(max=max)

    # ----- trigonometric and hyperbolic (integer inputs give float32, as PyTorch) -----
    def sin(self) -> Tensor:
        return record(ops.Sin, (_floating(self),))

    def cos(self) -> Tensor:
        return record(ops.Cos, (_floating(self),))

    def tan(self) -> Tensor:
        return record(ops.Tan, (_floating(self),))

    def asin(self) -> Tensor:
        """The arcsine, NaN outside [-1, 1]."""
        return record(ops.Asin, (_floating(self),))

    def acos(self) -> Tensor:
        """The arccosine, NaN outside [-1, 1]."""
        return record(ops.Acos, (_floating(self),))

    def atan(self) -> Tensor:
        return record(ops.Atan, (_floating(self),))

    def sinh(self) -> Tensor:
        return record(ops.Sinh, (_floating(self),))

    def cosh(self) -> Tensor:
        return record(ops.Cosh, (_floating(self),))

    def atan2(self, other: Any) -> Tensor:
        """The angle of the point (other, self): atan(self / other) in the right quadrant."""
        a, b = _operands(self, other, "atan2", "other")
        return record(ops.Atan2, (_floating(a), _floating(b)))

    def hypot(self, other: Any) -> Tensor:
        """sqrt(self^2 + other^2), without overflow or underflow in the squares."""
        a, b = _operands(self, other, "hypot", "other")
        return record(ops.Hypot, (_floating(a), _floating(b)))

    # ----- logarithms, exponentials and powers -----
    def log1p(self) -> Tensor:
        """log(1 + x), exact also where x is tiny (where 1 + x would round to 1)."""
        return record(ops.Log1p, (_floating(self),))

    def expm1(self) -> Tensor:
        """exp(x) - 1, exact also where x is tiny."""
        return record(ops.Expm1, (_floating(self),))

    def log2(self) -> Tensor:
        return record(ops.Log2, (_floating(self),))

    def log10(self) -> Tensor:
        return record(ops.Log10, (_floating(self),))

    def exp2(self) -> Tensor:
        """2 ** x."""
        return 2.0**self

    def erf(self) -> Tensor:
        """The error function (NumPy has none): W. J. Cody's rational Chebyshev
        approximations, vectorized, within 1e-15 relative of the C library's erf."""
        return record(ops.Erf, (_floating(self),))

    def pow(self, exponent: Any) -> Tensor:
        """self ** exponent, for a number or a tensor exponent (which gets a gradient too)."""
        return record(ops.Pow, _operands(self, exponent, "pow", "exponent"))

    def square(self) -> Tensor:
        """x * x (an integer tensor stays integer, as in PyTorch)."""
        return self * self

    def reciprocal(self) -> Tensor:
        """1 / x (integer tensors give float32)."""
        return 1.0 / self

    def rsqrt(self) -> Tensor:
        """1 / sqrt(x), in one op."""
        return self**-0.5

    def neg(self) -> Tensor:
        return record(ops.Neg, (self,))

    negative = neg

    # ----- piecewise constant: zero gradients, as PyTorch -----
    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of each value (its gradient is zero)."""
        return _piecewise_constant(self, np.sign)

    def floor(self) -> Tensor:
        """The largest integer not above each value (its gradient is zero)."""
        return _piecewise_constant(self, np.floor)

    def ceil(self) -> Tensor:
        """The smallest integer not below each value (its gradient is zero)."""
        return _piecewise_constant(self, np.ceil)

    def trunc(self) -> Tensor:
        """Each value rounded toward zero (its gradient is zero)."""
        return _piecewise_constant(self, np.trunc)

    def round(self, *, decimals: int = 0) -> Tensor:
        """Each value rounded to `decimals` decimal places, halves to even as PyTorch and
        NumPy (its gradient is zero)."""
        if isinstance(decimals, bool) or not isinstance(decimals, int | np.integer):
            raise TypeError(f"round(): decimals must be an int, got {decimals!r}")
        return _piecewise_constant(self, np.round, int(decimals))

    def frac(self) -> Tensor:
        """The fractional part, x - trunc(x), with the sign of x (its gradient is 1)."""
        return self - self.trunc()

    def lerp(self, end: Any, weight: Any) -> Tensor:
        """self + weight * (end - self): the linear interpolation towards `end`, with
        gradients to all three when they are tensors that require one."""
        _, end = _operands(self, end, "lerp", "end")
        _, weight = _operands(self, weight, "lerp", "weight")
        try:
            np.broadcast_shapes(self.shape, end.shape, weight.shape)
        except ValueError:
            raise ShapeError(
                f"lerp(): input of shape {self.shape}, end of shape {end.shape} and weight "
                f"of shape {weight.shape} do not broadcast together"
            ) from None
        return self + weight * (end - self)

    # ----- non-finite values -----
    def isnan(self) -> Tensor:
        """Where the values are NaN (a boolean tensor, without gradient)."""
        return self._make(np.asarray(np.isnan(self._data)), None, 0)

    def isinf(self) -> Tensor:
        """Where the values are infinite (a boolean tensor, without gradient)."""
        return self._make(np.asarray(np.isinf(self._data)), None, 0)

    def isfinite(self) -> Tensor:
        """Where the values are neither NaN nor infinite (a boolean tensor, without gradient)."""
        return self._make(np.asarray(np.isfinite(self._data)), None, 0)

    def nan_to_num(
        self, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
    ) -> Tensor:
        """NaN replaced by `nan`, infinities by `posinf` and `neginf` (by default the
        dtype's largest and smallest values); the gradient flows where the values were
        finite and is 0 elsewhere, as PyTorch."""
        for name, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
            if not _is_number(value, allow_none=name != "nan"):
                raise TypeError(f"nan_to_num(): {name} must be a number, got {value!r}")
        params = {"nan": nan, "posinf": posinf, "neginf": neginf}
        return record(ops.NanToNum, (self,), params)


def _piecewise_constant(t: Tensor, function: Any, *args: Any) -> Tensor:
    """The values of the piecewise-constant `function` (floor, sign...) with a zero gradient,
    as PyTorch: the result requires grad when `t` does. Composed as where(False, t, values),
    not an op of its own, whose rule (all zeros) no gradient check could tell from a wrong
    one. Integers and booleans are their own floor, ceiling and truncation, kept in their
    dtype (NumPy's would be floats); NumPy's sign and round keep an integer's dtype (a
    round to decimals < 0 changes its value); the sign of a boolean is itself."""
    data = t._data
    kind = data.dtype.kind
    if kind == "f" or (kind in "iu" and function in (np.sign, np.round)):
        values = np.asarray(function(data, *args))
    else:
        values = data.copy()
    constant = t._make(values, None, 0)
    if not t.requires_grad:
        return constant
    return record(ops.Where, (t._make(np.zeros((), bool), None, 0), t, constant))


def _floating(t: Tensor) -> Tensor:
    """`t`, or a float32 copy of an integer or boolean tensor (whose functions such as sin
    PyTorch computes in its default float dtype; NumPy would give float64)."""
    return t if t._data.dtype.kind == "f" else t.astype(np.float32)


def _operands(t: Tensor, value: Any, op: str, name: str) -> tuple[Tensor, Tensor]:
    """`t` and the argument `name` of `op` as the operands of a binary op, as arithmetic
    takes them (a Python number takes `t`'s float dtype); a value that is not numeric is a
    TypeError naming both."""
    try:
        return t._scalar_operands(value)
    except TypeError as err:
        raise TypeError(f"{op}(): {name} must be a tensor or a number: {err}") from None


def _is_number(value: Any, allow_none: bool) -> bool:
    """Whether `value` is a real number (not a bool), or None where that is allowed."""
    if value is None:
        return allow_none
    return not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)


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
