"""`_Recurrent`, the base of the RNN, LSTM and GRU modules of `recurrent`.

It holds what the three share: construction (sizes, dropout, directions, the
weights of every layer and direction in PyTorch's order), the checks of the
input and of the initial state, the stacking of layers with dropout between
them, each layer's input projection and the stack of its outputs, the reverse
direction of a bidirectional module, and the repr; packed input
(`PackedSequence`) comes from `_PackedInput` in `recurrent_packed`. Each
subclass gives its `_layer`, the loop over time steps of its cell, its
`_step`, one step of that cell, and the shape of its state.
"""

from __future__ import annotations

import warnings
from contextlib import nullcontext
from typing import Any

import numpy as np

from retrograd.autograd import (
    Tensor,
    as_generator,
    concat,
    linear,
    one_hot_linear,
    scope,
    stack,
)
from retrograd.autograd.function import record
from retrograd.autograd.graph import ShapeError, gc_paused
from retrograd.autograd.ops import Stack
from retrograd.autograd.ops.linalg import transposed
from retrograd.nn import functional as F
from retrograd.nn.cells import GATES, check_state, drop_batch_axis, make_weights
from retrograd.nn.layers import Seed, as_input, check_dtype, check_sizes, parameter_dtype
from retrograd.nn.module import Module
from retrograd.nn.recurrent_packed import _PackedInput
from retrograd.nn.rnn_utils import PackedSequence

