"""The engine: tensors, ops with their gradients, backward, gradient checking."""

from retrograd.autograd.tensor import Tensor  # isort: skip  (ops need Tensor first)
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
from retrograd.autograd.engine import sum_to, topological_order
from retrograd.autograd.function import Function
from retrograd.autograd.functional import (
    cat,
    concat,
    cross_entropy,
    linear,
    matmul,
    maximum,
    minimum,
    one_hot,
    stack,
    take,
    where,
)
from retrograd.autograd.gradcheck import GradcheckError, gradcheck
from retrograd.autograd.graph import (
    Node,
    ShapeError,
    enable_grad,
    is_grad_enabled,
    no_grad,
    scope,
)

__all__ = [
    "Function",
    "GradcheckError",
    "Node",
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
    "is_grad_enabled",
    "linear",
    "matmul",
    "maximum",
    "minimum",
    "no_grad",
    "one_hot",
    "ones",
    "ones_like",
    "rand",
    "randn",
    "scope",
    "stack",
    "sum_to",
    "take",
    "tensor",
    "topological_order",
    "where",
    "zeros",
    "zeros_like",
]
