"""worker_pool: W workers over N jobs — jobs that return at once (the figure is the cost of
dispatching a job) and jobs that sleep (compared with the floor, ceil(N/W) x sleep).

``aiometer`` is the library a user would pick instead: ``run_on_each`` (no results) and
``amap`` (results as they finish), each with ``max_at_once=W``, in the same run.
"""

from __future__ import annotations

import asyncio
import math
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial
from typing import Any

import aiometer
import anyio
import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import new_process_pool
from concurrency_patterns import processes as cp_processes
from concurrency_patterns import threads as cp_threads
from concurrency_patterns.tools.workloads import sleep_then_square, spin, spin_job, square
from tests.benchmarks import memory
from tests.benchmarks.conftest import (
    Bench,
    GoProcess,
    hand_rounds,
    hand_written,
    run_hand_written,
    variants,
)

PATTERN = "worker_pool"


def floor(params: dict[str, Any]) -> float | None:
    if not params["sleep_ms"]:
        return None  # jobs that cost nothing have no floor worth stating
    return math.ceil(params["jobs"] / params["workers"]) * params["sleep_ms"] / 1000


def async_job(params: dict[str, Any], sleep: Any) -> Any:
    seconds, n = params["sleep_ms"] / 1000, params.get("spin", 0)

    async def job(x: int) -> int:
        if n:  # CPU-bound: it holds the event loop, as such a job would
            return spin(n)
        if seconds:
            await sleep(seconds)
        return x * x
    return job


@pytest.mark.parametrize(
    ("variant", "backend", "pool_map", "sleep"),
    variants(
        ("asyncio", "asyncio", cp_asyncio.map, asyncio.sleep),
        ("asyncio+uvloop", "uvloop", cp_asyncio.map, asyncio.sleep),
        ("anyio/asyncio", "asyncio", cp_anyio.map, anyio.sleep),
        ("anyio/trio", "trio", cp_anyio.map, anyio.sleep),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, pool_map: Any, sleep: Any) -> None:
    p = bench.params
    job, jobs = async_job(p, sleep), range(p["jobs"])

    async def one_round() -> Any:
        return await pool_map(job, jobs, limit=p["workers"])

    assert len(bench.on_loop(variant, backend, one_round)) == p["jobs"]


@pytest.mark.parametrize("how", ["run_on_each", "amap"])
def test_aiometer_peer(bench: Bench, how: str) -> None:
    p = bench.params
    if p.get("spin"):
        pytest.skip("CPU-bound jobs: the peer dispatches them no differently from asyncio")
    job, jobs = async_job(p, anyio.sleep), list(range(p["jobs"]))

    async def one_round() -> Any:
        if how == "run_on_each":
            await aiometer.run_on_each(job, jobs, max_at_once=p["workers"])
            return jobs
        async with aiometer.amap(job, jobs, max_at_once=p["workers"]) as results:
            return [r async for r in results]

    assert len(bench.on_loop(f"aiometer.{how} (peer)", "asyncio", one_round)) == p["jobs"]


def sync_job(params: dict[str, Any]) -> Any:
    if params.get("spin"):
        return partial(spin_job, params["spin"])
    if params["sleep_ms"]:
        return partial(sleep_then_square, seconds=params["sleep_ms"] / 1000)
    return square


def test_threads(bench: Bench) -> None:
    p = bench.params
    job = sync_job(p)
    results = bench.sync("threads",
                         lambda: cp_threads.map(job, range(p["jobs"]), limit=p["workers"]))
    assert len(results) == p["jobs"]


@pytest.mark.parametrize(("variant", "hold_jobs"), variants(
    ("processes", False),
    # Each job held until a worker is free, so that a cancelled one never runs: asked for.
    ("processes, hold_jobs=True", True),
))
def test_processes(bench: Bench, variant: str, hold_jobs: bool) -> None:
    p = bench.params
    job = sync_job(p)
    # The pools are started before timing (start-up is not the pattern's work) and reused;
    # the plain one runs the hand-written rounds this row alternates with.
    with (new_process_pool(p["workers"], hold_jobs=hold_jobs) as pool,
          ProcessPoolExecutor(p["workers"]) as plain):
        results = bench.sync(variant, lambda: cp_processes.map(
            job, range(p["jobs"]), limit=p["workers"], executor=pool),
            hand=lambda: list(plain.map(job, range(p["jobs"]))))
    assert len(results) == p["jobs"]


# --- hand-written: a task group and a semaphore; a pool's map ----------------------------------

async def hand_written_asyncio(p: dict[str, Any]) -> list[Any]:
    job, jobs = async_job(p, asyncio.sleep), range(p["jobs"])
    sem, results = asyncio.Semaphore(p["workers"]), [None] * p["jobs"]

    async def run(i: int, x: int) -> None:
        async with sem:
            results[i] = await job(x)

    async with asyncio.TaskGroup() as tg:
        for i, x in enumerate(jobs):
            tg.create_task(run(i, x))
    return results


async def hand_written_anyio(p: dict[str, Any]) -> list[Any]:
    job, jobs = async_job(p, anyio.sleep), range(p["jobs"])
    limiter, results = anyio.CapacityLimiter(p["workers"]), [None] * p["jobs"]

    async def run(i: int, x: int) -> None:
        async with limiter:
            results[i] = await job(x)

    async with anyio.create_task_group() as tg:
        for i, x in enumerate(jobs):
            tg.start_soon(run, i, x)
    return results


def hand_written_threads(p: dict[str, Any]) -> list[Any]:
    with ThreadPoolExecutor(p["workers"]) as pool:
        return list(pool.map(sync_job(p), range(p["jobs"])))


# The hand-written code of each model: its own rows, and the rounds each library row is
# timed alternately with.
HAND = (
    hand_written_asyncio, hand_written_anyio, hand_written_threads,
)
HAND_ROUNDS = hand_rounds(*HAND)


@pytest.mark.parametrize(("variant", "backend", "one_round"), hand_written(*HAND))
def test_hand_written(bench: Bench, variant: str, backend: str, one_round: Any) -> None:
    assert len(run_hand_written(bench, variant, backend, one_round)) == bench.params["jobs"]


def test_hand_written_processes(bench: Bench) -> None:
    p = bench.params
    job = sync_job(p)
    with ProcessPoolExecutor(p["workers"]) as pool:  # started before timing, as above
        results = bench.sync("hand-written (processes)",
                             lambda: list(pool.map(job, range(p["jobs"]))))
    assert len(results) == p["jobs"]


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)  # errgroup with SetLimit, as a Go service writes it


