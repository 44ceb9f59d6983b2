"""The shape and axis arguments of tensor methods and creation functions, checked and
normalised in one place, so every op names the same mistakes the same way; and the
arguments that NumPy and PyTorch spell differently (`axis`/`dim`, `keepdims`/`keepdim`,
`ddof`/`correction`/`unbiased`), of which a method takes either."""

from __future__ import annotations

import operator
from typing import Any

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


def _conflict(op: str, name: str, value: Any, default: Any, alias: str, alias_value: Any) -> Any:
    """The value of an argument passed under its NumPy `name` or its PyTorch `alias`;
    refused when both are given."""
    if alias_value is None:
        return value
    if value is not default:
        raise TypeError(f"{op}(): got both {name}={value!r} and {alias}={alias_value!r}; pass one")
    return alias_value


def _as_dim(check: Any, dim: Any, ndim: int, op: str, *options: Any) -> Any:
    """`check` (`_axes` or `_axis`, with its `options`) of an argument passed as `dim`: its
    errors say dim."""
    try:
        return check(dim, ndim, op, *options)
    except (TypeError, ValueError) as err:
        raise type(err)(str(err).replace("(): axis", "(): dim", 1)) from None


def _axis_or_dim(
    op: str,
    axis: int | None,
    dim: int | None,
    ndim: int,
    default: int = 0,
    needs_axes: bool = False,
    names: tuple[str, str] = ("axis", "dim"),
) -> int | None:
    """One axis of `op` (see `_axis`), given as NumPy's `axis` (None: `default`) or
    PyTorch's `dim`, not both (`names` spells them in the error); errors name the one given."""
    if dim is None:
        return _axis(default if axis is None else axis, ndim, op, needs_axes)
    _conflict(op, names[0], axis, None, names[1], dim)
    return _as_dim(_axis, dim, ndim, op, needs_axes)


def _ddof(op: str, ddof: Any, correction: Any, unbiased: Any) -> float:
    """The correction of `var` or `std`, given as `ddof`, `correction` or `unbiased` (one of
    them; 0 by default)."""
    given = {"ddof": ddof, "correction": correction, "unbiased": unbiased}
    given = {name: value for name, value in given.items() if value is not None}
    if len(given) > 1:
        raise TypeError(f"{op}(): got {' and '.join(given)}; pass one")
    if not given:
        return 0
    ((name, value),) = given.items()
    if name == "unbiased":
        if not isinstance(value, bool | np.bool_):
            raise TypeError(f"{op}(): unbiased must be a bool, got {value!r}")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{op}(): {name} must be a number, got {value!r}")
    return value
