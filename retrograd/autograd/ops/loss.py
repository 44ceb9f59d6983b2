"""Fused losses: faster and more stable than their compositions from primitives."""

from __future__ import annotations

import numpy as np

from retrograd.autograd.function import Function
from retrograd.autograd.graph import Node, ShapeError
from retrograd.autograd.sums import matrix_sum


class CrossEntropy(Function):
    """loss_n = logsumexp(z_n) - z_n[t_n]; d z_n = (softmax(z_n) - onehot(t_n)) d loss_n

    With class weights w and label smoothing e (`label_smoothing` not None), each target
    is the mixture (1 - e) onehot(t_n) + e / C of every class, weighted by class:
    loss_n = (1 - e) w[t_n] (lse(z_n) - z_n[t_n]) + e / C sum_c w_c (lse(z_n) - z_{n,c}),
    and "mean" divides by the sum of w[t_n] over the targets kept, as PyTorch.
    """

    @staticmethod
    def forward(
        ctx: Node,
        logits: np.ndarray,
        target: np.ndarray,
        ignore_index: int,
        reduction: str,
        weight: np.ndarray | None = None,
        label_smoothing: float | None = None,
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
        if label_smoothing is not None:
            return CrossEntropy.forward_with_options(
                ctx, shifted, rows, classes, reduction, weight, label_smoothing
            )
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
        if len(ctx.saved) != 3:
            return CrossEntropy.backward_with_options(ctx, grad), None
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

    @staticmethod
    def forward_with_options(
        ctx: Node,
        shifted: np.ndarray,
        rows: np.ndarray,
        classes: np.ndarray,
        reduction: str,
        weight: np.ndarray | None,
        smoothing: float,
    ) -> np.ndarray:
        """The weighted, smoothed loss of row-shifted logits s, in one form for every option:
        loss_n = a_n log(sum_c exp s_{n,c}) - b_n s_{n,t_n} - sum_c v_c s_{n,c}, with
        b_n = (1 - e) w[t_n], v_c = e w_c / C and a_n = b_n + sum_c v_c."""
        n, n_classes = shifted.shape
        target_weight = np.ones(rows.size, shifted.dtype) if weight is None else weight[classes]
        picked_coef = (1 - smoothing) * target_weight
        spread = None
        if smoothing:
            spread = (smoothing / n_classes) * (
                np.ones(n_classes, shifted.dtype) if weight is None else weight
            )
            # Taken before exp overwrites the shifted logits.
            smoothed = shifted[rows] @ spread
        picked = shifted[rows, classes]
        probs = np.exp(shifted, out=shifted if shifted.dtype.kind == "f" else None)
        total = matrix_sum(probs, 1)
        probs *= (1 / total)[:, None]
        log_coef = picked_coef if spread is None else picked_coef + spread.sum()
        kept_losses = log_coef * np.log(total[rows]) - picked_coef * picked
        if spread is not None:
            kept_losses -= smoothed
        losses = np.zeros(n, dtype=probs.dtype)
        losses[rows] = kept_losses
        divisor = rows.size if weight is None else target_weight.sum()
        ctx.saved = (probs, rows, classes, log_coef, picked_coef, spread, divisor)
        if reduction == "none":
            return losses
        if reduction == "sum":
            return kept_losses.sum()
        # A mean over no weight at all is 0 (as the unweighted mean over no target), not NaN.
        return kept_losses.sum() / divisor if divisor else np.zeros((), losses.dtype)

    @staticmethod
    def backward_with_options(ctx: Node, grad: np.ndarray) -> np.ndarray:
        """d s_{n,c} = (a_n softmax(s_n)_c - b_n onehot(t_n)_c - v_c) d loss_n."""
        probs, rows, classes, log_coef, picked_coef, spread, divisor = ctx.saved
        reduction = ctx.params["reduction"]
        if reduction == "none":
            scale = grad[rows]
        elif reduction == "sum":
            scale = np.asarray(grad)
        else:
            scale = np.asarray(grad / divisor if divisor else grad * 0)
        out = np.zeros_like(probs)
        out[rows] = probs[rows] * (scale * log_coef)[:, None]
        if spread is not None:
            out[rows] -= scale[..., None] * spread
        out[rows, classes] -= scale * picked_coef
        return out
