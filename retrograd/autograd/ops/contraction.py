"""Einstein summation: `einsum`, one op whose gradient is one einsum per operand.

The op takes an explicit equation of letters only ("ij,jk->ik"); the function
`einsum` turns implicit outputs and "..." into that form and checks the
operands' shapes first, so the op itself only contracts.
"""

from __future__ import annotations

import numpy as np

from retrograd.autograd.function import Function
from retrograd.autograd.graph import Node


def _unique(letters: str) -> str:
    """The letters of `letters` in order, each once."""
    return "".join(dict.fromkeys(letters))


class Einsum(Function):
    """d out / d operand k: the einsum of d out with the other operands, out to operand k's
    letters; a letter only operand k has is broadcast back, and a letter it repeats (a
    diagonal, as 'ii->i') receives the gradient on that diagonal only"""

    @staticmethod
    def forward(ctx: Node, *operands: np.ndarray, equation: str) -> np.ndarray:
        ctx.saved = operands
        return np.einsum(equation, *operands)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        operands = ctx.saved
        inputs, output = ctx.params["equation"].split("->")
        subscripts = inputs.split(",")
        sizes = _letter_sizes(subscripts, operands)
        return tuple(
            _operand_grad(grad, output, subscripts, operands, k, sizes)
            if parent.requires_grad
            else None
            for k, parent in enumerate(ctx.parents)
        )


def _letter_sizes(subscripts: list[str], operands: tuple[np.ndarray, ...]) -> dict[str, int]:
    """Each letter's size: its size in an operand where it is not 1 (a size 1 broadcasts)."""
    sizes: dict[str, int] = {}
    for letters, operand in zip(subscripts, operands):
        for letter, size in zip(letters, operand.shape):
            if sizes.get(letter, 1) == 1:
                sizes[letter] = size
    return sizes


def _operand_grad(
    grad: np.ndarray,
    output: str,
    subscripts: list[str],
    operands: tuple[np.ndarray, ...],
    k: int,
    sizes: dict[str, int],
) -> np.ndarray:
    """The gradient of operand `k`, at the letters' broadcast sizes (the engine sums a
    broadcast size-1 axis back down)."""
    others = [s for i, s in enumerate(subscripts) if i != k]
    known = set(output).union(*others)
    wanted = _unique(subscripts[k])
    present = "".join(letter for letter in wanted if letter in known)
    equation = ",".join([output, *others]) + "->" + present
    arrays = [operand for i, operand in enumerate(operands) if i != k]
    g = np.einsum(equation, grad, *arrays)
    # The gradient is constant along letters nobody else has (summed over in the forward)
    # and along letters of size 1 everywhere else (broadcast in the forward).
    g = np.expand_dims(g, tuple(i for i, c in enumerate(wanted) if c not in known))
    g = np.broadcast_to(g, [sizes[c] for c in wanted])
    if len(wanted) == len(subscripts[k]):
        return g
    full = np.zeros([sizes[c] for c in subscripts[k]], dtype=g.dtype)
    np.einsum(f"{subscripts[k]}->{wanted}", full)[...] = g  # a writable view of the diagonal
    return full
