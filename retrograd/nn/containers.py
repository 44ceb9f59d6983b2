"""`Sequential` and `ModuleList`: modules that hold other modules in order."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

from retrograd.nn.module import Module, _is_subpath

_Container = TypeVar("_Container", bound="_IndexedModules")


class _IndexedModules(Module):
    """What `Sequential` and `ModuleList` share: modules kept in order and edited by position.

    Every edit leaves PyTorch's keys: `append` adds key `len(self)`,
    `self[i] = module` keeps the key of position `i`, and `insert` and `del`
    renumber the modules '0', '1', ...; a module that moves takes its new key
    as scope label, and so do the names of its parameters.
    """

    def append(self: _Container, module: Module | None) -> _Container:
        """Add `module` at the end, under the key `str(len(self))`."""
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self: _Container, modules: Iterable[Module | None]) -> _Container:
        """Append each of `modules`; all are checked first, so a bad one adds none."""
        where = f"{type(self).__name__}.extend"
        if not isinstance(modules, Iterable):
            raise TypeError(f"{where}: modules must be an iterable, got {type(modules).__name__}")
        modules = list(modules)
        for index, module in enumerate(modules):
            _check_module(where, module, index)
        for module in modules:
            self.append(module)
        return self

    def pop(self, index: int | slice) -> Any:
        """Remove and return the module at `index` (or the container of a slice's modules)."""
        item = self[index]
        del self[index]
        return item

    def __setitem__(self, index: int, module: Module | None) -> None:
        """Replace the module at `index` (negative counts from the end); its key is kept."""
        keys = list(self._modules)
        key = keys[_position(index, len(keys), type(self).__name__, slices=False)]
        _check_module(type(self).__name__, module, index)
        setattr(self, key, module)

    def __delitem__(self, index: int | slice) -> None:
        """Remove the module at `index`, or those of a slice, and renumber the rest from 0
        (as PyTorch: the state dict keys stay '0', '1', ...)."""
        items: list[tuple[str | None, Module | None]] = list(self._modules.items())
        if isinstance(index, slice):
            del items[index]
        else:
            del items[_position(index, len(items), type(self).__name__)]
        self._renumber(items)

    def _insert(self, position: int, module: Module | None) -> None:
        """Put `module` before `position` (`list.insert`'s) and renumber the modules; at the
        end it is appended, so the other keys are kept (named ones of a `Sequential` too)."""
        if position >= len(self._modules):
            self.append(module)
            return
        items: list[tuple[str | None, Module | None]] = list(self._modules.items())
        items.insert(position, (None, module))
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


class Sequential(_IndexedModules):
    """Modules applied one after another; built from arguments or an ordered mapping.

    Edited as in PyTorch: `append`, `extend`, `insert`, `pop`, `self[i] =
    module`, `del self[i]` (or a slice), `a + b` and `a * n` (new
    Sequentials) or `a += b` and `a *= n` (in place).
    """

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

    def insert(self, index: int, module: Module) -> Sequential:
        """Put `module` before position `index` (-len to len, as PyTorch takes); the modules
        after it move up one key.

        PyTorch raises AssertionError for a `module` that is not a Module; a
        TypeError is raised here, as for every other wrong type.
        """
        where = f"{type(self).__name__}.insert"
        if not isinstance(module, Module):
            raise TypeError(f"{where}: module is a {type(module).__name__}, not a Module")
        position = _integer(index, where, "an integer")
        length = len(self._modules)
        if not -length <= position <= length:
            raise IndexError(
                f"{where}: index {position} is out of range for {length} modules "
                f"(it takes -{length} to {length})"
            )
        self._insert(position, module)
        return self

    def __getitem__(self, index: int | slice) -> Module | Sequential:
        items = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return items[_position(index, len(items), type(self).__name__)]

    def __add__(self, other: Sequential) -> Sequential:
        """A new Sequential of this one's modules then `other`'s, keyed '0', '1', ...

        The modules are shared, not copied; they take their keys in the new
        Sequential as scope labels and parameter names.
        """
        _check_sequential(other, "+")
        result = Sequential()
        result._renumber([*self._modules.items(), *other._modules.items()])
        return result

    def __iadd__(self, other: Sequential) -> Sequential:
        """Append `other`'s modules to this Sequential (in place, as PyTorch's `+=`)."""
        _check_sequential(other, "+=")
        return self.extend(other)

    def __mul__(self, count: int) -> Sequential:
        """A new Sequential of this one's modules repeated `count` times, keyed '0', '1', ...

        As in PyTorch, the modules are shared, not copied: each repeat runs
        the same weights. Their parameters are named by their first keys in
        the new Sequential; a module's scope label is the last key it is
        registered under, as for a module given twice to a Sequential.
        """
        count = _factor(count, "*")
        result = Sequential()
        result._renumber(list(self._modules.items()))
        return result.extend(list(self._modules.values()) * (count - 1))

    def __rmul__(self, count: int) -> Sequential:
        """`count * sequential`, the same as `sequential * count`."""
        return self.__mul__(count)

    def __imul__(self, count: int) -> Sequential:
        """Append this Sequential's modules to itself until they are repeated `count` times
        (in place, shared not copied, new keys `str(len(self))` as `append` gives)."""
        count = _factor(count, "*=")
        return self.extend(list(self._modules.values()) * (count - 1))


class ModuleList(_IndexedModules):
    """A list of modules, registered under '0', '1', ... (layers of a stack, for example)."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        self.extend(modules)

    def insert(self, index: int, module: Module | None) -> None:
        """Put `module` before position `index`; the modules after it move up one key.

        State dict keys and `parameters()` order are PyTorch's. The position
        is `list.insert`'s: negative counts from the end and past the end
        appends (PyTorch fails on a negative index and leaves a gap of keys
        past the end).
        """
        _check_module(type(self).__name__, module, index)
        self._insert(_integer(index, f"{type(self).__name__}.insert", "an integer"), module)

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        items = list(self._modules.values())
        if isinstance(index, slice):
            # Filled directly, not re-registered: the modules keep the scope labels
            # and parameter names they have in this list.
            part = ModuleList()
            part._modules.update((str(i), module) for i, module in enumerate(items[index]))
            return part
        return items[_position(index, len(items), type(self).__name__)]


def _position(
    index: int, length: int, container: str, slices: bool = True, items: str = "modules"
) -> int:
    """`index` as a position in [0, length), with an error that names the container and its
    length in `items`."""
    index = _integer(index, container, "an integer or a slice" if slices else "an integer")
    if not -length <= index < length:
        raise IndexError(f"{container}: index {index} is out of range for {length} {items}")
    return index % length


def _integer(index: Any, container: str, kinds: str) -> int:
    """`index` as an int (a NumPy integer too), or a TypeError saying what `kinds` it takes."""
    try:
        return operator.index(index)
    except TypeError:
        raise TypeError(f"{container}: index must be {kinds}, got {type(index).__name__}") from None


def _check_module(where: str, module: Any, index: Any) -> None:
    """Refuse anything but a Module or None as a container item (a plain value would be lost)."""
    if module is not None and not isinstance(module, Module):
        raise TypeError(
            f"{where}: item {index!r} is a {type(module).__name__}, not a Module or None"
        )


def _check_sequential(other: Any, operation: str) -> None:
    """Refuse to join a Sequential with anything else (ValueError, as PyTorch)."""
    if not isinstance(other, Sequential):
        raise ValueError(
            f"Sequential {operation}: only a Sequential can be added, got {type(other).__name__}"
        )


def _factor(count: Any, operation: str) -> int:
    """The repeat count of `Sequential * count`: a positive integer (a NumPy integer too),
    or TypeError or ValueError as PyTorch raises."""
    try:
        count = operator.index(count)
    except TypeError:
        raise TypeError(
            f"Sequential {operation}: the factor must be an integer, got {type(count).__name__}"
        ) from None
    if count <= 0:
        raise ValueError(f"Sequential {operation}: the factor must be positive, got {count}")
    return count


def _move_names(module: Module, old_key: str, new_key: str) -> None:
    """Rename the parameters of `module`, moved from `old_key` to `new_key` of its container,
    whose names hold the old path (a prefix above the container is kept)."""
    for key, param in module._parameter_items():
        old_path = f"{old_key}.{key}"
        name = param.name
        if name is not None and _is_subpath(old_path, name):
            param.name = f"{name[: len(name) - len(old_path)]}{new_key}.{key}"
