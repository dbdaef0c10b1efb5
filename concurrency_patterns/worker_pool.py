"""Worker pool: W workers take jobs from one feed and run a function on each.

Go writes it as a ``jobs`` channel read by W goroutines that write to a ``results``
channel; Python's classic is a ``multiprocessing.Pool``. Go adds ``errgroup``: the first
error cancels the shared context and is what ``Wait`` returns. Here the W workers pull from one
shared iterator — the feed plays the jobs channel — so a job list of any length (or an endless
async iterable) never turns into more than W tasks.

Every variant keeps the same contract:

* At most ``workers`` jobs run at once, and every job runs exactly once unless the call stops
  early.
* Results come back in **input order**, or with ``ordered=False`` in the order jobs finished.
* Errors follow **errgroup** by default: the first failing job stops the rest (async workers are
  cancelled; threads and processes start no new job) and ``JobError`` is raised, naming the
  job, with the original exception as ``__cause__``. With ``return_exceptions=True`` — as in
  ``asyncio.gather`` — every job runs and a failing job's slot holds its ``JobError``.
* If reading ``jobs`` itself raises, the pool stops as on a failing job and that exception is
  raised as it is (it belongs to no job), even with ``return_exceptions=True``.
* Cancelling an async call cancels every worker before it returns.

Which to pick: ``map_anyio`` for async code (asyncio or trio); ``map_asyncio`` if you
are on asyncio and want no dependency; ``map_threads`` for blocking I/O in sync code;
``map_processes`` for CPU-bound work, which threads cannot speed up under the GIL.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import ExitStack
from typing import Any, Generic, TypeVar

import anyio

from ._core import (
    JobError,
    check_callable,
    check_picklable,
    check_positive_int,
    new_process_pool,
    unwrap_group,
)

__all__ = [
    "JobError",
    "map_anyio",
    "map_asyncio",
    "map_processes",
    "map_threads",
]

J = TypeVar("J")
R = TypeVar("R")


class _Feed(Generic[J, R]):
    """The jobs channel and the results slots, shared by the workers of one call."""

    def __init__(self, jobs: Iterable[J] | AsyncIterable[J], return_exceptions: bool) -> None:
        self._sync: Iterator[J] | None = None
        self._async: AsyncIterator[J] | None = None
        if isinstance(jobs, AsyncIterable):
            self._async = aiter(jobs)
        else:
            self._sync = iter(jobs)
        self._count = 0
        self._return_exceptions = return_exceptions
        self.by_index: dict[int, R | JobError] = {}
        self.by_completion: list[R | JobError] = []

    def next_sync(self) -> tuple[int, J] | None:
        """The next (index, job), or ``None`` when the feed is dry (caller holds any lock)."""
        assert self._sync is not None
        job = next(self._sync, _DRY)
        if job is _DRY:
            return None
        self._count += 1
        return self._count - 1, job

    async def next_async(self) -> tuple[int, J] | None:
        if self._async is None:
            return self.next_sync()
        try:
            job = await anext(self._async)
        except StopAsyncIteration:
            return None
        self._count += 1
        return self._count - 1, job

    @property
    def needs_lock(self) -> bool:
        # Two tasks must not be inside one async generator's __anext__ at once; a plain
        # iterator is only touched between awaits, so asyncio's single thread is enough.
        return self._async is not None

    def record(self, index: int, job: J, value: R | None, exc: BaseException | None) -> None:
        """Store a job's outcome, or raise its JobError when errors are not collected."""
        outcome: R | JobError | None = value
        if exc is not None:
            outcome = JobError(index, job, exc)
            if not self._return_exceptions:
                raise outcome from exc
        self.by_index[index] = outcome  # type: ignore[assignment]  # R may include None
        self.by_completion.append(outcome)  # type: ignore[arg-type]

    def results(self, ordered: bool) -> list[Any]:
        if not ordered:
            return self.by_completion
        return [self.by_index[i] for i in range(len(self.by_index))]


_DRY: Any = object()


async def _async_worker(
    feed: _Feed[J, R], fn: Callable[[J], Awaitable[R]], lock: Any,
) -> None:
    while True:
        if lock is None:
            nxt = await feed.next_async()
        else:
            async with lock:
                nxt = await feed.next_async()
        if nxt is None:
            return
        index, job = nxt
        try:
            value = await fn(job)
        except Exception as exc:  # Exception only: cancellation must pass through
            feed.record(index, job, None, exc)
        else:
            feed.record(index, job, value, None)


def _check(fn: object, jobs: object, workers: object) -> None:
    check_callable("fn", fn)
    if not isinstance(jobs, Iterable | AsyncIterable):
        raise TypeError(f"jobs must be an iterable of jobs, got {type(jobs).__name__}")
    check_positive_int("workers", workers)


def _raise_first_job_error(group: BaseExceptionGroup[Any]) -> None:
    # A job's error arrives as a JobError; any other Exception came from the feed itself
    # (``jobs`` raised while being read) and is raised as it is, as map_processes does.
    error = unwrap_group(group, Exception)
    if error is None:  # cancellation, KeyboardInterrupt: nothing of ours to unwrap
        raise group
    raise error from error.__cause__


