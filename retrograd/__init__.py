"""retrograd: a small reverse-mode automatic differentiation engine on NumPy."""

from retrograd.autograd import (
    Tensor,
    arange,
    cat,
    concat,
    enable_grad,
    from_numpy,
    full,
    is_grad_enabled,
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
    set_grad_enabled,
    stack,
    take,
    tensor,
    where,
    zeros,
    zeros_like,
)
from retrograd.autograd.free_functions import FUNCTIONS
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
    "is_grad_enabled",
    "full",
    "linear",
    "load",
    "matmul",
    "maximum",
    "minimum",
    "nn",
    "no_grad",
    "set_grad_enabled",
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

# The function forms of tensor methods (rg.exp, rg.sum...), from their one table.
globals().update(FUNCTIONS)
__all__ += list(FUNCTIONS)
