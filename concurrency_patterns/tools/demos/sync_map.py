"""The sync_map demo: workers race on one map — LoadOrStore on shared keys (one winner each),
a counter kept with CompareAndSwap (no increment lost), then a Range over what is there."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import anyio.lowlevel

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads

from . import Line, Runs, each_backend, on


def demo(w: dict[str, Any]) -> Runs:
    workers, keys, calls, increments = w["workers"], w["keys"], w["calls"], w["increments"]

    def line(m: Any, stored: int, loaded: int) -> Line:
        seen = 0

        def count(_: Any, __: Any) -> bool:
            nonlocal seen
            seen += 1
            return True

        m.range(count)
        return (f"sync_map: {workers} workers: LoadOrStore on {keys} keys stored {stored} and "
                f"loaded {loaded}; CompareAndSwap counted to {m.load('n')}; Range saw {seen} keys")

    def run_threads() -> Line:
        m: cp_threads.SyncMap[Any, int] = cp_threads.SyncMap()
        m.store("n", 0)
        tally = {"stored": 0, "loaded": 0}
        lock = threading.Lock()

        def worker(me: int) -> None:
            for i in range(calls):
                _, was_there = m.load_or_store(i % keys, me)
                with lock:
                    tally["loaded" if was_there else "stored"] += 1
            for _ in range(increments):
                while True:
                    old = m.load("n")
                    assert old is not None
                    if m.compare_and_swap("n", old, old + 1):
                        break

        threads = [threading.Thread(target=worker, args=(me,)) for me in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return line(m, tally["stored"], tally["loaded"])

    async def run_async(cls: Any) -> Line:
        m = cls()
        m.store("n", 0)
        tally = {"stored": 0, "loaded": 0}

        async def worker(me: int) -> None:
            for i in range(calls):
                _, was_there = m.load_or_store(i % keys, me)
                tally["loaded" if was_there else "stored"] += 1
                await anyio.lowlevel.checkpoint()
            for _ in range(increments):
                while True:
                    old = m.load("n")
                    await anyio.lowlevel.checkpoint()  # others may get in between
                    if m.compare_and_swap("n", old, old + 1):
                        break

        async with anyio.create_task_group() as tg:
            for me in range(workers):
                tg.start_soon(worker, me)
        return line(m, tally["stored"], tally["loaded"])

    return {
        "threads": run_threads,
        "asyncio": on("asyncio", run_async, cp_asyncio.SyncMap),
        **each_backend("anyio", run_async, cp_anyio.SyncMap),
    }
