"""Reductions of a `Tensor` (sum, mean, prod, max, min, logsumexp, softmax, argmax...), a
mixin; the statistics (var, std, norm, nansum, nanmean) are in `tensor_statistics`.

Composite reductions (`mean`, `min`, `softmax`) are written from primitives here and
need no backward of their own. Each takes NumPy's `axis` and `keepdims` or PyTorch's
`dim` and `keepdim` (one of each pair).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd import ops
from retrograd.autograd.arguments import Axis, _as_dim, _axes, _axis, _conflict
from retrograd.autograd.function import record
from retrograd.autograd.graph import ShapeError
from retrograd.autograd.tensor_gather import ValuesIndices, picked

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


class ReductionMethods:
    """The reductions of `Tensor`, over `axis` (an int, a tuple, or None for all) or `dim`."""

    __slots__ = ()

    def sum(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        axes, keepdims = self._reduced("sum", axis, keepdims, dim, keepdim)
        return record(ops.Sum, (self,), {"axis": axes, "keepdims": keepdims})

    def mean(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        axes, keepdims = self._reduced("mean", axis, keepdims, dim, keepdim)
        count = int(np.prod([self.shape[a] for a in axes])) if axes else 1
        # The mean of no elements is NaN, as in NumPy and PyTorch.
        return self.sum(axes, keepdims) * (1.0 / count if count else float("nan"))

    def prod(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Product of the values; its gradient is right where values are zero (the product
        of the others, where dividing the result by the value would give 0 / 0)."""
        axes, keepdims = self._reduced("prod", axis, keepdims, dim, keepdim)
        return record(ops.Prod, (self,), {"axis": axes, "keepdims": keepdims})

    def max(
        self,
        axis: Axis | Tensor | np.ndarray = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor | ValuesIndices:
        """Largest value over `axis` (all by default); ties share the gradient equally (as
        torch.amax). With PyTorch's `dim`, as torch.max(dim): the pair (values, indices)
        along that one axis, the gradient going to the index alone. With a tensor or array
        in place of the axis, as torch.max(input, other): the elementwise maximum."""
        if isinstance(axis, ReductionMethods | np.ndarray):
            return self._of_two("max", axis, keepdims, dim, keepdim)
        if dim is not None:
            return self._selected("max", axis, keepdims, dim, keepdim)
        axes, keepdims = self._reduced("max", axis, keepdims, dim, keepdim)
        return self._amax(axes, keepdims, "max")

    def min(
        self,
        axis: Axis | Tensor | np.ndarray = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor | ValuesIndices:
        """Smallest value over `axis` (all by default); ties share the gradient equally (as
        torch.amin). With PyTorch's `dim`, as torch.min(dim): the pair (values, indices).
        With a tensor or array in place of the axis, as torch.min(input, other): the
        elementwise minimum."""
        if isinstance(axis, ReductionMethods | np.ndarray):
            return self._of_two("min", axis, keepdims, dim, keepdim)
        if dim is not None:
            return self._selected("min", axis, keepdims, dim, keepdim)
        axes, keepdims = self._reduced("min", axis, keepdims, dim, keepdim)
        return self._amin(axes, keepdims, "min")

    def _of_two(
        self, op: str, other: Any, keepdims: bool, dim: int | None, keepdim: bool | None
    ) -> Tensor:
        """torch.max(input, other) or torch.min(input, other): rg.maximum or rg.minimum, which
        reduce no axis, so an axis argument beside `other` is refused."""
        if keepdims or dim is not None or keepdim is not None:
            raise TypeError(
                f"{op}(): with a tensor as other (the elementwise {op}imum), dim, keepdim "
                "and keepdims are not taken"
            )
        from retrograd.autograd.functional import maximum, minimum  # it imports Tensor

        return (maximum if op == "max" else minimum)(self, other)

    def amax(
        self,
        dim: Axis = None,
        keepdim: bool | None = None,
        *,
        axis: Axis = None,
        keepdims: bool = False,
    ) -> Tensor:
        """Largest value over `dim` (all by default); ties share the gradient equally."""
        axes, keepdims = self._reduced("amax", axis, keepdims, dim, keepdim)
        return self._amax(axes, keepdims, "amax")

    def amin(
        self,
        dim: Axis = None,
        keepdim: bool | None = None,
        *,
        axis: Axis = None,
        keepdims: bool = False,
    ) -> Tensor:
        """Smallest value over `dim` (all by default); ties share the gradient equally."""
        axes, keepdims = self._reduced("amin", axis, keepdims, dim, keepdim)
        return self._amin(axes, keepdims, "amin")

    def _amax(self, axes: tuple[int, ...], keepdims: bool, op: str) -> Tensor:
        if self._data.size == 0:
            ops.reduce.check_not_empty(self._data, axes, op)
        return record(ops.Max, (self,), {"axis": axes, "keepdims": keepdims})

    def _amin(self, axes: tuple[int, ...], keepdims: bool, op: str) -> Tensor:
        """The negated maximum of the negated values. Integer and boolean tensors, which
        have no gradient, take NumPy's minimum: negating would wrap an unsigned 0 or the
        least signed integer around (and fails on bools)."""
        data = self._data
        if data.size == 0:
            ops.reduce.check_not_empty(data, axes, op, "minimum")
        if data.dtype.kind != "f":
            return self._make(np.asarray(np.min(data, axis=axes, keepdims=keepdims)), None, 0)
        return -((-self)._amax(axes, keepdims, op))

    def _selected(
        self, op: str, axis: Axis, keepdims: bool, dim: int, keepdim: bool | None
    ) -> ValuesIndices:
        """torch.max(dim) or torch.min(dim): the extreme along one axis and its index (the
        first of ties), read out with an index so the gradient goes to that index alone."""
        _conflict(op, "axis", axis, None, "dim", dim)
        keepdims = _conflict(op, "keepdims", keepdims, False, "keepdim", keepdim)
        find, extreme = (np.argmax, "largest") if op == "max" else (np.argmin, "smallest")
        axis = _as_dim(_axis, dim, self.ndim, op)
        indices = self._arg_extreme(find, axis, True, op, extreme)
        if axis is None:  # a 0-d tensor: its value, at index 0
            return ValuesIndices(self[()], indices)
        return picked(self, indices._data, axis, keepdims)

    def logsumexp(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """log(sum(exp(x))) without overflow."""
        axes, keepdims = self._reduced("logsumexp", axis, keepdims, dim, keepdim)
        return record(ops.LogSumExp, (self,), {"axis": axes, "keepdims": keepdims})

    def log_softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        return self._log_softmax(self._reduced_one("log_softmax", axis, dim))

    def softmax(self, axis: int = -1, *, dim: int | None = None) -> Tensor:
        return self._log_softmax(self._reduced_one("softmax", axis, dim)).exp()

    def _reduced_one(self, op: str, axis: int, dim: int | None) -> tuple[int, ...]:
        """The one axis of a softmax, given as `axis` (default -1) or `dim`."""
        if dim is None:
            return _axes(axis, self.ndim, op)
        _conflict(op, "axis", axis, -1, "dim", dim)
        return _as_dim(_axes, dim, self.ndim, op)

    def _log_softmax(self, axes: tuple[int, ...]) -> Tensor:
        """log_softmax over `axes`, already checked by the function the user called."""
        return self - self.logsumexp(axes, keepdims=True)

    def argmax(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Index of the largest value, the first of ties (no gradient)."""
        return self._arg(np.argmax, "argmax", "largest", axis, keepdims, dim, keepdim)

    def argmin(
        self,
        axis: int | None = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Index of the smallest value, the first of ties (no gradient)."""
        return self._arg(np.argmin, "argmin", "smallest", axis, keepdims, dim, keepdim)

    def _arg(
        self,
        find: Any,
        op: str,
        extreme: str,
        axis: int | None,
        keepdims: bool,
        dim: int | None,
        keepdim: bool | None,
    ) -> Tensor:
        """argmax or argmin (`find`), with NumPy's argument names or PyTorch's."""
        keepdims = _conflict(op, "keepdims", keepdims, False, "keepdim", keepdim)
        if dim is not None:
            _conflict(op, "axis", axis, None, "dim", dim)
            axis = _as_dim(_axis, dim, self.ndim, op)
        return self._arg_extreme(find, axis, keepdims, op, extreme)

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

    def _reduced(
        self, op: str, axis: Axis, keepdims: bool, dim: Axis, keepdim: bool | None
    ) -> tuple[tuple[int, ...], bool]:
        """The axes `op` reduces and whether it keeps them, from NumPy's names (`axis`,
        `keepdims`) or PyTorch's (`dim`, `keepdim`): one of each pair."""
        if keepdim is not None:
            keepdims = _conflict(op, "keepdims", keepdims, False, "keepdim", keepdim)
        if dim is None:
            return _axes(axis, self.ndim, op), keepdims
        _conflict(op, "axis", axis, None, "dim", dim)
        return _as_dim(_axes, dim, self.ndim, op), keepdims
