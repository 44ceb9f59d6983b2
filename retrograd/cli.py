"""The `retrograd` command: train, generate, evaluate and draw recurrent language models.

retrograd train                       # the main job: a character model of The Time Machine
retrograd train --preset d2l          # the Dive into Deep Learning chapter, exactly
retrograd train --resume --epochs 12  # continue the main job's run to epoch 12
retrograd generate --checkpoint runs/timemachine/checkpoint.ckpt --prefix "time traveller"
retrograd evaluate --checkpoint runs/timemachine/checkpoint.ckpt
retrograd graph --steps 4 --output rnn.svg
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _path_name(kind: str) -> Callable[[str], str]:
    """An argparse type for the name of a `kind` ("file", "directory") that is not empty:
    an empty one (say, an unset shell variable) would silently mean the default, or the
    current directory."""

    def check(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"must name a {kind}, got an empty name")
        return text

    return check


_file_name = _path_name("file")
_directory_name = _path_name("directory")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="retrograd", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a language model (the main job)")
    train.add_argument("--preset", choices=sorted(PRESETS), help="start from a named configuration")
    train.add_argument(
        "--corpus", type=_file_name, help="UTF-8 text file (default: the built-in Time Machine)"
    )
    train.add_argument("--level", choices=["char", "word"])
    train.add_argument("--preprocessing", choices=["d2l", "raw"])
    train.add_argument("--max-corpus-tokens", type=_positive_int)
    train.add_argument("--cell", choices=["rnn", "lstm", "gru"])
    train.add_argument("--hidden-size", type=_positive_int)
    train.add_argument("--layers", type=_positive_int)
    embedding = train.add_mutually_exclusive_group()
    embedding.add_argument("--embedding-dim", type=_positive_int)
    embedding.add_argument(
        "--one-hot", action="store_true", help="one-hot input instead of embedding"
    )
    train.add_argument("--init", choices=["default", "d2l"], help="d2l: normal(0, 0.01) weights")
    train.add_argument("--batch-size", type=_positive_int)
    train.add_argument("--num-steps", type=_positive_int, help="time steps per batch (BPTT)")
    train.add_argument("--epochs", type=_positive_int)
    train.add_argument("--max-tokens", type=_positive_int, help="stop after this many tokens")
    train.add_argument("--optimizer", choices=["sgd", "adam"])
    train.add_argument("--lr", type=float)
    clip = train.add_mutually_exclusive_group()
    clip.add_argument("--clip", type=float, help="global gradient-norm limit")
    clip.add_argument("--no-clip", action="store_true")
    train.add_argument(
        "--schedule",
        choices=["none", "step", "plateau"],
        help="step: halve the rate every max(EPOCHS // 3, 1) epochs (EPOCHS of the first "
        "start, kept on --resume); plateau: when validation perplexity stops falling",
    )
    train.add_argument("--sampling", choices=["sequential", "random", "sentences"])
    train.add_argument("--valid-fraction", type=float)
    train.add_argument("--seed", type=int)
    train.add_argument("--sample-every", type=int)
    train.add_argument("--prefix", help="prompt for the samples printed during training")
    train.add_argument("--sample-length", type=int)
    train.add_argument("--sample-temperature", type=float, help="0 samples greedily")
    train.add_argument("--dtype", choices=["float32", "float64"])
    train.add_argument(
        "--out-dir", type=_directory_name, help="where checkpoint, metrics and plot go"
    )
    start = train.add_mutually_exclusive_group()
    start.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in OUT_DIR with its checkpoint's settings; --epochs, "
        "--max-tokens, --lr, --clip, --corpus and the sample flags may change",
    )
    start.add_argument(
        "--overwrite",
        action="store_true",
        help="start a new run in an OUT_DIR that holds a checkpoint (replaced after epoch 1)",
    )
    train.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)

    generate = commands.add_parser("generate", help="continue a prompt with a trained model")
    generate.add_argument("--checkpoint", type=_file_name, required=True)
    generate.add_argument("--prefix", default="time traveller ")
    generate.add_argument("--length", type=int, default=200)
    generate.add_argument("--temperature", type=float, default=0.0, help="0: greedy")
    generate.add_argument(
        "--top-k", type=_positive_int, help="sample from the K most likely tokens only"
    )
    generate.add_argument(
        "--top-p",
        type=float,
        default=1.0,
        help="sample from the fewest most likely tokens whose probability reaches P "
        "(after --top-k; default 1: all)",
    )
    generate.add_argument("--seed", type=int, default=0)

    evaluate = commands.add_parser("evaluate", help="perplexity of a trained model")
    evaluate.add_argument("--checkpoint", type=_file_name, required=True)
    evaluate.add_argument(
        "--corpus", type=_file_name, help="text to evaluate on (default: the validation split)"
    )

    graph = commands.add_parser("graph", help="draw the unrolled graph of a recurrent model")
    graph.add_argument(
        "--checkpoint", type=_file_name, help="draw a trained model reading --prefix instead"
    )
    graph.add_argument("--prefix", help="with --checkpoint: the text read (default: 'time')")
    graph.add_argument(
        "--steps",
        type=_positive_int,
        help="time steps to unroll (default 4; with --checkpoint, the prefix's length: "
        "a longer prefix is cut, a shorter one continued by the model)",
    )
    fixed = "a --checkpoint's model is its own"
    graph.add_argument(
        "--cell", choices=["rnn", "lstm", "gru"], help=f"of the untrained model (rnn); {fixed}"
    )
    graph.add_argument("--hidden-size", type=_positive_int, help=f"likewise (8); {fixed}")
    graph.add_argument("--layers", type=_positive_int, help=f"likewise (1); {fixed}")
    graph.add_argument("--gradients", action="store_true", help="colour steps by gradient norm")
    graph.add_argument(
        "--output", type=_file_name, help="where the picture goes (default: rnn_graph.FORMAT)"
    )
    graph.add_argument("--format", choices=["svg", "png", "pdf", "dot"])
    for command in commands.choices.values():
        command.set_defaults(usage_error=command.error)
    return parser


def _usage_problem(args: argparse.Namespace) -> str | None:
    """A combination of flags that cannot work whatever the files say, or None."""
    if args.command == "graph" and args.prefix is not None and args.checkpoint is None:
        from retrograd.models.graph_demo import PREFIX_NEEDS_CHECKPOINT

        return PREFIX_NEEDS_CHECKPOINT
    return None


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
    from retrograd.models.generation import (
        check_temperature,
        check_top_p,
        ignored_when_greedy,
        sample_text,
    )

    if args.length < 0:
        raise CLIError(f"--length must be >= 0, got {args.length}")
    if args.seed < 0:
        raise CLIError(f"--seed must be >= 0, got {args.seed}")
    check_temperature(args.temperature, "--temperature")
    check_top_p(args.top_p, "--top-p")
    top_k, top_p = args.top_k, args.top_p
    if args.temperature == 0:
        ignored = ignored_when_greedy(top_k, top_p, ("--top-k", "--top-p", "--temperature"))
        if ignored:
            warnings.warn(ignored, stacklevel=2)
            top_k, top_p = None, 1.0  # said here, in the flags' names, not again by generate()
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 error, 2 bad arguments)."""
    args = _parser().parse_args(argv)
    problem = _usage_problem(args)
    if problem:
        args.usage_error(problem)  # exits with status 2, as argparse does
    from retrograd.autograd.rendering import RenderError
    from retrograd.models.config import TrainingError
    from retrograd.models.corpus import CorpusError
    from retrograd.serialization import CheckpointError

    shown: set[str] = set()

    def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
        # One line naming the command, not Python's file:line and source line; each text
        # once: a library that touches the warning filters (matplotlib does) makes Python
        # forget what it showed, and the same prompt is encoded again for each sample.
        if str(message) not in shown:
            shown.add(str(message))
            print(f"retrograd {args.command}: warning: {message}", file=sys.stderr)

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = show_warning
            COMMANDS[args.command](args)
    except (
        CLIError,
        CorpusError,
        CheckpointError,
        TrainingError,
        RenderError,
        ValueError,
        OSError,
    ) as err:
        print(f"retrograd {args.command}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"retrograd {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
