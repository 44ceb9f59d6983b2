"""The DOT text of a drawing: escaping, labels, node and edge styles, clusters, legend.

Labels are Graphviz HTML-like labels, so user text is escaped in one place
(`escape`): `&`, `<`, `>` and `"` become entities, and braces, pipes and
backslashes have no special meaning there. Ids never contain user text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from retrograd.autograd.gradient_flow import StepKey, heat_colour, heat_colours, is_dark, step_of
from retrograd.autograd.graph import Node
from retrograd.autograd.tensor import Tensor

VALUE_LIMIT = 16
"""Tensors with at most this many elements have their values printed when asked."""

HIDDEN_COLOUR = "#c0392b"

KIND_STYLE = {
    "op": 'shape=ellipse, style=filled, fillcolor="#ffffff", color="#555555"',
    "parameter": 'shape=box, style="rounded,filled", fillcolor="#d5e8d4", color="#82b366"',
    "input": 'shape=box, style="rounded,filled", fillcolor="#dae8fc", color="#6c8ebf"',
    "constant": 'shape=box, style="rounded,filled,dashed", fillcolor="#f5f5f5", color="#999999"',
    "output": 'shape=box, style="rounded,filled,bold", fillcolor="#f8cecc", color="#b85450"',
}

_KIND_MEANING = {
    "output": ("output", "the tensor drawn from"),
    "op": ("op", "an operation, with its output's shape"),
    "parameter": ("parameter", "a named weight, drawn once, with an edge into each use"),
    "input": ("input", "a leaf tensor that is not a parameter"),
    "constant": ("constant", "a number folded into the graph"),
}

_EDGE_STYLE = {
    "plain": "",
    "parameter": 'color="#82b366", constraint=false',
    "hidden": f'color="{HIDDEN_COLOUR}", penwidth=2.5',
}


@dataclass
class Item:
    """One drawn DOT node: its id, kind (a key of KIND_STYLE), HTML label and scope."""

    id: str
    kind: str
    label: str
    scope: str | None


@dataclass(frozen=True)
class Edge:
    """One drawn edge; `style` is "plain", "parameter" or "hidden"."""

    source: str
    target: str
    style: str
    label: str
    dashed: bool


@dataclass
class Gap:
    """The marker standing for the time steps left out under one scope path."""

    id: str
    scope: str | None
    steps: set[int] = field(default_factory=set)


def escape(text: str) -> str:
    """Text made safe for an HTML-like label; newlines become line breaks."""
    lines = []
    for line in str(text).split("\n"):
        visible = "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
        lines.append(
            visible.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace('"', "&quot;")
        )
    return "<br/>".join(lines)


def tensor_kind(t: Tensor) -> str:
    """ "parameter" (a `Parameter`, or a named leaf that requires grad), "constant" (an
    unnamed one-element leaf without gradient, such as the 2 in `x * 2`) or "input"."""
    if type(t).__name__ == "Parameter" or (t.requires_grad and t.name):
        return "parameter"
    if not t.requires_grad and t.name is None and t.data.size == 1:
        return "constant"
    return "input"


def tensor_label(t: Tensor, kind: str, values: bool, gradients: bool) -> str:
    """Name (or kind), shape and dtype; the values if small and asked for; the gradient norm."""
    lines = [f"<b>{escape(t.name if t.name is not None else kind)}</b>"]
    lines.append(_small(f"{_shape(t.shape)} {t.dtype}"))
    if kind == "constant" or (values and t.data.size <= VALUE_LIMIT):
        lines.append(escape(_values(t.data)))
    if gradients and t.grad is not None:
        lines.append(_small(f"‖grad‖ = {_norm(t.grad)}"))
    return "<br/>".join(lines)


def op_label(node: Node, outputs: dict[int, Tensor], values: bool, gradients: bool) -> str:
    """The op's name and output shape; its output's value and retained gradient norm."""
    lines = [f"<b>{escape(node.op.name)}</b>"]
    if node.n_outputs == 1 and 0 in outputs:
        out = outputs[0]
        lines.append(_small(_shape(out.shape)))
        if values and out.data.size <= VALUE_LIMIT:
            lines.append(escape(_values(out.data)))
        if gradients and out.grad is not None:
            lines.append(_small(f"‖grad‖ = {_norm(out.grad)}"))
        return "<br/>".join(lines)
    lines.append(_small(f"{node.n_outputs} outputs"))
    for i in sorted(outputs):
        if gradients and outputs[i].grad is not None:
            lines.append(_small(f"‖grad[{i}]‖ = {_norm(outputs[i].grad)}"))
    return "<br/>".join(lines)


def _small(text: str) -> str:
    return f'<font point-size="9">{escape(text)}</font>'


def _shape(shape: tuple[int, ...]) -> str:
    return str(shape) if shape else "scalar"


def _values(data: np.ndarray) -> str:
    return np.array2string(
        data, precision=4, separator=", ", suppress_small=True, floatmode="maxprec"
    )


def _norm(grad: np.ndarray) -> str:
    return f"{float(np.linalg.norm(np.asarray(grad, dtype=np.float64))):.3g}"


class DotWriter:
    """Lays items out in nested clusters by scope and writes the whole DOT text."""

    def __init__(self, rankdir: str, norms: dict[StepKey, float]) -> None:
        self.rankdir = rankdir
        self.norms = norms
        self.colours, self.low, self.high = heat_colours(norms)
        self.coloured = False
        self.members: dict[tuple[str, ...], list[str]] = {(): []}
        self.children: dict[tuple[str, ...], list[tuple[str, ...]]] = {(): []}
        self.cluster_ids: dict[tuple[str, ...], int] = {}

    def write(self, items: list[Item], edges: list[Edge], gaps: list[Gap], legend: bool) -> str:
        """The DOT text: settings, clustered nodes, gap markers, edges, legend."""
        for item in items:
            self._members(item.scope).append(
                f"{item.id} [label=<{item.label}>, {KIND_STYLE[item.kind]}];"
            )
        for gap in gaps:
            self._members(gap.scope).append(
                f"{gap.id} [label=<{_gap_label(gap)}>, shape=box, "
                'style="rounded,dashed", color="#888888", fontcolor="#555555"];'
            )
        lines = [
            "digraph retrograd {",
            f'  graph [rankdir={self.rankdir}, fontname="Helvetica", fontsize=11, '
            "newrank=true, nodesep=0.25, ranksep=0.35];",
            '  node [fontname="Helvetica", fontsize=11];',
            '  edge [color="#444444", arrowsize=0.7];',
        ]
        lines.extend(self._clusters())
        lines.extend(f"  {_edge_line(edge)}" for edge in edges)
        if legend:
            kinds = {item.kind for item in items}
            hidden = any(edge.style == "hidden" for edge in edges)
            lines.append(f"  {self._legend(kinds, hidden, bool(gaps))}")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def _members(self, scope: str | None) -> list[str]:
        """The line list of a scope's cluster, creating it and its parents on first use."""
        path = tuple(part for part in (scope or "").split("/") if part)
        for depth in range(1, len(path) + 1):
            sub = path[:depth]
            if sub not in self.members:
                self.members[sub] = []
                self.children[sub] = []
                self.children[sub[:-1]].append(sub)
                self.cluster_ids[sub] = len(self.cluster_ids)
        return self.members[path]

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
            stack.extend((True, child) for child in reversed(self.children[path]))
        return lines

    def _cluster_attrs(self, path: tuple[str, ...]) -> list[str]:
        key = step_of("/".join(path[-1:]))
        if key is None:
            return [
                f"label=<<b>{escape(path[-1])}</b>>;",
                'labeljust="l"; style="rounded"; color="#999999";',
            ]
        step_key = ("/".join(path[:-1]), key[1])
        label = escape(path[-1])
        fill = "#f4f4f4"
        if step_key in self.norms:
            self.coloured = True
            label += "<br/>" + _small(f"‖∂L/∂h‖ = {self.norms[step_key]:.3g}")
            fill = self.colours[step_key]
        font = ' fontcolor="#ffffff";' if is_dark(fill) else ""
        return [
            f"label=<{label}>;",
            f'labeljust="l"; style="rounded,filled"; fillcolor="{fill}"; color="#bbbbbb";{font}',
        ]

    def _legend(self, kinds: set[str], hidden: bool, gap: bool) -> str:
        rows = ['<tr><td colspan="2"><b>legend</b></td></tr>']
        for kind, (name, meaning) in _KIND_MEANING.items():
            if kind in kinds:
                fill = KIND_STYLE[kind].split('fillcolor="')[1][:7]
                rows.append(
                    f'<tr><td bgcolor="{fill}">{name}</td><td align="left">{meaning}</td></tr>'
                )
        if hidden:
            rows.append(
                f'<tr><td><font color="{HIDDEN_COLOUR}"><b>━━▶</b></font></td>'
                '<td align="left">hidden state, from one time step to the next</td></tr>'
            )
        if gap:
            rows.append('<tr><td>⋯</td><td align="left">time steps not drawn</td></tr>')
        if self.coloured:
            rows.append(
                f'<tr><td bgcolor="{heat_colour(0.0)}">{self.low:.3g}</td><td align="left">'
                "smallest gradient norm reaching a hidden state</td></tr>"
            )
            dark = heat_colour(1.0)
            font = ' color="#ffffff"' if is_dark(dark) else ""
            rows.append(
                f'<tr><td bgcolor="{dark}"><font{font}>{self.high:.3g}</font></td><td align="left">'
                "largest (colour on a log scale between)</td></tr>"
            )
        table = '<table border="0" cellborder="1" cellspacing="0" cellpadding="4">'
        return f"legend [shape=plaintext, label=<{table}{''.join(rows)}</table>>];"


def _gap_label(gap: Gap) -> str:
    first, last, count = min(gap.steps), max(gap.steps), len(gap.steps)
    plural = "step" if count == 1 else "steps"
    return f"<b>⋯</b><br/>t={first} … t={last}<br/>{count:,} {plural} not drawn"


def _edge_line(edge: Edge) -> str:
    attrs = [a for a in (_EDGE_STYLE[edge.style],) if a]
    if edge.dashed:
        attrs.append("style=dashed")
    if edge.label:
        attrs.append(f'label="{edge.label}", fontsize=9')
    suffix = f" [{', '.join(attrs)}]" if attrs else ""
    return f"{edge.source} -> {edge.target}{suffix};"
