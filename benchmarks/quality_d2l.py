"""Model quality against the d2l "RNN from scratch" chapter, and our default recipe.

Run: python -m benchmarks.quality_d2l [--budget-seconds N] [--epochs 10 50 100 500]

Trains the `d2l` preset (28 characters, one-hot input, tanh RNN of 512 units,
batches of 32 x 35, SGD at lr 1, clipping at 1, the first 10,000 characters,
sequential partitioning) with the `Trainer`, and reports its perplexity at the
given epochs, or as far as the time budget allows, next to the chapter's
published result: perplexity about 1.0 after 500 epochs, and the greedy sample
'time traveller for so it will be convenient to speak of him was e'.

Then trains the default recipe (`TrainConfig()`: a character GRU with an
embedding on the whole book, Adam, validation on the last 5%) for a few epochs,
and measures both models on that same held-out text: the d2l model memorises
its 10,000 characters, so its training perplexity says little about new text.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.common import print_table
from retrograd.models.batching import LanguageModelBatches
from retrograd.models.config import TrainConfig, preset
from retrograd.models.generation import sample_text
from retrograd.models.language_model import RNNLanguageModel, perplexity
from retrograd.models.training import Trainer

PREFIXES = ("time traveller ", "traveller ")
CHAPTER_PERPLEXITY = {500: "~1.0"}
CHAPTER_SAMPLE = "time traveller for so it will be convenient to speak of him was e"
SAMPLE_LENGTH = 50  # the chapter's predict_ch8 length
# Epochs trained per Trainer.run() call, so that the time budget is checked often.
CHUNK = 10


@dataclass
class Milestone:
    """The d2l model after `epoch` epochs."""

    epoch: int
    train_perplexity: float  # the epoch's running average, as the chapter reports it
    end_perplexity: float  # the model at the end of the epoch, on the same 10,000 characters
    wall_seconds: float
    sample: str


def machine() -> str:
    """One line naming the date, the machine and the versions the numbers come from."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            ln.split(":", 1)[1].strip()
            for ln in cpuinfo.read_text().splitlines()
            if ln.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return (
        f"{datetime.date.today().isoformat()}, {cpu}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"NumPy {np.__version__}"
    )


def end_perplexity(trainer: Trainer) -> float:
    """Perplexity of the current model on its training text, in sequential order.

    Uses its own generator so that measuring does not move the run's random stream.
    """
    config = trainer.config
    batches = LanguageModelBatches(
        trainer.data.train,
        config.batch_size,
        config.num_steps,
        "sequential",
        np.random.default_rng(0),
    )
    return perplexity(trainer.model, batches, carry_state=True)


def heldout_perplexity(model: RNNLanguageModel, ids: np.ndarray, num_steps: int) -> float:
    """Perplexity on rows of `num_steps` tokens, each from a zero state (like validation)."""
    rows = (len(ids) - 1) // num_steps
    x = ids[: rows * num_steps].reshape(rows, num_steps)
    y = ids[1 : rows * num_steps + 1].reshape(rows, num_steps)
    return perplexity(model, [(x[i : i + 64], y[i : i + 64]) for i in range(0, rows, 64)], False)


def greedy(trainer: Trainer, prefix: str) -> str:
    """The greedy continuation the chapter prints, whatever the run's sampling temperature."""
    return sample_text(trainer.model, trainer.vocab, trainer.config, prefix, SAMPLE_LENGTH)


def train_d2l(
    milestones: list[int], budget: float | None, out_dir: Path, seed: int, verbose: bool
) -> tuple[Trainer, list[Milestone]]:
    """Train the d2l preset up to the last milestone or until the budget would be exceeded.

    The Trainer has no time budget, so it runs in chunks of CHUNK epochs: each
    chunk raises `config.epochs` and calls `run()` again, which continues
    where the previous call stopped.
    """
    config = preset("d2l", out_dir=str(out_dir), progress=False, sample_every=0, seed=seed)
    trainer = Trainer(config, log=print if verbose else lambda line: None)
    targets = sorted(set(milestones) | set(range(CHUNK, max(milestones) + 1, CHUNK)))
    reached: list[Milestone] = []
    training = 0.0  # wall seconds inside Trainer.run(), measurements excluded
    for target in targets:
        if budget is not None and trainer.epoch:
            projected = training / trainer.epoch * target
            if projected > budget:
                print(f"time budget: stopping after epoch {trainer.epoch} ({training:.0f} s)")
                break
        trainer.config = trainer.config.replace(epochs=target)
        start = time.perf_counter()
        result = trainer.run()
        training += time.perf_counter() - start
        if target in milestones or result.interrupted:
            reached.append(milestone(trainer, training))
            print(
                f"d2l epoch {trainer.epoch}: train ppl {reached[-1].train_perplexity:.3f}, "
                f"{training:.0f} s"
            )
        if result.interrupted:
            break
    if trainer.epoch and (not reached or reached[-1].epoch != trainer.epoch):
        reached.append(milestone(trainer, training))
    return trainer, reached


