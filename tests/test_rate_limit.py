"""The rate_limit contract, run against every variant.

The thread limiter is driven through a facade: its blocking ``acquire()`` runs in a worker
thread, so the same async test body checks it alongside the asyncio and anyio limiters.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import anyio
import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.conftest import (
    ANYIO_CANCELS,
    FakeTime,
    Variant,
    check_twins_cover,
    stopped_by_anyio,
    twins,
)

pytestmark = pytest.mark.anyio


class ThreadRateLimiterFacade:
    def __init__(self, rate: float, *, burst: int = 1) -> None:
        self.limiter = cp_threads.RateLimiter(rate, burst=burst)

    async def acquire(self, arrive: Callable[[], object] = lambda: None) -> float:
        """Acquire in a worker thread; when the thread got in (the loop hears of it later)."""
        def acquire() -> float:
            arrive()
            self.limiter.acquire()
            return time.monotonic()

        return await anyio.to_thread.run_sync(acquire)

    def try_acquire(self) -> bool:
        return self.limiter.try_acquire()


ASYNC = [
    Variant("asyncio", cp_asyncio.RateLimiter),
    Variant("anyio-asyncio", cp_anyio.RateLimiter),
    Variant("anyio-trio", cp_anyio.RateLimiter, backend="trio"),
]
ALL = [*ASYNC, Variant("threads", ThreadRateLimiterFacade)]
# The async limiters on virtual clocks (trio's MockClock, a virtual asyncio loop): there the
# timing contracts are checked exactly, whatever the machine's speed. The real-time tests
# below are loose smoke tests of the same contracts.
VIRTUAL = [
    Variant("asyncio-virtual", cp_asyncio.RateLimiter, backend="asyncio-virtual"),
    Variant("anyio-asyncio-virtual", cp_anyio.RateLimiter, backend="asyncio-virtual"),
    Variant("anyio-trio-virtual", cp_anyio.RateLimiter, backend="trio-virtual"),
]


async def admitted_at(make_limiter: Callable[[], Any], callers: int) -> list[float]:
    """Start *callers* at once through a new limiter; when each got in, from the start, sorted.

    The clock starts before the limiter exists: its burst is available from its creation, so a
    pause between the two (a garbage collection) must not make a caller look early. Worker
    threads are started first: on a busy machine, starting a thread can take longer than an
    interval, and that is the test's delay, not the limiter's."""
    async with anyio.create_task_group() as warm_up:  # anyio keeps idle workers for 10 s
        for _ in range(callers):
            warm_up.start_soon(anyio.to_thread.run_sync, time.sleep, 0.01)
    start, times = time.monotonic(), []
    limiter = make_limiter()

    async def call() -> None:
        got_in = await limiter.acquire()  # the thread facade says when its thread got in
        times.append((got_in or time.monotonic()) - start)

    async with anyio.create_task_group() as tg:
        for _ in range(callers):
            tg.start_soon(call)
    return sorted(times)


# A caller is let in at its slot, but it *starts* when its event loop (or the OS) gets to it:
# on a busy machine a few callers can start late, together. They never start early, so any
# window holds at most rate x (window + lag) + burst starts, where lag is the longest the loop
# was held up: LAG, or what a watch on the loop saw, if longer. Go's rate.Limiter, which also
# reserves a slot and then waits, bunches the same way after a stall.
LAG = 0.1


class LoopWatch:
    """How late a 5 ms sleep on the running loop woke, at most, while the block ran."""

    def __init__(self) -> None:
        self.worst = 0.0

    async def _watch(self) -> None:
        while True:
            before = time.monotonic()
            await anyio.sleep(0.005)
            self.worst = max(self.worst, time.monotonic() - before - 0.005)

    async def run(self, body: Callable[[], Any]) -> Any:
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._watch)
            try:
                return await body()
            finally:
                tg.cancel_scope.cancel()


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_no_window_holds_more_than_rate_times_window_plus_burst(variant: Variant) -> None:
    rate, burst, window = 100.0, 5, 0.5  # a second's rule, on half a second
    watch = LoopWatch()
    times = await watch.run(lambda: admitted_at(lambda: variant.fn(rate, burst=burst), 80))
    most = max(sum(1 for u in times[i:] if u - t < window) for i, t in enumerate(times))
    assert most <= rate * (window + max(LAG, watch.worst)) + burst, f"loop stalled {watch.worst}"
    # And never early: the k-th start after the burst is at least (k - burst) / rate in.
    assert all(t >= (k - burst + 1) / rate - 0.002 for k, t in enumerate(times) if k >= burst)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_enough_work_keeps_it_near_the_rate(variant: Variant) -> None:
    """A smoke test in real time (a loaded machine runs late); the exact rate is checked on
    a virtual clock below."""
    rate, burst, calls = 200.0, 1, 41
    times = await admitted_at(lambda: variant.fn(rate, burst=burst), calls)
    achieved = (calls - burst) / (times[-1] - times[0])
    assert 0.5 * rate <= achieved <= 1.05 * rate


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_burst_goes_before_the_next_interval(variant: Variant) -> None:
    """A smoke test in real time: the burst first, then never early (exact: below)."""
    times = await admitted_at(lambda: variant.fn(20, burst=3), 5)
    assert max(times[:3]) <= min(times[3:])
    assert times[3] >= 0.05 - 0.002 and times[4] >= 0.10 - 0.002


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_waiters_are_served_first_come_first_served(variant: Variant) -> None:
    limiter, arrived, served = variant.fn(100, burst=1), [], []

    async def call(i: int) -> None:
        if isinstance(limiter, ThreadRateLimiterFacade):
            # In its worker thread, right before it acquires: a thread can reach the limiter
            # later than the task that started it.
            await limiter.acquire(arrive=lambda: arrived.append(i))
        else:
            arrived.append(i)
            await limiter.acquire()
        served.append(i)

    async with anyio.create_task_group() as tg:
        for i in range(6):
            tg.start_soon(call, i)
            await anyio.sleep(0.005)
    assert served == arrived and sorted(served) == list(range(6))


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_try_acquire_takes_a_free_slot_and_never_waits(variant: Variant) -> None:
    limiter = variant.fn(10, burst=2)
    assert limiter.try_acquire() and limiter.try_acquire()
    start = time.monotonic()
    assert not limiter.try_acquire()
    assert time.monotonic() - start < 1.0  # no wait: a sleep would take the 100 ms interval


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_cancelled_waiter_gives_its_slot_back(variant: Variant) -> None:
    limiter = variant.fn(10, burst=1)  # one every 100 ms
    await limiter.acquire()
    with anyio.move_on_after(0.01) as scope:
        await limiter.acquire()
    assert scope.cancelled_caught
    start = time.monotonic()
    await limiter.acquire()  # the slot the cancelled waiter gave back, 100 ms after the first
    assert time.monotonic() - start < 1.0  # not the next one, 200 ms after (exact: below)


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_cancelling_waiters_leaves_nothing_running(variant: Variant) -> None:
    limiter = variant.fn(1, burst=1)
    await limiter.acquire()
    with anyio.move_on_after(0.02):
        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(limiter.acquire)
    # no_stray_tasks (given to every async test) checks that no task or timer is left


async def test_a_thread_gives_up_at_its_timeout_and_takes_nothing() -> None:
    limiter = cp_threads.RateLimiter(10, burst=1)
    assert limiter.acquire()
    start = time.monotonic()
    assert not await anyio.to_thread.run_sync(lambda: limiter.acquire(timeout=0.01))
    assert time.monotonic() - start < 1.0  # it gave up at once, not after the 100 ms
    assert await anyio.to_thread.run_sync(lambda: limiter.acquire(timeout=0.2))


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_repr_shows_rate_burst_and_how_far_it_is_booked(variant: Variant) -> None:
    limiter = variant.fn(50, burst=2)
    real = getattr(limiter, "limiter", limiter)
    assert repr(real) == f"<{type(real).__name__} 50/s, burst 2, booked 0.000 s ahead>"


@pytest.mark.parametrize(
    "cls", [cp_asyncio.RateLimiter, cp_anyio.RateLimiter, cp_threads.RateLimiter])
@pytest.mark.parametrize(
    ("args", "kwargs", "error", "name"),
    [
        ((0,), {}, ValueError, "rate"),
        ((-5,), {}, ValueError, "rate"),
        ((math.nan,), {}, ValueError, "rate"),
        ((math.inf,), {}, ValueError, "rate"),
        (("10",), {}, TypeError, "rate must be a number of operations per second"),
        ((10,), {"burst": 0}, ValueError, "burst"),
        ((10,), {"burst": 1.5}, TypeError, "burst"),
        ((10,), {"burst": True}, TypeError, "burst"),
    ],
)
def test_bad_rate_or_burst_is_refused_naming_it(
    cls: type, args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], name: str,
) -> None:
    with pytest.raises(error, match=name):
        cls(*args, **kwargs)


@pytest.mark.parametrize(("timeout", "error"), [(-1, ValueError), (math.nan, ValueError),
                                                ("1", TypeError), (True, TypeError)])
def test_a_bad_timeout_for_a_blocking_acquire_is_refused_naming_it(
    timeout: Any, error: type[Exception],
) -> None:
    limiter = cp_threads.RateLimiter(1000)
    with pytest.raises(error, match="timeout"):
        limiter.acquire(timeout=timeout)
    assert limiter.try_acquire()  # nothing was taken by the refused call


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_late_loop_keeps_the_callers_in_order(variant: Variant) -> None:
    """A waiter sleeps until its slot; the loop runs late past it; a caller who asks then
    finds its own slot passed too. It still goes after the waiter, who asked first."""
    limiter, served = variant.fn(10, burst=1), []  # a slot every 100 ms
    await limiter.acquire()  # the free slot: the next is 100 ms away

    async def call(name: str) -> None:
        await limiter.acquire()
        served.append(name)

    async with anyio.create_task_group() as tg:
        tg.start_soon(call, "first")
        await anyio.sleep(0.02)  # "first" sleeps until its slot
        time.sleep(0.3)  # noqa: ASYNC251  (the loop runs late: both slots pass meanwhile)
        tg.start_soon(call, "second")
    assert served == ["first", "second"]



# --- the asyncio variant under anyio's cancellation ---------------------------------------------

async def _wait_for_a_slot() -> None:
    limiter = cp_asyncio.RateLimiter(1 / 3600)  # one an hour
    await limiter.acquire()
    await limiter.acquire()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
def test_the_asyncio_rate_limit_stops_when_anyio_cancels_it(how: str) -> None:
    """Waiting as anyio cancels it (as under FastAPI): the wait ends, nothing is left."""
    assert stopped_by_anyio(_wait_for_a_slot, how) < 30



# --- the exact contracts, on virtual clocks -----------------------------------------------------

async def admitted_exactly(limiter: Any, callers: int) -> list[float]:
    """Start *callers* at once; when each got in, in the limiter's own (virtual) time."""
    start, times = anyio.current_time(), []

    async def call() -> None:
        await limiter.acquire()
        times.append(anyio.current_time() - start)

    async with anyio.create_task_group() as tg:
        for _ in range(callers):
            tg.start_soon(call)
    return sorted(times)


