"""Functional forms of the layers and losses: plain functions of tensors, no parameters held.

`import retrograd.nn.functional as F` gives the same vocabulary as
`torch.nn.functional` (with NumPy's `axis` instead of `dim`).
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np

from retrograd.autograd import (
    Tensor,
    as_generator,
    from_numpy,
    maximum,
    one_hot,
    one_hot_linear,
    take,
    where,
)
from retrograd.autograd import cross_entropy as _cross_entropy
from retrograd.autograd import linear as _linear
from retrograd.autograd.functional import check_ignore_index
from retrograd.autograd.graph import ShapeError
from retrograd.autograd.loss_arguments import (
    check_probability,
    check_reduction,
    class_rows,
    class_weight,
    real_array,
)
from retrograd.autograd.ops.linalg import check_classes

__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "embedding",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "one_hot_linear",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]


def _as_target(value: Any, like: Tensor, fn: str) -> Tensor:
    """A loss's target as a tensor: a floating tensor as it is (its gradient and dtype its
    own, as in PyTorch); integers or bools, given as a tensor, an array or a list, as a
    constant in `like`'s dtype, so int labels never turn a float32 loss into float64."""
    if isinstance(value, Tensor):
        if value.dtype.kind == "f":
            return value
        value = value.data
    return Tensor(real_array(value, f"{fn}(): target").astype(like.dtype))


def _check_floating(x: Tensor, fn: str, what: str) -> None:
    """Refuse an integer or bool input: its loss would be int, float32 or float64 by reduction."""
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}(): {what} must be floating, got dtype {x.dtype}")


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x @ weight.T + bias with weight shaped (out_features, in_features), in one op."""
    return _linear(x, weight, bias)


def check_indices(indices: Any, num_embeddings: int, fn: str) -> np.ndarray:
    """The integer index array, refused with the offending index when out of [0, n)."""
    array = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{fn}: indices must be integers, got dtype {array.dtype}")
    if array.size:
        low, high = array.min(), array.max()
        if low < 0 or high >= num_embeddings:
            bad = low if low < 0 else high
            where = tuple(int(i) for i in np.argwhere(array == bad)[0])
            raise IndexError(
                f"{fn}: index {int(bad)} at position {where} is out of range for "
                f"{num_embeddings} embeddings (valid: 0 to {num_embeddings - 1})"
            )
    return array


def check_padding_idx(padding_idx: Any, num_embeddings: int, fn: str) -> int:
    """`padding_idx` as a row in [0, n) (negative counts from the end), or a clear error."""
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, Integral):
        raise TypeError(f"{fn}: padding_idx must be an integer or None, got {padding_idx!r}")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{fn}: padding_idx must be in [{-num_embeddings}, {num_embeddings}), got {padding_idx}"
        )
    return int(padding_idx) % num_embeddings


def embedding(indices: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of `weight` (num_embeddings, dim) at integer `indices` of any shape.

    The gradient sums the rows of repeated indices (sort-based, faster than
    np.add.at). Row `padding_idx`, if given, gets no gradient, as in PyTorch.
    """
    array = check_indices(indices, weight.shape[0], "embedding")
    rows = take(weight, array)
    if padding_idx is None:
        return rows
    padding = (array == check_padding_idx(padding_idx, weight.shape[0], "embedding"))[..., None]
    if not padding.any():
        return rows
    # Padding positions read the same row from a detached table: no gradient reaches it.
    return where(padding, take(weight.detach(), array), rows)


