"""sync_pool: 4 threads (tasks, goroutines) each borrow a buffer 2,000 times (256 bytes) or 1,000
times (1 MiB), write 64 bytes into it and give it back: from a pool, or a fresh buffer each
time. A third workload borrows an object that is slow to build rather than to allocate — a
lookup table of 10,000 entries — 50 times each. In Go, the pool is a sync.Pool ("go") or a
bounded pool on a channel; in Python, the bounded pools of this pattern. Each round starts its
threads, so thread start-up is in the threads' figures."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import anyio
import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.benchmarks.conftest import (
    Bench,
    GoProcess,
    hand_written,
    run_hand_written,
    variants,
)

PATTERN = "sync_pool"
PAYLOAD = bytes(64)


class Table:
    """An object that is slow to build: building it is the cost a pool saves."""

    def __init__(self, size: int) -> None:
        self.entries = {i: i * i for i in range(size)}
        self.used = 0

    def reset(self) -> None:
        self.used = 0


def _kind(params: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(new, reset, use) for the workload's object: a buffer, or a table."""
    size = params["size"]
    if params.get("object") == "table":
        def use_table(t: Table) -> None:
            t.used += t.entries[7]
        return (lambda: Table(size)), Table.reset, use_table

    def use_buffer(buf: bytearray) -> None:
        buf[:64] = PAYLOAD
    return (lambda: bytearray(size)), None, use_buffer


def _threads(params: dict[str, Any], borrow: Any) -> None:
    def worker() -> None:
        for _ in range(params["borrows"]):
            borrow()

    threads = [threading.Thread(target=worker) for _ in range(params["workers"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _tasks(p: dict[str, Any], worker: Any) -> Any:
    """A round of *worker* in p["workers"] tasks; it takes the workload's parameters or none,
    as the hand-written rows and ``Bench.on_loop`` call it."""
    async def one_round(_: Any = None) -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(p["workers"]):
                tg.start_soon(worker)

    return one_round


def test_threads_fresh(bench: Bench) -> None:
    new, _, use = _kind(bench.params)

    def borrow() -> None:
        use(new())

    bench.sync("threads, a fresh one each time", lambda: _threads(bench.params, borrow))


@pytest.mark.parametrize(("variant", "check_puts"), variants(
    ("threads, SyncPool", False),
    ("threads, SyncPool, check_puts=True", True),  # the identity check, asked for
))
def test_threads_pool(bench: Bench, variant: str, check_puts: bool) -> None:
    new, reset, use = _kind(bench.params)
    pool = cp_threads.SyncPool(new, reset=reset, max_size=bench.params["max_size"],
                               check_puts=check_puts)

    def borrow() -> None:
        obj = pool.get()
        use(obj)
        pool.put(obj)

    bench.sync(variant, lambda: _threads(bench.params, borrow))


@pytest.mark.parametrize(
    ("variant", "backend", "cls", "how"),
    variants(
        ("asyncio, SyncPool", "asyncio", cp_asyncio.SyncPool, "get"),
        ("anyio/trio, SyncPool", "trio", cp_anyio.SyncPool, "get"),
        # try_get() first, as a hot loop may: no coroutine unless it has to wait.
        ("asyncio, SyncPool.try_get", "asyncio", cp_asyncio.SyncPool, "try_get"),
        ("anyio/trio, SyncPool.try_get", "trio", cp_anyio.SyncPool, "try_get"),
        ("asyncio, SyncPool, check_puts=True", "asyncio", cp_asyncio.SyncPool, "check_puts"),
        ("asyncio, a fresh one each time", "asyncio", None, "new"),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, cls: Any, how: str) -> None:
    p = bench.params
    new, reset, use = _kind(p)
    pool = None if cls is None else cls(new, reset=reset, max_size=p["max_size"],
                                        check_puts=how == "check_puts")

    # One loop per way of borrowing, chosen here: the timed loop tests nothing of ours.
    async def fresh() -> None:
        for _ in range(p["borrows"]):
            use(new())

    async def try_first() -> None:
        for _ in range(p["borrows"]):
            obj = pool.try_get()
            if obj is None:
                obj = await pool.get()
            use(obj)
            pool.put(obj)

    async def awaited() -> None:
        for _ in range(p["borrows"]):
            obj = await pool.get()
            use(obj)
            pool.put(obj)

    worker = fresh if pool is None else try_first if how == "try_get" else awaited
    bench.on_loop(variant, backend, _tasks(p, worker))


# --- hand-written: a deque of free objects, as a user writes it -------------------------------

def _deque_pool(p: dict[str, Any]) -> tuple[Any, Any]:
    """(borrow, give back) over a deque, at most max_size kept; deque's append and pop are
    atomic, so threads need no lock."""
    new, reset, _ = _kind(p)
    free: deque[Any] = deque()

    def get() -> Any:
        try:
            return free.pop()
        except IndexError:
            return new()

    def put(obj: Any) -> None:
        if reset is not None:
            reset(obj)
        if len(free) < p["max_size"]:
            free.append(obj)

    return get, put


# Each maker builds its deque once, as the library's pool is built once, outside the timed
# rounds: a round then borrows from a warm pool in both rows, and neither builds the pool.

def hand_written_async(p: dict[str, Any]) -> Any:
    get, put = _deque_pool(p)
    _, _, use = _kind(p)

    async def worker() -> None:
        for _ in range(p["borrows"]):
            obj = get()
            use(obj)
            put(obj)  # no await: a deque needs none, so the tasks run one after another

    return _tasks(p, worker)


def hand_written_async_get(p: dict[str, Any]) -> Any:
    """The same deque behind ``await get()``, as a pool's API is awaited: what the coroutine
    alone costs."""
    get, put = _deque_pool(p)
    _, _, use = _kind(p)

    async def aget() -> Any:
        return get()

    async def worker() -> None:
        for _ in range(p["borrows"]):
            obj = await aget()
            use(obj)
            put(obj)

    return _tasks(p, worker)


def hand_written_threads(p: dict[str, Any]) -> Any:
    get, put = _deque_pool(p)
    _, _, use = _kind(p)

    def borrow() -> None:
        obj = get()
        use(obj)
        put(obj)

    def one_round(_: Any = None) -> None:
        _threads(p, borrow)

    return one_round


# The library's rows are timed alternately with these: model -> (params -> a round).
HAND_ROUNDS = {"asyncio": hand_written_async, "anyio/asyncio": hand_written_async,
               "anyio/trio": hand_written_async, "threads": hand_written_threads}


@pytest.mark.parametrize(("variant", "backend", "make"), hand_written(
    hand_written_async, hand_written_async, hand_written_threads))
def test_hand_written(bench: Bench, variant: str, backend: str, make: Any) -> None:
    run_hand_written(bench, variant, backend, make(bench.params))


def test_hand_written_async_get(bench: Bench) -> None:
    run_hand_written(bench, "hand-written (asyncio), await get()", "asyncio",
                     hand_written_async_get(bench.params))


@pytest.mark.parametrize(("mode", "variant"), [("sync.Pool", "go"),
                                               ("bounded", "go, a bounded pool"),
                                               ("new", "go, a fresh one each time")])
def test_go(bench: Bench, go: GoProcess, mode: str, variant: str) -> None:
    bench.go(go, {**bench.params, "mode": mode}, variant=variant)
