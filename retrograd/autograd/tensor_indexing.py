"""Indexing a `Tensor`: reading a selection (`t[index]`, recorded as an op) and writing
into one in place (`t[index] = value`), a mixin."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd import ops
from retrograd.autograd.function import record
from retrograd.autograd.graph import grad_mode
from retrograd.autograd.tensor_in_place import assign_at

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


class IndexingMethods:
    """The indexing operators of `Tensor`."""

    __slots__ = ()

    def __getitem__(self, index: Any) -> Tensor:
        return record(ops.GetItem, (self,), {"index": _plain_index(index)})

    def __setitem__(self, index: Any, value: Any) -> None:
        """In place: `value`, broadcast, into the selection (NumPy's `a[index] = value`).

        Like every in-place update it is refused on a tensor that requires grad
        while grad mode is on; so is a `value` that requires grad, which this
        write would cut from the graph (build such a tensor with `stack`,
        `concat` or `where` instead).
        """
        # A Tensor is an IndexingMethods (the class is imported here before Tensor exists).
        if isinstance(value, IndexingMethods) and value.requires_grad and grad_mode.enabled:
            raise RuntimeError(
                "setitem: the value requires grad, and writing it into a tensor would cut it "
                "from the graph; build the tensor out of place (rg.stack, rg.concat, rg.where) "
                "or write under retrograd.no_grad()"
            )
        self._in_place(functools.partial(assign_at, _plain_index(index)), value, "setitem")


def _plain_index(index: Any) -> Any:
    """Replace tensors and arrays inside an index by copies of their integer or boolean arrays.

    The node keeps the index for backward: a copy (the size of the index, not of
    the tensor) keeps the caller's later in-place changes to it out of the gradient.
    """
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, IndexingMethods):
        return index.data.copy()
    if isinstance(index, list | np.ndarray):
        array = np.array(index)
        if array.dtype.kind == "O" and isinstance(index, list):  # a list holding tensors
            array = np.array([_plain_index(i) for i in index])
        # An empty list selects nothing, as in PyTorch; NumPy would read it as floats.
        return array.astype(np.intp) if array.size == 0 and array.dtype.kind == "f" else array
    return index
