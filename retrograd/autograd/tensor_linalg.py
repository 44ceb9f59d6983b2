"""Linear algebra methods of a `Tensor` under PyTorch's names (mm, bmm, mv, dot, outer,
addmm, trace), a mixin.

Each checks its operands' dimensions and sizes first, so an error names the method, the
argument and the shapes; the products then run as the `Matmul` op (whose gradient covers
vectors and batches) or the `Einsum` op.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd import ops
from retrograd.autograd.function import record
from retrograd.autograd.graph import ShapeError

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


class LinalgMethods:
    """The matrix and vector products of `Tensor`."""

    __slots__ = ()

    def matmul(self, other: Any) -> Tensor:
        """`self @ other`, with NumPy's rules for vectors and batches (as torch.matmul)."""
        return self @ other

    def mm(self, mat2: Any) -> Tensor:
        """The product of two matrices, (n, k) by (k, m); 2-d only."""
        mat2 = self._linalg_operand(mat2, "mm", "mat2")
        _check_ndim("mm", ("input", self, 2), ("mat2", mat2, 2))
        _check_inner("mm", self, mat2, -1, 0)
        return record(ops.Matmul, (self, mat2))

    def bmm(self, mat2: Any) -> Tensor:
        """The products of two batches of matrices, (b, n, k) by (b, k, m), without the
        broadcasting of `matmul`."""
        mat2 = self._linalg_operand(mat2, "bmm", "mat2")
        _check_ndim("bmm", ("input", self, 3), ("mat2", mat2, 3))
        if self.shape[0] != mat2.shape[0]:
            raise ShapeError(
                f"bmm(): batch sizes of input {self.shape} and mat2 {mat2.shape} differ"
            )
        _check_inner("bmm", self, mat2, -1, 1)
        return record(ops.Matmul, (self, mat2))

    def mv(self, vec: Any) -> Tensor:
        """The product of a matrix (n, k) and a vector (k,), a vector (n,)."""
        vec = self._linalg_operand(vec, "mv", "vec")
        _check_ndim("mv", ("input", self, 2), ("vec", vec, 1))
        _check_inner("mv", self, vec, -1, 0)
        return record(ops.Matmul, (self, vec))

    def dot(self, other: Any) -> Tensor:
        """The inner product of two 1-d tensors of the same length, a 0-d tensor."""
        other = self._linalg_operand(other, "dot", "other")
        _check_ndim("dot", ("input", self, 1), ("other", other, 1))
        _check_inner("dot", self, other, 0, 0)
        return record(ops.Matmul, (self, other))

    def outer(self, vec2: Any) -> Tensor:
        """The outer product of two 1-d tensors: (n,) and (m,) give (n, m)."""
        vec2 = self._linalg_operand(vec2, "outer", "vec2")
        _check_ndim("outer", ("input", self, 1), ("vec2", vec2, 1))
        return record(ops.Einsum, (self, vec2), {"equation": "i,j->ij"})

    def addmm(self, mat1: Any, mat2: Any, *, beta: float = 1, alpha: float = 1) -> Tensor:
        """beta * self + alpha * (mat1 @ mat2), `self` broadcast to the product's shape.

        With beta=0 `self` is ignored, as in PyTorch: NaN or inf in it do not
        reach the result, and its gradient is zero.
        """
        mat1 = self._linalg_operand(mat1, "addmm", "mat1")
        for name, value in (("beta", beta), ("alpha", alpha)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"addmm(): {name} must be a number, got {value!r}")
        product = mat1.mm(mat2)
        reversed_sizes = zip(self.shape[::-1], product.shape[::-1])
        if self.ndim > 2 or any(size not in (1, target) for size, target in reversed_sizes):
            raise ShapeError(
                f"addmm(): input of shape {self.shape} does not broadcast to the product's "
                f"shape {product.shape}"
            )
        if alpha != 1:
            product = product * alpha
        if beta == 0:  # picks the product everywhere: `self` gets a zero gradient
            ignored = self._make(np.zeros((), dtype=bool), None, 0)
            return record(ops.Where, (ignored, self, product))
        return product + (self if beta == 1 else self * beta)

    def trace(self) -> Tensor:
        """The sum of the diagonal of a matrix, square or not."""
        _check_ndim("trace", ("input", self, 2))
        n = min(self.shape)
        square = self if self.shape[0] == self.shape[1] else self[:n, :n]
        return record(ops.Einsum, (square,), {"equation": "ii->"})

    def _linalg_operand(self, value: Any, op: str, argument: str) -> Tensor:
        """`value` as a tensor (an array or list becomes a constant), or a TypeError naming
        the method and argument."""
        try:
            return self._operand(value)
        except TypeError as err:
            raise TypeError(
                f"{op}(): {argument} must be a tensor or numeric array: {err}"
            ) from None


def _check_ndim(op: str, *operands: tuple[str, Tensor, int]) -> None:
    """Each (name, tensor, ndim) has that many dimensions."""
    for name, t, ndim in operands:
        if t.ndim != ndim:
            raise ShapeError(f"{op}(): {name} must be {ndim}-d, got shape {t.shape}")


def _check_inner(op: str, a: Tensor, b: Tensor, axis_a: int, axis_b: int) -> None:
    """The contracted axes of `a` and `b` have the same size."""
    if a.shape[axis_a] != b.shape[axis_b]:
        raise ShapeError(
            f"{op}(): shapes {a.shape} and {b.shape} do not fit: "
            f"sizes {a.shape[axis_a]} and {b.shape[axis_b]} differ"
        )
