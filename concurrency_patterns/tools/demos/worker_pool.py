"""The worker_pool demo: squares of the jobs, then the same with one job failing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import anyio.lowlevel

from concurrency_patterns import JobError
from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import processes as cp_processes
from concurrency_patterns import threads as cp_threads

from ..workloads import fail_on, square
from . import Line, Runs, each_backend, on


def demo(w: dict[str, Any]) -> Runs:
    jobs = list(range(1, w["jobs"] + 1))
    bad = w["failing_job"]

    def line(results: list[int], error: JobError) -> Line:
        return (f"worker_pool: {w['workers']} workers, {len(jobs)} jobs: squares "
                f"[{' '.join(map(str, results))}]; with job {bad} failing: first error names "
                f"index {error.index}, job {error.job}")

    def run_sync(pool_map: Callable[..., list[int]]) -> Line:
        results = pool_map(square, jobs, limit=w["workers"])
        try:
            pool_map(partial(fail_on, bad), jobs, limit=w["workers"])
        except JobError as error:
            return line(results, error)
        raise AssertionError("the failing job did not fail")

    async def run(pool_map: Callable[..., Awaitable[list[int]]]) -> Line:
        async def job(x: int) -> int:
            await anyio.lowlevel.checkpoint()
            return square(x)

        async def failing(x: int) -> int:
            return fail_on(bad, x)

        results = await pool_map(job, jobs, limit=w["workers"])
        try:
            await pool_map(failing, jobs, limit=w["workers"])
        except JobError as error:
            return line(results, error)
        raise AssertionError("the failing job did not fail")

    return {
        "asyncio": on("asyncio", run, cp_asyncio.map),
        **each_backend("anyio", run, cp_anyio.map),
        "threads": lambda: run_sync(cp_threads.map),
        "processes": lambda: run_sync(cp_processes.map),
    }
