"""Text generation: warm the state up on a prefix, then predict token by token.

`generate` works on token ids; `sample_text` goes from prompt text to text
for a trained model, preprocessing the prompt like the model's corpus.
"""

from __future__ import annotations

import math
import warnings
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


# Relative slack for a sum of probabilities to count as reaching top_p: far above the
# rounding of a float64 cumulative sum, far below any probability that matters.
_SUM_ROUNDING = 1e-10


def check_temperature(temperature: float, name: str = "temperature") -> None:
    """Refuse a temperature that is not a finite number >= 0, naming it as `name`.

    NaN or infinity would make every sampling probability NaN. Training's
    configuration, the command line and generation all check here.
    """
    problem = f"{name} must be a finite number >= 0, got {temperature!r}"
    if isinstance(temperature, bool) or not isinstance(temperature, Real):
        raise TypeError(problem)
    if not 0 <= temperature < math.inf:
        raise ValueError(problem)


def check_top_p(top_p: float, name: str = "top_p") -> None:
    """Refuse a top_p that is not a number (TypeError) or not in (0, 1] (ValueError).

    1 keeps every token (nucleus sampling off); NaN fails the range check.
    """
    if isinstance(top_p, bool) or not isinstance(top_p, Real):
        raise TypeError(f"{name} must be a number in (0, 1], got {type(top_p).__name__} {top_p!r}")
    if not 0 < top_p <= 1:
        raise ValueError(f"{name} must be a number in (0, 1], got {top_p!r}")


def sample_next(
    logits: np.ndarray,
    temperature: float = 0.0,
    top_k: int | None = None,
    rng: np.random.Generator | None = None,
    banned: Sequence[int] = (),
    top_p: float = 1.0,
) -> int:
    """One token id from a row of logits: greedy at temperature 0, else sampled.

    Sampling draws from `next_token_probabilities` (temperature, then `top_k`,
    then `top_p`) and needs `rng`, so that every sample is reproducible from a
    seed. Greedy decoding ignores `top_k` and `top_p` (`generate` warns about
    that once per call). `banned` tokens (e.g. `<pad>`, `<unk>`) are never chosen.
    """
    check_temperature(temperature)
    _check_top_k(top_k)
    check_top_p(top_p)
    logits = np.array(logits, dtype=np.float64)
    if banned:
        logits[list(banned)] = -np.inf
        if np.isneginf(logits).all():
            raise ValueError(f"sample_next(): every one of the {logits.size} tokens is banned")
    if temperature == 0:
        return int(np.argmax(logits))
    if rng is None:
        raise ValueError("sample_next(): sampling at temperature > 0 needs an rng")
    probs = _probabilities(logits, temperature, top_k, top_p)
    return int(rng.choice(probs.size, p=probs))


def next_token_probabilities(
    logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None, top_p: float = 1.0
) -> np.ndarray:
    """The distribution `sample_next` draws from: softmax(logits / temperature), cut to
    the `top_k` most likely tokens, then to the nucleus of `top_p`, renormalised.

    The nucleus is the smallest set of most likely tokens whose probability reaches
    `top_p` (as Hugging Face's `top_p`). Both cuts rank tokens the same way, the lower
    id first among equal logits, so a tie at the cutoff keeps exactly the lower ids.
    """
    check_temperature(temperature)
    if temperature == 0:
        raise ValueError("next_token_probabilities(): temperature must be > 0 (0 is greedy)")
    _check_top_k(top_k)
    check_top_p(top_p)
    return _probabilities(np.array(logits, dtype=np.float64), temperature, top_k, top_p)


def _probabilities(
    logits: np.ndarray, temperature: float, top_k: int | None, top_p: float
) -> np.ndarray:
    """`next_token_probabilities` of float64 `logits` (changed in place) and arguments
    already checked: `sample_next` calls it once per generated token."""
    if top_k is None and top_p == 1:
        return _softmax(logits, temperature)
    order = np.argsort(-logits, kind="stable")  # most likely first, lower id first on ties
    if top_k is not None:
        logits[order[top_k:]] = -np.inf
    probs = _softmax(logits, temperature)
    if top_p < 1:
        ranked = probs[order]
        before = np.concatenate(([0.0], np.cumsum(ranked)[:-1]))  # mass ranked above each
        # A rounded sum (0.7 + 0.2 comes out a hair under 0.9) still reaches top_p.
        probs[order[before >= top_p * (1 - _SUM_ROUNDING)]] = 0.0
        probs /= probs.sum()
    return probs


