"""The bounded_fetch contract, run against every variant and a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import itertools
import json
import shutil
import socketserver
import ssl
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import anyio.lowlevel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concurrency_patterns import (
    MAX_REDIRECTS,
    AnswerRefused,
    BodyTooLarge,
    FetchError,
    FetchResult,
    Request,
    Response,
)
from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from concurrency_patterns._core import http1
from concurrency_patterns.tools.loopback import HttpServer, Nginx, nginx_server, serving
from tests.conftest import (
    ANYIO_CANCELS,
    Generator,
    Variant,
    drain,
    read_stream,
    stopped_by_anyio,
)

pytestmark = pytest.mark.anyio

# Every variant, with every client it offers: the contract is the same whichever is underneath.
ASYNC = [
    Variant("asyncio", cp_asyncio.fetch),  # aiohttp
    Variant("asyncio-httptools", partial(cp_asyncio.fetch, client="httptools")),
    Variant("uvloop-httptools", partial(cp_asyncio.fetch, client="httptools"), backend="uvloop"),
    Variant("anyio-asyncio", cp_anyio.fetch),  # aiohttp
    Variant("anyio-asyncio-httptools", partial(cp_anyio.fetch, client="httptools")),
    Variant("anyio-asyncio-httpcore", partial(cp_anyio.fetch, client="httpcore")),
    Variant("anyio-trio", cp_anyio.fetch, backend="trio"),  # httptools
    Variant("anyio-trio-httpcore", partial(cp_anyio.fetch, client="httpcore"), backend="trio"),
]
ALL = [
    *ASYNC,
    Variant("threads", cp_threads.fetch, sync=True),  # httptools
    Variant("threads-httpcore", partial(cp_threads.fetch, client="httpcore"), sync=True),
]


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
        ({"retries": -1}, ValueError, "retries"),
        ({"retries": 1.5}, ValueError, "retries"),
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


@pytest.mark.parametrize("variant", [Variant("anyio-trio", cp_anyio.fetch, backend="trio")],
                         ids=str)
async def test_aiohttp_is_refused_on_trio(variant: Variant, http_server: HttpServer) -> None:
    with pytest.raises(ValueError, match="client: aiohttp needs asyncio"):
        await variant([http_server.url(0)], client="aiohttp")


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_an_unknown_client_is_refused(variant: Variant, http_server: HttpServer) -> None:
    with pytest.raises(ValueError, match="client must be one of"):
        await variant([http_server.url(0)], client="requests")  # overrides a partial's client
    assert http_server.requests == 0



# --- lazy feeds and the stream form -----------------------------------------------------------

STREAM_ASYNC = [
    Variant("asyncio", cp_asyncio.fetch_stream),
    Variant("asyncio-httptools", partial(cp_asyncio.fetch_stream, client="httptools")),
    Variant("anyio-asyncio", cp_anyio.fetch_stream),
    Variant("anyio-asyncio-httpcore", partial(cp_anyio.fetch_stream, client="httpcore")),
    Variant("anyio-trio", cp_anyio.fetch_stream, backend="trio"),
]
STREAM_ALL = [
    *STREAM_ASYNC,
    Variant("threads", cp_threads.fetch_stream, sync=True),
    Variant("threads-httpcore", partial(cp_threads.fetch_stream, client="httpcore"), sync=True),
]


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_lazy_generator_of_urls_is_fetched(
    variant: Variant, http_server: HttpServer,
) -> None:
    def urls() -> Iterator[str]:
        for i in range(30):
            yield http_server.url(i)

    results = await variant(urls(), limit=4)
    assert [r.body for r in results] == [f"item {i}".encode() for i in range(30)]
    assert [r.index for r in results] == list(range(30))


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_an_async_iterable_of_urls_is_fetched(
    variant: Variant, http_server: HttpServer,
) -> None:
    async def urls() -> AsyncIterator[str]:
        for i in range(12):
            await anyio.lowlevel.checkpoint()
            yield http_server.url(i)

    results = await variant(urls(), limit=3)
    assert [r.body for r in results] == [f"item {i}".encode() for i in range(12)]


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_bad_url_in_a_lazy_feed_stops_the_call_naming_it(
    variant: Variant, http_server: HttpServer,
) -> None:
    def urls() -> Iterator[Any]:
        yield http_server.url(0)
        yield 42

    with pytest.raises(TypeError, match=r"urls\[1\] must be a URL string or a Request"):
        await variant(urls(), limit=1)


@pytest.mark.parametrize("variant", STREAM_ALL, ids=str)
async def test_the_stream_yields_each_url_as_it_finishes_with_its_index(
    variant: Variant, http_server: HttpServer,
) -> None:
    urls = [http_server.url(i, delay=0.03 * (3 - i)) for i in range(4)]
    read = await read_stream(variant, urls, limit=4)
    assert [r.index for r in read] == [3, 2, 1, 0]
    assert all(r.url == urls[r.index] and r.body == f"item {r.index}".encode() for r in read)


@pytest.mark.parametrize("variant", STREAM_ALL, ids=str)
async def test_leaving_the_stream_early_stops_the_requests(
    variant: Variant, http_server: HttpServer,
) -> None:
    http_server.reset()

    def endless() -> Iterator[str]:
        for i in itertools.count():
            yield http_server.url(i, delay=0.01)

    read = await read_stream(variant, endless(), limit=3, stop_after=6)
    assert len(read) == 6
    await anyio.sleep(0.1)  # requests already sent may reach the server a moment later
    with anyio.fail_after(3):  # the server sees every client give up
        while http_server.in_flight:
            await anyio.sleep(0.01)
    requests = http_server.requests
    assert requests <= 6 + 2 * 3 + 1  # read, running, buffered: the workers stopped there
    await anyio.sleep(0.1)
    assert http_server.requests == requests


@pytest.mark.parametrize("variant", STREAM_ALL, ids=str)
async def test_fail_fast_in_the_stream_raises_where_it_is_read(
    variant: Variant, http_server: HttpServer,
) -> None:
    urls = [http_server.url(0), http_server.url(1, status=503)] + [
        http_server.url(i, delay=0.2) for i in range(2, 10)]
    with pytest.raises(FetchError) as info:
        await read_stream(variant, urls, limit=2, fail_fast=True)
    assert info.value.index == 1


def count_tasks() -> int:
    """Tasks running in this event loop (asyncio's, or every task under trio's root)."""
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:
        import trio

        count, pending = 0, [trio.lowlevel.current_root_task()]
        while pending:
            task = pending.pop()
            count += 1
            for nursery in task.child_nurseries:
                pending.extend(nursery.child_tasks)
        return count


@pytest.mark.parametrize("variant", STREAM_ASYNC, ids=str)
async def test_a_long_feed_never_holds_more_than_limit_tasks(
    variant: Variant, fast_server: str,
) -> None:
    """However long the feed, the call holds ``limit`` worker tasks, not one per URL."""
    limit, before = 20, count_tasks()
    opening, steady = [0], [0]  # the most tasks seen while connections open, and after

    def sample(result: FetchResult) -> None:
        if result.index % 50 == 0:
            seen = opening if result.index < 10 * limit else steady
            seen[0] = max(seen[0], count_tasks() - before)

    urls = (f"{fast_server}/item/{i}" for i in range(2_000))
    read = await read_stream(variant, urls, limit=limit, on_item=sample)
    assert len(read) == 2_000 and all(r.ok for r in read)
    # While a worker connects, anyio's connect_tcp runs a task of its own (happy eyeballs).
    assert 0 < opening[0] <= 2 * limit
    assert 0 < steady[0] <= limit + 2  # the workers, and at most a task of the client's own


@pytest.mark.slow
async def test_a_100_000_url_stream_holds_at_most_limit_tasks(fast_server: str) -> None:
    """The proof at scale: 100,000 URLs from a loopback server (no delay, limit 100), read
    through the stream, never hold more than the limit's worth of tasks; the results waiting
    in the buffer (at most limit) are values, not tasks."""
    limit, before, most, count = 100, count_tasks(), 0, 0
    urls = (f"{fast_server}/item/{i}" for i in range(100_000))
    async with cp_asyncio.fetch_stream(urls, limit=limit) as results:
        async for result in results:
            count += 1
            assert result.ok, result.error
            if result.index % 500 == 0:
                most = max(most, count_tasks() - before)
    assert count == 100_000
    assert 0 < most <= limit + 2  # the workers, and at most a task of the client's own


# --- retries -----------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_retries_try_again_after_a_5xx_and_record_the_attempts(
    variant: Variant, http_server: HttpServer,
) -> None:
    urls = [http_server.flaky_url("a", 2, retry_after="0"), http_server.flaky_url("b", 0),
            http_server.flaky_url("c", 5, status=502, retry_after="0")]
    results = await variant(urls, limit=3, retries=2)
    assert [(r.status, r.attempts) for r in results] == [(200, 3), (200, 1), (502, 3)]
    assert results[0].body == b"item a" and results[0].ok
    assert not results[2].ok and results[2].error is not None
    assert http_server.attempts == {"a": 3, "b": 1, "c": 3}


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_retries_are_off_by_default_and_never_for_a_4xx_or_a_500(
    variant: Variant, http_server: HttpServer,
) -> None:
    urls = [http_server.flaky_url("a", 1), http_server.flaky_url("b", 1, status=404),
            http_server.flaky_url("c", 1, status=500)]
    assert [r.attempts for r in await variant(urls[:1])] == [1]
    results = await variant(urls[1:], retries=3)
    assert [(r.status, r.attempts) for r in results] == [(404, 1), (500, 1)]


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_refused_connection_is_retried_then_reported(
    variant: Variant, http_server: HttpServer,
) -> None:
    start = time.monotonic()
    [result] = await variant([http_server.refused_url], retries=2)
    assert result.attempts == 3 and result.status is None and result.error is not None
    assert time.monotonic() - start < 0.1 + 0.2 + 1  # full jitter: at most 0.1 s, then 0.2 s


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_retry_after_is_honoured_and_retries_keep_their_slot(
    variant: Variant, http_server: HttpServer,
) -> None:
    urls = [http_server.flaky_url(str(i), 1, retry_after="0.2") for i in range(3)]
    start = time.monotonic()
    results = await variant(urls, limit=1, retries=1)
    assert [r.attempts for r in results] == [2, 2, 2]
    # One worker waited out each Retry-After in turn: a retry that gave its slot up would
    # have let the three waits overlap (0.2 s in all).
    assert time.monotonic() - start >= 3 * 0.2


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_max_per_second_paces_every_attempt_retries_included(
    variant: Variant, http_server: HttpServer,
) -> None:
    urls = [http_server.flaky_url("x", 1, retry_after="0"), http_server.url(1),
            http_server.url(2)]
    start = time.monotonic()
    results = await variant(urls, limit=3, retries=1, max_per_second=20)
    assert [r.attempts for r in results] == [2, 1, 1]
    assert time.monotonic() - start >= 3 / 20 * 0.95  # four attempts: the first, then 3 x 50 ms


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_bad_max_per_second_is_refused_naming_it(
    variant: Variant, http_server: HttpServer,
) -> None:
    with pytest.raises(ValueError, match="max_per_second"):
        await variant([http_server.url(0)], max_per_second=0)
    assert http_server.requests == 0


def _read_head(sock: Any) -> bytes | None:
    """A request's head, read from a raw (or TLS) socket; ``None`` if the client hung up."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data


