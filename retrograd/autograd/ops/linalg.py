"""Matrix products: `matmul` (1-D, 2-D, batched) and the fused affine `linear`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from retrograd.autograd.engine import OuterProducts, RowSums
from retrograd.autograd.function import Function
from retrograd.autograd.graph import Node, ShapeError
from retrograd.autograd.ops.elementwise import (
    relu_derivative,
    relu_grad,
    tanh_derivative,
    tanh_grad,
)
from retrograd.autograd.ops.rows import GradientRows
from retrograd.autograd.ops.shape import index_sum_cost, sums_by_index
from retrograd.autograd.sums import matrix_sum


def _check_inner(op: str, a: np.ndarray, b: np.ndarray) -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"{op}: operands must be at least 1-d, got shapes {a.shape} and {b.shape}")
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != inner_b:
        raise ShapeError(
            f"{op}: shapes {a.shape} and {b.shape} do not fit: "
            f"inner dimensions {a.shape[-1]} and {inner_b} differ"
        )


class Matmul(Function):
    """d(a @ b) = d out @ b^T for a, a^T @ d out for b (1-d operands get a unit axis)"""

    @staticmethod
    def forward(ctx: Node, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        _check_inner("matmul", a, b)
        ctx.saved = (a, b)
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        a, b = ctx.saved
        pa, pb = ctx.parents
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        # Column axis first: for 1-d @ 1-d the gradient is 0-d and needs both.
        if b.ndim == 1:
            grad = np.expand_dims(grad, -1)
        if a.ndim == 1:
            grad = np.expand_dims(grad, -2)
        grad_a = grad_b = None
        if pa.requires_grad:
            grad_a = np.matmul(grad, np.swapaxes(b2, -1, -2))
            if a.ndim == 1:
                grad_a = grad_a[..., 0, :]
        if pb.requires_grad:
            grad_b = np.matmul(np.swapaxes(a2, -1, -2), grad)
            if b.ndim == 1:
                grad_b = grad_b[..., 0]
        return grad_a, grad_b


class Linear(Function):
    """y = act(x @ w^T + b (+ r)); with z the pre-activation, dz = dy act'(z), dx = dz @ w,
    dw = dz^T @ x, db = sum(dz), dr = dz (w is (out, in))

    The optional residual r and activation ("tanh" or "relu") make a
    recurrent step `tanh(x_proj + W_hh h + b_hh)` one node: no pre-activation
    array is kept, and one node fewer per time step is recorded and walked.
    """

    @staticmethod
    def forward(
        ctx: Node,
        x: np.ndarray,
        weight: np.ndarray,
        *extra: np.ndarray,
        residual: bool = False,
        activation: str | None = None,
        out: np.ndarray | None = None,
        weight_t: np.ndarray | None = None,
        grad_into: tuple[GradientRows, int] | None = None,
    ) -> np.ndarray:
        """`extra` is (bias), (bias, residual) or, with residual=True, (residual); `out`, an
        array to write the 2-d result into (an RNN writes its steps into one buffer).

        `weight_t` is `weight.T` laid out in C order, as the caller promises (a
        recurrent layer makes it once per forward for all its steps): BLAS
        multiplies a small batch by a weight read in memory order up to 1.5x
        faster than by a transposed view. `grad_into` (with an activation and a
        residual): (rows, t) for step t of a recurrent layer. The residual is
        then the layer's whole (T, ...) input projection, of which the step
        adds row t; the backward writes the pre-activation's gradient into row
        t of `rows`, and step 0, whose backward runs last, returns the
        gradients of the weight and of the projection over all steps (the
        caller promises that x is `rows.states[t]` and `out` is
        `rows.states[t + 1]`, whose slope the backward takes). Both are used
        inside retrograd only.
        """
        # The later steps of a recurrent layer multiply rows of the same arrays as its step 0.
        if grad_into is None or grad_into[1] == 0:
            _check_linear(x, weight, extra, residual, activation, out, weight_t, grad_into)
        bias = extra[0] if len(extra) > residual else None
        if weight_t is not None:  # a layout for this product only: the node must not keep it
            del ctx.params["weight_t"]
        if out is None:
            out = _dot_transposed(x, weight) if weight_t is None else _dot(x, weight_t)
            for operand in extra:  # a wider bias or residual widens the result, as `+` would
                if operand.dtype is not out.dtype and np.result_type(out, operand) != out.dtype:
                    out = out.astype(np.result_type(out, *extra))
                    break
        else:
            np.dot(x, weight.T if weight_t is None else weight_t, out=out)
        if bias is not None:
            out += bias
        if residual:
            out += extra[-1] if grad_into is None else extra[-1][grad_into[1]]
        if activation is None:
            ctx.saved = (x, weight)
            return out
        if out.dtype.kind != "f":
            raise TypeError(
                f"linear: activation {activation!r} needs a floating result, got {out.dtype}"
            )
        ACTIVATIONS[activation](out, out=out)
        if grad_into is None:
            ctx.saved = (x, weight, out)
        else:  # saved, not a parameter: released with the saved arrays after backward
            del ctx.params["grad_into"]
            ctx.saved = (x, weight, out, grad_into)
        return out

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        saved = ctx.saved
        x, weight = saved[0], saved[1]
        into = None
        if len(saved) == 4:
            rows, step = saved[3]
            slope = ACTIVATION_DERIVATIVES[ctx.params["activation"]]
            grad = into = rows.pre_activation_grad(step, grad, slope)
        elif len(saved) == 3:
            grad = ACTIVATION_GRADS[ctx.params["activation"]](saved[2], grad)
        parents = ctx.parents
        grad_x = None
        if parents[0].requires_grad:
            grad_x = np.dot(grad, weight) if grad.ndim == 2 else _dot(grad, weight)
        if x.ndim == 2:
            flat_grad, flat_x = grad, x
        else:
            flat_grad, flat_x = grad.reshape(-1, grad.shape[-1]), x.reshape(-1, x.shape[-1])
        grad_w = None
        if parents[1].requires_grad:
            if into is not None:  # the layer's rows hold all steps' products: one, at step 0
                grad_w = None if step else rows.weight_grad()
            elif parents[1]._node is None:  # the engine sums a leaf's in one matrix product
                grad_w = OuterProducts(flat_grad, flat_x)
            else:
                grad_w = np.dot(flat_grad.T, flat_x)
        residual = ctx.params.get("residual", False)
        if residual and into is not None:
            grad = None if step else rows.input_grad()
        if len(parents) == 2 + residual:
            return (grad_x, grad_w, grad) if residual else (grad_x, grad_w)
        grad_b = None
        if parents[2].requires_grad:
            # A leaf bias's row sums are likewise taken once over all steps.
            grad_b = RowSums(flat_grad) if parents[2]._node is None else matrix_sum(flat_grad, 0)
        return (grad_x, grad_w, grad_b, grad) if residual else (grad_x, grad_w, grad_b)

    @classmethod
    def label(cls, params: Mapping[str, Any]) -> str:
        activation = params.get("activation")
        return cls.name if activation is None else f"{cls.name}+{activation}"


class OneHotLinear(Function):
    """y = one_hot(i) @ w^T + b: column i of w plus b; dw[:, i] = the sum of dy over the
    positions holding i, db = sum(dy) (i is not differentiable)

    `linear` of one-hot rows taken as the lookup it is: a one-hot RNN's input
    projection (d2l's X @ W_xh) without making the one-hot array or
    multiplying by its zeros.
    """

    name = "one_hot_linear"

    @staticmethod
    def forward(
        ctx: Node, indices: np.ndarray, weight: np.ndarray, bias: np.ndarray | None = None
    ) -> np.ndarray:
        _check_one_hot_linear(indices, weight, bias)
        table = transposed(weight)
        if bias is not None and indices.size >= weight.shape[1]:
            # Added to the table's rows once instead of to every row looked up: the same sums.
            return np.add(table, bias).take(indices, axis=0)
        out = table.take(indices, axis=0)
        if bias is None:
            return out
        if bias.dtype == out.dtype:
            out += bias
            return out
        return out + bias

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        parents = ctx.parents
        indices, weight = parents[0].data, parents[1].data
        flat = grad.reshape(-1, grad.shape[-1])
        grad_w = None
        if parents[1].requires_grad:
            grad_w = _one_hot_weight_grad(indices.reshape(-1), flat, weight.shape)
        if len(parents) == 2 or not parents[2].requires_grad:
            return None, grad_w
        # A leaf bias's row sums are taken once over all its uses, as in `Linear`.
        return None, grad_w, RowSums(flat) if parents[2]._node is None else matrix_sum(flat, 0)


def _one_hot_weight_grad(index: np.ndarray, grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """sum_n grad_n^T one_hot(index_n), of `shape`: whichever is cheaper of the product with
    the one-hot array (about `ONE_HOT_PRODUCT_NS` per value of `grad` and class) and the
    sums of each distinct index's gradient rows (`index_sum_cost`). Measured over 14
    shapes, this picks the faster in each: for example 14 against 80 ms for 80,000
    rows of 128 and 28 classes; 0.20 against 0.48 ms for d2l's 1,120 rows of 512."""
    if shape[1] * ONE_HOT_PRODUCT_NS < index_sum_cost(grad):
        one_hot = np.zeros((index.size, shape[1]), dtype=grad.dtype)
        one_hot[np.arange(index.size), index] = 1
        return np.dot(grad.T, one_hot)
    out = np.zeros(shape, dtype=grad.dtype)
    distinct, sums = sums_by_index(index, grad, shape[1])
    out[:, distinct] = sums.T
    return out


ONE_HOT_PRODUCT_NS = 0.035


def check_classes(indices: np.ndarray, classes: int, fn: str, detail: str = "") -> None:
    """Refuse indices that are not integers in [0, classes), naming the first bad one."""
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{fn}: indices must be integers, got dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= classes):
        bad = indices[(indices < 0) | (indices >= classes)].flat[0]
        raise IndexError(f"{fn}: index {bad} is out of range for {classes} classes{detail}")


