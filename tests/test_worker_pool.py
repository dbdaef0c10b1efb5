"""The worker_pool contract, run against every variant."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concurrency_patterns import Completed, JobError, new_process_pool
from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import processes as cp_processes
from concurrency_patterns import threads as cp_threads
from concurrency_patterns.tools.workloads import fail_on, flaky, runs_of, square
from tests.conftest import (
    ANYIO_CANCELS,
    Generator,
    Variant,
    drain,
    read_stream,
    stopped_by_anyio,
)

pytestmark = pytest.mark.anyio

ASYNC = [
    Variant("asyncio", cp_asyncio.map),
    Variant("anyio-asyncio", cp_anyio.map),
    Variant("anyio-trio", cp_anyio.map, backend="trio"),
]
THREADS = Variant("threads", cp_threads.map, sync=True)
PROCESSES = Variant("processes", cp_processes.map, sync=True)
IN_PROCESS = [*ASYNC, THREADS]
ALL = [*IN_PROCESS, PROCESSES]


def job(variant: Variant, fn: Callable[[int], int]) -> Callable[[int], Any]:
    """*fn* as the variant wants it: a coroutine function for async variants."""
    if variant.sync:
        return fn

    async def run(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        return fn(x)
    return run


class Gauge:
    """Counts jobs running at once (from tasks or threads) and jobs started."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = self.most = self.started = self.finished = self.succeeded = 0

    def enter(self) -> None:
        with self.lock:
            self.started += 1
            self.running += 1
            self.most = max(self.most, self.running)

    def leave(self) -> None:
        with self.lock:
            self.running -= 1
            self.finished += 1

    def job(self, variant: Variant, seconds: float, fail_at: int = -1) -> Callable[[int], Any]:
        def check(x: int) -> int:
            if x == fail_at:
                raise ValueError(f"job {x} is bad")
            with self.lock:
                self.succeeded += 1
            return x * x

        if variant.sync:
            def run_sync(x: int) -> int:
                self.enter()
                try:
                    time.sleep(seconds)
                    return check(x)
                finally:
                    self.leave()
            return run_sync

        async def run(x: int) -> int:
            self.enter()
            try:
                await anyio.sleep(seconds)
                return check(x)
            finally:
                self.leave()
        return run


@pytest.mark.parametrize("variant", ALL, ids=str)
@settings(max_examples=15)
@given(jobs=st.lists(st.integers(-1000, 1000), max_size=40), workers=st.integers(1, 8))
async def test_results_come_back_in_input_order(
    variant: Variant, jobs: list[int], workers: int,
) -> None:
    assert await variant(job(variant, square), jobs, limit=workers) == [x * x for x in jobs]


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_unordered_results_hold_every_result(variant: Variant) -> None:
    jobs = list(range(30))
    results = await variant(job(variant, square), jobs, limit=4, ordered=False)
    assert sorted(results) == [x * x for x in jobs]


@pytest.mark.parametrize("variant", IN_PROCESS, ids=str)
@settings(max_examples=5)
@given(workers=st.integers(1, 6))
async def test_at_most_workers_jobs_run_at_once_and_that_many_do(
    variant: Variant, workers: int,
) -> None:
    gauge = Gauge()
    await variant(gauge.job(variant, 0.01), range(3 * workers), limit=workers)
    assert gauge.most == workers
    assert gauge.started == gauge.finished == 3 * workers


@pytest.mark.parametrize("variant", ALL, ids=str)
@settings(max_examples=10)
@given(n=st.integers(1, 30), data=st.data(), workers=st.integers(1, 6))
async def test_first_error_is_raised_naming_the_job(
    variant: Variant, n: int, data: st.DataObject, workers: int,
) -> None:
    bad = data.draw(st.integers(0, n - 1), label="bad")
    jobs = list(range(n))
    with pytest.raises(JobError) as info:
        await variant(job(variant, partial(fail_on, bad)), jobs, limit=workers)
    assert (info.value.index, info.value.job) == (bad, bad)
    assert isinstance(info.value.__cause__, ValueError)
    assert f"job {bad}" in str(info.value)


