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
from retrograd.autograd.functional import check_ignore_index, is_integer
from retrograd.autograd.graph import ShapeError
from retrograd.autograd.loss_arguments import (
    check_bound,
    check_probability,
    check_reduction,
    class_rows,
    class_weight,
    element_weight,
    real_array,
)
from retrograd.autograd.ops.linalg import check_classes

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "embedding",
    "huber_loss",
    "l1_loss",
    "layer_norm",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "one_hot_linear",
    "relu",
    "sigmoid",
    "smooth_l1_loss",
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
    """Refuse an input that is not a floating Tensor: a list has no dtype, an array would
    give an array (no graph) back, and an integer or bool loss would be int, float32 or
    float64 by reduction. PyTorch's functional losses take tensors only, too."""
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{fn}(): {what} must be a Tensor, got {type(x).__name__} "
            f"(wrap it: retrograd.tensor({what}))"
        )
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}(): {what} must be floating, got dtype {x.dtype}")


def _input_and_target(x: Tensor, target: Any, fn: str, what: str = "input") -> Tensor:
    """The target of an elementwise loss of a floating `x` (the argument `what`), checked to
    have `x`'s shape: PyTorch broadcasts a different shape with only a warning, which
    mostly means a (N,) target against (N, 1) predictions and an (N, N) loss."""
    _check_floating(x, fn, what)
    target_t = _as_target(target, x, fn)
    if target_t.shape != x.shape:
        raise ShapeError(f"{fn}: target shape {target_t.shape} differs from {what} shape {x.shape}")
    return target_t


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
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against integer class
    targets, or against class probabilities (a floating target of the logits' shape).
    Unbatched (C,) logits take a 0-d class target (or (C,) probabilities) and give a
    0-d loss, as PyTorch's.

    Against integer targets, one fused op: stable for large logits, and targets equal
    to `ignore_index` (padding) contribute nothing; "mean" averages over the other
    targets. As in PyTorch, `weight` (C values) scales each target's loss by its
    class's weight, and "mean" then divides by the sum of the kept targets' weights;
    `label_smoothing` e in [0, 1] mixes each one-hot target with e / C of every class.
    Against class probabilities q, as PyTorch's: each loss is
    -sum_c w_c q_c log softmax(z)_c (q smoothed as one-hot targets are), "mean"
    divides by the number of losses, gradients reach a target that requires grad, and
    `ignore_index` must stay negative. See `retrograd.cross_entropy`.
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
    (N, C, d1, ...), such as `log_softmax`'s, against integer class targets, as PyTorch's;
    unbatched (C,) log-probabilities take a 0-d target and give a 0-d loss.

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
    logits: Tensor,
    target: Any,
    reduction: str = "mean",
    *,
    weight: Any = None,
    pos_weight: Any = None,
) -> Tensor:
    """-w [p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], stable for any logit x.

    Written as max(x, 0) - x y + log(1 + exp(-abs(x))): exp never overflows. The
    maximum splits its gradient in half at x = 0, so the gradient there is
    exactly sigmoid(0) - y = 0.5 - y. As PyTorch's, `weight` w scales each
    element's loss and `pos_weight` p the positive term (mostly one value per
    class, along the last axis); each must broadcast to the logits' shape, and
    "mean" divides by the number of elements. With `pos_weight` the loss is
    PyTorch's (1 - y) x + (1 + (p - 1) y) (max(-x, 0) + log(1 + exp(-abs(x)))).
    """
    fn = "binary_cross_entropy_with_logits"
    check_reduction(reduction, fn)
    target_t = _input_and_target(logits, target, fn, "logits")
    positive = element_weight(pos_weight, logits, f"{fn}()", "pos_weight")
    softplus_tail = (1.0 + (-logits.abs()).exp()).log()
    if positive is None:
        losses = maximum(logits, 0.0) - logits * target_t + softplus_tail
    else:
        log_weight = target_t * (positive - 1.0) + 1.0
        losses = (1.0 - target_t) * logits + log_weight * (maximum(-logits, 0.0) + softplus_tail)
    return _reduce(_weighted(losses, weight, logits, fn), reduction)


def _weighted(losses: Tensor, weight: Any, x: Tensor, fn: str) -> Tensor:
    """An elementwise loss of input `x` times `weight` (None leaves it as it is), checked to
    broadcast to the input's shape."""
    array = element_weight(weight, x, f"{fn}()", "weight")
    return losses if array is None else losses * array


