"""Text generation: warm the state up on a prefix, then predict token by token.

`generate` works on token ids; `sample_text` goes from prompt text to text
for a trained model, preprocessing the prompt like the model's corpus.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from typing import TYPE_CHECKING

import numpy as np

from retrograd.autograd import as_generator, no_grad
from retrograd.autograd.functional import is_integer
from retrograd.models.corpus import join_tokens, preprocess_prompt, tokenize
from retrograd.models.language_model import RNNLanguageModel
from retrograd.models.vocab import Vocab

if TYPE_CHECKING:  # config.py imports this module (check_temperature)
    from retrograd.models.config import TrainConfig


def check_temperature(temperature: float, name: str = "temperature") -> None:
    """Refuse a temperature that is not a finite number >= 0, naming it as `name`.

    NaN or infinity would make every sampling probability NaN. Training's
    configuration, the command line and generation all check here.
    """
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, Real)
        or not 0 <= temperature < math.inf
    ):
        raise ValueError(f"{name} must be a finite number >= 0, got {temperature!r}")


def sample_next(
    logits: np.ndarray,
    temperature: float = 0.0,
    top_k: int | None = None,
    rng: np.random.Generator | None = None,
    banned: Sequence[int] = (),
) -> int:
    """One token id from a row of logits: greedy at temperature 0, else sampled.

    `top_k` keeps only the k most likely tokens before sampling (exactly k:
    ties at the cutoff go to the lower id); sampling needs `rng`, so that
    every sample is reproducible from a seed. `banned` tokens (e.g. `<pad>`,
    `<unk>`) are never chosen.
    """
    check_temperature(temperature)
    _check_top_k(top_k)
    logits = np.array(logits, dtype=np.float64)
    if banned:
        logits[list(banned)] = -np.inf
        if np.isneginf(logits).all():
            raise ValueError(f"sample_next(): every one of the {logits.size} tokens is banned")
    if temperature == 0:
        return int(np.argmax(logits))
    if top_k is not None and top_k < logits.size:
        # A stable sort from the largest keeps exactly top_k ids, the lower id first on ties.
        dropped = np.argsort(-logits, kind="stable")[top_k:]
        logits[dropped] = -np.inf
    gaps = logits - logits.max()
    if temperature < 1:
        # A gap this far below the maximum would overflow the division (a tiny temperature
        # is nearly greedy); its probability is 0 either way.
        gaps = np.where(gaps > -temperature * (np.finfo(np.float64).max / 2), gaps, -np.inf)
    probs = np.exp(gaps / temperature)
    probs /= probs.sum()
    if rng is None:
        raise ValueError("sample_next(): sampling at temperature > 0 needs an rng")
    return int(rng.choice(probs.size, p=probs))


def _check_top_k(top_k: int | None) -> None:
    """Refuse a top_k that is not None or an integer (TypeError) or is below 1 (ValueError)."""
    if top_k is None:
        return
    if not is_integer(top_k):
        raise TypeError(f"top_k must be an integer >= 1 or None, got {top_k!r}")
    if top_k < 1:
        raise ValueError(f"top_k must be an integer >= 1 or None, got {top_k!r}")


@no_grad()
def generate(
    model: RNNLanguageModel,
    prefix: Sequence[int],
    length: int,
    temperature: float = 0.0,
    top_k: int | None = None,
    generator: np.random.Generator | int | None = None,
    banned: Sequence[int] = (),
    stop: int | None = None,
) -> list[int]:
    """Up to `length` new token ids continuing `prefix` (the d2l chapter's predict_ch8).

    The prefix warms up the hidden state; then each predicted token is fed
    back in. Generation ends early after the `stop` token (e.g. `<eos>`), and
    `banned` tokens are never produced. Runs under `no_grad`: no graph is kept.
    """
    if len(prefix) == 0:
        raise ValueError("generate(): the prefix must hold at least one token")
    if not is_integer(length):
        raise TypeError(f"generate(): length must be an integer >= 0, got {length!r}")
    if length < 0:
        raise ValueError(f"generate(): length must be an integer >= 0, got {length!r}")
    check_temperature(temperature, "generate(): temperature")
    rng = as_generator(generator)
    logits, state = model(np.asarray([prefix], dtype=np.int64))
    out: list[int] = []
    for _ in range(length):
        token = sample_next(logits.data[0, -1], temperature, top_k, rng, banned)
        out.append(token)
        if token == stop:
            break
        logits, state = model(np.asarray([[token]], dtype=np.int64), state)
    return out


def never_generated(vocab: Vocab) -> list[int]:
    """The ids of the special tokens a model never generates.

    `<unk>`, and `<pad>`/`<bos>` where the vocabulary has them (the sentence setup).
    """
    return [vocab.unk, *(vocab[t] for t in ("<pad>", "<bos>") if t in vocab)]


def encode_prompt(
    vocab: Vocab, config: TrainConfig, prompt: str, name: str = "prefix"
) -> list[int]:
    """Prompt text -> token ids, preprocessed like the corpus; unknown tokens warn.

    A prompt with no tokens left raises ValueError, calling it `name`.
    """
    lines = [preprocess_prompt(prompt) if config.preprocessing == "d2l" else prompt]
    tokens = [t for line in tokenize(lines, config.level) for t in line]
    if config.scheme == "sentences":
        tokens = ["<bos>", *tokens]
    if not tokens:
        why = " (which keeps only letters)" if config.preprocessing == "d2l" else ""
        raise ValueError(
            f"{name} {prompt!r} has no tokens after {config.preprocessing} preprocessing{why}"
        )
    return vocab.encode(tokens, warn_unknown=True)


def sample_text(
    model: RNNLanguageModel,
    vocab: Vocab,
    config: TrainConfig,
    prefix: str,
    length: int,
    temperature: float = 0.0,
    top_k: int | None = None,
    seed: np.random.Generator | int | None = None,
) -> str:
    """The prefix followed by up to `length` generated tokens, as text.

    Special tokens are never generated (`<unk>`, and `<pad>`/`<bos>` of the
    sentence setup); a sentence model stops after `<eos>`, which is not shown.
    """
    ids = encode_prompt(vocab, config, prefix)
    banned = never_generated(vocab)
    stop = vocab.stoi.get("<eos>")
    new = generate(model, ids, length, temperature, top_k, seed, banned, stop)
    shown = [t for t in vocab.decode(ids + new) if t not in ("<bos>", "<eos>")]
    return join_tokens(shown, config.level)
