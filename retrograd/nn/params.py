"""Functions over a model's parameters: run it with other weights, forget its gradients."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd import Tensor

if TYPE_CHECKING:
    from retrograd.nn.module import Module


_Slot = tuple[dict[str, Any], str, Tensor, str]  # (registry, key in it, tensor, kind)


def _named_slots(module: Module) -> dict[str, _Slot]:
    """Every parameter and buffer of `module` under each dotted name it is reachable by,
    with the registry that holds it, so a swap writes where the module reads. Slots
    registered as None (a Linear without bias, an unset loss weight) count too: as in
    PyTorch, a tensor can be swapped into them."""
    slots = {}
    for path, owner in module.named_modules(remove_duplicate=False):
        dot = f"{path}." if path else ""
        for registry, kind in ((owner._parameters, "parameter"), (owner._buffers, "buffer")):
            for leaf, tensor in registry.items():
                slots[dot + leaf] = (registry, leaf, tensor, kind)
    return slots


def _identity(name: str, slot: _Slot) -> Any:
    """What makes two names one slot: the tensor they hold (tied parameters are one
    tensor under several names); a None slot is its own."""
    return ("none", name) if slot[2] is None else id(slot[2])


def _tied_slots(module: Module, tensors: Mapping[str, Tensor]) -> list[tuple[dict, str, Tensor]]:
    """Every (registry, key, new tensor) to swap: a tied parameter or buffer is replaced
    under all of its names, as PyTorch's `functional_call` does, when any one is given."""
    slots = _named_slots(module)
    given: dict[Any, tuple[str, Tensor]] = {}  # slot identity -> (first key, its tensor)
    for key, tensor in tensors.items():
        if key not in slots:
            raise KeyError(
                f"functional_call(): {type(module).__name__} has no parameter {key!r} and no "
                "buffer of that name (named_parameters() and named_buffers() list them)"
            )
        if not isinstance(tensor, Tensor):
            raise TypeError(
                f"functional_call(): the value for {key!r} must be a Tensor, got "
                f"{type(tensor).__name__} (wrap an array with rg.tensor)"
            )
        first = given.setdefault(_identity(key, slots[key]), (key, tensor))
        if first[1] is not tensor:
            raise ValueError(
                f"functional_call(): {first[0]!r} and {key!r} name one tied {slots[key][3]} "
                "but were given different tensors"
            )
    identities = {name: _identity(name, slot) for name, slot in slots.items()}
    swaps = {
        (id(registry), leaf): (registry, leaf, given[identities[name]][1])
        for name, (registry, leaf, _, _) in slots.items()
        if identities[name] in given
    }
    return list(swaps.values())


def _merged(tensors: Mapping[str, Tensor] | Sequence[Mapping[str, Tensor]]) -> Mapping[str, Tensor]:
    """One name -> tensor mapping from a mapping or from a tuple or list of them, whose
    keys must be distinct (as in PyTorch: which tensor a repeated name means is ambiguous)."""
    if isinstance(tensors, Mapping):
        return tensors
    if not isinstance(tensors, tuple | list) or not all(isinstance(d, Mapping) for d in tensors):
        raise TypeError(
            "functional_call(): tensors must be a dict of name -> tensor or a tuple or list "
            f"of such dicts, got {type(tensors).__name__}"
        )
    merged: dict[str, Tensor] = {}
    repeated = []
    for key, tensor in (item for d in tensors for item in d.items()):
        if key in merged and key not in repeated:
            repeated.append(key)
        merged[key] = tensor
    if repeated:
        raise ValueError(
            f"functional_call(): {', '.join(map(repr, repeated))} appear in several of the "
            "dicts given; which tensor to use is ambiguous"
        )
    return merged


@contextmanager
def _swapped(module: Module, tensors: Mapping[str, Tensor]) -> Iterator[None]:
    """Temporarily replace parameters and buffers by dotted name with the given tensors."""
    saved = []
    try:
        for registry, leaf, tensor in _tied_slots(module, tensors):
            saved.append((registry, leaf, registry[leaf]))
            registry[leaf] = tensor
        yield
    finally:
        for registry, leaf, original in reversed(saved):
            registry[leaf] = original


def functional_call(
    module: Module,
    tensors: Mapping[str, Tensor] | Sequence[Mapping[str, Tensor]],
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Run `module(*args, **kwargs)` with some parameters and buffers replaced by other tensors.

    `tensors` maps dotted names from `named_parameters()` and `named_buffers()`
    to tensors, or is a tuple or list of such dicts with distinct keys (for
    example `(params, buffers)`), as in PyTorch's `torch.func.functional_call`.
    The module's own parameters and buffers are restored afterwards, also when
    the call raises. This makes a whole model a function of its weights, e.g.
    to `gradcheck` it in float64. As in PyTorch, a tied parameter or buffer
    (one reachable by several names) is replaced under all of them when one is
    given; giving its names different tensors is a ValueError. An unknown name
    is a KeyError.
    """
    with _swapped(module, _merged(tensors)):
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
