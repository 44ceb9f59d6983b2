"""The backward pass: one gradient walk, in reverse creation order.

No recursion anywhere, so a chain of 100,000 ops backpropagates at Python's
default recursion limit. Broadcast gradients are reduced to each input's
shape in exactly one place (`sum_to`).
"""

from __future__ import annotations

from heapq import heappop, heappush, heappushpop
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy import ndarray  # by name, for the gradient loop: see `retrograd.autograd.function`

from retrograd.autograd.anomaly import check_backward
from retrograd.autograd.graph import (
    FREED,
    Node,
    ShapeError,
    gc_paused,
    grad_mode,
    layout_changed_after,
    written_after,
)
from retrograd.autograd.heap import keep_freed_memory
from retrograd.autograd.sums import matrix_sum

if TYPE_CHECKING:
    from retrograd.autograd.tensor import Tensor


def sum_to(grad: np.ndarray, shape: tuple[int, ...], op: str = "") -> np.ndarray:
    """Sum a broadcast gradient back down to `shape` (the input's shape)."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0 or any(s != 1 and s != g for s, g in zip(shape, grad.shape[lead:])):
        raise ShapeError(f"{op}: gradient of shape {grad.shape} cannot be reduced to {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and grad.shape[lead + i] != 1
    )
    return grad.sum(axis=axes, keepdims=True).reshape(shape)


def _sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a + b as a new array (NumPy returns a scalar, not an array, for two 0-d arrays)."""
    total = a + b
    return total if type(total) is ndarray else np.asarray(total)


class PendingSum:
    """A leaf's gradient summed over many uses, kept as parts until enough are held.

    `linear`'s backward hands the engine a leaf weight's or bias's gradient
    in this form. A weight shared by T time steps then costs one large
    matrix product (a bias, one sum) over all steps instead of T small ones
    and T additions of its size. Parts are combined in chunks, which bounds
    the memory they hold, and at the end of backward.
    """

    __slots__ = ("dtype", "parts", "rows", "shape")
    MAX_PARTS = 16
    MAX_ROWS = 512

    def absorb(self, other: PendingSum) -> bool:
        """Take over `other`'s parts; True once enough are held to combine them."""
        self.parts += other.parts
        self.rows += other.rows
        return len(self.parts) >= self.MAX_PARTS or self.rows >= self.MAX_ROWS

    def value(self) -> np.ndarray:
        raise NotImplementedError


class OuterProducts(PendingSum):
    """A weight gradient sum_k a_k^T b_k, kept as its factor pairs (a_k, b_k)."""

    __slots__ = ()

    def __init__(self, left: np.ndarray, right: np.ndarray) -> None:
        self.parts = [(left, right)]
        self.rows = left.shape[0]
        self.shape = (left.shape[1], right.shape[1])
        dtype = left.dtype
        self.dtype = dtype if dtype == right.dtype else np.result_type(dtype, right.dtype)

    def value(self) -> np.ndarray:
        if len(self.parts) == 1:
            left, right = self.parts[0]
            return np.dot(left.T, right)
        lefts, rights = zip(*self.parts)
        return np.dot(np.concatenate(lefts).T, np.concatenate(rights))


class RowSums(PendingSum):
    """A bias gradient sum_k of the column sums of g_k, kept as the g_k."""

    __slots__ = ()

    def __init__(self, grad: np.ndarray) -> None:
        self.parts = [grad]
        self.rows = grad.shape[0]
        self.shape = grad.shape[1:]
        self.dtype = grad.dtype

    def value(self) -> np.ndarray:
        if len(self.parts) == 1:
            return matrix_sum(self.parts[0], 0)
        return matrix_sum(np.concatenate(self.parts), 0)


def _add_leaf(leaves: dict[int, list], leaf: Tensor, grad: Any) -> None:
    """Sum a gradient into a leaf's slot: [tensor, gradient, owned, pending products].

    The first sum is out of place (the incoming array may be shared: `a + a`
    hands the same array to both parents); after that the slot owns its
    buffer and later sums go in place. `PendingSum`s wait in their own
    place and are combined in chunks and at the end.
    """
    entry = leaves.get(id(leaf))
    if entry is None:
        entry = leaves[id(leaf)] = [leaf, None, False, None]
    fresh = False  # a combined PendingSum is a new array no one else holds
    if isinstance(grad, PendingSum):
        pending = entry[3]
        if pending is None:
            entry[3] = grad
            return
        if type(pending) is not type(grad):
            grad = grad.value()
        elif not pending.absorb(grad):
            return
        else:
            entry[3] = None
            grad = pending.value()
        fresh = True
    if entry[1] is None:
        entry[1] = grad
        entry[2] = fresh
    elif entry[2]:
        np.add(entry[1], grad, out=entry[1])
    elif fresh:
        np.add(grad, entry[1], out=grad)
        entry[1] = grad
        entry[2] = True
    else:
        entry[1] = _sum(entry[1], grad)
        entry[2] = True


