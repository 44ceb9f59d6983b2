"""The DOT text of a drawing: escaping, node and edge styles, clusters, legend.

The text inside each node comes from `dot_labels`; this module lays the
nodes out in clusters by scope and writes them with their styles, the edges
and the legend. Every label is a plain DOT quoted string, escaped in one place
(`quote`): backslashes and double quotes are escaped, `&` becomes `&amp;`
(Graphviz reads entities such as `&lt;` in any label), and since no node uses
a record shape or an HTML-like label, braces, pipes and angle brackets are just
characters. Plain labels also draw the same in every Graphviz build,
including the WebAssembly one that has no HTML-like labels. Ids never
contain user text.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

from retrograd.autograd.dot_labels import NAME_LIMIT, cut
from retrograd.autograd.gradient_flow import StepKey, heat_colours, is_dark, step_of

HIDDEN_COLOUR = "#c0392b"

INTERCHANGEABLE_INPUTS = frozenset({"add", "mul", "maximum", "minimum"})
"""Ops whose result does not change when their inputs are swapped. Every edge into any
other op with two or more inputs is numbered with its input's place in the call (`a - b`:
a is 0), since the layout alone does not say which operand is which. (Graphviz's
`ordering="in"` would lay inputs out in order, but it can crash or warn in some Graphviz
builds on graphs with clusters, which scopes make; a label draws in every build.)"""

POSITION_COLOUR = "#1f5fa8"

KIND_STYLE = {
    "op": 'shape=ellipse, style=filled, fillcolor="#ffffff", color="#555555"',
    "parameter": 'shape=box, style="rounded,filled", fillcolor="#d5e8d4", color="#82b366"',
    "input": 'shape=box, style="rounded,filled", fillcolor="#dae8fc", color="#6c8ebf"',
    "constant": 'shape=box, style="rounded,filled,dashed", fillcolor="#f5f5f5", color="#999999"',
    "output": 'shape=box, style="rounded,filled,bold", fillcolor="#f8cecc", color="#b85450"',
}

GAP_STYLE = 'shape=box, style="rounded,dashed", color="#888888", fontcolor="#555555"'

_KIND_MEANING = {
    "output": "output: the tensor drawn from",
    "op": "op, with its output's shape\nand its parameters (axis=1)",
    "parameter": "parameter: a named weight,\ndrawn once, an edge into each use",
    "input": "input: a leaf that is not a parameter",
    "constant": "constant: a number in the graph",
}

_EDGE_STYLE = {
    "plain": "",
    # A parameter feeds every step. Only its first use ranks it (just above
    # that use); if every use did, all steps' input-side ops would be pulled
    # up to the parameter's rank.
    "parameter": 'color="#82b366"',
    "parameter_reuse": 'color="#82b366", constraint=false',
    "hidden": f'color="{HIDDEN_COLOUR}", penwidth=2.5',
}


@dataclass
class Item:
    """One drawn DOT node: its id, kind (a key of KIND_STYLE), label text and scope."""

    id: str
    kind: str
    label: str
    scope: str | None


@dataclass(frozen=True)
class Edge:
    """One drawn edge; `style` is a key of _EDGE_STYLE, `label` the output of a
    multi-output op it carries (`[1]`), `position` its place among the op's inputs ("0").
    Both are written on the edge, as `[1] → 0` when it has both. An `upward` edge is
    laid out from its target to its source, its arrow still pointing at the target: the
    state a reverse-running sequence passes from step t+1 to step t, whose steps are then
    laid out in increasing t like the forward sequence's beside them."""

    source: str
    target: str
    style: str
    label: str
    dashed: bool
    position: str = ""
    upward: bool = False


@dataclass
class Gap:
    """The marker standing for the time steps left out under one scope path."""

    id: str
    scope: str | None
    steps: set[int] = field(default_factory=set)


