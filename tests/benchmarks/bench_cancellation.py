"""cancellation: enter and leave 10,000 deadline scopes one after another — what a scope costs
— and cancel one scope that 1,000 waiting tasks (threads, goroutines) run under — what it
costs to start them and stop them all. asyncio's bare ``asyncio.timeout`` and anyio's bare
``CancelScope`` are measured beside the scopes, so the price of the cause and the effective
deadline shows apart from the framework's own."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import anyio
import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.benchmarks.conftest import Bench, GoProcess, variants

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


def test_bare_asyncio_timeout(bench: Bench) -> None:
    if bench.params["waiters"]:
        pytest.skip("the baseline is for the scopes workload")
    scopes = bench.params["scopes"]

    async def one_round() -> None:
        for _ in range(scopes):
            async with asyncio.timeout(HOUR):  # noqa: ASYNC100 - the scope is what is timed
                pass

    bench.on_loop("bare asyncio.timeout", "asyncio", one_round)


def test_bare_anyio_cancel_scope(bench: Bench) -> None:
    if bench.params["waiters"]:
        pytest.skip("the baseline is for the scopes workload")
    scopes = bench.params["scopes"]

    async def one_round() -> None:
        for _ in range(scopes):
            with anyio.CancelScope(deadline=anyio.current_time() + HOUR):  # noqa: ASYNC100
                pass

    bench.on_loop("bare anyio CancelScope", "asyncio", one_round)


def test_bare_asyncio_group_cancelled(bench: Bench) -> None:
    """The waiters under a bare ``asyncio.timeout`` moved to now: no scope of ours."""
    waiters = bench.params["waiters"]
    if not waiters:
        pytest.skip("the baseline is for the waiters workload")

    async def one_round() -> None:
        sleepers = _Sleepers(waiters, asyncio.Event(), asyncio.sleep)
        try:
            async with asyncio.timeout(HOUR) as deadline, asyncio.TaskGroup() as tg:
                for _ in range(waiters):
                    tg.create_task(sleepers.wait())
                await sleepers.all_started.wait()
                deadline.reschedule(asyncio.get_running_loop().time())
        except TimeoutError:
            pass

    bench.on_loop("bare asyncio.timeout + TaskGroup", "asyncio", one_round)


def test_bare_anyio_group_cancelled(bench: Bench) -> None:
    """The waiters in a bare anyio task group under a bare ``CancelScope``, cancelled."""
    waiters = bench.params["waiters"]
    if not waiters:
        pytest.skip("the baseline is for the waiters workload")

    async def one_round() -> None:
        sleepers = _Sleepers(waiters, anyio.Event(), anyio.sleep)
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as tg:
                for _ in range(waiters):
                    tg.start_soon(sleepers.wait)
                await sleepers.all_started.wait()
                scope.cancel()

    bench.on_loop("bare anyio CancelScope + task group", "asyncio", one_round)


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