@pytest.mark.parametrize("variant", IN_PROCESS, ids=str)
async def test_first_error_stops_the_other_jobs(variant: Variant) -> None:
    gauge = Gauge()
    with pytest.raises(JobError):
        await variant(gauge.job(variant, 0.02, fail_at=3), range(100), limit=4)
    # Jobs already running may finish (threads) or are cancelled (tasks); no new job starts.
    assert gauge.started <= 3 + 4 + 1
    if not variant.sync:  # the jobs started after the failing one were cancelled
        assert gauge.succeeded <= 3


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_return_exceptions_runs_every_job(variant: Variant) -> None:
    results = await variant(job(variant, partial(fail_on, 2)), range(5), limit=2,
                            return_exceptions=True)
    assert results[:2] == [0, 1] and results[3:] == [9, 16]
    assert isinstance(results[2], JobError) and results[2].index == 2


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_job_may_return_an_exception_object(variant: Variant) -> None:
    results = await variant(job(variant, ValueError), [1], limit=1)
    assert isinstance(results[0], ValueError)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_an_endless_feed_is_read_lazily_and_stops_on_error(variant: Variant) -> None:
    with pytest.raises(JobError) as info:
        await variant(job(variant, partial(fail_on, 7)), itertools.count(), limit=3)
    assert info.value.index == 7


class FeedBroke(Exception):
    pass


def breaking_feed(good: int) -> Any:
    """Yields *good* jobs, then fails while being read."""
    yield from range(good)
    raise FeedBroke("the feed broke")


@pytest.mark.parametrize("variant", ALL, ids=str)
@pytest.mark.parametrize("return_exceptions", [False, True])
async def test_a_feed_that_raises_is_raised_not_truncated(
    variant: Variant, return_exceptions: bool,
) -> None:
    with pytest.raises(FeedBroke, match="the feed broke"):
        await variant(job(variant, square), breaking_feed(5), limit=3,
                      return_exceptions=return_exceptions)


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_an_async_feed_that_raises_is_raised(variant: Variant) -> None:
    async def feed() -> AsyncIterator[int]:
        yield 1
        raise FeedBroke("the feed broke")

    with pytest.raises(FeedBroke):
        await variant(job(variant, square), feed(), limit=2)


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_async_iterables_feed_the_pool(variant: Variant) -> None:
    async def feed() -> AsyncIterator[int]:
        for i in range(20):
            await anyio.lowlevel.checkpoint()
            yield i

    assert await variant(job(variant, square), feed(), limit=3) == [i * i for i in range(20)]


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_timeout_cancels_every_worker(variant: Variant) -> None:
    gauge = Gauge()
    with pytest.raises(TimeoutError), anyio.fail_after(0.1):
        await variant(gauge.job(variant, 10), range(50), limit=5)
    assert gauge.running == 0 and gauge.started == 5


async def test_a_given_executor_is_reused_not_shut_down() -> None:
    with new_process_pool(2) as pool:
        for _ in range(2):
            results = await anyio.to_thread.run_sync(
                partial(cp_processes.map, square, range(5), executor=pool)
            )
            assert results == [0, 1, 4, 9, 16]
        assert pool.submit(square, 3).result() == 9


async def test_a_lambda_is_refused_before_anything_starts() -> None:
    with pytest.raises(TypeError, match="fn must be picklable"):
        cp_processes.map(lambda x: x, range(3))


@pytest.mark.parametrize("variant", ALL, ids=str)
@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"fn": None}, TypeError, "fn"),
        ({"jobs": 5}, TypeError, "jobs"),
        ({"limit": 0}, ValueError, "limit"),
        ({"limit": -3}, ValueError, "limit"),
        ({"limit": "4"}, TypeError, "limit"),
        ({"limit": True}, TypeError, "limit"),
    ],
)
async def test_bad_input_is_refused_naming_the_parameter(
    variant: Variant, kwargs: dict[str, Any], error: type[Exception], name: str,
) -> None:
    args: dict[str, Any] = {"fn": job(variant, square), "jobs": [1, 2]}
    args.update(kwargs)
    with pytest.raises(error, match=name):
        await variant(args.pop("fn"), args.pop("jobs"), **args)


