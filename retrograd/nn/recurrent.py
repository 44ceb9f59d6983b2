"""Multi-layer RNN, LSTM and GRU: Python loops over time steps, recorded on the graph.

Backpropagation through time is not written anywhere: it falls out of
`loss.backward()` over the unrolled loop. Three choices keep the unrolled
graph cheap:

- the input projection `W_ih x + b_ih` of all T steps is one matrix product
  over (T*B, D) (one lookup, `one_hot_linear`, for integer class indices);
  an RNN step adds its row of it, an LSTM or GRU step takes its piece of
  one `unbind` (a single node whose backward fills one (T, B, G*H) buffer,
  instead of T slicing nodes that each allocate a full-size zero gradient:
  an O(T^2) trap);
- `b_hh` joins `b_ih` in that projection (except GRU's, which the reset
  gate multiplies), and each step is one `linear(h, W_hh, residual=x_proj_t)`
  that for a vanilla RNN also applies the nonlinearity (plus the gate
  arithmetic for LSTM and GRU);
- the outputs are joined by one `stack` (a vanilla RNN writes its steps into
  one buffer, so that stack copies nothing).

With `bidirectional=True` each layer also runs its `_reverse` weights over
the time-reversed input, through the same layer code, and reverses their
outputs back; the two directions' outputs are joined along the features.

A `PackedSequence` input runs padded, one `_step` of the cell at a time, the
rows whose sequence has ended keeping their state (`_packed_layer` in
`recurrent_packed`).

Every step's ops are recorded under the scope `t=<step>`; with several
layers each layer's ops sit under `layer<k>`, so steps read `layer1/t=3`.
The reverse direction's ops sit under `reverse`, its steps numbered by the
input position they read, as the forward direction's: it runs `reverse/t=T-1`
first and `reverse/t=0` last, and `t=k` is input k in both directions.
Parameter names, shapes, gate orders and initialisation are PyTorch's.

This module holds the three modules, each with the loop over time steps of its
cell (`_layer`); what they share (construction, input and state checks, the
layers, the directions, the repr) is `_Recurrent` in `recurrent_base`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retrograd.autograd import Tensor, stack, time_steps
from retrograd.autograd.functional import is_integer
from retrograd.autograd.ops.rows import GradientRows
from retrograd.nn.cells import NONLINEARITIES, gru_step, is_state_pair, lstm_step, rnn_step
from retrograd.nn.layers import Seed
from retrograd.nn.recurrent_base import State, _Recurrent


class RNN(_Recurrent):
    """Elman RNN, h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu), stacked.

    Parameters weight_ih_l{k} (H, D_k), weight_hh_l{k} (H, H), bias_ih_l{k},
    bias_hh_l{k}; with `bidirectional=True` also the same with the suffix
    `_reverse`, and D_k = 2H above layer 0. With `retain_hidden_grads=True`
    every step's hidden state keeps its gradient after backward; they are
    listed per layer and direction, in time order, in `hidden_states` (which
    then holds the graph until the next forward).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        retain_hidden_grads: bool = False,
        generator: Seed = None,
        dtype: Any = np.float32,
    ) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            retain_hidden_grads=retain_hidden_grads,
            generator=generator,
            dtype=dtype,
        )
        self.nonlinearity = nonlinearity

    def _layer(
        self,
        proj: Tensor,
        h: Tensor,
        w_hh: Tensor,
        b_hh: Tensor | None,
        w_hh_t: np.ndarray,
        reverse: bool,
    ) -> tuple:
        relu = self.nonlinearity == "relu"
        outputs = []
        # Each step writes its state into one (T + 1, B, H) buffer after h0: stacking them
        # copies nothing. Backward writes the steps' pre-activation gradients into the rows
        # of another (`GradientRows`), and W_hh's gradient is one product of the two.
        states = np.empty((proj.shape[0] + 1, *h.shape), dtype=proj.dtype)
        states[0] = h.data
        buffer = states[1:]
        rows = GradientRows(buffer.shape, buffer.dtype, states)
        with time_steps(len(buffer), reverse=reverse) as steps:
            for t, out in zip(steps, buffer):
                h = rnn_step(proj, h, w_hh, b_hh, relu, out, w_hh_t, (rows, t))
                outputs.append(h)
        return outputs, h, {"into": buffer, "grad_rows": rows}

    def _step(
        self, x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, w_hh_t: np.ndarray
    ) -> Tensor:
        return rnn_step(x_proj, h, w_hh, b_hh, self.nonlinearity == "relu", w_hh_t=w_hh_t)

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else f"{text}, nonlinearity='relu'"


