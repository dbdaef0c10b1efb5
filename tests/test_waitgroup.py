"""The waitgroup contract, run against every variant (threads through a facade)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.conftest import ANYIO_CANCELS, Variant, stopped_by_anyio

pytestmark = pytest.mark.anyio


class ThreadWaitGroupFacade:
    """ThreadWaitGroup with async wait(); go() runs an async function from a real new thread."""

    def __init__(self) -> None:
        self.wg = cp_threads.WaitGroup()
        self.add, self.done = self.wg.add, self.wg.done

    @property
    def count(self) -> int:
        return self.wg.count

    async def wait(self) -> None:
        await anyio.to_thread.run_sync(self.wg.wait)

    def go(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        token = anyio.lowlevel.current_token()
        self.wg.go(lambda: anyio.from_thread.run(fn, *args, token=token))

    async def __aenter__(self) -> ThreadWaitGroupFacade:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.wait()


ASYNC = [
    Variant("asyncio", cp_asyncio.WaitGroup),
    Variant("anyio-asyncio", cp_anyio.WaitGroup),
    Variant("anyio-trio", cp_anyio.WaitGroup, backend="trio"),
]
ALL = [*ASYNC, Variant("threads", ThreadWaitGroupFacade)]


@pytest.mark.parametrize("variant", ALL, ids=str)
@settings(max_examples=10)
@given(delays=st.lists(st.integers(0, 20), max_size=12))
async def test_wait_returns_once_every_add_is_done(variant: Variant, delays: list[int]) -> None:
    wg = variant.fn()
    finished: list[int] = []

    async def work(i: int, ms: int) -> None:
        await anyio.sleep(ms / 1000)
        finished.append(i)
        wg.done()

    async with anyio.create_task_group() as tg:
        wg.add(len(delays))
        for i, ms in enumerate(delays):
            tg.start_soon(work, i, ms)
        await wg.wait()
        # Everything each task did before done() is visible here.
        assert sorted(finished) == list(range(len(delays)))
        assert wg.count == 0


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_go_counts_runs_and_waits(variant: Variant) -> None:
    finished: list[int] = []

    async def work(i: int) -> None:
        await anyio.sleep(0.01 * (i % 3))
        finished.append(i)

    async with variant.fn() as wg:
        for i in range(8):
            wg.go(work, i)
        await wg.wait()
        assert sorted(finished) == list(range(8))


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_errors_in_go_functions_are_raised_by_wait(variant: Variant) -> None:
    async def fail(i: int) -> None:
        raise ValueError(f"task {i} failed")

    async def fine() -> None:
        await anyio.sleep(0.01)

    with pytest.raises(ExceptionGroup) as info:
        async with variant.fn() as wg:
            wg.go(fail, 1)
            wg.go(fine)
            wg.go(fail, 2)
            await wg.wait()
    assert sorted(str(e) for e in info.value.exceptions) == ["task 1 failed", "task 2 failed"]


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_errors_belong_to_the_round_they_happened_in(variant: Variant) -> None:
    async def fail() -> None:
        raise ValueError("round 1 failed")

    async def fine() -> None:
        await anyio.lowlevel.checkpoint()

    async with variant.fn() as wg:
        wg.go(fail)
        for _ in range(2):  # every wait that ends (or follows) the failing round raises
            with pytest.raises(ExceptionGroup, match="go"):
                await wg.wait()
        wg.go(fine)  # a new round starts clean
        await wg.wait()
        wg.add(1)
        wg.done()
        await wg.wait()


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_negative_counter_raises_and_changes_nothing(variant: Variant) -> None:
    wg = variant.fn()
    with pytest.raises(ValueError, match="negative WaitGroup counter"):
        wg.done()
    wg.add(2)
    with pytest.raises(ValueError, match="negative WaitGroup counter"):
        wg.add(-3)
    assert wg.count == 2
    wg.add(-2)
    with anyio.fail_after(1):
        await wg.wait()


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_add_takes_an_int(variant: Variant) -> None:
    with pytest.raises(TypeError, match="delta"):
        variant.fn().add(1.5)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_waitgroup_can_be_reused(variant: Variant) -> None:
    wg = variant.fn()
    for _ in range(3):
        wg.add(1)
        async with anyio.create_task_group() as tg:
            tg.start_soon(wg.wait)
            await anyio.sleep(0.01)
            wg.done()
    assert wg.count == 0


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_leaving_the_block_early_cancels_the_tasks_it_started(variant: Variant) -> None:
    started = anyio.Event()
    finished: list[str] = []

    async def slow() -> None:
        started.set()
        await anyio.sleep(10)
        finished.append("slow")

    with anyio.move_on_after(0.05) as scope:
        async with variant.fn() as wg:
            wg.go(slow)
            await started.wait()
            await anyio.sleep(10)
    assert scope.cancelled_caught and finished == []


async def test_go_outside_async_with_is_refused() -> None:
    async def nothing() -> None:
        pass

    with pytest.raises(RuntimeError, match="async with"):
        cp_anyio.WaitGroup().go(nothing)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_repr_shows_the_counter_and_the_kept_errors(variant: Variant) -> None:
    async def boom() -> None:
        raise ValueError("boom")

    with pytest.raises(ExceptionGroup):  # the exit's own wait() raises the kept error too
        async with variant.fn() as wg:
            real = getattr(wg, "wg", wg)  # the thread variant's facade holds the real group
            name = type(real).__name__
            assert repr(real) == f"<{name} count=0>"
            wg.add(2)
            assert repr(real) == f"<{name} count=2>"
            wg.done()
            wg.done()
            wg.go(boom)
            with pytest.raises(ExceptionGroup):
                await wg.wait()
            assert repr(real) == f"<{name} count=0, 1 error(s) kept>"


# --- the asyncio variant under anyio's cancellation ---------------------------------------------

async def _wait_for_a_waitgroup() -> None:
    wg = cp_asyncio.WaitGroup()
    wg.add(1)
    await wg.wait()  # nobody calls done()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
def test_the_asyncio_waitgroup_stops_when_anyio_cancels_it(how: str) -> None:
    """Waiting as anyio cancels it (as under FastAPI): the wait ends, nothing is left."""
    assert stopped_by_anyio(_wait_for_a_waitgroup, how) < 30
