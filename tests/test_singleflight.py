"""The singleflight contract, run against every variant.

The thread group is driven through a facade: each ``do`` runs in a worker thread and the
shared function runs back in the event loop, so one async test body checks every variant.
"""

from __future__ import annotations

import asyncio
import threading
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.conftest import ANYIO_CANCELS, Variant, check_twins_cover, stopped_by_anyio, twins

pytestmark = pytest.mark.anyio


class ThreadSingleFlightFacade:
    def __init__(self) -> None:
        self.group: cp_threads.SingleFlight[Any, Any] = cp_threads.SingleFlight()

    async def do(self, key: Any, fn: Callable[..., Awaitable[Any]], *args: Any,
                 timeout: float | None = None) -> Any:
        token = anyio.lowlevel.current_token()

        def call() -> Any:
            return anyio.from_thread.run(fn, *args, token=token)

        return await anyio.to_thread.run_sync(
            lambda: self.group.do(key, call, timeout=timeout), limiter=BIG)

    def forget(self, key: Any) -> None:
        self.group.forget(key)

    async def __aenter__(self) -> ThreadSingleFlightFacade:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        pass


BIG = anyio.CapacityLimiter(2000)  # a thread per caller, as a thread program would have
ASYNC = [
    Variant("asyncio", cp_asyncio.SingleFlight),
    Variant("anyio-asyncio", cp_anyio.SingleFlight),
    Variant("anyio-trio", cp_anyio.SingleFlight, backend="trio"),
]
ALL = [*ASYNC, Variant("threads", ThreadSingleFlightFacade)]


