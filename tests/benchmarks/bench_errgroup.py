"""errgroup: start N functions that do nothing, under a limit or none, then wait — the cost of
the group itself. The bare task groups (no limit, no first error) are measured beside it, so
that anyio's own cost of spawning a task shows apart from the group's."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.benchmarks.conftest import Bench, GoProcess, variants

PATTERN = "errgroup"


async def nothing() -> None:
    pass


def limit_of(params: dict[str, Any]) -> int | None:
    return params["limit"] or None  # 0 in workloads.json: no limit


@pytest.mark.parametrize(
    ("variant", "backend", "group"),
    variants(
        ("asyncio", "asyncio", cp_asyncio.ErrGroup),
        ("asyncio+uvloop", "uvloop", cp_asyncio.ErrGroup),
        ("anyio/asyncio", "asyncio", cp_anyio.ErrGroup),
        ("anyio/trio", "trio", cp_anyio.ErrGroup),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, group: Any) -> None:
    tasks, limit = bench.params["tasks"], limit_of(bench.params)

    async def one_round() -> None:
        async with group(limit=limit) as g:
            for _ in range(tasks):
                await g.go(nothing)

    bench.on_loop(variant, backend, one_round)


def test_asyncio_taskgroup(bench: Bench) -> None:
    tasks = bench.params["tasks"]

    async def one_round() -> None:
        async with asyncio.TaskGroup() as tg:
            for _ in range(tasks):
                tg.create_task(nothing())

    bench.on_loop("bare asyncio TaskGroup", "asyncio", one_round)


def test_anyio_task_group(bench: Bench) -> None:
    tasks = bench.params["tasks"]

    async def one_round() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(tasks):
                tg.start_soon(nothing)

    bench.on_loop("bare anyio task group", "asyncio", one_round)


def test_threads(bench: Bench) -> None:
    tasks, limit = bench.params["tasks"], limit_of(bench.params)

    def one_round() -> None:
        with cp_threads.ErrGroup(limit=limit) as g:
            for _ in range(tasks):
                g.go(lambda: None)

    bench.sync("threads", one_round)


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)
