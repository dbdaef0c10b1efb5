"""cancellation: enter and leave 10,000 deadline scopes one after another — what a scope costs
— and cancel one scope that 1,000 waiting tasks (threads, goroutines) run under — what it
costs to start them and stop them all. The hand-written rows, asyncio's ``asyncio.timeout``
and anyio's ``CancelScope`` as a user writes them, are also the bare primitives, so the price
of the cause and the effective deadline shows apart from the framework's own."""

from __future__ import annotations

import asyncio
import threading
import time
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

PATTERN = "cancellation"
HOUR = 3600.0


class _Sleepers:
    """*count* waiters that sleep an hour with *sleep*; *all_started* is set as the last one
    begins, so a round cancels them only once every one is waiting."""

    def __init__(self, count: int, all_started: Any, sleep: Any) -> None:
        self.count, self.started = count, 0
        self.all_started, self.sleep = all_started, sleep

    async def wait(self) -> None:
        self.started += 1
        if self.started == self.count:
            self.all_started.set()
        await self.sleep(HOUR)


@pytest.mark.parametrize(
    ("variant", "backend", "scope"),
    variants(
        ("asyncio", "asyncio", cp_asyncio.Scope),
        ("asyncio+uvloop", "uvloop", cp_asyncio.Scope),
        ("anyio/asyncio", "asyncio", cp_anyio.Scope),
        ("anyio/trio", "trio", cp_anyio.Scope),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, scope: Any) -> None:
    scopes, waiters = bench.params["scopes"], bench.params["waiters"]
    on_asyncio = scope is cp_asyncio.Scope

    async def one_round() -> None:
        if not waiters:
            for _ in range(scopes):
                async with scope(HOUR):
                    pass
            return
        sleepers = _Sleepers(waiters, anyio.Event(), asyncio.sleep if on_asyncio else anyio.sleep)
        async with scope(HOUR) as s:
            if on_asyncio:
                async with asyncio.TaskGroup() as tg:
                    for _ in range(waiters):
                        tg.create_task(sleepers.wait())
                    await sleepers.all_started.wait()
                    s.cancel()
            else:
                async with anyio.create_task_group() as tg:
                    for _ in range(waiters):
                        tg.start_soon(sleepers.wait)
                    await sleepers.all_started.wait()
                    s.cancel()

    bench.on_loop(variant, backend, one_round)


# --- hand-written: asyncio.timeout and anyio's CancelScope, as a user writes them -------------
# They are also the bare primitives: the scopes' own cost (cause, effective deadline) shows
# apart from the framework's.

async def hand_written_asyncio(p: dict[str, Any]) -> None:
    if not p["waiters"]:
        for _ in range(p["scopes"]):
            async with asyncio.timeout(HOUR):  # noqa: ASYNC100 - the scope is what is timed
                pass
        return
    sleepers = _Sleepers(p["waiters"], asyncio.Event(), asyncio.sleep)
    try:
        async with asyncio.timeout(HOUR) as deadline, asyncio.TaskGroup() as tg:
            for _ in range(p["waiters"]):
                tg.create_task(sleepers.wait())
            await sleepers.all_started.wait()
            deadline.reschedule(asyncio.get_running_loop().time())  # cancel them all now
    except TimeoutError:
        pass


async def hand_written_anyio(p: dict[str, Any]) -> None:
    if not p["waiters"]:
        for _ in range(p["scopes"]):
            with anyio.CancelScope(deadline=anyio.current_time() + HOUR):  # noqa: ASYNC100
                pass
        return
    sleepers = _Sleepers(p["waiters"], anyio.Event(), anyio.sleep)
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            for _ in range(p["waiters"]):
                tg.start_soon(sleepers.wait)
            await sleepers.all_started.wait()
            scope.cancel()


def hand_written_threads(p: dict[str, Any]) -> None:
    """A deadline and a threading.Event the work waits on: what a thread can be told."""
    if not p["waiters"]:
        for _ in range(p["scopes"]):
            deadline, cancelled = time.monotonic() + HOUR, threading.Event()
            assert not cancelled.is_set() and time.monotonic() < deadline
        return
    cancelled, barrier = threading.Event(), threading.Barrier(p["waiters"] + 1)

    def waiter() -> None:
        barrier.wait()
        cancelled.wait(HOUR)

    threads = [threading.Thread(target=waiter) for _ in range(p["waiters"])]
    for t in threads:
        t.start()
    barrier.wait()
    cancelled.set()
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
    scopes, waiters = bench.params["scopes"], bench.params["waiters"]

    def one_round() -> None:
        if not waiters:
            for _ in range(scopes):
                with cp_threads.Scope(HOUR):
                    pass
            return
        with cp_threads.Scope(HOUR) as s:
            barrier = threading.Barrier(waiters + 1)

            def waiter() -> None:
                barrier.wait()
                s.wait()

            threads = [threading.Thread(target=waiter) for _ in range(waiters)]
            for t in threads:
                t.start()
            barrier.wait()
            s.cancel()
            for t in threads:
                t.join()

    bench.sync("threads", one_round)


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)
