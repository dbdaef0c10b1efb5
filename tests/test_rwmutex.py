"""The rwmutex contract, run against every variant (threads through a facade)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.conftest import ANYIO_CANCELS, Variant, stopped_by_anyio

pytestmark = pytest.mark.anyio


class ThreadRWMutexFacade:
    """The thread lock, with its blocking calls made from worker threads."""

    def __init__(self) -> None:
        self.rw = cp_threads.RWMutex()

    async def rlock(self) -> None:
        await anyio.to_thread.run_sync(self.rw.rlock)

    def runlock(self) -> None:
        self.rw.runlock()

    async def lock(self) -> None:
        await anyio.to_thread.run_sync(self.rw.lock)

    def unlock(self) -> None:
        self.rw.unlock()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[None]:
        await self.rlock()
        try:
            yield
        finally:
            self.runlock()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        await self.lock()
        try:
            yield
        finally:
            self.unlock()


ASYNC = [
    Variant("asyncio", cp_asyncio.RWMutex),
    Variant("anyio-asyncio", cp_anyio.RWMutex),
    Variant("anyio-trio", cp_anyio.RWMutex, backend="trio"),
]
ALL = [*ASYNC, Variant("threads", ThreadRWMutexFacade)]

SETTLE = 0.03  # a short hold, where how long does not matter


async def until(condition: Callable[[], bool]) -> None:
    """Wait until *condition* holds, such as a waiter (a task, or a thread) having queued. No
    fixed sleep decides it: a loaded machine only makes it take longer."""
    while not condition():
        await anyio.sleep(0.001)


def state(rw: Any) -> str:
    return repr(getattr(rw, "rw", rw))  # the thread variant's facade holds the real lock


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_readers_share_the_lock(variant: Variant) -> None:
    rw = variant.fn()
    inside = most = 0

    all_in = anyio.Event()

    async def reader() -> None:
        nonlocal inside, most
        async with rw.reading():
            inside += 1
            most = max(most, inside)
            if inside == 5:
                all_in.set()
            with anyio.fail_after(10):  # they are all inside at once, or this never ends
                await all_in.wait()
            inside -= 1

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(reader)
    assert most == 5


@pytest.mark.parametrize("variant", ALL, ids=str)
@settings(max_examples=10)
@given(ops=st.lists(st.tuples(st.sampled_from("rw"), st.integers(0, 3)), min_size=1, max_size=15))
async def test_a_writer_is_alone_and_readers_never_meet_a_writer(
    variant: Variant, ops: list[tuple[str, int]],
) -> None:
    rw = variant.fn()
    readers = writers = 0

    async def op(kind: str, ms: int) -> None:
        nonlocal readers, writers
        if kind == "r":
            async with rw.reading():
                readers += 1
                assert writers == 0
                await anyio.sleep(ms / 1000)
                readers -= 1
        else:
            async with rw.writing():
                writers += 1
                assert writers == 1 and readers == 0
                await anyio.sleep(ms / 1000)
                writers -= 1

    async with anyio.create_task_group() as tg:
        for kind, ms in ops:
            tg.start_soon(op, kind, ms)
    await _assert_free(rw)


async def _assert_free(rw: Any) -> None:
    with anyio.fail_after(1):
        async with rw.writing():
            pass


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_waiting_writer_holds_back_new_readers(variant: Variant) -> None:
    rw = variant.fn()
    log: list[str] = []

    release_a = anyio.Event()

    async def reader(name: str, hold: anyio.Event | None) -> None:
        async with rw.reading():
            log.append(f"{name} in")
            if hold is not None:
                await hold.wait()
        log.append(f"{name} out")

    async def writer(name: str) -> None:
        async with rw.writing():
            log.append(f"{name} in")
        log.append(f"{name} out")

    async with anyio.create_task_group() as tg:
        tg.start_soon(reader, "A", release_a)
        await until(lambda: "1 reader(s) inside" in state(rw))
        tg.start_soon(writer, "W")  # waits for A
        await until(lambda: "1 writer(s)" in state(rw))
        tg.start_soon(reader, "B", None)  # must wait for W, although only a reader is inside
        await until(lambda: "1 reader(s) waiting" in state(rw))
        release_a.set()
    assert log == ["A in", "A out", "W in", "W out", "B in", "B out"]


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_readers_that_waited_go_before_the_next_writer(variant: Variant) -> None:
    rw = variant.fn()
    log: list[str] = []

    async def reader(name: str) -> None:
        async with rw.reading():
            log.append(f"{name} in")
            await anyio.sleep(SETTLE)

    async def writer(name: str) -> None:
        async with rw.writing():
            log.append(f"{name} in")

    await rw.lock()
    async with anyio.create_task_group() as tg:
        tg.start_soon(reader, "R1")
        tg.start_soon(reader, "R2")
        await until(lambda: "2 reader(s) waiting" in state(rw))
        tg.start_soon(writer, "W2")
        await until(lambda: "1 writer(s)" in state(rw))
        rw.unlock()
    assert sorted(log[:2]) == ["R1 in", "R2 in"] and log[2] == "W2 in"


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_cancelled_writer_lets_the_readers_behind_it_in(variant: Variant) -> None:
    rw = variant.fn()
    await rw.rlock()  # a reader inside
    b_in = anyio.Event()

    async def reader_b() -> None:
        async with rw.reading():
            b_in.set()

    async with anyio.create_task_group() as tg:
        with anyio.move_on_after(SETTLE):
            tg.start_soon(reader_b)  # queues behind the writer below
            await rw.lock()
        # The writer gave up while the first reader is still inside: B must not wait for it.
        with anyio.fail_after(1):
            await b_in.wait()
    rw.runlock()
    await _assert_free(rw)


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_lock_handed_to_a_cancelled_waiter_is_not_lost(variant: Variant) -> None:
    rw = variant.fn()
    await rw.rlock()
    async with anyio.create_task_group() as tg:
        scope = anyio.CancelScope()

        async def writer() -> None:
            with scope:
                async with rw.writing():
                    pass

        tg.start_soon(writer)
        await until(lambda: "1 writer(s)" in state(rw))
        rw.runlock()  # hands the lock to the writer...
        scope.cancel()  # ...which is cancelled before it runs again
    await _assert_free(rw)


async def _queue(tg: Any, rw: Any, how: str, scope: anyio.CancelScope, log: list[str],
                 name: str) -> None:
    """Start a task that waits for *how* ("reading" or "writing") inside *scope*, and wait
    until it has queued."""
    before = state(rw)

    async def waiter() -> None:
        with scope:
            async with getattr(rw, how)():
                log.append(name)
        if scope.cancelled_caught:
            log.append(f"{name} cancelled")

    tg.start_soon(waiter)
    await until(lambda: state(rw) != before)


@pytest.mark.parametrize("variant", ASYNC, ids=str)
@pytest.mark.parametrize("settled", [False, True], ids=["at-once", "after-it-left"])
async def test_readers_cancelled_as_a_writer_unlocks_take_nothing(
    variant: Variant, settled: bool,
) -> None:
    """Three readers wait behind a writer, and the middle one is cancelled: at once before the
    writer unlocks (its task has not run yet), or after it has left the line. The other two
    get in, and the lock ends free."""
    rw = variant.fn()
    await rw.lock()
    log: list[str] = []
    scopes = [anyio.CancelScope() for _ in range(3)]
    async with anyio.create_task_group() as tg:
        for i, scope in enumerate(scopes):
            await _queue(tg, rw, "reading", scope, log, f"r{i}")
        assert "3 reader(s) waiting" in state(rw)
        scopes[1].cancel()
        if settled:
            await until(lambda: "r1 cancelled" in log)
        rw.unlock()
    assert sorted(log) == ["r0", "r1 cancelled", "r2"]
    assert "unlocked" in state(rw)
    await _assert_free(rw)


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_batch_of_cancelled_readers_lets_the_next_writer_in(variant: Variant) -> None:
    """The only reader queued is cancelled just as the writer unlocks: the writer behind it
    gets the lock, and nobody is left waiting."""
    rw = variant.fn()
    await rw.lock()
    log: list[str] = []
    reader_scope, writer_scope = anyio.CancelScope(), anyio.CancelScope()
    async with anyio.create_task_group() as tg:
        await _queue(tg, rw, "reading", reader_scope, log, "r")
        await _queue(tg, rw, "writing", writer_scope, log, "w")
        reader_scope.cancel()
        rw.unlock()
    assert log == ["r cancelled", "w"] or log == ["w", "r cancelled"]
    await _assert_free(rw)


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_writer_cancelled_as_the_lock_is_handed_on_passes_it_on(
    variant: Variant,
) -> None:
    """Two writers wait behind a reader; the first is cancelled just as the reader leaves.
    The second writer and a reader that queued behind them both get in, and the lock ends
    free. (Which goes first depends on whether the lock had reached the cancelled writer,
    which then released it: readers queued go before the next writer.)"""
    rw = variant.fn()
    await rw.rlock()
    log: list[str] = []
    scopes = [anyio.CancelScope() for _ in range(3)]
    async with anyio.create_task_group() as tg:
        await _queue(tg, rw, "writing", scopes[0], log, "w1")
        await _queue(tg, rw, "writing", scopes[1], log, "w2")
        await _queue(tg, rw, "reading", scopes[2], log, "r")
        scopes[0].cancel()
        rw.runlock()
    assert sorted(log) == ["r", "w1 cancelled", "w2"]
    await _assert_free(rw)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_unlocking_what_is_not_held_raises(variant: Variant) -> None:
    rw = variant.fn()
    with pytest.raises(RuntimeError, match="runlock of unlocked RWMutex"):
        rw.runlock()
    with pytest.raises(RuntimeError, match="unlock of unlocked RWMutex"):
        rw.unlock()
    await rw.rlock()
    with pytest.raises(RuntimeError, match="unlock of unlocked RWMutex"):
        rw.unlock()  # a read lock is not the write lock
    rw.runlock()
    await _assert_free(rw)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_repr_shows_readers_writer_and_who_waits(variant: Variant) -> None:
    rw = variant.fn()
    real = getattr(rw, "rw", rw)  # the thread variant's facade holds the real lock
    assert "unlocked" in repr(real)
    await rw.rlock()
    await rw.rlock()
    assert "2 reader(s) inside" in repr(real)
    async with anyio.create_task_group() as tg:
        tg.start_soon(rw.lock)
        await until(lambda: "1 writer(s)" in repr(real))
        tg.start_soon(rw.rlock)  # behind the waiting writer
        await until(lambda: "1 reader(s) waiting" in repr(real))
        rw.runlock()
        rw.runlock()  # the writer gets in
        await until(lambda: "write-locked" in repr(real) and "0 writer(s)" in repr(real))
        rw.unlock()  # the reader that waited gets in
        await until(lambda: "1 reader(s) inside" in repr(real))
    assert "1 reader(s) inside, 0 writer(s) and 0 reader(s) waiting" in repr(real)
    rw.runlock()
    assert "unlocked" in repr(real)


# --- the asyncio variant under anyio's cancellation ---------------------------------------------

async def _wait_for_a_held_rwmutex() -> None:
    rw = cp_asyncio.RWMutex()
    await rw.lock()
    await rw.rlock()  # waits forever: only a cancellation ends it


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
def test_the_asyncio_rwmutex_stops_when_anyio_cancels_it(how: str) -> None:
    """Waiting as anyio cancels it (as under FastAPI): the wait ends, nothing is left."""
    assert stopped_by_anyio(_wait_for_a_held_rwmutex, how) < 30