@contextmanager
def _raw_server(handler: type[socketserver.BaseRequestHandler], scheme: str = "http",
                **attributes: Any) -> Iterator[str]:
    """A socketserver on 127.0.0.1 answering with *handler*, in a thread, for one block: its
    base URL. *attributes* are set on the server, for the handler to read."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    for name, value in attributes.items():
        setattr(server, name, value)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _AnswerOnceAndClose(socketserver.BaseRequestHandler):
    """Answers one request per connection and then closes it, without saying so (no
    ``Connection: close``): a client that reuses the connection finds it dead, as it does when
    a real server's keep-alive timeout has passed."""

    def handle(self) -> None:
        if _read_head(self.request) is None:
            return
        self.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(0.01)  # the client may send its next request before the close arrives


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_connection_the_server_closed_is_opened_afresh(variant: Variant) -> None:
    """Where each worker owns its connections (httptools, httpcore), it sends once more on a new
    one; aiohttp retries once on another pooled connection, which may be dead too, and then
    reports the URL's error."""
    with _raw_server(_AnswerOnceAndClose) as base:
        results = await variant([f"{base}/{i}" for i in range(20)], limit=2, timeout=5)
    if variant.name in ("asyncio", "anyio-asyncio"):  # aiohttp: reported, never lost
        assert all(r.ok or "ServerDisconnected" in str(r.error) for r in results)
        results = [r for r in results if r.ok]
    else:
        assert len(results) == 20
    assert [(r.status, r.body) for r in results] == [(200, b"ok")] * len(results)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_connections_are_kept_alive_never_more_than_limit(
    variant: Variant, http_server: HttpServer,
) -> None:
    http_server.reset()
    results = await variant([http_server.url(i) for i in range(60)], limit=3)
    assert all(r.ok for r in results)
    assert 1 <= len(http_server.peers) <= 3


