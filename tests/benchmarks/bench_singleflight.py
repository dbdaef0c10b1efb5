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
from tests.benchmarks.conftest import (
    Bench,
    GoProcess,
    hand_rounds,
    hand_written,
    run_hand_written,
    variants,
)

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
        await (asyncio.sleep(seconds) if group is cp_asyncio.SingleFlight else anyio.sleep(seconds))

    async def one_round() -> None:
        if group is cp_asyncio.SingleFlight:  # asyncio's tasks for the asyncio variant
            async with group() as flights, asyncio.TaskGroup() as atg:
                for i in range(p["callers"]):
                    atg.create_task(flights.do(keys[i % p["keys"]], call))
            return
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


# --- hand-written: a dict of the calls in flight, each a future every caller awaits -----------

async def hand_written_asyncio(p: dict[str, Any]) -> None:
    keys, seconds = [f"k{i}" for i in range(p["keys"])], p["call_ms"] / 1000
    flights: dict[str, asyncio.Task[None]] = {}

    async def call() -> None:
        await asyncio.sleep(seconds)

    async def do(key: str) -> None:
        task = flights.get(key)
        if task is None:
            task = flights[key] = asyncio.ensure_future(call())
            task.add_done_callback(lambda _, key=key: flights.pop(key, None))
        await asyncio.shield(task)  # a caller that leaves does not cancel the others' call

    async with asyncio.TaskGroup() as tg:
        for i in range(p["callers"]):
            tg.create_task(do(keys[i % p["keys"]]))


async def hand_written_anyio(p: dict[str, Any]) -> None:
    keys, seconds = [f"k{i}" for i in range(p["keys"])], p["call_ms"] / 1000
    flights: dict[str, anyio.Event] = {}

    async def call(key: str, done: anyio.Event) -> None:
        try:
            await anyio.sleep(seconds)
        finally:
            del flights[key]
            done.set()

    async with anyio.create_task_group() as tg:
        async def do(key: str) -> None:
            done = flights.get(key)
            if done is None:
                done = flights[key] = anyio.Event()
                tg.start_soon(call, key, done)
            await done.wait()

        for i in range(p["callers"]):
            tg.start_soon(do, keys[i % p["keys"]])


def hand_written_threads(p: dict[str, Any]) -> None:
    keys, seconds = [f"k{i}" for i in range(p["keys"])], p["call_ms"] / 1000
    flights: dict[str, threading.Event] = {}
    lock = threading.Lock()

    def do(key: str) -> None:
        with lock:
            done = flights.get(key)
            runner = done is None
            if done is None:
                done = flights[key] = threading.Event()
        if runner:
            try:
                time.sleep(seconds)
            finally:
                with lock:
                    del flights[key]
                done.set()
        else:
            done.wait()

    threads = [threading.Thread(target=do, args=(keys[i % p["keys"]],))
               for i in range(p["callers"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# The hand-written code of each model: its own rows, and the rounds each library row is
# timed alternately with.
HAND = (
    hand_written_asyncio, hand_written_anyio, hand_written_threads,
)
HAND_ROUNDS = hand_rounds(*HAND)


@pytest.mark.parametrize(("variant", "backend", "one_round"), hand_written(*HAND))
def test_hand_written(bench: Bench, variant: str, backend: str, one_round: Any) -> None:
    run_hand_written(bench, variant, backend, one_round)


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
    bench.go(go)  # x/sync's or x/time's version, as a Go service writes it


@pytest.mark.parametrize(("impl", "variant"), [
    ("inside", "go (standard library)"),  # the teaching version, inside.go
])
def test_go_other(bench: Bench, go: GoProcess, impl: str, variant: str) -> None:
    bench.go(go, {"impl": impl}, variant=variant)
