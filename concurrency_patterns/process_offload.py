"""Process offload: run CPU-bound functions in other processes, from async or sync code.

CPython runs Python bytecode in one thread at a time (the GIL), so threads do not make
CPU-bound Python faster, and a CPU-bound call inside an event loop freezes every other task.
The way out is another process — each has its own interpreter and its own GIL — reached from
async code with ``loop.run_in_executor(process_pool, fn, *args)``. Go needs none of this:
goroutines run on every core (``GOMAXPROCS``). Nor does free-threaded CPython (3.13t, built
with ``--disable-gil``), where threads run Python on every core; the docs measure it.

Which to pick:

* ``anyio.offload`` — ``anyio.to_process.run_sync``, on asyncio or trio. anyio keeps a pool
  of worker processes per event loop, reuses them, and **kills** the worker running a call that
  is cancelled (a timeout, a cancelled task), so nothing runs on for a caller that gave up.
* ``asyncio.offload`` — ``run_in_executor`` with any ``concurrent.futures.Executor`` you own,
  typically a ``new_process_pool`` reused for the life of the program. A cancelled call drops
  the jobs that have not started; the running ones finish and their results are discarded.
  A pool moves up to ``max_workers + 1`` jobs into its workers' queue ahead of time, and
  those run too; a ``new_process_pool(hold_jobs=True)`` hands a job to a worker process only
  when one is free, so a job that has not started never runs.
* ``processes.offload`` — the same from plain synchronous code.

The contract, for every variant:

* **Bad input**: an unpicklable function (a lambda, a nested function) is refused with
  ``TypeError`` naming ``fn`` before anything is submitted; so is an ``executor`` that is not
  a ``concurrent.futures.Executor``.
* **Errors**: the exception ``fn`` raised in the worker is raised to the caller, as itself.
  The ``offload_all`` calls raise the first one after cancelling the jobs not yet started.
* **Cancellation**: see each function; anyio kills running workers, an executor cannot.
* **Cost**: arguments and results cross the process boundary by pickling, so send small
  things: a job that ships a large array both ways can cost more than it saves.
* **Nothing outlives its pool**: ``new_process_pool`` is a context manager whose exit waits
  for the workers, and anyio's workers end with the event loop.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple

from ._core import (
    check_callable,
    check_picklable,
    check_positive_int,
    new_process_pool,
    unwrap_group,
)
from ._core.lazy import lazy

if TYPE_CHECKING:
    import asyncio

    import anyio
    import anyio.to_process
else:
    anyio = lazy(globals(), "anyio", "anyio.to_process")
    asyncio = lazy(globals(), "asyncio")

__all__ = [
    "new_process_pool",
    "offload_all_anyio",
    "offload_all_asyncio",
    "offload_all_sync",
    "offload_anyio",
    "offload_asyncio",
    "offload_sync",
]

Ts = TypeVarTuple("Ts")  # the arguments a function is started with

R = TypeVar("R")


def _check_offload(fn: object, executor: object) -> None:
    if not isinstance(executor, Executor):
        raise TypeError(
            f"executor must be a concurrent.futures.Executor, got {type(executor).__name__}"
        )
    # A thread pool runs the function in this process; anything else may need to pickle it.
    if isinstance(executor, ThreadPoolExecutor):
        check_callable("fn", fn)
    else:
        check_picklable("fn", fn)


async def offload_asyncio(fn: Callable[[*Ts], R], *args: *Ts, executor: Executor) -> R:
    """Run ``fn(*args)`` on *executor* and await the result without blocking the loop.

    Cancelling the caller cancels the job if it has not started; a job already running in a
    worker cannot be stopped, so it finishes and its result is discarded. (A pool queues a
    few jobs for its workers ahead of time, and a job queued there counts as started; a
    ``new_process_pool(hold_jobs=True)`` queues none.)

    Args:
        fn: a module-level function (picklable, unless *executor* is a thread pool).
        *args: its arguments, pickled to the worker.
        executor: any ``concurrent.futures.Executor``, usually a ``new_process_pool``. It is
            not shut down.

    Returns:
        What ``fn(*args)`` returned.

    Raises:
        TypeError: *fn* is not picklable, or *executor* is not an Executor (before anything
            is submitted).
        Exception: whatever ``fn`` raised in the worker, as itself.
    """
    _check_offload(fn, executor)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, fn, *args)


async def offload_all_asyncio(
    fn: Callable[[Any], R], items: Iterable[Any], *, executor: Executor,
) -> list[R]:
    """Run ``fn(item)`` for every item on *executor*, all submitted at once; results in order.

    On the first exception, or when the caller is cancelled, the jobs not yet started are
    cancelled, and the call waits for the running ones to finish before it raises: no work
    is left behind. A pool also runs the up to ``max_workers + 1`` jobs it had queued for its
    workers; a ``new_process_pool(hold_jobs=True)`` queues none.

    Args:
        fn: a module-level function of one item (picklable, unless *executor* is a thread
            pool).
        items: the items; every one is submitted at once.
        executor: any ``concurrent.futures.Executor``; it is not shut down.

    Returns:
        ``fn(item)`` for each item, in input order.

    Raises:
        TypeError: *fn* is not picklable, or *executor* is not an Executor.
        Exception: the first exception a job raised, as itself.
    """
    _check_offload(fn, executor)
    loop = asyncio.get_running_loop()
    futures = [loop.run_in_executor(executor, fn, item) for item in items]
    try:
        return await asyncio.gather(*futures)
    except BaseException:
        for future in futures:
            future.cancel()
        await asyncio.gather(*futures, return_exceptions=True)
        raise


async def offload_anyio(
    fn: Callable[[*Ts], R], *args: *Ts, limiter: anyio.CapacityLimiter | None = None,
    executor: Executor | None = None,
) -> R:
    """Run ``fn(*args)`` in one of anyio's worker processes, on asyncio or trio.

    Cancellation (a ``fail_after`` timeout, a cancelled task group) kills the worker process
    that runs the call, so nothing runs on for a caller that gave up; anyio starts a fresh
    worker when one is next needed. The workers belong to the event loop and end with it.

    With *executor* — any ``concurrent.futures.Executor``: a process pool, a Dask client's
    ``get_executor()`` — the call runs there instead, and cancellation cancels its future:
    a call not yet started never starts, one already running finishes (an executor cannot
    stop it).

    Args:
        fn: a module-level function.
        *args: its arguments, pickled to the worker.
        limiter: caps how many calls run at once; by default anyio's, one per CPU. Not with
            *executor*, whose own size is the cap.
        executor: run the call on this executor rather than in anyio's workers.

    Returns:
        What ``fn(*args)`` returned.

    Raises:
        TypeError: *fn* is not picklable, or *executor* is not an Executor (before anything
            starts).
        Exception: whatever ``fn`` raised in the worker, as itself.
    """
    if executor is not None:
        if limiter is not None:
            raise ValueError("limiter caps anyio's own pool: with an executor, size that")
        _check_offload(fn, executor)
        return await _wait_for(executor.submit(fn, *args))
    check_picklable("fn", fn)
    await _start_workers(1, limiter)
    return await anyio.to_process.run_sync(fn, *args, cancellable=True, limiter=limiter)


async def offload_all_anyio(
    fn: Callable[[Any], R], items: Iterable[Any], *, limit: int | None = None,
    executor: Executor | None = None,
) -> list[R]:
    """Run ``fn(item)`` for every item in anyio worker processes; results in order.

    The first exception cancels the calls still running (killing their workers) and is
    raised; so does cancelling the caller. With *executor*, the calls run there, all
    submitted at once, and cancelling cancels their futures, as in ``anyio.offload``.

    Args:
        fn: a module-level function of one item.
        items: the items.
        limit: how many run at once (>= 1); by default anyio's limit, one per CPU. Not
            with *executor*, whose own size is the cap.
        executor: run the calls on this executor rather than in anyio's workers.

    Returns:
        ``fn(item)`` for each item, in input order.

    Raises:
        TypeError, ValueError: *fn* is not picklable, *limit* is not an int >= 1, or
            *executor* is not an Executor.
        Exception: the first exception a job raised, as itself.
    """
    if executor is not None:
        _check_offload(fn, executor)
        if limit is not None:
            raise ValueError("limit sizes anyio's own pool: with an executor, size that")
        futures = [executor.submit(fn, item) for item in items]
        try:
            return [await _wait_for(future) for future in futures]
        finally:
            for future in futures:  # after an error or a cancellation: none still to start
                future.cancel()
    check_picklable("fn", fn)
    limiter = None
    if limit is not None:
        limiter = anyio.CapacityLimiter(check_positive_int("limit", limit))
    jobs = list(items)
    results: list[Any] = [None] * len(jobs)
    tokens = (limiter or anyio.to_process.current_default_process_limiter()).total_tokens
    await _start_workers(min(len(jobs), int(tokens)), limiter)

    async def one(index: int, item: Any) -> None:
        results[index] = await anyio.to_process.run_sync(
            fn, item, cancellable=True, limiter=limiter
        )

    try:
        async with anyio.create_task_group() as tg:
            for index, item in enumerate(jobs):
                tg.start_soon(one, index, item)
    except BaseExceptionGroup as group:
        first = unwrap_group(group, Exception)
        if first is None:
            raise
        raise first from None
    return results


async def _start_workers(count: int, limiter: anyio.CapacityLimiter | None) -> None:
    """Make sure *count* of anyio's worker processes are running, without being cancelled.

    anyio kills a worker whose call is cancelled — but not one cancelled while it is still
    starting: that process is dropped alive, an orphan. So workers are started here first,
    shielded from cancellation (a cancellation that arrives meanwhile takes effect right after),
    and the calls that follow find them ready, in the phase where cancelling kills cleanly.
    """
    with anyio.CancelScope(shield=True):
        async with anyio.create_task_group() as tg:
            for _ in range(count):
                tg.start_soon(partial(anyio.to_process.run_sync, _ready, limiter=limiter))


def _call_soon_threadsafe() -> Callable[[Callable[[], object]], object]:
    """The running event loop's way to run a function soon, called from another thread."""
    aio = sys.modules.get("asyncio")  # not imported: not on asyncio
    if aio is not None:
        with suppress(RuntimeError):
            return aio.get_running_loop().call_soon_threadsafe  # type: ignore[no-any-return]
    import trio  # the only other backend anyio runs on

    return trio.lowlevel.current_trio_token().run_sync_soon


