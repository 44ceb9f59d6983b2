"""Schedules by formula: `MultiStepLR`, `LambdaLR`, `MultiplicativeLR`, `ConstantLR`,
`CosineAnnealingLR`, `LinearLR` and `PolynomialLR`.

Each computes its rates as `torch.optim.lr_scheduler` does, float operation
for float operation: the recursive forms (which start from the current rate,
so a rate changed from outside the schedule carries on) in `step()`, and the
closed forms (from `base_lrs` alone) where `SequentialLR` starts a schedule
afresh. Import them from `retrograd.optim.lr_scheduler`.
"""

from __future__ import annotations

import math
import types
from bisect import bisect_right
from collections.abc import Callable, Iterable
from numbers import Real
from typing import Any

from retrograd.optim.optimizer import Optimizer, check_count, check_number
from retrograd.optim.scheduler import LRScheduler, check_milestones, check_optimizer

LambdaT = Callable[[int], float]


class MultiStepLR(LRScheduler):
    """Multiply every group's rate by `gamma` at each epoch in `milestones`.

    An epoch listed n times multiplies by gamma**n, as in torch.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        self.milestones = check_milestones("MultiStepLR", milestones, repeats=True)
        check_number("MultiStepLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        hits = self.milestones.count(self.last_epoch)
        if not hits:
            return self._current_lrs()
        return [lr * self.gamma**hits for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        passed = bisect_right(self.milestones, self.last_epoch)
        return [base_lr * self.gamma**passed for base_lr in self.base_lrs]


class _LambdaSchedule(LRScheduler):
    """A schedule driven by `lr_lambda`: one function of the epoch for every group or a
    list with one per group. `state_dict()` holds, under "lr_lambdas", None for each
    plain function (code is not state) and the attributes of each callable object, so a
    callable object with state resumes it, as in torch."""

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: LambdaT | list[LambdaT],
        last_epoch: int = -1,
    ) -> None:
        check_optimizer(type(self).__name__, optimizer)
        self.lr_lambdas = _lambdas(type(self).__name__, lr_lambda, len(optimizer.param_groups))
        super().__init__(optimizer, last_epoch)

    def _factor(self, i: int, fn: LambdaT) -> float:
        """`fn(last_epoch)`, refused unless it is a number (it multiplies the rate)."""
        factor = fn(self.last_epoch)
        if isinstance(factor, bool) or not isinstance(factor, Real):
            raise TypeError(
                f"{type(self).__name__}: lr_lambda[{i}]({self.last_epoch}) returned "
                f"{type(factor).__name__}; it must return a number, the factor for that epoch"
            )
        return factor

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["lr_lambdas"] = [callable_state(fn) for fn in self.lr_lambdas]
        return state

    def _check_state(self, state_dict: Any) -> None:
        super()._check_state(state_dict)
        saved = state_dict["lr_lambdas"]
        where = f"{type(self).__name__}.load_state_dict()"
        if not isinstance(saved, list | tuple) or len(saved) != len(self.lr_lambdas):
            raise ValueError(
                f"{where}: 'lr_lambdas' must be a list of {len(self.lr_lambdas)} entries, "
                f"one per lr_lambda, got {saved!r}"
            )
        for i, (entry, fn) in enumerate(zip(saved, self.lr_lambdas)):
            if not fits_callable(entry, fn):
                raise ValueError(
                    f"{where}: 'lr_lambdas'[{i}] is {entry!r}; expected None for a function "
                    "or a dict of attributes for a callable object"
                )

    def _apply_state(self, state_dict: dict[str, Any]) -> None:
        super()._apply_state({k: v for k, v in state_dict.items() if k != "lr_lambdas"})
        for fn, attributes in zip(self.lr_lambdas, state_dict["lr_lambdas"]):
            restore_callable(fn, attributes)


class LambdaLR(_LambdaSchedule):
    """Set each group's rate to its initial rate times `lr_lambda(epoch)`."""

    def get_lr(self) -> list[float]:
        return [
            base_lr * self._factor(i, fn)
            for i, (fn, base_lr) in enumerate(zip(self.lr_lambdas, self.base_lrs))
        ]


class MultiplicativeLR(_LambdaSchedule):
    """Multiply each group's current rate by `lr_lambda(epoch)` at every epoch after 0."""

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [
            lr * self._factor(i, fn)
            for i, (fn, lr) in enumerate(zip(self.lr_lambdas, self._current_lrs()))
        ]


def _lambdas(owner: str, lr_lambda: Any, groups: int) -> list[LambdaT]:
    """`lr_lambda` as one callable per param group, with errors naming what is wrong."""
    if not isinstance(lr_lambda, list | tuple):
        lr_lambda = [lr_lambda] * groups
    elif len(lr_lambda) != groups:
        raise ValueError(
            f"{owner}: expected one lr_lambda per param group ({groups}), got {len(lr_lambda)}"
        )
    for i, fn in enumerate(lr_lambda):
        if not callable(fn):
            raise TypeError(
                f"{owner}: lr_lambda[{i}] must be a function of the epoch, got {type(fn).__name__}"
            )
    return list(lr_lambda)


