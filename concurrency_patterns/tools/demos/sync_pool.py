"""The sync_pool demo: workers borrow a buffer again and again from a pool of at most N;
every return is reset; no buffer is ever held by two workers at once."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import anyio.lowlevel

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads

from . import Line, Runs, each_backend, on


class _Buffer:
    def __init__(self, size: int) -> None:
        self.data = bytearray(size)
        self.holder: int | None = None


def demo(w: dict[str, Any]) -> Runs:
    workers, borrows, max_size, size = w["workers"], w["borrows"], w["max_size"], w["size"]

    class Tally:
        def __init__(self) -> None:
            self.lock = threading.Lock()
            self.resets = self.clashes = 0

        def take(self, buf: _Buffer, me: int) -> None:
            with self.lock:
                if buf.holder is not None:
                    self.clashes += 1
                buf.holder = me
            buf.data[:7] = b"payload"

        def reset(self, buf: _Buffer) -> None:
            with self.lock:
                buf.holder = None
                self.resets += 1

    def line(pool: Any, tally: Tally) -> Line:
        holders = ("never two holders at once" if not tally.clashes
                   else f"{tally.clashes} clashes")
        built = pool.statistics().created  # how many depends on timing; the bound does not
        within = (f"no more than {max_size} built" if built <= max_size
                  else f"{built} built, over the bound")
        return (f"sync_pool: {workers} workers borrowed a {size}-byte buffer "
                f"{workers * borrows} times from a pool of at most {max_size}: "
                f"{within}, {tally.resets} resets, {holders}")

    def run_threads() -> Line:
        tally = Tally()
        pool = cp_threads.SyncPool(lambda: _Buffer(size), reset=tally.reset, max_size=max_size)

        def worker(me: int) -> None:
            for _ in range(borrows):
                with pool.borrow() as buf:
                    tally.take(buf, me)

        threads = [threading.Thread(target=worker, args=(me,)) for me in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return line(pool, tally)

    async def run_async(cls: Any) -> Line:
        tally = Tally()
        pool = cls(lambda: _Buffer(size), reset=tally.reset, max_size=max_size)

        async def worker(me: int) -> None:
            for _ in range(borrows):
                async with pool.borrow() as buf:
                    tally.take(buf, me)
                    await anyio.lowlevel.checkpoint()  # hold it across an await

        async with anyio.create_task_group() as tg:
            for me in range(workers):
                tg.start_soon(worker, me)
        return line(pool, tally)

    return {
        "threads": run_threads,
        "asyncio": on("asyncio", run_async, cp_asyncio.SyncPool),
        **each_backend("anyio", run_async, cp_anyio.SyncPool),
    }
