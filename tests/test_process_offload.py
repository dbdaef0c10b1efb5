"""The process_offload contract, run against every variant."""

from __future__ import annotations

import operator
import os
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import new_process_pool
from concurrency_patterns import processes as cp_processes
from concurrency_patterns.tools.workloads import fail_on, sleep_then_square, spin, worker_pid
from tests.conftest import ANYIO_CANCELS, Variant, stopped_by_anyio

pytestmark = pytest.mark.anyio


@pytest.fixture
def pool() -> Iterator[Executor]:
    with new_process_pool(2) as executor:
        yield executor


class Offload:
    """One variant's single-call and many-call functions, with the pool wired in."""

    def __init__(self, one: Any, many: Any, *, executor: bool, sync: bool = False) -> None:
        self.one, self.many, self.executor, self.sync = one, many, executor, sync

    async def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self.sync:
            return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))
        return await fn(*args, **kwargs)

    async def run(self, pool: Executor, fn: Any, *args: Any) -> Any:
        kwargs = {"executor": pool} if self.executor else {}
        return await self._call(self.one, fn, *args, **kwargs)

    async def run_all(self, pool: Executor, fn: Any, items: Any) -> Any:
        kwargs = {"executor": pool} if self.executor else {}
        return await self._call(self.many, fn, items, **kwargs)


ASYNCIO = Offload(cp_asyncio.offload, cp_asyncio.offload_all, executor=True)
ANYIO = Offload(cp_anyio.offload, cp_anyio.offload_all, executor=False)
ANYIO_ON = Offload(cp_anyio.offload, cp_anyio.offload_all, executor=True)  # on a given executor
SYNC = Offload(cp_processes.offload, cp_processes.offload_all, executor=True, sync=True)
ALL = [
    Variant("asyncio", ASYNCIO),
    Variant("anyio-asyncio", ANYIO),
    Variant("anyio-trio", ANYIO, backend="trio"),
    Variant("anyio-asyncio-executor", ANYIO_ON),
    Variant("anyio-trio-executor", ANYIO_ON, backend="trio"),
    Variant("sync", SYNC),
]


def offload(variant: Variant) -> Offload:
    return variant.fn  # type: ignore[no-any-return]


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_results_match_the_sequential_run(variant: Variant, pool: Executor) -> None:
    items = [1_000, 20_000, 0, 5_000, 77]
    assert await offload(variant).run_all(pool, spin, items) == [spin(item) for item in items]
    assert await offload(variant).run(pool, spin, 12_345) == spin(12_345)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_the_work_runs_in_other_processes(variant: Variant, pool: Executor) -> None:
    pids = set(await offload(variant).run_all(pool, worker_pid, range(8)))
    assert os.getpid() not in pids
    # The pool is reused: a second batch runs in the same few processes.
    pids |= set(await offload(variant).run_all(pool, worker_pid, range(8)))
    assert len(pids) <= os.cpu_count() if variant.fn is ANYIO else len(pids) <= 2  # type: ignore[operator]


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_an_exception_in_the_worker_reaches_the_caller(
    variant: Variant, pool: Executor,
) -> None:
    with pytest.raises(ValueError, match="job 3 is bad"):
        await offload(variant).run(pool, partial(fail_on, 3), 3)
    with pytest.raises(ValueError, match="job 2 is bad"):
        await offload(variant).run_all(pool, partial(fail_on, 2), range(5))


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_an_unpicklable_function_is_refused_before_anything_is_sent(
    variant: Variant, pool: Executor,
) -> None:
    def nested(x: int) -> int:
        return x

    for fn in (lambda x: x, nested):
        with pytest.raises(TypeError, match="fn must be picklable"):
            await offload(variant).run(pool, fn, 1)
        with pytest.raises(TypeError, match="fn must be picklable"):
            await offload(variant).run_all(pool, fn, [1])


@pytest.mark.parametrize("variant", [v for v in ALL if offload(v).executor], ids=str)
async def test_any_executor_is_accepted_and_a_non_executor_is_not(variant: Variant) -> None:
    with ThreadPoolExecutor(2) as threads:
        # A thread pool runs in this process: no pickling, so a lambda is fine there.
        assert await offload(variant).run(threads, lambda x: x + 1, 1) == 2  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"executor must be a concurrent\.futures\.Executor"):
        await offload(variant).run("pool", spin, 1)  # type: ignore[arg-type]


def mark_then_sleep(path: str, seconds: float) -> str:
    """A job that leaves a file behind when it starts, then takes *seconds*."""
    Path(path).touch()
    time.sleep(seconds)
    return path


def _wait_for_files(paths: list[Path]) -> None:
    while not all(p.exists() for p in paths):
        time.sleep(0.01)


