"""The rate_limit demo: N callers at once through a limiter; when each was let in.

Times are measured from the first call and put in the limiter's interval they fall in, so the
line is the limiter's schedule — *burst* at once, then one per interval — and not the
machine's noise: a caller is never let in early, but on a busy machine it may reach the
limiter, or hear that it got in, late (a tenth of an interval early is allowed for clocks).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import anyio

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads

from . import Line, Runs, each_backend, on


def demo(w: dict[str, Any]) -> Runs:
    calls, rate, burst = w["calls"], w["rate"], w["burst"]
    interval_ms = 1000 / rate

    def line(admitted: list[float]) -> Line:
        slots = sorted(math.floor(t * 1000 / interval_ms + 0.1) * interval_ms for t in admitted)
        return (f"rate_limit: {calls} calls at {rate}/s, burst {burst}: admitted at "
                f"{' '.join(f'{t:g}' for t in slots)} ms")

    async def run(limiter_type: Any) -> Line:
        limiter, admitted, start = limiter_type(rate, burst=burst), [], time.monotonic()

        async def call() -> None:
            await limiter.acquire()
            admitted.append(time.monotonic() - start)

        async with anyio.create_task_group() as tg:
            for _ in range(calls):
                tg.start_soon(call)
        return line(admitted)

    def run_threads() -> Line:
        limiter, admitted, start = cp_threads.RateLimiter(rate, burst=burst), [], time.monotonic()
        ready = threading.Barrier(calls)

        def call() -> None:
            ready.wait()  # every thread calls at once, however slowly they started
            limiter.acquire()
            admitted.append(time.monotonic() - start)

        threads = [threading.Thread(target=call) for _ in range(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return line(admitted)

    return {
        "asyncio": on("asyncio", run, cp_asyncio.RateLimiter),
        **each_backend("anyio", run, cp_anyio.RateLimiter),
        "threads": run_threads,
    }
