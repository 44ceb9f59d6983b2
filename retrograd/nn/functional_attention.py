"""Scaled dot-product attention, as torch.nn.functional.scaled_dot_product_attention.

Composed of Tensor operations (matmul, masked_fill, softmax), so its gradients with
respect to the query, key, value and a floating mask need no backward of their own.
`attend` is the shared core: MultiheadAttention calls it too, for the weights it returns.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from retrograd.autograd import Tensor, as_generator
from retrograd.autograd.graph import ShapeError
from retrograd.autograd.loss_arguments import check_probability
from retrograd.nn.functional import _check_floating, dropout

__all__ = ["scaled_dot_product_attention"]

FN = "scaled_dot_product_attention()"


def mask_bias(mask: Any, dtype: np.dtype, keep_where: bool, fn: str) -> Any:
    """An attention mask as what is added to the scores: a boolean mask becomes a float
    array, 0 where attending is allowed and -inf elsewhere (allowed where the mask equals
    `keep_where`); a floating mask (a Tensor keeps its gradient) is added as it is."""
    data = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if data.dtype == np.bool_:
        return np.where(data == keep_where, 0.0, -np.inf).astype(dtype)
    if data.dtype.kind != "f":
        raise TypeError(f"{fn}: a mask must be boolean or floating, got dtype {data.dtype}")
    return mask if isinstance(mask, Tensor) else data.astype(dtype)


def attend(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    bias: Any,
    scale: float,
    dropout_p: float,
    generator: Any,
) -> tuple[Tensor, Tensor]:
    """(softmax(q k^T * scale + bias) v, those weights), the weights dropped out with
    probability `dropout_p` (drawn from `generator`) before they meet v (and returned so,
    as torch's MultiheadAttention returns them)."""
    scores = (query * scale) @ key.swapaxes(-2, -1)
    if bias is not None:
        scores = scores + bias
    weights = scores.softmax(-1)
    dropped = dropout(weights, dropout_p, True, generator=generator) if dropout_p else weights
    return dropped @ value, dropped


def _check_shapes(query: Tensor, key: Tensor, value: Tensor, enable_gqa: bool) -> None:
    """Refuse shapes that cannot attend, naming them: at least 2 dims each, a key and a value
    of the same length, a query and a key of the same embedding size."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        _check_floating(t, FN, name)
        if t.ndim < 2:
            raise ShapeError(f"{FN}: {name} needs at least 2 dims (..., L, E), got {t.shape}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ShapeError(
            f"{FN}: query (..., L, E), key (..., S, E) and value (..., S, Ev) do not match: "
            f"query {query.shape}, key {key.shape}, value {value.shape}"
        )
    if enable_gqa and (query.ndim < 3 or query.shape[-3] % key.shape[-3]):
        raise ShapeError(
            f"{FN}: enable_gqa needs the query's heads (dim -3) to be a multiple of the "
            f"key's, got query {query.shape} and key {key.shape}"
        )


def _repeat_heads(t: Tensor, times: int) -> Tensor:
    """Each head (dim -3) repeated `times` times in place, as torch's repeat_interleave."""
    if times == 1:
        return t
    shape = t.shape
    grown = t.unsqueeze(-3).expand(*shape[:-2], times, *shape[-2:])
    return grown.reshape(*shape[:-3], shape[-3] * times, *shape[-2:])


def _causal_bias(length: int, source: int, dtype: np.dtype) -> np.ndarray:
    """0 on and below the diagonal, -inf above: position i attends to positions <= i."""
    keep = np.tril(np.ones((length, source), dtype=bool))
    return np.where(keep, 0.0, -np.inf).astype(dtype)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
    *,
    generator: Any = None,
) -> Tensor:
    """softmax(query key^T * scale + mask) value over query (..., L, E), key (..., S, E) and
    value (..., S, Ev), leading dims broadcast, as torch's.

    A boolean `attn_mask` keeps the positions where it is True; a floating one is added to
    the scores. `is_causal` lets position i attend only to positions <= i (no mask allowed
    with it). `scale` defaults to 1/sqrt(E). With `dropout_p` > 0 the weights are dropped
    out, always (as torch's, whatever the training mode), the mask drawn from `generator`
    as nn.Dropout's. `enable_gqa` repeats the key's and value's heads (dim -3) to the
    query's. A row with every position masked gives NaN, as torch's.
    """
    _check_shapes(query, key, value, enable_gqa)
    check_probability(dropout_p, FN, "dropout_p")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{FN}: give either attn_mask or is_causal=True, not both")
    if enable_gqa:
        times = query.shape[-3] // key.shape[-3]
        key, value = _repeat_heads(key, times), _repeat_heads(value, times)
    length, source = query.shape[-2], key.shape[-2]
    if is_causal:
        bias = _causal_bias(length, source, query.dtype)
    elif attn_mask is not None:
        bias = mask_bias(attn_mask, query.dtype, True, FN)
    else:
        bias = None
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    rng = as_generator(generator) if dropout_p else None
    return attend(query, key, value, bias, scale, dropout_p, rng)[0]
