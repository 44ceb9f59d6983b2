"""Multi-head attention, as torch.nn.MultiheadAttention: the same parameters, state-dict
keys, initialisation, arguments and shapes, composed of Tensor operations."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from retrograd.autograd import Tensor, as_generator
from retrograd.autograd.graph import ShapeError
from retrograd.autograd.loss_arguments import check_probability
from retrograd.nn import functional as F
from retrograd.nn import init
from retrograd.nn.functional_attention import attend, mask_bias
from retrograd.nn.layers import Linear, Seed, as_input, check_dtype, check_sizes, parameter_dtype
from retrograd.nn.module import Module, Parameter

NAME = "MultiheadAttention"


class MultiheadAttention(Module):
    """Attention over `num_heads` heads of size embed_dim / num_heads, as torch's.

    The query, key and value are projected by `in_proj_weight` (3 E, E) when the key and
    value have the query's size E, else by `q_proj_weight`, `k_proj_weight` (E, kdim) and
    `v_proj_weight` (E, vdim); the biases are `in_proj_bias` (3 E). Projection weights start
    Glorot uniform, biases at zero, `out_proj` as a Linear's weight. Inputs are
    (L, N, E) (or (N, L, E) with `batch_first`) or unbatched (L, E). Masks follow torch's
    MultiheadAttention: a boolean True means "do not attend" (the opposite of
    scaled_dot_product_attention's), a floating mask is added to the scores.
    `add_bias_kv` and `add_zero_attn` are not supported.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        generator: Seed = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        kdim = embed_dim if kdim is None else kdim
        vdim = embed_dim if vdim is None else vdim
        check_sizes(NAME, embed_dim=embed_dim, num_heads=num_heads, kdim=kdim, vdim=vdim)
        check_probability(dropout, NAME, "dropout")
        if embed_dim % num_heads:
            raise ValueError(
                f"{NAME}: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
            )
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError(f"{NAME}: add_bias_kv and add_zero_attn are not supported")
        dtype = parameter_dtype(dtype, NAME)
        self.embed_dim, self.num_heads, self.kdim, self.vdim = embed_dim, num_heads, kdim, vdim
        self.head_dim = embed_dim // num_heads
        self.dropout, self.batch_first = dropout, batch_first
        self.generator = as_generator(generator)
        self._init_projections(bias, dtype)

    def _init_projections(self, bias: bool, dtype: np.dtype) -> None:
        """torch's parameters in torch's order, initialised as torch's."""
        e = self.embed_dim
        self.in_proj_weight = None
        self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        if self.kdim == e and self.vdim == e:
            self.in_proj_weight = Parameter(np.empty((3 * e, e), dtype=dtype))
            init.xavier_uniform_(self.in_proj_weight, generator=self.generator)
        else:
            for name, size in (("q", e), ("k", self.kdim), ("v", self.vdim)):
                weight = Parameter(np.empty((e, size), dtype=dtype))
                init.xavier_uniform_(weight, generator=self.generator)
                setattr(self, f"{name}_proj_weight", weight)
        self.in_proj_bias = Parameter(np.zeros(3 * e, dtype=dtype)) if bias else None
        self.out_proj = Linear(e, e, bias, generator=self.generator, dtype=dtype)
        if bias:
            init.zeros_(self.out_proj.bias)

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> list[Tensor]:
        """The query, key and value through their input projections."""
        e = self.embed_dim
        if self.in_proj_weight is not None:
            weights = [self.in_proj_weight[i * e : (i + 1) * e] for i in range(3)]
        else:
            weights = [self.q_proj_weight, self.k_proj_weight, self.v_proj_weight]
        biases = [None] * 3
        if self.in_proj_bias is not None:
            biases = [self.in_proj_bias[i * e : (i + 1) * e] for i in range(3)]
        return [F.linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases)]

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> bool:
        """Whether the inputs are batched, refusing shapes that do not fit, named."""
        for name, t, size in (
            ("query", query, self.embed_dim),
            ("key", key, self.kdim),
            ("value", value, self.vdim),
        ):
            check_dtype(t, self.out_proj.weight, NAME, name)
            if t.ndim not in (2, 3) or t.shape[-1] != size or t.ndim != query.ndim:
                raise ShapeError(
                    f"{NAME}: {name} must be ({'N, ' if self.batch_first else ''}L, {size}) "
                    f"or unbatched (L, {size}) like the query, got {t.shape}"
                )
        batch = 1 if query.ndim == 3 and not self.batch_first else 0
        if query.ndim == 3 and not query.shape[batch] == key.shape[batch] == value.shape[batch]:
            raise ShapeError(f"{NAME}: query, key and value differ in batch size")
        if key.shape[:-1] != value.shape[:-1]:
            raise ShapeError(f"{NAME}: key {key.shape} and value {value.shape} differ in length")
        return query.ndim == 3

    def _bias(self, attn_mask: Any, key_padding_mask: Any, batch: int, dtype: np.dtype) -> Any:
        """The attention mask and the key padding mask as one additive bias, broadcasting
        against scores (N, H, L, S); None when neither is given."""
        bias = None
        if attn_mask is not None:
            bias = mask_bias(attn_mask, dtype, False, NAME)
            if bias.ndim == 3:
                bias = bias.reshape(batch, self.num_heads, *bias.shape[1:])
        if key_padding_mask is not None:
            padding = mask_bias(key_padding_mask, dtype, False, NAME)
            padding = padding.reshape(batch, 1, 1, -1)
            bias = padding if bias is None else bias + padding
        return bias

    def forward(
        self,
        query: Any,
        key: Any,
        value: Any,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """(attention output shaped as the query, the weights (N, L, S) averaged over heads
        or (N, H, L, S), or None without `need_weights`); unbatched inputs drop N.

        As torch's, `is_causal` is a hint that `attn_mask` is causal and needs that mask.
        """
        query, key, value = as_input(query), as_input(key), as_input(value)
        batched = self._check_inputs(query, key, value)
        if is_causal and attn_mask is None:
            raise ValueError(f"{NAME}: is_causal=True needs the causal attn_mask as well")
        if not batched:
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
        elif not self.batch_first:
            query, key, value = (t.swapaxes(0, 1) for t in (query, key, value))
        q, k, v = (self._heads(t) for t in self._project(query, key, value))
        bias = self._bias(attn_mask, key_padding_mask, query.shape[0], query.dtype)
        p = self.dropout if self.training else 0.0
        out, weights = attend(q, k, v, bias, 1.0 / math.sqrt(self.head_dim), p, self.generator)
        out = self.out_proj(out.swapaxes(1, 2).reshape(*query.shape[:2], self.embed_dim))
        if batched and not self.batch_first:
            out = out.swapaxes(0, 1)
        if average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            out, weights = out.squeeze(0), weights.squeeze(0)
        return out, weights if need_weights else None

    def _heads(self, x: Tensor) -> Tensor:
        """(N, L, E) split into heads, (N, H, L, E / H)."""
        return x.reshape(x.shape[0], x.shape[1], self.num_heads, self.head_dim).swapaxes(1, 2)

    def extra_repr(self) -> str:
        return (
            f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
            f"batch_first={self.batch_first}"
        )
