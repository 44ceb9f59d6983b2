"""The recurrent language model: gradients, BPTT by hand, learning, generation."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import optim
from retrograd.autograd import gradcheck, topological_order
from retrograd.models.batching import LanguageModelBatches, sentence_batches
from retrograd.models.generation import generate, sample_next
from retrograd.models.language_model import RNNLanguageModel, detach_state, perplexity
from retrograd.nn import functional_call


def tiny_model(cell="rnn", embedding_dim=None, layers=1, dtype=np.float64, vocab=5, hidden=4):
    return RNNLanguageModel(vocab, hidden, cell, layers, embedding_dim, generator=0, dtype=dtype)


@pytest.mark.parametrize(
    ("cell", "embedding_dim", "layers"),
    [("rnn", None, 1), ("lstm", 3, 1), ("gru", 3, 2), ("rnn", 3, 2)],
)
def test_language_model_whole_model_gradcheck(cell, embedding_dim, layers):
    model = tiny_model(cell, embedding_dim, layers)
    x = np.array([[0, 3, 1], [4, 2, 2]])
    y = np.array([[3, 1, 0], [2, 2, 4]])
    names = [name for name, _ in model.named_parameters()]

    def loss_of(*weights):
        logits, _ = functional_call(model, dict(zip(names, weights)), x)
        return model.loss(logits, y)

    copies = [rg.tensor(p.data, requires_grad=True) for p in model.parameters()]
    assert gradcheck(loss_of, copies)


def _hand_bptt(x, y, w_ih, w_hh, b_ih, b_hh, w_q, b_q):
    """Loss and gradients of a one-hot tanh RNN language model, derived by hand (cs231n style)."""
    batch, steps = x.shape
    vocab, hidden = w_q.shape
    onehot = np.eye(vocab)[x.T]  # (T, B, V)
    hs = [np.zeros((batch, hidden))]
    for t in range(steps):
        hs.append(np.tanh(onehot[t] @ w_ih.T + b_ih + hs[-1] @ w_hh.T + b_hh))
    states = np.stack(hs[1:])  # (T, B, H)
    logits = states @ w_q.T + b_q
    shifted = logits - logits.max(-1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(-1, keepdims=True)
    targets = y.T
    count = batch * steps
    loss = -np.log(np.take_along_axis(probs, targets[..., None], -1)).sum() / count
    dlogits = probs.copy()
    np.put_along_axis(
        dlogits, targets[..., None], np.take_along_axis(probs, targets[..., None], -1) - 1, -1
    )
    dlogits /= count
    grads = {
        "head.weight": np.einsum("tbv,tbh->vh", dlogits, states),
        "head.bias": dlogits.sum((0, 1)),
        "rnn.weight_ih_l0": np.zeros_like(w_ih),
        "rnn.weight_hh_l0": np.zeros_like(w_hh),
        "rnn.bias_ih_l0": np.zeros_like(b_ih),
        "rnn.bias_hh_l0": np.zeros_like(b_hh),
    }
    dh_next = np.zeros((batch, hidden))
    for t in reversed(range(steps)):
        dh = dlogits[t] @ w_q + dh_next
        da = dh * (1 - hs[t + 1] ** 2)
        grads["rnn.weight_ih_l0"] += da.T @ onehot[t]
        grads["rnn.weight_hh_l0"] += da.T @ hs[t]
        grads["rnn.bias_ih_l0"] += da.sum(0)
        grads["rnn.bias_hh_l0"] += da.sum(0)
        dh_next = da @ w_hh
    return loss, grads


def test_language_model_gradients_equal_hand_written_bptt():
    model = RNNLanguageModel(7, 6, "rnn", embedding_dim=None, generator=3, dtype=np.float64)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 7, (3, 9)), rng.integers(0, 7, (3, 9))
    logits, _ = model(x)
    loss = model.loss(logits, y)
    loss.backward()
    p = dict(model.named_parameters())
    expected_loss, expected = _hand_bptt(
        x,
        y,
        *(
            p[k].data
            for k in [
                "rnn.weight_ih_l0",
                "rnn.weight_hh_l0",
                "rnn.bias_ih_l0",
                "rnn.bias_hh_l0",
                "head.weight",
                "head.bias",
            ]
        ),
    )
    assert abs(loss.item() - expected_loss) < 1e-12
    for name, grad in expected.items():
        np.testing.assert_allclose(p[name].grad, grad, rtol=0, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_language_model_initial_loss_is_close_to_log_vocab(cell):
    model = RNNLanguageModel(50, 32, cell, embedding_dim=16, generator=1)
    rng = np.random.default_rng(1)
    x, y = rng.integers(0, 50, (8, 10)), rng.integers(0, 50, (8, 10))
    logits, _ = model(x)
    assert logits.shape == (8, 10, 50) and logits.dtype == np.float32
    assert abs(model.loss(logits, y).item() - math.log(50)) < 0.1


@pytest.mark.parametrize("contiguous", [False, True], ids=["model's logits", "contiguous logits"])
def test_language_model_loss_pairs_each_position_with_its_target(contiguous):
    model = tiny_model()
    rng = np.random.default_rng(2)
    x, y = rng.integers(0, 5, (3, 4)), rng.integers(0, 5, (3, 4))
    y[1, 2] = -100  # ignored
    logits, _ = model(x)
    assert logits.data.strides[1] > logits.data.strides[0]  # time-major in memory
    if contiguous:
        logits = rg.tensor(np.ascontiguousarray(logits.data), requires_grad=True)
    loss = model.loss(logits, y)
    loss.backward()
    z = logits.data
    log_probs = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
    keep = y != -100
    picked = np.take_along_axis(log_probs, np.where(keep, y, 0)[..., None], axis=2)[..., 0]
    assert abs(loss.item() + picked[keep].mean()) < 1e-12
    if contiguous:
        expected = np.exp(log_probs) * keep[..., None]
        expected[keep, y[keep]] -= 1
        np.testing.assert_allclose(logits.grad, expected / keep.sum(), atol=1e-12)


def test_language_model_overfits_a_tiny_corpus():
    corpus = np.array([0, 1, 2] * 40)
    x = np.stack([corpus[i : i + 12] for i in range(0, 96, 12)])
    y = np.stack([corpus[i + 1 : i + 13] for i in range(0, 96, 12)])
    model = RNNLanguageModel(3, 16, "gru", embedding_dim=4, generator=0)
    opt = optim.Adam(model.parameters(), lr=0.05)
    for _ in range(60):
        logits, _ = model(x)
        loss = model.loss(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.02


def test_truncated_bptt_keeps_graph_size_constant_across_batches():
    model = tiny_model("lstm", embedding_dim=3, dtype=np.float32)
    rng = np.random.default_rng(0)
    state, sizes = model.begin_state(2), []
    for _ in range(4):
        state = detach_state(state)
        logits, state = model(rng.integers(0, 5, (2, 6)), state)
        loss = model.loss(logits, rng.integers(0, 5, (2, 6)))
        sizes.append(len(topological_order([loss])))
        loss.backward()
    assert len(set(sizes)) == 1


def test_language_model_gradients_reach_the_initial_state():
    model = tiny_model("lstm", embedding_dim=3)
    h0, c0 = (rg.tensor(s.data, requires_grad=True) for s in model.begin_state(2))
    logits, _ = model(np.array([[1, 2], [3, 4]]), (h0, c0))
    logits.sum().backward()
    assert h0.grad is not None and np.abs(h0.grad).sum() > 0
    assert c0.grad is not None and np.abs(c0.grad).sum() > 0


def test_language_model_rejects_bad_tokens():
    model = tiny_model()
    with pytest.raises(IndexError, match="token id 9"):
        model(np.array([[1, 9]]))
    with pytest.raises(ValueError, match="shape \\(batch, steps\\)"):
        model(np.array([1, 2]))


def test_perplexity_of_padded_batches_counts_only_real_targets():
    model = tiny_model(embedding_dim=3, vocab=10)
    sentences = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3], [1, 2], [3, 4, 5], [1, 2]]
    batches = list(sentence_batches(sentences, 2, pad_index=0))
    total, tokens = 0.0, 0
    for x, y in batches:
        logits, _ = model(x)
        flat = y.reshape(-1)
        log_probs = logits.log_softmax().data.reshape(len(flat), -1)
        kept = flat != -100
        total -= log_probs[kept, flat[kept]].sum()
        tokens += int(kept.sum())
    exact = math.exp(total / tokens)
    assert perplexity(model, batches, carry_state=False) == pytest.approx(exact, rel=1e-12)


def test_perplexity_carries_the_state_only_across_consecutive_batches():
    model = tiny_model(embedding_dim=3, vocab=10)
    corpus = np.random.default_rng(0).integers(0, 10, 300)

    def measured(scheme, **carry):
        batches = LanguageModelBatches(corpus, 4, 6, scheme, np.random.default_rng(1))
        return perplexity(model, batches, **carry)

    # Random windows are independent: each starts from a fresh state, as in training.
    assert measured("random") == measured("random", carry_state=False)
    assert measured("sequential") == measured("sequential", carry_state=True)
    assert measured("sequential") != measured("sequential", carry_state=False)
    sentences = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [1, 2, 3]]
    with pytest.raises(ValueError, match="carry_state=False"):
        perplexity(model, sentence_batches(sentences, 3, pad_index=0))


def test_generate_emits_the_requested_length_greedily_and_reproducibly():
    model = tiny_model(dtype=np.float32)
    greedy = generate(model, [1, 2], 20)
    assert len(greedy) == 20 and all(0 <= t < 5 for t in greedy)
    assert generate(model, [1, 2], 20) == greedy
    assert generate(model, [1, 2], 20, temperature=1.0, top_k=1, generator=5) == greedy
    sampled = generate(model, [1, 2], 30, temperature=1.5, generator=7)
    assert sampled == generate(model, [1, 2], 30, temperature=1.5, generator=7)
    assert sampled != generate(model, [1, 2], 30, temperature=1.5, generator=8)


def test_generate_keeps_no_graph():
    model = tiny_model(dtype=np.float32)
    generate(model, [0], 5, temperature=1.0, generator=0)
    assert all(p.grad is None for p in model.parameters())
    logits, _ = model(np.array([[1]]))
    assert logits.requires_grad  # the mode is restored after generation


def test_sample_next_top_k_and_temperature_rules():
    logits = np.array([0.0, 3.0, 1.0, 2.0])
    assert sample_next(logits) == 1
    rng = np.random.default_rng(0)
    picks = {sample_next(logits, 5.0, top_k=2, rng=rng) for _ in range(200)}
    assert picks == {1, 3}
    with pytest.raises(ValueError, match="temperature"):
        sample_next(logits, -1.0)
    with pytest.raises(ValueError, match="rng"):
        sample_next(logits, 1.0)


def test_sample_next_at_a_tiny_temperature_is_greedy_without_warnings():
    logits = np.array([0.0, 3.0, 1.0, 2.0], dtype=np.float32)
    rng = np.random.default_rng(0)
    assert {sample_next(logits, 1e-320, rng=rng) for _ in range(20)} == {1}
    assert sample_next(logits, 1e-320, top_k=2, rng=rng, banned=[1]) == 3
