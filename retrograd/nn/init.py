"""Weight initialisers, each in place and each drawing from an explicit generator.

`rnn_uniform_` is PyTorch's recurrent and linear default, uniform(-1/sqrt(n),
1/sqrt(n)); `xavier_*` is Glorot's; `normal_(t, 0, 0.01)` with zero biases
(`d2l_normal_` for a whole module) is the d2l chapter's scheme. A generator
is a `numpy.random.Generator` or an int seed; the global NumPy state is never used.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

from retrograd.autograd import Tensor, as_generator
from retrograd.nn.module import Module

Seed = np.random.Generator | int


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    """Write `values` into the tensor's array in place, keeping its dtype."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"init: expected a Tensor or Parameter, got {type(tensor).__name__}")
    tensor.data[...] = values.astype(tensor.dtype, copy=False)
    return tensor


def _check_floating(tensor: Tensor, fn: str) -> None:
    """Refuse a tensor that cannot hold random draws: an integer one would truncate them."""
    if isinstance(tensor, Tensor) and tensor.dtype.kind != "f":
        raise TypeError(
            f"{fn}(): needs a floating tensor, got dtype {tensor.dtype} (random draws would be "
            f"truncated to integers)"
        )


def _check_real(fn: str, **values: object) -> None:
    """Refuse an argument that is not a real number, naming `fn` and the argument (a string
    would fail in a comparison, a complex value be cast to its real part)."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f"{fn}(): {name} must be a real number, got {value!r}")


def _rng(generator: Seed, fn: str) -> np.random.Generator:
    """The generator to draw from; None is refused so that every draw is reproducible."""
    if generator is None:
        raise TypeError(f"{fn}(): pass generator= (a numpy.random.Generator or an int seed)")
    return as_generator(generator)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Seed) -> Tensor:
    """Fill with samples from uniform(a, b)."""
    _check_real("uniform_", a=a, b=b)
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"uniform_(): bounds must be finite, got a={a}, b={b}")
    if not a <= b:
        raise ValueError(f"uniform_(): lower bound {a} exceeds upper bound {b}")
    _check_floating(tensor, "uniform_")
    return _fill(tensor, _rng(generator, "uniform_").uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Seed) -> Tensor:
    """Fill with samples from normal(mean, std)."""
    _check_real("normal_", mean=mean, std=std)
    if not math.isfinite(mean):  # NaN or inf would fill the tensor with it
        raise ValueError(f"normal_(): mean must be finite, got {mean}")
    if not std >= 0:  # also refuses NaN, which would fill the tensor with NaN
        raise ValueError(f"normal_(): std must be non-negative, got {std}")
    _check_floating(tensor, "normal_")
    return _fill(tensor, _rng(generator, "normal_").normal(mean, std, tensor.shape))


def constant_(tensor: Tensor, value: float) -> Tensor:
    """Fill with one value."""
    _check_real("constant_", value=value)
    return _fill(tensor, np.full(tensor.shape, value))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones."""
    return constant_(tensor, 1.0)


def rnn_uniform_(tensor: Tensor, hidden_size: int, *, generator: Seed) -> Tensor:
    """Fill with uniform(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch's RNNs."""
    if hidden_size <= 0:
        raise ValueError(f"rnn_uniform_(): hidden_size must be positive, got {hidden_size}")
    bound = 1.0 / math.sqrt(hidden_size)
    return uniform_(tensor, -bound, bound, generator=generator)


def fans(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shaped (out, in, *kernel), as PyTorch computes them."""
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dims, got {tensor.shape}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, *, generator: Seed) -> Tensor:
    """Glorot uniform: uniform(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator=generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, *, generator: Seed) -> Tensor:
    """Glorot normal: normal(0, gain * sqrt(2 / (fan_in + fan_out)))."""
    fan_in, fan_out = fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator=generator)


def d2l_normal_(module: Module, std: float = 0.01, *, generator: Seed) -> Module:
    """The d2l chapter's scheme for a whole module: weights normal(0, std), biases zero.

    A parameter with one axis counts as a bias; the module is returned.
    """
    if not isinstance(module, Module):
        raise TypeError(
            f"d2l_normal_(): expected a Module, got {type(module).__name__} "
            f"(use normal_ for one tensor)"
        )
    rng = _rng(generator, "d2l_normal_")
    for param in module.parameters():
        if param.ndim == 1:
            zeros_(param)
        else:
            normal_(param, 0.0, std, generator=rng)
    return module
