"""bounded_fetch: every client against the same Go server, in its own process, on loopback.

Two kinds of workload. A plain fetch: N URLs, at most ``limit`` in flight. A *crawl*: one URL
in ``fail_every`` is answered 503 or 429 (``Retry-After: 0``) the first time, every request —
retries included — waits for ``max_per_second``, and each busy answer is retried. The crawl's
peer is the stack a user would assemble instead: aiometer for the limit, aiolimiter for the
rate and tenacity for the retries, over one aiohttp session.

Beside the time of each round, every row reports the client's CPU per request (this process's
CPU time in the round, or the Go process's, divided by the URLs): on two cores a Python client
is CPU-bound before it is latency-bound. ``aiometer`` is the library a user would pick instead
(``amap`` over an aiohttp session), measured in the same run.

``test_memory_is_flat`` streams 10,000 and then 100,000 URLs (a lazy generator, read through
``anyio.fetch_stream``), each in a fresh interpreter, and reports the peak RSS (VmHWM) each
reads from its own ``/proc/self/status``: it must grow less than 10 % between them.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import aiohttp
import aiometer
import anyio
import httpx
import pytest
import urllib3
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from concurrency_patterns.tools.compare import baseline_model
from tests.benchmarks.conftest import ROOT, Bench, GoProcess, variants

PATTERN = "bounded_fetch"


def requests(params: dict[str, Any]) -> int:
    """Requests one round sends: every URL, and once more each one answered busy."""
    every = params.get("fail_every")
    return params["urls"] + (-(-params["urls"] // every) if every else 0)


def floor(params: dict[str, Any]) -> float:
    """No client can beat ceil(requests / limit) rounds of the server's delay, nor send its
    requests faster than the rate allows."""
    latency = math.ceil(requests(params) / params["limit"]) * params["delay_ms"] / 1000
    rate = params.get("max_per_second")
    return max(latency, (requests(params) - 1) / rate if rate else 0.0)


def runs_on(test: str, params: dict[str, Any]) -> bool:
    """The crawl's tests run on the crawl workloads, the others on the plain ones; Go on
    both."""
    if test == "test_go":
        return True
    return test.startswith("test_crawl") == bool(params.get("fail_every"))


def urls(base: str, params: dict[str, Any]) -> list[str]:
    return [f"{base}/item/{i}?delay={params['delay_ms'] / 1000}" for i in range(params["urls"])]


_rounds = itertools.count()
_STARTED = time.time_ns()  # with the round, new URLs to a server that outlives this process


def crawl_urls(base: str, params: dict[str, Any]) -> list[str]:
    """This round's crawl URLs: fresh ones (a round number in each), so that every busy
    answer comes again; one in ``fail_every`` answers 503 or 429 the first time."""
    n, every = next(_rounds), params["fail_every"]
    return [f"{base}/item/{i}?delay={params['delay_ms'] / 1000}&round=py-{_STARTED}-{n}"
            + (f"&fail={(503, 429)[i // every % 2]}" if i % every == 0 else "")
            for i in range(params["urls"])]


def aiohttp_session(limit: int, timeout: float = 30) -> aiohttp.ClientSession:
    """One aiohttp session of *limit* connections: the one the peer and hand-written rows
    share their requests over."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit),
                                 timeout=aiohttp.ClientTimeout(total=timeout))


async def aiometer_fetch(targets: list[str], *, limit: int, timeout: float) -> list[Any]:
    """The peer: aiometer.amap over one aiohttp session, as its documentation shows."""
    async with aiohttp_session(limit, timeout) as session:

        async def get(url: str) -> int:
            async with session.get(url) as response:
                await response.read()
                return response.status

        async with aiometer.amap(get, targets, max_at_once=limit) as results:
            return [status async for status in results]


