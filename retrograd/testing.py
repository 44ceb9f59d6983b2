"""Hypothesis strategies and a one-call gradient assertion for users' own functions.

    from retrograd.testing import assert_gradients
    assert_gradients(lambda x, w: (x @ w).tanh().sum(), shapes=[(3, 4), (4, 2)])

Needs the `hypothesis` package (`pip install retrograd[testing]`).
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

import numpy as np

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as err:  # pragma: no cover - exercised only without hypothesis
    raise ImportError(
        "retrograd.testing needs hypothesis: pip install 'retrograd[testing]'"
    ) from err

from retrograd.autograd.gradcheck import check_options, check_tolerances, gradcheck
from retrograd.autograd.tensor import Tensor

Interval = tuple[float, float]

_WIDTHS = {np.dtype(np.float16): 16, np.dtype(np.float32): 32, np.dtype(np.float64): 64}
"""The float dtypes values are drawn in, and their width in bits for `st.floats`."""


def values(
    domain: Interval | Sequence[Interval] = (-2.0, 2.0), dtype: Any = np.float64
) -> st.SearchStrategy[float]:
    """Finite floats in one interval or a union of intervals (to keep away from kinks).

    Every value is exactly representable in `dtype` (float16, float32 or
    float64), so casting it changes nothing: each interval's bounds are
    rounded inward to `dtype`, and an interval holding no normal `dtype`
    value is refused.
    """
    return _values(domain, dtype, "values()")


def _values(domain: Any, dtype: Any, where: str) -> st.SearchStrategy[float]:
    try:
        kind = np.dtype(dtype)
    except TypeError:
        kind = None
    if kind not in _WIDTHS:
        raise TypeError(f"{where}: dtype must be float16, float32 or float64, got {dtype!r}")
    parts = [
        st.floats(
            *_inward(low, high, kind, where),
            allow_nan=False,
            allow_infinity=False,
            allow_subnormal=False,
            width=_WIDTHS[kind],
        )
        for low, high in _intervals(domain, where)
    ]
    return st.one_of(*parts)


def _intervals(domain: Any, where: str) -> list[Interval]:
    """`domain`, one interval (low, high) or a sequence of them, as a list of intervals."""
    expected = "an interval (low, high) or a list of intervals, each two real numbers"
    if not _is_sequence(domain):
        raise TypeError(f"{where}: domain must be {expected}, got {domain!r}")
    if not domain:
        raise ValueError(f"{where}: domain is empty; give {expected}")
    intervals = [domain] if all(_is_real(bound) for bound in domain) else list(domain)
    result = []
    for interval in intervals:
        if not (
            _is_sequence(interval) and len(interval) == 2 and all(_is_real(b) for b in interval)
        ):
            raise TypeError(f"{where}: domain must be {expected}, got {domain!r}")
        low, high = float(interval[0]), float(interval[1])
        if not low <= high:
            raise ValueError(f"{where}: the domain interval ({low:g}, {high:g}) needs low <= high")
        result.append((low, high))
    return result


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _is_real(value: Any) -> bool:
    """A real number, NumPy's included; a bool is not taken for one."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _inward(low: float, high: float, dtype: np.dtype, where: str) -> tuple[float, float]:
    """The interval [low, high] shrunk to its smallest and largest finite normal `dtype` values."""
    with np.errstate(over="ignore"):
        lo, hi = dtype.type(low), dtype.type(high)
    # Compared as Python floats: NumPy would compare in `dtype`, where the
    # bound rounds to the very value being checked.
    if float(lo) < low:
        lo = np.nextafter(lo, dtype.type(np.inf))
    if float(hi) > high:
        hi = np.nextafter(hi, dtype.type(-np.inf))
    info = np.finfo(dtype)
    lo, hi = max(float(lo), -float(info.max)), min(float(hi), float(info.max))
    # Subnormals are never drawn, so a bound among them moves inward to zero
    # or to the smallest normal number.
    tiny = float(info.smallest_normal)
    if 0 < abs(lo) < tiny:
        lo = tiny if lo > 0 else -0.0
    if 0 < abs(hi) < tiny:
        hi = 0.0 if hi > 0 else -tiny
    if not lo <= hi:
        raise ValueError(
            f"{where}: the domain interval ({low:g}, {high:g}) holds no finite normal {dtype} value"
        )
    return lo, hi


def shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy:
    """Array shapes, including 0-d and size-1 axes."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


def broadcastable_shapes(
    num_shapes: int, min_dims: int = 0, max_dims: int = 3, max_side: int = 4
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """Tuples of `num_shapes` shapes that broadcast together (size-1 axes included)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side
    ).map(lambda result: result.input_shapes)


