"""`ModuleDict`, `ParameterDict` and `ParameterList`: modules and parameters kept by key.

Their items are registered as any attribute is (`add_module`,
`register_parameter`), so state dict keys, `named_parameters()` names and
order, the scope labels of graph drawings and the names `functional_call`
takes are those PyTorch gives for the same construction. `ParameterList`
lives here, not beside `ModuleList`, because it shares with `ParameterDict`
how values become parameters and how they are printed.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from operator import itemgetter
from typing import Any, ClassVar

from retrograd.autograd import Tensor
from retrograd.nn.containers import _check_module, _position
from retrograd.nn.module import Module, Parameter

__all__ = ["ModuleDict", "ParameterDict", "ParameterList"]


class _Keyed(Module):
    """The mapping API that `ModuleDict` and `ParameterDict` share, over one registry.

    Keys keep their insertion order; setting an existing key keeps its place.
    Keys are refused as attribute names are: not a str, empty, holding ".",
    or the name of another attribute ('training', 'update', ...). An update
    checks every item before storing any, so a bad one changes nothing.
    """

    _kind: ClassVar[str]  # "module" or "parameter", for error messages

    def _registry(self) -> dict[str, Any]:
        """The dict the items live in (`_modules` or `_parameters`)."""
        raise NotImplementedError

    def _checked(self, key: Any, value: Any) -> Any:
        """`value` as it would be stored under `key`, or an error naming both."""
        raise NotImplementedError

    def _store(self, key: str, value: Any) -> None:
        """Register a checked `value` under `key`."""
        raise NotImplementedError

    def _keeps_order(self, values: Mapping[Any, Any]) -> bool:
        """Whether `update` takes `values`'s items in their own order (else sorted by key)."""
        return True

    def __getitem__(self, key: str) -> Any:
        self._check_key(key)
        return self._registry()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._store(key, self._checked(key, value))

    def __delitem__(self, key: str) -> None:
        self._check_key(key)
        del self._registry()[key]

    def _check_key(self, key: Any) -> None:
        """A KeyError naming the container and `key` if it holds no such key."""
        if key not in self._registry():
            raise KeyError(f"{type(self).__name__} has no key {key!r}")

    def __len__(self) -> int:
        return len(self._registry())

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._registry()))

    def __contains__(self, key: object) -> bool:
        return key in self._registry()

    def keys(self) -> KeysView[str]:
        return self._registry().keys()

    def items(self) -> ItemsView[str, Any]:
        return self._registry().items()

    def values(self) -> ValuesView[Any]:
        return self._registry().values()

    def pop(self, key: str) -> Any:
        """Remove the item under `key` and return it."""
        value = self[key]
        del self[key]
        return value

    def clear(self) -> None:
        """Remove every item."""
        self._registry().clear()

    def update(self, values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Set each key of a mapping (or container of this kind) or of (key, value) pairs.

        Every item is checked first, so a bad one stores none.
        """
        checked = [(key, self._checked(key, value)) for key, value in self._pairs(values)]
        if isinstance(values, Mapping) and not self._keeps_order(values):
            checked.sort(key=itemgetter(0))
        for key, value in checked:
            self._store(key, value)

    def _pairs(self, values: Any) -> list[tuple[Any, Any]]:
        """The (key, value) pairs `update` is given, or PyTorch's TypeError or ValueError
        naming the element that is not a pair."""
        where = f"{type(self).__name__}.update"
        if isinstance(values, Mapping | _Keyed):
            return list(values.items())
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(
                f"{where}: expected a mapping or an iterable of (key, value) pairs, "
                f"got {type(values).__name__}"
            )
        pairs = []
        for index, pair in enumerate(values):
            if not isinstance(pair, Iterable) or isinstance(pair, Tensor):
                raise TypeError(
                    f"{where}: element #{index} should be a (key, value) pair, "
                    f"got {type(pair).__name__}"
                )
            pair = tuple(pair)
            if len(pair) != 2:
                raise ValueError(f"{where}: element #{index} has length {len(pair)}; 2 is required")
            pairs.append(pair)
        return pairs


class ModuleDict(_Keyed):
    """Modules under string keys, in insertion order, as PyTorch's `nn.ModuleDict`.

    Each module is registered under its key, which is its scope label and the
    first part of its parameters' names (`heads.cls.weight`).
    """

    _kind = "module"

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _registry(self) -> dict[str, Any]:
        return self._modules

    def _checked(self, key: Any, value: Any) -> Module | None:
        self._check_new_name(key, self._kind, self._modules)
        _check_module(type(self).__name__, value, key)
        return value

    def _store(self, key: str, value: Any) -> None:
        self.add_module(key, value)


class _HoldsParameters(Module):
    """What `ParameterList` and `ParameterDict` share: PyTorch's printed layout, and
    refusing to be called."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            f"{type(self).__name__} should not be called; index it for its parameters"
        )

    def extra_repr(self) -> str:
        """One line per parameter, as PyTorch: `(key): Parameter containing: [dtype of size
        AxB]` (the dtype is NumPy's name, `float32`, where PyTorch writes `torch.float32`)."""
        return "\n".join(
            f"  ({key}): {_describe(value)}" for key, value in self._parameters.items()
        )


