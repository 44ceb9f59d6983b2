"""What a training run shows and leaves beside its checkpoint: log lines, progress bars,
`metrics.jsonl` and the perplexity plot."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from retrograd.models.config import TrainConfig

METRICS = "metrics.jsonl"
PLOT = "perplexity.png"


def record_line(heading: str, record: dict[str, Any]) -> str:
    """One line: the epoch (`heading`), its perplexities, speed and learning rate."""
    valid = record["valid_perplexity"]
    return (
        f"{heading}  train ppl {record['train_perplexity']:.2f}"
        + (f"  valid ppl {valid:.2f}" if valid is not None else "")
        + f"  {record['tokens_per_second']:,.0f} tokens/s  lr {record['lr']:.3g}"
    )


def write_metrics(out_dir: Path, history: list[dict[str, Any]]) -> None:
    """The run's epoch records as JSON lines, one per epoch (rewritten whole each time)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(record) for record in history]
    (out_dir / METRICS).write_text("\n".join(lines) + "\n")


def plot_history(out_dir: Path, history: list[dict[str, Any]], log: Callable[[str], None]) -> None:
    """Train (and valid) perplexity per epoch, on a log scale, saved as `perplexity.png`."""
    if not history:
        return
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("(no perplexity plot: pip install 'retrograd[plot]' for matplotlib)")
        return
    # A partial epoch stands at the fraction of it trained.
    epochs = [
        r["epoch"] - 1 + r["batches"] / r["epoch_batches"] if r.get("partial") else r["epoch"]
        for r in history
    ]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, [r["train_perplexity"] for r in history], label="train")
    valid = [r["valid_perplexity"] for r in history]
    if all(v is not None for v in valid):
        ax.plot(epochs, valid, label="valid")
    ax.set_xlabel("epoch")
    ax.set_ylabel("perplexity")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / PLOT)
    plt.close(fig)


def progress(batches: Any, epoch: int, config: TrainConfig, done: int, total: int) -> Any:
    """A tqdm bar on a terminal (or when asked), plain iteration otherwise.

    `batches` are what is left of the epoch's `total` after the `done` a resumed run skips.
    """
    show = config.progress if config.progress is not None else sys.stderr.isatty()
    if not show:
        return batches
    from tqdm import tqdm

    desc = f"epoch {epoch}/{config.epochs}"
    return tqdm(batches, desc=desc, initial=done, total=total, leave=False, unit="batch")
