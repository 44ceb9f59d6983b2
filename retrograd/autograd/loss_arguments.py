"""The arguments of the class losses (cross-entropy, NLL), of every loss's reduction and
weights, and of the real-valued options (a probability, Huber's delta, a normalisation's
eps), checked in one place, so each loss and layer names the same mistakes the same way."""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from retrograd.autograd.graph import ShapeError
from retrograd.autograd.tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str, fn: str) -> None:
    """Refuse a reduction other than "mean", "sum" or "none" (an array here is most likely
    a class weight given by position, as PyTorch's first argument)."""
    if not isinstance(reduction, str):
        raise TypeError(
            f"{fn}(): reduction must be one of {REDUCTIONS}, got {type(reduction).__name__} "
            "(weight is a keyword argument: weight=...)"
        )
    if reduction not in REDUCTIONS:
        raise ValueError(f"{fn}(): reduction must be one of {REDUCTIONS}, got {reduction!r}")


def check_probability(p: Any, fn: str, what: str = "p") -> None:
    """Refuse a probability (the argument `what`: a drop rate, a label smoothing) that is
    not a number in [0, 1] (True would drop everything)."""
    if isinstance(p, bool) or not isinstance(p, Real):
        raise TypeError(f"{fn}: {what} must be a number in [0, 1], got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{fn}: {what} must be in [0, 1], got {p}")


def check_bound(value: Any, fn: str, what: str, *, positive: bool) -> float:
    """`value` (the argument `what`) as a float, refused unless it is a finite number that
    is positive (`positive`) or non-negative: a Huber delta of 0 would divide by 0, a
    negative one would reward errors, and NaN would make every loss NaN."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{fn}: {what} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"{fn}: {what} must be a finite {kind} number, got {value}")
    return float(value)


def real_array(value: Any, what: str, kinds: str = "biuf") -> np.ndarray:
    """`value` (an array, list or number) as an array of one of the dtype `kinds`, or a
    TypeError naming `what` and the value: NumPy's own errors for strings, None or a
    ragged list ("could not convert", "inhomogeneous shape") name neither."""
    try:
        array = np.asarray(value)
    except ValueError:  # a ragged list
        array = np.asarray(None)
    if array.dtype.kind not in kinds:
        got = f"dtype {value.dtype}" if isinstance(value, np.ndarray) else f"{value!r:.60}"
        raise TypeError(f"{what} must be an array of real numbers, got {got}")
    return array


def check_class_weight(weight: Any, fn: str) -> np.ndarray | None:
    """Class weights: `check_loss_weight`'s array (or None), refused unless it is 1-D."""
    array = check_loss_weight(weight, fn)
    if array is not None and array.ndim != 1:
        raise ShapeError(f"{fn}: weight must be 1-D (one value per class), got shape {array.shape}")
    return array


def check_loss_weight(weight: Any, fn: str, what: str = "weight") -> np.ndarray | None:
    """A loss's weight (the argument `what`: class weights, BCE's weight or pos_weight) as
    a float array of finite, non-negative values, or None.

    Weights get no gradient, so one that requires grad is refused rather than left
    without one; a negative weight would reward the wrong answer (PyTorch takes it).
    """
    if weight is None:
        return None
    if isinstance(weight, Tensor):
        if weight.requires_grad:
            raise ValueError(f"{fn}: {what} gets no gradient; pass {what}.detach()")
        weight = weight.data
    array = real_array(weight, f"{fn}: {what}", "iuf")
    if not np.isfinite(array).all() or (array < 0).any():
        bad = array[~np.isfinite(array) | (array < 0)][0]
        raise ValueError(f"{fn}: {what} must be finite and non-negative, got {bad}")
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def element_weight(weight: Any, x: Tensor, fn: str, what: str) -> np.ndarray | None:
    """`check_loss_weight`'s array, in `x`'s dtype, checked to broadcast to the shape of
    the input `x` without enlarging it: it scales each element's loss, as PyTorch's
    (`pos_weight` mostly holds one value per class, along the last axis)."""
    array = check_loss_weight(weight, fn, what)
    if array is None:
        return None
    try:
        fits = np.broadcast_shapes(array.shape, x.shape) == x.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(
            f"{fn}: {what} of shape {array.shape} does not broadcast to the input's shape {x.shape}"
        )
    return array.astype(x.dtype)


def class_weight(weight: Any, rows: Tensor, fn: str) -> np.ndarray | None:
    """`check_class_weight`'s array, checked to hold one value per class of the (M, C)
    `rows`, in their dtype."""
    array = check_class_weight(weight, fn)
    if array is None:
        return None
    n_classes = rows.shape[1]
    if array.shape != (n_classes,):
        raise ShapeError(
            f"{fn}: weight must hold one value per class, shape ({n_classes},), "
            f"got shape {array.shape}"
        )
    return array.astype(rows.dtype)


