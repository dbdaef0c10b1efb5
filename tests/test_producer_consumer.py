"""The producer_consumer contract, run against every variant."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given
from hypothesis import strategies as st

from concurrency_patterns import ProducerConsumerError
from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from concurrency_patterns.producer_consumer import produce_consume_asyncio_sentinel
from tests.conftest import ANYIO_CANCELS, Generator, Variant, stopped_by_anyio

pytestmark = pytest.mark.anyio

ON_LOOP = [  # producers and consumers are tasks
    Variant("asyncio-sentinel", produce_consume_asyncio_sentinel),
    Variant("asyncio", cp_asyncio.produce_consume),
    Variant("anyio-asyncio", cp_anyio.produce_consume),
    Variant("anyio-trio", cp_anyio.produce_consume, backend="trio"),
]
FROM_THREADS = [  # producers are threads, consumers tasks
    Variant("from-threads-asyncio", cp_anyio.produce_consume_from_threads),
    Variant("from-threads-trio", cp_anyio.produce_consume_from_threads, backend="trio"),
]
ASYNC = [*ON_LOOP, *FROM_THREADS]
ALL = [*ASYNC, Variant("threads", cp_threads.produce_consume, sync=True)]


class Tally:
    """Counts items taken from the sources and items consumed, from any thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.taken: list[Any] = []
        self.started = 0
        self.consumed: list[Any] = []
        self.most_ahead = 0  # the most items taken but not yet being consumed

    def source(self, items: list[Any], fail_after: int | None = None) -> Iterator[Any]:
        for n, item in enumerate(items):
            if n == fail_after:
                raise RuntimeError("the source broke")
            with self.lock:
                self.taken.append(item)
                self.most_ahead = max(self.most_ahead, len(self.taken) - self.started)
            yield item

    def consumer(
        self, variant: Variant, *, delay: float = 0.0, fail_on: object = object(),
    ) -> Callable[[Any], Any]:
        def before(item: Any) -> None:
            with self.lock:
                self.started += 1
            if item == fail_on:
                raise ValueError(f"cannot consume {item!r}")

        def after(item: Any) -> tuple[str, Any]:
            with self.lock:
                self.consumed.append(item)
            return ("done", item)

        if variant.sync:
            def consume_sync(item: Any) -> tuple[str, Any]:
                before(item)
                time.sleep(delay)
                return after(item)
            return consume_sync

        async def consume(item: Any) -> tuple[str, Any]:
            before(item)
            await anyio.sleep(delay)
            return after(item)
        return consume


def numbered(sizes: list[int]) -> list[list[int]]:
    """Distinct items split across producers: [[0, 1], [2], [3, 4, 5]] for sizes [2, 1, 3]."""
    out, n = [], 0
    for size in sizes:
        out.append(list(range(n, n + size)))
        n += size
    return out


@pytest.mark.parametrize("variant", ALL, ids=str)
@given(sizes=st.lists(st.integers(0, 20), min_size=1, max_size=4),
       consumers=st.integers(1, 5), maxsize=st.integers(1, 6))
async def test_every_item_is_consumed_exactly_once(
    variant: Variant, sizes: list[int], consumers: int, maxsize: int,
) -> None:
    tally = Tally()
    batches = numbered(sizes)
    results = await variant([tally.source(b) for b in batches], tally.consumer(variant),
                            consumers=consumers, maxsize=maxsize)
    everything = [item for b in batches for item in b]
    assert sorted(tally.consumed) == everything
    assert sorted(results) == [("done", item) for item in everything]


@pytest.mark.parametrize("variant", ALL, ids=str)
@pytest.mark.parametrize("maxsize", [1, 4])
async def test_backpressure_bounds_how_far_producers_get_ahead(
    variant: Variant, maxsize: int,
) -> None:
    tally = Tally()
    producers, consumers = 2, 1
    sources = [tally.source(b) for b in numbered([15] * producers)]
    await variant(sources, tally.consumer(variant, delay=0.005), consumers=consumers,
                  maxsize=maxsize)
    # Taken but not yet being consumed: the buffer, one item in the hands of each producer
    # waiting for a free slot, and one in each consumer's between receiving and starting.
    assert maxsize <= tally.most_ahead <= maxsize + producers + consumers


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_none_is_an_item_like_any_other(variant: Variant) -> None:
    tally = Tally()
    await variant([tally.source([None, 0, None])], tally.consumer(variant), consumers=3)
    assert tally.consumed.count(None) == 2


