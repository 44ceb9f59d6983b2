"""The text inside each drawn node: a tensor's or an op's label, as plain lines.

A leaf is labelled with its name (else its kind), shape and dtype; an op with
its name, its output's name and shape, and the parameters that say what it
computed (`axis=1`, an index as Python writes it). Values of small tensors and
gradient norms are added when asked for. Long names and parameters are cut with
"…". The lines are plain text: `dot_text.quote` escapes them for DOT.
"""

from __future__ import annotations

import numpy as np

from retrograd.autograd.graph import Node
from retrograd.autograd.tensor import Tensor

VALUE_LIMIT = 16
"""Tensors with at most this many elements have their values printed when asked."""

SHOWN_PARAMS = (
    "index",
    "axis",
    "axes",
    "sizes",
    "keepdims",
    "squeeze",
    "low",
    "high",
    "dtype",
    "reduction",
)
"""The op parameters a drawing shows, in this order: those that say what the op computed.
The others are the engine's own (an RNN layer's buffers, a weight's layout) or the
output's shape, which the label already gives."""

PARAM_LIMIT = 40
"""Longest parameter line drawn; a longer one (a long index) is cut with "…"."""

NAME_LIMIT = 60
"""Longest tensor name or scope label drawn; a longer one is cut with "…" (a name of
thousands of characters would stretch the picture past reading)."""


def tensor_kind(t: Tensor) -> str:
    """The kind of a leaf: "parameter", "constant" or "input".

    A parameter is a `Parameter` (by class name, so this module needs no
    import of `retrograd.nn`) or a named leaf that requires grad; a constant
    is an unnamed one-element leaf without gradient (the 2 in `x * 2`).
    """
    if type(t).__name__ == "Parameter" or (t.requires_grad and t.name):
        return "parameter"
    if not t.requires_grad and t.name is None and t.data.size == 1:
        return "constant"
    return "input"


def tensor_label(t: Tensor, kind: str, values: bool, gradients: bool) -> str:
    """Name (else kind), shape and dtype; the values if small and asked for; the gradient norm."""
    lines = [cut(t.name, NAME_LIMIT) if t.name else kind, f"{_shape(t.shape)} {t.dtype}"]
    if kind == "constant" or (values and t.data.size <= VALUE_LIMIT):
        lines.append(_values(t.data))
    if gradients and t.grad is not None:
        lines.append(f"‖grad‖ = {_norm(t.grad)}")
    return "\n".join(lines)


def op_label(node: Node, outputs: dict[int, Tensor], values: bool, gradients: bool) -> str:
    """The op's name, its output's name (if any) and shape, its parameters (`axis=1`),
    value and retained gradient norm."""
    lines = [node.op.label(node.params)]
    params = param_text(node)
    if node.n_outputs == 1 and 0 in outputs:
        out = outputs[0]
        if out.name:
            lines.append(cut(out.name, NAME_LIMIT))
        lines.append(_shape(out.shape))
        if params:
            lines.append(params)
        if values and out.data.size <= VALUE_LIMIT:
            lines.append(_values(out.data))
        if gradients and out.grad is not None:
            lines.append(f"‖grad‖ = {_norm(out.grad)}")
        return "\n".join(lines)
    lines.append(f"{node.n_outputs} outputs")
    if params:
        lines.append(params)
    for i in sorted(outputs):
        if gradients and outputs[i].grad is not None:
            lines.append(f"‖grad[{i}]‖ = {_norm(outputs[i].grad)}")
    return "\n".join(lines)


def param_text(node: Node) -> str:
    """The parameters that say what the op computed, as `axis=1, keepdims`; "" if none.

    False and None are left out, and so is the axis of a reduction over every
    axis of its input (a plain `sum`); an index is written as in Python
    (`[1:, ::2]`). The text is cut at PARAM_LIMIT characters.
    """
    parts = []
    for key in SHOWN_PARAMS:
        value = node.params.get(key)
        if value is None or value is False or (key == "axis" and _every_axis(node, value)):
            continue
        if key == "index":
            parts.append(_index_text(value))
        else:
            parts.append(key if value is True else f"{key}={_param_value(value)}")
    return cut(", ".join(parts), PARAM_LIMIT)


def cut(text: str, limit: int) -> str:
    """`text`, cut to `limit` characters with "…" if longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _every_axis(node: Node, axis: object) -> bool:
    """Whether `axis` (a reduction's tuple of axes) names every axis of the op's input."""
    return isinstance(axis, tuple) and len(set(axis)) == node.parents[0].ndim


def _param_value(value: object) -> str:
    if isinstance(value, tuple) and len(value) == 1:
        return str(value[0])
    if isinstance(value, np.ndarray):
        return _array_text(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, np.dtype | type):
        return str(np.dtype(value))
    return str(value)


def _index_text(index: object) -> str:
    """A getitem index as Python writes it: `[0, 2]`, `[1:, ::2]`, `[mask(3, 2)]`."""
    items = index if isinstance(index, tuple) else (index,)
    return "[" + ", ".join(_index_item(item) for item in items) + "]"


def _index_item(item: object) -> str:
    if isinstance(item, slice):
        start, stop = ("" if end is None else str(end) for end in (item.start, item.stop))
        return f"{start}:{stop}" + ("" if item.step is None else f":{item.step}")
    if item is Ellipsis:
        return "..."
    if isinstance(item, np.ndarray):
        return _array_text(item) if item.ndim else str(item.item())
    return str(item)


def _array_text(array: np.ndarray) -> str:
    """An array parameter: its values if at most 4, else its kind and shape."""
    if array.dtype == np.bool_:
        return f"mask{array.shape}"
    if array.size <= 4:
        return np.array2string(array, separator=", ", precision=4, floatmode="maxprec")
    return f"array{array.shape}"


def _shape(shape: tuple[int, ...]) -> str:
    return str(shape) if shape else "scalar"


def _values(data: np.ndarray) -> str:
    return np.array2string(
        data, precision=4, separator=", ", suppress_small=True, floatmode="maxprec"
    )


def _norm(grad: np.ndarray) -> str:
    return f"{float(np.linalg.norm(np.asarray(grad, dtype=np.float64))):.3g}"
