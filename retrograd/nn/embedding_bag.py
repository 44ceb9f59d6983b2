"""Bags of embeddings: `EmbeddingBag` and `functional.embedding_bag`, as PyTorch's.

The rows are read with the embedding lookup op (`take`, whose gradient sums
repeated rows without np.add.at); the bags are laid out as a padded
(bags, longest bag) block and reduced by Tensor ops, so no backward is written.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retrograd.autograd import Tensor, as_generator, take, where
from retrograd.autograd.graph import ShapeError
from retrograd.nn import init
from retrograd.nn.functional import check_indices, check_padding_idx
from retrograd.nn.layers import Seed, check_dtype, check_sizes, parameter_dtype
from retrograd.nn.module import Module, Parameter

MODES = ("sum", "mean", "max")


def _bag_bounds(
    array: np.ndarray, offsets: Any, include_last_offset: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Each bag's start and end in the flattened input: the rows of a 2-D input, or the
    1-D input cut at `offsets` (the last bag ends at the input's end, or at the last
    offset with `include_last_offset`)."""
    if array.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag(): offsets must be None for a 2-D input")
        starts = np.arange(array.shape[0]) * array.shape[1]
        return starts, starts + array.shape[1]
    if array.ndim != 1 or offsets is None:
        raise ValueError(
            "embedding_bag(): input must be 2-D (bags of equal length) or 1-D with offsets, "
            f"got a {array.ndim}-d input{' without offsets' if offsets is None else ''}"
        )
    cuts = np.asarray(getattr(offsets, "data", offsets))
    if cuts.ndim != 1 or cuts.dtype.kind not in "iu":
        raise TypeError(
            f"embedding_bag(): offsets must be a 1-D integer array, got shape {cuts.shape} "
            f"and dtype {cuts.dtype}"
        )
    ends = cuts[1:] if include_last_offset else np.append(cuts[1:], array.size)
    starts = cuts[:-1] if include_last_offset else cuts
    if cuts.size and (cuts[0] != 0 or np.any(np.diff(cuts) < 0) or cuts[-1] > array.size):
        raise ValueError(
            "embedding_bag(): offsets must start at 0, never decrease and not pass the "
            f"input's length {array.size}, got {cuts.tolist()}"
        )
    return starts, ends


def _padded(
    array: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bags as a (bags, longest) block: each slot's position in the flat input (0
    where the bag is shorter), its index, and whether it holds one."""
    lengths = ends - starts
    span = np.arange(max(int(lengths.max(initial=0)), 1))
    valid = span < lengths[:, None]
    positions = np.where(valid, starts[:, None] + span, 0)
    indices = np.zeros(valid.shape, dtype=np.int64)
    indices[valid] = array.reshape(-1)[positions[valid]]
    return positions, indices, valid


def _sample_weights(
    per_sample_weights: Any, array: np.ndarray, weight: Tensor, mode: str, positions: np.ndarray
) -> Tensor | None:
    """`per_sample_weights` (the input's shape, mode 'sum' only) laid out as the bags are."""
    if per_sample_weights is None:
        return None
    if mode != "sum":
        raise ValueError(
            f"embedding_bag(): per_sample_weights is only supported for mode='sum', got {mode!r}"
        )
    if not isinstance(per_sample_weights, Tensor):
        per_sample_weights = Tensor(np.asarray(per_sample_weights))
    if per_sample_weights.shape != array.shape:
        raise ShapeError(
            f"embedding_bag(): per_sample_weights must have the input's shape {array.shape}, "
            f"got {per_sample_weights.shape}"
        )
    check_dtype(per_sample_weights, weight, "embedding_bag()", "per_sample_weights")
    if array.size == 0:
        return None
    return per_sample_weights.reshape(-1)[positions]


def embedding_bag(
    input: Any,
    weight: Tensor,
    offsets: Any = None,
    *,
    mode: str = "mean",
    per_sample_weights: Any = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """The sum, mean or max of each bag of rows of `weight` (num, dim), as torch's
    embedding_bag: bags are the rows of a 2-D `input`, or a 1-D `input` cut at `offsets`.

    Entries equal to `padding_idx` are left out of their bag (and of a mean's count); an
    empty bag gives zeros. `per_sample_weights` (mode 'sum') scales each entry's row.
    """
    if mode not in MODES:
        raise ValueError(f"embedding_bag(): mode must be one of {MODES}, got {mode!r}")
    array = check_indices(input, weight.shape[0], "embedding_bag()")
    starts, ends = _bag_bounds(array, offsets, include_last_offset)
    positions, indices, keep = _padded(array, starts, ends)
    if padding_idx is not None:
        keep &= indices != check_padding_idx(padding_idx, weight.shape[0], "embedding_bag()")
    scales = _sample_weights(per_sample_weights, array, weight, mode, positions)
    rows = take(weight, indices)
    count = keep.sum(axis=1, keepdims=True)
    if mode == "max":
        lowest = Tensor(np.array(np.finfo(weight.dtype).min, dtype=weight.dtype))
        largest = where(keep[..., None], rows, lowest).max(axis=1)
        return where(count > 0, largest, Tensor(np.zeros((), dtype=weight.dtype)))
    factors = Tensor(keep.astype(weight.dtype))
    if scales is not None:
        factors = factors * scales
    total = (rows * factors[..., None]).sum(axis=1)
    if mode == "sum":
        return total
    return total * Tensor((1.0 / np.maximum(count, 1)).astype(weight.dtype))


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embedding rows, as torch.nn.EmbeddingBag.

    Rows start normal(0, 1); row `padding_idx` starts at zeros, and its entries are
    left out of every bag. The options after `embedding_dim` are keyword-only (PyTorch's
    `max_norm`, `scale_grad_by_freq` and `sparse` are not taken).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        mode: str = "mean",
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        generator: Seed = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        check_sizes("EmbeddingBag", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        if mode not in MODES:
            raise ValueError(f"EmbeddingBag: mode must be one of {MODES}, got {mode!r}")
        dtype = parameter_dtype(dtype, "EmbeddingBag")
        if padding_idx is not None:
            padding_idx = check_padding_idx(padding_idx, num_embeddings, "EmbeddingBag")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.mode = mode
        self.include_last_offset = include_last_offset
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype))
        init.normal_(self.weight, 0.0, 1.0, generator=as_generator(generator))
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0

    def forward(self, input: Any, offsets: Any = None, per_sample_weights: Any = None) -> Tensor:
        return embedding_bag(
            input,
            self.weight,
            offsets,
            mode=self.mode,
            per_sample_weights=per_sample_weights,
            include_last_offset=self.include_last_offset,
            padding_idx=self.padding_idx,
        )

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"
        return text if self.padding_idx is None else f"{text}, padding_idx={self.padding_idx}"
