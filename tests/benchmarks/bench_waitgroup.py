"""waitgroup: start N tasks that do nothing, then wait — the cost of the group itself. The
hand-written rows are what a user writes without the library: an asyncio TaskGroup, an anyio
task group (also the cost of spawning an anyio task, apart from ours), a list of threads
joined in turn."""

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


# --- hand-written: a task group, or threads joined in turn ------------------------------------

async def hand_written_asyncio(p: dict[str, Any]) -> None:
    async with asyncio.TaskGroup() as tg:
        for _ in range(p["tasks"]):
            tg.create_task(nothing())


async def hand_written_anyio(p: dict[str, Any]) -> None:
    async with anyio.create_task_group() as tg:
        for _ in range(p["tasks"]):
            tg.start_soon(nothing)


def hand_written_threads(p: dict[str, Any]) -> None:
    threads = [threading.Thread(target=lambda: None) for _ in range(p["tasks"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


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
    tasks = bench.params["tasks"]

    def one_round() -> None:
        wg = cp_threads.WaitGroup()
        for _ in range(tasks):
            wg.go(lambda: None)
        wg.wait()

    bench.sync("threads", one_round)


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)
