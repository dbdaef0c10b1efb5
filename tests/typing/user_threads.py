"""Blocking code: the same names, plain functions, and a timeout where async code scopes."""

from __future__ import annotations

from typing import assert_type

from concurrency_patterns import Completed, FetchResult, JobError, Stage
from concurrency_patterns.threads import (
    ErrGroup,
    Mutex,
    Once,
    RateLimiter,
    SingleFlight,
    SyncPool,
    fetch,
    map,
    map_stream,
    pipeline,
)


def square(n: int) -> int:
    return n * n


def describe(n: int) -> str:
    return f"#{n}"


def main() -> None:
    assert_type(map(square, range(10), limit=4), list[int])
    assert_type(map(square, [1], return_exceptions=True), list[int | JobError])
    with map_stream(square, range(10)) as results:
        for done in results:
            assert_type(done, Completed[int, int])
    map(square, ["a"])  # type: ignore[arg-type]
    assert_type(fetch(["http://127.0.0.1/"]), list[FetchResult])
    assert_type(pipeline(range(3), (Stage("a", square), Stage("b", describe))), list[str])
    once: Once[int] = Once()
    assert_type(once.do(square, 2), int)
    flights: SingleFlight[str, int] = SingleFlight()
    assert_type(flights.do("k", square, 2, timeout=1.0), int)
    with ErrGroup(limit=2) as g:
        g.go(square, 1)
        g.go(square, "1")  # type: ignore[arg-type]
    assert_type(Mutex().lock(timeout=1.0), bool)
    assert_type(RateLimiter(10.0).acquire(timeout=1.0), bool)
    pool: SyncPool[bytearray] = SyncPool(bytearray, max_size=2)
    assert_type(pool.get(timeout=1.0), bytearray)
    assert_type(pool.try_get(), bytearray | None)


def polite_crawl() -> None:
    from concurrency_patterns import Request, Response
    from concurrency_patterns.threads import KeyedRateLimiter

    def my_client(request: Request) -> Response:
        return Response(200, (), b"", request.url)

    results = fetch([Request("http://127.0.0.1/", "HEAD")], client=my_client, retries=2,
                    limit_per_host=1)
    assert_type(results, list[FetchResult])
    limiter = KeyedRateLimiter(10.0)
    assert_type(limiter.acquire("host", timeout=1.0), bool)
    assert_type(map(square, range(3), retries=1, retry_on=ValueError), list[int])
