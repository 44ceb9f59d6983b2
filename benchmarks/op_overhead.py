"""Per-op overhead: forward + backward of a chain of 1,000 additions on 1-element arrays.

Run: python benchmarks/op_overhead.py
Compares retrograd with PyTorch and micrograd when they are installed
(`pip install torch==2.13.0 micrograd`), with the floor of any engine written
in Python (`Bare`: an object per op holding its result and parents, and a
backward that walks them in reverse creation order), and with a bare NumPy
forward.

Every run is timed with Python's cyclic garbage collector paused, after a
collection: micrograd's nodes form reference cycles, so with the collector
on its time depends on how many objects the process holds (once PyTorch is
imported, most of its samples take several times as long). The rows
"collector on" show the engines as a program runs them; the targets'
ratios use the paused rows.
"""

from __future__ import annotations

import gc
import itertools
import sys
from collections.abc import Callable

import numpy as np

import retrograd as rg
from benchmarks.common import alternate, print_table

CHAIN = 1_000


def retrograd_chain() -> None:
    x = rg.tensor(np.ones(1), requires_grad=True)
    one = rg.tensor(np.ones(1))
    y = x
    for _ in range(CHAIN):
        y = y + one
    y.sum().backward()


class Bare:
    """The least a Python graph engine records per op: the result, the parents, an order.

    Not an engine to use (addition only, no checks, no broadcasting): it
    measures the floor that any engine written in Python stands on. Like
    every engine it sums gradients only into the values that need one (the
    chain's constant needs none).
    """

    __slots__ = ("data", "parents", "requires_grad", "seq")

    def __init__(self, data: np.ndarray, parents: tuple = (), requires_grad: bool = False) -> None:
        self.data = data
        self.parents = parents
        self.requires_grad = requires_grad
        self.seq = next_seq()

    def __add__(self, other: Bare) -> Bare:
        needed = self.requires_grad or other.requires_grad
        return Bare(self.data + other.data, (self, other), needed)


next_seq = itertools.count().__next__


def bare_backward(root: Bare) -> dict[int, np.ndarray]:
    """Gradients of every node that needs one: a graph walk, creation order reversed,
    sums in a dict."""
    seen, frontier = {id(root): root}, [root]
    while frontier:
        for parent in frontier.pop().parents:
            if id(parent) not in seen:
                seen[id(parent)] = parent
                frontier.append(parent)
    grads = {id(root): np.ones_like(root.data)}
    for node in sorted(seen.values(), key=lambda n: n.seq, reverse=True):
        grad = grads.get(id(node))
        for parent in node.parents:
            if parent.requires_grad:
                current = grads.get(id(parent))
                grads[id(parent)] = grad if current is None else current + grad
    return grads


def bare_chain() -> None:
    x, one = Bare(np.ones(1), requires_grad=True), Bare(np.ones(1))
    y = x
    for _ in range(CHAIN):
        y = y + one
    bare_backward(y)


def numpy_forward() -> None:
    y = np.ones(1)
    one = np.ones(1)
    for _ in range(CHAIN):
        y = y + one


def with_collector(run: Callable[[], None]) -> Callable[[], None]:
    """`run` with Python's cyclic garbage collector on (it is paused for the timed runs)."""

    def collected() -> None:
        gc.enable()
        try:
            run()
        finally:
            gc.disable()

    return collected


def competitors() -> dict:
    runs = {}
    try:
        import torch

        def torch_chain() -> None:
            x = torch.ones(1, requires_grad=True)
            one = torch.ones(1)
            y = x
            for _ in range(CHAIN):
                y = y + one
            y.sum().backward()

        runs["pytorch"] = torch_chain
    except ImportError:
        print("(torch not installed: pip install torch==2.13.0)")
    try:
        from micrograd.engine import Value

        def micrograd_chain() -> None:
            y = Value(1.0)
            for _ in range(CHAIN):
                y = y + 1.0
            y.backward()

        runs["micrograd"] = micrograd_chain
        runs["micrograd, collector on"] = with_collector(micrograd_chain)
    except ImportError:
        print("(micrograd not installed: pip install micrograd)")
    return runs


def main() -> None:
    # micrograd's recursive topological sort needs more than the default limit at depth 1,000.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * CHAIN))
    runs = {
        "retrograd": retrograd_chain,
        "retrograd, collector on": with_collector(retrograd_chain),
        **competitors(),
        "floor of a Python engine": bare_chain,
        "numpy forward only": numpy_forward,
    }
    rounds = alternate(runs, rounds=9, repeat=5, collect=True)
    rows = [
        [name, f"{rounds.median(name) / CHAIN * 1e6:.2f}", f"{rounds.ratio(name, 'retrograd'):.2f}"]
        for name in runs
    ]
    print(
        f"chain of {CHAIN} additions on 1-element arrays, forward + backward, 9 alternating "
        "rounds, cyclic garbage collector paused: median time, median of the per-round ratios"
    )
    print_table(["engine", "us/op", "time / retrograd"], rows)


if __name__ == "__main__":
    main()
