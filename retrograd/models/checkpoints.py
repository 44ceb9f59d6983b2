"""Language-model checkpoints: the file a training run writes, read back to resume or to use.

`Trainer.save` writes the state of a finished epoch as `CHECKPOINT` in the
run's directory, tagged with `FORMAT`; the functions here check such a file,
say what a resumed run must keep from it, and rebuild the trained model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from retrograd.models.builders import build_model
from retrograd.models.config import TrainConfig, TrainingError
from retrograd.models.language_model import RNNLanguageModel
from retrograd.models.vocab import Vocab
from retrograd.serialization import CheckpointError, load

CHECKPOINT = "checkpoint.ckpt"
FORMAT = "retrograd-language-model"
CHECKPOINT_KEYS = ("config", "vocab", "model", "optimizer", "scheduler", "rng", "epoch")
# Settings a resumed run keeps from its checkpoint: they make the model, the data it
# trains on, and the optimizer, schedule and random stream the checkpoint restores.
# The rest may change: how long to train (epochs, max_tokens), lr and clip, the
# samples, where the corpus and the run are (corpus, out_dir), progress.
RESUME_FIXED = (
    "level",
    "preprocessing",
    "max_corpus_tokens",
    "cell",
    "hidden_size",
    "num_layers",
    "embedding_dim",
    "init",
    "dtype",
    "scheme",
    "valid_fraction",
    "batch_size",
    "num_steps",
    "optimizer",
    "schedule",
    "seed",
)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """A language-model checkpoint; anything else raises `CheckpointError`."""
    ckpt = load(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(path, "not a retrograd language-model checkpoint")
    missing = [key for key in CHECKPOINT_KEYS if key not in ckpt]
    if missing:
        raise CheckpointError(path, f"language-model checkpoint lacks {', '.join(missing)}")
    return ckpt


def checkpoint_to_resume(path: str | Path) -> dict[str, Any]:
    """The checkpoint a run resumes from; a missing one raises TrainingError saying so."""
    path = Path(path)
    if not path.exists():
        raise TrainingError(
            f"no checkpoint to resume at {path}: train without --resume first, "
            "or pass the --out-dir of the run to continue"
        )
    if path.is_dir():
        raise TrainingError(f"no checkpoint to resume at {path}: it is a directory")
    ckpt = load_checkpoint(path)
    if not isinstance(ckpt["config"], dict):
        raise CheckpointError(path, "invalid configuration: not a dict")
    return ckpt


def resume_conflicts(saved: dict[str, Any], settings: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(name, checkpoint's value, value in `settings`) for each `RESUME_FIXED` setting that differs.

    A setting missing from either side (a checkpoint older than the setting) is not compared.
    """
    return [
        (name, saved[name], settings[name])
        for name in RESUME_FIXED
        if name in saved and name in settings and saved[name] != settings[name]
    ]


def checkpoint_config(ckpt: dict[str, Any], path: str | Path) -> TrainConfig:
    """The configuration a checkpoint was trained with; an invalid one raises CheckpointError."""
    try:
        return TrainConfig.from_dict(ckpt["config"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(path, f"invalid configuration: {err}") from None


def model_from_checkpoint(path: str | Path) -> tuple[RNNLanguageModel, Vocab, TrainConfig]:
    """Rebuild the trained model, its vocabulary and its configuration.

    A checkpoint whose parts are invalid or do not fit together (weights of
    another shape than its own configuration gives) raises `CheckpointError`
    naming the file.
    """
    ckpt = load_checkpoint(path)
    config = checkpoint_config(ckpt, path)
    try:
        vocab = Vocab.from_dict(ckpt["vocab"])
    except (TypeError, ValueError) as err:
        raise CheckpointError(path, f"invalid vocabulary: {err}") from None
    try:
        model = build_model(config, len(vocab), np.random.default_rng(0))
        model.load_state_dict(ckpt["model"])
    except (TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(
            path, f"its weights do not fit its own configuration and vocabulary: {err}"
        ) from None
    return model, vocab, config
