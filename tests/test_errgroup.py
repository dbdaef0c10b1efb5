"""The errgroup contract, run against every variant.

The thread group is driven through a facade: its blocking calls run in a worker thread and
its functions run back in the event loop, so one async test body checks all of them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.conftest import ANYIO_CANCELS, Variant, check_twins_cover, stopped_by_anyio, twins

pytestmark = pytest.mark.anyio


class ThreadErrGroupFacade:
    """ThreadErrGroup with async start(); each function runs in its own real thread."""

    def __init__(self, **options: Any) -> None:
        self.group = cp_threads.ErrGroup(**options)

    @property
    def errors(self) -> list[Exception]:
        return self.group.errors

    def _in_thread(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> Any:
        token = anyio.lowlevel.current_token()
        return lambda: anyio.from_thread.run(fn, *args, token=token)

    async def go(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> bool:
        return await anyio.to_thread.run_sync(self.group.go, self._in_thread(fn, args))

    def try_go(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> bool:
        return self.group.try_go(self._in_thread(fn, args))

    def cancel(self) -> None:
        self.group.cancel()

    async def __aenter__(self) -> ThreadErrGroupFacade:
        self.group.__enter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await anyio.to_thread.run_sync(self.group.__exit__, *exc)


ASYNC = [
    Variant("asyncio", cp_asyncio.ErrGroup),
    Variant("anyio-asyncio", cp_anyio.ErrGroup),
    Variant("anyio-trio", cp_anyio.ErrGroup, backend="trio"),
]
ALL = [*ASYNC, Variant("threads", ThreadErrGroupFacade)]


class Gauge:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.most = self.finished = self.started = 0

    async def work(self, seconds: float, fail: Exception | None = None) -> None:
        with self.lock:
            self.started += 1
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            await anyio.sleep(seconds)
            if fail is not None:
                raise fail
        finally:
            with self.lock:
                self.now -= 1
                self.finished += 1


@pytest.mark.parametrize("variant", ALL, ids=str)
@pytest.mark.parametrize("limit", [1, 3, 7])
async def test_never_more_than_limit_and_the_limit_is_reached(variant: Variant, limit: int) -> None:
    gauge = Gauge()

    async def until_full() -> None:
        """Runs until the group has been full once: reaching the limit is not left to the
        machine's speed (a busy one may start each thread after the last one ended)."""
        with gauge.lock:
            gauge.started += 1
            gauge.now += 1
            gauge.most = max(gauge.most, gauge.now)
        try:
            with anyio.fail_after(10):
                while gauge.most < limit:
                    await anyio.sleep(0.001)
        finally:
            with gauge.lock:
                gauge.now -= 1
                gauge.finished += 1

    async with variant.fn(limit=limit) as g:
        for _ in range(3 * limit):
            await g.go(until_full)
    assert gauge.most == limit
    assert gauge.finished == 3 * limit


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_the_first_error_by_time_is_raised_as_itself(variant: Variant) -> None:
    late, early = KeyError("late"), ValueError("early")
    early_failed = anyio.Event()

    async def fail_early() -> None:
        await anyio.sleep(0.01)
        early_failed.set()
        raise early

    async def fail_late() -> None:  # started first, fails second, however busy the machine
        await early_failed.wait()
        await anyio.sleep(0.05)
        raise late

    with pytest.raises(ValueError, match="early") as info:
        async with variant.fn() as g:
            await g.go(fail_late)
            await g.go(fail_early)
    assert info.value is early
    if variant.name != "threads":
        assert g.errors == [early]  # the late one was cancelled before it could fail


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_the_first_error_cancels_the_rest(variant: Variant) -> None:
    gauge = Gauge()
    with pytest.raises(ValueError, match="boom"):
        async with variant.fn(limit=3) as g:
            await g.go(gauge.work, 0.01, ValueError("boom"))
            for _ in range(10):
                await g.go(gauge.work, 1.0)
    assert gauge.now == 0  # nothing left running
    assert gauge.started < 11  # the loop that started work stopped at the error


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_other_errors_are_kept_not_lost(variant: Variant) -> None:
    first, second = ValueError("first"), KeyError("second")

    async def fail_at(seconds: float, error: Exception) -> None:
        try:
            await anyio.sleep(seconds)
        except BaseException:  # cancelled by the first error: fail on the way out all the same
            raise error from None
        raise error

    with pytest.raises(ValueError, match="first") as info:
        async with variant.fn() as g:
            await g.go(fail_at, 0.01, first)
            await g.go(fail_at, 0.05, second)
    assert g.errors == [first, second]
    assert any("1 more error(s)" in note and "KeyError" in note
               for note in getattr(info.value, "__notes__", []))


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_collect_errors_runs_everything_and_raises_them_all(variant: Variant) -> None:
    gauge = Gauge()
    with pytest.raises(ExceptionGroup) as info:
        async with variant.fn(limit=2, collect_errors=True) as g:
            for i in range(6):
                await g.go(gauge.work, 0.005, ValueError(str(i)) if i % 2 else None)
    assert gauge.finished == 6
    assert sorted(str(e) for e in info.value.exceptions) == ["1", "3", "5"]


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_try_go_at_capacity_starts_nothing(variant: Variant) -> None:
    gauge, release = Gauge(), anyio.Event()

    async def hold() -> None:
        await release.wait()

    async with variant.fn(limit=1) as g:
        assert g.try_go(hold)
        await anyio.sleep(0.02)
        assert not g.try_go(gauge.work, 0)
        release.set()
    assert gauge.started == 0


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_cancel_stops_everything_and_the_block_ends_quietly(variant: Variant) -> None:
    gauge = Gauge()
    async with variant.fn() as g:
        for _ in range(5):
            await g.go(gauge.work, 10)
        await anyio.sleep(0.01)
        g.cancel()
        await anyio.sleep(10)  # cancelled too: the block ends here
    assert gauge.now == 0 and gauge.started == 5


