"""``python -m concurrency_patterns demo``: every pattern, every variant, one line each.

Each demo runs every variant of a pattern on the ``demo`` workload of ``workloads.json`` and
checks that they all print the same line — the line the pattern's Go program prints for the
same input (``go run ./<slug>`` in ``go_equivalents/``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any

import anyio

from . import (
    JobError,
    bounded_fetch,
    mutex,
    once,
    process_offload,
    producer_consumer,
    rwmutex,
    waitgroup,
    worker_pool,
)
from ._loopback import HttpServer, event_loop_thread, serving
from .workloads import fail_on, load_workloads, spin, square

__all__ = ["DEMOS", "run_demos"]

Line = str
Runs = dict[str, Callable[[], Line]]  # variant name -> a call that returns the demo line


def _on(backend: str, fn: Callable[..., Awaitable[Line]], *args: Any) -> Callable[[], Line]:
    return lambda: anyio.run(partial(fn, *args), backend=backend)


def _each_backend(name: str, fn: Callable[..., Awaitable[Line]], *args: Any) -> Runs:
    return {f"{name}/asyncio": _on("asyncio", fn, *args), f"{name}/trio": _on("trio", fn, *args)}


# --- bounded_fetch ----------------------------------------------------------------------------

@contextmanager
def _demo_server() -> Iterator[HttpServer]:
    with event_loop_thread("demo-http-server") as loop, serving(loop) as server:
        yield server


def demo_bounded_fetch(w: dict[str, Any]) -> Runs:
    def run(fetch: Callable[..., Any], sync: bool, backend: str = "asyncio") -> Line:
        with _demo_server() as server:
            urls = [server.url(i, delay=w["delay_ms"] / 1000,
                               status=503 if i in w["failing"] else 200) for i in range(w["urls"])]
            call = partial(fetch, urls, limit=w["limit"])
            results = call() if sync else anyio.run(call, backend=backend)
            failed = [f"item {i}: HTTP {r.status}" for i, r in enumerate(results) if not r.ok]
            return (f"bounded_fetch: {len(urls)} URLs, limit {w['limit']}: "
                    f"{len(urls) - len(failed)} ok, {len(failed)} failed ({', '.join(failed)}), "
                    f"at most {server.max_in_flight} in flight")

    return {
        "asyncio": lambda: run(bounded_fetch.fetch_all_asyncio, False),
        "anyio/asyncio": lambda: run(bounded_fetch.fetch_all_anyio, False),
        "anyio/trio": lambda: run(bounded_fetch.fetch_all_anyio, False, "trio"),
        "threads": lambda: run(bounded_fetch.fetch_all_threads, True),
    }


# --- producer_consumer ------------------------------------------------------------------------

def demo_producer_consumer(w: dict[str, Any]) -> Runs:
    per = w["items_per_producer"]
    sources = [range(p * per, (p + 1) * per) for p in range(w["producers"])]
    options = {"consumers": w["consumers"], "maxsize": w["maxsize"]}

    def line(results: list[int]) -> Line:
        return (f"producer_consumer: {w['producers']} producers, {w['consumers']} consumers, "
                f"queue of {w['maxsize']}: {len(results)} items consumed, "
                f"sum of squares {sum(results)}")

    async def consume(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        return x * x

    async def run(pipeline: Callable[..., Awaitable[list[int]]]) -> Line:
        return line(await pipeline([iter(s) for s in sources], consume, **options))

    return {
        "asyncio (sentinel)": _on("asyncio", run, producer_consumer.pipeline_asyncio_sentinel),
        "asyncio (shutdown)": _on("asyncio", run, producer_consumer.pipeline_asyncio),
        **_each_backend("anyio", run, producer_consumer.pipeline_anyio),
        "threads": lambda: line(producer_consumer.pipeline_threads(
            [iter(s) for s in sources], square, **options)),
    }


# --- worker_pool ------------------------------------------------------------------------------

def demo_worker_pool(w: dict[str, Any]) -> Runs:
    jobs = list(range(1, w["jobs"] + 1))
    bad = w["failing_job"]

    def line(results: list[int], error: JobError) -> Line:
        return (f"worker_pool: {w['workers']} workers, {len(jobs)} jobs: squares "
                f"[{' '.join(map(str, results))}]; with job {bad} failing: first error names "
                f"index {error.index}, job {error.job}")

    def run_sync(pool_map: Callable[..., list[int]]) -> Line:
        results = pool_map(square, jobs, workers=w["workers"])
        try:
            pool_map(partial(fail_on, bad), jobs, workers=w["workers"])
        except JobError as error:
            return line(results, error)
        raise AssertionError("the failing job did not fail")

    async def run(pool_map: Callable[..., Awaitable[list[int]]]) -> Line:
        async def job(x: int) -> int:
            await anyio.lowlevel.checkpoint()
            return square(x)

        async def failing(x: int) -> int:
            return fail_on(bad, x)

        results = await pool_map(job, jobs, workers=w["workers"])
        try:
            await pool_map(failing, jobs, workers=w["workers"])
        except JobError as error:
            return line(results, error)
        raise AssertionError("the failing job did not fail")

    return {
        "asyncio": _on("asyncio", run, worker_pool.map_asyncio),
        **_each_backend("anyio", run, worker_pool.map_anyio),
        "threads": lambda: run_sync(worker_pool.map_threads),
        "processes": lambda: run_sync(worker_pool.map_processes),
    }


# --- waitgroup --------------------------------------------------------------------------------

def demo_waitgroup(w: dict[str, Any]) -> Runs:
    n = w["tasks"]

    def line(finished: list[int]) -> Line:
        return (f"waitgroup: {n} tasks started with go(); "
                f"wait() returned after {len(finished)} finished")

    async def run(group: Any) -> Line:
        finished: list[int] = []

        async def task(i: int) -> None:
            await anyio.sleep(0.001 * (n - i))
            finished.append(i)

        async with group() as wg:
            for i in range(n):
                wg.go(task, i)
            await wg.wait()
        return line(finished)

    def run_threads() -> Line:
        finished: list[int] = []
        wg = waitgroup.ThreadWaitGroup()
        for i in range(n):
            wg.go(finished.append, i)
        wg.wait()
        return line(finished)

    return {
        "asyncio": _on("asyncio", run, waitgroup.AsyncioWaitGroup),
        **_each_backend("anyio", run, waitgroup.AnyioWaitGroup),
        "threads": run_threads,
    }


# --- mutex ------------------------------------------------------------------------------------

def demo_mutex(w: dict[str, Any]) -> Runs:
    tasks, increments = w["tasks"], w["increments"]

    def line(counter: int) -> Line:
        return f"mutex: {tasks} tasks x {increments} increments: counter = {counter}"

    async def run(count: Callable[[int, int], Awaitable[int]]) -> Line:
        return line(await count(tasks, increments))

    return {
        "asyncio": _on("asyncio", run, mutex.count_asyncio),
        **_each_backend("anyio", run, mutex.count_anyio),
        "threads": lambda: line(mutex.count_threads(tasks, increments)),
    }


# --- rwmutex ----------------------------------------------------------------------------------

def demo_rwmutex(w: dict[str, Any]) -> Runs:
    readers, writers, rounds = w["readers"], w["writers"], w["rounds"]

    def line(outcome: tuple[int, int]) -> Line:
        return (f"rwmutex: {readers} readers, {writers} writers, {rounds} rounds: "
                f"final value {outcome[0]}, torn reads {outcome[1]}")

    async def run(exercise: Callable[[int, int, int], Awaitable[tuple[int, int]]]) -> Line:
        return line(await exercise(readers, writers, rounds))

    return {
        "asyncio": _on("asyncio", run, rwmutex.exercise_asyncio),
        **_each_backend("anyio", run, rwmutex.exercise_anyio),
        "threads": lambda: line(rwmutex.exercise_threads(readers, writers, rounds)),
    }


# --- once -------------------------------------------------------------------------------------

def demo_once(w: dict[str, Any]) -> Runs:
    callers = w["callers"]

    def line(calls: int, values: set[str]) -> Line:
        return (f"once: {callers} concurrent callers: init ran {calls} time(s), "
                f"every caller got {', '.join(sorted(values))}")

    async def run(once_type: Any) -> Line:
        o, calls, values = once_type(), [0], set()

        async def init() -> str:
            calls[0] += 1
            await anyio.sleep(0.01)
            return '"config v1"'

        async def caller() -> None:
            values.add(await o.do(init))

        async with anyio.create_task_group() as tg:
            for _ in range(callers):
                tg.start_soon(caller)
        return line(calls[0], values)

    def run_threads() -> Line:
        o: once.ThreadOnce[str] = once.ThreadOnce()
        calls = [0]

        def init() -> str:
            calls[0] += 1
            return '"config v1"'

        with ThreadPoolExecutor(callers) as pool:
            values = set(pool.map(lambda _: o.do(init), range(callers)))
        return line(calls[0], values)

    return {
        "asyncio": _on("asyncio", run, once.AsyncioOnce),
        **_each_backend("anyio", run, once.AnyioOnce),
        "threads": run_threads,
    }


# --- process_offload --------------------------------------------------------------------------

def demo_process_offload(w: dict[str, Any]) -> Runs:
    sizes = [w["spin"] + i for i in range(w["jobs"])]

    def line(checksums: list[int]) -> Line:
        return (f"process_offload: {len(sizes)} jobs of spin({w['spin']}+i): "
                f"checksums [{' '.join(map(str, checksums))}]")

    async def run_asyncio() -> Line:
        with process_offload.new_process_pool(2) as pool:
            return line(await process_offload.offload_all_asyncio(spin, sizes, executor=pool))

    async def run_anyio() -> Line:
        return line(await process_offload.offload_all_anyio(spin, sizes, workers=2))

    def run_sync() -> Line:
        with process_offload.new_process_pool(2) as pool:
            return line(process_offload.offload_all_sync(spin, sizes, executor=pool))

    return {
        "sequential": lambda: line(process_offload.run_sequential(spin, sizes)),
        "asyncio + processes": lambda: asyncio.run(run_asyncio()),
        **_each_backend("anyio", run_anyio),
        "sync + processes": run_sync,
    }


DEMOS: dict[str, Callable[[dict[str, Any]], Runs]] = {
    "bounded_fetch": demo_bounded_fetch,
    "producer_consumer": demo_producer_consumer,
    "worker_pool": demo_worker_pool,
    "waitgroup": demo_waitgroup,
    "mutex": demo_mutex,
    "rwmutex": demo_rwmutex,
    "once": demo_once,
    "process_offload": demo_process_offload,
}


def run_demos(patterns: list[str], *, verbose: bool = False) -> int:
    """Run the demos of *patterns* (all when empty); print one line each; 0 if all agree."""
    workloads = load_workloads("demo")
    status = 0
    for name in patterns or list(DEMOS):
        lines = {variant: run() for variant, run in DEMOS[name](workloads[name]).items()}
        distinct = set(lines.values())
        if len(distinct) == 1:
            print(distinct.pop())
            if verbose:
                print(f"  (the same from: {', '.join(lines)})")
        else:
            status = 1
            print(f"{name}: the variants disagree:", file=sys.stderr)
            for variant, text in lines.items():
                print(f"  {variant}: {text}", file=sys.stderr)
    return status
