"""Functions over a model's parameters: run it with other weights, forget its gradients."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd import Tensor

if TYPE_CHECKING:
    from retrograd.nn.module import Module


def _tied_slots(module: Module, tensors: Mapping[str, Tensor]) -> list[tuple[Module, str, Tensor]]:
    """Every (owner, attribute, new tensor) to swap: a tied parameter is replaced under all
    of its names, as PyTorch's `functional_call` does, when any one of them is given."""
    slots = {}  # dotted name -> (owner, attribute, parameter), shared ones under every name
    for path, owner in module.named_modules(remove_duplicate=False):
        dot = f"{path}." if path else ""
        for leaf, param in owner._parameters.items():
            if param is not None:
                slots[dot + leaf] = (owner, leaf, param)
    given: dict[int, tuple[str, Tensor]] = {}  # id(parameter) -> (first key, its tensor)
    for key, tensor in tensors.items():
        if key not in slots:
            raise KeyError(f"functional_call(): {type(module).__name__} has no parameter {key!r}")
        first = given.setdefault(id(slots[key][2]), (key, tensor))
        if first[1] is not tensor:
            raise ValueError(
                f"functional_call(): {first[0]!r} and {key!r} name one tied parameter but "
                "were given different tensors"
            )
    swaps = {
        (id(owner), leaf): (owner, leaf, given[id(param)][1])
        for owner, leaf, param in slots.values()
        if id(param) in given
    }
    return list(swaps.values())


@contextmanager
def _swapped(module: Module, tensors: Mapping[str, Tensor]) -> Iterator[None]:
    """Temporarily replace parameters by dotted name with the given tensors."""
    saved = []
    try:
        for owner, leaf, tensor in _tied_slots(module, tensors):
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
    model a function of its weights, e.g. to `gradcheck` it in float64. As in
    PyTorch, a tied parameter (one reachable by several names) is replaced
    under all of them when one is given; giving its names different tensors
    is a ValueError.
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
