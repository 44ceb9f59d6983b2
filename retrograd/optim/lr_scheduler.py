"""Learning-rate schedules with torch's names and semantics.

`StepLR`, `MultiStepLR`, `ExponentialLR`, `LambdaLR`, `MultiplicativeLR`,
`ConstantLR`, `CosineAnnealingLR`, `LinearLR`, `PolynomialLR`,
`CosineAnnealingWarmRestarts`, `CyclicLR`, `OneCycleLR`, `SequentialLR` (one
schedule after another, e.g. a warm-up then a decay), `ChainedScheduler`
(several at once) and `ReduceLROnPlateau`. A scheduler writes the new rate into each
param group's "lr" when `step()` is called (once per epoch, after
`optimizer.step()`), and `state_dict()` holds everything but the optimizer,
so a resumed run continues the same schedule.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import Any, SupportsFloat

from retrograd.optim.cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from retrograd.optim.optimizer import Optimizer, check_count, check_number
from retrograd.optim.scheduler import LRScheduler, check_milestones, check_optimizer
from retrograd.optim.schedules import (
    ConstantLR,
    CosineAnnealingLR,
    LambdaLR,
    LinearLR,
    MultiplicativeLR,
    MultiStepLR,
    PolynomialLR,
)

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]


class StepLR(LRScheduler):
    """Multiply every group's rate by `gamma` every `step_size` epochs."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        check_count("StepLR", "step_size", step_size, 1)
        check_number("StepLR", "gamma", gamma)
        self.step_size = int(step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [
            base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs
        ]


class ExponentialLR(LRScheduler):
    """Multiply every group's rate by `gamma` every epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        check_number("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class _Composite(LRScheduler):
    """A schedule made of other schedulers (`_schedulers`), whose state dict holds
    theirs under "_schedulers"."""

    _schedulers: list[LRScheduler]

    def get_lr(self) -> list[float]:
        raise NotImplementedError(f"{type(self).__name__}: the rates come from its schedulers")

    def state_dict(self) -> dict[str, Any]:
        """Its own attributes, with each scheduler's state dict under "_schedulers"."""
        state = super().state_dict()
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def _check_state(self, state_dict: Any) -> None:
        super()._check_state(state_dict)
        where = f"{type(self).__name__}.load_state_dict()"
        saved = state_dict["_schedulers"]
        if not isinstance(saved, list | tuple) or len(saved) != len(self._schedulers):
            raise ValueError(
                f"{where}: '_schedulers' must be a list of "
                f"{len(self._schedulers)} state dicts, one per scheduler"
            )
        for i, (scheduler, state) in enumerate(zip(self._schedulers, saved)):
            try:
                scheduler._check_state(state)
            except (TypeError, ValueError) as err:
                raise type(err)(f"{where}: schedulers[{i}]: {err}") from None

    def _apply_state(self, state_dict: dict[str, Any]) -> None:
        for scheduler, state in zip(self._schedulers, state_dict["_schedulers"]):
            scheduler._apply_state(state)
        super()._apply_state({k: v for k, v in state_dict.items() if k != "_schedulers"})


class SequentialLR(_Composite):
    """Run `schedulers` one after another, switching at the epochs in `milestones`.

    `SequentialLR(opt, [LinearLR(opt, ...), CosineAnnealingLR(opt, ...)], [5])`
    warms up for 5 epochs, then anneals. As in torch, construction rewinds
    the schedulers (their own construction stepped them) and the rates to
    each group's "initial_lr", then takes step 0 of the first; at a
    milestone the next schedule starts afresh at its epoch 0, from its
    closed form, and each `step()` steps only the schedule in charge.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: list[LRScheduler],
        milestones: list[int],
        last_epoch: int = -1,
    ) -> None:
        check_optimizer("SequentialLR", optimizer)
        schedulers = _schedulers("SequentialLR", optimizer, schedulers)
        milestones = check_milestones("SequentialLR", milestones, repeats=False)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: expected {len(schedulers) - 1} milestones (one fewer than the "
                f"schedulers, one switch between each two), got {len(milestones)}"
            )
        check_count("SequentialLR", "last_epoch", last_epoch, -1)
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = int(last_epoch) + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for scheduler in schedulers:
            scheduler.last_epoch -= 1
        first = schedulers[bisect_right(milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        """Advance one epoch: start the next schedule at a milestone, else step the current one."""
        self.last_epoch += 1
        index = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Step several schedulers of one optimizer at once: each `step()` steps every one,
    in order, so their changes to the rates compound (e.g. a warm-up on top of a decay).

    As in torch, construction steps none of them (each took its step 0 when it was
    built), and `optimizer` defaults to that of the first scheduler.
    """

    def __init__(self, schedulers: list[LRScheduler], optimizer: Optimizer | None = None) -> None:
        if optimizer is not None:
            check_optimizer("ChainedScheduler", optimizer)
        self._schedulers = _schedulers("ChainedScheduler", optimizer, schedulers)
        self.optimizer = self._schedulers[0].optimizer if optimizer is None else optimizer
        self._last_lr = self._current_lrs()

    def step(self) -> None:
        """Step every scheduler, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()


def _schedulers(owner: str, optimizer: Optimizer | None, schedulers: Any) -> list[LRScheduler]:
    """The schedulers a composite `owner` runs, refused with a clear error unless each is a
    distinct schedule of `optimizer` (when None, of the first scheduler's) that can take
    part in it."""
    if not isinstance(schedulers, list | tuple):
        raise TypeError(
            f"{owner}: schedulers must be a list of schedulers, got {type(schedulers).__name__}"
        )
    if not schedulers:
        raise ValueError(f"{owner}: schedulers is empty; give at least one scheduler")
    refused = _refused(owner)
    for i, scheduler in enumerate(schedulers):
        kind = type(scheduler).__name__
        if not isinstance(scheduler, LRScheduler):
            raise TypeError(f"{owner}: schedulers[{i}] is a {kind}, not a scheduler")
        why = next((text for cls, text in refused.items() if isinstance(scheduler, cls)), "")
        if why:
            raise ValueError(
                f"{owner}: schedulers[{i}] is a {kind}, which cannot run in a {owner} ({why})"
            )
        if optimizer is None:
            optimizer = scheduler.optimizer
        if scheduler.optimizer is not optimizer:
            raise ValueError(
                f"{owner}: schedulers[{i}] ({kind}) schedules another "
                f"optimizer; every scheduler must belong to the {owner}'s optimizer"
            )
    if len({id(scheduler) for scheduler in schedulers}) != len(schedulers):
        raise ValueError(f"{owner}: the same scheduler appears twice in schedulers")
    return list(schedulers)


def _refused(owner: str) -> dict[type, str]:
    """The kinds of scheduler a composite `owner` cannot run, each with the reason."""
    why: dict[type, str] = {ReduceLROnPlateau: "its step() needs a metric"}
    if owner == "SequentialLR":
        why[SequentialLR] = "list a nested sequence's schedulers and milestones in this one instead"
        why[ChainedScheduler] = "it has no epoch to rewind; chain the SequentialLR instead"
    return why


class ReduceLROnPlateau(LRScheduler):
    """Multiply the rates by `factor` when a metric has not improved for `patience` epochs.

    `step(metric)` once per epoch. In `mode="min"` an epoch improves when the
    metric is below best * (1 - threshold) (`threshold_mode="rel"`) or below
    best - threshold ("abs"); "max" mirrors this. After `patience` epochs
    without improvement the rates drop to max(lr * factor, min_lr), then
    `cooldown` epochs pass before bad epochs count again. Changes smaller
    than `eps` are skipped.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        name = "ReduceLROnPlateau"
        check_optimizer(name, optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        check_number(name, "factor", factor, high=1.0)
        check_count(name, "patience", patience, 0)
        check_count(name, "cooldown", cooldown, 0)
        check_number(name, "threshold", threshold)
        check_number(name, "eps", eps)
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, list | tuple):
            if len(min_lr) != groups:
                raise ValueError(f"{name}: expected {groups} min_lr values, got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * groups
        for i, value in enumerate(self.min_lrs):
            check_number(name, f"min_lr[{i}]", value)
        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = int(patience)
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = int(cooldown)
        self.eps = eps
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = self._current_lrs()

    def step(self, metrics: SupportsFloat) -> None:  # type: ignore[override]
        """Record this epoch's metric (a float or a one-element tensor) and maybe reduce."""
        current = _metric(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current_lrs()

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, value: float) -> bool:
        best, threshold = self.best, self.threshold
        if self.mode == "min":
            return value < (
                best * (1.0 - threshold) if self.threshold_mode == "rel" else best - threshold
            )
        return value > (
            best * (1.0 + threshold) if self.threshold_mode == "rel" else best + threshold
        )

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} param groups but "
                    f"min_lr has {len(self.min_lrs)} values; set min_lrs to match"
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr


def _metric(metrics: Any) -> float:
    """The metric given to `ReduceLROnPlateau.step()` as a float, with an error naming it."""
    try:
        return float(metrics)
    except (TypeError, ValueError) as err:
        raise TypeError(
            "ReduceLROnPlateau.step(): metrics must be a number or a one-element tensor "
            f"(the epoch's loss), got {type(metrics).__name__} ({err})"
        ) from None
