"""The benchmark harness times a library row alternately with the hand-written code of its
model, and hands the median of those rounds to compare."""

from __future__ import annotations

import statistics
from types import SimpleNamespace
from typing import Any

import pytest

from tests.benchmarks.conftest import MEASURED, Bench, hand_rounds


class FakeBenchmark:
    """What Bench uses of pytest-benchmark's fixture."""

    def __init__(self, disabled: bool = False) -> None:
        self._timer = MEASURED
        self.disabled = disabled
        self.extra_info: dict[str, Any] = {}
        self.group = self.name = ""
        self.rounds = 0

    def pedantic(self, fn: Any, rounds: int) -> None:
        for _ in range(rounds):
            fn()
        self.rounds = rounds


def make_bench(disabled: bool = False, **hand: Any) -> tuple[Bench, FakeBenchmark]:
    options = {"benchmark_max_time": 0.0, "benchmark_min_rounds": 4}
    config = SimpleNamespace(getoption=options.__getitem__)
    benchmark = FakeBenchmark(disabled)
    bench = Bench(benchmark, config, "mutex", "100-tasks-x-100-increments",  # type: ignore[arg-type]
                  hand=hand or None)
    return bench, benchmark


def test_a_library_row_alternates_with_the_hand_written_code_of_its_model() -> None:
    order: list[str] = []

    def hand_round(params: dict[str, Any]) -> None:
        order.append("hand")

    bench, benchmark = make_bench(**hand_rounds(None, None, hand_round))
    bench.sync("threads", lambda: order.append("lib"))
    # The warm-up of each, then pairs whose first side changes every time.
    assert order == ["lib", "hand", "lib", "hand", "hand", "lib", "lib", "hand", "hand", "lib"]
    assert benchmark.rounds == 4
    assert benchmark.extra_info["paired_hand_seconds"] >= 0


@pytest.mark.parametrize("variant", ["hand-written (threads)", "go", "bare threading.Lock",
                                     "threads, a fresh one each time", "asyncio"])
def test_a_row_that_is_no_library_variant_of_that_model_is_timed_alone(variant: str) -> None:
    order: list[str] = []
    bench, benchmark = make_bench(threads=lambda params: lambda: order.append("hand"))
    bench.sync(variant, lambda: order.append("lib"))
    assert order == ["lib"] * 5
    assert "paired_hand_seconds" not in benchmark.extra_info


def test_an_async_row_alternates_in_its_own_event_loop() -> None:
    order: list[str] = []

    async def hand_round() -> None:
        order.append("hand")

    async def lib_round() -> None:
        order.append("lib")

    bench, benchmark = make_bench()
    bench.on_loop("anyio/trio", "trio", lib_round, hand=hand_round)
    assert order.count("lib") == order.count("hand") == 5
    assert order[2:6] == ["lib", "hand", "hand", "lib"]
    assert benchmark.extra_info["backend"] == "trio"
    assert "paired_hand_seconds" in benchmark.extra_info


def test_plain_pytest_runs_the_library_row_once_and_not_the_hand_written_code() -> None:
    order: list[str] = []
    bench, benchmark = make_bench(disabled=True,
                                  threads=lambda params: lambda: order.append("hand"))
    bench.sync("threads", lambda: order.append("lib"))
    assert order == ["lib"]  # the hand-written row runs once in its own test
    assert "paired_hand_seconds" not in benchmark.extra_info


def test_the_baseline_is_the_median_of_the_hand_written_rounds() -> None:
    bench, benchmark = make_bench()
    bench._baseline([3.0, 1.0, 2.0, 10.0])
    assert benchmark.extra_info["paired_hand_seconds"] == statistics.median([3, 1, 2, 10])