async def test_a_thread_group_cancel_starts_nothing_more() -> None:
    group, ran = cp_threads.ErrGroup(), []
    with group as g:
        g.go(ran.append, 1)
        g.cancel()
        assert not g.go(ran.append, 2) and not g.try_go(ran.append, 3)
    assert ran == [1] and g.cancelled.is_set()


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_cancelling_from_outside_leaves_nothing_running(variant: Variant) -> None:
    gauge = Gauge()
    with anyio.move_on_after(0.05) as scope:
        async with variant.fn(limit=2) as g:
            for _ in range(10):
                await g.go(gauge.work, 10)
    assert scope.cancelled_caught
    assert gauge.now == 0


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_repr_shows_running_limit_and_errors(variant: Variant) -> None:
    release = anyio.Event()
    async with variant.fn(limit=4) as g:
        real = getattr(g, "group", g)
        assert repr(real) == f"<{type(real).__name__} 0/4 running, 0 error(s)>"
        await g.go(release.wait)
        await anyio.sleep(0.02)
        assert "1/4 running" in repr(real)
        release.set()


@pytest.mark.parametrize("cls", [cp_asyncio.ErrGroup, cp_anyio.ErrGroup, cp_threads.ErrGroup])
@pytest.mark.parametrize(("limit", "error"), [(0, ValueError), (-1, ValueError),
                                               (2.5, TypeError), (True, TypeError)])
def test_a_bad_limit_is_refused_naming_it(cls: type, limit: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="limit"):
        cls(limit=limit)


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_start_outside_the_block_or_with_no_function_is_refused(variant: Variant) -> None:
    g = variant.fn()
    with pytest.raises(RuntimeError, match="async with"):
        await g.go(anyio.sleep, 0)
    async with g:
        with pytest.raises(TypeError, match="fn must be callable"):
            await g.go(42)


# --- after the first error, and the block's own -------------------------------------------------

@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_go_waiting_for_room_when_a_function_fails_starts_nothing(
    variant: Variant,
) -> None:
    """The block waits in go() for room; meanwhile a function fails: go() starts nothing, and
    in async code the block stops there (it is cancelled with the group)."""
    gauge, after = Gauge(), []
    with pytest.raises(ValueError, match="boom"):
        async with variant.fn(limit=1) as g:
            await g.go(gauge.work, 0.05, ValueError("boom"))
            started = await g.go(gauge.work, 0)  # waits for the failing one's place
            after.append(started)
    assert gauge.started == 1  # the second never started
    if variant.name == "threads":
        assert after == [False]  # a thread cannot be cancelled: go() says it started nothing
    else:
        assert after == []  # cancelled in go(), with the group


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_try_go_after_the_first_error_starts_nothing(variant: Variant) -> None:
    """A function cancelled by the first error tries to start another on its way out."""
    gauge, tried = Gauge(), []

    async def observer(g: Any) -> None:
        try:
            await anyio.sleep(10)
        except anyio.get_cancelled_exc_class():
            tried.append(g.try_go(gauge.work, 0))
            raise

    with pytest.raises(ValueError, match="boom"):
        async with variant.fn() as g:
            await g.go(observer, g)
            await g.go(gauge.work, 0.02, ValueError("boom"))
    assert tried == [False] and gauge.started == 1


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_caller_outside_the_group_is_told_it_stopped(variant: Variant) -> None:
    """A task outside the group waits in go() for room when the group fails: RuntimeError."""
    told: list[BaseException] = []
    groups: list[Any] = []

    async def outsider() -> None:
        while not groups:
            await anyio.sleep(0.001)
        try:
            await groups[0].go(Gauge().work, 0)
        except RuntimeError as e:
            told.append(e)

    async with anyio.create_task_group() as tg:
        tg.start_soon(outsider)
        with pytest.raises(ValueError, match="boom"):
            async with variant.fn(limit=1) as g:
                groups.append(g)
                await g.go(Gauge().work, 0.05, ValueError("boom"))
                await anyio.sleep(1)
    assert len(told) == 1 and "stopped" in str(told[0])


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_an_error_in_the_block_comes_out_as_itself(variant: Variant) -> None:
    gauge, error = Gauge(), KeyError("the block's own")
    with pytest.raises(KeyError) as info:
        async with variant.fn() as g:
            await g.go(gauge.work, 5)
            raise error
    assert info.value is error
    assert gauge.now == 0