def test_a_holding_pool_holds_each_job_until_a_worker_is_free(tmp_path: Path) -> None:
    marks = [tmp_path / str(i) for i in range(4)]
    with new_process_pool(1, hold_jobs=True) as pool:
        running = pool.submit(mark_then_sleep, str(marks[0]), 0.3)
        held = [pool.submit(mark_then_sleep, str(m), 0) for m in marks[1:]]
        _wait_for_files(marks[:1])
        # A plain ProcessPoolExecutor has already moved the next two jobs into its workers'
        # queue by now, and cancel() fails for them; this pool has handed over none.
        assert [f.cancel() for f in held[:2]] == [True, True]
        assert not running.cancel()  # started: it runs to its end
    assert running.result() == str(marks[0])
    assert held[2].result() == str(marks[3])
    assert [m.exists() for m in marks] == [True, False, False, True]


def test_a_holding_pool_runs_the_jobs_it_holds_before_it_closes(tmp_path: Path) -> None:
    marks = [tmp_path / str(i) for i in range(5)]
    with new_process_pool(1, hold_jobs=True) as pool:
        futures = [pool.submit(mark_then_sleep, str(m), 0.01) for m in marks]
    assert [f.result() for f in futures] == [str(m) for m in marks]
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(mark_then_sleep, str(marks[0]), 0)


def test_shutdown_with_cancel_futures_cancels_the_held_jobs(tmp_path: Path) -> None:
    marks = [tmp_path / str(i) for i in range(3)]
    pool = new_process_pool(1, hold_jobs=True)
    futures = [pool.submit(mark_then_sleep, str(m), 0.2) for m in marks]
    _wait_for_files(marks[:1])
    pool.shutdown(wait=True, cancel_futures=True)
    assert futures[0].result() == str(marks[0])
    assert [f.cancelled() for f in futures] == [False, True, True]
    assert [m.exists() for m in marks] == [True, False, False]


def test_an_error_in_a_held_job_reaches_its_caller() -> None:
    with new_process_pool(1, hold_jobs=True) as pool:
        futures = [pool.submit(fail_on, 3, i) for i in range(6)]
        outcomes = [f.exception() for f in futures]
    assert [type(e).__name__ if e else None for e in outcomes] == [
        None, None, None, "ValueError", None, None]


CANCELLABLE = [v for v in ALL if offload(v).executor and not offload(v).sync]


@pytest.mark.parametrize("hold_jobs", [True, False], ids=["hold_jobs", "queued-ahead"])
@pytest.mark.parametrize("variant", CANCELLABLE, ids=str)
async def test_cancelling_the_caller_drops_every_job_not_started(
    variant: Variant, hold_jobs: bool, tmp_path: Path,
) -> None:
    marks = [tmp_path / str(i) for i in range(10)]
    pool = new_process_pool(2, hold_jobs=hold_jobs)
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as tg:
            tg.start_soon(partial(offload(variant).run_all, pool,
                                  partial(mark_then_sleep, seconds=0.3), [str(m) for m in marks]))
            # Cancel once both workers run a job: the others have not started.
            await anyio.to_thread.run_sync(_wait_for_files, marks[:2])
            scope.cancel()
    pool.shutdown(wait=True)
    ran = [m.exists() for m in marks]
    if hold_jobs:  # none was on its way to a worker: only the two running ran
        assert ran == [True] * 2 + [False] * 8
    else:  # up to workers + 1 more were queued for the workers, and ran too
        assert ran[:2] == [True, True] and 2 <= sum(ran) <= 2 + 3
        assert ran == sorted(ran, reverse=True)  # in order: those queued first


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_cancelling_anyio_kills_the_worker_that_runs_the_call(backend: str) -> None:
    async def main() -> None:
        pid = await cp_anyio.offload(worker_pid)
        with anyio.move_on_after(0.2) as scope:
            await cp_anyio.offload(partial(sleep_then_square, seconds=30), 1)
        assert scope.cancelled_caught
        with anyio.fail_after(5):
            while os.path.exists(f"/proc/{pid}") and _state(pid) != "Z":
                await anyio.sleep(0.01)

    start = time.monotonic()
    anyio.run(main, backend=backend)
    assert time.monotonic() - start < 10


def _state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_anyio_on_an_executor_takes_no_limit(backend: str, pool: Executor) -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="limit"):
            await cp_anyio.offload_all(spin, [1], limit=2, executor=pool)

    anyio.run(main, backend=backend)


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_anyio_on_an_executor_takes_no_limiter(backend: str, pool: Executor) -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="limiter"):
            await cp_anyio.offload(spin, 1, limiter=anyio.CapacityLimiter(1), executor=pool)

    anyio.run(main, backend=backend)


