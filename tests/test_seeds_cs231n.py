"""The rest of the cs231n RNN assignment: temporal affine, masked temporal softmax, LSTM step.

tests/test_cs231n.py covers the vanilla RNN and word embeddings. Here the
assignment's other layers are written out in NumPy with its own layout
(weights (D, M) or (D, 4H) with gates i, f, o, g; a loss summed over unmasked
positions and divided by the batch size N) and checked against the retrograd
layers with the weights moved into PyTorch's layout. Gradients are checked as
the assignment checks them: against central differences of the NumPy forward.
"""

import numpy as np

import retrograd as rg
from retrograd import nn
from retrograd.nn import functional as F

F64 = np.float64


def numeric_gradient(f, x, dout, h=1e-6):
    """d(sum(f(x) * dout)) / dx by central differences, as the assignment's checker."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + h
        plus = np.sum(f(x) * dout)
        x[index] = saved - h
        minus = np.sum(f(x) * dout)
        x[index] = saved
        grad[index] = (plus - minus) / (2 * h)
    return grad


def test_temporal_affine_is_linear_on_every_step():
    rng = np.random.default_rng(0)
    n, t, d, m = 2, 3, 4, 5
    x, w, b = rng.standard_normal((n, t, d)), rng.standard_normal((d, m)), rng.standard_normal(m)
    dout = rng.standard_normal((n, t, m))
    layer = nn.Linear(d, m, generator=0, dtype=F64)
    layer.load_state_dict({"weight": w.T.copy(), "bias": b.copy()})
    xt = rg.tensor(x, requires_grad=True)
    out = layer(xt)
    out.backward(dout)
    np.testing.assert_allclose(out.data, x @ w + b, rtol=1e-12)
    np.testing.assert_allclose(
        xt.grad, numeric_gradient(lambda v: v @ w + b, x, dout), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        layer.weight.grad.T,
        numeric_gradient(lambda v: x @ v + b, w.copy(), dout),
        rtol=1e-6,
        atol=1e-8,
    )
    np.testing.assert_allclose(layer.bias.grad, dout.sum((0, 1)), rtol=1e-12)


def temporal_softmax_loss(x, y, mask):
    """The assignment's loss: -sum(mask * log softmax(x)[y]) / N, and its gradient."""
    n, t, v = x.shape
    flat, targets, keep = x.reshape(n * t, v), y.reshape(n * t), mask.reshape(n * t)
    probs = np.exp(flat - flat.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    loss = -np.sum(keep * np.log(probs[np.arange(n * t), targets])) / n
    dx = probs.copy()
    dx[np.arange(n * t), targets] -= 1
    dx *= keep[:, None] / n
    return loss, dx.reshape(n, t, v)


def masked_loss(scores, y, mask):
    """The assignment's loss in retrograd: masked targets ignored, the sum divided by N."""
    n, t, v = scores.shape
    targets = np.where(mask, y, -100).reshape(-1)
    return F.cross_entropy(scores.reshape(n * t, v), targets, reduction="sum") / n


def test_masked_temporal_softmax_loss_is_the_assignments():
    rng = np.random.default_rng(1)
    n, t, v = 5, 7, 11
    x = rng.standard_normal((n, t, v))
    y = rng.integers(0, v, (n, t))
    mask = rng.random((n, t)) > 0.3
    xt = rg.tensor(x, requires_grad=True)
    loss = masked_loss(xt, y, mask)
    loss.backward()
    expected_loss, expected_dx = temporal_softmax_loss(x, y, mask)
    np.testing.assert_allclose(loss.item(), expected_loss, rtol=1e-12)
    np.testing.assert_allclose(xt.grad, expected_dx, rtol=1e-10, atol=1e-15)
    assert not xt.grad[~mask].any()


def test_masked_temporal_softmax_loss_known_values():
    """The assignment's sanity values: about 2.3, 23 and 2.3 for 10 classes."""
    rng = np.random.default_rng(231)
    for n, t, v, p in [(100, 1, 10, 1.0), (100, 10, 10, 1.0), (5000, 10, 10, 0.1)]:
        x = 0.001 * rng.standard_normal((n, t, v))
        y = rng.integers(0, v, (n, t))
        mask = rng.random((n, t)) <= p
        expected = temporal_softmax_loss(x, y, mask)[0]
        np.testing.assert_allclose(masked_loss(rg.tensor(x), y, mask).item(), expected)
        np.testing.assert_allclose(expected, np.log(v) * t * mask.mean(), rtol=0.05)


def lstm_step(x, prev_h, prev_c, wx, wh, b):
    """The assignment's LSTM step: a = x Wx + h Wh + b split into gates i, f, o, g."""
    a = x @ wx + prev_h @ wh + b
    i, f, o, g = np.split(a, 4, axis=1)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    next_c = sigmoid(f) * prev_c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(next_c), next_c


def to_torch_gates(matrix):
    """Columns in the assignment's gate order (i, f, o, g) -> PyTorch's rows (i, f, g, o)."""
    i, f, o, g = np.split(matrix, 4, axis=-1)
    return np.concatenate([i, f, g, o], axis=-1).T.copy()


def test_lstm_cell_is_the_assignments_lstm_step():
    rng = np.random.default_rng(2)
    n, d, h = 3, 5, 4
    x, prev_h, prev_c = (rng.standard_normal(s) for s in [(n, d), (n, h), (n, h)])
    wx, wh, b = (
        rng.standard_normal((d, 4 * h)),
        rng.standard_normal((h, 4 * h)),
        rng.standard_normal(4 * h),
    )
    dnext_h, dnext_c = rng.standard_normal((n, h)), rng.standard_normal((n, h))
    cell = nn.LSTMCell(d, h, generator=0, dtype=F64)
    cell.load_state_dict(
        {
            "weight_ih": to_torch_gates(wx),
            "weight_hh": to_torch_gates(wh),
            "bias_ih": to_torch_gates(b),
            "bias_hh": np.zeros(4 * h),
        }
    )
    xt, ht, ct = (rg.tensor(a, requires_grad=True) for a in (x, prev_h, prev_c))
    next_h, next_c = cell(xt, (ht, ct))
    expected_h, expected_c = lstm_step(x, prev_h, prev_c, wx, wh, b)
    np.testing.assert_allclose(next_h.data, expected_h, rtol=1e-12)
    np.testing.assert_allclose(next_c.data, expected_c, rtol=1e-12)
    (next_h * rg.tensor(dnext_h) + next_c * rg.tensor(dnext_c)).sum().backward()

    def both(*args):
        return np.concatenate(lstm_step(*args), axis=1)

    dout = np.concatenate([dnext_h, dnext_c], axis=1)
    arrays = [x, prev_h, prev_c, wx, wh, b]
    numeric = [
        numeric_gradient(
            lambda v, k=k: both(*arrays[:k], v, *arrays[k + 1 :]), arrays[k].copy(), dout
        )
        for k in range(6)
    ]
    for ours, expected in zip((xt.grad, ht.grad, ct.grad), numeric[:3]):
        np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        to_torch_gates(numeric[3]), cell.weight_ih.grad, rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(
        to_torch_gates(numeric[4]), cell.weight_hh.grad, rtol=1e-6, atol=1e-8
    )
    np.testing.assert_allclose(to_torch_gates(numeric[5]), cell.bias_ih.grad, rtol=1e-6, atol=1e-8)
