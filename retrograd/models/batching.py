"""Minibatches of token indices for language modelling.

Two schemes from the d2l chapter: sequential partitioning (batch i+1 continues
batch i row by row, so the hidden state carries over and is detached between
batches: truncated BPTT) and random sampling (independent subsequences, state
reset per batch). Plus padded sentence batches for the word-level setup.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from numbers import Real
from typing import Any, TypeVar

import numpy as np

from retrograd.autograd.functional import is_integer
from retrograd.models.corpus import CorpusError
from retrograd.nn.layers import check_sizes

SCHEMES = ("sequential", "random")
# What split_train_valid cuts: token ids, or a list of sentences.
Splittable = TypeVar("Splittable", np.ndarray, list)


def _check_integers(function: str, **values: Any) -> None:
    """Refuse a value that is not an integer (a float would be cut silently by NumPy,
    a bool taken as 0 or 1), naming the function and argument."""
    for name, value in values.items():
        if not is_integer(value):
            raise TypeError(f"{function}: {name} must be an integer, got {value!r}")


def split_train_valid(corpus: Splittable, valid_fraction: float) -> tuple[Splittable, Splittable]:
    """Hold out the last `valid_fraction` of `corpus` (token ids, or a list of sentences)
    for validation."""
    allowed = f"a number in [0, 1), got {valid_fraction!r}"
    if isinstance(valid_fraction, bool) or not isinstance(valid_fraction, Real):
        raise TypeError(f"split_train_valid(): valid_fraction must be {allowed}")
    if not 0 <= valid_fraction < 1:
        raise ValueError(f"split_train_valid(): valid_fraction must be {allowed}")
    cut = len(corpus) - int(len(corpus) * valid_fraction)
    return corpus[:cut], corpus[cut:]


class LanguageModelBatches:
    """An epoch's (X, Y) batches of shape (batch_size, num_steps), Y shifted by one token.

    Every epoch starts at a fresh random offset drawn from `rng`, as in d2l.
    `name` says what the corpus is in the error for one too short to batch
    (default "corpus of N tokens"; `Dataset.train_name()` for a training split).
    """

    def __init__(
        self,
        corpus: Sequence[int] | np.ndarray,
        batch_size: int,
        num_steps: int,
        scheme: str = "sequential",
        rng: np.random.Generator | None = None,
        *,
        name: str | None = None,
    ) -> None:
        if scheme not in SCHEMES:
            raise ValueError(f"sampling scheme must be one of {SCHEMES}, got {scheme!r}")
        check_sizes("LanguageModelBatches", batch_size=batch_size, num_steps=num_steps)
        self.corpus = np.asarray(corpus, dtype=np.int64)
        self.batch_size = batch_size
        self.num_steps = num_steps
        self.scheme = scheme
        needed = batch_size * num_steps + self._largest_offset() + 1
        if len(self.corpus) < needed:
            what = name or f"corpus of {len(self.corpus)} tokens"
            raise CorpusError(
                f"{what} is shorter than one batch: "
                f"batch_size {batch_size} x num_steps {num_steps} needs at least {needed}"
            )
        self.rng = rng if rng is not None else np.random.default_rng(0)

    @property
    def carries_state(self) -> bool:
        """Whether the hidden state should flow (detached) from one batch to the next."""
        return self.scheme == "sequential"

    def _largest_offset(self) -> int:
        """The latest start an epoch can draw: num_steps (sequential) or num_steps - 1
        (random), as in d2l."""
        return self.num_steps if self.scheme == "sequential" else self.num_steps - 1

    def __len__(self) -> int:
        """Batches per epoch (the smallest count over all possible offsets)."""
        # Tokens that can be inputs (each needs the next as its target) at the latest offset.
        usable = len(self.corpus) - self._largest_offset() - 1
        if self.scheme == "sequential":
            return (usable // self.batch_size) // self.num_steps
        return (usable // self.num_steps) // self.batch_size

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if self.scheme == "sequential":
            yield from self._sequential()
        else:
            yield from self._random()

    def _sequential(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        offset = int(self.rng.integers(0, self.num_steps, endpoint=True))
        count = (len(self.corpus) - offset - 1) // self.batch_size * self.batch_size
        xs = self.corpus[offset : offset + count].reshape(self.batch_size, -1)
        ys = self.corpus[offset + 1 : offset + 1 + count].reshape(self.batch_size, -1)
        for i in range(len(self)):
            cols = slice(i * self.num_steps, (i + 1) * self.num_steps)
            yield xs[:, cols], ys[:, cols]

    def _random(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        offset = int(self.rng.integers(0, self.num_steps))
        corpus = self.corpus[offset:]
        starts = np.arange(0, (len(corpus) - 1) // self.num_steps * self.num_steps, self.num_steps)
        starts = self.rng.permutation(starts)
        steps = np.arange(self.num_steps)
        for i in range(len(self)):
            chosen = starts[i * self.batch_size : (i + 1) * self.batch_size, None] + steps
            yield corpus[chosen], corpus[chosen + 1]


def sentence_batches(
    sentences: Sequence[Sequence[int]],
    batch_size: int,
    pad_index: int,
    ignore_index: int = -100,
    rng: np.random.Generator | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Batches of whole sentences padded to the longest in the batch.

    Each sentence (already wrapped in <bos> ... <eos>) gives input s[:-1] and
    target s[1:]; padded target positions hold `ignore_index` so the loss skips
    them. Sentence order is shuffled by `rng` when given. The arguments are
    checked here, when called, not at the first batch drawn.
    """
    check_sizes("sentence_batches()", batch_size=batch_size)
    _check_integers("sentence_batches()", pad_index=pad_index, ignore_index=ignore_index)
    usable = [s for s in sentences if len(s) >= 2]
    if not usable:
        raise CorpusError("no sentence has at least two tokens")
    order = rng.permutation(len(usable)) if rng is not None else np.arange(len(usable))
    return _padded_batches(usable, order, batch_size, pad_index, ignore_index)


def _padded_batches(
    sentences: list[Sequence[int]],
    order: np.ndarray,
    batch_size: int,
    pad_index: int,
    ignore_index: int,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The batches of `sentence_batches`, drawn in `order`, made one at a time."""
    for start in range(0, len(order), batch_size):
        chunk = [sentences[i] for i in order[start : start + batch_size]]
        length = max(len(s) for s in chunk) - 1
        x = np.full((len(chunk), length), pad_index, dtype=np.int64)
        y = np.full((len(chunk), length), ignore_index, dtype=np.int64)
        for row, s in enumerate(chunk):
            x[row, : len(s) - 1] = s[:-1]
            y[row, : len(s) - 1] = s[1:]
        yield x, y