def quote(text: str) -> str:
    """`text` as a DOT quoted string that shows it literally; newlines become line breaks.

    Characters that do not print (tabs, escapes) are shown as Python writes them.
    """
    lines = []
    for line in str(text).split("\n"):
        visible = "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
        lines.append(visible.replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"'))
    return '"' + "\\n".join(lines) + '"'


class DotWriter:
    """Lays items out in nested clusters by scope and writes the whole DOT text."""

    def __init__(self, rankdir: str, norms: dict[StepKey, float]) -> None:
        self.rankdir = rankdir
        self.norms = norms
        self.colours = heat_colours(norms)
        self.shown: list[StepKey] = []
        self.members: dict[tuple[str, ...], list[str]] = {(): []}
        self.member_ids: dict[tuple[str, ...], list[str]] = {(): []}
        self.children: dict[tuple[str, ...], list[tuple[str, ...]]] = {(): []}
        self.cluster_ids: dict[tuple[str, ...], int] = {}
        self.titles: dict[StepKey, str] = {}

    def write(
        self,
        items: list[Item],
        edges: list[Edge],
        gaps: list[Gap],
        legend: bool,
        beside: dict[str, str] | None = None,
    ) -> str:
        """The DOT text: settings, clustered nodes, gap markers, edges, legend.

        `beside` maps the scope path of a sequence of steps to the path of the one it
        is drawn beside: each of its steps t=k is ranked level with that one's t=k.
        """
        for item in items:
            self._place(item.id, item.scope, f"{quote(item.label)}, {KIND_STYLE[item.kind]}")
        for gap in gaps:
            self._place(gap.id, gap.scope, f"{quote(_gap_label(gap))}, {GAP_STYLE}")
        lines = [
            "digraph retrograd {",
            f'  graph [rankdir={self.rankdir}, fontname="Helvetica", fontsize=11, '
            "newrank=true, nodesep=0.25, ranksep=0.35];",
            '  node [fontname="Helvetica", fontsize=11];',
            '  edge [color="#444444", arrowsize=0.7];',
        ]
        lines.extend(self._clusters())
        lines.extend(self._level_steps(beside or {}))
        lines.extend(f"  {_edge_line(edge)}" for edge in edges)
        if legend:
            kinds = {item.kind for item in items}
            hidden = any(edge.style == "hidden" for edge in edges)
            numbered = any(edge.position for edge in edges)
            legend_lines = self._legend(kinds, hidden, numbered, bool(gaps))
            lines.extend(f"  {line}" for line in legend_lines)
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _place(self, node_id: str, scope: str | None, label_and_style: str) -> None:
        """Put a node's line in its scope's cluster, creating it and its parents on first use."""
        path = tuple(part for part in (scope or "").split("/") if part)
        for depth in range(1, len(path) + 1):
            sub = path[:depth]
            if sub not in self.members:
                self.members[sub] = []
                self.member_ids[sub] = []
                self.children[sub] = []
                self.children[sub[:-1]].append(sub)
                self.cluster_ids[sub] = len(self.cluster_ids)
        self.members[path].append(f"{node_id} [label={label_and_style}];")
        self.member_ids[path].append(node_id)

    def _clusters(self) -> list[str]:
        """Every cluster with its nodes, nested by scope path (an explicit stack, no recursion)."""
        lines: list[str] = []
        stack: list[tuple[bool, tuple[str, ...]]] = [(True, ())]
        while stack:
            entering, path = stack.pop()
            indent = "  " * (len(path) + 1)
            if not entering:
                lines.append(indent[2:] + "}")
                continue
            if path:
                lines.append(f"{indent[2:]}subgraph cluster_{self.cluster_ids[path]} {{")
                lines.extend(f"{indent}{attr}" for attr in self._cluster_attrs(path))
                stack.append((False, path))
            lines.extend(indent + line for line in self.members[path])
            step_key = _step_key(path)
            if step_key is not None:
                lines.extend(indent + line for line in self._title_space(path, step_key))
            stack.extend((True, child) for child in reversed(self.children[path]))
        return lines

    def _cluster_attrs(self, path: tuple[str, ...]) -> list[str]:
        step_key = _step_key(path)
        if step_key is None:
            return [
                f"label={quote(cut(path[-1], NAME_LIMIT))};",
                'labeljust="l"; style="rounded"; color="#999999";',
            ]
        fill = "#f4f4f4"
        if step_key in self.norms:
            self.shown.append(step_key)
            fill = self.colours[step_key]
        font = ' fontcolor="#ffffff";' if is_dark(fill) else ""
        return [
            f"label={quote(self._step_title(path, step_key))};",
            f'labeljust="c"; style="rounded,filled"; fillcolor="{fill}"; color="#bbbbbb";{font}',
        ]

    def _step_title(self, path: tuple[str, ...], step_key: StepKey) -> str:
        """A time step's title: `t=2`, and the norm of the gradient reaching its hidden state."""
        if step_key in self.norms:
            return f"{path[-1]}\n‖∂L/∂h‖ = {self.norms[step_key]:.3g}"
        return path[-1]

    def _title_space(self, path: tuple[str, ...], step_key: StepKey) -> list[str]:
        """An invisible node the size of a time step's title, ranked above every node of the
        step, so that the title has a row of its own.

        Graphviz lays a cluster's title over its top row, where the edges into the step
        arrive (the hidden state from the step before, the weights): they and their
        numbers ran across `t=2`. An edge is routed around a node, so the space keeps them
        off the title; the title is centred, as the space is among the step's nodes.
        """
        space = f"title{self.cluster_ids[path]}"
        self.titles[step_key] = space
        below = " ".join(self._ids_under(path))
        return [
            f"{space} [label={quote(self._step_title(path, step_key))}, shape=plaintext, "
            "style=invis];",
            f"{space} -> {{{below}}} [style=invis];",
        ]

    def _level_steps(self, beside: dict[str, str]) -> list[str]:
        """One `rank=same` line per pair of drawn steps t=k that `beside` puts side by side
        (their title spaces, each ranked above its whole step)."""
        lines = []
        for (path, step), title in self.titles.items():
            other = self.titles.get((beside.get(path), step))  # type: ignore[arg-type]
            if other is not None:
                lines.append(f"  {{rank=same; {other}; {title};}}")
        return lines

    def _ids_under(self, path: tuple[str, ...]) -> list[str]:
        """The ids of the nodes in a cluster and in the clusters nested in it."""
        ids: list[str] = []
        stack = [path]
        while stack:
            sub = stack.pop()
            ids.extend(self.member_ids[sub])
            stack.extend(self.children[sub])
        return ids

    def _legend(self, kinds: set[str], hidden: bool, numbered: bool, gap: bool) -> list[str]:
        """A cluster of sample nodes, one per kind of thing drawn, stacked by invisible edges."""
        nodes = [
            f"legend_{kind} [label={quote(meaning)}, {KIND_STYLE[kind]}];"
            for kind, meaning in _KIND_MEANING.items()
            if kind in kinds
        ]
        if hidden:
            nodes.append(
                f'legend_hidden [label="━━▶ hidden state,\\nfrom one step to the next", '
                f'shape=plaintext, fontcolor="{HIDDEN_COLOUR}"];'
            )
        if numbered:
            text = (
                "0, 1, … on an edge into an op: the input's\nplace in the op's call (a - b: a is 0)"
            )
            nodes.append(
                f"legend_position [label={quote(text)}, shape=plaintext, fontsize=9, "
                f'fontcolor="{POSITION_COLOUR}"];'
            )
        if gap:
            nodes.append(f'legend_gap [label="⋯ time steps not drawn", {GAP_STYLE}];')
        for name, key, text in self._heat_ends():
            fill = self.colours[key]
            font = ', fontcolor="#ffffff"' if is_dark(fill) else ""
            nodes.append(
                f'legend_{name} [label={quote(text)}, shape=box, style="rounded,filled", '
                f'fillcolor="{fill}", color="#bbbbbb"{font}];'
            )
        ids = [node.split(" ", 1)[0] for node in nodes]
        chain = [f"{a} -> {b} [style=invis];" for a, b in itertools.pairwise(ids)]
        body = ['label="legend"; labeljust="l"; style="rounded"; color="#bbbbbb";']
        return ["subgraph cluster_legend {", *(f"  {line}" for line in body + nodes + chain), "}"]

    def _heat_ends(self) -> list[tuple[str, StepKey, str]]:
        """Legend entries for the smallest and largest norm drawn, in the colours they are drawn in.

        NaN counts as the largest, as it is coloured like an explosion; when
        every drawn norm is the same, one entry says so.
        """
        if not self.shown:
            return []
        ranked = sorted(self.shown, key=lambda k: (math.isnan(self.norms[k]), self.norms[k]))
        low, high = ranked[0], ranked[-1]
        low_text, high_text = f"{self.norms[low]:.3g}", f"{self.norms[high]:.3g}"
        if low_text == high_text:
            return [("low", low, f"‖∂L/∂h‖ = {low_text} at every step drawn")]
        return [
            ("low", low, f"smallest ‖∂L/∂h‖ = {low_text}"),
            ("high", high, f"largest ‖∂L/∂h‖ = {high_text}\n(log colour scale between)"),
        ]


def _step_key(path: tuple[str, ...]) -> StepKey | None:
    """The (enclosing scope path, step number) of a cluster that is a time step (`t=2`),
    as `gradient_flow` keys its norms; None for any other cluster."""
    key = step_of(path[-1]) if path else None
    return None if key is None else ("/".join(path[:-1]), key[1])


def _gap_label(gap: Gap) -> str:
    first, last, count = min(gap.steps), max(gap.steps), len(gap.steps)
    plural = "step" if count == 1 else "steps"
    return f"⋯\nt={first} … t={last}\n{count:,} {plural} not drawn"


def _edge_line(edge: Edge) -> str:
    attrs = [a for a in (_EDGE_STYLE[edge.style],) if a]
    if edge.dashed:
        attrs.append("style=dashed")
    text = " → ".join(part for part in (edge.label, edge.position) if part)
    if text:
        font = f', fontcolor="{POSITION_COLOUR}"' if edge.position else ""
        attrs.append(f"label={quote(text)}, fontsize=9{font}")
    if edge.upward:
        attrs.insert(0, "dir=back")
    suffix = f" [{', '.join(attrs)}]" if attrs else ""
    if edge.upward:
        return f"{edge.target} -> {edge.source}{suffix};"
    return f"{edge.source} -> {edge.target}{suffix};"
