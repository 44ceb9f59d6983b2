"""`Tensor`: an array, its gradient, and the node of the op that made it."""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from retrograd.autograd import engine
from retrograd.autograd.graph import Node, ShapeError, grad_mode, mark_written

DEFAULT_FLOAT = np.dtype(np.float32)

Axis = int | tuple[int, ...] | None


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert user data to an array; Python floats become float32 as in PyTorch."""
    if isinstance(data, Tensor):
        data = data.data
    try:
        array = np.array(data, dtype=dtype)
    except ValueError:
        nested_shape(data, "Tensor")  # a ragged list: names the shapes that differ
        raise
    if (
        dtype is None
        and array.dtype == np.float64
        and not isinstance(data, np.ndarray | np.generic)
    ):
        array = array.astype(DEFAULT_FLOAT)
    if array.dtype.kind not in "biuf":
        raise TypeError(_not_numeric(array))
    return array


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


def _check_grad_dtype(dtype: np.dtype) -> None:
    if dtype.kind != "f":
        raise TypeError(
            f"requires_grad=True needs a floating dtype, got {dtype}; "
            "convert first, e.g. tensor(data, dtype='float32')"
        )


class Tensor:
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

    # ----- data and in-place modification -----
    @property
    def data(self) -> np.ndarray:
        """The underlying array. Assigning to it (also `t.data -= x`) counts as an in-place
        modification; writes into it (`t.data[i] = v`) are not tracked."""
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
        # `t.data -= x` hands back the same array, written in place; a new array is a rebinding.
        wrote_memory = array is self._data
        self._data = array
        self._bump_version(wrote_memory)

    @property
    def version(self) -> int:
        """Changes whenever this tensor is modified in place (0 if never)."""
        return self._version

    def _bump_version(self, wrote_memory: bool = True) -> None:
        """Record an in-place modification; nodes that saved this tensor earlier become invalid.

        With `wrote_memory` (the values changed in place, not just the array
        rebound), nodes that saved a view or a detached alias of it are invalid too.
        """
        grad_mode.mutations += 1
        self._version = grad_mode.mutations
        if wrote_memory:
            mark_written(self._data)

    def _in_place(self, ufunc: Any, other: Any, name: str) -> Tensor:
        if self.requires_grad and grad_mode.enabled:
            raise RuntimeError(
                f"{name}: in-place operation on a tensor that requires grad; use an "
                "out-of-place op (x = x + y) or update it under retrograd.no_grad()"
            )
        value = other._data if isinstance(other, Tensor) else other
        try:
            ufunc(self._data, value, out=self._data, casting="same_kind")
        except TypeError:
            result = _result_dtype(ufunc, self._data, value)
            raise TypeError(
                f"{name}: cannot write {result} values into a tensor of dtype {self.dtype} in place"
            ) from None
        except ValueError as err:
            raise ShapeError(f"{name}: cannot update shape {self.shape} in place: {err}") from None
        self._bump_version()
        return self

    def add_(self, other: Any) -> Tensor:
        """In place: self += other."""
        return self._in_place(np.add, other, "add_")

    def sub_(self, other: Any) -> Tensor:
        """In place: self -= other."""
        return self._in_place(np.subtract, other, "sub_")

    def mul_(self, other: Any) -> Tensor:
        """In place: self *= other."""
        return self._in_place(np.multiply, other, "mul_")

    def div_(self, other: Any) -> Tensor:
        """In place: self /= other."""
        return self._in_place(np.divide, other, "div_")

    def copy_(self, other: Any) -> Tensor:
        """In place: overwrite the values with other's (broadcast to this shape)."""
        return self._in_place(_assign, other, "copy_")

    def zero_(self) -> Tensor:
        """In place: set every value to zero."""
        return self._in_place(_assign, 0, "zero_")

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

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
    def T(self) -> Tensor:
        """The tensor with its axes reversed."""
        return self.permute(*reversed(range(self.ndim)))

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

    __hash__ = object.__hash__

    # ----- autograd -----
    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into every leaf that requires grad."""
        engine.backward(self, gradient, retain_graph)

    def detach(self) -> Tensor:
        """The same data, cut from the graph (shares memory, like PyTorch)."""
        return Tensor._make(self.data, None, 0)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark a leaf as needing a gradient; returns self."""
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

    def __getitem__(self, index: Any) -> Tensor:
        return record(ops.GetItem, (self,), {"index": _plain_index(index)})

    # Comparisons give tensors without gradient.
    def _compare(self, other: Any, fn: Any) -> Tensor:
        other = self._operand(other)
        try:
            return Tensor._make(fn(self.data, other.data), None, 0)
        except ValueError:
            raise ShapeError(
                f"{fn.__name__}: operands with shapes {self.shape} and {other.shape} "
                "do not broadcast together"
            ) from None

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    def __eq__(self, other: Any) -> Tensor | bool:  # type: ignore[override]
        """Elementwise ==; `t == None` is False, as in PyTorch (so `t in [None]` works)."""
        if other is None:
            return False
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor | bool:  # type: ignore[override]
        """Elementwise !=; `t != None` is True, as in PyTorch."""
        if other is None:
            return True
        return self._compare(other, np.not_equal)

    # ----- elementwise functions -----
    def exp(self) -> Tensor:
        return record(ops.Exp, (self,))

    def log(self) -> Tensor:
        return record(ops.Log, (self,))

    def sqrt(self) -> Tensor:
        return self**0.5

    def tanh(self) -> Tensor:
        return record(ops.Tanh, (self,))

    def sigmoid(self) -> Tensor:
        return record(ops.Sigmoid, (self,))

    def relu(self) -> Tensor:
        return record(ops.Relu, (self,))

    def abs(self) -> Tensor:
        return record(ops.Abs, (self,))

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Limit values to [min, max]; the gradient flows where the input was inside."""
        if min is None and max is None:
            raise ValueError("clip(): give at least one of min and max")
        return record(ops.Clip, (self,), {"low": _bound(min, "min"), "high": _bound(max, "max")})

    clamp = clip

    # ----- reductions -----
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        return record(
            ops.Sum, (self,), {"axis": _axes(axis, self.ndim, "sum"), "keepdims": keepdims}
        )

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        axes = _axes(axis, self.ndim, "mean")
        count = int(np.prod([self.shape[a] for a in axes])) if axes else 1
        # The mean of no elements is NaN, as in NumPy and PyTorch.
        return self.sum(axes, keepdims) * (1.0 / count if count else float("nan"))

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """Variance as NumPy computes it (`ddof=1` for PyTorch's default, unbiased).

        With `ddof` at least the number of elements, also as NumPy: a RuntimeWarning,
        and the sum of squares divided by zero (NaN, or inf).
        """
        return self._variance(axis, keepdims, ddof, "var")

    def std(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """Standard deviation: the square root of `var` with the same arguments.

        Where the variance is 0 the gradient is 0, as in PyTorch (the square
        root's derivative is infinite there): the root is taken of 1 instead, and
        replaced by 0.
        """
        variance = self._variance(axis, keepdims, ddof, "std")
        nonzero = Tensor._make(variance._data != 0, None, 0)
        safe = record(ops.Where, (nonzero, variance, variance._operand(1.0)))
        return record(ops.Where, (nonzero, safe**0.5, variance._operand(0.0)))

    def _variance(self, axis: Axis, keepdims: bool, ddof: int, op: str) -> Tensor:
        """The variance for `var` and `std`, whose errors and warnings name `op`."""
        if isinstance(ddof, bool) or not isinstance(ddof, int | float | np.integer | np.floating):
            raise TypeError(f"{op}(): ddof must be a number, got {ddof!r}")
        axes = _axes(axis, self.ndim, op)
        count = int(np.prod([self.shape[a] for a in axes])) if axes else 1
        if count - ddof <= 0:
            warnings.warn(
                f"{op}(): degrees of freedom <= 0 for {count} element(s) with ddof={ddof}",
                RuntimeWarning,
                stacklevel=3,
            )
        centred = self - self.mean(axes, keepdims=True)
        return (centred * centred).sum(axes, keepdims) / max(count - ddof, 0)

    def prod(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Product of the values; its gradient is right where values are zero (the product
        of the others, where dividing the result by the value would give 0 / 0)."""
        return record(
            ops.Prod, (self,), {"axis": _axes(axis, self.ndim, "prod"), "keepdims": keepdims}
        )

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Largest value; ties share the gradient equally (as torch.amax)."""
        return record(
            ops.Max, (self,), {"axis": _axes(axis, self.ndim, "max"), "keepdims": keepdims}
        )

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Smallest value: the negated maximum of the negated values (ties share the
        gradient equally, as torch.amin)."""
        axes = _axes(axis, self.ndim, "min")
        if self._data.size == 0:
            ops.reduce.check_not_empty(self._data, axes, "min")
        return -((-self).max(axes, keepdims))

    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """log(sum(exp(x))) without overflow."""
        return record(
            ops.LogSumExp,
            (self,),
            {"axis": _axes(axis, self.ndim, "logsumexp"), "keepdims": keepdims},
        )

    def log_softmax(self, axis: int = -1) -> Tensor:
        return self._log_softmax(_axes(axis, self.ndim, "log_softmax"))

    def softmax(self, axis: int = -1) -> Tensor:
        return self._log_softmax(_axes(axis, self.ndim, "softmax")).exp()

    def _log_softmax(self, axes: tuple[int, ...]) -> Tensor:
        """log_softmax over `axes`, already checked by the function the user called."""
        return self - self.logsumexp(axes, keepdims=True)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the largest value, the first of ties (no gradient)."""
        return self._arg_extreme(np.argmax, axis, keepdims, "argmax", "largest")

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the smallest value, the first of ties (no gradient)."""
        return self._arg_extreme(np.argmin, axis, keepdims, "argmin", "smallest")

    def _arg_extreme(
        self, find: Any, axis: int | None, keepdims: bool, op: str, extreme: str
    ) -> Tensor:
        """The index `find` (np.argmax or np.argmin) gives, as a tensor without gradient."""
        if axis is not None:
            axis = _axis(axis, self.ndim, op)  # None for a 0-d tensor: its one index
        try:
            out = find(self.data, axis=axis, keepdims=keepdims)
        except ValueError:  # NumPy's "attempt to get argmax of an empty sequence"
            where = "" if axis is None else f" along axis {axis}"
            raise ShapeError(
                f"{op}(): no {extreme} value{where} of an empty tensor of shape {self.shape}"
            ) from None
        return Tensor._make(np.asarray(out), None, 0)

    # ----- shape -----
    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        return record(ops.Reshape, (self,), {"shape": _shape_arg(shape, "reshape")})

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge the axes from `start_dim` to `end_dim` (all by default) into one; a 0-d
        tensor becomes 1-d, as in PyTorch."""
        ndim = self._data.ndim
        start = _axis(start_dim, ndim, "flatten")
        end = _axis(end_dim, ndim, "flatten")
        if start is None or end is None:  # a 0-d tensor's axis 0 or -1
            return self.reshape(1)
        if start > end:
            raise ValueError(
                f"flatten(): start_dim {start_dim} comes after end_dim {end_dim} "
                f"for a {ndim}-d tensor"
            )
        shape = self.shape
        return self.reshape(*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])

    def permute(self, *axes: int | Sequence[int]) -> Tensor:
        return record(ops.Permute, (self,), {"axes": _shape_arg(axes, "permute", "axes")})

    def transpose(self, axis0: int = -2, axis1: int = -1) -> Tensor:
        """Swap two axes (the last two by default)."""
        ndim = self._data.ndim
        axis0 = _axis(axis0, ndim, "transpose")
        axis1 = _axis(axis1, ndim, "transpose")
        axes = list(range(ndim))
        if ndim:  # a 0-d tensor's axis 0 swaps with itself, as in PyTorch
            axes[axis0], axes[axis1] = axis1, axis0
        return record(ops.Permute, (self,), {"axes": tuple(axes)})

    def expand(self, *shape: int | Sequence[int]) -> Tensor:
        return record(ops.BroadcastTo, (self,), {"shape": _shape_arg(shape, "expand")})

    broadcast_to = expand

    def unsqueeze(self, axis: int) -> Tensor:
        axis = _axis(axis, self.ndim + 1, "unsqueeze")
        return self.reshape(np.expand_dims(self.data, axis).shape)

    def squeeze(self, axis: Axis = None) -> Tensor:
        """Remove axes of size 1: every one, or those given (an int or a tuple, as NumPy)."""
        axes = None if axis is None else _axes(axis, self.ndim, "squeeze")
        for a in axes or ():
            if self.shape[a] != 1:
                raise ShapeError(
                    f"squeeze: axis {a} of shape {self.shape} has size {self.shape[a]}, not 1"
                )
        return self.reshape(np.squeeze(self.data, axes).shape)

    def unbind(self, axis: int = 0) -> tuple[Tensor, ...]:
        """The slices along `axis`, with that axis removed (one op, one node)."""
        axis = _axis(axis, self.ndim, "unbind", needs_axes=True)
        return record(
            ops.Split, (self,), {"sizes": (1,) * self.shape[axis], "axis": axis, "squeeze": True}
        )

    def split(self, split_size: int | Sequence[int], axis: int = 0) -> tuple[Tensor, ...]:
        """Pieces of `split_size` along `axis` (the last may be smaller), or of the given sizes."""
        axis = _axis(axis, self.ndim, "split", needs_axes=True)
        length = self.shape[axis]
        if isinstance(split_size, bool):
            raise TypeError(
                f"split(): split_size must be an int or a list of ints, got {split_size}"
            )
        if isinstance(split_size, int | np.integer):
            size = int(split_size)
            if size <= 0:
                raise ValueError(f"split(): split_size must be positive, got {size}")
            sizes = [size] * (length // size)
            if length % size or not length:  # an empty axis gives one empty piece, as PyTorch
                sizes.append(length % size)
        else:
            sizes = list(_shape_arg((split_size,), "split", "sizes"))
            if any(size < 0 for size in sizes):
                raise ValueError(f"split(): sizes must not be negative, got {sizes}")
            if sum(sizes) != length:
                raise ValueError(f"split(): sizes {sizes} do not add up to axis length {length}")
        return record(ops.Split, (self,), {"sizes": tuple(sizes), "axis": axis, "squeeze": False})

    def chunk(self, chunks: int, axis: int = 0) -> tuple[Tensor, ...]:
        """At most `chunks` pieces along `axis`, as PyTorch cuts them: each of
        ceil(length / chunks), the last smaller, and fewer pieces where those sizes
        cover the axis sooner (a length of 6 in 4 chunks gives 3 pieces of 2)."""
        if isinstance(chunks, bool) or not isinstance(chunks, int | np.integer):
            raise TypeError(f"chunk(): chunks must be an int, got {chunks!r}")
        if chunks <= 0:
            raise ValueError(f"chunk(): chunks must be positive, got {chunks}")
        axis = _axis(axis, self.ndim, "chunk", needs_axes=True)
        size = -(-self.shape[axis] // int(chunks))
        if not size:  # an empty axis gives `chunks` empty pieces, as PyTorch
            return self.split([0] * int(chunks), axis)
        return self.split(size, axis)

    # ----- boolean and bitwise (no gradient) -----
    def _bitwise(self, other: Any, fn: Any, op: str) -> Tensor:
        """`fn` of boolean or integer operands, as PyTorch's bitwise ops; floats are refused.

        A Python bool or int is handed to NumPy as it is, so it takes the tensor's
        dtype (an int32 tensor & 3 stays int32).
        """
        value = other._data if isinstance(other, Tensor) else other
        if not isinstance(value, bool | int | np.ndarray):
            value = as_array(value)
        kinds = (self._data.dtype, np.asarray(value).dtype)
        if any(kind.kind not in "biu" for kind in kinds):
            raise TypeError(
                f"{op}: operands must be boolean or integer tensors, got dtypes "
                f"{kinds[0]} and {kinds[1]}; compare floats first (x > 0) for a boolean tensor"
            )
        try:
            return Tensor._make(np.asarray(fn(self._data, value)), None, 0)
        except ValueError:
            raise ShapeError(
                f"{op}: operands with shapes {self.shape} and {np.shape(value)} "
                "do not broadcast together"
            ) from None

    def __and__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_and, "bitwise_and (&)")

    def __or__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_or, "bitwise_or (|)")

    def __xor__(self, other: Any) -> Tensor:
        return self._bitwise(other, np.bitwise_xor, "bitwise_xor (^)")

    __rand__ = __and__
    __ror__ = __or__
    __rxor__ = __xor__

    def __invert__(self) -> Tensor:
        """Logical not of a boolean tensor, bitwise not of an integer one."""
        if self._data.dtype.kind not in "biu":
            raise TypeError(
                f"bitwise_not (~): needs a boolean or integer tensor, got dtype {self.dtype}"
            )
        return Tensor._make(np.invert(self._data), None, 0)


def _shape_arg(args: tuple, op: str, name: str = "shape") -> tuple[int, ...]:
    """Accept both f(2, 3) and f((2, 3)), of Python or NumPy integers.

    Anything else is refused, naming `op` and its argument `name`: int()
    would truncate a float size silently.
    """
    sizes = args[0] if len(args) == 1 and not isinstance(args[0], int | np.integer) else args
    try:
        return tuple(map(operator.index, sizes))
    except TypeError:
        raise TypeError(f"{op}(): {name} must be integers, got {sizes!r}") from None


def _axes(axis: Axis, ndim: int, op: str) -> tuple[int, ...]:
    """Normalise an axis argument to a sorted tuple of non-negative axes.

    A 0-d tensor takes axis 0 or -1 as PyTorch does, meaning its single value:
    no axes, so a reduction over it gives the value itself.
    """
    if type(axis) is int and -ndim <= axis < ndim:
        return (axis % ndim,)
    if axis is None:
        return tuple(range(ndim))
    try:
        axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    except TypeError:
        axes = (axis,)
    normalised = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int | np.integer):
            raise TypeError(f"{op}(): axis must be an int or a tuple of ints, got {axis!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"{op}(): axis {a} is out of range for a {ndim}-d tensor")
        normalised.append(int(a) % max(ndim, 1))
    if len(set(normalised)) < len(normalised):  # sum((1, 1)) is a typo, not one sum over axis 1
        raise ValueError(f"{op}(): axis {axis!r} names an axis more than once")
    return tuple(sorted(normalised)) if ndim else ()


def _axis(axis: int, ndim: int, op: str, needs_axes: bool = False) -> int | None:
    """One axis as a non-negative int; None for a 0-d tensor's axis 0 or -1 (see `_axes`),
    which an op that `needs_axes` (to cut along one) refuses."""
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{op}(): axis must be an int, got {axis!r}")
    axes = _axes(axis, ndim, op)
    if axes:
        return axes[0]
    if needs_axes:
        raise ShapeError(f"{op}(): a 0-d tensor has no axis to {op} along")
    return None


def _bound(value: Any, name: str) -> Any:
    """A bound of `clip` as NumPy takes it: a tensor's array (its gradient is not computed,
    so a tensor that requires one is refused). A NumPy scalar becomes a Python number,
    which takes the tensor's dtype as in arithmetic: NumPy would compute a float32 tensor
    clipped at an np.float64 in float64."""
    if value is None or type(value) is float or type(value) is int:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if not isinstance(value, Tensor):
        return value
    if value.requires_grad:
        raise TypeError(
            f"clip(): {name} is a tensor that requires grad, but clip gives its bounds no "
            f"gradient; use {'maximum' if name == 'min' else 'minimum'}() for that"
        )
    return value.data


def _plain_index(index: Any) -> Any:
    """Replace tensors and arrays inside an index by copies of their integer or boolean arrays.

    The node keeps the index for backward: a copy (the size of the index, not of
    the tensor) keeps the caller's later in-place changes to it out of the gradient.
    """
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data.copy()
    if isinstance(index, list | np.ndarray):
        array = np.array(index)
        if array.dtype.kind == "O" and isinstance(index, list):  # a list holding tensors
            array = np.array([_plain_index(i) for i in index])
        # An empty list selects nothing, as in PyTorch; NumPy would read it as floats.
        return array.astype(np.intp) if array.size == 0 and array.dtype.kind == "f" else array
    return index


def _result_dtype(ufunc: Any, target: np.ndarray, value: Any) -> np.dtype:
    """The dtype of what an in-place update computes (int64 / int64 gives float64), which
    is what failed to fit the target; the value's own dtype where even that fails."""
    if ufunc is _assign:
        return np.asarray(value).dtype
    try:
        return np.asarray(ufunc(target, value)).dtype
    except TypeError:  # no loop for these dtypes at all: name the value's
        return np.asarray(value).dtype


def _assign(target: np.ndarray, value: Any, out: np.ndarray, casting: str) -> None:
    """`copy_` as a ufunc-shaped call, so it shares the in-place checks."""
    np.copyto(out, value, casting=casting)


_new_tensor = object.__new__

# Ops and their runner need Tensor defined first.
from retrograd.autograd import ops  # noqa: E402
from retrograd.autograd.function import record  # noqa: E402
