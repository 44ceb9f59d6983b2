"""`GradientRows`: one array whose rows the steps of a recurrent layer write gradients into."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from retrograd.autograd.engine import OuterProducts
from retrograd.autograd.graph import grad_mode


class GradientRows:
    """The rows of one (steps, ...) array, shared by the nodes of one recurrent layer.

    The layer's steps write the gradients of their pre-activations here
    (`Linear`'s `grad_into`, through `pre_activation_grad`). Back to back in
    memory, they are the input projection's gradient (`input_grad`), and
    with the layer's `states` (h0, then every step's output, in one array)
    they make the recurrent weight's gradient in one matrix product
    (`weight_grad`), as hand-written BPTT computes them. Both come from step
    0, the last step whose backward runs: every step's backward leads to it.

    The stack of the layer's outputs, whose backward runs before the
    steps', hands the rows its gradient (`fill`). Only the last row reaches
    its step through the engine: every other step adds its row of the
    stack's gradient to the gradient from the step after it itself, so the
    engine sums and allocates nothing per step (unless the steps' outputs
    keep their gradients, which must then arrive whole). The activation's
    slopes are taken from the states for all steps in one call, into the
    rows themselves, which leaves one multiplication per step.
    """

    __slots__ = (
        "array",
        "backward_pass",
        "dtype",
        "incoming",
        "own_rows",
        "shape",
        "states",
        "top",
    )

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, states: np.ndarray) -> None:
        if states.shape != (shape[0] + 1, *shape[1:]):
            raise ValueError(
                f"GradientRows: states of shape {states.shape} do not match rows of shape "
                f"{shape} (h0 and every step's output: one state more than rows)"
            )
        self.shape = shape
        self.dtype = dtype
        self.states = states
        # Set for each backward pass by `_start`; no pass has begun yet.
        self.array: np.ndarray | None = None
        self.incoming: np.ndarray | None = None
        self.top: int | None = None
        self.own_rows = 0
        self.backward_pass = -1

    def _start(self, incoming: np.ndarray | None) -> None:
        """Begin this backward pass's rows; `incoming`, the stack's gradient, if it has one."""
        self.array = np.empty(self.shape, dtype=self.dtype)
        self.incoming = incoming
        self.backward_pass = grad_mode.backward_passes
        # The highest step written in this pass, and how many rows (from the first) add
        # their row of `incoming` themselves.
        self.top = None
        self.own_rows = 0

    def fill(self, grad: np.ndarray, every_row: bool) -> list[np.ndarray | None]:
        """Take `grad` (of the rows' shape), the stack's gradient; return the gradients of
        the stack's inputs: every row (`every_row`, for inputs that keep their gradient)
        or only the last, the steps before it adding their rows themselves (`own_rows`)."""
        self._start(grad)
        if every_row:
            return list(grad)
        self.own_rows = len(grad) - 1
        return [*[None] * self.own_rows, grad[-1]]

    def pre_activation_grad(
        self, step: int, grad: np.ndarray, slope: Callable[[np.ndarray, np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """Write step `step`'s pre-activation gradient into its row and return the row:
        `grad` (plus the stack's row, for a step that adds it itself) times the slope of
        the activation at the step's output. The first step of a pass (the highest)
        writes every step's slope into its row at once with `slope(outputs, into)`."""
        if self.backward_pass != grad_mode.backward_passes:
            self._start(None)
        row = self.array[step]
        if self.top is None:  # steps run from the last one down: the first is the highest
            self.top = step
            slope(self.states[1 : step + 2], self.array[: step + 1])
        if step < self.own_rows:
            grad = np.add(self.incoming[step], grad)
        if step == 0:  # the last step of the pass: the stack's gradient is used up
            self.incoming = None
        return np.multiply(row, grad, out=row)

    def weight_grad(self) -> OuterProducts:
        """The recurrent weight's gradient, sum_t row_t^T states_t over the steps written
        in this pass (for step 0 to return: its backward runs last)."""
        count = self.top + 1
        rows = self.array[:count].reshape(-1, self.shape[-1])
        return OuterProducts(rows, self.states[:count].reshape(-1, self.states.shape[-1]))

    def input_grad(self) -> np.ndarray:
        """The input projection's gradient: the rows, zero for the steps after the highest
        one written in this pass (for step 0 to return)."""
        self.array[self.top + 1 :] = 0
        return self.array