@pytest.mark.parametrize("variant", ALL, ids=str)
@given(fail_on=st.integers(0, 29), consumers=st.integers(1, 4), maxsize=st.integers(1, 5))
async def test_a_failing_consumer_stops_the_pipeline_and_loses_nothing(
    variant: Variant, fail_on: int, consumers: int, maxsize: int,
) -> None:
    tally = Tally()
    sources = [tally.source(b) for b in numbered([10, 10, 10])]
    with pytest.raises(ProducerConsumerError) as info:
        await variant(sources, tally.consumer(variant, fail_on=fail_on),
                      consumers=consumers, maxsize=maxsize)
    error = info.value
    assert isinstance(error.__cause__, ValueError)
    assert fail_on in error.unprocessed
    assert error.consumed == len(tally.consumed)
    # Taken = consumed + unprocessed, with no item in both.
    assert sorted(tally.consumed + error.unprocessed) == sorted(tally.taken)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_failing_producer_stops_the_pipeline_and_loses_nothing(variant: Variant) -> None:
    tally = Tally()
    sources = [tally.source(list(range(100)), fail_after=5), tally.source(list(range(100, 110)))]
    with pytest.raises(ProducerConsumerError, match="the source broke") as info:
        await variant(sources, tally.consumer(variant, delay=0.001), consumers=2, maxsize=2)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert sorted(tally.consumed + info.value.unprocessed) == sorted(tally.taken)


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_cancelling_reports_every_unprocessed_item(variant: Variant) -> None:
    tally = Tally()
    reported: list[Any] = []
    sources = [tally.source(b) for b in numbered([50, 50])]
    with anyio.move_on_after(0.1) as scope:
        await variant(sources, tally.consumer(variant, delay=0.02), consumers=2, maxsize=3,
                      on_unprocessed=reported.extend)
    assert scope.cancelled_caught
    assert reported, "a cancelled pipeline had items in flight"
    assert sorted(tally.consumed + reported) == sorted(tally.taken)


@pytest.mark.parametrize("variant", ON_LOOP, ids=str)
async def test_async_iterables_are_sources_too(variant: Variant) -> None:
    async def ticks(start: int) -> AsyncIterator[int]:
        for i in range(start, start + 10):
            await anyio.lowlevel.checkpoint()
            yield i

    tally = Tally()
    await variant([ticks(0), ticks(10), [20, 21]], tally.consumer(variant), consumers=2)
    assert sorted(tally.consumed) == list(range(22))


@pytest.mark.parametrize("variant", ALL, ids=str)
@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"sources": "abc"}, TypeError, "sources"),
        ({"sources": None}, TypeError, "sources"),
        ({"sources": []}, ValueError, "sources"),
        ({"sources": [3]}, TypeError, r"sources\[0\]"),
        ({"consume": "print"}, TypeError, "consume"),
        ({"consumers": 0}, ValueError, "consumers"),
        ({"consumers": "2"}, TypeError, "consumers"),
        ({"maxsize": 0}, ValueError, "maxsize"),
        ({"maxsize": -1}, ValueError, "maxsize"),
        ({"maxsize": 1.5}, TypeError, "maxsize"),
    ],
)
async def test_bad_input_is_refused_naming_the_parameter(
    variant: Variant, kwargs: dict[str, Any], error: type[Exception], name: str,
) -> None:
    tally = Tally()
    args: dict[str, Any] = {"sources": [tally.source([1, 2])], "consume": tally.consumer(variant)}
    args.update(kwargs)
    with pytest.raises(error, match=name):
        await variant(args.pop("sources"), args.pop("consume"), **args)
    assert tally.taken == []


async def test_threads_refuse_an_async_source_before_starting() -> None:
    async def source() -> AsyncIterator[int]:
        yield 1

    before = threading.active_count()
    with pytest.raises(TypeError, match=r"sources\[1\] must be a plain iterable"):
        cp_threads.produce_consume([[1, 2], source()], str)
    assert threading.active_count() == before


