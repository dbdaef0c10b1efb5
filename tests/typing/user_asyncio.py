"""A service on asyncio, as a user writes it: the types follow the user's values."""

from __future__ import annotations

from typing import assert_type

from concurrency_patterns import Completed, FetchResult, JobError, Stage
from concurrency_patterns.asyncio import (
    ErrGroup,
    Mutex,
    Once,
    Scope,
    SingleFlight,
    SyncMap,
    SyncPool,
    WaitGroup,
    fetch,
    map,
    map_stream,
    pipeline,
    pipeline_stream,
)


async def square(n: int) -> int:
    return n * n


async def describe(n: int) -> str:
    return f"#{n}"


def blocking(n: int) -> int:
    return n


async def load_config(path: str, retries: int) -> dict[str, str]:
    return {"path": path}


async def main() -> None:
    # The worker pool: results carry fn's type; with return_exceptions, JobError too.
    assert_type(await map(square, range(10), limit=4), list[int])
    assert_type(await map(square, [1, 2], return_exceptions=True), list[int | JobError])
    async with map_stream(square, range(10)) as results:
        async for done in results:
            assert_type(done, Completed[int, int])
    await map(blocking, range(3))  # type: ignore[arg-type]  # a plain function
    await map(square, ["a"])  # type: ignore[arg-type]  # jobs of the wrong type

    # The fetch.
    assert_type(await fetch(["http://127.0.0.1/"]), list[FetchResult])

    # The pipeline: given as a tuple, its output type follows the stages.
    out = await pipeline(range(5), (Stage("square", square), Stage("describe", describe)))
    assert_type(out, list[str])
    async with pipeline_stream(range(5), (Stage("square", square, limit=2),)) as outputs:
        async for value in outputs:
            assert_type(value, int)
    stages = [Stage("square", square), Stage("describe", describe)]  # a list works too
    await pipeline(range(5), stages)
    await pipeline(range(5), (Stage("b", blocking),))  # type: ignore[arg-type]  # not async

    # Once, SingleFlight, SyncMap and SyncPool carry the user's types.
    once: Once[dict[str, str]] = Once()
    assert_type(await once.do(load_config, "app.toml", 3), dict[str, str])
    await once.do(load_config, "app.toml")  # type: ignore[arg-type]  # an argument missing
    async with SingleFlight[str, int]() as flights:
        assert_type(await flights.do("key", square, 3), int)
    cache: SyncMap[str, int] = SyncMap()
    assert_type(cache.load("a"), int | None)
    assert_type(cache.load_or_store("a", 1), tuple[int, bool])
    pool: SyncPool[bytearray] = SyncPool(bytearray, max_size=4)
    async with pool.borrow() as buffer:
        assert_type(buffer, bytearray)
    assert_type(pool.try_get(), bytearray | None)
    SyncPool(bytearray, max_size=4, check_puts="yes")  # type: ignore[arg-type]

    # Groups start functions with their own arguments, checked.
    async with ErrGroup(limit=2) as g:
        await g.go(square, 3)
        await g.go(square, "3")  # type: ignore[arg-type]
        await g.go(blocking, 3)  # type: ignore[arg-type]  # not async
    async with WaitGroup() as wg:
        wg.go(square, 1)

    async with Mutex():
        pass
    async with Scope(timeout=1.0) as scope:
        assert_type(await scope.shielded(square, 2, timeout=1.0), int)


async def polite_crawl() -> None:
    """Requests beyond GET, your own client, per-host limits and retries, as a crawler writes
    them."""
    from concurrency_patterns import Request, Response
    from concurrency_patterns.asyncio import KeyedRateLimiter

    post = Request("http://127.0.0.1/form", "POST", {"Content-Type": "text/plain"}, b"hi")
    results = await fetch(["http://127.0.0.1/", post], limit=50, retries=3,
                          retry_on=[429, 503, ConnectionError], retry_budget=0.1,
                          limit_per_host=2, max_per_second_per_host=5.0,
                          headers={"User-Agent": "crawler"}, max_body=2**20)
    assert_type(results, list[FetchResult])
    assert_type(results[0].header("etag"), str | None)
    assert_type(results[0].retry_reasons, tuple[str, ...])

    async def my_client(request: Request) -> Response:
        return Response(200, (), b"", request.url)

    await fetch(["http://127.0.0.1/"], client=my_client)
    await fetch(["http://127.0.0.1/"], retry_on=lambda r: r.status == 500)
    await fetch(["http://127.0.0.1/"], client=blocking)  # type: ignore[arg-type]
    await fetch([42])  # type: ignore[list-item]

    limiter = KeyedRateLimiter(10.0, burst=2)
    await limiter.acquire("example.com")
    assert_type(limiter.try_acquire("example.com"), bool)

    done = await map(square, range(10), retries=2, retry_on=[ConnectionError])
    assert_type(done, list[int])
    async with map_stream(square, range(3), retries=1) as stream:
        async for item in stream:
            assert_type(item.attempts, int)
