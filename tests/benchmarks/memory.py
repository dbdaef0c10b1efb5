"""Peak memory of the streaming patterns, read where it is spent.

Each probe runs in a fresh interpreter (``python -m tests.benchmarks.memory PROBE COUNT``),
streams COUNT items through one pattern — or through the code a user writes without it —
and prints its own peak RSS, ``VmHWM`` from ``/proc/self/status``. ``ru_maxrss`` would not do:
in a child of pytest it carries pytest's own high-water mark across fork and exec.

A pattern streams in flat memory when its peak grows less than ``FLAT`` between a small and a
large run. The *leaky* probe is the pool's stream with a consumer that keeps every result: it
must fail that test, which proves the probe can see memory grow at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from tests.benchmarks.conftest import ROOT

FLAT = 0.10  # at most 10 % more peak RSS for the large run than for the small one
PAYLOAD = 1024  # each pool job returns this many fresh bytes: a result worth keeping, or not


async def _payload(x: int) -> bytes:
    return bytes(PAYLOAD)  # a fresh object each time


async def pool_stream(count: int, keep: bool = False) -> int:
    from concurrency_patterns import anyio as cp_anyio

    kept, done = [], 0
    async with cp_anyio.map_stream(_payload, range(count), limit=8) as results:
        async for r in results:
            done += 1
            if keep:  # the leak: every result held to the end
                kept.append(r)
    return done


async def pool_leaky(count: int) -> int:
    return await pool_stream(count, keep=True)


async def pool_hand_written(count: int) -> int:
    """A task group and a limiter, as a user writes the pool: one task per job, all at once."""
    limiter, done = anyio.CapacityLimiter(8), 0

    async def run(x: int) -> None:
        nonlocal done
        async with limiter:
            await _payload(x)
            done += 1

    async with anyio.create_task_group() as tg:
        for x in range(count):
            tg.start_soon(run, x)
    return done


async def _step(x: Any) -> Any:
    return x


async def pipeline_stream(count: int) -> int:
    from concurrency_patterns import Stage
    from concurrency_patterns import anyio as cp_anyio

    stages = (Stage("a", _step, limit=2), Stage("b", _step, limit=2), Stage("c", _step))
    done = 0
    async with cp_anyio.pipeline_stream(range(count), stages) as outputs:
        async for _ in outputs:
            done += 1
    return done


async def pipeline_hand_written(count: int) -> int:
    """Memory object streams between the stages, as bench_pipeline's hand-written row."""
    sends, receives = zip(*[anyio.create_memory_object_stream[Any](64) for _ in range(3)],
                          strict=True)
    done = 0

    async def source() -> None:
        with sends[0]:
            for x in range(count):
                await sends[0].send(x)

    async def stage(i: int) -> None:
        nonlocal done
        with receives[i]:
            async for x in receives[i]:
                y = await _step(x)
                if i + 1 < len(sends):
                    await sends[i + 1].send(y)
                else:
                    done += 1
        if i + 1 < len(sends):
            sends[i + 1].close()

    async with anyio.create_task_group() as tg:
        tg.start_soon(source)
        for i in range(3):
            tg.start_soon(stage, i)
    return done


async def _consume(x: int) -> None:
    return None


def _sources(count: int) -> list[range]:
    per = count // 4
    return [range(p * per, (p + 1) * per) for p in range(4)]


async def producer_consumer(count: int) -> int:
    from concurrency_patterns import anyio as cp_anyio

    results = await cp_anyio.produce_consume(_sources(count), _consume, consumers=4, maxsize=64)
    return len(results)


async def producer_consumer_hand_written(count: int) -> int:
    send, receive = anyio.create_memory_object_stream[int](64)
    results: list[None] = []

    async def producer(source: range, send: Any) -> None:
        with send:
            for x in source:
                await send.send(x)

    async def consumer(receive: Any) -> None:
        with receive:
            async for x in receive:
                results.append(await _consume(x))

    async with anyio.create_task_group() as tg:
        with send, receive:
            for source in _sources(count):
                tg.start_soon(producer, source, send.clone())
            for _ in range(4):
                tg.start_soon(consumer, receive.clone())
    return len(results)