# --- answers as servers really send them ------------------------------------------------------

ANSWERS = {
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    "to-close": b"HTTP/1.0 200 OK\r\n\r\nthe body runs to the close",  # no length, no chunks
    "close": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
    "no-content": b"HTTP/1.1 204 No Content\r\n\r\n",
    "cut-short": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
    "malformed": b"HTTP/1.1 2x0 OK\r\n\r\n",
}


class _Scripted(socketserver.BaseRequestHandler):
    """Answers ``GET /<name>`` with ``ANSWERS[name]``, byte for byte, then closes."""

    def handle(self) -> None:
        head = _read_head(self.request)
        if head is not None:
            self.request.sendall(ANSWERS[head.split(b" ", 2)[1].decode().strip("/")])


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_answers_framed_every_way_http_allows(variant: Variant) -> None:
    names = list(ANSWERS)
    with _raw_server(_Scripted) as base:
        results = await variant([f"{base}/{name}" for name in names], limit=2, timeout=5)
    got = {name: r for name, r in zip(names, results, strict=True)}
    assert (got["chunked"].status, got["chunked"].body) == (200, b"hello world")
    assert got["to-close"].body == b"the body runs to the close"
    assert (got["close"].status, got["close"].body) == (200, b"ok")
    assert (got["no-content"].status, got["no-content"].body) == (204, b"")
    for name in ("cut-short", "malformed"):  # an error result, never a short body
        assert not got[name].ok and got[name].status is None, name
        assert got[name].error is not None and got[name].error.__cause__ is not None


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_url_no_client_can_fetch_is_an_error_result(
    variant: Variant, http_server: HttpServer,
) -> None:
    urls = ["ftp://127.0.0.1/file", "http:///no-host", http_server.url(2)]
    results = await variant(urls, limit=2)
    assert [r.ok for r in results] == [False, False, True]
    assert all(r.error is not None for r in results[:2])


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_the_timeout_bounds_each_url_on_a_kept_alive_connection(
    variant: Variant, http_server: HttpServer,
) -> None:
    """One worker: fast answers first, on the connection the slow one then reuses; each URL
    gets its own *timeout*, counted from when it starts, not from the first URL's start."""
    urls = [http_server.url(i, delay=0.1) for i in range(3)] + [http_server.url(3, delay=5)]
    start = time.monotonic()
    results = await variant(urls, limit=1, timeout=0.25)
    took = time.monotonic() - start
    assert [r.ok for r in results] == [True, True, True, False]
    error = results[3].error
    assert error is not None and error.timed_out
    assert 0.2 <= results[3].elapsed < 1.0
    assert took < 2.0


# --- TLS ----------------------------------------------------------------------------------------