def mse_loss(x: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error (x - target)^2, averaged, summed, or per element."""
    check_reduction(reduction, "mse_loss")
    diff = x - _input_and_target(x, target, "mse_loss")
    return _reduce(diff * diff, reduction)


def l1_loss(x: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error |x - target|; its gradient at x == target is 0, as PyTorch's."""
    check_reduction(reduction, "l1_loss")
    return _reduce((x - _input_and_target(x, target, "l1_loss")).abs(), reduction)


def _huber(diff: Tensor, delta: float) -> Tensor:
    """0.5 d^2 where |d| <= delta, delta (|d| - delta / 2) beyond, elementwise.

    Written as q (|d| - q / 2) with q = min(|d|, delta): one expression for both
    pieces, so neither piece is computed where it does not apply.
    """
    size = diff.abs()
    q = size.clip(max=delta)
    return q * (size - q * 0.5)


def huber_loss(x: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber loss: squared error (halved) within `delta` (> 0) of the target, absolute
    error (times delta) beyond it, as torch.nn.functional.huber_loss."""
    check_reduction(reduction, "huber_loss")
    delta = check_bound(delta, "huber_loss()", "delta", positive=True)
    return _reduce(_huber(x - _input_and_target(x, target, "huber_loss"), delta), reduction)


def smooth_l1_loss(x: Tensor, target: Any, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Smooth L1 loss: 0.5 d^2 / beta within `beta` (>= 0) of the target, |d| - beta / 2
    beyond, as torch.nn.functional.smooth_l1_loss; it is huber_loss(delta=beta) / beta,
    and beta = 0 gives l1_loss."""
    check_reduction(reduction, "smooth_l1_loss")
    beta = check_bound(beta, "smooth_l1_loss()", "beta", positive=False)
    diff = x - _input_and_target(x, target, "smooth_l1_loss")
    losses = diff.abs() if beta == 0 else _huber(diff, beta) * (1 / beta)
    return _reduce(losses, reduction)


def _clamped_log(p: Tensor) -> Tensor:
    """log(p) floored at -100, as PyTorch's binary_cross_entropy floors it.

    p is first raised to the smallest positive number of its dtype: log(0) is then a
    finite -745 (-103 in float32), floored to -100, and its gradient 0 instead of 0 / 0.
    """
    tiny = np.finfo(p.dtype).smallest_subnormal
    return p.clip(min=tiny).log().clip(min=-100.0)


def _check_probabilities(p: Tensor, fn: str) -> None:
    """Refuse an input outside [0, 1] (or NaN), naming the first such value and its place,
    as PyTorch refuses it: its loss would be the log of a negative number."""
    outside = ~((p.data >= 0) & (p.data <= 1))
    if outside.any():
        place = tuple(int(i) for i in np.argwhere(outside)[0])
        raise ValueError(
            f"{fn}: input must hold probabilities in [0, 1], got {p.data[place]} at "
            f"position {place} (for logits use binary_cross_entropy_with_logits)"
        )


def binary_cross_entropy(
    p: Tensor, target: Any, reduction: str = "mean", *, weight: Any = None
) -> Tensor:
    """-w [y log p + (1 - y) log(1 - p)] of probabilities p in [0, 1], each log floored at
    -100 as PyTorch's, so p = 0 or 1 gives a finite loss.

    `weight` w scales each element's loss, as PyTorch's: it must broadcast to the
    input's shape, and "mean" divides by the number of elements. The gradient is
    PyTorch's, w (p - y) / (p (1 - p)), wherever p (1 - p) >= 1e-12; closer to 0 or 1
    PyTorch divides by 1e-12 instead, while this is the exact derivative of the
    floored loss (0 where a log is floored). On logits,
    binary_cross_entropy_with_logits is stable without any floor.
    """
    fn = "binary_cross_entropy"
    check_reduction(reduction, fn)
    target_t = _input_and_target(p, target, fn)
    _check_probabilities(p, f"{fn}()")
    losses = -(target_t * _clamped_log(p) + (1.0 - target_t) * _clamped_log(1.0 - p))
    return _reduce(_weighted(losses, weight, p, fn), reduction)


def check_normalized_shape(normalized_shape: Any, owner: str) -> tuple[int, ...]:
    """`normalized_shape` (a positive int, or a non-empty sequence of them) as a tuple."""
    shape = (normalized_shape,) if is_integer(normalized_shape) else normalized_shape
    if (
        not isinstance(shape, tuple | list)
        or not shape
        or not all(is_integer(n) and n > 0 for n in shape)
    ):
        raise TypeError(
            f"{owner}: normalized_shape must be a positive integer or a non-empty sequence "
            f"of them, got {normalized_shape!r}"
        )
    return tuple(int(n) for n in shape)


def layer_norm(
    x: Tensor,
    normalized_shape: Any,
    weight: Any = None,
    bias: Any = None,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean) / sqrt(var + eps) over the trailing axes `normalized_shape`, times
    `weight` plus `bias` (each of that shape, or None), as torch's layer_norm: var is the
    biased variance (ddof=0). Composed of Tensor ops: its gradient needs no backward."""
    _check_floating(x, "layer_norm", "input")
    shape = check_normalized_shape(normalized_shape, "layer_norm()")
    eps = check_bound(eps, "layer_norm()", "eps", positive=False)
    if x.shape[-len(shape) :] != shape:  # `shape` is never empty
        raise ShapeError(
            f"layer_norm(): input of shape {x.shape} does not end in normalized_shape {shape}"
        )
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(np.shape(value)) != shape:
            raise ShapeError(
                f"layer_norm(): {name} must have normalized_shape {shape}, got shape "
                f"{tuple(np.shape(value))}"
            )
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    centred = x - x.mean(axes, keepdims=True)
    out = centred * ((centred * centred).mean(axes, keepdims=True) + eps) ** -0.5
    if weight is not None:
        out = out * weight
    return out if bias is None else out + bias


# The activations, attention, batch norm and bags live in their own files; imported last,
# as they use the checks above, and listed in __all__ so a star import takes them too.
from retrograd.nn import functional_activations, functional_attention  # noqa: E402
from retrograd.nn.embedding_bag import embedding_bag  # noqa: E402
from retrograd.nn.functional_activations import *  # noqa: E402, F403
from retrograd.nn.functional_attention import *  # noqa: E402, F403
from retrograd.nn.normalization import batch_norm  # noqa: E402

__all__ += [
    *functional_activations.__all__,
    *functional_attention.__all__,
    "batch_norm",
    "embedding_bag",
]
