"""Activation modules and small layers as torch.nn's: GELU, SiLU, Mish, the ELU family,
Softplus, the hard activations, GLU, Softmin, Threshold, Unflatten, CosineSimilarity,
PairwiseDistance and RMSNorm.

Each module holds its options and calls its functional form in
`retrograd.nn.functional_activations`; only RMSNorm has a parameter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retrograd.autograd import Tensor
from retrograd.autograd.loss_arguments import check_bound
from retrograd.nn import functional as F
from retrograd.nn import functional_activations as FA
from retrograd.nn.layers import as_input, check_dims, check_dtype, parameter_dtype
from retrograd.nn.module import Module, Parameter


class _Elementwise(Module):
    """A parameterless activation: `function` of the input, with the options in `options`."""

    function: Any = None

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.option_names = tuple(options)
        for name, value in options.items():
            setattr(self, name, value)

    def forward(self, x: Any) -> Tensor:
        options = {name: getattr(self, name) for name in self.option_names}
        return type(self).function(as_input(x), **options)

    def extra_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self.option_names)


class GELU(_Elementwise):
    """x Phi(x), exact (erf) or with approximate='tanh', as torch.nn.GELU."""

    function = FA.gelu

    def __init__(self, approximate: str = "none") -> None:
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        super().__init__(approximate=approximate)


class SiLU(_Elementwise):
    """x sigmoid(x), as torch.nn.SiLU."""

    function = FA.silu


class Mish(_Elementwise):
    """x tanh(softplus(x)), as torch.nn.Mish."""

    function = FA.mish


class LeakyReLU(_Elementwise):
    """x for x > 0, negative_slope x elsewhere, as torch.nn.LeakyReLU."""

    function = FA.leaky_relu

    def __init__(self, negative_slope: float = 0.01) -> None:
        slope = FA.check_number(negative_slope, "LeakyReLU", "negative_slope")
        super().__init__(negative_slope=slope)


class ELU(_Elementwise):
    """x for x > 0, alpha (exp(x) - 1) elsewhere, as torch.nn.ELU."""

    function = FA.elu

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=FA.check_number(alpha, "ELU", "alpha"))


class CELU(_Elementwise):
    """x for x > 0, alpha (exp(x / alpha) - 1) elsewhere, as torch.nn.CELU."""

    function = FA.celu

    def __init__(self, alpha: float = 1.0) -> None:
        alpha = FA.check_number(alpha, "CELU", "alpha")
        if alpha == 0:
            raise ValueError("CELU: alpha must not be 0 (it divides the input)")
        super().__init__(alpha=alpha)


class SELU(_Elementwise):
    """scale elu(x, alpha) with the self-normalising constants, as torch.nn.SELU."""

    function = FA.selu


class Softplus(_Elementwise):
    """log(1 + exp(beta x)) / beta, x where beta x > threshold, as torch.nn.Softplus."""

    function = FA.softplus

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        beta = FA.check_number(beta, "Softplus", "beta")
        if beta == 0:
            raise ValueError("Softplus: beta must not be 0 (it divides the result)")
        super().__init__(beta=beta, threshold=FA.check_number(threshold, "Softplus", "threshold"))


class LogSigmoid(_Elementwise):
    """log(sigmoid(x)), finite for any x, as torch.nn.LogSigmoid."""

    function = FA.logsigmoid


class Hardtanh(_Elementwise):
    """x clipped to [min_val, max_val], as torch.nn.Hardtanh."""

    function = FA.hardtanh

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0) -> None:
        low = FA.check_number(min_val, "Hardtanh", "min_val")
        high = FA.check_number(max_val, "Hardtanh", "max_val")
        if low > high:
            raise ValueError(f"Hardtanh: min_val {low} is above max_val {high}")
        super().__init__(min_val=low, max_val=high)


class ReLU6(_Elementwise):
    """min(max(x, 0), 6), as torch.nn.ReLU6."""

    function = FA.relu6


class Hardsigmoid(_Elementwise):
    """relu6(x + 3) / 6, as torch.nn.Hardsigmoid."""

    function = FA.hardsigmoid


class Hardswish(_Elementwise):
    """x relu6(x + 3) / 6, as torch.nn.Hardswish."""

    function = FA.hardswish


class Softsign(_Elementwise):
    """x / (1 + |x|), as torch.nn.Softsign."""

    function = FA.softsign


class Tanhshrink(_Elementwise):
    """x - tanh(x), as torch.nn.Tanhshrink."""

    function = FA.tanhshrink


class Threshold(_Elementwise):
    """x where x > threshold, `value` elsewhere, as torch.nn.Threshold."""

    function = FA.threshold

    def __init__(self, threshold: float, value: float) -> None:
        super().__init__(
            threshold=FA.check_number(threshold, "Threshold", "threshold"),
            value=FA.check_number(value, "Threshold", "value"),
        )


class Softmin(_Elementwise):
    """softmax(-x) along `dim`, as torch.nn.Softmin (the axis must be given)."""

    function = FA.softmin

    def __init__(self, dim: int) -> None:
        check_dims("Softmin", dim=dim)
        super().__init__(dim=dim)


class GLU(_Elementwise):
    """a sigmoid(b), a and b the halves of the input along `dim`, as torch.nn.GLU."""

    function = FA.glu

    def __init__(self, dim: int = -1) -> None:
        check_dims("GLU", dim=dim)
        super().__init__(dim=dim)


class Unflatten(Module):
    """Axis `dim` split into `unflattened_size`, as torch.nn.Unflatten."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]) -> None:
        super().__init__()
        check_dims("Unflatten", dim=dim)
        if not isinstance(unflattened_size, tuple | list):
            raise TypeError(
                f"Unflatten: unflattened_size must be a tuple of sizes, got {unflattened_size!r}"
            )
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, x: Any) -> Tensor:
        return as_input(x).unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class CosineSimilarity(Module):
    """The cosine of the angle between x1 and x2 along `dim`, as torch.nn.CosineSimilarity."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        check_dims("CosineSimilarity", dim=dim)
        self.dim = dim
        self.eps = check_bound(eps, "CosineSimilarity", "eps", positive=False)

    def forward(self, x1: Any, x2: Any) -> Tensor:
        return FA.cosine_similarity(as_input(x1), as_input(x2), self.dim, self.eps)


class PairwiseDistance(Module):
    """The p-norm of x1 - x2 + eps along the last axis, as torch.nn.PairwiseDistance."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = FA.check_number(p, "PairwiseDistance", "p")
        self.eps = check_bound(eps, "PairwiseDistance", "eps", positive=False)
        self.keepdim = keepdim

    def forward(self, x1: Any, x2: Any) -> Tensor:
        return FA.pairwise_distance(as_input(x1), as_input(x2), self.norm, self.eps, self.keepdim)


class RMSNorm(Module):
    """x / sqrt(mean(x^2) + eps) over the trailing axes `normalized_shape`, times `weight`
    (ones at the start; none without `elementwise_affine`), as torch.nn.RMSNorm: eps None
    is the machine epsilon of the input's dtype."""

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float | None = None,
        elementwise_affine: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        self.normalized_shape = F.check_normalized_shape(normalized_shape, "RMSNorm")
        self.eps = None if eps is None else check_bound(eps, "RMSNorm", "eps", positive=False)
        self.elementwise_affine = elementwise_affine
        dtype = parameter_dtype(dtype, "RMSNorm")
        ones = np.ones(self.normalized_shape, dtype=dtype)
        self.weight = Parameter(ones) if elementwise_affine else None

    def forward(self, x: Any) -> Tensor:
        x = as_input(x)
        if self.weight is not None:
            check_dtype(x, self.weight, "RMSNorm")
        return FA.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
