"""Graph records and recording state: `Node`, the graph's order, grad mode, `no_grad`, scopes."""

from __future__ import annotations

import functools
import gc
import inspect
import itertools
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from retrograd.autograd.function import Function
    from retrograd.autograd.tensor import Tensor

F = TypeVar("F", bound=Callable[..., Any])


class ShapeError(ValueError):
    """Operands whose shapes do not fit the op; the message names op and shapes."""


class _GradMode:
    """Process-wide recording state: is the graph being recorded, and under which scope."""

    __slots__ = (
        "anomaly",
        "backward_passes",
        "enabled",
        "layout_changed",
        "mutations",
        "scope",
        "written",
    )

    def __init__(self) -> None:
        self.enabled = True
        self.scope: str | None = None
        self.anomaly = False
        # Counts in-place modifications; a node remembers the count at its creation.
        self.mutations = 0
        # Counts backward passes, so that state kept across one (`GradientRows`) knows its own.
        self.backward_passes = 0
        # Memory written in place: id(owning array) -> [mutation count, weakref to it].
        self.written: dict[int, list] = {}
        # Tensors whose data was rebound to another shape or dtype: id(tensor) -> the same.
        self.layout_changed: dict[int, list] = {}


grad_mode = _GradMode()

# Marks a node whose saved arrays were released by a backward pass.
FREED = object()