# --- threads: order, panics, and the block ------------------------------------------------------

def test_thread_waiters_get_room_in_the_order_they_asked() -> None:
    order: list[int] = []
    release = threading.Event()
    with cp_threads.ErrGroup(limit=1) as g:
        g.go(release.wait, 5)  # holds the only place
        askers = []
        for i in range(8):
            t = threading.Thread(target=g.go, args=(order.append, i))
            t.start()
            askers.append(t)
            time.sleep(0.02)  # each asks after the one before is waiting
        release.set()
        for t in askers:
            t.join(5)
    assert order == list(range(8))


def test_a_base_exception_in_a_thread_function_comes_out_of_the_block() -> None:
    def leave() -> None:
        raise SystemExit(3)

    with pytest.raises(SystemExit) as info, cp_threads.ErrGroup() as g:
        g.go(leave)
    assert info.value.code == 3 and g.cancelled.is_set()


def test_a_thread_group_refuses_go_outside_its_block() -> None:
    g, ran = cp_threads.ErrGroup(), []
    with pytest.raises(RuntimeError, match="with ErrGroup"):
        g.go(ran.append, 1)
    with g:
        g.go(ran.append, 2)
    with pytest.raises(RuntimeError, match="with ErrGroup"):
        g.try_go(ran.append, 3)
    assert ran == [2]


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_caller_outside_waiting_when_the_block_ends_is_told_the_same_everywhere(
    variant: Variant,
) -> None:
    """Once the block's own code is done, only the group's functions may start more: a task
    outside it that was waiting for room gets RuntimeError, on asyncio and on trio alike."""
    told: list[str] = []
    groups: list[Any] = []

    async def outsider() -> None:
        while not groups:
            await anyio.sleep(0.001)
        try:
            await groups[0].go(anyio.sleep, 0)
            told.append("started")
        except RuntimeError as e:
            told.append(str(e))

    async with anyio.create_task_group() as tg:
        tg.start_soon(outsider)
        async with variant.fn(limit=1) as g:
            groups.append(g)
            await g.go(anyio.sleep, 0.1)
            await anyio.sleep(0.02)  # the outsider now waits for room; the block's code ends
    assert len(told) == 1 and "block has ended" in told[0]


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_function_may_start_another_while_the_block_waits(variant: Variant) -> None:
    """Go's g.Go during Wait: after the block's own code, its functions may still start more."""
    ran: list[int] = []

    async def spawner(g: Any) -> None:
        await anyio.sleep(0.02)  # the block's code has ended by now
        await g.go(record, 2)

    async def record(n: int) -> None:
        ran.append(n)

    async with variant.fn(limit=2) as g:
        await g.go(spawner, g)
    assert ran == [2]


# --- the asyncio variant under anyio's cancellation ---------------------------------------------

async def _wait_in_an_errgroup() -> None:
    async with cp_asyncio.ErrGroup(limit=1) as g:
        await g.go(asyncio.sleep, 3600)
        await g.go(asyncio.sleep, 0)  # waits for room


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
def test_the_asyncio_errgroup_stops_when_anyio_cancels_it(how: str) -> None:
    """Waiting as anyio cancels it (as under FastAPI): the wait ends, nothing is left."""
    assert stopped_by_anyio(_wait_in_an_errgroup, how) < 30


# --- twin contracts: the same scenarios and traces as the Go test runs on x/sync's errgroup ----

TWINS = twins("errgroup")
TWIN_VARIANTS = [
    Variant("asyncio-virtual", cp_asyncio.ErrGroup, backend="asyncio-virtual"),
    Variant("anyio-asyncio-virtual", cp_anyio.ErrGroup, backend="asyncio-virtual"),
    Variant("anyio-trio-virtual", cp_anyio.ErrGroup, backend="trio-virtual"),
]


def _outcome(exc: BaseException | None) -> str:
    return "wait: ok" if exc is None else f"wait: {exc}"


