"""Reductions of a `Tensor` (sum, mean, var, max, norm, logsumexp, softmax, argmax...), a
mixin.

Composite reductions (`mean`, `var`, `std`, `min`, `norm`, `softmax`) are written from
primitives here and need no backward of their own. Each takes NumPy's `axis` and
`keepdims` or PyTorch's `dim` and `keepdim` (one of each pair).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd import ops
from retrograd.autograd.arguments import Axis, _axes, _axis
from retrograd.autograd.function import record
from retrograd.autograd.graph import ShapeError
from retrograd.autograd.tensor_gather import ValuesIndices

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

    def nansum(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """The sum with NaN counted as zero; NaNs get no gradient (as torch.nansum)."""
        axes, keepdims = self._reduced("nansum", axis, keepdims, dim, keepdim)
        return self._without_nan().sum(axes, keepdims)

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

    def nanmean(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """The mean of the values that are not NaN (NaN where all are); NaNs get no gradient."""
        axes, keepdims = self._reduced("nanmean", axis, keepdims, dim, keepdim)
        if self._data.dtype.kind != "f":
            raise TypeError(f"nanmean(): needs a floating tensor, got dtype {self.dtype}")
        count = np.sum(~np.isnan(self._data), axis=axes, keepdims=keepdims)
        # A scale of NaN where no value counts: the mean of nothing, without 0 / 0's warning.
        with np.errstate(divide="ignore"):
            scale = np.where(count > 0, 1.0 / count, np.nan).astype(self.dtype)
        return self._without_nan().sum(axes, keepdims) * self._make(scale, None, 0)

    def _without_nan(self) -> Tensor:
        """This tensor with its NaNs replaced by zeros, which pass no gradient back."""
        if self._data.dtype.kind != "f":
            return self
        nan = self._make(np.isnan(self._data), None, 0)
        return record(ops.Where, (nan, self._operand(0.0), self))

    def var(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        ddof: float | None = None,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
        correction: float | None = None,
        unbiased: bool | None = None,
    ) -> Tensor:
        """Variance; `ddof` (NumPy's name) or `correction` (PyTorch's) is subtracted from the
        count of values, `unbiased=True` meaning 1. The default is 0, as in NumPy (PyTorch's
        is 1: pass `correction=1` for its value).

        With a correction at least the number of elements, as NumPy: a RuntimeWarning,
        and the sum of squares divided by zero (NaN, or inf).
        """
        axes, keepdims = self._reduced("var", axis, keepdims, dim, keepdim)
        return self._variance(axes, keepdims, _ddof("var", ddof, correction, unbiased), "var")

    def std(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        ddof: float | None = None,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
        correction: float | None = None,
        unbiased: bool | None = None,
    ) -> Tensor:
        """Standard deviation: the square root of `var` with the same arguments.

        Where the variance is 0 the gradient is 0, as in PyTorch (the square
        root's derivative is infinite there).
        """
        axes, keepdims = self._reduced("std", axis, keepdims, dim, keepdim)
        ddof = _ddof("std", ddof, correction, unbiased)
        return _root(self._variance(axes, keepdims, ddof, "std"), 0.5)

    def _variance(self, axes: tuple[int, ...], keepdims: bool, ddof: float, op: str) -> Tensor:
        """The variance for `var` and `std`, whose warnings name `op`."""
        count = int(np.prod([self.shape[a] for a in axes])) if axes else 1
        if count - ddof <= 0:
            warnings.warn(
                f"{op}(): degrees of freedom <= 0 for {count} element(s) with ddof={ddof}",
                RuntimeWarning,
                stacklevel=3,
            )
        centred = self - self.mean(axes, keepdims=True)
        return (centred * centred).sum(axes, keepdims) / max(count - ddof, 0)

    def norm(
        self,
        p: float | str = "fro",
        dim: Axis = None,
        keepdim: bool | None = None,
        *,
        axis: Axis = None,
        keepdims: bool = False,
    ) -> Tensor:
        """The vector p-norm over `dim` (all values by default), as torch.norm: `p` is 'fro'
        or 2 (the root of the sum of squares), 1, inf (the largest magnitude), -inf (the
        smallest), 0 (the count of nonzero values, without gradient) or another number.

        Where the norm is 0 its gradient is 0, the subgradient PyTorch takes; for p = inf
        ties share the gradient equally, as in PyTorch.
        """
        axes, keepdims = self._reduced("norm", axis, keepdims, dim, keepdim)
        if self._data.dtype.kind != "f":
            raise TypeError(f"norm(): needs a floating tensor, got dtype {self.dtype}")
        if p == "fro":
            p = 2
        if isinstance(p, bool) or not isinstance(p, int | float | np.integer | np.floating):
            raise ValueError(
                f"norm(): p must be 'fro' or a number (2, 1, inf, -inf, 0...), got {p!r}"
            )
        if p == np.inf:
            return self.abs()._amax(axes, keepdims, "norm")
        if p == -np.inf:
            return self.abs()._amin(axes, keepdims, "norm")
        if p == 0:
            return (self != 0).astype(self.dtype).sum(axes, keepdims)
        if p == 1:
            return self.abs().sum(axes, keepdims)
        if p == 2:
            return _root((self * self).sum(axes, keepdims), 0.5)
        return _root((self.abs() ** float(p)).sum(axes, keepdims), 1.0 / p)

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
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor | ValuesIndices:
        """Largest value over `axis` (all by default); ties share the gradient equally (as
        torch.amax). With PyTorch's `dim`, as torch.max(dim): the pair (values, indices)
        along that one axis, the gradient going to the index alone."""
        if dim is not None:
            return self._selected("max", axis, keepdims, dim, keepdim)
        axes, keepdims = self._reduced("max", axis, keepdims, dim, keepdim)
        return self._amax(axes, keepdims, "max")

    def min(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: int | None = None,
        keepdim: bool | None = None,
    ) -> Tensor | ValuesIndices:
        """Smallest value over `axis` (all by default); ties share the gradient equally (as
        torch.amin). With PyTorch's `dim`, as torch.min(dim): the pair (values, indices)."""
        if dim is not None:
            return self._selected("min", axis, keepdims, dim, keepdim)
        axes, keepdims = self._reduced("min", axis, keepdims, dim, keepdim)
        return self._amin(axes, keepdims, "min")

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
        index = list(np.ogrid[tuple(slice(n) for n in indices.shape)])
        index[axis] = indices._data
        values = self[tuple(index)]
        if keepdims:
            return ValuesIndices(values, indices)
        return ValuesIndices(values.squeeze(axis), indices.squeeze(axis))

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


def _conflict(op: str, name: str, value: Any, default: Any, alias: str, alias_value: Any) -> Any:
    """The value of an argument passed under its NumPy `name` or its PyTorch `alias`;
    refused when both are given."""
    if alias_value is None:
        return value
    if value is not default:
        raise TypeError(f"{op}(): got both {name}={value!r} and {alias}={alias_value!r}; pass one")
    return alias_value


def _as_dim(check: Any, dim: Any, ndim: int, op: str) -> Any:
    """`check` (`_axes` or `_axis`) of an argument passed as `dim`: its errors say dim."""
    try:
        return check(dim, ndim, op)
    except (TypeError, ValueError) as err:
        raise type(err)(str(err).replace("(): axis", "(): dim", 1)) from None


def _ddof(op: str, ddof: Any, correction: Any, unbiased: Any) -> float:
    """The correction of `var` or `std`, given as `ddof`, `correction` or `unbiased` (one of
    them; 0 by default)."""
    given = {"ddof": ddof, "correction": correction, "unbiased": unbiased}
    given = {name: value for name, value in given.items() if value is not None}
    if len(given) > 1:
        raise TypeError(f"{op}(): got {' and '.join(given)}; pass one")
    if not given:
        return 0
    ((name, value),) = given.items()
    if name == "unbiased":
        if not isinstance(value, bool | np.bool_):
            raise TypeError(f"{op}(): unbiased must be a bool, got {value!r}")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{op}(): {name} must be a number, got {value!r}")
    return value


def _root(value: Tensor, exponent: float) -> Tensor:
    """value ** exponent (a root: 0 < exponent < 1) with gradient 0 where the value is 0, as
    PyTorch's std and norm: the power's derivative is infinite there, so the root is
    taken of 1 instead and replaced by 0."""
    nonzero = value._make(value._data != 0, None, 0)
    safe = record(ops.Where, (nonzero, value, value._operand(1.0)))
    return record(ops.Where, (nonzero, safe**exponent, value._operand(0.0)))
