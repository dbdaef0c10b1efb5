"""rate_limit: many tasks acquiring from one limiter, against the floor the rate sets, and the
cost of an acquire when the rate never binds (a huge rate and burst).

``aiolimiter`` is the library a user would pick instead (a leaky bucket of ``max_rate``
units per ``time_period``), set up to the same rate and burst and measured in the same run.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from aiolimiter import AsyncLimiter

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.benchmarks import memory
from tests.benchmarks.conftest import (
    Bench,
    GoProcess,
    hand_rounds,
    hand_written,
    run_hand_written,
    variants,
)

PATTERN = "rate_limit"


def floor(params: dict[str, Any]) -> float | None:
    """After the burst, one call per 1 / rate: no limiter can admit them faster."""
    rest = params["calls"] - params["burst"]
    return rest / params["rate"] if rest > 0 and params["rate"] < 1e6 else None


def shares(params: dict[str, Any]) -> list[int]:
    """How many calls each task makes: calls spread over tasks, as the Go side does."""
    calls, tasks = params["calls"], params["tasks"]
    return [calls // tasks + (t < calls % tasks) for t in range(tasks)]


def aiolimiter_acquire(rate: float, *, burst: int) -> Callable[[], Awaitable[Any]]:
    # aiolimiter holds max_rate units and drains them over time_period: a bucket of *burst*
    # that refills at *rate* is max_rate=burst, time_period=burst / rate.
    limiter = AsyncLimiter(max_rate=burst, time_period=burst / rate)
    return limiter.acquire


@pytest.mark.parametrize(
    ("variant", "backend", "make"),
    variants(
        ("asyncio", "asyncio", lambda r, b: cp_asyncio.RateLimiter(r, burst=b).acquire),
        ("asyncio+uvloop", "uvloop", lambda r, b: cp_asyncio.RateLimiter(r, burst=b).acquire),
        ("anyio/asyncio", "asyncio", lambda r, b: cp_anyio.RateLimiter(r, burst=b).acquire),
        ("anyio/trio", "trio", lambda r, b: cp_anyio.RateLimiter(r, burst=b).acquire),
        ("aiolimiter (peer)", "asyncio", lambda r, b: aiolimiter_acquire(r, burst=b)),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, make: Any) -> None:
    p = bench.params

    async def one_round() -> None:
        acquire = make(p["rate"], p["burst"])  # a fresh, full bucket every round

        async def task(calls: int) -> None:
            for _ in range(calls):
                await acquire()

        async with anyio.create_task_group() as tg:
            for calls in shares(p):
                tg.start_soon(task, calls)

    bench.on_loop(variant, backend, one_round)


async def _tick_asyncio() -> float:
    return asyncio.get_running_loop().time()


async def _tick_anyio() -> float:
    return anyio.current_time()


@pytest.mark.parametrize(("variant", "tick"), variants(
    ("bare await: loop.time()", _tick_asyncio),
    ("bare await: anyio.current_time()", _tick_anyio),
))
def test_bare_clock(bench: Bench, variant: str, tick: Any) -> None:
    """When the rate never binds, an acquire is a coroutine that reads the clock and does a
    little arithmetic: these rows are that coroutine and that clock alone, asyncio's and
    anyio's (which asks which event loop runs on every call), to split anyio's cost from ours."""
    p = bench.params
    if p["rate"] < 1e6:
        pytest.skip("the baseline is for the unlimited workload")

    async def one_round() -> None:
        async def task(calls: int) -> None:
            for _ in range(calls):
                await tick()

        async with anyio.create_task_group() as tg:
            for calls in shares(p):
                tg.start_soon(task, calls)

    bench.on_loop(variant, "asyncio", one_round)


# --- hand-written: a time.monotonic token bucket under a lock, as a user writes it -------------

class _Bucket:
    """*burst* tokens, refilled at *rate* a second; a caller takes one or sleeps for it, holding
    the lock so that callers go one at a time, in the order they came."""

    def __init__(self, rate: float, burst: int, lock: Any) -> None:
        self.rate, self.burst, self.tokens, self.lock = rate, burst, float(burst), lock
        self.last = time.monotonic()

    def take(self) -> float:
        """Take a token if there is one (0.0); else the seconds until there is."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