class LSTM(_Recurrent):
    """LSTM with PyTorch's gates (i, f, g, o) stacked in weight_ih_l{k} (4H, D_k) and the rest.

    The state is the pair (h, c), each (num_layers * num_directions, B, H); forward returns
    (outputs, (h_n, c_n)). `retain_hidden_grads` works as for `RNN`.
    """

    kind = "lstm"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        retain_hidden_grads: bool = False,
        generator: Seed = None,
        dtype: Any = np.float32,
    ) -> None:
        """PyTorch's arguments in its order; `proj_size` (a projection of h) is taken so a
        positional call reads as PyTorch's, but only 0, no projection, is supported."""
        if not is_integer(proj_size) or proj_size != 0:
            raise ValueError(
                f"LSTM: proj_size={proj_size!r} is not supported: the hidden state has no "
                "projection here (use proj_size=0, the default)"
            )
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            retain_hidden_grads=retain_hidden_grads,
            generator=generator,
            dtype=dtype,
        )

    def _initial(self, state: State, batch: int | None, like: Tensor) -> list:
        if state is None:
            return list(zip(*(self._layer_states(None, batch, like, w) for w in ("h0", "c0"))))
        if not is_state_pair(state):
            raise TypeError("LSTM: the initial state must be a pair of tensors (h0, c0) or None")
        h0 = self._layer_states(state[0], batch, like, "h0")
        c0 = self._layer_states(state[1], batch, like, "c0")
        return list(zip(h0, c0))

    def _final(self, finals: list) -> State:
        return stack([h for h, _ in finals]), stack([c for _, c in finals])

    def _layer(
        self,
        proj: Tensor,
        state: tuple,
        w_hh: Tensor,
        b_hh: Tensor | None,
        w_hh_t: np.ndarray,
        reverse: bool,
    ) -> tuple:
        h, c = state
        outputs = []
        pieces = proj.unbind(0)
        with time_steps(len(pieces), reverse=reverse) as steps:
            for _, x_proj in zip(steps, pieces):
                h, c = lstm_step(x_proj, h, c, w_hh, b_hh, w_hh_t)
                outputs.append(h)
        return outputs, (h, c), {}

    def _step(
        self, x_proj: Tensor, state: tuple, w_hh: Tensor, b_hh: Tensor | None, w_hh_t: np.ndarray
    ) -> tuple[Tensor, Tensor]:
        return lstm_step(x_proj, *state, w_hh, b_hh, w_hh_t)


class GRU(_Recurrent):
    """GRU with PyTorch's gates (r, z, n) and formula n = tanh(W_in x + b_in + r (W_hn h + b_hn)).

    Parameters weight_ih_l{k} (3H, D_k) and the rest, as PyTorch's;
    `retain_hidden_grads` works as for `RNN`.
    """

    kind = "gru"

    def _layer(
        self,
        proj: Tensor,
        h: Tensor,
        w_hh: Tensor,
        b_hh: Tensor | None,
        w_hh_t: np.ndarray,
        reverse: bool,
    ) -> tuple:
        hidden = self.hidden_size
        x_rz, x_n = proj.split((2 * hidden, hidden), axis=2)
        outputs = []
        with time_steps(x_rz.shape[0], reverse=reverse) as steps:
            for _, xt_rz, xt_n in zip(steps, x_rz.unbind(0), x_n.unbind(0)):
                h = gru_step(xt_rz, xt_n, h, w_hh, b_hh, w_hh_t)
                outputs.append(h)
        return outputs, h, {}

    def _step(
        self, x_proj: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, w_hh_t: np.ndarray
    ) -> Tensor:
        x_rz, x_n = x_proj.split((2 * self.hidden_size, self.hidden_size), axis=1)
        return gru_step(x_rz, x_n, h, w_hh, b_hh, w_hh_t)
