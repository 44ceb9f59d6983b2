"""Schedules that cycle: `CosineAnnealingWarmRestarts`, `CyclicLR` and `OneCycleLR`.

They compute their rates as `torch.optim.lr_scheduler` does, float
operation for float operation. `CyclicLR` and `OneCycleLR` also cycle the
momentum inversely to the rate (`cycle_momentum`, on by default as in
torch): the "momentum" of an optimizer that has one (SGD, RMSprop), else
the first of its "betas" (Adam and its relatives). Import them from
`retrograd.optim.lr_scheduler`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from retrograd.optim.optimizer import Optimizer, check_count, check_number
from retrograd.optim.scheduler import LRScheduler, check_optimizer
from retrograd.optim.schedules import callable_state, fits_callable, restore_callable


class CosineAnnealingWarmRestarts(LRScheduler):
    """Anneal each group's rate along a half cosine from its initial rate to `eta_min`
    over `T_0` epochs, then restart, each period `T_mult` times the last (SGDR).

    `step(epoch)` may be given a fractional epoch, to step once per batch
    (`scheduler.step(epoch + i / batches)`), as in torch.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,  # noqa: N803 (torch's names, so keyword calls move unchanged)
        T_mult: int = 1,  # noqa: N803
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        name = "CosineAnnealingWarmRestarts"
        check_count(name, "T_0", T_0, 1)
        check_count(name, "T_mult", T_mult, 1)
        check_number(name, "eta_min", eta_min)
        self.T_0 = int(T_0)
        self.T_i = int(T_0)
        self.T_mult = int(T_mult)
        self.eta_min = eta_min
        self.T_cur: float = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        cosine = 1 + math.cos(math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch, or go to `epoch` (a number >= 0, fractional for a part of one)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            check_number(f"{type(self).__name__}.step()", "epoch", epoch)
            self._go_to(epoch)
        self.last_epoch = math.floor(epoch)
        self._set_lrs(self.get_lr())

    def _go_to(self, epoch: float) -> None:
        """Set the period `T_i` and the position `T_cur` in it for `epoch` (torch's formula)."""
        if epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:
            n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult**n


class CyclicLR(LRScheduler):
    """Cycle each group's rate between `base_lr` and `max_lr` (Smith's cyclical rates),
    rising over `step_size_up` steps and falling over `step_size_down` (default: the same).

    `mode` scales the cycle's height: "triangular" keeps it, "triangular2"
    halves it every cycle, "exp_range" multiplies it by gamma**step. A
    `scale_fn(x)` replaces the mode, with x the cycle number (`scale_mode=
    "cycle"`) or the step ("iterations"). Step once per batch.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: float = 2000,
        step_size_down: float | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.8,
        max_momentum: float | list[float] = 0.9,
        last_epoch: int = -1,
    ) -> None:
        name = "CyclicLR"
        check_optimizer(name, optimizer)
        base_lrs = per_group(name, "base_lr", optimizer, base_lr)
        self.max_lrs = per_group(name, "max_lr", optimizer, max_lr)
        check_number(name, "step_size_up", step_size_up)
        if step_size_up == 0:
            raise ValueError(f"{name}: invalid step_size_up 0; a cycle must rise for a step")
        up = float(step_size_up)
        if step_size_down is not None:
            check_number(name, "step_size_down", step_size_down)
        down = up if step_size_down is None else float(step_size_down)
        _choice(name, "mode", mode, ("triangular", "triangular2", "exp_range"))
        _choice(name, "scale_mode", scale_mode, ("cycle", "iterations"))
        check_number(name, "gamma", gamma)
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"{name}: scale_fn must be a function, got {type(scale_fn).__name__}")
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = lr
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        if scale_fn is None:
            scale_mode = "iterations" if mode == "exp_range" else "cycle"
        self.scale_mode = scale_mode
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = start_momentum(
                name, optimizer, base_momentum, max_momentum, last_epoch
            )
        super().__init__(optimizer, last_epoch)
        # As torch: step 0 above took the rates from "initial_lr"; the cycle runs from base_lr.
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        """The factor on the cycle's height at cycle or step `x`."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list[float]:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [
            base_lr + (max_lr - base_lr) * scale_factor * scale
            for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)
        ]
        if self.cycle_momentum:
            for group, low, high in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums
            ):
                set_momentum(group, self.use_beta1, high - (high - low) * scale_factor * scale)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        """Its attributes; a custom `scale_fn` is saved as None if it is a function and as
        its attributes if it is a callable object (code is not state), as in torch."""
        state = super().state_dict()
        state["_scale_fn_custom"] = callable_state(self._scale_fn_custom)
        return state

    def _check_state(self, state_dict: Any) -> None:
        super()._check_state(state_dict)
        saved = state_dict["_scale_fn_custom"]
        if not fits_callable(saved, self._scale_fn_custom):
            raise ValueError(
                f"CyclicLR.load_state_dict(): '_scale_fn_custom' is {saved!r}; expected None "
                "unless scale_fn is a callable object, then a dict of its attributes"
            )

    def _apply_state(self, state_dict: dict[str, Any]) -> None:
        saved = state_dict["_scale_fn_custom"]
        super()._apply_state({k: v for k, v in state_dict.items() if k != "_scale_fn_custom"})
        restore_callable(self._scale_fn_custom, saved)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin): from max_lr / div_factor up to `max_lr` over
    `pct_start` of the steps, then down to initial_lr / final_div_factor.

    The steps are `total_steps`, or `epochs * steps_per_epoch`; step once per
    batch, and a step past the last raises. `three_phase` comes back down to
    the initial rate symmetrically before the final anneal (the paper's
    schedule); `anneal_strategy` is "cos" or "linear".
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        name = "OneCycleLR"
        check_optimizer(name, optimizer)
        self.total_steps = _total_steps(total_steps, epochs, steps_per_epoch)
        check_number(name, "pct_start", pct_start, 0.0, 1.0, upto=True)
        _choice(name, "anneal_strategy", anneal_strategy, ("cos", "linear"))
        for label, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            check_number(name, label, value)
            if value == 0:
                raise ValueError(f"{name}: invalid {label} 0; the rates are divided by it")
        max_lrs = per_group(name, "max_lr", optimizer, max_lr)
        self._schedule_phases = _phases(self.total_steps, pct_start, three_phase)
        self._anneal_func_type = anneal_strategy
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, _, _ = start_momentum(
                name, optimizer, base_momentum, max_momentum, last_epoch
            )
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        """From `start` (pct 0) to `end` (pct 1), along a half cosine or a line."""
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: stepped {step} times, past total_steps={self.total_steps}; "
                "make total_steps (or epochs * steps_per_epoch) cover every step() call"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        momentum = self._anneal(
                            group[phase["start_momentum"]], group[phase["end_momentum"]], pct
                        )
                        set_momentum(group, self.use_beta1, momentum)
                    break
                start_step = end_step
        return lrs


