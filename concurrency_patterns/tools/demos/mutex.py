"""The mutex demo: many tasks add one to a shared counter, under the mutex, and lose no update.

Each counter forces a switch inside the critical section — ``await asyncio.sleep(0)``, an
anyio checkpoint, ``time.sleep(0)`` for threads — so that the lock has work to do: without it,
another task would read the old value at the switch, and an update would vanish.
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


async def count_asyncio(tasks: int, increments: int) -> int:
    """*tasks* tasks each add 1 to a shared counter *increments* times, under the mutex."""
    mu = cp_asyncio.Mutex()
    counter = 0

    async def work() -> None:
        nonlocal counter
        for _ in range(increments):
            async with mu:
                value = counter
                await asyncio.sleep(0)  # another task runs here: without the lock, updates vanish
                counter = value + 1

    async with asyncio.TaskGroup() as tg:
        for _ in range(tasks):
            tg.create_task(work())
    return counter


async def count_anyio(tasks: int, increments: int) -> int:
    """``count_asyncio`` with anyio, on asyncio or trio."""
    mu = cp_anyio.Mutex()
    counter = 0

    async def work() -> None:
        nonlocal counter
        for _ in range(increments):
            async with mu:
                value = counter
                await anyio.lowlevel.checkpoint()  # a switch inside the critical section
                counter = value + 1

    async with anyio.create_task_group() as tg:
        for _ in range(tasks):
            tg.start_soon(work)
    return counter


def count_threads(threads: int, increments: int) -> int:
    """``count_asyncio`` with threads."""
    mu = cp_threads.Mutex()
    counter = 0

    def work() -> None:
        nonlocal counter
        for _ in range(increments):
            with mu:
                value = counter
                time.sleep(0)  # give up the GIL inside the critical section
                counter = value + 1

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return counter


def demo(w: dict[str, Any]) -> Runs:
    tasks, increments = w["tasks"], w["increments"]

    def line(counter: int) -> Line:
        return f"mutex: {tasks} tasks x {increments} increments: counter = {counter}"

    async def run(count: Callable[[int, int], Awaitable[int]]) -> Line:
        return line(await count(tasks, increments))

    return {
        "asyncio": on("asyncio", run, count_asyncio),
        **each_backend("anyio", run, count_anyio),
        "threads": lambda: line(count_threads(tasks, increments)),
    }