def _hand_written_async(new_lock: Any, sleep: Any, start: Any) -> Any:
    async def one_round(p: dict[str, Any]) -> None:
        bucket = _Bucket(p["rate"], p["burst"], new_lock())

        async def acquire() -> None:
            async with bucket.lock:
                while wait := bucket.take():
                    await sleep(wait)

        async def task(calls: int) -> None:
            for _ in range(calls):
                await acquire()

        await start(task, shares(p))

    return one_round


async def _asyncio_start(task: Any, shares: list[int]) -> None:
    async with asyncio.TaskGroup() as tg:
        for calls in shares:
            tg.create_task(task(calls))


async def _anyio_start(task: Any, shares: list[int]) -> None:
    async with anyio.create_task_group() as tg:
        for calls in shares:
            tg.start_soon(task, calls)


def hand_written_threads(p: dict[str, Any]) -> None:
    bucket = _Bucket(p["rate"], p["burst"], threading.Lock())

    def task(calls: int) -> None:
        for _ in range(calls):
            with bucket.lock:
                while wait := bucket.take():
                    time.sleep(wait)

    threads = [threading.Thread(target=task, args=(c,)) for c in shares(p)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# The hand-written code of each model: its own rows, and the rounds each library row is
# timed alternately with.
HAND = (
    _hand_written_async(asyncio.Lock, asyncio.sleep, _asyncio_start),
    _hand_written_async(anyio.Lock, anyio.sleep, _anyio_start),
    hand_written_threads,
)
HAND_ROUNDS = hand_rounds(*HAND)


@pytest.mark.parametrize(("variant", "backend", "one_round"), hand_written(*HAND))
def test_hand_written(bench: Bench, variant: str, backend: str, one_round: Any) -> None:
    run_hand_written(bench, variant, backend, one_round)


def test_threads(bench: Bench) -> None:
    p = bench.params

    def one_round() -> None:
        limiter = cp_threads.RateLimiter(p["rate"], burst=p["burst"])

        def task(calls: int) -> None:
            for _ in range(calls):
                limiter.acquire()

        threads = [threading.Thread(target=task, args=(c,)) for c in shares(p)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    bench.sync("threads", one_round)


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)  # x/sync's or x/time's version, as a Go service writes it


@pytest.mark.parametrize(("impl", "variant"), [
    ("gcra", "go (standard library)"),  # the teaching version, gcra.go
])
def test_go_other(bench: Bench, go: GoProcess, impl: str, variant: str) -> None:
    bench.go(go, {"impl": impl}, variant=variant)


def test_floor_is_what_the_rate_allows() -> None:
    assert floor({"calls": 1000, "rate": 5000, "burst": 1}) == pytest.approx(999 / 5000)
    assert floor({"calls": 10, "rate": 1e9, "burst": 10**6}) is None
    assert math.fsum(shares({"calls": 1003, "tasks": 10})) == 1003


# --- memory: a key per host, flat from 10,000 to 1,000,000 distinct hosts ------------------------

@pytest.mark.timeout(1800)
def test_memory_of_the_keyed_limiter_is_flat(request: pytest.FixtureRequest,
                                             benchmark: Any) -> None:
    probe = "rate_limit: anyio.KeyedRateLimiter, a key per host"
    growth = memory.measure(request, benchmark, PATTERN, probe, (10_000, 1_000_000))
    assert growth < memory.FLAT, f"peak RSS grew {growth:.1%}"


@pytest.mark.timeout(1800)
def test_memory_of_a_limiter_per_host_in_a_dict(request: pytest.FixtureRequest,
                                                benchmark: Any) -> None:
    """Reported beside the keyed limiter, not held to it: every host ever seen is kept."""
    memory.measure(request, benchmark, PATTERN,
                   "rate_limit: hand-written (anyio), a limiter per host in a dict",
                   (10_000, 1_000_000))
