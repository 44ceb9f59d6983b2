"""Functions over a model's parameters: run it with other weights, forget its gradients."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd import Tensor

if TYPE_CHECKING:
    from retrograd.nn.module import Module


@contextmanager
def _swapped(module: Module, tensors: Mapping[str, Tensor]) -> Iterator[None]:
    """Temporarily replace parameters by dotted name with the given tensors."""
    owners = dict(module.named_modules())
    saved = []
    try:
        for key, tensor in tensors.items():
            path, _, leaf = key.rpartition(".")
            owner = owners.get(path)
            if owner is None or leaf not in owner._parameters:
                raise KeyError(
                    f"functional_call(): {type(module).__name__} has no parameter {key!r}"
                )
            saved.append((owner, leaf, owner._parameters[leaf]))
            owner._parameters[leaf] = tensor
        yield
    finally:
        for owner, leaf, original in reversed(saved):
            owner._parameters[leaf] = original


def functional_call(
    module: Module, tensors: Mapping[str, Tensor], *args: Any, **kwargs: Any
) -> Any:
    """Run `module(*args, **kwargs)` with some parameters replaced by other tensors.

    The module's own parameters are restored afterwards. This makes a whole
    model a function of its weights, e.g. to `gradcheck` it in float64.
    """
    with _swapped(module, tensors):
        return module(*args, **kwargs)


def zero_grads(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Forget the gradients of `params`: set `.grad` to None, or to zeros.

    Zeros are written into the gradient array itself, as PyTorch does, so
    a reference to `p.grad` taken earlier sees them. A new zero array
    replaces a gradient that cannot be written (read-only) or that is a
    view of another array, whose owner may still need its values.
    """
    for p in params:
        grad = p.grad
        if set_to_none or grad is None:
            p.grad = None
        elif isinstance(grad, np.ndarray) and grad.flags.writeable and grad.base is None:
            grad.fill(0)
        else:
            p.grad = np.zeros_like(grad)
