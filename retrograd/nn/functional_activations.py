"""Functional forms of the activations and small layers, as torch.nn.functional: gelu, silu,
mish, the ELU family, softplus, the hard activations, glu, cosine similarity, distances,
normalize, pad and rms_norm.

Each is composed from Tensor operations, so gradients need no backward of their own. Where
PyTorch's gradient at a kink is a convention (leaky_relu at 0, hardtanh at its bounds), a
`where` on the same comparison PyTorch makes picks the same side. Arguments are PyTorch's,
`dim` included.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from retrograd.autograd import Tensor, broadcast_tensors, cat, full, maximum, minimum, where
from retrograd.autograd.functional import is_integer
from retrograd.autograd.graph import ShapeError
from retrograd.autograd.loss_arguments import check_bound
from retrograd.nn.functional import _check_floating, check_normalized_shape
from retrograd.nn.layers import check_dims, check_dims_in_range

__all__ = [
    "celu",
    "cosine_similarity",
    "elu",
    "gelu",
    "glu",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "leaky_relu",
    "logsigmoid",
    "mish",
    "normalize",
    "pad",
    "pairwise_distance",
    "relu6",
    "rms_norm",
    "selu",
    "silu",
    "softmin",
    "softplus",
    "softsign",
    "tanhshrink",
    "threshold",
]

# SELU's constants (Klambauer et al., 2017), to PyTorch's digits.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def check_number(value: Any, fn: str, what: str) -> float:
    """`value` (the argument `what`) as a float, or a TypeError naming `fn` and `what`."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{fn}: {what} must be a number, got {value!r}")
    return float(value)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Phi(x), Phi the standard normal CDF: 0.5 x (1 + erf(x / sqrt 2)), or with
    approximate='tanh' 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))."""
    if approximate == "none":
        return input * 0.5 * ((input * (1 / math.sqrt(2))).erf() + 1.0)
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2 / math.pi)
        return input * 0.5 * (inner.tanh() + 1.0)
    raise ValueError(f"gelu(): approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input: Tensor) -> Tensor:
    """x sigmoid(x), also called swish."""
    return input * input.sigmoid()


def _softplus_stable(x: Tensor) -> Tensor:
    """log(1 + exp(x)) as max(x, 0) + log1p(exp(-|x|)): exp never overflows, and the
    maximum's tie at 0 gives the exact derivative sigmoid(0) = 1/2 there."""
    return maximum(x, 0.0) + (-x.abs()).exp().log1p()


def mish(input: Tensor) -> Tensor:
    """x tanh(softplus(x))."""
    return input * _softplus_stable(input).tanh()


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope x elsewhere; the gradient at 0 is negative_slope, as
    PyTorch's."""
    slope = check_number(negative_slope, "leaky_relu()", "negative_slope")
    return where(input.data > 0, input, input * slope)


def _exponential_below_zero(x: Tensor, alpha: float, scale: float) -> Tensor:
    """x for x > 0, alpha (exp(x / scale) - 1) elsewhere: the ELU family. The exponential
    sees only the non-positive inputs (the others read 0), so it cannot overflow."""
    positive = x.data > 0
    below = where(positive, 0.0, x)
    return where(positive, x, (below * (1 / scale)).expm1() * alpha)


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha (exp(x) - 1) elsewhere; the gradient at 0 is alpha, as PyTorch's."""
    return _exponential_below_zero(input, check_number(alpha, "elu()", "alpha"), 1.0)


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha (exp(x / alpha) - 1) elsewhere (alpha must not be 0)."""
    alpha = check_number(alpha, "celu()", "alpha")
    if alpha == 0:
        raise ValueError("celu(): alpha must not be 0 (it divides the input)")
    return _exponential_below_zero(input, alpha, alpha)


def selu(input: Tensor) -> Tensor:
    """scale elu(x, alpha) with the self-normalising constants of Klambauer et al."""
    return _exponential_below_zero(input, SELU_ALPHA, 1.0) * SELU_SCALE


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold, as PyTorch's
    (beta must not be 0)."""
    beta = check_number(beta, "softplus()", "beta")
    threshold = check_number(threshold, "softplus()", "threshold")
    if beta == 0:
        raise ValueError("softplus(): beta must not be 0 (it divides the result)")
    scaled = input * beta
    return where(scaled.data > threshold, input, _softplus_stable(scaled) * (1 / beta))


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), finite for any x."""
    return minimum(input, 0.0) - (-input.abs()).exp().log1p()


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """x clipped to [min_val, max_val]; the gradient is 1 strictly inside and 0 at the
    bounds and beyond, as PyTorch's."""
    low = check_number(min_val, "hardtanh()", "min_val")
    high = check_number(max_val, "hardtanh()", "max_val")
    if low > high:
        raise ValueError(f"hardtanh(): min_val {low} is above max_val {high}")
    inside = (input.data > low) & (input.data < high)
    return where(inside, input, np.clip(input.data, low, high))


def relu6(input: Tensor) -> Tensor:
    """min(max(x, 0), 6), hardtanh(x, 0, 6): gradient 0 at 0 and at 6, as PyTorch's."""
    return hardtanh(input, 0.0, 6.0)