def dropout(
    x: Tensor, p: float = 0.5, training: bool = True, *, generator: np.random.Generator | int
) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p); identity if not training.

    The mask is drawn from `generator`, so a seeded run drops the same units every time.
    """
    check_probability(p, "dropout()")
    if not training or p == 0.0:
        return x
    keep = as_generator(generator).random(x.shape) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return x * from_numpy((keep * scale).astype(x.dtype))


def tanh(x: Tensor) -> Tensor:
    return x.tanh()


def sigmoid(x: Tensor) -> Tensor:
    return x.sigmoid()


def relu(x: Tensor) -> Tensor:
    return x.relu()


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) normalised along `axis`, computed through log_softmax (no overflow)."""
    return x.softmax(axis)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along `axis`."""
    return x.log_softmax(axis)


def cross_entropy(
    logits: Tensor,
    target: Any,
    reduction: str = "mean",
    ignore_index: int = -100,
    *,
    weight: Any = None,
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against integer class targets.

    One fused op: stable for large logits, and targets equal to `ignore_index`
    (padding) contribute nothing; "mean" averages over the other targets. As in
    PyTorch, `weight` (C values) scales each target's loss by its class's weight,
    and "mean" then divides by the sum of the kept targets' weights;
    `label_smoothing` e in [0, 1] mixes each one-hot target with e / C of every class.
    """
    return _cross_entropy(
        logits,
        target,
        ignore_index,
        reduction,
        weight=weight,
        label_smoothing=label_smoothing,
    )


def nll_loss(
    log_probs: Tensor,
    target: Any,
    reduction: str = "mean",
    ignore_index: int = -100,
    *,
    weight: Any = None,
) -> Tensor:
    """The negative log-likelihood -log_probs[n, t_n] of log-probabilities (N, C) or
    (N, C, d1, ...), such as `log_softmax`'s, against integer class targets, as PyTorch's.

    Targets equal to `ignore_index` contribute nothing; `weight` (C values) scales
    each target's loss by its class's weight, and "mean" divides by the sum of the
    kept targets' weights (0 when that sum is 0, as cross_entropy's mean over no target).
    """
    check_reduction(reduction, "nll_loss")
    ignore_index = check_ignore_index(ignore_index, "nll_loss()")
    rows, targets, shape = class_rows(log_probs, target, "nll_loss", "input")
    weight = class_weight(weight, rows, "nll_loss()")
    flat_target = targets.data
    keep = flat_target != ignore_index
    check_classes(flat_target[keep], rows.shape[1], "nll_loss(): target")
    classes = np.where(keep, flat_target, 0)
    coef = -np.ones(classes.size, rows.dtype) if weight is None else -weight[classes]
    losses = rows[np.arange(classes.size), classes] * coef
    if not keep.all():
        # where, not a zero coefficient: an ignored row's -inf log-probability would make NaN.
        losses = where(keep, losses, 0.0)
    if reduction == "none":
        return losses.reshape(shape)
    if reduction == "sum":
        return losses.sum()
    divisor = float(-coef[keep].sum())
    return losses.sum() * (1 / divisor if divisor else 0.0)


def binary_cross_entropy_with_logits(
    logits: Tensor, target: Any, reduction: str = "mean"
) -> Tensor:
    """-[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], stable for any logit x.

    Written as max(x, 0) - x y + log(1 + exp(-|x|)): exp never overflows. The
    maximum splits its gradient in half at x = 0, so the gradient there is
    exactly sigmoid(0) - y = 0.5 - y.
    """
    check_reduction(reduction, "binary_cross_entropy_with_logits")
    _check_floating(logits, "binary_cross_entropy_with_logits", "logits")
    target_t = _as_target(target, logits, "binary_cross_entropy_with_logits")
    if target_t.shape != logits.shape:
        raise ShapeError(
            f"binary_cross_entropy_with_logits: target shape {target_t.shape} differs from "
            f"logits shape {logits.shape}"
        )
    softplus_tail = (1.0 + (-logits.abs()).exp()).log()
    losses = maximum(logits, 0.0) - logits * target_t + softplus_tail
    return _reduce(losses, reduction)


def mse_loss(x: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error (x - target)^2, averaged, summed, or per element."""
    check_reduction(reduction, "mse_loss")
    _check_floating(x, "mse_loss", "input")
    target_t = _as_target(target, x, "mse_loss")
    if target_t.shape != x.shape:
        raise ShapeError(
            f"mse_loss: target shape {target_t.shape} differs from input shape {x.shape}"
        )
    diff = x - target_t
    return _reduce(diff * diff, reduction)
