"""Nucleus (top_p) sampling, its checks, and the warnings generation gives: top_k or top_p
at temperature 0, and an unknown prompt token said once per command."""

import math
import warnings

import numpy as np
import pytest

from retrograd.cli import main
from retrograd.models.checkpoints import model_from_checkpoint
from retrograd.models.config import TrainConfig
from retrograd.models.generation import (
    check_temperature,
    generate,
    next_token_probabilities,
    sample_next,
    sample_text,
)
from retrograd.models.language_model import RNNLanguageModel
from retrograd.models.training import Trainer

TEXT = "the time traveller smiled round at us, and walked slowly out of the room. " * 12
SMALL = ["--hidden-size", "8", "--embedding-dim", "4", "--batch-size", "4", "--num-steps", "8"]


def _kept(probs, top_p, temperature=1.0, top_k=None) -> set[int]:
    """The token ids next_token_probabilities keeps for the distribution `probs`."""
    out = next_token_probabilities(np.log(probs), temperature, top_k, top_p)
    return set(np.flatnonzero(out).tolist())


def _nucleus(probs, top_p, temperature=1.0, top_k=None) -> np.ndarray:
    """The definition, one token at a time: temper, keep the top_k, renormalise, then take
    the most likely tokens (lower id first on ties) until their mass reaches top_p."""
    tempered = np.asarray(probs, dtype=np.float64) ** (1 / temperature)
    ranked = sorted(range(len(tempered)), key=lambda i: (-tempered[i], i))[:top_k]
    kept, mass = [], 0.0
    total = sum(tempered[i] for i in ranked)
    for i in ranked:
        kept.append(i)
        mass += tempered[i] / total
        if mass >= top_p:
            break
    out = np.zeros(len(tempered))
    out[kept] = tempered[kept]
    return out / out.sum()


@pytest.mark.parametrize(
    ("probs", "top_p", "kept"),
    [
        ([0.5, 0.25, 0.125, 0.125], 0.75, {0, 1}),  # reached exactly: the set stops there
        ([0.5, 0.25, 0.125, 0.125], 0.7, {0, 1}),
        ([0.5, 0.25, 0.125, 0.125], 0.76, {0, 1, 2}),
        ([0.5, 0.25, 0.125, 0.125], 0.5, {0}),
        ([0.5, 0.25, 0.125, 0.125], 1e-9, {0}),  # the most likely token is always kept
        ([0.5, 0.25, 0.125, 0.125], 0.9, {0, 1, 2, 3}),
        ([0.5, 0.25, 0.125, 0.125], 1.0, {0, 1, 2, 3}),
        ([0.125, 0.5, 0.125, 0.25], 0.75, {1, 3}),  # ranked by probability, not by id
        ([0.25, 0.25, 0.25, 0.25], 0.5, {0, 1}),  # ties: the lower ids, as top_k keeps them
        ([0.25, 0.25, 0.25, 0.25], 0.3, {0, 1}),
        ([0.1, 0.3, 0.3, 0.3], 0.5, {1, 2}),
        ([0.1, 0.3, 0.3, 0.3], 0.95, {0, 1, 2, 3}),
        # Decimal masses whose float sums fall a hair short (0.7 + 0.2 < 0.9) still reach p.
        ([0.7, 0.2, 0.1], 0.9, {0, 1}),
        ([0.6, 0.3, 0.1], 0.9, {0, 1}),
        ([0.4, 0.3, 0.2, 0.1], 0.9, {0, 1, 2}),
    ],
)
def test_top_p_keeps_the_smallest_set_of_likeliest_tokens_reaching_p(probs, top_p, kept):
    assert _kept(probs, top_p) == kept


def test_top_p_renormalises_the_tokens_it_keeps():
    out = next_token_probabilities(np.log([0.125, 0.5, 0.125, 0.25]), 1.0, None, 0.75)
    np.testing.assert_allclose(out, [0, 2 / 3, 0, 1 / 3], rtol=1e-12)


def test_top_p_applies_after_top_k_and_temperature():
    probs = [0.4, 0.3, 0.2, 0.1]
    # top_k=2 leaves 4/7 and 3/7: 4/7 alone reaches 0.55 (top_p first would keep two).
    assert _kept(probs, 0.55, top_k=2) == {0}
    assert _kept(probs, 0.6, top_k=2) == {0, 1}
    assert _kept(probs, 0.99, top_k=3) == {0, 1, 2}
    # Temperature 0.5 squares the probabilities: [0.5, 0.25, 0.25] becomes [2/3, 1/6, 1/6].
    assert _kept([0.5, 0.25, 0.25], 0.6, temperature=1.0) == {0, 1}
    assert _kept([0.5, 0.25, 0.25], 0.6, temperature=0.5) == {0}


