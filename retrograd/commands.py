"""What each `retrograd` subcommand does, once its flags are parsed.

`COMMANDS` maps a subcommand's name to the function that runs it; `main` in
retrograd/cli.py, next to the argument parser, calls it and reports a `CLIError`
in one line. Turning train's flags into a `TrainConfig`, for a new run or a
resumed one, is part of the train command's work and lives here too.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

from retrograd.models.config import PRESETS, TrainConfig, preset

# CLI flag -> TrainConfig field, for flags that map one to one.
TRAIN_FLAGS = {
    "corpus": "corpus",
    "level": "level",
    "preprocessing": "preprocessing",
    "max_corpus_tokens": "max_corpus_tokens",
    "cell": "cell",
    "hidden_size": "hidden_size",
    "layers": "num_layers",
    "embedding_dim": "embedding_dim",
    "init": "init",
    "batch_size": "batch_size",
    "num_steps": "num_steps",
    "epochs": "epochs",
    "max_tokens": "max_tokens",
    "optimizer": "optimizer",
    "lr": "lr",
    "clip": "clip",
    "schedule": "schedule",
    "sampling": "scheme",
    "valid_fraction": "valid_fraction",
    "seed": "seed",
    "sample_every": "sample_every",
    "prefix": "sample_prefix",
    "sample_length": "sample_length",
    "sample_temperature": "sample_temperature",
    "dtype": "dtype",
    "out_dir": "out_dir",
}
# TrainConfig field -> its flag, for messages.
FLAG_OF = {field: "--" + flag.replace("_", "-") for flag, field in TRAIN_FLAGS.items()}


class CLIError(Exception):
    """A problem to report in one line, exiting with status 1."""


def _explicit_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The TrainConfig fields set by flags on this command line (not by --preset)."""
    overrides = {
        field: getattr(args, flag)
        for flag, field in TRAIN_FLAGS.items()
        if getattr(args, flag) is not None
    }
    if args.one_hot:
        overrides["embedding_dim"] = None
    if args.no_clip:
        overrides["clip"] = None
    if args.progress is not None:
        overrides["progress"] = args.progress
    return overrides


def _train_config(args: argparse.Namespace) -> TrainConfig:
    """A new run's configuration: the defaults or --preset, with the flags given."""
    overrides = _explicit_settings(args)
    if args.preset:
        return preset(args.preset, **overrides)
    return TrainConfig(**overrides)


def _as_flag(field: str, value: Any) -> str:
    """A setting as the flag that gives it, e.g. `--hidden-size 16`, `--one-hot`."""
    if field == "embedding_dim" and value is None:
        return "--one-hot"
    if value is None:
        return f"no {FLAG_OF[field]}"
    return f"{FLAG_OF[field]} {value}"


def _resume_config(args: argparse.Namespace) -> tuple[TrainConfig, dict[str, Any]]:
    """The configuration of the run in OUT_DIR, with the settings a resumed run may change,
    and its checkpoint (read once: `Trainer.resume` takes it as read).

    Settings that make the model, its data or its training state (cell, sizes,
    batches, optimizer, schedule, seed...) come from the checkpoint; a flag or
    --preset asking for another value is refused, naming both.
    """
    from retrograd.models.checkpoints import (
        CHECKPOINT,
        checkpoint_config,
        checkpoint_to_resume,
        resume_conflicts,
    )

    explicit = _explicit_settings(args)
    asked = {**PRESETS[args.preset], **explicit} if args.preset else explicit
    out_dir = asked.get("out_dir", TrainConfig.out_dir)
    path = Path(out_dir) / CHECKPOINT
    ckpt = checkpoint_to_resume(path)
    saved = ckpt["config"]
    conflicts = [(field, ours, theirs) for field, theirs, ours in resume_conflicts(saved, asked)]
    conflicts.sort(key=lambda conflict: conflict[0] not in explicit)  # flags, then --preset
    if conflicts:
        ours = [_as_flag(f, value) for f, value, _ in conflicts if f in explicit]
        from_preset = [_as_flag(f, value) for f, value, _ in conflicts if f not in explicit]
        if from_preset:
            ours.append(f"--preset {args.preset} ({', '.join(from_preset)})")
        theirs = ", ".join(_as_flag(field, value) for field, _, value in conflicts)
        one = len(conflicts) == 1
        raise CLIError(
            f"{', '.join(ours)} {'conflicts' if len(ours) == 1 else 'conflict'} with {path}, "
            f"trained with {theirs}; a resumed run keeps the settings it was trained with "
            f"(leave {'that flag' if one else 'those flags'} out, or start a new run in "
            "another --out-dir)"
        )
    config = checkpoint_config(ckpt, path).replace(
        **{**asked, "out_dir": out_dir, "progress": asked.get("progress")}
    )
    if "corpus" not in asked:
        _check_saved_corpus(config, path, "pass its location with --corpus")
    return config, ckpt


