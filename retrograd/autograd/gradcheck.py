"""`gradcheck`: compare analytic gradients with float64 central differences."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from retrograd.autograd.graph import enable_grad, no_grad
from retrograd.autograd.tensor import Tensor


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numeric one; the message says where."""


class PrecisionWarning(UserWarning):
    """Inputs were promoted to float64 for the check."""


def gradcheck(
    fn: Callable[..., Tensor],
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    full_jacobian_limit: int = 20_000,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check d fn(*inputs) / d input for every floating input that requires grad.

    The check runs in float64 on copies of the inputs. When (output size) x
    (total input size) is at most `full_jacobian_limit`, the whole Jacobian is
    compared; otherwise the output is projected on a random vector and the
    gradient is checked along random directions and at sampled elements.
    On failure it raises `GradcheckError` naming the input, the worst element
    and both values (or returns False when `raise_exception=False`).
    """
    leaves, checked = _float64_copies(inputs)
    with enable_grad():
        out = fn(*leaves)
    if not isinstance(out, Tensor) or out.dtype.kind != "f":
        raise TypeError("gradcheck(): fn must return a floating Tensor")
    if not out.requires_grad:
        raise RuntimeError("gradcheck(): fn's output does not depend on any checked input")
    if out.size == 0:
        return True  # an empty output has an empty Jacobian: nothing can be wrong
    total = sum(leaves[i].size for i in checked)
    check = _full_jacobian if out.size * total <= full_jacobian_limit else _projected
    failure = check(fn, leaves, checked, out, eps, atol, rtol, np.random.default_rng(seed))
    if failure is None:
        return True
    if raise_exception:
        raise GradcheckError(failure)
    return False


def _float64_copies(inputs: Sequence[Any]) -> tuple[list[Tensor], list[int]]:
    leaves, checked, promoted = [], [], []
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            leaves.append(x)
            continue
        if x.dtype.kind == "f" and x.requires_grad:
            if x.dtype != np.float64:
                promoted.append(i)
            leaf = Tensor(x.data.astype(np.float64), requires_grad=True, name=x.name)
            checked.append(i)
        else:
            leaf = x.detach()
        leaves.append(leaf)
    if not checked:
        raise ValueError("gradcheck(): no input is a floating Tensor with requires_grad=True")
    if promoted:
        warnings.warn(
            f"gradcheck: inputs {promoted} were promoted to float64 for the check; "
            "float32 is too coarse for central differences",
            PrecisionWarning,
            stacklevel=3,
        )
    return leaves, checked


def _numeric_values(fn: Callable, leaves: list) -> np.ndarray:
    with no_grad():
        return np.array(fn(*leaves).data, dtype=np.float64).ravel()  # a copy: outputs may be views


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
    name = f" ({leaves[i].name!r})" if leaves[i].name else ""
    return f"input {i}{name} of shape {leaves[i].shape}"


def _analytic(leaves: list, checked: list[int], out: Tensor, seed_grad: np.ndarray) -> list:
    for i in checked:
        leaves[i].grad = None
    out.backward(seed_grad.reshape(out.shape), retain_graph=True)
    return [
        np.zeros(leaves[i].shape) if leaves[i].grad is None else leaves[i].grad.copy()
        for i in checked
    ]


def _fault(numeric: float, analytic: float) -> str:
    """How a compared pair is described: "non-finite" when either is NaN or infinite."""
    return "wrong" if np.isfinite(numeric) and np.isfinite(analytic) else "non-finite"


def _full_jacobian(fn, leaves, checked, out, eps, atol, rtol, rng) -> str | None:
    rows = []
    for k in range(out.size):
        seed_grad = np.zeros(out.size)
        seed_grad[k] = 1
        rows.append(_analytic(leaves, checked, out, seed_grad))
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
    where = np.unravel_index(k, out.shape)
    return (
        f"gradcheck: {_fault(numeric, analytic)} gradient for {_describe(leaves, i)} at element "
        f"{tuple(map(int, element))} (output element {tuple(map(int, where))}): "
        f"numeric {numeric:.8g}, analytic {analytic:.8g} (atol={atol}, rtol={rtol})"
    )


def _projected(fn, leaves, checked, out, eps, atol, rtol, rng, samples: int = 8) -> str | None:
    weights = rng.standard_normal(out.size)
    grads = _analytic(leaves, checked, out, weights)
    for pos, i in enumerate(checked):
        broken = np.flatnonzero(~np.isfinite(grads[pos]))
        if broken.size:  # found here, not only as a NaN along some direction
            element = tuple(map(int, np.unravel_index(broken[0], leaves[i].shape)))
            return (
                f"gradcheck: non-finite gradient for {_describe(leaves, i)} at element {element} "
                f"(output projected on random weights): analytic {grads[pos].flat[broken[0]]:.8g}"
            )
        size = leaves[i].size
        elements = rng.choice(size, size=min(samples, size), replace=False)
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
