"""Linear algebra as free functions, under PyTorch's names: addmm, einsum and tensordot.

The products that are `Tensor` methods (mm, bmm, mv, dot, outer, trace; see
`tensor_linalg.py`) have their function forms in the table of `free_functions.py`,
named here too. The functions take arrays and lists as well, as constants. `einsum`
turns PyTorch's equations (implicit outputs, "...", spaces) into the explicit form of
letters that the `Einsum` op computes, checking every operand's shape on the way.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Sequence
from typing import Any

from retrograd.autograd import ops
from retrograd.autograd.function import record
from retrograd.autograd.functional import _tensor
from retrograd.autograd.graph import ShapeError
from retrograd.autograd.tensor import Tensor

ELLIPSIS = "..."


def addmm(input: Any, mat1: Any, mat2: Any, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), `input` broadcast to the product's shape."""
    return _tensor(input, "addmm", "input").addmm(mat1, mat2, beta=beta, alpha=alpha)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation as torch.einsum: "ij,jk->ik" multiplies matrices, "ii" is a
    trace, "bij->bji" a batched transpose.

    Letters are a-z and A-Z; without "->" the output is the letters seen once,
    in alphabetical order (upper case first), after the "..." axes. "..." stands
    for the axes a subscript does not name, which broadcast across operands; a
    size-1 axis broadcasts against its letter's size in another operand. A letter
    repeated in one operand takes its diagonal (its sizes must agree). The
    operands may also be given as one list. One op: its gradient is one einsum per
    operand.
    """
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    tensors = tuple(_tensor(t, "einsum", f"operand {i}") for i, t in enumerate(operands))
    explicit = _explicit(equation, [t.shape for t in tensors])
    return record(ops.Einsum, tensors, {"equation": explicit})


def tensordot(a: Any, b: Any, dims: int | Sequence[Any] = 2) -> Tensor:
    """Sum the products over the last `dims` axes of `a` and the first `dims` of `b`, or over
    the axes listed in dims=(axes_of_a, axes_of_b) pairwise, as torch.tensordot."""
    a = _tensor(a, "tensordot", "a")
    b = _tensor(b, "tensordot", "b")
    axes_a, axes_b = _tensordot_axes(dims, a.ndim, b.ndim)
    letters = iter(string.ascii_letters)
    subs_a = [next(letters) for _ in range(a.ndim)]
    subs_b = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise ShapeError(
                f"tensordot(): axis {i} of a (size {a.shape[i]}) and axis {j} of b "
                f"(size {b.shape[j]}) differ, shapes {a.shape} and {b.shape}"
            )
        subs_b[j] = subs_a[i]
    kept = [s for i, s in enumerate(subs_a) if i not in axes_a]
    kept += [s for j, s in enumerate(subs_b) if j not in axes_b]
    equation = f"{''.join(subs_a)},{''.join(subs_b)}->{''.join(kept)}"
    return record(ops.Einsum, (a, b), {"equation": equation})


def _tensordot_axes(dims: Any, ndim_a: int, ndim_b: int) -> tuple[list[int], list[int]]:
    """The contracted axes of `a` and `b` (non-negative, pairwise) from tensordot's `dims`."""
    if isinstance(dims, bool):
        raise TypeError(f"tensordot(): dims must be an int or a pair of axis lists, got {dims!r}")
    if isinstance(dims, int):
        if not 0 <= dims <= min(ndim_a, ndim_b):
            raise ValueError(
                f"tensordot(): dims={dims} must be from 0 to {min(ndim_a, ndim_b)} "
                f"for {ndim_a}-d and {ndim_b}-d tensors"
            )
        return list(range(ndim_a - dims, ndim_a)), list(range(dims))
    try:
        first, second = dims
        first = [first] if isinstance(first, int) else list(first)
        second = [second] if isinstance(second, int) else list(second)
    except (TypeError, ValueError):
        raise TypeError(
            f"tensordot(): dims must be an int or a pair of axis lists, got {dims!r}"
        ) from None
    if len(first) != len(second):
        raise ValueError(f"tensordot(): dims lists {first} and {second} must have the same length")
    return _axis_list(first, ndim_a, "a"), _axis_list(second, ndim_b, "b")