def test_top_p_matches_the_hugging_face_rule_on_random_distributions():
    # Hugging Face's TopPLogitsWarper: sort ascending, drop the tokens whose cumulative
    # probability is <= 1 - top_p, always keep the most likely one.
    rng = np.random.default_rng(0)
    for _ in range(200):
        logits = rng.normal(0, 2, size=rng.integers(2, 30))
        top_p = rng.uniform(0.01, 1)
        ascending = np.argsort(logits)
        probs = np.exp(logits - logits.max())
        cumulative = np.cumsum(probs[ascending] / probs.sum())
        dropped = cumulative <= 1 - top_p
        dropped[-1] = False
        expected = set(ascending[~dropped].tolist())
        assert set(np.flatnonzero(next_token_probabilities(logits, 1.0, None, top_p))) == expected


@pytest.mark.parametrize(
    ("temperature", "top_k", "top_p"), [(1.0, None, 0.75), (0.8, 4, 0.8), (1.5, 3, 0.9)]
)
def test_sampled_frequencies_match_the_renormalised_kept_distribution(temperature, top_k, top_p):
    probs = [0.05, 0.3, 0.1, 0.2, 0.15, 0.2]
    expected = _nucleus(probs, top_p, temperature, top_k)
    draws = 15_000
    rng = np.random.default_rng(1234)
    picks = [sample_next(np.log(probs), temperature, top_k, rng, top_p=top_p) for _ in range(draws)]
    counts = np.bincount(picks, minlength=len(probs))
    assert set(np.flatnonzero(counts)) == set(np.flatnonzero(expected))
    # Six standard errors per token: a seeded run this far off would be a 1-in-10^8 event.
    tolerance = 6 * np.sqrt(expected * (1 - expected) / draws)
    assert np.all(np.abs(counts / draws - expected) <= tolerance), (counts / draws, expected)


@pytest.mark.parametrize("top_p", [0, -0.5, 1.5, math.nan, math.inf])
def test_top_p_out_of_range_is_a_value_error_naming_it(top_p):
    logits = np.zeros(3)
    with pytest.raises(ValueError, match=r"top_p must be a number in \(0, 1\]"):
        sample_next(logits, 1.0, rng=np.random.default_rng(0), top_p=top_p)
    with pytest.raises(ValueError, match=r"top_p must be a number in \(0, 1\]"):
        next_token_probabilities(logits, 1.0, top_p=top_p)
    with pytest.raises(ValueError, match=r"generate\(\): top_p must be"):
        generate(RNNLanguageModel(5, 4, generator=0), [1], 3, 1.0, generator=0, top_p=top_p)


@pytest.mark.parametrize("top_p", ["0.5", True, None, [0.5]])
def test_top_p_of_another_type_is_a_type_error_naming_it(top_p):
    with pytest.raises(TypeError, match="top_p must be a number in"):
        sample_next(np.zeros(3), 1.0, rng=np.random.default_rng(0), top_p=top_p)
    with pytest.raises(TypeError, match=r"generate\(\): top_p must be a number in"):
        generate(RNNLanguageModel(5, 4, generator=0), [1], 3, 1.0, generator=0, top_p=top_p)


def test_next_token_probabilities_refuses_temperature_zero():
    with pytest.raises(ValueError, match="temperature must be > 0"):
        next_token_probabilities(np.zeros(3), 0.0)


def test_generate_top_p_one_is_off_and_a_tiny_top_p_is_greedy():
    model = RNNLanguageModel(7, 6, generator=0)
    sampled = generate(model, [1, 2], 15, temperature=1.0, generator=3)
    assert generate(model, [1, 2], 15, temperature=1.0, generator=3, top_p=1.0) == sampled
    greedy = generate(model, [1, 2], 15)
    assert generate(model, [1, 2], 15, temperature=1.0, generator=3, top_p=1e-6) == greedy


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"top_k": 2}, "top_k=2 has"),
        ({"top_p": 0.9}, "top_p=0.9 has"),
        ({"top_k": 3, "top_p": 0.5}, "top_k=3 and top_p=0.5 have"),
    ],
)
def test_generate_warns_once_that_greedy_decoding_ignores_top_k_and_top_p(settings, named):
    model = RNNLanguageModel(5, 4, generator=0)
    with pytest.warns(UserWarning) as record:
        out = generate(model, [1], 6, temperature=0.0, **settings)
    assert out == generate(model, [1], 6)
    assert [str(w.message) for w in record] == [
        f"generate(): {named} no effect at temperature 0, which always picks the most likely "
        "token; give temperature > 0 to sample"
    ]
    assert record[0].filename == __file__  # points at the call, not inside the package


