"""errgroup: start N functions that do nothing, under a limit or none, then wait — the cost of
the group itself. The bare task groups (no limit, no first error) are measured beside it, so
that anyio's own cost of spawning a task shows apart from the group's."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import anyio
import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.benchmarks.conftest import (
    Bench,
    GoProcess,
    hand_rounds,
    hand_written,
    run_hand_written,
    variants,
)

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


# --- hand-written: a task group and a semaphore taken before each start ------------------------

async def hand_written_asyncio(p: dict[str, Any]) -> None:
    sem = asyncio.Semaphore(p["limit"]) if p["limit"] else None

    async def run() -> None:
        try:
            await nothing()
        finally:
            if sem is not None:
                sem.release()

    async with asyncio.TaskGroup() as tg:
        for _ in range(p["tasks"]):
            if sem is not None:
                await sem.acquire()  # backpressure: wait for room before starting
            tg.create_task(run())


async def hand_written_anyio(p: dict[str, Any]) -> None:
    sem = anyio.Semaphore(p["limit"]) if p["limit"] else None

    async def run() -> None:
        try:
            await nothing()
        finally:
            if sem is not None:
                sem.release()

    async with anyio.create_task_group() as tg:
        for _ in range(p["tasks"]):
            if sem is not None:
                await sem.acquire()
            tg.start_soon(run)


def hand_written_threads(p: dict[str, Any]) -> None:
    sem = threading.BoundedSemaphore(p["limit"]) if p["limit"] else None
    errors: list[Exception] = []

    def run() -> None:
        try:
            pass  # the function, which does nothing
        except Exception as exc:
            errors.append(exc)
        finally:
            if sem is not None:
                sem.release()

    threads = []
    for _ in range(p["tasks"]):
        if sem is not None:
            sem.acquire()
        t = threading.Thread(target=run)
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


# The hand-written code of each model: its own rows, and the rounds each library row is
# timed alternately with.
HAND = (
    hand_written_asyncio, hand_written_anyio, hand_written_threads,
)
HAND_ROUNDS = hand_rounds(*HAND)


@pytest.mark.parametrize(("variant", "backend", "one_round"), hand_written(*HAND))
def test_hand_written(bench: Bench, variant: str, backend: str, one_round: Any) -> None:
    run_hand_written(bench, variant, backend, one_round)


def test_threads(bench: Bench) -> None:
    tasks, limit = bench.params["tasks"], limit_of(bench.params)

    def one_round() -> None:
        with cp_threads.ErrGroup(limit=limit) as g:
            for _ in range(tasks):
                g.go(lambda: None)

    bench.sync("threads", one_round)


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)  # x/sync's or x/time's version, as a Go service writes it


@pytest.mark.parametrize(("impl", "variant"), [
    ("inside", "go (standard library)"),  # the teaching version, inside.go,
    ("conc", "go (conc)"),  # sourcegraph/conc's pool with errors
])
def test_go_other(bench: Bench, go: GoProcess, impl: str, variant: str) -> None:
    bench.go(go, {"impl": impl}, variant=variant)
