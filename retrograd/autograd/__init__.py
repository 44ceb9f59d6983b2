"""The engine: tensors, ops with their gradients, backward, gradient checking."""

from retrograd.autograd.function import Function  # isort: skip  (Tensor's methods need ops)
from retrograd.autograd.tensor import Tensor  # isort: skip
from retrograd.autograd.anomaly import AnomalyError, detect_anomaly
from retrograd.autograd.creation import (
    arange,
    as_generator,
    from_numpy,
    full,
    ones,
    ones_like,
    rand,
    randn,
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
from retrograd.autograd.rendering import render

__all__ = [
    "AnomalyError",
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
    "enable_grad",
    "from_numpy",
    "full",
    "gradcheck",
    "gradient_norms",
    "is_grad_enabled",
    "linear",
    "matmul",
    "maximum",
    "minimum",
    "no_grad",
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
    "time_steps",
    "to_dot",
    "topological_order",
    "where",
    "zeros",
    "zeros_like",
]

# The function forms of tensor methods (rg.exp, rg.sum...), from their one table.
globals().update(FUNCTIONS)
__all__ += list(FUNCTIONS)