def _ready() -> None:
    """The no-op each starting worker runs: it proves the worker is up."""


async def _wait_for(future: Future[R]) -> R:
    """The result of a ``concurrent.futures`` future, awaited on asyncio or trio without a
    thread; a caller cancelled while it waits cancels the future."""
    done = anyio.Event()
    call_soon = _call_soon_threadsafe()
    loop_thread = threading.get_ident()

    def wake(_: Future[R]) -> None:
        # Called in whatever thread finished the future: the pool's own thread, which must
        # not wait for the event loop. (anyio.from_thread.run_sync would wait: a loop blocked
        # in pool.shutdown(), which waits for that thread, would never return.)
        if threading.get_ident() == loop_thread:
            done.set()
            return
        with suppress(RuntimeError):  # the event loop is gone: nobody waits any more
            call_soon(done.set)

    future.add_done_callback(wake)
    try:
        await done.wait()
    except BaseException:
        future.cancel()  # not started yet: it never will be
        raise
    return future.result()


def offload_sync(fn: Callable[[*Ts], R], *args: *Ts, executor: Executor) -> R:
    """Run ``fn(*args)`` on *executor* from synchronous code and wait for the result.

    Args:
        fn: a module-level function (picklable, unless *executor* is a thread pool).
        *args: its arguments.
        executor: any ``concurrent.futures.Executor``; it is not shut down.

    Returns:
        What ``fn(*args)`` returned.

    Raises:
        TypeError: *fn* is not picklable, or *executor* is not an Executor.
        Exception: whatever ``fn`` raised in the worker, as itself.
    """
    _check_offload(fn, executor)
    return executor.submit(fn, *args).result()


def offload_all_sync(
    fn: Callable[[Any], R], items: Iterable[Any], *, executor: Executor,
) -> list[R]:
    """Run ``fn(item)`` for every item on *executor*; results in order.

    On the first exception (or a ``KeyboardInterrupt`` while waiting), the jobs not yet
    started are cancelled before it is raised; jobs already running finish in their workers.

    Args:
        fn: a module-level function of one item (picklable, unless *executor* is a thread
            pool).
        items: the items; every one is submitted at once.
        executor: any ``concurrent.futures.Executor``; it is not shut down.

    Returns:
        ``fn(item)`` for each item, in input order.

    Raises:
        TypeError: *fn* is not picklable, or *executor* is not an Executor.
        Exception: the first exception a job raised, in input order, as itself.
    """
    _check_offload(fn, executor)
    futures = [executor.submit(fn, item) for item in items]
    try:
        return [future.result() for future in futures]
    finally:
        for future in futures:
            future.cancel()