def test_generate_does_not_warn_when_greedy_without_sampling_settings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        generate(RNNLanguageModel(5, 4, generator=0), [1], 3, top_k=None, top_p=1.0)


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT)
    return path


@pytest.fixture
def checkpoint(corpus, tmp_path) -> str:
    config = TrainConfig(
        corpus=str(corpus), hidden_size=8, embedding_dim=4, batch_size=4, num_steps=8,
        epochs=1, sample_every=0, out_dir=str(tmp_path / "run"), progress=False,
    )  # fmt: skip
    trainer = Trainer(config, log=lambda line: None)
    return str(trainer.run().checkpoint)


def test_cli_generate_top_p_samples_from_the_nucleus(checkpoint, capsys):
    args = ["generate", "--checkpoint", checkpoint, "--prefix", "the ", "--length", "30"]
    sample = [*args, "--temperature", "1", "--seed", "4"]
    assert main([*sample, "--top-p", "1e-9"]) == 0
    assert main(args) == 0  # greedy
    nucleus, greedy = capsys.readouterr().out.splitlines()
    assert nucleus == greedy
    assert main([*sample, "--top-p", "0.9"]) == 0
    model, vocab, config = model_from_checkpoint(checkpoint)
    expected = sample_text(model, vocab, config, "the ", 30, 1.0, None, 4, top_p=0.9)
    assert capsys.readouterr().out == expected + "\n"


@pytest.mark.parametrize(("value", "message"), [("0", "got 0.0"), ("1.5", "got 1.5")])
def test_cli_generate_refuses_top_p_out_of_range_naming_the_flag(
    checkpoint, capsys, value, message
):
    assert main(["generate", "--checkpoint", checkpoint, "--top-p", value]) == 1
    err = capsys.readouterr().err
    assert err == f"retrograd generate: error: --top-p must be a number in (0, 1], {message}\n"


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--top-k", "3"], "--top-k=3 has"),
        (["--top-p", "0.5"], "--top-p=0.5 has"),
        (["--top-k", "3", "--top-p", "0.5"], "--top-k=3 and --top-p=0.5 have"),
    ],
)
def test_cli_generate_warns_once_naming_the_flags_greedy_decoding_ignores(
    checkpoint, capsys, flags, named
):
    args = ["generate", "--checkpoint", checkpoint, "--prefix", "the ", "--length", "20"]
    assert main(args) == 0
    greedy = capsys.readouterr().out
    assert main([*args, *flags]) == 0
    captured = capsys.readouterr()
    assert captured.out == greedy
    assert captured.err == (
        f"retrograd generate: warning: {named} no effect at --temperature 0, which always "
        "picks the most likely token; give --temperature > 0 to sample\n"
    )


def test_cli_train_says_once_that_prefix_tokens_map_to_unk(corpus, tmp_path, capsys, monkeypatch):
    # Plotting with matplotlib resets what Python remembers of the warnings it showed (it
    # enters warnings.catch_warnings()); each sample below does the same.
    sample = Trainer.sample

    def sample_after_a_filter_change(self, prefix, length):
        with warnings.catch_warnings():
            pass
        return sample(self, prefix, length)

    monkeypatch.setattr(Trainer, "sample", sample_after_a_filter_change)
    args = ["train", "--corpus", str(corpus), *SMALL, "--epochs", "2", "--sample-every", "1"]
    out = ["--out-dir", str(tmp_path / "run"), "--no-progress", "--prefix", "the zq"]
    assert main([*args, *out]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("<unk><unk>") == 3  # two epoch samples and the final one
    assert captured.err == (
        "retrograd train: warning: 2 token(s) not in the vocabulary map to <unk>: 'q', 'z'\n"
    )


@pytest.mark.parametrize(
    ("temperature", "error"), [("0.5", TypeError), (True, TypeError), (-1.0, ValueError)]
)
def test_temperature_of_the_wrong_type_is_a_type_error(temperature, error):
    with pytest.raises(error, match="temperature must be a finite number >= 0"):
        check_temperature(temperature)
    with pytest.raises(error, match="sample_temperature must be"):
        TrainConfig(sample_temperature=temperature)
