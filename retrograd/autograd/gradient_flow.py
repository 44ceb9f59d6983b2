"""Gradient flow through time: the norm of the gradient reaching each step's hidden state.

A recurrent network records each time step under `scope("t=N")` (possibly
inside a module scope such as `"rnn/t=N"`). After `loss.backward()`, hidden
states that called `retain_grad()` keep their `.grad`; the norm of that
gradient per step shows whether gradients vanish or explode as they travel
back through time. This module finds those tensors, tabulates the norms,
plots them, and maps them to the colours the graph drawing uses.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd.graph import topological_order
from retrograd.autograd.tensor import Tensor

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_STEP = re.compile(r"t=(\d+)")

StepKey = tuple[str, int]
"""A time step: the scope path around its `t=N` label ("" at top level) and N."""


def step_of(scope: str | None) -> StepKey | None:
    """The time step a scope string names, from its last `t=N` component, else None.

    `"rnn/t=3"` gives `("rnn", 3)`, `"t=0/gate"` gives `("", 0)`, `"decoder"` gives None.
    """
    if not scope:
        return None
    parts = scope.split("/")
    for i in range(len(parts) - 1, -1, -1):
        match = _STEP.fullmatch(parts[i])
        if match:
            return "/".join(parts[:i]), int(match.group(1))
    return None


def as_tensors(value: Any, where: str, what: str) -> list[Tensor]:
    """A tensor or a sequence of tensors as a non-empty list; an error naming `what` otherwise."""
    if isinstance(value, Tensor):
        return [value]
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(
            f"{where}: {what} must be a Tensor or a list of Tensors, got {type(value).__name__}"
        )
    items = list(value)
    if not items:
        raise ValueError(f"{where}: {what} is empty")
    for i, item in enumerate(items):
        if not isinstance(item, Tensor):
            raise TypeError(f"{where}: {what}[{i}] is a {type(item).__name__}, not a Tensor")
    return items


def hidden_state_norms(
    roots: Sequence[Tensor] = (), hidden: Sequence[Tensor] | None = None
) -> dict[StepKey, float]:
    """Gradient norm per time step, keyed by (scope path, step).

    Without `hidden`, the graph of `roots` is walked and every non-leaf tensor
    that kept a gradient (`retain_grad()`) and was made inside a `t=N` scope
    counts. With `hidden`, exactly those tensors count: each at the step of
    its scope, or, when it was made outside any time-step scope, at its
    position in the list. Several tensors of one step (an LSTM's h and c)
    combine into the norm of all their gradients together. A hidden state
    that will keep its gradient but has none yet (before `backward()`) has
    no norm; one that will never keep it is refused.
    """
    squares: dict[StepKey, float] = {}
    if hidden is not None:
        for position, t in enumerate(as_tensors(hidden, "hidden states", "hidden")):
            if t.grad is None and (t._retains_grad or (t._node is None and t.requires_grad)):
                continue
            if t.grad is None:
                raise ValueError(
                    f"hidden state {position} has no gradient: call retain_grad() on it "
                    "before backward()"
                )
            key = step_of(t._node.scope if t._node is not None else None) or ("", position)
            squares[key] = squares.get(key, 0.0) + _square_sum(t.grad)
        return {key: math.sqrt(value) for key, value in squares.items()}
    seen: set[int] = set()
    for t in _retained(roots):
        if id(t) in seen:
            continue
        seen.add(id(t))
        key = step_of(t._node.scope)
        if key is not None:
            squares[key] = squares.get(key, 0.0) + _square_sum(t.grad)
    return {key: math.sqrt(value) for key, value in squares.items()}


def _retained(roots: Sequence[Tensor]) -> list[Tensor]:
    """Non-leaf tensors of the graph (parents of its nodes, and the roots) that hold a .grad."""
    found = [t for t in roots if t._node is not None and t.grad is not None]
    for node in topological_order(roots):
        found.extend(p for p in node.parents if p._node is not None and p.grad is not None)
    return found


def _square_sum(grad: np.ndarray) -> float:
    flat = np.asarray(grad, dtype=np.float64).ravel()
    return float(flat @ flat)


def gradient_norms(
    source: Tensor | Sequence[Tensor], *, within: str | None = None
) -> list[tuple[int, float]]:
    """The per-step table of hidden-state gradient norms: `[(step, norm), ...]` by step.

    `source` is the tensor `backward()` was called on (its graph is searched
    for retained hidden states), or the hidden states themselves in time
    order. Steps of several layers (`"layer0/t=3"`, `"layer1/t=3"`) combine
    into one norm per step unless `within` names one scope path (`"layer1"`).
    """
    if isinstance(source, Tensor):
        norms = hidden_state_norms([source])
    else:
        norms = hidden_state_norms(hidden=as_tensors(source, "gradient_norms()", "source"))
    if within is not None:
        norms = {k: v for k, v in norms.items() if k[0] == within or k[0].startswith(within + "/")}
    if not norms:
        where = f" within scope {within!r}" if within is not None else ""
        raise ValueError(
            f"gradient_norms(): no time-step tensor with a gradient was found{where}; build "
            "nn.RNN, LSTM or GRU with retain_hidden_grads=True, or record each step of your "
            "own loop under scope('t=N') and call retain_grad() on its hidden state, before "
            "backward(); or pass the hidden states themselves"
        )
    combined: dict[int, float] = {}
    for (_, step), norm in norms.items():
        combined[step] = combined.get(step, 0.0) + norm * norm
    return [(step, math.sqrt(combined[step])) for step in sorted(combined)]


def plot_gradient_norms(
    source: Tensor | Sequence[Tensor] | Sequence[tuple[int, float]],
    *,
    within: str | None = None,
    ax: Axes | None = None,
    label: str | None = None,
) -> Axes:
    """Plot hidden-state gradient norm against time step on a log scale; returns the axes.

    `source` is what `gradient_norms` takes, or its table. Pass the same `ax`
    twice (with `label`) to compare, say, an untrained and a trained model.
    Needs matplotlib, imported only here.
    """
    try:
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ImportError(
            "plot_gradient_norms() needs matplotlib: pip install matplotlib "
            "(gradient_norms() gives the same numbers as a table without it)"
        ) from None
    if isinstance(source, str) or not isinstance(source, Tensor | Iterable):
        raise TypeError(
            "plot_gradient_norms(): source must be a Tensor, a list of hidden states or a "
            f"table of (step, norm), got {type(source).__name__}"
        )
    items = [] if isinstance(source, Tensor) else list(source)
    if isinstance(source, Tensor):
        table = gradient_norms(source, within=within)
    elif not items:
        raise ValueError("plot_gradient_norms(): source is empty")
    elif isinstance(items[0], Tensor):
        table = gradient_norms(items, within=within)
    else:
        table = [(int(step), float(norm)) for step, norm in items]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
    steps = [step for step, _ in table]
    ax.semilogy(
        steps, [max(norm, np.finfo(np.float64).tiny) for _, norm in table], "o-", label=label
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("time step t")
    ax.set_ylabel(r"$\|\partial L / \partial h_t\|$")
    ax.set_title("gradient reaching each hidden state")
    if label is not None:
        ax.legend()
    return ax


# Light yellow (smallest gradient) to deep red (largest), on a log scale.
_HEAT = ((255, 255, 204), (254, 217, 118), (253, 141, 60), (227, 26, 28))


def heat_colours(norms: dict[StepKey, float]) -> dict[StepKey, str]:
    """A fill colour per step from its norm's place between the smallest and largest (log scale).

    The scale spans the positive finite norms. A zero norm takes the
    lightest colour; an infinite or NaN norm (an explosion) the darkest.
    """
    finite = [v for v in norms.values() if math.isfinite(v) and v > 0]
    low = min(finite, default=1.0)
    high = max(finite, default=1.0)
    span = math.log10(high) - math.log10(low)
    colours = {}
    for key, value in norms.items():
        if not math.isfinite(value):
            fraction = 1.0
        elif value <= 0:
            fraction = 0.0
        elif span == 0:
            fraction = 0.5
        else:
            fraction = (math.log10(value) - math.log10(low)) / span
        colours[key] = heat_colour(fraction)
    return colours


def heat_colour(fraction: float) -> str:
    """The colour at `fraction` (0 = smallest, 1 = largest) along the heat scale, as #rrggbb."""
    position = min(max(fraction, 0.0), 1.0) * (len(_HEAT) - 1)
    i = min(int(position), len(_HEAT) - 2)
    local = position - i
    rgb = (round(a + (b - a) * local) for a, b in zip(_HEAT[i], _HEAT[i + 1]))
    return "#" + "".join(f"{c:02x}" for c in rgb)


def is_dark(colour: str) -> bool:
    """Whether text on this #rrggbb background reads better in white than in black."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.45
