"""Sequences of different lengths, as torch.nn.utils.rnn: padding, packing and back.

A `PackedSequence` holds a batch of sequences without their padding: `data`
stacks, time step by time step, the rows of the sequences still running at
that step (`batch_sizes[t]` of them), the longest sequence first. `RNN`,
`LSTM` and `GRU` take one as input and return one. This module is
`retrograd.nn.utils.rnn`.

Every conversion is one gather (`t[index]`) from its input, with an index
built in NumPy from the lengths alone, so gradients reach the padded tensor
(or the sequences) without a hand-written backward.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Iterable
from typing import Any

import numpy as np

from retrograd.autograd import Tensor, concat
from retrograd.autograd.graph import ShapeError
from retrograd.nn.layers import as_input

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


class PackedSequence(
    namedtuple("PackedSequence", "data batch_sizes sorted_indices unsorted_indices")
):
    """(data, batch_sizes, sorted_indices, unsorted_indices), as PyTorch's.

    `data` (N, *) holds the steps of all sequences, time-major, longest first;
    `batch_sizes` (T,) how many sequences run at each step; `sorted_indices`
    the original batch position of each sorted row (None: the batch was
    sorted already) and `unsorted_indices` its inverse, made from
    `sorted_indices` when not given. Build one with `pack_padded_sequence` or
    `pack_sequence` rather than by hand.
    """

    __slots__ = ()

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Any,
        sorted_indices: Any = None,
        unsorted_indices: Any = None,
    ) -> PackedSequence:
        sorted_indices = _index_tensor(sorted_indices)
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(
            cls,
            as_input(data),
            _index_tensor(batch_sizes),
            sorted_indices,
            _index_tensor(unsorted_indices),
        )


def invert_permutation(permutation: Any) -> Tensor | None:
    """The inverse of a permutation of 0..n-1 (None stays None), as an int64 tensor."""
    if permutation is None:
        return None
    order = _array(permutation)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order), dtype=order.dtype)
    return Tensor(inverse)


def pad_sequence(
    sequences: Iterable[Any],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Sequences (L_i, *) padded to the longest, T: (T, B, *), or (B, T, *) if batch_first.

    `padding_side="left"` puts the padding before each sequence instead of after.
    """
    fn = "pad_sequence"
    if padding_side not in ("left", "right"):
        raise ValueError(f"{fn}(): padding_side must be 'left' or 'right', got {padding_side!r}")
    seqs = [as_input(s) for s in sequences]
    if not seqs:
        raise ValueError(f"{fn}(): received an empty list of sequences")
    for i, s in enumerate(seqs):
        if s.ndim == 0 or s.shape[1:] != seqs[0].shape[1:] or s.dtype != seqs[0].dtype:
            raise ShapeError(
                f"{fn}(): every sequence must be (length, *) with the same trailing shape "
                f"and dtype; sequence 0 is {seqs[0].shape} {seqs[0].dtype}, sequence {i} is "
                f"{s.shape} {s.dtype}"
            )
    lengths = np.array([s.shape[0] for s in seqs])
    steps = np.arange(lengths.max())
    # Step t of row b reads row starts[b] + t - shift[b] of the joined sequences.
    shift = lengths.max() - lengths if padding_side == "left" else np.zeros_like(lengths)
    valid = (steps >= shift[:, None]) & (steps < (shift + lengths)[:, None])
    starts = np.cumsum(lengths) - lengths
    index = np.where(valid, starts[:, None] + steps - shift[:, None], lengths.sum())
    return _gather(seqs, index if batch_first else index.T, padding_value)


def pack_padded_sequence(
    input: Any,
    lengths: Any,
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch (T, B, *) ((B, T, *) if batch_first) of sequences of `lengths`.

    With `enforce_sorted=True` the lengths must be in decreasing order; with
    False the batch is sorted here, and `sorted_indices` records how.
    """
    return _pack(input, lengths, batch_first, enforce_sorted, "pack_padded_sequence")


def pack_sequence(sequences: Iterable[Any], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *): `pack_padded_sequence` of their `pad_sequence`."""
    seqs = [as_input(s) for s in sequences]
    padded = pad_sequence(seqs)
    lengths = [s.shape[0] for s in seqs]
    return _pack(padded, lengths, False, enforce_sorted, "pack_sequence")


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """(padded (T, B, *) ((B, T, *) if batch_first), lengths (B,)), in the original batch order.

    The inverse of `pack_padded_sequence`; `total_length` pads to that many
    steps instead of the longest sequence's (at least that many).
    """
    fn = "pad_packed_sequence"
    batch_sizes = check_packed(sequence, fn)
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                f"{fn}(): total_length={total_length} is less than the length of the longest "
                f"sequence, {steps}"
            )
        steps = total_length
    index = padded_index(batch_sizes, steps)
    lengths = np.count_nonzero(index < batch_sizes.sum(), axis=0)
    if sequence.unsorted_indices is not None:
        unsorted = _array(sequence.unsorted_indices)
        index, lengths = index[:, unsorted], lengths[unsorted]
    padded = _gather([sequence.data], index.T if batch_first else index, padding_value)
    return padded, Tensor(lengths.astype(np.int64))


