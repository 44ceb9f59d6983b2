"""`LRScheduler`, the base of the epoch-counting learning-rate schedules, and their checks.

The schedules themselves are in `retrograd.optim.lr_scheduler` (which also
re-exports this class, as torch's module does).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from retrograd.autograd.functional import is_integer
from retrograd.optim.optimizer import Optimizer, check_count


class LRScheduler:
    """Base class of epoch-counting schedules: subclasses give `get_lr()`.

    `last_epoch=-1` starts a new schedule (recording each group's
    "initial_lr"); construction performs step 0, which keeps the current rates.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        check_optimizer(type(self).__name__, optimizer)
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
        self._initial_step()

    def get_lr(self) -> list[float]:
        """The rates for the epoch `last_epoch` (just incremented by `step`)."""
        raise NotImplementedError

    def _closed_form_lr(self) -> list[float]:
        """The rates for `last_epoch` computed from `base_lrs` alone, not from the current
        rates; schedules with such a formula override this (torch uses the same ones)."""
        return self.get_lr()

    def step(self) -> None:
        """Advance one epoch and write the new rates into the optimizer."""
        self.last_epoch += 1
        try:
            lrs = self.get_lr()
        except Exception:
            self.last_epoch -= 1  # a failed step (a bad lr_lambda) leaves the schedule as it was
            raise
        self._set_lrs(lrs)

    def _initial_step(self) -> None:
        """Step 0 of a schedule, which some schedules treat apart (it keeps the rates)."""
        self._is_initial = True
        self.step()
        self._is_initial = False

    def _restart(self) -> None:
        """Start the schedule afresh at epoch 0 with its closed form, as `SequentialLR` does at
        a milestone (torch's `_update_lr(0)`)."""
        self.last_epoch = 0
        self._set_lrs(self._closed_form_lr())

    def _set_lrs(self, lrs: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs):
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
        self._check_state(state_dict)
        self._apply_state(state_dict)

    def _check_state(self, state_dict: Any) -> None:
        """Raise unless `state_dict` can be loaded: a dict with exactly this scheduler's keys."""
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

    def _apply_state(self, state_dict: dict[str, Any]) -> None:
        """Take a state already checked by `_check_state`."""
        self.__dict__.update(state_dict)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


def check_optimizer(owner: str, optimizer: Any) -> None:
    """Raise a TypeError unless `optimizer` is an `Optimizer`."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner}: expected an Optimizer, got {optimizer!r}")


def check_milestones(owner: str, milestones: Any, *, repeats: bool) -> list[int]:
    """`milestones` as a list of epochs: integers >= 0 in increasing order (equal
    neighbours allowed only with `repeats`). A TypeError for a value that is not a
    sequence of integers, a ValueError for one out of order or negative."""
    if isinstance(milestones, str | bytes | dict | set | frozenset) or not isinstance(
        milestones, Iterable
    ):
        raise TypeError(
            f"{owner}: milestones must be a list of epochs (integers), "
            f"got {type(milestones).__name__}"
        )
    epochs = list(milestones)
    for i, epoch in enumerate(epochs):
        if not is_integer(epoch):
            raise TypeError(
                f"{owner}: milestones must be a list of epochs (integers), "
                f"milestones[{i}] is {epoch!r}"
            )
        if epoch < 0:
            raise ValueError(f"{owner}: milestones[{i}] is {epoch}; epochs count from 0")
    order = "non-decreasing" if repeats else "increasing"
    for i in range(1, len(epochs)):
        if epochs[i] < epochs[i - 1] or (epochs[i] == epochs[i - 1] and not repeats):
            raise ValueError(f"{owner}: milestones must be {order}, got {epochs}")
    return [int(epoch) for epoch in epochs]
