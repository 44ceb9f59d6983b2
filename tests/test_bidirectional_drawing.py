"""Drawings of bidirectional RNNs: the reverse direction's step t=k is the one reading input k.

Its scope label, its retained state's name, its cluster and that cluster's gradient colour
all name the same step, and the drawing lays it level with the forward direction's t=k.
"""

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import (
    Tensor,
    gradient_norms,
    scope,
    time_steps,
    to_dot,
    topological_order,
)

STEPS, FEATURES, HIDDEN = 4, 3, 4
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz dot program")


def backpropagated(kind="GRU", layers=1, steps=STEPS):
    """A float64 bidirectional module keeping its states' gradients, after backward of a
    weighted sum of its outputs; returns (module, loss)."""
    module = getattr(nn, kind)(
        FEATURES,
        HIDDEN,
        num_layers=layers,
        bidirectional=True,
        retain_hidden_grads=True,
        generator=0,
        dtype=np.float64,
    )
    out, _ = module(rg.randn(steps, 2, FEATURES, generator=1, dtype=np.float64))
    weights = np.random.default_rng(0).standard_normal(out.shape)
    loss = (out * rg.tensor(weights)).sum()
    loss.backward()
    return module, loss


def clusters(source):
    """Each cluster's id -> (its title's first line, the path of titles around it, its
    fill, its title space's id and the node lines in it (nested clusters' included))."""
    found, stack = {}, []
    for line in source.splitlines():
        text = line.strip()
        if match := re.match(r"subgraph (cluster_\d+) \{", text):
            stack.append(match.group(1))
            found[stack[-1]] = {"title": "", "path": (), "fill": None, "space": None, "lines": []}
        elif text == "}" and stack and line.startswith("  " * len(stack) + "}"):
            stack.pop()
        elif stack and text.startswith('label="') and not found[stack[-1]]["title"]:
            found[stack[-1]]["title"] = text[len('label="') :].split("\\n")[0].rstrip('";')
            found[stack[-1]]["path"] = tuple(found[c]["title"] for c in stack)
        elif stack and text.startswith("labeljust"):
            fill = re.search(r'fillcolor="(#\w+)"', text)
            found[stack[-1]]["fill"] = fill and fill.group(1)
        elif stack and re.match(r"title\d+ \[", text):
            found[stack[-1]]["space"] = text.split(" ", 1)[0]
        elif stack:
            for cluster in stack:
                found[cluster]["lines"].append(text)
    return found


def step_cluster(found, path):
    """The cluster whose titles from the outside in are `path`, e.g. ("reverse", "t=0")."""
    (cluster,) = [c for c in found.values() if c["path"] == path]
    return cluster


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_reverse_step_t_k_is_the_one_reading_input_k_and_runs_from_the_last(kind):
    module, loss = backpropagated(kind, layers=2)
    for layer in (0, 1):
        forward, reverse = module.hidden_states[2 * layer : 2 * layer + 2]
        for k in range(STEPS):
            assert reverse[k].name == f"h_l{layer}_reverse[t={k}]"
            assert reverse[k]._node.scope == f"layer{layer}/reverse/t={k}"
            assert forward[k]._node.scope == f"layer{layer}/t={k}"
        # The reverse direction runs t=3 first: its nodes are made before t=2's.
        made = [reverse[k]._node.seq for k in range(STEPS)]
        assert made == sorted(made, reverse=True)
    order = [n.scope for n in topological_order([loss]) if n.scope and "reverse/t=" in n.scope]
    assert order[0] == "layer0/reverse/t=3" and order[-1] == "layer1/reverse/t=0"


def test_time_steps_reverse_labels_the_steps_from_last_to_first_and_yields_the_loop_index():
    h = rg.randn(2, generator=0, requires_grad=True)
    with scope("rnn"), time_steps(3, reverse=True) as steps:
        yielded = []
        for i in steps:
            yielded.append(i)
            h = h * 2.0
    assert yielded == [0, 1, 2]
    assert [n.scope for n in topological_order([h])] == ["rnn/t=2", "rnn/t=1", "rnn/t=0"]


def test_reverse_step_cluster_holds_its_state_and_is_coloured_by_its_gradient():
    module, loss = backpropagated()
    source = to_dot(loss).source
    found = clusters(source)
    _, reverse = module.hidden_states
    norms = [float(np.linalg.norm(h.grad)) for h in reverse]
    assert len(set(f"{n:.3g}" for n in norms)) == STEPS  # the steps can be told apart
    for k in range(STEPS):
        cluster = step_cluster(found, ("reverse", f"t={k}"))
        assert any(f"h_l0_reverse[t={k}]" in line for line in cluster["lines"])
        assert not any(
            f"h_l0_reverse[t={j}]" in line
            for j in range(STEPS)
            if j != k
            for line in cluster["lines"]
        )
        assert f'label="t={k}\\n‖∂L/∂h‖ = {norms[k]:.3g}"' in source
    table = dict(gradient_norms(loss, within="reverse"))
    np.testing.assert_allclose([table[k] for k in range(STEPS)], norms, rtol=1e-12)