# --- the stream form --------------------------------------------------------------------------

STREAM_ASYNC = [
    Variant("asyncio", cp_asyncio.map_stream),
    Variant("anyio-asyncio", cp_anyio.map_stream),
    Variant("anyio-trio", cp_anyio.map_stream, backend="trio"),
]
STREAM_THREADS = Variant("threads", cp_threads.map_stream, sync=True)
STREAM_IN_PROCESS = [*STREAM_ASYNC, STREAM_THREADS]
STREAM_ALL = [*STREAM_IN_PROCESS, Variant("processes", cp_processes.map_stream, sync=True)]


@pytest.mark.parametrize("variant", STREAM_ALL, ids=str)
@settings(max_examples=8)
@given(count=st.integers(0, 40), workers=st.integers(1, 6))
async def test_the_stream_yields_every_job_once_with_its_index(
    variant: Variant, count: int, workers: int,
) -> None:
    jobs = [10 * i for i in range(count)]
    read = await read_stream(variant, job(variant, square), jobs, limit=workers)
    assert sorted(d.index for d in read) == list(range(count))
    assert all(d.job == jobs[d.index] and d.value == d.job ** 2 for d in read)


@pytest.mark.parametrize("variant", STREAM_IN_PROCESS, ids=str)
async def test_the_stream_comes_in_completion_order(variant: Variant) -> None:
    def slow_first(x: int) -> int:
        time.sleep(0.02 * (4 - x))
        return x

    async def slow_first_async(x: int) -> int:
        await anyio.sleep(0.02 * (4 - x))
        return x

    fn = slow_first if variant.sync else slow_first_async
    read = await read_stream(variant, fn, range(5), limit=5)
    assert [d.index for d in read] == [4, 3, 2, 1, 0]


@pytest.mark.parametrize("variant", STREAM_IN_PROCESS, ids=str)
async def test_a_slow_reader_holds_the_workers_back(variant: Variant) -> None:
    """At most *workers* jobs run and at most *workers* results wait: memory stays flat."""
    gauge, workers, ahead = Gauge(), 4, []

    def check(done: Completed[Any, Any]) -> None:
        time.sleep(0.002)  # a reader slower than the jobs
        ahead.append(gauge.started - len(ahead) - 1)

    read = await read_stream(variant, gauge.job(variant, 0), range(200), limit=workers,
                             on_item=check)
    assert len(read) == 200
    assert max(ahead) <= 2 * workers + 1  # running + waiting to be read (+ the one in hand)


@pytest.mark.parametrize("variant", STREAM_IN_PROCESS, ids=str)
async def test_leaving_the_stream_early_stops_the_workers(variant: Variant) -> None:
    gauge, workers = Gauge(), 3
    read = await read_stream(variant, gauge.job(variant, 0.005), itertools.count(),
                             limit=workers, stop_after=5)
    assert len(read) == 5
    assert gauge.running == 0  # before the block was left
    assert gauge.started <= 5 + 2 * workers + 1
    started = gauge.started
    await anyio.sleep(0.05)
    assert gauge.started == started


@pytest.mark.parametrize("variant", STREAM_ALL, ids=str)
async def test_a_failing_job_is_raised_where_the_stream_is_read(variant: Variant) -> None:
    with pytest.raises(JobError) as info:
        await read_stream(variant, job(variant, partial(fail_on, 7)), range(100), limit=3)
    assert (info.value.index, info.value.job) == (7, 7)


@pytest.mark.parametrize("variant", STREAM_ALL, ids=str)
async def test_the_stream_can_return_exceptions(variant: Variant) -> None:
    read = await read_stream(variant, job(variant, partial(fail_on, 3)), range(6), limit=2,
                             return_exceptions=True)
    by_index = {d.index: d.value for d in read}
    assert isinstance(by_index.pop(3), JobError)
    assert by_index == {i: i * i for i in (0, 1, 2, 4, 5)}