class _TlsAnswer(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        context = self.server.context  # type: ignore[attr-defined]
        try:
            with context.wrap_socket(self.request, server_side=True) as tls:
                if _read_head(tls) is not None:
                    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                b"Connection: close\r\n\r\nok")
        except (ssl.SSLError, OSError):
            return  # a client that refused our certificate


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate: its base URL, and the
    certificate a client must trust to talk to it."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with _raw_server(_TlsAnswer, "https", context=context) as base:
        yield base, cert


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_an_untrusted_certificate_is_an_error_result(
    variant: Variant, tls_server: tuple[str, Path],
) -> None:
    base, _ = tls_server
    results = await variant([f"{base}/0"], limit=1, timeout=5)
    assert not results[0].ok and results[0].status is None
    assert results[0].error is not None and results[0].error.__cause__ is not None


LEAN = [v for v in ALL if "httptools" in v.name or v.name in ("anyio-trio", "threads")]


@pytest.mark.parametrize("variant", LEAN, ids=str)
async def test_the_lean_client_fetches_over_tls_from_a_trusted_server(
    variant: Variant, tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # what the default context trusts
    http1._tls_context.cache_clear()
    try:
        results = await variant([f"{base}/{i}" for i in range(3)], limit=2, timeout=5)
    finally:
        http1._tls_context.cache_clear()
    assert [(r.status, r.body) for r in results] == [(200, b"ok")] * 3


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ANYIO_CANCELS)
@pytest.mark.parametrize("form", ["fetch", "fetch_stream"])
@pytest.mark.parametrize("client", ["aiohttp", "httptools"])
def test_the_asyncio_fetch_stops_when_anyio_cancels_it(
    fast_server: str, client: str, form: str, how: str,
) -> None:
    """An endless feed of quick URLs, cancelled by anyio (as under FastAPI): the call ends."""
    urls = (f"{fast_server}/item/{i}" for i in itertools.count())
    fetch = cp_asyncio.fetch if form == "fetch" else cp_asyncio.fetch_stream

    def call() -> Any:
        made = fetch(urls, limit=4, client=client)  # type: ignore[arg-type]
        return made if form == "fetch" else drain(made)
    assert stopped_by_anyio(call, how) < 30



@pytest.mark.parametrize("variant", STREAM_ASYNC, ids=str)
async def test_leaving_the_stream_early_closes_the_async_generator_feed(
    variant: Variant, fast_server: str,
) -> None:
    urls = Generator(lambda i: f"{fast_server}/item/{i}")
    async with variant.fn(urls.items(), limit=4) as results:
        async for _ in results:
            break
    assert urls.closed


@pytest.mark.parametrize("variant", ASYNC, ids=str)
async def test_a_cancelled_fetch_closes_the_async_generator_feed(
    variant: Variant, fast_server: str,
) -> None:
    urls = Generator(lambda i: f"{fast_server}/item/{i}")
    with anyio.move_on_after(0.2):
        await variant(urls.items(), limit=4)
    assert urls.closed and urls.read > 0


# --- requests beyond GET, against nginx -------------------------------------------------------

@pytest.fixture(scope="module")
def nginx() -> Iterator[Nginx]:
    with nginx_server() as server:
        yield server


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_any_method_with_headers_and_a_body_reaches_nginx(
    variant: Variant, nginx: Nginx,
) -> None:
    echo = f"{nginx.base}/echo"
    requests = [
        Request(echo, "POST", {"X-Probe": "mine"}, b"hello"),
        Request(echo, "DELETE"),
        echo,  # a plain URL: a GET, with the call's headers
        Request(echo, "OPTIONS", [("Authorization", "Bearer t")]),
    ]
    results = await variant(requests, limit=2, headers={"X-Probe": "call"})
    assert [r.status for r in results] == [200] * 4
    seen = [r.body.decode().split("|") for r in results]
    for fields in seen[1:]:  # no body: no Content-Length, or 0 (aiohttp sends one)
        assert fields[1] in ("", "0")
        fields[1] = ""
    assert seen == [["POST", "5", "mine", ""], ["DELETE", "", "call", ""],
                    ["GET", "", "call", ""], ["OPTIONS", "", "call", "Bearer t"]]
    assert results[0].request == requests[0]
    assert all(r.header("content-type") == "text/plain" for r in results)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_put_then_get_then_head_then_delete_on_nginx(
    variant: Variant, nginx: Nginx,
) -> None:
    name = f"{nginx.base}/dav/{variant.name}.bin"
    body = bytes(range(256)) * 1000
    [put] = await variant([Request(name, "PUT", body=body)])
    assert put.status in (201, 204), put
    [got, head] = await variant([name, Request(name, "HEAD")], limit=1)
    assert (got.status, got.body) == (200, body)
    assert (head.status, head.body, head.header("content-length")) == (200, b"", str(len(body)))
    [deleted, gone] = await variant([Request(name, "DELETE"), name], limit=1)
    assert (deleted.status, gone.status) == (204, 404)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_gzip_is_inflated_when_asked_for(variant: Variant, nginx: Nginx) -> None:
    url = f"{nginx.base}/text.txt"
    [result] = await variant([url], headers={"Accept-Encoding": "gzip"})
    assert result.status == 200 and result.body == nginx.files["text.txt"]
    assert result.header("content-encoding") == "gzip"


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_body_past_max_body_is_an_error_naming_the_cap(
    variant: Variant, nginx: Nginx,
) -> None:
    big, text = f"{nginx.base}/big.bin", f"{nginx.base}/text.txt"
    results = await variant([big, text, f"{nginx.base}/echo", big], limit=1, max_body=100_000,
                            headers={"Accept-Encoding": "gzip"})
    assert [r.ok for r in results] == [False, False, True, False]
    for r in (results[0], results[1], results[3]):
        assert r.error is not None and "max_body=100000" in str(r.error)
        assert isinstance(r.error.__cause__, BodyTooLarge)
    # Just the cap is fine; max_body=None takes any size.
    [exact] = await variant([big], max_body=len(nginx.files["big.bin"]))
    [free] = await variant([big], max_body=None)
    assert exact.body == free.body == nginx.files["big.bin"]