@pytest.mark.parametrize(
    ("variant", "backend", "fetch_all"),
    variants(
        ("asyncio", "asyncio", cp_asyncio.fetch),  # aiohttp
        ("asyncio+uvloop", "uvloop", cp_asyncio.fetch),
        # The lean client: each worker's own connections, answers parsed by llhttp.
        ("asyncio (httptools)", "asyncio", partial(cp_asyncio.fetch, client="httptools")),
        ("asyncio+uvloop (httptools)", "uvloop", partial(cp_asyncio.fetch, client="httptools")),
        ("anyio/asyncio", "asyncio", cp_anyio.fetch),  # aiohttp underneath
        ("anyio/asyncio (httptools)", "asyncio", partial(cp_anyio.fetch, client="httptools")),
        # The full portable client on asyncio too, to show what h11 costs against aiohttp.
        ("anyio/asyncio (httpcore)", "asyncio", partial(cp_anyio.fetch, client="httpcore")),
        ("anyio/trio", "trio", cp_anyio.fetch),  # httptools over anyio's streams
        ("anyio/trio (httpcore)", "trio", partial(cp_anyio.fetch, client="httpcore")),
        ("aiometer (peer)", "asyncio", aiometer_fetch),
    ),
)
def test_async(bench: Bench, fetch_server: str, variant: str, backend: str, fetch_all: Any) -> None:
    targets, limit = urls(fetch_server, bench.params), bench.params["limit"]

    async def one_round() -> Any:
        return await fetch_all(targets, limit=limit, timeout=30)

    # The row is timed alternately with the hand-written code of its model.
    hand = {"asyncio": hand_written_asyncio, "anyio/asyncio": hand_written_anyio_asyncio,
            "anyio/trio": hand_written_anyio_trio}.get(baseline_model(variant) or "")
    results = bench.on_loop(variant, backend, one_round,
                            hand=hand and partial(hand, targets, limit))
    assert all(r == 200 if isinstance(r, int) else r.ok for r in results)


@pytest.mark.parametrize(("variant", "client"),
                         variants(("threads", "httptools"), ("threads (httpcore)", "httpcore")))
def test_threads(bench: Bench, fetch_server: str, variant: str, client: Any) -> None:
    targets, limit = urls(fetch_server, bench.params), bench.params["limit"]
    results = bench.sync(variant, lambda: cp_threads.fetch(targets, limit=limit, timeout=30,
                                                            client=client),
                         hand=lambda: hand_written_threads(targets, limit))
    assert all(r.ok for r in results)


# --- hand-written: a semaphore around each request of one shared client ------------------------

async def hand_written_asyncio(targets: list[str], limit: int) -> list[int]:
    """aiohttp, an asyncio.Semaphore and gather: the articles' version, with one session."""
    sem = asyncio.Semaphore(limit)
    async with aiohttp_session(limit) as session:
        async def get(url: str) -> int:
            async with sem, session.get(url) as response:
                await response.read()
                return response.status

        return await asyncio.gather(*(get(url) for url in targets))


async def _anyio_bounded(targets: list[str], limit: int,
                         status: Callable[[str], Awaitable[int]]) -> list[int]:
    """A task group and a CapacityLimiter around ``status(url)``: anyio's way, on either loop."""
    limiter, statuses = anyio.CapacityLimiter(limit), [0] * len(targets)

    async def get(i: int, url: str) -> None:
        async with limiter:
            statuses[i] = await status(url)

    async with anyio.create_task_group() as tg:
        for i, url in enumerate(targets):
            tg.start_soon(get, i, url)
    return statuses


async def hand_written_anyio_asyncio(targets: list[str], limit: int) -> list[int]:
    """The bound around one aiohttp session: anyio code on asyncio, with the client the
    library's anyio fetch uses there too, so that the pattern is what differs."""
    async with aiohttp_session(limit) as session:
        async def status(url: str) -> int:
            async with session.get(url) as response:
                await response.read()
                return response.status

        return await _anyio_bounded(targets, limit, status)


async def hand_written_anyio_trio(targets: list[str], limit: int) -> list[int]:
    """The bound around httpx's AsyncClient, the client a trio user has. Its shared pool
    (httpcore's) rescans every connection whenever a request comes or goes: at 100
    connections that, not the pattern, is most of its time."""
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=limit,
                                                     max_keepalive_connections=limit),
                                 timeout=30) as client:
        async def status(url: str) -> int:
            return (await client.get(url)).status_code

        return await _anyio_bounded(targets, limit, status)


def hand_written_threads(targets: list[str], limit: int) -> list[int]:
    """A ThreadPoolExecutor of *limit* threads sharing one urllib3 PoolManager (requests'
    engine, safe to share between threads) of as many connections."""
    with (urllib3.PoolManager(maxsize=limit, block=True, timeout=30, retries=False) as http,
          ThreadPoolExecutor(limit) as pool):
        return list(pool.map(lambda url: http.request("GET", url).status, targets))


