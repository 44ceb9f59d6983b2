"""Batch normalisation: `BatchNorm1d` and `functional.batch_norm`, as PyTorch's.

The normalisation is composed of Tensor ops, so its gradient needs no backward;
the running statistics are buffers updated outside the graph.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np

from retrograd.autograd import Tensor
from retrograd.autograd.graph import ShapeError
from retrograd.autograd.loss_arguments import check_bound
from retrograd.nn.functional import _check_floating
from retrograd.nn.layers import as_input, check_dtype, check_sizes, parameter_dtype
from retrograd.nn.module import Module, Parameter


def _channel_shape(x: Tensor) -> tuple[int, ...]:
    """The shape a per-channel vector takes to broadcast against `x` (N, C, *)."""
    return (x.shape[1],) + (1,) * (x.ndim - 2)


def _check_channel_vectors(x: Tensor, **vectors: Any) -> None:
    """Refuse a per-channel argument (running stats, weight, bias) not of shape (C,)."""
    channels = x.shape[1]
    for name, value in vectors.items():
        if value is not None and tuple(np.shape(value)) != (channels,):
            raise ShapeError(
                f"batch_norm(): {name} must have shape ({channels},) for input of shape "
                f"{x.shape}, got shape {tuple(np.shape(value))}"
            )


def _update_running(
    running_mean: Any,
    running_var: Any,
    mean: np.ndarray,
    var: np.ndarray,
    count: int,
    factor: float,
) -> None:
    """Blend the batch's mean and unbiased variance into the running stats, in place (as
    PyTorch's, so a buffer shared with a state dict sees the change)."""
    unbiased = var * (count / (count - 1))
    for running, batch in ((running_mean, mean), (running_var, unbiased)):
        array = running.data if isinstance(running, Tensor) else running
        array[...] = (1.0 - factor) * array + factor * batch.reshape(array.shape)


def batch_norm(
    input: Tensor,
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (axis 1) of `input` (N, C, *) to mean 0 and variance 1, then
    scale by `weight` and shift by `bias`, as torch's batch_norm.

    In training (or without running stats) the batch's biased variance is used, and the
    running stats, if given, move towards the batch's mean and unbiased variance by
    `momentum`, in place. Otherwise the running stats are used.
    """
    _check_floating(input, "batch_norm", "input")
    if input.ndim < 2:
        raise ShapeError(f"batch_norm(): input must be (N, C, *), got shape {input.shape}")
    eps = check_bound(eps, "batch_norm()", "eps", positive=False)
    if isinstance(momentum, bool) or not isinstance(momentum, Real):
        raise TypeError(f"batch_norm(): momentum must be a number, got {momentum!r}")
    _check_channel_vectors(
        input, running_mean=running_mean, running_var=running_var, weight=weight, bias=bias
    )
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm(): running_mean and running_var must be given together")
    shape = _channel_shape(input)
    if training or running_mean is None:
        out = _batch_normalised(input, running_mean, running_var, float(momentum), eps)
    else:
        mean = np.asarray(getattr(running_mean, "data", running_mean)).reshape(shape)
        var = np.asarray(getattr(running_var, "data", running_var)).reshape(shape)
        scale = ((var + eps) ** -0.5).astype(input.dtype)
        out = (input - Tensor(mean.astype(input.dtype))) * Tensor(scale)
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


def _batch_normalised(
    x: Tensor, running_mean: Any, running_var: Any, momentum: float, eps: float
) -> Tensor:
    """`x` normalised by its own per-channel stats, updating the running stats if given."""
    count = x.size // x.shape[1]
    if count <= 1:
        raise ValueError(
            "batch_norm(): expected more than 1 value per channel when training, got input "
            f"of shape {x.shape}"
        )
    axes = (0, *range(2, x.ndim))
    centred = x - x.mean(axes, keepdims=True)
    var = (centred * centred).mean(axes, keepdims=True)
    if running_mean is not None:
        mean = x.data.mean(axes)
        _update_running(running_mean, running_var, mean, var.data, count, momentum)
    return centred * (var + eps) ** -0.5


class BatchNorm1d(Module):
    """Batch normalisation over (N, C) or (N, C, L) inputs, as torch.nn.BatchNorm1d.

    `weight` starts at ones and `bias` at zeros (none without `affine`). With
    `track_running_stats`, the buffers `running_mean`, `running_var` and
    `num_batches_tracked` (int64) are kept: training updates them, evaluation
    uses them; `momentum=None` makes them the cumulative average of all batches.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        check_sizes("BatchNorm1d", num_features=num_features)
        self.eps = check_bound(eps, "BatchNorm1d", "eps", positive=False)
        if momentum is not None:
            momentum = check_bound(momentum, "BatchNorm1d", "momentum", positive=False)
        dtype = parameter_dtype(dtype, "BatchNorm1d")
        self.num_features = num_features
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.weight = Parameter(np.ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype=dtype)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def forward(self, x: Any) -> Tensor:
        x = as_input(x)
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ShapeError(
                f"BatchNorm1d: expected input of shape (N, {self.num_features}) or "
                f"(N, {self.num_features}, L), got shape {x.shape}"
            )
        reference = self.weight if self.weight is not None else self.running_mean
        if reference is not None:
            check_dtype(x, reference, "BatchNorm1d")
        training = self.training or self.running_mean is None
        return batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training,
            self._momentum_factor(),
            self.eps,
        )

    def _momentum_factor(self) -> float:
        """The weight of this batch in the running stats, counting it when training: the
        momentum, or 1 / batches seen for the cumulative average (`momentum=None`)."""
        if not (self.training and self.track_running_stats):
            return 0.0
        self.num_batches_tracked.data[...] += 1
        if self.momentum is None:
            return 1.0 / float(self.num_batches_tracked.data)
        return self.momentum

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )
