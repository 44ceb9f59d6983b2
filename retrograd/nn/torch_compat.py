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
    return OrderedDict(
        (name, torch.from_numpy(np.array(getattr(value, "data", value), copy=True)))
        for name, value in state.items()
    )


def from_torch_state_dict(state: Mapping[str, Any]) -> OrderedDict[str, np.ndarray]:
    """A state dict of NumPy arrays (copied) from a PyTorch state dict or module.

    Pass the result to `Module.load_state_dict`.
    """
    torch = _import_torch("from_torch_state_dict")
    if isinstance(state, torch.nn.Module):
        state = state.state_dict()
    out = OrderedDict()
    for name, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(
                f"from_torch_state_dict(): {name!r} is a {type(value).__name__}, not a torch.Tensor"
            )
        out[name] = value.detach().cpu().numpy().copy()
    return out