@pytest.mark.parametrize("variant", FROM_THREADS, ids=str)
async def test_from_threads_refuses_an_async_source_before_starting(variant: Variant) -> None:
    async def source() -> AsyncIterator[int]:
        yield 1

    async def consume(item: int) -> int:
        return item

    before = threading.active_count()
    with pytest.raises(TypeError, match=r"sources\[1\] must be a plain iterable"):
        await variant([[1, 2], source()], consume)
    assert threading.active_count() == before


@pytest.mark.parametrize("variant", FROM_THREADS, ids=str)
@pytest.mark.parametrize("ending", ["done", "consumer fails", "producer fails", "cancelled"])
async def test_from_threads_leaves_no_producer_thread_behind(variant: Variant,
                                                             ending: str) -> None:
    """However the call ends, its producer threads have ended, including one blocked on a full
    queue and one blocked inside its source."""
    def slow_source() -> Iterator[int]:
        for i in range(1000, 1005):
            time.sleep(0.02)  # a blocking read, as a file or a socket would do
            yield i

    def failing_source() -> Iterator[int]:
        yield 2000
        raise RuntimeError("the source broke")

    async def consume(item: int) -> int:
        if ending == "consumer fails" and item == 3:
            raise ValueError("cannot consume 3")
        await anyio.sleep(0.002)
        return item

    sources: list[Any] = [range(50), range(100, 150), slow_source()]
    if ending == "producer fails":
        sources.append(failing_source())
    before = {t.ident for t in threading.enumerate()}
    reported: list[Any] = []
    errors: list[ProducerConsumerError] = []
    with anyio.move_on_after(0.05 if ending == "cancelled" else 30) as scope:
        try:
            await variant(sources, consume, consumers=1, maxsize=2,
                          on_unprocessed=reported.extend)
        except ProducerConsumerError as exc:
            errors.append(exc)
    assert scope.cancelled_caught == (ending == "cancelled")
    assert len(errors) == (ending in ("consumer fails", "producer fails"))
    if errors:
        assert errors[0].unprocessed == reported
    if ending in ("consumer fails", "producer fails", "cancelled"):
        assert reported, "the call ended with items in flight"
    # Other threads (an earlier test's idle workers) may end meanwhile; none may be added.
    assert {t.ident for t in threading.enumerate()} - before == set()


async def _endless() -> Any:
    for i in itertools.count():
        yield i


async def _consume_at_once(x: int) -> int:
    await asyncio.sleep(0)
    return x


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
@pytest.mark.parametrize("fn", [cp_asyncio.produce_consume, produce_consume_asyncio_sentinel],
                         ids=["produce_consume", "sentinel"])
def test_the_asyncio_variants_stop_when_anyio_cancels_them(fn: Any, how: str) -> None:
    """Endless producers and instant consumers, cancelled by anyio (as under FastAPI)."""
    def call() -> Any:
        return fn([_endless(), _endless()], _consume_at_once, consumers=2, maxsize=4)
    assert stopped_by_anyio(call, how) < 30



@pytest.mark.parametrize("variant", ON_LOOP, ids=str)
async def test_a_failing_consumer_closes_the_async_generator_sources(variant: Variant) -> None:
    sources = [Generator(), Generator()]

    async def consume(x: int) -> int:
        await anyio.lowlevel.checkpoint()
        if x == 7:
            raise ValueError("boom")
        return x

    with pytest.raises(ProducerConsumerError):
        await variant([s.items() for s in sources], consume, consumers=2, maxsize=4)
    assert all(s.closed for s in sources)


@pytest.mark.parametrize("variant", ON_LOOP, ids=str)
async def test_a_cancelled_call_closes_the_async_generator_sources(variant: Variant) -> None:
    sources = [Generator(), Generator()]

    async def consume(x: int) -> int:
        await anyio.sleep(0.01)
        return x

    with anyio.move_on_after(0.05):
        await variant([s.items() for s in sources], consume, consumers=2, maxsize=4)
    assert all(s.closed for s in sources)