def _check_saved_corpus(config: TrainConfig, checkpoint: str | Path, advice: str) -> None:
    """Refuse a checkpoint's corpus that is not where it was (say, a relative path)."""
    if config.corpus is not None and not Path(config.corpus).is_file():
        where = "" if Path(config.corpus).is_absolute() else f" (seen from {Path.cwd()})"
        raise CLIError(
            f"{checkpoint} was trained on the corpus {config.corpus}, which is not a file"
            f"{where}; {advice}"
        )


def _train(args: argparse.Namespace) -> None:
    from retrograd.models.checkpoints import CHECKPOINT
    from retrograd.models.training import Trainer

    ckpt = None
    if args.resume:
        config, ckpt = _resume_config(args)
    else:
        config = _train_config(args)
        existing = Path(config.out_dir) / CHECKPOINT
        if existing.exists() and not args.overwrite:
            raise CLIError(
                f"{existing} holds the checkpoint of an earlier run: continue it with --resume, "
                "replace it with --overwrite, or pass another --out-dir"
            )
    trainer = Trainer(config)
    if ckpt is not None:
        trainer.resume(checkpoint=ckpt)
    size = sum(p.size for p in trainer.model.parameters())
    print(
        f"{config.cell} language model, {len(trainer.vocab)} tokens ({config.level} level), "
        f"{size:,} parameters; writing to {config.out_dir}"
    )
    result = trainer.run()
    # An interrupted epoch leaves half-updated weights: no sample from them.
    if result.history and not result.interrupted:
        print(f"\nfinal sample: {trainer.sample(config.sample_prefix, 2 * config.sample_length)}")
    print(f"checkpoint: {result.checkpoint or 'none written'}")
    if result.interrupted:
        raise KeyboardInterrupt  # main() reports it and exits with status 130


def _generate(args: argparse.Namespace) -> None:
    from retrograd.models.checkpoints import model_from_checkpoint
    from retrograd.models.generation import sample_text, sampling_settings

    if args.length < 0:
        raise CLIError(f"--length must be >= 0, got {args.length}")
    if args.seed < 0:
        raise CLIError(f"--seed must be >= 0, got {args.seed}")
    # Said here, in the flags' names: a top-k or top-p given at --temperature 0 comes back
    # turned off, so sample_text does not warn again.
    flags = ("--top-k", "--top-p", "--temperature")
    top_k, top_p = sampling_settings(args.temperature, args.top_k, args.top_p, 1, names=flags)
    model, vocab, config = model_from_checkpoint(args.checkpoint)
    text = sample_text(
        model, vocab, config, args.prefix, args.length, args.temperature, top_k, args.seed, top_p
    )
    print(text)


def _evaluate(args: argparse.Namespace) -> None:
    from retrograd.models.checkpoints import model_from_checkpoint
    from retrograd.models.data import build_dataset
    from retrograd.models.evaluation import evaluation_batches
    from retrograd.models.language_model import perplexity

    model, vocab, config = model_from_checkpoint(args.checkpoint)
    if args.corpus is not None:
        config = config.replace(corpus=args.corpus, valid_fraction=0.0, max_corpus_tokens=None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = build_dataset(config, vocab)
        batches, where = evaluation_batches(data, config, "train"), args.corpus
        _warn_unknown_targets(batches, vocab.unk, where)
    else:
        advice = "run evaluate where training ran, or measure another text with --corpus"
        _check_saved_corpus(config, args.checkpoint, advice)
        data = build_dataset(config, vocab)
        batches, where = evaluation_batches(data, config, "valid"), "validation split"
        if not batches:
            batches, where = evaluation_batches(data, config, "train"), "training text"
    if not batches:
        need = "one sentence" if config.scheme == "sentences" else f"{config.num_steps + 1} tokens"
        raise CLIError(f"{where} is too short to evaluate (it needs at least {need})")
    print(f"perplexity on {where}: {perplexity(model, batches, carry_state=False):.3f}")


def _warn_unknown_targets(batches: list, unk: int, where: str) -> None:
    """Say how many of the targets measured are tokens the model's vocabulary lacks: another
    text's perplexity scores them all as <unk>, which the number alone does not show."""
    import numpy as np

    from retrograd.models.language_model import token_count

    unknown = sum(int(np.count_nonzero(y == unk)) for _, y in batches)
    if unknown:
        total = sum(token_count(y) for _, y in batches)
        warnings.warn(
            f"{unknown:,} of the {total:,} tokens measured in {where} are not in the model's "
            "vocabulary: the perplexity scores them as <unk>",
            stacklevel=2,
        )


def _graph(args: argparse.Namespace) -> None:
    from retrograd.models.graph_demo import draw_model_graph

    path = draw_model_graph(
        checkpoint=args.checkpoint,
        prefix=args.prefix,
        cell=args.cell,
        steps=args.steps,
        hidden_size=args.hidden_size,
        layers=args.layers,
        gradients=args.gradients,
        output=Path(args.output or f"rnn_graph.{args.format or 'svg'}"),
        fmt=args.format,
    )
    print(f"wrote {path}")


COMMANDS = {"train": _train, "generate": _generate, "evaluate": _evaluate, "graph": _graph}
