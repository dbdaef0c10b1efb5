"""The rwmutex demo: writers keep two fields equal in two steps, readers look for a torn read.

A writer sets ``a``, switches to another task, then sets ``b``; a reader reads ``a``,
switches, and counts a torn read when ``b`` differs. The lock makes a torn read impossible, so
every variant ends with zero.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads

from . import Line, Runs, each_backend, on


async def _exercise(rw: cp_asyncio.RWMutex | cp_anyio.RWMutex, readers: int, writers: int,
                    rounds: int, switch: Callable[[], Awaitable[None]]) -> tuple[int, int]:
    """Run the readers and writers as asyncio or anyio tasks, whichever *rw* belongs to."""
    state, torn = {"a": 0, "b": 0}, 0

    async def reader() -> None:
        nonlocal torn
        for _ in range(rounds):
            async with rw.reading():
                a = state["a"]
                await switch()
                torn += a != state["b"]

    async def writer() -> None:
        for _ in range(rounds):
            async with rw.writing():
                state["a"] += 1
                await switch()  # a reader let in here would see a != b
                state["b"] += 1

    if isinstance(rw, cp_asyncio.RWMutex):
        async with asyncio.TaskGroup() as atg:
            for _ in range(readers):
                atg.create_task(reader())
            for _ in range(writers):
                atg.create_task(writer())
    else:
        async with anyio.create_task_group() as tg:
            for _ in range(readers):
                tg.start_soon(reader)
            for _ in range(writers):
                tg.start_soon(writer)
    return state["a"], torn


async def exercise_asyncio(readers: int, writers: int, rounds: int) -> tuple[int, int]:
    """Readers and writers for *rounds* each; returns (final value, torn reads)."""
    return await _exercise(cp_asyncio.RWMutex(), readers, writers, rounds, _asyncio_switch)


async def _asyncio_switch() -> None:
    await asyncio.sleep(0)


async def exercise_anyio(readers: int, writers: int, rounds: int) -> tuple[int, int]:
    """``exercise_asyncio`` with anyio, on asyncio or trio."""
    return await _exercise(cp_anyio.RWMutex(), readers, writers, rounds, anyio.lowlevel.checkpoint)


def exercise_threads(readers: int, writers: int, rounds: int) -> tuple[int, int]:
    """``exercise_asyncio`` with threads; ``time.sleep(0)`` is the switch."""
    rw, state, torn, torn_lock = cp_threads.RWMutex(), {"a": 0, "b": 0}, [0], threading.Lock()

    def reader() -> None:
        for _ in range(rounds):
            with rw.reading():
                a = state["a"]
                time.sleep(0)
                if a != state["b"]:
                    with torn_lock:  # readers hold the lock together: count under a lock
                        torn[0] += 1

    def writer() -> None:
        for _ in range(rounds):
            with rw.writing():
                state["a"] += 1
                time.sleep(0)
                state["b"] += 1

    threads = [threading.Thread(target=reader) for _ in range(readers)]
    threads += [threading.Thread(target=writer) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return state["a"], torn[0]


def demo(w: dict[str, Any]) -> Runs:
    readers, writers, rounds = w["readers"], w["writers"], w["rounds"]

    def line(outcome: tuple[int, int]) -> Line:
        return (f"rwmutex: {readers} readers, {writers} writers, {rounds} rounds: "
                f"final value {outcome[0]}, torn reads {outcome[1]}")

    async def run(exercise: Callable[[int, int, int], Awaitable[tuple[int, int]]]) -> Line:
        return line(await exercise(readers, writers, rounds))

    return {
        "asyncio": on("asyncio", run, exercise_asyncio),
        **each_backend("anyio", run, exercise_anyio),
        "threads": lambda: line(exercise_threads(readers, writers, rounds)),
    }