@pytest.mark.parametrize("variant", VIRTUAL, ids=str)
async def test_a_burst_then_exactly_one_per_interval(variant: Variant) -> None:
    times = await admitted_exactly(variant.fn(20, burst=3), 8)
    assert times == pytest.approx([0, 0, 0, 0.05, 0.10, 0.15, 0.20, 0.25], abs=1e-9)


@pytest.mark.parametrize("variant", VIRTUAL, ids=str)
async def test_exactly_the_rate_under_enough_work(variant: Variant) -> None:
    rate, calls = 200.0, 41
    times = await admitted_exactly(variant.fn(rate, burst=1), calls)
    assert (calls - 1) / (times[-1] - times[0]) == pytest.approx(rate, rel=1e-9)


@pytest.mark.parametrize("variant", VIRTUAL, ids=str)
async def test_no_window_holds_more_than_rate_times_window_plus_burst_exactly(
    variant: Variant,
) -> None:
    rate, burst, window = 100.0, 5, 0.5
    times = await admitted_exactly(variant.fn(rate, burst=burst), 80)
    most = max(sum(1 for u in times[i:] if u - t < window) for i, t in enumerate(times))
    assert most <= rate * window + burst
    assert all(t >= (k - burst + 1) / rate - 1e-9 for k, t in enumerate(times) if k >= burst)