def _check_one_hot_linear(indices: np.ndarray, weight: np.ndarray, bias: np.ndarray | None) -> None:
    """Raise a clear error for operands of `OneHotLinear.forward` that do not fit together."""
    if weight.ndim != 2:
        raise ShapeError(
            f"one_hot_linear: weight must be 2-d (out_features, classes), got {weight.shape}"
        )
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ShapeError(
            f"one_hot_linear: bias of shape {bias.shape} does not fit weight of shape "
            f"{weight.shape}"
        )
    check_classes(indices, weight.shape[1], "one_hot_linear", f" (weight of shape {weight.shape})")


def _check_linear(
    x: np.ndarray,
    weight: np.ndarray,
    extra: tuple[np.ndarray, ...],
    residual: bool,
    activation: str | None,
    out: np.ndarray | None,
    weight_t: np.ndarray | None,
    grad_into: tuple[GradientRows, int] | None,
) -> None:
    """Raise a clear error for operands of `Linear.forward` that do not fit together."""
    if len(extra) > 1 + residual:
        raise TypeError("linear: a fourth operand is the residual: pass residual=True")
    if grad_into is not None and (activation is None or not residual):
        raise TypeError("linear: grad_into needs an activation and a residual")
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(
            f"linear: input of shape {x.shape} does not fit weight of shape "
            f"{weight.shape} (expected (..., {weight.shape[-1]}) input and 2-d weight)"
        )
    bias = extra[0] if len(extra) > residual else None
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(
            f"linear: bias of shape {bias.shape} does not fit weight of shape {weight.shape}"
        )
    if weight_t is not None and (
        weight_t.shape != weight.shape[::-1] or weight_t.dtype != weight.dtype
    ):
        raise ShapeError(
            f"linear: weight_t of shape {weight_t.shape} and dtype {weight_t.dtype} is not "
            f"the transpose of a {weight.shape} {weight.dtype} weight"
        )
    shape = (*x.shape[:-1], weight.shape[0])
    if out is not None and (x.ndim != 2 or out.shape != shape or out.dtype != x.dtype):
        raise ShapeError(
            f"linear: out of shape {out.shape} and dtype {out.dtype} does not fit the "
            f"result of a {x.shape} {x.dtype} input and a {weight.shape} weight"
        )
    if residual:
        other = extra[-1] if grad_into is None else extra[-1][grad_into[1]]
        if other.shape != shape and np.broadcast_shapes(shape, other.shape) != shape:
            raise ShapeError(f"linear: residual of shape {other.shape} does not fit output {shape}")


