"""Recurrent cells: one time step of a vanilla RNN, an LSTM and a GRU, with PyTorch's weights.

Each step is written once, as a function of the input projection
`W_ih x + b_ih` (computed by the caller) and the previous state, so the
multi-step modules (`recurrent.py`; their shared base in `recurrent_base.py`
makes the projection) can project all time steps in one matrix product and
reuse the same step. Gate orders are PyTorch's: LSTM
rows are (i, f, g, o), GRU rows (r, z, n).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retrograd.autograd import Tensor, as_generator, linear
from retrograd.autograd.function import record
from retrograd.autograd.graph import ShapeError
from retrograd.autograd.ops import Linear
from retrograd.autograd.ops.rows import GradientRows
from retrograd.nn import init
from retrograd.nn.layers import Seed, as_input, check_dtype, check_sizes, parameter_dtype
from retrograd.nn.module import Module, Parameter

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
NONLINEARITIES = ("tanh", "relu")


def rnn_step(
    x_proj: Tensor,
    h: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    relu: bool,
    out: np.ndarray | None = None,
    w_hh_t: np.ndarray | None = None,
    grad_into: tuple[GradientRows, int] | None = None,
) -> Tensor:
    """h' = act(x_proj + W_hh h + b_hh) with act = tanh (or relu), one node (written into `out`).

    A layer running many steps passes `w_hh_t`, W_hh's transpose in C order
    made once for all of them, and `grad_into`, its `GradientRows` and this
    step's index t; `x_proj` is then the layer's whole (T, B, H) input
    projection, of which the step adds row t (see `Linear.forward`). The op
    is applied directly (as `linear` would): this runs once per time step.
    """
    inputs = (h, w_hh, x_proj) if b_hh is None else (h, w_hh, b_hh, x_proj)
    return record(
        Linear,
        inputs,
        {
            "residual": True,
            "activation": "relu" if relu else "tanh",
            "out": out,
            "weight_t": w_hh_t,
            "grad_into": grad_into,
        },
    )


def lstm_step(
    x_proj: Tensor,
    h: Tensor,
    c: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    w_hh_t: np.ndarray | None = None,
) -> tuple[Tensor, Tensor]:
    """(h', c') of an LSTM from gates i, f, g, o: c' = f c + i g, h' = o tanh(c').

    `w_hh_t` as for `rnn_step`.
    """
    inputs = (h, w_hh, x_proj) if b_hh is None else (h, w_hh, b_hh, x_proj)
    gates = record(Linear, inputs, {"residual": True, "weight_t": w_hh_t})
    i, f, g, o = gates.split(h.shape[1], axis=1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def gru_step(
    x_rz: Tensor,
    x_n: Tensor,
    h: Tensor,
    w_hh: Tensor,
    b_hh: Tensor | None,
    w_hh_t: np.ndarray | None = None,
) -> Tensor:
    """h' of a GRU with PyTorch's formula, the reset gate multiplying W_hn h + b_hn.

    r, z = sigmoid(x_rz + W_h{r,z} h + b_h{r,z}); n = tanh(x_n + r (W_hn h + b_hn));
    h' = (1 - z) n + z h, computed as n + z (h - n). `w_hh_t` as for `rnn_step`.
    """
    hidden = h.shape[1]
    inputs = (h, w_hh) if b_hh is None else (h, w_hh, b_hh)
    h_rz, h_n = record(Linear, inputs, {"weight_t": w_hh_t}).split((2 * hidden, hidden), axis=1)
    r, z = (x_rz + h_rz).sigmoid().split(hidden, axis=1)
    n = (x_n + r * h_n).tanh()
    return n + z * (h - n)


def make_weights(
    module: Module,
    suffix: str,
    input_size: int,
    hidden_size: int,
    gates: int,
    bias: bool,
    rng: np.random.Generator,
    dtype: Any,
) -> None:
    """Register weight_ih{suffix}, weight_hh{suffix} (and the biases) in PyTorch's order.

    All start uniform(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch's.
    """
    shapes = {
        "weight_ih": (gates * hidden_size, input_size),
        "weight_hh": (gates * hidden_size, hidden_size),
    }
    if bias:
        shapes.update(bias_ih=(gates * hidden_size,), bias_hh=(gates * hidden_size,))
    for name, shape in shapes.items():
        param = Parameter(np.empty(shape, dtype=dtype))
        init.rnn_uniform_(param, hidden_size, generator=rng)
        module.register_parameter(name + suffix, param)
    if not bias:
        module.register_parameter("bias_ih" + suffix, None)
        module.register_parameter("bias_hh" + suffix, None)


def check_state(
    state: Any, shape: tuple[int, ...], like: Tensor, what: str, kind: str, layout: str
) -> Tensor:
    """The given state as a tensor of `shape` in the parameters' dtype, or a clear error.

    `layout` says what the axes of `shape` are; a shape error ends with it.
    """
    if not isinstance(state, Tensor) and np.asarray(state).dtype.kind not in "biuf":
        raise TypeError(f"{kind}: {what} must be a tensor or array, got {type(state).__name__}")
    state = as_input(state)
    if state.shape != shape:
        raise ShapeError(f"{kind}: {what} must have shape {shape}, got {state.shape}: {layout}")
    check_dtype(state, like, kind, what)
    return state


def is_state_pair(state: Any) -> bool:
    """Whether an LSTM state is a pair (h, c) of which neither is None (no half-zero start)."""
    return (
        isinstance(state, tuple | list)
        and len(state) == 2
        and not any(part is None for part in state)
    )


def drop_batch_axis(state: Tensor | tuple, axis: int) -> Tensor | tuple:
    """`state` (or each of an LSTM's pair) without its batch axis `axis`, of size 1: what
    a cell or layer run on unbatched input returns, as PyTorch's."""
    if isinstance(state, tuple):
        return tuple(part.squeeze(axis) for part in state)
    return state.squeeze(axis)


class _Cell(Module):
    """Shared construction and input checks of the three cells."""

    kind = "rnn"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        generator: Seed = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        check_sizes(type(self).__name__, input_size=input_size, hidden_size=hidden_size)
        dtype = parameter_dtype(dtype, type(self).__name__)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        rng = as_generator(generator)
        make_weights(self, "", input_size, hidden_size, GATES[self.kind], bias, rng, dtype)

    def _project(self, x: Any) -> tuple[Tensor, bool]:
        """W_ih x + b_ih for input x (B, input_size), and whether x was batched: an
        unbatched x (input_size,) runs as a batch of one, as PyTorch's."""
        x = as_input(x)
        name = type(self).__name__
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ShapeError(
                f"{name}: input must be (batch, {self.input_size}) or unbatched "
                f"({self.input_size},), got {x.shape}"
            )
        check_dtype(x, self.weight_ih, name)
        batched = x.ndim == 2
        return linear(x if batched else x.unsqueeze(0), self.weight_ih, self.bias_ih), batched

    def _state(self, state: Any, batch: int, like: Tensor, what: str, batched: bool) -> Tensor:
        """The state `what` as (B, H): zeros if None; one given for unbatched input must
        be unbatched too, (H,)."""
        if state is None:
            return Tensor(np.zeros((batch, self.hidden_size), dtype=like.dtype))
        shape = (batch, self.hidden_size) if batched else (self.hidden_size,)
        layout = (
            "(batch, hidden_size), as the input is batched"
            if batched
            else "(hidden_size,), as the input is unbatched"
        )
        state = check_state(state, shape, like, what, type(self).__name__, layout)
        return state if batched else state.unsqueeze(0)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        return text if self.bias else text + ", bias=False"


class RNNCell(_Cell):
    """One step of a vanilla RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        generator: Seed = None,
        dtype: Any = np.float32,
    ) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
            )
        super().__init__(input_size, hidden_size, bias, generator, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, x: Any, h: Any = None) -> Tensor:
        """The next hidden state (B, H) from input (B, D) and state h (zeros if None);
        (H,) from unbatched input (D,) and state (H,)."""
        x_proj, batched = self._project(x)
        h = self._state(h, x_proj.shape[0], x_proj, "h", batched)
        h = rnn_step(x_proj, h, self.weight_hh, self.bias_hh, self.nonlinearity == "relu")
        return h if batched else drop_batch_axis(h, 0)

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else f"{text}, nonlinearity='relu'"


class LSTMCell(_Cell):
    """One LSTM step; weights stack the gates (i, f, g, o) along the rows, as PyTorch's."""

    kind = "lstm"

    def forward(self, x: Any, state: tuple[Any, Any] | None = None) -> tuple[Tensor, Tensor]:
        """(h', c') from input (B, D) and state (h, c) (zeros if None); each (H,) from
        unbatched input (D,) and state."""
        x_proj, batched = self._project(x)
        batch = x_proj.shape[0]
        if state is None:
            h = c = self._state(None, batch, x_proj, "h", batched)
        elif is_state_pair(state):
            h, c = (self._state(s, batch, x_proj, what, batched) for s, what in zip(state, "hc"))
        else:
            raise TypeError("LSTMCell: state must be a pair of tensors (h, c) or None")
        state = lstm_step(x_proj, h, c, self.weight_hh, self.bias_hh)
        return state if batched else drop_batch_axis(state, 0)


class GRUCell(_Cell):
    """One GRU step; weights stack the gates (r, z, n) along the rows, as PyTorch's."""

    kind = "gru"

    def forward(self, x: Any, h: Any = None) -> Tensor:
        """The next hidden state (B, H) from input (B, D) and state h (zeros if None);
        (H,) from unbatched input (D,) and state (H,)."""
        x_proj, batched = self._project(x)
        h = self._state(h, x_proj.shape[0], x_proj, "h", batched)
        x_rz, x_n = x_proj.split((2 * self.hidden_size, self.hidden_size), axis=1)
        h = gru_step(x_rz, x_n, h, self.weight_hh, self.bias_hh)
        return h if batched else drop_batch_axis(h, 0)
