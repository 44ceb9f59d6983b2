"""The Dive into Deep Learning chapter "RNN from scratch", function by function.

Each test writes the chapter's function out in NumPy (one-hot encoding,
predict_ch8, grad_clipping, train_epoch_ch8's state handling and perplexity)
and checks that the retrograd piece a reader of the chapter reaches for does
the same thing.
"""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.models import RNNLanguageModel, generate
from retrograd.models.config import TrainConfig
from retrograd.models.training import Trainer

TEXT = "the time traveller for so it will be convenient to speak of him was expounding " * 12


def test_one_hot_of_transposed_batch_is_time_major_like_the_chapter():
    x = np.arange(10).reshape(2, 5)
    encoded = rg.one_hot(x.T, 28)
    assert encoded.shape == (5, 2, 28)
    np.testing.assert_array_equal(encoded.data.argmax(-1), x.T)
    np.testing.assert_array_equal(rg.one_hot([0, 2], 28).data, np.eye(28)[[0, 2]])


def predict_ch8(model, prefix, num_preds):
    """The chapter's predict_ch8 on ids: warm up one token at a time, then feed back the argmax."""
    state = model.begin_state(1)
    outputs = [prefix[0]]
    for token in prefix[1:]:
        _, state = model(np.array([[outputs[-1]]]), state)
        outputs.append(token)
    for _ in range(num_preds):
        logits, state = model(np.array([[outputs[-1]]]), state)
        outputs.append(int(logits.data[0, -1].argmax()))
    return outputs[len(prefix) :]


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_generate_is_predict_ch8(cell):
    model = RNNLanguageModel(11, 16, cell, embedding_dim=None, generator=4, dtype=np.float64)
    prefix = [3, 1, 4, 1, 5, 9]
    with rg.no_grad():
        expected = predict_ch8(model, prefix, 20)
    assert generate(model, prefix, 20) == expected


def test_model_loss_is_the_chapter_loss_on_time_major_rows():
    """The chapter flattens outputs time-major (torch.cat over steps) against Y.T.reshape(-1)."""
    rng = np.random.default_rng(0)
    model = RNNLanguageModel(9, 8, "rnn", embedding_dim=None, generator=1, dtype=np.float64)
    x, y = rng.integers(0, 9, (3, 7)), rng.integers(0, 9, (3, 7))
    logits, _ = model(x)
    y_hat = logits.permute(1, 0, 2).reshape(-1, 9)
    chapter = nn.functional.cross_entropy(y_hat, y.T.reshape(-1))
    np.testing.assert_allclose(model.loss(logits, y).item(), chapter.item(), rtol=1e-12)


def grad_clipping(grads, theta):
    """The chapter's grad_clipping on NumPy gradients: scale all by theta / norm above theta."""
    norm = math.sqrt(sum(float((g**2).sum()) for g in grads))
    return [g * theta / norm for g in grads] if norm > theta else grads


@pytest.mark.parametrize("theta", [0.1, 1.0, 100.0])
def test_clip_grad_norm_is_grad_clipping(theta):
    rng = np.random.default_rng(5)
    params = [rg.tensor(rng.standard_normal(s), requires_grad=True) for s in [(4, 3), (3,), (2, 2)]]
    for p in params:
        p.grad = rng.standard_normal(p.shape)
    expected = grad_clipping([p.grad.copy() for p in params], theta)
    nn.clip_grad_norm_(params, theta)
    for p, g in zip(params, expected):
        np.testing.assert_allclose(p.grad, g, rtol=1e-5)


class Recorder:
    """Wraps a model's begin_state, forward and loss to see what train_epoch_ch8 would see."""

    def __init__(self, model):
        self.fresh_states, self.given_states, self.losses = 0, [], []
        begin_state, forward, loss = model.begin_state, model.forward, model.loss

        def counted_begin_state(batch_size):
            self.fresh_states += 1
            return begin_state(batch_size)

        def seen_forward(tokens, state=None):
            self.given_states.append(state)
            return forward(tokens, state)

        def seen_loss(logits, targets, *args):
            value = loss(logits, targets, *args)
            self.losses.append((value.item(), np.asarray(targets).size))
            return value

        model.begin_state, model.forward, model.loss = counted_begin_state, seen_forward, seen_loss


@pytest.mark.parametrize("scheme", ["sequential", "random"])
def test_training_epoch_handles_the_state_and_perplexity_as_train_epoch_ch8(scheme, tmp_path):
    """Random windows start every batch from a fresh state; sequential ones carry it, detached.

    The epoch's perplexity is exp(sum of loss x tokens / tokens), the chapter's metric.
    """
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT)
    config = TrainConfig(
        corpus=str(corpus), cell="rnn", hidden_size=8, embedding_dim=None, batch_size=2,
        num_steps=5, epochs=1, optimizer="sgd", lr=1.0, schedule="none", scheme=scheme,
        valid_fraction=0.0, sample_every=0, out_dir=str(tmp_path / "run"), progress=False,
    )  # fmt: skip
    trainer = Trainer(config, log=lambda _: None)
    seen = Recorder(trainer.model)
    trainer.run()
    batches = len(seen.losses)
    assert batches == len(trainer.batches) > 1
    assert seen.fresh_states == (batches if scheme == "random" else 1)
    if scheme == "sequential":
        assert all(s.grad_fn is None and not s.requires_grad for s in seen.given_states[1:])
    total = sum(loss * count for loss, count in seen.losses)
    tokens = sum(count for _, count in seen.losses)
    record = trainer.result.history[-1]
    np.testing.assert_allclose(record["train_perplexity"], math.exp(total / tokens), rtol=1e-6)
    assert record["tokens_per_second"] > 0