class Calls:
    def __init__(self) -> None:
        self.lock, self.count, self.running = threading.Lock(), 0, 0

    async def slow(self, value: Any, seconds: float = 0.05, error: Exception | None = None) -> Any:
        with self.lock:
            self.count += 1
            self.running += 1
        try:
            await anyio.sleep(seconds)
            if error is not None:
                raise error
            return value
        finally:
            with self.lock:
                self.running -= 1


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_one_call_per_key_per_flight_under_many_callers(variant: Variant) -> None:
    calls, got = Calls(), []
    callers = 1000

    async with variant.fn() as flights, anyio.create_task_group() as tg:
        async def caller(i: int) -> None:
            got.append((i % 3, await flights.do(i % 3, calls.slow, f"v{i % 3}", 0.2)))

        for i in range(callers):
            tg.start_soon(caller, i)
    assert calls.count == 3
    assert sorted(set(got)) == [(0, "v0"), (1, "v1"), (2, "v2")] and len(got) == callers


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_an_error_is_shared_by_every_caller_of_the_flight(variant: Variant) -> None:
    calls, boom, errors = Calls(), ValueError("boom"), []
    async with variant.fn() as flights, anyio.create_task_group() as tg:
        async def caller() -> None:
            try:
                await flights.do("k", calls.slow, None, 0.1, boom)
            except ValueError as exc:
                errors.append(exc)

        for _ in range(5):
            tg.start_soon(caller)
    assert calls.count == 1 and errors == [boom] * 5


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_new_flight_starts_after_the_last_one_ended(variant: Variant) -> None:
    calls = Calls()
    async with variant.fn() as flights:
        assert await flights.do("k", calls.slow, 1, 0) == 1
        assert await flights.do("k", calls.slow, 2, 0) == 2
    assert calls.count == 2


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_the_first_callers_cancellation_does_not_fail_the_others(variant: Variant) -> None:
    calls, got = Calls(), []
    async with variant.fn() as flights, anyio.create_task_group() as tg:
        async def first() -> None:
            with anyio.move_on_after(0.02):  # gives up long before the call ends
                await flights.do("k", calls.slow, "v", 0.1)

        async def later() -> None:
            await anyio.sleep(0.01)
            got.append(await flights.do("k", calls.slow, "other", 0.1))

        tg.start_soon(first)
        tg.start_soon(later)
    assert got == ["v"] and calls.count == 1


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_when_every_caller_leaves_the_call_is_cancelled(variant: Variant) -> None:
    calls = Calls()
    async with variant.fn() as flights:
        with anyio.move_on_after(0.02):
            async with anyio.create_task_group() as tg:
                for _ in range(3):
                    tg.start_soon(flights.do, "k", calls.slow, "v", 10)
        await anyio.sleep(0.01)
        assert calls.running == 0  # no one wanted it any more: it was cancelled
        assert repr(flights) == f"<{type(flights).__name__} 0 in flight, 0 caller(s) waiting>"


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_caller_stops_waiting_at_its_timeout_and_the_call_goes_on(
    variant: Variant,
) -> None:
    calls, got = Calls(), []
    async with variant.fn() as flights, anyio.create_task_group() as tg:
        async def impatient() -> None:
            with pytest.raises(TimeoutError):
                await flights.do("k", calls.slow, "v", 0.2, timeout=0.02)

        async def patient() -> None:
            got.append(await flights.do("k", calls.slow, "v", 0.2))

        tg.start_soon(patient)
        await anyio.sleep(0.01)
        tg.start_soon(impatient)
    assert got == ["v"] and calls.count == 1


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_forget_starts_a_new_call_while_one_is_in_flight(variant: Variant) -> None:
    calls, got = Calls(), []
    async with variant.fn() as flights, anyio.create_task_group() as tg:
        async def old() -> None:
            got.append(await flights.do("k", calls.slow, "old", 0.1))

        tg.start_soon(old)
        await anyio.sleep(0.03)
        flights.forget("k")
        got.append(await flights.do("k", calls.slow, "new", 0))
    assert got == ["new", "old"] and calls.count == 2


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_keys_are_forgotten_when_their_flight_ends(variant: Variant) -> None:
    async with variant.fn() as flights:
        for i in range(50):
            await flights.do(i, Calls().slow, i, 0)
        real = getattr(flights, "group", flights)
        assert repr(real) == f"<{type(real).__name__} 0 in flight, 0 caller(s) waiting>"


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_bad_input_is_refused_naming_the_parameter(variant: Variant) -> None:
    async with variant.fn() as flights:
        if isinstance(flights, ThreadSingleFlightFacade):  # its facade wraps fn: ask directly
            with pytest.raises(TypeError, match="fn must be callable"):
                flights.group.do("k", 42)  # type: ignore[arg-type]
        else:
            with pytest.raises(TypeError, match="fn must be callable"):
                await flights.do("k", 42)
        with pytest.raises(ValueError, match="timeout"):
            await flights.do("k", Calls().slow, 1, timeout=0)


@pytest.mark.parametrize("cls", [cp_asyncio.SingleFlight, cp_anyio.SingleFlight])
async def test_do_outside_async_with_is_refused(cls: type) -> None:
    with pytest.raises(RuntimeError, match="async with"):
        await cls().do("k", Calls().slow, 1)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_shared_error_does_not_grow_with_every_caller(variant: Variant) -> None:
    """Every caller gets the call's one exception, and its traceback is the failed call's plus
    that caller's own frames: not every earlier caller's too."""
    calls, caught = Calls(), []
    error = ValueError("the backend is down")

    async def caller(flights: Any) -> None:
        try:
            await flights.do("key", calls.slow, None, 0.1, error)
        except ValueError as e:
            caught.append(len(traceback.extract_tb(e.__traceback__)))

    async with variant.fn() as flights, anyio.create_task_group() as tg:
        for _ in range(200):
            tg.start_soon(caller, flights)
    assert len(caught) == 200 and calls.count == 1
    assert max(caught) < 40, f"a traceback of {max(caught)} entries"


# --- a call that finishes for a cache, and a bound on each call ---------------------------------

