"""The nodes and edges of a drawing, before any DOT text: one pass over the graph.

`DrawingBuilder` numbers leaves and ops in traversal order (stable ids
`n0, n1, ...`), stands one gap marker for the left-out steps of each sequence,
connects everything with edges (parameter, hidden-state, numbered and merged
gap edges), places each leaf in the deepest scope holding all its uses
(parameters outside time steps), and turns a reverse-running sequence to be
laid out beside its forward partner. `dot_text.DotWriter` writes the result.
"""

from __future__ import annotations

import dataclasses

from retrograd.autograd.dot_labels import op_label, tensor_kind, tensor_label
from retrograd.autograd.dot_text import INTERCHANGEABLE_INPUTS, Edge, Gap, Item
from retrograd.autograd.drawing_steps import step_sequences
from retrograd.autograd.gradient_flow import StepKey, step_of
from retrograd.autograd.graph import Node
from retrograd.autograd.tensor import Tensor


class DrawingBuilder:
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
                    uses = self.parameter_uses.setdefault(source, [])
                    style = "parameter_reuse" if uses else "parameter"
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
        # Hidden-state edges within one sequence from t=k+1 to t=k: (index, the sequence's path).
        steps_back = [(i, a[0]) for i, a, b in self.crossings if a[0] == b[0] and a[1] > b[1]]
        backward = {path for _, path in steps_back}
        sequences = step_sequences(self.scopes)
        for path in backward:
            outer = path.rpartition("/")[0]
            if outer in sequences and outer not in backward:
                self.beside[path] = outer
        for index, path in steps_back:
            if path in self.beside:
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
