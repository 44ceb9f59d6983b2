"""The op contract: `Function`, whose forward and backward stand side by side.

An op is a `Function` subclass: `forward` takes arrays and returns an array,
`backward` takes the upstream gradient and returns one gradient per input.
`Function.apply` runs the forward and, only when some input needs a gradient
and grad mode is on, records a `Node` that the engine walks later.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

# By name: Python does not cache attribute loads from numpy's module (which defines a
# module __getattr__), and every op tests its output's type (0.03 us per op).
from numpy import ndarray

from retrograd.autograd.anomaly import check_forward
from retrograd.autograd.graph import Node, ShapeError, grad_mode, node_numbers

NO_PARAMS: Mapping[str, Any] = MappingProxyType({})
"""The parameters of a call that passes none (read-only: it is shared)."""


class Function:
    """Base class of every op. Subclasses register themselves under `name`.

    `forward(ctx, *arrays, **params)` returns an array (or a tuple of arrays
    when `multiple_outputs`); it may store what backward needs in
    `ctx.saved`. `backward(ctx, grad)` returns one gradient (or None) per
    input array; for multiple outputs, `grad` is a list with None for outputs
    that received no gradient. Gradients may have the broadcast shape: the
    engine reduces them to each input's shape in one place.
    """

    name: ClassVar[str]
    differentiable: ClassVar[bool] = True
    reads_inputs: ClassVar[bool] = True
    """Whether backward reads the values of the inputs (`ctx.parents[i].data`, or arrays
    kept in `ctx.saved`); reading only their shapes and dtypes does not count. Backward
    refuses to go through a node whose input changed in place after the node was made
    only for ops that read them, as PyTorch refuses only when a tensor saved for backward
    changed: the safe default True refuses. An op sets it False when its gradient comes
    from the upstream gradient, its parameters and the inputs' shapes alone (add, sum,
    reshape); `tests/test_in_place_backward.py` checks each such op with garbage inputs."""
    multiple_outputs: ClassVar[bool] = False
    registry: ClassVar[dict[str, type[Function]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.__dict__.get("name", cls.__name__.lower())
        if cls.name in Function.registry:
            raise TypeError(f"op name {cls.name!r} is registered twice")
        Function.registry[cls.name] = cls

    @staticmethod
    def forward(ctx: Node, *arrays: np.ndarray, **params: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Node, grad: Any) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError

    @classmethod
    def label(cls, params: Mapping[str, Any]) -> str:
        """The op's name in graph drawings (an op may add its parameters)."""
        return cls.name

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Any:
        """Run the op on tensors; record a node when a gradient will be needed (see `record`)."""
        return record(cls, inputs, params)


def record(
    op: type[Function], inputs: tuple[Tensor, ...], params: Mapping[str, Any] = NO_PARAMS
) -> Any:
    """Run `op` on tensors; record a node when a gradient will be needed.

    The hot path of every op, hence the inlined node and tensor setup (the
    fields `Tensor._make` sets, without the call: 0.04 us per op). Tensor
    methods call it directly: inputs handed over as a tuple cost less than
    `Function.apply`'s packing of its arguments (0.1 us of an addition's 1.1).
    """
    mode = grad_mode
    ctx = Node()  # calling a class without __init__ costs less than object.__new__
    ctx.op = op
    ctx.parents = inputs
    ctx.params = params
    ctx.saved = None
    ctx.scope = mode.scope
    ctx.n_outputs = 1
    ctx.created = mode.mutations
    ctx.seq = next(node_numbers)
    try:
        # Unpacking by arity avoids a generator per call on this hot path, and a
        # call without parameters avoids spreading an empty mapping (0.03-0.2 us).
        n = len(inputs)
        if n == 2:
            a, b = inputs
            wanted = a.requires_grad or b.requires_grad
            if params:
                out = op.forward(ctx, a._data, b._data, **params)
            else:
                out = op.forward(ctx, a._data, b._data)
        elif n == 1:
            a = inputs[0]
            wanted = a.requires_grad
            out = op.forward(ctx, a._data, **params) if params else op.forward(ctx, a._data)
        elif n == 3:
            a, b, c = inputs
            wanted = a.requires_grad or b.requires_grad or c.requires_grad
            if params:
                out = op.forward(ctx, a._data, b._data, c._data, **params)
            else:
                out = op.forward(ctx, a._data, b._data, c._data)
        else:
            wanted = any(t.requires_grad for t in inputs)
            arrays = [t._data for t in inputs]
            out = op.forward(ctx, *arrays, **params) if params else op.forward(ctx, *arrays)
    except ValueError as err:
        if isinstance(err, ShapeError):
            raise
        raise _forward_error(op, inputs, err) from None
    except TypeError as err:
        raise _forward_type_error(op, inputs, err) from None
    node = ctx if wanted and mode.enabled and op.differentiable else None
    if mode.anomaly:
        check_forward(ctx, out)
    if op.multiple_outputs:
        ctx.n_outputs = len(out)
        return _outputs(out, node)
    if type(out) is not ndarray:
        out = np.asarray(out)  # NumPy reductions to 0-d return scalars, not arrays
    t = _new(Tensor)
    t._data = out
    t._version = 0
    t.grad = None
    t.requires_grad = node is not None
    t._name = None
    t._node = node
    t._index = 0
    t._retains_grad = False
    return t


# Words of NumPy's ValueErrors about operands' shapes (broadcasting, axes, core dimensions).
SHAPE_WORDS = ("shape", "broadcast", "dimension", "axis", "size")


def _forward_error(op: type[Function], inputs: tuple[Tensor, ...], err: ValueError) -> ValueError:
    """The error for a ValueError from `op`'s forward, naming the op: a `ShapeError` with the
    operands' shapes when it is about shapes; otherwise NumPy's message as it is (for
    example, integers to negative integer powers)."""
    message = str(err)
    if any(word in message for word in SHAPE_WORDS):
        shapes = ", ".join(str(t.shape) for t in inputs)
        return ShapeError(f"{op.name}: operands with shapes {shapes} do not fit: {message}")
    return ValueError(f"{op.name}: {message}")


def _forward_type_error(
    op: type[Function], inputs: tuple[Tensor, ...], err: TypeError
) -> TypeError:
    """The error for a TypeError that NumPy raised in `op`'s forward (no `-` on booleans, no
    loop for a ufunc's dtypes): its message with the op and the operands' dtypes. An op's
    own TypeErrors (which name what they check) go through as they are."""
    message = str(err)
    if "numpy" not in message and "ufunc" not in message:
        return err
    dtypes = ", ".join(str(t.dtype) for t in inputs)
    return TypeError(f"{op.name}: not defined for operands of dtypes {dtypes}: {message}")


def _outputs(arrays: Any, node: Node | None) -> tuple[Tensor, ...]:
    """The tensors of a multiple-output op's arrays.

    Apart from `record`: a comprehension there would turn the variables it
    reads into cells, which every op would pay for.
    """
    make = Tensor._make
    return tuple(
        [make(o if type(o) is ndarray else np.asarray(o), node, i) for i, o in enumerate(arrays)]
    )


_new = object.__new__

# Tensor's methods run ops, which need `Function` and `record` first.
from retrograd.autograd.tensor import Tensor  # noqa: E402
