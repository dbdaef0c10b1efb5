"""mutex: the articles' shared counter, with a switch inside the critical section so the lock
is contended — the cost of handing a lock from task to task.

Two rows separate the cost of anyio from ours: the same counter over the *bare* primitives,
``asyncio.Lock`` with ``asyncio.sleep(0)`` and ``anyio.Lock`` with an anyio checkpoint. The
peer a user would pick instead, ``aiologic.Lock``, runs the same counter in the same run.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiologic
import anyio
import anyio.lowlevel
import pytest

from concurrency_patterns.tools.demos.mutex import count_anyio, count_asyncio, count_threads
from tests.benchmarks.conftest import (
    Bench,
    GoProcess,
    hand_rounds,
    hand_written,
    run_hand_written,
    variants,
)

PATTERN = "mutex"


@pytest.mark.parametrize(
    ("variant", "backend", "count"),
    variants(
        ("asyncio", "asyncio", count_asyncio),
        ("asyncio+uvloop", "uvloop", count_asyncio),
        ("anyio/asyncio", "asyncio", count_anyio),
        ("anyio/trio", "trio", count_anyio),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, count: Any) -> None:
    p = bench.params

    async def one_round() -> int:
        return int(await count(p["tasks"], p["increments"]))

    assert bench.on_loop(variant, backend, one_round) == p["tasks"] * p["increments"]


def bare_counter(
    new_lock: Callable[[], Any], switch: Callable[[], Awaitable[Any]],
) -> Callable[[int, int], Awaitable[int]]:
    """The demo's counter over a bare lock: the primitive's cost, without our wrapper."""
    async def count(tasks: int, increments: int) -> int:
        lock, counter = new_lock(), 0

        async def work() -> None:
            nonlocal counter
            for _ in range(increments):
                async with lock:
                    value = counter
                    await switch()
                    counter = value + 1

        async with anyio.create_task_group() as tg:
            for _ in range(tasks):
                tg.start_soon(work)
        return counter

    return count


@pytest.mark.parametrize(
    ("variant", "backend", "count"),
    variants(
        ("bare asyncio.Lock", "asyncio", bare_counter(asyncio.Lock, lambda: asyncio.sleep(0))),
        ("bare anyio.Lock", "asyncio",
         bare_counter(lambda: anyio.Lock(fast_acquire=True), anyio.lowlevel.checkpoint)),
        ("aiologic.Lock (peer)", "asyncio",
         bare_counter(aiologic.Lock, lambda: asyncio.sleep(0))),
    ),
)
def test_bare_and_peer(bench: Bench, variant: str, backend: str, count: Any) -> None:
    test_async(bench, variant, backend, count)


# --- hand-written: the counter a user writes without the library -------------------------------

async def hand_written_asyncio(p: dict[str, Any]) -> int:
    lock, counter = asyncio.Lock(), 0

    async def work() -> None:
        nonlocal counter
        for _ in range(p["increments"]):
            async with lock:
                value = counter
                await asyncio.sleep(0)
                counter = value + 1

    async with asyncio.TaskGroup() as tg:
        for _ in range(p["tasks"]):
            tg.create_task(work())
    return counter


async def hand_written_anyio(p: dict[str, Any]) -> int:
    lock, counter = anyio.Lock(), 0

    async def work() -> None:
        nonlocal counter
        for _ in range(p["increments"]):
            async with lock:
                value = counter
                await anyio.lowlevel.checkpoint()
                counter = value + 1

    async with anyio.create_task_group() as tg:
        for _ in range(p["tasks"]):
            tg.start_soon(work)
    return counter


def hand_written_threads(p: dict[str, Any]) -> int:
    lock, counter = threading.Lock(), 0

    def work() -> None:
        nonlocal counter
        for _ in range(p["increments"]):
            with lock:
                value = counter
                time.sleep(0)
                counter = value + 1

    threads = [threading.Thread(target=work) for _ in range(p["tasks"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counter


# The hand-written code of each model: its own rows, and the rounds each library row is
# timed alternately with.
HAND = (
    hand_written_asyncio, hand_written_anyio, hand_written_threads,
)
HAND_ROUNDS = hand_rounds(*HAND)


@pytest.mark.parametrize(("variant", "backend", "one_round"), hand_written(*HAND))
def test_hand_written(bench: Bench, variant: str, backend: str, one_round: Any) -> None:
    counter = run_hand_written(bench, variant, backend, one_round)
    assert counter == bench.params["tasks"] * bench.params["increments"]


def test_threads(bench: Bench) -> None:
    p = bench.params
    counter = bench.sync("threads", lambda: count_threads(p["tasks"], p["increments"]))
    assert counter == p["tasks"] * p["increments"]


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)
