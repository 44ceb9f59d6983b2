"""Loss modules: thin wrappers that hold a loss's options and call `retrograd.nn.functional`.

Inputs given as NumPy arrays or lists are taken as constants, as every module takes them.
"""

from __future__ import annotations

from typing import Any

from retrograd.autograd import Tensor
from retrograd.autograd.functional import check_ignore_index
from retrograd.nn import functional as F
from retrograd.nn.layers import as_input
from retrograd.nn.module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F.check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against integer targets.

    `reduction` is "mean" (over targets that are not `ignore_index`), "sum" or
    "none"; targets equal to `ignore_index` (padding) contribute nothing.
    """

    def __init__(self, reduction: str = "mean", ignore_index: int = -100) -> None:
        super().__init__(reduction)
        self.ignore_index = check_ignore_index(ignore_index, "CrossEntropyLoss")

    def forward(self, logits: Any, target: Any) -> Tensor:
        return F.cross_entropy(as_input(logits), target, self.reduction, self.ignore_index)

    def extra_repr(self) -> str:
        parts = [super().extra_repr()]
        if self.ignore_index != -100:
            parts.append(f"ignore_index={self.ignore_index}")
        return ", ".join(p for p in parts if p)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits against targets in [0, 1], stable for any logit."""

    def forward(self, logits: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(as_input(logits), target, self.reduction)


class MSELoss(_Loss):
    """Mean squared error between an input and a target of the same shape."""

    def forward(self, x: Any, target: Any) -> Tensor:
        return F.mse_loss(as_input(x), target, self.reduction)
