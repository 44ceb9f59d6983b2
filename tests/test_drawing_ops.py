"""Every op in tests/op_table.py draws: valid DOT, one labelled node per op, edges in input order.

The table is iterated, so an op added there is drawn here too. The text is
checked by structure (balanced braces, every edge between declared nodes),
and by the Graphviz program `dot` when it is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import detect_anomaly, gradient_norms, scope, to_dot
from retrograd.autograd.graph import topological_order
from tests.op_table import EXTRA_CASES, OPS, first_example

CASES = {**OPS, **EXTRA_CASES}
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
NODE = re.compile(r"^\s*(\w+) \[label=(\"(?:[^\"\\]|\\.)*\")(.*)\];$")
EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?;$")


def parse(text: str) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, str]]]:
    """The nodes (id -> label, attributes) and edges (source, target, attributes) of DOT
    text, after checking its structure: braces balance outside quoted strings, every line
    is a statement, and every edge joins declared nodes."""
    unquoted = QUOTED.sub('""', text)
    depth = 0
    for char in unquoted:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0, "a } closes nothing"
    assert depth == 0, "unbalanced braces"
    nodes: dict[str, tuple[str, str]] = {}
    edges = []
    for line in text.splitlines():
        if match := NODE.match(line):
            assert match.group(1) not in nodes, f"{match.group(1)} declared twice"
            nodes[match.group(1)] = (match.group(2)[1:-1], match.group(3))
        elif match := EDGE.match(line):
            edges.append((match.group(1), match.group(2), match.group(3) or ""))
        else:
            assert re.fullmatch(r"\s*(digraph \w+ \{|subgraph \w+ \{|\}|\w+ \[.*\];|.*;)", line)
    for source, target, _ in edges:
        assert source in nodes and target in nodes, f"edge {source} -> {target} to nowhere"
    return nodes, edges


def check_with_dot(text: str) -> None:
    if shutil.which("dot") is None:
        return
    result = subprocess.run(["dot", "-Tcanon"], input=text.encode(), capture_output=True)
    assert result.returncode == 0 and not result.stderr, result.stderr.decode()


def check_drawing(root: rg.Tensor, **options) -> dict[str, tuple[str, str]]:
    """Draw `root` and check every op node against the graph: label, inputs in order."""
    text = to_dot(root, **options).source
    nodes, edges = parse(text)
    check_with_dot(text)
    order = topological_order([root])
    ops = sorted(op_ids(nodes), key=lambda k: int(k[1:]))
    assert len(ops) == len(order)
    drawn = dict(zip(order, ops))
    for node, key in drawn.items():
        lines = nodes[key][0].split("\\n")
        assert lines[0] == node.op.label(node.params)
        assert (
            lines[1] == f"{node.n_outputs} outputs"
            if node.n_outputs > 1
            else re.fullmatch(
                r"scalar|\(.*\)", lines[1 + (node.n_outputs == 1 and _named_output(root, node))]
            )
        )
        sources = [s for s, t, _ in edges if t == key]
        assert len(sources) == len(node.parents)
        assert [_position(a) for _, t, a in edges if t == key] == expected_positions(node)
        for source, parent in zip(sources, node.parents):
            if parent._node is None:
                assert "box" in nodes[source][1]
            else:
                assert source == drawn[parent._node]
    return nodes


def expected_positions(node) -> list[str]:
    """Each input's place in the call, written on its edge when the op's inputs cannot be
    swapped (`sub`, `matmul`, `where`, `concat`); no number for one input, nor for `add`."""
    n = len(node.parents)
    numbered = n > 1 and node.op.name not in {"add", "mul", "maximum", "minimum"}
    return [str(i) if numbered else "" for i in range(n)]


def _position(attrs: str) -> str:
    """The input position an edge's label gives: `0` from `0` or `[1] → 0`, "" from `[1]`."""
    match = re.search(r'label="([^"]*)"', attrs)
    text = match.group(1).split(" → ")[-1] if match else ""
    return "" if text.startswith("[") else text


def op_ids(nodes: dict[str, tuple[str, str]]) -> list[str]:
    """The ids of the drawn op nodes (not the legend's sample)."""
    return [k for k, (_, attrs) in nodes.items() if re.fullmatch(r"n\d+", k) and "ellipse" in attrs]


def _named_output(root: rg.Tensor, node) -> bool:
    return root._node is node and bool(root.name)