def class_scores(scores: Any, fn: str, name: str) -> Tensor:
    """A class loss's scores (the argument `name`) as a floating tensor of shape (N, C),
    (N, C, d1, ...) or, unbatched, (C,), as PyTorch takes them."""
    if not isinstance(scores, Tensor):
        try:
            scores = Tensor(scores)
        except (TypeError, ValueError) as err:  # not numbers, or a ragged list
            raise TypeError(f"{fn}(): {name} must be a tensor or numeric array: {err}") from None
    if scores.dtype.kind != "f":  # NumPy would give a float64 loss of integer scores
        raise TypeError(f"{fn}(): {name} must be floating, got dtype {scores.dtype}")
    if scores.ndim == 0:
        raise ShapeError(
            f"{fn}(): {name} must be (N, C), (N, C, d1, ...) or unbatched (C,), got shape ()"
        )
    return scores


def index_shape(shape: tuple) -> tuple:
    """The shape of the class-index target of scores of `shape`: (N, d1, ...) for
    (N, C, d1, ...), and () for unbatched (C,) scores."""
    return (shape[0], *shape[2:]) if len(shape) > 1 else ()


def class_rows(
    scores: Any, target: Any, fn: str, name: str, probabilities: bool = False
) -> tuple[Tensor, Tensor, tuple]:
    """A class loss's floating scores (the argument `name`) as (M, C) rows, its integer
    targets as (M,), and the target's shape (that of the loss with reduction "none").

    (N, C, d1, ...) scores become the N d1 ... rows of C values each, as PyTorch
    takes them; unbatched (C,) scores with a 0-d target become one row. A target that
    is not integers of that shape is refused; when the loss also takes class
    probabilities (`probabilities`), naming both forms a target takes.
    """
    scores = class_scores(scores, fn, name)
    targets = target
    if not isinstance(targets, Tensor):  # strings, None or a ragged list: named as the target
        targets = Tensor._make(real_array(target, f"{fn}(): target"), None, 0)
    if targets.dtype.kind not in "iu":
        if probabilities:
            raise TypeError(target_forms(scores.shape, targets, fn, name))
        raise TypeError(f"{fn}(): target must hold integers, got dtype {targets.dtype}")
    shape = index_shape(scores.shape)
    if targets.shape != shape:
        if probabilities:
            raise ShapeError(target_forms(scores.shape, targets, fn, name))
        raise ShapeError(
            f"{fn}(): {name} of shape {scores.shape} needs target of shape {shape}, "
            f"got {targets.shape}"
        )
    if scores.ndim == 1:
        return scores.unsqueeze(0), Tensor._make(targets.data.reshape(1), None, 0), shape
    if scores.ndim > 2:
        n_classes = scores.shape[1]
        scores = scores.permute(0, *range(2, scores.ndim), 1).reshape(-1, n_classes)
        return scores, Tensor._make(targets.data.reshape(-1), None, 0), shape
    return scores, targets, shape


def is_probability_target(target: Any, fn: str) -> bool:
    """Whether a class loss's target is floating (class probabilities) rather than integer
    class indices: a dtype test only, cheap on the integer path of a training loop."""
    if isinstance(target, Tensor | np.ndarray):
        return target.dtype.kind == "f"
    return real_array(target, f"{fn}(): target").dtype.kind == "f"


def class_probabilities(
    scores: Any, target: Any, fn: str, name: str
) -> tuple[Tensor, Tensor, tuple]:
    """A class loss's floating scores (N, C) or (N, C, d1, ...) and its floating target of
    class probabilities, of the same shape, and the shape of the loss with reduction
    "none"; unbatched (C,) scores and target become one row each, their loss 0-d.

    A target tensor is taken as it is (its dtype its own, its gradient flowing, as
    PyTorch's); an array or list becomes a constant in the scores' dtype. A target of
    another shape is refused naming both forms a target takes: a TypeError when it has
    the shape of class indices (floats where integers belong), else a ShapeError.
    """
    scores = class_scores(scores, fn, name)
    if isinstance(target, Tensor):
        targets = target
    else:
        targets = Tensor._make(real_array(target, f"{fn}(): target").astype(scores.dtype), None, 0)
    shape = index_shape(scores.shape)
    if targets.shape != scores.shape:
        error = TypeError if targets.shape == shape else ShapeError
        raise error(target_forms(scores.shape, targets, fn, name))
    if scores.ndim == 1:
        return scores.unsqueeze(0), targets.unsqueeze(0), shape
    return scores, targets, shape


def target_forms(shape: tuple, target: Tensor, fn: str, name: str) -> str:
    """The message refusing a class target for scores of `shape`: it names both forms a
    target takes (integer class indices, or class probabilities) and what was given."""
    return (
        f"{fn}(): target must be integers (class indices) of shape {index_shape(shape)}, or floats "
        f"(class probabilities) of shape {shape} like the {name}; got dtype {target.dtype} "
        f"and shape {target.shape}"
    )
