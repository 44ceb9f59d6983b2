"""`Sequential` and `ModuleList`: modules that hold other modules in order."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from retrograd.nn.module import Module, _is_subpath


class Sequential(Module):
    """Modules applied one after another; built from arguments or an ordered mapping."""

    def __init__(self, *modules: Module | Mapping[str, Module]) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def forward(self, x: Any) -> Any:
        for module in self._modules.values():
            x = module(x)
        return x

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self._modules)), module)
        return self

    def __getitem__(self, index: int | slice) -> Module:
        items = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return items[_position(index, len(items), "Sequential")]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


class ModuleList(Module):
    """A list of modules, registered under '0', '1', ... (layers of a stack, for example)."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module | None) -> None:
        """Put `module` before position `index`; the modules after it move up one key.

        State dict keys and `parameters()` order are PyTorch's. The position
        is `list.insert`'s: negative counts from the end and past the end
        appends (PyTorch fails on a negative index and leaves a gap of keys
        past the end).
        """
        _check_module(module, index)
        items: list[tuple[str | None, Module | None]] = list(self._modules.items())
        items.insert(_integer(index, "ModuleList.insert", "an integer"), (None, module))
        self._renumber(items)

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        items = list(self._modules.values())
        if isinstance(index, slice):
            # Filled directly, not re-registered: the modules keep the scope labels
            # and parameter names they have in this list.
            part = ModuleList()
            part._modules.update((str(i), module) for i, module in enumerate(items[index]))
            return part
        return items[_position(index, len(items), "ModuleList")]

    def __setitem__(self, index: int, module: Module | None) -> None:
        """Replace the module at `index` (negative counts from the end); its key is kept."""
        _check_module(module, index)
        setattr(self, str(_position(index, len(self), "ModuleList", slices=False)), module)

    def __delitem__(self, index: int | slice) -> None:
        """Remove the module at `index`, or those of a slice, and renumber the rest from 0
        (as PyTorch: the state dict keys stay '0', '1', ...)."""
        items: list[tuple[str | None, Module | None]] = list(self._modules.items())
        if isinstance(index, slice):
            del items[index]
        else:
            del items[_position(index, len(items), "ModuleList")]
        self._renumber(items)

    def _renumber(self, items: list[tuple[str | None, Module | None]]) -> None:
        """Register `items` (old key, or None for a new module; module) under '0', '1', ...

        A module that moves takes its new key as scope label, and so do the
        names of its parameters that hold its old key.
        """
        self._modules.clear()
        for index, (old_key, module) in enumerate(items):
            key = str(index)
            if module is None:
                self._modules[key] = None
                continue
            if old_key is not None and old_key != key:
                _move_names(module, old_key, key)
            setattr(self, key, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


def _position(index: int, length: int, container: str, slices: bool = True) -> int:
    """`index` as a position in [0, length), with an error that names the container and its
    length."""
    index = _integer(index, container, "an integer or a slice" if slices else "an integer")
    if not -length <= index < length:
        raise IndexError(f"{container}: index {index} is out of range for {length} modules")
    return index % length


def _integer(index: Any, container: str, kinds: str) -> int:
    """`index` as an int (a NumPy integer too), or a TypeError saying what `kinds` it takes."""
    try:
        return operator.index(index)
    except TypeError:
        raise TypeError(f"{container}: index must be {kinds}, got {type(index).__name__}") from None


def _check_module(module: Any, index: Any) -> None:
    """Refuse anything but a Module or None as a list item (a plain value would be lost)."""
    if module is not None and not isinstance(module, Module):
        raise TypeError(
            f"ModuleList: item {index!r} is a {type(module).__name__}, not a Module or None"
        )


def _move_names(module: Module, old_key: str, new_key: str) -> None:
    """Rename the parameters of `module`, moved from `old_key` to `new_key` of its list,
    whose names hold the old path (a prefix above the list is kept)."""
    for key, param in module._parameter_items():
        old_path = f"{old_key}.{key}"
        name = param.name
        if name is not None and _is_subpath(old_path, name):
            param.name = f"{name[: len(name) - len(old_path)]}{new_key}.{key}"
