"""Worker pool: W workers take jobs from one feed and run a function on each.

Go writes it as a ``jobs`` channel read by W goroutines that write to a ``results`` channel;
Python's classic is a ``multiprocessing.Pool``. Go adds ``errgroup``: the first error cancels
the shared context and is what ``Wait`` returns. Here the W workers pull from one shared
iterator — the feed plays the jobs channel — so a job list of any length, a lazy generator of
millions, or an endless async iterable never turns into more than W tasks.

Every variant comes in two forms:

* ``map`` returns the list of results, in **input order** (or, with ``ordered=False``, in
  the order jobs finished);
* ``map_stream`` is a context manager that yields the results **as they finish**, each a
  ``Completed`` carrying its input ``index``, with at most ``limit`` jobs running and at
  most ``limit`` results waiting for you: memory stays flat however long the feed. Leaving
  the block early (``break``, an exception, a cancellation) stops the workers first:

  ```python
  async with stream_anyio(fetch_page, urls(), limit=32) as results:
      async for done in results:
          print(done.index, done.value)
  ```

The contract, for every variant and both forms:

* At most ``limit`` jobs run at once, and every job runs exactly once unless the call stops
  early.
* Errors follow **errgroup** by default: the first failing job stops the rest (async workers are
  cancelled; threads and processes start no new job) and ``JobError`` is raised, naming the
  job, with the original exception as ``__cause__``. With ``return_exceptions=True`` — as in
  ``asyncio.gather`` — every job runs and a failing job's result holds its ``JobError``.
* If reading ``jobs`` itself raises, the pool stops as on a failing job and that exception is
  raised as it is (it belongs to no job), even with ``return_exceptions=True``.
* Cancelling an async call cancels every worker before the cancellation goes on.
* An async generator given as the feed is closed (``aclose()``) before the call returns
  when the call stops reading it early; pass ``(x async for x in gen)`` to keep ``gen`` open.

Which to pick: ``anyio.map`` / ``anyio.map_stream`` for async code (asyncio or trio);
``asyncio.map`` if you are on asyncio and want no dependency; ``threads.map`` for blocking
I/O in sync code; ``processes.map`` for CPU-bound work, which threads cannot speed up under
the GIL.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import ExitStack, asynccontextmanager, contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, Union, overload

from ._core import (
    JobError,
    check_callable,
    check_picklable,
    check_positive_int,
    new_process_pool,
    rate,
)
from ._core import retry as retrying
from ._core import workers as engine
from ._core.lazy import lazy

if TYPE_CHECKING:
    import asyncio

    import anyio
else:
    anyio = lazy(globals(), "anyio")
    asyncio = lazy(globals(), "asyncio")

__all__ = [
    "Completed",
    "JobError",
    "map_anyio",
    "map_asyncio",
    "map_processes",
    "map_threads",
    "stream_anyio",
    "stream_asyncio",
    "stream_processes",
    "stream_threads",
]

J = TypeVar("J")
R = TypeVar("R")
RetryOn = Union[  # noqa: UP007 - a runtime alias, read on Python 3.11 too
    type[BaseException], Iterable[type[BaseException]], Callable[[Exception], bool], None]


@dataclass(frozen=True, slots=True)
class Completed(Generic[J, R]):
    """One finished job, as ``map_stream`` yields it.

    Attributes:
        index: the job's position in the feed (0 for the first job read).
        job: the job itself.
        value: what ``fn(job)`` returned; with ``return_exceptions=True``, a failing job's
            ``JobError``.
        attempts: how many times the job ran (1 without retries).
        retry_reasons: why each retry happened, one entry per retry
            (``"ConnectionError: reset"``).
    """

    index: int
    job: J
    value: R | JobError
    attempts: int = 1
    retry_reasons: tuple[str, ...] = ()


def _check(fn: object, jobs: object, limit: object, *, sync: bool = False) -> None:
    check_callable("fn", fn)
    if isinstance(jobs, str | bytes) or not isinstance(jobs, Iterable | AsyncIterable):
        raise TypeError(f"jobs must be an iterable of jobs, got {type(jobs).__name__}")
    if sync and not isinstance(jobs, Iterable):
        raise TypeError("jobs must be a plain iterable here, not an async iterable")
    check_positive_int("limit", limit)


class _Results:
    """The list form: results by input index, or in the order they finished."""

    def __init__(self, ordered: bool) -> None:
        self._ordered = ordered
        self._by_index: dict[int, Any] = {}
        self._in_order: list[Any] = []

    def add(self, index: int, job: object, value: object) -> None:
        if isinstance(value, _Tried):
            value = value.value
        if self._ordered:
            self._by_index[index] = value
        else:
            self._in_order.append(value)

    def results(self) -> list[Any]:
        if not self._ordered:
            return self._in_order
        return [self._by_index[i] for i in range(len(self._by_index))]


def _on_error(return_exceptions: bool) -> Callable[[int, Any, Exception], JobError]:
    """A failing job: its JobError in place of a result, or raised (errgroup)."""
    def on_error(index: int, job: object, exc: Exception) -> JobError:
        if isinstance(exc, retrying.Exhausted):
            error = JobError(index, job, exc.cause, attempts=exc.attempts,
                             retry_reasons=exc.reasons)
            exc = exc.cause
        else:
            error = JobError(index, job, exc)
        if not return_exceptions:
            raise error from exc
        return error

    return on_error


class _Tried:
    """A job's value after retries, with its attempts: unwrapped before anyone sees it."""

    __slots__ = ("attempts", "reasons", "value")

    def __init__(self, value: object, attempts: int, reasons: tuple[str, ...]) -> None:
        self.value, self.attempts, self.reasons = value, attempts, reasons


