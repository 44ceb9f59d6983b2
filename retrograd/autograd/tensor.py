"""`Tensor`: an array, its gradient, and the node of the op that made it.

This module holds what every tensor is: its construction, data and version,
conversions to NumPy and Python values and between dtypes, autograd methods and
arithmetic operators. Its other methods come from mixins, one module per kind:

- `tensor_elementwise`: elementwise functions (exp, sin, floor, lerp...);
- `tensor_reductions`: sum, mean, prod, max, min, logsumexp, softmax, argmax...;
- `tensor_statistics`: var, std, norm, nansum, nanmean;
- `tensor_shape`: reshape, permute, transpose, expand, squeeze, split...;
- `tensor_layout`: movedim, narrow, flip, roll, repeat, tril, diagonal...;
- `tensor_indexing`: `t[index]` and `t[index] = value`;
- `tensor_gather`: gather, scatter, masked_fill, sort, topk, cumsum...;
- `tensor_logic`: comparisons, logical and bitwise operators, all, any;
- `tensor_in_place`: in-place updates (add_, copy_, +=...);
- `tensor_conversion`: numel, clone, to, long, new_zeros, detach_, fill_...;
- `tensor_linalg`: matmul, mm, bmm, mv, dot, outer, addmm, trace.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from retrograd.autograd import engine, ops
from retrograd.autograd.function import record
from retrograd.autograd.graph import (
    Node,
    grad_mode,
    last_written,
    mark_layout_changed,
    mark_written,
)
from retrograd.autograd.tensor_conversion import ConversionMethods
from retrograd.autograd.tensor_elementwise import ElementwiseMethods
from retrograd.autograd.tensor_gather import GatherMethods
from retrograd.autograd.tensor_in_place import InPlaceMethods
from retrograd.autograd.tensor_indexing import IndexingMethods
from retrograd.autograd.tensor_layout import LayoutMethods
from retrograd.autograd.tensor_linalg import LinalgMethods
from retrograd.autograd.tensor_logic import LogicMethods
from retrograd.autograd.tensor_reductions import ReductionMethods
from retrograd.autograd.tensor_shape import ShapeMethods
from retrograd.autograd.tensor_statistics import StatisticsMethods

DEFAULT_FLOAT = np.dtype(np.float32)


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert user data to an array; Python floats become float32 as in PyTorch."""
    if isinstance(data, Tensor):
        data = data.data
    try:
        array = np.array(data, dtype=dtype)
    except ValueError:
        nested_shape(data, "Tensor")  # a ragged list: names the shapes that differ
        item = _first_non_number(data, dtype)
        if item is None:
            raise
        raise TypeError(f"Tensor(): data must hold numbers, got {item!r}") from None
    if (
        dtype is None
        and array.dtype == np.float64
        and not isinstance(data, np.ndarray | np.generic)
    ):
        array = array.astype(DEFAULT_FLOAT)
    if array.dtype.kind not in "biuf":
        raise TypeError(_not_numeric(array))
    return array


def _first_non_number(data: Any, dtype: Any) -> Any:
    """The first item of rectangular `data` that NumPy cannot convert to `dtype` (a string
    such as 'a'), or None: names the culprit instead of NumPy's "could not convert"."""
    for item in np.array(data, dtype=object).flat:
        try:
            np.array(item, dtype=dtype)
        except (TypeError, ValueError):
            return item
    return None


def nested_shape(data: Any, op: str) -> tuple[int, ...]:
    """The shape of nested lists (arrays inside keep theirs); a ValueError naming `op` and
    the shapes that differ if it is ragged."""
    if isinstance(data, np.ndarray | np.generic | Tensor):
        return data.shape
    if not isinstance(data, list | tuple):
        return ()
    shapes = [nested_shape(item, op) for item in data]
    if len(set(shapes)) > 1:
        raise ValueError(
            f"{op}(): nested sequences must be rectangular; the items of one list have "
            f"shapes {', '.join(map(str, dict.fromkeys(shapes)))}"
        )
    return (len(data), *(shapes[0] if shapes else ()))


def _not_numeric(array: np.ndarray) -> str:
    """Why `array` cannot be a tensor's data; for a list holding tensors, what to call instead
    (NumPy makes it an array of objects)."""
    if array.dtype.kind == "O" and any(isinstance(item, Tensor) for item in array.flat):
        return (
            "tensor data holds tensors, which Tensor() does not unwrap; use rg.tensor(data) "
            "to copy their values, or rg.stack(tensors) to keep the graph"
        )
    return f"tensor data must be numeric, got dtype {array.dtype}"


