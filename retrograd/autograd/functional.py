"""Free functions over tensors that are not methods: joins, selection, gathers."""

from __future__ import annotations

from collections.abc import Iterable
from numbers import Integral
from typing import Any

import numpy as np

from retrograd.autograd import ops
from retrograd.autograd.arguments import _conflict
from retrograd.autograd.function import record
from retrograd.autograd.graph import ShapeError
from retrograd.autograd.loss_arguments import (
    check_probability,
    check_reduction,
    class_probabilities,
    class_rows,
    class_weight,
    is_probability_target,
)
from retrograd.autograd.ops.linalg import check_classes
from retrograd.autograd.tensor import Tensor, as_array


def _tensor(value: Any, op: str, argument: str) -> Tensor:
    """`value` as a tensor: an array, list or number becomes a constant (as `concat` and
    `where` take them); anything else is a TypeError naming the function and argument."""
    if isinstance(value, Tensor):
        return value
    try:
        return Tensor(value)
    except TypeError as err:
        raise TypeError(f"{op}(): {argument} must be a tensor or numeric array: {err}") from None


def _tensors(values: Iterable[Any], op: str) -> list[Tensor]:
    """The operands of `concat` or `stack`: a list, tuple or other iterable of tensors.

    A single tensor or array is refused, as PyTorch does: iterating it would
    join its rows, a result of the wrong shape without an error.
    """
    if isinstance(values, Tensor | np.ndarray) or not isinstance(values, Iterable):
        raise TypeError(
            f"{op}(): tensors must be a list or tuple of tensors, got {type(values).__name__}"
        )
    parts = [v if isinstance(v, Tensor) else Tensor(v) for v in values]
    if not parts:
        raise ValueError(f"{op}(): needs at least one tensor")
    return parts


def _join_axis(op: str, axis: Any, dim: Any) -> tuple[int, str]:
    """The axis of `concat` or `stack` and the name it was given under: NumPy's `axis` or
    PyTorch's `dim` (one of them; 0 by default), which its errors then say."""
    if dim is None:
        value, name = (0 if axis is None else axis), "axis"
    else:
        value, name = _conflict(op, "axis", axis, None, "dim", dim), "dim"
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{op}(): {name} must be an int, got {value!r}")
    return value, name


