"""The op contract: `Function`, whose forward and backward stand side by side.

An op is a `Function` subclass: `forward` takes arrays and returns an array,
`backward` takes the upstream gradient and returns one gradient per input.
`Function.apply` runs the forward and, only when some input needs a gradient
and grad mode is on, records a `Node` that the engine walks later.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

# By name: Python does not cache attribute loads from numpy's module (which defines a
# module __getattr__), and every op tests its output's type (0.03 us per op).
from numpy import ndarray

from retrograd.autograd.anomaly import check_forward
from retrograd.autograd.graph import Node, ShapeError, grad_mode, next_seq
from retrograd.autograd.tensor import Tensor


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
    def label(cls, params: dict[str, Any]) -> str:
        """The op's name in graph drawings (an op may add its parameters)."""
        return cls.name

    @classmethod
    def apply(cls, *inputs: Tensor, **params: Any) -> Any:
        """Run the op on tensors; record a node when a gradient will be needed.

        This is the hot path of every op, hence the inlined node and tensor setup.
        """
        mode = grad_mode
        ctx = _new(Node)
        ctx.op = cls
        ctx.parents = inputs
        ctx.params = params
        ctx.saved = None
        ctx.scope = mode.scope
        ctx.n_outputs = 1
        ctx.created = mode.mutations
        ctx.seq = next_seq()
        try:
            # Unpacking by arity avoids a generator per call on this hot path;
            # a call without keyword parameters skips unpacking an empty dict.
            n = len(inputs)
            if n == 2:
                a, b = inputs
                if params:
                    out = cls.forward(ctx, a._data, b._data, **params)
                else:
                    out = cls.forward(ctx, a._data, b._data)
                wanted = a.requires_grad or b.requires_grad
            elif n == 1:
                a = inputs[0]
                out = cls.forward(ctx, a._data, **params)
                wanted = a.requires_grad
            elif n == 3:
                a, b, c = inputs
                out = cls.forward(ctx, a._data, b._data, c._data, **params)
                wanted = a.requires_grad or b.requires_grad or c.requires_grad
            else:
                out = cls.forward(ctx, *[t._data for t in inputs], **params)
                wanted = any(t.requires_grad for t in inputs)
        except ValueError as err:
            if isinstance(err, ShapeError):
                raise
            shapes = ", ".join(str(t.shape) for t in inputs)
            raise ShapeError(
                f"{cls.name}: operands with shapes {shapes} do not fit: {err}"
            ) from None
        node = ctx if wanted and mode.enabled and cls.differentiable else None
        if mode.anomaly:
            check_forward(ctx, out)
        if cls.multiple_outputs:
            ctx.n_outputs = len(out)
            return _outputs(out, node)
        if type(out) is not ndarray:
            out = np.asarray(out)  # NumPy reductions to 0-d return scalars, not arrays
        t = _new(Tensor)
        t._data = out
        t._version = 0
        t.grad = None
        t.requires_grad = node is not None
        t.name = None
        t._node = node
        t._index = 0
        t._retains_grad = False
        return t


def _outputs(arrays: Any, node: Node | None) -> tuple[Tensor, ...]:
    """The tensors of a multiple-output op's arrays.

    Apart from `apply`: a comprehension there would turn the variables it
    reads into cells, which every op would pay for.
    """
    make = Tensor._make
    return tuple(
        [make(o if type(o) is ndarray else np.asarray(o), node, i) for i, o in enumerate(arrays)]
    )


_new = object.__new__