def _data_array(value: Any, requires_grad: bool) -> np.ndarray:
    """The array that `t.data = value` binds: a Tensor's own array (shared, as in PyTorch),
    else `value` as an array; refused unless it holds numbers, floats if `t` requires grad."""
    array = value._data if isinstance(value, Tensor) else value
    if not isinstance(array, np.ndarray):
        array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Tensor.data: {_not_numeric(array)}")
    if requires_grad and array.dtype.kind != "f":
        raise TypeError(
            f"Tensor.data: a tensor that requires grad needs a floating array, got dtype "
            f"{array.dtype}; convert first, e.g. value.astype('float32')"
        )
    return array


def _check_grad_dtype(dtype: np.dtype) -> None:
    if dtype.kind != "f":
        raise TypeError(
            f"requires_grad=True needs a floating dtype, got {dtype}; "
            "convert first, e.g. tensor(data, dtype='float32')"
        )


class Tensor(
    ElementwiseMethods,
    ReductionMethods,
    StatisticsMethods,
    ShapeMethods,
    LayoutMethods,
    IndexingMethods,
    GatherMethods,
    LogicMethods,
    InPlaceMethods,
    ConversionMethods,
    LinalgMethods,
):
    """An n-dimensional array that records the operations applied to it.

    A leaf tensor (made by the user) has no node; a tensor made by an op that
    needed a gradient holds the `Node` of that op. `backward()` fills `.grad`
    of every leaf with `requires_grad=True`.
    """

    __slots__ = ("_data", "_index", "_name", "_node", "_retains_grad", "_version", "grad")
    __slots__ += ("requires_grad", "__weakref__")
    # Make NumPy defer to our reflected operators (np.float64(2) * t stays a Tensor).
    __array_ufunc__ = None

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: Any = None, name: str | None = None
    ) -> None:
        self._data = as_array(data, dtype)
        self._version = 0
        if requires_grad:
            _check_grad_dtype(self.data.dtype)
        self.grad: np.ndarray | None = None
        self.requires_grad = requires_grad
        self.name = name
        self._node: Node | None = None
        self._index = 0
        self._retains_grad = False

    @staticmethod
    def _make(data: np.ndarray, node: Node | None, index: int) -> Tensor:
        """Wrap an op's output without conversion (the hot path of every op)."""
        t = _new_tensor(Tensor)
        t._data = data
        t._version = 0
        t.grad = None
        t.requires_grad = node is not None
        t._name = None
        t._node = node
        t._index = index
        t._retains_grad = False
        return t

    # ----- data and its version -----
    @property
    def data(self) -> np.ndarray:
        """The underlying array. Assigning to it (also `t.data -= x`) counts as an in-place
        modification, and an array of another shape or dtype invalidates every node made
        from this tensor before; writes into it (`t.data[i] = v`) are not tracked."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        array = _data_array(value, self.requires_grad)
        # `t.data -= x` hands back the same array, written in place; a new array is a rebinding.
        old = self._data
        wrote_memory = array is old
        self._data = array
        self._bump_version(wrote_memory)
        if array.shape != old.shape or array.dtype != old.dtype:
            mark_layout_changed(self)

    @property
    def version(self) -> int:
        """Changes whenever this tensor is modified in place (0 if never), also by a write
        through a view or a detached tensor sharing its memory (as PyTorch's shared counter)."""
        return max(self._version, last_written(self._data))

    def _bump_version(self, wrote_memory: bool = True) -> None:
        """Record an in-place modification; nodes that saved this tensor earlier become invalid.

        With `wrote_memory` (the values changed in place, not just the array
        rebound), nodes that saved a view or a detached alias of it are invalid too.
        """
        grad_mode.mutations += 1
        self._version = grad_mode.mutations
        if wrote_memory:
            mark_written(self._data)

    # ----- properties and conversion -----
    @property
    def name(self) -> str | None:
        """A label shown in errors, `repr` and graph drawings (a str, or None)."""
        return self._name

    @name.setter
    def name(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(
                f"Tensor name must be a str or None, got {type(value).__name__} {value!r}"
            )
        self._name = value

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self) -> Node | None:
        """The node of the op that made this tensor (None for leaves)."""
        return self._node

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied); refuse if it is part of a graph."""
        if self.requires_grad:
            raise RuntimeError("numpy(): tensor requires grad; call .detach().numpy() instead")
        return self.data

    def item(self) -> float | int | bool:
        if self.data.size != 1:
            raise ValueError(f"item(): only one-element tensors convert, got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        """The slices along the first axis, from one `unbind` (as PyTorch iterates)."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"truth value of a tensor of shape {self.shape} is ambiguous")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extras = []
        if self.data.dtype != DEFAULT_FLOAT and self.data.dtype.kind == "f":
            extras.append(f"dtype={self.data.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn={self._node.op.name}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # ----- autograd -----
    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into every leaf that requires grad."""
        engine.backward(self, gradient, retain_graph)

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory, like PyTorch)."""
        return Tensor._make(self.data, None, 0)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark a leaf as needing a gradient; returns self."""
        if not isinstance(requires_grad, bool | np.bool_):
            raise TypeError(
                f"requires_grad_(): requires_grad must be a bool, got "
                f"{type(requires_grad).__name__} {requires_grad!r}"
            )
        requires_grad = bool(requires_grad)
        if self._node is not None and not requires_grad:
            raise RuntimeError("requires_grad_(False) on a non-leaf; use detach() instead")
        if requires_grad:
            _check_grad_dtype(self.data.dtype)
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> Tensor:
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retains_grad = True
        return self

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    def astype(self, dtype: Any) -> Tensor:
        """A copy in another dtype; differentiable between floating dtypes.

        A cast to an integer or boolean dtype has no gradient (as in PyTorch).
        """
        dtype = np.dtype(dtype)
        if dtype.kind not in "biuf":
            raise TypeError(f"astype(): tensors hold numbers, got dtype {dtype}")
        if dtype == self.data.dtype:
            return self
        if dtype.kind != "f":
            return Tensor._make(self.data.astype(dtype), None, 0)
        return record(ops.Cast, (self,), {"dtype": dtype})

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    # ----- arithmetic -----
    def _operand(self, other: Any) -> Tensor:
        """Wrap a Python or NumPy value as a constant in this tensor's float dtype."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, int | float) and self.data.dtype.kind == "f":
            return Tensor._make(np.asarray(other, dtype=self.data.dtype), None, 0)
        return Tensor._make(as_array(other), None, 0)

    def _scalar_operands(self, other: Any) -> tuple[Tensor, Tensor]:
        """(self, other) as the operands of a binary op, for an `other` that is not a Tensor.

        A float tensor's scalar takes its dtype (as in `_operand`, inlined: one call
        per op). An integer or boolean tensor meets a float scalar in float32,
        PyTorch's default dtype: NumPy would compute int64 with a float in float64.
        """
        dtype = self._data.dtype
        if isinstance(other, int | float) and dtype.kind == "f":
            return self, Tensor._make(np.asarray(other, dtype=dtype), None, 0)
        if isinstance(other, float | np.floating) and dtype.kind in "biu":
            promoted = Tensor._make(self._data.astype(DEFAULT_FLOAT), None, 0)
            return promoted, Tensor._make(np.asarray(other, dtype=DEFAULT_FLOAT), None, 0)
        return self, self._operand(other)

    def _reflected_operands(self, other: Any) -> tuple[Tensor, Tensor]:
        """(other, self) as the operands of a reflected binary op (`1 - x`)."""
        a, b = self._scalar_operands(other)
        return b, a

    def __add__(self, other: Any) -> Tensor:
        return record(
            ops.Add, (self, other) if type(other) is Tensor else self._scalar_operands(other)
        )

    def __radd__(self, other: Any) -> Tensor:
        return record(ops.Add, self._reflected_operands(other))

    def __sub__(self, other: Any) -> Tensor:
        return record(
            ops.Sub, (self, other) if type(other) is Tensor else self._scalar_operands(other)
        )

    def __rsub__(self, other: Any) -> Tensor:
        return record(ops.Sub, self._reflected_operands(other))

    def __mul__(self, other: Any) -> Tensor:
        return record(
            ops.Mul, (self, other) if type(other) is Tensor else self._scalar_operands(other)
        )

    def __rmul__(self, other: Any) -> Tensor:
        return record(ops.Mul, self._reflected_operands(other))

    def __truediv__(self, other: Any) -> Tensor:
        return record(
            ops.Div, (self, other) if type(other) is Tensor else self._scalar_operands(other)
        )

    def __rtruediv__(self, other: Any) -> Tensor:
        return record(ops.Div, self._reflected_operands(other))

    def __pow__(self, exponent: Any) -> Tensor:
        return record(ops.Pow, self._scalar_operands(exponent))

    def __rpow__(self, base: Any) -> Tensor:
        return record(ops.Pow, self._reflected_operands(base))

    def __neg__(self) -> Tensor:
        return record(ops.Neg, (self,))

    def __matmul__(self, other: Any) -> Tensor:
        return record(ops.Matmul, (self, self._operand(other)))

    def __rmatmul__(self, other: Any) -> Tensor:
        return record(ops.Matmul, (self._operand(other), self))


_new_tensor = object.__new__
