"""How a checkpoint stores its arrays so that memory shared when saved is shared when loaded.

The same array object saved twice is stored once and loads as one object.
Distinct arrays whose memory ranges overlap (slices of one array, `x` and
`x.T`, `x` and `x.view(np.int32)`) form a group, stored once as a block: a
uint8 member holding the bytes that the group spans. Each array of the group
is recorded as a view of its block (byte offset, shape, strides, dtype) and
rebuilt over the loaded block, so a write through one shows in the others, as
after `torch.load`. Values, including those of negative-stride and
non-contiguous views, come back bit for bit.

An array that overlaps no other saved array is stored by itself, as its own
elements: a small view of a huge array saved alone costs only the view (torch
would write the whole storage). A group costs the bytes between its lowest and
highest address, at most the array they all view, which torch writes whole (a
sparse strided view saved with another view of the same array costs their
span); arrays whose ranges do not overlap are never grouped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

NUMERIC_KINDS = "biuf"
# A block starts at the 16-byte boundary at or below its lowest array, so each view keeps
# its address modulo 16 (NumPy allocates the loaded block on such a boundary): a view that
# was aligned when saved is aligned when loaded.
ALIGNMENT = 16


# ----- save -----
def layout(arrays: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The archive members and the view descriptions that store `arrays` (key -> array).

    Members keep the keys of arrays stored by themselves, in order, then add
    one block `b0, b1, ...` per group of overlapping arrays; each array of a
    group is described, under its key, as a view of its block.
    """
    grouped = _overlapping_groups(arrays)
    in_group = {key for group in grouped for key in group}
    members = {key: array for key, array in arrays.items() if key not in in_group}
    views: dict[str, Any] = {}
    for number, group in enumerate(grouped):
        block_key = f"b{number}"
        members[block_key], offsets = _block([arrays[key] for key in group])
        for key, offset in zip(group, offsets):
            views[key] = _describe(arrays[key], block_key, offset)
    return members, {key: views[key] for key in arrays if key in views}


def _overlapping_groups(arrays: dict[str, np.ndarray]) -> list[list[str]]:
    """Keys of the arrays whose byte ranges overlap, in groups of two or more."""
    spans = sorted((_bounds(array), key) for key, array in arrays.items() if array.size)
    groups: list[list[str]] = []
    high = -1
    for (low, end), key in spans:
        if low < high:
            groups[-1].append(key)
            high = max(high, end)
        else:
            groups.append([key])
            high = end
    return [group for group in groups if len(group) > 1]


def _bounds(array: np.ndarray) -> tuple[int, int]:
    """The addresses of the first byte and one past the last byte that `array` reaches."""
    return _extent(_address(array), array.shape, array.strides, array.itemsize)


def _extent(start: int, shape: Any, strides: Any, itemsize: int) -> tuple[int, int]:
    """The first byte and one past the last byte of a non-empty view whose first element
    is at `start`: negative strides reach below it, positive ones above."""
    low = start + sum((n - 1) * s for n, s in zip(shape, strides) if s < 0)
    high = start + sum((n - 1) * s for n, s in zip(shape, strides) if s > 0) + itemsize
    return low, high


def _address(array: np.ndarray) -> int:
    return int(array.__array_interface__["data"][0])


def _block(group: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """The bytes the arrays of `group` span, and each array's byte offset into them.

    Each array's own bytes are copied in; bytes between them that no saved
    array reaches are stored as zeros, never read from memory.
    """
    low = min(_bounds(array)[0] for array in group)
    start = low - low % ALIGNMENT
    block = np.zeros(max(_bounds(array)[1] for array in group) - start, dtype=np.uint8)
    offsets = [_address(array) - start for array in group]
    for array, offset in zip(group, offsets):
        target = _view(block, offset, array.shape, array.strides, array.dtype)
        _as_bytes(target)[...] = _as_bytes(array)
    return block, offsets


def _as_bytes(array: np.ndarray) -> np.ndarray:
    """`array`'s memory as uint8, one trailing axis of itemsize bytes: copies through it are
    exact for every dtype (a NaN's payload, a bool byte other than 0 or 1)."""
    return array[..., np.newaxis].view(np.uint8)


def _describe(array: np.ndarray, block: str, offset: int) -> dict[str, Any]:
    return {
        "block": block,
        "offset": offset,
        "shape": list(array.shape),
        "strides": list(array.strides),
        "dtype": array.dtype.str,
    }


# ----- load -----
def with_views(members: dict[str, np.ndarray], views: Any) -> dict[str, np.ndarray]:
    """`members` and the arrays that `views` (from a header) describe as views of them.

    A description that does not fit its block, or names a non-numeric dtype,
    raises ValueError: NumPy would read memory outside the block for a
    negative offset, or make pointers of bytes for an object dtype.
    """
    if not isinstance(views, dict):
        raise ValueError("the header's views are not a mapping")
    loaded = dict(members)
    for key, info in views.items():
        if key in members:
            raise ValueError(f"view {key!r} has the name of an archive member")
        loaded[key] = _rebuild(key, info, members)
    return loaded


def _rebuild(key: str, info: Any, members: dict[str, np.ndarray]) -> np.ndarray:
    """The view `info` describes, over its block, after checking that it stays inside it."""
    block = _block_of(key, info["block"], members)
    dtype = _numeric_dtype(key, info["dtype"])
    shape, strides, offset = info["shape"], info["strides"], info["offset"]
    whole = all(isinstance(n, int) for n in [*shape, *strides, offset])
    if not whole or len(shape) != len(strides):
        raise ValueError(f"view {key!r}: shape {shape!r}, strides {strides!r}, offset {offset!r}")
    if not _fits(block.size, offset, shape, strides, dtype.itemsize):
        raise ValueError(f"view {key!r} reaches outside its block of {block.size} bytes")
    return _view(block, offset, tuple(shape), tuple(strides), dtype)


def _block_of(key: str, name: Any, members: dict[str, np.ndarray]) -> np.ndarray:
    if name not in members:
        raise ValueError(f"view {key!r} names block {name!r}, which is not a member")
    block = members[name]
    if block.dtype != np.uint8 or block.ndim != 1:
        raise ValueError(f"view {key!r}: its block {name!r} is not a byte array")
    return block


def _numeric_dtype(key: str, name: Any) -> np.dtype:
    """The dtype spelled `name`, refused unless numeric (bytes read as an object dtype would
    be taken for pointers)."""
    if not isinstance(name, str):
        raise ValueError(f"view {key!r} has dtype {name!r}, not a dtype string")
    dtype = np.dtype(name)
    if dtype.kind not in NUMERIC_KINDS:
        raise ValueError(f"view {key!r} has non-numeric dtype {dtype}")
    return dtype


def _fits(size: int, offset: int, shape: list[int], strides: list[int], itemsize: int) -> bool:
    """Whether every byte of the view lies in a block of `size` bytes."""
    if any(n < 0 for n in shape):
        return False
    if 0 in shape:
        return 0 <= offset <= size
    low, high = _extent(offset, shape, strides, itemsize)
    return low >= 0 and high <= size


def _view(block: np.ndarray, offset: int, shape: tuple, strides: tuple, dtype: Any) -> np.ndarray:
    return np.ndarray(shape, dtype=dtype, buffer=block, offset=offset, strides=strides)
