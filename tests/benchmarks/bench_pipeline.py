"""pipeline: byte strings through parse (count the commas) -> transform (2n+1) -> sink (add
up), with 2, 2 and 1 workers and bounded channels between. The work per item is the same C
loop in both languages, so the small items show what a pipeline costs per item — three
channel hand-offs — and the large ones show that it does not grow with the item's size."""

from __future__ import annotations

from typing import Any

import pytest

from concurrency_patterns.pipeline import (
    Stage,
    pipeline_anyio,
    pipeline_asyncio,
    pipeline_threads,
)
from tests.benchmarks.conftest import Bench, GoProcess, variants

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
    return [Stage("parse", parse, workers=w[0], buffer=buffer),
            Stage("transform", transform, workers=w[1], buffer=buffer),
            Stage("sink", store, workers=w[2], buffer=buffer)]


def _thread_stages(params: dict[str, Any], sink: Sink) -> list[Stage]:
    def store(n: int) -> int:
        sink.total += n  # one sink worker: no race
        return n

    w, buffer = params["workers"], params["buffer"]
    return [Stage("parse", lambda item: item.count(b","), workers=w[0], buffer=buffer),
            Stage("transform", lambda n: 2 * n + 1, workers=w[1], buffer=buffer),
            Stage("sink", store, workers=w[2], buffer=buffer)]


@pytest.mark.parametrize(
    ("variant", "backend", "pipeline"),
    variants(
        ("asyncio", "asyncio", pipeline_asyncio),
        ("asyncio+uvloop", "uvloop", pipeline_asyncio),
        ("anyio/asyncio", "asyncio", pipeline_anyio),
        ("anyio/trio", "trio", pipeline_anyio),
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
        outputs = pipeline_threads(items, _thread_stages(bench.params, sink))
        assert len(outputs) == len(items) and sink.total == expected

    bench.sync("threads", one_round)


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)
