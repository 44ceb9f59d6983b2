"""Gradient clipping (`clip_grad_norm_`, one global norm as d2l, and `clip_grad_value_`) and
parameters as one vector (`parameters_to_vector`, `vector_to_parameters`).

Clipping works in place on `.grad` of the given tensors, skipping those without a
gradient, and keeps each gradient's dtype.

`utils.rnn` is `retrograd.nn.rnn_utils` (padding and packing sequences), as
torch.nn.utils.rnn.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from numbers import Real

import numpy as np

from retrograd.autograd import ShapeError, Tensor
from retrograd.autograd.functional import cat
from retrograd.nn import rnn_utils as rnn
from retrograd.nn.module import not_parameters

# Registered as a submodule (as os registers os.path) so that
# `from retrograd.nn.utils.rnn import pad_sequence` works while utils stays one file.
sys.modules[f"{__name__}.rnn"] = rnn

TensorsT = Tensor | Iterable[Tensor]


def _tensors(parameters: TensorsT, fn: str) -> list[Tensor]:
    """`parameters` (one tensor or an iterable of them) as a list, refused unless each is one."""
    if isinstance(parameters, Tensor):
        return [parameters]
    if problem := not_parameters(parameters):
        raise TypeError(f"{fn}(): parameters must be a Tensor or an iterable of tensors, {problem}")
    tensors = list(parameters)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): item {i} of parameters is a {type(t).__name__}, not a Tensor")
    return tensors


def _grads(parameters: TensorsT, fn: str) -> list[np.ndarray]:
    """The gradient arrays of the tensors that have one."""
    return [t.grad for t in _tensors(parameters, fn) if t.grad is not None]


def _check_limit(fn: str, name: str, value: float) -> float:
    """`value` as a float, refused unless a number >= 0; math.inf (no limit) is allowed, as in
    PyTorch, so that `clip_grad_norm_(params, math.inf)` only measures the norm."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 <= value <= math.inf:
        raise ValueError(f"{fn}(): {name} must be a number >= 0 (or math.inf), got {value!r}")
    return float(value)


def _check_norm_type(fn: str, norm_type: float | str) -> float:
    """`norm_type` as a float > 0; the string "inf" is math.inf, as PyTorch takes it."""
    if isinstance(norm_type, str) and norm_type == "inf":
        return math.inf
    if isinstance(norm_type, bool) or not isinstance(norm_type, Real) or not norm_type > 0:
        raise ValueError(
            f"{fn}(): norm_type must be > 0 (a number, math.inf or 'inf'), got {norm_type!r}"
        )
    return float(norm_type)


def clip_grad_norm_(
    parameters: TensorsT,
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = True,
) -> float:
    """Scale all gradients together so that their joint norm is at most `max_norm`.

    The total norm is taken over all gradients as if concatenated into one
    vector (the global L2 norm for `norm_type=2`; `math.inf` or "inf" gives
    the largest absolute value). Only when it exceeds `max_norm` are the
    gradients multiplied in place by max_norm / (total_norm + 1e-6), as
    PyTorch does. Returns the total norm before clipping, so `max_norm=math.inf`
    measures the norm without clipping.

    A non-finite norm (an inf or NaN gradient) raises RuntimeError unless
    `error_if_nonfinite=False`: then an infinite norm scales every gradient
    by 0 (its inf entries become NaN) and a NaN norm leaves them unchanged.
    """
    fn = "clip_grad_norm_"
    max_norm = _check_limit(fn, "max_norm", max_norm)
    norm_type = _check_norm_type(fn, norm_type)
    grads = _grads(parameters, fn)
    if not grads:
        return 0.0
    if norm_type == math.inf:
        total = float(np.max([np.max(np.abs(g), initial=0.0) for g in grads]))
    elif norm_type == 2.0:
        with np.errstate(over="ignore"):  # a float32 overflow is redone in float64
            total = math.sqrt(sum(map(_squared_norm, grads)))
    else:
        flat = [np.abs(g.astype(np.float64, copy=False)).ravel() for g in grads]
        total = sum(float(np.sum(a**norm_type)) for a in flat) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"{fn}(): the total norm of order {norm_type} of the gradients is {total}, so "
            "clipping would make them all NaN or zero (a diverged loss?); pass "
            "error_if_nonfinite=False to clip anyway"
        )
    if total > max_norm:
        coefficient = max_norm / (total + 1e-6)
        with np.errstate(invalid="ignore"):  # inf * 0 = NaN is the documented outcome
            for g in grads:
                g *= coefficient
    return total


def _squared_norm(grad: np.ndarray) -> float:
    """Sum of squares: a dot product in the gradient's dtype (no copy), redone in
    float64 only when float32 squares overflow although every entry is finite.

    The caller silences overflow warnings once for all gradients: a per-call
    `np.errstate` would cost more than the dot product of a small gradient.
    """
    flat = grad.ravel()
    total = float(np.dot(flat, flat))
    if math.isinf(total) and np.isfinite(flat).all():
        wide = flat.astype(np.float64)
        total = float(np.dot(wide, wide))
    return total


def clip_grad_value_(parameters: TensorsT, clip_value: float) -> None:
    """Clip every gradient entry into [-clip_value, clip_value], in place."""
    fn = "clip_grad_value_"
    limit = _check_limit(fn, "clip_value", clip_value)
    for g in _grads(parameters, fn):
        np.clip(g, -limit, limit, out=g)


def parameters_to_vector(parameters: TensorsT) -> Tensor:
    """All the parameters' values as one 1-D tensor, each flattened, in order, as PyTorch's.

    It is built from tensor operations, so a loss on the vector sends gradients back
    to the parameters.
    """
    tensors = _tensors(parameters, "parameters_to_vector")
    if not tensors:
        raise ValueError("parameters_to_vector(): got no parameters")
    return cat([t.reshape(-1) for t in tensors])


def vector_to_parameters(vec: Tensor, parameters: TensorsT) -> None:
    """Copy consecutive slices of the 1-D tensor `vec` into the parameters, in order (the
    inverse of `parameters_to_vector`), as PyTorch's.

    Each parameter keeps its shape and dtype and is not connected to `vec`'s graph
    (PyTorch assigns `.data` too); `vec` must have exactly as many elements as the
    parameters together, where PyTorch ignores extra ones.
    """
    fn = "vector_to_parameters"
    if not isinstance(vec, Tensor):
        raise TypeError(f"{fn}(): vec must be a Tensor, got {type(vec).__name__}")
    tensors = _tensors(parameters, fn)
    if vec.ndim != 1:
        raise ShapeError(f"{fn}(): vec must be 1-D, got shape {vec.shape}")
    total = sum(t.size for t in tensors)
    if vec.shape[0] != total:
        raise ShapeError(
            f"{fn}(): vec has {vec.shape[0]} elements, the parameters {total} together"
        )
    start = 0
    for t in tensors:
        chunk = vec.data[start : start + t.size]
        t.data = chunk.reshape(t.shape).astype(t.dtype, copy=True)
        start += t.size