@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_finish_calls_lets_a_call_finish_when_every_caller_has_left(
    variant: Variant,
) -> None:
    """A cache fronting a 50 ms backend, callers that give up after 30 ms: with finish_calls
    the call runs to its end and stores its value; without it, nothing is ever stored."""
    for finish, expect in ((True, {"key": "value"}), (False, {})):
        cache: dict[str, str] = {}

        async def load(key: str, cache: dict[str, str] = cache) -> str:
            await anyio.sleep(0.05)
            cache[key] = "value"
            return "value"

        async with variant.fn(finish_calls=finish) as flights:
            with pytest.raises(TimeoutError):
                await flights.do("key", load, "key", timeout=0.03)
            await anyio.sleep(0.1)  # long past the backend's 50 ms
            assert cache == expect, finish


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_caller_joins_a_call_that_finishes_alone(variant: Variant) -> None:
    calls = Calls()
    async with variant.fn(finish_calls=True) as flights:
        with pytest.raises(TimeoutError):
            await flights.do("key", calls.slow, "v", 0.1, timeout=0.02)
        assert await flights.do("key", calls.slow, "v", 0.1) == "v"  # the same call, joined
    assert calls.count == 1


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_call_timeout_bounds_every_call(variant: Variant) -> None:
    calls = Calls()
    async with variant.fn(call_timeout=0.05) as flights, anyio.create_task_group() as tg:
        caught: list[BaseException] = []

        async def caller() -> None:
            try:
                await flights.do("key", calls.slow, "v", 5)
            except TimeoutError as e:
                caught.append(e)

        for _ in range(3):
            tg.start_soon(caller)
    assert len(caught) == 3 and calls.count == 1 and calls.running == 0


@pytest.mark.parametrize("variant", ASYNC, ids=str)
def test_a_bad_call_timeout_is_refused_naming_it(variant: Variant) -> None:
    with pytest.raises(ValueError, match="call_timeout"):
        variant.fn(call_timeout=0)


# --- the asyncio variant under anyio's cancellation ---------------------------------------------

async def _wait_for_a_flight() -> None:
    async with cp_asyncio.SingleFlight[str, None]() as flights:
        await flights.do("key", asyncio.sleep, 3600)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
def test_the_asyncio_singleflight_stops_when_anyio_cancels_it(how: str) -> None:
    """Waiting as anyio cancels it (as under FastAPI): the wait ends, nothing is left."""
    assert stopped_by_anyio(_wait_for_a_flight, how) < 30


# --- twin contracts: the same scenarios and traces as the Go test runs on x/sync's singleflight -

TWINS = twins("singleflight")
TWIN_VARIANTS = [
    Variant("asyncio-virtual", cp_asyncio.SingleFlight, backend="asyncio-virtual"),
    Variant("anyio-asyncio-virtual", cp_anyio.SingleFlight, backend="asyncio-virtual"),
    Variant("anyio-trio-virtual", cp_anyio.SingleFlight, backend="trio-virtual"),
]


async def twin_share(make: Any) -> list[str]:
    trace: list[str] = []
    release, calls, results = anyio.Event(), [0], [""] * 3

    async def call() -> str:
        calls[0] += 1
        trace.append("call runs")
        await release.wait()
        return "v"

    async with make() as flights:
        async def caller(i: int) -> None:
            results[i] = await flights.do("k", call)

        async with anyio.create_task_group() as tg:
            for i in range(3):
                tg.start_soon(caller, i)
            await anyio.wait_all_tasks_blocked()  # every caller waits on the one call
            release.set()
    return [*trace, f"results: {' '.join(results)}", f"calls: {calls[0]}"]


