"""Optimizers with per-coordinate step sizes: Adagrad, Adadelta, RMSprop, Adam, AdamW.

Each update follows PyTorch's single-tensor implementation step for step,
so 20 steps agree with `torch.optim` to rounding. State arrays live in the
parameter's dtype; scalars (step counts, bias corrections) are Python numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retrograd.optim.optimizer import Optimizer, ParamsT, check_number, check_pair


def with_weight_decay(param: np.ndarray, grad: np.ndarray, group: dict[str, Any]) -> np.ndarray:
    """The gradient after `maximize` and L2 weight decay (a new array when it changes).

    A group with `decoupled_weight_decay` set shrinks `param` in place by
    lr * weight_decay instead (AdamW's rule) and leaves the gradient alone.
    """
    if group["maximize"]:
        grad = -grad
    weight_decay = float(group["weight_decay"])
    if weight_decay != 0:
        if group.get("decoupled_weight_decay"):
            param *= 1.0 - float(group["lr"]) * weight_decay
        else:
            grad = grad + weight_decay * param
    return grad


class AdamLike(Optimizer):
    """The checks shared by Adam and its relatives: `lr`, `eps`, `weight_decay` (and the
    names in `_extra_numbers`) numbers >= 0, and `betas` a pair in [0, 1), kept as floats."""

    # Hyperparameters beyond Adam's that must be numbers >= 0.
    _extra_numbers: tuple[str, ...] = ()

    def _validate(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay", *self._extra_numbers):
            check_number(self._name, name, group[name])
        betas = check_pair(self._name, "betas", group["betas"], "(beta1, beta2)")
        for i, beta in enumerate(betas):
            check_number(self._name, f"betas[{i}]", beta, high=1.0)
        group["betas"] = (float(betas[0]), float(betas[1]))


class Adagrad(Optimizer):
    """Adagrad: sum += g^2; p -= lr / (1 + (step - 1) * lr_decay) * g / (sqrt(sum) + eps)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        for name in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_number(self._name, name, group[name])

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, float(group["initial_accumulator_value"]))
        state["step"] += 1
        grad = with_weight_decay(param, grad, group)
        clr = float(group["lr"]) / (1 + (state["step"] - 1) * float(group["lr_decay"]))
        state["sum"] += grad * grad
        std = np.sqrt(state["sum"]) + float(group["eps"])
        param -= clr * (grad / std)


class Adadelta(Optimizer):
    """Adadelta: steps scaled by the ratio of running RMS of past steps and of gradients.

    v = rho * v + (1 - rho) * g^2
    delta = sqrt(u + eps) / sqrt(v + eps) * g;  u = rho * u + (1 - rho) * delta^2
    p -= lr * delta
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay"):
            check_number(self._name, name, group[name])
        check_number(self._name, "rho", group["rho"], high=1.0, upto=True)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]
    ) -> None:
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            state["acc_delta"] = np.zeros_like(param)
        state["step"] += 1
        grad = with_weight_decay(param, grad, group)
        rho, eps = float(group["rho"]), float(group["eps"])
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1.0 - rho) * (grad * grad)
        delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * grad
        acc_delta *= rho
        acc_delta += (1.0 - rho) * (delta * delta)
        param -= float(group["lr"]) * delta


class RMSprop(Optimizer):
    """RMSprop: a running mean of g^2 (minus the squared mean of g if `centered`) scales g.

    square_avg = alpha * square_avg + (1 - alpha) * g^2
    avg = sqrt(square_avg - grad_avg^2 if centered else square_avg) + eps
    p -= lr * buf with buf = momentum * buf + g / avg (or p -= lr * g / avg without momentum)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        for name in ("lr", "eps", "weight_decay", "momentum"):
            check_number(self._name, name, group[name])
        check_number(self._name, "alpha", group["alpha"], high=1.0, upto=True)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]
    ) -> None:
        alpha = float(group["alpha"])
        momentum = float(group["momentum"])
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if momentum > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        grad = with_weight_decay(param, grad, group)
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1.0 - alpha) * (grad * grad)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (1.0 - alpha) * (grad - grad_avg)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = np.sqrt(square_avg)
        avg += float(group["eps"])
        if momentum > 0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += grad / avg
            param -= float(group["lr"]) * buf
        else:
            param -= float(group["lr"]) * (grad / avg)


class Adam(AdamLike):
    """Adam with bias correction; `amsgrad` keeps the running maximum of the second moment.

    m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
    p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Weight decay is added to g (L2, as torch.optim.Adam) unless
    `decoupled_weight_decay`, which shrinks p by lr * weight_decay first (AdamW).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
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
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        step = state["step"]
        lr = float(group["lr"])
        beta1, beta2 = group["betas"]
        grad = with_weight_decay(param, grad, group)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg += (1.0 - beta1) * (grad - exp_avg)
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * (grad * grad)
        step_size = lr / (1.0 - beta1**step)
        bias_correction2_sqrt = (1.0 - beta2**step) ** 0.5
        if group["amsgrad"]:
            second = state["max_exp_avg_sq"]
            np.maximum(second, exp_avg_sq, out=second)
        else:
            second = exp_avg_sq
        denom = np.sqrt(second) / bias_correction2_sqrt + float(group["eps"])
        param -= step_size * (exp_avg / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p *= 1 - lr * weight_decay."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )

    def _validate(self, group: dict[str, Any]) -> None:
        # Without decoupling this would be Adam: refuse rather than silently change the
        # update rule (as loading an Adam state dict would, since it carries the flag).
        if group["decoupled_weight_decay"] is not True:
            raise ValueError(
                f"{self._name}: decoupled_weight_decay must be True, got "
                f"{group['decoupled_weight_decay']!r} (a state dict or param group from Adam? "
                "use Adam for L2 weight decay)"
            )
        super()._validate(group)
