"""Loss modules: thin wrappers that hold a loss's options and call `retrograd.nn.functional`.

Inputs given as NumPy arrays or lists are taken as constants, as every module takes them.
"""

from __future__ import annotations

from typing import Any

from retrograd.autograd import Tensor
from retrograd.autograd.functional import check_ignore_index
from retrograd.autograd.loss_arguments import check_bound, check_class_weight, check_loss_weight
from retrograd.nn import functional as F
from retrograd.nn.layers import as_input
from retrograd.nn.module import Module


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F.check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def _register_weight(self, name: str, weight: Any) -> None:
        """Keep a loss's weight (finite, non-negative values, or None) as the persistent
        buffer `name`, as PyTorch keeps it, so `state_dict()` saves it under that key; its
        shape is checked against the input at each call."""
        self.register_buffer(name, check_loss_weight(weight, type(self).__name__, name))

    def extra_repr(self) -> str:
        return ", ".join(p for p in (self._reduction_repr(), *self._weights_repr()) if p)

    def _reduction_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""

    def _weights_repr(self) -> list[str]:
        """The shape of each weight given (each buffer that is not None), as `weight=(3,)`."""
        return [f"{name}={tuple(w.shape)}" for name, w in self.named_buffers(recurse=False)]


class _ClassLoss(_Loss):
    """A loss over integer class targets: `reduction`, `ignore_index` and class `weight`.

    `weight` (C non-negative values, or None) is kept as a constant tensor in the
    persistent buffer `weight`, as PyTorch keeps it, so it is saved in `state_dict()`;
    its length is checked against the input's classes at each call.
    """

    def __init__(self, reduction: str = "mean", ignore_index: int = -100, weight: Any = None):
        super().__init__(reduction)
        name = type(self).__name__
        self.ignore_index = check_ignore_index(ignore_index, name)
        weight = check_class_weight(weight, name)
        self.register_buffer("weight", weight)  # an array (copied) or None

    def extra_repr(self) -> str:
        ignore = f"ignore_index={self.ignore_index}" if self.ignore_index != -100 else ""
        parts = (self._reduction_repr(), ignore, *self._weights_repr())
        return ", ".join(p for p in parts if p)


class CrossEntropyLoss(_ClassLoss):
    """Softmax cross-entropy of logits (N, C) or (N, C, d1, ...) against integer targets,
    or against class probabilities (a floating target of the logits' shape).

    `reduction` is "mean" (over targets that are not `ignore_index`, weighted by
    `weight` when given), "sum" or "none"; targets equal to `ignore_index` (padding)
    contribute nothing. `label_smoothing` e in [0, 1] mixes each one-hot target with
    e / C of every class, as PyTorch's. Class probabilities are taken as PyTorch
    takes them: "mean" divides by the number of losses, not by a sum of weights,
    gradients reach a target that requires grad, and `ignore_index` must stay negative.
    """

    def __init__(
        self,
        reduction: str = "mean",
        ignore_index: int = -100,
        *,
        weight: Any = None,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(reduction, ignore_index, weight)
        F.check_probability(label_smoothing, "CrossEntropyLoss", "label_smoothing")
        self.label_smoothing = float(label_smoothing)

    def forward(self, logits: Any, target: Any) -> Tensor:
        return F.cross_entropy(
            as_input(logits),
            target,
            self.reduction,
            self.ignore_index,
            weight=self.weight,
            label_smoothing=self.label_smoothing,
        )

    def extra_repr(self) -> str:
        smoothing = f"label_smoothing={self.label_smoothing}" if self.label_smoothing else ""
        return ", ".join(p for p in (super().extra_repr(), smoothing) if p)


class NLLLoss(_ClassLoss):
    """Negative log-likelihood of log-probabilities (N, C) or (N, C, d1, ...), such as
    `LogSoftmax`'s, against integer targets; `reduction`, `ignore_index` and `weight`
    as `CrossEntropyLoss`'s, as PyTorch's."""

    def __init__(
        self, reduction: str = "mean", ignore_index: int = -100, *, weight: Any = None
    ) -> None:
        super().__init__(reduction, ignore_index, weight)

    def forward(self, log_probs: Any, target: Any) -> Tensor:
        return F.nll_loss(
            as_input(log_probs), target, self.reduction, self.ignore_index, weight=self.weight
        )


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits against targets in [0, 1], stable for any logit.

    As PyTorch's, `weight` scales each element's loss and `pos_weight` the positive
    term (mostly one value per class, along the last axis); each must broadcast to
    the logits' shape, and is kept as a persistent buffer of its name (None when not
    given), so `state_dict()` has PyTorch's keys.
    """

    def __init__(
        self, reduction: str = "mean", *, weight: Any = None, pos_weight: Any = None
    ) -> None:
        super().__init__(reduction)
        self._register_weight("weight", weight)
        self._register_weight("pos_weight", pos_weight)

    def forward(self, logits: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            as_input(logits),
            target,
            self.reduction,
            weight=self.weight,
            pos_weight=self.pos_weight,
        )


class MSELoss(_Loss):
    """Mean squared error between an input and a target of the same shape."""

    def forward(self, x: Any, target: Any) -> Tensor:
        return F.mse_loss(as_input(x), target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error between an input and a target of the same shape."""

    def forward(self, x: Any, target: Any) -> Tensor:
        return F.l1_loss(as_input(x), target, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities in [0, 1] (a sigmoid's output) against targets,
    each log floored at -100 as PyTorch's; on logits, BCEWithLogitsLoss is stable without.

    `weight` scales each element's loss and must broadcast to the input's shape; it is
    kept as the persistent buffer `weight`, as PyTorch keeps it.
    """

    def __init__(self, reduction: str = "mean", *, weight: Any = None) -> None:
        super().__init__(reduction)
        self._register_weight("weight", weight)

    def forward(self, p: Any, target: Any) -> Tensor:
        return F.binary_cross_entropy(as_input(p), target, self.reduction, weight=self.weight)


class HuberLoss(_Loss):
    """Squared error (halved) within `delta` (> 0) of the target, absolute error (times
    delta) beyond it: as MSE near the target, as L1 far from it."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = check_bound(delta, "HuberLoss", "delta", positive=True)

    def forward(self, x: Any, target: Any) -> Tensor:
        return F.huber_loss(as_input(x), target, self.reduction, self.delta)

    def extra_repr(self) -> str:
        delta = f"delta={self.delta}" if self.delta != 1.0 else ""
        return ", ".join(p for p in (super().extra_repr(), delta) if p)


class SmoothL1Loss(_Loss):
    """HuberLoss(delta=beta) divided by `beta` (>= 0; 0 gives L1Loss), as PyTorch's."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = check_bound(beta, "SmoothL1Loss", "beta", positive=False)

    def forward(self, x: Any, target: Any) -> Tensor:
        return F.smooth_l1_loss(as_input(x), target, self.reduction, self.beta)

    def extra_repr(self) -> str:
        beta = f"beta={self.beta}" if self.beta != 1.0 else ""
        return ", ".join(p for p in (super().extra_repr(), beta) if p)
