"""From a configuration to token ids: corpus, tokens, vocabulary, train/valid split."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retrograd.models.batching import split_train_valid
from retrograd.models.config import TrainConfig
from retrograd.models.corpus import CorpusError, load_text, preprocess, sentences, tokenize
from retrograd.models.vocab import Vocab

MAX_WORD_VOCAB = 8_000
SENTENCE_TOKENS = ("<pad>", "<bos>", "<eos>")


@dataclass
class Dataset:
    """Token ids ready for batching, and the vocabulary that maps them back to text."""

    vocab: Vocab
    train: np.ndarray
    valid: np.ndarray
    train_sentences: list[list[int]] | None = None
    valid_sentences: list[list[int]] | None = None
    corpus_tokens: int = 0  # token ids before the split (the sentence setup leaves it 0)
    valid_fraction: float = 0.0

    def train_name(self) -> str:
        """What the training ids are, for an error about their size: the split, not the
        whole corpus, which a user would otherwise compare with the file."""
        return (
            f"the training split of {len(self.train)} tokens (of {self.corpus_tokens} in the "
            f"corpus; valid_fraction {self.valid_fraction})"
        )


def build_dataset(config: TrainConfig, vocab: Vocab | None = None) -> Dataset:
    """Read and tokenize the configured corpus; build the vocabulary unless one is given."""
    text = load_text(config.corpus)
    if config.scheme == "sentences":
        return _sentence_dataset(text, config, vocab)
    lines = tokenize(preprocess(text, config.preprocessing), config.level)
    if config.level == "char" and config.preprocessing == "raw":
        # Raw text keeps its line breaks; without them a line's last word runs into the
        # next line's first. (d2l preprocessing joins lines directly, as the chapter does.)
        lines = [[*line, "\n"] for line in lines]
    tokens = [t for line in lines for t in line]
    if not tokens:
        raise _no_tokens(config, "words" if config.level == "word" else "characters")
    if vocab is None:
        max_size = MAX_WORD_VOCAB if config.level == "word" else None
        vocab = Vocab(tokens, max_size=max_size)
    ids = np.asarray(vocab.encode(tokens), dtype=np.int64)
    if config.max_corpus_tokens is not None:
        ids = ids[: config.max_corpus_tokens]
    train, valid = split_train_valid(ids, config.valid_fraction)
    return Dataset(
        vocab, train, valid, corpus_tokens=len(ids), valid_fraction=config.valid_fraction
    )


def _sentence_dataset(text: str, config: TrainConfig, vocab: Vocab | None) -> Dataset:
    """Whole sentences wrapped in <bos> ... <eos> (the word-level tutorial setup)."""
    lines = preprocess("\n".join(sentences(text)), config.preprocessing)
    tokenized = [s for s in tokenize(lines, config.level) if s]
    if not tokenized:
        raise _no_tokens(config, "sentences")
    if vocab is None:
        vocab = Vocab(tokenized, max_size=MAX_WORD_VOCAB, reserved_tokens=SENTENCE_TOKENS)
    bos, eos = vocab["<bos>"], vocab["<eos>"]
    encoded = [[bos, *vocab.encode(s), eos] for s in tokenized]
    if config.max_corpus_tokens is not None:
        kept, total = [], 0
        for s in encoded:
            total += len(s)
            if total > config.max_corpus_tokens:
                break
            kept.append(s)
        if not kept:
            raise CorpusError(
                f"max_corpus_tokens (--max-corpus-tokens) {config.max_corpus_tokens} keeps no "
                f"whole sentence: the first has {len(encoded[0])} tokens with <bos> and <eos>"
            )
        encoded = kept
    train, valid = split_train_valid(encoded, config.valid_fraction)
    empty = np.zeros(0, dtype=np.int64)
    return Dataset(vocab, empty, empty, train, valid)


def _no_tokens(config: TrainConfig, what: str) -> CorpusError:
    """The error for a corpus that preprocessing leaves empty (d2l keeps only letters)."""
    why = " (which keeps only letters)" if config.preprocessing == "d2l" else ""
    return CorpusError(
        f"corpus {config.corpus or 'timemachine'} has no {what} left after "
        f"{config.preprocessing} preprocessing{why}"
    )
