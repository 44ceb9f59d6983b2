"""Corpus loading, tokenization, vocabulary and batching for the language models."""

import codecs
import itertools

import numpy as np
import pytest

from retrograd.models.batching import LanguageModelBatches, sentence_batches, split_train_valid
from retrograd.models.config import TrainConfig
from retrograd.models.corpus import (
    CorpusError,
    load_text,
    preprocess,
    sentences,
    tokenize,
)
from retrograd.models.data import build_dataset
from retrograd.models.vocab import Vocab


def test_builtin_corpus_reproduces_d2l_vocabulary_and_length():
    lines = preprocess(load_text(), "d2l")
    vocab = Vocab(tokenize(lines, "char"))
    corpus = [vocab[t] for line in tokenize(lines, "char") for t in line]
    assert len(vocab) == 28
    assert vocab.itos[:4] == ["<unk>", " ", "e", "t"]
    assert len(corpus) == 170580


def test_raw_preprocessing_keeps_case_and_punctuation():
    lines = preprocess("The Time-Machine!\n\n  said he.", "raw")
    assert lines == ["The Time-Machine!", "  said he."]
    assert tokenize(lines, "word") == [["The", "Time", "-", "Machine", "!"], ["said", "he", "."]]


def test_raw_character_corpus_keeps_line_breaks_between_words(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("Über den Wolken\nmuß die Freiheit\n\nwohl grenzenlos sein.\n")
    config = TrainConfig(corpus=str(path), preprocessing="raw", valid_fraction=0.0)
    data = build_dataset(config)
    text = "".join(data.vocab.decode(data.train))
    assert text == "Über den Wolken\nmuß die Freiheit\nwohl grenzenlos sein.\n"


def test_byte_order_mark_is_not_text(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes("Hello, world\n".encode("utf-8-sig"))
    assert load_text(path) == "Hello, world\n"
    path.write_bytes(codecs.BOM_UTF8 + b"ab\xff")
    with pytest.raises(CorpusError, match="bad byte at offset 5"):
        load_text(path)
    path.write_bytes("Hello, world\n".encode("utf-8-sig"))
    data = build_dataset(TrainConfig(corpus=str(path), level="word", preprocessing="raw"))
    assert data.vocab.itos[1:] == ["Hello", ",", "world"]


def test_d2l_preprocessing_keeps_only_lowercase_letters_and_spaces():
    assert preprocess("It's 1895 -- Time!", "d2l") == ["it s time"]


def test_sentences_split_at_end_marks():
    assert sentences("One. Two!  Three?\nFour") == ["One.", "Two!", "Three?", "Four"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"  \n\t", "is empty"),
        (b"\x00\x01binary", "looks binary"),
        (b"caf\xe9 latin-1", "not UTF-8"),
    ],
)
def test_bad_corpus_files_raise_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(CorpusError, match=message) as info:
        load_text(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("level", "scheme", "what"),
    [
        ("char", "sequential", "characters"),
        ("word", "random", "words"),
        ("word", "sentences", "sentences"),
    ],
)
def test_corpus_without_letters_says_preprocessing_left_nothing(tmp_path, level, scheme, what):
    path = tmp_path / "digits.txt"
    path.write_text("123 456\n!!!\n")
    config = TrainConfig(corpus=str(path), level=level, scheme=scheme)
    with pytest.raises(CorpusError, match=f"digits.txt has no {what} left after d2l preprocessing"):
        build_dataset(config)


