"""The `retrograd` command: train, generate, evaluate and draw recurrent language models.

retrograd train                       # the main job: a character model of The Time Machine
retrograd train --preset d2l          # the Dive into Deep Learning chapter, exactly
retrograd train --resume --epochs 12  # continue the main job's run to epoch 12
retrograd generate --checkpoint runs/timemachine/checkpoint.ckpt --prefix "time traveller"
retrograd evaluate --checkpoint runs/timemachine/checkpoint.ckpt
retrograd graph --steps 4 --output rnn.svg

This file holds the argument parser and `main`, which runs a subcommand and turns its
errors and warnings into one-line messages; what each subcommand does is in
retrograd/commands.py.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence

from retrograd.commands import COMMANDS, CLIError

# Re-exported: the configuration a new run takes from _parser()'s flags.
from retrograd.commands import _train_config as _train_config
from retrograd.models.config import PRESETS


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
