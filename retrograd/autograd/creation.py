"""Functions that make leaf tensors. Random ones take a Generator or a seed, never global state."""

from __future__ import annotations

from typing import Any

import numpy as np

from retrograd.autograd.tensor import DEFAULT_FLOAT, Tensor, _shape_arg

Seed = np.random.Generator | int | None


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf tensor holding a copy of `data` (Python floats become float32)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array: np.ndarray, requires_grad: bool = False) -> Tensor:
    """A leaf sharing memory with `array`, keeping its dtype."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy(): expected a numpy.ndarray, got {type(array).__name__}")
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
    float32 otherwise (as PyTorch)."""
    if dtype is None and isinstance(fill_value, bool | np.bool_):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, int | np.integer):
        dtype = np.int64
    return _filled((shape,), fill_value, dtype, requires_grad, "full")


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=t.dtype, requires_grad=requires_grad)


def as_generator(seed: Seed) -> np.random.Generator:
    """A NumPy Generator from a seed or an existing Generator (returned as is)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, int | np.integer):
        return np.random.default_rng(seed)
    raise TypeError(f"expected a numpy.random.Generator or an int seed, got {type(seed).__name__}")


def randn(
    *shape: int, generator: Seed = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Standard normal samples."""
    rng = as_generator(generator)
    data = rng.standard_normal(_size(shape, "randn")).astype(_float_dtype(dtype, "randn"))
    return Tensor(data, requires_grad=requires_grad)


def rand(
    *shape: int, generator: Seed = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Uniform samples on [0, 1)."""
    rng = as_generator(generator)
    data = rng.random(_size(shape, "rand")).astype(_float_dtype(dtype, "rand"))
    return Tensor(data, requires_grad=requires_grad)


def _float_dtype(dtype: Any, op: str) -> np.dtype:
    """The dtype of random samples: floating (samples cast to integers would be mostly 0)."""
    dtype = np.dtype(dtype or DEFAULT_FLOAT)
    if dtype.kind != "f":
        raise TypeError(f"{op}(): dtype must be floating, got {dtype}")
    return dtype


def arange(start: float, stop: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    """Evenly spaced values as np.arange; integers unless a float argument or dtype is given."""
    if step == 0:
        raise ValueError("arange(): step must not be zero")
    data = np.arange(start, stop, step)  # NumPy reads arange(n, step=s) as 0, s, ... below n
    if dtype is not None:
        data = data.astype(dtype)
    elif data.dtype == np.float64:
        data = data.astype(DEFAULT_FLOAT)
    return Tensor(data)
