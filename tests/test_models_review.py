"""Known answers for the language-model data pipeline, generation and commands, checked
against what the d2l chapter does."""

import math

import numpy as np
import pytest

from retrograd.cli import main
from retrograd.models.batching import LanguageModelBatches, sentence_batches, split_train_valid
from retrograd.models.checkpoints import model_from_checkpoint
from retrograd.models.config import TrainConfig
from retrograd.models.corpus import CorpusError, load_text
from retrograd.models.data import build_dataset
from retrograd.models.generation import encode_prompt, generate, never_generated, sample_next
from retrograd.models.graph_demo import draw_model_graph
from retrograd.models.language_model import RNNLanguageModel
from retrograd.models.training import Trainer
from retrograd.models.vocab import Vocab


def _d2l_random_batches(corpus_length: int, batch_size: int, num_steps: int, offset: int) -> int:
    """How many batches d2l's seq_data_iter_random yields after dropping `offset` tokens."""
    return (corpus_length - offset - 1) // num_steps // batch_size


@pytest.mark.parametrize(("length", "batch_size", "num_steps"), [(5, 1, 1), (6, 1, 3), (62, 3, 4)])
def test_random_batches_use_every_window_d2l_uses(length, batch_size, num_steps):
    expected = min(
        _d2l_random_batches(length, batch_size, num_steps, offset) for offset in range(num_steps)
    )
    batches = LanguageModelBatches(np.arange(length), batch_size, num_steps, "random")
    assert len(batches) == len(list(batches)) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["graph", "--prefix", "time"], "--prefix needs --checkpoint"),
        (["graph", "--output", ""], "argument --output: must name a file"),
    ],
)
def test_cli_bad_flags_are_usage_errors_before_any_file_is_read(
    args, message, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and f"retrograd {args[0]}: error: {message}" in err
    assert not (tmp_path / "rnn_graph.svg").exists()


def test_vocab_takes_d2l_calls_min_freq_zero_and_a_list_of_tokens():
    tokens = list("time traveller")
    vocab = Vocab(tokens, min_freq=0)
    assert vocab.itos == Vocab(tokens).itos
    assert vocab[["t", "i", "z"]] == [vocab["t"], vocab["i"], 0]
    assert vocab[("e",)] == [vocab["e"]]
    with pytest.raises(ValueError, match="min_freq must be >= 0, got -1"):
        Vocab(tokens, min_freq=-1)


def test_vocab_decode_refuses_an_index_that_is_not_an_integer():
    vocab = Vocab(list("abc"))
    assert vocab.decode(np.array([1, 2])) == vocab.itos[1:3]
    with pytest.raises(TypeError, match=r"decode\(\): index 1.7 is not an integer"):
        vocab.decode([1.7])


def test_top_k_keeps_exactly_k_tokens_when_logits_tie():
    logits = np.array([1.0, 1.0, 1.0, 0.0])
    drawn = {sample_next(logits, 1.0, top_k=1, rng=np.random.default_rng(i)) for i in range(30)}
    assert drawn == {0}
    drawn = {sample_next(logits, 5.0, top_k=2, rng=np.random.default_rng(i)) for i in range(60)}
    assert drawn == {0, 1}


def test_sampling_with_every_token_banned_names_the_problem():
    for temperature in (0.0, 1.0):
        with pytest.raises(ValueError, match="every one of the 3 tokens is banned"):
            sample_next(np.zeros(3), temperature, rng=np.random.default_rng(0), banned=[0, 1, 2])


@pytest.mark.parametrize(("length", "top_k"), [(2.5, None), (True, None), (3, 1.5)])
def test_generate_refuses_a_length_or_top_k_that_is_not_an_integer(length, top_k):
    model = RNNLanguageModel(5, 4, generator=0)
    with pytest.raises(TypeError, match="must be an integer"):
        generate(model, [1], length, 1.0, top_k, generator=0)


@pytest.mark.parametrize(
    ("prompt", "text"),
    [
        ("time traveller ", "time traveller "),
        ("Time, traveller!", "time traveller "),
        ("time\n\ntraveller", "time traveller"),
        ("time\t", "time "),
        ("  time", "time"),
    ],
)
def test_d2l_prompt_is_preprocessed_as_the_middle_of_the_corpus(prompt, text):
    vocab = Vocab(list("abcdefghijklmnopqrstuvwxyz "))
    ids = encode_prompt(vocab, TrainConfig(), prompt)
    assert "".join(vocab.decode(ids)) == text


def _checkpoint(tmp_path) -> str:
    """The checkpoint of one epoch of a tiny character model, trained in process."""
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the time traveller smiled round at us. " * 30)
    config = TrainConfig(
        corpus=str(corpus), hidden_size=8, embedding_dim=4, batch_size=4, num_steps=8, epochs=1,
        sample_every=0, out_dir=str(tmp_path / "run"), progress=False,
    )  # fmt: skip
    trainer = Trainer(config, log=lambda line: None)
    return str(trainer.run().checkpoint)


def test_graph_of_a_one_token_prefix_predicts_the_next_token_not_itself(tmp_path, monkeypatch):
    checkpoint = _checkpoint(tmp_path)
    seen = []
    loss = RNNLanguageModel.loss

    def spy(model, logits, targets, *args):
        seen.append(np.asarray(targets).tolist())
        return loss(model, logits, targets, *args)

    monkeypatch.setattr(RNNLanguageModel, "loss", spy)
    draw_model_graph(tmp_path / "graph.dot", checkpoint=checkpoint, prefix="t")
    model, vocab, _ = model_from_checkpoint(checkpoint)
    monkeypatch.undo()
    following = generate(model, [vocab["t"]], 1, banned=never_generated(vocab))
    assert seen == [[following]]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_utf16_corpus_is_named_as_such_not_as_binary(tmp_path, encoding):
    path = tmp_path / "notepad.txt"
    path.write_bytes("\ufeffthe time traveller\r\n".encode(encoding))
    with pytest.raises(CorpusError, match="notepad.txt is UTF-16 or UTF-32 text, not UTF-8"):
        load_text(path)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer, got 0"),
        ({"pad_index": 1.7}, TypeError, "pad_index must be an integer, got 1.7"),
        ({"pad_index": True}, TypeError, "pad_index must be an integer, got True"),
        ({"ignore_index": -1.5}, TypeError, "ignore_index must be an integer, got -1.5"),
    ],
)
def test_sentence_batches_refuses_bad_arguments_when_called_not_when_drawn(kwargs, error, message):
    arguments = {"batch_size": 2, "pad_index": 0, **kwargs}
    with pytest.raises(error, match=rf"sentence_batches\(\): {message}"):
        sentence_batches([[1, 5, 2], [1, 6, 7, 2]], **arguments)


