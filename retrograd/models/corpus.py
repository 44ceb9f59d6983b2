"""Reading a text corpus and turning it into tokens, at character or word level.

The built-in corpus is The Time Machine, shipped compressed with the package,
so the main job runs without a download.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import re
from importlib import resources
from pathlib import Path

TIME_MACHINE_SHA1 = "090b5e7e70c295757f55df93cb0a180b9691891a"
LEVELS = ("char", "word")
WORD = re.compile(r"[\w']+|[^\w\s]")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
PREPROCESSING = ("d2l", "raw")
NON_LETTERS = re.compile("[^A-Za-z]+")
# What editors write first in UTF-16 ("Unicode" on Windows) or UTF-32 text; the UTF-32 LE
# mark starts with the UTF-16 LE one.
WIDE_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)


class CorpusError(ValueError):
    """A corpus that cannot be used; the message names the file and the problem."""


def load_text(path: str | Path | None = None) -> str:
    """The text of a UTF-8 file, or of the built-in Time Machine when `path` is None."""
    if path is None:
        raw = gzip.decompress(
            resources.files("retrograd.models").joinpath("corpora/timemachine.txt.gz").read_bytes()
        )
        if hashlib.sha1(raw).hexdigest() != TIME_MACHINE_SHA1:
            raise CorpusError("built-in corpus timemachine.txt.gz is damaged (SHA-1 mismatch)")
        return raw.decode("ascii")
    path = Path(path)
    if path.is_dir():
        raise CorpusError(f"corpus {path} is a directory, not a text file")
    if not path.exists():
        raise CorpusError(f"corpus {path} does not exist")
    raw = path.read_bytes()
    if not raw.strip():
        raise CorpusError(f"corpus {path} is empty")
    if raw.startswith(WIDE_BOMS):
        raise CorpusError(f"corpus {path} is UTF-16 or UTF-32 text, not UTF-8 (save it as UTF-8)")
    if b"\x00" in raw:
        raise CorpusError(f"corpus {path} looks binary (it contains NUL bytes), not text")
    # A byte order mark (as Windows editors write) is not a character of the text.
    start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[start:].decode("utf-8")
    except UnicodeDecodeError as err:
        raise CorpusError(
            f"corpus {path} is not UTF-8 text (bad byte at offset {start + err.start})"
        ) from None


def preprocess(text: str, mode: str = "d2l") -> list[str]:
    """The corpus as lines.

    "d2l" reproduces the Dive into Deep Learning chapter: every run of
    non-letters becomes one space, lines are stripped and lowercased.
    "raw" keeps case and punctuation and only drops empty lines.
    """
    if mode not in PREPROCESSING:
        raise ValueError(f"preprocessing must be one of {PREPROCESSING}, got {mode!r}")
    lines = text.splitlines()
    if mode == "d2l":
        return [NON_LETTERS.sub(" ", line).strip().lower() for line in lines]
    return [line for line in lines if line.strip()]


def preprocess_prompt(prompt: str) -> str:
    """A prompt as d2l preprocessing leaves the middle of a text: each run of non-letters
    (punctuation, line breaks) is one space, lowercased; only the leading space goes.

    So "Time traveller!" continues after a space, as "time traveller " does.
    """
    return NON_LETTERS.sub(" ", prompt).lstrip().lower()


def tokenize(lines: list[str], level: str = "char") -> list[list[str]]:
    """Split each line into characters, or into words with punctuation marks as their own tokens."""
    if level == "char":
        return [list(line) for line in lines]
    if level == "word":
        return [WORD.findall(line) for line in lines]
    raise ValueError(f"level must be one of {LEVELS}, got {level!r}")


def sentences(text: str) -> list[str]:
    """The text split into sentences at '.', '!' or '?' followed by white space."""
    flat = " ".join(text.split())
    return [s for s in SENTENCE_END.split(flat) if s]


def join_tokens(tokens: list[str], level: str) -> str:
    """The inverse of tokenization for display: characters join directly, words with spaces."""
    return "".join(tokens) if level == "char" else " ".join(tokens)
