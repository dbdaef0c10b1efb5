"""rwmutex: readers and writers with a switch inside each critical section.

``aiorwlock.RWLock``, the library a user would pick instead, runs the same exercise in the same
run. So do the bare switches alone (the same tasks making the same number of switches, with
no lock): ``asyncio.sleep(0)`` against anyio's checkpoint, the cost that is anyio's, not ours.
"""

from __future__ import annotations

import asyncio
import threading
import time
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
from tests.benchmarks.conftest import (
    Bench,
    GoProcess,
    hand_rounds,
    hand_written,
    run_hand_written,
    variants,
)

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


# --- hand-written: the textbook reader-writer lock, a reader count under a condition -----------

def hand_written_async(new_condition: Callable[[], Any], switch: Callable[[], Awaitable[Any]],
                       start: Callable[..., Any]) -> Callable[[dict[str, Any]], Awaitable[Any]]:
    async def one_round(p: dict[str, Any]) -> tuple[int, int]:
        cond, state, torn = new_condition(), {"a": 0, "b": 0, "readers": 0, "writer": 0}, 0

        async def reader() -> None:
            nonlocal torn
            for _ in range(p["rounds"]):
                async with cond:
                    while state["writer"]:
                        await cond.wait()
                    state["readers"] += 1
                a = state["a"]
                await switch()
                torn += a != state["b"]
                async with cond:
                    state["readers"] -= 1
                    if not state["readers"]:
                        cond.notify_all()

        async def writer() -> None:
            for _ in range(p["rounds"]):
                async with cond:
                    while state["writer"] or state["readers"]:
                        await cond.wait()
                    state["writer"] = 1
                state["a"] += 1
                await switch()
                state["b"] += 1
                async with cond:
                    state["writer"] = 0
                    cond.notify_all()

        await start([reader] * p["readers"] + [writer] * p["writers"])
        return state["a"], torn

    return one_round


async def _asyncio_start(fns: list[Callable[[], Awaitable[None]]]) -> None:
    async with asyncio.TaskGroup() as tg:
        for fn in fns:
            tg.create_task(fn())


async def _anyio_start(fns: list[Callable[[], Awaitable[None]]]) -> None:
    async with anyio.create_task_group() as tg:
        for fn in fns:
            tg.start_soon(fn)


def hand_written_threads(p: dict[str, Any]) -> tuple[int, int]:
    cond, state, torn = threading.Condition(), {"a": 0, "b": 0, "readers": 0, "writer": 0}, [0]

    def reader() -> None:
        for _ in range(p["rounds"]):
            with cond:
                cond.wait_for(lambda: not state["writer"])
                state["readers"] += 1
            a = state["a"]
            time.sleep(0)
            if a != state["b"]:
                with cond:
                    torn[0] += 1
            with cond:
                state["readers"] -= 1
                if not state["readers"]:
                    cond.notify_all()

    def writer() -> None:
        for _ in range(p["rounds"]):
            with cond:
                cond.wait_for(lambda: not state["writer"] and not state["readers"])
                state["writer"] = 1
            state["a"] += 1
            time.sleep(0)
            state["b"] += 1
            with cond:
                state["writer"] = 0
                cond.notify_all()

    threads = [threading.Thread(target=reader) for _ in range(p["readers"])]
    threads += [threading.Thread(target=writer) for _ in range(p["writers"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return state["a"], torn[0]


# The hand-written code of each model: its own rows, and the rounds each library row is
# timed alternately with.
HAND = (
    hand_written_async(asyncio.Condition, lambda: asyncio.sleep(0), _asyncio_start),
    hand_written_async(anyio.Condition, anyio.lowlevel.checkpoint, _anyio_start),
    hand_written_threads,
)
HAND_ROUNDS = hand_rounds(*HAND)


@pytest.mark.parametrize(("variant", "backend", "one_round"), hand_written(*HAND))
def test_hand_written(bench: Bench, variant: str, backend: str, one_round: Any) -> None:
    p = bench.params
    result = run_hand_written(bench, variant, backend, one_round)
    assert tuple(result) == (p["writers"] * p["rounds"], 0)


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)