@pytest.mark.parametrize(("impl", "variant"), [
    ("workers", "go (workers + channel)"),  # the classic shape: W goroutines reading one channel,
    ("conc", "go (conc)"),  # sourcegraph/conc's pool with errors
])
def test_go_other(bench: Bench, go: GoProcess, impl: str, variant: str) -> None:
    bench.go(go, {"impl": impl}, variant=variant)


# --- memory: flat from 10,000 to 1,000,000 jobs ---------------------------------------------------

@pytest.mark.timeout(1800)
def test_memory_is_flat(request: pytest.FixtureRequest, benchmark: Any) -> None:
    probe = "worker_pool: anyio.map_stream"
    growth = memory.measure(request, benchmark, PATTERN, probe, (10_000, 1_000_000))
    assert growth < memory.FLAT, f"peak RSS grew {growth:.1%}"


@pytest.mark.timeout(1800)
def test_memory_of_the_hand_written_pool(request: pytest.FixtureRequest, benchmark: Any) -> None:
    """Reported beside the stream, not held to it: one task per job, all started at once."""
    memory.measure(request, benchmark, PATTERN, "worker_pool: hand-written (anyio)",
                   (10_000, 100_000))


@pytest.mark.timeout(1800)
def test_the_memory_probe_sees_a_leak(request: pytest.FixtureRequest, benchmark: Any) -> None:
    """The same stream with a consumer that keeps every result must fail the flat test: the
    probe can see memory grow."""
    probe = "worker_pool: anyio.map_stream, keeping every result (leaky)"
    growth = memory.measure(request, benchmark, PATTERN, probe, (10_000, 100_000))
    assert growth >= memory.FLAT, f"a leak went unseen: peak RSS grew only {growth:.1%}"