@pytest.mark.parametrize(("variant", "backend", "fetch_all"), variants(
    ("hand-written (asyncio)", "asyncio", hand_written_asyncio),
    ("hand-written (anyio/asyncio)", "asyncio", hand_written_anyio_asyncio),
    ("hand-written (anyio/trio)", "trio", hand_written_anyio_trio),
))
def test_hand_written(
    bench: Bench, fetch_server: str, variant: str, backend: str, fetch_all: Any,
) -> None:
    targets, limit = urls(fetch_server, bench.params), bench.params["limit"]
    statuses = bench.on_loop(variant, backend, lambda: fetch_all(targets, limit))
    assert statuses == [200] * len(targets)


def test_hand_written_threads(bench: Bench, fetch_server: str) -> None:
    targets, limit = urls(fetch_server, bench.params), bench.params["limit"]
    statuses = bench.sync("hand-written (threads)", lambda: hand_written_threads(targets, limit))
    assert statuses == [200] * len(targets)


def test_go(bench: Bench, go: GoProcess, fetch_server: str) -> None:
    bench.go(go, {"base_url": fetch_server})


# --- the crawl: busy answers retried, every request paced ------------------------------------

@pytest.mark.parametrize(
    ("variant", "backend", "fetch_all"),
    variants(
        ("asyncio", "asyncio", cp_asyncio.fetch),  # aiohttp
        ("asyncio (httptools)", "asyncio", partial(cp_asyncio.fetch, client="httptools")),
        ("anyio/asyncio", "asyncio", cp_anyio.fetch),
        ("anyio/trio", "trio", cp_anyio.fetch),
        ("aiometer + aiolimiter + tenacity (peer)", "asyncio", None),
        ("hand-written (asyncio)", "asyncio", None),
    ),
)
def test_crawl(bench: Bench, fetch_server: str, variant: str, backend: str,
               fetch_all: Any) -> None:
    params = bench.params
    limit, rate, retries = params["limit"], params["max_per_second"], params["retries"]

    async def one_round() -> list[int]:
        targets = crawl_urls(fetch_server, params)
        if variant.startswith("aiometer"):
            return await peer_stack(targets, limit=limit, rate=rate, retries=retries)
        if variant.startswith("hand-written"):
            return await hand_written_crawl(targets, limit=limit, rate=rate, retries=retries)
        # --8<-- [start:library]
        results = await fetch_all(targets, limit=limit, max_per_second=rate, retries=retries,
                                  timeout=30)
        return [r.status for r in results]
        # --8<-- [end:library]

    async def hand_round() -> list[int]:  # what an asyncio row is timed alternately with
        return await hand_written_crawl(crawl_urls(fetch_server, params), limit=limit,
                                        rate=rate, retries=retries)

    paired = baseline_model(variant) == "asyncio"
    statuses = bench.on_loop(variant, backend, one_round, hand=hand_round if paired else None)
    assert statuses == [200] * params["urls"]


def test_crawl_threads(bench: Bench, fetch_server: str) -> None:
    params = bench.params
    results = bench.sync("threads", lambda: cp_threads.fetch(
        crawl_urls(fetch_server, params), limit=params["limit"],
        max_per_second=params["max_per_second"], retries=params["retries"], timeout=30))
    assert [r.status for r in results] == [200] * params["urls"]


# --8<-- [start:peer-stack]
class Busy(Exception):
    """A 429 or 5xx answer, raised for tenacity to retry."""


async def peer_stack(targets: list[str], *, limit: int, rate: float, retries: int) -> list[int]:
    """The stack a user assembles without this library, each piece as its documentation shows:
    aiometer.run_all bounds the requests in flight, aiolimiter paces them, tenacity retries a
    busy answer or a connection error with exponential backoff and jitter."""
    # One acquisition per 1 / rate seconds: burst 1, as the other rows. (AsyncLimiter(rate, 1)
    # would let a whole second's worth through at once.)
    limiter = AsyncLimiter(1, 1 / rate)
    async with aiohttp_session(limit) as session:

        async def get_once(url: str) -> int:
            # Every attempt waits for its slot.
            async with limiter, session.get(url) as response:
                await response.read()
                if response.status in (429, 502, 503, 504):
                    raise Busy(response.status)
                return response.status

        async def get(url: str) -> int:
            async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(retries + 1),
                    wait=wait_random_exponential(multiplier=0.1, max=10),
                    retry=retry_if_exception_type((Busy, aiohttp.ClientConnectionError)),
                    reraise=True):
                with attempt:
                    return await get_once(url)
            raise AssertionError("unreachable")

        # run_all keeps the input order, as the other rows do.
        return await aiometer.run_all([partial(get, url) for url in targets],
                                      max_at_once=limit)
