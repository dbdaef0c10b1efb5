"""producer_consumer: P producers, C consumers, a bounded queue; the consumer does no work, so
the figure is the cost of moving items through the queue."""

from __future__ import annotations

from typing import Any

import pytest

from concurrency_patterns.producer_consumer import (
    produce_consume_anyio,
    produce_consume_asyncio,
    produce_consume_asyncio_sentinel,
    produce_consume_threads,
)
from concurrency_patterns.tools.workloads import square
from tests.benchmarks.conftest import Bench, GoProcess, variants

PATTERN = "producer_consumer"


def sources(params: dict[str, Any]) -> list[range]:
    per = params["items"] // params["producers"]
    return [range(p * per, (p + 1) * per) for p in range(params["producers"])]


async def consume(x: int) -> int:
    return x * x


@pytest.mark.parametrize(
    ("variant", "backend", "pipeline"),
    variants(
        ("asyncio", "asyncio", produce_consume_asyncio),
        ("asyncio (sentinel)", "asyncio", produce_consume_asyncio_sentinel),
        ("asyncio+uvloop", "uvloop", produce_consume_asyncio),
        ("anyio/asyncio", "asyncio", produce_consume_anyio),
        ("anyio/trio", "trio", produce_consume_anyio),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, pipeline: Any) -> None:
    p = bench.params

    async def one_round() -> Any:
        return await pipeline(sources(p), consume, consumers=p["consumers"], maxsize=p["maxsize"])

    assert len(bench.on_loop(variant, backend, one_round)) == p["items"]


def test_threads(bench: Bench) -> None:
    p = bench.params
    results = bench.sync("threads", lambda: produce_consume_threads(
        sources(p), square, consumers=p["consumers"], maxsize=p["maxsize"]))
    assert len(results) == p["items"]


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)