def _softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / temperature), shifted by the maximum so that exp cannot overflow."""
    gaps = logits - logits.max()
    if temperature < 1:
        # A gap this far below the maximum would overflow the division (a tiny temperature
        # is nearly greedy); its probability is 0 either way.
        gaps = np.where(gaps > -temperature * (np.finfo(np.float64).max / 2), gaps, -np.inf)
    probs = np.exp(gaps / temperature)
    return probs / probs.sum()


def _check_top_k(top_k: int | None, name: str = "top_k") -> None:
    """Refuse a top_k that is not None or an integer (TypeError) or is below 1 (ValueError),
    naming it as `name`."""
    if top_k is None:
        return
    if not is_integer(top_k):
        raise TypeError(f"{name} must be an integer >= 1 or None, got {top_k!r}")
    if top_k < 1:
        raise ValueError(f"{name} must be an integer >= 1 or None, got {top_k!r}")


def ignored_when_greedy(
    top_k: int | None, top_p: float, names: tuple[str, str, str] = ("top_k", "top_p", "temperature")
) -> str | None:
    """The warning for sampling settings given at temperature 0, or None if none is given.

    Greedy decoding always takes the most likely token, so `top_k` and `top_p`
    change nothing, and a user who set them expected sampling. `names` are what
    the caller calls top_k, top_p and temperature (e.g. the command-line flags).
    """
    given = [
        f"{name}={value}"
        for name, value, off in zip(names[:2], (top_k, top_p), (None, 1), strict=True)
        if value != off
    ]
    if not given:
        return None
    verb = "has" if len(given) == 1 else "have"
    return (
        f"{' and '.join(given)} {verb} no effect at {names[2]} 0, which always picks the "
        f"most likely token; give {names[2]} > 0 to sample"
    )


def sampling_settings(
    temperature: float,
    top_k: int | None,
    top_p: float,
    stacklevel: int,
    prefix: str = "",
    names: tuple[str, str, str] = ("top_k", "top_p", "temperature"),
) -> tuple[int | None, float]:
    """Check the sampling arguments, each named as `prefix` plus its entry in `names` (the
    caller's names for top_k, top_p and temperature: "generate(): " and the arguments', or
    the command-line flags); at temperature 0, warn (at `stacklevel` above the caller)
    about a top_k or top_p given, and return them turned off, so that a caller handing
    them on to `generate` warns once, in its own words."""
    check_temperature(temperature, prefix + names[2])
    _check_top_k(top_k, prefix + names[0])
    check_top_p(top_p, prefix + names[1])
    if temperature != 0:
        return top_k, top_p
    ignored = ignored_when_greedy(top_k, top_p, names)
    if ignored:
        warnings.warn(prefix + ignored, stacklevel=stacklevel + 1)
    return None, 1.0


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
    top_p: float = 1.0,
) -> list[int]:
    """Up to `length` new token ids continuing `prefix` (the d2l chapter's predict_ch8).

    The prefix warms up the hidden state; then each predicted token is fed
    back in, drawn as `sample_next` draws it. Generation ends early after the
    `stop` token (e.g. `<eos>`), and `banned` tokens are never produced. At
    temperature 0, `top_k` or `top_p` warn once: greedy decoding ignores them.
    Runs under `no_grad`: no graph is kept.
    """
    if len(prefix) == 0:
        raise ValueError("generate(): the prefix must hold at least one token")
    if not is_integer(length):
        raise TypeError(f"generate(): length must be an integer >= 0, got {length!r}")
    if length < 0:
        raise ValueError(f"generate(): length must be an integer >= 0, got {length!r}")
    # stacklevel 3: past generate and no_grad's wrapper, at the caller.
    top_k, top_p = sampling_settings(temperature, top_k, top_p, 3, "generate(): ")
    rng = as_generator(generator)
    logits, state = model(np.asarray([prefix], dtype=np.int64))
    out: list[int] = []
    for _ in range(length):
        token = sample_next(logits.data[0, -1], temperature, top_k, rng, banned, top_p)
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
    top_p: float = 1.0,
) -> str:
    """The prefix followed by up to `length` generated tokens, as text.

    Special tokens are never generated (`<unk>`, and `<pad>`/`<bos>` of the
    sentence setup); a sentence model stops after `<eos>`, which is not shown.
    """
    top_k, top_p = sampling_settings(temperature, top_k, top_p, 2, "sample_text(): ")
    ids = encode_prompt(vocab, config, prefix)
    banned = never_generated(vocab)
    stop = vocab.stoi.get("<eos>")
    new = generate(model, ids, length, temperature, top_k, seed, banned, stop, top_p)
    shown = [t for t in vocab.decode(ids + new) if t not in ("<bos>", "<eos>")]
    return join_tokens(shown, config.level)