def _completed_as(policy: retrying.Policy | None) -> Callable[[int, Any, Any], Completed[Any, Any]]:
    """What the stream yields for a finished job: ``Completed``, with its attempts when
    retries are on."""
    if policy is None:
        return Completed

    def completed(index: int, job: object, value: object) -> Completed[Any, Any]:
        if isinstance(value, _Tried):
            return Completed(index, job, value.value, value.attempts, value.reasons)
        if isinstance(value, JobError):
            return Completed(index, job, value, value.attempts, value.retry_reasons)
        return Completed(index, job, value)

    return completed


def _async_work(
    fn: Callable[[J], Awaitable[R]], pace: rate.Gcra | None,
    acquire: Callable[[rate.Gcra], Awaitable[None]], policy: retrying.Policy | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> Callable[[], Any]:
    if pace is None and policy is None:
        # A lambda returns fn's coroutine as it is: no extra frame per job.
        return lambda: nullcontext(lambda index, job: fn(job))
    paced = None if pace is None else partial(acquire, pace)  # each attempt waits its slot
    if policy is None:
        assert paced is not None
        wait = paced

        async def run(index: int, job: J) -> R:
            await wait()  # each job waits for its slot, first come first served
            return await fn(job)

        return lambda: nullcontext(run)
    retry = policy
    assert sleep is not None

    async def retried(index: int, job: J) -> Any:
        value, attempts, reasons = await retrying.call_async(fn, job, retry, sleep, paced)
        return _Tried(value, attempts, reasons) if attempts > 1 else value

    return lambda: nullcontext(retried)


def _sync_work(fn: Callable[[J], R], pace: rate.Gcra | None,
               policy: retrying.Policy | None = None) -> Callable[[], Any]:
    if pace is None and policy is None:
        return lambda: nullcontext(lambda index, job: fn(job))
    paced = None if pace is None else partial(rate.acquire_threads, pace, threading.Lock())
    retry = policy

    def run(index: int, job: J) -> Any:
        if retry is None:
            assert paced is not None
            paced()
            return fn(job)
        value, attempts, reasons = retrying.call_sync(fn, job, retry, paced)
        return _Tried(value, attempts, reasons) if attempts > 1 else value

    return lambda: nullcontext(run)


@overload
async def map_asyncio(
    fn: Callable[[J], Awaitable[R]], jobs: Iterable[J] | AsyncIterable[J], *,
    limit: int = ..., ordered: bool = ..., max_per_second: float | None = ...,
    retries: int = ..., retry_on: RetryOn = ..., retry_budget: float | None = ...,
    return_exceptions: Literal[False] = ...,
) -> list[R]: ...
@overload
async def map_asyncio(
    fn: Callable[[J], Awaitable[R]], jobs: Iterable[J] | AsyncIterable[J], *,
    limit: int = ..., ordered: bool = ..., max_per_second: float | None = ...,
    retries: int = ..., retry_on: RetryOn = ..., retry_budget: float | None = ...,
    return_exceptions: Literal[True],
) -> list[R | JobError]: ...
@overload
async def map_asyncio(
    fn: Callable[[J], Awaitable[R]], jobs: Iterable[J] | AsyncIterable[J], *,
    limit: int = ..., ordered: bool = ..., max_per_second: float | None = ...,
    retries: int = ..., retry_on: RetryOn = ..., retry_budget: float | None = ...,
    return_exceptions: bool,
) -> list[R] | list[R | JobError]: ...


async def map_asyncio(
    fn: Callable[[J], Awaitable[R]], jobs: Iterable[J] | AsyncIterable[J], *,
    limit: int = 4, ordered: bool = True, return_exceptions: bool = False,
    max_per_second: float | None = None,
    retries: int = 0, retry_on: RetryOn = None, retry_budget: float | None = 0.2,
) -> list[R] | list[R | JobError]:
    """Run ``await fn(job)`` for every job on *limit* asyncio tasks; return the results.

    *limit* tasks pull jobs from the feed one at a time, so a long or endless feed never
    becomes more than *limit* tasks. The first failing job cancels the others, as Go's
    errgroup does, unless *return_exceptions*. Cancelling the call cancels every worker before
    the cancellation goes on; an error in the feed itself is raised as it is.

    Args:
        fn: an async function of one job.
        jobs: an iterable or async iterable of jobs; it is read lazily, one job per free worker.
        limit: how many jobs run at once (>= 1).
        return_exceptions: keep going after a failure; the failing job's result holds its
            ``JobError``.
        max_per_second: start at most this many jobs a second (> 0), one at a time in the
            order they were read (``RateLimiter``'s arithmetic, burst 1). ``None``: no limit.
        retries: how many more times to run a job that failed (>= 0; 0 by default), after
            an exponential backoff with full jitter (up to 10 s). Each attempt counts against
            *limit* and *max_per_second*.
        retry_on: which failures are retried: exception types, or a predicate given the
            exception. ``None`` (the default): any ``Exception``.
        retry_budget: the share of first attempts retries may add (>= 0; 0.2, 20 %, by
            default), plus 10 retries a call always has, so a failing dependency is not hit
            with N times the work. ``None``: no budget.
        ordered: results in input order (default), or in the order jobs finished.

    Returns:
        One result per job, in input order unless ``ordered=False``; with
        ``return_exceptions=True`` a failing job's place holds its ``JobError``.

    Raises:
        JobError: the first job that failed (unless ``return_exceptions``), naming it; its
            exception is ``__cause__``.
        TypeError, ValueError: for bad arguments, before any job starts.
    """
    pace = rate.limiter(max_per_second)
    policy = retrying.job_policy(retries, retry_on, retry_budget)
    _check(fn, jobs, limit)
    results = _Results(ordered)
    await engine.gather_asyncio(engine.Feed(jobs), limit,
                                _async_work(fn, pace, rate.acquire_asyncio, policy, asyncio.sleep),
                                _on_error(return_exceptions), results.add)
    return results.results()


@asynccontextmanager
async def stream_asyncio(
    fn: Callable[[J], Awaitable[R]], jobs: Iterable[J] | AsyncIterable[J], *,
    limit: int = 4, return_exceptions: bool = False, max_per_second: float | None = None,
    retries: int = 0, retry_on: RetryOn = None, retry_budget: float | None = 0.2,
) -> AsyncIterator[AsyncIterator[Completed[J, R]]]:
    """``async with map_stream(fn, jobs) as results:`` yields each job as it finishes.

    *limit* asyncio tasks pull jobs from the feed, as ``map`` does, but the results come out
    as they finish: at most *limit* jobs run and at most *limit* results wait to be read, so
    memory stays flat however long the feed; a reader that falls behind holds the workers
    back. Leaving the block early (``break``, an exception, a cancellation) cancels the
    workers before the block is left.

    Args:
        fn: an async function of one job.
        jobs: an iterable or async iterable of jobs; it is read lazily, one job per free worker.
        limit: how many jobs run at once (>= 1).
        return_exceptions: keep going after a failure; the failing job's result holds its
            ``JobError``.
        max_per_second: start at most this many jobs a second (> 0), one at a time in the
            order they were read (``RateLimiter``'s arithmetic, burst 1). ``None``: no limit.
        retries: how many more times to run a job that failed (>= 0; 0 by default), after
            an exponential backoff with full jitter (up to 10 s). Each attempt counts against
            *limit* and *max_per_second*.
        retry_on: which failures are retried: exception types, or a predicate given the
            exception. ``None`` (the default): any ``Exception``.
        retry_budget: the share of first attempts retries may add (>= 0; 0.2, 20 %, by
            default), plus 10 retries a call always has, so a failing dependency is not hit
            with N times the work. ``None``: no budget.

    Yields:
        An async iterator of ``Completed(index, job, value)``, in the order jobs finished.

    Raises:
        JobError: the first job that failed (unless ``return_exceptions``), raised where you
            read; the other workers were cancelled.
        TypeError, ValueError: for bad arguments, before any job starts.
    """
    pace = rate.limiter(max_per_second)
    policy = retrying.job_policy(retries, retry_on, retry_budget)
    _check(fn, jobs, limit)
    work = _async_work(fn, pace, rate.acquire_asyncio, policy, asyncio.sleep)
    async with engine.stream_asyncio(engine.Feed(jobs), limit, work,
                                     _on_error(return_exceptions), _completed_as(policy),
                                     engine.buffered(limit)) as results:
        yield results


@overload
async def map_anyio(
    fn: Callable[[J], Awaitable[R]], jobs: Iterable[J] | AsyncIterable[J], *,
    limit: int = ..., ordered: bool = ..., max_per_second: float | None = ...,
    retries: int = ..., retry_on: RetryOn = ..., retry_budget: float | None = ...,
    return_exceptions: Literal[False] = ...,
) -> list[R]: ...
@overload
async def map_anyio(
    fn: Callable[[J], Awaitable[R]], jobs: Iterable[J] | AsyncIterable[J], *,
    limit: int = ..., ordered: bool = ..., max_per_second: float | None = ...,
    retries: int = ..., retry_on: RetryOn = ..., retry_budget: float | None = ...,
    return_exceptions: Literal[True],
) -> list[R | JobError]: ...
@overload
async def map_anyio(
    fn: Callable[[J], Awaitable[R]], jobs: Iterable[J] | AsyncIterable[J], *,
    limit: int = ..., ordered: bool = ..., max_per_second: float | None = ...,
    retries: int = ..., retry_on: RetryOn = ..., retry_budget: float | None = ...,
    return_exceptions: bool,
) -> list[R] | list[R | JobError]: ...


async def map_anyio(
    fn: Callable[[J], Awaitable[R]], jobs: Iterable[J] | AsyncIterable[J], *,
    limit: int = 4, ordered: bool = True, return_exceptions: bool = False,
    max_per_second: float | None = None,
    retries: int = 0, retry_on: RetryOn = None, retry_budget: float | None = 0.2,
) -> list[R] | list[R | JobError]:
    """Run ``await fn(job)`` for every job on *limit* anyio tasks, on asyncio or trio.

    *limit* tasks pull jobs from the feed one at a time, so a long or endless feed never
    becomes more than *limit* tasks. The first failing job cancels the others, as Go's
    errgroup does, unless *return_exceptions*. Cancelling the call (a cancel scope around it,
    a cancelled task group) cancels every worker before the cancellation goes on; an error in
    the feed itself is raised as it is.

    Args:
        fn: an async function of one job.
        jobs: an iterable or async iterable of jobs; it is read lazily, one job per free worker.
        limit: how many jobs run at once (>= 1).
        return_exceptions: keep going after a failure; the failing job's result holds its
            ``JobError``.
        max_per_second: start at most this many jobs a second (> 0), one at a time in the
            order they were read (``RateLimiter``'s arithmetic, burst 1). ``None``: no limit.
        retries: how many more times to run a job that failed (>= 0; 0 by default), after
            an exponential backoff with full jitter (up to 10 s). Each attempt counts against
            *limit* and *max_per_second*.
        retry_on: which failures are retried: exception types, or a predicate given the
            exception. ``None`` (the default): any ``Exception``.
        retry_budget: the share of first attempts retries may add (>= 0; 0.2, 20 %, by
            default), plus 10 retries a call always has, so a failing dependency is not hit
            with N times the work. ``None``: no budget.
        ordered: results in input order (default), or in the order jobs finished.

    Returns:
        One result per job, in input order unless ``ordered=False``; with
        ``return_exceptions=True`` a failing job's place holds its ``JobError``.

    Raises:
        JobError: the first job that failed (unless ``return_exceptions``), naming it; its
            exception is ``__cause__``.
        TypeError, ValueError: for bad arguments, before any job starts.
    """
    pace = rate.limiter(max_per_second)
    policy = retrying.job_policy(retries, retry_on, retry_budget)
    _check(fn, jobs, limit)
    results = _Results(ordered)
    await engine.gather_anyio(engine.Feed(jobs), limit,
                              _async_work(fn, pace, rate.acquire_anyio, policy, anyio.sleep),
                              _on_error(return_exceptions), results.add)
    return results.results()


@asynccontextmanager
async def stream_anyio(
    fn: Callable[[J], Awaitable[R]], jobs: Iterable[J] | AsyncIterable[J], *,
    limit: int = 4, return_exceptions: bool = False, max_per_second: float | None = None,
    retries: int = 0, retry_on: RetryOn = None, retry_budget: float | None = 0.2,
) -> AsyncIterator[AsyncIterator[Completed[J, R]]]:
    """``async with map_stream(fn, jobs) as results:`` yields each job as it finishes, on anyio.

    *limit* anyio tasks pull jobs from the feed, as ``map`` does, but the results come out as
    they finish: at most *limit* jobs run and at most *limit* results wait to be read, so
    memory stays flat however long the feed. Leaving the block early (``break``, an exception,
    a cancellation) cancels the workers before the block is left; the block keeps the tasks in
    a task group of its own, which trio requires. Runs on asyncio and trio.

    Args:
        fn: an async function of one job.
        jobs: an iterable or async iterable of jobs; it is read lazily, one job per free worker.
        limit: how many jobs run at once (>= 1).
        return_exceptions: keep going after a failure; the failing job's result holds its
            ``JobError``.
        max_per_second: start at most this many jobs a second (> 0), one at a time in the
            order they were read (``RateLimiter``'s arithmetic, burst 1). ``None``: no limit.
        retries: how many more times to run a job that failed (>= 0; 0 by default), after
            an exponential backoff with full jitter (up to 10 s). Each attempt counts against
            *limit* and *max_per_second*.
        retry_on: which failures are retried: exception types, or a predicate given the
            exception. ``None`` (the default): any ``Exception``.
        retry_budget: the share of first attempts retries may add (>= 0; 0.2, 20 %, by
            default), plus 10 retries a call always has, so a failing dependency is not hit
            with N times the work. ``None``: no budget.

    Yields:
        An async iterator of ``Completed(index, job, value)``, in the order jobs finished.

    Raises:
        JobError: the first job that failed (unless ``return_exceptions``), raised where you
            read; the other workers were cancelled.
        TypeError, ValueError: for bad arguments, before any job starts.
    """
    pace = rate.limiter(max_per_second)
    policy = retrying.job_policy(retries, retry_on, retry_budget)
    _check(fn, jobs, limit)
    async with engine.stream_anyio(engine.Feed(jobs), limit,
                                   _async_work(fn, pace, rate.acquire_anyio, policy, anyio.sleep),
                                   _on_error(return_exceptions), _completed_as(policy),
                                   engine.buffered(limit)) as results:
        yield results


@overload
def map_threads(
    fn: Callable[[J], R], jobs: Iterable[J], *,
    limit: int = ..., ordered: bool = ..., max_per_second: float | None = ...,
    retries: int = ..., retry_on: RetryOn = ..., retry_budget: float | None = ...,
    return_exceptions: Literal[False] = ...,
) -> list[R]: ...
@overload
def map_threads(
    fn: Callable[[J], R], jobs: Iterable[J], *,
    limit: int = ..., ordered: bool = ..., max_per_second: float | None = ...,
    retries: int = ..., retry_on: RetryOn = ..., retry_budget: float | None = ...,
    return_exceptions: Literal[True],
) -> list[R | JobError]: ...
@overload
def map_threads(
    fn: Callable[[J], R], jobs: Iterable[J], *,
    limit: int = ..., ordered: bool = ..., max_per_second: float | None = ...,
    retries: int = ..., retry_on: RetryOn = ..., retry_budget: float | None = ...,
    return_exceptions: bool,
) -> list[R] | list[R | JobError]: ...


def map_threads(
    fn: Callable[[J], R], jobs: Iterable[J], *,
    limit: int = 4, ordered: bool = True, return_exceptions: bool = False,
    max_per_second: float | None = None,
    retries: int = 0, retry_on: RetryOn = None, retry_budget: float | None = 0.2,
) -> list[R] | list[R | JobError]:
    """Run ``fn(job)`` for every job on *limit* threads; return the results.

    *limit* threads pull jobs from the feed one at a time, so a long feed never becomes more
    than *limit* threads. A running thread cannot be cancelled: after the first failure (or a
    ``KeyboardInterrupt``) no new job starts, the jobs already running finish, and then the
    error is raised. Every thread has ended by the time this returns or raises.

    Args:
        fn: a plain function of one job.
        jobs: an iterable of jobs; it is read lazily, one job per free worker.
        limit: how many jobs run at once (>= 1).
        return_exceptions: keep going after a failure; the failing job's result holds its
            ``JobError``.
        max_per_second: start at most this many jobs a second (> 0), one at a time in the
            order they were read (``RateLimiter``'s arithmetic, burst 1). ``None``: no limit.
        retries: how many more times to run a job that failed (>= 0; 0 by default), after
            an exponential backoff with full jitter (up to 10 s). Each attempt counts against
            *limit* and *max_per_second*.
        retry_on: which failures are retried: exception types, or a predicate given the
            exception. ``None`` (the default): any ``Exception``.
        retry_budget: the share of first attempts retries may add (>= 0; 0.2, 20 %, by
            default), plus 10 retries a call always has, so a failing dependency is not hit
            with N times the work. ``None``: no budget.
        ordered: results in input order (default), or in the order jobs finished.

    Returns:
        One result per job, in input order unless ``ordered=False``; with
        ``return_exceptions=True`` a failing job's place holds its ``JobError``.

    Raises:
        JobError: the first job that failed (unless ``return_exceptions``), naming it; its
            exception is ``__cause__``.
        TypeError, ValueError: for bad arguments, before any job starts.
    """
    pace = rate.limiter(max_per_second)
    policy = retrying.job_policy(retries, retry_on, retry_budget)
    _check(fn, jobs, limit, sync=True)
    results = _Results(ordered)
    engine.gather_threads(engine.Feed(jobs), limit, _sync_work(fn, pace, policy),
                          _on_error(return_exceptions), results.add)
    return results.results()


@contextmanager
def stream_threads(
    fn: Callable[[J], R], jobs: Iterable[J], *,
    limit: int = 4, return_exceptions: bool = False, max_per_second: float | None = None,
    retries: int = 0, retry_on: RetryOn = None, retry_budget: float | None = 0.2,
) -> Iterator[Iterator[Completed[J, R]]]:
    """``with map_stream(fn, jobs) as results:`` yields each job as it finishes.

    *limit* threads pull jobs from the feed, as ``map`` does, but the results come out as they
    finish: at most *limit* jobs run and at most *limit* results wait to be read. Leaving the
    block early stops the workers: no new job starts, running ones finish, and every thread
    has ended before the block is left.

    Args:
        fn: a plain function of one job.
        jobs: an iterable of jobs; it is read lazily, one job per free worker.
        limit: how many jobs run at once (>= 1).
        return_exceptions: keep going after a failure; the failing job's result holds its
            ``JobError``.
        max_per_second: start at most this many jobs a second (> 0), one at a time in the
            order they were read (``RateLimiter``'s arithmetic, burst 1). ``None``: no limit.
        retries: how many more times to run a job that failed (>= 0; 0 by default), after
            an exponential backoff with full jitter (up to 10 s). Each attempt counts against
            *limit* and *max_per_second*.
        retry_on: which failures are retried: exception types, or a predicate given the
            exception. ``None`` (the default): any ``Exception``.
        retry_budget: the share of first attempts retries may add (>= 0; 0.2, 20 %, by
            default), plus 10 retries a call always has, so a failing dependency is not hit
            with N times the work. ``None``: no budget.

    Yields:
        An iterator of ``Completed(index, job, value)``, in the order jobs finished.

    Raises:
        JobError: the first job that failed (unless ``return_exceptions``), raised where you
            read; no new job starts after it.
        TypeError, ValueError: for bad arguments, before any job starts.
    """
    pace = rate.limiter(max_per_second)
    policy = retrying.job_policy(retries, retry_on, retry_budget)
    _check(fn, jobs, limit, sync=True)
    with engine.stream_threads(engine.Feed(jobs), limit, _sync_work(fn, pace, policy),
                               _on_error(return_exceptions), _completed_as(policy),
                               engine.buffered(limit)) as results:
        yield results


@overload
def map_processes(
    fn: Callable[[J], R], jobs: Iterable[J], *,
    limit: int = ..., ordered: bool = ...,
    executor: Executor | None = ..., max_per_second: float | None = ...,
    retries: int = ..., retry_on: RetryOn = ..., retry_budget: float | None = ...,
    return_exceptions: Literal[False] = ...,
) -> list[R]: ...
@overload
def map_processes(
    fn: Callable[[J], R], jobs: Iterable[J], *,
    limit: int = ..., ordered: bool = ...,
    executor: Executor | None = ..., max_per_second: float | None = ...,
    retries: int = ..., retry_on: RetryOn = ..., retry_budget: float | None = ...,
    return_exceptions: Literal[True],
) -> list[R | JobError]: ...
@overload
def map_processes(
    fn: Callable[[J], R], jobs: Iterable[J], *,
    limit: int = ..., ordered: bool = ...,
    executor: Executor | None = ..., max_per_second: float | None = ...,
    retries: int = ..., retry_on: RetryOn = ..., retry_budget: float | None = ...,
    return_exceptions: bool,
) -> list[R] | list[R | JobError]: ...


def map_processes(
    fn: Callable[[J], R], jobs: Iterable[J], *,
    limit: int = 2, ordered: bool = True, return_exceptions: bool = False,
    executor: Executor | None = None, max_per_second: float | None = None,
    retries: int = 0, retry_on: RetryOn = None, retry_budget: float | None = 0.2,
) -> list[R] | list[R | JobError]:
    """Run ``fn(job)`` for every job in a pool of processes; return the results.

    *fn*, the jobs and the results cross process boundaries, so they must be picklable; an
    unpicklable *fn* (a lambda, a nested function) is refused with ``TypeError`` before anything
    is submitted. At most ``2 * limit`` jobs are submitted ahead, so a long iterable is read
    lazily and an error stops the feed early. After the first failure, the jobs not yet started
    are cancelled and the running ones finish, with the few a pool had queued for its
    workers. (An ``executor=new_process_pool(n, hold_jobs=True)`` starts a job only when a
    worker is free, and runs none of those.)
    A pool started for the call is shut down, its processes joined, before this returns.

    Args:
        fn: a plain function of one job, importable by name (it is pickled: no lambda, no
            nested function).
        jobs: an iterable of jobs, each picklable; it is read lazily.
        limit: how many jobs run at once (>= 1), and the size of the pool started for the
            call when no *executor* is given.
        return_exceptions: keep going after a failure; the failing job's result holds its
            ``JobError``.
        max_per_second: start at most this many jobs a second (> 0), one at a time in the
            order they were read (``RateLimiter``'s arithmetic, burst 1). ``None``: no limit.
        retries: how many more times to run a job that failed (>= 0; 0 by default), after
            an exponential backoff with full jitter (up to 10 s). Each attempt counts against
            *limit* and *max_per_second*.
        retry_on: which failures are retried: exception types, or a predicate given the
            exception. ``None`` (the default): any ``Exception``.
        retry_budget: the share of first attempts retries may add (>= 0; 0.2, 20 %, by
            default), plus 10 retries a call always has, so a failing dependency is not hit
            with N times the work. ``None``: no budget.
        ordered: results in input order (default), or in the order jobs finished.
        executor: a pool to reuse (it is not shut down), any ``concurrent.futures.Executor``.
            By default a pool from ``new_process_pool(limit)`` is started for this call and shut
            down before it returns; starting one costs tens of milliseconds, so pass your own
            when you call this often.

    Returns:
        One result per job, in input order unless ``ordered=False``; with
        ``return_exceptions=True`` a failing job's place holds its ``JobError``.

    Raises:
        JobError: the first job that failed (unless ``return_exceptions``), naming it; its
            exception is ``__cause__``.
        TypeError, ValueError: for bad arguments, before any job starts.
    """
    _check(fn, jobs, limit, sync=True)
    check_picklable("fn", fn)
    results = _Results(ordered)
    with stream_processes(fn, jobs, limit=limit, return_exceptions=return_exceptions,
                          executor=executor, max_per_second=max_per_second, retries=retries,
                          retry_on=retry_on, retry_budget=retry_budget) as finished:
        for done in finished:
            results.add(done.index, done.job, done.value)
    return results.results()


@contextmanager
def stream_processes(
    fn: Callable[[J], R], jobs: Iterable[J], *,
    limit: int = 2, return_exceptions: bool = False, executor: Executor | None = None,
    max_per_second: float | None = None,
    retries: int = 0, retry_on: RetryOn = None, retry_budget: float | None = 0.2,
) -> Iterator[Iterator[Completed[J, R]]]:
    """``with map_stream(fn, jobs) as results:`` yields each job as it finishes, from processes.

    As ``map`` in processes, but the results come out as they finish. At most ``2 * limit``
    jobs are submitted ahead. Leaving the block early cancels the jobs not yet started (as in
    ``map``); the running ones finish before the block is left, and a pool started for the
    call is shut down.

    Args:
        fn: a plain function of one job, importable by name (it is pickled: no lambda, no
            nested function).
        jobs: an iterable of jobs, each picklable; it is read lazily.
        limit: how many jobs run at once (>= 1), and the size of the pool started for the
            call when no *executor* is given.
        return_exceptions: keep going after a failure; the failing job's result holds its
            ``JobError``.
        max_per_second: start at most this many jobs a second (> 0), one at a time in the
            order they were read (``RateLimiter``'s arithmetic, burst 1). ``None``: no limit.
        retries: how many more times to run a job that failed (>= 0; 0 by default), after
            an exponential backoff with full jitter (up to 10 s). Each attempt counts against
            *limit* and *max_per_second*.
        retry_on: which failures are retried: exception types, or a predicate given the
            exception. ``None`` (the default): any ``Exception``.
        retry_budget: the share of first attempts retries may add (>= 0; 0.2, 20 %, by
            default), plus 10 retries a call always has, so a failing dependency is not hit
            with N times the work. ``None``: no budget.
        executor: a pool to reuse (it is not shut down), any ``concurrent.futures.Executor``.
            By default a pool from ``new_process_pool(limit)`` is started for this call and shut
            down before it returns; starting one costs tens of milliseconds, so pass your own
            when you call this often.

    Yields:
        An iterator of ``Completed(index, job, value)``, in the order jobs finished.

    Raises:
        JobError: the first job that failed (unless ``return_exceptions``), raised where you
            read; the jobs not yet started were cancelled.
        TypeError, ValueError: for bad arguments, before any job starts.
    """
    pace = rate.limiter(max_per_second)
    policy = retrying.job_policy(retries, retry_on, retry_budget)
    _check(fn, jobs, limit, sync=True)
    check_picklable("fn", fn)
    if executor is not None and not isinstance(executor, Executor):
        # A Dask Client is not one: its get_executor() is.
        raise TypeError(f"executor must be a concurrent.futures.Executor, got "
                        f"{type(executor).__name__}")
    feed: engine.Feed[J] = engine.Feed(jobs)
    with ExitStack() as stack:
        if executor is None:
            executor = stack.enter_context(new_process_pool(limit))
        running: dict[Future[R], tuple[int, J]] = {}
        try:
            yield _completed(fn, feed, executor, running, limit, return_exceptions, pace, policy)
        finally:
            # Stopped early: drop what has not started, and wait for what has. Only those: a
            # future cancelled before it ran is done for the caller, but wait() counts it
            # only once its executor has noticed, which a Dask executor may never do.
            started = [future for future in running if not future.cancel()]
            wait(started)


def _completed(
    fn: Callable[[J], R], feed: engine.Feed[J], executor: Executor,
    running: dict[Future[R], tuple[int, J]], limit: int, return_exceptions: bool,
    pace: rate.Gcra | None, policy: retrying.Policy | None,
) -> Iterator[Completed[J, R]]:
    lock = threading.Lock()
    # Jobs waiting out a backoff before their next attempt: (when, order, index, job).
    later: list[tuple[float, int, int, J]] = []
    tried: dict[int, tuple[int, tuple[str, ...]]] = {}  # index: attempts so far, reasons
    order = itertools.count()
    # --8<-- [start:processes]
    while True:
        # Keep the pool busy, with a short queue of jobs ready for the next free worker;
        # a job whose backoff is over goes first.
        now = time.monotonic()
        while later and later[0][0] <= now and len(running) < 2 * limit:
            _, _, index, job = heapq.heappop(later)
            if pace is not None:
                rate.acquire_threads(pace, lock)
            running[executor.submit(fn, job)] = (index, job)
        while len(running) < 2 * limit and (pair := feed.next_sync()) is not None:
            if pace is not None:
                rate.acquire_threads(pace, lock)  # a job is paced when it is submitted
            if policy is not None and policy.budget is not None:
                policy.budget.first_attempt()
            running[executor.submit(fn, pair[1])] = pair
        if not running:
            if not later:
                return
            time.sleep(max(0.0, later[0][0] - time.monotonic()))
            continue
        done, _ = wait(running, return_when=FIRST_COMPLETED,
                       timeout=None if not later else max(0.0, later[0][0] - time.monotonic()))
        for future in done:
            index, job = running.pop(future)
            attempts, reasons = tried.pop(index, (1, ()))
            error = future.exception()
            if error is None:
                yield Completed(index, job, future.result(), attempts, reasons)
    # --8<-- [end:processes]
            elif isinstance(error, Exception):
                wait_for = None if policy is None else retrying.wait_after(policy, error, attempts)
                if wait_for is not None:
                    tried[index] = (attempts + 1, (*reasons, retrying.describe(error)))
                    heapq.heappush(later, (time.monotonic() + wait_for, next(order), index, job))
                    continue
                failure = retrying.Exhausted(error, attempts, reasons)
                value = _on_error(return_exceptions)(index, job, failure)
                yield Completed(index, job, value, attempts, reasons)
            else:
                raise error