@pytest.mark.parametrize("variant", VIRTUAL, ids=str)
async def test_a_cancelled_waiter_gives_its_exact_slot_back(variant: Variant) -> None:
    limiter = variant.fn(10, burst=1)  # one every 100 ms
    start = anyio.current_time()
    await limiter.acquire()
    with anyio.move_on_after(0.01) as scope:
        await limiter.acquire()
    assert scope.cancelled_caught
    await limiter.acquire()
    assert anyio.current_time() - start == pytest.approx(0.1, abs=1e-9)


@pytest.mark.parametrize("variant", VIRTUAL, ids=str)
async def test_waiters_are_served_in_call_order_exactly(variant: Variant) -> None:
    limiter, served = variant.fn(100, burst=1), []
    start = anyio.current_time()

    async def call(i: int) -> None:
        await limiter.acquire()
        served.append((i, round(anyio.current_time() - start, 9)))

    async with anyio.create_task_group() as tg:
        for i in range(6):
            tg.start_soon(call, i)
            await anyio.sleep(0.001)
    assert served == [(i, round(0.01 * i, 9)) for i in range(6)]


@pytest.mark.parametrize("variant", VIRTUAL, ids=str)
async def test_try_acquire_takes_no_time_at_all(variant: Variant) -> None:
    limiter = variant.fn(10, burst=2)
    start = anyio.current_time()
    assert limiter.try_acquire() and limiter.try_acquire() and not limiter.try_acquire()
    assert anyio.current_time() == start


