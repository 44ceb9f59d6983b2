"""Computation graphs as Graphviz DOT text: a pure function of the graph, with stable ids.

`to_dot(loss)` walks the graph's iterative topological order (so a
graph of any depth draws) and writes one DOT node per op and per leaf or
output tensor. Ids are `n0, n1, ...` in traversal order, never `id()`, so
the same graph always gives the same text. Nodes recorded under a scope
(`t=3`, `rnn/t=3`) are grouped into nested clusters; parameters are drawn
once outside the time steps with an edge into every step that uses them;
edges from one step to another (the hidden state) are drawn heavy. A sequence
that passes its state from t=k+1 to t=k inside another's scope (a
bidirectional RNN's `reverse` steps) is laid out beside that one, t=k level
with t=k. Turning
the text into a picture is a separate step (`retrograd.autograd.rendering`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd.dot_text import (
    INTERCHANGEABLE_INPUTS,
    DotWriter,
    Edge,
    Gap,
    Item,
    op_label,
    tensor_kind,
    tensor_label,
)
from retrograd.autograd.gradient_flow import StepKey, as_tensors, hidden_state_norms, step_of
from retrograd.autograd.graph import Node, topological_order
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
    elided = _elided(order, scopes, steps)
    counts = _count(order, root_list, elided)
    if max_nodes is not None and counts[0] + counts[1] > max_nodes:
        raise ValueError(_too_many(counts[0] + counts[1], max_nodes, order, root_list, scopes))
    norms = hidden_state_norms(root_list, hidden) if gradients else {}
    builder = _Builder(scopes, elided, values, gradients)
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


def _elided(
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
    for path, numbers in _sequences(scopes).items():
        if first + last < len(numbers):
            numbers = numbers[:first] + numbers[len(numbers) - last :]
        kept.update((path, n) for n in numbers)
    dropped = {s for s, key in scopes.items() if key is not None and key not in kept}
    return {node for node in order if node.scope in dropped}


def _sequences(scopes: dict[str | None, StepKey | None]) -> dict[str, list[int]]:
    """The step numbers recorded under each scope path, in increasing order."""
    numbers: dict[str, set[int]] = {}
    for key in scopes.values():
        if key is not None:
            numbers.setdefault(key[0], set()).add(key[1])
    return {path: sorted(found) for path, found in numbers.items()}


def _count(order: list[Node], roots: list[Tensor], elided: set[Node]) -> tuple[int, int]:
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


def _too_many(
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
    if _sequences(scopes):
        for k in (3, 2, 1):
            ops, tensors = _count(order, roots, _elided(order, scopes, (k, k)))
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


class _Builder:
    """One pass over the drawn nodes: items with stable ids, edges, and the gap markers."""

    def __init__(
        self,
        scopes: dict[str | None, StepKey | None],
        elided: set[Node],
        values: bool,
        gradients: bool,
    ) -> None:
        self.scopes = scopes
        self.elided = elided
        self.values = values
        self.gradients = gradients
        self.items: list[Item] = []
        self.edges: list[Edge] = []
        self.gaps: dict[str, Gap] = {}
        self.leaf_ids: dict[int, str] = {}
        self.leaf_items: dict[int, Item] = {}
        self.node_ids: dict[Node, str] = {}
        self.gap_edges: dict[tuple[str, str], int] = {}  # edge to or from a gap -> its index
        self.ranked: set[str] = set()
        # Hidden-state edges: (index, source step, target step); parameter id -> its edges'
        # (index, target step), the first ranking it; a reverse sequence's path -> its partner's.
        self.crossings: list[tuple[int, StepKey, StepKey]] = []
        self.parameter_uses: dict[str, list[tuple[int, StepKey | None]]] = {}
        self.beside: dict[str, str] = {}

    def walk(self, order: list[Node], roots: list[Tensor]) -> None:
        """Number leaves and ops in traversal order, then connect them and place the leaves."""
        outputs: dict[Node, dict[int, Tensor]] = {}
        for node in order:
            for p in node.parents:
                if p._node is not None:
                    outputs.setdefault(p._node, {})[p._index] = p
        for r in roots:
            if r._node is not None:
                outputs.setdefault(r._node, {})[r._index] = r
        consumers: dict[int, list[str | None]] = {}
        for node in order:
            if node in self.elided:
                self._gap(node)
                continue
            for p in node.parents:
                if p._node is None:
                    self._leaf(p)
                    consumers.setdefault(id(p), []).append(node.scope)
            label = op_label(node, outputs.get(node, {}), self.values, self.gradients)
            self.node_ids[node] = self._add("op", label, node.scope)
        for node in order:
            self._edges_into(node)
        self._turn_reverse_sequences()
        for item_key, scopes in consumers.items():
            item = self.leaf_items[item_key]
            item.scope = _common_scope(scopes, item.kind == "parameter")
        self._outputs(roots)

    def _add(self, kind: str, label: str, scope: str | None) -> str:
        item = Item(f"n{len(self.items)}", kind, label, scope)
        self.items.append(item)
        return item.id

    def _leaf(self, t: Tensor) -> None:
        if id(t) in self.leaf_ids:
            return
        kind = tensor_kind(t)
        self.leaf_ids[id(t)] = self._add(
            kind, tensor_label(t, kind, self.values, self.gradients), None
        )
        self.leaf_items[id(t)] = self.items[-1]

    def _gap(self, node: Node) -> Gap:
        prefix, step = self.scopes[node.scope]  # type: ignore[misc]
        gap = self.gaps.get(prefix)
        if gap is None:
            gap = self.gaps[prefix] = Gap(f"gap{len(self.gaps)}", prefix or None)
        gap.steps.add(step)
        return gap

    def _source(self, t: Tensor) -> str | None:
        """The DOT id an edge from `t` starts at (None: a leaf that is not drawn)."""
        if t._node is None:
            return self.leaf_ids.get(id(t))
        if t._node in self.elided:
            return self._gap(t._node).id
        return self.node_ids[t._node]

    def _edges_into(self, node: Node) -> None:
        target = self._gap(node).id if node in self.elided else self.node_ids[node]
        target_step = self.scopes[node.scope]
        numbered = _inputs_numbered(node) and not target.startswith("gap")
        for i, p in enumerate(node.parents):
            source = self._source(p)
            if source is None or source == target:
                continue
            gapped = source.startswith("gap") or target.startswith("gap")
            producer = p._node
            label = f"[{p._index}]" if producer is not None and producer.n_outputs > 1 else ""
            position = str(i) if numbered else ""
            if gapped and (source, target) in self.gap_edges:
                self._merge_gap_edge(self.gap_edges[source, target], label, position)
                continue
            if gapped:
                self.gap_edges[source, target] = len(self.edges)
            if producer is None:
                style = "plain"
                if self.leaf_items[id(p)].kind == "parameter":
                    style = "parameter_reuse" if source in self.ranked else "parameter"
                    self.ranked.add(source)
                    uses = self.parameter_uses.setdefault(source, [])
                    uses.append((len(self.edges), target_step))
            else:
                source_step = self.scopes[producer.scope]
                crosses = gapped or (
                    source_step and target_step and source_step[1] != target_step[1]
                )
                style = "hidden" if source_step and target_step and crosses else "plain"
                if style == "hidden":
                    self.crossings.append((len(self.edges), source_step, target_step))  # type: ignore[arg-type]
            self.edges.append(Edge(source, target, style, label, gapped, position))

    def _turn_reverse_sequences(self) -> None:
        """Lay out each reverse-running sequence of steps beside its forward partner.

        A sequence whose state goes from t=k+1 to t=k (a bidirectional RNN's
        `reverse/t=k`, numbered by the input each step reads) would be laid
        out in the order it runs, its t=3 level with the forward t=0. When the
        scope holding it has a forward sequence of its own, its state edges
        are laid out upward, each of its steps is ranked level with the
        forward step of the same t (`DotWriter`), and each of its parameters
        is ranked above its use at the top step, as the forward ones are.
        """
        backward = {a[0] for _, a, b in self.crossings if a[0] == b[0] and a[1] > b[1]}
        sequences = _sequences(self.scopes)
        for path in backward:
            outer = path.rpartition("/")[0]
            if outer in sequences and outer not in backward:
                self.beside[path] = outer
        for index, a, b in self.crossings:
            if a[0] in self.beside and a[0] == b[0] and a[1] > b[1]:
                self.edges[index] = dataclasses.replace(self.edges[index], upward=True)
        for uses in self.parameter_uses.values():
            self._rank_at_top_step(uses)

    def _rank_at_top_step(self, uses: list[tuple[int, StepKey | None]]) -> None:
        """Move a parameter's ranking edge (its first use) from a turned sequence's step to
        that sequence's lowest-numbered step using it, drawn at the top."""
        first, step = uses[0]
        if step is None or step[0] not in self.beside:
            return
        _, top = min((s[1], i) for i, s in uses if s is not None and s[0] == step[0])
        if top != first:
            self.edges[first] = dataclasses.replace(self.edges[first], style="parameter_reuse")
            self.edges[top] = dataclasses.replace(self.edges[top], style="parameter")

    def _merge_gap_edge(self, index: int, label: str, position: str) -> None:
        """One drawn edge stands for every edge between a node and a gap; an output index
        or input position is kept on it only while all of them carry the same one (`[1]`,
        not `[1]` for 1..4; no position for the many inputs of a `stack` it stands for)."""
        edge = self.edges[index]
        if edge.label != label:
            edge = dataclasses.replace(edge, label="")
        if edge.position != position:
            edge = dataclasses.replace(edge, position="")
        self.edges[index] = edge

    def _outputs(self, roots: list[Tensor]) -> None:
        seen: set[int] = set()
        for r in roots:
            if id(r) in seen:
                continue
            seen.add(id(r))
            if r._node is None:
                self._leaf(r)
                continue
            target = self._add(
                "output", tensor_label(r, "output", self.values, self.gradients), None
            )
            source = self._source(r)
            label = f"[{r._index}]" if r._node.n_outputs > 1 else ""
            self.edges.append(Edge(source, target, "plain", label, dashed=False))  # type: ignore[arg-type]


def _inputs_numbered(node: Node) -> bool:
    """Whether the edges into `node` say which input each is: an op of two or more
    inputs whose order matters (`sub`, `matmul`, `where`, `concat`; not `add`)."""
    return len(node.parents) > 1 and node.op.name not in INTERCHANGEABLE_INPUTS


def _common_scope(scopes: list[str | None], is_parameter: bool) -> str | None:
    """The deepest scope holding every use of a leaf; parameters stay outside time steps."""
    paths = [s.split("/") if s else [] for s in scopes]
    common = paths[0]
    for path in paths[1:]:
        n = 0
        while n < min(len(common), len(path)) and common[n] == path[n]:
            n += 1
        common = common[:n]
    if is_parameter:
        for i, part in enumerate(common):
            if step_of(part) is not None:
                common = common[:i]
                break
    return "/".join(common) or None
