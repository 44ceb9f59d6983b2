"""The two NumPy "RNN from scratch" seeds: the word-level tutorial and the sequence classifier.

The word-level tutorial (rnn-from-scratch) trains with `bptt_truncate`: the
loss at step t sends its gradient back through steps t, t-1, ..., t-k only.
With automatic gradients that is the same model with the state detached k+1
steps before each prediction; the test writes the tutorial's loop out in NumPy
and requires the same gradients.

The NumPy classifier seed's hand-written BPTT is, by its own account,
simplified and wrong; `SequenceClassifier` must agree with the correct one.
"""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.models import SequenceClassifier
from retrograd.nn import functional as F


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def tutorial_bptt(x, y, u, w, v, truncate):
    """The tutorial's gradients (dU, dW, dV) of the summed loss, s_t = tanh(U x_t + W s_{t-1})."""
    states = [np.zeros(w.shape[0])]
    for token in x:
        states.append(np.tanh(u[:, token] + w @ states[-1]))
    du, dw, dv = np.zeros_like(u), np.zeros_like(w), np.zeros_like(v)
    for t, target in enumerate(y):
        s_t = states[t + 1]
        dout = softmax(v @ s_t)
        dout[target] -= 1
        dv += np.outer(dout, s_t)
        delta = (v.T @ dout) * (1 - s_t**2)
        for i in range(t, max(-1, t - truncate - 1), -1):  # steps t down to t - truncate
            dw += np.outer(delta, states[i])
            du[:, x[i]] += delta
            delta = (w.T @ delta) * (1 - states[i] ** 2)
    return du, dw, dv


def truncated_loss(x, y, u, w, v, truncate):
    """The summed loss whose gradient stops `truncate` steps behind each prediction."""
    with rg.no_grad():
        h, states = rg.zeros(w.shape[0], dtype=np.float64), []
        for token in x:
            h = (u[:, token] + w @ h).tanh()
            states.append(h)
    total = 0.0
    for t, target in enumerate(y):
        start = max(0, t - truncate)
        h = states[start - 1].detach() if start else rg.zeros(w.shape[0], dtype=np.float64)
        for token in x[start : t + 1]:
            h = (u[:, token] + w @ h).tanh()
        total = total + F.cross_entropy((v @ h).reshape(1, -1), [target], reduction="sum")
    return total


@pytest.mark.parametrize("truncate", [0, 1, 4, 100])
def test_detached_state_gives_the_tutorials_truncated_bptt(truncate):
    rng = np.random.default_rng(truncate)
    vocab, hidden = 8, 5
    x = [0, 3, 5, 2, 7, 7, 1, 4, 6]
    y = [*x[1:], 1]
    arrays = [
        rng.uniform(-0.5, 0.5, s) for s in [(hidden, vocab), (hidden, hidden), (vocab, hidden)]
    ]
    u, w, v = (rg.tensor(a, requires_grad=True) for a in arrays)
    truncated_loss(x, y, u, w, v, truncate).backward()
    for ours, expected in zip((u.grad, w.grad, v.grad), tutorial_bptt(x, y, *arrays, truncate)):
        np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-13)


def classifier_bptt(x, labels, w_ih, w_hh, b, w_q, b_q):
    """Correct many-to-one BPTT: the last state -> one logit -> mean sigmoid cross-entropy."""
    batch, steps, _ = x.shape
    hs = [np.zeros((batch, w_hh.shape[0]))]
    for t in range(steps):
        hs.append(np.tanh(x[:, t] @ w_ih.T + hs[-1] @ w_hh.T + b))
    logit = hs[-1] @ w_q.T + b_q
    dlogit = (1 / (1 + np.exp(-logit)) - labels[:, None]) / batch
    grads = {"head.weight": dlogit.T @ hs[-1], "head.bias": dlogit.sum(0)}
    dw_ih, dw_hh, db = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros_like(b)
    dh = dlogit @ w_q
    for t in reversed(range(steps)):
        da = dh * (1 - hs[t + 1] ** 2)
        dw_ih += da.T @ x[:, t]
        dw_hh += da.T @ hs[t]
        db += da.sum(0)
        dh = da @ w_hh
    grads.update({"rnn.weight_ih_l0": dw_ih, "rnn.weight_hh_l0": dw_hh})
    grads.update({"rnn.bias_ih_l0": db, "rnn.bias_hh_l0": db})
    return grads


def test_sequence_classifier_gradients_are_correct_bptt():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((6, 10, 1))
    labels = (x.sum(axis=(1, 2)) > 0).astype(np.float64)
    model = SequenceClassifier(1, 8, generator=1, dtype=np.float64)
    nn.BCEWithLogitsLoss()(model(rg.tensor(x)), labels).backward()
    p = {name: t.data for name, t in model.named_parameters()}
    expected = classifier_bptt(
        x, labels, p["rnn.weight_ih_l0"], p["rnn.weight_hh_l0"],
        p["rnn.bias_ih_l0"] + p["rnn.bias_hh_l0"], p["head.weight"], p["head.bias"],
    )  # fmt: skip
    for name, param in model.named_parameters():
        np.testing.assert_allclose(param.grad, expected[name], rtol=1e-10, atol=1e-14, err_msg=name)
