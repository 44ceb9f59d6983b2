"""Shared benchmark helpers: alternating timed rounds and a plain table printer."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def alternate(
    runs: dict[str, Callable[[], object]], rounds: int = 5, repeat: int = 3, warmup: int = 2
) -> dict[str, float]:
    """Median seconds per call of each function, run A B C A B C ... in one process.

    The machine's speed drifts; alternating keeps the ratios fair.
    """
    for fn in runs.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            start = time.perf_counter()
            for _ in range(repeat):
                fn()
            samples[name].append((time.perf_counter() - start) / repeat)
    return {name: statistics.median(times) for name, times in samples.items()}


def print_table(header: list[str], rows: list[list[object]]) -> None:
    """Print rows as an aligned plain-text table."""
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for i, row in enumerate(cells):
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
