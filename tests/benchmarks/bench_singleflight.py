"""singleflight: many callers on a few keys at once, each call taking a millisecond — the cost
of joining a flight, beside Go. The floor is one call's time: every caller of a key shares it."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import anyio
import pytest

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from tests.benchmarks.conftest import Bench, GoProcess, variants

PATTERN = "singleflight"


def floor(params: dict[str, Any]) -> float:
    """Every caller of a key shares one call: no run can beat the time of one call."""
    return float(params["call_ms"]) / 1000


@pytest.mark.parametrize(
    ("variant", "backend", "group"),
    variants(
        ("asyncio", "asyncio", cp_asyncio.SingleFlight),
        ("asyncio+uvloop", "uvloop", cp_asyncio.SingleFlight),
        ("anyio/asyncio", "asyncio", cp_anyio.SingleFlight),
        ("anyio/trio", "trio", cp_anyio.SingleFlight),
    ),
)
def test_async(bench: Bench, variant: str, backend: str, group: Any) -> None:
    p = bench.params
    keys, seconds = [f"k{i}" for i in range(p["keys"])], p["call_ms"] / 1000

    async def call() -> None:
        await anyio.sleep(seconds)

    async def one_round() -> None:
        async with group() as flights, anyio.create_task_group() as tg:
            for i in range(p["callers"]):
                tg.start_soon(flights.do, keys[i % p["keys"]], call)

    bench.on_loop(variant, backend, one_round)


@pytest.mark.parametrize(("variant", "make_event"), variants(
    ("bare asyncio.Event", asyncio.Event),
    ("bare anyio Event", anyio.Event),
))
def test_bare_events(bench: Bench, variant: str, make_event: Any) -> None:
    """The callers waiting on one event per key, set after the call's time: what joining a
    flight costs in the bare primitive, asyncio's and anyio's, to split anyio's cost from
    ours. The callers start in the same anyio task group as the variants' do."""
    p = bench.params
    keys, seconds = [f"k{i}" for i in range(p["keys"])], p["call_ms"] / 1000

    async def one_round() -> None:
        events = {key: make_event() for key in keys}

        async def caller(key: str) -> None:
            await events[key].wait()

        async def call() -> None:
            await anyio.sleep(seconds)
            for event in events.values():
                event.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            for i in range(p["callers"]):
                tg.start_soon(caller, keys[i % p["keys"]])

    bench.on_loop(variant, "asyncio", one_round)


def test_threads(bench: Bench) -> None:
    p = bench.params
    keys, seconds = [f"k{i}" for i in range(p["keys"])], p["call_ms"] / 1000

    def one_round() -> None:
        flights: cp_threads.SingleFlight[Any, None] = cp_threads.SingleFlight()
        threads = [threading.Thread(target=flights.do,
                                    args=(keys[i % p["keys"]], time.sleep, seconds))
                   for i in range(p["callers"])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    bench.sync("threads", one_round)


def test_go(bench: Bench, go: GoProcess) -> None:
    bench.go(go)
