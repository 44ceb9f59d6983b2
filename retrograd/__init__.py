"""retrograd: a small reverse-mode automatic differentiation engine on NumPy."""

from retrograd.autograd import (
    Tensor,
    arange,
    cat,
    concat,
    enable_grad,
    from_numpy,
    full,
    linear,
    matmul,
    maximum,
    minimum,
    no_grad,
    one_hot,
    one_hot_linear,
    ones,
    ones_like,
    rand,
    randn,
    stack,
    take,
    tensor,
    where,
    zeros,
    zeros_like,
)
from retrograd.serialization import CheckpointError, load, save

# The subpackages, reachable as retrograd.nn and retrograd.optim after `import retrograd`.
from retrograd import autograd, nn, optim  # isort: skip

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "Tensor",
    "arange",
    "autograd",
    "cat",
    "concat",
    "enable_grad",
    "from_numpy",
    "full",
    "linear",
    "load",
    "matmul",
    "maximum",
    "minimum",
    "nn",
    "no_grad",
    "one_hot",
    "one_hot_linear",
    "ones",
    "ones_like",
    "optim",
    "rand",
    "randn",
    "save",
    "stack",
    "take",
    "tensor",
    "where",
    "zeros",
    "zeros_like",
]
