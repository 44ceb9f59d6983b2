"""Resilient backpropagation: per-coordinate step sizes driven by the gradient's sign alone."""

from __future__ import annotations

from typing import Any

import numpy as np

from retrograd.optim.optimizer import Optimizer, ParamsT, check_number, check_pair


class Rprop(Optimizer):
    """PyTorch's Rprop (without backtracking): each coordinate has its own step size.

    Where g has the sign it had last step, the step size grows by etas[1]; where the
    sign flipped, it shrinks by etas[0] and that coordinate skips this step (its
    gradient counts as 0 next time); step sizes stay within `step_sizes` (min, max).
    p -= sign(g) * step_size. Every step size starts at `lr`.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "maximize": maximize}
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        check_number(self._name, "lr", group["lr"])
        etaminus, etaplus = check_pair(self._name, "etas", group["etas"], "(etaminus, etaplus)")
        check_number(self._name, "etas[0]", etaminus, high=1.0)
        if etaminus == 0 or etaplus <= 1:
            raise ValueError(
                f"{self._name}: invalid etas {group['etas']!r}; they must satisfy "
                "0 < etas[0] < 1 < etas[1]"
            )
        low, high = check_pair(self._name, "step_sizes", group["step_sizes"], "(min, max)")
        check_number(self._name, "step_sizes[0]", low)
        check_number(self._name, "step_sizes[1]", high, low)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["prev"] = np.zeros_like(param)
            state["step_size"] = np.full_like(param, float(group["lr"]))
        state["step"] += 1
        if group["maximize"]:
            grad = -grad
        etaminus, etaplus = group["etas"]
        low, high = group["step_sizes"]
        sign = np.sign(grad * state["prev"])
        factor = np.where(sign > 0, etaplus, np.where(sign < 0, etaminus, 1.0))
        step_size = state["step_size"]
        step_size *= factor.astype(param.dtype, copy=False)
        np.clip(step_size, low, high, out=step_size)
        grad = np.where(sign < 0, 0, grad).astype(param.dtype, copy=False)
        param -= np.sign(grad) * step_size
        state["prev"][...] = grad