State = Any
WEIGHTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class _Recurrent(_PackedInput, Module):
    """Shared layers, checks and the layer loop of RNN, LSTM and GRU.

    The arguments up to `bidirectional` are positional in PyTorch's order;
    the ones PyTorch does not have (`retain_hidden_grads`, `generator`) and
    `dtype` are keyword-only.
    """

    kind = "rnn"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        retain_hidden_grads: bool = False,
        generator: Seed = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        check_sizes(name, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers)
        dtype = parameter_dtype(dtype, name)
        F.check_probability(dropout, name, "dropout")
        if dropout > 0 and num_layers == 1:
            # Point at the caller's line: RNN's own __init__ adds one frame.
            caller = 3 if type(self).__init__ is not _Recurrent.__init__ else 2
            warnings.warn(
                f"{name}: dropout={dropout} acts between stacked layers, so with num_layers=1 "
                "it does nothing (as in PyTorch)",
                UserWarning,
                stacklevel=caller,
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = dropout
        if not isinstance(bidirectional, bool):
            raise TypeError(f"{name}: bidirectional must be True or False, got {bidirectional!r}")
        self.bidirectional = bidirectional
        self.retain_hidden_grads = retain_hidden_grads
        self.hidden_states: list[list[Tensor]] = []
        rng = as_generator(generator)
        # PyTorch's order: layer k's weights, then its `_reverse` weights, then layer k + 1's.
        for k in range(num_layers):
            size = input_size if k == 0 else hidden_size * self.num_directions
            for suffix in self._directions:
                make_weights(
                    self, f"_l{k}{suffix}", size, hidden_size, GATES[self.kind], bias, rng, dtype
                )
        # Dropout masks come after the weights from the same generator: a seeded
        # model drops the same units on every run.
        self.generator = rng

    @property
    def num_directions(self) -> int:
        """2 for a bidirectional module, else 1."""
        return 2 if self.bidirectional else 1

    @property
    def _directions(self) -> tuple[str, ...]:
        """The parameter-name suffix of each direction, in PyTorch's order."""
        return ("", "_reverse") if self.bidirectional else ("",)

    def forward(self, x: Any, state: State = None) -> tuple[Tensor, State]:
        """Run all time steps; return (outputs (T, B, D*H), final state) (B first if batch_first).

        `x` may also be integer class indices of shape (T, B) ((B, T) if
        batch_first), each standing for a one-hot vector of input_size
        classes: the first layer then looks up its input projection
        (`one_hot_linear`) instead of multiplying by the one-hot array.
        `state` is h0 of shape (num_layers * D, B, H) (for LSTM the pair (h0, c0)),
        D = num_directions, ordered as PyTorch's: layer 0 forward, layer 0
        reverse, layer 1 forward, ...; None starts from zeros. The final state
        has that shape and order. Gradients reach x (unless indices) and the
        given state. In training mode, the outputs of every layer but the last
        pass through dropout with probability `dropout`, as in PyTorch.

        As PyTorch's, an unbatched input (T, D) (integer indices: (T,)), whatever
        batch_first, runs as a batch of one: it takes an unbatched state
        (num_layers * D, H) and returns outputs (T, D*H) and a final state of that shape.

        `x` may be a `PackedSequence` (batch_first does not apply to it): the
        outputs are then one too, and the final state holds each sequence's
        state at its own last step, in the original batch order (see
        `_forward_packed`).
        """
        with gc_paused():
            if isinstance(x, PackedSequence):
                return self._forward_packed(x, state)
            return self._forward(x, state)

    def _forward(self, x: Any, state: State) -> tuple[Tensor, State]:
        x, batched = self._check_input(x)
        batch = x.shape[1] if batched else None
        initial = self._initial(state, batch, self._parameters["weight_ih_l0"])
        output, finals = self._run_layers(x, initial, None)
        if not batched:
            return output.squeeze(1), drop_batch_axis(self._final(finals), 1)
        output = output.transpose(0, 1) if self.batch_first else output
        return output, self._final(finals)

    def _run_layers(self, x: Tensor, initial: list, active: list | None) -> tuple:
        """Every layer and direction over x (T, B, D): (the last layer's outputs (T, B, D*H),
        each layer and direction's final state, in PyTorch's order). `active`: None, or
        per step which rows run (see `_packed_layer`)."""
        finals = []
        kept = []
        layer_input = x
        for k in range(self.num_layers):
            with scope(f"layer{k}") if self.num_layers > 1 else nullcontext():
                if self.bidirectional:
                    layer_input, runs = self._both_directions(layer_input, k, initial, active)
                else:
                    layer_input, outputs, final = self._direction(
                        layer_input, f"_l{k}", initial[k], active=active
                    )
                    runs = [(outputs, final)]
                if k < self.num_layers - 1:
                    layer_input = F.dropout(
                        layer_input, self.dropout, self.training, generator=self.generator
                    )
            for suffix, (outputs, final) in zip(self._directions, runs):
                finals.append(final)
                if self.retain_hidden_grads:
                    kept.append(self._retain(outputs, f"h_l{k}{suffix}"))
        if self.retain_hidden_grads:
            self.hidden_states = kept
        return layer_input, finals

    def _direction(
        self,
        layer_input: Tensor,
        suffix: str,
        state: Any,
        reverse: bool = False,
        active: list | None = None,
    ) -> tuple:
        """One direction of one layer over `layer_input` (T, B, D_k) in its time order, with
        the weights named `*{suffix}`: (outputs stacked (T, B, H), list of outputs, final).
        `reverse`: `layer_input` is the sequence reversed, and its steps are labelled by
        the position they read in the original (see `time_steps`). `active`: None, or
        per step (in this time order) which rows run (`_packed_layer`)."""
        w_ih, w_hh, b_ih, b_hh = (self._parameters[name + suffix] for name in WEIGHTS)
        # Where b_hh only adds to the step's input projection (RNN, LSTM; not GRU's
        # reset-gated b_hn), it joins b_ih there once instead of once per step.
        fold = self.kind != "gru" and b_hh is not None
        project = one_hot_linear if layer_input.dtype.kind in "iu" else linear
        proj = project(layer_input, w_ih, b_ih + b_hh if fold else b_ih)
        # Every step multiplies by W_hh^T: one C-order copy makes each product faster.
        w_hh_t = transposed(w_hh.data)
        b_hh = None if fold else b_hh
        if active is None:
            outputs, final, buffers = self._layer(proj, state, w_hh, b_hh, w_hh_t, reverse)
        else:
            outputs, final, buffers = self._packed_layer(
                proj, state, w_hh, b_hh, w_hh_t, reverse, active
            )
        return record(Stack, tuple(outputs), {"axis": 0, **buffers}), outputs, final

    def _both_directions(
        self, layer_input: Tensor, k: int, initial: list, active: list | None
    ) -> tuple:
        """Layer k forward and over the reversed time steps: (outputs (T, B, 2H), and per
        direction (list of outputs in time order, final state)). With `active` (packed
        input) a row's reverse run waits at its initial state until its own last step."""
        forward, outputs, final = self._direction(
            layer_input, f"_l{k}", initial[2 * k], active=active
        )
        with scope("reverse"):
            reverse, reversed_outputs, reverse_final = self._direction(
                layer_input[::-1],
                f"_l{k}_reverse",
                initial[2 * k + 1],
                reverse=True,
                active=None if active is None else active[::-1],
            )
        both = concat([forward, reverse[::-1]], axis=2)
        return both, [(outputs, final), (reversed_outputs[::-1], reverse_final)]

    @staticmethod
    def _retain(outputs: list[Tensor], name: str) -> list[Tensor]:
        """Have every step's output keep its gradient, named `name[t=<t>]`."""
        for t, h in enumerate(outputs):
            if h.requires_grad:  # not under no_grad (generation, evaluation)
                h.retain_grad()
            h.name = f"{name}[t={t}]"
        return outputs

    def _check_input(self, x: Any) -> tuple[Tensor, bool]:
        """The input as (T, B, D) (integer indices: (T, B)) and whether it was batched:
        an unbatched (T, D) (indices: (T,)) gains a batch axis of size 1."""
        x = as_input(x)
        name = type(self).__name__
        if x.dtype.kind in "iu":
            layout = "(batch, steps)" if self.batch_first else "(steps, batch)"
            if x.ndim not in (1, 2):
                raise ShapeError(
                    f"{name}: integer input must be {layout} class indices, or unbatched "
                    f"(steps,) ones (one-hot of {self.input_size} classes), got shape {x.shape}"
                )
            batched = x.ndim == 2
        else:
            layout = "(batch, steps, features)" if self.batch_first else "(steps, batch, features)"
            if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
                raise ShapeError(
                    f"{name}: input must be {layout}, or unbatched (steps, features), "
                    f"with {self.input_size} features, got {x.shape}"
                )
            check_dtype(x, self._parameters["weight_ih_l0"], name)
            batched = x.ndim == 3
        if not batched:
            if x.shape[0] == 0:
                layout = "(steps,)" if x.ndim == 1 else "(steps, features)"
                raise ShapeError(f"{name}: unbatched input {layout} must have at least one step")
            return x.unsqueeze(1), False
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise ShapeError(f"{name}: input {layout} must have at least one step and one row")
        return (x.transpose(0, 1) if self.batch_first else x), True

    def _layer_states(self, state: Any, batch: int | None, like: Tensor, what: str) -> list[Tensor]:
        """One (B, H) state per layer and direction, from a (num_layers * num_directions,
        B, H) tensor or zeros. `batch` None: the input is unbatched, and so must the state
        be, (num_layers * num_directions, H); each layer's is then (1, H)."""
        count = self.num_layers * self.num_directions
        if state is None:
            zeros = np.zeros((batch or 1, self.hidden_size), dtype=like.dtype)
            return [Tensor(zeros) for _ in range(count)]
        unbatched = batch is None
        shape = (count, self.hidden_size) if unbatched else (count, batch, self.hidden_size)
        layout = (
            f"(num_layers * num_directions, {'' if unbatched else 'batch, '}hidden_size) with "
            f"num_layers={self.num_layers}, num_directions={self.num_directions}, "
            f"hidden_size={self.hidden_size}, as the input is {'un' if unbatched else ''}batched"
        )
        state = check_state(state, shape, like, what, type(self).__name__, layout)
        return list((state.unsqueeze(1) if unbatched else state).unbind(0))

    def _initial(self, state: State, batch: int | None, like: Tensor) -> list:
        """Each layer and direction's initial state; `batch` None for unbatched input."""
        if isinstance(state, tuple | list):
            raise TypeError(
                f"{type(self).__name__}: the initial state is one tensor h0, not a pair"
            )
        return self._layer_states(state, batch, like, "h0")

    def _final(self, finals: list) -> State:
        return stack(finals)

    def _layer(
        self,
        proj: Tensor,
        state: Any,
        w_hh: Tensor,
        b_hh: Tensor | None,
        w_hh_t: np.ndarray,
        reverse: bool,
    ) -> tuple:
        """(outputs, final state, the buffers that the stack of the outputs takes: `into`,
        the array they were written into, and `grad_rows`, see `Stack.forward`; or {}).
        `w_hh_t` is W_hh's transpose in C order, for the steps' products; `reverse` numbers
        the steps from last to first (`time_steps`)."""
        raise NotImplementedError

    def _step(
        self, x_proj: Tensor, state: Any, w_hh: Tensor, b_hh: Tensor | None, w_hh_t: np.ndarray
    ) -> Any:
        """One step of the cell from its input projection x_proj (B, G*H): the next state."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            parts.append(f"num_layers={self.num_layers}")
        if not self.bias:
            parts.append("bias=False")
        if self.batch_first:
            parts.append("batch_first=True")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.bidirectional:
            parts.append("bidirectional=True")
        return ", ".join(parts)