def milestone(trainer: Trainer, wall_seconds: float) -> Milestone:
    record = trainer.result.history[-1]
    return Milestone(
        epoch=trainer.epoch,
        train_perplexity=record["train_perplexity"],
        end_perplexity=end_perplexity(trainer),
        wall_seconds=wall_seconds,
        sample=greedy(trainer, PREFIXES[0]),
    )


def train_default(epochs: int, out_dir: Path, seed: int, verbose: bool) -> tuple[Trainer, float]:
    """The default recipe for `epochs` epochs; returns the trainer and its wall time."""
    config = TrainConfig(epochs=epochs, out_dir=str(out_dir), progress=False, seed=seed)
    trainer = Trainer(config, log=print if verbose else lambda line: None)
    start = time.perf_counter()
    trainer.run()
    return trainer, time.perf_counter() - start


def report_d2l(trainer: Trainer, reached: list[Milestone]) -> None:
    print("\nd2l preset (sequential partitioning), greedy samples of", SAMPLE_LENGTH, "characters")
    rows = [
        [
            m.epoch,
            f"{m.train_perplexity:.3f}",
            f"{m.end_perplexity:.3f}",
            CHAPTER_PERPLEXITY.get(m.epoch, "-"),
            f"{m.wall_seconds:.0f}",
        ]
        for m in reached
    ]
    print_table(["epoch", "train ppl", "end-of-epoch ppl", "chapter", "wall s"], rows)
    speeds = [r["tokens_per_second"] for r in trainer.result.history[1:]]
    if speeds:
        print(f"median speed {np.median(speeds):,.0f} tokens/s (training steps only)")
    for m in reached:
        print(f"  epoch {m.epoch:>4}: {m.sample!r}")
    print(f"  chapter, 500: {CHAPTER_SAMPLE!r}")


def report_default(trainer: Trainer, seconds: float) -> None:
    print(f"\ndefault recipe (char GRU, whole book): {seconds:.0f} s")
    rows = [
        [
            r["epoch"],
            f"{r['train_perplexity']:.3f}",
            f"{r['valid_perplexity']:.3f}",
            f"{r['tokens_per_second']:,.0f}",
            f"{r['lr']:.3g}",
        ]
        for r in trainer.result.history
    ]
    print_table(["epoch", "train ppl", "valid ppl", "tokens/s", "lr"], rows)


def report_heldout(d2l: Trainer, default: Trainer) -> None:
    """Both models on the default recipe's validation text (unseen by either)."""
    if d2l.vocab.itos != default.vocab.itos:
        print("\n(vocabularies differ: no held-out comparison)")
        return
    ids = default.data.valid
    steps = default.config.num_steps
    print(f"\nheld-out text: the last {len(ids):,} characters of the book, rows of {steps}")
    print_table(
        ["model", "held-out ppl"],
        [
            ["d2l preset", f"{heldout_perplexity(d2l.model, ids, steps):.3f}"],
            ["default recipe", f"{heldout_perplexity(default.model, ids, steps):.3f}"],
        ],
    )


def report_samples(trainers: dict[str, Trainer]) -> None:
    print(f"\ngreedy samples, {SAMPLE_LENGTH} characters")
    for name, trainer in trainers.items():
        for prefix in PREFIXES:
            print(f"  {name:>14}: {greedy(trainer, prefix)!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--epochs",
        type=int,
        nargs="+",
        default=[10, 50, 100, 500],
        help="epochs at which to report the d2l model (default: 10 50 100 500)",
    )
    parser.add_argument(
        "--budget-seconds",
        type=float,
        help="stop the d2l run before it would exceed this wall time",
    )
    parser.add_argument(
        "--default-epochs",
        type=int,
        default=4,
        help="epochs of the default recipe (0 skips it; default 4)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out-dir",
        type=Path,
        help="keep checkpoints and metrics here (default: a temporary directory)",
    )
    parser.add_argument("--verbose", action="store_true", help="print the Trainer's epoch lines")
    args = parser.parse_args(argv)
    if any(e < 1 for e in args.epochs) or args.default_epochs < 0:
        parser.error("--epochs must be positive and --default-epochs non-negative")
    if args.budget_seconds is not None and args.budget_seconds <= 0:
        parser.error(f"--budget-seconds must be positive, got {args.budget_seconds}")

    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        root = args.out_dir if args.out_dir is not None else Path(tmp)
        d2l, reached = train_d2l(
            sorted(set(args.epochs)), args.budget_seconds, root / "d2l", args.seed, args.verbose
        )
        report_d2l(d2l, reached)
        trainers = {"d2l preset": d2l}
        if args.default_epochs:
            default, seconds = train_default(
                args.default_epochs, root / "default", args.seed, args.verbose
            )
            report_default(default, seconds)
            report_heldout(d2l, default)
            trainers["default recipe"] = default
        report_samples(trainers)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
