"""mutex: the articles' shared counter, with a switch inside the critical section so the lock
is contended — the cost of handing a lock from task to task."""

from __future__ import annotations

from typing import Any

import pytest

from concurrency_patterns.tools.demos.mutex import count_anyio, count_asyncio, count_threads
from tests.benchmarks.conftest import Bench, GoProcess, variants

PATTERN = "mutex"


@pytest.mark.parametrize(
    ("variant", "backend", "count"),
    variants(
        ("asyncio", "asyncio", count_asyncio),
        ("asyncio+uvloop", "uvloop", count_asyncio),
        ("anyio/asyncio", "asyncio", count_anyio),
        ("anyio/trio", "trio", count_anyio),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, count: Any) -> None:
    p = bench.params

    async def one_round() -> int:
        return int(await count(p["tasks"], p["increments"]))

    assert bench.on_loop(variant, backend, one_round) == p["tasks"] * p["increments"]


def test_threads(bench: Bench) -> None:
    p = bench.params
    counter = bench.sync("threads", lambda: count_threads(p["tasks"], p["increments"]))
    assert counter == p["tasks"] * p["increments"]


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)
