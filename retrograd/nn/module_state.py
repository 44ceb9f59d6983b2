"""Saving and loading a `Module`'s parameters and persistent buffers as a state dict of
NumPy arrays, a mixin.

`state_dict` and `load_state_dict` follow PyTorch's conventions, so a dict
moves between a model here and the equivalent torch module; a load that does
not fit raises one `StateDictError` listing every problem and changes nothing.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from retrograd.autograd import Tensor


class IncompatibleKeys(NamedTuple):
    """What `Module.load_state_dict` could not match: keys the model has that the dict lacks,
    and keys the dict has that the model lacks."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class StateDictError(RuntimeError):
    """A state dict does not fit the module; the message lists every problem at once."""


class StateDictMethods:
    """The state-dict methods of `Module`, over its `_state_items`."""

    __slots__ = ()

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """A copy of every parameter and persistent buffer as a NumPy array, keyed by
        dotted name.

        As in PyTorch, each module's parameters come first, then its
        buffers, then its sub-modules'; a shared (tied) tensor is listed
        under every name it is reachable by, so the dict loads into the
        equivalent torch module.
        """
        return OrderedDict(
            (name, tensor.data.copy()) for name, tensor in self._state_items(remove_duplicate=False)
        )

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from `state` into the parameters and persistent buffers of the same
        name.

        Shape or dtype mismatches always refuse the load; with `strict`, so do
        missing or unexpected keys. A shared tensor is loaded from any of its
        names, and the names given for it must hold equal arrays. Every
        problem is listed in one `StateDictError`, and on error nothing is
        changed.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"{type(self).__name__}.load_state_dict(): expected a mapping of parameter "
                f"name -> array, got {type(state).__name__}"
            )
        params = dict(self._state_items(remove_duplicate=False))
        given = {id(params[name]) for name in state if name in params}
        missing = [name for name, param in params.items() if id(param) not in given]
        unexpected = [name for name in state if name not in params]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {', '.join(missing)}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {', '.join(unexpected)}")
        arrays: dict[int, tuple[str, np.ndarray]] = {}
        for name, param in params.items():
            if name not in state:
                continue
            value = state[name]
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != param.shape:
                problems.append(
                    f"{name}: shape {array.shape} in the state dict, {param.shape} in the model"
                )
            elif array.dtype.newbyteorder("=") != param.dtype:  # byte order aside
                problems.append(
                    f"{name}: dtype {array.dtype} in the state dict, {param.dtype} in the model"
                )
            elif id(param) not in arrays:
                arrays[id(param)] = (name, array)
            elif not np.array_equal(arrays[id(param)][1], array, equal_nan=True):
                problems.append(
                    f"{name}: differs from {arrays[id(param)][0]}, which names the same "
                    "shared tensor"
                )
        if problems:
            raise StateDictError(
                f"cannot load state dict into {type(self).__name__}:\n  " + "\n  ".join(problems)
            )
        for name, array in arrays.values():
            params[name].data = array.astype(params[name].dtype)  # a copy, in native byte order
        return IncompatibleKeys(missing, unexpected)
