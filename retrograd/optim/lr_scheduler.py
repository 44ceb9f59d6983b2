"""Learning-rate schedules: `StepLR`, `ExponentialLR` and `ReduceLROnPlateau`.

Semantics and argument names are PyTorch's: a scheduler writes the new rate
into each param group's "lr" when `step()` is called (once per epoch, after
`optimizer.step()`), and `state_dict()` holds everything but the optimizer,
so a resumed run continues the same schedule.
"""

from __future__ import annotations

import math
from typing import Any, SupportsFloat

from retrograd.optim.optimizer import Optimizer, check_count, check_number


class LRScheduler:
    """Base class of epoch-counting schedules: subclasses give `get_lr()`.

    `last_epoch=-1` starts a new schedule (recording each group's
    "initial_lr"); construction performs step 0, which keeps the current rates.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {optimizer!r}")
        check_count(type(self).__name__, "last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        last_epoch = int(last_epoch)
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr', needed to "
                        f"resume at last_epoch={last_epoch}; load the optimizer's state first"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._is_initial = True
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        """The rates for the epoch `last_epoch` (just incremented by `step`)."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and write the new rates into the optimizer."""
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The rates the last `step()` set, one per param group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume the schedule (all attributes except the optimizer)."""
        return {
            key: list(value) if isinstance(value, list) else value
            for key, value in self.__dict__.items()
            if key != "optimizer"
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state from `state_dict()` of a scheduler of the same kind.

        Its keys must be exactly this scheduler's: a state dict with a key
        missing or one too many (from another kind of scheduler) is refused
        with a ValueError, and the scheduler is left unchanged.
        """
        where = f"{type(self).__name__}.load_state_dict()"
        if not isinstance(state_dict, dict):
            raise TypeError(
                f"{where}: expected a dict from state_dict(), got {type(state_dict).__name__}"
            )
        expected = self.state_dict().keys()
        problems = [
            f"{what} keys {sorted(keys, key=str)}"
            for what, keys in (
                ("missing", expected - state_dict.keys()),
                ("unknown", state_dict.keys() - expected),
            )
            if keys
        ]
        if problems:
            raise ValueError(
                f"{where}: {', '.join(problems)} (a state dict from another scheduler?)"
            )
        self.__dict__.update(state_dict)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


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
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: expected an Optimizer, got {optimizer!r}")
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