def arrays(
    shape: tuple[int, ...] | st.SearchStrategy,
    domain: Interval | Sequence[Interval] = (-2.0, 2.0),
    dtype: Any = np.float64,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of bounded, well-conditioned values, each exactly representable in `dtype`."""
    return _arrays(shape, domain, dtype, "arrays()")


def _arrays(shape: Any, domain: Any, dtype: Any, where: str) -> st.SearchStrategy[np.ndarray]:
    elements = _values(domain, dtype, where)
    return hnp.arrays(np.dtype(dtype), shape, elements=elements)


def tensors(
    shape: tuple[int, ...] | st.SearchStrategy | None = None,
    domain: Interval | Sequence[Interval] = (-2.0, 2.0),
    dtype: Any = np.float64,
    requires_grad: bool = True,
) -> st.SearchStrategy[Tensor]:
    """Leaf tensors of the given (or generated) shape with values in `domain`."""
    shape = shapes() if shape is None else shape
    generated = _arrays(shape, domain, dtype, "tensors()")
    # A partial, not a lambda: hypothesis then shows a falsifying tensor by its repr, which
    # runs when pasted, where the lambda's source showed `requires_grad=requires_grad`.
    return generated.map(partial(Tensor, requires_grad=requires_grad))


def assert_gradients(
    fn: Callable[..., Tensor],
    shapes: Sequence[tuple[int, ...]] | st.SearchStrategy | None = None,
    domain: Interval | Sequence[Interval] = (-2.0, 2.0),
    num_inputs: int | None = None,
    max_examples: int | None = None,
    deadline: float | timedelta | None = None,
    **gradcheck_kwargs: Any,
) -> None:
    """Assert that `fn`'s gradients match central differences over generated inputs.

    `shapes` fixes the input shapes; leave it out to draw mutually broadcastable
    shapes for `num_inputs` inputs. Failures are shrunk by hypothesis to a
    small example and reported with gradcheck's message. `deadline` is
    hypothesis's time limit per example (milliseconds or a timedelta); by
    default there is none, as checking a long recurrence is legitimately slow.
    """
    _check_gradcheck_options(fn, gradcheck_kwargs)
    shape_strategy = _shape_strategy(shapes, num_inputs)
    elements = _values(domain, np.float64, "assert_gradients()")

    @st.composite
    def inputs(draw: Any) -> list[Tensor]:
        return [
            Tensor(draw(hnp.arrays(np.float64, tuple(s), elements=elements)), requires_grad=True)
            for s in draw(shape_strategy)
        ]

    @given(inputs())
    def check(xs: list[Tensor]) -> None:
        gradcheck(fn, xs, **gradcheck_kwargs)

    options: dict[str, Any] = {"deadline": deadline}
    if max_examples is not None:
        options["max_examples"] = max_examples
    check = settings(**options)(check)
    check()


def _check_gradcheck_options(fn: Any, options: dict[str, Any]) -> None:
    """Refuse an unknown or bad gradcheck option before any example runs: raised inside the
    hypothesis test, it would be reported with a "falsifying example", like a wrong gradient."""
    if "raise_exception" in options:
        raise TypeError(
            "assert_gradients(): raise_exception is not an option; a mismatch always fails"
        )
    try:
        bound = inspect.signature(gradcheck).bind(fn, (), **options)
    except TypeError as err:
        raise TypeError(
            f"assert_gradients(): {err}; the gradcheck options are eps, atol, rtol, "
            "full_jacobian_limit and seed"
        ) from None
    bound.apply_defaults()
    given_options = bound.arguments
    check_tolerances(given_options["eps"], given_options["atol"], given_options["rtol"])
    check_options(fn, given_options["full_jacobian_limit"], given_options["seed"])


def _shape_strategy(shapes: Any, num_inputs: Any) -> st.SearchStrategy:
    """The input shapes `assert_gradients` draws: fixed, a user's strategy, or broadcastable."""
    if shapes is not None and num_inputs is not None:
        raise ValueError("assert_gradients(): give shapes or num_inputs, not both")
    if shapes is None:
        if num_inputs is None:
            raise ValueError("assert_gradients(): give shapes or num_inputs")
        if not isinstance(num_inputs, int | np.integer) or isinstance(num_inputs, bool):
            raise TypeError(f"assert_gradients(): num_inputs must be an int, got {num_inputs!r}")
        if num_inputs < 1:
            raise ValueError(f"assert_gradients(): num_inputs must be >= 1, got {num_inputs}")
        return broadcastable_shapes(int(num_inputs))
    if isinstance(shapes, st.SearchStrategy):
        return shapes
    if not (_is_sequence(shapes) and shapes and all(_is_shape(s) for s in shapes)):
        raise TypeError(
            "assert_gradients(): shapes must be a list of shapes, one per input (such as "
            f"[(3, 4), (4,)]), or a strategy of such lists; got {shapes!r}"
        )
    return st.just(tuple(tuple(int(n) for n in s) for s in shapes))


def _is_shape(value: Any) -> bool:
    return _is_sequence(value) and all(
        isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 0 for n in value
    )