def transposed(matrix: np.ndarray) -> np.ndarray:
    """matrix.T in C order, a copy unless it already is (a recurrent layer's `weight_t`).

    A large matrix is copied in strips one cache line of output wide: NumPy's
    transposing copy strides across memory and takes 4-5x longer (0.58 ms
    for a 512 x 512 float32 weight, once per training step).
    """
    if matrix.nbytes < TRANSPOSE_STRIPS_BYTES:
        return np.ascontiguousarray(matrix.T)
    rows, cols = matrix.shape
    result = np.empty((cols, rows), dtype=matrix.dtype)
    strip = max(1, 64 // matrix.itemsize)
    for start in range(0, rows, strip):
        result[:, start : start + strip] = matrix[start : start + strip].T
    return result


# Matrices at least this large are transposed in strips.
TRANSPOSE_STRIPS_BYTES = 1 << 18


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for a 2-d b, as one 2-d product.

    np.dot skips matmul's broadcasting machinery, which costs more than the
    product itself for a recurrent step's small matrices; leading axes of
    `a` are flattened, since matmul would take one matrix-vector product per
    row of a (T, 1, H) input.
    """
    if a.ndim == 2:
        return np.dot(a, b)
    if a.ndim == 1:
        return a @ b
    return np.dot(a.reshape(-1, a.shape[-1]), b).reshape(*a.shape[:-1], b.shape[1])


def _dot_transposed(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """x @ weight.T for a weight stored (out, in), as one 2-d product in C order.

    OpenBLAS multiplies a few rows by a transposed weight up to 1.5x slower
    than it multiplies the weight by the rows' transpose (measured: 20 rows by
    an 8000 x 100 weight, the word model's head, 0.85 ms against 0.57 ms with
    the copy to C order; 32 rows by 512 x 512, 0.29 against 0.21 ms). So a
    product of at most 64 rows with a weight at least 4 times wider than that
    and 128 x 128 in size is taken the other way round; smaller ones gain
    nothing, and many rows run faster as they are.
    """
    n_out, n_in = weight.shape
    if x.ndim < 2 or n_out * n_in < 128 * 128:
        return _dot(x, weight.T)
    rows = x.size // n_in
    if rows > 64 or 4 * rows > n_out:
        return _dot(x, weight.T)
    product = np.dot(weight, x.reshape(rows, n_in).T).T
    return np.ascontiguousarray(product).reshape(*x.shape[:-1], n_out)


def _relu(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0, out=out)


ACTIVATIONS = {"tanh": np.tanh, "relu": _relu}
ACTIVATION_GRADS = {"tanh": tanh_grad, "relu": relu_grad}
ACTIVATION_DERIVATIVES = {"tanh": tanh_derivative, "relu": relu_derivative}