# --- the thread limiter's exact contracts, on a fake clock ----------------------------------------

def test_threads_a_burst_then_exactly_one_per_interval(fake_time: FakeTime) -> None:
    limiter = cp_threads.RateLimiter(20, burst=3)
    times = []
    for _ in range(8):
        limiter.acquire()
        times.append(fake_time.monotonic())
    assert times == pytest.approx([0, 0, 0, 0.05, 0.10, 0.15, 0.20, 0.25], abs=1e-9)


def test_threads_exactly_the_rate_under_enough_work(fake_time: FakeTime) -> None:
    rate, calls = 200.0, 41
    limiter = cp_threads.RateLimiter(rate)
    for _ in range(calls):
        limiter.acquire()
    assert (calls - 1) / fake_time.monotonic() == pytest.approx(rate, rel=1e-9)


def test_threads_a_quiet_spell_refills_the_burst_and_no_more(fake_time: FakeTime) -> None:
    limiter = cp_threads.RateLimiter(10, burst=2)
    assert limiter.try_acquire() and limiter.try_acquire() and not limiter.try_acquire()
    fake_time.advance(10.0)  # a long quiet spell: the burst again, not a hundred slots
    assert limiter.try_acquire() and limiter.try_acquire() and not limiter.try_acquire()
    assert fake_time.slept == []  # try_acquire never waits


def test_threads_a_timeout_shorter_than_the_wait_takes_nothing(fake_time: FakeTime) -> None:
    limiter = cp_threads.RateLimiter(10)  # one every 100 ms
    assert limiter.acquire()
    assert not limiter.acquire(timeout=0.099)  # its slot is 100 ms away
    assert fake_time.slept == []  # it gave up at once
    assert limiter.acquire(timeout=0.1)  # the slot it did not take is still the next one
    assert fake_time.monotonic() == pytest.approx(0.1, abs=1e-9)


def test_threads_the_window_bound_exactly(fake_time: FakeTime) -> None:
    rate, burst, window = 100.0, 5, 0.5
    limiter, times = cp_threads.RateLimiter(rate, burst=burst), []
    for _ in range(80):
        with limiter:
            times.append(fake_time.monotonic())
    most = max(sum(1 for u in times[i:] if u - t < window) for i, t in enumerate(times))
    assert most <= rate * window + burst


