"""The bounded_fetch contract, run against every variant and a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
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

import anyio
import anyio.lowlevel
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concurrency_patterns import MAX_REDIRECTS, FetchError, FetchResult
from concurrency_patterns import anyio as cp_anyio
from concurrency_patterns import asyncio as cp_asyncio
from concurrency_patterns import threads as cp_threads
from concurrency_patterns._core import http1
from concurrency_patterns.tools.loopback import HttpServer
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