async def twin_nobody_waits(make: Any) -> list[str]:
    trace: list[str] = []
    release, stored, cache = anyio.Event(), anyio.Event(), {}

    async def call() -> str:
        trace.append("call runs")
        await release.wait()
        trace.append("call ends")
        cache["k"] = "v"  # a cache stores what the call returns
        stored.set()
        return "v"

    async with make(finish_calls=True) as flights:
        with anyio.move_on_after(0.01):  # the caller gives up at its deadline
            await flights.do("k", call)
        trace.append("caller left")
        release.set()
        await stored.wait()
    return [*trace, f"stored: {cache['k']}"]


async def twin_forget(make: Any) -> list[str]:
    trace: list[str] = []
    release, running = anyio.Event(), anyio.Event()
    first: list[str] = []

    async def call_1() -> str:
        trace.append("call 1 runs")
        running.set()
        await release.wait()
        return "first"

    async def call_2() -> str:
        trace.append("call 2 runs")
        return "second"

    async with make() as flights:
        async def caller_1() -> None:
            first.append(await flights.do("k", call_1))

        async with anyio.create_task_group() as tg:
            tg.start_soon(caller_1)
            await running.wait()
            flights.forget("k")
            trace.append("forgotten")
            trace.append(f"caller 2: {await flights.do('k', call_2)}")
            release.set()
    return [*trace, f"caller 1: {first[0]}"]


ASYNC_TWINS = {
    "callers-in-a-flight-share-one-call": twin_share,
    "a-call-nobody-waits-for-runs-to-its-end": twin_nobody_waits,
    "forget-during-a-flight-starts-a-new-call": twin_forget,
}


@pytest.mark.parametrize("scenario", sorted(ASYNC_TWINS))
@pytest.mark.parametrize("variant", TWIN_VARIANTS, ids=str)
async def test_twin_contract(variant: Variant, scenario: str) -> None:
    assert await ASYNC_TWINS[scenario](variant.fn) == TWINS[scenario]["trace"]


def thread_twin_share() -> list[str]:
    trace: list[str] = []
    flights, release, calls, results = cp_threads.SingleFlight[str, str](), threading.Event(), \
        [0], [""] * 3

    def call() -> str:
        calls[0] += 1
        trace.append("call runs")
        release.wait()
        return "v"

    def caller(i: int) -> None:
        results[i] = flights.do("k", call)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    while "3 caller(s) waiting" not in repr(flights):  # every caller waits on the one call
        time.sleep(0.001)
    release.set()
    for t in threads:
        t.join()
    return [*trace, f"results: {' '.join(results)}", f"calls: {calls[0]}"]


def thread_twin_forget() -> list[str]:
    trace: list[str] = []
    flights, release, running = cp_threads.SingleFlight[str, str](), threading.Event(), \
        threading.Event()
    first: list[str] = []

    def call_1() -> str:
        trace.append("call 1 runs")
        running.set()
        release.wait()
        return "first"

    def call_2() -> str:
        trace.append("call 2 runs")
        return "second"

    thread = threading.Thread(target=lambda: first.append(flights.do("k", call_1)))
    thread.start()
    running.wait()
    flights.forget("k")
    trace.append("forgotten")
    trace.append(f"caller 2: {flights.do('k', call_2)}")
    release.set()
    thread.join()
    return [*trace, f"caller 1: {first[0]}"]


THREAD_TWINS = {
    "callers-in-a-flight-share-one-call": thread_twin_share,
    "forget-during-a-flight-starts-a-new-call": thread_twin_forget,
}


@pytest.mark.parametrize("scenario", sorted(THREAD_TWINS))
def test_twin_contract_threads(scenario: str) -> None:
    assert THREAD_TWINS[scenario]() == TWINS[scenario]["trace"]


def test_every_twin_contract_runs_in_every_model() -> None:
    check_twins_cover("singleflight", ASYNC_TWINS, {})
    check_twins_cover("singleflight", THREAD_TWINS, {
        "a-call-nobody-waits-for-runs-to-its-end":
            "the first caller's own thread runs the call, so it cannot leave it; a caller that "
            "joined leaves with timeout=, and the call goes on",
    })