# --- hostile servers ---------------------------------------------------------------------------

@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_gzip_bomb_is_an_error_not_a_memory_blow_up(
    variant: Variant, http_server: HttpServer,
) -> None:
    [bomb, fine] = await variant([http_server.bomb_url(64), http_server.bomb_url(1)],
                                 max_body=2 * 2**20, headers={"Accept-Encoding": "gzip"})
    assert isinstance(bomb.error and bomb.error.__cause__, BodyTooLarge)
    assert fine.body == bytes(2**20)


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_redirect_to_another_origin_drops_credentials(
    variant: Variant, _server_loop: asyncio.AbstractEventLoop,  # noqa: PT019
) -> None:
    with serving(_server_loop, hosts=2) as server:
        here, there = server.echo_url(0), server.echo_url(1)
        secret = {"Authorization": "Bearer secret", "Cookie": "session=1", "X-Probe": "kept"}
        results = await variant([server.goto_url(here), server.goto_url(there),
                                 server.goto_url(there, 307)], limit=1, headers=secret)
    seen = [json.loads(r.body)["headers"] for r in results]
    assert seen[0]["Authorization"] == "Bearer secret" and seen[0]["Cookie"] == "session=1"
    for headers in seen[1:]:
        assert "Authorization" not in headers and "Cookie" not in headers
        assert headers["X-Probe"] == "kept"
    assert [r.final_url for r in results] == [here, there, there]


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_redirects_change_the_method_as_browsers_do(
    variant: Variant, http_server: HttpServer,
) -> None:
    echo = http_server.echo_url()
    results = await variant([
        Request(http_server.goto_url(echo, 303), "POST", {"Content-Type": "text/x"}, b"x"),
        Request(http_server.goto_url(echo, 302), "POST", body=b"x"),
        Request(http_server.goto_url(echo, 307), "POST", {"Content-Type": "text/x"}, b"kept"),
        Request(http_server.goto_url(echo, 308), "PUT", body=b"kept"),
    ], limit=2)
    seen = [json.loads(r.body) for r in results]
    assert [(s["method"], s["body"]) for s in seen] == [
        ("GET", ""), ("GET", ""), ("POST", "kept"), ("PUT", "kept")]
    assert "Content-Type" not in seen[0]["headers"]
    assert seen[2]["headers"]["Content-Type"] == "text/x"


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_redirect_out_of_http_is_an_error_result(
    variant: Variant, http_server: HttpServer,
) -> None:
    results = await variant([http_server.goto_url("file:///etc/passwd"),
                             http_server.goto_url("ftp://127.0.0.1/x"), http_server.url(2)])
    assert [r.ok for r in results] == [False, False, True]
    for r in results[:2]:
        assert isinstance(r.error and r.error.__cause__, AnswerRefused)
        assert "only http and https" in str(r.error)


class _Hostile(socketserver.BaseRequestHandler):
    """Answers ``GET /<name>`` as a hostile server would (``HOSTILE[name]``), then holds the
    connection open until the client gives up; ``trickle`` sends header bytes forever."""

    def handle(self) -> None:
        head = _read_head(self.request)
        if head is None:
            return
        name = head.split(b" ", 2)[1].decode().strip("/")
        try:
            if name == "trickle":
                self.request.sendall(b"HTTP/1.1 200 OK\r\n")
                for i in itertools.count():
                    self.request.sendall(b"X-%d: %s\r\n" % (i, b"a" * 90))
                    time.sleep(0.01)
            self.request.sendall(HOSTILE[name])
            self.request.settimeout(30)
            while self.request.recv(4096):
                pass
        except OSError:
            return  # the client hung up: what it should do


HOSTILE = {
    "huge-header": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n",
    "lying-length": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..",
    "huge-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                  b"fffffffff\r\n" + b"x" * 3000,
    "year-retry-after": b"HTTP/1.1 503 Busy\r\nRetry-After: 31536000\r\nContent-Length: 0\r\n\r\n",
}


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_hostile_answers_are_error_results_within_the_timeout(variant: Variant) -> None:
    names = ["trickle", *HOSTILE]
    with _raw_server(_Hostile) as base:
        start = time.monotonic()
        # Only the 503 may be retried: a timeout retried would only make the test longer.
        results = await variant([f"{base}/{name}" for name in names], limit=len(names),
                                timeout=1.0, max_body=2000, retries=3,
                                retry_on=lambda r: r.status == 503)
        took = time.monotonic() - start
    assert took < 6, "every hostile answer must end within its timeout (and a cap's reading)"
    for name, r in zip(names, results, strict=True):
        assert not r.ok and r.error is not None, name
        assert r.elapsed < 5, name
    year = results[names.index("year-retry-after")]
    assert year.attempts == 1 and year.status == 503
    assert "Retry-After asks for 31536000 s" in str(year.error)