def test_token_limit_below_the_first_sentence_names_the_limit(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("The time traveller smiled. He walked out of the room.\n")
    config = TrainConfig(corpus=str(path), level="word", scheme="sentences", max_corpus_tokens=4)
    with pytest.raises(CorpusError, match=r"max_corpus_tokens \(--max-corpus-tokens\) 4 .* 6"):
        build_dataset(config)
    assert len(build_dataset(config.replace(max_corpus_tokens=6)).train_sentences) == 1


def test_corpus_directory_and_missing_file_raise(tmp_path):
    with pytest.raises(CorpusError, match="directory"):
        load_text(tmp_path)
    with pytest.raises(CorpusError, match="does not exist"):
        load_text(tmp_path / "nope.txt")


def test_vocab_orders_by_frequency_with_unk_and_reserved_first():
    vocab = Vocab(["b", "a", "b", "c", "b", "a"], reserved_tokens=["<pad>", "<bos>"])
    assert vocab.itos == ["<unk>", "<pad>", "<bos>", "b", "a", "c"]
    assert vocab["zzz"] == 0 and vocab["a"] == 4


def test_vocab_reserved_tokens_are_kept_once_and_a_string_is_refused():
    vocab = Vocab(list("abba"), reserved_tokens=["<pad>", "<pad>", "<unk>", "<eos>"])
    assert vocab.itos == ["<unk>", "<pad>", "<eos>", "a", "b"]
    assert vocab.reserved == ("<pad>", "<eos>")
    assert Vocab.from_dict(vocab.to_dict()).itos == vocab.itos
    with pytest.raises(TypeError, match="reserved_tokens must be a sequence of tokens"):
        Vocab(list("ab"), reserved_tokens="<pad>")


def test_vocab_min_freq_and_max_size():
    tokens = list("aaaabbbccd")
    assert Vocab(tokens, min_freq=2).itos == ["<unk>", "a", "b", "c"]
    assert Vocab(tokens, max_size=3).itos == ["<unk>", "a", "b"]
    with pytest.raises(ValueError, match="max_size"):
        Vocab(tokens, max_size=1, reserved_tokens=["<pad>"])


def test_vocab_json_round_trip(tmp_path):
    vocab = Vocab(list("hello world"), reserved_tokens=["<eos>"])
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocab.load(tmp_path / "vocab.json")
    assert loaded.itos == vocab.itos and loaded.reserved == ("<eos>",)
    assert loaded.encode(list("hold")) == vocab.encode(list("hold"))


def test_vocab_unknown_prompt_tokens_warn_and_map_to_unk():
    vocab = Vocab(list("abc"))
    with pytest.warns(UserWarning, match="'z'"):
        assert vocab.encode(list("azb"), warn_unknown=True) == [vocab["a"], 0, vocab["b"]]
    with pytest.raises(IndexError, match="index 9"):
        vocab.decode([9])


def test_sequential_batches_continue_row_by_row_and_shift_targets():
    corpus = np.arange(200)
    batches = list(LanguageModelBatches(corpus, 4, 7, "sequential", np.random.default_rng(3)))
    assert len(batches) == len(LanguageModelBatches(corpus, 4, 7))
    for (x, y), (next_x, _) in itertools.pairwise(batches):
        assert x.shape == (4, 7)
        np.testing.assert_array_equal(y, x + 1)
        np.testing.assert_array_equal(next_x[:, 0], x[:, -1] + 1)


def test_random_batches_are_disjoint_and_seeded():
    corpus = np.arange(300)

    def epoch(seed):
        return list(LanguageModelBatches(corpus, 3, 5, "random", np.random.default_rng(seed)))

    first = epoch(1)
    starts = np.concatenate([x[:, 0] for x, _ in first])
    assert len(set(starts.tolist())) == len(starts)
    for x, y in first:
        np.testing.assert_array_equal(y, x + 1)
        np.testing.assert_array_equal(np.diff(x, axis=1), 1)
    assert all((a[0] == b[0]).all() for a, b in zip(first, epoch(1)))
    assert any((a[0] != b[0]).any() for a, b in zip(first, epoch(2)))


def test_batches_refuse_a_corpus_shorter_than_one_batch():
    with pytest.raises(CorpusError, match="shorter than one batch"):
        LanguageModelBatches(np.arange(50), 8, 10)


def test_split_train_valid_holds_out_the_end():
    train, valid = split_train_valid(np.arange(100), 0.1)
    assert train.tolist() == list(range(90)) and valid.tolist() == list(range(90, 100))


def test_sentence_batches_pad_inputs_and_ignore_padded_targets():
    batches = list(sentence_batches([[1, 5, 6, 2], [1, 7, 2]], 2, pad_index=0, ignore_index=-1))
    ((x, y),) = batches
    np.testing.assert_array_equal(x, [[1, 5, 6], [1, 7, 0]])
    np.testing.assert_array_equal(y, [[5, 6, 2], [7, 2, -1]])


def test_vocab_from_bad_data_names_the_problem():
    with pytest.raises(ValueError, match="'itos' list"):
        Vocab.from_dict({})
