"""The mutex contract, run against every variant.

The thread variant is driven through a facade: its blocking ``lock()`` runs in a worker thread,
so the same async test body checks it alongside the asyncio and anyio mutexes.
"""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from concurrency_patterns.tools.demos.mutex import count_anyio, count_asyncio, count_threads
from tests.conftest import ANYIO_CANCELS, Variant, stopped_by_anyio

pytestmark = pytest.mark.anyio


class ThreadMutexFacade:
    def __init__(self) -> None:
        self.mutex = cp_threads.Mutex()

    def locked(self) -> bool:
        return self.mutex.locked()

    async def lock(self) -> None:
        await anyio.to_thread.run_sync(self.mutex.lock)

    def unlock(self) -> None:
        self.mutex.unlock()

    async def __aenter__(self) -> None:
        await self.lock()

    async def __aexit__(self, *exc: object) -> None:
        self.unlock()


ASYNC = [
    Variant("asyncio", cp_asyncio.Mutex),
    Variant("anyio-asyncio", cp_anyio.Mutex),
    Variant("anyio-trio", cp_anyio.Mutex, backend="trio"),
]
ALL = [*ASYNC, Variant("threads", ThreadMutexFacade)]


def new(variant: Variant) -> Any:
    return variant.fn()


@pytest.mark.parametrize("variant", ALL, ids=str)
@settings(max_examples=10)
@given(tasks=st.integers(1, 12), increments=st.integers(1, 10))
async def test_one_task_at_a_time_in_the_critical_section(
    variant: Variant, tasks: int, increments: int,
) -> None:
    mu = new(variant)
    counter = inside = most_inside = 0

    async def work() -> None:
        nonlocal counter, inside, most_inside
        for _ in range(increments):
            async with mu:
                inside += 1
                most_inside = max(most_inside, inside)
                value = counter
                await anyio.lowlevel.checkpoint()  # every other task gets to run here
                counter = value + 1
                inside -= 1

    async with anyio.create_task_group() as tg:
        for _ in range(tasks):
            tg.start_soon(work)
    assert counter == tasks * increments
    assert most_inside == 1
    assert not mu.locked()


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_new_mutex_is_unlocked_and_lock_unlock_pair(variant: Variant) -> None:
    mu = new(variant)
    assert not mu.locked()
    await mu.lock()
    assert mu.locked()
    mu.unlock()
    assert not mu.locked()


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_unlock_of_unlocked_mutex_raises(variant: Variant) -> None:
    mu = new(variant)
    with pytest.raises(RuntimeError, match="unlock of unlocked mutex"):
        mu.unlock()


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_waiter_cancelled_in_lock_leaves_no_trace(variant: Variant) -> None:
    mu = new(variant)
    release = anyio.Event()

    async def holder() -> None:
        async with mu:
            await release.wait()

    async with anyio.create_task_group() as tg:
        tg.start_soon(holder)
        await anyio.sleep(0.01)
        with anyio.move_on_after(0.05) as scope:
            await mu.lock()  # waits behind the holder until cancelled
        assert scope.cancelled_caught
        release.set()
    assert not mu.locked()  # the cancelled waiter did not get it
    with anyio.fail_after(1):
        async with mu:
            pass


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_waiters_get_the_mutex_in_arrival_order(variant: Variant) -> None:
    mu = new(variant)
    order: list[int] = []

    async def waiter(i: int) -> None:
        async with mu:
            order.append(i)

    await mu.lock()
    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(waiter, i)
            await anyio.sleep(0.001)  # arrive in order
        mu.unlock()
    assert order == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "variant",
    [Variant("asyncio", count_asyncio), Variant("anyio-asyncio", count_anyio),
     Variant("anyio-trio", count_anyio, backend="trio"),
     Variant("threads", count_threads, sync=True)],
    ids=str,
)
async def test_the_articles_counter_loses_no_update(variant: Variant) -> None:
    assert await variant(20, 25) == 500


async def settle() -> None:
    """Long enough for a waiter, even one in a worker thread, to be queued."""
    await anyio.sleep(0.03)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_repr_shows_whether_it_is_held_and_who_waits(variant: Variant) -> None:
    mu = new(variant)
    real = getattr(mu, "mutex", mu)  # the thread variant's facade holds the real mutex
    assert repr(real).startswith(f"<{type(real).__name__} unlocked")
    got_it, leave = anyio.Event(), anyio.Event()

    async def waiter() -> None:
        async with mu:
            got_it.set()
            await leave.wait()

    await mu.lock()
    assert " locked" in repr(real)
    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        await settle()
        if variant in ASYNC:  # a thread's lock does not count its waiters
            assert "locked, 1 waiting" in repr(real)
        mu.unlock()
        await got_it.wait()
        assert " locked" in repr(real)
        leave.set()
    assert "unlocked" in repr(real)


# --- the asyncio variant under anyio's cancellation ---------------------------------------------

async def _wait_for_a_held_mutex() -> None:
    mu = cp_asyncio.Mutex()
    await mu.lock()
    await mu.lock()  # waits forever: only a cancellation ends it


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
def test_the_asyncio_mutex_stops_when_anyio_cancels_it(how: str) -> None:
    """Waiting as anyio cancels it (as under FastAPI): the wait ends, nothing is left."""
    assert stopped_by_anyio(_wait_for_a_held_mutex, how) < 30
