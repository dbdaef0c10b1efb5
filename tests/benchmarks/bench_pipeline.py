"""pipeline: byte strings through parse (count the commas) -> transform (2n+1) -> sink (add
up), with 2, 2 and 1 workers and bounded channels between. The work per item is the same C
loop in both languages, so the small items show what a pipeline costs per item — three
channel hand-offs — and the large ones show that it does not grow with the item's size."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from typing import Any

import anyio
import pytest

from concurrency_patterns import Stage
from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.benchmarks import memory
from tests.benchmarks.conftest import (
    Bench,
    GoProcess,
    hand_rounds,
    hand_written,
    run_hand_written,
    variants,
)

PATTERN = "pipeline"


def _items(params: dict[str, Any]) -> list[bytes]:
    item = b"1234567," * (params["size"] // 8)
    return [item] * params["items"]


def _expected(params: dict[str, Any]) -> int:
    return int(params["items"]) * (2 * (int(params["size"]) // 8) + 1)


class Sink:
    total = 0


def _async_stages(params: dict[str, Any], sink: Sink) -> list[Stage]:
    async def parse(item: bytes) -> int:
        return item.count(b",")

    async def transform(n: int) -> int:
        return 2 * n + 1

    async def store(n: int) -> int:
        sink.total += n
        return n

    w, buffer = params["workers"], params["buffer"]
    return [Stage("parse", parse, limit=w[0], buffer=buffer),
            Stage("transform", transform, limit=w[1], buffer=buffer),
            Stage("sink", store, limit=w[2], buffer=buffer)]


def _thread_stages(params: dict[str, Any], sink: Sink) -> list[Stage]:
    def store(n: int) -> int:
        sink.total += n  # one sink worker: no race
        return n

    w, buffer = params["workers"], params["buffer"]
    return [Stage("parse", lambda item: item.count(b","), limit=w[0], buffer=buffer),
            Stage("transform", lambda n: 2 * n + 1, limit=w[1], buffer=buffer),
            Stage("sink", store, limit=w[2], buffer=buffer)]


async def _bare_asyncio(items: list[bytes], buffer: int) -> int:
    """Three hand-offs through bounded ``asyncio.Queue``s, one task a stage, the work inline:
    the bare channel, with none of the pipeline's bookkeeping."""
    queues: list[asyncio.Queue[Any]] = [asyncio.Queue(buffer) for _ in range(3)]
    total = 0

    async def source() -> None:
        for item in items:
            await queues[0].put(item)
        await queues[0].put(None)

    async def stage(i: int, work: Any) -> None:
        while (item := await queues[i].get()) is not None:
            await queues[i + 1].put(work(item))
        await queues[i + 1].put(None)

    async def sink() -> None:
        nonlocal total
        while (n := await queues[2].get()) is not None:
            total += n

    async with asyncio.TaskGroup() as tg:
        tg.create_task(source())
        tg.create_task(stage(0, lambda item: item.count(b",")))
        tg.create_task(stage(1, lambda n: 2 * n + 1))
        tg.create_task(sink())
    return total


async def _bare_anyio(items: list[bytes], buffer: int) -> int:
    """The same three hand-offs through anyio memory object streams."""
    streams = [anyio.create_memory_object_stream[Any](buffer) for _ in range(3)]
    total = 0

    async def source() -> None:
        async with streams[0][0] as send:
            for item in items:
                await send.send(item)

    async def stage(i: int, work: Any) -> None:
        async with streams[i][1] as receive, streams[i + 1][0] as send:
            async for item in receive:
                await send.send(work(item))

    async def sink() -> None:
        nonlocal total
        async with streams[2][1] as receive:
            async for n in receive:
                total += n

    async with anyio.create_task_group() as tg:
        tg.start_soon(source)
        tg.start_soon(stage, 0, lambda item: item.count(b","))
        tg.start_soon(stage, 1, lambda n: 2 * n + 1)
        tg.start_soon(sink)
    return total


@pytest.mark.parametrize(("variant", "bare"), variants(
    ("bare channels: asyncio.Queue", _bare_asyncio),
    ("bare channels: anyio memory streams", _bare_anyio),
))
def test_bare_channels(bench: Bench, variant: str, bare: Any) -> None:
    """What three hand-offs cost in the bare channel, asyncio's and anyio's, to split anyio's
    cost from the pipeline's own."""
    items, expected = _items(bench.params), _expected(bench.params)

    async def one_round() -> None:
        assert await bare(items, bench.params["buffer"]) == expected

    bench.on_loop(variant, "asyncio", one_round)


