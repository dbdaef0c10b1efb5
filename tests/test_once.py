"""The once contract, run against every variant (threads through a facade)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
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


class ThreadOnceFacade:
    """ThreadOnce called from worker threads; *fn* runs back in the event loop."""

    def __init__(self) -> None:
        self.once: cp_threads.Once[Any] = cp_threads.Once()

    @property
    def done(self) -> bool:
        return self.once.done

    async def do(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        def call_fn() -> Any:
            return anyio.from_thread.run(fn)
        return await anyio.to_thread.run_sync(self.once.do, call_fn)


ASYNC = [
    Variant("asyncio", cp_asyncio.Once),
    Variant("anyio-asyncio", cp_anyio.Once),
    Variant("anyio-trio", cp_anyio.Once, backend="trio"),
]
ALL = [*ASYNC, Variant("threads", ThreadOnceFacade)]


class Init:
    """An initialisation that counts its calls, can be slow, and can fail."""

    def __init__(self, delay: float = 0.02, failures: int = 0) -> None:
        self.calls = 0
        self.delay = delay
        self.failures = failures

    async def __call__(self) -> str:
        self.calls += 1
        await anyio.sleep(self.delay)
        if self.calls <= self.failures:
            raise ConnectionError(f"attempt {self.calls} failed")
        return f"ready after {self.calls} call(s)"


async def call_all(once: Any, fn: Any, callers: int) -> list[Any]:
    """*callers* concurrent ``once.do(fn)``; each outcome, value or exception, in a list."""
    outcomes: list[Any] = [None] * callers

    async def caller(i: int) -> None:
        try:
            outcomes[i] = await once.do(fn)
        except Exception as exc:
            outcomes[i] = exc

    async with anyio.create_task_group() as tg:
        for i in range(callers):
            tg.start_soon(caller, i)
    return outcomes


@pytest.mark.parametrize("variant", ALL, ids=str)
@settings(max_examples=8)
@given(callers=st.integers(1, 15))
async def test_f_runs_once_and_every_caller_gets_its_value(variant: Variant, callers: int) -> None:
    once, init = variant.fn(), Init()
    assert not once.done
    assert await call_all(once, init, callers) == ["ready after 1 call(s)"] * callers
    assert init.calls == 1 and once.done
    # Later calls return the value without calling anything, even another function.
    assert await once.do(Init()) == "ready after 1 call(s)"
    assert init.calls == 1


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_failure_reaches_every_waiting_caller_and_is_not_cached(variant: Variant) -> None:
    once, init = variant.fn(), Init(failures=1)
    outcomes = await call_all(once, init, 5)
    assert init.calls == 1
    assert all(isinstance(o, ConnectionError) and str(o) == "attempt 1 failed" for o in outcomes)
    assert not once.done
    # Unlike Go, the next call tries again.
    assert await once.do(init) == "ready after 2 call(s)"
    assert once.done and init.calls == 2


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_cancelled_runner_hands_over_to_a_waiting_caller(variant: Variant) -> None:
    once, init = variant.fn(), Init(delay=0.05)
    values: list[str] = []

    async def waiter() -> None:
        values.append(await once.do(init))

    async with anyio.create_task_group() as tg:
        with anyio.move_on_after(0.02) as scope:  # the runner gives up mid-call
            tg.start_soon(waiter)
            tg.start_soon(waiter)
            await once.do(init)
        assert scope.cancelled_caught
    assert values == ["ready after 2 call(s)"] * 2
    assert init.calls == 2 and once.done


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_fn_must_be_callable(variant: Variant) -> None:
    once = variant.fn()
    target = once.once if isinstance(once, ThreadOnceFacade) else once
    with pytest.raises(TypeError, match="fn must be callable"):
        outcome = target.do(42)
        if inspect.isawaitable(outcome):
            await outcome


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_repr_shows_whether_it_is_done_or_running(variant: Variant) -> None:
    once = variant.fn()
    real = getattr(once, "once", once)  # the thread variant's facade holds the real Once
    assert repr(real) == f"<{type(real).__name__} not done>"
    started, release = anyio.Event(), anyio.Event()

    async def init() -> str:
        started.set()
        await release.wait()
        return "value"

    async with anyio.create_task_group() as tg:
        tg.start_soon(once.do, init)
        await started.wait()
        assert repr(real) == f"<{type(real).__name__} running>"
        release.set()
    assert repr(real) == f"<{type(real).__name__} done>"


# --- the asyncio variant under anyio's cancellation ---------------------------------------------

async def _wait_for_a_running_once() -> None:
    once: cp_asyncio.Once[None] = cp_asyncio.Once()
    async with asyncio.TaskGroup() as tg:
        tg.create_task(once.do(asyncio.sleep, 3600))  # runs for an hour
        await asyncio.sleep(0.01)
        await once.do(asyncio.sleep, 0)  # waits for the running call


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
def test_the_asyncio_once_stops_when_anyio_cancels_it(how: str) -> None:
    """Waiting as anyio cancels it (as under FastAPI): the wait ends, nothing is left."""
    assert stopped_by_anyio(_wait_for_a_running_once, how) < 30