def concat(tensors: Iterable[Tensor], axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing axis, `axis` or `dim` (0 by default)."""
    axis, name = _join_axis("concat", axis, dim)
    parts = _tensors(tensors, "concat")
    shapes = [t.shape for t in parts]
    ndim = parts[0].ndim
    if not -ndim <= axis < ndim:
        raise ShapeError(f"concat: {name} {axis} is out of range for shapes {shapes}")
    # A negative axis must be made positive before slicing shapes around it.
    pos = axis % ndim
    if any(
        len(s) != ndim or s[:pos] + s[pos + 1 :] != shapes[0][:pos] + shapes[0][pos + 1 :]
        for s in shapes
    ):
        raise ShapeError(f"concat: shapes {shapes} differ outside {name} {axis}")
    return record(ops.Concat, tuple(parts), {"axis": axis})


cat = concat


def stack(tensors: Iterable[Tensor], axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join same-shaped tensors along a new axis, `axis` or `dim` (0 by default), from
    -(ndim + 1) to ndim."""
    axis, name = _join_axis("stack", axis, dim)
    parts = _tensors(tensors, "stack")
    if len({t.shape for t in parts}) != 1:
        raise ShapeError(f"stack: all shapes must be equal, got {[t.shape for t in parts]}")
    ndim = parts[0].ndim
    if not -ndim - 1 <= axis <= ndim:
        raise ShapeError(
            f"stack: {name} {axis} is out of range for tensors of shape {parts[0].shape} "
            f"({'dims' if name == 'dim' else 'axes'} {-ndim - 1} to {ndim} insert one)"
        )
    return record(ops.Stack, tuple(parts), {"axis": axis})


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """Elements of x where condition holds, else of y; gradients flow to x and y."""
    cond = condition if isinstance(condition, Tensor) else Tensor(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where(): condition must be boolean, got dtype {cond.dtype}")
    x, y = _pair(x, y)
    return record(ops.Where, (cond, x, y))


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; ties split the gradient in half (as PyTorch)."""
    return record(ops.Maximum, _pair(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; ties split the gradient in half (as PyTorch)."""
    return record(ops.Minimum, _pair(a, b))


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Two operands as tensors, a Python scalar taking the other's float dtype."""
    if isinstance(a, Tensor):
        return a, a._operand(b)
    if isinstance(b, Tensor):
        return b._operand(a), b
    return Tensor(a), Tensor(b)


def take(weight: Tensor, indices: Any) -> Tensor:
    """Rows of `weight` at integer `indices` (any shape): the embedding lookup."""
    weight = _tensor(weight, "take", "weight")
    index = indices if isinstance(indices, Tensor) else Tensor._make(as_array(indices), None, 0)
    return record(ops.Take, (weight, index))


def linear(
    x: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    residual: Tensor | None = None,
    activation: str | None = None,
    out: np.ndarray | None = None,
) -> Tensor:
    """act(x @ weight.T + bias (+ residual)) in one op, weight shaped (out_features, in_features).

    `residual` is added to the result and `activation` ("tanh" or "relu")
    applied to it in the same node: a recurrent step's
    `tanh(x_proj + linear(h, W_hh))` costs one node instead of three.
    `out` (2-d input only) is a C-contiguous array of the result's shape and
    dtype to write the result into, as NumPy's `out=`, sharing no memory
    with the operands; nothing else may write to it while the graph lives.
    `nn.RNN` writes its steps into one buffer this way, so joining them
    later copies nothing.
    """
    if activation is not None and activation not in ops.linalg.ACTIVATIONS:
        raise ValueError(f"linear(): activation must be 'tanh', 'relu' or None, got {activation!r}")
    x = _tensor(x, "linear", "input")
    weight = _tensor(weight, "linear", "weight")
    if bias is not None:
        bias = _tensor(bias, "linear", "bias")
    inputs = (x, weight) if bias is None else (x, weight, bias)
    params: dict[str, Any] = {}
    if residual is not None:
        residual = _tensor(residual, "linear", "residual")
        inputs += (residual,)
        params["residual"] = True
    if activation is not None:
        params["activation"] = activation
    if out is not None:
        _check_out(out, x, weight, bias, residual)
        params["out"] = out
    return record(ops.Linear, inputs, params)


def one_hot_linear(indices: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """linear(one_hot(indices, weight.shape[1]), weight, bias), without the one-hot array.

    Each index picks a column of `weight` (out_features, classes), plus the
    bias: the result has shape (*indices.shape, out_features). A lookup costs
    a fraction of the product with mostly zeros; the gradient sums the rows
    of repeated indices into their columns. `nn.RNN` projects integer inputs
    this way.
    """
    index = indices if isinstance(indices, Tensor) else Tensor._make(as_array(indices), None, 0)
    weight = _tensor(weight, "one_hot_linear", "weight")
    if bias is not None:
        bias = _tensor(bias, "one_hot_linear", "bias")
    inputs = (index, weight) if bias is None else (index, weight, bias)
    return record(ops.OneHotLinear, inputs)


def _check_out(out: Any, x: Tensor, weight: Tensor, bias: Any, residual: Any) -> None:
    """Refuse an `out=` array that `linear` could not write its result into safely."""
    if not isinstance(out, np.ndarray) or not out.flags.c_contiguous or not out.flags.writeable:
        raise TypeError("linear(): out must be a writeable, C-contiguous NumPy array")
    arrays = [t.data for t in (x, weight, bias, residual) if t is not None]
    result = np.result_type(*arrays)
    if result != out.dtype:
        raise TypeError(f"linear(): out has dtype {out.dtype}, the result {result}")
    # Written over, an operand would corrupt what backward reads (x for dw) or the result.
    operands = (("input", x), ("weight", weight), ("bias", bias), ("residual", residual))
    for role, operand in operands:
        if operand is not None and np.may_share_memory(out, operand.data):
            raise ValueError(f"linear(): out shares memory with the {role}; pass a separate array")


def cross_entropy(
    logits: Tensor,
    target: Any,
    ignore_index: int = -100,
    reduction: str = "mean",
    *,
    weight: Any = None,
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against integer class
    targets, or against class probabilities (a floating target of the logits' shape).
    As PyTorch's, unbatched (C,) logits take a 0-d class target (or (C,) probabilities)
    and give a 0-d loss whatever the reduction.

    Against integer targets it is one fused op: stable for large logits. `reduction`
    is "mean" (over targets that are not `ignore_index`), "sum" or "none" (one loss
    per target, shaped like the target). As in PyTorch, `weight` (C values) scales
    each target's loss by its class's weight, and "mean" then divides by the sum of
    the kept targets' weights; `label_smoothing` e in [0, 1] mixes each one-hot target
    with e / C of every class.

    Against class probabilities q, as PyTorch's: each loss is
    -sum_c w_c q_c log softmax(z)_c, with q smoothed to q (1 - e) + e / C, and "mean"
    divides by the number of losses, N d1 ..., not by a sum of weights. Gradients
    reach a target that requires grad. No class can be ignored: `ignore_index` must
    stay negative (as the default), as PyTorch requires.
    """
    check_reduction(reduction, "cross_entropy")
    ignore_index = check_ignore_index(ignore_index, "cross_entropy()")
    if is_probability_target(target, "cross_entropy"):
        return _probability_cross_entropy(
            logits, target, ignore_index, reduction, weight, label_smoothing
        )
    rows, flat_target, shape = class_rows(
        logits, target, "cross_entropy", "logits", probabilities=True
    )
    params = {"ignore_index": ignore_index, "reduction": reduction}
    if weight is not None or label_smoothing != 0.0:
        check_probability(label_smoothing, "cross_entropy()", "label_smoothing")
        params["weight"] = class_weight(weight, rows, "cross_entropy()")
        params["label_smoothing"] = float(label_smoothing)
    out = record(ops.CrossEntropy, (rows, flat_target), params)
    return out.reshape(shape) if reduction == "none" and len(shape) != 1 else out


def _probability_cross_entropy(
    logits: Any,
    target: Any,
    ignore_index: int,
    reduction: str,
    weight: Any,
    label_smoothing: Any,
) -> Tensor:
    """`cross_entropy` against class probabilities, composed of Tensor ops (log_softmax,
    mul, sum): not a hot loss, and the composition gives the target its gradient too."""
    if ignore_index >= 0:
        raise ValueError(
            f"cross_entropy(): ignore_index={ignore_index} is not supported with "
            "class-probability targets (a negative one, as the default -100, ignores nothing)"
        )
    check_probability(label_smoothing, "cross_entropy()", "label_smoothing")
    scores, probs, shape = class_probabilities(logits, target, "cross_entropy", "logits")
    n_classes = scores.shape[1]
    if label_smoothing:
        probs = probs * (1.0 - label_smoothing) + label_smoothing / n_classes
    weights = class_weight(weight, scores, "cross_entropy()")
    if weights is not None:  # one weight per class, along axis 1
        probs = probs * weights.reshape(n_classes, *(1,) * (scores.ndim - 2))
    losses = -(scores.log_softmax(axis=1) * probs).sum(axis=1)
    if reduction == "none":
        return losses if losses.shape == shape else losses.reshape(shape)
    return losses.sum() if reduction == "sum" else losses.mean()


def is_integer(value: Any) -> bool:
    """Whether `value` is a Python or NumPy integer and not a bool: the test every integer
    argument needs, since a float would be cut silently and a bool taken as 0 or 1."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def check_ignore_index(ignore_index: Any, fn: str) -> int:
    """`ignore_index` as an int, or a TypeError naming `fn`: a float or bool would
    silently match no target (or the class 1), so padding would count in the loss."""
    if not is_integer(ignore_index):
        raise TypeError(f"{fn}: ignore_index must be an integer, got {ignore_index!r}")
    return int(ignore_index)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product with NumPy's rules (1-d, 2-d and batched)."""
    return _tensor(a, "matmul", "a") @ b


def one_hot(indices: Any, num_classes: int = -1, dtype: Any = np.float32) -> Tensor:
    """A float tensor with a one at each index along a new last axis (no gradient).

    `num_classes=-1` (the default, as in PyTorch) takes the largest index + 1.
    """
    index = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    detail = ""
    if _is_inferred(index, num_classes):
        num_classes = int(index.max()) + 1 if index.dtype.kind in "iu" else 0
        detail = " (num_classes=-1: the largest index + 1)"
    check_classes(index, num_classes, "one_hot()", detail)
    out = np.zeros((index.size, num_classes), dtype=dtype)
    out[np.arange(index.size), index.reshape(-1)] = 1
    return Tensor._make(out.reshape(*index.shape, num_classes), None, 0)


def _is_inferred(index: np.ndarray, num_classes: Any) -> bool:
    """Whether one_hot infers the number of classes (-1); any other count must be positive."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int | np.integer):
        raise TypeError(f"one_hot(): num_classes must be an int, got {num_classes!r}")
    if num_classes == -1 and index.size == 0:
        raise ValueError(
            "one_hot(): cannot infer num_classes (-1) from empty indices; pass num_classes"
        )
    if num_classes == 0 or num_classes < -1:
        raise ValueError(
            f"one_hot(): num_classes must be positive, or -1 to infer it, got {num_classes}"
        )
    return num_classes == -1
