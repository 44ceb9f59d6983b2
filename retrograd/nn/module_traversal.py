"""Walking a `Module`'s tree: its sub-modules, parameters and buffers with dotted names, a mixin.

Every walk is iterative (a deep model needs no recursion) and lists a module
shared by several parents once, under its first name, unless asked for every
name, as PyTorch does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from retrograd.autograd import Tensor

if TYPE_CHECKING:
    from retrograd.nn.module import Module, Parameter

_MISSING = object()


def _is_subpath(short: str | None, full: str) -> bool:
    """True if `full` is `short` or `short` with a dotted prefix (names only ever grow)."""
    return short is None or full == short or full.endswith("." + short)


def _own_parameters(module: Module) -> Iterable[tuple[str, Tensor | None]]:
    return module._parameters.items()


def _own_buffers(module: Module) -> Iterable[tuple[str, Tensor | None]]:
    return module._buffers.items()


def _own_state(module: Module) -> Iterator[tuple[str, Tensor | None]]:
    """What a module saves itself, in PyTorch's order: its parameters, then its persistent
    buffers."""
    yield from module._parameters.items()
    for name, buffer in module._buffers.items():
        if name not in module._non_persistent_buffers:
            yield name, buffer


class TraversalMethods:
    """The walks of `Module`: children, modules, parameters, buffers, `apply`."""

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their attribute names."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_modules(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module (name `prefix`) and every descendant, with dotted names.

        A module registered in several places comes once, under its first
        name, unless `remove_duplicate` is False: then under every name.
        """
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = module._modules
            if children:
                dot = f"{name}." if name else ""
                kids = [(dot + key, child) for key, child in children.items() if child is not None]
                stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        return map(itemgetter(1), self.named_modules())

    def get_submodule(self, target: str) -> Module:
        """The sub-module at the dotted path `target` ("" is this module), as PyTorch's.

        Walks one name per part, without listing the whole tree. An
        AttributeError names the first part that is missing or not a module.
        """
        if not isinstance(target, str):
            raise TypeError(f"get_submodule(): target must be a str, got {type(target).__name__}")
        module: Module = self
        for part in target.split(".") if target else []:
            child = getattr(module, part, _MISSING)
            if child is _MISSING:
                raise AttributeError(
                    f"{type(module).__name__} has no attribute `{part}` "
                    f"(in get_submodule({target!r}))"
                )
            if not isinstance(child, TraversalMethods):
                raise AttributeError(
                    f"`{part}` is not an nn.Module but a {type(child).__name__} "
                    f"(in get_submodule({target!r}))"
                )
            module = child
        return module

    def _tensor_items(
        self,
        own: Callable[[Module], Iterable[tuple[str, Tensor | None]]],
        remove_duplicate: bool = True,
        recurse: bool = True,
    ) -> Iterator[tuple[str, Tensor]]:
        """Every tensor that `own` lists for a module (e.g. its parameters), with its dotted
        key, module by module, parents first: shared ones once, under their first key, or
        under every key they are reachable by if not `remove_duplicate`. Without `recurse`,
        only this module's own."""
        seen: set[int] = set()
        modules = self.named_modules(remove_duplicate=remove_duplicate) if recurse else [("", self)]
        for prefix, module in modules:
            dot = f"{prefix}." if prefix else ""
            for name, tensor in own(module):
                if tensor is None:
                    continue
                if remove_duplicate:
                    if id(tensor) in seen:
                        continue
                    seen.add(id(tensor))
                yield dot + name, tensor

    def _parameter_items(
        self, remove_duplicate: bool = True, recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted key (see `_tensor_items`)."""
        return self._tensor_items(_own_parameters, remove_duplicate, recurse)

    def _state_items(self, remove_duplicate: bool = False) -> Iterator[tuple[str, Tensor]]:
        """What `state_dict()` saves, in PyTorch's order: each module's parameters, then its
        persistent buffers, then its sub-modules'."""
        return self._tensor_items(_own_state, remove_duplicate)

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Every parameter once (shared ones under their first name), with dotted names.

        As in PyTorch, `prefix` is put before every name, `recurse=False` gives
        only this module's own parameters, and `remove_duplicate=False` lists a
        shared parameter under every name. Each parameter's `name` is updated to
        its key here when the key extends the name it had (e.g. after the module
        was placed inside a larger one); a `prefix` is not made part of it.
        """
        dot = f"{prefix}." if prefix else ""
        for key, param in self._parameter_items(remove_duplicate, recurse):
            if param.name != key and _is_subpath(param.name, key):
                param.name = key
            yield dot + key, param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        return map(itemgetter(1), self.named_parameters(recurse=recurse))

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Every buffer (persistent or not) with its dotted name; `prefix`, `recurse` and
        `remove_duplicate` as `named_parameters`'s."""
        dot = f"{prefix}." if prefix else ""
        for key, buffer in self._tensor_items(_own_buffers, remove_duplicate, recurse):
            yield dot + key, buffer

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return map(itemgetter(1), self.named_buffers(recurse=recurse))

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every sub-module and then on this one (e.g. to initialise weights).

        The order is PyTorch's: each child's whole subtree, children in order,
        then the parent; a module shared by two parents is visited under each.
        """
        # Iterative: parents first with their children popped last to first, then reversed.
        order = []
        stack: list[Module] = [self]
        while stack:
            module = stack.pop()
            order.append(module)
            stack.extend(dict.fromkeys(module.children()))
        for module in reversed(order):
            fn(module)
        return self
