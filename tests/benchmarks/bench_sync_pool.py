"""sync_pool: 4 threads (tasks, goroutines) each borrow a buffer 2,000 times (256 bytes) or 200
times (1 MiB), write 64 bytes into it and give it back: from a pool, or a fresh buffer each
time. In Go, the pool is a sync.Pool ("go") or a bounded pool on a channel; in Python, the
bounded pools of this pattern. Each round starts its threads, so thread start-up is in the
threads' figures."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest

from concurrency_patterns.sync_pool import AnyioSyncPool, AsyncioSyncPool, ThreadSyncPool
from tests.benchmarks.conftest import Bench, GoProcess, variants

PATTERN = "sync_pool"
PAYLOAD = bytes(64)


def _threads(params: dict[str, Any], borrow: Any) -> None:
    def worker() -> None:
        for _ in range(params["borrows"]):
            borrow()

    threads = [threading.Thread(target=worker) for _ in range(params["workers"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_threads_fresh(bench: Bench) -> None:
    size = bench.params["size"]

    def borrow() -> None:
        buf = bytearray(size)
        buf[:64] = PAYLOAD

    bench.sync("threads, a fresh buffer each time", lambda: _threads(bench.params, borrow))


def test_threads_pool(bench: Bench) -> None:
    size = bench.params["size"]
    pool = ThreadSyncPool(lambda: bytearray(size), max_size=bench.params["max_size"])

    def borrow() -> None:
        buf = pool.get()
        buf[:64] = PAYLOAD
        pool.put(buf)

    bench.sync("threads, ThreadSyncPool", lambda: _threads(bench.params, borrow))


@pytest.mark.parametrize(
    ("variant", "backend", "cls"),
    variants(
        ("asyncio, AsyncioSyncPool", "asyncio", AsyncioSyncPool),
        ("anyio/trio, AnyioSyncPool", "trio", AnyioSyncPool),
        ("asyncio, a fresh buffer each time", "asyncio", None),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, cls: Any) -> None:
    p = bench.params
    size = p["size"]
    pool = None if cls is None else cls(lambda: bytearray(size), max_size=p["max_size"])

    async def worker() -> None:
        for _ in range(p["borrows"]):
            if pool is None:
                buf = bytearray(size)
                buf[:64] = PAYLOAD
            else:
                buf = await pool.get()
                buf[:64] = PAYLOAD
                pool.put(buf)

    async def one_round() -> None:
        async with anyio.create_task_group() as tg:
            for _ in range(p["workers"]):
                tg.start_soon(worker)

    bench.on_loop(variant, backend, one_round)


@pytest.mark.parametrize(("mode", "variant"), [("sync.Pool", "go"),
                                               ("bounded", "go, a bounded pool"),
                                               ("new", "go, a fresh buffer each time")])
def test_go(bench: Bench, go: GoProcess, mode: str, variant: str) -> None:
    bench.go(go, {**bench.params, "mode": mode}, variant=variant)
