"""producer_consumer: P producers, C consumers, a bounded queue; the consumer does no work, so
the figure is the cost of moving items through the queue.

The "threads → loop" rows have each producer in a thread and the consumers on the event loop,
so every item crosses from a thread to the loop. Beside ours, janus, the queue a user would
pick for that (asyncio only), and bare culsans, the queue ours is built on, run the same
exercise: producer threads put, consumer tasks get, the queue is shut down when the producers
are done. They keep no ledger and supervise nothing, so the gap to bare culsans is what this
project's contract costs.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any

import anyio
import culsans
import janus
import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from concurrency_patterns.producer_consumer import produce_consume_asyncio_sentinel
from concurrency_patterns.tools.workloads import square
from tests.benchmarks import memory
from tests.benchmarks.conftest import (
    Bench,
    GoProcess,
    hand_rounds,
    hand_written,
    run_hand_written,
    variants,
)

PATTERN = "producer_consumer"


def sources(params: dict[str, Any]) -> list[range]:
    per = params["items"] // params["producers"]
    return [range(p * per, (p + 1) * per) for p in range(params["producers"])]


async def consume(x: int) -> int:
    return x * x


@pytest.mark.parametrize(
    ("variant", "backend", "pipeline"),
    variants(
        ("asyncio", "asyncio", cp_asyncio.produce_consume),
        ("asyncio (sentinel)", "asyncio", produce_consume_asyncio_sentinel),
        ("asyncio+uvloop", "uvloop", cp_asyncio.produce_consume),
        ("anyio/asyncio", "asyncio", cp_anyio.produce_consume),
        ("anyio/trio", "trio", cp_anyio.produce_consume),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, pipeline: Any) -> None:
    p = bench.params

    async def one_round() -> Any:
        return await pipeline(sources(p), consume, consumers=p["consumers"], maxsize=p["maxsize"])

    assert len(bench.on_loop(variant, backend, one_round)) == p["items"]


@pytest.mark.parametrize(
    ("variant", "backend"),
    variants(
        ("threads → asyncio", "asyncio"),
        ("threads → asyncio+uvloop", "uvloop"),
        ("threads → trio", "trio"),
    ),
)
def test_from_threads(bench: Bench, variant: str, backend: str) -> None:
    p = bench.params

    async def one_round() -> Any:
        return await cp_anyio.produce_consume_from_threads(
            sources(p), consume, consumers=p["consumers"], maxsize=p["maxsize"])

    assert len(bench.on_loop(variant, backend, one_round)) == p["items"]


async def bare_bridge(p: dict[str, Any], kind: str) -> list[int]:
    """Producer threads put, consumer tasks get, and the queue is shut down once every
    producer has finished: the exercise the "threads → loop" rows run, with nothing else."""
    q: Any = janus.Queue(p["maxsize"]) if kind == "janus" else culsans.Queue(p["maxsize"])
    shut_down = janus.AsyncQueueShutDown if kind == "janus" else culsans.AsyncQueueShutDown
    results: list[int] = []

    def produce(source: range) -> None:
        for item in source:
            q.sync_q.put(item)

    async def consumer() -> None:
        while True:
            try:
                item = await q.async_q.get()
            except shut_down:
                return
            results.append(await consume(item))

    threads = [threading.Thread(target=produce, args=(s,)) for s in sources(p)]
    async with asyncio.TaskGroup() as tg:
        for _ in range(p["consumers"]):
            tg.create_task(consumer())
        for t in threads:
            t.start()
        await asyncio.to_thread(lambda: [t.join() for t in threads])
        q.shutdown()
    return results


@pytest.mark.parametrize(
    ("variant", "kind"),
    variants(("threads → asyncio: janus (peer)", "janus"),
             ("threads → asyncio: bare culsans", "culsans")),
)
def test_bare_bridge(bench: Bench, variant: str, kind: str) -> None:
    p = bench.params
    assert len(bench.on_loop(variant, "asyncio", lambda: bare_bridge(p, kind))) == p["items"]


# --- hand-written: a bounded queue, producer and consumer tasks, a sentinel per consumer -------

async def hand_written_asyncio(p: dict[str, Any]) -> list[int]:
    q: asyncio.Queue[int | None] = asyncio.Queue(p["maxsize"])
    results: list[int] = []

    async def producer(source: range) -> None:
        for item in source:
            await q.put(item)

    async def consumer() -> None:
        while (item := await q.get()) is not None:
            results.append(await consume(item))

    async with asyncio.TaskGroup() as tg:
        for _ in range(p["consumers"]):
            tg.create_task(consumer())
        async with asyncio.TaskGroup() as producers:
            for source in sources(p):
                producers.create_task(producer(source))
        for _ in range(p["consumers"]):
            await q.put(None)  # one "no more" for each consumer
    return results


async def hand_written_anyio(p: dict[str, Any]) -> list[int]:
    send, receive = anyio.create_memory_object_stream[int](p["maxsize"])
    results: list[int] = []

    async def producer(source: range, send: Any) -> None:
        async with send:
            for item in source:
                await send.send(item)

    async def consumer(receive: Any) -> None:
        async with receive:
            async for item in receive:  # ends when every producer's clone is closed
                results.append(await consume(item))

    async with anyio.create_task_group() as tg, send, receive:
        for source in sources(p):
            tg.start_soon(producer, source, send.clone())
        for _ in range(p["consumers"]):
            tg.start_soon(consumer, receive.clone())
    return results


def hand_written_threads(p: dict[str, Any]) -> list[int]:
    q: queue.Queue[int | None] = queue.Queue(p["maxsize"])
    results: list[int] = []

    def producer(source: range) -> None:
        for item in source:
            q.put(item)

    def consumer() -> None:
        while (item := q.get()) is not None:
            results.append(square(item))

    consumers = [threading.Thread(target=consumer) for _ in range(p["consumers"])]
    producers = [threading.Thread(target=producer, args=(s,)) for s in sources(p)]
    for t in consumers + producers:
        t.start()
    for t in producers:
        t.join()
    for _ in consumers:
        q.put(None)
    for t in consumers:
        t.join()
    return results


# The hand-written code of each model: its own rows, and the rounds each library row is
# timed alternately with.
HAND = (
    hand_written_asyncio, hand_written_anyio, hand_written_threads,
)
HAND_ROUNDS = hand_rounds(*HAND)


@pytest.mark.parametrize(("variant", "backend", "one_round"), hand_written(*HAND))
def test_hand_written(bench: Bench, variant: str, backend: str, one_round: Any) -> None:
    assert len(run_hand_written(bench, variant, backend, one_round)) == bench.params["items"]


def test_threads(bench: Bench) -> None:
    p = bench.params
    results = bench.sync("threads", lambda: cp_threads.produce_consume(
        sources(p), square, consumers=p["consumers"], maxsize=p["maxsize"]))
    assert len(results) == p["items"]


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)


# --- memory: flat from 10,000 to 100,000 items ----------------------------------------------------

@pytest.mark.timeout(1800)
@pytest.mark.parametrize("probe", ["producer_consumer: anyio.produce_consume",
                                   "producer_consumer: hand-written (anyio)"])
def test_memory_is_flat(request: pytest.FixtureRequest, benchmark: Any, probe: str) -> None:
    growth = memory.measure(request, benchmark, PATTERN, probe, (10_000, 100_000))
    assert growth < memory.FLAT, f"peak RSS grew {growth:.1%}"
