"""The statistics of a `Tensor` (var, std, norm, nansum, nanmean, median, kthvalue, mode),
a mixin.

All are composed from the primitives of `tensor_reductions` and need no backward of
their own. Each takes NumPy's `axis` and `keepdims` or PyTorch's `dim` and `keepdim`
(one of each pair); `var` and `std` take NumPy's `ddof` or PyTorch's `correction` or
`unbiased`. The order statistics (median, kthvalue, mode) take PyTorch's `dim` and
`keepdim` and read their values out of the stably sorted tensor with `gather`, so the
gradient goes to the chosen element alone.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd import ops
from retrograd.autograd.arguments import Axis, _as_dim, _axis, _ddof
from retrograd.autograd.function import record
from retrograd.autograd.graph import ShapeError
from retrograd.autograd.tensor_gather import ValuesIndices, picked

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


class StatisticsMethods:
    """The spread, norm and NaN-skipping reductions of `Tensor`, over `axis` (an int, a
    tuple, or None for all) or `dim`."""

    __slots__ = ()

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

    def median(self, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:
        """The lower median (the smaller of the two middle values), NaN where a NaN is
        among the values (as torch.median). Without `dim`, of all values (a tensor; NaN for
        no values); with `dim`, the pair (values, indices) along it."""
        if dim is None:
            flat = self.reshape(-1)
            if not flat.shape[0]:
                return self._make(np.full((), np.nan, dtype=self.dtype), None, 0)
            return flat._order_statistic("median", _median_place, 0, False).values
        return self._order_statistic("median", _median_place, dim, keepdim)

    def nanmedian(self, dim: int | None = None, keepdim: bool = False) -> Tensor | ValuesIndices:
        """The lower median of the values that are not NaN (NaN where all are), as
        torch.nanmedian: of all values without `dim`, the pair (values, indices) with it."""
        if dim is None:
            flat = self.reshape(-1)
            if not flat.shape[0]:
                return self._make(np.full((), np.nan, dtype=self.dtype), None, 0)
            return flat._order_statistic("nanmedian", _nanmedian_place, 0, False).values
        return self._order_statistic("nanmedian", _nanmedian_place, dim, keepdim)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
        """The `k`-th smallest value along `dim` (k counts from 1) and its index."""
        if isinstance(k, bool) or not isinstance(k, int | np.integer):
            raise TypeError(f"kthvalue(): k must be an int, got {k!r}")
        size = self.shape[_as_dim(_axis, dim, self.ndim, "kthvalue")] if self.ndim else 1
        if not 1 <= k <= size:
            raise ValueError(f"kthvalue(): k {k} is out of range 1..{size} for dim {dim}")
        return self._order_statistic(
            "kthvalue", lambda ordered, axis: _places(ordered, axis, k - 1), dim, keepdim
        )

    def mode(self, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
        """The most frequent value along `dim`, the smallest of ties, and the index of its
        last occurrence (as torch.mode)."""
        return self._order_statistic("mode", _mode_place, dim, keepdim, last=True)

    def _order_statistic(
        self, op: str, place: Any, dim: int, keepdim: bool, last: bool = False
    ) -> ValuesIndices:
        """The value at the sorted position `place(sorted values, axis)` gives along `dim`
        (equal values in their order, or reversed if `last`), and its index."""
        own = self if self.ndim else self.reshape(1)
        axis = _as_dim(_axis, dim, own.ndim, op)
        if not own.shape[axis]:
            raise ShapeError(
                f"{op}(): dim {dim} of the input of shape {self.shape} is empty; "
                "it has no value to pick"
            )
        order = own.data.argsort(axis, kind="stable")
        if last:  # equal values latest first: reverse, sort stably, count back
            flipped = np.flip(own.data, axis).argsort(axis, kind="stable")
            order = own.shape[axis] - 1 - flipped
        ordered = np.take_along_axis(own.data, order, axis)
        indices = np.take_along_axis(order, place(ordered, axis), axis)
        return picked(own, indices, axis, keepdim and bool(self.ndim))  # 0-d gives 0-d

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
        return _power(self._variance(axes, keepdims, ddof, "std"), 0.5)

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
            return _power((self * self).sum(axes, keepdims), 0.5)
        return _power(_power(self.abs(), float(p)).sum(axes, keepdims), 1.0 / p)


def _power(value: Tensor, exponent: float) -> Tensor:
    """value ** exponent (a non-negative value) with gradient 0 where the value is 0, as
    PyTorch's std and norm: for an exponent below 1 the power's derivative is infinite
    there, so the power is taken of 1 instead and replaced by 0 (inf for a negative
    exponent)."""
    nonzero = value._make(value._data != 0, None, 0)
    safe = record(ops.Where, (nonzero, value, value._operand(1.0)))
    at_zero = value._operand(0.0 if exponent > 0 else np.inf)
    return record(ops.Where, (nonzero, safe**exponent, at_zero))


def _places(ordered: np.ndarray, axis: int, position: int) -> np.ndarray:
    """The index of one place, `position`, along `axis` of every slice."""
    shape = list(ordered.shape)
    shape[axis] = 1
    return np.full(shape, position, dtype=np.int64)


def _not_nan(ordered: np.ndarray, axis: int) -> np.ndarray:
    """How many values of each slice are not NaN (sorting puts the NaNs last)."""
    if ordered.dtype.kind != "f":
        return np.full(_places(ordered, axis, 0).shape, ordered.shape[axis])
    return (~np.isnan(ordered)).sum(axis, keepdims=True)


def _median_place(ordered: np.ndarray, axis: int) -> np.ndarray:
    """The lower middle, or the first NaN where a slice has one."""
    count = _not_nan(ordered, axis)
    size = ordered.shape[axis]
    return np.where(count < size, count, (size - 1) // 2)


def _nanmedian_place(ordered: np.ndarray, axis: int) -> np.ndarray:
    """The lower middle of the values that are not NaN (a NaN where all are)."""
    return np.maximum((_not_nan(ordered, axis) - 1) // 2, 0)


def _mode_place(ordered: np.ndarray, axis: int) -> np.ndarray:
    """The place of the most frequent value in each sorted slice, the first of the longest
    runs of equal values (the smallest value of ties)."""
    moved = np.moveaxis(ordered, axis, -1)
    places = np.arange(moved.shape[-1])
    starts = np.ones(moved.shape, dtype=bool)
    starts[..., 1:] = moved[..., 1:] != moved[..., :-1]
    run_start = np.maximum.accumulate(np.where(starts, places, 0), axis=-1)
    # The end of the first longest run (argmax takes the first) and where that run starts.
    longest_end = (places - run_start).argmax(-1)[..., None]
    return np.moveaxis(np.take_along_axis(run_start, longest_end, -1), -1, axis)
