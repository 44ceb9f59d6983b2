"""Language-model checkpoints: the file a training run writes, read back to resume or to use.

`Trainer.save` writes the state of a finished epoch, or of an epoch stopped
by the token budget (with its `PARTIAL_EPOCH` position), as `CHECKPOINT` in
the run's directory, tagged with `FORMAT`; the functions here check such a
file, say what a resumed run must keep from it, and rebuild the trained model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from retrograd.autograd import Tensor
from retrograd.models.builders import build_model
from retrograd.models.config import TrainConfig, TrainingError
from retrograd.models.language_model import RNNLanguageModel, State
from retrograd.models.vocab import Vocab
from retrograd.serialization import CheckpointError, load

CHECKPOINT = "checkpoint.ckpt"
FORMAT = "retrograd-language-model"
CHECKPOINT_KEYS = ("config", "vocab", "model", "optimizer", "scheduler", "rng", "epoch")
# Where a run stopped by its token budget stands inside the epoch it did not finish:
# batches trained, the generator's state when that epoch began (it draws the epoch's
# batch order), the running loss sum, tokens and seconds, the hidden state the next
# sequential batch starts from (None for the other schemes) and the epoch's batch
# count. Checkpoints written before it existed, and those of finished epochs, hold none.
PARTIAL_EPOCH = "partial_epoch"
PARTIAL_EPOCH_KEYS = ("batches", "rng", "loss_sum", "tokens", "seconds", "state", "epoch_batches")
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
    """A language-model checkpoint; anything else raises `CheckpointError`.

    The path is checked by `load` (a path that is not one, or is empty, is
    refused there by name). A directory raises IsADirectoryError in the shell's
    words ("PATH: Is a directory"), naming the checkpoint a run wrote inside it:
    what a user who passed the run's directory meant.
    """
    try:
        ckpt = load(path)
    except IsADirectoryError:
        inside = Path(os.fsdecode(path)) / CHECKPOINT
        hint = f"; its run's checkpoint is {inside}" if inside.is_file() else ""
        raise IsADirectoryError(f"{path}: Is a directory, not a checkpoint file{hint}") from None
    return _checked(ckpt, path)


def _checked(ckpt: Any, path: str | Path) -> dict[str, Any]:
    """`ckpt` if it is a language-model checkpoint; else `CheckpointError` naming `path`."""
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(path, "not a retrograd language-model checkpoint")
    missing = [key for key in CHECKPOINT_KEYS if key not in ckpt]
    if missing:
        raise CheckpointError(path, f"language-model checkpoint lacks {', '.join(missing)}")
    return ckpt


def checkpoint_to_resume(path: str | Path, loaded: Any = None) -> dict[str, Any]:
    """The checkpoint a run resumes from: `loaded` if given (read from `path` already), else
    the file at `path`; a missing file raises TrainingError saying so.

    Passing `loaded` lets a caller that has read the file (to build the configuration)
    resume from it without reading it again; it is checked as the file would be.
    """
    path = Path(path)
    if loaded is None:
        if not path.exists():
            raise TrainingError(
                f"no checkpoint to resume at {path}: train without --resume first, "
                "or pass the --out-dir of the run to continue"
            )
        if path.is_dir():
            raise TrainingError(f"no checkpoint to resume at {path}: it is a directory")
        loaded = load(path)
    ckpt = _checked(loaded, path)
    if not isinstance(ckpt["config"], dict):
        raise CheckpointError(path, "invalid configuration: not a dict")
    partial = ckpt.get(PARTIAL_EPOCH)
    if partial is not None and (
        not isinstance(partial, dict) or any(key not in partial for key in PARTIAL_EPOCH_KEYS)
    ):
        raise CheckpointError(
            path, f"invalid {PARTIAL_EPOCH}: not a dict of {', '.join(PARTIAL_EPOCH_KEYS)}"
        )
    return ckpt


def state_arrays(state: State | None) -> Any:
    """A hidden state as the arrays a checkpoint holds (a tuple for an LSTM's (h, c))."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.data for s in state)
    return state.data


def state_from_arrays(arrays: Any) -> State | None:
    """The hidden state `state_arrays` saved, as tensors outside any graph."""
    if arrays is None:
        return None
    if isinstance(arrays, tuple | list):
        return tuple(Tensor(a) for a in arrays)
    return Tensor(arrays)


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
