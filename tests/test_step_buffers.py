"""Writing an RNN's steps into one buffer: `linear(..., out=)` and the stack op's `into=`;
the steps' product with W_hh's transpose laid out in C order (`weight_t=`); the steps'
gradients in the rows of a `GradientRows`, which make W_hh's gradient in one product."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import ShapeError, engine, gradcheck, linear, stack
from retrograd.autograd.ops import Stack
from retrograd.autograd.ops.linalg import Linear, transposed
from retrograd.autograd.ops.rows import GradientRows
from retrograd.nn.cells import rnn_step


def _steps(buffer: np.ndarray, w: rg.Tensor, xs: rg.Tensor) -> list[rg.Tensor]:
    h = rg.tensor(np.zeros(buffer.shape[1:], dtype=buffer.dtype))
    outputs = []
    for t, x in enumerate(xs.unbind(0)):
        h = linear(h, w, residual=x, activation="tanh", out=buffer[t])
        outputs.append(h)
    return outputs


def test_linear_out_writes_the_result_into_the_given_array() -> None:
    x, w, b = rg.randn(3, 4, generator=0), rg.randn(5, 4, generator=1), rg.randn(5, generator=2)
    out = np.zeros((3, 5), dtype=np.float32)
    y = linear(x, w, b, activation="relu", out=out)
    assert y.data is out
    np.testing.assert_allclose(out, linear(x, w, b, activation="relu").data, rtol=1e-6)


@pytest.mark.parametrize(
    ("out", "error", "match"),
    [
        (np.zeros((3, 4), np.float32), ShapeError, "linear: out of shape"),
        (np.zeros((3, 5), np.float64), TypeError, "out has dtype float64, the result float32"),
        (np.zeros((5, 3), np.float32).T, TypeError, "writeable, C-contiguous"),
        ([[0.0] * 5] * 3, TypeError, "writeable, C-contiguous"),
    ],
)
def test_linear_out_of_the_wrong_shape_dtype_or_layout_is_refused(out, error, match) -> None:
    x, w = rg.randn(3, 4, generator=0), rg.randn(5, 4, generator=1)
    with pytest.raises(error, match=match):
        linear(x, w, out=out)


def test_linear_checks_its_operands_and_widens_like_addition() -> None:
    x, w = rg.randn(3, 4, generator=0), rg.randn(5, 4, generator=1)
    wide = rg.randn(3, 5, generator=2, dtype=np.float64)
    y = linear(x, w, residual=wide)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.data, (x @ w.T).data.astype(np.float64) + wide.data, rtol=1e-6)
    with pytest.raises(TypeError, match="activation 'tanh' needs a floating result, got int64"):
        linear(
            rg.tensor(np.ones((2, 4), np.int64)),
            rg.tensor(np.ones((5, 4), np.int64)),
            activation="tanh",
        )
    with pytest.raises(TypeError, match="pass residual=True"):
        rg.autograd.ops.Linear.apply(x, w, rg.randn(5, generator=3), wide)


def test_linear_with_a_c_order_transposed_weight_matches_and_does_not_keep_it() -> None:
    x, w = rg.randn(3, 4, generator=0), rg.randn(5, 4, generator=1, requires_grad=True)
    w_t = np.ascontiguousarray(w.data.T)
    y = rg.autograd.ops.Linear.apply(x, w, activation="tanh", weight_t=w_t)
    np.testing.assert_allclose(y.data, linear(x, w, activation="tanh").data, rtol=1e-6)
    assert "weight_t" not in y._node.params  # not held through backward
    # The forward multiplies by weight_t itself (the caller's promise is not re-checked).
    doubled = rg.autograd.ops.Linear.apply(x, w, weight_t=2 * w_t)
    np.testing.assert_allclose(doubled.data, 2 * (x.data @ w.data.T), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(w.grad, ((1 - y.data**2).T @ x.data), rtol=1e-5)


@pytest.mark.parametrize(
    "weight_t", [np.zeros((5, 4), np.float32), np.zeros((4, 5), np.float64)], ids=["shape", "dtype"]
)
def test_a_transposed_weight_that_does_not_fit_is_refused(weight_t: np.ndarray) -> None:
    x, w = rg.randn(3, 4, generator=0), rg.randn(5, 4, generator=1)
    with pytest.raises(ShapeError, match="is not the transpose of a \\(5, 4\\) float32 weight"):
        rg.autograd.ops.Linear.apply(x, w, weight_t=weight_t)


@pytest.mark.parametrize("shape", [(512, 512), (2048, 300), (700, 1), (5, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transposed_copies_a_matrix_in_c_order(shape: tuple[int, int], dtype: type) -> None:
    matrix = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    result = transposed(matrix)
    assert result.flags.c_contiguous and result.dtype == dtype
    np.testing.assert_array_equal(result, matrix.T)


@pytest.mark.parametrize(
    "x_shape",
    [(20, 100), (4, 5, 100), (64, 100), (65, 100), (2, 0, 100), (3, 100, 2)],
    ids=["few rows", "3-d", "64 rows", "65 rows", "no rows", "strided"],
)
def test_linear_of_few_rows_by_a_wide_weight_is_the_product_in_c_order(
    x_shape: tuple[int, ...],
) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape)
    if x_shape == (3, 100, 2):
        x = x.transpose(0, 2, 1)  # rows that are not contiguous
    weight, bias = rng.standard_normal((300, 100)), rng.standard_normal(300)
    y = linear(rg.tensor(x), rg.tensor(weight), rg.tensor(bias)).data
    assert y.flags.c_contiguous and y.shape == (*x.shape[:-1], 300)
    np.testing.assert_allclose(y, x @ weight.T + bias, rtol=1e-12, atol=1e-12)


def test_stack_into_the_buffer_the_steps_were_written_to_copies_nothing() -> None:
    buffer = np.empty((6, 2, 3), dtype=np.float64)
    w = rg.randn(3, 3, generator=0, dtype=np.float64, requires_grad=True)
    xs = rg.randn(6, 2, 3, generator=1, dtype=np.float64, requires_grad=True)
    stacked = Stack.apply(*_steps(buffer, w, xs), axis=0, into=buffer)
    assert stacked.data is buffer
    np.testing.assert_array_equal(stacked.data, stack(_steps(np.empty_like(buffer), w, xs)).data)


def test_stack_into_copies_when_the_tensors_are_not_the_buffer_slices() -> None:
    buffer = np.empty((4, 2, 3), dtype=np.float32)
    w, xs = rg.randn(3, 3, generator=0), rg.randn(4, 2, 3, generator=1)
    steps = _steps(buffer, w, xs)
    reordered = Stack.apply(*steps[::-1], axis=0, into=buffer)
    assert reordered.data is not buffer
    np.testing.assert_array_equal(reordered.data, buffer[::-1])
    others = [rg.randn(2, 3, generator=i) for i in range(4)]
    assert Stack.apply(*others, axis=0, into=buffer).data is not buffer
    last_foreign = Stack.apply(*steps[:-1], others[0], axis=0, into=buffer)
    assert last_foreign.data is not buffer
    np.testing.assert_array_equal(last_foreign.data[-1], others[0].data)


def test_gradients_through_a_step_buffer_match_central_differences() -> None:
    def fn(w: rg.Tensor, xs: rg.Tensor) -> rg.Tensor:
        buffer = np.empty((5, 2, 3), dtype=np.float64)
        stacked = Stack.apply(*_steps(buffer, w, xs), axis=0, into=buffer)
        return (stacked * stacked).sum() + stacked[2].sum()

    w = rg.randn(3, 3, generator=0, dtype=np.float64, requires_grad=True)
    xs = rg.randn(5, 2, 3, generator=1, dtype=np.float64, requires_grad=True)
    assert gradcheck(fn, [w, xs])


def test_rnn_outputs_share_one_buffer_after_h0_and_the_final_state_is_a_copy() -> None:
    rnn = rg.nn.RNN(3, 4, generator=0)
    h0 = rg.randn(1, 2, 4, generator=2)
    out, h_n = rnn(rg.randn(5, 2, 3, generator=1), h0)
    states = out.data.base  # the buffer itself, not a copy of it: h0, then every step
    assert states.shape == (6, 2, 4) and states.flags.owndata
    np.testing.assert_array_equal(states[0], h0.data[0])
    np.testing.assert_array_equal(states[1:], out.data)
    assert not np.shares_memory(h_n.data, out.data)
    np.testing.assert_array_equal(h_n.data[0], out.data[-1])


def test_modifying_the_stacked_buffer_in_place_invalidates_the_steps_that_saved_it() -> None:
    buffer = np.empty((3, 1, 2), dtype=np.float64)
    w = rg.randn(2, 2, generator=0, dtype=np.float64, requires_grad=True)
    steps = _steps(buffer, w, rg.randn(3, 1, 2, generator=1, dtype=np.float64))
    stacked = Stack.apply(*steps, axis=0, into=buffer)
    loss = stacked.sum()
    alias = stacked.detach()
    alias += 1.0
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_a_large_stack_hands_its_inputs_separate_gradients_a_small_one_views() -> None:
    for rows, separate in ((256, True), (4, False)):
        parts = [rg.randn(rows, 256, generator=i, requires_grad=True) for i in range(4)]
        out = stack(parts)
        grad = np.ones(out.shape, dtype=np.float32)
        pieces = out._node.op.backward(out._node, grad)
        assert [np.shares_memory(p, grad) for p in pieces] == [not separate] * 4
        weights = np.arange(4, dtype=np.float32)[:, None, None]
        (out * weights).sum().backward()
        for k, p in enumerate(parts):
            np.testing.assert_array_equal(p.grad, np.full((rows, 256), k, np.float32))


def test_weight_products_summed_over_many_parts_match_the_explicit_sum() -> None:
    rng = np.random.default_rng(0)
    lefts = [rng.standard_normal((4, 5)) for _ in range(20)]
    rights = [rng.standard_normal((4, 3)) for _ in range(20)]
    pending = engine.OuterProducts(lefts[0], rights[0])
    full = [pending.absorb(engine.OuterProducts(a, b)) for a, b in zip(lefts[1:], rights[1:])]
    assert full.index(True) == engine.PendingSum.MAX_PARTS - 2  # full at 16 parts
    expected = sum(a.T @ b for a, b in zip(lefts, rights))
    np.testing.assert_allclose(pending.value(), expected, rtol=1e-12)


def _layer(rnn: rg.nn.RNN, x: rg.Tensor, h0: rg.Tensor) -> tuple:
    """(each step's state, the stacked outputs, the final state) of the layer."""
    out, h_n = rnn(x, h0)
    return list(out.grad_fn.parents), out, h_n[0]


def _step_by_step(rnn: rg.nn.RNN, x: rg.Tensor, h0: rg.Tensor) -> tuple:
    """The same as `_layer`, with one plain `rnn_step` per time step: no buffers, no rows."""
    proj = linear(x, rnn.weight_ih_l0, rnn.bias_ih_l0 + rnn.bias_hh_l0)
    h = h0[0]
    steps = []
    for t in range(x.shape[0]):
        h = rnn_step(proj[t], h, rnn.weight_hh_l0, None, rnn.nonlinearity == "relu")
        steps.append(h)
    return steps, stack(steps), h


WEIGHTS = rg.randn(6, 2, 4, generator=3, dtype=np.float64)
LOSSES = {
    "outputs": lambda steps, out, last: (out * WEIGHTS).sum(),
    # The gradient of a sum is a read-only broadcast view: the rows only read it.
    "sum of outputs": lambda steps, out, last: out.sum(),
    "outputs and h_n": lambda steps, out, last: (out * WEIGHTS).sum() + (last * last).sum(),
    # Backward from a middle step's own state runs only the steps up to it.
    "one step's state": lambda steps, out, last: (steps[3] * steps[3]).sum(),
}


def _gradients(run: Any, nonlinearity: str, losses: list[str], retain: bool) -> list[np.ndarray]:
    """The leaves' gradients after each loss's backward through one graph (retained), and
    with `retain` every step's state's."""
    rnn = rg.nn.RNN(
        3, 4, nonlinearity=nonlinearity, generator=0, dtype=np.float64, retain_hidden_grads=retain
    )
    x = rg.randn(6, 2, 3, generator=1, dtype=np.float64, requires_grad=True)
    h0 = rg.randn(1, 2, 4, generator=2, dtype=np.float64, requires_grad=True)
    graph = run(rnn, x, h0)
    kept = [x, h0, *rnn.parameters()]
    if retain:
        for h in graph[0]:
            h.retain_grad()
        kept += graph[0]
    grads = []
    for loss in losses:
        LOSSES[loss](*graph).backward(retain_graph=True)
        grads += [np.zeros(t.shape) if t.grad is None else t.grad.copy() for t in kept]
    return grads


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize(
    "losses",
    [
        ["outputs", "outputs"],  # the second backward accumulates
        ["outputs and h_n"],
        ["sum of outputs", "sum of outputs"],
        ["one step's state"],
        ["outputs", "one step's state"],  # rows of the first pass must not count in the second
        ["one step's state", "outputs and h_n"],
    ],
)
@pytest.mark.parametrize("retain", [False, True])
def test_an_rnn_layer_gets_the_gradients_of_plain_steps(
    nonlinearity: str, losses: list[str], retain: bool
) -> None:
    """Without retained states, the steps add their rows of the stack's gradient
    themselves; with them, the rows reach every step through the engine."""
    plain = _gradients(_step_by_step, nonlinearity, losses, retain)
    layer = _gradients(_layer, nonlinearity, losses, retain)
    for expected, got in zip(plain, layer, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_rnn_gradient_rows_match_central_differences() -> None:
    rnn = rg.nn.RNN(3, 4, generator=0, dtype=np.float64)
    x = rg.randn(7, 2, 3, generator=1, dtype=np.float64, requires_grad=True)

    def fn(x: rg.Tensor, w_hh: rg.Tensor) -> rg.Tensor:
        out, h_n = rg.nn.functional_call(rnn, {"weight_hh_l0": w_hh}, x)
        return (out * out).sum() + h_n.sum()

    assert gradcheck(fn, [x, rnn.weight_hh_l0])


def test_grad_into_needs_an_activation_and_a_residual_and_rows_need_their_states() -> None:
    rows = GradientRows((2, 1, 3), np.dtype(np.float64), np.zeros((3, 1, 3)))
    h, w = rg.randn(1, 3, dtype=np.float64), rg.randn(3, 3, dtype=np.float64, requires_grad=True)
    proj = rg.randn(2, 1, 3, dtype=np.float64)
    with pytest.raises(TypeError, match="grad_into needs an activation and a residual"):
        Linear.apply(h, w, proj, residual=True, grad_into=(rows, 0))
    with pytest.raises(TypeError, match="grad_into needs an activation and a residual"):
        Linear.apply(h, w, activation="tanh", grad_into=(rows, 0))
    with pytest.raises(
        ValueError, match=r"states of shape \(2, 1, 3\) do not match rows of shape \(2, 1, 3\)"
    ):
        GradientRows((2, 1, 3), np.dtype(np.float64), np.zeros((2, 1, 3)))
