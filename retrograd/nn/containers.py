"""`Sequential` and `ModuleList`: modules that hold other modules in order."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from retrograd.nn.module import Module


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
        return _item(items, index, "Sequential")

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

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        items = list(self._modules.values())
        if isinstance(index, slice):
            # Filled directly, not re-registered: the modules keep the scope labels
            # and parameter names they have in this list.
            part = ModuleList()
            part._modules.update((str(i), module) for i, module in enumerate(items[index]))
            return part
        return _item(items, index, "ModuleList")

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))


def _item(modules: list[Module], index: int, container: str) -> Module:
    """modules[index], with an error that names the container and its length."""
    try:
        index = operator.index(index)
    except TypeError:
        raise TypeError(
            f"{container}: index must be an integer or a slice, got {type(index).__name__}"
        ) from None
    if not -len(modules) <= index < len(modules):
        raise IndexError(f"{container}: index {index} is out of range for {len(modules)} modules")
    return modules[index]
