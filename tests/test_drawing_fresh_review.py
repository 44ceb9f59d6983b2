"""Graph drawings as a user meets them: the rendered layout, awkward names, odd graphs, output."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from retrograd.autograd import Tensor, render, scope, to_dot
from retrograd.models.graph_demo import draw_model_graph

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz program dot")

Box = tuple[float, float, float, float]


def _text_box(text: ET.Element) -> Box:
    """The box an SVG text covers, from its anchor, font size and length (glyphs taken wide)."""
    size, x, y = (float(text.get(k)) for k in ("font-size", "x", "y"))
    width = 0.6 * size * len(text.text or "")
    left = {"start": x, "middle": x - width / 2, "end": x - width}[text.get("text-anchor")]
    return left, y - 0.8 * size, left + width, y + 0.2 * size


def _curve_points(d: str) -> list[tuple[float, float]]:
    """Points along an SVG path of cubic Bézier pieces (`M x,y C x,y x,y x,y ...`)."""
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
    knots = list(zip(numbers[0::2], numbers[1::2], strict=True))
    points = []
    for i in range(0, len(knots) - 3, 3):
        a, b, c, e = knots[i : i + 4]
        for k in range(41):
            t = k / 40
            weights = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t**3)
            points.append(
                tuple(
                    sum(w * p[j] for w, p in zip(weights, (a, b, c, e), strict=True))
                    for j in (0, 1)
                )
            )
    return points


def _inside(point: tuple[float, float], box: Box, pad: float) -> bool:
    return box[0] - pad < point[0] < box[2] + pad and box[1] - pad < point[1] < box[3] + pad


def _overlap(a: Box, b: Box, pad: float) -> bool:
    return a[0] - pad < b[2] and b[0] - pad < a[2] and a[1] - pad < b[3] and b[1] - pad < a[3]


def title_collisions(svg: str, pad: float = 3.0) -> list[str]:
    """Each cluster title line that an edge runs across or an edge's number comes near."""
    root = ET.fromstring(svg)
    titles, edges = [], []
    for group in root.iter(f"{SVG}g"):
        name = group.find(f"{SVG}title").text if group.find(f"{SVG}title") is not None else ""
        if group.get("class") == "cluster":
            titles.extend((t.text, _text_box(t)) for t in group.findall(f"{SVG}text"))
        elif group.get("class") == "edge":
            path = _curve_points(group.find(f"{SVG}path").get("d"))
            labels = [_text_box(t) for t in group.findall(f"{SVG}text")]
            edges.append((name, path, labels))
    found = []
    for title, box in titles:
        for name, path, labels in edges:
            if any(_inside(p, box, pad) for p in path):
                found.append(f"edge {name} runs across the title {title!r}")
            if any(_overlap(label, box, pad) for label in labels):
                found.append(f"the number of edge {name} touches the title {title!r}")
    return found


@needs_dot
@pytest.mark.parametrize("gradients", [False, True], ids=["plain", "gradients"])
@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_unrolled_drawing_keeps_edges_and_their_numbers_off_the_step_titles(
    tmp_path: Path, cell: str, gradients: bool
):
    for steps, layers in ((3, 1), (4, 2)):
        out = draw_model_graph(
            tmp_path / f"{cell}-{steps}.svg",
            cell=cell,
            steps=steps,
            layers=layers,
            gradients=gradients,
        )
        assert title_collisions(out.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("format", [None, "svg", "png"])
def test_render_refuses_a_picture_suffix_it_cannot_draw(tmp_path: Path, format: str | None):
    x = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(
        ValueError, match=r"graph\.jpg.*\.jpg is not a format drawn here; use \.svg"
    ):
        render((x * 2).sum(), tmp_path / "graph.jpg", format)
    assert list(tmp_path.iterdir()) == []  # no graph.jpg.svg beside it


def test_long_names_and_scope_labels_are_cut_in_the_drawing():
    long = "w" * 5_000
    x = Tensor(np.ones(2), requires_grad=True, name=long)
    with scope("s" * 5_000):
        y = x * 2.0
    y.name = "y" * 5_000
    dot = to_dot(y).source
    assert long not in dot and "y" * 100 not in dot and "s" * 100 not in dot
    assert "w" * 59 + "…" in dot and "y" * 59 + "…" in dot and "s" * 59 + "…" in dot
