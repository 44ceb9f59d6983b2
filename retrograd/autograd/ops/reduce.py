"""Reductions over axes. Axes arrive normalised: a sorted tuple of non-negative ints."""

from __future__ import annotations

import numpy as np

from retrograd.autograd.function import Function
from retrograd.autograd.graph import Node, ShapeError


def _keep_axes(grad: np.ndarray, axis: tuple[int, ...], keepdims: bool) -> np.ndarray:
    """Reinsert reduced axes as size 1 so the gradient broadcasts against the input."""
    return grad if keepdims else np.expand_dims(grad, axis)


class Sum(Function):
    """d sum(a) = broadcast(d out) over the reduced axes"""

    reads_inputs = False

    @staticmethod
    def forward(ctx: Node, a: np.ndarray, axis: tuple[int, ...], keepdims: bool) -> np.ndarray:
        return np.sum(a, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        shape = ctx.parents[0].data.shape
        grad = _keep_axes(grad, ctx.params["axis"], ctx.params["keepdims"])
        return (np.broadcast_to(grad, shape),)


def check_not_empty(
    a: np.ndarray, axis: tuple[int, ...], op: str = "max", extreme: str = "maximum"
) -> None:
    """Refuse the `extreme` ("maximum" or "minimum") that `op` takes over an axis of size 0;
    an empty tensor reduced over other axes gives an empty result (as torch.amax: shape
    (0, 3) over axis 1 gives shape (0,))."""
    empty = [ax for ax in axis if a.shape[ax] == 0]
    if empty:
        raise ShapeError(
            f"{op}: the {extreme} over the empty axis {empty[0]} of a tensor of shape "
            f"{a.shape} is undefined"
        )


class Max(Function):
    """d max(a) = d out shared equally among the positions that hold the maximum"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray, axis: tuple[int, ...], keepdims: bool) -> np.ndarray:
        if a.size == 0:
            check_not_empty(a, axis)
        out = np.max(a, axis=axis, keepdims=True)
        ctx.saved = (a, out)
        return out if keepdims else np.squeeze(out, axis)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        a, out = ctx.saved
        grad = _keep_axes(grad, ctx.params["axis"], ctx.params["keepdims"])
        mask = (a == out).astype(grad.dtype)
        return (mask * (grad / mask.sum(axis=ctx.params["axis"], keepdims=True)),)


class Prod(Function):
    """d prod(a) = the product of the other values d out (out / a where no value is zero)"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray, axis: tuple[int, ...], keepdims: bool) -> np.ndarray:
        ctx.saved = a
        return np.prod(a, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        a = ctx.saved
        axis = ctx.params["axis"]
        grad = _keep_axes(grad, axis, ctx.params["keepdims"])
        # out / a is 0 / 0 at a zero: there the product of the others is the product of the
        # nonzero values if it is the only zero, and 0 if another value is zero too.
        zero = a == 0
        zeros = zero.sum(axis=axis, keepdims=True)
        nonzero = np.where(zero, 1, a)
        others = np.prod(nonzero, axis=axis, keepdims=True)
        local = np.where(zeros == 0, others / nonzero, np.where(zero & (zeros == 1), others, 0))
        return (grad * local,)


class LogSumExp(Function):
    """d logsumexp(a) = softmax(a) d out"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray, axis: tuple[int, ...], keepdims: bool) -> np.ndarray:
        # Shift by the maximum so exp never overflows; an infinite maximum is not shifted.
        shift = np.max(a, axis=axis, keepdims=True) if a.size else np.zeros((1,) * a.ndim)
        shift = np.where(np.isfinite(shift), shift, 0).astype(a.dtype)
        with np.errstate(divide="ignore"):
            out = np.log(np.sum(np.exp(a - shift), axis=axis, keepdims=True)) + shift
        ctx.saved = (a, out)
        return out if keepdims else np.squeeze(out, axis)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        a, out = ctx.saved
        grad = _keep_axes(grad, ctx.params["axis"], ctx.params["keepdims"])
        return (grad * np.exp(a - out),)
