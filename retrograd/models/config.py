"""`TrainConfig`: every knob of a language-model training run, with named presets.

`TrainingError`, the error a run stops with, lives here too: the trainer and
the checkpoint reader both raise it, and both import this module.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from retrograd.models.generation import check_temperature

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("none", "step", "plateau")
SCHEMES = ("sequential", "random", "sentences")
LEVELS = ("char", "word")
INITS = ("default", "d2l")
PREPROCESSING = ("d2l", "raw")


class TrainingError(RuntimeError):
    """Training cannot go on (e.g. a non-finite loss); the message says where and why."""


@dataclass
class TrainConfig:
    """A training run. The defaults are the main job: a character GRU on The Time Machine
    that trains in about two minutes on a busy 2-core machine (under a minute estimated on
    an idle one; docs/results.md)."""

    corpus: str | None = None
    level: str = "char"
    preprocessing: str = "d2l"
    max_corpus_tokens: int | None = None
    cell: str = "gru"
    hidden_size: int = 256
    num_layers: int = 1
    embedding_dim: int | None = 32
    init: str = "default"
    batch_size: int = 32
    num_steps: int = 35
    epochs: int = 8
    max_tokens: int | None = None
    optimizer: str = "adam"
    lr: float = 0.005
    clip: float | None = 1.0
    schedule: str = "plateau"
    scheme: str = "sequential"
    valid_fraction: float = 0.05
    seed: int = 0
    sample_every: int = 2
    sample_prefix: str = "time traveller "
    sample_length: int = 100
    sample_temperature: float = 0.7
    dtype: str = "float32"
    out_dir: str = "runs/timemachine"
    progress: bool | None = None

    def __post_init__(self) -> None:
        wrong_types = self._type_problems()
        if wrong_types:  # the range checks below would fail on them with Python's message
            raise TypeError("; ".join(wrong_types))
        problems = []
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        for name, allowed in (
            ("scheme", SCHEMES),
            ("level", LEVELS),
            ("preprocessing", PREPROCESSING),
            ("cell", ("rnn", "lstm", "gru")),
            ("dtype", ("float32", "float64")),
            ("init", INITS),
        ):
            if getattr(self, name) not in allowed:
                problems.append(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        for name in ("hidden_size", "num_layers", "batch_size", "num_steps", "epochs"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        try:
            check_temperature(self.sample_temperature, "sample_temperature")
        except (TypeError, ValueError) as err:
            problems.append(str(err))
        if not self.lr > 0 or not math.isfinite(self.lr):
            problems.append(f"lr must be a finite number > 0, got {self.lr}")
        if self.clip is not None and (not self.clip > 0 or not math.isfinite(self.clip)):
            problems.append(f"clip must be a finite number > 0, got {self.clip}")
        if self.seed < 0:
            problems.append(f"seed must be an integer >= 0, got {self.seed!r}")
        if not 0 <= self.valid_fraction < 1:
            problems.append(f"valid_fraction must be in [0, 1), got {self.valid_fraction}")
        for name in ("sample_length", "sample_every"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("max_tokens", "max_corpus_tokens"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1 or None, got {getattr(self, name)}")
        # An empty path is the current directory: a run would write there, or read it.
        if not self.out_dir.strip():
            problems.append("out_dir must name a directory, got an empty name")
        if self.corpus is not None and not self.corpus.strip():
            problems.append("corpus must name a file (or be None: the built-in), got ''")
        if self.embedding_dim is not None and self.embedding_dim < 1:
            problems.append(f"embedding_dim must be >= 1 or None, got {self.embedding_dim}")
        if problems:
            raise ValueError("; ".join(problems))

    def _type_problems(self) -> list[str]:
        """Each field whose value is not of its annotated kind (bool is not a number here)."""
        problems = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            kinds = f.type.split(" | ")
            if value is None and "None" in kinds:
                continue
            if "bool" in kinds:
                fits = isinstance(value, bool)
            elif "int" in kinds:
                fits = isinstance(value, Integral) and not isinstance(value, bool)
            elif "float" in kinds:
                fits = isinstance(value, Real) and not isinstance(value, bool)
            else:
                fits = isinstance(value, str)
            if not fits:
                problems.append(
                    f"{f.name} must be {' or '.join(kinds)}, got {type(value).__name__} {value!r}"
                )
        return problems

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        if not isinstance(data, dict):
            raise TypeError(f"configuration data must be a dict, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


PRESETS: dict[str, dict[str, Any]] = {
    # The Dive into Deep Learning chapter, exactly: 28 characters, one-hot input,
    # a tanh RNN of 512 units initialised normal(0, 0.01) with zero biases,
    # batches of 32 x 35, SGD at lr 1, clipping at 1,
    # the first 10,000 characters, sequential partitioning, no validation split.
    "d2l": {
        "level": "char",
        "preprocessing": "d2l",
        "max_corpus_tokens": 10_000,
        "cell": "rnn",
        "hidden_size": 512,
        "embedding_dim": None,
        "init": "d2l",
        "batch_size": 32,
        "num_steps": 35,
        "epochs": 500,
        "optimizer": "sgd",
        "lr": 1.0,
        "clip": 1.0,
        "schedule": "none",
        "scheme": "sequential",
        "valid_fraction": 0.0,
        "sample_every": 50,
        "sample_prefix": "time traveller ",
        "sample_length": 50,
        "sample_temperature": 0.0,
        "out_dir": "runs/d2l",
    },
}


def preset(name: str, **overrides: Any) -> TrainConfig:
    """The named preset's configuration, with overrides applied."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    return TrainConfig(**{**PRESETS[name], **overrides})
