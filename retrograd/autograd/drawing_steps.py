"""Which time steps a drawing leaves out, and how many nodes it will draw.

`to_dot(..., steps=(first, last))` keeps the first and last steps (scopes
`t=N`) of each sequence of steps and leaves the others out; the op and tensor
nodes left are counted before any text is built, and a drawing over
`max_nodes` is refused with advice that would work (a `steps=(k, k)` that fits,
found by counting).
"""

from __future__ import annotations

from retrograd.autograd.gradient_flow import StepKey
from retrograd.autograd.graph import Node
from retrograd.autograd.tensor import Tensor


def elided_nodes(
    order: list[Node], scopes: dict[str | None, StepKey | None], steps: tuple[int, int] | None
) -> set[Node]:
    """The nodes of the time steps that `steps=(first, last)` leaves out.

    Each sequence of steps (those under one scope path, such as an encoder's
    and a decoder's) keeps its own first and last steps, so the steps that
    feed the loss are drawn in every module.
    """
    if steps is None:
        return set()
    first, last = int(steps[0]), int(steps[1])
    kept: set[StepKey] = set()
    for path, numbers in step_sequences(scopes).items():
        if first + last < len(numbers):
            numbers = numbers[:first] + numbers[len(numbers) - last :]
        kept.update((path, n) for n in numbers)
    dropped = {s for s, key in scopes.items() if key is not None and key not in kept}
    return {node for node in order if node.scope in dropped}


def step_sequences(scopes: dict[str | None, StepKey | None]) -> dict[str, list[int]]:
    """The step numbers recorded under each scope path, in increasing order."""
    numbers: dict[str, set[int]] = {}
    for key in scopes.values():
        if key is not None:
            numbers.setdefault(key[0], set()).add(key[1])
    return {path: sorted(found) for path, found in numbers.items()}


def count_drawn(order: list[Node], roots: list[Tensor], elided: set[Node]) -> tuple[int, int]:
    """Op nodes and tensor nodes (leaves used by a drawn op, and outputs) that will be drawn."""
    leaves: set[int] = set()
    ops = 0
    for node in order:
        if node in elided:
            continue
        ops += 1
        leaves.update(id(p) for p in node.parents if p._node is None)
    outputs = sum(1 for r in {id(r): r for r in roots}.values() if r._node is not None)
    lone = {id(r) for r in roots if r._node is None} - leaves
    return ops, len(leaves) + outputs + len(lone)


def too_many_message(
    count: int,
    max_nodes: int,
    order: list[Node],
    roots: list[Tensor],
    scopes: dict[str | None, StepKey | None],
) -> str:
    """The refusal message, with advice that would work: a `steps=(k, k)` is suggested only
    if the drawing it gives fits in `max_nodes` (checked by counting, not estimated)."""
    message = (
        f"to_dot(): the drawing would have {count:,} op and tensor nodes, more than "
        f"max_nodes={max_nodes:,}, and would be unreadable. "
    )
    fewest = None
    if step_sequences(scopes):
        for k in (3, 2, 1):
            ops, tensors = count_drawn(order, roots, elided_nodes(order, scopes, (k, k)))
            if ops + tensors <= max_nodes:
                return message + (
                    f"Draw the first and last time steps only with steps=({k}, {k}), or pass "
                    "a larger max_nodes (None for no limit)."
                )
        fewest = ops + tensors
    shortened = (
        "record repeated work under scope('t=N') so that steps=(first, last) can shorten it"
        if fewest is None
        else f"even steps=(1, 1) would draw {fewest:,} nodes"
    )
    return message + (
        f"Draw a part of it (pass an intermediate tensor as the root; {shortened}), or pass a "
        "larger max_nodes (None for no limit)."
    )