# --- retries: statuses, Retry-After, the budget ------------------------------------------------

@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_429_is_retried_honouring_retry_after_in_seconds_and_as_a_date(
    variant: Variant, http_server: HttpServer,
) -> None:
    past = "Wed, 21 Oct 2015 07:28:00 GMT"  # a date already gone: go again now
    urls = [http_server.flaky_url("s", 1, status=429, retry_after="0.3"),
            http_server.flaky_url("d", 1, status=429, retry_after=past)]
    results = await variant(urls, limit=2, retries=2)
    assert [(r.status, r.attempts, r.retry_reasons) for r in results] == [
        (200, 2, ("HTTP 429",))] * 2
    assert results[0].elapsed >= 0.3, "the seconds Retry-After asked for were waited"


def test_retry_after_is_read_in_seconds_and_as_an_http_date() -> None:
    from concurrency_patterns.bounded_fetch import _seconds

    # An HTTP date has whole seconds: two seconds ahead is one to two seconds' wait.
    soon = email.utils.format_datetime(
        datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=2), usegmt=True)
    assert 0.9 <= (_seconds(soon) or 0) <= 2.0
    assert _seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # gone: at once
    assert _seconds("7") == 7.0 and _seconds("-3") == 0.0
    assert _seconds("soon") is None and _seconds(None) is None


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_a_429_is_an_error_result_when_not_retried(
    variant: Variant, http_server: HttpServer,
) -> None:
    [r] = await variant([http_server.url(0, status=429)])
    assert not r.ok and r.error is not None and r.error.status == 429


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_the_budget_holds_when_every_request_fails(
    variant: Variant, http_server: HttpServer,
) -> None:
    urls = [http_server.flaky_url(f"b{i}", 99, retry_after="0") for i in range(50)]
    results = await variant(urls, limit=10, retries=3)
    sent = sum(http_server.attempts.values())
    assert 50 <= sent <= 50 + 10 + 0.2 * 50, "retries stay within 20 % of first attempts + 10"
    assert all(not r.ok for r in results)
    spent = [r for r in results if "the retry budget is spent" in str(r.error)]
    assert spent, "a result cut short by the budget says so"
    # Without a budget, every retry is made.
    http_server.attempts.clear()
    await variant(urls[:5], limit=5, retries=3, retry_budget=None)
    assert sum(http_server.attempts.values()) == 20


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_retry_on_chooses_statuses_exceptions_or_a_predicate(
    variant: Variant, http_server: HttpServer,
) -> None:
    urls = [http_server.flaky_url("x", 1, status=500, retry_after="0"),
            http_server.flaky_url("y", 1, status=503, retry_after="0")]
    statuses = await variant(urls, limit=2, retries=1, retry_on=[500])
    assert [(r.status, r.attempts) for r in statuses] == [(200, 2), (503, 1)]
    http_server.attempts.clear()
    chosen = await variant([urls[0], http_server.refused_url], limit=2, retries=2,
                           retry_on=lambda r: r.status == 500)
    assert [r.attempts for r in chosen] == [2, 1]
    only_errors = await variant([http_server.refused_url], retries=1, retry_on=[Exception])
    assert only_errors[0].attempts == 2 and len(only_errors[0].retry_reasons) == 1
    assert "onnect" in only_errors[0].retry_reasons[0]  # Connect..., ClientConnector...


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_bad_retry_and_request_arguments_are_refused_naming_them(
    variant: Variant, http_server: HttpServer,
) -> None:
    url = http_server.url(0)
    for kwargs, match in [
        ({"retry_on": ["nope"]}, "retry_on"), ({"retry_on": 3}, "retry_on"),
        ({"retry_budget": -0.1}, "retry_budget"), ({"max_body": 0}, "max_body"),
        ({"limit_per_host": 0}, "limit_per_host"),
        ({"max_per_second_per_host": 0}, "max_per_second"),
        ({"headers": {"X": "a\r\nHost: evil"}}, "headers"), ({"client": 3}, "client"),
    ]:
        with pytest.raises((TypeError, ValueError), match=match):
            await variant([url], retries=1, **kwargs)
    with pytest.raises(ValueError, match="method"):
        Request(url, "GET /x")
    with pytest.raises(TypeError, match="body"):
        Request(url, "POST", body="text")  # type: ignore[arg-type]


# --- your own client ---------------------------------------------------------------------------

def _own_clients(backend: str, sync: bool) -> list[str]:
    if sync:
        return ["httpx", "function"]
    return ["aiohttp", "httpx", "function"] if backend == "asyncio" else ["httpx", "function"]


OWN = [Variant("asyncio", cp_asyncio.fetch), Variant("anyio-asyncio", cp_anyio.fetch),
       Variant("anyio-trio", cp_anyio.fetch, backend="trio"),
       Variant("threads", cp_threads.fetch, sync=True)]


