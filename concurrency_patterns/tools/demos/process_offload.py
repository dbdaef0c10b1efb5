"""The process_offload demo: CPU-bound jobs in other processes, checksums in input order.

``run_sequential`` is the baseline the benchmarks compare every pool with.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import new_process_pool
from concurrency_patterns import processes as cp_processes

from ..workloads import spin
from . import Line, Runs, each_backend

R = TypeVar("R")


def run_sequential(fn: Callable[[Any], R], items: Iterable[Any]) -> list[R]:
    """The baseline: ``fn(item)`` for every item, one after another, in this thread."""
    return [fn(item) for item in items]


def demo(w: dict[str, Any]) -> Runs:
    sizes = [w["spin"] + i for i in range(w["jobs"])]

    def line(checksums: list[int]) -> Line:
        return (f"process_offload: {len(sizes)} jobs of spin({w['spin']}+i): "
                f"checksums [{' '.join(map(str, checksums))}]")

    async def run_asyncio() -> Line:
        with new_process_pool(2) as pool:
            return line(await cp_asyncio.offload_all(spin, sizes, executor=pool))

    async def run_anyio() -> Line:
        return line(await cp_anyio.offload_all(spin, sizes, limit=2))

    def run_sync() -> Line:
        with new_process_pool(2) as pool:
            return line(cp_processes.offload_all(spin, sizes, executor=pool))

    return {
        "sequential": lambda: line(run_sequential(spin, sizes)),
        "asyncio + processes": lambda: asyncio.run(run_asyncio()),
        **each_backend("anyio", run_anyio),
        "sync + processes": run_sync,
    }
