"""The producer_consumer demo: P producers, C consumers, a bounded queue; every item consumed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio.lowlevel

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from concurrency_patterns.producer_consumer import produce_consume_asyncio_sentinel

from ..workloads import square
from . import Line, Runs, each_backend, on


def demo(w: dict[str, Any]) -> Runs:
    per = w["items_per_producer"]
    sources = [range(p * per, (p + 1) * per) for p in range(w["producers"])]
    options = {"consumers": w["consumers"], "maxsize": w["maxsize"]}

    def line(results: list[int]) -> Line:
        return (f"producer_consumer: {w['producers']} producers, {w['consumers']} consumers, "
                f"queue of {w['maxsize']}: {len(results)} items consumed, "
                f"sum of squares {sum(results)}")

    async def consume(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        return x * x

    async def run(pipeline: Callable[..., Awaitable[list[int]]]) -> Line:
        return line(await pipeline([iter(s) for s in sources], consume, **options))

    return {
        "asyncio (sentinel)": on("asyncio", run, produce_consume_asyncio_sentinel),
        "asyncio (shutdown)": on("asyncio", run, cp_asyncio.produce_consume),
        **each_backend("anyio", run, cp_anyio.produce_consume),
        **each_backend("threads → loop", run, cp_anyio.produce_consume_from_threads),
        "threads": lambda: line(
            cp_threads.produce_consume([iter(s) for s in sources], square, **options)),
    }
