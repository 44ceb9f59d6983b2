"""Peak memory of one RNN training step: retrograd against the hand-written NumPy BPTT.

Run: python -m benchmarks.memory [--config d2l small tiny word] [--where 12]

Memory is measured with tracemalloc, which also sees NumPy's array buffers
(NumPy reports them to it), as the peak above the level before the step:
parameters and optimizer state exist before and are not counted; the graph,
saved activations, gradients and temporaries are. The target is at most
1.3x the NumPy reference on the d2l config. PyTorch allocates outside
tracemalloc's view, so it is not compared here.

"held" is what a step leaves allocated until the next one: a training loop
keeps the carried state (and `loss`) until it makes the next ones, and
whatever the graph behind them holds stays alive with them, on top of the
next step's peak (retrograd's "held" also counts the parameters' `.grad`
arrays, which live until the next `zero_grad`). "peak + held" is therefore
what a loop really needs.

`--where N` also lists the N source lines holding the most memory while the
retrograd graph is alive (after the forward pass and the loss, before backward).
"""

from __future__ import annotations

import argparse
import tracemalloc
from collections.abc import Callable

from benchmarks.common import print_table
from benchmarks.rnn_step import (
    CONFIGS,
    Config,
    NumpyStep,
    RetrogradStep,
    make_batches,
    short_path,
)

TARGET = 1.3
MIB = 2**20


def step_bytes(step: Callable[[], object]) -> tuple[int, int]:
    """(peak, held): traced bytes above the starting level during one call of `step`, and
    those of its allocations still alive after it (kept until the next step)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        step()
        current, peak = tracemalloc.get_traced_memory()
        return peak - base, current - base
    finally:
        tracemalloc.stop()


def floor_bytes(config: Config) -> int:
    """What any BPTT step must hold at once, in float32: inputs, states, logits, gradients.

    The one-hot (or embedded) inputs (T*B, D), their projections and the hidden
    states (T*B, H each), the logits (T*B, V), and one gradient per parameter.
    """
    rows = config.steps * config.batch
    dim = config.embedding_dim or config.vocab
    h, v = config.hidden, config.vocab
    activations = rows * (dim + 2 * h + v)
    grads = dim * h + h * h + h + h * v + v + (v * dim if config.embedding_dim else 0)
    return 4 * (activations + grads)


def where(config: Config, top: int) -> None:
    """Print the source lines holding the most traced memory while the graph is alive."""
    step = RetrogradStep(config, make_batches(config))
    step()
    tokens, targets = step.batches[0]
    tracemalloc.start()
    try:
        logits, _ = step.model(tokens, step.state)
        loss = step.model.loss(logits, targets)
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    stats = snapshot.statistics("lineno")
    total = sum(s.size for s in stats)
    print(
        f"\nretrograd, {config.name}: {total / MIB:.1f} MiB held after forward + loss "
        f"(loss {loss.item():.3f})"
    )
    rows = [
        [
            f"{s.size / MIB:.2f}",
            s.count,
            f"{short_path(s.traceback[0].filename)}:{s.traceback[0].lineno}",
        ]
        for s in stats[:top]
    ]
    print_table(["MiB", "blocks", "allocated at"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--where", type=int, default=0, help="list the top N allocating lines")
    args = parser.parse_args()
    rows = []
    for name in args.config:
        config = CONFIGS[name]
        batches = make_batches(config)
        ours, ref = RetrogradStep(config, batches), NumpyStep(config, batches)
        for step in (ours, ref):  # warm-up: optimizer state and caches exist before measuring
            step()
        (peak, held), (ref_peak, ref_held) = step_bytes(ours), step_bytes(ref)
        ratio = peak / ref_peak
        verdict = (
            f" (<= {TARGET}: {'met' if ratio <= TARGET else 'NOT met'})" if name == "d2l" else ""
        )
        rows.append(
            [
                name,
                f"{peak / MIB:.2f}",
                f"{held / MIB:.2f}",
                f"{ref_peak / MIB:.2f}",
                f"{ref_held / MIB:.2f}",
                f"{floor_bytes(config) / MIB:.2f}",
                f"{ratio:.2f}{verdict}",
                f"{(peak + held) / (ref_peak + ref_held):.2f}",
            ]
        )
    print("peak traced memory of one float32 training step (MiB), above the level before it")
    header = ["config", "retrograd peak", "retrograd held", "numpy peak", "numpy held", "floor"]
    print_table([*header, "peak ratio", "peak + held ratio"], rows)
    for name in args.config if args.where else ():
        where(CONFIGS[name], args.where)


if __name__ == "__main__":
    main()
