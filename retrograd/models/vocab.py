"""`Vocab`: tokens <-> indices, most frequent first, with `<unk>` and reserved tokens."""

from __future__ import annotations

import json
import operator
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

UNK = "<unk>"


class Vocab:
    """A token vocabulary ordered by frequency (ties by first appearance).

    Index 0 is `<unk>`, then the reserved tokens (e.g. `<pad>`, `<bos>`,
    `<eos>`) in the order given, then the corpus tokens seen at least
    `min_freq` times, at most `max_size` tokens in all. A `min_freq` of 0
    (d2l's default) keeps every token, as 1 does.
    """

    def __init__(
        self,
        tokens: Iterable[str] | Iterable[Sequence[str]] = (),
        min_freq: int = 1,
        max_size: int | None = None,
        reserved_tokens: Sequence[str] = (),
    ) -> None:
        if isinstance(reserved_tokens, str):
            raise TypeError(
                f"reserved_tokens must be a sequence of tokens, got the string {reserved_tokens!r}"
                f" (write [{reserved_tokens!r}])"
            )
        if min_freq < 0:
            raise ValueError(f"min_freq must be >= 0, got {min_freq}")
        # Each reserved token once, in the order given; <unk> is always index 0.
        reserved = [t for t in dict.fromkeys(reserved_tokens) if t != UNK]
        if max_size is not None and max_size < 1 + len(reserved):
            raise ValueError(
                f"max_size={max_size} leaves no room beyond <unk> and {len(reserved)} "
                "reserved tokens"
            )
        counts = Counter(_flatten(tokens))
        self.itos: list[str] = [UNK, *reserved]
        self.reserved = tuple(self.itos[1:])
        taken = set(self.itos)
        for token, count in sorted(counts.items(), key=lambda kv: kv[1], reverse=True):
            if count < min_freq or (max_size is not None and len(self.itos) >= max_size):
                break
            if token not in taken:
                self.itos.append(token)
                taken.add(token)
        self.stoi = {token: i for i, token in enumerate(self.itos)}
        self.counts = dict(counts)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __getitem__(self, tokens: str | list[str] | tuple[str, ...]) -> int | list[int]:
        """The index of a token (0, `<unk>`, when unknown); a list of indices for a list or
        tuple of tokens, as d2l's Vocab."""
        if isinstance(tokens, list | tuple):
            return self.encode(tokens)
        return self.stoi.get(tokens, self.unk)

    def __repr__(self) -> str:
        shown = ", ".join(repr(t) for t in self.itos[:8])
        return f"Vocab(size={len(self)}, tokens=[{shown}{', ...' if len(self) > 8 else ''}])"

    @property
    def unk(self) -> int:
        return 0

    def encode(self, tokens: Sequence[str], warn_unknown: bool = False) -> list[int]:
        """Indices of the tokens; unknown tokens map to `<unk>` (with a warning if asked)."""
        if warn_unknown:
            unknown = sorted({t for t in tokens if t not in self.stoi})
            if unknown:
                shown = ", ".join(repr(t) for t in unknown[:10])
                warnings.warn(
                    f"{len(unknown)} token(s) not in the vocabulary map to <unk>: {shown}",
                    stacklevel=2,
                )
        return [self.stoi.get(t, self.unk) for t in tokens]

    def decode(self, indices: Iterable[int]) -> list[str]:
        """Tokens of the indices; an index that is not an integer raises TypeError, one out
        of range IndexError, naming it."""
        out = []
        for i in indices:
            try:
                index = operator.index(i)
            except TypeError:
                raise TypeError(f"decode(): index {i!r} is not an integer") from None
            if not 0 <= index < len(self.itos):
                raise IndexError(
                    f"decode(): index {index} is out of range for a vocabulary of {len(self)}"
                )
            out.append(self.itos[index])
        return out

    def to_dict(self) -> dict:
        """A JSON-able description that `from_dict` restores exactly."""
        return {"itos": list(self.itos), "reserved": list(self.reserved)}

    @classmethod
    def from_dict(cls, data: dict) -> Vocab:
        if not isinstance(data, dict) or not isinstance(data.get("itos"), list):
            raise ValueError("vocabulary data must be a dict with an 'itos' list of tokens")
        itos = list(data["itos"])
        if not itos or itos[0] != UNK or len(set(itos)) != len(itos):
            raise ValueError("vocabulary data must start with <unk> and hold unique tokens")
        vocab = cls.__new__(cls)
        vocab.itos = itos
        vocab.reserved = tuple(data.get("reserved", ()))
        vocab.stoi = {t: i for i, t in enumerate(itos)}
        vocab.counts = {}
        return vocab

    def save(self, path: str | Path) -> None:
        """Write the vocabulary as UTF-8 JSON, whatever the machine's locale: a file saved
        here loads on a machine whose default encoding is ASCII or cp1252."""
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        """Read a vocabulary written by `save` (UTF-8 JSON)."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _flatten(tokens: Iterable) -> Iterable[str]:
    for item in tokens:
        if isinstance(item, str):
            yield item
        else:
            yield from item