# --8<-- [end:peer-stack]


async def hand_written_crawl(targets: list[str], *, limit: int, rate: float,
                             retries: int) -> list[int]:
    """What a competent user writes without any library: an asyncio.Semaphore for the limit,
    a shared "next slot" time for the rate (each request books the next 1 / rate), and a
    retry loop with full-jitter backoff that honours Retry-After in seconds."""
    sem, interval = asyncio.Semaphore(limit), 1 / rate
    loop = asyncio.get_running_loop()
    next_slot = loop.time()

    async def paced() -> None:
        nonlocal next_slot
        now = loop.time()
        slot = max(now, next_slot)
        next_slot = slot + interval
        if slot > now:
            await asyncio.sleep(slot - now)

    async with aiohttp_session(limit) as session:
        async def get(url: str) -> int:
            async with sem:
                for attempt in range(retries + 1):
                    await paced()
                    try:
                        async with session.get(url) as response:
                            await response.read()
                            status = response.status
                            after = response.headers.get("Retry-After")
                    except aiohttp.ClientConnectionError:
                        status, after = 0, None
                    if status not in (0, 429, 502, 503, 504) or attempt == retries:
                        return status
                    await asyncio.sleep(float(after) if after and after.isdigit() else
                                        random.uniform(0, min(10, 0.1 * 2 ** attempt)))
                return status

        return await asyncio.gather(*(get(url) for url in targets))


# --- memory: flat from 10,000 to 100,000 URLs -----------------------------------------------------

PROBE = """
import json, sys, anyio
from concurrency_patterns.anyio import fetch_stream
base, count, backend = sys.argv[1], int(sys.argv[2]), sys.argv[3]
urls = (f"{base}/item/{i}" for i in range(count))  # lazy: never a list of every URL
async def main():
    n = 0
    async with fetch_stream(urls, limit=100) as results:
        async for r in results:
            n += r.ok
    return n
done = anyio.run(main, backend=backend)
# This process's own peak (VmHWM); getrusage's maximum in a child carries its parent's.
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"ok": done, "peak_rss_kib": peak}))
"""


def peak_rss(base: str, count: int, backend: str) -> int:
    """Peak RSS (KiB) of a fresh interpreter that streams *count* URLs from *base*. Its
    time limit is generous: on the free-threaded build (no C parser for aiohttp) 100,000 URLs
    take minutes."""
    out = subprocess.run([sys.executable, "-c", PROBE, base, str(count), backend], cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=1800)
    answer = json.loads(out.stdout)
    assert answer["ok"] == count
    kib: int = answer["peak_rss_kib"]
    return kib


# Two fresh interpreters stream 110,000 URLs: about a minute on CPython, several on the
# free-threaded build, which has no C parser for aiohttp. Longer than the suite's 120 s.
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_memory_is_flat(
    request: pytest.FixtureRequest, fast_server: str, backend: str, benchmark: Any,
) -> None:
    # Timed runs use the sizes the claim is about; the smoke run (plain pytest) and quick
    # runs (compare --quick), small ones.
    full = not benchmark.disabled and request.config.getoption("workloads") != "quick"
    small, large = (10_000, 100_000) if full else (1_000, 5_000)
    low, high = peak_rss(fast_server, small, backend), peak_rss(fast_server, large, backend)
    growth = high / low - 1
    benchmark.group = "bounded_fetch: peak RSS, streaming"
    benchmark.name = f"anyio/{backend}: {small:,} -> {large:,} URLs"
    benchmark.extra_info.update(pattern=PATTERN, memory={
        "pattern": PATTERN, "variant": "anyio.fetch_stream", "backend": backend,
        "items": [small, large], "peak_rss_kib": [low, high], "growth": growth,
        "flat_expected": True})
    benchmark.pedantic(lambda: None, rounds=1)
    assert growth < 0.10, f"peak RSS grew {growth:.1%} from {small:,} to {large:,} URLs"
