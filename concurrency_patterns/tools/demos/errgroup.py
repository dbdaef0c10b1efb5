"""The errgroup demo: N tasks under a limit; one fails; the first error is what comes out.

Each task records how many run at once and waits a step; the failing one raises. The line
says the limit held (and was reached), and which error the group raised.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads

from . import Line, Runs, each_backend, on


class _Gauge:
    def __init__(self) -> None:
        self.lock, self.now, self.most = threading.Lock(), 0, 0

    def enter(self) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self.lock:
            self.now -= 1


def demo(w: dict[str, Any]) -> Runs:
    tasks, limit, failing, step = w["tasks"], w["limit"], w["failing"], w["step_ms"] / 1000

    def line(most: int, error: Exception) -> Line:
        return (f"errgroup: {tasks} tasks, limit {limit}: at most {most} ran at once; "
                f"the group raised the first error: {error}")

    async def run(group_type: Any) -> Line:
        gauge = _Gauge()

        async def task(i: int) -> None:
            gauge.enter()
            try:
                await anyio.sleep(step)
                if i == failing:
                    raise ValueError(f"task {i} failed")
            finally:
                gauge.leave()

        try:
            async with group_type(limit=limit) as g:
                for i in range(tasks):
                    await g.go(task, i)
        except ValueError as error:
            return line(gauge.most, error)
        raise AssertionError("the failing task did not fail")

    def run_threads() -> Line:
        gauge = _Gauge()

        def task(i: int) -> None:
            gauge.enter()
            try:
                time.sleep(step)
                if i == failing:
                    raise ValueError(f"task {i} failed")
            finally:
                gauge.leave()

        try:
            with cp_threads.ErrGroup(limit=limit) as g:
                for i in range(tasks):
                    g.go(task, i)
        except ValueError as error:
            return line(gauge.most, error)
        raise AssertionError("the failing task did not fail")

    return {
        "asyncio": on("asyncio", run, cp_asyncio.ErrGroup),
        **each_backend("anyio", run, cp_anyio.ErrGroup),
        "threads": run_threads,
    }