def unpad_sequence(padded_sequences: Any, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """The sequences of a padded batch (T, B, *) ((B, T, *) if batch_first), each (L_b, *)."""
    padded = as_input(padded_sequences)
    if padded.ndim < 2:
        raise ShapeError(
            f"unpad_sequence(): padded_sequences must be (T, B, *), got {padded.shape}"
        )
    rows = padded if batch_first else padded.transpose(0, 1)
    lengths = _lengths(lengths, rows.shape[0], rows.shape[1], "unpad_sequence")
    return [rows[b, :length] for b, length in enumerate(lengths)]


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The sequences of a PackedSequence, each (L_b, *), in the original batch order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def check_packed(sequence: Any, fn: str) -> np.ndarray:
    """The batch sizes of a PackedSequence as an int64 array, after checking that they
    describe its data: positive, non-increasing, and summing to its number of rows."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{fn}(): expected a PackedSequence, got {type(sequence).__name__}")
    batch_sizes = _array(sequence.batch_sizes)
    rows = sequence.data.shape[0] if sequence.data.ndim else 0
    if (
        batch_sizes.ndim != 1
        or not len(batch_sizes)
        or (batch_sizes <= 0).any()
        or (np.diff(batch_sizes) > 0).any()
        or batch_sizes.sum() != rows
    ):
        raise ValueError(
            f"{fn}(): batch_sizes {batch_sizes.tolist()} must be positive, non-increasing and "
            f"sum to the {rows} rows of data"
        )
    return batch_sizes


def packed_positions(batch_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(step, sorted row) of each row of a packed `data`, in its order.

    The rows running at step t are the first batch_sizes[t] (longest first),
    and `np.nonzero` lists positions step by step: the packed order.
    """
    return np.nonzero(np.arange(batch_sizes[0]) < batch_sizes[:, None])


def padded_sorted(data: Tensor, batch_sizes: np.ndarray) -> Tensor:
    """Packed `data` as a zero-padded (T, B, *) batch, its rows in the packed (sorted) order."""
    return _gather([data], padded_index(batch_sizes, len(batch_sizes)), 0.0)


def padded_index(batch_sizes: np.ndarray, steps: int) -> np.ndarray:
    """(steps, B) rows of a packed `data` at each step and sorted row; N (one past the last
    row of data) where the row's sequence has ended."""
    t, b = packed_positions(batch_sizes)
    index = np.full((steps, batch_sizes[0]), len(t))
    index[t, b] = np.arange(len(t))
    return index


def _pack(
    input: Any, lengths: Any, batch_first: bool, enforce_sorted: bool, fn: str
) -> PackedSequence:
    """`pack_padded_sequence`, with errors naming `fn`."""
    padded = as_input(input)
    if padded.ndim < 2:
        raise ShapeError(f"{fn}(): input must be (T, B, *) or (B, T, *), got {padded.shape}")
    time_axis, batch_axis = (1, 0) if batch_first else (0, 1)
    if padded.shape[batch_axis] == 0:
        raise ShapeError(f"{fn}(): input {padded.shape} holds no sequence to pack")
    lengths = _lengths(lengths, padded.shape[batch_axis], padded.shape[time_axis], fn)
    if enforce_sorted and (np.diff(lengths) > 0).any():
        raise ValueError(
            f"{fn}(): lengths {lengths.tolist()} must be in decreasing order when "
            "enforce_sorted=True; pass enforce_sorted=False to have them sorted"
        )
    # Stable, as torch.sort of the lengths: equal lengths keep their order.
    order = None if enforce_sorted else np.argsort(-lengths, kind="stable")
    batch_sizes = np.count_nonzero(np.arange(lengths.max())[:, None] < lengths, axis=1)
    t, b = packed_positions(batch_sizes)
    rows = b if order is None else order[b]
    data = padded[rows, t] if batch_first else padded[t, rows]
    return PackedSequence(data, batch_sizes, order)


def _lengths(lengths: Any, batch: int, steps: int, fn: str) -> np.ndarray:
    """`lengths` as a 1-d int64 array of `batch` lengths in 1..steps, or a clear error."""
    array = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
    if array.ndim != 1 or array.dtype.kind not in "iuf" or (array != np.round(array)).any():
        raise TypeError(f"{fn}(): lengths must be a 1-d sequence of integers, got {lengths!r}")
    array = array.astype(np.int64)
    if len(array) != batch:
        raise ValueError(f"{fn}(): got {len(array)} lengths for a batch of {batch} sequences")
    if (array <= 0).any():
        raise ValueError(f"{fn}(): every length must be at least 1, got {array.tolist()}")
    if (array > steps).any():
        raise ValueError(
            f"{fn}(): lengths {array.tolist()} exceed the {steps} steps of the padded input"
        )
    return array


def _gather(parts: list[Tensor], index: np.ndarray, padding_value: float) -> Tensor:
    """The rows of `parts` joined, at `index`; an index one past the last row reads
    `padding_value`."""
    pad = np.full((1, *parts[0].shape[1:]), padding_value, dtype=parts[0].dtype)
    return concat([*parts, Tensor(pad)])[index]


def _array(indices: Any) -> np.ndarray:
    """Integer indices (a tensor, array or list) as an int64 array."""
    return np.asarray(indices.data if isinstance(indices, Tensor) else indices, dtype=np.int64)


def _index_tensor(indices: Any) -> Tensor | None:
    """Integer indices as an int64 tensor, as PyTorch's PackedSequence holds them (None stays)."""
    return None if indices is None else Tensor(_array(indices))
