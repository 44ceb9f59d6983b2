"""Elementwise mathematical functions beyond the basic ones: trigonometric and hyperbolic,
the precise logarithms and exponentials (log1p, expm1, log2, log10), erf, atan2 and hypot,
and nan_to_num."""

from __future__ import annotations

import math

import numpy as np

from retrograd.autograd.function import Function
from retrograd.autograd.graph import Node
from retrograd.autograd.special import erf


class Sin(Function):
    """d sin(a) = cos(a) da"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray) -> np.ndarray:
        ctx.saved = a
        return np.sin(a)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        return (grad * np.cos(ctx.saved),)


class Cos(Function):
    """d cos(a) = -sin(a) da"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray) -> np.ndarray:
        ctx.saved = a
        return np.cos(a)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        return (-grad * np.sin(ctx.saved),)


class Tan(Function):
    """d tan(a) = (1 + tan(a)^2) da"""

    reads_inputs = False

    @staticmethod
    def forward(ctx: Node, a: np.ndarray) -> np.ndarray:
        out = np.tan(a)
        ctx.saved = out
        return out

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        out = ctx.saved
        return (grad * (1 + out * out),)


class Asin(Function):
    """d asin(a) = da / sqrt(1 - a^2)"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray) -> np.ndarray:
        ctx.saved = a
        return np.arcsin(a)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        a = ctx.saved
        return (grad / np.sqrt(1 - a * a),)


class Acos(Function):
    """d acos(a) = -da / sqrt(1 - a^2)"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray) -> np.ndarray:
        ctx.saved = a
        return np.arccos(a)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        a = ctx.saved
        return (-grad / np.sqrt(1 - a * a),)


class Atan(Function):
    """d atan(a) = da / (1 + a^2)"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray) -> np.ndarray:
        ctx.saved = a
        return np.arctan(a)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        a = ctx.saved
        return (grad / (1 + a * a),)


class Sinh(Function):
    """d sinh(a) = cosh(a) da"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray) -> np.ndarray:
        ctx.saved = a
        return np.sinh(a)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        return (grad * np.cosh(ctx.saved),)


class Cosh(Function):
    """d cosh(a) = sinh(a) da"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray) -> np.ndarray:
        ctx.saved = a
        return np.cosh(a)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        return (grad * np.sinh(ctx.saved),)


class Log1p(Function):
    """d log(1 + a) = da / (1 + a)"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray) -> np.ndarray:
        ctx.saved = a
        return np.log1p(a)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        return (grad / (1 + ctx.saved),)


class Expm1(Function):
    """d (exp(a) - 1) = exp(a) da"""

    reads_inputs = False

    @staticmethod
    def forward(ctx: Node, a: np.ndarray) -> np.ndarray:
        out = np.expm1(a)
        ctx.saved = out
        return out

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        return (grad * (ctx.saved + 1),)


class Log2(Function):
    """d log2(a) = da / (a ln 2)"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray) -> np.ndarray:
        ctx.saved = a
        return np.log2(a)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        return (grad / (ctx.saved * math.log(2)),)


class Log10(Function):
    """d log10(a) = da / (a ln 10)"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray) -> np.ndarray:
        ctx.saved = a
        return np.log10(a)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        return (grad / (ctx.saved * math.log(10)),)


class Erf(Function):
    """d erf(a) = 2 / sqrt(pi) exp(-a^2) da"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray) -> np.ndarray:
        ctx.saved = a
        return erf(a)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        a = ctx.saved
        return (grad * (2 / math.sqrt(math.pi)) * np.exp(-(a * a)),)


class Atan2(Function):
    """d atan2(a, b) = (b da - a db) / (a^2 + b^2)"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.saved = (a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        a, b = ctx.saved
        squares = a * a + b * b
        # At (0, 0) the angle has no derivative: 0 there, as PyTorch, not 0 / 0.
        scaled = grad / np.where(squares == 0, np.inf, squares)
        pa, pb = ctx.parents
        return (scaled * b if pa.requires_grad else None), (
            -scaled * a if pb.requires_grad else None
        )


class Hypot(Function):
    """d hypot(a, b) = (a da + b db) / hypot(a, b)"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.hypot(a, b)
        ctx.saved = (a, b, out)
        return out

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        a, b, out = ctx.saved
        scaled = grad / out
        pa, pb = ctx.parents
        return (scaled * a if pa.requires_grad else None), (
            scaled * b if pb.requires_grad else None
        )


class NanToNum(Function):
    """d nan_to_num(a) = [a finite] da"""

    name = "nan_to_num"

    @staticmethod
    def forward(
        ctx: Node, a: np.ndarray, nan: float, posinf: float | None, neginf: float | None
    ) -> np.ndarray:
        ctx.saved = a
        # A replacement beyond the dtype's range becomes an infinity, as in PyTorch.
        with np.errstate(over="ignore"):
            return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        return (grad * np.isfinite(ctx.saved),)
