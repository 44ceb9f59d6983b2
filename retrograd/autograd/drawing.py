"""Computation graphs as Graphviz DOT text: a pure function of the graph, with stable ids.

This module holds the entry point, `to_dot`, with its options and the `Graph` it
returns. `to_dot(loss)` walks the graph's iterative topological order (so a
graph of any depth draws) and writes one DOT node per op and per leaf or
output tensor. Ids are `n0, n1, ...` in traversal order, never `id()`, so
the same graph always gives the same text. Nodes recorded under a scope
(`t=3`, `rnn/t=3`) are grouped into nested clusters; parameters are drawn
once outside the time steps with an edge into every step that uses them;
edges from one step to another (the hidden state) are drawn heavy. A sequence
that passes its state from t=k+1 to t=k inside another's scope (a
bidirectional RNN's `reverse` steps) is laid out beside that one, t=k level
with t=k. The other modules of a drawing: `drawing_steps` (the time steps left
out, the nodes counted against `max_nodes`), `drawing_builder` (the nodes and
edges), `dot_labels` (the text in each node) and `dot_text` (the DOT text).
Turning the text into a picture is a separate step (`retrograd.autograd.rendering`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd.dot_text import DotWriter
from retrograd.autograd.drawing_builder import DrawingBuilder
from retrograd.autograd.drawing_steps import count_drawn, elided_nodes, too_many_message
from retrograd.autograd.gradient_flow import StepKey, as_tensors, hidden_state_norms, step_of
from retrograd.autograd.graph import topological_order
from retrograd.autograd.tensor import Tensor

if TYPE_CHECKING:
    import graphviz

DEFAULT_MAX_NODES = 500


@dataclass(frozen=True, repr=False)
class Graph:
    """A drawn graph: its DOT text (`.source`) and how many op and tensor nodes it has.

    Displays inline in notebooks (rendered with the system `dot`, or the
    pip fallback for SVG); `to_graphviz()` gives a `graphviz.Source`.
    """

    source: str
    n_ops: int
    n_tensors: int

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"<Graph: {self.n_ops} ops, {self.n_tensors} tensors; .source has the DOT text>"

    def to_graphviz(self) -> graphviz.Source:
        """The DOT text as a `graphviz.Source` (needs the `graphviz` Python package)."""
        try:
            import graphviz
        except ImportError:
            raise ImportError(
                "to_graphviz() needs the graphviz Python package: pip install 'retrograd[graph]'"
            ) from None
        return graphviz.Source(self.source)

    def render(self, path: str | Path, format: str | None = None) -> Path:
        """Write the picture to `path`; see `retrograd.autograd.render`."""
        from retrograd.autograd.rendering import render

        return render(self, path, format)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from retrograd.autograd.rendering import GraphvizNotFoundError, render_bytes

        try:
            svg = render_bytes(self.source, "svg").decode("utf-8")
        except GraphvizNotFoundError:
            return {"text/plain": self.source}
        return {"image/svg+xml": svg, "text/plain": repr(self)}


def to_dot(
    roots: Tensor | Sequence[Tensor],
    *,
    values: bool = False,
    gradients: bool = True,
    steps: tuple[int, int] | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    hidden: Sequence[Tensor] | None = None,
    legend: bool = True,
    rankdir: str = "TB",
) -> Graph:
    """Draw the graph that produced `roots` (one tensor or several) as DOT text.

    - `values`: print the values of small tensors (16 elements or fewer).
    - `gradients`: after `backward()`, print gradient norms and colour each
      time step by the norm of the gradient reaching its hidden state (the
      non-leaf tensors that called `retain_grad()`, or `hidden` if given).
    - `steps=(first, last)`: draw only the first and last time steps
      (scopes `t=N`) of each module's sequence of steps, with a marked gap
      for the rest.
    - `max_nodes`: refuse, with advice, to draw more op and tensor nodes
      than this (None: no limit); checked before any text is built.
    - `legend`: add a key to the colours; `rankdir`: "TB" or "LR" layout.
    """
    root_list = as_tensors(roots, "to_dot()", "roots")
    _check_options(steps, max_nodes, rankdir)
    order = topological_order(root_list)
    scopes: dict[str | None, StepKey | None] = {}
    for node in order:
        if node.scope not in scopes:
            scopes[node.scope] = step_of(node.scope)
    elided = elided_nodes(order, scopes, steps)
    counts = count_drawn(order, root_list, elided)
    if max_nodes is not None and counts[0] + counts[1] > max_nodes:
        raise ValueError(
            too_many_message(counts[0] + counts[1], max_nodes, order, root_list, scopes)
        )
    norms = hidden_state_norms(root_list, hidden) if gradients else {}
    builder = DrawingBuilder(scopes, elided, values, gradients)
    builder.walk(order, root_list)
    writer = DotWriter(rankdir, norms)
    gaps = list(builder.gaps.values())
    text = writer.write(builder.items, builder.edges, gaps, legend, builder.beside)
    return Graph(text, counts[0], counts[1])


def _check_options(steps: Any, max_nodes: Any, rankdir: Any) -> None:
    if steps is not None and (
        not isinstance(steps, tuple | list)
        or len(steps) != 2
        or not all(isinstance(k, int | np.integer) and k >= 0 for k in steps)
        or sum(steps) == 0
    ):
        raise ValueError(
            f"to_dot(): steps must be (first, last), two counts of time steps to keep, "
            f"not both zero; got {steps!r}"
        )
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"to_dot(): max_nodes must be a positive int or None, got {max_nodes!r}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"to_dot(): rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
