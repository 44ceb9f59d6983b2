"""`Module` and `Parameter`: the containers every layer is built from, with PyTorch's conventions.

A module registers the `Parameter`s and sub-modules assigned to its
attributes, and the buffers given to `register_buffer` (constant tensors
saved with the parameters, such as a loss's class weights), names them with
dotted paths (`rnn.weight_ih_l0`), walks them, runs `forward` when called,
switches between training and evaluation, and converts their dtype. Its
other methods come from mixins, one module per kind: `module_traversal`
(walking the tree of modules and listing their parameters and buffers),
`module_state` (saving and loading a state dict of plain NumPy arrays, with
`IncompatibleKeys` and `StateDictError`) and `module_repr` (printing).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from retrograd.autograd import Tensor, from_numpy, scope
from retrograd.nn.module_repr import ReprMethods
from retrograd.nn.module_state import IncompatibleKeys, StateDictError, StateDictMethods
from retrograd.nn.module_traversal import TraversalMethods, _is_subpath
from retrograd.nn.params import zero_grads

__all__ = ["IncompatibleKeys", "Module", "Parameter", "StateDictError", "not_parameters"]


class Parameter(Tensor):
    """A leaf tensor that a `Module` owns and trains: always floating, requires grad
    unless made frozen (`requires_grad=False`, as in PyTorch).

    Modules set its `name` to its dotted path in the model, so graph drawings
    can label it.
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None) -> None:
        if not isinstance(requires_grad, bool):
            raise TypeError(
                f"Parameter: requires_grad must be a bool, got {requires_grad!r} "
                "(give a dtype as dtype=)"
            )
        array = data.data if isinstance(data, Tensor) else data
        super().__init__(array, requires_grad=True, dtype=dtype)  # checks the dtype is floating
        self.requires_grad = requires_grad

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module(TraversalMethods, StateDictMethods, ReprMethods):
    """Base class of layers and models.

    Subclasses call `super().__init__()`, assign `Parameter`s and modules to
    attributes, and define `forward`; calling the module runs `forward`.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "training", True)
        # The attribute name this module is registered under in its parent: the scope
        # label its ops are recorded with, so graph drawings show one cluster per module.
        object.__setattr__(self, "_scope", None)

    # ----- registration -----
    def __setattr__(self, name: str, value: Any) -> None:
        """Register a `Parameter` or `Module`, or replace a buffer, with PyTorch's rules.

        Reassigning a parameter, buffer or sub-module keeps its place in
        `state_dict()` and `parameters()` (the registry key is kept). A
        parameter takes over a sub-module, buffer or plain attribute of the
        same name, and a sub-module a buffer or plain attribute; a parameter
        name takes only a Parameter or None, a sub-module name only a Module
        or None, a buffer name only what `register_buffer` takes, until the
        attribute is deleted.
        """
        registry = self.__dict__.get("_parameters")
        if registry is None and isinstance(value, Parameter | Module):
            raise AttributeError(
                f"cannot assign {type(value).__name__} {name!r} before "
                f"{type(self).__name__}.__init__() calls super().__init__()"
            )
        if isinstance(value, Parameter):
            self._forget(name, self._modules, self._buffers, self.__dict__)
            registry[name] = value
            if value.name is None:
                value.name = name
        elif registry is not None and name in registry:
            self._refuse_other_kind(name, value, "parameter", "Parameter")
            registry[name] = None
        elif isinstance(value, Module):
            self._forget(name, self._buffers, self.__dict__)
            self._modules[name] = value
            value._prefix_names(name)
            object.__setattr__(value, "_scope", name)
        elif registry is not None and name in self._modules:
            self._refuse_other_kind(name, value, "sub-module", "Module")
            self._modules[name] = None
        elif registry is not None and name in self._buffers:
            if not isinstance(value, Tensor | np.ndarray):
                self._refuse_other_kind(name, value, "buffer", "Tensor, NumPy array")
            self._buffers[name] = self._as_buffer(name, value)
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, *registries: dict[str, Any]) -> None:
        """Drop `name` from `registries` and from the non-persistent buffers, before it is
        registered again as something else."""
        for registry in registries:
            registry.pop(name, None)
        self._non_persistent_buffers.discard(name)

    def _refuse_other_kind(self, name: str, value: Any, kind: str, expected: str) -> None:
        """Refuse to put `value` (anything but None) where a `kind` is registered."""
        if value is not None:
            owner = type(self).__name__
            raise TypeError(
                f"cannot assign {type(value).__name__} to {kind} {name!r} of {owner} "
                f"(a {expected} or None is expected; `del` the attribute first to replace "
                "it by something else)"
            )

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: parameters, buffers and modules live in
        # registries.
        state = self.__dict__
        if "_parameters" in state:
            for registry in ("_parameters", "_modules", "_buffers"):
                if name in state[registry]:
                    return state[registry][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._modules:
            del self._modules[name]
        elif name in self._buffers:
            self._forget(name, self._buffers)
        else:
            object.__delattr__(self, name)

    def _prefix_names(self, prefix: str) -> None:
        """Give this module's parameters the dotted names they have under `prefix`."""
        for key, param in self._parameter_items():
            if _is_subpath(param.name, key):
                param.name = f"{prefix}.{key}"

    def _check_new_name(self, name: str, kind: str, registry: dict[str, Any]) -> None:
        """Refuse a name that cannot be a dotted-path component, or that an attribute holds."""
        owner = type(self).__name__
        if not isinstance(name, str):
            raise TypeError(f"{owner}: {kind} name must be a string, got {type(name).__name__}")
        if not name:
            raise KeyError(f'{owner}: {kind} name cannot be the empty string ""')
        if "." in name:
            raise KeyError(f'{owner}: {kind} name "{name}" cannot contain "." (paths use it)')
        if name not in registry and hasattr(self, name):
            raise KeyError(f"{owner}: attribute {name!r} already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register `param` (or an absent one, None) under `name`, as attribute assignment does.

        As in PyTorch, anything but a `Parameter` or None is refused (a plain
        tensor would be neither trained nor saved), and so is a name that is
        empty, contains ".", or belongs to another attribute.
        """
        self._check_new_name(name, "parameter", self._parameters)
        if param is None:
            self._parameters[name] = None
        elif isinstance(param, Parameter):
            setattr(self, name, param)
        else:
            raise TypeError(
                f"{type(self).__name__}: cannot register a {type(param).__name__} as parameter "
                f"{name!r} (a Parameter or None is expected; wrap it in nn.Parameter)"
            )

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Register `tensor` under `name` as a buffer: state that is not trained but is
        saved with the parameters (if `persistent`) and converted by `to(dtype)`.

        As in PyTorch, it is then an attribute (`self.name = t` replaces it, in
        place in `state_dict()`) and `named_buffers()` lists it; None registers
        an absent buffer. A NumPy array is copied into a constant tensor. A
        tensor that requires grad is refused: it would be neither trained nor
        have its gradient cleared. The name is checked as `register_parameter`
        checks it.
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError(
                f"cannot register buffer {name!r} before "
                f"{type(self).__name__}.__init__() calls super().__init__()"
            )
        self._check_new_name(name, "buffer", self._buffers)
        if not isinstance(persistent, bool):
            raise TypeError(
                f"{type(self).__name__}.register_buffer(): persistent must be a bool, "
                f"got {persistent!r}"
            )
        if tensor is not None and not isinstance(tensor, Tensor | np.ndarray):
            raise TypeError(
                f"{type(self).__name__}: cannot register a {type(tensor).__name__} as buffer "
                f"{name!r} (a Tensor, NumPy array or None is expected)"
            )
        self._buffers[name] = self._as_buffer(name, tensor)
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def _as_buffer(self, name: str, value: Tensor | np.ndarray | None) -> Tensor | None:
        """`value` as buffer `name` holds it: a tensor as it is (shared, as in PyTorch), an
        array copied into a constant tensor; one that requires grad is refused."""
        owner = type(self).__name__
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biuf":
                raise TypeError(
                    f"{owner}: buffer {name!r} must hold numbers, got dtype {value.dtype}"
                )
            return from_numpy(value.copy())
        if value is not None and value.requires_grad:
            raise ValueError(
                f"{owner}: buffer {name!r} requires grad, but a buffer is not trained (not in "
                "parameters()); register a Parameter to train it, or pass tensor.detach()"
            )
        return value

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a sub-module under `name` (which need not be an identifier, e.g. '0').

        The name is checked as `register_parameter` checks it.
        """
        if module is not None and not isinstance(module, Module):
            raise TypeError(
                f"{type(self).__name__}: item {name!r} is a {type(module).__name__}, not a Module"
            )
        self._check_new_name(name, "module", self._modules)
        if module is None:
            self._modules[name] = None
        else:
            setattr(self, name, module)

    # ----- calling -----
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._scope is None:
            return self.forward(*args, **kwargs)
        with scope(self._scope):
            return self.forward(*args, **kwargs)

    # ----- modes and gradients -----
    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout active) on this module and every descendant."""
        if not isinstance(mode, bool | np.bool_):
            raise ValueError(f"{type(self).__name__}.train(): mode must be a bool, got {mode!r}")
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Set evaluation mode (Dropout is the identity)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set `requires_grad` on every parameter, as PyTorch's; returns self.

        `requires_grad_(False)` freezes the module (for fine-tuning part of a
        model): backward gives its parameters no gradient from then on.
        """
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: set it to None (default) or to zeros
        (see `zero_grads`)."""
        zero_grads(self.parameters(), set_to_none)

    def to(self, dtype: Any) -> Module:
        """Convert every parameter and floating buffer to `dtype` in place; returns self.

        As in PyTorch, integer and boolean buffers (counts, masks) keep their dtype.
        """
        try:
            if dtype is None:  # np.dtype(None) would be float64
                raise TypeError
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(
                f"to(): expected a floating dtype such as np.float64 (parameters are NumPy "
                f"arrays; there are no devices), got {dtype!r}"
            ) from None
        if dtype.kind != "f":
            raise TypeError(f"to(): parameters must stay floating, got dtype {dtype}")
        for tensor in (*self.parameters(), *self.buffers()):
            if tensor.dtype.kind == "f":
                tensor.data = tensor.data.astype(dtype)
                tensor.grad = None if tensor.grad is None else tensor.grad.astype(dtype)
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)


def not_parameters(value: Any) -> str | None:
    """Why `value` cannot be a collection of parameters, as "got <type>..." for an error;
    None if it may be one. A module is named with the fix: a container such as
    `Sequential` is iterable, but over its layers, not its parameters."""
    if isinstance(value, Module):
        return f"got {type(value).__name__}; pass module.parameters()"
    if not isinstance(value, Iterable):
        return f"got {type(value).__name__}"
    return None
