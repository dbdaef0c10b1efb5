"""The bounded_fetch contract, run against every variant and a real server on 127.0.0.1."""

from __future__ import annotations

import time
from functools import partial

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concurrency_patterns.bounded_fetch import (
    MAX_REDIRECTS,
    FetchError,
    fetch_all_anyio,
    fetch_all_asyncio,
    fetch_all_threads,
)
from concurrency_patterns.tools.loopback import HttpServer
from tests.conftest import Variant

pytestmark = pytest.mark.anyio

ASYNC = [
    Variant("asyncio", fetch_all_asyncio),
    Variant("anyio-asyncio", fetch_all_anyio),  # aiohttp underneath
    Variant("anyio-asyncio-httpcore", partial(fetch_all_anyio, client="httpcore")),
    Variant("anyio-trio", fetch_all_anyio, backend="trio"),  # httpcore underneath, a connection per worker
]
ALL = [*ASYNC, Variant("threads", fetch_all_threads, sync=True)]


@pytest.mark.parametrize("variant", ALL, ids=str)
@given(statuses=st.lists(st.sampled_from([200, 200, 200, 404, 503]), max_size=30),
       limit=st.integers(1, 12))
async def test_one_result_per_url_in_input_order(
    variant: Variant, http_server: HttpServer, statuses: list[int], limit: int,
) -> None:
    urls = [http_server.url(i, status=s) for i, s in enumerate(statuses)]
    results = await variant(urls, limit=limit)
    assert [r.url for r in results] == urls
    assert [r.status for r in results] == statuses
    assert [r.body for r in results] == [f"item {i}".encode() for i in range(len(urls))]
    # 5xx is a failure; 4xx is an answer.
    assert [r.ok for r in results] == [s < 500 for s in statuses]
    for i, r in enumerate(results):
        assert r.elapsed >= 0
        if not r.ok:
            assert r.error is not None
            assert (r.error.url, r.error.index, r.error.status) == (urls[i], i, 503)


