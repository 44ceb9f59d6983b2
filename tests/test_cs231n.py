"""The cs231n RNN assignment's checks, against our automatic gradients.

The assignment writes a vanilla RNN over (N, T, D) inputs with Wx (D, H),
Wh (H, H), b (H,) and derives every gradient by hand. Here the hand formulas
are written out once more in NumPy, and our `RNNCell`, `RNN` (batch_first)
and `Embedding` must agree with them: outputs and dx, dh0, dWx, dWh, db, and
the embedding gradient with repeated words against `np.add.at`. Our layout is
PyTorch's: weight_ih = Wx.T, weight_hh = Wh.T, bias_ih = b, bias_hh = 0.
"""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

F64 = np.float64


def step_forward(x, prev_h, wx, wh, b):
    """next_h = tanh(x Wx + prev_h Wh + b)."""
    return np.tanh(x @ wx + prev_h @ wh + b)


def step_backward(dnext_h, x, prev_h, next_h, wx, wh):
    """Through tanh (1 - next_h^2), then the three products and the bias."""
    da = dnext_h * (1 - next_h**2)
    return da @ wx.T, da @ wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def sequence_forward(x, h0, wx, wh, b):
    """All hidden states (N, T, H), one step at a time."""
    states, h = [], h0
    for t in range(x.shape[1]):
        h = step_forward(x[:, t], h, wx, wh, b)
        states.append(h)
    return np.stack(states, axis=1)


def sequence_backward(dh, x, h0, h, wx, wh):
    """BPTT: walk back in time, adding the gradient that flows from the next step."""
    dx = np.zeros_like(x)
    dwx, dwh, db = np.zeros_like(wx), np.zeros_like(wh), np.zeros(wh.shape[0])
    dprev = np.zeros_like(h0)
    for t in reversed(range(x.shape[1])):
        prev_h = h[:, t - 1] if t > 0 else h0
        dx[:, t], dprev, dwx_t, dwh_t, db_t = step_backward(
            dh[:, t] + dprev, x[:, t], prev_h, h[:, t], wx, wh
        )
        dwx += dwx_t
        dwh += dwh_t
        db += db_t
    return dx, dprev, dwx, dwh, db


def load_weights(module, wx, wh, b, suffix=""):
    module.load_state_dict(
        {
            f"weight_ih{suffix}": wx.T.copy(),
            f"weight_hh{suffix}": wh.T.copy(),
            f"bias_ih{suffix}": b.copy(),
            f"bias_hh{suffix}": np.zeros_like(b),
        }
    )


def linspace(low, high, shape):
    return np.linspace(low, high, num=int(np.prod(shape))).reshape(shape)


def test_rnn_step_forward_known_answer():
    n, d, h = 3, 10, 4
    x, prev_h = linspace(-0.4, 0.7, (n, d)), linspace(-0.2, 0.5, (n, h))
    wx, wh, b = linspace(-0.1, 0.9, (d, h)), linspace(-0.3, 0.7, (h, h)), linspace(-0.2, 0.4, h)
    cell = nn.RNNCell(d, h, generator=0, dtype=F64)
    load_weights(cell, wx, wh, b)
    expected = [
        [-0.58172089, -0.50182032, -0.41232771, -0.31410098],
        [0.66854692, 0.79562378, 0.87755553, 0.92795967],
        [0.97934501, 0.99144213, 0.99646691, 0.99854353],
    ]
    np.testing.assert_allclose(cell(rg.tensor(x), rg.tensor(prev_h)).data, expected, atol=1e-8)


def test_rnn_step_backward_matches_hand_formulas():
    rng = np.random.default_rng(231)
    n, d, h = 4, 5, 6
    x, prev_h = rng.standard_normal((n, d)), rng.standard_normal((n, h))
    wx, wh, b = rng.standard_normal((d, h)), rng.standard_normal((h, h)), rng.standard_normal(h)
    dnext_h = rng.standard_normal((n, h))
    cell = nn.RNNCell(d, h, generator=0, dtype=F64)
    load_weights(cell, wx, wh, b)
    xt, ht = rg.tensor(x, requires_grad=True), rg.tensor(prev_h, requires_grad=True)
    next_h = cell(xt, ht)
    next_h.backward(dnext_h)
    expected_h = step_forward(x, prev_h, wx, wh, b)
    np.testing.assert_allclose(next_h.data, expected_h, rtol=1e-12)
    dx, dprev_h, dwx, dwh, db = step_backward(dnext_h, x, prev_h, expected_h, wx, wh)
    np.testing.assert_allclose(xt.grad, dx, rtol=1e-10)
    np.testing.assert_allclose(ht.grad, dprev_h, rtol=1e-10)
    np.testing.assert_allclose(cell.weight_ih.grad.T, dwx, rtol=1e-10)
    np.testing.assert_allclose(cell.weight_hh.grad.T, dwh, rtol=1e-10)
    np.testing.assert_allclose(cell.bias_ih.grad, db, rtol=1e-10)
    np.testing.assert_allclose(cell.bias_hh.grad, db, rtol=1e-10)


