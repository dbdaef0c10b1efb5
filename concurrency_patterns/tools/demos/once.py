"""The once demo: many concurrent callers, one call of ``init``, the same value for each."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads

from . import Line, Runs, each_backend, on


def demo(w: dict[str, Any]) -> Runs:
    callers = w["callers"]

    def line(calls: int, values: set[str]) -> Line:
        return (f"once: {callers} concurrent callers: init ran {calls} time(s), "
                f"every caller got {', '.join(sorted(values))}")

    async def run(once_type: Any) -> Line:
        o, calls, values = once_type(), [0], set()

        async def init() -> str:
            calls[0] += 1
            await anyio.sleep(0.01)
            return '"config v1"'

        async def caller() -> None:
            values.add(await o.do(init))

        async with anyio.create_task_group() as tg:
            for _ in range(callers):
                tg.start_soon(caller)
        return line(calls[0], values)

    def run_threads() -> Line:
        o: cp_threads.Once[str] = cp_threads.Once()
        calls = [0]

        def init() -> str:
            calls[0] += 1
            return '"config v1"'

        with ThreadPoolExecutor(callers) as pool:
            values = set(pool.map(lambda _: o.do(init), range(callers)))
        return line(calls[0], values)

    return {
        "asyncio": on("asyncio", run, cp_asyncio.Once),
        **each_backend("anyio", run, cp_anyio.Once),
        "threads": run_threads,
    }
