"""Adam's relatives: NAdam (Nesterov momentum), RAdam (rectified variance), Adamax (infinity norm).

Each update follows PyTorch's single-tensor implementation step for step,
and keeps the same per-parameter state under the same keys. Scalars that
torch keeps as 0-d tensors (the step count, NAdam's `mu_product`) are
Python numbers here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retrograd.optim.adaptive import AdamLike, with_weight_decay
from retrograd.optim.optimizer import ParamsT


class NAdam(AdamLike):
    """Adam with Nesterov momentum (Dozat), with torch's momentum schedule:

    mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)), mu_product = mu_1 * ... * mu_t
    p -= lr * ((1 - mu_t) / (1 - mu_product) * g + mu_{t+1} / (1 - mu_product * mu_{t+1}) * m)
         / (sqrt(v / (1 - beta2^t)) + eps)

    `decoupled_weight_decay` shrinks p by lr * weight_decay instead of adding
    L2 decay to g (NAdamW).
    """

    _extra_numbers = ("momentum_decay",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step = state["step"]
        lr = float(group["lr"])
        beta1, beta2 = group["betas"]
        momentum_decay = float(group["momentum_decay"])
        grad = with_weight_decay(param, grad, group)
        bias_correction2 = 1.0 - beta2**step
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1.0 - beta1) * (grad - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * (grad * grad)
        denom = np.sqrt(exp_avg_sq / bias_correction2) + float(group["eps"])
        param += (-lr * (1.0 - mu) / (1.0 - mu_product)) * (grad / denom)
        param += (-lr * mu_next / (1.0 - mu_product * mu_next)) * (exp_avg / denom)


class RAdam(AdamLike):
    """Adam with the variance of its adaptive rate rectified (Liu et al.):

    rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
    while rho_t <= 5: p -= lr * m / (1 - beta1^t)  (plain momentum, the variance is untrustworthy)
    after: p -= lr * m / (1 - beta1^t) * r_t * sqrt(1 - beta2^t) / (sqrt(v) + eps), with
    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step = state["step"]
        lr = float(group["lr"])
        beta1, beta2 = group["betas"]
        grad = with_weight_decay(param, grad, group)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1.0 - beta1) * (grad - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * (grad * grad)
        bias_correction1 = 1.0 - beta1**step
        bias_correction2 = 1.0 - beta2**step
        corrected = exp_avg / bias_correction1
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * step * (beta2**step) / bias_correction2
        if rho_t > 5.0:
            rect = (
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            ) ** 0.5
            adaptive = bias_correction2**0.5 / (np.sqrt(exp_avg_sq) + float(group["eps"]))
            param -= corrected * lr * adaptive * rect
        else:
            param -= corrected * lr


class Adamax(AdamLike):
    """Adam with the infinity norm in place of the second moment (Kingma & Ba):

    m = beta1 * m + (1 - beta1) * g;  u = max(beta2 * u, |g| + eps)
    p -= lr / (1 - beta1^t) * m / u
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_inf"] = np.zeros_like(param)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        grad = with_weight_decay(param, grad, group)
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        exp_avg += (1.0 - beta1) * (grad - exp_avg)
        exp_inf *= beta2
        np.maximum(exp_inf, np.abs(grad) + float(group["eps"]), out=exp_inf)
        clr = float(group["lr"]) / (1.0 - beta1 ** state["step"])
        param -= clr * (exp_avg / exp_inf)
