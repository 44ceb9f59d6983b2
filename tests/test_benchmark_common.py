"""The benchmarks' timing helpers: ratios taken within rounds, runs in rotating order."""

import gc

import pytest

from benchmarks.common import Rounds, alternate


def test_alternate_rotates_which_run_goes_first_each_round() -> None:
    calls: list[str] = []
    runs = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    rounds = alternate(runs, rounds=4, repeat=1, warmup=0)
    assert calls == list("abcbcacababc")
    assert {name: len(times) for name, times in rounds.samples.items()} == dict(a=4, b=4, c=4)


def test_ratios_are_taken_within_each_round_before_the_median() -> None:
    # Per round, b / a is 2, 1.5 and 3: median 2. The ratio of the medians would be 3 / 2.
    rounds = Rounds({"a": [1.0, 2.0, 3.0], "b": [2.0, 3.0, 9.0]})
    assert rounds.ratio("b", "a") == 2.0
    assert rounds.median("a") == 2.0 and rounds.median("b") == 3.0
    uneven = Rounds({"a": [1.0, 1.0, 1.0, 1.0, 1.0], "b": [1.0, 2.0, 3.0, 4.0, 5.0]})
    assert uneven.ratios("b", "a") == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert uneven.spread("b", "a") == pytest.approx((2.0, 4.0))
    assert Rounds({"a": [2.0], "b": [3.0]}).spread("b", "a") == (1.5, 1.5)


def test_settling_calls_are_untimed_but_the_first_is_recorded_as_cold(monkeypatch) -> None:
    # A fake clock: each call of a run takes 5 s right after the other run, then 1 s.
    clock = [0.0]
    last: list[str] = []

    def run(name: str) -> None:
        clock[0] += 1.0 if last and last[-1] == name else 5.0
        last.append(name)

    monkeypatch.setattr("benchmarks.common.time.perf_counter", lambda: clock[0])
    runs = {name: (lambda name=name: run(name)) for name in "ab"}
    rounds = alternate(runs, rounds=3, repeat=2, warmup=0, settle=2)
    assert "".join(last) == "aaaabbbb" + "bbbbaaaa" + "aaaabbbb"
    assert rounds.samples == {"a": [1.0] * 3, "b": [1.0] * 3}
    # A round that starts with the run that ended the one before finds it warm.
    assert rounds.first == {"a": [5.0, 5.0, 1.0], "b": [5.0, 1.0, 5.0]}
    assert alternate(runs, rounds=1, repeat=1, warmup=0).first == {}


def test_collect_pauses_the_collector_during_the_calls_and_restores_it() -> None:
    states: list[bool] = []
    runs = {name: (lambda: states.append(gc.isenabled())) for name in "ab"}
    assert gc.isenabled()
    alternate(runs, rounds=2, repeat=2, warmup=0, settle=1, collect=True)
    assert states == [False] * 12
    assert gc.isenabled()
    gc.disable()
    try:  # a collector the caller paused stays paused
        alternate(runs, rounds=1, repeat=1, warmup=0, collect=True)
        assert not gc.isenabled()
    finally:
        gc.enable()
    states.clear()
    alternate(runs, rounds=1, repeat=1, warmup=0)
    assert states == [True, True]