KEY_RATE = 1000.0  # per key: a key is idle 1 ms after its use


async def keyed_limiter(count: int) -> int:
    """*count* distinct hosts, each acquired once: the keyed limiter drops the idle ones."""
    from concurrency_patterns import anyio as cp_anyio

    limiter, done = cp_anyio.KeyedRateLimiter(KEY_RATE), 0
    for i in range(count):
        done += limiter.try_acquire(f"host-{i}.example")
        if i % 1000 == 999:
            await anyio.sleep(0.002)  # time passes, as it does between a crawl's requests
    return done


async def keyed_hand_written(count: int) -> int:
    """A limiter per host in a dict, as a user writes it: every host ever seen is kept."""
    from concurrency_patterns import anyio as cp_anyio

    limiters: dict[str, Any] = {}
    done = 0
    for i in range(count):
        host = f"host-{i}.example"
        limiter = limiters.get(host)
        if limiter is None:
            limiter = limiters[host] = cp_anyio.RateLimiter(KEY_RATE)
        done += limiter.try_acquire()
        if i % 1000 == 999:
            await anyio.sleep(0.002)
    return done


PROBES: dict[str, Callable[[int], Awaitable[int]]] = {
    "rate_limit: anyio.KeyedRateLimiter, a key per host": keyed_limiter,
    "rate_limit: hand-written (anyio), a limiter per host in a dict": keyed_hand_written,
    "worker_pool: anyio.map_stream": pool_stream,
    "worker_pool: hand-written (anyio)": pool_hand_written,
    "worker_pool: anyio.map_stream, keeping every result (leaky)": pool_leaky,
    "pipeline: anyio.pipeline_stream": pipeline_stream,
    "pipeline: hand-written (anyio)": pipeline_hand_written,
    "producer_consumer: anyio.produce_consume": producer_consumer,
    "producer_consumer: hand-written (anyio)": producer_consumer_hand_written,
}


def peak_rss(probe: str, count: int, backend: str = "asyncio") -> int:
    """Peak RSS (KiB) of a fresh interpreter that streams *count* items through *probe*."""
    out = subprocess.run([sys.executable, "-m", "tests.benchmarks.memory", probe, str(count),
                          backend], cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=1800)
    answer = json.loads(out.stdout)
    assert answer["done"] == count, answer
    kib: int = answer["peak_rss_kib"]
    return kib


def main() -> None:
    probe, count, backend = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    done = anyio.run(PROBES[probe], count, backend=backend)
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"done": done, "peak_rss_kib": peak}))


if __name__ == "__main__":
    main()


def measure(request: Any, benchmark: Any, pattern: str, probe: str,
            sizes: tuple[int, int], backend: str = "asyncio") -> float:
    """Run *probe* at both *sizes* (timed runs; the smoke and quick runs use 1,000 and 10,000),
    record both peaks as a memory row of *pattern*, and return the growth."""
    full = not benchmark.disabled and request.config.getoption("workloads") != "quick"
    small, large = sizes if full else (1_000, 10_000)
    low, high = peak_rss(probe, small, backend), peak_rss(probe, large, backend)
    growth = high / low - 1
    variant = probe.split(": ", 1)[1]
    # The sizes in the group, and a short name: pytest-benchmark's table fits 100 columns.
    benchmark.group = f"{pattern}: peak RSS, streaming {small:,} -> {large:,} items"
    benchmark.name = f"{textwrap.shorten(variant, 40, placeholder='…')} ({backend})"
    benchmark.extra_info.update(pattern=pattern, memory={
        "pattern": pattern, "variant": variant, "backend": backend, "items": [small, large],
        "peak_rss_kib": [low, high], "growth": growth,
        "flat_expected": "hand-written" not in variant and "leaky" not in variant})
    benchmark.pedantic(lambda: None, rounds=1)
    return growth