class ParameterList(_HoldsParameters):
    """Parameters in a list, registered under '0', '1', ..., as PyTorch's `nn.ParameterList`.

    A tensor that is not a Parameter is wrapped in one (a copy that requires
    grad), as PyTorch does. PyTorch keeps any other object as a plain
    attribute, neither trained nor saved; here it is refused.
    """

    def __init__(self, values: Iterable[Tensor | None] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.extend(values)

    def append(self, value: Tensor | None) -> ParameterList:
        """Add `value` at the end, under the key `str(len(self))`."""
        where = f"{type(self).__name__}.append"
        self._add(_as_parameter(where, len(self), value))
        return self

    def extend(self, values: Iterable[Tensor | None]) -> ParameterList:
        """Append each of `values`; all are checked first, so a bad one adds none."""
        where = f"{type(self).__name__}.extend"
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"{where}: values must be an iterable, got {type(values).__name__}")
        start = len(self)
        params = [_as_parameter(where, start + i, value) for i, value in enumerate(values)]
        for param in params:
            self._add(param)
        return self

    def _add(self, param: Parameter | None) -> None:
        self.register_parameter(str(len(self._parameters)), param)

    def __iadd__(self, values: Iterable[Tensor | None]) -> ParameterList:
        return self.extend(values)

    def __getitem__(self, index: int | slice) -> Parameter | ParameterList | None:
        items = list(self._parameters.values())
        if isinstance(index, slice):
            return ParameterList(items[index])
        return items[self._index(index, slices=True)]

    def __setitem__(self, index: int, value: Tensor | None) -> None:
        """Replace the parameter at `index` (negative counts from the end); its key is kept."""
        position = self._index(index, slices=False)
        setattr(self, str(position), _as_parameter(type(self).__name__, index, value))

    def _index(self, index: Any, slices: bool) -> int:
        """`index` as a position in the list, or an error naming it and the length."""
        return _position(
            index, len(self._parameters), type(self).__name__, slices, items="parameters"
        )

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter | None]:
        return iter(list(self._parameters.values()))


class ParameterDict(_Keyed, _HoldsParameters):
    """Parameters under string keys, as PyTorch's `nn.ParameterDict`.

    Tensors are wrapped in Parameters as `ParameterList` wraps them. As in
    PyTorch, `update` (and the constructor) takes a plain dict's items sorted
    by key, and an OrderedDict's, a ParameterDict's or pairs' in their order.
    """

    _kind = "parameter"

    def __init__(
        self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None
    ) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def _registry(self) -> dict[str, Any]:
        return self._parameters

    def _checked(self, key: Any, value: Any) -> Parameter | None:
        self._check_new_name(key, self._kind, self._parameters)
        return _as_parameter(type(self).__name__, key, value)

    def _store(self, key: str, value: Any) -> None:
        self.register_parameter(key, value)

    def _keeps_order(self, values: Mapping[Any, Any]) -> bool:
        return isinstance(values, OrderedDict)

    def get(self, key: str, default: Any = None) -> Any:
        """The item under `key`, or `default` if there is none."""
        return self._registry().get(key, default)

    def setdefault(self, key: str, default: Tensor | None = None) -> Parameter | None:
        """The item under `key`, set to `default` first if there is none."""
        if key not in self:
            self[key] = default
        return self[key]

    def copy(self) -> ParameterDict:
        """A new ParameterDict holding the same parameters (shared, not copied), in order."""
        return ParameterDict(OrderedDict(self.items()))


def _as_parameter(where: str, key: Any, value: Any) -> Parameter | None:
    """`value` as a parameter container stores it: a Parameter or None as it is, another
    floating tensor wrapped in a Parameter; anything else refused, naming `key`."""
    if value is None or isinstance(value, Parameter):
        return value
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{where}: item {key!r} is a {type(value).__name__}, not a Parameter, Tensor or "
            "None (it would be neither trained nor saved)"
        )
    if value.dtype.kind != "f":
        raise TypeError(
            f"{where}: item {key!r} has dtype {value.dtype}, but a parameter must be floating "
            "(convert it first, e.g. .double())"
        )
    return Parameter(value)


def _describe(value: Any) -> str:
    """One parameter as PyTorch's `ParameterList` prints it."""
    if not isinstance(value, Tensor):
        return f"Object of type: {type(value).__name__}"
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    size = "x".join(map(str, value.shape))
    return f"{kind} containing: [{value.dtype} of size {size}]"
