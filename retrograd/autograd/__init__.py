"""The engine: tensors, ops with their gradients, backward, gradient checking."""

from retrograd.autograd.function import Function  # isort: skip  (Tensor's methods need ops)
from retrograd.autograd.tensor import Tensor  # isort: skip
from retrograd.autograd.anomaly import AnomalyError, detect_anomaly
from retrograd.autograd.creation import (
    arange,
    as_generator,
    as_tensor,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    is_tensor,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from retrograd.autograd.drawing import to_dot
from retrograd.autograd.engine import sum_to
from retrograd.autograd.free_functions import FUNCTIONS
from retrograd.autograd.functional import (
    cat,
    concat,
    cross_entropy,
    linear,
    matmul,
    maximum,
    minimum,
    one_hot,
    one_hot_linear,
    stack,
    take,
    where,
)
from retrograd.autograd.gradcheck import GradcheckError, PrecisionWarning, gradcheck
from retrograd.autograd.gradient_flow import gradient_norms, plot_gradient_norms
from retrograd.autograd.graph import (
    Node,
    ShapeError,
    enable_grad,
    is_grad_enabled,
    no_grad,
    scope,
    set_grad_enabled,
    time_steps,
    topological_order,
)
from retrograd.autograd.joining import (
    atleast_1d,
    atleast_2d,
    broadcast_tensors,
    hstack,
    meshgrid,
    vstack,
)
from retrograd.autograd.linalg_functions import (
    addmm,
    einsum,
    tensordot,
)
from retrograd.autograd.random_creation import (
    bernoulli,
    manual_seed,
    multinomial,
    normal,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
)
from retrograd.autograd.rendering import render

__all__ = [
    "AnomalyError",
    "addmm",
    "as_tensor",
    "atleast_1d",
    "atleast_2d",
    "bernoulli",
    "broadcast_tensors",
    "detect_anomaly",
    "Function",
    "GradcheckError",
    "Node",
    "PrecisionWarning",
    "ShapeError",
    "Tensor",
    "arange",
    "as_generator",
    "cat",
    "concat",
    "cross_entropy",
    "einsum",
    "empty",
    "enable_grad",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "gradcheck",
    "gradient_norms",
    "hstack",
    "is_grad_enabled",
    "is_tensor",
    "linear",
    "linspace",
    "manual_seed",
    "matmul",
    "maximum",
    "meshgrid",
    "minimum",
    "multinomial",
    "no_grad",
    "normal",
    "rand_like",
    "randint",
    "randn_like",
    "randperm",
    "set_grad_enabled",
    "one_hot",
    "one_hot_linear",
    "ones",
    "ones_like",
    "plot_gradient_norms",
    "rand",
    "randn",
    "render",
    "scope",
    "stack",
    "sum_to",
    "take",
    "tensor",
    "tensordot",
    "time_steps",
    "to_dot",
    "topological_order",
    "vstack",
    "where",
    "zeros",
    "zeros_like",
]

# The function forms of tensor methods (rg.exp, rg.sum...), from their one table.
globals().update(FUNCTIONS)
__all__ += list(FUNCTIONS)
