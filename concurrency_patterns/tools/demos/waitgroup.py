"""The waitgroup demo: N tasks started with ``go()``; ``wait()`` returns when all have finished."""

from __future__ import annotations

from typing import Any

import anyio

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads

from . import Line, Runs, each_backend, on


def demo(w: dict[str, Any]) -> Runs:
    n = w["tasks"]

    def line(finished: list[int]) -> Line:
        return (f"waitgroup: {n} tasks started with go(); "
                f"wait() returned after {len(finished)} finished")

    async def run(group: Any) -> Line:
        finished: list[int] = []

        async def task(i: int) -> None:
            await anyio.sleep(0.001 * (n - i))
            finished.append(i)

        async with group() as wg:
            for i in range(n):
                wg.go(task, i)
            await wg.wait()
        return line(finished)

    def run_threads() -> Line:
        finished: list[int] = []
        wg = cp_threads.WaitGroup()
        for i in range(n):
            wg.go(finished.append, i)
        wg.wait()
        return line(finished)

    return {
        "asyncio": on("asyncio", run, cp_asyncio.WaitGroup),
        **each_backend("anyio", run, cp_anyio.WaitGroup),
        "threads": run_threads,
    }
