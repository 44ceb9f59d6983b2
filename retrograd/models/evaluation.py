"""Held-out perplexity of a language model on one split of its dataset.

Training's validation and `retrograd evaluate` measure it here, the same way
for every sampling scheme: whole padded sentences for the sentence setup,
consecutive windows of `num_steps` tokens for a stream of tokens.
"""

from __future__ import annotations

import numpy as np

from retrograd.models.batching import sentence_batches
from retrograd.models.config import TrainConfig
from retrograd.models.data import Dataset
from retrograd.models.language_model import RNNLanguageModel, perplexity

# Windows per batch on a token stream: bounds the memory of a long corpus's logits.
STREAM_ROWS = 64

SPLITS = ("train", "valid")


def evaluation_batches(
    data: Dataset, config: TrainConfig, split: str
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (X, Y) batches that cover `split` ("train" or "valid") once, in order.

    Empty when the split holds nothing to predict (no sentence, or fewer
    than `num_steps + 1` tokens).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if config.scheme == "sentences":
        sentences = data.train_sentences if split == "train" else data.valid_sentences
        if not sentences:
            return []
        return list(sentence_batches(sentences, config.batch_size, pad_index=data.vocab["<pad>"]))
    ids = data.train if split == "train" else data.valid
    steps = config.num_steps
    rows = (len(ids) - 1) // steps
    if rows < 1:
        return []
    x = ids[: rows * steps].reshape(rows, steps)
    y = ids[1 : rows * steps + 1].reshape(rows, steps)
    return [(x[i : i + STREAM_ROWS], y[i : i + STREAM_ROWS]) for i in range(0, rows, STREAM_ROWS)]


def split_perplexity(
    model: RNNLanguageModel, data: Dataset, config: TrainConfig, split: str
) -> float | None:
    """Perplexity on `split`, each batch from a fresh state; None if the split is too short."""
    batches = evaluation_batches(data, config, split)
    return perplexity(model, batches, carry_state=False) if batches else None
