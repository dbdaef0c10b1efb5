"""rwmutex: readers and writers with a switch inside each critical section.

``aiorwlock.RWLock``, the library a user would pick instead, runs the same exercise in the same
run. So do the bare switches alone (the same tasks making the same number of switches, with
no lock): ``asyncio.sleep(0)`` against anyio's checkpoint, the cost that is anyio's, not ours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiorwlock
import anyio
import anyio.lowlevel
import pytest

from concurrency_patterns.tools.demos.rwmutex import (
    exercise_anyio,
    exercise_asyncio,
    exercise_threads,
)
from tests.benchmarks.conftest import Bench, GoProcess, variants

PATTERN = "rwmutex"


@pytest.mark.parametrize(
    ("variant", "backend", "exercise"),
    variants(
        ("asyncio", "asyncio", exercise_asyncio),
        ("asyncio+uvloop", "uvloop", exercise_asyncio),
        ("anyio/asyncio", "asyncio", exercise_anyio),
        ("anyio/trio", "trio", exercise_anyio),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, exercise: Any) -> None:
    p = bench.params

    async def one_round() -> tuple[int, int]:
        return tuple(await exercise(p["readers"], p["writers"], p["rounds"]))  # type: ignore[return-value]

    assert bench.on_loop(variant, backend, one_round) == (p["writers"] * p["rounds"], 0)


async def aiorwlock_exercise(readers: int, writers: int, rounds: int) -> tuple[int, int]:
    rw, state, torn = aiorwlock.RWLock(), {"a": 0, "b": 0}, 0

    async def reader() -> None:
        nonlocal torn
        for _ in range(rounds):
            async with rw.reader_lock:
                a = state["a"]
                await asyncio.sleep(0)
                torn += a != state["b"]

    async def writer() -> None:
        for _ in range(rounds):
            async with rw.writer_lock:
                state["a"] += 1
                await asyncio.sleep(0)
                state["b"] += 1

    async with asyncio.TaskGroup() as tg:
        for _ in range(readers):
            tg.create_task(reader())
        for _ in range(writers):
            tg.create_task(writer())
    return state["a"], torn


def bare_switches(switch: Callable[[], Awaitable[Any]]) -> Any:
    """The exercise's tasks and switches, with no lock: what the switches alone cost."""
    async def exercise(readers: int, writers: int, rounds: int) -> tuple[int, int]:
        async def task() -> None:
            for _ in range(rounds):
                await switch()

        async with anyio.create_task_group() as tg:
            for _ in range(readers + writers):
                tg.start_soon(task)
        return writers * rounds, 0

    return exercise


@pytest.mark.parametrize(
    ("variant", "backend", "exercise"),
    variants(
        ("aiorwlock (peer)", "asyncio", aiorwlock_exercise),
        ("bare switches: asyncio.sleep(0)", "asyncio", bare_switches(lambda: asyncio.sleep(0))),
        ("bare switches: anyio checkpoint", "asyncio",
         bare_switches(anyio.lowlevel.checkpoint)),
    ),
)
def test_peer_and_bare(bench: Bench, variant: str, backend: str, exercise: Any) -> None:
    test_async(bench, variant, backend, exercise)


def test_threads(bench: Bench) -> None:
    p = bench.params
    outcome = bench.sync("threads",
                         lambda: exercise_threads(p["readers"], p["writers"], p["rounds"]))
    assert outcome == (p["writers"] * p["rounds"], 0)


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)