# --- twin contracts: the same scenarios and traces as the Go test runs on x/time/rate ----------

TWINS = twins("rate_limit")


def _ms(seconds: float) -> str:
    return f"{round(seconds * 1000)} ms"


async def twin_burst(make: Any, p: dict[str, Any]) -> list[str]:
    return [_ms(t) for t in await admitted_exactly(make(p["rate"], burst=p["burst"]),
                                                   p["callers"])]


async def twin_cancelled_wait(make: Any, p: dict[str, Any]) -> list[str]:
    limiter, start = make(p["rate"], burst=p["burst"]), anyio.current_time()
    await limiter.acquire()
    trace = [f"1 at {_ms(anyio.current_time() - start)}"]
    with anyio.move_on_after(0.01):  # the caller gives up 10 ms in
        await limiter.acquire()
    trace.append(f"2 gave up at {_ms(anyio.current_time() - start)}")
    await limiter.acquire()
    return [*trace, f"3 at {_ms(anyio.current_time() - start)}"]


ASYNC_TWINS = {
    "a-burst-then-one-per-interval": twin_burst,
    "a-cancelled-wait-gives-its-slot-back": twin_cancelled_wait,
}


@pytest.mark.parametrize("scenario", sorted(ASYNC_TWINS))
@pytest.mark.parametrize("variant", VIRTUAL, ids=str)
async def test_twin_contract(variant: Variant, scenario: str) -> None:
    assert await ASYNC_TWINS[scenario](variant.fn, TWINS[scenario]) == TWINS[scenario]["trace"]


def thread_twin_burst(fake: FakeTime, p: dict[str, Any]) -> list[str]:
    limiter, times = cp_threads.RateLimiter(p["rate"], burst=p["burst"]), []
    for _ in range(p["callers"]):  # one after another: the fake clock has one thread
        limiter.acquire()
        times.append(_ms(fake.monotonic()))
    return times


def thread_twin_deadline(fake: FakeTime, p: dict[str, Any]) -> list[str]:
    limiter = cp_threads.RateLimiter(p["rate"], burst=p["burst"])
    limiter.acquire()
    trace = [f"1 at {_ms(fake.monotonic())}"]
    if not limiter.acquire(timeout=0.05):  # its slot is 100 ms away, past its deadline
        trace.append(f"2 refused at {_ms(fake.monotonic())}")
    limiter.acquire()
    return [*trace, f"3 at {_ms(fake.monotonic())}"]


THREAD_TWINS = {
    "a-burst-then-one-per-interval": thread_twin_burst,
    "a-wait-past-its-deadline-takes-nothing": thread_twin_deadline,
}


@pytest.mark.parametrize("scenario", sorted(THREAD_TWINS))
def test_twin_contract_threads(fake_time: FakeTime, scenario: str) -> None:
    assert THREAD_TWINS[scenario](fake_time, TWINS[scenario]) == TWINS[scenario]["trace"]


def test_every_twin_contract_runs_in_every_model() -> None:
    check_twins_cover("rate_limit", ASYNC_TWINS, {
        "a-wait-past-its-deadline-takes-nothing":
            "an async caller gives up by being cancelled (a timeout scope), not with a "
            "deadline it passes in: it waits until the scope cancels it, then gives its slot "
            "back, as the twin 'a-cancelled-wait-gives-its-slot-back' shows",
    })
    check_twins_cover("rate_limit", THREAD_TWINS, {
        "a-cancelled-wait-gives-its-slot-back":
            "a thread cannot be cancelled while it sleeps; it gives up with acquire(timeout=), "
            "which takes nothing if the slot is too far",
    })


# --- one limit per key ----------------------------------------------------------------------------

KEYED_VIRTUAL = [
    Variant("asyncio-virtual", cp_asyncio.KeyedRateLimiter, backend="asyncio-virtual"),
    Variant("anyio-asyncio-virtual", cp_anyio.KeyedRateLimiter, backend="asyncio-virtual"),
    Variant("anyio-trio-virtual", cp_anyio.KeyedRateLimiter, backend="trio-virtual"),
]


