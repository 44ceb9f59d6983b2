"""Cost per time step of retrograd's RNN training step as the unrolled length T grows.

Run: python -m benchmarks.scaling [--rounds 5] [--steps 35 350 3500 10000]

The d2l model shrunk to H=128, B=8 (V=28, one-hot, tanh RNN, float32) so that
T = 10,000 stays affordable. For each T it times one training step (forward,
backward, clipping, SGD, the same code path as `benchmarks.rnn_step`) and
measures its peak traced memory (tracemalloc, which sees NumPy's buffers),
then divides both by T. The target is that the time per time step at
T = 10,000 stays within 1.2x of T = 35: no O(T^2) anywhere.

Each timed sample runs about 5,000 time steps (e.g. 143 steps at T = 35,
one at T = 10,000), so every T gets a similar share of the machine, and the
T values alternate round after round.

`--no-gc` pauses Python's cyclic garbage collector: it walks every live
graph object in each full collection, so a graph of 10,000 steps makes
collections expensive. Comparing both runs shows how much of any growth it causes.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import tracemalloc
from collections.abc import Callable

from benchmarks.common import alternate, print_table
from benchmarks.rnn_step import CONFIGS, Config, RetrogradStep, blas_threads, make_batches

TIME_STEPS_PER_SAMPLE = 5_000
TARGET = 1.2


def scaled_config(steps: int) -> Config:
    """The d2l config with H=128, B=8 and `steps` time steps."""
    return dataclasses.replace(CONFIGS["d2l"], name=f"T={steps}", hidden=128, batch=8, steps=steps)


def peak_bytes(step: RetrogradStep) -> int:
    """Peak traced bytes above the starting level during one call of `step`."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        step()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def repeated(step: RetrogradStep, times: int) -> Callable[[], None]:
    """A function calling `step` `times` times (one timed sample)."""

    def run() -> None:
        for _ in range(times):
            step()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[35, 350, 3_500, 10_000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--no-gc", action="store_true", help="pause Python's cyclic garbage collector (diagnosis)"
    )
    args = parser.parse_args()
    print(blas_threads() + (", cyclic GC paused" if args.no_gc else ""))
    if args.no_gc:
        gc.disable()
    steps = sorted(args.steps)
    models = {t: RetrogradStep(scaled_config(t), make_batches(scaled_config(t))) for t in steps}
    calls = {t: max(1, round(TIME_STEPS_PER_SAMPLE / t)) for t in steps}
    rounds = alternate(
        {t: repeated(models[t], calls[t]) for t in steps}, rounds=args.rounds, repeat=1, warmup=1
    )
    times = {t: rounds.median(t) for t in steps}
    memory = {t: peak_bytes(models[t]) for t in steps}

    first = steps[0]
    per_step = {t: times[t] / calls[t] / t for t in steps}
    per_byte = {t: memory[t] / t for t in steps}
    rows = []
    for t in steps:
        # Per round, as the other benchmarks' ratios: time per time step at t / at the first T.
        ratio = rounds.ratio(t, first) * (calls[first] * first) / (calls[t] * t)
        verdict = "met" if ratio <= TARGET else "NOT met"
        rows.append(
            [
                f"{t:,}",
                f"{times[t] / calls[t] * 1e3:,.1f}",
                f"{per_step[t] * 1e6:.1f}",
                f"{ratio:.2f} ({verdict})" if t != first else "1.00",
                f"{memory[t] / 2**20:,.1f}",
                f"{per_byte[t] / 1024:.1f}",
                f"{per_byte[t] / per_byte[first]:.2f}",
            ]
        )
    print(
        f"retrograd training step, V=28 H=128 B=8 one-hot, float32, {args.rounds} alternating "
        "rounds: median times, median of the per-round ratios; target: time per time step "
        f"within {TARGET}x of T={first}"
    )
    header = ["T", "ms/step", "us/time step", "ratio", "peak MiB", "KiB/time step", "ratio"]
    print_table(header, rows)


if __name__ == "__main__":
    main()