# --8<-- [start:asyncio]
async def map_asyncio(
    fn: Callable[[J], Awaitable[R]], jobs: Iterable[J] | AsyncIterable[J], *,
    workers: int = 4, ordered: bool = True, return_exceptions: bool = False,
) -> list[Any]:
    """Run ``await fn(job)`` for every job on *workers* asyncio tasks.

    *workers* tasks pull jobs from the feed one at a time, so a long or endless feed never
    becomes more than *workers* tasks. Cancelling the call cancels every worker before the
    cancellation goes on; an error in the feed itself is raised as it is.

    Args:
        fn: an async function of one job.
        jobs: an iterable or async iterable of jobs; it is read lazily, one job per free worker.
        workers: how many jobs run at once (>= 1).
        ordered: results in input order (default), or in the order jobs finished.
        return_exceptions: keep going after a failure; the failing job's slot holds its
            ``JobError``.

    Returns:
        One result per job.

    Raises:
        JobError: the first job that failed (unless ``return_exceptions``); the rest were
            cancelled.
        TypeError, ValueError: for bad arguments, before any job starts.
    """
    _check(fn, jobs, workers)
    feed: _Feed[J, R] = _Feed(jobs, return_exceptions)
    lock = asyncio.Lock() if feed.needs_lock else None
    try:
        async with asyncio.TaskGroup() as tg:
            for _ in range(workers):
                tg.create_task(_async_worker(feed, fn, lock))
    except BaseExceptionGroup as group:
        _raise_first_job_error(group)
    return feed.results(ordered)
# --8<-- [end:asyncio]


# --8<-- [start:anyio]
async def map_anyio(
    fn: Callable[[J], Awaitable[R]], jobs: Iterable[J] | AsyncIterable[J], *,
    workers: int = 4, ordered: bool = True, return_exceptions: bool = False,
) -> list[Any]:
    """Run ``await fn(job)`` for every job on *workers* anyio tasks, on asyncio or trio.

    Arguments, results and errors as ``map_asyncio``.
    """
    _check(fn, jobs, workers)
    feed: _Feed[J, R] = _Feed(jobs, return_exceptions)
    lock = anyio.Lock() if feed.needs_lock else None
    try:
        async with anyio.create_task_group() as tg:
            for _ in range(workers):
                tg.start_soon(_async_worker, feed, fn, lock)
    except BaseExceptionGroup as group:
        _raise_first_job_error(group)
    return feed.results(ordered)
# --8<-- [end:anyio]


# --8<-- [start:threads]
def map_threads(
    fn: Callable[[J], R], jobs: Iterable[J], *,
    workers: int = 4, ordered: bool = True, return_exceptions: bool = False,
) -> list[Any]:
    """Run ``fn(job)`` for every job on *workers* threads.

    A running thread cannot be cancelled: after the first failure no new job starts, the jobs
    already running finish, and then ``JobError`` is raised. Every thread has ended by
    the time this returns. Arguments and results as ``map_asyncio``, with a plain function.
    """
    _check(fn, jobs, workers)
    if isinstance(jobs, AsyncIterable):
        raise TypeError("jobs must be a plain iterable for threads, not an async iterable")
    feed: _Feed[J, R] = _Feed(jobs, return_exceptions)
    lock = threading.Lock()  # guards the feed and the result slots
    failures: list[Exception] = []  # the first ends the call; the workers stop taking jobs

    def worker() -> None:
        while not failures:
            with lock:
                try:
                    nxt = feed.next_sync()
                except Exception as exc:  # the feed itself failed: stop, and raise it as is
                    failures.append(exc)
                    return
            if nxt is None:
                return
            index, job = nxt
            value: R | None = None
            error: Exception | None = None
            try:
                value = fn(job)
            except Exception as exc:
                error = exc
            with lock:
                try:
                    feed.record(index, job, value, error)
                except JobError as job_error:
                    failures.append(job_error)

    threads = [threading.Thread(target=worker, name=f"worker-{i}") for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return feed.results(ordered)
# --8<-- [end:threads]


# --8<-- [start:processes]
def map_processes(
    fn: Callable[[J], R], jobs: Iterable[J], *,
    workers: int = 2, ordered: bool = True, return_exceptions: bool = False,
    executor: Executor | None = None,
) -> list[Any]:
    """Run ``fn(job)`` for every job in a pool of *workers* processes.

    *fn*, the jobs and the results cross process boundaries, so they must be picklable; an
    unpicklable *fn* (a lambda, a nested function) is refused with ``TypeError`` before anything
    is submitted. At most ``2 * workers`` jobs are submitted ahead, so a long iterable is read
    lazily and an error stops the feed early. After the first failure, the jobs the pool has not
    yet handed to a worker are cancelled; the ones handed over (up to ``workers + 1``) finish.

    Args:
        executor: a pool to reuse (it is not shut down). By default a pool from
            ``new_process_pool`` is started for this
            call and shut down before it returns; starting one costs tens of milliseconds, so
            pass your own when you call this often.

    Other arguments and results as ``map_asyncio``.
    """
    _check(fn, jobs, workers)
    check_picklable("fn", fn)
    if isinstance(jobs, AsyncIterable):
        raise TypeError("jobs must be a plain iterable for processes, not an async iterable")
    feed: _Feed[J, R] = _Feed(jobs, return_exceptions)
    with ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(new_process_pool(workers))
        running: dict[Future[R], tuple[int, J]] = {}
        try:
            while True:
                # Keep the pool busy, with a short queue of jobs ready for the next free worker.
                while len(running) < 2 * workers and (nxt := feed.next_sync()) is not None:
                    running[executor.submit(fn, nxt[1])] = nxt
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    index, job = running.pop(future)
                    error = future.exception()
                    feed.record(index, job, None if error else future.result(), error)
        finally:
            for future in running:  # on an error: drop what has not started
                future.cancel()
            wait(running)
    return feed.results(ordered)
# --8<-- [end:processes]
