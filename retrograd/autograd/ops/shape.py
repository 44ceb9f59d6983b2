"""Ops that move values around: reshape, permute, broadcast, index, gather, join, split."""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from retrograd.autograd.function import Function
from retrograd.autograd.graph import Node, ShapeError, array_address

if TYPE_CHECKING:
    from retrograd.autograd.ops.rows import GradientRows


class Reshape(Function):
    """d reshape(a) = reshape(d out) back to a's shape"""

    reads_inputs = False

    @staticmethod
    def forward(ctx: Node, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        try:
            return a.reshape(shape)
        except ValueError:
            raise ShapeError(
                f"reshape: cannot reshape a tensor of shape {a.shape} ({a.size} elements) "
                f"into shape {shape}"
            ) from None

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        return (grad.reshape(ctx.parents[0].data.shape),)


class Permute(Function):
    """d permute(a, axes) = permute(d out, inverse of axes)"""

    reads_inputs = False

    @staticmethod
    def forward(ctx: Node, a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
        try:
            # ndarray.transpose rejects repeated, missing and out-of-range axes itself.
            return a.transpose(axes)
        except ValueError:
            raise ShapeError(
                f"permute: axes {axes} are not a permutation of {a.ndim} axes"
            ) from None

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        # Negative axes must be made positive before they are inverted.
        ndim = grad.ndim
        inverse = [0] * ndim
        for position, axis in enumerate(ctx.params["axes"]):
            inverse[axis % ndim] = position
        return (grad.transpose(inverse),)


class BroadcastTo(Function):
    """d broadcast_to(a) = d out summed back to a's shape (done by the engine)"""

    reads_inputs = False

    @staticmethod
    def forward(ctx: Node, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        # As PyTorch: a's axes match the last ones of `shape`, where -1 keeps an axis's size;
        # the new leading axes have no size to keep.
        lead = len(shape) - a.ndim
        if lead < 0:
            raise ShapeError(f"expand: shape {shape} has fewer axes than the tensor's {a.shape}")
        if -1 in shape[:lead]:
            raise ShapeError(
                f"expand: -1 in shape {shape} keeps the size of an axis of the tensor's "
                f"{a.shape}, matched from the right; the new leading axes need sizes"
            )
        shape = tuple(a.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
        try:
            return np.broadcast_to(a, shape)
        except ValueError:
            raise ShapeError(_expand_problem(a.shape, shape)) from None

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        return (grad,)


def _expand_problem(source: tuple[int, ...], shape: tuple[int, ...]) -> str:
    """Why a tensor of shape `source` cannot be expanded to `shape` (matched from the right)."""
    lead = len(shape) - len(source)
    for i, size in enumerate(shape):
        if size < 0:
            return f"expand: shape {shape} has the negative size {size} at axis {i}"
        if i >= lead and source[i - lead] not in (1, size):
            return (
                f"expand: cannot expand shape {source} to {shape}: axis {i} of size "
                f"{source[i - lead]} would become {size} (only axes of size 1 expand)"
            )
    return f"expand: cannot expand shape {source} to {shape}"


def _is_basic(index: Any) -> bool:
    """True for indices made only of ints, slices, None and Ellipsis (no repeats possible)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, int | np.integer | slice) or i is None or i is Ellipsis for i in items)


class GetItem(Function):
    """d a[index] = scatter-add of d out into zeros of a's shape"""

    reads_inputs = False

    @staticmethod
    def forward(ctx: Node, a: np.ndarray, index: Any) -> np.ndarray:
        try:
            return np.asarray(a[index])
        except IndexError as err:
            raise IndexError(f"getitem: index {index!r} into shape {a.shape}: {err}") from None

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        index = ctx.params["index"]
        source = ctx.parents[0].data
        out = np.zeros(source.shape, dtype=grad.dtype)
        if _is_basic(index):
            out[index] = grad
        else:
            # Integer-array indices may repeat; np.add.at sums repeats where `+=` keeps one.
            np.add.at(out, index, grad)
        return (out,)


class Take(Function):
    """d weight[rows] = rows of d out summed into the rows they came from"""

    @staticmethod
    def forward(ctx: Node, weight: np.ndarray, indices: np.ndarray) -> np.ndarray:
        if indices.dtype.kind not in "iu":
            raise TypeError(f"take: indices must be integers, got dtype {indices.dtype}")
        bad = (indices < -weight.shape[0]) | (indices >= weight.shape[0])
        if bad.any():
            raise IndexError(
                f"take: index {int(indices[bad].flat[0])} is out of range for "
                f"{weight.shape[0]} rows"
            )
        return weight.take(indices, axis=0)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        weight, indices = (p.data for p in ctx.parents)
        rows = indices.reshape(-1) % weight.shape[0]
        out = np.zeros((weight.shape[0], math.prod(weight.shape[1:])), dtype=grad.dtype)
        distinct, sums = sums_by_index(rows, grad.reshape(rows.size, out.shape[1]), len(out))
        out[distinct] = sums
        return out.reshape(weight.shape), None


def sums_by_index(
    index: np.ndarray, rows: np.ndarray, classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of the 1-d `index`, all in [0, classes), and, for each, the sum of
    the 2-d `rows` at its positions (the gradient of every lookup: `take`, `one_hot_linear`).

    The index is sorted once, and the rows of each run of equal values are
    summed together: much faster than `np.add.at`. A long index of at most
    2**16 classes is sorted as 16-bit integers, which NumPy radix-sorts
    (1,120 values: 3 against 11 us; 80,000: 0.7 against 2.5 ms), and the rows
    are gathered by `take`, about twice as fast as fancy indexing.
    The runs are summed by `np.add.reduceat` in one call, or by
    `np.add.reduce` run by run where that is estimated to be cheaper
    (`_reduceat_is_cheaper`).
    """
    if not index.size:
        return index, rows[:0]
    narrow = index.size >= RADIX_SORT_SIZE and classes <= 1 << 16
    order = (index.astype(np.uint16) if narrow else index).argsort(kind="stable")
    sorted_index = index.take(order)
    first = np.empty(index.size, dtype=bool)
    first[0] = True
    np.not_equal(sorted_index[1:], sorted_index[:-1], out=first[1:])
    starts = first.nonzero()[0]
    grouped = rows.take(order, axis=0)
    if _reduceat_is_cheaper(starts.size, rows):
        return sorted_index[starts], np.add.reduceat(grouped, starts, axis=0)
    sums = np.empty((starts.size, rows.shape[1]), dtype=rows.dtype)
    bounds = [*starts.tolist(), index.size]
    for k in range(starts.size):
        np.add.reduce(grouped[bounds[k] : bounds[k + 1]], axis=0, out=sums[k])
    return sorted_index[starts], sums


RADIX_SORT_SIZE = 256
# Rows at least this wide are summed by index at about 0.4 ns per value (`index_sum_cost`).
WIDE_ROW_VALUES = 256


def _reduceat_is_cheaper(runs: int, rows: np.ndarray) -> bool:
    """Whether `np.add.reduceat` sums `runs` runs of the 2-d `rows` faster than
    `np.add.reduce` run by run, by costs measured on the benchmark machine (ns).

    reduceat sums each column of each run down the rows: 5 per column and
    run, and 0.55 per value, more on wide rows and on arrays beyond 4 MiB,
    whose columns it strides through. The loop costs 1,200 per run (a
    Python iteration and a call), 20 per row and 0.1 per value. Over 88
    shapes (16 to 512 values wide, 20 to 80,000 rows, uniform and Zipf
    indices) this picked the faster in 84, and in all at most 1.5 times
    the faster one's time; the small benchmark's one-hot gradient, 33 runs
    of 1,120 rows of 128, takes 74 us by the loop against 112 by reduceat.
    """
    n, width = rows.shape
    slowdown = max(1.0, width / 128) * (2 if rows.nbytes > 4 << 20 and width >= 32 else 1)
    by_reduceat = runs * width * 5 + rows.size * 0.55 * slowdown
    return by_reduceat < runs * 1200 + n * 20 + rows.size * 0.1


def index_sum_cost(rows: np.ndarray) -> float:
    """About how many nanoseconds `sums_by_index` takes per value of `rows` (measured on the
    benchmark machine): 1.5 on narrow rows, 0.4 on wide ones, and 4 times that once
    the rows exceed 8 MiB (their gather in index order then misses the caches)."""
    cost = 0.4 if rows.shape[1] >= WIDE_ROW_VALUES else 1.5
    return cost * 4 if rows.nbytes > 8 << 20 else cost


class Concat(Function):
    """d concat(a, b, ...) = the matching slices of d out"""

    reads_inputs = False

    @staticmethod
    def forward(ctx: Node, *arrays: np.ndarray, axis: int) -> np.ndarray:
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        axis = ctx.params["axis"]
        bounds = np.cumsum([p.data.shape[axis] for p in ctx.parents])[:-1]
        return tuple(np.split(grad, bounds, axis=axis))


# Gradients at least this large reach a stack's inputs as separate arrays, not views.
SEPARATE_SLICES_BYTES = 1 << 20


class Stack(Function):
    """d stack(a, b, ...) = the matching slices of d out"""

    reads_inputs = False

    @staticmethod
    def forward(
        ctx: Node,
        *arrays: np.ndarray,
        axis: int,
        into: np.ndarray | None = None,
        grad_rows: GradientRows | None = None,
    ) -> np.ndarray:
        """`into`: an array whose slices into[0], into[1], ... the inputs are, as the caller
        promises (an RNN layer, which wrote its steps there); it is then the result, with
        no copy. `grad_rows`: the layer's `GradientRows`, which backward hands the
        gradient's slices out from. Used inside retrograd only: the order is not checked
        element by element."""
        if grad_rows is not None:  # saved, not a parameter: released after backward
            del ctx.params["grad_rows"]
            ctx.saved = grad_rows
        shape = arrays[0].shape
        if into is not None and axis == 0 and _slices_of(into, arrays):
            return into
        if axis != 0 or not shape or any(a.shape != shape for a in arrays):
            return np.stack(arrays, axis=axis)
        # Along a new first axis, one concatenate and a free reshape beat np.stack's setup.
        return np.concatenate(arrays).reshape(len(arrays), *shape)

    @staticmethod
    def backward(ctx: Node, grad: np.ndarray) -> tuple:
        rows = ctx.saved
        if rows is not None and rows.shape == grad.shape:
            keep = any(t._retains_grad for t in ctx.parents)
            return tuple(rows.fill(grad, every_row=keep))
        slices = _to_front(grad, ctx.params["axis"])
        if grad.nbytes < SEPARATE_SLICES_BYTES:
            return tuple(slices)
        # Views would keep the whole gradient alive until the last slice is used; an
        # RNN uses its steps' slices one by one, so separate copies free it as it goes.
        return tuple(np.array(s) for s in slices)


def _slices_of(base: np.ndarray, arrays: Any) -> bool:
    """Whether `arrays` look like base[0], base[1], ... of the C-contiguous array `base`.

    The shape, and the memory, strides and position of the first and last
    arrays are checked; the arrays in between are the caller's promise
    (checking each would cost about a microsecond per RNN step).
    """
    if base.shape != (len(arrays), *arrays[0].shape) or not base.flags.c_contiguous:
        return False
    strides = base.strides[1:]
    owner = base if base.base is None else base.base  # views of a view share its owner
    first, last = arrays[0], arrays[-1]
    if any(a.base is not owner or a.strides != strides for a in (first, last)):
        return False
    start = array_address(base)
    end = start + (len(arrays) - 1) * base.strides[0]
    return array_address(first) == start and array_address(last) == end


def _to_front(array: np.ndarray, axis: int) -> np.ndarray:
    """A view of `array` with `axis` (non-negative or negative) moved to the front."""
    if axis == 0:
        return array
    axis %= array.ndim
    return array.transpose((axis, *range(axis), *range(axis + 1, array.ndim)))


def _from_front(array: np.ndarray, axis: int) -> np.ndarray:
    """The inverse of `_to_front`: a view with the first axis moved to position `axis`."""
    if axis == 0:
        return array
    axis %= array.ndim
    return array.transpose((*range(1, axis + 1), 0, *range(axis + 1, array.ndim)))


class Split(Function):
    """d split(a) = concat of the pieces' gradients (zeros for pieces that got none)"""

    reads_inputs = False
    multiple_outputs = True

    @staticmethod
    def forward(
        ctx: Node, a: np.ndarray, sizes: tuple[int, ...], axis: int, squeeze: bool
    ) -> tuple[np.ndarray, ...]:
        front = _to_front(a, axis)
        if squeeze:
            return tuple(front)
        bounds = np.cumsum((0, *sizes)).tolist()
        return tuple(
            _from_front(front[start:stop], axis) for start, stop in itertools.pairwise(bounds)
        )

    @staticmethod
    def backward(ctx: Node, grads: list) -> tuple:
        source = ctx.parents[0].data
        axis, sizes = ctx.params["axis"], ctx.params["sizes"]
        squeeze = ctx.params["squeeze"]
        if squeeze and axis == 0 and source.ndim > 1:
            rows = source.shape[1:]
            if all(grad is not None and grad.shape == rows for grad in grads):
                # One concatenate beats a copy per row.
                return (np.concatenate(grads).reshape(source.shape),)
        # One buffer for the whole input, not one full-size zero array per piece.
        out = np.zeros(source.shape, dtype=next(g for g in grads if g is not None).dtype)
        front = _to_front(out, axis)
        if squeeze:
            for row, grad in enumerate(grads):
                if grad is not None:
                    front[row] = grad
            return (out,)
        bounds = np.cumsum((0, *sizes)).tolist()
        for (start, stop), grad in zip(itertools.pairwise(bounds), grads):
            if grad is not None:
                front[start:stop] = _to_front(grad, axis)
        return (out,)