def _add_output(grads: dict[Node, Any], tensor: Tensor, grad: np.ndarray) -> None:
    """Sum a gradient into the slot of the node output that `tensor` is (always out of place)."""
    node = tensor._node
    if not node.op.multiple_outputs:  # a split into one piece still gets a list
        current = grads.get(node)
        grads[node] = grad if current is None else _sum(current, grad)
        return
    slots = grads.get(node)
    if slots is None:
        slots = grads[node] = [None] * node.n_outputs
    current = slots[tensor._index]
    slots[tensor._index] = grad if current is None else _sum(current, grad)


def _deposit(tensor: Tensor, grad: np.ndarray, owned: bool) -> None:
    """Store a finished gradient in `tensor.grad`, accumulating as PyTorch does."""
    if tensor.grad is None:
        tensor.grad = grad if owned else grad.copy()
    else:  # `_check_held_grad` has passed
        tensor.grad = _sum(tensor.grad, grad)


def _check_held_grad(tensor: Tensor) -> None:
    """Refuse to accumulate into a `.grad` that is not an array of the tensor's shape and dtype.

    `.grad` is a plain attribute: a value assigned to it by hand, or the gradient
    of a tensor whose `data` was since rebound to another shape, would otherwise
    meet NumPy's broadcasting (an error from deep inside, or a gradient of the
    wrong dtype, or an array of Tensor objects).
    """
    held = tensor.grad
    if isinstance(held, ndarray) and held.shape == tensor.shape and held.dtype == tensor.dtype:
        return
    name = f" {tensor.name!r}" if tensor.name else ""
    if isinstance(held, ndarray):
        found = f"an array of shape {held.shape} and dtype {held.dtype}"
        error = ShapeError if held.shape != tensor.shape else TypeError
    else:
        found, error = f"a {type(held).__name__}", TypeError
    raise error(
        f"backward(): cannot accumulate into .grad of tensor{name} (shape {tensor.shape}, "
        f"dtype {tensor.dtype}): it holds {found}; .grad must be None or a NumPy array "
        "of the tensor's shape and dtype (call zero_grad(), or assign "
        "grad.astype(tensor.dtype))"
    )


def _retain(retained: dict[Node, list[Tensor]], node: Node, tensor: Tensor) -> None:
    """Note that `tensor`, an output of `node`, keeps its gradient (each tensor once).

    Apart from the gradient loop: a generator there would turn the loop's
    variable into a cell, slower to read on every step.
    """
    group = retained.setdefault(node, [])
    if all(t is not tensor for t in group):
        group.append(tensor)


def _check_versions(node: Node) -> None:
    """Refuse to differentiate through a node whose inputs or saved values changed after it
    was made in a way that changes its gradient.

    - A saved array written in place (directly, or through a view or detached
      tensor sharing its memory) is refused for every op.
    - An input whose `data` was rebound to an array of another shape or dtype
      is refused for every op: the engine reduces and casts each gradient to
      the input's current shape and dtype, so the gradient would be wrong.
    - An input whose values changed (in place, through an alias, by an
      optimizer step, or by rebinding to an array of the same shape and
      dtype) is refused only when the op's backward reads input values
      (`Function.reads_inputs`), as PyTorch refuses only when a tensor saved
      for backward changed.
    """
    reads_inputs = node.op.reads_inputs
    created = node.created
    for position, parent in enumerate(node.parents):
        if layout_changed_after(parent, created) or (
            reads_inputs and (parent._version > created or written_after(parent._data, created))
        ):
            name = f" {parent.name!r}" if parent.name else ""
            raise RuntimeError(
                f"backward(): input {position} of op {node.op.name!r} (tensor{name} of shape "
                f"{parent.shape}) was modified in place after being saved for backward; "
                f"compute the loss again after the modification, or modify a copy{_made_at(node)}"
            )
    saved = node.saved if isinstance(node.saved, tuple) else (node.saved,)
    for value in saved:
        if isinstance(value, np.ndarray) and written_after(value, node.created):
            raise RuntimeError(
                f"backward(): a value of shape {value.shape} saved by op {node.op.name!r} was "
                "modified in place after being saved for backward, through a tensor sharing its "
                f"memory (a view or detach()); modify a copy instead{_made_at(node)}"
            )


def _made_at(node: Node) -> str:
    """Where `node`'s op was called, for an error about it: the user code line anomaly mode
    recorded (as PyTorch's anomaly mode shows the forward call), or nothing."""
    trace = getattr(node, "trace", None)
    return "" if trace is None else f" (the op was created at {trace})"