@pytest.mark.parametrize("variant", STREAM_ASYNC, ids=str)
async def test_an_error_in_the_readers_block_stops_the_workers(variant: Variant) -> None:
    gauge = Gauge()
    with pytest.raises(KeyError, match="reader"):
        async with variant.fn(gauge.job(variant, 0.01), itertools.count(), limit=4) as results:
            async for _ in results:
                raise KeyError("reader")
    assert gauge.running == 0


@pytest.mark.parametrize("variant", STREAM_ASYNC, ids=str)
async def test_cancelling_the_reader_cancels_the_workers(variant: Variant) -> None:
    gauge = Gauge()
    with anyio.move_on_after(0.05):
        await read_stream(variant, gauge.job(variant, 0.01), itertools.count(), limit=4)
    assert gauge.running == 0


@pytest.mark.parametrize("variant", STREAM_ALL, ids=str)
async def test_the_stream_refuses_bad_input_before_starting(variant: Variant) -> None:
    with pytest.raises(ValueError, match="limit"):
        await read_stream(variant, job(variant, square), range(3), limit=0)
    with pytest.raises(TypeError, match="jobs"):
        await read_stream(variant, job(variant, square), "abc", limit=1)


# --- max_per_second -----------------------------------------------------------------------------

@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_max_per_second_paces_the_jobs(variant: Variant) -> None:
    start = time.monotonic()
    results = await variant(job(variant, square), range(11), limit=4, max_per_second=100)
    assert results == [i * i for i in range(11)]
    assert time.monotonic() - start >= 10 / 100 * 0.95  # the first at once, then one per 10 ms


@pytest.mark.parametrize("variant", STREAM_ALL, ids=str)
async def test_the_stream_is_paced_too(variant: Variant) -> None:
    start = time.monotonic()
    read = await read_stream(variant, job(variant, square), range(6), limit=3,
                             max_per_second=100)
    assert len(read) == 6 and time.monotonic() - start >= 5 / 100 * 0.95


@pytest.mark.parametrize("variant", ALL, ids=str)
@pytest.mark.parametrize(("value", "error"), [(0, ValueError), (-1, ValueError),
                                               (float("inf"), ValueError), ("5", TypeError)])
async def test_a_bad_max_per_second_is_refused_naming_it(
    variant: Variant, value: Any, error: type[Exception],
) -> None:
    with pytest.raises(error, match="max_per_second"):
        await variant(job(variant, square), range(3), max_per_second=value)


# --- the asyncio variants under anyio's cancellation --------------------------------------------

async def _yielding(x: int) -> int:
    await asyncio.sleep(0)  # a job that finishes at once: the reader never has to wait long
    return x


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
@pytest.mark.parametrize("form", ["map", "map_stream"])
def test_the_asyncio_pool_stops_when_anyio_cancels_it(form: str, how: str) -> None:
    """An endless feed of instant jobs, cancelled by anyio (as under FastAPI): the call ends."""
    if form == "map":
        def call() -> Any:
            return cp_asyncio.map(_yielding, itertools.count(), limit=2)
    else:
        def call() -> Any:
            return drain(cp_asyncio.map_stream(_yielding, itertools.count(), limit=2))
    assert stopped_by_anyio(call, how) < 30


# --- feeds are closed when the call stops reading them ------------------------------------------

@pytest.mark.parametrize("variant", STREAM_ASYNC, ids=str)
async def test_leaving_the_stream_early_closes_the_async_generator_feed(variant: Variant) -> None:
    feed = Generator()
    async with variant.fn(job(variant, square), feed.items(), limit=3) as results:
        async for _ in results:
            break
    assert feed.closed  # before the block was left: its cleanup ran on the caller's side


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_failing_job_closes_the_async_generator_feed(variant: Variant) -> None:
    feed = Generator()
    with pytest.raises(JobError):
        await variant(job(variant, partial(fail_on, 5)), feed.items(), limit=2)
    assert feed.closed


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_cancelled_call_closes_the_async_generator_feed(variant: Variant) -> None:
    feed = Generator()
    with anyio.move_on_after(0.05):
        await variant(job(variant, square), feed.items(), limit=2)
    assert feed.closed and feed.read > 0


# --- retries, within a budget ------------------------------------------------------------------

