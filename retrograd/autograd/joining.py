"""Functions of several tensors that match or join their shapes, differentiable:
`broadcast_tensors`, `meshgrid`, `atleast_1d`/`atleast_2d`, `hstack` and `vstack` (PyTorch's
names; `cat`/`concat` and `stack` are in `functional.py`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from retrograd.autograd.functional import concat
from retrograd.autograd.graph import ShapeError
from retrograd.autograd.tensor import Tensor


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape (differentiable)."""
    shapes = [t.shape for t in tensors]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"broadcast_tensors(): shapes {shapes} do not broadcast") from None
    return tuple(t.expand(shape) for t in tensors)


def meshgrid(*tensors: Tensor, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids of 1-d tensors (differentiable): with indexing="ij" (the default, which
    PyTorch takes with a warning) grid k varies along axis k; "xy" swaps the first two axes."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid(): indexing must be 'ij' or 'xy', got {indexing!r}")
    for k, t in enumerate(tensors):
        if t.ndim > 1:
            raise ShapeError(f"meshgrid(): tensor {k} must be 0-d or 1-d, got shape {t.shape}")
    vectors = [t.reshape(-1) for t in tensors]
    shape = tuple(v.shape[0] for v in vectors)
    grids = [
        v.reshape(*(1 if i != k else -1 for i in range(len(shape)))).expand(shape)
        for k, v in enumerate(vectors)
    ]
    if indexing == "xy" and len(grids) > 1:
        grids = [g.transpose(0, 1) for g in grids]
    return tuple(grids)


def atleast_1d(*tensors: Tensor) -> Tensor | tuple[Tensor, ...]:
    """Each tensor with at least one axis (a 0-d one becomes (1,)); one tensor for one."""
    return _at_least(tensors, 1)


def atleast_2d(*tensors: Tensor) -> Tensor | tuple[Tensor, ...]:
    """Each tensor with at least two axes ((n,) becomes (1, n)); one tensor for one."""
    return _at_least(tensors, 2)


def _at_least(tensors: tuple, ndim: int) -> Tensor | tuple[Tensor, ...]:
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    shaped = tuple(
        t if t.ndim >= ndim else t.reshape(*(1,) * (ndim - t.ndim), *t.shape) for t in tensors
    )
    return shaped[0] if len(shaped) == 1 else shaped


def hstack(tensors: Any) -> Tensor:
    """Join along axis 1, or axis 0 for 1-d (and 0-d) tensors, as torch.hstack."""
    parts = _stack_parts(tensors, 1, "hstack")
    return concat(parts, axis=0 if parts[0].ndim == 1 else 1)


def vstack(tensors: Any) -> Tensor:
    """Join along axis 0 after making each tensor at least 2-d, as torch.vstack."""
    return concat(_stack_parts(tensors, 2, "vstack"), axis=0)


def _stack_parts(tensors: Any, ndim: int, op: str) -> tuple[Tensor, ...]:
    """The tensors `op` (hstack or vstack) joins, each with at least `ndim` axes; none is
    refused naming `op`."""
    parts = tuple(tensors)
    if not parts:
        raise ValueError(f"{op}(): needs at least one tensor")
    shaped = _at_least(parts, ndim)
    return shaped if isinstance(shaped, tuple) else (shaped,)
