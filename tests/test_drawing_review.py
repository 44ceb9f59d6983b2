"""Drawing and rendering at their edges: advice that works, odd names and paths, no lost files."""

from __future__ import annotations

import re

import numpy as np
import pytest

from retrograd.autograd import Tensor, render, scope, to_dot
from retrograd.autograd.rendering import GraphvizNotFoundError


def _steps_with_a_big_prelude(prelude: int, steps: int) -> Tensor:
    """An RNN-like loop whose every step uses a tensor made by `prelude` ops outside the steps."""
    x = Tensor(np.ones(2), requires_grad=True, name="x")
    for _ in range(prelude):
        x = x * 1.0
    w = Tensor(np.eye(2) * 0.5, requires_grad=True, name="w")
    h = Tensor(np.ones((1, 2)))
    for t in range(steps):
        with scope(f"t={t}"):
            h = (h @ w).tanh() * x
    return h.sum()


def test_to_dot_too_many_nodes_suggests_steps_only_when_they_would_fit():
    loss = _steps_with_a_big_prelude(600, 5)
    fewest = to_dot(loss, steps=(1, 1), max_nodes=None)
    for kwargs in ({}, {"steps": (1, 1)}):
        with pytest.raises(ValueError) as info:
            to_dot(loss, **kwargs)
        message = str(info.value)
        assert f"steps=(1, 1) would draw {fewest.n_ops + fewest.n_tensors:,} nodes" in message
        assert "intermediate tensor" in message
        assert "Draw the first and last time steps only" not in message


def test_to_dot_too_many_nodes_suggests_the_most_steps_that_fit():
    loss = _steps_with_a_big_prelude(0, 400)
    sizes = {}
    for k in (1, 2, 3):
        graph = to_dot(loss, steps=(k, k))
        sizes[k] = graph.n_ops + graph.n_tensors
    for k in (1, 2, 3):
        with pytest.raises(ValueError, match=rf"steps=\({k}, {k}\)"):
            to_dot(loss, max_nodes=sizes[k])
        assert to_dot(loss, max_nodes=sizes[k], steps=(k, k)).n_ops > 0
    with pytest.raises(ValueError, match=r"steps=\(1, 1\) would draw"):
        to_dot(loss, max_nodes=sizes[1] - 1)


def _small_graph(name: str = "w"):
    w = Tensor(np.ones(2), requires_grad=True, name=name)
    return to_dot((w * w).sum())


def test_render_without_graphviz_keeps_an_existing_dot_file(no_graphviz, tmp_path):
    kept = tmp_path / "rnn.dot"
    kept.write_text("digraph mine { hand -> edited }\n", encoding="utf-8")
    graph = _small_graph()
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz") as info:
        render(graph, tmp_path / "rnn.svg")
    saved = tmp_path / "rnn-2.dot"
    assert f"saved to {saved}." in str(info.value)
    assert kept.read_text(encoding="utf-8") == "digraph mine { hand -> edited }\n"
    assert saved.read_text(encoding="utf-8") == graph.source
    with pytest.raises(GraphvizNotFoundError, match=f"saved to {re.escape(str(saved))}"):
        render(graph, tmp_path / "rnn.pdf")  # the same text again: no third copy
    assert sorted(p.name for p in tmp_path.glob("*.dot")) == ["rnn-2.dot", "rnn.dot"]


@pytest.mark.parametrize("inside", ["", "sub"])
def test_render_into_a_folder_that_is_a_file_names_that_file(tmp_path, inside):
    blocker = tmp_path / "plots"
    blocker.write_text("not a folder", encoding="utf-8")
    target = blocker / inside / "rnn.dot"
    with pytest.raises(OSError, match=rf"render\(\): cannot write .*{blocker} is a file"):
        render(_small_graph(), target)
    assert blocker.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.parametrize(
    ("path", "format", "message"),
    [
        (None, None, "path must be a str or Path, got NoneType"),
        (5, "svg", "path must be a str or Path, got int"),
        ("rnn", 3, "format must be a str such as 'svg', got int"),
    ],
)
def test_render_argument_of_the_wrong_type_is_named(tmp_path, monkeypatch, path, format, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError, match=re.escape(f"render(): {message}")):
        render(_small_graph(), path, format)
    assert list(tmp_path.iterdir()) == []


def test_gradient_norms_of_a_recurrent_layer_without_kept_gradients_names_the_option():
    from retrograd import nn
    from retrograd.autograd import gradient_norms

    rnn = nn.RNN(2, 3)
    out, _ = rnn(Tensor(np.ones((4, 1, 2), dtype=np.float32)))
    loss = (out * out).sum()
    loss.backward()
    with pytest.raises(ValueError, match="retain_hidden_grads=True"):
        gradient_norms(loss)
    kept = nn.RNN(2, 3, retain_hidden_grads=True)
    out, _ = kept(Tensor(np.ones((4, 1, 2), dtype=np.float32)))
    (out * out).sum().backward()
    assert [step for step, _ in gradient_norms(out)] == [0, 1, 2, 3]


@pytest.mark.parametrize("source", [None, 3.0, "t=0"])
def test_plot_gradient_norms_names_a_source_it_cannot_plot(source):
    pytest.importorskip("matplotlib")
    from retrograd.autograd import plot_gradient_norms

    with pytest.raises(TypeError, match="plot_gradient_norms\\(\\): source must be a Tensor"):
        plot_gradient_norms(source)


def test_plot_gradient_norms_takes_a_table_as_an_array():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from retrograd.autograd import plot_gradient_norms

    ax = plot_gradient_norms(np.array([[0, 1.0], [1, 0.5]]))
    assert list(ax.lines[0].get_xdata()) == [0, 1]
    plt.close(ax.figure)


def test_to_dot_a_leaf_named_empty_is_titled_by_its_kind():
    x = Tensor(np.ones(2), name="")
    y = Tensor(np.ones(2), requires_grad=True) * x
    y.name = ""
    source = to_dot(y * 2.0).source
    assert 'label="input\\n(2,) float64"' in source
    assert 'label="mul\\n(2,)"' in source
    assert 'label="\\n' not in source


def test_to_dot_edge_into_a_gap_does_not_name_one_output_for_many():
    x = Tensor(np.ones((6, 2)), requires_grad=True, name="x")
    parts = x.unbind(0)
    h = Tensor(np.zeros(2))
    for t in range(6):
        with scope(f"t={t}"):
            h = (h + parts[t]).tanh()
    source = to_dot(h.sum(), steps=(1, 1)).source
    split = re.search(r'^  (n\d+) \[label="split', source, re.M).group(1)
    into_gap = re.findall(rf"^  {split} -> gap0(.*);$", source, re.M)
    assert len(into_gap) == 1
    assert "label" not in into_gap[0]
    assert re.search(r'-> n\d+ \[label="\[0\]"', source)  # the kept steps keep theirs
    assert re.search(r'-> n\d+ \[label="\[5\]"', source)


@pytest.mark.parametrize("label", [5, None, ""])
def test_scope_refuses_a_label_that_is_not_a_non_empty_string(label):
    with pytest.raises(TypeError, match=r"scope\(\): label must be a non-empty string, got"):
        scope(label)