STREAMS = {"asyncio": cp_asyncio.map_stream, "anyio-asyncio": cp_anyio.map_stream,
           "anyio-trio": cp_anyio.map_stream, "threads": cp_threads.map_stream,
           "processes": cp_processes.map_stream}


def flaky_job(variant: Variant, directory: Path) -> Callable[[Any], Any]:
    fn = partial(flaky, str(directory))
    return fn if variant.sync else job(variant, fn)  # type: ignore[arg-type]


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_retries_run_a_failed_job_again_and_say_why(
    variant: Variant, tmp_path: Path,
) -> None:
    jobs = [("a", 2, "ConnectionError"), ("b", 0, "ConnectionError"), ("c", 9, "ValueError")]
    fn = flaky_job(variant, tmp_path)
    results = await variant(fn, jobs, limit=2, retries=2, return_exceptions=True)
    assert results[:2] == ["a", "b"]
    error = results[2]
    assert isinstance(error, JobError) and error.attempts == 3
    assert isinstance(error.__cause__, ValueError) and "after 3 attempts" in str(error)
    assert [runs_of(str(tmp_path), n) for n in "abc"] == [3, 1, 3]
    # The stream says how many attempts each job took, and why each retry happened.
    stream = Variant(variant.name, STREAMS[variant.name], variant.backend, variant.sync)
    [d] = await read_stream(stream, flaky_job(variant, tmp_path),
                            [("d", 1, "ConnectionError")], retries=1)
    assert (d.value, d.attempts, d.retry_reasons) == ("d", 2, ("ConnectionError: d: run 1 fails",))


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_retry_on_chooses_which_failures_are_retried(
    variant: Variant, tmp_path: Path,
) -> None:
    fn = flaky_job(variant, tmp_path)
    jobs = [("conn", 1, "ConnectionError"), ("value", 1, "ValueError")]
    results = await variant(fn, jobs, retries=3, retry_on=[ConnectionError],
                            return_exceptions=True)
    assert results[0] == "conn"
    assert isinstance(results[1], JobError) and results[1].attempts == 1
    picked = await variant(fn, [("p", 1, "ValueError")], retries=1,
                           retry_on=lambda exc: "run 1" in str(exc))
    assert picked == ["p"]


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_the_retry_budget_holds_when_every_job_fails(
    variant: Variant, tmp_path: Path,
) -> None:
    fn = flaky_job(variant, tmp_path)
    jobs = [(f"j{i}", 99, "ConnectionError") for i in range(40)]
    results = await variant(fn, jobs, limit=4, retries=3, return_exceptions=True)
    assert all(isinstance(r, JobError) for r in results)
    runs = sum(runs_of(str(tmp_path), name) for name, _, _ in jobs)
    assert 40 <= runs <= 40 + 10 + 0.2 * 40
    few = [(f"k{i}", 99, "ConnectionError") for i in range(3)]
    await variant(fn, few, retries=2, retry_budget=None, return_exceptions=True)
    assert sum(runs_of(str(tmp_path), name) for name, _, _ in few) == 9


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_without_return_exceptions_the_last_failure_is_raised_after_retries(
    variant: Variant, tmp_path: Path,
) -> None:
    with pytest.raises(JobError) as info:
        await variant(flaky_job(variant, tmp_path), [("x", 5, "ValueError")], retries=1)
    assert info.value.attempts == 2 and isinstance(info.value.__cause__, ValueError)
    assert info.value.retry_reasons == ("ValueError: x: run 1 fails",)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_bad_retry_arguments_are_refused_naming_them(
    variant: Variant, tmp_path: Path,
) -> None:
    fn = flaky_job(variant, tmp_path)
    for kwargs, match in [({"retries": -1}, "retries"), ({"retries": 1.5}, "retries"),
                          ({"retry_on": ["x"]}, "retry_on"), ({"retry_on": 3}, "retry_on"),
                          ({"retry_budget": -1}, "retry_budget")]:
        with pytest.raises((TypeError, ValueError), match=match):
            await variant(fn, [("z", 0, "ValueError")], **kwargs)
    assert runs_of(str(tmp_path), "z") == 0, "refused before anything ran"
