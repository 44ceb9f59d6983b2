"""Anomaly mode: find the op and the line of user code where NaN or Inf first appears.

Inside `detect_anomaly()`, every node records the user code line that
created it, every forward result and every backward gradient is checked for
NaN/Inf, and the error names the op, the tensor and that line. Outside it,
ops pay only one boolean test.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd.graph import Node, grad_mode

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor

# With the separator: a user's `retrograd_demo/` beside the package is not inside it.
_PACKAGE = os.path.join(Path(__file__).resolve().parent.parent, "")


class AnomalyError(FloatingPointError):
    """A NaN or Inf appeared; the message names the op, the tensor and the user code line."""


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Check every forward result and backward gradient for NaN/Inf inside this block."""
    previous = grad_mode.anomaly
    grad_mode.anomaly = True
    try:
        yield
    finally:
        grad_mode.anomaly = previous


def user_frame() -> str:
    """The innermost 'file:line' outside the retrograd package (the caller's code)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _bad(array: Any) -> str | None:
    array = np.asarray(array)
    if array.dtype.kind not in "fc":
        return None
    if np.isnan(array).any():
        return "NaN"
    if np.isinf(array).any():
        return "Inf"
    return None


def check_forward(node: Node, out: Any) -> None:
    """Record where `node` was made; raise if its output holds NaN or Inf."""
    node.trace = user_frame()
    for i, array in enumerate(out if node.op.multiple_outputs else (out,)):
        problem = _bad(array)
        if problem:
            shapes = ", ".join(str(p.shape) for p in node.parents)
            which = f" output {i}" if node.op.multiple_outputs else ""
            raise AnomalyError(
                f"op {node.op.name!r}{which} produced {problem} in its forward result of shape "
                f"{np.shape(array)} (inputs of shapes {shapes}), created at {node.trace}"
            )


def check_backward(node: Node, parent: Tensor, position: int, grad: np.ndarray) -> None:
    """Raise if the gradient that `node` sends to input `position` holds NaN or Inf."""
    problem = _bad(grad)
    if problem:
        name = f" {parent.name!r}" if parent.name else ""
        where = getattr(node, "trace", "<recorded outside detect_anomaly>")
        raise AnomalyError(
            f"backward of op {node.op.name!r} produced {problem} in the gradient of its input "
            f"{position} (tensor{name} of shape {parent.shape}); the op was created at {where}"
        )