@pytest.mark.parametrize("variant", ALL, ids=str)
@settings(max_examples=6)
@given(limit=st.integers(1, 10))
async def test_in_flight_never_exceeds_limit_and_reaches_it(
    variant: Variant, http_server: HttpServer, limit: int,
) -> None:
    http_server.reset()
    urls = [http_server.url(i, delay=0.05) for i in range(3 * limit)]
    results = await variant(urls, limit=limit)
    assert all(r.ok for r in results)
    assert http_server.requests == len(urls)
    assert http_server.max_in_flight == limit


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_every_variant_follows_redirects_up_to_the_limit(
    variant: Variant, http_server: HttpServer,
) -> None:
    urls = [http_server.redirect_url(1, 0), http_server.redirect_url(MAX_REDIRECTS, 1),
            http_server.redirect_url(MAX_REDIRECTS + 1, 2), http_server.url(3)]
    results = await variant(urls, limit=2)
    assert [r.url for r in results] == urls
    assert [r.status for r in results[:2]] == [200, 200]
    assert [r.body for r in results[:2]] == [b"item 0", b"item 1"]
    assert [r.final_url for r in results[:2]] == [http_server.url(0), http_server.url(1)]
    too_many = results[2]
    assert not too_many.ok and too_many.error is not None and too_many.status is None
    assert too_many.final_url is None
    assert results[3].final_url == urls[3]


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_one_bad_url_never_loses_the_others(
    variant: Variant, http_server: HttpServer,
) -> None:
    urls = [
        http_server.url(0),
        http_server.refused_url,
        http_server.url(2, status=500),
        http_server.url(3, delay=5),  # times out
        http_server.url(4),
    ]
    start = time.monotonic()
    results = await variant(urls, limit=5, timeout=0.3)
    assert time.monotonic() - start < 3, "the slow URL must be cut off by the timeout"
    assert [r.ok for r in results] == [True, False, False, False, True]
    refused, server_error, slow = (results[i].error for i in (1, 2, 3))
    assert refused is not None and refused.status is None and refused.__cause__ is not None
    assert server_error is not None and server_error.status == 500
    assert results[2].body == b"item 2"  # the 5xx body is kept
    assert slow is not None and slow.timed_out
    assert results[3].elapsed < 2


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_fail_fast_raises_the_first_failure(
    variant: Variant, http_server: HttpServer,
) -> None:
    urls = [http_server.url(i, delay=0.5) for i in range(4)] + [http_server.url(4, status=502)]
    start = time.monotonic()
    with pytest.raises(FetchError) as info:
        await variant(urls, limit=5, fail_fast=True)
    assert (info.value.index, info.value.url, info.value.status) == (4, urls[4], 502)
    if not variant.sync:  # async requests are cancelled at once; threads let them finish
        assert time.monotonic() - start < 0.4


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_fail_fast_drops_requests_not_started(
    variant: Variant, http_server: HttpServer,
) -> None:
    http_server.reset()
    # Five failing URLs, not one: trio runs newly started tasks in random order, so a single
    # failing URL is sometimes fetched last of all — and then every request has been made.
    urls = [http_server.url(i, status=500) for i in range(5)]
    urls += [http_server.url(i, delay=0.05) for i in range(5, 40)]
    with pytest.raises(FetchError):
        await variant(urls, limit=2, fail_fast=True)
    assert http_server.requests < len(urls)


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_cancelling_the_call_cancels_every_request(
    variant: Variant, http_server: HttpServer,
) -> None:
    urls = [http_server.url(i, delay=10) for i in range(20)]
    with anyio.move_on_after(0.3) as scope:
        await variant(urls, limit=4)
    assert scope.cancelled_caught
    # The server sees every client give up: nothing is left in flight.
    with anyio.fail_after(3):
        while http_server.in_flight:
            await anyio.sleep(0.01)
    assert http_server.max_in_flight == 4


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_no_urls_no_results(variant: Variant) -> None:
    assert await variant([]) == []


@pytest.mark.parametrize("variant", ALL, ids=str)
@pytest.mark.parametrize(
    ("kwargs", "error", "names"),
    [
        ({"urls": "http://127.0.0.1/"}, TypeError, "urls"),
        ({"urls": ["http://127.0.0.1/", 3]}, TypeError, "urls[1]"),
        ({"urls": None}, TypeError, "urls"),
        ({"limit": 0}, ValueError, "limit"),
        ({"limit": -2}, ValueError, "limit"),
        ({"limit": 2.5}, TypeError, "limit"),
        ({"limit": True}, TypeError, "limit"),
        ({"timeout": 0}, ValueError, "timeout"),
        ({"timeout": float("nan")}, ValueError, "timeout"),
        ({"timeout": "1"}, TypeError, "timeout"),
    ],
)
async def test_bad_input_is_refused_naming_the_parameter(
    variant: Variant, http_server: HttpServer, kwargs: dict[str, object], error: type[Exception],
    names: str,
) -> None:
    args: dict[str, object] = {"urls": [http_server.url(0)], **kwargs}
    with pytest.raises(error, match=names.replace("[", r"\[")):
        await variant(args.pop("urls"), **args)
    assert http_server.requests == 0


@pytest.mark.parametrize("variant", [Variant("anyio-trio", fetch_all_anyio, backend="trio")],
                         ids=str)
async def test_aiohttp_is_refused_on_trio(variant: Variant, http_server: HttpServer) -> None:
    with pytest.raises(ValueError, match="client='aiohttp' needs asyncio"):
        await variant([http_server.url(0)], client="aiohttp")


@pytest.mark.parametrize("variant", [Variant("anyio-asyncio", fetch_all_anyio)], ids=str)
async def test_an_unknown_client_is_refused(variant: Variant, http_server: HttpServer) -> None:
    with pytest.raises(ValueError, match="client must be"):
        await variant([http_server.url(0)], client="requests")
