"""Shared benchmark helpers: alternating timed rounds and a plain table printer."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Hashable


class Rounds:
    """Seconds per call of each run, one sample per round, taken side by side.

    A ratio is taken within each round and then the median over rounds: the
    runs of one round are tens of milliseconds apart, so the machine's speed
    drift between rounds cancels out of every ratio. `first` holds, when
    recorded, each round's time of a run's first call, straight after the
    other runs: a cold call, slowed by what they left in the caches.
    """

    def __init__(
        self,
        samples: dict[Hashable, list[float]],
        first: dict[Hashable, list[float]] | None = None,
    ) -> None:
        self.samples = samples
        self.first = first or {}

    def median(self, name: Hashable) -> float:
        """Median seconds per call of `name`."""
        return statistics.median(self.samples[name])

    def ratios(self, numerator: Hashable, denominator: Hashable) -> list[float]:
        """Time of `numerator` / time of `denominator`, one value per round, sorted."""
        pairs = zip(self.samples[numerator], self.samples[denominator])
        return sorted(a / b for a, b in pairs)

    def ratio(self, numerator: Hashable, denominator: Hashable) -> float:
        """Median over rounds of time of `numerator` / time of `denominator`."""
        return statistics.median(self.ratios(numerator, denominator))

    def spread(self, numerator: Hashable, denominator: Hashable) -> tuple[float, float]:
        """The middle half of the per-round ratios: their first and third quartiles."""
        values = self.ratios(numerator, denominator)
        if len(values) < 2:
            return values[0], values[0]
        low, _, high = statistics.quantiles(values, n=4, method="inclusive")
        return low, high


def alternate(
    runs: dict[Hashable, Callable[[], object]],
    rounds: int = 5,
    repeat: int = 3,
    warmup: int = 2,
    settle: int = 0,
    collect: bool = False,
) -> Rounds:
    """Time every run once per round, all runs in each round, in one process.

    The machine's speed drifts, so runs are compared within a round. Each
    round starts one run later than the one before (A B C, B C A, C A B, ...):
    no run always follows the same one, whose leftovers in the caches would
    otherwise help or hurt it every time. With `settle`, each run first makes
    that many untimed calls in every round, so that its `repeat` timed calls
    run as in a loop of its own (warm caches); the first of them is timed
    apart, into `Rounds.first`. With `collect`, Python's cyclic garbage
    collector runs, untimed, before each run's calls in a round and is paused
    during them: no run then pays for collections that another run's garbage
    triggered (a run may turn it back on for itself).
    """
    for fn in runs.values():
        for _ in range(warmup):
            fn()
    names = list(runs)
    samples: dict[Hashable, list[float]] = {name: [] for name in names}
    first: dict[Hashable, list[float]] = {name: [] for name in names} if settle else {}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            fn = runs[name]
            paused = collect and gc.isenabled()
            if collect:
                gc.collect()
            if paused:
                gc.disable()
            for call in range(settle):
                start = time.perf_counter()
                fn()
                if call == 0:
                    first[name].append(time.perf_counter() - start)
            start = time.perf_counter()
            for _ in range(repeat):
                fn()
            samples[name].append((time.perf_counter() - start) / repeat)
            if paused:
                gc.enable()
    return Rounds(samples, first)


def print_table(header: list[str], rows: list[list[object]]) -> None:
    """Print rows as an aligned plain-text table."""
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for i, row in enumerate(cells):
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
