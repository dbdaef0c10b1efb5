"""once: N callers race for one fresh Once each round; the initialisation returns at once."""

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

PATTERN = "once"


async def init() -> int:
    return 42


@pytest.mark.parametrize(
    ("variant", "backend", "once_type"),
    variants(
        ("asyncio", "asyncio", cp_asyncio.Once),
        ("asyncio+uvloop", "uvloop", cp_asyncio.Once),
        ("anyio/asyncio", "asyncio", cp_anyio.Once),
        ("anyio/trio", "trio", cp_anyio.Once),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, once_type: Any) -> None:
    callers = bench.params["callers"]

    async def one_round() -> None:
        once = once_type()
        if once_type is cp_asyncio.Once:  # asyncio's tasks for the asyncio variant, as its users
            async with asyncio.TaskGroup() as atg:
                for _ in range(callers):
                    atg.create_task(once.do(init))
            return
        async with anyio.create_task_group() as tg:
            for _ in range(callers):
                tg.start_soon(once.do, init)

    bench.on_loop(variant, backend, one_round)


def test_threads(bench: Bench) -> None:
    callers = bench.params["callers"]

    def one_round() -> None:
        once: cp_threads.Once[int] = cp_threads.Once()
        threads = [threading.Thread(target=once.do, args=(lambda: 42,)) for _ in range(callers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    bench.sync("threads", one_round)


# --- hand-written: a flag checked twice around a lock, as a user writes it ----------------------

async def hand_written_asyncio(p: dict[str, Any]) -> None:
    lock, box = asyncio.Lock(), []

    async def get() -> int:
        if not box:
            async with lock:
                if not box:
                    box.append(await init())
        return box[0]

    async with asyncio.TaskGroup() as tg:
        for _ in range(p["callers"]):
            tg.create_task(get())


async def hand_written_anyio(p: dict[str, Any]) -> None:
    lock, box = anyio.Lock(), []

    async def get() -> int:
        if not box:
            async with lock:
                if not box:
                    box.append(await init())
        return box[0]

    async with anyio.create_task_group() as tg:
        for _ in range(p["callers"]):
            tg.start_soon(get)


def hand_written_threads(p: dict[str, Any]) -> None:
    lock, box = threading.Lock(), []

    def get() -> int:
        if not box:
            with lock:
                if not box:
                    box.append(42)
        return box[0]

    threads = [threading.Thread(target=get) for _ in range(p["callers"])]
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


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)