def _has_state(fn: Any) -> bool:
    """Whether `fn` (a user's function, or None) is a callable object with attributes of its
    own to save, not a function, lambda or builtin."""
    return fn is not None and not isinstance(fn, types.FunctionType) and hasattr(fn, "__dict__")


def callable_state(fn: Any) -> dict[str, Any] | None:
    """What a scheduler's state dict keeps of a user's function, as torch: None for a
    function (code is not state), the attributes of a callable object, so that one with
    state resumes it."""
    return dict(fn.__dict__) if _has_state(fn) else None


def fits_callable(saved: Any, fn: Any) -> bool:
    """Whether `saved`, read from a state dict, can be restored into `fn`."""
    return saved is None or (isinstance(saved, dict) and _has_state(fn))


def restore_callable(fn: Any, saved: dict[str, Any] | None) -> None:
    """Put attributes kept by `callable_state` back into `fn` (nothing for a function)."""
    if saved is not None:
        fn.__dict__.update(saved)


class CosineAnnealingLR(LRScheduler):
    """Anneal each group's rate from its initial rate to `eta_min` over `T_max` epochs.

    The closed form is eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2;
    `step()` follows torch's recursive form instead, which multiplies the
    current rate's distance to `eta_min` by the ratio of consecutive cosine
    terms, so a rate changed from outside the schedule is annealed from
    where it is. After `T_max` the rate climbs back along the cosine.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_max: int,  # noqa: N803 (torch's name, so keyword calls move unchanged)
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        check_count("CosineAnnealingLR", "T_max", T_max, 1)
        check_number("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max = int(T_max)
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        t, period, eta_min = self.last_epoch, self.T_max, self.eta_min
        if (t - 1 - period) % (2 * period) == 0:
            # The rate left the minimum, where the ratio below would divide by 1 + cos(pi) = 0.
            return [
                lr + (base_lr - eta_min) * (1 - math.cos(math.pi / period)) / 2
                for base_lr, lr in zip(self.base_lrs, self._current_lrs())
            ]
        return [
            (1 + math.cos(math.pi * t / period))
            / (1 + math.cos(math.pi * (t - 1) / period))
            * (lr - eta_min)
            + eta_min
            for lr in self._current_lrs()
        ]

    def _closed_form_lr(self) -> list[float]:
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale each group's rate by a factor going linearly from `start_factor` to
    `end_factor` over `total_iters` epochs, then keep it: a warm-up.

    `start_factor` is in (0, 1] and `end_factor` in [0, 1], as in torch.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        check_number("LinearLR", "start_factor", start_factor, 0.0, 1.0, upto=True)
        if start_factor == 0:
            raise ValueError("LinearLR: invalid start_factor 0; it must be in (0, 1]")
        check_number("LinearLR", "end_factor", end_factor, 0.0, 1.0, upto=True)
        check_count("LinearLR", "total_iters", total_iters, 1)
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, start, end = self.last_epoch, self.start_factor, self.end_factor
        if t == 0:
            return [lr * start for lr in self._current_lrs()]
        if self._is_initial or t > self.total_iters:
            return self._current_lrs()
        # The ratio of this epoch's factor to the last one's.
        ratio = 1.0 + (end - start) / (self.total_iters * start + (t - 1) * (end - start))
        return [lr * ratio for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        start, end = self.start_factor, self.end_factor
        done = min(self.total_iters, self.last_epoch)
        return [
            base_lr * (start + (end - start) * done / self.total_iters) for base_lr in self.base_lrs
        ]


class ConstantLR(LRScheduler):
    """Scale each group's rate by `factor` until epoch `total_iters`, then restore it.

    `factor` is in (0, 1]: at `total_iters` the rate is divided by it, as in torch.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        factor: float = 1.0 / 3,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        check_number("ConstantLR", "factor", factor, 0.0, 1.0, upto=True)
        if factor == 0:
            raise ValueError("ConstantLR: invalid factor 0; it must be in (0, 1]")
        check_count("ConstantLR", "total_iters", total_iters, 1)
        self.factor = factor
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        done = self.last_epoch >= self.total_iters
        return [base_lr * (self.factor + done * (1 - self.factor)) for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decay each group's rate as base_lr * (1 - epoch / total_iters) ** power, reaching 0 at
    `total_iters` and staying there."""

    def __init__(
        self,
        optimizer: Optimizer,
        total_iters: int = 5,
        power: float = 1.0,
        last_epoch: int = -1,
    ) -> None:
        check_count("PolynomialLR", "total_iters", total_iters, 1)
        check_number("PolynomialLR", "power", power)
        self.total_iters = int(total_iters)
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t = self.last_epoch
        if self._is_initial or t > self.total_iters:
            return self._current_lrs()
        # The ratio of this epoch's factor to the last one's.
        decay = ((1.0 - t / self.total_iters) / (1.0 - (t - 1) / self.total_iters)) ** self.power
        return [lr * decay for lr in self._current_lrs()]

    def _closed_form_lr(self) -> list[float]:
        left = 1.0 - min(self.total_iters, self.last_epoch) / self.total_iters
        return [base_lr * left**self.power for base_lr in self.base_lrs]
