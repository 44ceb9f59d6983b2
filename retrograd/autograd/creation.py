"""Functions that make leaf tensors, and the `generator=` argument of random ones (the
random functions themselves are in `random_creation.py`)."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from retrograd.autograd.arguments import _shape_arg
from retrograd.autograd.tensor import DEFAULT_FLOAT, Tensor, nested_shape

Seed = np.random.Generator | int | None

default_generator = np.random.default_rng()
"""The generator of every random function and layer given no `generator` (or None)."""


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf tensor holding a copy of `data` (Python floats become float32).

    `data` may be a number, an array, a Tensor, or nested lists and tuples of
    these, e.g. `tensor([x.sum(), y.sum()])`. Tensors in it are copied by
    value and keep their dtype, as arrays would: the result is a new leaf
    that does not differentiate through them, so copying a tensor that
    requires grad warns (as PyTorch), pointing to `detach()` and `stack()`.
    Nested lists must be rectangular; a ragged one is a ValueError naming
    the shapes that differ.
    """
    if not isinstance(data, list | tuple):
        if isinstance(data, Tensor):
            _warn_if_graph([data])
        return Tensor(data, requires_grad=requires_grad, dtype=dtype)
    if not isinstance(_first_leaf(data), Tensor):
        try:
            return Tensor(data, requires_grad=requires_grad, dtype=dtype)
        except (TypeError, ValueError):
            pass  # tensors inside (an object array to NumPy) or a ragged list: told apart below
    sources: list[Tensor] = []
    values = _unwrap(data, sources)
    nested_shape(values, "tensor")
    if sources:
        _warn_if_graph(sources)
        dtype = _promote(data) if dtype is None else dtype
    return Tensor(values, requires_grad=requires_grad, dtype=dtype)


def _first_leaf(data: list | tuple) -> Any:
    """The first item of nested lists: a tensor there skips NumPy, which would walk a tensor
    element by element before giving up on it."""
    while isinstance(data, list | tuple) and data:
        data = data[0]
    return data


def _unwrap(data: Any, tensors: list[Tensor]) -> Any:
    """`data` with each Tensor in its nested lists replaced by its array, collected in
    `tensors`."""
    if isinstance(data, Tensor):
        tensors.append(data)
        return data.data
    if isinstance(data, list | tuple):
        return [_unwrap(item, tensors) for item in data]
    return data


def _warn_if_graph(tensors: list[Tensor]) -> None:
    if any(t.requires_grad for t in tensors):
        warnings.warn(
            "tensor(): copying values of a tensor that requires grad; the result does not "
            "differentiate through it. Use t.detach().clone() to copy it, or stack() to "
            "keep the graph",
            UserWarning,
            stacklevel=3,
        )


def _leaves(data: Any) -> Iterator[Any]:
    if isinstance(data, list | tuple):
        for item in data:
            yield from _leaves(item)
    else:
        yield data


def _promote(data: list | tuple) -> np.dtype:
    """The dtype of nested lists holding tensors, as PyTorch infers it.

    Tensors keep their dtype, as arrays do; the other items count as they
    would in a list alone (a Python float as float32). Integers joined with
    floats take the float dtype, where NumPy would widen int64 with float32
    to float64.
    """
    dtypes = [leaf.dtype for leaf in _leaves(data) if isinstance(leaf, Tensor)]
    numbers = [np.asarray(leaf).dtype for leaf in _leaves(data) if not isinstance(leaf, Tensor)]
    for number in numbers:
        if number.kind not in "biuf":
            raise TypeError(f"tensor data must be numeric, got dtype {number}")
    if numbers:
        # the rule of as_array for lists: float64 from a list becomes the default float
        number = np.result_type(*numbers)
        dtypes.append(DEFAULT_FLOAT if number == np.float64 else number)
    floats = [d for d in dtypes if d.kind == "f"]
    return np.result_type(*(floats or dtypes))