def test_reverse_steps_are_ranked_level_with_the_forward_steps_of_the_same_t():
    _, loss = backpropagated()
    source = to_dot(loss).source
    found = clusters(source)
    levelled = set(re.findall(r"\{rank=same; (title\d+); (title\d+);\}", source))
    for k in range(STEPS):
        forward = step_cluster(found, (f"t={k}",))["space"]
        reverse = step_cluster(found, ("reverse", f"t={k}"))["space"]
        assert (forward, reverse) in levelled
    assert len(levelled) == STEPS


def test_reverse_state_edges_are_laid_out_upward_and_still_point_at_the_next_step_run():
    _, loss = backpropagated()
    source = to_dot(loss).source
    found = clusters(source)
    step = {}  # node id -> the reverse step it is drawn in
    for k in range(STEPS):
        for line in step_cluster(found, ("reverse", f"t={k}"))["lines"]:
            if match := re.match(r"(n\d+) \[", line):
                step[match.group(1)] = k
    hidden = re.findall(r"^  (n\d+) -> (n\d+) \[(.*color=\"#c0392b\".*)\];$", source, re.M)
    between = [(a, b, attrs) for a, b, attrs in hidden if a in step and b in step]
    assert between and all(attrs.startswith("dir=back, ") for _, _, attrs in between)
    # Written from the step that reads the state (t=k) to the one that made it (t=k+1):
    # the arrow, turned round, points from t=k+1 to t=k, the way the state goes.
    assert {(step[a], step[b]) for a, b, _ in between} == {(k, k + 1) for k in range(STEPS - 1)}


def test_reverse_parameters_are_ranked_at_the_top_step_as_the_forward_ones():
    _, loss = backpropagated()
    source = to_dot(loss).source
    found = clusters(source)
    names = dict(re.findall(r'(n\d+) \[label="([\w.]+)\\n', source))
    for name, path in (("weight_hh_l0", ("t=0",)), ("weight_hh_l0_reverse", ("reverse", "t=0"))):
        (param,) = [i for i, label in names.items() if label == name]
        ranking = re.findall(rf"^  {param} -> (n\d+) \[color=\"#82b366\", label", source, re.M)
        top = {
            m.group(1)
            for line in step_cluster(found, path)["lines"]
            if (m := re.match(r"(n\d+) \[", line))
        }
        assert len(ranking) == 1 and ranking[0] in top


def test_reverse_steps_left_out_are_the_same_inputs_in_both_directions():
    _, loss = backpropagated("LSTM", steps=8)
    source = to_dot(loss, steps=(1, 1)).source
    found = clusters(source)
    titles = {c["path"] for c in found.values() if c["path"][-1].startswith("t=")}
    assert titles == {("t=0",), ("t=7",), ("reverse", "t=0"), ("reverse", "t=7")}
    assert any(
        "h_l0_reverse[t=7]" in line for line in step_cluster(found, ("reverse", "t=7"))["lines"]
    )
    assert source.count("t=1 … t=6\\n6 steps not drawn") == 2
    assert len(re.findall(r"\{rank=same; ", source)) == 2


def test_a_reverse_running_loop_without_a_forward_partner_is_drawn_in_the_order_it_runs():
    w = Tensor(np.eye(2) * 0.5, requires_grad=True, name="w")
    h = rg.ones(1, 2)
    with scope("backwards"), time_steps(3, reverse=True) as steps:
        for _ in steps:
            h = (h @ w).tanh()
    source = to_dot(h.sum()).source
    assert "dir=back" not in source and "rank=same" not in source
    assert source.count('color="#c0392b", penwidth=2.5') == 2


@needs_dot
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_rendered_bidirectional_gru_lines_its_steps_up_and_no_steps_overlap(rankdir):
    _, loss = backpropagated()
    graph = to_dot(loss, rankdir=rankdir)
    done = subprocess.run(
        ["dot", "-Tjson"], input=graph.source, capture_output=True, text=True, check=True
    )
    objects = json.loads(done.stdout)["objects"]
    boxes, where = {}, {}
    found = clusters(graph.source)
    names = {name: cluster["path"] for name, cluster in found.items()}
    for obj in objects:
        if obj["name"] in names and names[obj["name"]][-1].startswith("t="):
            boxes[names[obj["name"]]] = [float(v) for v in obj["bb"].split(",")]
        if obj["name"].startswith("title"):
            where[obj["name"]] = [float(v) for v in obj["pos"].split(",")]
    axis = 1 if rankdir == "TB" else 0  # the rank axis: y top-down is decreasing y in dot
    spaces = {c["path"]: c["space"] for c in found.values() if c["space"]}
    for k in range(STEPS):
        forward, reverse = where[spaces[(f"t={k}",)]], where[spaces[("reverse", f"t={k}")]]
        assert forward[axis] == pytest.approx(reverse[axis])
    ranks = [where[spaces[("reverse", f"t={k}")]][axis] for k in range(STEPS)]
    assert ranks == sorted(ranks, reverse=rankdir == "TB")  # t=0 first, as the forward's
    paths = list(boxes)
    assert len(paths) == 2 * STEPS
    for i, a in enumerate(paths):
        for b in paths[i + 1 :]:
            (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = boxes[a], boxes[b]
            assert ax2 <= bx1 or bx2 <= ax1 or ay2 <= by1 or by2 <= ay1, (a, b)
