"""Packed input (`PackedSequence`) to RNN, LSTM and GRU: `_PackedInput`, a base of
`_Recurrent` in `recurrent_base`.

A packed batch runs padded to (T, B, D) in its sorted order (longest first),
one `_step` of the cell at a time, the rows whose sequence has ended holding
their state; the outputs are packed again and the final state goes back to
the original batch order. It uses what `_Recurrent` provides: `_initial`,
`_run_layers`, `_final` and each cell's `_step`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retrograd.autograd import Tensor, time_steps, where
from retrograd.autograd.graph import ShapeError
from retrograd.nn.layers import check_dtype
from retrograd.nn.rnn_utils import PackedSequence, check_packed, packed_positions, padded_sorted


class _PackedInput:
    """The packed-input path of `_Recurrent`: `_forward_packed` and `_packed_layer`."""

    def _forward_packed(self, packed: PackedSequence, state: Any) -> tuple:
        """Run over a PackedSequence: its data padded to (T, B, D) in its sorted order, with
        the rows whose sequence has ended holding their state (`_packed_layer`).

        The cost is that of the padded batch, T * B steps, plus one `where` per
        step that not every sequence runs. h0 (and c0) come in the original
        batch order and are put in the sorted order; the final state goes back.
        """
        batch_sizes = check_packed(packed, type(self).__name__)
        data = self._check_packed_data(packed.data)
        padded = padded_sorted(data, batch_sizes)
        batch = int(batch_sizes[0])
        initial = self._initial(state, batch, self._parameters["weight_ih_l0"])
        if packed.sorted_indices is not None:
            initial = [_select_rows(s, packed.sorted_indices.data, 0) for s in initial]
        running = np.arange(batch)[:, None]
        active = [None if size == batch else running < size for size in batch_sizes]
        output, finals = self._run_layers(padded, initial, active)
        final = self._final(finals)
        if packed.unsorted_indices is not None:
            final = _select_rows(final, packed.unsorted_indices.data, 1)
        output = output[packed_positions(batch_sizes)]
        return PackedSequence(output, *packed[1:]), final

    def _check_packed_data(self, data: Tensor) -> Tensor:
        """Packed data (N, input_size) in the parameters' dtype, or integer indices (N,)."""
        name = type(self).__name__
        if data.dtype.kind in "iu":
            if data.ndim != 1:
                raise ShapeError(
                    f"{name}: packed integer data must be (N,) class indices, got {data.shape}"
                )
        elif data.ndim != 2 or data.shape[1] != self.input_size:
            raise ShapeError(
                f"{name}: packed data must be (N, features) with {self.input_size} features, "
                f"got {data.shape}"
            )
        else:
            check_dtype(data, self._parameters["weight_ih_l0"], name)
        return data

    def _packed_layer(
        self,
        proj: Tensor,
        state: Any,
        w_hh: Tensor,
        b_hh: Tensor | None,
        w_hh_t: np.ndarray,
        reverse: bool,
        active: list,
    ) -> tuple:
        """`_layer` over a padded batch of sequences of different lengths, one `_step` at a
        time: at step t the rows where `active[t]` (B, 1) is False keep their state
        (a `where`; None: every row runs). Rows are sorted longest first, so a row is
        inactive only after its sequence ends, or, over the reversed steps, before it
        begins: its final state is its state at its own last step, and its reverse run
        starts from the initial state at that step. Inactive rows' outputs are unused."""
        outputs = []
        with time_steps(proj.shape[0], reverse=reverse) as steps:
            for t, x_proj in zip(steps, proj.unbind(0)):
                new = self._step(x_proj, state, w_hh, b_hh, w_hh_t)
                state = new if active[t] is None else _hold(active[t], new, state)
                outputs.append(state[0] if isinstance(state, tuple) else state)
        return outputs, state, {}


def _hold(running: np.ndarray, new: Any, old: Any) -> Any:
    """The new state (or LSTM pair) where `running`, else the old one."""
    if isinstance(new, tuple):
        return tuple(where(running, n, o) for n, o in zip(new, old))
    return where(running, new, old)


def _select_rows(state: Any, index: np.ndarray, axis: int) -> Any:
    """A state (or LSTM pair) with its batch axis `axis` taken at `index`."""
    if isinstance(state, tuple):
        return tuple(part.index_select(axis, index) for part in state)
    return state.index_select(axis, index)
