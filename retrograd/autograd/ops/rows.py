"""`GradientRows`: one array whose rows the steps of a recurrent layer write gradients into."""

from __future__ import annotations

import numpy as np

from retrograd.autograd.engine import OuterProducts
from retrograd.autograd.graph import grad_mode


class GradientRows:
    """The rows of one (steps, ...) array, shared by the nodes of one recurrent layer.

    The layer's steps write the gradients of their pre-activations here
    (`Linear`'s `grad_into`). Back to back in memory, they are the input
    projection's gradient (`input_grad`), and with the layer's `states` (the
    input of every step, h0 first, in one array) they make the recurrent
    weight's gradient in one matrix product (`weight_grad`), as hand-written
    BPTT computes them. Both come from step 0, the last step whose backward
    runs: every step's backward leads to it. The stack of the layer's
    outputs, whose backward runs before the steps', starts the array as a
    copy of its gradient and hands out its rows (`fill`): each step then
    overwrites the row it has just consumed, so the pre-activation gradients
    take no memory of their own. Only the last row reaches its step through
    the engine: every other step adds its row to the gradient from the step
    after it itself, in place, so the engine sums and allocates nothing per
    step (unless the steps' outputs keep their gradients, which must then
    arrive whole).
    """

    __slots__ = ("array", "backward_pass", "dtype", "own_rows", "shape", "states", "top")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, states: np.ndarray) -> None:
        if states.shape != shape:
            raise ValueError(
                f"GradientRows: states of shape {states.shape} do not match rows of shape {shape}"
            )
        self.shape = shape
        self.dtype = dtype
        self.states = states
        self.array: np.ndarray | None = None
        # The backward pass the rows belong to, the highest step written in it, and how
        # many rows (from the first) hold a gradient that their steps add themselves.
        self.backward_pass = -1
        self.top: int | None = None
        self.own_rows = 0

    def fill(self, grad: np.ndarray, every_row: bool) -> list[np.ndarray | None]:
        """Start the rows as a copy of `grad` (of the rows' shape); return the gradients of
        the stack's inputs: every row (`every_row`, for inputs that keep their gradient)
        or only the last, the steps before it adding their rows themselves (`own_rows`)."""
        self.array = np.array(grad, dtype=self.dtype, order="C")
        self.backward_pass = grad_mode.backward_passes
        self.top = None
        if every_row:
            self.own_rows = 0
            return list(self.array)
        self.own_rows = len(self.array) - 1
        return [*[None] * self.own_rows, self.array[-1]]

    def row(self, index: int) -> np.ndarray:
        """Row `index`, for the step of that index to write; the array is made on first use
        in a backward pass."""
        if self.backward_pass != grad_mode.backward_passes:
            self.array = np.empty(self.shape, dtype=self.dtype)
            self.backward_pass = grad_mode.backward_passes
            self.top = None
            self.own_rows = 0
        if self.top is None:  # steps run from the last one down: the first is the highest
            self.top = index
        return self.array[index]

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
