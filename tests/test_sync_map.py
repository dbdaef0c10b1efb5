"""The sync_map contract, run against every variant, and the claims its page makes about
plain dicts.

Concurrent callers are real threads for ``threads.SyncMap`` and tasks for the async maps (on
asyncio, and for ``anyio.SyncMap`` on trio too). ``Model.together(n, fn)`` starts *n* callers
of ``fn(i)`` as close to at once as each model allows and returns what each returned.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.conftest import ANYIO_CANCELS, stopped_by_anyio

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Model:
    name: str
    cls: type
    backend: str = "asyncio"

    def __str__(self) -> str:
        return self.name

    @property
    def threads(self) -> bool:
        return self.cls is cp_threads.SyncMap

    async def together(self, n: int, fn: Callable[[int], Any]) -> list[Any]:
        """Run ``fn(i)`` for i < n at once: threads behind a barrier, or tasks. An async *fn*
        is awaited (async models only)."""
        results: list[Any] = [None] * n
        if self.threads:
            barrier = threading.Barrier(n)

            def run(i: int) -> None:
                barrier.wait()
                results[i] = fn(i)

            def all_threads() -> None:
                threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()

            await anyio.to_thread.run_sync(all_threads)
            return results

        async def task(i: int) -> None:
            got = fn(i)
            if hasattr(got, "__await__"):
                got = await got
            results[i] = got

        async with anyio.create_task_group() as tg:
            for i in range(n):
                tg.start_soon(task, i)
        return results

    async def pause(self) -> None:
        """Let the other tasks run (threads switch on their own)."""
        await anyio.lowlevel.checkpoint()


MODELS = [Model("threads", cp_threads.SyncMap), Model("asyncio", cp_asyncio.SyncMap),
          Model("anyio-asyncio", cp_anyio.SyncMap), Model("anyio-trio", cp_anyio.SyncMap, "trio")]


@pytest.fixture
def anyio_backend(request: pytest.FixtureRequest) -> str:
    model: Model = request.getfixturevalue("model")
    return model.backend


# --- Go's operations --------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_the_operations_do_what_go_says(model: Model) -> None:
    m: Any = model.cls()
    assert m.load("a") is None and m.load("a", 0) == 0
    m.store("a", 1)
    assert m.load("a") == 1 and "a" in m and len(m) == 1
    assert m.load_or_store("a", 2) == (1, True)
    assert m.load_or_store("b", 2) == (2, False)
    assert m.swap("a", 10) == (1, True)
    assert m.swap("c", 3) == (None, False)
    assert not m.compare_and_swap("a", 1, 11)
    assert m.compare_and_swap("a", 10, 11) and m.load("a") == 11
    assert not m.compare_and_delete("a", 10)
    assert m.compare_and_delete("a", 11) and "a" not in m
    assert m.load_and_delete("b") == (2, True)
    assert m.load_and_delete("b") == (None, False)
    m.delete("c")
    m.delete("never")
    assert len(m) == 0 and list(m) == [] and m.items() == []
    m.store(None, None)  # None is a key and a value like any other
    assert m.load_or_store(None, 5) == (None, True)
    m.clear()
    assert len(m) == 0
    assert "0 keys" in repr(m)


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_load_or_store_has_one_winner(model: Model) -> None:
    m: Any = model.cls()
    results = await model.together(32, lambda i: m.load_or_store("key", i))
    winners = [value for value, loaded in results if not loaded]
    assert len(winners) == 1
    assert all(value == winners[0] for value, _ in results)


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_compare_and_swap_is_atomic(model: Model) -> None:
    m: Any = model.cls()
    m.store("n", 0)
    per, callers = 200, 8

    async def add_async(_: int) -> None:
        for _ in range(per):
            while True:
                old = m.load("n")
                await model.pause()  # others may get in between the load and the swap
                if m.compare_and_swap("n", old, old + 1):
                    break

    def add_sync(_: int) -> None:
        for _ in range(per):
            while True:
                old = m.load("n")
                time.sleep(0)
                if m.compare_and_swap("n", old, old + 1):
                    break

    await model.together(callers, add_sync if model.threads else add_async)
    assert m.load("n") == per * callers  # no increment lost, none counted twice


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_range_while_others_store_visits_every_lasting_key_once(model: Model) -> None:
    m: Any = model.cls()
    for i in range(2000):
        m.store(i, i)
    stop = threading.Event()
    visited: Counter[Any] = Counter()

    def visit(key: Any, value: Any) -> bool:
        visited[key] += 1
        m.store(("new", key), value)  # writing during the range, from inside it, too
        return True

    if model.threads:
        def writer() -> None:
            n = 0
            while not stop.is_set():
                m.store(("writer", n), n)
                m.delete(("writer", n - 50))
                n += 1

        t = threading.Thread(target=writer)
        t.start()
        try:
            for _ in range(5):
                await anyio.to_thread.run_sync(m.range, visit)
        finally:
            stop.set()
            t.join()
        lasting = range(2000)
        assert all(visited[i] == 5 for i in lasting)
    else:
        m.range(visit)
        assert all(visited[i] == 1 for i in range(2000))


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_range_stops_when_fn_returns_false(model: Model) -> None:
    m: Any = model.cls()
    for i in range(10):
        m.store(i, i)
    seen: list[Any] = []
    m.range(lambda k, v: seen.append(k) or len(seen) < 3)
    assert len(seen) == 3


# --- load_or_compute --------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_load_or_compute_computes_once_per_key(model: Model) -> None:
    m: Any = model.cls()
    calls: Counter[int] = Counter()
    lock = threading.Lock()

    def compute_sync(key: int) -> Callable[[], int]:
        def fn() -> int:
            with lock:
                calls[key] += 1
            time.sleep(0.02)
            return key * 10
        return fn

    def compute_async(key: int) -> Callable[[], Any]:
        async def fn() -> int:
            calls[key] += 1
            await anyio.sleep(0.02)
            return key * 10
        return fn

    compute = compute_sync if model.threads else compute_async
    results = await model.together(40, lambda i: m.load_or_compute(i % 4, compute(i % 4)))
    assert results == [(i % 4) * 10 for i in range(40)]
    assert calls == Counter({0: 1, 1: 1, 2: 1, 3: 1})
    assert "0 being computed" in repr(m)  # nothing kept for keys no one waits on


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_an_error_is_not_stored_and_the_next_caller_computes(model: Model) -> None:
    m: Any = model.cls()
    attempts = 0
    lock = threading.Lock()

    def first_fails() -> int:
        nonlocal attempts
        with lock:
            attempts += 1
            mine = attempts
        time.sleep(0.02)
        if mine == 1:
            raise OSError("backend down")
        return 42

    async def first_fails_async() -> int:
        nonlocal attempts
        attempts += 1
        mine = attempts
        await anyio.sleep(0.02)
        if mine == 1:
            raise OSError("backend down")
        return 42

    fn = first_fails if model.threads else first_fails_async

    def call(_: int) -> Any:
        if model.threads:
            try:
                return m.load_or_compute("k", fn)
            except OSError as exc:
                return exc

        async def go() -> Any:
            try:
                return await m.load_or_compute("k", fn)
            except OSError as exc:
                return exc
        return go()

    results = await model.together(8, call)
    errors = [r for r in results if isinstance(r, OSError)]
    assert len(errors) == 1  # only the caller whose computation failed
    assert results.count(42) == 7
    assert attempts == 2  # one failure, then one success shared by the rest
    assert "0 being computed" in repr(m)


@pytest.mark.parametrize("model", MODELS[1:], ids=str)
async def test_a_cancelled_computation_hands_over_to_a_waiter(model: Model) -> None:
    m: Any = model.cls()
    started = anyio.Event()
    attempts = 0

    async def slow() -> int:
        nonlocal attempts
        attempts += 1
        started.set()
        await anyio.sleep(0.1)
        return 7

    results: list[int] = []

    async def waiter() -> None:
        await started.wait()
        results.append(await m.load_or_compute("k", slow))

    async with anyio.create_task_group() as tg:
        with anyio.move_on_after(0.03):
            tg.start_soon(waiter)
            await m.load_or_compute("k", slow)  # cancelled while it computes
    assert results == [7] and attempts == 2
    assert m.load("k") == 7
    assert "0 being computed" in repr(m)


@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_one_key_computing_does_not_hold_up_another(model: Model) -> None:
    m: Any = model.cls()
    release = threading.Event()

    if model.threads:
        def blocked() -> int:
            release.wait(5)
            return 1

        t = threading.Thread(target=m.load_or_compute, args=("slow", blocked))
        t.start()
        start = time.monotonic()
        assert await anyio.to_thread.run_sync(m.load_or_compute, "fast", lambda: 2) == 2
        assert time.monotonic() - start < 1.0
        release.set()
        await anyio.to_thread.run_sync(t.join)
    else:
        gate = anyio.Event()

        async def blocked_async() -> int:
            await gate.wait()
            return 1

        async def fast() -> int:
            return 2

        async with anyio.create_task_group() as tg:
            tg.start_soon(m.load_or_compute, "slow", blocked_async)
            await anyio.lowlevel.checkpoint()
            with anyio.fail_after(1):
                assert await m.load_or_compute("fast", fast) == 2
            gate.set()
    assert m.load("slow") == 1


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS, ids=str)
async def test_bad_arguments_are_refused_naming_them(model: Model) -> None:
    m: Any = model.cls()
    with pytest.raises(TypeError, match="fn"):
        m.range(3)
    with pytest.raises(TypeError, match="fn"):
        result = m.load_or_compute("k", 3)
        if not model.threads:
            await result
    with pytest.raises(TypeError, match="unhashable"):
        m.store([1], 1)
    # On an empty map too, where dict.pop() never hashes the key.
    for op in (m.delete, m.load_and_delete, m.load):
        with pytest.raises(TypeError, match="unhashable"):
            op([1])


# --- what the page says about plain dicts -----------------------------------------------------

def test_a_single_dict_operation_is_atomic_across_threads() -> None:
    d: dict[int, int] = {}
    barrier = threading.Barrier(8)
    winners: list[int] = []
    lock = threading.Lock()

    def race(i: int) -> None:
        barrier.wait()
        if d.setdefault(0, i) == i:  # one call: one winner
            with lock:
                winners.append(i)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1


def test_check_then_set_on_a_dict_is_not_atomic() -> None:
    # Any call between the check and the set may switch threads; the sleep makes it certain.
    d: dict[str, int] = {}
    barrier = threading.Barrier(2)
    won: list[int] = []

    def racy(i: int) -> None:
        barrier.wait()
        if "k" not in d:
            time.sleep(0.01)
            d["k"] = i
            won.append(i)

    threads = [threading.Thread(target=racy, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 2  # both "won": one store was silently overwritten


def test_iterating_a_dict_while_it_grows_fails() -> None:
    d = {i: i for i in range(10)}
    with pytest.raises(RuntimeError, match="changed size during iteration"):
        for key in d:
            d[key + 100] = key


# --- the asyncio variant under anyio's cancellation ---------------------------------------------

async def _wait_for_a_computation() -> None:
    cache: cp_asyncio.SyncMap[str, None] = cp_asyncio.SyncMap()
    async with asyncio.TaskGroup() as tg:
        tg.create_task(cache.load_or_compute("key", lambda: asyncio.sleep(3600)))
        await asyncio.sleep(0.01)
        await cache.load_or_compute("key", lambda: asyncio.sleep(0))  # waits for the first


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
def test_the_asyncio_sync_map_stops_when_anyio_cancels_it(how: str) -> None:
    """Waiting as anyio cancels it (as under FastAPI): the wait ends, nothing is left."""
    assert stopped_by_anyio(_wait_for_a_computation, how) < 30