def backward(root: Tensor, grad: np.ndarray | None = None, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into the `.grad` of every leaf that requires grad."""
    grad_mode.backward_passes += 1
    keep_freed_memory()
    with gc_paused():
        _backward(root, grad, retain_graph)


def _backward(root: Tensor, grad: np.ndarray | None, retain_graph: bool) -> None:
    if not root.requires_grad:
        raise RuntimeError(
            "backward(): this tensor does not require grad and has no graph; "
            "create its inputs with requires_grad=True (and not under no_grad)"
        )
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward(): grad can be created implicitly only for a scalar output, "
                f"got shape {root.shape}; pass gradient= of that shape"
            )
        grad = np.ones_like(root.data)
    else:
        grad = np.asarray(grad.data if hasattr(grad, "_node") else grad)
        if grad.dtype.kind not in "biuf":
            raise TypeError(f"backward(): gradient must hold numbers, got dtype {grad.dtype}")
        if grad.shape != root.shape:
            raise ShapeError(
                f"backward(): gradient has shape {grad.shape}, tensor has shape {root.shape}"
            )
        grad = grad.astype(root.data.dtype, copy=True)

    anomaly = grad_mode.anomaly
    mutations = grad_mode.mutations
    grads: dict[Node, Any] = {}
    leaves: dict[int, list] = {}
    # The nodes holding a gradient, latest first: a node's outputs are used only by
    # later nodes, so when it comes first, every gradient it will get is in.
    pending: list[tuple[int, Node]] = []
    if root._node is None:
        _add_leaf(leaves, root, grad)
    else:
        _add_output(grads, root, grad)
        pending.append((-root._node.seq, root._node))
    retained: dict[Node, list[Tensor]] = {}
    if root._retains_grad and root._node is not None:
        retained[root._node] = [root]
    # The node to walk next, kept off the heap while it is the latest one: in a chain,
    # each node hands its only new gradient to the node walked next.
    following: Node | None = None
    while pending or following is not None:
        if following is None:
            node = heappop(pending)[1]
        elif pending and pending[0][0] < -following.seq:
            node = heappushpop(pending, (-following.seq, following))[1]
        else:
            node = following
        following = None
        node_grad = grads.pop(node)
        if node.saved is FREED:
            raise RuntimeError(
                f"backward(): the graph through op {node.op.name!r} was already freed by an "
                "earlier backward; pass retain_graph=True to the first backward to go twice"
                f"{_made_at(node)}"
            )
        if retained:
            for t in retained.pop(node, ()):
                g = node_grad[t._index] if node.op.multiple_outputs else node_grad
                if g is not None:
                    if t.grad is not None:
                        _check_held_grad(t)
                    _deposit(t, g, False)
        if node.created != mutations:
            _check_versions(node)
        input_grads = node.op.backward(node, node_grad)
        if not retain_graph:
            node.saved = FREED
        if anomaly:
            input_grads = [g.value() if isinstance(g, PendingSum) else g for g in input_grads]
            for position, (parent, parent_grad) in enumerate(zip(node.parents, input_grads)):
                if parent_grad is not None:
                    check_backward(node, parent, position, parent_grad)
        for parent, parent_grad in zip(node.parents, input_grads):
            if parent_grad is None or not parent.requires_grad:
                continue
            data = parent._data
            parent_node = parent._node
            if type(parent_grad) is not ndarray:
                if not isinstance(parent_grad, PendingSum):
                    parent_grad = np.asarray(parent_grad)
                elif (
                    parent_node is not None
                    or parent_grad.shape != data.shape
                    or parent_grad.dtype != data.dtype
                ):
                    parent_grad = parent_grad.value()
            if parent_grad.shape != data.shape:
                parent_grad = sum_to(parent_grad, data.shape, node.op.name)
            # Built-in dtypes are singletons: the identity test settles the usual case.
            if parent_grad.dtype is not data.dtype and parent_grad.dtype != data.dtype:
                parent_grad = parent_grad.astype(data.dtype)
            if parent_node is None:
                _add_leaf(leaves, parent, parent_grad)
                continue
            if parent._retains_grad:
                _retain(retained, parent_node, parent)
            if parent_node in grads:
                _add_output(grads, parent, parent_grad)
                continue
            if parent_node.op.multiple_outputs:
                _add_output(grads, parent, parent_grad)
            else:  # the first gradient for this output: nothing to sum, no call
                grads[parent_node] = parent_grad
            if following is None:
                following = parent_node
            else:
                heappush(pending, (-parent_node.seq, parent_node))
    for leaf, *_ in leaves.values():  # before any deposit, so a refusal changes no .grad
        if leaf.grad is not None:
            _check_held_grad(leaf)
    # A leaf may keep the array it was handed unless that array is read-only (a
    # broadcast view) or shares memory with another leaf's (e.g. views from `stack`).
    bases: set[int] = set()
    for leaf, leaf_grad, owned, pending in leaves.values():
        if pending is not None:
            product = pending.value()
            leaf_grad, owned = (product, True) if leaf_grad is None else (leaf_grad + product, True)
        base = leaf_grad if leaf_grad.base is None else leaf_grad.base
        private = owned or (leaf_grad.flags.writeable and id(base) not in bases)
        bases.add(id(base))
        _deposit(leaf, leaf_grad, private)
