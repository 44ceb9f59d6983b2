"""Stochastic gradient descent: `SGD` (momentum, dampening, Nesterov, weight decay) and `ASGD`
(averaged)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from retrograd.optim.adaptive import with_weight_decay
from retrograd.optim.optimizer import Optimizer, ParamsT, check_number


class SGD(Optimizer):
    """PyTorch's SGD: with g = grad + weight_decay * p,

        buf = g (first step), then buf = momentum * buf + (1 - dampening) * g
        p -= lr * (g + momentum * buf if nesterov else buf)

    and plain p -= lr * g without momentum. `maximize` ascends instead.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        for name in ("lr", "momentum", "dampening", "weight_decay"):
            check_number(self._name, name, group[name])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"{self._name}: nesterov=True needs momentum > 0 and dampening = 0, got "
                f"momentum={group['momentum']}, dampening={group['dampening']}"
            )

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]
    ) -> None:
        momentum = float(group["momentum"])
        grad = with_weight_decay(param, grad, group)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= momentum
                buf += (1.0 - float(group["dampening"])) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        param -= float(group["lr"]) * grad


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky) as PyTorch's: with g = grad + weight_decay * p,

        p *= 1 - lambd * eta;  p -= eta * g
        ax = p while mu = 1, then ax += mu * (p - ax)   (the running average of p)
        eta = lr / (1 + lambd * lr * t) ** alpha;  mu = 1 / max(1, t - t0)

    The averaged parameters are `state[p]["ax"]`: p itself up to step t0 + 1, then the
    mean of the iterates from step t0 + 2 on (mu set at one step is used at the next).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        for name in ("lr", "lambd", "t0", "weight_decay"):
            check_number(self._name, name, group[name])
        check_number(self._name, "alpha", group["alpha"], low=-math.inf)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]
    ) -> None:
        lr, lambd = float(group["lr"]), float(group["lambd"])
        if not state:
            state["step"] = 0
            state["eta"] = lr
            state["mu"] = 1.0
            state["ax"] = np.zeros_like(param)
        state["step"] += 1
        step = state["step"]
        grad = with_weight_decay(param, grad, group)
        eta = state["eta"]
        param *= 1.0 - lambd * eta
        param -= eta * grad
        ax = state["ax"]
        if state["mu"] != 1:
            ax += (param - ax) * state["mu"]
        else:
            ax[...] = param
        state["eta"] = lr / ((1.0 + lambd * lr * step) ** float(group["alpha"]))
        state["mu"] = 1.0 / max(1.0, step - float(group["t0"]))
