"""The function forms of `Tensor` methods, as PyTorch has them: `rg.exp(x)` is `x.exp()`,
`rg.sum(x, 1)` is `x.sum(1)`.

One table of names and one wrapper factory: adding a function is adding its name to
`NAMES`. A function takes a tensor, or an array-like that it converts to a constant
tensor (as `rg.tensor` would), and calls the method of the same name with the other
arguments. Functions that are more than a method call (`maximum`, `where`, `matmul`,
`cat`...) live in `functional.py`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from retrograd.autograd.functional import _tensor
from retrograd.autograd.tensor import Tensor

NAMES = (
    "abs",
    "acos",
    "all",
    "allclose",
    "amax",
    "amin",
    "any",
    "argmax",
    "argmin",
    "argsort",
    "asin",
    "atan",
    "atan2",
    "bmm",
    "broadcast_to",
    "ceil",
    "chunk",
    "clamp",
    "clamp_max",
    "clamp_min",
    "clip",
    "clone",
    "cos",
    "cosh",
    "count_nonzero",
    "cumprod",
    "cumsum",
    "detach",
    "diag",
    "diagonal",
    "dot",
    "eq",
    "equal",
    "erf",
    "exp",
    "exp2",
    "expm1",
    "flatten",
    "flip",
    "floor",
    "frac",
    "gather",
    "ge",
    "gt",
    "hypot",
    "index_add",
    "index_select",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "kthvalue",
    "le",
    "lerp",
    "log",
    "log10",
    "log1p",
    "log2",
    "log_softmax",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "logsumexp",
    "lt",
    "masked_fill",
    "masked_select",
    "max",
    "mean",
    "median",
    "min",
    "mm",
    "mode",
    "moveaxis",
    "movedim",
    "mv",
    "nan_to_num",
    "nanmean",
    "nanmedian",
    "nansum",
    "narrow",
    "ne",
    "neg",
    "negative",
    "norm",
    "numel",
    "outer",
    "permute",
    "pow",
    "prod",
    "reciprocal",
    "relu",
    "reshape",
    "roll",
    "round",
    "rsqrt",
    "scatter",
    "scatter_add",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "softmax",
    "sort",
    "split",
    "sqrt",
    "square",
    "squeeze",
    "std",
    "sum",
    "swapaxes",
    "swapdims",
    "t",
    "take_along_dim",
    "tan",
    "tanh",
    "tile",
    "topk",
    "trace",
    "transpose",
    "tril",
    "triu",
    "trunc",
    "unbind",
    "unflatten",
    "unsqueeze",
    "var",
)
"""The methods of `Tensor` that PyTorch also has as functions."""


def method_function(name: str) -> Callable[..., Any]:
    """The function form of the method `Tensor.<name>`: its first argument is the tensor
    (`input`, as PyTorch calls it), the rest go to the method as they are."""
    method = getattr(Tensor, name, None)
    if not callable(method):
        raise AttributeError(f"method_function(): Tensor has no method {name!r}")

    def function(input: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(_tensor(input, name, "input"), name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__module__ = __name__
    function.__doc__ = (
        f"`Tensor.{name}` as a function: `{name}(input, ...)` is `input.{name}(...)`; "
        f"an array or number `input` becomes a constant tensor.\n\n{inspect.getdoc(method) or ''}"
    ).rstrip()
    function.__wrapped__ = method
    function.__signature__ = _signature(method)
    return function


def _signature(method: Callable[..., Any]) -> inspect.Signature:
    """The method's signature with `self` called `input`."""
    signature = inspect.signature(method)
    first, *rest = signature.parameters.values()
    return signature.replace(parameters=[first.replace(name="input"), *rest])


FUNCTIONS: dict[str, Callable[..., Any]] = {name: method_function(name) for name in NAMES}
"""The functions by name; `retrograd.autograd` and `retrograd` export each one."""

globals().update(FUNCTIONS)
__all__ = list(NAMES)