def _axis_list(axes: list[Any], ndim: int, name: str) -> list[int]:
    """`axes` of the operand `name` as non-negative ints, each once."""
    normalised = []
    for axis in axes:
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise TypeError(f"tensordot(): axes of {name} must be ints, got {axes!r}")
        if not -ndim <= axis < ndim:
            raise ValueError(
                f"tensordot(): axis {axis} is out of range for {name}, a {ndim}-d tensor"
            )
        normalised.append(axis % ndim)
    if len(set(normalised)) < len(normalised):
        raise ValueError(f"tensordot(): axes {axes} of {name} name an axis more than once")
    return normalised


def _explicit(equation: Any, shapes: list[tuple[int, ...]]) -> str:
    """`equation` as "subs,subs->out" of letters only, checked against the operands' shapes."""
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): equation must be a str, got {type(equation).__name__}")
    text = equation.replace(" ", "")
    lhs, arrow, out = text.partition("->")
    if "->" in out:
        raise ValueError(f"einsum(): equation {equation!r} has more than one '->'")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"einsum(): equation {equation!r} names {len(terms)} operand(s) but "
            f"{len(shapes)} were given"
        )
    for term in [*terms, out]:
        _check_term(term, equation)
    spare = [c for c in string.ascii_letters if c not in text]
    extra = [_ellipsis_count(term, shape, k) for k, (term, shape) in enumerate(zip(terms, shapes))]
    broadcast = "".join(spare[: max(extra, default=0)])
    terms = [t.replace(ELLIPSIS, broadcast[len(broadcast) - n :]) for t, n in zip(terms, extra)]
    if not arrow:
        counts = Counter("".join(terms))
        named = sorted(c for c, n in counts.items() if n == 1 and c not in broadcast)
        out = broadcast + "".join(named)
    else:
        out = out.replace(ELLIPSIS, broadcast)
    _check_output(out, terms)
    _check_sizes(terms, shapes)
    return f"{','.join(terms)}->{out}"


def _check_term(term: str, equation: str) -> None:
    """A subscript holds letters and at most one '...'."""
    letters = term.replace(ELLIPSIS, "", 1)
    if not all(c in string.ascii_letters for c in letters):
        raise ValueError(
            f"einsum(): subscript {term!r} of {equation!r} may hold only letters a-z, A-Z "
            "and one '...'"
        )


def _ellipsis_count(term: str, shape: tuple[int, ...], k: int) -> int:
    """How many axes of operand `k` its '...' stands for (0 without one)."""
    named = len(term.replace(ELLIPSIS, ""))
    if ELLIPSIS not in term:
        if named != len(shape):
            raise ShapeError(
                f"einsum(): subscript {term!r} names {named} axes but operand {k} has shape "
                f"{shape} ({len(shape)}-d) and no '...' was given"
            )
        return 0
    if named > len(shape):
        raise ShapeError(
            f"einsum(): subscript {term!r} names {named} axes but operand {k} has shape {shape}"
        )
    return len(shape) - named


def _check_output(out: str, terms: list[str]) -> None:
    """Every output letter appears in some operand, and once in the output."""
    for letter, count in Counter(out).items():
        if count > 1:
            raise ValueError(f"einsum(): output subscript {letter} appears more than once")
        if not any(letter in term for term in terms):
            raise ValueError(
                f"einsum(): output subscript {letter} does not appear in any operand's subscripts"
            )


def _check_sizes(terms: list[str], shapes: list[tuple[int, ...]]) -> None:
    """A letter's sizes agree across operands (or are 1, which broadcasts) and agree exactly
    within one operand (a diagonal)."""
    seen: dict[str, int] = {}
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        own: dict[str, int] = {}
        for letter, size in zip(term, shape):
            if own.setdefault(letter, size) != size:
                raise ShapeError(
                    f"einsum(): subscript {letter} is repeated for operand {k} (shape {shape}) "
                    f"but its sizes {own[letter]} and {size} differ"
                )
        for letter, size in own.items():
            previous = seen.setdefault(letter, size)
            if size != previous and 1 not in (size, previous):
                raise ShapeError(
                    f"einsum(): subscript {letter} has size {size} in operand {k} (shape "
                    f"{shape}), which does not broadcast with its size {previous} before"
                )
            seen[letter] = size if previous == 1 else previous
