"""`gradcheck`: compare analytic gradients with float64 central differences."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from retrograd.autograd.functional import is_integer
from retrograd.autograd.graph import enable_grad, no_grad, topological_order
from retrograd.autograd.tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numeric one; the message says where."""


class PrecisionWarning(UserWarning):
    """Inputs were promoted to float64 for the check."""


def gradcheck(
    fn: Callable[..., Tensor | Sequence[Tensor]],
    inputs: Tensor | Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    full_jacobian_limit: int = 20_000,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check d fn(*inputs) / d input for every floating input that requires grad.

    `inputs` is one Tensor or a sequence of arguments; `fn` returns a Tensor
    or a tuple of Tensors, whose integer and boolean outputs (indices) are
    skipped, as in PyTorch. A `fn` whose output changes between two calls on
    the same inputs (dropout in training mode) is refused: its differences
    would blame a correct gradient. The check runs in float64 on copies of the inputs
    (constants too), so `fn` cannot change the caller's data, and the `.grad`
    of other tensors `fn` uses (a module's parameters) is left as it was; a `fn` that
    modifies an input in place is refused, as its central differences would
    mean nothing. When (output size) x (total input size) is at most
    `full_jacobian_limit`, the whole Jacobian is compared; otherwise the
    output is projected on a random vector and the gradient is checked along
    two random directions and at every element of each input (at 1,024 sampled
    elements of a larger input). On failure it raises
    `GradcheckError` naming the input, the worst element and both values (or
    returns False when `raise_exception=False`).
    """
    check_tolerances(eps, atol, rtol)
    check_options(fn, full_jacobian_limit, seed)
    leaves, checked = _copies([inputs] if isinstance(inputs, Tensor) else inputs)
    with enable_grad():
        outs = _outputs(_call(fn, leaves))
    if not any(out.requires_grad for out in outs):
        raise RuntimeError("gradcheck(): fn's output does not depend on any checked input")
    size = sum(out.size for out in outs)
    if size == 0:
        return True  # an empty output has an empty Jacobian: nothing can be wrong
    _check_repeatable(fn, leaves, outs, eps * atol)
    total = sum(leaves[i].size for i in checked)
    check = _full_jacobian if size * total <= full_jacobian_limit else _projected
    held = _other_leaves(outs, [leaves[i] for i in checked])
    try:
        failure = check(fn, leaves, checked, outs, eps, atol, rtol, np.random.default_rng(seed))
    finally:
        for tensor, grad in held:
            tensor.grad = grad
    if failure is None:
        return True
    coarse = sorted({str(out.dtype) for out in outs if out.dtype != np.float64})
    if coarse:
        failure += (
            f"; fn returned {' and '.join(coarse)} output from float64 inputs (a cast in fn?), "
            "too coarse for central differences unless eps is large"
        )
    if raise_exception:
        raise GradcheckError(failure)
    return False


def check_tolerances(eps: Any, atol: Any, rtol: Any) -> None:
    """A step of 0 divides by zero and a negative tolerance fails every check: refuse both."""
    for name, value, least in (("eps", eps, "> 0"), ("atol", atol, ">= 0"), ("rtol", rtol, ">= 0")):
        real = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if not (real and math.isfinite(value) and (value > 0 if name == "eps" else value >= 0)):
            raise ValueError(f"gradcheck(): {name} must be a finite number {least}, got {value!r}")


def check_options(fn: Any, full_jacobian_limit: Any, seed: Any) -> None:
    """Refuse a `fn` that cannot be called (TypeError), a limit or seed that is not an integer
    (TypeError) or is negative (ValueError)."""
    if not callable(fn):
        raise TypeError(f"gradcheck(): fn must be callable, got {type(fn).__name__}")
    for name, value in (("full_jacobian_limit", full_jacobian_limit), ("seed", seed)):
        problem = f"gradcheck(): {name} must be an integer >= 0, got {value!r}"
        if not is_integer(value):
            raise TypeError(problem)
        if value < 0:
            raise ValueError(problem)


def _copies(inputs: Any) -> tuple[list[Any], list[int]]:
    """Float64 leaves for the checked inputs and copies of the constant arrays and tensors."""
    if not isinstance(inputs, Sequence) or isinstance(inputs, str):
        raise TypeError(
            f"gradcheck(): inputs must be a Tensor or a sequence of arguments, got {inputs!r}"
        )
    leaves, checked, promoted = [], [], []
    for i, x in enumerate(inputs):
        if isinstance(x, np.ndarray):
            leaves.append(x.copy())
            continue
        if not isinstance(x, Tensor):
            leaves.append(x)
            continue
        if x.dtype.kind == "f" and x.requires_grad:
            if x.dtype != np.float64:
                promoted.append((i, str(x.dtype)))
            leaf = Tensor(x.data.astype(np.float64), requires_grad=True, name=x.name)
            checked.append(i)
        else:
            leaf = Tensor(x.data.copy(), name=x.name)
        leaves.append(leaf)
    if not checked:
        raise ValueError("gradcheck(): no input is a floating Tensor with requires_grad=True")
    if promoted:
        indices, dtypes = [i for i, _ in promoted], sorted({dtype for _, dtype in promoted})
        warnings.warn(
            f"gradcheck: inputs {indices} were promoted to float64 for the check; "
            f"{' and '.join(dtypes)} is too coarse for central differences",
            PrecisionWarning,
            stacklevel=3,
        )
    return leaves, checked


def _other_leaves(outs: list[Tensor], checked: list[Tensor]) -> list[tuple[Tensor, Any]]:
    """The leaves fn reached besides the checked inputs (a module's parameters, a tensor
    fn closes over), each with its `.grad`, which is set aside for the check.

    The check runs many backward passes; like PyTorch's, it must leave no trace in
    gradients it does not check, or an optimizer step taken after it would use them.
    """
    seen = {id(x) for x in checked}
    reached = [out for out in outs if out.is_leaf]
    reached += [p for node in topological_order(outs) for p in node.parents if p.is_leaf]
    held = []
    for tensor in reached:
        if tensor.requires_grad and id(tensor) not in seen:
            seen.add(id(tensor))
            held.append((tensor, tensor.grad))
            tensor.grad = None
    return held


def _call(fn: Callable, leaves: list) -> Any:
    """fn(*leaves), refused when it modified one of its inputs in place."""
    versions = [x.version if isinstance(x, Tensor) else None for x in leaves]
    arrays = {i: x.copy() for i, x in enumerate(leaves) if isinstance(x, np.ndarray)}
    result = fn(*leaves)
    for i, x in enumerate(leaves):
        if (isinstance(x, Tensor) and x.version != versions[i]) or (
            i in arrays and not np.array_equal(x, arrays[i], equal_nan=x.dtype.kind in "fc")
        ):
            raise RuntimeError(
                f"gradcheck(): fn modified {_describe(leaves, i)} in place; central "
                "differences need every call to see the same inputs (work on a copy)"
            )
    return result


def _check_repeatable(fn: Callable, leaves: list, outs: list[Tensor], slack: float) -> None:
    """Refuse a `fn` whose outputs change from one call to the next (dropout in training
    mode, a random draw): its central differences measure the noise, and the failure would
    blame the gradient. `slack` (eps * atol) is a change too small to move them past atol."""
    first = np.concatenate([out.data.ravel() for out in outs], dtype=np.float64)
    again = _numeric_values(fn, leaves)
    if again.shape != first.shape:
        raise RuntimeError(
            f"gradcheck(): fn is not deterministic: two calls with the same inputs gave "
            f"{first.size} and then {again.size} output elements"
        )
    moved = ~np.isclose(first, again, rtol=0, atol=slack, equal_nan=True)
    if moved.any():
        k = int(np.argmax(moved))
        raise RuntimeError(
            f"gradcheck(): fn is not deterministic: two calls with the same inputs gave "
            f"{first[k]:.8g} and then {again[k]:.8g} at {_output_element(outs, k)}; central "
            "differences need the same output for the same input (call module.eval() to "
            "turn dropout off, or draw random numbers from a generator made inside fn)"
        )


def _outputs(result: Any) -> list[Tensor]:
    """fn's result as a list of floating Tensors, one per output.

    An integer or boolean output (indices, a mask) has no gradient and is not
    checked, as in PyTorch: it stands in the list as an empty tensor, so the
    other outputs keep their numbers in failure messages.
    """
    outs = list(result) if isinstance(result, tuple | list) else [result]
    for k, out in enumerate(outs):
        if not isinstance(out, Tensor):
            what = "fn's output" if len(outs) == 1 else f"fn's output {k}"
            raise TypeError(f"{_MUST_RETURN}; {what} is {_kind(out)}")
    if all(out.dtype.kind != "f" for out in outs):
        kinds = ", ".join(_kind(out) for out in outs)
        raise TypeError(f"{_MUST_RETURN}; fn returned {kinds}")
    return [out if out.dtype.kind == "f" else _NO_GRADIENT for out in outs]


_MUST_RETURN = "gradcheck(): fn must return a floating Tensor or a tuple of them"
_NO_GRADIENT = Tensor(np.empty(0))
"""The stand-in for an output without gradient: nothing to compare."""


def _kind(value: Any) -> str:
    return f"a {value.dtype} Tensor" if isinstance(value, Tensor) else f"{type(value).__name__}"


def _numeric_values(fn: Callable, leaves: list) -> np.ndarray:
    with no_grad():
        outs = _outputs(_call(fn, leaves))
    # np.concatenate copies: outputs may be views of the perturbed inputs.
    return np.concatenate([out.data.ravel() for out in outs], dtype=np.float64)


def _numeric_derivative(fn: Callable, leaves: list, i: int, direction: np.ndarray, eps: float):
    """Central difference of fn's flattened output along `direction` in input i."""
    data = leaves[i].data
    original = data.copy()
    data += eps * direction
    plus = _numeric_values(fn, leaves)
    data[...] = original - eps * direction
    minus = _numeric_values(fn, leaves)
    data[...] = original
    return (plus - minus) / (2 * eps)


def _describe(leaves: list, i: int) -> str:
    name = f" ({leaves[i].name!r})" if isinstance(leaves[i], Tensor) and leaves[i].name else ""
    return f"input {i}{name} of shape {np.shape(leaves[i])}"


def _output_element(outs: list[Tensor], k: int) -> str:
    """Where flat index k of the concatenated outputs is, as the failure message says it."""
    for n, out in enumerate(outs):
        if k < out.size:
            element = tuple(map(int, np.unravel_index(k, out.shape)))
            return (
                f"output element {element}" if len(outs) == 1 else f"output {n} element {element}"
            )
        k -= out.size
    raise IndexError(k)


def _analytic(leaves: list, checked: list[int], outs: list[Tensor], seed_grad: np.ndarray) -> list:
    for i in checked:
        leaves[i].grad = None
    start = 0
    for out in outs:  # gradients from several outputs accumulate in the leaves
        if out.requires_grad:
            out.backward(seed_grad[start : start + out.size].reshape(out.shape), retain_graph=True)
        start += out.size
    return [
        np.zeros(leaves[i].shape) if leaves[i].grad is None else leaves[i].grad.copy()
        for i in checked
    ]


def _fault(numeric: float, analytic: float) -> str:
    """How a compared pair is described: "non-finite" when either is NaN or infinite."""
    return "wrong" if np.isfinite(numeric) and np.isfinite(analytic) else "non-finite"


def _full_jacobian(fn, leaves, checked, outs, eps, atol, rtol, rng) -> str | None:
    size = sum(out.size for out in outs)
    rows = []
    for k in range(size):
        seed_grad = np.zeros(size)
        seed_grad[k] = 1
        rows.append(_analytic(leaves, checked, outs, seed_grad))
    worst = None
    for pos, i in enumerate(checked):
        analytic = np.stack([r[pos].ravel() for r in rows])  # (outputs, elements)
        for j in range(leaves[i].size):
            direction = np.zeros(leaves[i].shape)
            direction.flat[j] = 1
            numeric = _numeric_derivative(fn, leaves, i, direction, eps)
            excess = np.abs(analytic[:, j] - numeric) - (atol + rtol * np.abs(numeric))
            # NaN compares False with any tolerance: a non-finite value fails outright.
            excess[~(np.isfinite(analytic[:, j]) & np.isfinite(numeric))] = np.inf
            k = int(np.argmax(excess))
            if excess[k] > 0 and (worst is None or excess[k] > worst[0]):
                worst = (excess[k], i, j, k, numeric[k], analytic[k, j])
    if worst is None:
        return None
    _, i, j, k, numeric, analytic = worst
    element = np.unravel_index(j, leaves[i].shape)
    return (
        f"gradcheck: {_fault(numeric, analytic)} gradient for {_describe(leaves, i)} at element "
        f"{tuple(map(int, element))} ({_output_element(outs, k)}): "
        f"numeric {numeric:.8g}, analytic {analytic:.8g} (atol={atol}, rtol={rtol})"
    )


def _projected(fn, leaves, checked, outs, eps, atol, rtol, rng, samples: int = 1024) -> str | None:
    weights = rng.standard_normal(sum(out.size for out in outs))
    grads = _analytic(leaves, checked, outs, weights)
    for pos, i in enumerate(checked):
        broken = np.flatnonzero(~np.isfinite(grads[pos]))
        if broken.size:  # found here, not only as a NaN along some direction
            element = tuple(map(int, np.unravel_index(broken[0], leaves[i].shape)))
            return (
                f"gradcheck: non-finite gradient for {_describe(leaves, i)} at element {element} "
                f"(output projected on random weights): analytic {grads[pos].flat[broken[0]]:.8g}"
            )
        size = leaves[i].size
        # Every element while that is cheap: a gradient wrong at one element only is
        # found at no other element, and random directions drown a small error in it.
        elements = np.arange(size) if size <= samples else rng.choice(size, samples, replace=False)
        probes = [("element", j) for j in elements] + [("direction", None)] * 2
        for kind, j in probes:
            if kind == "element":
                direction = np.zeros(leaves[i].shape)
                direction.flat[j] = 1
            else:
                direction = rng.standard_normal(leaves[i].shape)
            numeric = float(weights @ _numeric_derivative(fn, leaves, i, direction, eps))
            analytic = float(np.sum(grads[pos] * direction))
            fault = _fault(numeric, analytic)
            if fault == "non-finite" or abs(analytic - numeric) > atol + rtol * abs(numeric):
                what = (
                    f"element {tuple(map(int, np.unravel_index(j, leaves[i].shape)))}"
                    if kind == "element"
                    else "a random direction"
                )
                return (
                    f"gradcheck: {fault} gradient for {_describe(leaves, i)} at {what} "
                    f"(output projected on random weights): numeric {numeric:.8g}, "
                    f"analytic {analytic:.8g} (atol={atol}, rtol={rtol})"
                )
    return None