@pytest.mark.parametrize("variant", OWN, ids=str)
async def test_your_own_client_is_used_and_never_closed(
    variant: Variant, http_server: HttpServer,
) -> None:
    httpx = pytest.importorskip("httpx")
    echo = http_server.echo_url()
    for kind in _own_clients(variant.backend, variant.sync):
        http_server.reset()
        seen: list[Request] = []
        if kind == "aiohttp":
            client: Any = aiohttp.ClientSession(headers={"X-Mine": "session"})
        elif kind == "httpx":
            client = (httpx.Client if variant.sync else httpx.AsyncClient)(
                headers={"X-Mine": "session"})
        elif variant.sync:
            def client(request: Request, seen: list[Request] = seen) -> Response:
                seen.append(request)
                return Response(200, (("X-Mine", "fn"),), b"from fn", request.url)
        else:
            async def client(request: Request, seen: list[Request] = seen) -> Response:
                seen.append(request)
                return Response(200, (("X-Mine", "fn"),), b"from fn", request.url)
        urls = [http_server.url(i, delay=0.02) for i in range(6)] + [
            http_server.goto_url(echo), Request(echo, "POST", body=b"b")]
        results = await variant(urls, limit=3, client=client)
        if kind == "function":
            assert [r.body for r in results] == [b"from fn"] * 8
            assert [r.method for r in seen] == ["GET"] * 7 + ["POST"]
            continue
        assert [r.body for r in results[:6]] == [f"item {i}".encode() for i in range(6)]
        assert http_server.max_in_flight <= 3
        hopped, posted = json.loads(results[6].body), json.loads(results[7].body)
        assert hopped["headers"]["X-Mine"] == "session" and hopped["method"] == "GET"
        assert (posted["method"], posted["body"]) == ("POST", "b")
        if kind == "aiohttp":
            assert not client.closed
            await client.close()
        elif variant.sync:
            assert not client.is_closed
            client.close()
        else:
            assert not client.is_closed
            await client.aclose()


@pytest.mark.parametrize("variant", OWN, ids=str)
async def test_a_client_function_gets_the_whole_contract(
    variant: Variant, http_server: HttpServer,
) -> None:
    """Redirects, retries, the cap and errors apply to what a function returns."""
    calls: list[str] = []

    def answer(request: Request) -> Response:
        calls.append(request.url)
        if request.url.endswith("/start"):
            return Response(302, (("Location", "/busy"),), b"", request.url)
        if request.url.endswith("/busy") and calls.count(request.url) == 1:
            return Response(503, (("Retry-After", "0"),), b"", request.url)
        if request.url.endswith("/big"):
            return Response(200, (), b"x" * 101, request.url)
        if request.url.endswith("/bad"):
            return "not a response"  # type: ignore[return-value]
        return Response(200, (), b"done", request.url)

    async def async_answer(request: Request) -> Response:
        await anyio.lowlevel.checkpoint()
        return answer(request)

    base = "http://example.invalid"
    results = await variant([f"{base}/start", f"{base}/big", f"{base}/bad"], limit=1,
                            retries=1, max_body=100, client=answer if variant.sync else
                            async_answer)
    assert (results[0].body, results[0].attempts, results[0].final_url) == (
        b"done", 2, f"{base}/busy")
    assert isinstance(results[1].error and results[1].error.__cause__, BodyTooLarge)
    assert isinstance(results[2].error and results[2].error.__cause__, TypeError)


# --- per-host politeness -----------------------------------------------------------------------

@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_limit_per_host_holds_over_50_hosts(
    variant: Variant, _server_loop: asyncio.AbstractEventLoop,  # noqa: PT019
) -> None:
    with serving(_server_loop, hosts=50) as server:
        urls = [server.url(i, delay=0.03, host=i % 50) for i in range(200)]
        results = await variant(urls, limit=20, limit_per_host=2)
        assert all(r.ok for r in results)
        assert len(server.host_max_in_flight) == 50
        assert max(server.host_max_in_flight.values()) <= 2
        assert server.max_in_flight > 2, "hosts must not hold each other up"


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_one_slow_host_never_holds_up_another(
    variant: Variant, _server_loop: asyncio.AbstractEventLoop,  # noqa: PT019
) -> None:
    with serving(_server_loop, hosts=2) as server:
        urls = [server.url(i, delay=0.6, host=0) for i in range(2)] + [
            server.url(i, host=1) for i in range(10)]
        results = await variant(urls, limit=4, limit_per_host=1)
    fast = [r.elapsed for r in results[2:]]
    assert all(r.ok for r in results)
    assert max(fast) < 0.55, "the fast host's requests went while the slow host's waited"


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_max_per_second_per_host_spaces_each_host_on_its_own(
    variant: Variant, _server_loop: asyncio.AbstractEventLoop,  # noqa: PT019
) -> None:
    """A loose smoke test on the real clock (the exact spacing is the keyed limiter's, checked
    on a virtual clock in test_rate_limit.py): the server saw each host's fourth request no
    sooner than three intervals after the call began, and the hosts went side by side."""
    with serving(_server_loop, hosts=3) as server:
        urls = [server.url(i, host=i % 3) for i in range(12)]
        start = time.monotonic()  # the server's loop clock is time.monotonic too
        results = await variant(urls, limit=6, max_per_second_per_host=20)
        took = time.monotonic() - start
        assert all(r.ok for r in results)
        assert len(server.host_times) == 3
        for times in server.host_times.values():
            assert len(times) == 4 and times[-1] - start >= 3 / 20 - 0.005, times
    assert took < 2.0  # loose: the real clock of a loaded machine


@pytest.mark.parametrize("variant", ALL, ids=str)
async def test_every_redirect_hop_counts_against_the_rate(
    variant: Variant, http_server: HttpServer,
) -> None:
    urls = [http_server.redirect_url(3, i) for i in range(3)]
    start = time.monotonic()
    results = await variant(urls, limit=3, max_per_second=40)
    took = time.monotonic() - start
    assert all(r.ok for r in results)
    assert took >= 11 / 40, "12 requests at 40/s take at least 11 intervals"


