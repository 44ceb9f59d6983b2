"""Reductions of a `Tensor` (sum, mean, var, max, logsumexp, softmax, argmax...), a mixin.

Composite reductions (`mean`, `var`, `std`, `min`, `softmax`) are written from
primitives here and need no backward of their own.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd import ops
from retrograd.autograd.arguments import Axis, _axes, _axis
from retrograd.autograd.function import record
from retrograd.autograd.graph import ShapeError

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


class ReductionMethods:
    """The reductions of `Tensor`, over `axis` (an int, a tuple, or None for all)."""

    __slots__ = ()

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return record(
            ops.Sum, (self,), {"axis": _axes(axis, self.ndim, "sum"), "keepdims": keepdims}
        )

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        axes = _axes(axis, self.ndim, "mean")
        count = int(np.prod([self.shape[a] for a in axes])) if axes else 1
        # The mean of no elements is NaN, as in NumPy and PyTorch.
        return self.sum(axes, keepdims) * (1.0 / count if count else float("nan"))

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """Variance as NumPy computes it (`ddof=1` for PyTorch's default, unbiased).

        With `ddof` at least the number of elements, also as NumPy: a RuntimeWarning,
        and the sum of squares divided by zero (NaN, or inf).
        """
        return self._variance(axis, keepdims, ddof, "var")

    def std(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """Standard deviation: the square root of `var` with the same arguments.

        Where the variance is 0 the gradient is 0, as in PyTorch (the square
        root's derivative is infinite there): the root is taken of 1 instead, and
        replaced by 0.
        """
        variance = self._variance(axis, keepdims, ddof, "std")
        nonzero = self._make(variance._data != 0, None, 0)
        safe = record(ops.Where, (nonzero, variance, variance._operand(1.0)))
        return record(ops.Where, (nonzero, safe**0.5, variance._operand(0.0)))

    def _variance(self, axis: Axis, keepdims: bool, ddof: int, op: str) -> Tensor:
        """The variance for `var` and `std`, whose errors and warnings name `op`."""
        if isinstance(ddof, bool) or not isinstance(ddof, int | float | np.integer | np.floating):
            raise TypeError(f"{op}(): ddof must be a number, got {ddof!r}")
        axes = _axes(axis, self.ndim, op)
        count = int(np.prod([self.shape[a] for a in axes])) if axes else 1
        if count - ddof <= 0:
            warnings.warn(
                f"{op}(): degrees of freedom <= 0 for {count} element(s) with ddof={ddof}",
                RuntimeWarning,
                stacklevel=3,
            )
        centred = self - self.mean(axes, keepdims=True)
        return (centred * centred).sum(axes, keepdims) / max(count - ddof, 0)

    def prod(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Product of the values; its gradient is right where values are zero (the product
        of the others, where dividing the result by the value would give 0 / 0)."""
        return record(
            ops.Prod, (self,), {"axis": _axes(axis, self.ndim, "prod"), "keepdims": keepdims}
        )

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Largest value; ties share the gradient equally (as torch.amax)."""
        return record(
            ops.Max, (self,), {"axis": _axes(axis, self.ndim, "max"), "keepdims": keepdims}
        )

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Smallest value: the negated maximum of the negated values (ties share the
        gradient equally, as torch.amin). Integer and boolean tensors, which have no
        gradient, take NumPy's minimum: negating would wrap an unsigned 0 or the least
        signed integer around (and fails on bools)."""
        axes = _axes(axis, self.ndim, "min")
        data = self._data
        if data.size == 0:
            ops.reduce.check_not_empty(data, axes, "min")
        if data.dtype.kind != "f":
            return self._make(np.asarray(np.min(data, axis=axes, keepdims=keepdims)), None, 0)
        return -((-self).max(axes, keepdims))

    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """log(sum(exp(x))) without overflow."""
        return record(
            ops.LogSumExp,
            (self,),
            {"axis": _axes(axis, self.ndim, "logsumexp"), "keepdims": keepdims},
        )

    def log_softmax(self, axis: int = -1) -> Tensor:
        return self._log_softmax(_axes(axis, self.ndim, "log_softmax"))

    def softmax(self, axis: int = -1) -> Tensor:
        return self._log_softmax(_axes(axis, self.ndim, "softmax")).exp()

    def _log_softmax(self, axes: tuple[int, ...]) -> Tensor:
        """log_softmax over `axes`, already checked by the function the user called."""
        return self - self.logsumexp(axes, keepdims=True)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the largest value, the first of ties (no gradient)."""
        return self._arg_extreme(np.argmax, axis, keepdims, "argmax", "largest")

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the smallest value, the first of ties (no gradient)."""
        return self._arg_extreme(np.argmin, axis, keepdims, "argmin", "smallest")

    def _arg_extreme(
        self, find: Any, axis: int | None, keepdims: bool, op: str, extreme: str
    ) -> Tensor:
        """The index `find` (np.argmax or np.argmin) gives, as a tensor without gradient."""
        if axis is not None:
            axis = _axis(axis, self.ndim, op)  # None for a 0-d tensor: its one index
        try:
            out = find(self.data, axis=axis, keepdims=keepdims)
        except ValueError:  # NumPy's "attempt to get argmax of an empty sequence"
            where = "" if axis is None else f" along axis {axis}"
            raise ShapeError(
                f"{op}(): no {extreme} value{where} of an empty tensor of shape {self.shape}"
            ) from None
        return self._make(np.asarray(out), None, 0)