@pytest.mark.parametrize(
    ("variant", "backend", "pipeline"),
    variants(
        ("asyncio", "asyncio", cp_asyncio.pipeline),
        ("asyncio+uvloop", "uvloop", cp_asyncio.pipeline),
        ("anyio/asyncio", "asyncio", cp_anyio.pipeline),
        ("anyio/trio", "trio", cp_anyio.pipeline),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, pipeline: Any) -> None:
    items, expected = _items(bench.params), _expected(bench.params)

    async def one_round() -> None:
        sink = Sink()
        outputs = await pipeline(items, _async_stages(bench.params, sink))
        assert len(outputs) == len(items) and sink.total == expected

    bench.on_loop(variant, backend, one_round)


def test_threads(bench: Bench) -> None:
    items, expected = _items(bench.params), _expected(bench.params)

    def one_round() -> None:
        sink = Sink()
        outputs = cp_threads.pipeline(items, _thread_stages(bench.params, sink))
        assert len(outputs) == len(items) and sink.total == expected

    bench.sync("threads", one_round)


# --- hand-written: queues between stages, N workers a stage, a "stop" for each worker ----------

_STOP = object()


def _async_work(sink: Sink) -> list[Any]:
    async def parse(item: bytes) -> int:
        return item.count(b",")

    async def transform(n: int) -> int:
        return 2 * n + 1

    async def store(n: int) -> int:
        sink.total += n
        return n

    return [parse, transform, store]


async def hand_written_asyncio(p: dict[str, Any]) -> None:
    items, workers, sink, outputs = _items(p), p["workers"], Sink(), []
    work = _async_work(sink)
    queues: list[asyncio.Queue[Any]] = [asyncio.Queue(p["buffer"]) for _ in work]

    async def source() -> None:
        for item in items:
            await queues[0].put(item)
        for _ in range(workers[0]):
            await queues[0].put(_STOP)

    async def worker(i: int) -> None:
        while (x := await queues[i].get()) is not _STOP:
            y = await work[i](x)
            if i + 1 < len(work):
                await queues[i + 1].put(y)
            else:
                outputs.append(y)

    async def stage(i: int) -> None:
        async with asyncio.TaskGroup() as tg:
            for _ in range(workers[i]):
                tg.create_task(worker(i))
        if i + 1 < len(work):  # this stage is done: one "stop" for each worker of the next
            for _ in range(workers[i + 1]):
                await queues[i + 1].put(_STOP)

    async with asyncio.TaskGroup() as tg:
        tg.create_task(source())
        for i in range(len(work)):
            tg.create_task(stage(i))
    assert len(outputs) == len(items) and sink.total == _expected(p)


async def hand_written_anyio(p: dict[str, Any]) -> None:
    items, workers, sink, outputs = _items(p), p["workers"], Sink(), []
    work = _async_work(sink)
    sends, receives = zip(*[anyio.create_memory_object_stream[Any](p["buffer"]) for _ in work],
                          strict=True)

    async def source(send: Any) -> None:
        with send:
            for item in items:
                await send.send(item)

    async def worker(i: int, receive: Any, send: Any) -> None:
        with receive, send or contextlib.nullcontext():  # the last clone closed ends the next
            async for x in receive:
                y = await work[i](x)
                if send is None:
                    outputs.append(y)
                else:
                    await send.send(y)

    async with anyio.create_task_group() as tg:
        tg.start_soon(source, sends[0])
        for i in range(len(work)):
            after = sends[i + 1] if i + 1 < len(work) else None
            for _ in range(workers[i]):
                tg.start_soon(worker, i, receives[i].clone(), after and after.clone())
            receives[i].close()
            if after is not None:
                after.close()
    assert len(outputs) == len(items) and sink.total == _expected(p)


def hand_written_threads(p: dict[str, Any]) -> None:
    items, workers, sink, outputs = _items(p), p["workers"], Sink(), []

    def store(n: int) -> int:
        sink.total += n  # one sink worker: no race
        return n

    work = [lambda item: item.count(b","), lambda n: 2 * n + 1, store]
    queues: list[queue.Queue[Any]] = [queue.Queue(p["buffer"]) for _ in work]

    def worker(i: int) -> None:
        while (x := queues[i].get()) is not _STOP:
            y = work[i](x)
            if i + 1 < len(work):
                queues[i + 1].put(y)
            else:
                outputs.append(y)

    stages = [[threading.Thread(target=worker, args=(i,)) for _ in range(workers[i])]
              for i in range(len(work))]
    for stage in stages:
        for t in stage:
            t.start()
    for item in items:
        queues[0].put(item)
    for i, stage in enumerate(stages):
        for _ in stage:
            queues[i].put(_STOP)
        for t in stage:
            t.join()
    assert len(outputs) == len(items) and sink.total == _expected(p)


# The hand-written code of each model: its own rows, and the rounds each library row is
# timed alternately with.
HAND = (
    hand_written_asyncio, hand_written_anyio, hand_written_threads,
)
HAND_ROUNDS = hand_rounds(*HAND)


@pytest.mark.parametrize(("variant", "backend", "one_round"), hand_written(*HAND))
def test_hand_written(bench: Bench, variant: str, backend: str, one_round: Any) -> None:
    run_hand_written(bench, variant, backend, one_round)


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)


# --- memory: flat from 10,000 to 100,000 items ----------------------------------------------------

@pytest.mark.timeout(1800)
@pytest.mark.parametrize("probe", ["pipeline: anyio.pipeline_stream",
                                   "pipeline: hand-written (anyio)"])
def test_memory_is_flat(request: pytest.FixtureRequest, benchmark: Any, probe: str) -> None:
    growth = memory.measure(request, benchmark, PATTERN, probe, (10_000, 100_000))
    assert growth < memory.FLAT, f"peak RSS grew {growth:.1%}"