def test_sentence_batches_takes_numpy_integer_indices():
    [(x, y)] = sentence_batches([[1, 5, 2], [1, 2]], 2, np.int64(0), np.int32(-1))
    assert x.tolist() == [[1, 5], [1, 0]] and y.tolist() == [[5, 2], [2, -1]]


@pytest.mark.parametrize(
    ("fraction", "error"),
    [("0.1", TypeError), (None, TypeError), (True, TypeError), (1.0, ValueError),
     (-0.1, ValueError), (math.nan, ValueError)],
)  # fmt: skip
def test_split_train_valid_names_a_bad_valid_fraction_and_the_allowed_range(fraction, error):
    message = (
        rf"split_train_valid\(\): valid_fraction must be a number in \[0, 1\), got {fraction!r}"
    )
    with pytest.raises(error, match=message):
        split_train_valid(np.arange(10), fraction)


def test_sentence_setup_holds_out_the_last_valid_fraction_of_sentences(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("The time machine. It was late. We sat still. He smiled.")
    config = TrainConfig(corpus=str(corpus), level="word", scheme="sentences", valid_fraction=0.25)
    data = build_dataset(config)
    assert (len(data.train_sentences), len(data.valid_sentences)) == (3, 1)
    assert data.valid_sentences[0][1:-1] == data.vocab.encode(["he", "smiled"])


def test_too_short_training_split_is_named_as_the_split_with_the_corpus_size(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("abcdefghij" * 10)
    data = build_dataset(TrainConfig(corpus=str(corpus), valid_fraction=0.2))
    message = (
        r"the training split of 80 tokens \(of 100 in the corpus; valid_fraction 0.2\) "
        "is shorter than one batch: batch_size 4 x num_steps 35 needs at least 176"
    )
    with pytest.raises(CorpusError, match=message):
        LanguageModelBatches(data.train, 4, 35, name=data.train_name())
    with pytest.raises(CorpusError, match="^corpus of 80 tokens is shorter than one batch"):
        LanguageModelBatches(data.train, 4, 35)


@pytest.mark.parametrize(("steps", "error"), [(0, ValueError), (2.5, TypeError), (True, TypeError)])
def test_draw_model_graph_names_steps_that_are_not_a_positive_integer(tmp_path, steps, error):
    """0 failed inside the RNN ('input must have at least one step'), 2.5 with Python's
    'float object cannot be interpreted as an integer'."""
    with pytest.raises(error, match=r"draw_model_graph\(\): steps must be a positive integer"):
        draw_model_graph(tmp_path / "graph.dot", steps=steps)
    assert not (tmp_path / "graph.dot").exists()