# --- the lean client, fuzzed ---------------------------------------------------------------------

class _Fuzzed(socketserver.BaseRequestHandler):
    """Answers every request with the server's current ``answer`` bytes; then closes, or, with
    ``hold``, keeps the connection open until the client gives up."""

    def handle(self) -> None:
        server: Any = self.server
        if _read_head(self.request) is None:
            return
        try:
            self.request.sendall(server.answer)
            if server.hold:
                self.request.settimeout(10)
                while self.request.recv(4096):
                    pass
        except OSError:
            return


_TOKEN = st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
_LINE = st.binary(max_size=40).map(lambda b: b.replace(b"\r\n", b"").replace(b"\n", b""))


@st.composite
def _answers(draw: st.DrawFn) -> bytes:
    """Answers from the plausible to the broken: a status line, headers, a framing that may
    lie, a body, and what may trail it."""
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2", b"HTTP/1.1x", b""]))
    status = draw(st.sampled_from([b"200", b"204", b"301", b"404", b"503", b"099", b"abc",
                                   b"2000", b""]))
    head = version + b" " + status + b" " + draw(_LINE) + b"\r\n"
    for _ in range(draw(st.integers(0, 6))):
        head += draw(_TOKEN).encode() + b": " + draw(_LINE) + b"\r\n"
    body = draw(st.binary(max_size=300))
    framing = draw(st.sampled_from(["length", "short", "long", "huge", "chunked", "bad-chunk",
                                    "none", "gzip", "bad-gzip", "many-headers"]))
    if framing == "length":
        head += b"Content-Length: %d\r\n" % len(body)
    elif framing == "short":
        head += b"Content-Length: %d\r\n" % max(0, len(body) - 5)
    elif framing == "long":
        head += b"Content-Length: %d\r\n" % (len(body) + 50)
    elif framing == "huge":
        head += b"Content-Length: 99999999999999999999\r\n"
    elif framing == "chunked":
        head += b"Transfer-Encoding: chunked\r\n"
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
    elif framing == "bad-chunk":
        head += b"Transfer-Encoding: chunked\r\n"
        body = b"zz\r\n" + body
    elif framing in ("gzip", "bad-gzip"):
        import gzip

        payload = gzip.compress(body * 100) if framing == "gzip" else body
        head += b"Content-Encoding: gzip\r\nContent-Length: %d\r\n" % len(payload)
        body = payload
    elif framing == "many-headers":
        head += b"".join(b"X-%d: y\r\n" % i for i in range(draw(st.integers(100, 300))))
    return head + b"\r\n" + body + draw(st.sampled_from([b"", b"trailing junk", b"\r\n"]))


LEAN = [Variant("asyncio-httptools", partial(cp_asyncio.fetch, client="httptools")),
        Variant("anyio-trio", cp_anyio.fetch, backend="trio"),
        Variant("threads", cp_threads.fetch, sync=True)]


@pytest.mark.parametrize("variant", LEAN, ids=str)
@settings(max_examples=40, deadline=None)
@given(answer=_answers(), hold=st.booleans())
async def test_the_lean_client_takes_any_answer_within_its_timeout_and_caps(
    variant: Variant, fuzz_server: Any, answer: bytes, hold: bool,
) -> None:
    """Whatever the server sends, the fetch returns a result — an answer or an error result,
    never an exception — within the timeout, with a body no larger than the cap."""
    server, base = fuzz_server
    server.answer, server.hold = answer, hold
    start = time.monotonic()
    results = await variant([f"{base}/a", f"{base}/b"], limit=1, timeout=0.25, max_body=2000)
    # Two requests, each within its timeout; loose, for a loaded machine.
    assert time.monotonic() - start < 0.25 * 2 + 3.0
    for r in results:
        assert len(r.body) <= 2000
        if r.error is not None:
            assert r.status is None or r.status >= 500 or r.status == 429


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[tuple[Any, str]]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Fuzzed)
    server.daemon_threads = True
    server.answer, server.hold = b"", False  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("variant", OWN, ids=str)
async def test_a_client_function_of_the_wrong_kind_is_refused_before_anything_starts(
    variant: Variant,
) -> None:
    def plain(request: Request) -> Response:
        return Response(200, {"X-From": "plain"}, b"", request.url)

    async def coroutine(request: Request) -> Response:
        return plain(request)

    wrong = coroutine if variant.sync else plain
    with pytest.raises(TypeError, match="client"):
        await variant(["http://example.invalid/"], client=wrong)
    right = plain if variant.sync else coroutine
    [r] = await variant(["http://example.invalid/"], client=right)
    assert r.header("x-from") == "plain" and r.headers == (("X-From", "plain"),)


def test_a_response_checks_what_it_is_given() -> None:
    assert Response(204, [("A", "1")], bytearray(b"x"), "http://h/").body == b"x"
    for args, match in [((99, (), b"", "u"), "status"), ((200, (), "text", "u"), "body"),
                        ((200, {"X": "a\nb"}, b"", "u"), "headers"), ((200, (), b"", 1), "url")]:
        with pytest.raises((TypeError, ValueError), match=match):
            Response(*args)  # type: ignore[arg-type]
