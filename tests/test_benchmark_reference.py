"""The benchmarks' hand-written NumPy BPTT computes what retrograd's RNN language model computes.

If the reference were wrong, every speed ratio against it would be meaningless.
"""

import numpy as np
import pytest

from benchmarks.reference_numpy import clip_grads_, init_params, loss_and_grads, train_step
from retrograd.autograd import Tensor
from retrograd.models.language_model import RNNLanguageModel
from retrograd.nn import clip_grad_norm_

VOCAB, HIDDEN, BATCH, STEPS = 7, 5, 3, 6


def _model_and_reference(embedding_dim: int | None, dtype: type) -> tuple:
    """A small retrograd model and the reference parameters computing the same function."""
    model = RNNLanguageModel(
        VOCAB, HIDDEN, cell="rnn", embedding_dim=embedding_dim, generator=1, dtype=dtype
    )
    p = dict(model.named_parameters())
    params = {
        "w_xh": p["rnn.weight_ih_l0"].data.T.copy(),
        "w_hh": p["rnn.weight_hh_l0"].data.T.copy(),
        "b_h": p["rnn.bias_ih_l0"].data + p["rnn.bias_hh_l0"].data,
        "w_hq": p["head.weight"].data.T.copy(),
        "b_q": p["head.bias"].data.copy(),
    }
    if embedding_dim is not None:
        params["embedding"] = p["embedding.weight"].data.copy()
    return model, params


def _batch(dtype: type) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    tokens = rng.integers(0, VOCAB, size=(BATCH, STEPS))
    targets = rng.integers(0, VOCAB, size=(BATCH, STEPS))
    h0 = rng.standard_normal((BATCH, HIDDEN)).astype(dtype) * 0.5
    return tokens, targets, h0


@pytest.mark.parametrize("embedding_dim", [None, 4])
def test_reference_gradients_match_retrograd(embedding_dim: int | None) -> None:
    model, params = _model_and_reference(embedding_dim, np.float64)
    tokens, targets, h0 = _batch(np.float64)
    logits, state = model(tokens, Tensor(h0[None]))
    loss = model.loss(logits, targets)
    loss.backward()
    ref_loss, grads, h_last = loss_and_grads(params, tokens, targets, h0)

    g = {name: t.grad for name, t in model.named_parameters()}
    np.testing.assert_allclose(ref_loss, loss.item(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h_last, state.data[0], rtol=1e-5, atol=1e-5)
    expected = {
        "w_xh": g["rnn.weight_ih_l0"].T,
        "w_hh": g["rnn.weight_hh_l0"].T,
        "w_hq": g["head.weight"].T,
        "b_q": g["head.bias"],
    }
    if embedding_dim is not None:
        expected["embedding"] = g["embedding.weight"]
    for name, want in expected.items():
        np.testing.assert_allclose(grads[name], want, rtol=1e-5, atol=1e-5, err_msg=name)
    # One bias b_h = b_ih + b_hh: its gradient equals that of each of the two.
    np.testing.assert_allclose(grads["b_h"], g["rnn.bias_ih_l0"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grads["b_h"], g["rnn.bias_hh_l0"], rtol=1e-5, atol=1e-5)


def test_reference_clipping_matches_retrograd() -> None:
    rng = np.random.default_rng(3)
    grads = {name: rng.standard_normal(shape) for name, shape in [("a", (4, 3)), ("b", (5,))]}
    tensors = [Tensor(np.zeros_like(g), requires_grad=True) for g in grads.values()]
    for t, g in zip(tensors, grads.values()):
        t.grad = g.copy()
    want_norm = clip_grad_norm_(tensors, 1.0)
    norm = clip_grads_(grads, 1.0)
    assert norm == pytest.approx(want_norm, rel=1e-12)
    assert norm > 1.0  # the case where clipping scales
    for t, g in zip(tensors, grads.values()):
        np.testing.assert_allclose(g, t.grad, rtol=1e-12)


def test_reference_train_step_stays_float32_and_lowers_the_loss() -> None:
    params = init_params(VOCAB, HIDDEN, generator=4, dtype=np.float32)
    tokens, targets, h0 = _batch(np.float32)
    first, _ = train_step(params, tokens, targets, h0, lr=1.0)
    for _ in range(20):
        last, h_last = train_step(params, tokens, targets, h0, lr=1.0)
    assert all(p.dtype == np.float32 for p in params.values())
    assert h_last.dtype == np.float32
    assert last < first
