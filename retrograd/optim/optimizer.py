"""`Optimizer`: parameter groups, per-parameter state, `step`, `zero_grad`, state dicts.

The conventions are PyTorch's, so training loops and checkpoints read the
same: an optimizer holds a list of parameter groups (dicts with the tensors
under "params" and the hyperparameters beside them), per-parameter state in
`state`, and `state_dict()` numbers the parameters 0, 1, ... across groups
so that a saved state can be loaded into a fresh optimizer over new tensors.
Updates are written in place into `param.data`, in the parameter's dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from numbers import Integral, Real
from typing import Any

import numpy as np

from retrograd.autograd import ShapeError, Tensor, enable_grad
from retrograd.autograd.functional import is_integer
from retrograd.nn.module import Parameter, _is_subpath, not_parameters
from retrograd.nn.params import zero_grads

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]
# The key of a saved param group listing its parameters' names (torch's key).
PARAM_NAMES = "param_names"


class Optimizer:
    """Base class: subclasses set `defaults`, validate a group, and update one parameter.

    `params` is an iterable of tensors that require grad (or frozen
    `Parameter`s), or a list of dicts (parameter groups) each with a "params"
    entry and optional hyperparameters that override the defaults for that group.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor | dict):
            raise TypeError(
                f"{self._name}: params must be an iterable of tensors or of param-group dicts, "
                f"got a single {type(params).__name__}; wrap it in a list"
            )
        groups = self._ordered(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params")
        return "\n".join([*lines, ")"])

    # ----- groups -----
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (defaults fill the rest)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name}: a param group must be a dict, got {type(param_group)}")
        if "params" not in param_group:
            raise ValueError(f"{self._name}: a param group needs a 'params' entry")
        params = param_group["params"]
        if isinstance(params, dict):
            raise TypeError(
                f"{self._name}: 'params' of group {len(self.param_groups)} is a dict; "
                "give its tensors as a list (list(d.values()))"
            )
        params = [params] if isinstance(params, Tensor) else self._ordered(params)
        seen = {p for group in self.param_groups for p in group["params"]}
        for i, p in enumerate(params):
            where = f"param {i} of group {len(self.param_groups)}"
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._name}: {where} is {_not_a_tensor(p)}")
            # A frozen Parameter is taken, as PyTorch takes it: it is skipped while it has
            # no gradient and trains once unfrozen. A plain tensor that does not require
            # grad is more likely a mistake.
            if not p.requires_grad and not isinstance(p, Parameter):
                raise ValueError(f"{self._name}: {where} does not require grad")
            if not p.is_leaf:
                raise ValueError(f"{self._name}: {where} is not a leaf tensor; optimize leaves")
            if p in seen:
                raise ValueError(f"{self._name}: {where} appears more than once in the optimizer")
            seen.add(p)
        group = {**self.defaults, **param_group, "params": params}
        self._validate(group)
        self.param_groups.append(group)

    def _ordered(self, params: Iterable[Any]) -> list[Any]:
        """`params` as a list; sets (no order to number them by) and non-iterables are refused."""
        if isinstance(params, set | frozenset):
            raise TypeError(
                f"{self._name}: parameters must be in an ordered collection (list, tuple), "
                "not a set: their order numbers them in state_dict()"
            )
        problem = not_parameters(params)
        if problem:
            raise TypeError(
                f"{self._name}: params must be an iterable of tensors or of param-group dicts, "
                f"{problem}"
            )
        return list(params)

    def _validate(self, group: dict[str, Any]) -> None:
        """Raise a clear error for a bad hyperparameter in `group` (may normalise values)."""
        raise NotImplementedError

    # ----- stepping -----
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set `.grad` to None (default) or to zeros, in place where
        the array allows (see `retrograd.nn.params.zero_grads`)."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns `closure()`'s loss if given.

        The closure, when given, re-evaluates the model and returns the loss
        (it runs with gradient recording on, as in PyTorch).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        states = self.state
        for g, group in enumerate(self.param_groups):
            for i, p in enumerate(group["params"]):
                grad = p.grad
                if grad is None:
                    continue
                data = p._data
                # The common case passes these tests; anything else gets the full check.
                if (
                    type(grad) is not np.ndarray
                    or grad.dtype != data.dtype
                    or grad.shape != data.shape
                    or not data.flags.writeable
                ):
                    grad = self._checked_grad(p, f"param {i} of group {g}")
                state = states.get(p)
                if state is None:
                    state = states[p] = {}
                self._update(data, grad, group, state)
                # An update between a forward and its backward would corrupt saved values:
                # counting it lets backward refuse instead.
                p._bump_version()
        return loss

    def _checked_grad(self, p: Tensor, where: str) -> np.ndarray:
        """The gradient of `p` in `p`'s dtype, after checking it fits (clear errors if not)."""
        label = f"{self._name}.step(): {where}" + (f" ({p.name})" if p.name else "")
        grad = p.grad
        if not isinstance(grad, np.ndarray):
            raise TypeError(f"{label} has a .grad of type {type(grad).__name__}, not an ndarray")
        if grad.shape != p.data.shape:
            raise ShapeError(f"{label}: gradient shape {grad.shape} != parameter {p.data.shape}")
        if not p.data.flags.writeable:
            raise ValueError(f"{label}: parameter data is read-only; updates are in place")
        return grad if grad.dtype == p.data.dtype else grad.astype(p.data.dtype)

    def _update(
        self, param: np.ndarray, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any]
    ) -> None:
        """Apply one update to `param` in place; `state` is this parameter's state dict."""
        raise NotImplementedError

    # ----- state dicts -----
    def state_dict(self) -> dict[str, Any]:
        """A snapshot {"state": {index: {...}}, "param_groups": [{..., "params": [index]}]}.

        Parameters are numbered in group order; arrays are copies, so later
        steps do not change a state dict already taken. A group whose
        parameters all have names (a module's parameters: their dotted paths)
        also lists them under "param_names", as torch does for named
        parameters, so that a load can tell a parameter order that changed.
        """
        index: dict[Tensor, int] = {}
        groups = []
        for group in self.param_groups:
            ids = [index.setdefault(p, len(index)) for p in group["params"]]
            saved = {**{k: v for k, v in group.items() if k != "params"}, "params": ids}
            names = [p.name for p in group["params"]]
            if all(isinstance(name, str) for name in names):
                saved[PARAM_NAMES] = names
            groups.append(saved)
        state = {
            i: {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in self.state[p].items()}
            for p, i in index.items()
            if self.state.get(p)
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by `state_dict()` onto this optimizer's params.

        The groups must have the same sizes as now, and where the state dict
        names its parameters, the same names in the same order (a name may
        have gained or lost a module prefix); state arrays must have their
        parameter's shape and are copied in the parameter's dtype. Every
        problem found is reported in one error.
        """
        label = f"{self._name}.load_state_dict()"
        if not isinstance(state_dict, dict):
            raise TypeError(
                f"{label}: expected a dict from state_dict(), got {type(state_dict).__name__}"
            )
        if {"state", "param_groups"} - state_dict.keys():
            raise ValueError(f"{label}: expected a dict with 'state' and 'param_groups'")
        saved_groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if not isinstance(saved_groups, list | tuple) or not all(
            isinstance(saved, dict) for saved in saved_groups
        ):
            raise ValueError(f"{label}: 'param_groups' must be a list of dicts, one per group")
        if not isinstance(saved_state, dict) or not all(
            isinstance(entries, dict) for entries in saved_state.values()
        ):
            raise ValueError(f"{label}: 'state' must be a dict of dicts, one per parameter")
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{label}: the state dict has {len(saved_groups)} param groups, "
                f"this optimizer has {len(self.param_groups)}"
            )
        problems: list[str] = []
        params: dict[int, Tensor] = {}
        new_groups = []
        for g, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            ids = saved.get("params", ())
            if not isinstance(ids, list | tuple) or not all(is_integer(i) for i in ids):
                problems.append(f"param group {g} 'params' is not a list of parameter indices")
                ids = []
            elif len(ids) != len(group["params"]):
                problems.append(
                    f"param group {g} has {len(ids)} params saved, {len(group['params'])} now"
                )
            missing = sorted(self.defaults.keys() - saved.keys())
            if missing:
                problems.append(f"param group {g} lacks {missing} (saved by another optimizer?)")
            problems.extend(_moved_params(g, saved.get(PARAM_NAMES), group["params"]))
            params.update(zip(ids, group["params"]))
            kept = {k: v for k, v in saved.items() if k != PARAM_NAMES}
            new_groups.append({**kept, "params": group["params"]})
        state: dict[Tensor, dict[str, Any]] = {}
        for key, entries in saved_state.items():
            p = params.get(int(key)) if isinstance(key, Integral) else None
            if p is None:
                problems.append(f"state for parameter {key!r}, which no param group holds")
                continue
            state[p] = {}
            for name, value in entries.items():
                if isinstance(value, np.ndarray) and value.shape != p.shape:
                    problems.append(
                        f"state {key}[{name!r}] has shape {value.shape}, param {p.shape}"
                    )
                elif isinstance(value, np.ndarray):
                    value = value.astype(p.dtype, copy=True)
                state[p][name] = value
        if problems:
            raise ValueError(f"{label}: " + "; ".join(problems))
        for group in new_groups:
            self._validate(group)
        self.param_groups = new_groups
        self.state = state


def _moved_params(g: int, saved_names: Any, params: list[Tensor]) -> list[str]:
    """Problems with loading group `g`'s state onto `params`, given the names it was saved
    with: a parameter whose name differs is another parameter, and the state saved for one
    would silently drive the other (shapes alone cannot tell two (H, H) weights apart)."""
    if saved_names is None:  # a state dict from before names were saved, or unnamed tensors
        return []
    if not isinstance(saved_names, list | tuple) or not all(
        isinstance(name, str) for name in saved_names
    ):
        return [f"param group {g} '{PARAM_NAMES}' is not a list of names"]
    # A name that gained or lost a module prefix (a layer saved alone, then loaded inside a
    # model) names the same parameter.
    moved = [
        f"param {i} was saved as {old!r} and is {p.name!r} now"
        for i, (old, p) in enumerate(zip(saved_names, params))
        if isinstance(p.name, str) and not (_is_subpath(old, p.name) or _is_subpath(p.name, old))
    ]
    if not moved:
        return []
    return [
        f"param group {g}: {'; '.join(moved)} (the parameters are in another order: build the "
        f"optimizer over them in the order it was saved with; if only their names changed, "
        f"delete the groups' {PARAM_NAMES!r} to load by position)"
    ]


def _not_a_tensor(value: Any) -> str:
    """How a non-tensor in a parameter list is described; a (name, tensor) pair, as
    `named_parameters()` yields, gets the fix."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], Tensor):
        return (
            "a (name, tensor) pair, not a Tensor; pass module.parameters(), not named_parameters()"
        )
    return f"a {type(value).__name__}, not a Tensor"


def check_number(
    owner: str,
    name: str,
    value: Any,
    low: float = 0.0,
    high: float = math.inf,
    *,
    upto: bool = False,
) -> None:
    """Raise unless `value` is a real number in [low, high) ([low, high] with `upto`; never NaN)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__}")
    if not (low <= value <= high if upto else low <= value < high):
        if math.isinf(high):
            bounds = f">= {low} and finite"
        else:
            bounds = f"in [{low}, {high}" + ("]" if upto else ")")
        raise ValueError(f"{owner}: invalid {name} {value!r}; it must be {bounds}")


def check_pair(owner: str, name: str, value: Any, meaning: str) -> tuple[Any, Any]:
    """`value` as a pair of real numbers, refused naming `name` unless it is one; `meaning`
    says what the two are, as "(min, max)"."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise ValueError(f"{owner}: {name} must be a pair {meaning}, got {value!r}")
    for i, item in enumerate(value):
        check_number(owner, f"{name}[{i}]", item, low=-math.inf)
    return value[0], value[1]


def check_count(owner: str, name: str, value: Any, low: int) -> None:
    """Raise unless `value` is an integer >= `low`: a TypeError for a float or bool (cut or
    taken as 0 or 1 silently otherwise), a ValueError for one out of range."""
    problem = f"{owner}: {name} must be an integer >= {low}, got {value!r}"
    if not is_integer(value):
        raise TypeError(problem)
    if value < low:
        raise ValueError(problem)