class NotAnExecutor:
    """What a Dask Client looks like to the pool: it has submit(), but is no Executor."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, *args: Any) -> None:
        self.submitted += 1


@pytest.mark.parametrize("form", ["map", "map_stream"])
def test_the_process_pool_refuses_an_executor_that_is_not_one(form: str) -> None:
    fake = NotAnExecutor()
    with pytest.raises(TypeError, match=r"executor must be a concurrent\.futures\.Executor"):
        if form == "map":
            cp_processes.map(spin, [1, 2], executor=fake)  # type: ignore[arg-type]
        else:
            stream = cp_processes.map_stream(spin, [1, 2], executor=fake)  # type: ignore[arg-type]
            with stream as results:
                list(results)
    assert fake.submitted == 0


@pytest.mark.parametrize("workers", [0, -1, "2"])
def test_a_pool_needs_a_positive_worker_count(workers: Any) -> None:
    with pytest.raises((ValueError, TypeError), match="workers"):
        new_process_pool(workers)


def test_a_pool_refuses_a_hold_jobs_that_is_not_a_bool() -> None:
    with pytest.raises(TypeError, match="hold_jobs"):
        new_process_pool(1, hold_jobs=1)  # type: ignore[arg-type]


def test_a_plain_pool_queues_jobs_ahead_and_runs_them(tmp_path: Path) -> None:
    """Without hold_jobs, the pool moves jobs into its workers' queue ahead of time: a job
    there can no longer be cancelled. What a plain ProcessPoolExecutor does, at its speed."""
    marks = [tmp_path / str(i) for i in range(3)]
    with new_process_pool(1) as pool:
        first = pool.submit(mark_then_sleep, str(marks[0]), 2.0)
        queued = [pool.submit(mark_then_sleep, str(m), 0) for m in marks[1:]]
        # The next job is moved into the worker's queue (and counts as running) while the
        # first still runs; from then on it cannot be cancelled.
        deadline = time.monotonic() + 30
        while not queued[0].running() and not first.done() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert queued[0].running() and not first.done()
        assert not queued[0].cancel()
    assert first.result() == str(marks[0])
    assert queued[0].result() == str(marks[1])


def test_spin_returns_the_numbers_the_go_spin_returns() -> None:
    # go_equivalents/process_offload checks Spin against the same numbers: same work, both sides.
    assert {n: spin(n) for n in (0, 1, 10, 200000, 200003)} == {
        0: 0, 1: 0, 10: 364560, 200000: 796956, 200003: 644409,
    }


# --- the same calls on a Dask cluster ---------------------------------------------------------
# A Dask Client's get_executor() is a concurrent.futures.Executor, so every call above that
# takes an executor runs on a cluster unchanged. One LocalCluster of 2 worker processes serves
# this section (started once: about two seconds); set CONCURRENCY_PATTERNS_DASK_SCHEDULER to
# run it on a real cluster instead.

@pytest.fixture(scope="module")
def dask() -> Iterator[tuple[Any, Executor]]:
    pytest.importorskip("distributed")  # the [dask] extra: these tests skip without it
    from concurrency_patterns.tools.cluster import dask_executor

    with dask_executor() as (client, executor):
        yield client, executor


def _scheduler_pending(client: Any) -> int:
    """How many tasks the scheduler still means to run: waiting, queued or running. (Finished
    ones stay in memory while the executor holds their futures: it keeps every future it made
    until it is shut down.)"""
    def count(dask_scheduler: Any) -> int:
        return sum(ts.state not in ("memory", "erred", "forgotten")
                   for ts in dask_scheduler.tasks.values())
    return int(client.run_on_scheduler(count))


DASK = [v for v in ALL if offload(v).executor]  # every variant that takes an executor


@pytest.mark.parametrize("variant", DASK, ids=str)
async def test_dask_results_come_in_order(variant: Variant, dask: tuple[Any, Executor]) -> None:
    _, executor = dask
    items = [20_000, 0, 5_000, 77, 1_000, 3]
    assert await offload(variant).run_all(executor, spin, items) == [spin(i) for i in items]
    assert await offload(variant).run(executor, spin, 12_345) == spin(12_345)
    pids = set(await offload(variant).run_all(executor, worker_pid, range(8)))
    assert os.getpid() not in pids  # the cluster's worker processes did the work


@pytest.mark.parametrize("variant", DASK, ids=str)
async def test_a_dask_task_error_surfaces_with_its_type(
    variant: Variant, dask: tuple[Any, Executor],
) -> None:
    _, executor = dask
    with pytest.raises(ValueError, match="job 2 is bad"):
        await offload(variant).run_all(executor, partial(fail_on, 2), range(5))
    with pytest.raises(ValueError, match="job 3 is bad"):
        await offload(variant).run(executor, partial(fail_on, 3), 3)


@pytest.mark.parametrize("variant", DASK, ids=str)
async def test_a_lambda_is_refused_before_it_reaches_dask(
    variant: Variant, dask: tuple[Any, Executor],
) -> None:
    # Dask's cloudpickle would send a lambda; the check refuses it anyway, so that code which
    # works on a Dask executor also works on a process pool.
    _, executor = dask
    with pytest.raises(TypeError, match="fn must be picklable"):
        await offload(variant).run(executor, lambda x: x, 1)


@pytest.mark.parametrize("variant", [v for v in DASK if not offload(v).sync], ids=str)
async def test_cancelling_the_caller_cancels_the_dask_futures(
    variant: Variant, dask: tuple[Any, Executor],
) -> None:
    client, executor = dask
    with anyio.move_on_after(0.3) as scope:
        await offload(variant).run_all(executor, partial(sleep_then_square, seconds=0.2),
                                       range(40))
    assert scope.cancelled_caught
    # The scheduler drops every future the caller no longer wants: no task is left to run on
    # the cluster. (The two running then finish first: a worker cannot interrupt a Python call.)
    with anyio.fail_after(5):
        while await anyio.to_thread.run_sync(_scheduler_pending, client):
            await anyio.sleep(0.05)


def test_every_call_runs_even_when_the_arguments_repeat(dask: tuple[Any, Executor]) -> None:
    # Dask would run identical calls once and share the result; the executor here runs each,
    # as a process pool does (it matters for functions with side effects, and for benchmarks).
    _, executor = dask
    stamps = cp_processes.offload_all(partial(sleep_then_square, seconds=0.05), [3] * 6,
                              executor=executor)
    assert stamps == [9] * 6
    start = time.monotonic()
    cp_processes.offload_all(partial(sleep_then_square, seconds=0.2), [1] * 4, executor=executor)
    assert time.monotonic() - start >= 0.35  # four runs of 0.2 s on two workers, not one


def test_worker_pool_runs_on_a_dask_executor(dask: tuple[Any, Executor]) -> None:

    _, executor = dask
    assert cp_processes.map(spin, [1_000, 2_000, 3], executor=executor) == [
        spin(1_000), spin(2_000), spin(3)]


def test_a_killed_worker_s_jobs_are_run_again() -> None:
    # Kill one worker process while it runs jobs: Dask's nanny starts a new one, the scheduler
    # hands the lost jobs to a live worker, and the caller gets every result, in order. (A
    # cluster of its own: the new worker's threads must close with it.)
    import signal
    import threading

    pytest.importorskip("distributed")
    from concurrency_patterns.tools.cluster import dask_executor

    with dask_executor(workers=2) as (client, executor):
        pids = list(client.run(os.getpid).values())
        killer = threading.Timer(0.3, os.kill, args=(pids[0], signal.SIGKILL))
        killer.start()
        results = cp_processes.offload_all(partial(sleep_then_square, seconds=0.2), range(12),
                                   executor=executor)
        killer.join()
        assert results == [x * x for x in range(12)]
        client.wait_for_workers(2, timeout=30)  # the nanny brought it back


def test_the_cluster_closes_with_every_worker_process() -> None:
    # The autouse fixture fails this test if a worker process or thread outlives the block.
    pytest.importorskip("distributed")
    from concurrency_patterns.tools.cluster import dask_executor

    with dask_executor(workers=2) as (_, executor):
        assert cp_processes.offload_all(spin, [10, 20], executor=executor) == [spin(10), spin(20)]


def test_leaving_a_dask_stream_early_never_hangs(dask: tuple[Any, Executor]) -> None:
    """Jobs queued on the cluster and cancelled are not waited for: the block is left."""
    _, executor = dask
    for _ in range(3):
        with cp_processes.map_stream(operator.neg, range(10_000), executor=executor) as results:
            first = next(iter(results))
        assert first.value == -first.job


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
@pytest.mark.parametrize("form", ["offload", "offload_all"])
def test_the_asyncio_offload_stops_when_anyio_cancels_it(
    pool: Executor, form: str, how: str,
) -> None:
    """Waiting for a process as anyio cancels it (as under FastAPI): the call ends."""
    job = partial(sleep_then_square, seconds=1.0)

    def call() -> Any:
        if form == "offload":
            return cp_asyncio.offload(job, 2, executor=pool)
        return cp_asyncio.offload_all(job, range(6), executor=pool)
    assert stopped_by_anyio(call, how) < 30
