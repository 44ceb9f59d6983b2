"""The gallery: scripts/make_gallery.py draws what docs/gallery.md says, and its pictures are in."""

from __future__ import annotations

import importlib.util
import math
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "docs" / "gallery.md"
MAX_IMAGE_BYTES = 300_000
TINY = {"train_steps": 3, "hidden_size": 8}


def load_script():
    spec = importlib.util.spec_from_file_location("make_gallery", ROOT / "scripts/make_gallery.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gallery():
    return load_script()


@pytest.fixture(scope="module")
def tiny_tables(gallery):
    return gallery.gradient_norm_tables(**TINY)


def image_names(gallery) -> list[str]:
    return [*gallery.GRAPHS, gallery.NORMS_IMAGE]


def test_gallery_rnn_graph_has_three_steps_sharing_each_weight(gallery):
    source = gallery.rnn_three_steps().source
    for t in range(3):
        assert re.search(rf'label="t={t}\\n‖∂L/∂h‖ = [0-9.e-]+"', source)
    assert "t=3" not in source
    weight = re.search(r'(n\d+) \[label="rnn.weight_hh_l0\\n', source).group(1)
    assert source.count('"rnn.weight_hh_l0\\n') == 1
    assert len(re.findall(rf"^\s*{weight} -> n\d+", source, re.MULTILINE)) == 3
    assert "‖grad‖ = " in source  # drawn after backward()


def test_gallery_lstm_graph_is_one_step_with_four_gates(gallery):
    source = gallery.lstm_step().source
    assert "split\\n4 outputs" in source
    assert source.count("sigmoid\\n") == 3 and source.count("tanh\\n") == 2
    for name in ("x[t]", "h[t-1]", "c[t-1]", "weight_ih", "weight_hh"):
        assert f'label="{name}\\n' in source
    assert source.count("rounded,filled,bold") >= 2  # h[t] and c[t] are both outputs


def test_gallery_add_twice_graph_accumulates_gradients(gallery):
    graph = gallery.add_twice()
    assert (graph.n_ops, graph.n_tensors) == (2, 2)
    assert graph.source.count("n0 -> n1") == 2 and graph.source.count("n1 -> n2") == 2
    assert "‖grad‖ = 4" in graph.source and "‖grad‖ = 2" in graph.source


def test_gallery_graphs_are_deterministic(gallery):
    for draw in gallery.GRAPHS.values():
        assert draw().source == draw().source


def test_gallery_untrained_gradient_vanishes_through_time(tiny_tables):
    assert len(tiny_tables) == 2
    for table in tiny_tables.values():
        assert [step for step, _ in table] == list(range(30))
        assert all(math.isfinite(norm) and norm > 0 for _, norm in table)
    untrained, trained = tiny_tables.values()
    assert untrained[0][1] < untrained[-1][1] / 100  # the last loss barely reaches h_0
    assert trained != untrained


def test_gallery_gradient_norm_tables_are_deterministic(gallery, tiny_tables):
    assert gallery.gradient_norm_tables(**TINY) == tiny_tables


def test_gallery_norm_plot_is_a_reproducible_svg(gallery, tiny_tables, tmp_path):
    pytest.importorskip("matplotlib")
    first = gallery.plot_norm_tables(tiny_tables, tmp_path / "a.svg").read_bytes()
    second = gallery.plot_norm_tables(tiny_tables, tmp_path / "b.svg").read_bytes()
    assert first == second
    assert ET.fromstring(first).tag.endswith("svg")
    assert b"untrained" in first and b"trained (3 steps)" in first


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz program dot")
def test_gallery_script_writes_every_picture(gallery, tmp_path):
    pytest.importorskip("matplotlib")
    paths = gallery.make_gallery(tmp_path, **TINY)
    assert sorted(p.name for p in paths) == sorted(image_names(gallery))
    for path in paths:
        assert ET.parse(path).getroot().tag.endswith("svg")
        assert 0 < path.stat().st_size < MAX_IMAGE_BYTES


def test_gallery_images_are_committed_small_and_referenced(gallery):
    page = GALLERY.read_text(encoding="utf-8")
    linked = re.findall(r"!\[[^\]]*\]\((images/[^)]+)\)", page)
    for name in image_names(gallery):
        path = ROOT / "docs" / "images" / name
        assert path.is_file(), f"{path} is missing: run python scripts/make_gallery.py"
        assert path.stat().st_size < MAX_IMAGE_BYTES
        assert f"images/{name}" in linked
    for link in linked:
        assert (GALLERY.parent / link).is_file(), f"docs/gallery.md links a missing {link}"