def hardsigmoid(input: Tensor) -> Tensor:
    """relu6(x + 3) / 6: 0 up to -3, 1 from 3, linear between."""
    return relu6(input + 3.0) * (1 / 6)


def hardswish(input: Tensor) -> Tensor:
    """x hardsigmoid(x)."""
    return input * hardsigmoid(input)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1.0)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - input.tanh()


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    """x where x > threshold, `value` elsewhere (with no gradient there)."""
    limit = check_number(threshold, "threshold()", "threshold")
    fill = check_number(value, "threshold()", "value")
    return where(input.data > limit, input, fill)


def _dim(dim: Any, ndim: int, fn: str) -> int:
    """`dim` as a non-negative axis of an `ndim`-d input, or an error naming `fn`."""
    check_dims(fn, dim=dim)
    check_dims_in_range(fn, ndim, dim=dim)
    return int(dim) % max(ndim, 1)


def softmin(input: Tensor, dim: int) -> Tensor:
    """softmax(-x) along `dim`."""
    return (-input).softmax(_dim(dim, input.ndim, "softmin()"))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a sigmoid(b), a and b the two halves of the input along `dim` (of even length)."""
    axis = _dim(dim, input.ndim, "glu()")
    size = input.shape[axis] if input.ndim else 1
    if input.ndim == 0 or size % 2:
        raise ShapeError(
            f"glu(): dimension {dim} must have an even length to be halved, got {size} "
            f"(input shape {input.shape})"
        )
    first, second = input.chunk(2, axis)
    return first * second.sigmoid()


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 x2) / (max(|x1|, eps) max(|x2|, eps)) along `dim`, the inputs broadcast
    together first, as PyTorch's (each vector divided by its norm, floored at eps)."""
    eps = check_bound(eps, "cosine_similarity()", "eps", positive=False)
    for name, value in (("x1", x1), ("x2", x2)):
        _check_floating(value, "cosine_similarity()", name)
    try:
        a, b = broadcast_tensors(x1, x2)
    except ShapeError:
        raise ShapeError(
            f"cosine_similarity(): x1 of shape {x1.shape} and x2 of shape {x2.shape} "
            "do not broadcast"
        ) from None
    axis = _dim(dim, a.ndim, "cosine_similarity()")
    unit_a = a / _floored_norm(a, axis, eps)
    unit_b = b / _floored_norm(b, axis, eps)
    return (unit_a * unit_b).sum(axis)


def _floored_norm(x: Tensor, axis: int, eps: float) -> Tensor:
    """The 2-norm of `x` along `axis`, raised to `eps` where below it, as PyTorch's
    cosine_similarity: the floor is added as a constant, so the gradient stays the norm's
    own (PyTorch clamps in place under no_grad); a `clamp_min` would cut it to 0."""
    norm = x.norm(2, axis, True)
    return norm + Tensor(np.maximum(norm.data, eps) - norm.data)


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """The p-norm of x1 - x2 + eps along the last axis, as PyTorch's (eps keeps the norm's
    gradient finite where the inputs are equal)."""
    eps = check_bound(eps, "pairwise_distance()", "eps", positive=False)
    for name, value in (("x1", x1), ("x2", x2)):
        _check_floating(value, "pairwise_distance()", name)
    diff = x1 - x2 + eps
    if diff.ndim == 0:
        return diff.abs()
    return diff.norm(p, -1, keepdim)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """input / max(|input|_p, eps) along `dim`: unit vectors, zero vectors left at zero."""
    _check_floating(input, "normalize()", "input")
    eps = check_bound(eps, "normalize()", "eps", positive=False)
    axis = _dim(dim, input.ndim, "normalize()")
    return input / input.norm(p, axis, True).clamp_min(eps)


def _check_pad(pad: Any, ndim: int) -> tuple[int, ...]:
    """`pad` as a tuple of an even number of integers, at most two per axis of the input."""
    if not isinstance(pad, tuple | list) or not all(is_integer(n) for n in pad):
        raise TypeError(f"pad(): pad must be a sequence of integers, got {pad!r}")
    if len(pad) % 2:
        raise ValueError(f"pad(): pad must have an even length (pairs per axis), got {len(pad)}")
    if len(pad) // 2 > ndim:
        raise ValueError(
            f"pad(): pad {tuple(pad)} has {len(pad) // 2} pairs, more than the input's {ndim} axes"
        )
    return tuple(int(n) for n in pad)


def _pad_axis(x: Tensor, axis: int, before: int, after: int, value: float) -> Tensor:
    """`x` with `before` and `after` entries of `value` added along `axis`; a negative
    count removes entries instead, as PyTorch's."""
    size = x.shape[axis]
    kept = size + min(before, 0) + min(after, 0)
    if kept < 0:
        raise ValueError(
            f"pad(): padding ({before}, {after}) would leave axis {axis} of length {size} "
            f"with {kept} entries"
        )
    x = x.narrow(axis, max(-before, 0), kept)

    def block(count: int) -> list[Tensor]:
        shape = (*x.shape[:axis], count, *x.shape[axis + 1 :])
        return [full(shape, value, dtype=x.dtype)] if count > 0 else []

    parts = [*block(before), x, *block(after)]
    return cat(parts, axis) if len(parts) > 1 else x