@pytest.mark.parametrize("mode", ["forward", "after_backward", "anomaly"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_to_dot_draws_every_op_in_the_table(name, mode):
    case = CASES[name]
    inputs = [rg.tensor(a, requires_grad=True) for a in first_example(case)]
    if mode == "anomaly":
        with detect_anomaly():
            out = case.fn(*inputs)
    else:
        out = case.fn(*inputs)
    if mode == "after_backward":
        out.sum().backward()  # frees the saved values: drawing needs none of them
    nodes = check_drawing(out, values=True)
    labels = [nodes[k][0].split("\\n")[0] for k in op_ids(nodes)]
    if name in OPS:
        assert rg.autograd.Function.registry[name].name in {label.split("+")[0] for label in labels}
    if mode == "after_backward":
        assert any("‖grad‖" in label for label, _ in nodes.values())


def op_labels(root: rg.Tensor) -> list[str]:
    nodes, _ = parse(to_dot(root, legend=False).source)
    return [nodes[k][0] for k in op_ids(nodes)]


@pytest.mark.parametrize(
    ("draw", "expected"),
    [
        (lambda x: x.sum(axis=1), "sum\\n(2, 4)\\naxis=1"),
        (lambda x: x.max(axis=(0, 2), keepdims=True), "max\\n(1, 3, 1)\\naxis=(0, 2), keepdims"),
        (lambda x: x.prod(), "prod\\nscalar"),  # every axis: nothing to add
        (lambda x: x.logsumexp(axis=-1), "logsumexp\\n(2, 3)\\naxis=2"),
        (lambda x: x.permute(2, 0, 1), "permute\\n(4, 2, 3)\\naxes=(2, 0, 1)"),
        (lambda x: x.clip(-1.0, 0.5), "clip\\n(2, 3, 4)\\nlow=-1, high=0.5"),
        (lambda x: x.clip(None, np.zeros(4)), "clip\\n(2, 3, 4)\\nhigh=[0., 0., 0., 0.]"),
        (lambda x: x[1:, ::2, 0], "getitem\\n(1, 2)\\n[1:, ::2, 0]"),
        (lambda x: x[[rg.tensor(1), rg.tensor(0)]], "getitem\\n(2, 3, 4)\\n[[1, 0]]"),
        (lambda x: x.flatten()[x.argmin()], "getitem\\nscalar\\n[0]"),
        (lambda x: x[x.data > 0], "getitem\\n(12,)\\n[mask(2, 3, 4)]"),
        (lambda x: rg.concat([x, x], axis=1), "concat\\n(2, 6, 4)\\naxis=1"),
        (lambda x: x.astype(np.float32), "cast\\n(2, 3, 4)\\ndtype=float32"),
    ],
)
def test_to_dot_op_label_gives_the_parameters_that_say_what_it_did(draw, expected):
    x = rg.tensor(np.arange(24.0).reshape(2, 3, 4) - 11.5, requires_grad=True)
    assert expected in op_labels(draw(x))


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        (lambda x: x.chunk(2, axis=1), "split\\n2 outputs\\naxis=1, sizes=(3, 2)"),
        (lambda x: x.unbind(0), "split\\n2 outputs\\naxis=0, sizes=(1, 1), squeeze"),
    ],
)
def test_to_dot_multiple_outputs_some_unused_give_their_split(pieces, expected):
    x = rg.tensor(np.arange(10.0).reshape(2, 5), requires_grad=True)
    out = pieces(x)[-1] * 2.0  # only the last piece is used
    text = to_dot(out, legend=False).source
    assert expected in op_labels(out)
    assert re.search(r'n1 -> n3 \[label="\[1\]"', text)
    check_drawing(out)


def test_to_dot_parameter_line_is_cut_when_long():
    x = rg.tensor(np.zeros((2,) * 6), requires_grad=True)
    (label,) = op_labels(x[0:1:1, 0:2:1, 1:2:1, 0:2:1, 0:2:1, 0:1:1])
    assert label.endswith("…") and len(label.split("\\n")[-1]) == 40


def test_to_dot_results_without_gradient_are_leaves_of_the_drawing():
    """Comparisons, & | ^ ~ and argmin record no node: their results enter as input boxes."""
    x = rg.tensor(np.arange(6.0).reshape(2, 3) - 2.5, requires_grad=True)
    mask = (x > 0) & ~(x > 2) | (x < -2) ^ (x == 0)
    assert not mask.requires_grad
    out = rg.where(mask, x, x * 0.5)[x.argmin(axis=0), [0, 1, 2]]
    nodes = check_drawing(out, values=True)
    assert any(label.startswith("input\\n(2, 3) bool") for label, _ in nodes.values())
    assert any(
        label.startswith("getitem\\n(3,)\\n[[0, 0, 0], [0, 1, 2]]") for label, _ in nodes.values()
    )


def test_to_dot_time_steps_of_new_ops_truncate_and_colour_by_gradient():
    x = rg.tensor(np.random.default_rng(0).standard_normal((2, 6)), requires_grad=True)
    h = x
    for t in range(6):
        with scope(f"enc/t={t}"):
            a, b = h.chunk(2, axis=1)
            keep = (a > 0) & ~(b < 0)
            spread = b.std(axis=1, keepdims=True)
            h = rg.concat([rg.where(keep, a, b * 0.5), (spread * a).clip(-1, 1)], axis=1)
            h = h + h.flatten()[h.argmin()]
            h.retain_grad()
    loss = h.prod(axis=1).sum()
    loss.backward()
    assert [step for step, _ in gradient_norms(loss)] == list(range(6))
    whole = to_dot(loss, max_nodes=None)
    short = to_dot(loss, steps=(1, 1))
    assert short.n_ops < whole.n_ops
    nodes, _ = parse(short.source)
    assert "⋯\\nt=1 … t=4\\n4 steps not drawn" in {label for label, _ in nodes.values()}
    check_with_dot(short.source)
    with pytest.raises(ValueError, match=r"steps=\(1, 1\) would draw"):
        to_dot(loss, max_nodes=30)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('digraph g {\n  n0 [label="a{"];\n', "unbalanced braces"),
        ('digraph g {\n  n0 [label="a"];\n  n0 -> n1;\n}\n', "edge n0 -> n1 to nowhere"),
        ('digraph g {\n  n0 [label="a"];\n  n0 [label="b"];\n}\n', "n0 declared twice"),
    ],
)
def test_dot_structure_check_finds_broken_text(text, problem):
    with pytest.raises(AssertionError, match=re.escape(problem)):
        parse(text)
