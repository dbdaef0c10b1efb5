"""The singleflight demo: many callers at once on a few keys; how many calls were made.

Every caller asks for its key's value at the same moment; the call takes a while, so all the
callers for one key arrive while it is in flight and share it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads

from . import Line, Runs, each_backend, on


def demo(w: dict[str, Any]) -> Runs:
    callers, keys, seconds = w["callers"], w["keys"], w["call_ms"] / 1000

    def line(calls: Counter[str], answers: set[tuple[str, str]]) -> Line:
        right = all(value == f"value of {key}" for key, value in answers)
        return (f"singleflight: {callers} callers on {keys} keys: {sum(calls.values())} calls "
                f"made, at most {max(calls.values())} per key; every caller got its key's value: "
                f"{'yes' if right else 'no'}")

    async def run(group_type: Any) -> Line:
        calls: Counter[str] = Counter()
        answers: set[tuple[str, str]] = set()

        async def load(key: str) -> str:
            calls[key] += 1
            await anyio.sleep(seconds)
            return f"value of {key}"

        async def caller(i: int) -> None:
            key = f"k{i % keys}"
            answers.add((key, await flights.do(key, load, key)))

        async with group_type() as flights, anyio.create_task_group() as tg:
            for i in range(callers):
                tg.start_soon(caller, i)
        return line(calls, answers)

    def run_threads() -> Line:
        flights: cp_threads.SingleFlight[str, str] = cp_threads.SingleFlight()
        calls: Counter[str] = Counter()
        lock = threading.Lock()

        def load(key: str) -> str:
            with lock:
                calls[key] += 1
            time.sleep(seconds)
            return f"value of {key}"

        together = threading.Barrier(callers)  # threads start one by one: let them ask at once

        def caller(i: int) -> tuple[str, str]:
            key = f"k{i % keys}"
            together.wait()
            return key, flights.do(key, load, key)

        with ThreadPoolExecutor(callers) as pool:
            answers = set(pool.map(caller, range(callers)))
        return line(calls, answers)

    return {
        "asyncio": on("asyncio", run, cp_asyncio.SingleFlight),
        **each_backend("anyio", run, cp_anyio.SingleFlight),
        "threads": run_threads,
    }
