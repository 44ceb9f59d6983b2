"""`GradientRows`: one array whose rows the steps of a recurrent layer write gradients into."""

from __future__ import annotations

import numpy as np


class GradientRows:
    """The rows of one (steps, ...) array, shared by the nodes of one recurrent layer.

    The layer's steps write the gradients of their pre-activations here
    (`Linear`'s `grad_into`). Back to back in memory, they are the input
    projection's gradient without a join, and the products of W_hh's
    gradient read them in place. The stack of the layer's outputs, whose
    backward runs before the steps', starts the array as a copy of its
    gradient and hands out its rows (`fill`): each step then overwrites the
    row it has just consumed, so the pre-activation gradients take no memory
    of their own.
    """

    __slots__ = ("array", "dtype", "shape")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape = shape
        self.dtype = dtype
        self.array: np.ndarray | None = None

    def fill(self, grad: np.ndarray) -> np.ndarray:
        """Start the rows as a copy of `grad` (of the rows' shape) and return them."""
        self.array = np.array(grad, dtype=self.dtype, order="C")
        return self.array

    def row(self, index: int) -> np.ndarray:
        """Row `index`, the array being made on first use."""
        if self.array is None:
            self.array = np.empty(self.shape, dtype=self.dtype)
        return self.array[index]