@pytest.mark.parametrize("variant", KEYED_VIRTUAL, ids=str)
async def test_keyed_each_keys_bound_holds_and_keys_never_wait_for_each_other(
    variant: Variant,
) -> None:
    limiter, served = variant.fn(20, burst=2), []
    start = anyio.current_time()

    async def call(key: str) -> None:
        await limiter.acquire(key)
        served.append((key, round(anyio.current_time() - start, 9)))

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            for key in ("a", "b", "c"):
                tg.start_soon(call, key)
    for key in ("a", "b", "c"):  # each key: its burst, then one every 50 ms, on its own
        assert [t for k, t in served if k == key] == pytest.approx(
            [0, 0, 0.05, 0.10, 0.15], abs=1e-9)
    assert anyio.current_time() - start == pytest.approx(0.15, abs=1e-9)


@pytest.mark.parametrize("variant", KEYED_VIRTUAL, ids=str)
async def test_keyed_idle_keys_are_dropped_and_come_back_fresh(variant: Variant) -> None:
    limiter = variant.fn(10, burst=1)
    for i in range(10_000):  # ten thousand keys, each used once, one millisecond apart
        assert limiter.try_acquire(f"host-{i}")
        await anyio.sleep(0.001)
    # A key is idle 100 ms after its use: only those of the last 100 ms (and, until the next
    # sweep, at most as many again) are held.
    assert len(limiter) <= 2 * 101 + 64
    assert limiter.try_acquire("host-0"), "a dropped key comes back with a full bucket"
    assert not limiter.try_acquire("host-9999"), "a key in use is not dropped"


@pytest.mark.parametrize("variant", KEYED_VIRTUAL, ids=str)
async def test_keyed_a_cancelled_waiter_gives_its_slot_back(variant: Variant) -> None:
    limiter = variant.fn(10)
    start = anyio.current_time()
    await limiter.acquire("k")
    with anyio.move_on_after(0.01):
        await limiter.acquire("k")
    await limiter.acquire("k")
    assert anyio.current_time() - start == pytest.approx(0.1, abs=1e-9)
    assert "10/s, burst 1 per key, 1 keys held" in repr(limiter)


def test_keyed_threads_each_key_on_its_own_exactly(fake_time: FakeTime) -> None:
    limiter = cp_threads.KeyedRateLimiter(20)
    times = []
    for key in ("a", "b", "a", "b", "a"):
        limiter.acquire(key)
        times.append((key, round(fake_time.monotonic(), 9)))
    # a: 0, 0.05, 0.10; b goes at once each time its own slot has come.
    assert times == [("a", 0), ("b", 0), ("a", 0.05), ("b", 0.05), ("a", 0.1)]
    assert not limiter.acquire("a", timeout=0.01)
    for i in range(10_000):
        fake_time.advance(0.001)
        assert limiter.try_acquire(i)
    assert len(limiter) <= 2 * 51 + 64


def test_keyed_threads_bound_holds_across_threads() -> None:
    """Eight threads on two keys, on the real clock: loosely, each key's rate holds."""
    import threading

    limiter, times = cp_threads.KeyedRateLimiter(100), {"a": [], "b": []}
    lock = threading.Lock()

    def run(key: str) -> None:
        for _ in range(5):
            limiter.acquire(key)
            with lock:
                times[key].append(time.monotonic())

    threads = [threading.Thread(target=run, args=("ab"[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for key, got in times.items():
        assert len(got) == 20
        assert got[-1] - got[0] >= 19 / 100 - 0.002, key


@pytest.mark.parametrize(("rate", "burst", "match"), [(0, 1, "rate"), (1, 0, "burst")])
def test_keyed_bad_arguments_are_refused_naming_them(rate: float, burst: int, match: str) -> None:
    for cls in (cp_asyncio.KeyedRateLimiter, cp_anyio.KeyedRateLimiter,
                cp_threads.KeyedRateLimiter):
        with pytest.raises((TypeError, ValueError), match=match):
            cls(rate, burst=burst)