def _total_steps(total_steps: Any, epochs: Any, steps_per_epoch: Any) -> int:
    """OneCycleLR's number of steps: `total_steps`, else `epochs * steps_per_epoch`."""
    if total_steps is not None:
        check_count("OneCycleLR", "total_steps", total_steps, 1)
        return int(total_steps)
    if epochs is None or steps_per_epoch is None:
        raise ValueError("OneCycleLR: give total_steps, or both epochs and steps_per_epoch")
    check_count("OneCycleLR", "epochs", epochs, 1)
    check_count("OneCycleLR", "steps_per_epoch", steps_per_epoch, 1)
    return int(epochs) * int(steps_per_epoch)


def _phases(total: int, pct_start: float, three_phase: bool) -> list[dict[str, Any]]:
    """OneCycleLR's phases (torch's), each ending at a step and annealing between two of a
    group's entries. A phase of no steps (which would divide by zero) is refused."""
    up = float(pct_start * total) - 1
    phases = [
        {
            "end_step": up,
            "start_lr": "initial_lr",
            "end_lr": "max_lr",
            "start_momentum": "max_momentum",
            "end_momentum": "base_momentum",
        }
    ]
    if three_phase:
        phases.append(
            {
                "end_step": float(2 * pct_start * total) - 2,
                "start_lr": "max_lr",
                "end_lr": "initial_lr",
                "start_momentum": "base_momentum",
                "end_momentum": "max_momentum",
            }
        )
    last = phases[-1]
    phases.append(
        {
            "end_step": total - 1,
            "start_lr": last["end_lr"],
            "end_lr": "min_lr",
            "start_momentum": last["end_momentum"],
            "end_momentum": "max_momentum",
        }
    )
    starts = [0.0] + [phase["end_step"] for phase in phases[:-1]]
    if any(phase["end_step"] == start for phase, start in zip(phases, starts)):
        raise ValueError(
            f"OneCycleLR: pct_start={pct_start} with total_steps={total} leaves a phase of the "
            "schedule without steps; change pct_start"
        )
    return phases


def per_group(owner: str, name: str, optimizer: Optimizer, value: Any) -> list[float]:
    """`value` for each param group: one number for all, or a list with one per group."""
    groups = len(optimizer.param_groups)
    values = list(value) if isinstance(value, list | tuple) else [value] * groups
    if len(values) != groups:
        raise ValueError(
            f"{owner}: {name} has {len(values)} values, the optimizer {groups} param groups"
        )
    for i, item in enumerate(values):
        check_number(owner, f"{name}[{i}]" if isinstance(value, list | tuple) else name, item)
    return values


def start_momentum(
    owner: str,
    optimizer: Optimizer,
    base_momentum: Any,
    max_momentum: Any,
    last_epoch: int,
) -> tuple[bool, list[float], list[float]]:
    """Check that `optimizer` has a momentum to cycle and, for a new schedule, start it at
    `max_momentum`, noting both bounds in each group as torch does. Returns whether the
    momentum is beta1, and the base and max momentum of each group."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(
            f"{owner}: cycle_momentum=True, but {type(optimizer).__name__} has neither "
            "'momentum' nor 'betas'; pass cycle_momentum=False"
        )
    use_beta1 = "betas" in optimizer.defaults
    lows = per_group(owner, "base_momentum", optimizer, base_momentum)
    highs = per_group(owner, "max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        for group, low, high in zip(optimizer.param_groups, lows, highs):
            set_momentum(group, use_beta1, high)
            group["max_momentum"] = high
            group["base_momentum"] = low
    return use_beta1, lows, highs


def set_momentum(group: dict[str, Any], use_beta1: bool, value: float) -> None:
    """Write `value` as the group's momentum: its beta1 if `use_beta1`."""
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _choice(owner: str, name: str, value: Any, choices: tuple[str, ...]) -> None:
    """Raise unless `value` is one of `choices`."""
    if value not in choices:
        options = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{owner}: {name} must be one of {options}, got {value!r}")
