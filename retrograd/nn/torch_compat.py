"""Moving weights to and from PyTorch: state dicts keep their names, shapes and layouts.

Our layers use PyTorch's parameter names, shapes and gate orders, so a state
dict converts tensor by tensor. PyTorch is imported only when a function
here is called.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from retrograd.nn.module import Module


def _import_torch(fn: str) -> Any:
    try:
        import torch
    except ImportError as err:
        raise ImportError(
            f"{fn}() needs PyTorch, which is not installed: pip install torch"
        ) from err
    return torch


def to_torch_state_dict(source: Module | Mapping[str, Any]) -> OrderedDict:
    """A PyTorch state dict (name -> torch.Tensor, copied) from a module or a state dict.

    Load it with `torch_module.load_state_dict(...)`; dtypes are kept, so
    convert the torch module to match (e.g. `.double()`) for float64 weights.
    """
    torch = _import_torch("to_torch_state_dict")
    state = source.state_dict() if isinstance(source, Module) else source
    if not isinstance(state, Mapping):
        raise TypeError(
            f"to_torch_state_dict(): expected a retrograd Module or a state dict, "
            f"got {type(source).__name__}"
        )
    return OrderedDict(
        (name, _from_numpy(torch, name, getattr(value, "data", value)))
        for name, value in state.items()
    )


def _from_numpy(torch: Any, name: str, value: Any) -> Any:
    """A torch copy of one state-dict entry, or an error naming the entry."""
    array = np.array(value, copy=True)
    try:
        return torch.from_numpy(array)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"to_torch_state_dict(): {name!r} (dtype {array.dtype}) has no torch form: {err}"
        ) from None


def from_torch_state_dict(state: Mapping[str, Any]) -> OrderedDict[str, np.ndarray]:
    """A state dict of NumPy arrays (copied) from a PyTorch state dict or module.

    Pass the result to `Module.load_state_dict`.
    """
    torch = _import_torch("from_torch_state_dict")
    if isinstance(state, torch.nn.Module):
        state = state.state_dict()
    if not isinstance(state, Mapping):
        raise TypeError(
            f"from_torch_state_dict(): expected a torch module or state dict, "
            f"got {type(state).__name__}"
        )
    return OrderedDict((name, _to_numpy(torch, name, value)) for name, value in state.items())


def _to_numpy(torch: Any, name: str, value: Any) -> np.ndarray:
    """A NumPy copy of one torch tensor, or an error naming the entry and what to convert."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"from_torch_state_dict(): {name!r} is a {type(value).__name__}, not a torch.Tensor"
        )
    tensor = value.detach().cpu().resolve_conj().resolve_neg()
    try:
        return tensor.numpy().copy()
    except (TypeError, RuntimeError) as err:  # bfloat16, float8, sparse: no NumPy form
        raise TypeError(
            f"from_torch_state_dict(): {name!r} ({tensor.dtype}, {tensor.layout}) has no NumPy "
            f"form ({err}); convert it in torch first, e.g. .float() or .to_dense()"
        ) from None