def from_numpy(array: np.ndarray, requires_grad: bool = False) -> Tensor:
    """A leaf sharing memory with `array`, keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy(): expected a numpy.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy(): array must be numeric, got dtype {array.dtype}")
    t = Tensor._make(array, None, 0)
    return t.requires_grad_() if requires_grad else t


def _size(shape: tuple, op: str) -> tuple[int, ...]:
    """A shape given as f(2, 3) or f((2, 3)), refused naming `op` if a size is negative."""
    sizes = _shape_arg(shape, op)
    if any(size < 0 for size in sizes):
        raise ValueError(f"{op}(): sizes must not be negative, got shape {sizes}")
    return sizes


def _filled(shape: tuple, fill: Any, dtype: Any, requires_grad: bool, op: str) -> Tensor:
    data = np.full(_size(shape, op), fill, dtype=np.dtype(dtype or DEFAULT_FLOAT))
    return Tensor(data, requires_grad=requires_grad)


def zeros(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(shape, 0, dtype, requires_grad, "zeros")


def ones(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _filled(shape, 1, dtype, requires_grad, "ones")


def full(shape: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """`fill_value` everywhere; without `dtype`, bool for a bool, int64 for an integer and
    float32 otherwise (as PyTorch). A 0-d tensor counts as its value; anything
    else that is not a real number is refused (NumPy would broadcast a list)."""
    if isinstance(fill_value, Tensor) and fill_value.ndim == 0:
        fill_value = fill_value.item()
    if not isinstance(fill_value, numbers.Real | np.bool_):
        raise TypeError(f"full(): fill_value must be a number, got {type(fill_value).__name__}")
    if dtype is None and isinstance(fill_value, bool | np.bool_):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, int | np.integer):
        dtype = np.int64
    return _filled((shape,), fill_value, dtype, requires_grad, "full")


def zeros_like(t: Tensor, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Zeros of `t`'s shape, and of its dtype unless `dtype` is given (as PyTorch)."""
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """Ones of `t`'s shape, and of its dtype unless `dtype` is given (as PyTorch)."""
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def as_generator(seed: Seed) -> np.random.Generator:
    """A NumPy Generator from a seed or an existing Generator (returned as is); None is the
    default generator (see `manual_seed`).

    A bool is refused: True would quietly be the seed 1.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return default_generator
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(
            "generator must be a numpy.random.Generator or an int seed >= 0, "
            f"got {type(seed).__name__} {seed!r}"
        )
    if seed < 0:
        raise ValueError(
            f"generator must be a numpy.random.Generator or an int seed >= 0, got {seed}"
        )
    return np.random.default_rng(seed)


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    """Evenly spaced values as np.arange; integers unless a float argument or dtype is given.

    As in PyTorch, a step that leads away from the end is refused (NumPy gives
    an empty array, hiding a swapped pair of bounds); equal bounds give an
    empty tensor.
    """
    if step == 0:
        raise ValueError("arange(): step must not be zero")
    if not all(np.isfinite(v) for v in (start, stop, step) if v is not None):
        raise ValueError(
            f"arange(): start, stop and step must be finite, got {start}, {stop}, {step}"
        )
    _check_direction(*((0, start) if stop is None else (start, stop)), step)
    data = np.arange(start, stop, step)  # NumPy reads arange(n, step=s) as 0, s, ... below n
    if dtype is not None:
        data = data.astype(dtype)
    elif data.dtype == np.float64:
        data = data.astype(DEFAULT_FLOAT)
    return Tensor(data)


def _check_direction(start: float, end: float, step: float) -> None:
    """Refuse a step whose sign disagrees with the way from `start` to `end`."""
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise ValueError(
            f"arange(): step={step} leads away from the end: start={start}, stop={end}; "
            f"the step must be {'positive' if end > start else 'negative'}"
        )


def linspace(start: float, end: float, steps: int, dtype: Any = None) -> Tensor:
    """`steps` evenly spaced values from `start` to `end`, both included; float32 unless
    `dtype` is given (as torch.linspace, also for integer bounds)."""
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"linspace(): steps must be an int >= 0, got {steps!r}")
    bounds = [b.item() if isinstance(b, Tensor) and b.ndim == 0 else b for b in (start, end)]
    if not all(isinstance(b, numbers.Real) and np.isfinite(b) for b in bounds):
        raise ValueError(f"linspace(): start and end must be finite numbers, got {start}, {end}")
    return Tensor(np.linspace(*bounds, int(steps)).astype(np.dtype(dtype or DEFAULT_FLOAT)))


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """The (n, m) matrix (n, n without m) with ones on its diagonal, float32 by default."""
    rows, cols = _size((n, n if m is None else m), "eye")
    data = np.eye(rows, cols, dtype=np.dtype(dtype or DEFAULT_FLOAT))
    return Tensor(data, requires_grad=requires_grad)


def empty(*shape: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor to be written over: as torch.empty, but filled with zeros, not leftovers."""
    return _filled(shape, 0, dtype, requires_grad, "empty")


def full_like(
    input: Tensor, fill_value: float, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """`fill_value` everywhere in `input`'s shape and dtype (a float fill of an integer
    tensor is truncated, as in PyTorch), or in `dtype` if given."""
    if not isinstance(fill_value, numbers.Real | np.bool_):
        raise TypeError(f"full_like(): fill_value must be a number, got {fill_value!r}")
    return _filled((input.shape,), fill_value, dtype or input.dtype, requires_grad, "full_like")


def is_tensor(obj: Any) -> bool:
    """Whether `obj` is a Tensor."""
    return isinstance(obj, Tensor)


def as_tensor(data: Any, dtype: Any = None) -> Tensor:
    """`data` as a tensor, sharing memory where it can (as torch.as_tensor): a Tensor of
    the dtype asked is returned as it is, a NumPy array of it is wrapped without a copy
    (keeping float64); anything else is converted as `tensor` does."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.astype(dtype)  # astype returns `data` if equal
    if not isinstance(data, np.ndarray):
        return tensor(data, dtype=dtype)
    if data.dtype.kind not in "biuf":
        raise TypeError(f"as_tensor(): array must be numeric, got dtype {data.dtype}")
    # np.dtype(None) is float64, so `dtype == data.dtype` would also hold for None.
    same = dtype is None or np.dtype(dtype) == data.dtype
    return Tensor._make(data if same else data.astype(dtype), None, 0)
