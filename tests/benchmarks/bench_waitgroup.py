"""waitgroup: start N tasks that do nothing, then wait — the cost of the group itself. The
asyncio TaskGroup, which usually replaces a WaitGroup in Python, is measured beside it, and so
is a bare anyio task group: the cost of spawning an anyio task, apart from ours."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.benchmarks.conftest import Bench, GoProcess, variants

PATTERN = "waitgroup"


async def nothing() -> None:
    pass


def with_group(group: Any, tasks: int) -> Any:
    async def one_round() -> None:
        async with group() as wg:
            for _ in range(tasks):
                wg.go(nothing)
            await wg.wait()
    return one_round


@pytest.mark.parametrize(
    ("variant", "backend", "group"),
    variants(
        ("asyncio", "asyncio", cp_asyncio.WaitGroup),
        ("asyncio+uvloop", "uvloop", cp_asyncio.WaitGroup),
        ("anyio/asyncio", "asyncio", cp_anyio.WaitGroup),
        ("anyio/trio", "trio", cp_anyio.WaitGroup),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, group: Any) -> None:
    bench.on_loop(variant, backend, with_group(group, bench.params["tasks"]))


def test_asyncio_taskgroup(bench: Bench) -> None:
    tasks = bench.params["tasks"]

    async def one_round() -> None:
        async with asyncio.TaskGroup() as tg:
            for _ in range(tasks):
                tg.create_task(nothing())

    bench.on_loop("asyncio TaskGroup", "asyncio", one_round)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_bare_anyio_task_group(bench: Bench, backend: str) -> None:
    tasks = bench.params["tasks"]

    async def one_round() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(tasks):
                tg.start_soon(nothing)

    bench.on_loop(f"bare anyio task group/{backend}", backend, one_round)


def test_threads(bench: Bench) -> None:
    tasks = bench.params["tasks"]

    def one_round() -> None:
        wg = cp_threads.WaitGroup()
        for _ in range(tasks):
            wg.go(lambda: None)
        wg.wait()

    bench.sync("threads", one_round)


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)
