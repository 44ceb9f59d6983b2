"""Random tensors (rand, randn, randint, randperm, multinomial, bernoulli, normal...).

Each takes `generator=`: a `numpy.random.Generator` or an int seed. Without one
it draws from the package's default generator, which `manual_seed` reseeds, as
torch.manual_seed reseeds PyTorch's; NumPy's global random state is never used.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from retrograd.autograd.creation import Seed, _size, as_generator, default_generator
from retrograd.autograd.tensor import DEFAULT_FLOAT, Tensor, as_array


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the default generator, and return it (as torch.manual_seed).

    It affects everything that draws with `generator=None`: rand, randn,
    rand_like, randn_like, randint, randperm, multinomial, bernoulli, normal,
    the initial weights of layers made without a generator, dropout made
    without one (also one made before the call: it holds the same generator),
    and sampling text without a seed. A generator or seed given explicitly is
    untouched.
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TypeError(f"manual_seed(): seed must be an int >= 0, got {seed!r}")
    # Reseeded in place, so that holders of the default generator see the new seed.
    default_generator.bit_generator.state = np.random.PCG64(int(seed)).state
    return default_generator


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


def rand_like(
    input: Tensor, *, generator: Seed = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Uniform samples on [0, 1) of `input`'s shape and (floating) dtype."""
    dtype = _float_dtype(dtype or input.dtype, "rand_like")
    return rand(input.shape, generator=generator, dtype=dtype, requires_grad=requires_grad)


def randn_like(
    input: Tensor, *, generator: Seed = None, dtype: Any = None, requires_grad: bool = False
) -> Tensor:
    """Standard normal samples of `input`'s shape and (floating) dtype."""
    dtype = _float_dtype(dtype or input.dtype, "randn_like")
    return randn(input.shape, generator=generator, dtype=dtype, requires_grad=requires_grad)


def _float_dtype(dtype: Any, op: str) -> np.dtype:
    """The dtype of random samples: floating (samples cast to integers would be mostly 0)."""
    dtype = np.dtype(dtype or DEFAULT_FLOAT)
    if dtype.kind != "f":
        raise TypeError(f"{op}(): dtype must be floating, got {dtype}")
    return dtype


def randint(*args: Any, generator: Seed = None, dtype: Any = np.int64) -> Tensor:
    """Integers drawn uniformly from [low, high): randint(high, size) or
    randint(low, high, size), int64 unless `dtype` is given (as torch.randint)."""
    if len(args) not in (2, 3):
        raise TypeError(
            f"randint(): takes (high, size) or (low, high, size), got {len(args)} arguments"
        )
    *bounds, size = args
    low, high = (0, *bounds) if len(bounds) == 1 else bounds
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"randint(): {name} must be an int, got {value!r}")
    if low >= high:
        raise ValueError(f"randint(): low must be less than high, got low={low}, high={high}")
    shape = _size((size,), "randint")
    data = as_generator(generator).integers(low, high, size=shape, dtype=np.dtype(dtype))
    return Tensor(data)


def randperm(n: int, *, generator: Seed = None, dtype: Any = np.int64) -> Tensor:
    """A random permutation of 0 .. n - 1, int64 unless `dtype` is given."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"randperm(): n must be an int >= 0, got {n!r}")
    return Tensor(as_generator(generator).permutation(int(n)).astype(dtype))


def multinomial(
    input: Any, num_samples: int, replacement: bool = False, *, generator: Seed = None
) -> Tensor:
    """Category indices (int64) drawn with probabilities proportional to the non-negative
    weights of `input`, 1-d (num_samples,) or one row per draw, 2-d (rows, num_samples).

    Without replacement every category is drawn at most once, so a row needs at least
    `num_samples` categories of nonzero weight (PyTorch then may draw zero-weight ones).
    """
    weights = np.asarray(input.data if isinstance(input, Tensor) else as_array(input), float)
    if weights.ndim not in (1, 2):
        raise ValueError(f"multinomial(): input must be 1-d or 2-d, got shape {weights.shape}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
        raise TypeError(f"multinomial(): num_samples must be an int, got {num_samples!r}")
    rows = np.atleast_2d(weights)
    _check_weights(rows, int(num_samples), replacement)
    rng = as_generator(generator)
    draws = [
        rng.choice(len(row), size=int(num_samples), replace=replacement, p=row / row.sum())
        for row in rows
    ]
    out = np.array(draws, dtype=np.int64).reshape(len(rows), int(num_samples))
    return Tensor(out[0] if weights.ndim == 1 else out)


def _check_weights(rows: np.ndarray, num_samples: int, replacement: bool) -> None:
    """multinomial's weights are finite, non-negative, and enough of them nonzero."""
    if num_samples <= 0:
        raise ValueError(f"multinomial(): num_samples must be positive, got {num_samples}")
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial(): input must hold finite, non-negative weights")
    if rows.shape[1] == 0 or (rows.sum(axis=1) <= 0).any():
        raise ValueError("multinomial(): every row of input needs a positive total weight")
    nonzero = int((rows > 0).sum(axis=1).min())
    if not replacement and num_samples > nonzero:
        raise ValueError(
            f"multinomial(): cannot draw {num_samples} samples without replacement from "
            f"{nonzero} categor{'y' if nonzero == 1 else 'ies'} of nonzero weight"
        )


def bernoulli(input: Tensor, *, generator: Seed = None) -> Tensor:
    """1 with probability `input` and 0 otherwise, elementwise, in `input`'s floating dtype
    (no gradient)."""
    p = input.data if isinstance(input, Tensor) else as_array(input)
    if p.dtype.kind != "f":
        raise TypeError(f"bernoulli(): input must be floating probabilities, got {p.dtype}")
    if not ((p >= 0) & (p <= 1)).all():
        raise ValueError("bernoulli(): input must hold probabilities between 0 and 1")
    draws = as_generator(generator).random(p.shape) < p
    return Tensor(draws.astype(p.dtype))


def normal(
    mean: Any = 0.0,
    std: Any = 1.0,
    size: Any = None,
    *,
    generator: Seed = None,
    dtype: Any = None,
) -> Tensor:
    """Normal samples, with `mean` and `std` tensors (broadcast together) or numbers (then
    `size` is required), as torch.normal; no gradient flows to mean or std, as in PyTorch.

    The dtype is the tensors' floating dtype, float32 for numbers."""
    tensors = [v for v in (mean, std) if isinstance(v, Tensor)]
    if not tensors and size is None:
        raise TypeError("normal(): with a number mean and std, size is required")
    if tensors and size is not None:
        raise TypeError("normal(): size is taken only with a number mean and std")
    m, s = (v.data if isinstance(v, Tensor) else as_array(v) for v in (mean, std))
    if (s < 0).any():
        raise ValueError("normal(): std must be >= 0")
    dtype = dtype or (np.result_type(*(t.dtype for t in tensors)) if tensors else DEFAULT_FLOAT)
    dtype = _float_dtype(dtype, "normal")
    if not tensors:
        shape = _size((size,), "normal")
    elif not _broadcastable(m.shape, s.shape):
        raise ValueError(f"normal(): mean {m.shape} and std {s.shape} do not broadcast")
    else:
        shape = np.broadcast_shapes(m.shape, s.shape)
    data = m + s * as_generator(generator).standard_normal(shape)
    return Tensor(np.asarray(data, dtype=dtype))


def _broadcastable(*shapes: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True
