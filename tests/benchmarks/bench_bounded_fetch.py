"""bounded_fetch: every client against the same Go server, in its own process, on loopback."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import pytest

from concurrency_patterns.bounded_fetch import fetch_all_anyio, fetch_all_asyncio, fetch_all_threads
from tests.benchmarks.conftest import Bench, GoProcess, variants

PATTERN = "bounded_fetch"


def floor(params: dict[str, Any]) -> float:
    """No client can beat ceil(N / limit) rounds of the server's delay."""
    return math.ceil(params["urls"] / params["limit"]) * params["delay_ms"] / 1000


def urls(base: str, params: dict[str, Any]) -> list[str]:
    return [f"{base}/item/{i}?delay={params['delay_ms'] / 1000}" for i in range(params["urls"])]


@pytest.mark.parametrize(
    ("variant", "backend", "fetch_all"),
    variants(
        ("asyncio", "asyncio", fetch_all_asyncio),
        ("asyncio+uvloop", "uvloop", fetch_all_asyncio),
        ("anyio/asyncio", "asyncio", fetch_all_anyio),  # aiohttp underneath
        # The same with httpx, to show what the client costs (its pool scans every connection
        # for every queued request).
        ("anyio/asyncio (httpx)", "asyncio", partial(fetch_all_anyio, client="httpx")),
        ("anyio/trio", "trio", fetch_all_anyio),  # httpx underneath
    ),
)
def test_async(bench: Bench, fetch_server: str, variant: str, backend: str, fetch_all: Any) -> None:
    targets, limit = urls(fetch_server, bench.params), bench.params["limit"]

    async def one_round() -> Any:
        return await fetch_all(targets, limit=limit, timeout=30)

    results = bench.on_loop(variant, backend, one_round)
    assert all(r.ok for r in results)


def test_threads(bench: Bench, fetch_server: str) -> None:
    targets, limit = urls(fetch_server, bench.params), bench.params["limit"]
    results = bench.sync("threads", lambda: fetch_all_threads(targets, limit=limit, timeout=30))
    assert all(r.ok for r in results)


def test_go(bench: Bench, go: GoProcess, fetch_server: str) -> None:
    bench.go(go, {"base_url": fetch_server})