async def twin_first_error(make: Any, _: dict[str, Any]) -> list[str]:
    trace: list[str] = []
    started = anyio.Event()

    async def a() -> None:
        trace.append("a started")
        started.set()
        try:
            await anyio.sleep_forever()
        except BaseException:
            trace.append("a cancelled")
            raise

    async def b() -> None:
        await started.wait()
        trace.append("b fails")
        raise ValueError("b failed")

    try:
        async with make() as g:
            await g.go(a)
            await g.go(b)
    except ValueError as exc:
        trace.append(_outcome(exc))
    else:
        trace.append(_outcome(None))
    return trace


async def twin_go_waits(make: Any, params: dict[str, Any]) -> list[str]:
    trace: list[str] = []
    started, release, b_go = anyio.Event(), anyio.Event(), anyio.Event()

    async def a() -> None:
        trace.append("a started")
        started.set()
        await release.wait()
        trace.append("a ends")

    async def b() -> None:
        await b_go.wait()
        trace.append("b runs")

    async def release_later() -> None:  # once go(b) waits for room
        await anyio.sleep(0.01)
        release.set()

    async with anyio.create_task_group() as helpers, make(limit=params["limit"]) as g:
        await g.go(a)
        await started.wait()
        trace.append("go b called")
        helpers.start_soon(release_later)
        await g.go(b)
        trace.append("go b returned")
        b_go.set()
    trace.append(_outcome(None))
    return trace


async def twin_try_go(make: Any, params: dict[str, Any]) -> list[str]:
    trace: list[str] = []
    release = anyio.Event()

    async def a() -> None:
        await release.wait()

    async def b() -> None:
        pass

    async with make(limit=params["limit"]) as g:
        trace.append(f"try a: {str(g.try_go(a)).lower()}")
        trace.append(f"try b: {str(g.try_go(b)).lower()}")
        release.set()
    trace.append(_outcome(None))
    return trace


ASYNC_TWINS = {
    "first-error-wins-and-cancels-the-rest": twin_first_error,
    "go-waits-for-room-under-the-limit": twin_go_waits,
    "try-go-at-capacity-starts-nothing": twin_try_go,
}


@pytest.mark.parametrize("scenario", sorted(ASYNC_TWINS))
@pytest.mark.parametrize("variant", TWIN_VARIANTS, ids=str)
async def test_twin_contract(variant: Variant, scenario: str) -> None:
    trace = await ASYNC_TWINS[scenario](variant.fn, TWINS[scenario])
    assert trace == TWINS[scenario]["trace"]


def thread_twin_first_error(_: dict[str, Any]) -> list[str]:
    trace: list[str] = []
    started = threading.Event()
    with pytest.raises(ValueError, match="b failed") as raised, cp_threads.ErrGroup() as g:
        def a() -> None:
            trace.append("a started")
            started.set()
            g.cancelled.wait()  # a thread cannot be cancelled: it watches the group
            trace.append("a cancelled")

        def b() -> None:
            started.wait()
            trace.append("b fails")
            raise ValueError("b failed")

        g.go(a)
        g.go(b)
    trace.append(_outcome(raised.value))
    return trace


def thread_twin_go_waits(params: dict[str, Any]) -> list[str]:
    trace: list[str] = []
    started, release, b_go = threading.Event(), threading.Event(), threading.Event()

    def a() -> None:
        trace.append("a started")
        started.set()
        release.wait()
        trace.append("a ends")

    def b() -> None:
        b_go.wait()
        trace.append("b runs")

    with cp_threads.ErrGroup(limit=params["limit"]) as g:
        g.go(a)
        started.wait()
        trace.append("go b called")
        threading.Timer(0.01, release.set).start()  # once go(b) waits for room
        g.go(b)
        trace.append("go b returned")
        b_go.set()
    trace.append(_outcome(None))
    return trace


def thread_twin_try_go(params: dict[str, Any]) -> list[str]:
    trace: list[str] = []
    release = threading.Event()
    with cp_threads.ErrGroup(limit=params["limit"]) as g:
        trace.append(f"try a: {str(g.try_go(release.wait)).lower()}")
        trace.append(f"try b: {str(g.try_go(lambda: None)).lower()}")
        release.set()
    trace.append(_outcome(None))
    return trace


THREAD_TWINS = {
    "first-error-wins-and-cancels-the-rest": thread_twin_first_error,
    "go-waits-for-room-under-the-limit": thread_twin_go_waits,
    "try-go-at-capacity-starts-nothing": thread_twin_try_go,
}


@pytest.mark.parametrize("scenario", sorted(THREAD_TWINS))
def test_twin_contract_threads(scenario: str) -> None:
    assert THREAD_TWINS[scenario](TWINS[scenario]) == TWINS[scenario]["trace"]


def test_every_twin_contract_runs_in_every_model() -> None:
    check_twins_cover("errgroup", ASYNC_TWINS, {})
    check_twins_cover("errgroup", THREAD_TWINS, {})