def pad(input: Tensor, pad: Any, mode: str = "constant", value: float | None = None) -> Tensor:
    """`input` padded as torch.nn.functional.pad: `pad` gives (before, after) counts for the
    last axis, then the one before it, and so on; negative counts crop. Mode 'constant'
    fills with `value` (0 by default); 'reflect' mirrors the values next to each edge,
    'replicate' repeats the edge value and 'circular' wraps around, each along the last 1,
    2 or 3 axes of an input with one or two more axes (channels, and a batch)."""
    if mode not in PAD_MODES:
        raise NotImplementedError(
            f"pad(): mode {mode!r} is not supported; the modes are {', '.join(PAD_MODES)}"
        )
    counts = _check_pad(pad, input.ndim)
    if mode != "constant":
        return _pad_by_index(input, counts, mode, value)
    fill = 0.0 if value is None else check_number(value, "pad()", "value")
    out = input
    for pair in range(len(counts) // 2):
        before, after = counts[2 * pair], counts[2 * pair + 1]
        out = _pad_axis(out, input.ndim - 1 - pair, before, after, fill)
    return out


PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_by_index(x: Tensor, counts: tuple[int, ...], mode: str, value: Any) -> Tensor:
    """The 'reflect', 'replicate' or 'circular' padding of `x`: each padded axis read at
    an index of its own positions (so the gradient adds up where a value is repeated)."""
    pairs = len(counts) // 2
    if value is not None:
        raise ValueError(f"pad(): mode {mode!r} takes no value, got value={value!r}")
    if x.ndim not in (pairs + 1, pairs + 2):
        raise NotImplementedError(
            f"pad(): mode {mode!r} with {len(counts)} pad sizes needs a {pairs + 1}-d or "
            f"{pairs + 2}-d input (the padded axes after channels, or batch and channels), "
            f"got shape {x.shape}"
        )
    batch = int(x.ndim == pairs + 2)  # a batch may be empty, the other axes not
    empty = [axis for axis in range(batch, x.ndim) if not x.shape[axis]]
    if empty and mode != "circular":
        raise ShapeError(
            f"pad(): mode {mode!r} cannot pad an input of shape {x.shape}, whose axis "
            f"{empty[0]} is empty"
        )
    for pair in range(pairs):
        axis = x.ndim - 1 - pair
        index = _pad_index(mode, x.shape[axis], counts[2 * pair], counts[2 * pair + 1], axis)
        x = x[(slice(None),) * axis + (index,)]
    return x


def _pad_index(mode: str, size: int, before: int, after: int, axis: int) -> np.ndarray:
    """The positions along an axis of length `size` that its padding by `mode` reads, as
    PyTorch's: 'reflect' and 'replicate' pad and then crop (negative counts); 'circular'
    crops first and wraps around what is left."""
    what = f"padding ({before}, {after}) of axis {axis} of length {size}"
    low, high = max(-before, 0), size - max(-after, 0)
    if high - low + max(before, 0) + max(after, 0) < 1:
        raise ValueError(f"pad(): mode {mode!r}: {what} leaves no entries")
    ahead, behind = np.arange(max(before, 0)), np.arange(max(after, 0))
    if mode == "circular":
        kept = np.arange(low, high)
        if max(before, after) > kept.size:
            raise ValueError(f"pad(): mode 'circular': {what} wraps around more than once")
        return np.concatenate([kept[kept.size - ahead.size :], kept, kept[: behind.size]])
    if mode == "reflect":
        if max(before, after) >= size:
            raise ValueError(
                f"pad(): mode 'reflect': {what}; each padding must be smaller than the axis"
            )
        edges = ahead.size - ahead, size - 2 - behind
    else:
        edges = np.zeros_like(ahead), np.full_like(behind, size - 1)
    return np.concatenate([edges[0], np.arange(size), edges[1]])[
        low : ahead.size + high + behind.size
    ]


def rms_norm(
    input: Tensor, normalized_shape: Any, weight: Any = None, eps: float | None = None
) -> Tensor:
    """x / sqrt(mean(x^2) + eps) over the trailing axes `normalized_shape`, times `weight`
    (of that shape, or None), as PyTorch's; eps None is the machine epsilon of the dtype."""
    _check_floating(input, "rms_norm", "input")
    shape = check_normalized_shape(normalized_shape, "rms_norm()")
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    eps = check_bound(eps, "rms_norm()", "eps", positive=False)
    if input.shape[-len(shape) :] != shape:
        raise ShapeError(
            f"rms_norm(): input of shape {input.shape} does not end in normalized_shape {shape}"
        )
    if weight is not None and tuple(np.shape(weight)) != shape:
        raise ShapeError(
            f"rms_norm(): weight must have normalized_shape {shape}, got shape "
            f"{tuple(np.shape(weight))}"
        )
    axes = tuple(range(input.ndim - len(shape), input.ndim))
    out = input * ((input * input).mean(axes, keepdims=True) + eps) ** -0.5
    return out if weight is None else out * weight
