"""The shape and axis arguments of tensor methods and creation functions, checked and
normalised in one place, so every op names the same mistakes the same way."""

from __future__ import annotations

import operator

import numpy as np

from retrograd.autograd.graph import ShapeError

Axis = int | tuple[int, ...] | None


def _shape_arg(args: tuple, op: str, name: str = "shape") -> tuple[int, ...]:
    """Accept both f(2, 3) and f((2, 3)), of Python or NumPy integers.

    Anything else is refused, naming `op` and its argument `name`: int()
    would truncate a float size silently.
    """
    sizes = args[0] if len(args) == 1 and not isinstance(args[0], int | np.integer) else args
    try:
        return tuple(map(operator.index, sizes))
    except TypeError:
        raise TypeError(f"{op}(): {name} must be integers, got {sizes!r}") from None


def _axes(axis: Axis, ndim: int, op: str) -> tuple[int, ...]:
    """Normalise an axis argument to a sorted tuple of non-negative axes.

    A 0-d tensor takes axis 0 or -1 as PyTorch does, meaning its single value:
    no axes, so a reduction over it gives the value itself.
    """
    if type(axis) is int and -ndim <= axis < ndim:
        return (axis % ndim,)
    if axis is None:
        return tuple(range(ndim))
    try:
        axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    except TypeError:
        axes = (axis,)
    normalised = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int | np.integer):
            raise TypeError(f"{op}(): axis must be an int or a tuple of ints, got {axis!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{op}(): axis {a} is out of range for a {ndim}-d tensor")
        normalised.append(int(a) % max(ndim, 1))
    if len(set(normalised)) < len(normalised):  # sum((1, 1)) is a typo, not one sum over axis 1
        raise ValueError(f"{op}(): axis {axis!r} names an axis more than once")
    return tuple(sorted(normalised)) if ndim else ()


def _axis(axis: int, ndim: int, op: str, needs_axes: bool = False) -> int | None:
    """One axis as a non-negative int; None for a 0-d tensor's axis 0 or -1 (see `_axes`),
    which an op that `needs_axes` (to cut along one) refuses."""
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{op}(): axis must be an int, got {axis!r}")
    axes = _axes(axis, ndim, op)
    if axes:
        return axes[0]
    if needs_axes:
        raise ShapeError(f"{op}(): a 0-d tensor has no axis to {op} along")
    return None