def memory_owner(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory `array` views (`array` itself if it owns it)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def array_address(array: np.ndarray) -> int:
    """The address of `array`'s first element (`ndarray.ctypes.data` would leak a little
    memory per call)."""
    return array.__array_interface__["data"][0]


def mark_written(array: np.ndarray) -> None:
    """Record that the memory under `array` was just written in place.

    Views and detached tensors share memory with the tensor they came from, so
    a write through any of them changes values that a node may have saved;
    backward compares this record with the node's creation count. An entry
    lives as long as the array that owns the memory.
    """
    _note(grad_mode.written, memory_owner(array))


def last_written(array: np.ndarray) -> int:
    """The mutation count of the last in-place write into the memory under `array` (0 if none)."""
    return _last_noted(grad_mode.written, memory_owner(array))


def written_after(array: np.ndarray, count: int) -> bool:
    """Whether the memory under `array` was written in place after mutation `count`."""
    return last_written(array) > count


def mark_layout_changed(tensor: Tensor) -> None:
    """Record that `tensor.data` was just rebound to an array of another shape or dtype.

    Backward refuses a node made before, whatever its op: the engine reduces
    and casts each gradient to its input's current shape and dtype, so the
    change would give a wrong gradient silently. An entry lives as long as
    the tensor.
    """
    _note(grad_mode.layout_changed, tensor)


def layout_changed_after(tensor: Tensor, count: int) -> bool:
    """Whether `tensor.data` was rebound to another shape or dtype after mutation `count`."""
    return _last_noted(grad_mode.layout_changed, tensor) > count


def _note(registry: dict[int, list], subject: Any) -> None:
    """Set `registry`'s entry for `subject` (by id) to the current mutation count."""
    key = id(subject)
    entry = registry.get(key)
    if entry is not None and entry[1]() is subject:
        entry[0] = grad_mode.mutations
    else:
        registry[key] = [
            grad_mode.mutations,
            weakref.ref(subject, functools.partial(_forget, registry, key)),
        ]


def _last_noted(registry: dict[int, list], subject: Any) -> int:
    """The mutation count `registry` holds for `subject` (0 if none)."""
    entry = registry.get(id(subject))
    return 0 if entry is None else entry[0]


def _forget(registry: dict[int, list], key: int, _ref: weakref.ref) -> None:
    registry.pop(key, None)


# Creation numbers of nodes (see Node.seq), as `next(node_numbers)`: the builtin call
# costs less than calling the counter's bound `__next__`.
node_numbers = itertools.count()


class Node:
    """The record of one op application: the op, its ordered parents, what it saved.

    Nodes never reference the tensors they produced, so a graph has no
    reference cycles and is freed as soon as its output goes out of scope.
    `Function.apply` fills the slots: `op` (the Function subclass), `parents`
    (input tensors in order, duplicates kept), `params` (static keyword
    parameters), `saved` (what forward kept for backward, `FREED` after a
    backward pass), `scope` (label or None), `n_outputs`, `created` (the
    in-place modification count when the node was made: a parent modified
    later invalidates the node), `seq` (its creation number: a node is always
    made after its parents' nodes, so sorting by `seq` is a topological order)
    and, in anomaly mode only, `trace` (the user code line that made it).
    """

    __slots__ = (
        "created",
        "n_outputs",
        "op",
        "params",
        "parents",
        "saved",
        "scope",
        "seq",
        "trace",
    )

    op: type[Function]
    parents: tuple[Tensor, ...]
    params: Mapping[str, Any]
    saved: Any
    scope: str | None
    n_outputs: int
    created: int
    seq: int
    trace: str

    def __repr__(self) -> str:
        shapes = ", ".join(str(p.shape) for p in self.parents)
        scope = f" scope={self.scope!r}" if self.scope else ""
        return f"<Node {self.op.name}({shapes}){scope}>"


def topological_order(roots: Iterable[Tensor]) -> list[Node]:
    """Every node that the roots depend on, each after all of its parents.

    A breadth-first walk collects the nodes; creation order sorts them, since
    a node is always made after the nodes of its inputs. The walk meets them
    in nearly reverse creation order, which the sort takes in one pass.
    """
    order: list[Node] = []
    seen: set[Node] = set()
    for root in roots:
        node = root._node
        if node is not None and node not in seen:
            seen.add(node)
            order.append(node)
    for node in order:  # grows while it is walked
        for parent in node.parents:
            parent_node = parent._node
            if parent_node is not None and parent_node not in seen:
                seen.add(parent_node)
                order.append(parent_node)
    order.sort(key=_creation)
    return order


_creation = attrgetter("seq")


class no_grad:
    """Context manager and decorator that records no graph inside it.

    The previous mode is restored on exit, also when an exception escapes,
    and by each exit of one object entered again inside itself. A decorated
    generator function runs in the mode whenever its generator is resumed,
    not between (as in PyTorch): its body runs only when the generator is.
    """

    _enable = False

    def __new__(cls, fn: Callable | None = None) -> Any:
        """`no_grad()` is the mode; `no_grad(fn)` is `fn` decorated, so that `@no_grad`
        works without parentheses, as in PyTorch."""
        if fn is None:
            return super().__new__(cls)
        return cls()(fn)

    def __init__(self) -> None:
        self._outer: list[bool] = []  # the mode at each entry still open, innermost last

    def __enter__(self) -> None:
        self._outer.append(grad_mode.enabled)
        grad_mode.enabled = self._enable

    def __exit__(self, *exc: object) -> None:
        grad_mode.enabled = self._outer.pop()

    def __call__(self, fn: F) -> F:
        return _decorated(fn, type(self), type(self).__name__)


def _decorated(fn: F, mode: Callable[[], no_grad], name: str) -> F:
    """`fn` running inside a fresh `mode()` at every call (every resume, for a generator)."""
    if not callable(fn):
        raise TypeError(f"{name}: decorates a function, got {type(fn).__name__}")
    if inspect.isgeneratorfunction(fn):
        return _resumed_under(mode, fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with mode():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _resumed_under(mode: Callable[[], no_grad], fn: F) -> F:
    """The generator function `fn` with `mode` entered around every resume of its generator:
    each value sent or exception thrown in, and its closing."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        generator = fn(*args, **kwargs)
        resume, value = generator.send, None
        while True:
            try:
                with mode():
                    item = resume(value)
            except StopIteration as stop:
                return stop.value
            try:
                value = yield item
            except GeneratorExit:
                with mode():
                    generator.close()
                raise
            except BaseException as err:  # thrown in by the caller: hand it to the generator
                resume, value = generator.throw, err
            else:
                resume = generator.send

    return wrapper  # type: ignore[return-value]


class enable_grad(no_grad):
    """Context manager and decorator that turns recording back on inside `no_grad`."""

    _enable = True


class set_grad_enabled(no_grad):
    """Turn graph recording on or off, as PyTorch's `set_grad_enabled(mode)`.

    Called alone it switches the mode at once and for good. In a `with`
    block the mode before the call comes back at the end; as a decorator it
    leaves the mode alone and switches it around each call of the function.
    """

    def __new__(cls, mode: bool) -> set_grad_enabled:
        return object.__new__(cls)

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): mode must be True or False, got {mode!r}")
        super().__init__()
        self._enable = mode
        self._before: bool | None = grad_mode.enabled  # restored by the first exit
        grad_mode.enabled = mode

    def __enter__(self) -> None:
        before, self._before = self._before, None
        self._outer.append(grad_mode.enabled if before is None else before)
        grad_mode.enabled = self._enable

    def __call__(self, fn: F) -> F:
        if self._before is not None:  # decorating switches nothing until the function runs
            grad_mode.enabled, self._before = self._before, None
        enable = self._enable
        return _decorated(fn, lambda: set_grad_enabled(enable), "set_grad_enabled")


def is_grad_enabled() -> bool:
    """Whether ops currently record a graph."""
    return grad_mode.enabled


class scope:
    """Context manager: tag every node recorded inside with `label`; nested scopes join with '/'.

    Graph drawings group nodes by scope, e.g. the time steps of an RNN. A
    class rather than a generator: an unrolled RNN enters one per time step.
    """

    __slots__ = ("_outer", "label")

    def __init__(self, label: str) -> None:
        if not isinstance(label, str) or not label:
            # Drawings split scope paths at '/' and read time steps from them.
            raise TypeError(f"scope(): label must be a non-empty string, got {label!r}")
        self.label = label
        self._outer: list[str | None] = []  # the scope at each entry still open (see no_grad)

    def __enter__(self) -> None:
        previous = grad_mode.scope
        self._outer.append(previous)
        grad_mode.scope = self.label if previous is None else f"{previous}/{self.label}"

    def __exit__(self, *exc: object) -> None:
        grad_mode.scope = self._outer.pop()


class time_steps:
    """Context manager: iterating it yields t = 0 .. steps-1, and every node recorded during
    step t is tagged with the scope `t=<t>` (nested under the current scope).

    The labels of `with scope(f"t={t}")` around a loop's body, for a fraction
    of the cost (an RNN layer runs it once per time step). Leaving the
    `with` block restores the enclosing scope, also on break or error.

    With `reverse=True` the loop still yields 0 .. steps-1, but step i is
    labelled `t=<steps-1-i>`: a loop over a sequence reversed before it (the
    reverse direction of a bidirectional RNN) names each step by the position
    it reads in the original sequence, as the forward direction does, so
    `t=k` means the same input in both.
    """

    __slots__ = ("_entered", "_previous", "reverse", "steps")

    def __init__(self, steps: int, *, reverse: bool = False) -> None:
        self.steps = steps
        self.reverse = reverse
        self._entered = False

    def __enter__(self) -> time_steps:
        self._previous = grad_mode.scope
        self._entered = True
        return self

    def __exit__(self, *exc: object) -> None:
        grad_mode.scope = self._previous
        self._entered = False

    def __iter__(self) -> Iterator[int]:
        if not self._entered:
            raise RuntimeError(
                "time_steps: iterate inside `with time_steps(n) as steps:`, which restores "
                "the enclosing scope when the loop ends"
            )
        previous = self._previous
        prefix = "t=" if previous is None else f"{previous}/t="
        labels = range(self.steps - 1, -1, -1) if self.reverse else range(self.steps)
        for t, label in enumerate(labels):
            grad_mode.scope = f"{prefix}{label}"
            yield t
        grad_mode.scope = previous


class gc_paused:
    """Context manager: no cyclic garbage collection inside (restored on exit).

    Graphs hold no reference cycles, so the cyclic collector can only waste
    time on them: while a 10,000-step RNN is unrolled or backpropagated it
    would walk the growing graph again and again, making long sequences cost
    more per step. Objects are still freed by reference counting as usual.
    """

    __slots__ = ("_was_enabled",)

    def __enter__(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._was_enabled:
            gc.enable()