def test_rnn_forward_known_answer():
    n, t, d, h = 2, 3, 4, 5
    x, h0 = linspace(-0.1, 0.3, (n, t, d)), linspace(-0.3, 0.1, (n, h))
    wx, wh, b = linspace(-0.2, 0.4, (d, h)), linspace(-0.4, 0.1, (h, h)), linspace(-0.7, 0.1, h)
    rnn = nn.RNN(d, h, batch_first=True, generator=0, dtype=F64)
    load_weights(rnn, wx, wh, b, suffix="_l0")
    out, h_n = rnn(rg.tensor(x), rg.tensor(h0[None]))
    expected = [
        [
            [-0.42070749, -0.27279261, -0.11074945, 0.05740409, 0.22236251],
            [-0.39525808, -0.22554661, -0.0409454, 0.14649412, 0.32397316],
            [-0.42305111, -0.24223728, -0.04287027, 0.15997045, 0.35014525],
        ],
        [
            [-0.55857474, -0.39065825, -0.19198182, 0.02378408, 0.23735671],
            [-0.27150199, -0.07088804, 0.13562939, 0.33099728, 0.50158768],
            [-0.51014825, -0.30524429, -0.06755202, 0.17806392, 0.40333043],
        ],
    ]
    np.testing.assert_allclose(out.data, expected, atol=1e-8)
    np.testing.assert_allclose(h_n.data[0], out.data[:, -1], rtol=1e-15)


@pytest.mark.parametrize(("n", "t", "d", "h"), [(2, 10, 3, 5), (1, 1, 2, 3), (4, 35, 6, 7)])
def test_rnn_sequence_backward_matches_hand_bptt(n, t, d, h):
    rng = np.random.default_rng(n * 100 + t)
    x, h0 = rng.standard_normal((n, t, d)), rng.standard_normal((n, h))
    wx, wh = rng.standard_normal((d, h)) * 0.5, rng.standard_normal((h, h)) * 0.5
    b, dh = rng.standard_normal(h), rng.standard_normal((n, t, h))
    rnn = nn.RNN(d, h, batch_first=True, generator=0, dtype=F64)
    load_weights(rnn, wx, wh, b, suffix="_l0")
    xt, h0t = rg.tensor(x, requires_grad=True), rg.tensor(h0[None], requires_grad=True)
    out, _ = rnn(xt, h0t)
    out.backward(dh)
    states = sequence_forward(x, h0, wx, wh, b)
    np.testing.assert_allclose(out.data, states, rtol=1e-12, atol=1e-14)
    dx, dh0, dwx, dwh, db = sequence_backward(dh, x, h0, states, wx, wh)
    np.testing.assert_allclose(xt.grad, dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h0t.grad[0], dh0, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rnn.weight_ih_l0.grad.T, dwx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rnn.weight_hh_l0.grad.T, dwh, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rnn.bias_ih_l0.grad, db, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rnn.bias_hh_l0.grad, db, rtol=1e-10, atol=1e-12)


def test_word_embedding_forward_is_row_lookup():
    v, d = 5, 3
    words = np.array([[0, 3, 1, 2], [2, 1, 0, 3]])
    table = linspace(0, 1, (v, d))
    emb = nn.Embedding(v, d, generator=0, dtype=F64)
    emb.load_state_dict({"weight": table})
    np.testing.assert_array_equal(emb(words).data, table[words])


@pytest.mark.parametrize(("n", "t", "v"), [(2, 4, 5), (50, 30, 7), (3, 8, 1000)])
def test_word_embedding_backward_with_repeated_words_matches_add_at(n, t, v):
    rng = np.random.default_rng(v)
    d = 6
    words = rng.integers(0, v, (n, t))
    words[0, :2] = words[-1, -1]  # make sure some word repeats
    dout = rng.standard_normal((n, t, d))
    emb = nn.Embedding(v, d, generator=0, dtype=F64)
    emb(words).backward(dout)
    expected = np.zeros((v, d))
    np.add.at(expected, words.reshape(-1), dout.reshape(-1, d))
    np.testing.assert_allclose(emb.weight.grad, expected, rtol=1e-12, atol=1e-12)
