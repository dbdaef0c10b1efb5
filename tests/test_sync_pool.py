"""The sync_pool contract, run against every variant.

Borrowers are real threads for ``threads.SyncPool`` and tasks for the async pools (on asyncio,
and for ``anyio.SyncPool`` on trio too).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.conftest import ANYIO_CANCELS, stopped_by_anyio

pytestmark = pytest.mark.anyio


class Buffer:
    """A pooled object that knows whether someone holds it."""

    made = 0

    def __init__(self) -> None:
        Buffer.made += 1
        self.holder: int | None = None
        self.dirty = False


@dataclass(frozen=True)
class Model:
    name: str
    cls: type
    backend: str = "asyncio"

    def __str__(self) -> str:
        return self.name

    @property
    def threads(self) -> bool:
        return self.cls is cp_threads.SyncPool

    async def borrowers(self, pool: Any, n: int, each: int, hold: float,
                        use: Callable[[Any, int], None]) -> None:
        """*n* borrowers, each borrowing *each* times for *hold* seconds, calling use(obj, i)."""
        if self.threads:
            def borrower(i: int) -> None:
                for _ in range(each):
                    with pool.borrow() as obj:
                        use(obj, i)
                        time.sleep(hold)

            def run_all() -> None:
                ts = [threading.Thread(target=borrower, args=(i,)) for i in range(n)]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()

            await anyio.to_thread.run_sync(run_all)
            return

        async def task(i: int) -> None:
            for _ in range(each):
                async with pool.borrow() as obj:
                    use(obj, i)
                    await anyio.sleep(hold)

        async with anyio.create_task_group() as tg:
            for i in range(n):
                tg.start_soon(task, i)


MODELS = [Model("threads", cp_threads.SyncPool), Model("asyncio", cp_asyncio.SyncPool),
          Model("anyio-asyncio", cp_anyio.SyncPool), Model("anyio-trio", cp_anyio.SyncPool, "trio")]
ASYNC_MODELS = [m for m in MODELS if not m.threads]


@pytest.fixture
def anyio_backend(request: pytest.FixtureRequest) -> str:
    model: Model = request.getfixturevalue("model")
    return model.backend


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_an_object_is_never_held_by_two_at_once_and_the_bound_holds(model: Model) -> None:
    lock = threading.Lock()
    out = most = 0
    problems: list[str] = []

    def use(obj: Buffer, i: int) -> None:
        nonlocal out, most
        with lock:
            if obj.holder is not None:
                problems.append(f"{i} got an object {obj.holder} holds")
            obj.holder = i
            out += 1
            most = max(most, out)

    def reset(obj: Buffer) -> None:
        nonlocal out
        with lock:
            obj.holder = None
            out -= 1

    pool: Any = model.cls(Buffer, reset=reset, max_size=3)
    await model.borrowers(pool, 10, 20, 0.001, use)
    assert problems == []
    assert most == 3  # the bound is reached, and never passed
    stats = pool.statistics()
    assert stats.created == 3 and stats.idle == 3 and stats.in_use == 0 and stats.waiting == 0


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_reset_runs_on_every_return_before_reuse(model: Model) -> None:
    resets = 0

    def use(obj: Buffer, _: int) -> None:
        assert not obj.dirty, "got an object that was not reset"
        obj.dirty = True

    def reset(obj: Buffer) -> None:
        nonlocal resets
        resets += 1
        obj.dirty = False

    pool: Any = model.cls(Buffer, reset=reset, max_size=2)
    await model.borrowers(pool, 4, 10, 0.0, use)
    assert resets == 40


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_objects_are_reused_not_rebuilt(model: Model) -> None:
    made: list[object] = []

    def new() -> object:
        made.append(object())
        return made[-1]

    pool: Any = model.cls(new, max_size=4)
    await model.borrowers(pool, 2, 50, 0.0, lambda obj, i: None)
    assert len(made) <= 2


async def _get(model: Model, pool: Any) -> Any:
    return await anyio.to_thread.run_sync(pool.get) if model.threads else await pool.get()


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_with_check_puts_a_second_put_or_a_stranger_is_refused(model: Model) -> None:
    pool: Any = model.cls(Buffer, max_size=2, check_puts=True)
    obj, other = await _get(model, pool), await _get(model, pool)
    pool.put(obj)
    with pytest.raises(ValueError, match="not out of this pool"):
        pool.put(obj)  # another object is still out: only the identity check sees this
    with pytest.raises(ValueError, match="not out of this pool"):
        pool.put(Buffer())
    pool.put(other)
    stats = pool.statistics()
    assert (stats.created, stats.idle, stats.in_use) == (2, 2, 0)


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_without_check_puts_a_put_with_nothing_out_is_refused(model: Model) -> None:
    pool: Any = model.cls(Buffer, max_size=2)
    obj = await _get(model, pool)
    pool.put(obj)
    with pytest.raises(ValueError, match="not out of this pool"):
        pool.put(obj)
    with pytest.raises(ValueError, match="not out of this pool"):
        pool.put(Buffer())
    stats = pool.statistics()
    assert (stats.created, stats.idle, stats.in_use) == (1, 1, 0)


@pytest.mark.parametrize("model", MODELS, ids=str)
@pytest.mark.parametrize("check_puts", [False, True])
async def test_try_get_takes_or_builds_and_never_waits(model: Model, check_puts: bool) -> None:
    pool: Any = model.cls(Buffer, max_size=2, check_puts=check_puts)
    first = pool.try_get()  # room: built
    second = pool.try_get()
    assert isinstance(first, Buffer) and isinstance(second, Buffer) and first is not second
    assert pool.try_get() is None  # every object is out: None, at once
    pool.put(first)
    assert pool.try_get() is first  # idle: taken
    pool.put(first)
    pool.put(second)
    stats = pool.statistics()
    assert (stats.created, stats.idle, stats.in_use, stats.waiting) == (2, 2, 0, 0)


@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_try_get_does_not_jump_the_line(model: Model) -> None:
    pool: Any = model.cls(Buffer, max_size=1)
    held, got = await pool.get(), []

    async def waiter() -> None:
        got.append(await pool.get())

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        await anyio.wait_all_tasks_blocked()
        pool.put(held)  # handed to the waiter
        assert pool.try_get() is None
    assert got == [held]


def test_a_thread_try_get_with_no_room_returns_none_and_a_put_wakes_a_waiter() -> None:
    pool: cp_threads.SyncPool[Buffer] = cp_threads.SyncPool(Buffer, max_size=1)
    held = pool.get()
    assert pool.try_get() is None
    got: list[Buffer] = []
    t = threading.Thread(target=lambda: got.append(pool.get(timeout=30)))
    t.start()
    while pool.statistics().waiting == 0:
        time.sleep(0.001)
    pool.put(held)  # no lock on this path while the GIL is on: the waiter still wakes
    t.join(30)
    assert got == [held]


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_a_failing_reset_or_new_frees_its_place(model: Model) -> None:
    fail_reset = True

    def reset(obj: Buffer) -> None:
        if fail_reset:
            raise OSError("cannot reset")

    pool: Any = model.cls(Buffer, reset=reset, max_size=1)
    obj = await _get(model, pool)
    with pytest.raises(OSError, match="cannot reset"):
        pool.put(obj)
    assert pool.statistics().created == 0  # dropped
    fail_reset = False
    again = await _get(model, pool)  # the place is free: no wait
    assert again is not obj
    pool.put(again)

    def broken() -> Buffer:
        raise MemoryError("no room")

    bad: Any = model.cls(broken, max_size=1)
    for _ in range(2):  # the failed build did not keep the only place
        with pytest.raises(MemoryError):
            await _get(model, bad)
    assert bad.statistics().created == 0


@pytest.mark.parametrize("model", MODELS[1:], ids=str)
async def test_cancelling_a_waiting_get_loses_no_object(model: Model) -> None:
    pool: Any = model.cls(Buffer, max_size=2)
    held = [await pool.get(), await pool.get()]

    async def waiter() -> None:
        await pool.get()

    async with anyio.create_task_group() as tg:  # a storm of waiters, cancelled...
        for _ in range(20):
            tg.start_soon(waiter)
        await anyio.sleep(0.01)
        assert pool.statistics().waiting == 20
        pool.put(held.pop())  # ... one of them gets this object, at the same moment
        tg.cancel_scope.cancel()
    pool.put(held.pop())
    stats = pool.statistics()
    # One waiter may have got the object before the cancel; it never put it back, since it
    # was cancelled right after. Every other object is idle: none vanished in a cancel.
    assert stats.waiting == 0
    assert stats.idle + stats.in_use == stats.created == 2
    with anyio.fail_after(1):
        got = [await pool.get() for _ in range(stats.idle)]
    assert len(got) == stats.idle


def test_a_thread_get_times_out_taking_nothing() -> None:
    pool: cp_threads.SyncPool[Buffer] = cp_threads.SyncPool(Buffer, max_size=1)
    obj = pool.get()
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        pool.get(timeout=0.05)
    assert time.monotonic() - start < 1.0
    pool.put(obj)
    assert pool.statistics() == pool.statistics().__class__(1, 1, 0, 0, 1)
    assert "0 out, 1 idle of 1" in repr(pool)


@pytest.mark.parametrize("cls", [cp_threads.SyncPool, cp_asyncio.SyncPool, cp_anyio.SyncPool],
                         ids=lambda c: c.__name__)
@pytest.mark.parametrize(("kwargs", "error", "names"), [
    ({"new": 3, "max_size": 1}, TypeError, "new"),
    ({"new": Buffer, "reset": 3, "max_size": 1}, TypeError, "reset"),
    ({"new": Buffer, "max_size": 0}, ValueError, "max_size"),
    ({"new": Buffer, "max_size": 1.5}, TypeError, "max_size"),
    ({"new": Buffer, "max_size": 1, "check_puts": 1}, TypeError, "check_puts"),
])
def test_bad_arguments_are_refused_naming_them(cls: Any, kwargs: dict[str, Any],
                                               error: type, names: str) -> None:
    options = dict(kwargs)
    new = options.pop("new")
    with pytest.raises(error, match=names):
        cls(new, **options)


def test_a_thread_get_refuses_a_bad_timeout() -> None:
    with pytest.raises(ValueError, match="timeout"):
        cp_threads.SyncPool(Buffer, max_size=1).get(timeout=-1)


# --- the asyncio variant under anyio's cancellation ---------------------------------------------

async def _wait_for_an_object() -> None:
    pool = cp_asyncio.SyncPool(object, max_size=1)
    await pool.get()
    await pool.get()  # waits for the first to come back


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
def test_the_asyncio_sync_pool_stops_when_anyio_cancels_it(how: str) -> None:
    """Waiting as anyio cancels it (as under FastAPI): the wait ends, nothing is left."""
    assert stopped_by_anyio(_wait_for_an_object, how) < 30


@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_waiters_are_served_in_the_order_they_came(model: Model) -> None:
    pool: Any = model.cls(Buffer, max_size=1)
    held, served = await pool.get(), []

    async def waiter(i: int) -> None:
        obj = await pool.get()
        served.append(i)
        pool.put(obj)

    async with anyio.create_task_group() as tg:
        for i in range(5):
            tg.start_soon(waiter, i)
            await anyio.wait_all_tasks_blocked()  # it waits: the next one comes after it
        pool.put(held)
    assert served == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_a_newcomer_cannot_take_an_object_the_line_was_given(model: Model) -> None:
    pool: Any = model.cls(Buffer, max_size=1)
    held, order = await pool.get(), []

    async def borrow(name: str) -> None:
        obj = await pool.get()
        order.append(name)
        pool.put(obj)

    async with anyio.create_task_group() as tg:
        tg.start_soon(borrow, "first in line")
        await anyio.wait_all_tasks_blocked()
        pool.put(held)  # handed to the first in line, who has not run yet...
        tg.start_soon(borrow, "newcomer")  # ...so this one waits behind it
    assert order == ["first in line", "newcomer"]


@pytest.mark.parametrize("model", ASYNC_MODELS, ids=str)
async def test_a_waiter_cancelled_as_it_is_served_loses_nothing(model: Model) -> None:
    pool: Any = model.cls(Buffer, max_size=1)
    held, got = await pool.get(), []

    async def waiter(name: str) -> None:
        obj = await pool.get()
        got.append(name)
        pool.put(obj)

    async with anyio.create_task_group() as tg:
        with anyio.CancelScope() as first:
            async with anyio.create_task_group() as inner:
                inner.start_soon(waiter, "first")
                await anyio.wait_all_tasks_blocked()
                tg.start_soon(waiter, "second")
                await anyio.wait_all_tasks_blocked()
                pool.put(held)  # served to the first...
                first.cancel()  # ...cancelled before it runs: it keeps it, or passes it on
    assert "second" in got
    stats = pool.statistics()
    assert (stats.created, stats.idle, stats.in_use, stats.waiting) == (1, 1, 0, 0)


@pytest.mark.parametrize("model", [m for m in MODELS if m.name == "asyncio"], ids=str)
async def test_an_asyncio_waiter_cancelled_after_it_was_served_passes_the_object_on(
    model: Model,
) -> None:
    import asyncio

    pool: Any = model.cls(Buffer, max_size=1)
    held, got = await pool.get(), []

    async def waiter(name: str) -> None:
        got.append((name, await pool.get()))

    first = asyncio.create_task(waiter("first"))
    await asyncio.sleep(0)
    second = asyncio.create_task(waiter("second"))
    await asyncio.sleep(0)
    pool.put(held)  # the first is served: its future has the object...
    first.cancel()  # ...and it is cancelled before it runs
    await asyncio.gather(first, return_exceptions=True)
    await second
    assert got == [("second", held)]
    assert pool.statistics().in_use == 1
